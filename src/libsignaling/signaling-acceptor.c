/* signaling-acceptor.c: listening sockets that feed a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "signaling-acceptor-private.h"

/*
 * SignalingAcceptor:
 *
 * Accepts connections on listening sockets and hands each one to a
 * #SoupServer with soup_server_accept_iostream(), instead of letting
 * the server listen itself.
 *
 * Why: the listener of libsoup before 3.4 keeps a reference to every
 * socket it accepts, and its keep-alive handling leaks a connection
 * each time a client closes an idle one, so a long-running server
 * grows with every HTTP request (Engine.IO long-polling makes many).
 * Connections accepted this way are not kept alive by libsoup: it
 * closes each after its response, which the server announces with
 * `Connection: close`. WebSocket connections are unaffected.
 */
typedef struct
{
  SignalingAcceptor *acceptor;  /* unowned: it owns us */
  GSocket *socket;              /* listening */
  GSource *source;              /* watching it, or waiting to */
} Listener;

struct _SignalingAcceptor
{
  GObject parent_instance;

  SoupServer *server;    /* unowned: it owns us */
  GPtrArray *listeners;  /* Listener * */
  GPtrArray *sockets;    /* the listening GSocket *, same order */
};

G_DEFINE_FINAL_TYPE (SignalingAcceptor, signaling_acceptor, G_TYPE_OBJECT)

/* How many connections one wake-up accepts before letting the main
 * loop serve the ones already there. */
#define ACCEPT_BATCH 64
#define ACCEPT_RETRY_MS 100

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

static void
signaling_acceptor_finalize (GObject *object)
{
  SignalingAcceptor *self = SIGNALING_ACCEPTOR (object);

  signaling_acceptor_close (self);
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
}

SignalingAcceptor *
signaling_acceptor_new (SoupServer *server)
{
  SignalingAcceptor *self = g_object_new (SIGNALING_TYPE_ACCEPTOR, NULL);

  self->server = server;
  return self;
}

static void
hand_over (SignalingAcceptor *self,
           GSocket           *socket)
{
  g_autoptr(GSocketConnection) connection = g_socket_connection_factory_create_connection (socket);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr(GError) error = NULL;

  if (local == NULL || remote == NULL)
    return;  /* gone already */

  /* Signaling is small messages that must leave at once; Node's HTTP
   * server does the same. */
  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  if (!soup_server_accept_iostream (self->server, G_IO_STREAM (connection), local, remote, &error))
    g_debug ("Could not take a connection: %s", error->message);
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
