/* test-http.c: the HTTP edge against hostile clients, over raw sockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>

#include "signaling-http-edge-private.h"
#include "test-utils.h"

typedef TestServerFixture Fixture;

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("Timed out after %d s waiting for an event", TEST_TIMEOUT_SECONDS);
  return G_SOURCE_REMOVE;
}

/* The peak resident set of this process (server and client both), in
 * KiB: a body the server keeps would show in it even once freed. */
static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

static GSocket *
connect_raw (SignalingServer *server)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, signaling_server_get_port (server));
  g_autoptr(GError) error = NULL;

  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

/* A client that sends a request head, then up to body_size bytes of
 * body (as chunks if chunked), and reads the answer; in a thread, as
 * the server runs on this thread's main loop. */
typedef struct {
  GSocket *socket;
  const char *head;
  gboolean chunked;
  gsize body_size;
  GString *response;
  gint done;
} RawRequest;

static gpointer
raw_request_thread (gpointer user_data)
{
  RawRequest *request = user_data;
  g_autofree char *block = g_malloc (64 * 1024);
  gsize sent = 0;
  char buffer[4096];
  gssize n;

  /* Never hang: a server that waits for the whole body answers
   * nothing, and the read below gives up. */
  g_socket_set_timeout (request->socket, TEST_TIMEOUT_SECONDS / 2);
  g_assert_cmpint (g_socket_send (request->socket, request->head, strlen (request->head), NULL, NULL),
                   ==, (gssize) strlen (request->head));

  memset (block, 'x', 64 * 1024);
  while (sent < request->body_size)
    {
      gsize size = MIN (64 * 1024, request->body_size - sent);

      if (request->chunked)
        {
          char size_line[32];

          g_snprintf (size_line, sizeof size_line, "%" G_GSIZE_MODIFIER "x\r\n", size);
          if (g_socket_send (request->socket, size_line, strlen (size_line), NULL, NULL) < 0)
            break;
        }
      /* Once the server has answered and stopped reading, sending
       * fails: that is fine, the answer is what counts. */
      if (g_socket_send (request->socket, block, size, NULL, NULL) < 0)
        break;
      if (request->chunked && g_socket_send (request->socket, "\r\n", 2, NULL, NULL) < 0)
        break;
      sent += size;
    }

  while ((n = g_socket_receive (request->socket, buffer, sizeof buffer, NULL, NULL)) > 0)
    g_string_append_len (request->response, buffer, n);

  g_atomic_int_set (&request->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* Returns the status line the server answered with ("" for none). */
static char *
send_raw_request (SignalingServer *server,
                  const char      *head,
                  gboolean         chunked,
                  gsize            body_size)
{
  g_autoptr(GSocket) socket = connect_raw (server);
  RawRequest request = { socket, head, chunked, body_size, g_string_new (NULL), 0 };
  g_autoptr(GThread) thread = g_thread_new ("raw-request", raw_request_thread, &request);
  guint timeout = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS * 2, on_timeout, NULL);
  char *end;

  while (!g_atomic_int_get (&request.done))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  g_thread_join (g_steal_pointer (&thread));

  end = strstr (request.response->str, "\r\n");
  if (end != NULL)
    g_string_truncate (request.response, end - request.response->str);
  return g_string_free (request.response, FALSE);
}

#define BIG_BODY (100 * 1024 * 1024)

/* A 100 MB body to a path nobody serves is refused by its
 * Content-Length, before it is read: 413, and memory does not grow by
 * the body (libsoup alone would read it all, then say 404). */
static void
test_body_content_length_any_path (Fixture       *fixture,
                                   gconstpointer  data)
{
  g_autofree char *head = g_strdup_printf ("POST /no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Content-Length: %u\r\n\r\n", BIG_BODY);
  guint64 peak_before;
  g_autofree char *status = NULL;

  if (test_skip_without_soup_workarounds ("libsoup reads the whole body before anyone can refuse it"))
    return;

  peak_before = peak_rss_kib ();
  status = send_raw_request (fixture->server, head, FALSE, BIG_BODY);
  g_assert_cmpstr (status, ==, "HTTP/1.1 413 Request Entity Too Large");
  g_assert_cmpuint (peak_rss_kib () - peak_before, <, 32 * 1024);
}

/* A chunked body says nothing of its size: it is refused once the
 * chunks read pass the limit, with an answer, not a reset. */
static void
test_body_chunked_any_path (Fixture       *fixture,
                            gconstpointer  data)
{
  const char *head = "POST /no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n";
  g_autofree char *status = NULL;

  if (test_skip_without_soup_workarounds ("libsoup reads the whole body before anyone can refuse it"))
    return;

  status = send_raw_request (fixture->server, head, TRUE, 8 * 1024 * 1024);
  g_assert_cmpstr (status, ==, "HTTP/1.1 413 Request Entity Too Large");
}

/* Any method, and our own paths too. */
static void
test_body_own_paths (Fixture       *fixture,
                     gconstpointer  data)
{
  static const char * const heads[] = {
    "PUT /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n",
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n",
    "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n",
  };

  if (test_skip_without_soup_workarounds ("libsoup waits for the whole body before anyone can refuse it"))
    return;

  for (gsize i = 0; i < G_N_ELEMENTS (heads); i++)
    {
      g_autofree char *status = send_raw_request (fixture->server, heads[i], FALSE, 0);

      g_assert_cmpstr (status, ==, "HTTP/1.1 413 Request Entity Too Large");
    }
}

static gboolean
on_readable (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  guint *n_readable = user_data;

  (*n_readable)++;
  return G_SOURCE_REMOVE;
}

/* Waits until each of @sockets has something to read (or has ended). */
static void
wait_readable (GPtrArray *sockets)
{
  guint n_readable = 0;
  guint timeout = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS, on_timeout, NULL);

  for (guint i = 0; i < sockets->len; i++)
    {
      g_autoptr(GSource) source = g_socket_create_source (g_ptr_array_index (sockets, i), G_IO_IN | G_IO_HUP, NULL);

      g_source_set_callback (source, (GSourceFunc) (GCallback) on_readable, &n_readable, NULL);
      g_source_attach (source, NULL);
    }
  while (n_readable < sockets->len)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
}

static void
assert_dropped (GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  char buffer[16];
  gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

  /* End of stream, and no HTTP response: the server just let go. */
  if (n < 0)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  else
    g_assert_cmpint (n, ==, 0);
}

#define MAX_PENDING 8
#define N_SILENT 40

/* Connections that never send a request are bounded: past
 * max-pending-connections the oldest go, the newest stay, and real
 * clients are served all along. */
static void
test_pending_connections (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) silent = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) dropped = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(TestClient) client = NULL;
  g_autoptr(JsonObject) pong = NULL;
  g_autofree char *url = test_server_get_url (fixture->server, "http", "/healthz");

  if (test_skip_without_soup_workarounds ("only the acceptor bounds connections waiting for their request"))
    return;

  g_object_set (fixture->server, "max-pending-connections", MAX_PENDING, NULL);
  for (guint i = 0; i < N_SILENT; i++)
    g_ptr_array_add (silent, connect_raw (fixture->server));

  /* All but the newest MAX_PENDING are let go. */
  dropped = g_ptr_array_new_full (N_SILENT - MAX_PENDING, NULL);
  for (guint i = 0; i < N_SILENT - MAX_PENDING; i++)
    g_ptr_array_add (dropped, g_ptr_array_index (silent, i));
  wait_readable (dropped);
  for (guint i = 0; i < dropped->len; i++)
    assert_dropped (g_ptr_array_index (dropped, i));

  /* Someone who talks gets through, over HTTP and WebSocket. */
  msg = soup_message_new ("GET", url);
  body = test_send_and_read (session, msg);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  client = test_client_connect (fixture->server);
  test_client_send (client, "{\"type\":\"ping\"}");
  pong = test_client_expect (client, "pong");

  /* The newest silent ones that the two real clients did not push out
   * are still there. */
  for (guint i = N_SILENT - MAX_PENDING + 2; i < N_SILENT; i++)
    g_assert_cmpint (g_socket_condition_check (g_ptr_array_index (silent, i), G_IO_IN | G_IO_HUP), ==, 0);
}

static guint64
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

#define N_SMALL 2000

/* Below the limit, a connection that has said nothing yet costs little:
 * libsoup only gets it (and spends some 14 KiB on it) once it talks. */
static void
test_pending_connections_small (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GPtrArray) silent = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *url = test_server_get_url (fixture->server, "http", "/healthz");
  guint64 before;

  if (test_skip_without_soup_workarounds ("only the acceptor bounds connections waiting for their request"))
    return;

  g_object_set (fixture->server, "max-pending-connections", 0, NULL);
  before = rss_kib ();
  for (guint i = 0; i < N_SMALL; i++)
    {
      g_ptr_array_add (silent, connect_raw (fixture->server));
      /* Let the server accept, or the listen backlog fills up. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }

  /* Accepted in order: once this is answered, all of them are in. */
  msg = soup_message_new ("GET", url);
  body = test_send_and_read (session, msg);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);

  /* Sanitizer builds take about 6 KiB; libsoup alone some 17. Under
   * valgrind (meson test --setup=valgrind) every block has redzones and
   * shadow memory of its own, which says nothing of ours. */
  if (g_getenv ("SIGNALBOX_TEST_VALGRIND") == NULL)
    g_assert_cmpuint (rss_kib () - before, <, N_SMALL * 8);
  for (guint i = 0; i < N_SMALL; i++)
    g_assert_cmpint (g_socket_condition_check (g_ptr_array_index (silent, i), G_IO_IN | G_IO_HUP), ==, 0);
}

static char *
polling_handshake (SoupSession     *session,
                   SignalingServer *server)
{
  g_autofree char *url = test_server_get_url (server, "http", "/socket.io/?EIO=4&transport=polling");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = test_send_and_read (session, msg);
  g_autoptr(JsonNode) open = NULL;
  const char *text = g_bytes_get_data (body, NULL);

  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  g_assert_cmpint (text[0], ==, '0');
  open = json_from_string (text + 1, NULL);
  g_assert_nonnull (open);
  return g_strdup (json_object_get_string_member (json_node_get_object (open), "sid"));
}

static guint
post_to_session (SoupSession     *session,
                 SignalingServer *server,
                 const char      *sid,
                 const char      *payload)
{
  g_autofree char *path = g_strdup_printf ("/socket.io/?EIO=4&transport=polling&sid=%s", sid);
  g_autofree char *url = test_server_get_url (server, "http", path);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) request = g_bytes_new (payload, strlen (payload));
  g_autoptr(GBytes) body = NULL;

  soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8", request);
  body = test_send_and_read (session, msg);
  return soup_message_get_status (msg);
}

static SignalingEngineioServer *
get_engine (SignalingServer *server)
{
  return signaling_socketio_server_get_engine (signaling_server_get_socketio_server (server));
}

#define N_HANDSHAKES 20

/* Engine.IO handshakes never followed by a request are bounded the same
 * way: the oldest unused sessions are closed, sessions in use stay. */
static void
test_pending_sessions (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GPtrArray) sids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *used = NULL;

  g_object_set (fixture->server, "max-pending-connections", MAX_PENDING, NULL);

  /* One session in use: it has connected to Socket.IO. */
  used = polling_handshake (session, fixture->server);
  g_assert_cmpuint (post_to_session (session, fixture->server, used, "40"), ==, SOUP_STATUS_OK);

  for (guint i = 0; i < N_HANDSHAKES; i++)
    g_ptr_array_add (sids, polling_handshake (session, fixture->server));

  g_assert_cmpuint (signaling_engineio_server_get_n_sockets (get_engine (fixture->server)), ==, MAX_PENDING + 1);
  /* The oldest are gone, the newest and the used one are there. */
  g_assert_cmpuint (post_to_session (session, fixture->server, g_ptr_array_index (sids, 0), "40"),
                    ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpuint (post_to_session (session, fixture->server, g_ptr_array_index (sids, N_HANDSHAKES - 1), "40"),
                    ==, SOUP_STATUS_OK);
  g_assert_cmpuint (post_to_session (session, fixture->server, used, "40"), ==, SOUP_STATUS_OK);
}

typedef struct {
  SignalingServer *server;
  gboolean gone;
} SessionWatch;

static gboolean
on_check_sessions (gpointer user_data)
{
  SessionWatch *watch = user_data;

  watch->gone = signaling_engineio_server_get_n_sockets (get_engine (watch->server)) == 0;
  return watch->gone ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* And those below the limit end when their first ping goes unanswered
 * (pingInterval + pingTimeout), as with engine.io. */
static void
test_pending_sessions_expire (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  SessionWatch watch = { fixture->server, FALSE };

  g_object_set (fixture->server, "ping-interval", 100, "ping-timeout", 100, NULL);
  for (guint i = 0; i < 3; i++)
    g_free (polling_handshake (session, fixture->server));
  g_assert_cmpuint (signaling_engineio_server_get_n_sockets (get_engine (fixture->server)), ==, 3);

  g_timeout_add (50, on_check_sessions, &watch);
  test_run_until (&watch.gone);
}

/* The origin rule, on every path.
 *
 * With an allow-list, a listed Origin is served, an unlisted one gets
 * 403, and a request without Origin is served: only browsers send one,
 * and the check exists to keep foreign web pages out, not non-browser
 * clients (socket.io-client in Node, python-socketio, native apps). */

#define LISTED "https://a.example"
#define UNLISTED "https://b.example"
#define ENGINEIO_PATH "/engine.io"

typedef struct {
  SoupWebsocketConnection *websocket;
  gboolean done;
} UpgradeData;

static void
on_upgraded (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  UpgradeData *data = user_data;

  data->websocket = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, NULL);
  data->done = TRUE;
}

/* The status a WebSocket upgrade of path gets from origin (NULL: none). */
static guint
upgrade_status (SignalingServer *server,
                const char      *path,
                const char      *origin)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = test_server_get_url (server, "ws", path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  UpgradeData data = { 0 };

  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT,
                                        NULL, on_upgraded, &data);
  test_run_until (&data.done);
  if (data.websocket != NULL)
    {
      soup_websocket_connection_close (data.websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (data.websocket);
    }
  return soup_message_get_status (msg);
}

/* The status of a plain request; body_out (if not NULL) gets its body. */
static guint
request_status (SignalingServer  *server,
                const char       *method,
                const char       *path,
                const char       *origin,
                const char       *payload,
                char            **body_out)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = test_server_get_url (server, "http", path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) body = NULL;

  if (origin != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origin);
  if (payload != NULL)
    {
      g_autoptr(GBytes) request = g_bytes_new (payload, strlen (payload));

      soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8", request);
    }
  body = test_send_and_read (session, msg);
  if (body_out != NULL)
    *body_out = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  return soup_message_get_status (msg);
}

/* A new polling session at prefix, opened without Origin; its sid. */
static char *
open_polling_session (SignalingServer *server,
                      const char      *prefix)
{
  g_autofree char *path = g_strconcat (prefix, "/?EIO=4&transport=polling", NULL);
  g_autofree char *body = NULL;
  g_autoptr(JsonNode) open = NULL;

  g_assert_cmpuint (request_status (server, "GET", path, NULL, NULL, &body), ==, SOUP_STATUS_OK);
  g_assert_cmpint (body[0], ==, '0');
  open = json_from_string (body + 1, NULL);
  g_assert_nonnull (open);
  return g_strdup (json_object_get_string_member (json_node_get_object (open), "sid"));
}

static void
check_engineio_origins (SignalingServer *server,
                        const char      *prefix)
{
  const char *origins[] = { LISTED, UNLISTED, NULL };
  const guint expected[] = { SOUP_STATUS_OK, SOUP_STATUS_FORBIDDEN, SOUP_STATUS_OK };
  g_autofree char *websocket = g_strconcat (prefix, "/?EIO=4&transport=websocket", NULL);
  g_autofree char *polling = g_strconcat (prefix, "/?EIO=4&transport=polling", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (origins); i++)
    {
      g_autofree char *sid = open_polling_session (server, prefix);
      g_autofree char *session = g_strdup_printf ("%s&sid=%s", polling, sid);

      g_test_message ("%s from %s", prefix, origins[i] != NULL ? origins[i] : "no origin");
      g_assert_cmpuint (upgrade_status (server, websocket, origins[i]), ==,
                        expected[i] == SOUP_STATUS_OK ? SOUP_STATUS_SWITCHING_PROTOCOLS : expected[i]);
      g_assert_cmpuint (request_status (server, "GET", polling, origins[i], NULL, NULL), ==, expected[i]);
      /* A Socket.IO CONNECT, or an Engine.IO noop. */
      g_assert_cmpuint (request_status (server, "POST", session, origins[i],
                                        g_str_equal (prefix, ENGINEIO_PATH) ? "6" : "40", NULL),
                        ==, expected[i]);
    }
}

static void
test_origin_rule (Fixture       *fixture,
                  gconstpointer  data)
{
  const char * const allowed[] = { LISTED, NULL };
  g_autoptr(SignalingEngineioServer) engine = signaling_engineio_server_new ();

  g_object_set (fixture->server, "allowed-origins", allowed, NULL);
  /* A bare Engine.IO server beside ours, as an application adds one. */
  g_object_set (engine, "allowed-origins", allowed, NULL);
  signaling_engineio_server_attach (engine, signaling_server_get_soup_server (fixture->server), ENGINEIO_PATH);

  g_assert_cmpuint (upgrade_status (fixture->server, "/ws", LISTED), ==, SOUP_STATUS_SWITCHING_PROTOCOLS);
  g_assert_cmpuint (upgrade_status (fixture->server, "/ws", UNLISTED), ==, SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (upgrade_status (fixture->server, "/ws", NULL), ==, SOUP_STATUS_SWITCHING_PROTOCOLS);

  check_engineio_origins (fixture->server, "/socket.io");
  check_engineio_origins (fixture->server, ENGINEIO_PATH);

  signaling_engineio_server_close_all (engine, "test over");
  soup_server_remove_handler (signaling_server_get_soup_server (fixture->server), ENGINEIO_PATH);
}

static gboolean
metrics_allowed (SignalingHttpEdge *edge,
                 const char        *text)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (text);

  g_assert_nonnull (address);
  return signaling_http_edge_metrics_allowed (edge, address);
}

/* The /metrics allow-list: loopback by default, IPv4 peers of a
 * dual-stack socket matched as IPv4, networks, and a bad entry refused
 * without changing the list. */
static void
test_metrics_allow (void)
{
  g_autoptr(SoupServer) soup_server = soup_server_new (NULL, NULL);
  g_autoptr(SignalingHttpEdge) edge = signaling_http_edge_new (soup_server, NULL);
  const char *networks[] = { "192.0.2.0/24", "2001:db8::1", NULL };
  const char *bad[] = { "10.0.0.0/8", "not-an-address", NULL };
  g_autoptr(GError) error = NULL;

  g_assert_true (metrics_allowed (edge, "127.0.0.1"));
  g_assert_true (metrics_allowed (edge, "127.8.9.10"));
  g_assert_true (metrics_allowed (edge, "::1"));
  g_assert_true (metrics_allowed (edge, "::ffff:127.0.0.1"));
  g_assert_false (metrics_allowed (edge, "192.0.2.7"));
  g_assert_false (metrics_allowed (edge, "::ffff:192.0.2.7"));
  g_assert_null (signaling_http_edge_get_metrics_allow (edge));

  g_assert_true (signaling_http_edge_set_metrics_allow (edge, networks, &error));
  g_assert_no_error (error);
  g_assert_true (metrics_allowed (edge, "192.0.2.7"));
  g_assert_true (metrics_allowed (edge, "::ffff:192.0.2.200"));
  g_assert_true (metrics_allowed (edge, "2001:db8::1"));
  g_assert_false (metrics_allowed (edge, "2001:db8::2"));
  g_assert_false (metrics_allowed (edge, "192.0.3.1"));
  g_assert_false (metrics_allowed (edge, "127.0.0.1"));

  g_assert_false (signaling_http_edge_set_metrics_allow (edge, bad, &error));
  g_assert_nonnull (error);
  g_assert_cmpstrv (signaling_http_edge_get_metrics_allow (edge), networks);
  g_assert_false (metrics_allowed (edge, "10.1.2.3"));

  g_assert_true (signaling_http_edge_set_metrics_allow (edge, NULL, NULL));
  g_assert_true (metrics_allowed (edge, "127.0.0.1"));
  g_assert_false (metrics_allowed (edge, "192.0.2.7"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, test_server_fixture_setup, func, test_server_fixture_teardown)
  ADD ("/http/body/content-length-any-path", test_body_content_length_any_path);
  ADD ("/http/body/chunked-any-path", test_body_chunked_any_path);
  ADD ("/http/body/own-paths", test_body_own_paths);
  ADD ("/http/pending/connections", test_pending_connections);
  ADD ("/http/pending/connections-small", test_pending_connections_small);
  ADD ("/http/pending/sessions", test_pending_sessions);
  ADD ("/http/pending/sessions-expire", test_pending_sessions_expire);
  ADD ("/http/origin/rule", test_origin_rule);
#undef ADD
  g_test_add_func ("/http/metrics/allow", test_metrics_allow);

  return g_test_run ();
}
