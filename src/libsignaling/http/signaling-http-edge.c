/* signaling-http-edge.c: what every HTTP request meets first
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-http"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "signaling-http-edge-private.h"
#include "signaling-json-private.h"
#include "signaling-util-private.h"
#include "signaling-version.h"

/*
 * SignalingHttpEdge:
 *
 * The HTTP rules every path shares, whichever dialect serves it: the
 * origin rule, request-body limits, the Socket.IO client scripts, the
 * demo page, `/healthz` and `/metrics`. Dialects register their paths;
 * the edge never calls back into the server, only into the functions
 * it was given.
 */
struct _SignalingHttpEdge
{
  GObject parent_instance;

  SoupServer *soup_server;     /* weak: our owner owns it */
  GPtrArray *paths;            /* char *, where we added handlers */
  SignalingAcceptor *acceptor; /* unowned, nullable: plain libsoup */
  char **allowed_origins;
  char *client_script_dir;
  char *demo_dir;              /* NULL or empty: no demo page */
  guint64 max_body_size;       /* paths without a rule; 0 for none */
  GPtrArray *body_rules;       /* BodyRule * */
  gboolean closing;
  SignalingAddressLimiter *limiter;
  GPtrArray *connect_rules;    /* ConnectRule * */

  SignalingHttpHealthFunc health_func;
  gpointer health_data;
  SignalingHttpMetricsFunc metrics_func;
  gpointer metrics_data;
  char **metrics_allow;        /* as given; NULL: loopback only */
  GPtrArray *metrics_masks;    /* GInetAddressMask *, parsed from it */
  gint64 started_at_monotonic;
  gulong request_started_id;
};

G_DEFINE_FINAL_TYPE (SignalingHttpEdge, signaling_http_edge, G_TYPE_OBJECT)

/* The origin rule.
 *
 * With no allow-list (or `*` in it) any origin is served. With one, a
 * listed `Origin` is served and an unlisted one refused; a request
 * without `Origin` is served. Browsers always send `Origin` on
 * WebSocket upgrades and on cross-origin requests, so a page from a
 * foreign site cannot leave it out; the clients that send none are not
 * browsers (socket.io-client in Node, python-socketio, native apps),
 * which no `Origin` check could stop anyway, as they can send any
 * value. socket.io's cors, the `ws` verifyClient examples and
 * nextcloud-spreed-signaling decide the same. */

gboolean
signaling_http_origins_allow_any (const char * const *allowed_origins)
{
  return allowed_origins == NULL || allowed_origins[0] == NULL ||
         g_strv_contains (allowed_origins, "*");
}

gboolean
signaling_http_origin_allowed (const char * const *allowed_origins,
                               const char         *origin)
{
  if (origin == NULL || signaling_http_origins_allow_any (allowed_origins))
    return TRUE;
  return g_strv_contains (allowed_origins, origin);
}

/* Request bodies.
 *
 * libsoup reads a whole request body into memory before any handler
 * sees it, whatever its size, and on any path, served or not: one
 * client posting a gigabyte would take a gigabyte. So every body is
 * bounded: an Engine.IO payload by its max-payload, a WebSocket path
 * and `/healthz` take none, and any other path (a 404, or a path an
 * application added) takes up to max-message-size. Past that the
 * answer is 413 at once, without reading the rest (see
 * signaling_acceptor_refuse()). */

typedef struct
{
  char *path;
  gboolean prefix;      /* path and everything under it */
  GObject *owner;       /* weak; NULL: no body at all */
  const char *property; /* a guint property of owner: the limit */
} BodyRule;

static void
body_rule_free (BodyRule *rule)
{
  g_clear_weak_pointer (&rule->owner);
  g_free (rule->path);
  g_free (rule);
}

static void
add_body_rule (SignalingHttpEdge *self,
               const char        *path,
               gboolean           prefix,
               GObject           *owner,
               const char        *property)
{
  BodyRule *rule = g_new0 (BodyRule, 1);

  rule->path = g_strdup (path);
  rule->prefix = prefix;
  g_set_weak_pointer (&rule->owner, owner);
  rule->property = property;
  g_ptr_array_add (self->body_rules, rule);
}

static gboolean
body_rule_matches (BodyRule   *rule,
                   const char *path)
{
  return rule->prefix ? g_str_has_prefix (path, rule->path) : g_str_equal (path, rule->path);
}

static guint64
body_limit_for (SignalingHttpEdge *self,
                SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  for (guint i = 0; i < self->body_rules->len; i++)
    {
      BodyRule *rule = g_ptr_array_index (self->body_rules, i);
      guint limit = 0;

      if (!body_rule_matches (rule, path))
        continue;
      if (rule->owner != NULL)
        g_object_get (rule->owner, rule->property, &limit, NULL);
      return limit;
    }

  if (self->max_body_size == 0)
    return G_MAXUINT64;
  return self->max_body_size;
}

#define BODY_LIMIT_QUARK (g_quark_from_static_string ("signaling-body-limit"))
#define BODY_SEEN_QUARK (g_quark_from_static_string ("signaling-body-seen"))

static void
refuse_body (SignalingHttpEdge *self,
             SoupServerMessage *msg)
{
  SoupMessageBody *body;

  g_debug ("Refusing a request body over the limit from %s",
           soup_server_message_get_remote_host (msg));
  if (self->acceptor != NULL &&
      signaling_acceptor_refuse (self->acceptor, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE))
    return;

  /* Not a connection of ours: read the rest, but keep none of it. */
  body = soup_server_message_get_request_body (msg);
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  if (soup_server_message_get_status (msg) == 0)
    soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
}

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              SignalingHttpEdge *self)
{
  guint64 limit = GPOINTER_TO_SIZE (g_object_get_qdata (G_OBJECT (msg), BODY_LIMIT_QUARK));
  guint64 seen = GPOINTER_TO_SIZE (g_object_get_qdata (G_OBJECT (msg), BODY_SEEN_QUARK));

  /* Chunked bodies say their size only as they come. */
  seen += g_bytes_get_size (chunk);
  g_object_set_qdata (G_OBJECT (msg), BODY_SEEN_QUARK, GSIZE_TO_POINTER (seen));
  if (seen > limit)
    {
      /* Once: the fallback of refuse_body() goes on reading. */
      g_signal_handlers_disconnect_by_func (msg, on_got_chunk, self);
      refuse_body (self, msg);
    }
}

/* Per-address limits.
 *
 * A request that would make a new client (a WebSocket upgrade of the
 * native path, an Engine.IO handshake) is checked against the
 * per-address limits as soon as its headers are in, and refused with
 * 429 before any upgrade or session exists. Requests of an existing
 * Engine.IO session (with a `sid`) are not new clients. */

/* RFC 6585; libsoup 3.2 has no name for it. */
#define HTTP_TOO_MANY_REQUESTS 429

typedef struct
{
  char *path;
  gboolean engineio;  /* a prefix, and only handshakes count */
} ConnectRule;

static void
connect_rule_free (ConnectRule *rule)
{
  g_free (rule->path);
  g_free (rule);
}

/* An Engine.IO handshake names its transport and has no session yet;
 * other requests there (client scripts) are not connections. */
static gboolean
is_engineio_handshake (SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) params = NULL;

  if (query == NULL)
    return FALSE;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  return params != NULL && g_hash_table_contains (params, "transport") &&
         !g_hash_table_contains (params, "sid");
}

static gboolean
is_new_client (SignalingHttpEdge *self,
               SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  for (guint i = 0; i < self->connect_rules->len; i++)
    {
      ConnectRule *rule = g_ptr_array_index (self->connect_rules, i);

      if (!rule->engineio && strcmp (path, rule->path) == 0)
        return TRUE;
      if (rule->engineio && g_str_has_prefix (path, rule->path))
        return is_engineio_handshake (msg);
    }
  return FALSE;
}

/* Returns whether @msg was refused. */
static gboolean
refuse_over_address_limits (SignalingHttpEdge *self,
                            SoupServerMessage *msg)
{
  g_autofree char *reason = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  char *body;

  if (!is_new_client (self, msg) ||
      signaling_address_limiter_admit (self->limiter, soup_server_message_get_remote_host (msg), &reason))
    return FALSE;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "too-many-connections");
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, reason);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = signaling_json_to_string (root);

  /* A status set now keeps libsoup from calling the handler, and so
   * from upgrading. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
  soup_server_message_set_status (msg, HTTP_TOO_MANY_REQUESTS, "Too Many Requests");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
  return TRUE;
}

static void
on_got_headers (SoupServerMessage *msg,
                SignalingHttpEdge *self)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  guint64 limit;

  if (refuse_over_address_limits (self, msg))
    return;

  limit = body_limit_for (self, msg);

  if (limit == G_MAXUINT64)
    return;

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (headers) > limit)
    {
      refuse_body (self, msg);
      return;
    }

  g_object_set_qdata (G_OBJECT (msg), BODY_LIMIT_QUARK, GSIZE_TO_POINTER (limit));
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (on_got_chunk), self, 0);
}

static void
on_request_started (SoupServer        *soup_server,
                    SoupServerMessage *msg,
                    SignalingHttpEdge *self)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (on_got_headers), self, 0);
}

/* The Socket.IO client scripts, as socket.io's serveClient answers
 * them, for pages that load the client from the signaling server. */
static const char * const client_scripts[] = {
  "socket.io.js", "socket.io.min.js", "socket.io.esm.min.js", "socket.io.msgpack.min.js",
  "socket.io.js.map", "socket.io.min.js.map", "socket.io.esm.min.js.map", "socket.io.msgpack.min.js.map",
};

/* Answers @msg with the file @filename, straight from a mapping, with
 * an ETag from its time and size so that a reload costs a 304. */
static void
serve_file (SoupServerMessage *msg,
            const char        *filename,
            const char        *content_type)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autofree char *etag = NULL;
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf info;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      soup_message_headers_append (response, "Allow", "GET, HEAD");
      return;
    }

  file = g_mapped_file_new (filename, FALSE, &error);
  if (file == NULL || g_stat (filename, &info) != 0)
    {
      g_debug ("Cannot serve %s: %s", filename, error != NULL ? error->message : g_strerror (errno));
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  etag = g_strdup_printf ("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x\"",
                          (gint64) info.st_mtime, (gint64) info.st_size);
  soup_message_headers_replace (response, "ETag", etag);
  soup_message_headers_replace (response, "Cache-Control", "public, max-age=0");
  soup_message_headers_replace (response, "X-Content-Type-Options", "nosniff");
  if (g_strcmp0 (soup_message_headers_get_one (request, "If-None-Match"), etag) == 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
      return;
    }

  /* Straight from the mapping, without a copy. */
  contents = g_mapped_file_get_bytes (file);
  soup_message_headers_set_content_type (response, content_type, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), contents);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static void
on_client_script (SoupServer        *soup_server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  SignalingHttpEdge *self = user_data;
  const char *origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *filename = NULL;

  if (self->client_script_dir == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  /* Any origin may load it, as socket.io's own CORS answer says. */
  if (origin != NULL && signaling_http_origin_allowed (signaling_http_edge_get_allowed_origins (self), origin))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Access-Control-Allow-Origin", origin);

  filename = g_build_filename (self->client_script_dir, name, NULL);
  serve_file (msg, filename,
              g_str_has_suffix (name, ".map") ? "application/json; charset=utf-8"
                                              : "application/javascript; charset=utf-8");
}

/* The demo page's files: nothing else under `/` is served, so no path
 * a client sends ever names a file. */
static const struct {
  const char *path;
  const char *file;
  const char *content_type;
} demo_files[] = {
  { "/", "index.html", "text/html; charset=utf-8" },
  { "/index.html", "index.html", "text/html; charset=utf-8" },
  { "/demo.js", "demo.js", "text/javascript; charset=utf-8" },
  { "/demo.css", "demo.css", "text/css; charset=utf-8" },
};

/* What the demo's page may do: load its own files and open a
 * WebSocket to us, nothing from elsewhere. */
#define DEMO_CSP "default-src 'self'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; " \
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

static void
on_demo (SoupServer        *soup_server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  SignalingHttpEdge *self = user_data;

  if (self->demo_dir == NULL || self->demo_dir[0] == '\0')
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (demo_files); i++)
    {
      g_autofree char *filename = NULL;

      if (!g_str_equal (path, demo_files[i].path))
        continue;
      filename = g_build_filename (self->demo_dir, demo_files[i].file, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Content-Security-Policy", DEMO_CSP);
      serve_file (msg, filename, demo_files[i].content_type);
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
on_health (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  SignalingHttpEdge *self = user_data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  gint64 uptime = (g_get_monotonic_time () - self->started_at_monotonic) / G_USEC_PER_SEC;
  gsize length;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "ok");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, SIGNALING_VERSION);
  if (self->health_func != NULL)
    self->health_func (builder, self->health_data);
  json_builder_set_member_name (builder, "uptime");
  json_builder_add_int_value (builder, uptime);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  body = signaling_json_to_string (root);
  length = strlen (body);

  soup_message_headers_append (soup_server_message_get_response_headers (msg),
                               "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&body), length);
}

/* An IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d; the
 * allow-list speaks of it as a.b.c.d. */
static GInetAddress *
unmap_ipv4 (GInetAddress *address)
{
  const guint8 *bytes = g_inet_address_to_bytes (address);
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
      memcmp (bytes, prefix, sizeof prefix) == 0)
    return g_inet_address_new_from_bytes (bytes + sizeof prefix, G_SOCKET_FAMILY_IPV4);
  return g_object_ref (address);
}

/*
 * signaling_http_edge_metrics_allowed:
 * @address: a peer's address
 *
 * The metrics allow-list: with none, loopback peers only (the
 * exposition tells how busy the server is, which is nobody else's
 * business); with one, peers in one of its networks.
 */
gboolean
signaling_http_edge_metrics_allowed (SignalingHttpEdge *self,
                                     GInetAddress      *address)
{
  g_autoptr(GInetAddress) unmapped = unmap_ipv4 (address);

  if (self->metrics_masks == NULL)
    return g_inet_address_get_is_loopback (unmapped);

  for (guint i = 0; i < self->metrics_masks->len; i++)
    if (g_inet_address_mask_matches (g_ptr_array_index (self->metrics_masks, i), unmapped))
      return TRUE;
  return FALSE;
}

static GInetAddress *
remote_inet_address (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;
  return g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
}

static void
on_metrics (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SignalingHttpEdge *self = user_data;
  GInetAddress *address = remote_inet_address (msg);
  g_autoptr(GString) out = NULL;
  gsize length;

  if (address == NULL || !signaling_http_edge_metrics_allowed (self, address))
    {
      g_debug ("Refusing /metrics to %s", soup_server_message_get_remote_host (msg));
      soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      return;
    }

  out = g_string_new (NULL);
  self->metrics_func (out, self->metrics_data);
  length = out->len;
  soup_message_headers_append (soup_server_message_get_response_headers (msg),
                               "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE,
                                    g_string_free (g_steal_pointer (&out), FALSE), length);
}

/* Runs before the WebSocket upgrade on the same path: refusing here
 * gives browsers from foreign origins a plain 403 rather than a
 * connection that opens and closes. */
typedef struct
{
  SignalingHttpEdge *edge;
  SignalingWebsocketAcceptFunc func;
  gpointer user_data;
} WebsocketPath;

static void
on_websocket_handshake (SoupServer        *soup_server,
                        SoupServerMessage *msg,
                        const char        *path,
                        GHashTable        *query,
                        gpointer           user_data)
{
  WebsocketPath *websocket_path = user_data;
  SignalingHttpEdge *self = websocket_path->edge;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");

  if (!signaling_http_origin_allowed (signaling_http_edge_get_allowed_origins (self), origin))
    {
      g_debug ("Refusing WebSocket from origin %s", origin);
      soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
    }
  else if (signaling_http_has_body (msg))
    soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
  else if (self->closing)
    {
      /* We still listen while Socket.IO sessions say goodbye. */
      soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    }
  else
    signaling_websocket_upgrade (msg, FALSE, websocket_path->func, websocket_path->user_data);
}

static void
add_handler (SignalingHttpEdge *self,
             const char        *path,
             SoupServerCallback callback)
{
  soup_server_add_handler (self->soup_server, path, callback, self, NULL);
  g_ptr_array_add (self->paths, g_strdup (path));
}

static void
signaling_http_edge_dispose (GObject *object)
{
  SignalingHttpEdge *self = SIGNALING_HTTP_EDGE (object);

  /* Our handlers point at us; the SoupServer may outlive us. */
  if (self->soup_server != NULL)
    {
      g_clear_signal_handler (&self->request_started_id, self->soup_server);
      for (guint i = 0; i < self->paths->len; i++)
        soup_server_remove_handler (self->soup_server, g_ptr_array_index (self->paths, i));
    }
  g_ptr_array_set_size (self->paths, 0);
  g_clear_weak_pointer (&self->soup_server);

  G_OBJECT_CLASS (signaling_http_edge_parent_class)->dispose (object);
}

static void
signaling_http_edge_finalize (GObject *object)
{
  SignalingHttpEdge *self = SIGNALING_HTTP_EDGE (object);

  g_clear_pointer (&self->body_rules, g_ptr_array_unref);
  g_clear_pointer (&self->connect_rules, g_ptr_array_unref);
  g_clear_object (&self->limiter);
  g_clear_pointer (&self->paths, g_ptr_array_unref);
  g_clear_pointer (&self->allowed_origins, g_strfreev);
  g_clear_pointer (&self->client_script_dir, g_free);
  g_clear_pointer (&self->demo_dir, g_free);
  g_clear_pointer (&self->metrics_allow, g_strfreev);
  g_clear_pointer (&self->metrics_masks, g_ptr_array_unref);

  G_OBJECT_CLASS (signaling_http_edge_parent_class)->finalize (object);
}

static void
signaling_http_edge_class_init (SignalingHttpEdgeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_http_edge_dispose;
  object_class->finalize = signaling_http_edge_finalize;
}

static void
signaling_http_edge_init (SignalingHttpEdge *self)
{
  self->body_rules = g_ptr_array_new_with_free_func ((GDestroyNotify) body_rule_free);
  self->connect_rules = g_ptr_array_new_with_free_func ((GDestroyNotify) connect_rule_free);
  self->limiter = signaling_address_limiter_new ();
  self->paths = g_ptr_array_new_with_free_func (g_free);
  self->started_at_monotonic = g_get_monotonic_time ();
}

/*
 * signaling_http_edge_new:
 * @soup_server: the server whose requests to watch
 * @acceptor: (nullable): the acceptor of its connections, to refuse a
 *   body without reading it; %NULL when libsoup listens itself
 */
SignalingHttpEdge *
signaling_http_edge_new (SoupServer        *soup_server,
                         SignalingAcceptor *acceptor)
{
  SignalingHttpEdge *self = g_object_new (SIGNALING_TYPE_HTTP_EDGE, NULL);

  g_set_weak_pointer (&self->soup_server, soup_server);
  self->acceptor = acceptor;
  self->request_started_id = g_signal_connect (soup_server, "request-started",
                                               G_CALLBACK (on_request_started), self);
  return self;
}

void
signaling_http_edge_set_allowed_origins (SignalingHttpEdge  *self,
                                         const char * const *allowed_origins)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) allowed_origins);
}

const char * const *
signaling_http_edge_get_allowed_origins (SignalingHttpEdge *self)
{
  g_return_val_if_fail (SIGNALING_IS_HTTP_EDGE (self), NULL);
  return (const char * const *) self->allowed_origins;
}

/*
 * signaling_http_edge_set_max_body_size:
 * @max_body_size: the largest body of a path without its own rule; 0
 *   for no limit
 */
void
signaling_http_edge_set_max_body_size (SignalingHttpEdge *self,
                                       guint64            max_body_size)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));
  self->max_body_size = max_body_size;
}

/*
 * signaling_http_edge_limit_bodies:
 * @prefix: a path; the rule covers it and everything under it
 * @owner: the object whose @property (a guint, read at each request)
 *   is the limit; it may go away first
 */
void
signaling_http_edge_limit_bodies (SignalingHttpEdge *self,
                                  const char        *prefix,
                                  GObject           *owner,
                                  const char        *property)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));
  g_return_if_fail (G_IS_OBJECT (owner));
  g_return_if_fail (g_object_class_find_property (G_OBJECT_GET_CLASS (owner), property) != NULL);

  add_body_rule (self, prefix, TRUE, owner, property);
}

/* Serves the client scripts under @prefix (for example `/socket.io`)
 * from the client-script-dir, if one is set. */
void
signaling_http_edge_serve_client_scripts (SignalingHttpEdge *self,
                                          const char        *prefix)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  for (gsize i = 0; i < G_N_ELEMENTS (client_scripts); i++)
    {
      g_autofree char *path = g_strconcat (prefix, "/", client_scripts[i], NULL);

      add_handler (self, path, on_client_script);
    }
}

void
signaling_http_edge_set_client_script_dir (SignalingHttpEdge *self,
                                           const char        *dir)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  g_free (self->client_script_dir);
  self->client_script_dir = g_strdup (dir);
}

const char *
signaling_http_edge_get_client_script_dir (SignalingHttpEdge *self)
{
  g_return_val_if_fail (SIGNALING_IS_HTTP_EDGE (self), NULL);
  return self->client_script_dir;
}

/* Serves the demo page (index.html, demo.js, demo.css of the
 * demo-dir, if one is set) at `/`: libsoup hands `/` every path no
 * other handler has, which then get their 404 from on_demo(). */
void
signaling_http_edge_serve_demo (SignalingHttpEdge *self)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  add_handler (self, "/", on_demo);
}

void
signaling_http_edge_set_demo_dir (SignalingHttpEdge *self,
                                  const char        *dir)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  g_free (self->demo_dir);
  self->demo_dir = g_strdup (dir);
}

const char *
signaling_http_edge_get_demo_dir (SignalingHttpEdge *self)
{
  g_return_val_if_fail (SIGNALING_IS_HTTP_EDGE (self), NULL);
  return self->demo_dir;
}

/* Serves a small JSON health report at @path: status, version and
 * uptime, and what @func adds. It takes no request body. */
void
signaling_http_edge_serve_health (SignalingHttpEdge       *self,
                                  const char              *path,
                                  SignalingHttpHealthFunc  func,
                                  gpointer                 user_data)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  self->health_func = func;
  self->health_data = user_data;
  add_body_rule (self, path, FALSE, NULL, NULL);
  add_handler (self, path, on_health);
}

/* Serves what @func writes at @path, in Prometheus' text format, to the
 * addresses of the metrics allow-list; others get 403. It takes no
 * request body. */
void
signaling_http_edge_serve_metrics (SignalingHttpEdge        *self,
                                   const char               *path,
                                   SignalingHttpMetricsFunc  func,
                                   gpointer                  user_data)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  self->metrics_func = func;
  self->metrics_data = user_data;
  add_body_rule (self, path, FALSE, NULL, NULL);
  add_handler (self, path, on_metrics);
}

/*
 * signaling_http_edge_set_metrics_allow:
 * @allow: (nullable): addresses and networks (`10.0.0.0/8`, `::1`) that
 *   may read the metrics; %NULL or empty for loopback only
 *
 * Returns: %FALSE, with the list unchanged, if an entry is neither
 */
gboolean
signaling_http_edge_set_metrics_allow (SignalingHttpEdge   *self,
                                       const char * const  *allow,
                                       GError             **error)
{
  g_autoptr(GPtrArray) masks = NULL;

  g_return_val_if_fail (SIGNALING_IS_HTTP_EDGE (self), FALSE);

  if (allow != NULL && allow[0] != NULL)
    {
      masks = g_ptr_array_new_with_free_func (g_object_unref);
      for (gsize i = 0; allow[i] != NULL; i++)
        {
          GInetAddressMask *mask = g_inet_address_mask_new_from_string (allow[i], error);

          if (mask == NULL)
            return FALSE;
          g_ptr_array_add (masks, mask);
        }
    }

  g_strfreev (self->metrics_allow);
  self->metrics_allow = masks != NULL ? g_strdupv ((char **) allow) : NULL;
  g_clear_pointer (&self->metrics_masks, g_ptr_array_unref);
  self->metrics_masks = g_steal_pointer (&masks);
  return TRUE;
}

const char * const *
signaling_http_edge_get_metrics_allow (SignalingHttpEdge *self)
{
  g_return_val_if_fail (SIGNALING_IS_HTTP_EDGE (self), NULL);
  return (const char * const *) self->metrics_allow;
}

/* Serves WebSockets at @path: checks their handshakes (the origin
 * rule, no body, and no new peers once closing), answers them, and
 * hands each new WebSocket to @func. */
void
signaling_http_edge_serve_websocket (SignalingHttpEdge            *self,
                                     const char                   *path,
                                     SignalingWebsocketAcceptFunc  func,
                                     gpointer                      user_data)
{
  WebsocketPath *websocket_path;

  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  websocket_path = g_new (WebsocketPath, 1);
  websocket_path->edge = self;
  websocket_path->func = func;
  websocket_path->user_data = user_data;
  add_body_rule (self, path, FALSE, NULL, NULL);
  soup_server_add_handler (self->soup_server, path, on_websocket_handshake, websocket_path, g_free);
  g_ptr_array_add (self->paths, g_strdup (path));
}

/*
 * signaling_http_edge_limit_connects:
 * @path: a path where new clients connect
 * @engineio: whether @path is an Engine.IO prefix, where only
 *   handshakes make new clients
 *
 * Holds new clients at @path to the per-address limits (see
 * signaling_http_edge_get_address_limiter()).
 */
void
signaling_http_edge_limit_connects (SignalingHttpEdge *self,
                                    const char        *path,
                                    gboolean           engineio)
{
  ConnectRule *rule;

  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));

  rule = g_new0 (ConnectRule, 1);
  rule->path = g_strdup (path);
  rule->engineio = engineio;
  g_ptr_array_add (self->connect_rules, rule);
}

/*
 * signaling_http_edge_get_address_limiter:
 *
 * Returns: (transfer none): the per-address limits of new clients;
 *   whoever sees clients come and go tells it
 */
SignalingAddressLimiter *
signaling_http_edge_get_address_limiter (SignalingHttpEdge *self)
{
  g_return_val_if_fail (SIGNALING_IS_HTTP_EDGE (self), NULL);
  return self->limiter;
}

/* From now on, guarded WebSocket paths answer 503. */
void
signaling_http_edge_set_closing (SignalingHttpEdge *self)
{
  g_return_if_fail (SIGNALING_IS_HTTP_EDGE (self));
  self->closing = TRUE;
}
