/* signaling-socketio-server.c: Socket.IO v5 on top of an Engine.IO server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-socketio"

#include "config.h"

#include "signaling-engineio-socket-private.h"
#include "signaling-socketio-namespace-private.h"
#include "signaling-socketio-packet-private.h"
#include "signaling-socketio-server.h"
#include "signaling-socketio-socket-private.h"

/**
 * SignalingSocketioServer:
 *
 * Socket.IO protocol v5 over a [class@Signaling.EngineioServer]:
 * namespaces, events, acknowledgements and binary attachments.
 *
 * Only namespaces added with
 * [method@Signaling.SocketioServer.add_namespace] accept connections;
 * others get `{"message":"Invalid namespace"}`. A malformed packet
 * closes the client's Engine.IO session, as in the reference server.
 */
struct _SignalingSocketioServer
{
  GObject parent_instance;

  SignalingEngineioServer *engine;
  GHashTable *namespaces;  /* name → SignalingSocketioNamespace */
  guint connect_timeout;   /* ms */
};

G_DEFINE_FINAL_TYPE (SignalingSocketioServer, signaling_socketio_server, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONNECT_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_REFUSE_CONNECT,
  SIGNAL_REFUSE_SOCKET,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* What one Engine.IO session carries: the packet decoder (binary
 * packets span several messages) and its namespace sockets. */
typedef struct {
  SignalingSocketioServer *server;  /* unowned */
  SignalingEngineioSocket *engine;
  SignalingSocketioDecoder *decoder;
  /* SignalingSocketioSocket, one per namespace joined: a session joins
   * one or two, and a hash table cost 250 bytes of every idle peer. */
  GSList *sockets;
  guint connect_timeout_source;
} Session;

static SignalingSocketioSocket *
find_socket (Session    *session,
             const char *nsp)
{
  for (GSList *l = session->sockets; l != NULL; l = l->next)
    if (g_str_equal (signaling_socketio_socket_get_namespace (l->data), nsp))
      return l->data;
  return NULL;
}

static void
session_free (Session *session)
{
  g_clear_handle_id (&session->connect_timeout_source, g_source_remove);
  g_slist_free_full (g_steal_pointer (&session->sockets), g_object_unref);
  g_clear_pointer (&session->decoder, signaling_socketio_decoder_free);
  g_clear_object (&session->engine);
  g_free (session);
}

static void
signaling_socketio_server_dispose (GObject *object)
{
  SignalingSocketioServer *self = SIGNALING_SOCKETIO_SERVER (object);

  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->namespaces, g_hash_table_unref);

  G_OBJECT_CLASS (signaling_socketio_server_parent_class)->dispose (object);
}

static void
signaling_socketio_server_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  SignalingSocketioServer *self = SIGNALING_SOCKETIO_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_socketio_server_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  SignalingSocketioServer *self = SIGNALING_SOCKETIO_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONNECT_TIMEOUT:
      self->connect_timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_socketio_server_class_init (SignalingSocketioServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_socketio_server_dispose;
  object_class->get_property = signaling_socketio_server_get_property;
  object_class->set_property = signaling_socketio_server_set_property;

  /**
   * SignalingSocketioServer:connect-timeout:
   *
   * Milliseconds a new Engine.IO session has to connect to a namespace
   * before it is closed (Socket.IO's `connectTimeout`).
   */
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL, 1, G_MAXINT, 45000,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SignalingSocketioServer::refuse-connect:
   * @self: the server
   * @nsp: the namespace the client asks to join
   *
   * Emitted before a CONNECT to an existing namespace is accepted. A
   * handler that returns a reason refuses it with a CONNECT_ERROR
   * packet (`44{"message":reason}`, socket.io-client's
   * `connect_error`), as a socket.io middleware does, and the session
   * is closed.
   *
   * Returns: (transfer full) (nullable): why the client is refused, or
   *   %NULL to let it in
   */
  signals[SIGNAL_REFUSE_CONNECT] =
    g_signal_new ("refuse-connect", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 1, G_TYPE_STRING);

  /**
   * SignalingSocketioServer::refuse-socket:
   * @self: the server
   * @socket: the socket a CONNECT would open, with its
   *   [method@Signaling.SocketioSocket.get_auth] payload
   *
   * Emitted after [signal@Signaling.SocketioServer::refuse-connect],
   * before the CONNECT is answered, for a decision that needs the
   * client's `auth` payload (a token, for example). A handler that
   * returns a reason refuses the socket with a CONNECT_ERROR packet
   * and closes the session, as for `refuse-connect`.
   *
   * Returns: (transfer full) (nullable): why the client is refused, or
   *   %NULL to let it in
   */
  signals[SIGNAL_REFUSE_SOCKET] =
    g_signal_new ("refuse-socket", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 1,
                  SIGNALING_TYPE_SOCKETIO_SOCKET);
}

static void
signaling_socketio_server_init (SignalingSocketioServer *self)
{
  self->namespaces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

static void
send_connect_error (Session    *session,
                    const char *nsp,
                    const char *message)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  SignalingSocketioPacket *packet;
  g_autofree char *text = NULL;

  json_object_set_string_member (object, "message", message);
  json_node_set_object (data, object);

  packet = signaling_socketio_packet_new (SIGNALING_SOCKETIO_PACKET_CONNECT_ERROR, nsp, -1, data);
  text = signaling_socketio_packet_encode (packet);
  signaling_socketio_packet_free (packet);
  signaling_engineio_socket_send_text (session->engine, text);
}

static void
on_socket_disconnected (SignalingSocketioSocket *socket,
                        gpointer                 user_data)
{
  Session *session = user_data;

  signaling_socketio_socket_set_disconnected_func (socket, NULL, NULL);
  signaling_socketio_socket_set_release_func (socket, NULL, NULL);
  if (g_slist_find (session->sockets, socket) == NULL)
    return;
  session->sockets = g_slist_remove (session->sockets, socket);
  g_object_unref (socket);
}

/* The CONNECT reply, with the socket's id and pid; then the namespace's
 * `connection`. */
static void
answer_connect (SignalingSocketioSocket *socket,
                gpointer                 user_data)
{
  Session *session = user_data;
  const char *nsp = signaling_socketio_socket_get_namespace (socket);
  SignalingSocketioNamespace *namespace = g_hash_table_lookup (session->server->namespaces, nsp);
  g_autoptr(SignalingSocketioSocket) kept = g_object_ref (socket);
  g_autoptr(JsonNode) reply = NULL;
  SignalingSocketioPacket *connected;
  g_autofree char *json = NULL;

  /* Ids and pids are drawn by signaling_generate_id(): nothing to escape. */
  if (signaling_socketio_socket_get_pid (socket) != NULL)
    json = g_strdup_printf ("{\"sid\":\"%s\",\"pid\":\"%s\"}", signaling_socketio_socket_get_id (socket),
                            signaling_socketio_socket_get_pid (socket));
  else
    json = g_strdup_printf ("{\"sid\":\"%s\"}", signaling_socketio_socket_get_id (socket));
  reply = json_from_string (json, NULL);
  connected = signaling_socketio_packet_new (SIGNALING_SOCKETIO_PACKET_CONNECT, nsp, -1, reply);
  signaling_socketio_socket_send_packet (socket, connected);
  signaling_socketio_packet_free (connected);

  if (namespace != NULL)
    signaling_socketio_namespace_emit_connection (namespace, socket);
}

static void
handle_connect (Session                 *session,
                SignalingSocketioPacket *packet)
{
  SignalingSocketioNamespace *namespace;
  g_autoptr(SignalingSocketioSocket) socket = NULL;
  g_autofree char *refusal = NULL;

  namespace = g_hash_table_lookup (session->server->namespaces, packet->nsp);
  if (namespace == NULL)
    {
      send_connect_error (session, packet->nsp, "Invalid namespace");
      return;
    }

  /* Connecting twice to a namespace keeps the first socket. */
  if (find_socket (session, packet->nsp) != NULL)
    return;

  g_signal_emit (session->server, signals[SIGNAL_REFUSE_CONNECT], 0, packet->nsp, &refusal);
  if (refusal == NULL)
    {
      socket = signaling_socketio_socket_new (session->engine, packet->nsp, packet->data);
      g_signal_emit (session->server, signals[SIGNAL_REFUSE_SOCKET], 0, socket, &refusal);
    }
  if (refusal != NULL)
    {
      g_autoptr(SignalingEngineioSocket) engine = g_object_ref (session->engine);

      send_connect_error (session, packet->nsp, refusal);
      /* Nothing else to do here: like a socket.io middleware refusal
       * followed by a disconnect, and the connect timeout need not run. */
      signaling_engineio_socket_close (engine, refusal);
      return;
    }

  g_clear_handle_id (&session->connect_timeout_source, g_source_remove);

  session->sockets = g_slist_prepend (session->sockets, g_object_ref (socket));
  signaling_socketio_socket_set_disconnected_func (socket, on_socket_disconnected, session);

  /* The refuse-socket handler still works out the socket's id and pid
   * (a recovery that another node of a cluster hands over). */
  if (signaling_socketio_socket_is_held (socket))
    {
      signaling_socketio_socket_set_release_func (socket, answer_connect, session);
      return;
    }
  answer_connect (socket, session);
}

static void
handle_packet (Session                 *session,
               SignalingSocketioPacket *packet)
{
  SignalingSocketioSocket *socket;

  if (packet->type == SIGNALING_SOCKETIO_PACKET_CONNECT)
    {
      handle_connect (session, packet);
      return;
    }

  socket = find_socket (session, packet->nsp);
  if (socket == NULL)
    {
      g_debug ("Socket.IO: packet for namespace %s, which the client has not joined", packet->nsp);
      return;
    }

  if (packet->type == SIGNALING_SOCKETIO_PACKET_DISCONNECT)
    signaling_socketio_socket_mark_disconnected (socket, "client namespace disconnect");
  else
    signaling_socketio_socket_handle_packet (socket, packet);
}

static void on_decoded (Session                  *session,
                        SignalingEngineioSocket  *engine,
                        SignalingSocketioPacket  *packet,
                        GError                   *error);

static void
on_engine_text (SignalingEngineioSocket *engine,
                const char              *data,
                gsize                    length,
                gpointer                 user_data)
{
  Session *session = user_data;
  g_autoptr(SignalingSocketioPacket) packet = NULL;
  g_autoptr(GError) error = NULL;

  packet = signaling_socketio_decoder_add_text (session->decoder, data, length, &error);
  on_decoded (session, engine, packet, error);
}

static void
on_engine_binary (SignalingEngineioSocket *engine,
                  GBytes                  *data,
                  gpointer                 user_data)
{
  Session *session = user_data;
  g_autoptr(SignalingSocketioPacket) packet = NULL;
  g_autoptr(GError) error = NULL;

  packet = signaling_socketio_decoder_add_binary (session->decoder, data, &error);
  on_decoded (session, engine, packet, error);
}

static void
on_decoded (Session                 *session,
            SignalingEngineioSocket *engine,
            SignalingSocketioPacket *packet,
            GError                  *error)
{
  if (error != NULL)
    {
      /* As the reference server does: a peer that speaks nonsense is
       * closed, not argued with. */
      g_debug ("Socket.IO: closing session %s: %s",
               signaling_engineio_socket_get_id (engine), error->message);
      signaling_engineio_socket_close (engine, "parse error");
      return;
    }

  if (packet != NULL)
    handle_packet (session, packet);
}

static void
disconnect_all_sockets (Session    *session,
                        const char *reason)
{
  /* Taken off the session first: on_socket_disconnected() then finds
   * nothing to remove. */
  GSList *sockets = g_steal_pointer (&session->sockets);

  for (GSList *l = sockets; l != NULL; l = l->next)
    signaling_socketio_socket_mark_disconnected (l->data, reason);
  g_slist_free_full (sockets, g_object_unref);
}

static void
on_engine_closed (SignalingEngineioSocket *engine,
                  const char              *reason,
                  gpointer                 user_data)
{
  Session *session = user_data;

  signaling_engineio_socket_set_consumer (engine, NULL, NULL);
  disconnect_all_sockets (session, reason);
  session_free (session);
}

static void
on_engine_transport_changed (SignalingEngineioSocket *engine,
                             gpointer                 user_data)
{
  Session *session = user_data;

  for (GSList *l = session->sockets; l != NULL; l = l->next)
    signaling_socketio_socket_notify_transport (l->data);
}

static const SignalingEngineioConsumer engine_consumer = {
  .text = on_engine_text,
  .binary = on_engine_binary,
  .closed = on_engine_closed,
  .transport_changed = on_engine_transport_changed,
};

static gboolean
on_connect_timeout (gpointer user_data)
{
  Session *session = user_data;

  session->connect_timeout_source = 0;
  if (session->sockets == NULL)
    signaling_engineio_socket_close (session->engine, "connect timeout");
  return G_SOURCE_REMOVE;
}

static void
on_engine_connection (SignalingEngineioServer *engine_server,
                      SignalingEngineioSocket *engine,
                      SignalingSocketioServer *self)
{
  Session *session = g_new0 (Session, 1);

  session->server = self;
  session->engine = g_object_ref (engine);
  session->decoder = signaling_socketio_decoder_new ();
  session->connect_timeout_source = g_timeout_add (self->connect_timeout, on_connect_timeout, session);

  signaling_engineio_socket_set_consumer (engine, &engine_consumer, session);
}

/**
 * signaling_socketio_server_new:
 * @engine: the Engine.IO server to run over
 *
 * Creates a Socket.IO v5 server over @engine.
 *
 * Returns: (transfer full): a new Socket.IO server with no namespace yet
 */
SignalingSocketioServer *
signaling_socketio_server_new (SignalingEngineioServer *engine)
{
  SignalingSocketioServer *self;

  g_return_val_if_fail (SIGNALING_IS_ENGINEIO_SERVER (engine), NULL);

  self = g_object_new (SIGNALING_TYPE_SOCKETIO_SERVER, NULL);
  self->engine = g_object_ref (engine);
  g_signal_connect (engine, "connection", G_CALLBACK (on_engine_connection), self);

  return self;
}

/**
 * signaling_socketio_server_get_engine:
 * @self: a Socket.IO server
 *
 * Gets the Engine.IO server underneath.
 *
 * Returns: (transfer none): the Engine.IO server underneath
 */
SignalingEngineioServer *
signaling_socketio_server_get_engine (SignalingSocketioServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SERVER (self), NULL);
  return self->engine;
}

/**
 * signaling_socketio_server_add_namespace:
 * @self: a Socket.IO server
 * @name: a namespace name starting with `/`
 *
 * Lets clients connect to @name; connect to the namespace's
 * [signal@Signaling.SocketioNamespace::connection] to serve them.
 *
 * Returns: (transfer none): the namespace (the existing one if @name
 *   was added before)
 */
SignalingSocketioNamespace *
signaling_socketio_server_add_namespace (SignalingSocketioServer *self,
                                         const char              *name)
{
  SignalingSocketioNamespace *namespace;

  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SERVER (self), NULL);
  g_return_val_if_fail (name != NULL && name[0] == '/', NULL);

  namespace = g_hash_table_lookup (self->namespaces, name);
  if (namespace == NULL)
    {
      namespace = signaling_socketio_namespace_new (name);
      g_hash_table_insert (self->namespaces, g_strdup (name), namespace);
    }

  return namespace;
}

/**
 * signaling_socketio_server_lookup_namespace:
 * @self: a Socket.IO server
 * @name: a namespace name
 *
 * Looks up a namespace added with
 * [method@Signaling.SocketioServer.add_namespace].
 *
 * Returns: (transfer none) (nullable): the namespace, or %NULL
 */
SignalingSocketioNamespace *
signaling_socketio_server_lookup_namespace (SignalingSocketioServer *self,
                                            const char              *name)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SERVER (self), NULL);
  return g_hash_table_lookup (self->namespaces, name);
}
