/* signaling-socketio-namespace.c: a Socket.IO namespace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-socketio"

#include "config.h"

#include "signaling-socketio-namespace-private.h"
#include "signaling-socketio-socket.h"

/**
 * SignalingSocketioNamespace:
 *
 * A Socket.IO namespace (`/` or `/chat`, say). Clients connect to it
 * with a CONNECT packet; each connection is a
 * [class@Signaling.SocketioSocket], announced by
 * [signal@Signaling.SocketioNamespace::connection].
 */
struct _SignalingSocketioNamespace
{
  GObject parent_instance;

  char *name;
};

G_DEFINE_FINAL_TYPE (SignalingSocketioNamespace, signaling_socketio_namespace, G_TYPE_OBJECT)

enum {
  SIGNAL_CONNECTION,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
signaling_socketio_namespace_finalize (GObject *object)
{
  SignalingSocketioNamespace *self = SIGNALING_SOCKETIO_NAMESPACE (object);

  g_free (self->name);

  G_OBJECT_CLASS (signaling_socketio_namespace_parent_class)->finalize (object);
}

static void
signaling_socketio_namespace_class_init (SignalingSocketioNamespaceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_socketio_namespace_finalize;

  /**
   * SignalingSocketioNamespace::connection:
   * @self: the namespace
   * @socket: the new socket
   *
   * Emitted when a client has connected to the namespace, after the
   * CONNECT reply was sent. Connect to the socket's
   * [signal@Signaling.SocketioSocket::event] here.
   */
  signals[SIGNAL_CONNECTION] =
    g_signal_new ("connection", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_SOCKETIO_SOCKET);
}

static void
signaling_socketio_namespace_init (SignalingSocketioNamespace *self)
{
}

SignalingSocketioNamespace *
signaling_socketio_namespace_new (const char *name)
{
  SignalingSocketioNamespace *self = g_object_new (SIGNALING_TYPE_SOCKETIO_NAMESPACE, NULL);

  self->name = g_strdup (name);
  return self;
}

/**
 * signaling_socketio_namespace_get_name:
 * @self: a namespace
 *
 * Gets the namespace's name.
 *
 * Returns: the name, starting with `/`
 */
const char *
signaling_socketio_namespace_get_name (SignalingSocketioNamespace *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_NAMESPACE (self), NULL);
  return self->name;
}

void
signaling_socketio_namespace_emit_connection (SignalingSocketioNamespace *self,
                                              SignalingSocketioSocket    *socket)
{
  g_signal_emit (self, signals[SIGNAL_CONNECTION], 0, socket);
}
