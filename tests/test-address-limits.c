/* test-address-limits.c: max-clients-per-address and connect-rate-per-address
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Real clients connect from several loopback addresses (127.0.0.x,
 * all of which reach a server on 127.0.0.1), so that one address over
 * its limits can be seen refused while the others go on being served.
 */
#include "signaling-address-limiter-private.h"
#include "test-utils.h"

/* A session whose connections come from 127.0.0.@host. */
static SoupSession *
session_from (guint host)
{
  g_autofree char *text = g_strdup_printf ("127.0.0.%u", host);
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (text);
  g_autoptr(GSocketAddress) local = g_inet_socket_address_new (address, 0);

  return soup_session_new_with_options ("local-address", local, NULL);
}

static TestClient *
try_connect (SignalingServer *server,
             guint            host,
             GError         **error)
{
  g_autoptr(SoupSession) session = session_from (host);
  g_autofree char *url = test_server_get_url (server, "ws", "/ws");
  g_autoptr(JsonObject) welcome = NULL;
  TestClient *client = test_client_connect_session (session, url, NULL, error);

  if (client == NULL)
    return NULL;
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));
  return client;
}

static TestClient *
connect_from (SignalingServer *server,
              guint            host)
{
  g_autoptr(GError) error = NULL;
  TestClient *client = try_connect (server, host, &error);

  g_assert_no_error (error);
  return client;
}

static void
assert_refused (SignalingServer *server,
                guint            host)
{
  guint64 refused = signaling_server_get_connections_refused (server);
  guint64 rejected = signaling_server_get_messages_rejected (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) client = try_connect (server, host, &error);

  g_assert_null (client);
  g_assert_error (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
  g_assert_cmpuint (signaling_server_get_connections_refused (server), ==, refused + 1);
  g_assert_cmpuint (signaling_server_get_messages_rejected (server), ==, rejected + 1);
}

/* An Engine.IO polling handshake from 127.0.0.@host: its status, and
 * its body in @out_body. */
static guint
engineio_handshake (SignalingServer  *server,
                    guint             host,
                    char            **out_body)
{
  g_autoptr(SoupSession) session = session_from (host);
  g_autofree char *url = test_server_get_url (server, "http", "/socket.io/?EIO=4&transport=polling");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = test_send_and_read (session, msg);

  *out_body = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  return soup_message_get_status (msg);
}

static void
on_count_changed (GObject    *server,
                  GParamSpec *pspec,
                  gboolean   *changed)
{
  *changed = TRUE;
}

/* Waits until the server has seen @client go. */
static void
disconnect (SignalingServer *server,
            TestClient      *client)
{
  gboolean changed = FALSE;
  gulong id = g_signal_connect (server, "notify::client-count", G_CALLBACK (on_count_changed), &changed);

  test_client_free (client);
  test_run_until (&changed);
  g_signal_handler_disconnect (server, id);
}

static void
test_max_clients (TestServerFixture *fixture,
                  gconstpointer      data)
{
  SignalingServer *server = fixture->server;
  g_autoptr(TestClient) first = NULL;
  g_autoptr(TestClient) second = NULL;
  g_autoptr(TestClient) other = NULL;
  g_autoptr(TestClient) again = NULL;
  g_autoptr(JsonObject) offer = NULL;
  g_autofree char *body = NULL;

  g_object_set (server, "max-clients-per-address", 2, NULL);
  first = connect_from (server, 2);
  second = connect_from (server, 2);
  assert_refused (server, 2);

  /* Before the handshake makes a session: 429 with a body saying why. */
  g_assert_cmpuint (engineio_handshake (server, 2, &body), ==, 429);
  g_assert_nonnull (strstr (body, "\"code\":\"too-many-connections\""));
  g_assert_cmpuint (signaling_server_get_connections_refused (server), ==, 2);
  g_clear_pointer (&body, g_free);

  /* Another address is served as before, and can reach the others. */
  other = connect_from (server, 3);
  test_client_send (other, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"v=0\"}", first->id);
  offer = test_client_expect (first, "offer");
  g_assert_cmpuint (engineio_handshake (server, 3, &body), ==, SOUP_STATUS_OK);

  /* A client that leaves makes room for one more. */
  disconnect (server, g_steal_pointer (&second));
  again = connect_from (server, 2);
  assert_refused (server, 2);
}

static void
test_connect_rate (TestServerFixture *fixture,
                   gconstpointer      data)
{
  SignalingServer *server = fixture->server;
  g_autoptr(TestClient) first = NULL;
  g_autoptr(TestClient) other = NULL;
  g_autoptr(SoupSession) session = session_from (4);
  g_autofree char *health = test_server_get_url (server, "http", "/healthz");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", health);
  g_autoptr(GBytes) body = NULL;

  /* One a minute: a slow machine cannot earn a second token here. */
  g_object_set (server, "connect-rate-per-address", 1.0 / 60, NULL);
  first = connect_from (server, 4);
  assert_refused (server, 4);
  assert_refused (server, 4);
  other = connect_from (server, 5);
  assert_refused (server, 5);

  /* Requests that make no client are not counted. */
  body = test_send_and_read (session, msg);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  test_client_send (first, "{\"type\":\"ping\"}");
  g_clear_pointer (&body, g_bytes_unref);
  {
    g_autoptr(JsonObject) pong = test_client_expect (first, "pong");
  }
}

static void
test_exempt (TestServerFixture *fixture,
             gconstpointer      data)
{
  SignalingServer *server = fixture->server;
  const char *exempt[] = { "127.0.0.6", "10.0.0.0/8", NULL };
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) test_client_free);

  g_object_set (server, "max-clients-per-address", 1, "exempt-addresses", exempt, NULL);
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (clients, connect_from (server, 6));
  g_ptr_array_add (clients, connect_from (server, 7));
  assert_refused (server, 7);
}

/* What counts as one address, on the limiter alone. */
static void
test_address_keys (void)
{
  g_autoptr(SignalingAddressLimiter) limiter = signaling_address_limiter_new ();

  signaling_address_limiter_set_max_clients (limiter, 1);

  /* IPv6: one /64. */
  signaling_address_limiter_add_client (limiter, "2001:db8:1:2::1");
  g_assert_false (signaling_address_limiter_admit (limiter, "2001:db8:1:2:ffff::9", NULL));
  g_assert_true (signaling_address_limiter_admit (limiter, "2001:db8:1:3::1", NULL));
  signaling_address_limiter_remove_client (limiter, "2001:db8:1:2::1");
  g_assert_true (signaling_address_limiter_admit (limiter, "2001:db8:1:2:ffff::9", NULL));

  /* IPv4, also when mapped into IPv6; loopback included. */
  signaling_address_limiter_add_client (limiter, "192.0.2.1");
  g_assert_false (signaling_address_limiter_admit (limiter, "::ffff:192.0.2.1", NULL));
  g_assert_true (signaling_address_limiter_admit (limiter, "192.0.2.2", NULL));
  signaling_address_limiter_add_client (limiter, "::1");
  g_assert_false (signaling_address_limiter_admit (limiter, "::1", NULL));

  /* Not an IP address (a Unix socket): no limit applies. */
  g_assert_true (signaling_address_limiter_admit (limiter, NULL, NULL));
  g_assert_cmpuint (signaling_address_limiter_get_refused (limiter), ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/address-limits/max-clients", TestServerFixture, NULL,
              test_server_fixture_setup, test_max_clients, test_server_fixture_teardown);
  g_test_add ("/address-limits/connect-rate", TestServerFixture, NULL,
              test_server_fixture_setup, test_connect_rate, test_server_fixture_teardown);
  g_test_add ("/address-limits/exempt", TestServerFixture, NULL,
              test_server_fixture_setup, test_exempt, test_server_fixture_teardown);
  g_test_add_func ("/address-limits/address-keys", test_address_keys);

  return g_test_run ();
}
