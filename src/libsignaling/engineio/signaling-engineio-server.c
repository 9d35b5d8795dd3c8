/* signaling-engineio-server.c: an Engine.IO v4 endpoint on a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-engineio"

#include "config.h"

#include "signaling-engineio-server-private.h"
#include "signaling-engineio-socket-private.h"
#include "signaling-http-edge-private.h"
#include "signaling-identity-private.h"
#include "signaling-soup-workarounds-private.h"
#include "signaling-util-private.h"

/**
 * SignalingEngineioServer:
 *
 * Serves Engine.IO protocol v4 (the transport under Socket.IO v5) at a
 * path of a [class@Soup.Server]: the polling handshake, long-polling
 * GET/POST, WebSocket sessions and the upgrade from one to the other.
 *
 * Each new session is announced with
 * [signal@Signaling.EngineioServer::connection].
 */
struct _SignalingEngineioServer
{
  GObject parent_instance;

  SignalingEngineioSettings settings;
  char **allowed_origins;
  gboolean per_message_deflate;
  GHashTable *sockets;  /* sid → SignalingEngineioSocket */

  /* Polling sessions not asked for since their handshake, oldest
   * first. A handshake is one GET: without a bound, a client could
   * make sessions by the thousand and never use them. */
  GQueue unclaimed;     /* SignalingEngineioSocket *, unowned */
  guint max_pending_sessions;

  /* In a cluster: this node's id, the prefix of its session ids, and
   * how to pass another node's polling requests on to it. */
  char *node;
  SignalingEngineioForwardFunc forward;
  gpointer forward_data;
};

/* The socket's link in unclaimed, while it is there. */
#define UNCLAIMED_QUARK (g_quark_from_static_string ("signaling-engineio-unclaimed"))

G_DEFINE_FINAL_TYPE (SignalingEngineioServer, signaling_engineio_server, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PING_INTERVAL,
  PROP_PING_TIMEOUT,
  PROP_MAX_PAYLOAD,
  PROP_MAX_SEND_QUEUE,
  PROP_PER_MESSAGE_DEFLATE,
  PROP_ALLOWED_ORIGINS,
  PROP_MAX_PENDING_SESSIONS,
  PROP_N_SOCKETS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CONNECTION,
  SIGNAL_REFUSE_HANDSHAKE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Engine.IO's error codes, sent as {"code":N,"message":...} with 400. */
typedef enum {
  EIO_ERROR_UNKNOWN_TRANSPORT = 0,
  EIO_ERROR_UNKNOWN_SID = 1,
  EIO_ERROR_BAD_HANDSHAKE_METHOD = 2,
  EIO_ERROR_BAD_REQUEST = 3,
  EIO_ERROR_FORBIDDEN = 4,
  EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION = 5,
} EioError;

static const char * const eio_error_messages[] = {
  [EIO_ERROR_UNKNOWN_TRANSPORT] = "Transport unknown",
  [EIO_ERROR_UNKNOWN_SID] = "Session ID unknown",
  [EIO_ERROR_BAD_HANDSHAKE_METHOD] = "Bad handshake method",
  [EIO_ERROR_BAD_REQUEST] = "Bad request",
  [EIO_ERROR_FORBIDDEN] = "Forbidden",
  [EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION] = "Unsupported protocol version",
};

static void claim (SignalingEngineioServer *self,
                   SignalingEngineioSocket *socket);

static void
signaling_engineio_server_dispose (GObject *object)
{
  SignalingEngineioServer *self = SIGNALING_ENGINEIO_SERVER (object);

  if (self->sockets != NULL)
    signaling_engineio_server_close_all (self, "server shutting down");
  /* Sessions still saying goodbye outlive the table: they forget their
   * place in the queue of unclaimed ones, which goes with us. */
  while (!g_queue_is_empty (&self->unclaimed))
    claim (self, self->unclaimed.head->data);
  if (self->sockets != NULL)
    {
      GHashTableIter iter;
      gpointer socket;

      g_hash_table_iter_init (&iter, self->sockets);
      while (g_hash_table_iter_next (&iter, NULL, &socket))
        signaling_engineio_socket_set_finished_func (socket, NULL, NULL);
    }
  g_clear_pointer (&self->sockets, g_hash_table_unref);

  G_OBJECT_CLASS (signaling_engineio_server_parent_class)->dispose (object);
}

static void
signaling_engineio_server_finalize (GObject *object)
{
  SignalingEngineioServer *self = SIGNALING_ENGINEIO_SERVER (object);

  g_strfreev (self->allowed_origins);
  g_free (self->node);
  g_clear_pointer (&self->settings.pings, signaling_timer_queue_unref);
  g_clear_pointer (&self->settings.pong_deadlines, signaling_timer_queue_unref);

  G_OBJECT_CLASS (signaling_engineio_server_parent_class)->finalize (object);
}

static void
signaling_engineio_server_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  SignalingEngineioServer *self = SIGNALING_ENGINEIO_SERVER (object);

  switch (prop_id)
    {
    case PROP_PING_INTERVAL:
      g_value_set_uint (value, self->settings.ping_interval);
      break;
    case PROP_PING_TIMEOUT:
      g_value_set_uint (value, self->settings.ping_timeout);
      break;
    case PROP_MAX_PAYLOAD:
      g_value_set_uint (value, self->settings.max_payload);
      break;
    case PROP_MAX_SEND_QUEUE:
      g_value_set_uint (value, self->settings.max_send_queue);
      break;
    case PROP_PER_MESSAGE_DEFLATE:
      g_value_set_boolean (value, self->per_message_deflate);
      break;
    case PROP_MAX_PENDING_SESSIONS:
      g_value_set_uint (value, self->max_pending_sessions);
      break;
    case PROP_ALLOWED_ORIGINS:
      g_value_set_boxed (value, self->allowed_origins);
      break;
    case PROP_N_SOCKETS:
      g_value_set_uint (value, g_hash_table_size (self->sockets));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_engineio_server_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  SignalingEngineioServer *self = SIGNALING_ENGINEIO_SERVER (object);

  switch (prop_id)
    {
    case PROP_PING_INTERVAL:
      self->settings.ping_interval = g_value_get_uint (value);
      break;
    case PROP_PING_TIMEOUT:
      self->settings.ping_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_PAYLOAD:
      self->settings.max_payload = g_value_get_uint (value);
      break;
    case PROP_MAX_SEND_QUEUE:
      self->settings.max_send_queue = g_value_get_uint (value);
      break;
    case PROP_PER_MESSAGE_DEFLATE:
      self->per_message_deflate = g_value_get_boolean (value);
      break;
    case PROP_ALLOWED_ORIGINS:
      g_strfreev (self->allowed_origins);
      self->allowed_origins = g_value_dup_boxed (value);
      break;
    case PROP_MAX_PENDING_SESSIONS:
      self->max_pending_sessions = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_engineio_server_class_init (SignalingEngineioServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_engineio_server_dispose;
  object_class->finalize = signaling_engineio_server_finalize;
  object_class->get_property = signaling_engineio_server_get_property;
  object_class->set_property = signaling_engineio_server_set_property;

  /**
   * SignalingEngineioServer:ping-interval:
   *
   * Milliseconds between the server's pings (Engine.IO `pingInterval`).
   */
  properties[PROP_PING_INTERVAL] =
    g_param_spec_uint ("ping-interval", NULL, NULL, 1, G_MAXINT, 25000,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:ping-timeout:
   *
   * Milliseconds a peer has to answer a ping (Engine.IO `pingTimeout`).
   */
  properties[PROP_PING_TIMEOUT] =
    g_param_spec_uint ("ping-timeout", NULL, NULL, 1, G_MAXINT, 20000,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:max-payload:
   *
   * Largest POST body or WebSocket message accepted, in bytes
   * (Engine.IO `maxPayload`).
   */
  properties[PROP_MAX_PAYLOAD] =
    g_param_spec_uint ("max-payload", NULL, NULL, 1, G_MAXINT, 1000000,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:max-send-queue:
   *
   * Most bytes a session may leave unread (on its WebSocket, or queued
   * for its next poll) before the session is closed; 0 for no limit.
   */
  properties[PROP_MAX_SEND_QUEUE] =
    g_param_spec_uint ("max-send-queue", NULL, NULL, 0, G_MAXUINT, 1024 * 1024,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:per-message-deflate:
   *
   * Whether WebSocket sessions may use permessage-deflate. It has no
   * effect: our WebSockets offer no extension (see
   * signaling-websocket.c), as engine.io's `perMessageDeflate`
   * defaults to: signaling messages are small, and compressing
   * clients send later, which reorders what they send over the
   * WebSocket and over HTTP during an upgrade.
   */
  properties[PROP_PER_MESSAGE_DEFLATE] =
    g_param_spec_boolean ("per-message-deflate", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:allowed-origins:
   *
   * Origins allowed by CORS and for WebSocket upgrades; %NULL or `*`
   * for any (`Access-Control-Allow-Origin: *`). Requests without an
   * `Origin` (not from browsers) are always allowed.
   */
  properties[PROP_ALLOWED_ORIGINS] =
    g_param_spec_boxed ("allowed-origins", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:max-pending-sessions:
   *
   * How many long-polling sessions may exist that have not been polled
   * (nor upgraded) since their handshake; 0 for no limit. One more
   * closes the oldest of them. Sessions in use are not counted; those
   * never used also end when their first ping goes unanswered.
   */
  properties[PROP_MAX_PENDING_SESSIONS] =
    g_param_spec_uint ("max-pending-sessions", NULL, NULL, 0, G_MAXUINT, 1024,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingEngineioServer:n-sockets:
   *
   * How many sessions are open, or closed by the server and still
   * delivering their close packet; see
   * [method@Signaling.EngineioServer.get_n_sockets].
   */
  properties[PROP_N_SOCKETS] =
    g_param_spec_uint ("n-sockets", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SignalingEngineioServer::refuse-handshake:
   * @self: the server
   *
   * Emitted before a polling handshake opens a session. A handler that
   * returns a reason turns the client away with HTTP 503 and that
   * reason in the Engine.IO error body, before any session exists.
   * WebSocket handshakes are not asked: the Socket.IO layer refuses
   * their CONNECT instead, in words socket.io-client shows.
   *
   * Returns: (transfer full) (nullable): why the handshake is refused,
   *   or %NULL to let it through
   */
  signals[SIGNAL_REFUSE_HANDSHAKE] =
    g_signal_new ("refuse-handshake", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 0);

  /**
   * SignalingEngineioServer::connection:
   * @self: the server
   * @socket: the new session
   *
   * Emitted when a client has opened a session.
   */
  signals[SIGNAL_CONNECTION] =
    g_signal_new ("connection", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_ENGINEIO_SOCKET);
}

static void
signaling_engineio_server_init (SignalingEngineioServer *self)
{
  self->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->settings.pings = signaling_timer_queue_new ("[signaling] Engine.IO pings");
  self->settings.pong_deadlines = signaling_timer_queue_new ("[signaling] Engine.IO pong deadlines");
}

/**
 * signaling_engineio_server_new:
 *
 * Creates an Engine.IO v4 server that serves no path yet.
 *
 * Returns: (transfer full): a new Engine.IO server; attach it to a
 *   [class@Soup.Server] with [method@Signaling.EngineioServer.attach]
 */
SignalingEngineioServer *
signaling_engineio_server_new (void)
{
  return g_object_new (SIGNALING_TYPE_ENGINEIO_SERVER, NULL);
}

static void
respond_error (SoupServerMessage *msg,
               EioError           code)
{
  g_autofree char *body = g_strdup_printf ("{\"code\":%d,\"message\":\"%s\"}",
                                           code, eio_error_messages[code]);
  gsize length = strlen (body);
  guint status = code == EIO_ERROR_FORBIDDEN ? SOUP_STATUS_FORBIDDEN : SOUP_STATUS_BAD_REQUEST;

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&body), length);
}

/* A refusal that is nobody's fault (full, shutting down): 503, with
 * the body engine.io gives an allowRequest refusal, so clients that
 * read it find a code and a message. */
static void
respond_unavailable (SoupServerMessage *msg,
                     const char        *reason)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  char *body;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, EIO_ERROR_FORBIDDEN);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, reason);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

/* The library's one origin rule (see signaling-http-edge.c). */
static gboolean
origin_allowed (SignalingEngineioServer *self,
                const char              *origin)
{
  return signaling_http_origin_allowed ((const char * const *) self->allowed_origins, origin);
}

static void
add_cors_headers (SignalingEngineioServer *self,
                  SoupServerMessage       *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *origin = soup_message_headers_get_one (request, "Origin");

  if (origin == NULL)
    return;

  if (signaling_http_origins_allow_any ((const char * const *) self->allowed_origins))
    {
      soup_message_headers_replace (response, "Access-Control-Allow-Origin", "*");
      return;
    }

  if (origin_allowed (self, origin))
    {
      soup_message_headers_replace (response, "Access-Control-Allow-Origin", origin);
      soup_message_headers_replace (response, "Access-Control-Allow-Credentials", "true");
      soup_message_headers_append (response, "Vary", "Origin");
    }
}

static void
respond_preflight (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *headers = soup_message_headers_get_one (request, "Access-Control-Request-Headers");

  soup_message_headers_replace (response, "Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
  if (headers != NULL)
    soup_message_headers_replace (response, "Access-Control-Allow-Headers", headers);
  soup_message_headers_replace (response, "Content-Length", "0");
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* The session has been asked for since its handshake (or is gone). */
static void
claim (SignalingEngineioServer *self,
       SignalingEngineioSocket *socket)
{
  GList *link = g_object_steal_qdata (G_OBJECT (socket), UNCLAIMED_QUARK);

  if (link != NULL)
    g_queue_delete_link (&self->unclaimed, link);
}

/* Called before a new polling session is added: the oldest unclaimed
 * one makes room. */
static void
drop_oldest_unclaimed (SignalingEngineioServer *self)
{
  while (self->max_pending_sessions > 0 && self->unclaimed.length >= self->max_pending_sessions)
    {
      SignalingEngineioSocket *oldest = self->unclaimed.head->data;

      g_debug ("%u sessions never polled: closing the oldest, %s",
               self->unclaimed.length, signaling_engineio_socket_get_id (oldest));
      claim (self, oldest);
      signaling_engineio_socket_abandon (oldest, "never polled");
    }
}

/* A closed session stays in the table until its goodbye is delivered:
 * its next GET must find it, and the daemon waits for the table to
 * empty before it exits. */
static void
on_socket_finished (SignalingEngineioSocket *socket,
                    gpointer                 user_data)
{
  SignalingEngineioServer *self = user_data;

  claim (self, socket);
  signaling_engineio_socket_set_finished_func (socket, NULL, NULL);
  g_hash_table_remove (self->sockets, signaling_engineio_socket_get_id (socket));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SOCKETS]);
}

/* A new session for the request @msg opens. The identity its token
 * proved at the HTTP edge, if any, goes with it, for the Socket.IO
 * layer to find at CONNECT (as socket.io keeps `socket.handshake`). */
static SignalingEngineioSocket *
add_socket (SignalingEngineioServer *self,
            SoupServerMessage       *msg)
{
  SignalingEngineioSocket *socket = signaling_engineio_socket_new (soup_server_message_get_remote_host (msg),
                                                                   &self->settings, self->node);

  signaling_identity_attach (signaling_identity_lookup (msg), socket);

  g_hash_table_insert (self->sockets, (gpointer) signaling_engineio_socket_get_id (socket), socket);
  signaling_engineio_socket_set_finished_func (socket, on_socket_finished, self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SOCKETS]);
  return socket;
}

static gboolean
is_websocket_request (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (headers, "Upgrade", "websocket");
}

/* A polling request for a session of another node of the cluster (a
 * load balancer or SO_REUSEPORT sent it here) goes to that node: no
 * sticky sessions needed. A WebSocket upgrade cannot be passed on: it
 * fails, and the client goes on polling. */
static gboolean
forward_request (SignalingEngineioServer *self,
                 SoupServerMessage       *msg,
                 const char              *sid)
{
  const char *separator = strrchr (sid, SIGNALING_ENGINEIO_NODE_SEPARATOR);
  g_autofree char *node = NULL;

  if (self->forward == NULL || separator == NULL || is_websocket_request (msg))
    return FALSE;

  node = g_strndup (sid, separator - sid);
  if (g_str_equal (node, self->node))
    return FALSE;
  return self->forward (msg, node, self->forward_data);
}

/*
 * signaling_engineio_server_set_node:
 * @node: (nullable): this node's id in a cluster, which prefixes the
 *   ids of the sessions it makes from now on
 * @forward: (nullable): passes requests for other nodes' sessions on
 */
void
signaling_engineio_server_set_node (SignalingEngineioServer      *self,
                                    const char                   *node,
                                    SignalingEngineioForwardFunc  forward,
                                    gpointer                      user_data)
{
  g_free (self->node);
  self->node = g_strdup (node);
  self->forward = forward;
  self->forward_data = user_data;
}

/* Checks what every request must have; answers and returns FALSE if
 * something is wrong. */
static gboolean
check_request (SignalingEngineioServer  *self,
               SoupServerMessage        *msg,
               GHashTable               *query,
               SignalingEngineioSocket **out_socket)
{
  const char *eio = query != NULL ? g_hash_table_lookup (query, "EIO") : NULL;
  const char *transport = query != NULL ? g_hash_table_lookup (query, "transport") : NULL;
  const char *sid = query != NULL ? g_hash_table_lookup (query, "sid") : NULL;
  const char *origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");

  *out_socket = NULL;

  if (g_strcmp0 (eio, "4") != 0)
    {
      respond_error (msg, EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION);
      return FALSE;
    }

  if (g_strcmp0 (transport, "polling") != 0 && g_strcmp0 (transport, "websocket") != 0)
    {
      respond_error (msg, EIO_ERROR_UNKNOWN_TRANSPORT);
      return FALSE;
    }

  if (!origin_allowed (self, origin))
    {
      respond_error (msg, EIO_ERROR_FORBIDDEN);
      return FALSE;
    }

  if (g_str_equal (transport, "websocket") != is_websocket_request (msg))
    {
      respond_error (msg, EIO_ERROR_BAD_REQUEST);
      return FALSE;
    }

  if (sid != NULL)
    {
      *out_socket = g_hash_table_lookup (self->sockets, sid);
      if (*out_socket == NULL && !forward_request (self, msg, sid))
        respond_error (msg, EIO_ERROR_UNKNOWN_SID);
      if (*out_socket == NULL)
        return FALSE;
    }

  return TRUE;
}

static void
handle_polling_handshake (SignalingEngineioServer *self,
                          SoupServerMessage       *msg)
{
  SignalingEngineioSocket *socket;
  g_autofree char *body = NULL;
  g_autofree char *refusal = NULL;
  gsize length;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      respond_error (msg, EIO_ERROR_BAD_HANDSHAKE_METHOD);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_REFUSE_HANDSHAKE], 0, &refusal);
  if (refusal != NULL)
    {
      respond_unavailable (msg, refusal);
      return;
    }

  drop_oldest_unclaimed (self);
  socket = add_socket (self, msg);
  g_queue_push_tail (&self->unclaimed, socket);
  g_object_set_qdata (G_OBJECT (socket), UNCLAIMED_QUARK, self->unclaimed.tail);
  body = signaling_engineio_socket_handshake_polling (socket);
  length = strlen (body);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&body), length);

  g_signal_emit (self, signals[SIGNAL_CONNECTION], 0, socket);
}

static void on_websocket (SoupServerMessage  *msg,
                          SignalingWebsocket *websocket,
                          gpointer            user_data);

static void
on_request (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SignalingEngineioServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  SignalingEngineioSocket *socket;

  add_cors_headers (self, msg);
  signaling_soup_announce_close (msg, FALSE);
  signaling_soup_set_no_delay (soup_server_message_get_socket (msg));

  if (method == SOUP_METHOD_OPTIONS)
    {
      respond_preflight (msg);
      return;
    }

  if (!check_request (self, msg, query, &socket))
    return;
  if (socket != NULL)
    claim (self, socket);

  /* WebSocket requests that pass are upgraded; on_websocket() closes
   * at once a second WebSocket for an upgraded session. */
  if (is_websocket_request (msg))
    {
      if (signaling_http_has_body (msg))
        {
          respond_error (msg, EIO_ERROR_BAD_REQUEST);
          return;
        }
      signaling_websocket_upgrade (msg, self->per_message_deflate, on_websocket, self);
      return;
    }

  if (socket == NULL)
    handle_polling_handshake (self, msg);
  else if (method == SOUP_METHOD_GET)
    signaling_engineio_socket_handle_poll (socket, msg);
  else if (method == SOUP_METHOD_POST)
    signaling_engineio_socket_handle_post (socket, msg);
  else
    respond_error (msg, EIO_ERROR_BAD_REQUEST);
}

static void
on_websocket (SoupServerMessage  *msg,
              SignalingWebsocket *websocket,
              gpointer            user_data)
{
  SignalingEngineioServer *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr(GHashTable) query = NULL;
  const char *sid = NULL;
  SignalingEngineioSocket *socket;

  /* maxPayload holds for every message, over all its fragments; past
   * it, as the reference server's `ws`: close 1009, which ends the
   * session ("transport close"), and the client reconnects. */
  signaling_websocket_set_max_message_size (websocket, self->settings.max_payload,
                                            "Max payload size exceeded");

  if (g_uri_get_query (uri) != NULL)
    query = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL);
  if (query != NULL)
    sid = g_hash_table_lookup (query, "sid");

  if (sid != NULL)
    {
      /* Checked in on_request, but the session may have ended since. */
      socket = g_hash_table_lookup (self->sockets, sid);
      if (socket == NULL)
        signaling_websocket_close (websocket, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
      else if (signaling_engineio_socket_can_upgrade (socket))
        signaling_engineio_socket_probe_websocket (socket, websocket);
      else
        signaling_engineio_socket_refuse_websocket (socket, websocket);
      return;
    }

  socket = add_socket (self, msg);
  signaling_engineio_socket_open_websocket (socket, websocket);
  g_signal_emit (self, signals[SIGNAL_CONNECTION], 0, socket);
}

/**
 * signaling_engineio_server_attach:
 * @self: an Engine.IO server
 * @soup_server: the HTTP server
 * @path: where to serve, for example `/engine.io` (sub-paths included)
 *
 * Starts serving Engine.IO at @path of @soup_server.
 */
void
signaling_engineio_server_attach (SignalingEngineioServer *self,
                                  SoupServer              *soup_server,
                                  const char              *path)
{
  g_return_if_fail (SIGNALING_IS_ENGINEIO_SERVER (self));
  g_return_if_fail (SOUP_IS_SERVER (soup_server));
  g_return_if_fail (path != NULL);

  soup_server_add_handler (soup_server, path, on_request, self, NULL);
}

/**
 * signaling_engineio_server_get_n_sockets:
 * @self: an Engine.IO server
 *
 * Counts the Engine.IO sessions.
 *
 * Returns: how many sessions are open, or closed by the server and
 *   still delivering their close packet
 */
guint
signaling_engineio_server_get_n_sockets (SignalingEngineioServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_ENGINEIO_SERVER (self), 0);
  return g_hash_table_size (self->sockets);
}

/**
 * signaling_engineio_server_close_all:
 * @self: an Engine.IO server
 * @reason: (nullable): why, for logs
 *
 * Closes every session.
 */
void
signaling_engineio_server_close_all (SignalingEngineioServer *self,
                                     const char              *reason)
{
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer socket;

  /* Closing removes sessions from the table: work on a copy. */
  g_hash_table_iter_init (&iter, self->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &socket))
    g_ptr_array_add (sockets, g_object_ref (socket));

  for (guint i = 0; i < sockets->len; i++)
    signaling_engineio_socket_close (g_ptr_array_index (sockets, i), reason);
}
