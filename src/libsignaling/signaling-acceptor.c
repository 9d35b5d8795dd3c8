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
struct _SignalingAcceptor
{
  GObject parent_instance;

  SoupServer *server;   /* unowned: it owns us */
  GPtrArray *sockets;   /* listening GSocket * */
  GPtrArray *sources;   /* GSource * watching them, same order */
};

G_DEFINE_FINAL_TYPE (SignalingAcceptor, signaling_acceptor, G_TYPE_OBJECT)

/* How many connections one wake-up accepts before letting the main
 * loop serve the ones already there. */
#define ACCEPT_BATCH 64

static void
signaling_acceptor_finalize (GObject *object)
{
  SignalingAcceptor *self = SIGNALING_ACCEPTOR (object);

  signaling_acceptor_close (self);
  g_ptr_array_unref (self->sockets);
  g_ptr_array_unref (self->sources);

  G_OBJECT_CLASS (signaling_acceptor_parent_class)->finalize (object);
}

static void
signaling_acceptor_class_init (SignalingAcceptorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_acceptor_finalize;
}

static void
destroy_source (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
signaling_acceptor_init (SignalingAcceptor *self)
{
  self->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) destroy_source);
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

static gboolean
on_incoming (GSocket      *listening,
             GIOCondition  condition,
             gpointer      user_data)
{
  SignalingAcceptor *self = user_data;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) socket = g_socket_accept (listening, NULL, &error);

      if (socket == NULL)
        {
          /* Out of descriptors and the like pass; the next wake-up
           * tries again. */
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_warning ("Could not accept a connection: %s", error->message);
          break;
        }
      hand_over (self, socket);
    }

  return G_SOURCE_CONTINUE;
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
  GSource *source;

  g_return_val_if_fail (SIGNALING_IS_ACCEPTOR (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);

  /* Accepting must never block the main loop. */
  g_socket_set_blocking (socket, FALSE);

  source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) on_incoming, self, NULL);
  g_source_set_static_name (source, "[signaling] accept");
  g_source_attach (source, g_main_context_get_thread_default ());

  g_ptr_array_add (self->sockets, g_object_ref (socket));
  g_ptr_array_add (self->sources, source);
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

  g_ptr_array_set_size (self->sources, 0);
  for (guint i = 0; i < self->sockets->len; i++)
    g_socket_close (g_ptr_array_index (self->sockets, i), NULL);
  g_ptr_array_set_size (self->sockets, 0);
}
