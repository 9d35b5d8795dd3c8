/* signaling-acceptor.c: listening sockets that feed a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include "signaling-acceptor-private.h"
#include "signaling-poller-private.h"
#include "signaling-socket-stream-private.h"
#include "signaling-soup-workarounds-private.h"
#include "signaling-timer-queue-private.h"

/*
 * SignalingAcceptor:
 *
 * Accepts connections on listening sockets and hands each one to a
 * #SoupServer with soup_server_accept_iostream(), instead of letting
 * the server listen itself.
 *
 * One of the libsoup workarounds: see signaling-soup-workarounds-private.h.
 *
 * Why: the listener of libsoup before 3.4 keeps a reference to every
 * socket it accepts, and its keep-alive handling leaks a connection
 * each time a client closes an idle one, so a long-running server
 * grows with every HTTP request (Engine.IO long-polling makes many).
 * Connections accepted this way are not kept alive by libsoup: it
 * closes each after its response, which the server announces with
 * `Connection: close`. WebSocket connections are unaffected.
 *
 * Each connection goes to libsoup as a SignalingSocketStream, polled
 * through one SignalingPoller, once its first bytes arrive (until then
 * it costs a socket and a small record), and is dropped if its request
 * does not come within the request timeout. At most max-pending of them may be
 * waiting for their request at once: past that the oldest is dropped,
 * so that peers that connect and say nothing cannot hold descriptors
 * and memory without bound, nor lock real clients out (refusing new
 * connections instead would let them).
 */
typedef struct
{
  SignalingAcceptor *acceptor;  /* unowned: it owns us */
  GSocket *socket;              /* listening */
  GSource *source;              /* watching it, or waiting to */
} Listener;

typedef struct _Waiting Waiting;

/* A TLS handshake in flight. It runs in a GLib worker thread and may
 * finish after its connection was dropped: then waiting is NULL. */
typedef struct
{
  Waiting *waiting;
  GCancellable *cancellable;
} Handshake;

/* A connection whose request has not arrived yet. */
struct _Waiting
{
  SignalingAcceptor *acceptor;
  GIOStream *connection;  /* weak once libsoup owns it */
  GSocket *socket;        /* under connection, to drop it */
  char *peer;  /* "address:port", the key in acceptor->waiting */

  /* Until its first bytes come, the connection is ours alone: libsoup
   * would spend some 14 KiB on it at once (its connection, message and
   * buffers), on peers that may never say anything. */
  GIOStream *held;        /* strong, until then */
  GSource *first_bytes;
  GSocketAddress *local;
  GSocketAddress *remote;

  Handshake *handshake;   /* with TLS, until it is done */

  SignalingTimer deadline;
  GList link;  /* in acceptor->pending, oldest first */
};

/* A connection taken back from libsoup to refuse its request: the
 * answer is written, then what the peer still sends is read and
 * dropped for a while, as nginx's lingering close does. Closing at
 * once, with its body still coming, would make the kernel reset the
 * connection, and the peer could lose the answer. */
typedef struct
{
  SignalingAcceptor *acceptor;
  GIOStream *stolen;      /* libsoup's wrapper of connection */
  GIOStream *connection;  /* our SignalingSocketStream */
  GSource *readable;
  GSource *deadline;
  GList link;  /* in acceptor->lingering */
} Lingering;

struct _SignalingAcceptor
{
  GObject parent_instance;

  SoupServer *server;    /* unowned: it owns us */
  GPtrArray *listeners;  /* Listener * */
  GPtrArray *sockets;    /* the listening GSocket *, same order */

  /* libsoup has no timeout for a request to arrive: a peer could hold
   * a descriptor forever by saying nothing. */
  GHashTable *waiting;   /* peer → Waiting * */
  GQueue pending;        /* the same Waiting *, oldest first */
  SignalingTimerQueue *deadlines;
  guint request_timeout; /* seconds, 0 for none */
  guint max_pending;     /* 0 for no limit */

  GQueue lingering;      /* Lingering * */

  /* With a certificate, every connection is a TLS server connection
   * over the socket, handshaken before libsoup sees it. Replaced as a
   * whole on reload: a handshake holds the one it started with. */
  GTlsCertificate *certificate;

  SignalingPoller *poller;  /* the accepted connections' sockets */
  gulong request_read_id;
};

G_DEFINE_FINAL_TYPE (SignalingAcceptor, signaling_acceptor, G_TYPE_OBJECT)

/* How many connections one wake-up accepts before letting the main
 * loop serve the ones already there. */
#define ACCEPT_BATCH 64
#define ACCEPT_RETRY_MS 100

/* How long a refused request's connection is drained at most. */
#define LINGER_SECONDS 5

/* How long a TLS handshake may take when there is no request timeout:
 * a peer that connects and never finishes its handshake must not hold
 * a descriptor and a worker thread forever. */
#define HANDSHAKE_SECONDS 10

/* The first byte of a TLS record carrying a handshake (a ClientHello). */
#define TLS_HANDSHAKE_RECORD 0x16

/* The length of the body of refuse_plain_http(), checked there. */
#define PLAIN_HTTP_BODY_LENGTH 47

static void
listener_stop (Listener *listener)
{
  if (listener->source != NULL)
    {
      g_source_destroy (listener->source);
      g_clear_pointer (&listener->source, g_source_unref);
    }
}

static void
listener_free (Listener *listener)
{
  listener_stop (listener);
  g_socket_close (listener->socket, NULL);
  g_object_unref (listener->socket);
  g_free (listener);
}

static void on_connection_gone (gpointer  data,
                                GObject  *where_it_was);

static void
waiting_free (Waiting *waiting)
{
  signaling_timer_queue_remove (waiting->acceptor->deadlines, &waiting->deadline);
  g_queue_unlink (&waiting->acceptor->pending, &waiting->link);
  if (waiting->first_bytes != NULL)
    {
      g_source_destroy (waiting->first_bytes);
      g_source_unref (waiting->first_bytes);
    }
  if (waiting->handshake != NULL)
    {
      /* Closing a TLS connection writes to it, and its worker thread
       * still reads the socket: wake that up and let it end, and the
       * last reference close the socket. */
      waiting->handshake->waiting = NULL;
      g_cancellable_cancel (waiting->handshake->cancellable);
      g_socket_shutdown (waiting->socket, TRUE, TRUE, NULL);
      g_clear_object (&waiting->held);
    }
  if (waiting->held != NULL)
    {
      g_io_stream_close (waiting->held, NULL, NULL);
      g_object_unref (waiting->held);
    }
  else if (waiting->connection != NULL)
    g_object_weak_unref (G_OBJECT (waiting->connection), on_connection_gone, waiting);
  g_clear_object (&waiting->local);
  g_clear_object (&waiting->remote);
  g_clear_object (&waiting->socket);
  g_free (waiting->peer);
  g_free (waiting);
}

/* The peer left before sending anything and libsoup let go: nothing
 * to wait for (and nothing kept alive for it until the deadline). */
static void
on_connection_gone (gpointer  data,
                    GObject  *where_it_was)
{
  Waiting *waiting = data;

  waiting->connection = NULL;
  g_hash_table_remove (waiting->acceptor->waiting, waiting->peer);
}

static void
lingering_free (Lingering *lingering)
{
  g_queue_unlink (&lingering->acceptor->lingering, &lingering->link);
  g_source_destroy (lingering->readable);
  g_source_unref (lingering->readable);
  g_source_destroy (lingering->deadline);
  g_source_unref (lingering->deadline);
  /* libsoup's wrapper does not close what it wraps. */
  g_io_stream_close (lingering->connection, NULL, NULL);
  g_object_unref (lingering->stolen);
  g_object_unref (lingering->connection);
  g_free (lingering);
}

static void
signaling_acceptor_finalize (GObject *object)
{
  SignalingAcceptor *self = SIGNALING_ACCEPTOR (object);

  signaling_acceptor_close (self);
  while (self->lingering.head != NULL)
    lingering_free (self->lingering.head->data);
  g_clear_signal_handler (&self->request_read_id, self->server);
  g_clear_object (&self->certificate);
  g_hash_table_unref (self->waiting);
  signaling_timer_queue_unref (self->deadlines);
  signaling_poller_unref (self->poller);
  g_ptr_array_unref (self->listeners);
  g_ptr_array_unref (self->sockets);

  G_OBJECT_CLASS (signaling_acceptor_parent_class)->finalize (object);
}

static void
signaling_acceptor_class_init (SignalingAcceptorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_acceptor_finalize;
}

static void
signaling_acceptor_init (SignalingAcceptor *self)
{
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  self->sockets = g_ptr_array_new ();
  self->waiting = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) waiting_free);
  self->deadlines = signaling_timer_queue_new ("[signaling] HTTP request deadlines");
  self->poller = signaling_poller_new ();
}

static char *
peer_key (GSocketAddress *address)
{
  return g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));
}

/* The request is in (libsoup says "started" as soon as it accepts,
 * before anything is read). With one request per connection, that is
 * the end of waiting for it.
 *
 * libsoup closes our connections after their response (it keeps alive
 * only those its own listeners accepted): say so, or HTTP clients that
 * keep connections alive try to reuse one that is going away. A
 * WebSocket upgrade keeps its connection. */
static void
on_request_read (SoupServer        *server,
                 SoupServerMessage *msg,
                 SignalingAcceptor *self)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  signaling_soup_announce_close (msg, TRUE);

  if (remote != NULL)
    {
      g_autofree char *key = peer_key (remote);

      g_hash_table_remove (self->waiting, key);
    }
}

/* Shutting the socket down, rather than closing it, lets libsoup see
 * the end of the stream and let go of the connection itself. */
static void
waiting_drop (Waiting *waiting)
{
  /* Not handed over yet: freeing it closes it. */
  if (waiting->held != NULL)
    {
      g_hash_table_remove (waiting->acceptor->waiting, waiting->peer);
      return;
    }

  g_socket_shutdown (waiting->socket, TRUE, TRUE, NULL);
  g_hash_table_remove (waiting->acceptor->waiting, waiting->peer);
}

static void
on_request_overdue (gpointer data)
{
  Waiting *waiting = data;

  g_debug ("No request from %s in time: dropping the connection", waiting->peer);
  waiting_drop (waiting);
}

/* Makes room for one more: the oldest is the one most likely to be
 * idle on purpose, while a real client sends its request at once. */
static void
drop_oldest_pending (SignalingAcceptor *self)
{
  while (self->max_pending > 0 && self->pending.length >= self->max_pending)
    {
      Waiting *oldest = self->pending.head->data;

      g_debug ("%u connections wait for their request: dropping the oldest, from %s",
               self->pending.length, oldest->peer);
      waiting_drop (oldest);
    }
}

/* Gives libsoup the connection, which from now on spends memory on it. */
static void
accept_connection (Waiting   *waiting,
                   GIOStream *connection)
{
  SignalingAcceptor *self = waiting->acceptor;
  g_autoptr(GSocketAddress) local = g_steal_pointer (&waiting->local);
  g_autoptr(GSocketAddress) remote = g_steal_pointer (&waiting->remote);
  g_autoptr(GError) error = NULL;

  waiting->connection = connection;
  g_object_weak_ref (G_OBJECT (connection), on_connection_gone, waiting);

  /* libsoup may read the whole request at once and emit request-read,
   * which frees waiting: it is not touched after this unless this
   * fails. */
  if (!soup_server_accept_iostream (self->server, connection, local, remote, &error))
    {
      g_debug ("Could not take a connection: %s", error->message);
      g_hash_table_remove (self->waiting, waiting->peer);
    }
}

static void
on_handshake_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Handshake *handshake = user_data;
  Waiting *waiting = handshake->waiting;
  g_autoptr(GError) error = NULL;
  gboolean done = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error);
  g_autoptr(GIOStream) connection = NULL;

  g_object_unref (handshake->cancellable);
  g_free (handshake);
  if (waiting == NULL)
    return;  /* dropped meanwhile */

  waiting->handshake = NULL;
  if (!done)
    {
      g_debug ("TLS handshake with %s failed: %s", waiting->peer, error->message);
      /* Nothing to say to it: closing must not try to write. */
      g_socket_shutdown (waiting->socket, TRUE, TRUE, NULL);
      waiting_drop (waiting);
      return;
    }

  connection = g_steal_pointer (&waiting->held);
  accept_connection (waiting, connection);
}

/* The first bytes of a peer that speaks plain HTTP to a TLS port: tell
 * it so in plain HTTP, as nginx does, rather than a handshake error
 * it cannot show. Answered at once and closed; what the peer sent
 * before is read, so that closing does not reset the connection and
 * lose the answer. */
static void
refuse_plain_http (Waiting *waiting)
{
#define PLAIN_HTTP_BODY "This port speaks TLS: use https:// or wss://.\r\n"
  static const char response[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Connection: close\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: " G_STRINGIFY (PLAIN_HTTP_BODY_LENGTH) "\r\n"
    "\r\n"
    PLAIN_HTTP_BODY;
  char buffer[4096];

  G_STATIC_ASSERT (sizeof PLAIN_HTTP_BODY - 1 == PLAIN_HTTP_BODY_LENGTH);
#undef PLAIN_HTTP_BODY

  g_debug ("%s spoke plain HTTP to a TLS port", waiting->peer);
  /* A request head fits; a peer that keeps sending is cut short. */
  for (guint i = 0; i < 16; i++)
    if (g_socket_receive_with_blocking (waiting->socket, buffer, sizeof buffer, FALSE, NULL, NULL) <= 0)
      break;
  g_socket_send_with_blocking (waiting->socket, response, sizeof response - 1, FALSE, NULL, NULL);
  g_socket_shutdown (waiting->socket, FALSE, TRUE, NULL);
  waiting_drop (waiting);
}

/* The ClientHello is here: the handshake will not wait for the peer's
 * first bytes, only for its replies, and is bounded by the deadline. */
static void
start_handshake (Waiting *waiting)
{
  SignalingAcceptor *self = waiting->acceptor;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) raw = g_steal_pointer (&waiting->held);
  GIOStream *tls;
  guint8 first = 0;

  if (g_socket_receive_message (waiting->socket, NULL, &(GInputVector) { &first, 1 }, 1,
                                NULL, NULL, &(gint) { G_SOCKET_MSG_PEEK }, NULL, NULL) == 1 &&
      first != TLS_HANDSHAKE_RECORD)
    {
      waiting->held = g_steal_pointer (&raw);
      refuse_plain_http (waiting);
      return;
    }

  tls = g_tls_server_connection_new (raw, self->certificate, &error);
  if (tls == NULL)
    {
      g_debug ("No TLS connection for %s: %s", waiting->peer, error->message);
      waiting->held = g_steal_pointer (&raw);
      waiting_drop (waiting);
      return;
    }

  /* Browsers and Node often close without a close_notify, and what
   * they sent before is whole all the same (every message is framed). */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  waiting->held = tls;
  waiting->handshake = g_new0 (Handshake, 1);
  waiting->handshake->waiting = waiting;
  waiting->handshake->cancellable = g_cancellable_new ();
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    waiting->handshake->cancellable,
                                    on_handshake_done, waiting->handshake);
}

/* The peer has sent something (or hung up): now libsoup may spend
 * memory on it, after the TLS handshake if there is one. */
static gboolean
on_first_bytes (GObject  *stream,
                gpointer  user_data)
{
  Waiting *waiting = user_data;
  g_autoptr(GIOStream) connection = NULL;

  g_clear_pointer (&waiting->first_bytes, g_source_unref);
  if (waiting->acceptor->certificate != NULL)
    {
      start_handshake (waiting);
      return G_SOURCE_REMOVE;
    }

  connection = g_steal_pointer (&waiting->held);
  accept_connection (waiting, connection);
  return G_SOURCE_REMOVE;
}

static void
wait_for_request (SignalingAcceptor *self,
                  GIOStream         *connection,
                  GSocket           *socket,
                  GSocketAddress    *local,
                  GSocketAddress    *remote)
{
  Waiting *waiting;
  guint timeout = self->request_timeout;

  drop_oldest_pending (self);

  waiting = g_new0 (Waiting, 1);
  waiting->acceptor = self;
  waiting->held = g_object_ref (connection);
  waiting->socket = g_object_ref (socket);
  waiting->local = g_object_ref (local);
  waiting->remote = g_object_ref (remote);
  waiting->first_bytes = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (connection)),
                                                                NULL);
  g_source_set_callback (waiting->first_bytes, (GSourceFunc) (GCallback) on_first_bytes, waiting, NULL);
  g_source_set_static_name (waiting->first_bytes, "[signaling] first bytes of a request");
  g_source_attach (waiting->first_bytes, g_main_context_get_thread_default ());
  waiting->peer = peer_key (remote);
  waiting->link.data = waiting;
  if (timeout == 0 && self->certificate != NULL)
    timeout = HANDSHAKE_SECONDS;
  if (timeout > 0)
    signaling_timer_queue_add (self->deadlines, &waiting->deadline,
                               g_get_monotonic_time () + (gint64) timeout * G_USEC_PER_SEC,
                               on_request_overdue, waiting);
  g_hash_table_replace (self->waiting, waiting->peer, waiting);
  g_queue_push_tail_link (&self->pending, &waiting->link);
}

SignalingAcceptor *
signaling_acceptor_new (SoupServer *server)
{
  SignalingAcceptor *self = g_object_new (SIGNALING_TYPE_ACCEPTOR, NULL);

  self->server = server;
  self->request_read_id = g_signal_connect (server, "request-read",
                                            G_CALLBACK (on_request_read), self);
  return self;
}

static void
hand_over (SignalingAcceptor *self,
           GSocket           *socket)
{
  g_autoptr(GIOStream) connection = signaling_socket_stream_new (socket, self->poller);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);

  if (local == NULL || remote == NULL)
    return;  /* gone already */

  signaling_soup_set_no_delay (socket);

  wait_for_request (self, connection, socket, local, remote);
}

static void listener_watch (Listener *listener);

static gboolean
on_retry (gpointer user_data)
{
  Listener *listener = user_data;

  g_clear_pointer (&listener->source, g_source_unref);
  listener_watch (listener);
  return G_SOURCE_REMOVE;
}

/* Out of file descriptors (or memory), the listening socket stays
 * readable: looking at it again at once would spin. Wait a little, as
 * the peers that go away free descriptors. */
static void
listener_pause (Listener *listener)
{
  listener_stop (listener);
  listener->source = g_timeout_source_new (ACCEPT_RETRY_MS);
  g_source_set_callback (listener->source, on_retry, listener, NULL);
  g_source_set_static_name (listener->source, "[signaling] accept retry");
  g_source_attach (listener->source, g_main_context_get_thread_default ());
}

static gboolean
on_incoming (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  Listener *listener = user_data;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) accepted = g_socket_accept (socket, NULL, &error);

      if (accepted == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;

          g_warning ("Could not accept a connection: %s; trying again in %u ms",
                     error->message, ACCEPT_RETRY_MS);
          listener_pause (listener);
          return G_SOURCE_REMOVE;
        }
      hand_over (listener->acceptor, accepted);
    }

  return G_SOURCE_CONTINUE;
}

static void
listener_watch (Listener *listener)
{
  listener->source = g_socket_create_source (listener->socket, G_IO_IN, NULL);
  g_source_set_callback (listener->source, (GSourceFunc) (GCallback) on_incoming, listener, NULL);
  g_source_set_static_name (listener->source, "[signaling] accept");
  g_source_attach (listener->source, g_main_context_get_thread_default ());
}

/*
 * signaling_acceptor_add_socket:
 * @socket: a bound, listening socket
 *
 * Starts accepting connections from @socket in the thread-default main
 * context.
 */
gboolean
signaling_acceptor_add_socket (SignalingAcceptor  *self,
                               GSocket            *socket,
                               GError            **error)
{
  Listener *listener;

  g_return_val_if_fail (SIGNALING_IS_ACCEPTOR (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);

  /* Accepting must never block the main loop. */
  g_socket_set_blocking (socket, FALSE);

  listener = g_new0 (Listener, 1);
  listener->acceptor = self;
  listener->socket = g_object_ref (socket);
  listener_watch (listener);

  g_ptr_array_add (self->listeners, listener);
  g_ptr_array_add (self->sockets, socket);
  return TRUE;
}

/*
 * signaling_acceptor_set_request_timeout:
 * @seconds: how long a new connection may take to send its request;
 *   0 for no limit
 *
 * Applies to connections accepted from now on.
 */
void
signaling_acceptor_set_request_timeout (SignalingAcceptor *self,
                                        guint              seconds)
{
  g_return_if_fail (SIGNALING_IS_ACCEPTOR (self));
  self->request_timeout = seconds;
}

/*
 * signaling_acceptor_set_max_pending:
 * @max_pending: how many connections may wait for their request at
 *   once; 0 for no limit
 *
 * One more makes the acceptor drop the oldest of them.
 */
void
signaling_acceptor_set_max_pending (SignalingAcceptor *self,
                                    guint              max_pending)
{
  g_return_if_fail (SIGNALING_IS_ACCEPTOR (self));
  self->max_pending = max_pending;
}

/*
 * signaling_acceptor_set_tls_certificate:
 * @certificate: (nullable): the certificate and key to serve TLS with,
 *   or %NULL for plain HTTP
 *
 * Applies to connections accepted from now on; those already accepted
 * keep the certificate they were handshaken with.
 */
void
signaling_acceptor_set_tls_certificate (SignalingAcceptor *self,
                                        GTlsCertificate   *certificate)
{
  g_return_if_fail (SIGNALING_IS_ACCEPTOR (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));
  g_set_object (&self->certificate, certificate);
}

/*
 * signaling_acceptor_get_n_pending:
 *
 * Returns: how many connections wait for their request
 */
guint
signaling_acceptor_get_n_pending (SignalingAcceptor *self)
{
  g_return_val_if_fail (SIGNALING_IS_ACCEPTOR (self), 0);
  return self->pending.length;
}

static gboolean
on_lingering_readable (GSocket      *socket,
                       GIOCondition  condition,
                       gpointer      user_data)
{
  Lingering *lingering = user_data;
  char buffer[16 * 1024];

  /* A bounded amount per wake-up, so that a fast sender does not keep
   * the loop from everybody else. */
  for (guint i = 0; i < 16; i++)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive_with_blocking (socket, buffer, sizeof buffer, FALSE, NULL, &error);

      if (n > 0)
        continue;
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;

      /* The peer is done (or gone): nothing left to protect. */
      lingering_free (lingering);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
on_lingering_over (gpointer user_data)
{
  lingering_free (user_data);
  return G_SOURCE_REMOVE;
}

/*
 * signaling_acceptor_refuse:
 * @msg: a request whose headers have been read, on a connection this
 *   acceptor handed over
 * @status: the HTTP status to answer with, say 413
 *
 * Answers @msg with @status at once, without reading its body, and
 * closes its connection. libsoup offers no way to skip a body: it
 * would read all of it (into memory, unless told otherwise) before
 * answering. So the connection is taken back from libsoup, answered,
 * and drained for at most a few seconds before it closes.
 *
 * This may be called from #SoupServerMessage::got-headers or
 * #SoupServerMessage::got-chunk: libsoup's reading loop checks after
 * each signal whether the connection was stolen, as it does for
 * WebSocket upgrades.
 *
 * Returns: %FALSE if @msg did not come through this acceptor (or its
 *   connection is gone), and nothing was done
 */
gboolean
signaling_acceptor_refuse (SignalingAcceptor *self,
                           SoupServerMessage *msg,
                           guint              status)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  g_autofree char *key = NULL;
  g_autofree char *response = NULL;
  Waiting *waiting;
  Lingering *lingering;
  GSocket *socket;
  GIOStream *stolen;

  g_return_val_if_fail (SIGNALING_IS_ACCEPTOR (self), FALSE);
  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);

  if (remote == NULL)
    return FALSE;
  key = peer_key (remote);
  waiting = g_hash_table_lookup (self->waiting, key);
  if (waiting == NULL || waiting->connection == NULL)
    return FALSE;
  /* The answer below is written in plain text, under any TLS. */
  if (!SIGNALING_IS_SOCKET_STREAM (waiting->connection))
    return FALSE;

  /* Keep our stream: stealing drops libsoup's reference to it. */
  lingering = g_new0 (Lingering, 1);
  lingering->acceptor = self;
  lingering->connection = g_object_ref (waiting->connection);
  stolen = soup_server_message_steal_connection (msg);
  if (stolen == NULL)
    {
      g_object_unref (lingering->connection);
      g_free (lingering);
      return FALSE;
    }
  lingering->stolen = stolen;
  socket = signaling_socket_stream_get_socket (SIGNALING_SOCKET_STREAM (lingering->connection));

  /* A connection that has sent only its request has an empty send
   * buffer, which takes these few bytes whole. */
  response = g_strdup_printf ("HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                              status, soup_status_get_phrase (status));
  g_socket_send_with_blocking (socket, response, strlen (response), FALSE, NULL, NULL);
  g_socket_shutdown (socket, FALSE, TRUE, NULL);

  lingering->readable = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (lingering->readable, (GSourceFunc) (GCallback) on_lingering_readable, lingering, NULL);
  g_source_set_static_name (lingering->readable, "[signaling] lingering close");
  g_source_attach (lingering->readable, g_main_context_get_thread_default ());
  lingering->deadline = g_timeout_source_new_seconds (LINGER_SECONDS);
  g_source_set_callback (lingering->deadline, on_lingering_over, lingering, NULL);
  g_source_set_static_name (lingering->deadline, "[signaling] lingering close deadline");
  g_source_attach (lingering->deadline, g_main_context_get_thread_default ());

  lingering->link.data = lingering;
  g_queue_push_tail_link (&self->lingering, &lingering->link);
  return TRUE;
}

/*
 * signaling_acceptor_get_sockets:
 *
 * Returns: (transfer none) (element-type GSocket): the listening sockets
 */
GPtrArray *
signaling_acceptor_get_sockets (SignalingAcceptor *self)
{
  g_return_val_if_fail (SIGNALING_IS_ACCEPTOR (self), NULL);
  return self->sockets;
}

/*
 * signaling_acceptor_close:
 *
 * Stops accepting and closes the listening sockets; connections
 * already accepted go on.
 */
void
signaling_acceptor_close (SignalingAcceptor *self)
{
  g_return_if_fail (SIGNALING_IS_ACCEPTOR (self));

  g_ptr_array_set_size (self->sockets, 0);
  g_ptr_array_set_size (self->listeners, 0);
}
