/* signaling-server.c: the signaling service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-client-private.h"
#ifdef HAVE_REDIS
#include "signaling-cluster-private.h"
#endif
#include "signaling-engineio-server-private.h"
#include "signaling-engineio-socket.h"
#include "signaling-enums.h"
#include "signaling-error.h"
#include "signaling-http-edge-private.h"
#include "signaling-identity-private.h"
#include "signaling-listener-private.h"
#include "signaling-metrics-private.h"
#include "signaling-native-connection-private.h"
#include "signaling-resume-table-private.h"
#include "signaling-room.h"
#include "signaling-server-private.h"
#include "signaling-settings-private.h"
#include "signaling-socketio-connection-private.h"
#include "signaling-socketio-namespace.h"
#include "signaling-socketio-server.h"
#include "signaling-socketio-socket.h"
#include "signaling-socketio-socket-private.h"
#include "signaling-token-verifier-private.h"
#include "signaling-turn-credentials-private.h"
#include "signaling-util-private.h"
#include "signaling-version.h"

#define NATIVE_PATH "/ws"
#define SOCKETIO_PATH "/socket.io"
#define HEALTH_PATH "/healthz"
#define ICE_SERVERS_PATH "/ice-servers"
#define METRICS_PATH "/metrics"

/* RFC 6455 §7.4.1: the endpoint is going away. */
#define CLOSE_GOING_AWAY 1001

/**
 * SignalingServer:
 *
 * A WebRTC signaling service on a [class@Soup.Server].
 *
 * Peers connect with WebSocket, join rooms and exchange offers,
 * answers, ICE candidates and hangups through it. Native protocol v1
 * is served at `/ws`, a small JSON health report at `/healthz` and
 * Prometheus metrics at `/metrics` (to [property@Signaling.Server:metrics-allow]).
 *
 * Every limit is a property, with a safe default; 0 means no limit.
 */
struct _SignalingServer
{
  GObject parent_instance;

  SoupServer *soup_server;
  SignalingListener *listener;
  SignalingAcceptor *acceptor;  /* the listener's; NULL when libsoup accepts */
  SignalingHttpEdge *edge;
  SignalingAddressLimiter *address_limiter;  /* the edge's */
  guint request_timeout;
  guint max_pending_connections;
  SignalingRouter *router;
  SignalingEngineioServer *engineio;
  SignalingSocketioServer *socketio;
  SignalingLimits *limits;  /* the router's, written from our properties */
  SignalingTokenVerifier *verifier;
  SignalingTurnCredentials *turn;
  SignalingResumeTable *resumes;  /* native sessions that may be resumed */
  gboolean stopping;  /* shutdown() was called */
  guint close_acceptor_source;

  /* TLS: the files, and what was last read from them. */
  char *tls_certificate_file;
  char *tls_key_file;
  GTlsCertificate *tls_certificate;

  /* What reload() asks first for new settings (the daemon: its file). */
  SignalingServerReloadFunc reload_func;
  gpointer reload_data;
  GDestroyNotify reload_destroy;

  GDateTime *started_at;
  gint64 started_at_monotonic;

  /* Several processes and hosts as one service (docs/design.md, "Cluster") */
  char *redis_url;
  char *redis_password_file;
  char *node_id;
  guint cluster_timeout;
  GObject *cluster;  /* SignalingCluster, once listening with redis_url */
};

G_DEFINE_FINAL_TYPE (SignalingServer, signaling_server, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_CLIENTS,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_ROOMS_PER_CLIENT,
  PROP_MAX_ROOM_MEMBERS,
  PROP_RATE_LIMIT,
  PROP_RATE_BURST,
  PROP_KEEPALIVE_INTERVAL,
  PROP_MAX_SEND_QUEUE,
  PROP_REQUEST_TIMEOUT,
  PROP_MAX_PENDING_CONNECTIONS,
  PROP_CLIENT_SCRIPT_DIR,
  PROP_DEMO_DIR,
  PROP_ICE_SERVERS,
  PROP_ALLOWED_ORIGINS,
  PROP_PING_INTERVAL,
  PROP_PING_TIMEOUT,
  PROP_MAX_PAYLOAD,
  PROP_AUTH_SECRET_FILE,
  PROP_AUTH_PUBLIC_KEY,
  PROP_AUTH_AUDIENCE,
  PROP_TURN_SECRET_FILE,
  PROP_TURN_URIS,
  PROP_TURN_TTL,
  PROP_REUSE_PORT,
  PROP_REDIS,
  PROP_REDIS_PASSWORD_FILE,
  PROP_NODE_ID,
  PROP_CLUSTER_TIMEOUT,
  PROP_CLUSTER_STATE,
  PROP_CLUSTER_NODES,
  PROP_METRICS_ALLOW,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_KEY,
  PROP_MAX_CLIENTS_PER_ADDRESS,
  PROP_CONNECT_RATE_PER_ADDRESS,
  PROP_EXEMPT_ADDRESSES,
  PROP_RESUME_WINDOW,
  PROP_RESUME_BUFFER,
  PROP_RECOVERY_OFFSETS,
  PROP_CLIENT_COUNT,
  PROP_ROOM_COUNT,
  PROP_STARTED_AT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CLIENT_CONNECTED,
  SIGNAL_CLIENT_DISCONNECTED,
  SIGNAL_ROOM_ADDED,
  SIGNAL_ROOM_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define DEFAULT_MAX_CLIENTS          10000
#define DEFAULT_MAX_MESSAGE_SIZE     (64 * 1024)
#define DEFAULT_MAX_ROOMS_PER_CLIENT 32
#define DEFAULT_MAX_ROOM_MEMBERS     256
#define DEFAULT_RATE_LIMIT           1000.0
#define DEFAULT_RATE_BURST           2000
#define DEFAULT_KEEPALIVE_INTERVAL   30
#define DEFAULT_MAX_SEND_QUEUE       (1024 * 1024)
#define DEFAULT_REQUEST_TIMEOUT      60
#define DEFAULT_MAX_PENDING_CONNECTIONS 1024
#define DEFAULT_CLUSTER_TIMEOUT      10
#define DEFAULT_RESUME_WINDOW        30
#define DEFAULT_RESUME_BUFFER        (256 * 1024)

static void
close_all_clients (SignalingServer *self,
                   gushort          code,
                   const char      *reason)
{
  g_autoptr(GPtrArray) clients = signaling_server_get_clients (self);

  /* Closing may remove clients from the router as we go, hence the copy. */
  for (guint i = 0; i < clients->len; i++)
    signaling_client_disconnect (g_ptr_array_index (clients, i), code, reason);
}

static void close_acceptor_when_drained (SignalingEngineioServer *engineio,
                                         GParamSpec              *pspec,
                                         SignalingServer         *self);

static void
signaling_server_dispose (GObject *object)
{
  SignalingServer *self = SIGNALING_SERVER (object);

  /* Off the bus while the clients and rooms it shows are still here. */
  signaling_server_unexport_dbus (self);

  if (self->router != NULL)
    {
      g_autoptr(GPtrArray) clients = signaling_server_get_clients (self);

      /* Connections point back at us without a reference; cut them
       * loose before we go. */
      for (guint i = 0; i < clients->len; i++)
        {
          SignalingClient *client = g_ptr_array_index (clients, i);

          signaling_client_disconnect (client, CLOSE_GOING_AWAY, NULL);
          signaling_router_remove_client (self->router, client, "server finalized");
        }
    }

  if (self->engineio != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->engineio, close_acceptor_when_drained, self);
      signaling_engineio_server_close_all (self->engineio, "server finalized");
    }
  if (self->resumes != NULL)
    signaling_resume_table_set_remote (self->resumes, NULL);
  g_clear_object (&self->cluster);
  g_clear_handle_id (&self->close_acceptor_source, g_source_remove);
  if (self->listener != NULL)
    signaling_listener_close (self->listener);
  if (self->soup_server != NULL)
    soup_server_disconnect (self->soup_server);
  g_clear_object (&self->edge);
  self->address_limiter = NULL;
  self->acceptor = NULL;
  g_clear_object (&self->listener);
  g_clear_object (&self->socketio);
  g_clear_object (&self->engineio);
  g_clear_object (&self->soup_server);

  G_OBJECT_CLASS (signaling_server_parent_class)->dispose (object);
}

static void
signaling_server_finalize (GObject *object)
{
  SignalingServer *self = SIGNALING_SERVER (object);

  /* Kept until now, emptied in dispose: self->limits points into it,
   * and properties may still be read while others let go of us. */
  g_clear_object (&self->router);
  g_clear_object (&self->verifier);
  g_clear_object (&self->turn);
  g_clear_object (&self->resumes);
  g_clear_pointer (&self->started_at, g_date_time_unref);
  g_free (self->redis_url);
  g_free (self->redis_password_file);
  g_free (self->node_id);

  g_free (self->tls_certificate_file);
  g_free (self->tls_key_file);
  g_clear_object (&self->tls_certificate);
  signaling_server_set_reload_func (self, NULL, NULL, NULL);

  G_OBJECT_CLASS (signaling_server_parent_class)->finalize (object);
}

/* g_set_str() from GLib 2.76. */
static gboolean
replace_string (char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
signaling_server_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SignalingServer *self = SIGNALING_SERVER (object);

  switch (prop_id)
    {
    case PROP_MAX_CLIENTS:
      g_value_set_uint (value, self->limits->max_clients);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, self->limits->max_message_size);
      break;
    case PROP_MAX_ROOMS_PER_CLIENT:
      g_value_set_uint (value, self->limits->max_rooms_per_client);
      break;
    case PROP_MAX_ROOM_MEMBERS:
      g_value_set_uint (value, self->limits->max_room_members);
      break;
    case PROP_RATE_LIMIT:
      g_value_set_double (value, self->limits->rate_limit);
      break;
    case PROP_RATE_BURST:
      g_value_set_uint (value, self->limits->rate_burst);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->limits->keepalive_interval);
      break;
    case PROP_MAX_SEND_QUEUE:
      g_value_set_uint (value, self->limits->max_send_queue);
      break;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, self->request_timeout);
      break;
    case PROP_MAX_PENDING_CONNECTIONS:
      g_value_set_uint (value, self->max_pending_connections);
      break;
    case PROP_CLIENT_SCRIPT_DIR:
      g_value_set_string (value, signaling_http_edge_get_client_script_dir (self->edge));
      break;
    case PROP_DEMO_DIR:
      g_value_set_string (value, signaling_http_edge_get_demo_dir (self->edge));
      break;
    case PROP_ICE_SERVERS:
      g_value_set_boxed (value, signaling_router_get_ice_servers (self->router));
      break;
    case PROP_ALLOWED_ORIGINS:
      g_value_set_boxed (value, signaling_http_edge_get_allowed_origins (self->edge));
      break;
    case PROP_METRICS_ALLOW:
      g_value_set_boxed (value, signaling_http_edge_get_metrics_allow (self->edge));
      break;
    case PROP_PING_INTERVAL:
    case PROP_PING_TIMEOUT:
    case PROP_MAX_PAYLOAD:
      g_object_get_property (G_OBJECT (self->engineio), pspec->name, value);
      break;
    case PROP_AUTH_SECRET_FILE:
      g_value_set_string (value, signaling_token_verifier_get_secret_file (self->verifier));
      break;
    case PROP_AUTH_PUBLIC_KEY:
      g_value_set_string (value, signaling_token_verifier_get_public_key_file (self->verifier));
      break;
    case PROP_AUTH_AUDIENCE:
      g_value_set_string (value, signaling_token_verifier_get_audience (self->verifier));
      break;
    case PROP_TURN_SECRET_FILE:
      g_value_set_string (value, signaling_turn_credentials_get_secret_file (self->turn));
      break;
    case PROP_TURN_URIS:
      g_value_set_boxed (value, signaling_turn_credentials_get_uris (self->turn));
      break;
    case PROP_TURN_TTL:
      g_value_set_uint (value, signaling_turn_credentials_get_ttl (self->turn));
      break;
    case PROP_REUSE_PORT:
      g_value_set_boolean (value, signaling_listener_get_reuse_port (self->listener));
      break;
    case PROP_REDIS:
      g_value_set_string (value, self->redis_url);
      break;
    case PROP_REDIS_PASSWORD_FILE:
      g_value_set_string (value, self->redis_password_file);
      break;
    case PROP_NODE_ID:
      g_value_set_string (value, self->node_id);
      break;
    case PROP_CLUSTER_TIMEOUT:
      g_value_set_uint (value, self->cluster_timeout);
      break;
    case PROP_CLUSTER_STATE:
      g_value_set_string (value, signaling_server_get_cluster_state (self));
      break;
    case PROP_CLUSTER_NODES:
      g_value_take_boxed (value, signaling_server_dup_cluster_nodes (self));
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_string (value, self->tls_certificate_file);
      break;
    case PROP_TLS_KEY:
      g_value_set_string (value, self->tls_key_file);
      break;
    case PROP_MAX_CLIENTS_PER_ADDRESS:
      g_value_set_uint (value, signaling_address_limiter_get_max_clients (self->address_limiter));
      break;
    case PROP_CONNECT_RATE_PER_ADDRESS:
      g_value_set_double (value, signaling_address_limiter_get_connect_rate (self->address_limiter));
      break;
    case PROP_EXEMPT_ADDRESSES:
      g_value_set_boxed (value, signaling_address_limiter_get_exempt (self->address_limiter));
      break;
    case PROP_RESUME_WINDOW:
      g_value_set_uint (value, signaling_resume_table_get_window (self->resumes));
      break;
    case PROP_RESUME_BUFFER:
      g_value_set_uint (value, (guint) signaling_resume_table_get_buffer_size (self->resumes));
      break;
    case PROP_RECOVERY_OFFSETS:
      g_value_set_boolean (value, signaling_resume_table_get_offsets (self->resumes));
      break;
    case PROP_CLIENT_COUNT:
      g_value_set_uint (value, signaling_server_get_client_count (self));
      break;
    case PROP_ROOM_COUNT:
      g_value_set_uint (value, signaling_server_get_room_count (self));
      break;
    case PROP_STARTED_AT:
      g_value_set_boxed (value, self->started_at);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_server_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  SignalingServer *self = SIGNALING_SERVER (object);

  switch (prop_id)
    {
    case PROP_MAX_CLIENTS:
      self->limits->max_clients = g_value_get_uint (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      self->limits->max_message_size = g_value_get_uint (value);
      signaling_http_edge_set_max_body_size (self->edge, self->limits->max_message_size);
      break;
    case PROP_MAX_ROOMS_PER_CLIENT:
      self->limits->max_rooms_per_client = g_value_get_uint (value);
      break;
    case PROP_MAX_ROOM_MEMBERS:
      self->limits->max_room_members = g_value_get_uint (value);
      break;
    case PROP_RATE_LIMIT:
      self->limits->rate_limit = g_value_get_double (value);
      break;
    case PROP_RATE_BURST:
      self->limits->rate_burst = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      self->limits->keepalive_interval = g_value_get_uint (value);
      break;
    case PROP_MAX_SEND_QUEUE:
      self->limits->max_send_queue = g_value_get_uint (value);
      g_object_set_property (G_OBJECT (self->engineio), pspec->name, value);
      break;
    case PROP_REQUEST_TIMEOUT:
      self->request_timeout = g_value_get_uint (value);
      if (self->acceptor != NULL)
        signaling_acceptor_set_request_timeout (self->acceptor, self->request_timeout);
      break;
    case PROP_MAX_PENDING_CONNECTIONS:
      self->max_pending_connections = g_value_get_uint (value);
      if (self->acceptor != NULL)
        signaling_acceptor_set_max_pending (self->acceptor, self->max_pending_connections);
      g_object_set (self->engineio, "max-pending-sessions", self->max_pending_connections, NULL);
      break;
    case PROP_CLIENT_SCRIPT_DIR:
      signaling_http_edge_set_client_script_dir (self->edge, g_value_get_string (value));
      break;
    case PROP_DEMO_DIR:
      signaling_http_edge_set_demo_dir (self->edge, g_value_get_string (value));
      break;
    case PROP_ICE_SERVERS:
      signaling_router_set_ice_servers (self->router, g_value_get_boxed (value));
      break;
    case PROP_ALLOWED_ORIGINS:
      signaling_http_edge_set_allowed_origins (self->edge, g_value_get_boxed (value));
      g_object_set_property (G_OBJECT (self->engineio), "allowed-origins", value);
      break;
    case PROP_METRICS_ALLOW:
      {
        g_autoptr(GError) error = NULL;

        if (!signaling_http_edge_set_metrics_allow (self->edge, g_value_get_boxed (value), &error))
          g_warning ("Ignoring metrics-allow: %s", error->message);
      }
      break;
    case PROP_PING_INTERVAL:
    case PROP_PING_TIMEOUT:
    case PROP_MAX_PAYLOAD:
      g_object_set_property (G_OBJECT (self->engineio), pspec->name, value);
      break;
    case PROP_AUTH_SECRET_FILE:
      signaling_token_verifier_set_secret_file (self->verifier, g_value_get_string (value));
      break;
    case PROP_AUTH_PUBLIC_KEY:
      signaling_token_verifier_set_public_key_file (self->verifier, g_value_get_string (value));
      break;
    case PROP_AUTH_AUDIENCE:
      signaling_token_verifier_set_audience (self->verifier, g_value_get_string (value));
      break;
    case PROP_TURN_SECRET_FILE:
      signaling_turn_credentials_set_secret_file (self->turn, g_value_get_string (value));
      break;
    case PROP_TURN_URIS:
      signaling_turn_credentials_set_uris (self->turn, g_value_get_boxed (value));
      break;
    case PROP_TURN_TTL:
      signaling_turn_credentials_set_ttl (self->turn, g_value_get_uint (value));
      break;
    case PROP_REUSE_PORT:
      signaling_listener_set_reuse_port (self->listener, g_value_get_boolean (value));
      break;
    case PROP_REDIS:
      g_free (self->redis_url);
      self->redis_url = g_value_dup_string (value);
      break;
    case PROP_REDIS_PASSWORD_FILE:
      g_free (self->redis_password_file);
      self->redis_password_file = g_value_dup_string (value);
      break;
    case PROP_NODE_ID:
      /* NULL or empty: keep the random one made at start. */
      if (g_value_get_string (value) != NULL && g_value_get_string (value)[0] != '\0')
        {
          g_free (self->node_id);
          self->node_id = g_value_dup_string (value);
        }
      break;
    case PROP_CLUSTER_TIMEOUT:
      self->cluster_timeout = g_value_get_uint (value);
      break;
    case PROP_TLS_CERTIFICATE:
      /* Read when listening starts, and again on reload. */
      if (replace_string (&self->tls_certificate_file, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_TLS_KEY:
      if (replace_string (&self->tls_key_file, g_value_get_string (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_MAX_CLIENTS_PER_ADDRESS:
      signaling_address_limiter_set_max_clients (self->address_limiter, g_value_get_uint (value));
      break;
    case PROP_CONNECT_RATE_PER_ADDRESS:
      signaling_address_limiter_set_connect_rate (self->address_limiter, g_value_get_double (value));
      break;
    case PROP_EXEMPT_ADDRESSES:
      signaling_address_limiter_set_exempt (self->address_limiter, g_value_get_boxed (value));
      break;
    case PROP_RESUME_WINDOW:
      signaling_resume_table_set_window (self->resumes, g_value_get_uint (value));
      break;
    case PROP_RESUME_BUFFER:
      signaling_resume_table_set_buffer_size (self->resumes, g_value_get_uint (value));
      break;
    case PROP_RECOVERY_OFFSETS:
      signaling_resume_table_set_offsets (self->resumes, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
new_limit_pspec (const char *name,
                 const char *blurb,
                 guint       minimum,
                 guint       default_value)
{
  return g_param_spec_uint (name, NULL, blurb, minimum, G_MAXUINT, default_value,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                            G_PARAM_STATIC_STRINGS);
}

/* The properties that are settings of the signalbox daemon: each
 * becomes an option and a configuration key, described by its blurb,
 * range and default (src/daemon/signalbox-options.c), so that a new
 * limit needs its spec, a line here, its enforcement and its test. The
 * second column is the placeholder of the value in --help. */
static void
mark_settings (void)
{
  static const struct {
    guint prop;
    SignalingSetting setting;
  } marks[] = {
    { PROP_MAX_CLIENTS, { NULL, N_("N") } },
    { PROP_MAX_MESSAGE_SIZE, { NULL, N_("BYTES") } },
    { PROP_MAX_ROOMS_PER_CLIENT, { NULL, N_("N") } },
    { PROP_MAX_ROOM_MEMBERS, { NULL, N_("N") } },
    { PROP_RATE_LIMIT, { NULL, N_("RATE") } },
    { PROP_RATE_BURST, { NULL, N_("N") } },
    { PROP_KEEPALIVE_INTERVAL, { NULL, N_("SECONDS") } },
    { PROP_MAX_SEND_QUEUE, { NULL, N_("BYTES") } },
    { PROP_REQUEST_TIMEOUT, { NULL, N_("SECONDS") } },
    { PROP_MAX_PENDING_CONNECTIONS, { NULL, N_("N") } },
    { PROP_CLIENT_SCRIPT_DIR, { NULL, N_("DIR") } },
    { PROP_DEMO_DIR, { NULL, N_("DIR") } },
    { PROP_ICE_SERVERS, { "ice-server", N_("URL") } },
    { PROP_ALLOWED_ORIGINS, { "allowed-origin", N_("ORIGIN") } },
    { PROP_PING_INTERVAL, { NULL, N_("MS") } },
    { PROP_PING_TIMEOUT, { NULL, N_("MS") } },
    { PROP_MAX_PAYLOAD, { NULL, N_("BYTES") } },
    { PROP_AUTH_SECRET_FILE, { NULL, N_("FILE") } },
    { PROP_AUTH_PUBLIC_KEY, { NULL, N_("FILE") } },
    { PROP_AUTH_AUDIENCE, { NULL, N_("AUDIENCE") } },
    { PROP_TURN_SECRET_FILE, { NULL, N_("FILE") } },
    { PROP_TURN_URIS, { "turn-uri", N_("URI") } },
    { PROP_TURN_TTL, { NULL, N_("SECONDS") } },
    { PROP_REUSE_PORT, { NULL, NULL } },
    { PROP_REDIS, { NULL, N_("URL") } },
    { PROP_REDIS_PASSWORD_FILE, { NULL, N_("FILE") } },
    { PROP_NODE_ID, { NULL, N_("ID") } },
    { PROP_CLUSTER_TIMEOUT, { NULL, N_("SECONDS") } },
    { PROP_METRICS_ALLOW, { NULL, N_("ADDRESS[/BITS]") } },
    { PROP_TLS_CERTIFICATE, { NULL, N_("FILE") } },
    { PROP_TLS_KEY, { NULL, N_("FILE") } },
    { PROP_MAX_CLIENTS_PER_ADDRESS, { NULL, N_("N") } },
    { PROP_CONNECT_RATE_PER_ADDRESS, { NULL, N_("RATE") } },
    { PROP_EXEMPT_ADDRESSES, { "exempt-address", N_("ADDRESS") } },
    { PROP_RESUME_WINDOW, { NULL, N_("SECONDS") } },
    { PROP_RESUME_BUFFER, { NULL, N_("BYTES") } },
    { PROP_RECOVERY_OFFSETS, { NULL, NULL } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (marks); i++)
    signaling_setting_mark (properties[marks[i].prop], &marks[i].setting);
}

/* A class registers its signals and properties when it is first
 * initialised, which for SignalingClient would be when the first peer
 * connects: until then g_signal_lookup() and introspection from Python
 * or GJS (GObject.signal_list_names) do not see "offer" and the rest.
 * Initialising the public classes with the server's makes them
 * complete as soon as an application has a server. The classes of
 * static types are never freed, so the reference need not be kept. */
static void
ensure_public_types (void)
{
  const GType classes[] = {
    SIGNALING_TYPE_CLIENT,
    SIGNALING_TYPE_ROOM,
    SIGNALING_TYPE_ENGINEIO_SERVER,
    SIGNALING_TYPE_ENGINEIO_SOCKET,
    SIGNALING_TYPE_SOCKETIO_SERVER,
    SIGNALING_TYPE_SOCKETIO_NAMESPACE,
    SIGNALING_TYPE_SOCKETIO_SOCKET,
    SIGNALING_TYPE_ERROR,
    SIGNALING_TYPE_MESSAGE_KIND,
  };

  g_type_ensure (SIGNALING_TYPE_MESSAGE);
  g_type_ensure (SIGNALING_TYPE_SOCKETIO_ACK);
  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    g_type_class_unref (g_type_class_ref (classes[i]));
}

static void
signaling_server_class_init (SignalingServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_server_dispose;
  object_class->finalize = signaling_server_finalize;
  object_class->get_property = signaling_server_get_property;
  object_class->set_property = signaling_server_set_property;

  /* An embedding application has its own text domain: errors the
   * library reports are looked up in ours. */
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  /**
   * SignalingServer:max-clients:
   *
   * How many clients may be connected at once; 0 for no limit. One
   * more gets a `server-full` error and close code 1013.
   */
  properties[PROP_MAX_CLIENTS] =
    new_limit_pspec ("max-clients",
                     N_("Most clients connected at once, 0 for no limit"),
                     0, DEFAULT_MAX_CLIENTS);

  /**
   * SignalingServer:max-message-size:
   *
   * The largest message accepted, in bytes; 0 for no limit. A larger
   * one gets a `too-large` error and close code 1009.
   */
  properties[PROP_MAX_MESSAGE_SIZE] =
    new_limit_pspec ("max-message-size",
                     N_("Largest message in bytes, 0 for no limit"),
                     0, DEFAULT_MAX_MESSAGE_SIZE);

  /**
   * SignalingServer:max-rooms-per-client:
   *
   * How many rooms one client may be in; 0 for no limit.
   */
  properties[PROP_MAX_ROOMS_PER_CLIENT] =
    new_limit_pspec ("max-rooms-per-client",
                     N_("Most rooms one client may join, 0 for no limit"),
                     0, DEFAULT_MAX_ROOMS_PER_CLIENT);

  /**
   * SignalingServer:max-room-members:
   *
   * How many clients one room may hold; 0 for no limit.
   */
  properties[PROP_MAX_ROOM_MEMBERS] =
    new_limit_pspec ("max-room-members",
                     N_("Most members of one room, 0 for no limit"),
                     0, DEFAULT_MAX_ROOM_MEMBERS);

  /**
   * SignalingServer:rate-limit:
   *
   * Sustained messages per second one client may send; 0 for no limit.
   * Messages beyond it are dropped; the first of them gets a
   * `rate-limited` error, the others none. A client that has more than
   * #SignalingServer:rate-burst (or a second's worth, if more) of its
   * messages dropped without slowing down is closed with 1008 (native)
   * or disconnected (Socket.IO).
   */
  properties[PROP_RATE_LIMIT] =
    g_param_spec_double ("rate-limit", NULL,
                         N_("Messages per second one client may send, 0 for no limit"),
                         0, G_MAXDOUBLE, DEFAULT_RATE_LIMIT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:rate-burst:
   *
   * How many messages a client may send at once above the rate limit,
   * for example its ICE candidates when a call starts.
   */
  properties[PROP_RATE_BURST] =
    new_limit_pspec ("rate-burst",
                     N_("Messages a client may send at once above the rate"),
                     1, DEFAULT_RATE_BURST);

  /**
   * SignalingServer:keepalive-interval:
   *
   * Seconds between WebSocket pings to each peer, so that dead
   * connections are found; 0 to never ping.
   */
  properties[PROP_KEEPALIVE_INTERVAL] =
    new_limit_pspec ("keepalive-interval",
                     N_("Seconds between WebSocket pings, 0 to never ping"),
                     0, DEFAULT_KEEPALIVE_INTERVAL);

  /**
   * SignalingServer:max-send-queue:
   *
   * Most bytes a peer may leave unread before it is disconnected
   * (WebSocket close 1008, or the end of its Engine.IO session); 0 for
   * no limit. Without it, a peer that stops reading would make the
   * server buffer everything sent to it.
   */
  properties[PROP_MAX_SEND_QUEUE] =
    new_limit_pspec ("max-send-queue",
                     N_("Bytes a client may leave unread before it is disconnected, 0 for no limit"),
                     0, DEFAULT_MAX_SEND_QUEUE);

  /**
   * SignalingServer:request-timeout:
   *
   * Seconds a new connection has to send its HTTP request (the
   * WebSocket handshake, or a long-polling request) before it is
   * dropped; 0 for no limit. As Node's `headersTimeout`, it keeps
   * peers that connect and say nothing from holding descriptors.
   */
  properties[PROP_REQUEST_TIMEOUT] =
    new_limit_pspec ("request-timeout",
                     N_("Seconds a new connection has to send its request, 0 for no limit"),
                     0, DEFAULT_REQUEST_TIMEOUT);

  /**
   * SignalingServer:max-pending-connections:
   *
   * How many connections may be waiting at once for their HTTP request
   * to arrive, and separately how many Engine.IO sessions may be
   * waiting for their first request after the handshake; 0 for no
   * limit. One more drops the oldest of them: those that hold a
   * connection or a session without using it cannot then lock real
   * clients out, which refusing newcomers would let them do.
   */
  properties[PROP_MAX_PENDING_CONNECTIONS] =
    new_limit_pspec ("max-pending-connections",
                     N_("Most connections (and unpolled Socket.IO sessions) waiting for a request; the oldest goes first, 0 for no limit"),
                     0, DEFAULT_MAX_PENDING_CONNECTIONS);

  /**
   * SignalingServer:client-script-dir:
   *
   * A folder holding the Socket.IO client bundles (the `dist` folder
   * of the socket.io-client package), served at
   * `/socket.io/socket.io.js` and its variants as socket.io's
   * `serveClient` does, for pages that load the client from the
   * signaling server. %NULL to serve none.
   */
  properties[PROP_CLIENT_SCRIPT_DIR] =
    g_param_spec_string ("client-script-dir", NULL,
                         N_("Serve the Socket.IO client bundles (socket.io.js…) from this socket.io-client dist folder"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:demo-dir:
   *
   * A folder holding the demo page (`index.html`, `demo.js`, `demo.css`,
   * installed as `DATADIR/signalbox/demo`), served at `/`: a WebRTC call
   * between two browser tabs through the native protocol. %NULL or
   * empty to serve none, which is the library's default; the signalbox
   * daemon serves the installed page unless told `--no-demo`.
   */
  properties[PROP_DEMO_DIR] =
    g_param_spec_string ("demo-dir", NULL,
                         N_("Serve the demo page at / from this folder (default: the installed page; empty for none)"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:ice-servers:
   *
   * STUN/TURN URLs offered to every peer, each as `{"urls":URL}` in its
   * ICE servers (native `welcome.iceServers`, the Socket.IO `ice_servers`
   * event, `/ice-servers`), before its TURN credentials if any.
   */
  properties[PROP_ICE_SERVERS] =
    g_param_spec_boxed ("ice-servers", NULL,
                        N_("STUN/TURN URL offered to clients; repeat for several"),
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:allowed-origins:
   *
   * The `Origin`s browsers may connect from; %NULL, empty or `*`
   * allows any. Clients that send no `Origin` (not browsers) are
   * always allowed.
   */
  properties[PROP_ALLOWED_ORIGINS] =
    g_param_spec_boxed ("allowed-origins", NULL,
                        N_("Origin browsers may connect from; repeat for several (default: any)"),
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:ping-interval:
   *
   * Milliseconds between Engine.IO pings to Socket.IO clients
   * (`pingInterval`, 25000 as in socket.io).
   */
  properties[PROP_PING_INTERVAL] =
    g_param_spec_uint ("ping-interval", NULL,
                       N_("Milliseconds between Socket.IO pings"),
                       1, G_MAXINT, 25000,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:ping-timeout:
   *
   * Milliseconds a Socket.IO client has to answer a ping
   * (`pingTimeout`, 20000 as in socket.io).
   */
  properties[PROP_PING_TIMEOUT] =
    g_param_spec_uint ("ping-timeout", NULL,
                       N_("Milliseconds a Socket.IO client has to answer a ping"),
                       1, G_MAXINT, 20000,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:max-payload:
   *
   * Largest Engine.IO payload from a Socket.IO client, in bytes
   * (`maxPayload`, 1000000 as in socket.io).
   */
  properties[PROP_MAX_PAYLOAD] =
    g_param_spec_uint ("max-payload", NULL,
                       N_("Largest Socket.IO payload in bytes"),
                       1, G_MAXINT, 1000000,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:auth-secret-file:
   *
   * A file of HS256 secrets, one a line, that peers' tokens (JWT) are
   * checked with: every connection then needs a token whose `sub`
   * becomes its id. The first secret is the one `signalboxctl token`
   * signs with; all are accepted, for rotation. The file must not be
   * readable by other users. Read when the server starts listening and
   * by [method@Signaling.Server.reload] (SIGHUP). %NULL: no tokens.
   */
  properties[PROP_AUTH_SECRET_FILE] =
    g_param_spec_string ("auth-secret-file", NULL,
                         N_("Require signed tokens (JWT, HS256) checked with the secrets of this file, one a line"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:auth-public-key:
   *
   * A PEM public key that RS256 or ES256 tokens are checked with,
   * beside or instead of #SignalingServer:auth-secret-file.
   */
  properties[PROP_AUTH_PUBLIC_KEY] =
    g_param_spec_string ("auth-public-key", NULL,
                         N_("Require signed tokens (JWT, RS256/ES256) checked with this PEM public key"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:auth-audience:
   *
   * What a token's `aud` claim must name, when it has one. A token
   * with `aud` is refused when this is unset.
   */
  properties[PROP_AUTH_AUDIENCE] =
    g_param_spec_string ("auth-audience", NULL,
                         N_("The audience a token’s “aud” claim must name when it has one"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:turn-secret-file:
   *
   * A file of TURN REST secrets (coturn's `static-auth-secret`), one a
   * line, the first signing: with #SignalingServer:turn-uris, every
   * peer gets TURN credentials of its own among its ICE servers.
   */
  properties[PROP_TURN_SECRET_FILE] =
    g_param_spec_string ("turn-secret-file", NULL,
                         N_("Hand out TURN credentials (coturn’s use-auth-secret) made with the first secret of this file"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:turn-uris:
   *
   * The TURN URIs (`turn:host:3478?transport=udp`, `turns:…`) the
   * credentials are for.
   */
  properties[PROP_TURN_URIS] =
    g_param_spec_boxed ("turn-uris", NULL,
                        N_("TURN URI the credentials are for; repeat for several"),
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:turn-ttl:
   *
   * Seconds TURN credentials stay valid after they are handed out.
   */
  properties[PROP_TURN_TTL] =
    g_param_spec_uint ("turn-ttl", NULL,
                       N_("Seconds TURN credentials stay valid"),
                       1, G_MAXINT, SIGNALING_TURN_DEFAULT_TTL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:reuse-port:
   *
   * Whether the sockets the server binds share their port with other
   * processes that ask for the same (`SO_REUSEPORT`): the kernel then
   * spreads new connections among them, for example the nodes of a
   * cluster on one host.
   */
  properties[PROP_REUSE_PORT] =
    g_param_spec_boolean ("reuse-port", NULL,
                          N_("Share the port with other signalbox processes (SO_REUSEPORT), for a cluster on one host"),
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:redis:
   *
   * The Redis (or Valkey) server through which several signalbox
   * processes and hosts act as one service:
   * `redis://[:password@]host[:port][/db]` or `unix:///path`. %NULL
   * for one process alone. Read when the server starts listening.
   */
  properties[PROP_REDIS] =
    g_param_spec_string ("redis", NULL,
                         N_("Act as one service with the other signalbox processes using this Redis: redis://[:password@]host:port/db or unix:///path"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:redis-password-file:
   *
   * A file holding the Redis password (its first line), so that the
   * secret is in neither the command line nor the configuration.
   */
  properties[PROP_REDIS_PASSWORD_FILE] =
    g_param_spec_string ("redis-password-file", NULL,
                         N_("Read the Redis password from this file"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:node-id:
   *
   * This process's name in a cluster, unique among its nodes; a random
   * one unless set.
   */
  properties[PROP_NODE_ID] =
    g_param_spec_string ("node-id", NULL,
                         N_("This process's id in a cluster (default: a random one)"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:cluster-timeout:
   *
   * Seconds within which the peers of a cluster node that stopped
   * answering (killed, cut off) leave their rooms on every other node.
   */
  properties[PROP_CLUSTER_TIMEOUT] =
    new_limit_pspec ("cluster-timeout",
                     N_("Seconds after which the peers of a silent cluster node leave everywhere"),
                     1, DEFAULT_CLUSTER_TIMEOUT);

  /**
   * SignalingServer:cluster-state:
   *
   * `off` for a server alone; in a cluster (#SignalingServer:redis),
   * `connecting`, `connected` or `disconnected` (from Redis: peers here
   * still signal each other, the other nodes' are out of reach until
   * the server has reconnected).
   */
  properties[PROP_CLUSTER_STATE] =
    g_param_spec_string ("cluster-state", NULL, NULL, "off",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:cluster-nodes:
   *
   * The ids of the cluster's nodes this server knows of, its own
   * included; empty for a server alone.
   */
  properties[PROP_CLUSTER_NODES] =
    g_param_spec_boxed ("cluster-nodes", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:metrics-allow:
   *
   * The addresses and networks (`192.0.2.7`, `10.0.0.0/8`, `fd00::/8`)
   * whose requests to `/metrics` are answered; others get 403 Forbidden.
   * %NULL or empty allows loopback only. An entry that is neither an
   * address nor a network is refused with a warning, and the list is
   * left as it was.
   */
  properties[PROP_METRICS_ALLOW] =
    g_param_spec_boxed ("metrics-allow", NULL,
                        N_("Address or network (CIDR) that may read /metrics; repeat for several (default: loopback only)"),
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:client-count:
   *
   * How many clients are connected.
   */
  properties[PROP_CLIENT_COUNT] =
    g_param_spec_uint ("client-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:room-count:
   *
   * How many rooms exist.
   */
  properties[PROP_ROOM_COUNT] =
    g_param_spec_uint ("room-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:started-at:
   *
   * When the server was created.
   */
  properties[PROP_STARTED_AT] =
    g_param_spec_boxed ("started-at", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:tls-certificate:
   *
   * A PEM file with the certificate (and its chain) to serve TLS with:
   * then every listening socket serves `https://` and `wss://` only.
   * The key is read from [property@Signaling.Server:tls-key], or from
   * this file if that is %NULL. Read when the server starts listening,
   * and again by [method@Signaling.Server.reload]. %NULL for plain
   * HTTP.
   */
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_string ("tls-certificate", NULL,
                         N_("Serve https:// and wss:// with this PEM certificate (and chain); reloaded on SIGHUP"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:tls-key:
   *
   * The PEM file with the private key of
   * [property@Signaling.Server:tls-certificate]; %NULL if that file
   * holds the key too.
   */
  properties[PROP_TLS_KEY] =
    g_param_spec_string ("tls-key", NULL,
                         N_("The PEM private key of tls-certificate, if not in the same file; reloaded on SIGHUP"),
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:max-clients-per-address:
   *
   * How many clients may be connected at once from one address (an
   * IPv4 address or an IPv6 /64); 0 for no limit. One more is refused
   * with HTTP 429 before its WebSocket upgrade or Engine.IO handshake.
   * Loopback counts like any address: see
   * [property@Signaling.Server:exempt-addresses].
   */
  properties[PROP_MAX_CLIENTS_PER_ADDRESS] =
    new_limit_pspec ("max-clients-per-address",
                     N_("Most clients connected at once from one address (IPv6: one /64), 0 for no limit"),
                     0, 0);

  /**
   * SignalingServer:connect-rate-per-address:
   *
   * How many new clients a second one address may connect, as a token
   * bucket holding a second's worth (at least one); 0 for no limit.
   * Over it, HTTP 429 before the upgrade or handshake.
   */
  properties[PROP_CONNECT_RATE_PER_ADDRESS] =
    g_param_spec_double ("connect-rate-per-address", NULL,
                         N_("New clients per second one address may connect (IPv6: one /64), 0 for no limit"),
                         0, G_MAXDOUBLE, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:exempt-addresses:
   *
   * Addresses or networks (`127.0.0.1`, `10.0.0.0/8`, `::1`) that the
   * per-address limits do not apply to, such as a reverse proxy that
   * all clients come through.
   */
  properties[PROP_EXEMPT_ADDRESSES] =
    g_param_spec_boxed ("exempt-addresses", NULL,
                        N_("Address or network (10.0.0.0/8) exempt from the per-address limits; repeat for several"),
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingServer:resume-window:
   *
   * How long, in seconds, a native peer whose connection dropped (it
   * broke without a close frame) keeps its id and rooms for a
   * new connection to `/ws?resume=TOKEN`, and a Socket.IO client whose
   * transport broke keeps them for a reconnect with its `pid`
   * (Connection State Recovery); others see it leave only when the
   * window ends. 0 ends every session with its connection.
   */
  properties[PROP_RESUME_WINDOW] =
    new_limit_pspec ("resume-window",
                     N_("Seconds a dropped peer keeps its id and rooms for a resume, 0 for none"),
                     0, DEFAULT_RESUME_WINDOW);

  /**
   * SignalingServer:resume-buffer:
   *
   * How many bytes of messages are kept for a dropped peer until
   * it resumes; past them its session ends as if the window had.
   */
  properties[PROP_RESUME_BUFFER] =
    new_limit_pspec ("resume-buffer",
                     N_("Bytes of messages kept for a dropped peer until it resumes"),
                     0, DEFAULT_RESUME_BUFFER);

  /**
   * SignalingServer:recovery-offsets:
   *
   * Whether Socket.IO events carry socket.io's recovery offset, a
   * string after their arguments, as socket.io 4.6+ sends with
   * Connection State Recovery on. A recovering socket.io-client then
   * names the last event it got, and is sent what came after it,
   * including what a transport that had already died swallowed.
   * Off by default: the seed servers send no offset, and clients
   * without recovery (python-socketio 5) would pass the extra
   * argument to every handler.
   */
  properties[PROP_RECOVERY_OFFSETS] =
    g_param_spec_boolean ("recovery-offsets", NULL,
                          N_("Append socket.io's recovery offset to every Socket.IO event"),
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
  mark_settings ();

  /**
   * SignalingServer::client-connected:
   * @self: the server
   * @client: the new client
   *
   * Emitted when a peer has connected and been given its id.
   */
  signals[SIGNAL_CLIENT_CONNECTED] =
    g_signal_new ("client-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_CLIENT);

  /**
   * SignalingServer::client-disconnected:
   * @self: the server
   * @client: the client that left
   * @reason: why, for logs
   *
   * Emitted when a peer has gone, after it has left all its rooms.
   */
  signals[SIGNAL_CLIENT_DISCONNECTED] =
    g_signal_new ("client-disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, SIGNALING_TYPE_CLIENT, G_TYPE_STRING);

  /**
   * SignalingServer::room-added:
   * @self: the server
   * @room: the new room
   *
   * Emitted when the first member joins a room.
   */
  signals[SIGNAL_ROOM_ADDED] =
    g_signal_new ("room-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_ROOM);

  /**
   * SignalingServer::room-removed:
   * @self: the server
   * @room: the room
   *
   * Emitted when the last member has left a room.
   */
  signals[SIGNAL_ROOM_REMOVED] =
    g_signal_new ("room-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_ROOM);

  ensure_public_types ();
}

static void
on_native_websocket (SoupServerMessage  *msg,
                     SignalingWebsocket *websocket,
                     gpointer            user_data)
{
  SignalingServer *self = user_data;

  signaling_native_connection_accept (self->router, self->resumes, msg, websocket);
}

/* Why a new Socket.IO client would be turned away now, if it would. */
static char *
socketio_refusal (SignalingServer *self)
{
  g_autoptr(GError) error = NULL;

  if (self->stopping)
    return g_strdup (_("Server shutting down"));
  if (!signaling_router_check_capacity (self->router, &error))
    return g_strdup (error->message);
  return NULL;
}

/* A full server answers a polling handshake with 503 before any
 * session exists, rather than a session that ends at its CONNECT. */
static char *
on_refuse_handshake (SignalingEngineioServer *engineio,
                     SignalingServer         *self)
{
  return socketio_refusal (self);
}

/* WebSocket sessions (and polling ones that raced past the handshake)
 * hear it as a Socket.IO CONNECT_ERROR, which socket.io-client shows
 * as a `connect_error` with our message. */
static char *
on_refuse_connect (SignalingSocketioServer *socketio,
                   const char              *nsp,
                   SignalingServer         *self)
{
  return socketio_refusal (self);
}

/* The cluster's part of /healthz. */
static void
add_cluster_health (SignalingServer *self,
                    JsonBuilder     *builder)
{
#ifdef HAVE_REDIS
  SignalingCluster *cluster = (SignalingCluster *) self->cluster;
  g_auto(GStrv) nodes = NULL;

  if (cluster == NULL)
    return;

  nodes = signaling_cluster_dup_nodes (cluster);
  json_builder_set_member_name (builder, "cluster");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "node");
  json_builder_add_string_value (builder, signaling_cluster_get_node_id (cluster));
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, signaling_cluster_get_state (cluster));
  json_builder_set_member_name (builder, "nodes");
  json_builder_begin_array (builder);
  for (gsize i = 0; nodes[i] != NULL; i++)
    json_builder_add_string_value (builder, nodes[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
#endif
}

static void
add_metrics (GString  *out,
             gpointer  user_data)
{
  SignalingServer *self = user_data;

  signaling_metrics_render (self->router, out);
}

/* What only the relay knows, for /healthz. */
static void
add_health (JsonBuilder *builder,
            gpointer     user_data)
{
  SignalingServer *self = user_data;

  json_builder_set_member_name (builder, "clients");
  json_builder_add_int_value (builder, signaling_server_get_client_count (self));
  json_builder_set_member_name (builder, "rooms");
  json_builder_add_int_value (builder, signaling_server_get_room_count (self));
  json_builder_set_member_name (builder, "waitingForResume");
  json_builder_add_int_value (builder, signaling_resume_table_get_waiting (self->resumes));
  json_builder_set_member_name (builder, "resumed");
  json_builder_add_int_value (builder, signaling_server_get_sessions_resumed (self));
  json_builder_set_member_name (builder, "resumeFailed");
  json_builder_add_int_value (builder, signaling_server_get_resumes_failed (self));
  add_cluster_health (self, builder);
}

/* With tokens on, a Socket.IO client is who the token of its CONNECT
 * payload (`io(url, {auth: {token}})`) says, or else the token of the
 * request that opened its session (`?token=`, `Authorization`), which
 * the HTTP edge has checked already. Neither: `connect_error` with
 * `unauthorized`. */
static char *
check_socket_token (SignalingServer         *self,
                    SignalingSocketioSocket *socket)
{
  g_autoptr(SignalingIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *auth = signaling_socketio_socket_peek_auth (socket);
  JsonNode *token = NULL;

  if (!signaling_token_verifier_is_enabled (self->verifier))
    return NULL;

  if (auth != NULL && JSON_NODE_HOLDS_OBJECT (auth))
    token = json_object_get_member (json_node_get_object (auth), "token");

  if (token != NULL)
    {
      if (JSON_NODE_HOLDS_VALUE (token) && json_node_get_value_type (token) == G_TYPE_STRING)
        identity = signaling_token_verifier_verify (self->verifier, json_node_get_string (token),
                                                    g_get_real_time () / G_USEC_PER_SEC, &error);
    }
  else
    {
      SignalingIdentity *found = signaling_identity_lookup (signaling_socketio_socket_get_engine (socket));

      identity = found != NULL ? g_object_ref (found) : NULL;
    }

  if (identity == NULL)
    {
      g_debug ("Refusing a Socket.IO client: %s", error != NULL ? error->message : "no token");
      return g_strdup ("unauthorized");
    }

  signaling_identity_attach (identity, socket);
  return NULL;
}

/* The last step before the CONNECT reply, which carries the socket's
 * id and pid: a socket that is let in is also matched with the one it
 * recovers (Connection State Recovery), after its token named its peer. */
static char *
on_refuse_socket (SignalingSocketioServer *socketio,
                  SignalingSocketioSocket *socket,
                  SignalingServer         *self)
{
  char *refusal = check_socket_token (self, socket);

  if (refusal == NULL)
    signaling_socketio_connection_prepare (self->router, self->resumes, socket);
  return refusal;
}

static JsonNode *
build_ice_servers (const char *id,
                   gpointer    user_data)
{
  SignalingServer *self = user_data;

  return signaling_router_build_ice_servers (self->router, id);
}

static void
on_socketio_connection (SignalingSocketioNamespace *namespace,
                        SignalingSocketioSocket    *socket,
                        SignalingServer            *self)
{
  signaling_socketio_connection_accept (self->router, socket);
}

static void on_client_connected    (SignalingRouter *router,
                                    SignalingClient *client,
                                    SignalingServer *self);
static void on_client_disconnected (SignalingRouter *router,
                                    SignalingClient *client,
                                    const char      *reason,
                                    SignalingServer *self);
static void on_room_added          (SignalingRouter *router,
                                    SignalingRoom   *room,
                                    SignalingServer *self);
static void on_room_removed        (SignalingRouter *router,
                                    SignalingRoom   *room,
                                    SignalingServer *self);

/* A refusal is a rejection like server-full's: counted with them (and
 * apart, as connections-refused), and published on D-Bus alike. */
static void
on_address_refused (SignalingAddressLimiter *limiter,
                    const char              *key,
                    SignalingServer         *self)
{
  signaling_router_count_rejected (self->router, SIGNALING_ERROR_SERVER_FULL);
}

static void
signaling_server_init (SignalingServer *self)
{
  SignalingSocketioNamespace *main_namespace;

  self->router = signaling_router_new ();
  self->limits = signaling_router_get_limits (self->router);
  self->resumes = signaling_resume_table_new ();
  signaling_router_set_reclaim_func (self->router, (SignalingRouterReclaimFunc) signaling_resume_table_end_oldest,
                                     self->resumes);
  g_signal_connect_object (self->router, "client-connected", G_CALLBACK (on_client_connected), self, 0);
  g_signal_connect_object (self->router, "client-disconnected", G_CALLBACK (on_client_disconnected), self, 0);
  g_signal_connect_object (self->router, "room-added", G_CALLBACK (on_room_added), self, 0);
  g_signal_connect_object (self->router, "room-removed", G_CALLBACK (on_room_removed), self, 0);
  self->started_at = g_date_time_new_now_utc ();
  self->verifier = signaling_token_verifier_new ();
  self->turn = signaling_turn_credentials_new ();
  signaling_router_set_turn_credentials (self->router, self->turn);
  self->node_id = g_strdup_printf ("%08x%04x", g_random_int (), g_random_int () & 0xffff);

  /* Our WebSockets (signaling-websocket.c) offer no permessage-deflate:
   * signaling messages are small, and a zlib stream pair per connection
   * costs far more CPU and memory than it saves (socket.io's server
   * does not compress by default either). */
  self->soup_server = soup_server_new ("server-header", "signalbox/" SIGNALING_VERSION " ", NULL);
  self->listener = signaling_listener_new (self->soup_server);
  self->acceptor = signaling_listener_get_acceptor (self->listener);
  self->edge = signaling_http_edge_new (self->soup_server, self->acceptor);
  self->address_limiter = signaling_http_edge_get_address_limiter (self->edge);
  g_signal_connect_object (self->address_limiter, "refused", G_CALLBACK (on_address_refused), self, 0);
  signaling_http_edge_limit_connects (self->edge, NATIVE_PATH, FALSE);
  signaling_http_edge_limit_connects (self->edge, SOCKETIO_PATH, TRUE);
  signaling_http_edge_serve_health (self->edge, HEALTH_PATH, add_health, self);
  signaling_http_edge_set_token_verifier (self->edge, self->verifier);
  signaling_http_edge_serve_metrics (self->edge, METRICS_PATH, add_metrics, self);
  signaling_http_edge_serve_demo (self->edge);
  signaling_http_edge_serve_websocket (self->edge, NATIVE_PATH, on_native_websocket, self);
  signaling_http_edge_serve_ice_servers (self->edge, ICE_SERVERS_PATH, build_ice_servers, self);

  /* Socket.IO clients of both seed servers, on the default namespace. */
  self->engineio = signaling_engineio_server_new ();
  signaling_engineio_server_attach (self->engineio, self->soup_server, SOCKETIO_PATH);
  signaling_http_edge_limit_bodies (self->edge, SOCKETIO_PATH, G_OBJECT (self->engineio), "max-payload");
  signaling_http_edge_guard_sessions (self->edge, SOCKETIO_PATH);
  signaling_http_edge_serve_client_scripts (self->edge, SOCKETIO_PATH);
  self->socketio = signaling_socketio_server_new (self->engineio);
  main_namespace = signaling_socketio_server_add_namespace (self->socketio, "/");
  g_signal_connect_object (self->engineio, "refuse-handshake", G_CALLBACK (on_refuse_handshake), self, 0);
  g_signal_connect_object (self->socketio, "refuse-connect", G_CALLBACK (on_refuse_connect), self, 0);
  g_signal_connect_object (self->socketio, "refuse-socket", G_CALLBACK (on_refuse_socket), self, 0);
  g_signal_connect_object (main_namespace, "connection", G_CALLBACK (on_socketio_connection), self, 0);
}

/**
 * signaling_server_get_socketio_server:
 * @self: a server
 *
 * Gets the Socket.IO server at `/socket.io/`, for an application to add
 * its own namespaces or to handle events of the default namespace that
 * the seed vocabularies do not use.
 *
 * Returns: (transfer none): the Socket.IO server
 */
SignalingSocketioServer *
signaling_server_get_socketio_server (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return self->socketio;
}

/**
 * signaling_server_new:
 *
 * Creates a server that does not listen yet: call
 * [method@Signaling.Server.listen] or [method@Signaling.Server.listen_socket].
 *
 * Returns: (transfer full): a new server
 */
SignalingServer *
signaling_server_new (void)
{
  return g_object_new (SIGNALING_TYPE_SERVER, NULL);
}

/* TURN URIs without a secret, or a secret without URIs, would hand
 * out nothing: a mistake to point out at start rather than a silence. */
static gboolean
check_turn (SignalingServer  *self,
            GError          **error)
{
  gboolean has_uris = signaling_turn_credentials_get_uris (self->turn) != NULL;
  gboolean has_secret = signaling_turn_credentials_get_secret_file (self->turn) != NULL;

  if (has_uris == has_secret)
    return TRUE;

  g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                       has_uris ? _("turn-uri needs turn-secret-file")
                                : _("turn-secret-file needs at least one turn-uri"));
  return FALSE;
}

/* Reads the secret files set since they were last read, so that a
 * bad one stops the server from listening rather than letting peers
 * in unchecked. */
static gboolean
ensure_secrets (SignalingServer  *self,
                GError          **error)
{
  if (!check_turn (self, error))
    return FALSE;
  if (signaling_token_verifier_is_enabled (self->verifier) &&
      !signaling_token_verifier_is_loaded (self->verifier) &&
      !signaling_token_verifier_reload (self->verifier, error))
    return FALSE;
  if (!signaling_turn_credentials_is_loaded (self->turn) &&
      !signaling_turn_credentials_reload (self->turn, error))
    return FALSE;
  return TRUE;
}

/* Reads the secret files again; each part keeps what it had when its
 * file cannot be used. */
static gboolean
reload_secrets (SignalingServer  *self,
                GError          **error)
{
  if (!check_turn (self, error))
    return FALSE;
  if (!signaling_token_verifier_reload (self->verifier, error))
    return FALSE;
  return signaling_turn_credentials_reload (self->turn, error);
}

#ifdef HAVE_REDIS
static char *
read_redis_password (SignalingServer  *self,
                     GError          **error)
{
  g_autofree char *contents = NULL;

  if (self->redis_password_file == NULL)
    return NULL;
  if (!g_file_get_contents (self->redis_password_file, &contents, NULL, error))
    return NULL;
  /* The first line, as echo and editors leave it. */
  contents[strcspn (contents, "\r\n")] = '\0';
  return g_steal_pointer (&contents);
}

static void
on_cluster_state (GObject         *cluster,
                  GParamSpec      *pspec,
                  SignalingServer *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLUSTER_STATE]);
}

static void
on_cluster_nodes (GObject         *cluster,
                  GParamSpec      *pspec,
                  SignalingServer *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLUSTER_NODES]);
}
#endif

const char *
signaling_server_get_cluster_state (SignalingServer *self)
{
#ifdef HAVE_REDIS
  if (self->cluster != NULL)
    return signaling_cluster_get_state ((SignalingCluster *) self->cluster);
#endif
  return "off";
}

/* Returns: (transfer full): the nodes' ids, empty for a server alone */
char **
signaling_server_dup_cluster_nodes (SignalingServer *self)
{
#ifdef HAVE_REDIS
  if (self->cluster != NULL)
    return signaling_cluster_dup_nodes ((SignalingCluster *) self->cluster);
#endif
  return g_new0 (char *, 1);
}

/* Returns: (nullable): this server's id in its cluster, NULL alone */
const char *
signaling_server_get_cluster_node_id (SignalingServer *self)
{
  return self->cluster != NULL ? self->node_id : NULL;
}

/*
 * signaling_server_dup_cluster_clients:
 *
 * Returns: (transfer full): a floating GVariant `a(sssas)`: every peer
 *   of the cluster (of this server alone, if none) with its id, node,
 *   protocol and rooms
 */
GVariant *
signaling_server_dup_cluster_clients (SignalingServer *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sssas)"));
  g_autoptr(GPtrArray) clients = signaling_server_get_clients (self);
  const char *node = self->cluster != NULL ? self->node_id : "";

  for (guint i = 0; i < clients->len; i++)
    {
      SignalingClient *client = g_ptr_array_index (clients, i);
      g_auto(GStrv) rooms = signaling_client_dup_rooms (client);

      g_variant_builder_add (&builder, "(sss^as)", signaling_client_get_id (client), node,
                             signaling_client_get_protocol (client) ?: "", rooms);
    }

#ifdef HAVE_REDIS
  if (self->cluster != NULL)
    {
      g_autoptr(GPtrArray) remote = signaling_cluster_dup_remote_peers ((SignalingCluster *) self->cluster);

      for (guint i = 0; i < remote->len; i++)
        g_variant_builder_add_value (&builder, g_ptr_array_index (remote, i));
    }
#endif

  return g_variant_builder_end (&builder);
}

#ifdef HAVE_REDIS
static gboolean
forward_polling (SoupServerMessage *msg,
                 const char        *node,
                 gpointer           user_data)
{
  SignalingServer *self = user_data;

  return self->cluster != NULL &&
         signaling_cluster_forward ((SignalingCluster *) self->cluster, msg, node);
}
#endif

/* Joins the cluster of SignalingServer:redis, once, before the server
 * takes its first peer. */
static gboolean
start_cluster (SignalingServer  *self,
               GError          **error)
{
#ifdef HAVE_REDIS
  g_autofree char *password = NULL;
  g_autofree char *forward_address = NULL;
  g_autoptr(GError) local_error = NULL;
  guint private_port = 0;
#endif

  if (self->cluster != NULL || self->redis_url == NULL || self->redis_url[0] == '\0')
    return TRUE;

#ifdef HAVE_REDIS
  password = read_redis_password (self, &local_error);
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  _("Cannot read the Redis password: "));
      return FALSE;
    }

  self->cluster = (GObject *) signaling_cluster_new (self->router, self->redis_url, password,
                                                     self->node_id, self->cluster_timeout, error);
  if (self->cluster == NULL)
    return FALSE;

  /* Socket.IO sessions name this node, and the polling requests of
   * other nodes' sessions go to them; ours come in on a private
   * loopback listener. */
  if (!signaling_listener_listen_loopback (self->listener, &private_port, error))
    return FALSE;
  forward_address = g_strdup_printf ("%s://127.0.0.1:%u", self->tls_certificate != NULL ? "https" : "http",
                                     private_port);
  signaling_cluster_set_forward_address ((SignalingCluster *) self->cluster, forward_address);
  signaling_engineio_server_set_node (self->engineio, self->node_id, forward_polling, self);
  g_signal_connect_object (self->cluster, "notify::state", G_CALLBACK (on_cluster_state), self, 0);
  g_signal_connect_object (self->cluster, "notify::nodes", G_CALLBACK (on_cluster_nodes), self, 0);
  signaling_cluster_start ((SignalingCluster *) self->cluster);
  /* A resume may land on another node than its session. */
  signaling_resume_table_set_remote (self->resumes, SIGNALING_REMOTE (self->cluster));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLUSTER_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLUSTER_NODES]);
  return TRUE;
#else
  g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
               _("This signalbox was built without Redis support (meson option redis)"));
  return FALSE;
#endif
}

/*
 * signaling_server_get_cluster:
 *
 * Returns: (transfer none) (nullable): the SignalingCluster, once the
 *   server listens as a node of one
 */
GObject *
signaling_server_get_cluster (SignalingServer *self)
{
  return self->cluster;
}

/* Reads the certificate and key the properties name, and serves with
 * them from now on; on error, what was served before stays. */
static gboolean
load_tls (SignalingServer  *self,
          GError          **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->tls_certificate_file == NULL)
    {
      if (self->tls_key_file != NULL)
        {
          g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                       _("A TLS key needs its certificate (tls-certificate)"));
          return FALSE;
        }
      if (self->tls_certificate != NULL)
        {
          /* Listeners stay as they were made: a plain socket of
           * libsoup's cannot become a TLS one. */
          g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                       _("TLS cannot be turned off while serving"));
          return FALSE;
        }
      return TRUE;
    }

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                   _("TLS is not available: GIO has no TLS backend (install glib-networking)"));
      return FALSE;
    }

  certificate = self->tls_key_file != NULL
    ? g_tls_certificate_new_from_files (self->tls_certificate_file, self->tls_key_file, &local_error)
    : g_tls_certificate_new_from_file (self->tls_certificate_file, &local_error);
  if (certificate == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  _("Cannot read the TLS certificate %s and its key %s: "),
                                  self->tls_certificate_file,
                                  self->tls_key_file != NULL ? self->tls_key_file : self->tls_certificate_file);
      return FALSE;
    }

  g_set_object (&self->tls_certificate, certificate);
  signaling_listener_set_tls_certificate (self->listener, certificate);
  return TRUE;
}

/* Before the first socket: all of them serve alike. */
static gboolean
ensure_tls (SignalingServer  *self,
            GError          **error)
{
  if (self->tls_certificate != NULL)
    return TRUE;
  return load_tls (self, error);
}

/**
 * signaling_server_reload:
 * @self: a server
 * @error: return location for a #GError
 *
 * Takes what may change while the server runs, without dropping a
 * connection: first the settings the function given to
 * [method@Signaling.Server.set_reload_func] sets (the signalbox daemon
 * reads its configuration file again), then the TLS certificate and
 * key, from the files [property@Signaling.Server:tls-certificate] and
 * [property@Signaling.Server:tls-key] name now (new connections are
 * served with them; those already open keep theirs), then the secrets
 * of signed tokens and TURN credentials, from
 * [property@Signaling.Server:auth-secret-file],
 * [property@Signaling.Server:auth-public-key] and
 * [property@Signaling.Server:turn-secret-file]. The signalbox daemon
 * calls this on `SIGHUP` and for the D-Bus method `Reload`.
 *
 * On error the part that failed, and those after it, go on with what
 * they had (the reload function changes nothing when it fails; then
 * the TLS certificate, then the token secrets, then the TURN secrets),
 * and @error says why.
 *
 * Returns: %TRUE on success
 */
gboolean
signaling_server_reload (SignalingServer  *self,
                         GError          **error)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->reload_func != NULL && !self->reload_func (self, self->reload_data, error))
    return FALSE;

  return load_tls (self, error) && reload_secrets (self, error);
}

/**
 * signaling_server_set_reload_func:
 * @self: a server
 * @func: (nullable) (scope notified) (closure user_data): what to call
 *   first on each reload, or %NULL
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when @func is replaced
 *
 * Sets what [method@Signaling.Server.reload] calls for new settings
 * before it reads the TLS files again, whoever asked for the reload
 * (a signal, the D-Bus method `Reload`).
 */
void
signaling_server_set_reload_func (SignalingServer          *self,
                                  SignalingServerReloadFunc func,
                                  gpointer                  user_data,
                                  GDestroyNotify            destroy)
{
  g_return_if_fail (SIGNALING_IS_SERVER (self));

  if (self->reload_destroy != NULL)
    self->reload_destroy (self->reload_data);
  self->reload_func = func;
  self->reload_data = user_data;
  self->reload_destroy = destroy;
}

/**
 * signaling_server_listen:
 * @self: a server
 * @address: (nullable): an IP address to listen on, or %NULL for all
 *   interfaces (IPv4 and IPv6)
 * @port: a TCP port, or 0 to pick a free one
 * @error: return location for a #GError
 *
 * Starts listening. May be called several times, for several addresses.
 *
 * Returns: %TRUE on success
 */
gboolean
signaling_server_listen (SignalingServer  *self,
                         const char       *address,
                         guint             port,
                         GError          **error)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);

  if (!ensure_tls (self, error) || !ensure_secrets (self, error))
    return FALSE;
  return start_cluster (self, error) &&
         signaling_listener_listen (self->listener, address, port, error);
}

/**
 * signaling_server_listen_socket:
 * @self: a server
 * @socket: a bound, listening socket, for example one passed by systemd
 * @error: return location for a #GError
 *
 * Starts serving on an existing socket.
 *
 * Returns: %TRUE on success
 */
gboolean
signaling_server_listen_socket (SignalingServer  *self,
                                GSocket          *socket,
                                GError          **error)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);

  if (!ensure_tls (self, error) || !ensure_secrets (self, error))
    return FALSE;
  return start_cluster (self, error) &&
         signaling_listener_add_socket (self->listener, socket, error);
}

/**
 * signaling_server_get_uris:
 * @self: a server
 *
 * Gets the base URIs the server listens on.
 *
 * Returns: (transfer full) (element-type GUri): the base URIs the server
 *   listens on
 */
GSList *
signaling_server_get_uris (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return signaling_listener_dup_uris (self->listener);
}

/**
 * signaling_server_get_port:
 * @self: a server
 *
 * Gets the port of the first listening socket, handy after listening on
 * port 0.
 *
 * Returns: a TCP port, or 0 when not listening
 */
guint
signaling_server_get_port (SignalingServer *self)
{
  GSList *uris = signaling_server_get_uris (self);
  guint port = 0;

  if (uris != NULL)
    port = g_uri_get_port (uris->data);

  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

/**
 * signaling_server_dup_listen_addresses:
 * @self: a server
 *
 * Gets the listening addresses as `host:port` (IPv6 hosts in brackets).
 *
 * Returns: (transfer full): the listening addresses as `host:port`
 *   (IPv6 hosts in brackets)
 */
char **
signaling_server_dup_listen_addresses (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return signaling_listener_dup_addresses (self->listener);
}

/**
 * signaling_server_get_soup_server:
 * @self: a server
 *
 * Gets the HTTP server underneath, for an application to add its own
 * handlers beside the signaling ones.
 *
 * Returns: (transfer none): the #SoupServer
 */
SoupServer *
signaling_server_get_soup_server (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return self->soup_server;
}

static gboolean
close_acceptor (gpointer user_data)
{
  SignalingServer *self = user_data;

  self->close_acceptor_source = 0;
  signaling_listener_close (self->listener);
  return G_SOURCE_REMOVE;
}

static void
close_acceptor_when_drained (SignalingEngineioServer *engineio,
                             GParamSpec              *pspec,
                             SignalingServer         *self)
{
  if (signaling_engineio_server_get_n_sockets (engineio) > 0)
    return;

  g_signal_handlers_disconnect_by_func (engineio, close_acceptor_when_drained, self);
  /* The last session may end inside a request the acceptor is still
   * handing over: close the listeners after it has returned. */
  if (self->close_acceptor_source == 0)
    self->close_acceptor_source = g_idle_add (close_acceptor, self);
}

/**
 * signaling_server_shutdown:
 * @self: a server
 *
 * Turns new peers away and closes every peer: native ones with close
 * code 1001 (going away), Socket.IO ones with a DISCONNECT and an
 * Engine.IO close packet. Peers leave the server as their close
 * handshakes finish; watch [property@Signaling.Server:client-count],
 * and the [property@Signaling.EngineioServer:n-sockets] of the
 * Socket.IO server's engine, to know when all have gone. The server
 * stops listening once the last Engine.IO session is gone: a polling
 * client needs a new connection to fetch its goodbye.
 */
void
signaling_server_shutdown (SignalingServer *self)
{
  g_return_if_fail (SIGNALING_IS_SERVER (self));

  if (self->stopping)
    return;
  self->stopping = TRUE;
  signaling_http_edge_set_closing (self->edge);

  close_all_clients (self, CLOSE_GOING_AWAY, _("Server shutting down"));
  signaling_engineio_server_close_all (self->engineio, "server shutting down");

  /* Established connections stay, so that the close handshakes can
   * complete; new ones are refused as soon as no session waits. */
  g_signal_connect_object (self->engineio, "notify::n-sockets",
                           G_CALLBACK (close_acceptor_when_drained), self, 0);
  close_acceptor_when_drained (self->engineio, NULL, self);
}

/**
 * signaling_server_lookup_client:
 * @self: a server
 * @id: a client id
 *
 * Looks up a connected client by its id.
 *
 * Returns: (transfer none) (nullable): the client, or %NULL
 */
SignalingClient *
signaling_server_lookup_client (SignalingServer *self,
                                const char      *id)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  return signaling_router_lookup_client (self->router, id);
}

/**
 * signaling_server_lookup_room:
 * @self: a server
 * @name: a room name
 *
 * Looks up a room by its name.
 *
 * Returns: (transfer none) (nullable): the room, or %NULL
 */
SignalingRoom *
signaling_server_lookup_room (SignalingServer *self,
                              const char      *name)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return signaling_router_lookup_room (self->router, name);
}

static GPtrArray *
hash_table_values (GHashTable *table)
{
  GPtrArray *values = g_ptr_array_new_full (g_hash_table_size (table), g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (values, g_object_ref (value));

  return values;
}

/**
 * signaling_server_get_clients:
 * @self: a server
 *
 * Gets the connected clients.
 *
 * Returns: (transfer container) (element-type SignalingClient): the
 *   connected clients
 */
GPtrArray *
signaling_server_get_clients (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return hash_table_values (signaling_router_get_clients (self->router));
}

/**
 * signaling_server_get_rooms:
 * @self: a server
 *
 * Gets the rooms.
 *
 * Returns: (transfer container) (element-type SignalingRoom): the rooms
 */
GPtrArray *
signaling_server_get_rooms (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return hash_table_values (signaling_router_get_rooms (self->router));
}

/**
 * signaling_server_get_client_count:
 * @self: a server
 *
 * Counts the connected clients.
 *
 * Returns: how many clients are connected
 */
guint
signaling_server_get_client_count (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return self->router != NULL ? g_hash_table_size (signaling_router_get_clients (self->router)) : 0;
}

/**
 * signaling_server_get_room_count:
 * @self: a server
 *
 * Counts the rooms.
 *
 * Returns: how many rooms exist
 */
guint
signaling_server_get_room_count (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return self->router != NULL ? g_hash_table_size (signaling_router_get_rooms (self->router)) : 0;
}

/**
 * signaling_server_get_started_at:
 * @self: a server
 *
 * Gets when the server was created.
 *
 * Returns: (transfer none): when the server was created
 */
GDateTime *
signaling_server_get_started_at (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), NULL);
  return self->started_at;
}

/**
 * signaling_server_get_messages_relayed:
 * @self: a server
 *
 * Counts the messages delivered to peers.
 *
 * Returns: how many messages were delivered to peers (a message to a
 *   room of three counts twice)
 */
guint64
signaling_server_get_messages_relayed (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return self->router != NULL ? signaling_router_get_messages_relayed (self->router) : 0;
}

/**
 * signaling_server_get_bytes_relayed:
 * @self: a server
 *
 * Counts the bytes of relayed messages sent to peers.
 *
 * Returns: how many bytes of relayed messages were sent to peers
 */
guint64
signaling_server_get_bytes_relayed (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return self->router != NULL ? signaling_router_get_bytes_relayed (self->router) : 0;
}

/**
 * signaling_server_get_messages_rejected:
 * @self: a server
 *
 * Counts the client messages answered with an error or dropped.
 *
 * Returns: how many client messages were answered with an error
 */
guint64
signaling_server_get_messages_rejected (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return self->router != NULL ? signaling_router_get_messages_rejected (self->router) : 0;
}

/**
 * signaling_server_get_connections_refused:
 * @self: a server
 *
 * Counts the new clients refused, with HTTP 429, by the per-address
 * limits.
 *
 * Returns: how many new clients the per-address limits
 *   ([property@Signaling.Server:max-clients-per-address],
 *   [property@Signaling.Server:connect-rate-per-address]) refused
 */
guint64
signaling_server_get_connections_refused (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return self->address_limiter != NULL ? signaling_address_limiter_get_refused (self->address_limiter) : 0;
}

/**
 * signaling_server_disconnect_client:
 * @self: a server
 * @id: a client id
 * @reason: (nullable): a short reason shown to the peer
 * @error: return location for a [error@Signaling.Error]
 *
 * Closes a peer's connection with close code 4000.
 *
 * Returns: %TRUE on success, %FALSE with %SIGNALING_ERROR_UNKNOWN_CLIENT
 *   when no client has that id
 */
gboolean
signaling_server_disconnect_client (SignalingServer  *self,
                                    const char       *id,
                                    const char       *reason,
                                    GError          **error)
{
  SignalingClient *client;

  g_return_val_if_fail (SIGNALING_IS_SERVER (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  client = signaling_router_lookup_client (self->router, id);
  if (client == NULL)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_CLIENT,
                   _("No client with id “%s” is connected"), id);
      return FALSE;
    }

  signaling_client_disconnect (client, 4000, reason);
  return TRUE;
}

/**
 * signaling_server_get_sessions_resumed:
 * @self: a server
 *
 * Gets how many native sessions were resumed: a new connection to
 * `/ws?resume=TOKEN` took over a session with its id and rooms.
 *
 * Returns: the count since the server started
 */
guint64
signaling_server_get_sessions_resumed (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return signaling_resume_table_get_resumed (self->resumes);
}

/**
 * signaling_server_get_resumes_failed:
 * @self: a server
 *
 * Gets how many resume tokens resumed nothing (forged, already used,
 * or their session had ended); each got a `resume-failed` error and a
 * new session.
 *
 * Returns: the count since the server started
 */
guint64
signaling_server_get_resumes_failed (SignalingServer *self)
{
  g_return_val_if_fail (SIGNALING_IS_SERVER (self), 0);
  return signaling_resume_table_get_failed (self->resumes);
}

const SignalingLimits *
signaling_server_get_limits (SignalingServer *self)
{
  return self->limits;
}

SignalingRouter *
signaling_server_get_router (SignalingServer *self)
{
  return self->router;
}

void
signaling_server_set_activity_func (SignalingServer *self,
                                    GSourceFunc      func,
                                    gpointer         data)
{
  /* The exporter lets go in its dispose, which may come after ours. */
  if (self->router != NULL)
    signaling_router_set_activity_func (self->router, func, data);
}

void
signaling_server_set_client_changed_func (SignalingServer            *self,
                                          SignalingClientChangedFunc  func,
                                          gpointer                    data)
{
  if (self->router != NULL)
    signaling_router_set_client_changed_func (self->router, func, data);
}

/* The router's signals, forwarded as ours, with the counts they move. */

static void
on_client_connected (SignalingRouter *router,
                     SignalingClient *client,
                     SignalingServer *self)
{
  if (self->address_limiter != NULL)
    signaling_address_limiter_add_client (self->address_limiter, signaling_client_get_remote_address (client));
  g_signal_emit (self, signals[SIGNAL_CLIENT_CONNECTED], 0, client);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT_COUNT]);
}

static void
on_client_disconnected (SignalingRouter *router,
                        SignalingClient *client,
                        const char      *reason,
                        SignalingServer *self)
{
  if (self->address_limiter != NULL)
    signaling_address_limiter_remove_client (self->address_limiter, signaling_client_get_remote_address (client));
  g_signal_emit (self, signals[SIGNAL_CLIENT_DISCONNECTED], 0, client, reason);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT_COUNT]);
}

static void
on_room_added (SignalingRouter *router,
               SignalingRoom   *room,
               SignalingServer *self)
{
  g_signal_emit (self, signals[SIGNAL_ROOM_ADDED], 0, room);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM_COUNT]);
}

static void
on_room_removed (SignalingRouter *router,
                 SignalingRoom   *room,
                 SignalingServer *self)
{
  g_signal_emit (self, signals[SIGNAL_ROOM_REMOVED], 0, room);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM_COUNT]);
}
