/* test-tls.c: https:// and wss:// with a certificate made for the test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test makes its certificates with openssl in a scratch folder,
 * serves with them over real loopback sockets, and connects with
 * libsoup clients that trust exactly the certificate they expect, so
 * that a server serving the wrong one fails the test.
 */
#include <signal.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "test-utils.h"

typedef struct {
  char *dir;
  char *certificate;  /* what the server is told to read */
  char *key;
  SignalingServer *server;
} Fixture;

/* Makes @name-cert.pem and @name-key.pem in @dir: a self-signed
 * certificate for 127.0.0.1, which is its own authority. */
static void
make_pair (const char *dir,
           const char *name)
{
  g_autofree char *certificate = g_strdup_printf ("%s/%s-cert.pem", dir, name);
  g_autofree char *key = g_strdup_printf ("%s/%s-key.pem", dir, name);
  g_autofree char *subject = g_strdup_printf ("/CN=signalbox test %s", name);
  const char *argv[] = {
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-days", "1", "-subj", subject, "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", key, "-out", certificate, NULL,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl failed: %s", err);
}

static char *
pair_file (Fixture    *fixture,
           const char *name,
           const char *what)
{
  return g_strdup_printf ("%s/%s-%s.pem", fixture->dir, name, what);
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (from, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, contents, length, &error);
  g_assert_no_error (error);
}

/* Puts the pair @name where the server reads its files, as an
 * administrator rotating a certificate does. */
static void
install_pair (Fixture    *fixture,
              const char *name)
{
  g_autofree char *certificate = pair_file (fixture, name, "cert");
  g_autofree char *key = pair_file (fixture, name, "key");

  copy_file (certificate, fixture->certificate);
  copy_file (key, fixture->key);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("signalbox-tls-XXXXXX", &error);
  g_assert_no_error (error);
  make_pair (fixture->dir, "a");
  make_pair (fixture->dir, "b");
  fixture->certificate = g_build_filename (fixture->dir, "server-cert.pem", NULL);
  fixture->key = g_build_filename (fixture->dir, "server-key.pem", NULL);
  install_pair (fixture, "a");

  fixture->server = signaling_server_new ();
  g_object_set (fixture->server,
                "tls-certificate", fixture->certificate,
                "tls-key", fixture->key,
                NULL);
}

static void
fixture_listen (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  signaling_server_listen (fixture->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  g_clear_object (&fixture->server);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->certificate);
  g_free (fixture->key);
}

/* A client session that trusts the pair @name only. */
static SoupSession *
session_trusting (Fixture    *fixture,
                  const char *name)
{
  g_autofree char *certificate = pair_file (fixture, name, "cert");
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (certificate, &error);
  SoupSession *session;

  g_assert_no_error (error);
  session = soup_session_new ();
  soup_session_set_tls_database (session, database);
  return session;
}

static char *
url (Fixture    *fixture,
     const char *scheme,
     const char *path)
{
  return test_server_get_url (fixture->server, scheme, path);
}

/* A native client through @session, past its welcome. */
static TestClient *
connect_url (SoupSession *session,
             const char  *ws_url,
             GError     **error)
{
  g_autoptr(JsonObject) welcome = NULL;
  TestClient *client = test_client_connect_session (session, ws_url, NULL, error);

  if (client == NULL)
    return NULL;
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));
  return client;
}

static TestClient *
connect_native (Fixture    *fixture,
                const char *trusted,
                GError    **error)
{
  g_autoptr(SoupSession) session = session_trusting (fixture, trusted);
  g_autofree char *ws_url = url (fixture, "wss", "/ws");

  return connect_url (session, ws_url, error);
}

static void
assert_pong (TestClient *client)
{
  g_autoptr(JsonObject) pong = NULL;

  test_client_send (client, "{\"type\":\"ping\"}");
  pong = test_client_expect (client, "pong");
}

typedef struct {
  gboolean done;
  GBytes *body;
  GError *error;
} Fetch;

static void
on_fetched (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Fetch *fetch = user_data;

  fetch->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &fetch->error);
  fetch->done = TRUE;
}

/* GET @target through @session; the body, or NULL and @error. */
static GBytes *
fetch (SoupSession  *session,
       const char   *target,
       guint        *out_status,
       GError      **error)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", target);
  Fetch data = { 0 };

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_fetched, &data);
  test_run_until (&data.done);
  *out_status = soup_message_get_status (msg);
  if (data.error != NULL)
    g_propagate_error (error, data.error);
  return data.body;
}

/* The URIs say https, and native peers and /healthz are served over
 * TLS to a client that checks the certificate. */
static void
test_native_and_health (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(JsonObject) offer = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *health = NULL;
  GSList *uris;
  guint status = 0;

  fixture_listen (fixture);
  uris = signaling_server_get_uris (fixture->server);
  g_assert_cmpstr (g_uri_get_scheme (uris->data), ==, "https");
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  alice = connect_native (fixture, "a", &error);
  g_assert_no_error (error);
  bob = connect_native (fixture, "a", &error);
  g_assert_no_error (error);
  test_client_send (alice, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"v=0\"}", bob->id);
  offer = test_client_expect (bob, "offer");
  g_assert_cmpstr (json_object_get_string_member (offer, "from"), ==, alice->id);

  session = session_trusting (fixture, "a");
  health = url (fixture, "https", "/healthz");
  body = fetch (session, health, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
  g_assert_nonnull (strstr (g_bytes_get_data (body, NULL), "\"clients\":2"));
}

/* A client that does not trust the certificate does not get in, and
 * the server goes on serving those that do. */
static void
test_untrusted (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) stranger = NULL;
  g_autoptr(TestClient) client = NULL;

  fixture_listen (fixture);
  stranger = connect_native (fixture, "b", &error);
  g_assert_null (stranger);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_clear_error (&error);

  client = connect_native (fixture, "a", &error);
  g_assert_no_error (error);
  assert_pong (client);
}

/* Plain HTTP to a TLS port fails cleanly: with our acceptor, a plain
 * 400 that says why; with libsoup's own listener, a closed
 * connection. Either way the client is not left hanging, and TLS
 * clients are still served. */
static void
test_plain_http_refused (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(SoupSession) plain = soup_session_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(TestClient) client = NULL;
  g_autofree char *health = NULL;
  guint status = 0;

  fixture_listen (fixture);
  health = url (fixture, "http", "/healthz");
  body = fetch (plain, health, &status, &error);
  if (test_have_soup_workarounds ())
    {
      g_assert_no_error (error);
      g_assert_cmpuint (status, ==, SOUP_STATUS_BAD_REQUEST);
      g_assert_nonnull (strstr (g_bytes_get_data (body, NULL), "https://"));
    }
  else
    g_assert_nonnull (error);

  client = connect_native (fixture, "a", &error);
  g_clear_error (&error);
  g_assert_nonnull (client);
  assert_pong (client);
}

typedef struct {
  gboolean done;
  gssize n;
} ReadData;

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  ReadData *data = user_data;

  data->n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  data->done = TRUE;
}

/* Opens a TCP connection, sends @bytes, and waits for the server to
 * close it. test_run_until() fails the test if it never does. */
static void
assert_dropped (Fixture    *fixture,
                const char *bytes,
                gsize       length)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[256];
  ReadData data = { 0 };
  gint64 started = g_get_monotonic_time ();

  connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1",
                                                signaling_server_get_port (fixture->server),
                                                NULL, &error);
  g_assert_no_error (error);
  if (length > 0)
    {
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                 bytes, length, NULL, NULL, &error);
      g_assert_no_error (error);
    }

  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                             buffer, sizeof buffer, G_PRIORITY_DEFAULT, NULL, on_read, &data);
  test_run_until (&data.done);
  g_assert_cmpint (data.n, <=, 0);
  /* By the deadline, not before: a peer gets its second. */
  g_assert_cmpint (g_get_monotonic_time () - started, >=, G_USEC_PER_SEC / 2);
}

/* A peer that connects and never sends its ClientHello, or starts a
 * handshake and never finishes it, is dropped at the request timeout:
 * it holds neither a descriptor nor a worker thread forever. */
static void
test_stalled_handshake (Fixture       *fixture,
                        gconstpointer  data)
{
  /* A TLS handshake record header announcing bytes that never come. */
  static const char partial_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x40, 0x01 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) client = NULL;

  if (test_skip_without_soup_workarounds ("libsoup's own listener has no handshake deadline"))
    return;

  g_object_set (fixture->server, "request-timeout", 1, NULL);
  fixture_listen (fixture);
  assert_dropped (fixture, NULL, 0);
  assert_dropped (fixture, partial_hello, sizeof partial_hello);

  /* A real handshake may take longer than a second under valgrind. */
  g_object_set (fixture->server, "request-timeout", 30, NULL);
  client = connect_native (fixture, "a", &error);
  g_assert_no_error (error);
  assert_pong (client);
}

/* Rotation: after a reload new connections get the new certificate,
 * the open one goes on, and a bad file changes nothing. */
static void
test_reload (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) before = NULL;
  g_autoptr(TestClient) old_trust = NULL;
  g_autoptr(TestClient) after = NULL;
  g_autoptr(TestClient) after_bad = NULL;
  g_autoptr(JsonObject) message = NULL;

  fixture_listen (fixture);
  before = connect_native (fixture, "a", &error);
  g_assert_no_error (error);

  install_pair (fixture, "b");
  g_assert_true (signaling_server_reload (fixture->server, &error));
  g_assert_no_error (error);

  assert_pong (before);
  old_trust = connect_native (fixture, "a", &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_null (old_trust);
  g_clear_error (&error);
  after = connect_native (fixture, "b", &error);
  g_assert_no_error (error);

  /* Old and new connections still talk to each other. */
  test_client_send (after, "{\"type\":\"message\",\"to\":\"%s\",\"data\":1}", before->id);
  message = test_client_expect (before, "message");
  g_assert_cmpstr (json_object_get_string_member (message, "from"), ==, after->id);

  g_file_set_contents (fixture->certificate, "not a certificate\n", -1, &error);
  g_assert_no_error (error);
  g_assert_false (signaling_server_reload (fixture->server, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, fixture->certificate));
  g_clear_error (&error);

  assert_pong (before);
  assert_pong (after);
  after_bad = connect_native (fixture, "b", &error);
  g_assert_no_error (error);
}

/* A certificate that cannot be read stops listening from starting. */
static void
test_bad_files (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.pem", NULL);
  g_autoptr(GError) error = NULL;

  g_object_set (fixture->server, "tls-key", missing, NULL);
  g_assert_false (signaling_server_listen (fixture->server, "127.0.0.1", 0, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_cmpuint (signaling_server_get_port (fixture->server), ==, 0);
}

/* The next line of the log that says something (a warning comes
 * after an empty line). */
static char *
read_log_line (GDataInputStream *log)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);

      g_assert_nonnull (line);
      g_test_message ("signalbox: %s", line);
      if (*line != '\0')
        return g_steal_pointer (&line);
    }
}

/* A test that fails must not leave its daemon behind. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* The daemon: SIGHUP reloads (rotation as above) instead of ending it,
 * and a bad file on reload is logged and changes nothing. */
static void
test_daemon_sighup (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) before = NULL;
  g_autoptr(TestClient) after = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autofree char *ws_url = NULL;
  g_autofree char *line = NULL;
  const char *prefix = "Listening on https://127.0.0.1:";
  guint port = 0;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error,
                              g_getenv ("SIGNALBOX_BIN"), "--no-dbus", "--address", "127.0.0.1",
                              "--port", "0", "--tls-certificate", fixture->certificate,
                              "--tls-key", fixture->key, NULL);
  g_assert_no_error (error);
  log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));
  while (port == 0)
    {
      g_autofree char *text = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);

      g_assert_nonnull (text);
      g_test_message ("signalbox: %s", text);
      if (strstr (text, prefix) != NULL)
        port = (guint) g_ascii_strtoull (strstr (text, prefix) + strlen (prefix), NULL, 10);
    }

  ws_url = g_strdup_printf ("wss://127.0.0.1:%u/ws", port);
  session = session_trusting (fixture, "a");
  before = connect_url (session, ws_url, &error);
  g_assert_no_error (error);

  install_pair (fixture, "b");
  g_subprocess_send_signal (process, SIGHUP);
  line = read_log_line (log);
  g_assert_nonnull (strstr (line, "Reloaded"));
  g_clear_pointer (&line, g_free);

  g_clear_object (&session);
  session = session_trusting (fixture, "b");
  after = connect_url (session, ws_url, &error);
  g_assert_no_error (error);

  g_file_set_contents (fixture->key, "not a key\n", -1, &error);
  g_assert_no_error (error);
  g_subprocess_send_signal (process, SIGHUP);
  line = read_log_line (log);
  g_assert_nonnull (strstr (line, "Reload failed"));
  g_assert_nonnull (strstr (line, fixture->key));

  /* Still there, still serving the last good pair, still connected. */
  test_client_free (g_steal_pointer (&after));
  after = connect_url (session, ws_url, &error);
  g_assert_no_error (error);
  assert_pong (after);
  assert_pong (before);

  g_subprocess_send_signal (process, SIGTERM);
  test_client_wait_closed (before);
  test_client_wait_closed (after);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

/* Over wss:// the same frame path applies: a message over the limit
 * gets `too-large` and 1009, whatever TLS makes of its bytes, and a
 * text that is not UTF-8 is `bad-json`, the connection staying. */
static void
test_websocket_limits (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) client = NULL;
  g_autoptr(TestClient) bystander = NULL;
  g_autofree char *big = g_strnfill (4096, 'x');

  g_object_set (fixture->server, "max-message-size", 1024, NULL);
  fixture_listen (fixture);
  bystander = connect_native (fixture, "a", &error);
  g_assert_no_error (error);
  client = connect_native (fixture, "a", &error);
  g_assert_no_error (error);

  test_client_send (client, "{\"type\":\"message\",\"to\":\"%s\",\"data\":\"%s\"}",
                    bystander->id, big);
  test_client_expect_error (client, "too-large");
  test_client_wait_closed (client);
  g_assert_cmpuint (client->close_code, ==, 1009);
  assert_pong (bystander);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/tls/native-and-health", test_native_and_health);
  ADD ("/tls/untrusted", test_untrusted);
  ADD ("/tls/plain-http-refused", test_plain_http_refused);
  ADD ("/tls/websocket-limits", test_websocket_limits);
  ADD ("/tls/stalled-handshake", test_stalled_handshake);
  ADD ("/tls/reload", test_reload);
  ADD ("/tls/bad-files", test_bad_files);
  ADD ("/tls/daemon-sighup", test_daemon_sighup);
#undef ADD

  return g_test_run ();
}
