/* test-auth.c: signed tokens and TURN credentials, through a real
 * server and real libsoup clients on loopback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/stat.h>

#include <glib/gstdio.h>

#ifdef HAVE_LIBJWT
#include <jwt.h>
#endif

#include "signaling-identity-private.h"
#include "signaling-secrets-private.h"
#include "signaling-token-verifier-private.h"
#include "signaling-turn-credentials-private.h"
#include "test-utils.h"

#define SECRET_A "first-secret-of-the-test"
#define SECRET_B "second-secret-of-the-test"
#define TURN_SECRET "turn-secret-of-the-test"

static gint64
now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* A file in a fresh temporary folder, with @mode. */
static char *
write_file (const char *contents,
            int         mode)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("signalbox-auth-XXXXXX", &error);
  char *filename;

  g_assert_no_error (error);
  filename = g_build_filename (dir, "secrets", NULL);
  g_file_set_contents (filename, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (filename, mode), ==, 0);
  return filename;
}

static void
remove_file (char *filename)
{
  g_autofree char *dir = g_path_get_dirname (filename);

  g_unlink (filename);
  g_rmdir (dir);
  g_free (filename);
}

typedef char TempFile;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TempFile, remove_file)

static char *
mint (const char         *secret,
      const char         *sub,
      const char * const *rooms,
      const char         *audience,
      gint64              expires)
{
  g_autoptr(GBytes) key = g_bytes_new_static (secret, strlen (secret));
  g_autoptr(GError) error = NULL;
  char *token = signaling_token_mint (key, sub, rooms, audience, expires, &error);

  g_assert_no_error (error);
  g_assert_nonnull (token);
  return token;
}

/* The claim rules, on plain JSON. */

typedef struct {
  const char *claims;  /* %EXP% is a minute ahead, %PAST% a minute ago */
  const char *audience;
  gboolean valid;
} ClaimsCase;

static const ClaimsCase claims_cases[] = {
  { "{\"sub\":\"alice\",\"exp\":%EXP%}", NULL, TRUE },
  { "{\"sub\":\"a.l-i_c@e9\",\"exp\":%EXP%.5}", NULL, TRUE },
  { "{\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":42,\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"\",\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"-rf\",\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"a b\",\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"al/ice\",\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"caf\\u00e9\",\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"exp\":%EXP%}", NULL, TRUE },
  { "{\"sub\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"exp\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"alice\"}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":\"%EXP%\"}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%PAST%}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":1e300}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"nbf\":%PAST%}", NULL, TRUE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"nbf\":%EXP%}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"nbf\":null}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"aud\":\"signalbox\"}", "signalbox", TRUE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"aud\":[\"x\",\"signalbox\"]}", "signalbox", TRUE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"aud\":\"other\"}", "signalbox", FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"aud\":\"signalbox\"}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"aud\":[1]}", "signalbox", FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%}", "signalbox", TRUE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"rooms\":[\"lobby\",\"r2\"]}", NULL, TRUE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"rooms\":[]}", NULL, TRUE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"rooms\":\"lobby\"}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"rooms\":[\"lobby\",7]}", NULL, FALSE },
  { "{\"sub\":\"alice\",\"exp\":%EXP%,\"rooms\":[\"\"]}", NULL, FALSE },
};

static void
test_claims (void)
{
  g_autofree char *exp = g_strdup_printf ("%" G_GINT64_FORMAT, now () + 60);
  g_autofree char *past = g_strdup_printf ("%" G_GINT64_FORMAT, now () - 60);

  for (gsize i = 0; i < G_N_ELEMENTS (claims_cases); i++)
    {
      const ClaimsCase *c = &claims_cases[i];
      g_autoptr(GString) text = g_string_new (c->claims);
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(SignalingIdentity) identity = NULL;
      g_autoptr(GError) error = NULL;

      g_string_replace (text, "%EXP%", exp, 0);
      g_string_replace (text, "%PAST%", past, 0);
      node = json_from_string (text->str, &error);
      g_assert_no_error (error);

      identity = signaling_identity_new_from_claims (json_node_get_object (node), c->audience, now (), &error);
      g_test_message ("%s (audience %s): %s", text->str, c->audience,
                      error != NULL ? error->message : "valid");
      if (c->valid)
        {
          g_assert_no_error (error);
          g_assert_nonnull (identity);
        }
      else
        {
          g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);
          g_assert_null (identity);
        }
    }
}

static void
test_claims_rooms (void)
{
  g_autofree char *text = g_strdup_printf ("{\"sub\":\"bob\",\"exp\":%" G_GINT64_FORMAT ",\"rooms\":[\"lobby\"]}",
                                           now () + 60);
  g_autoptr(JsonNode) node = json_from_string (text, NULL);
  g_autoptr(SignalingIdentity) identity = signaling_identity_new_from_claims (json_node_get_object (node), NULL, now (), NULL);
  g_autoptr(JsonNode) any_node = json_from_string ("{\"sub\":\"carol\",\"exp\":9999999999}", NULL);
  g_autoptr(SignalingIdentity) any = signaling_identity_new_from_claims (json_node_get_object (any_node), NULL, now (), NULL);

  g_assert_cmpstr (signaling_identity_get_id (identity), ==, "bob");
  g_assert_true (signaling_identity_may_join (identity, "lobby"));
  g_assert_false (signaling_identity_may_join (identity, "other"));
  g_assert_null (signaling_identity_get_rooms (any));
  g_assert_true (signaling_identity_may_join (any, "other"));
}

/* Secret files. */

static void
test_secrets_file (void)
{
  g_autoptr(TempFile) good = write_file ("# comment\n\n  " SECRET_A "  \n" SECRET_B "\n", 0600);
  g_autoptr(TempFile) group = write_file (SECRET_A "\n", 0640);
  g_autoptr(TempFile) open = write_file (SECRET_A "\n", 0644);
  g_autoptr(TempFile) empty = write_file ("# nothing\n\n", 0600);
  g_autoptr(GPtrArray) secrets = NULL;
  g_autoptr(GError) error = NULL;

  secrets = signaling_secrets_read (good, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (secrets->len, ==, 2);
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (secrets, 0), NULL),
                   g_bytes_get_size (g_ptr_array_index (secrets, 0)), SECRET_A, strlen (SECRET_A));
  g_clear_pointer (&secrets, g_ptr_array_unref);

  secrets = signaling_secrets_read (group, &error);
  g_assert_no_error (error);
  g_clear_pointer (&secrets, g_ptr_array_unref);

  secrets = signaling_secrets_read (open, &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM);
  g_assert_null (secrets);
  g_clear_error (&error);

  secrets = signaling_secrets_read (empty, &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);

  secrets = signaling_secrets_read ("/nonexistent/secrets", &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* The verifier, with libjwt. */

static void
test_verifier_hs256 (void)
{
  g_autoptr(TempFile) file = write_file (SECRET_B "\n" SECRET_A "\n", 0600);
  g_autoptr(SignalingTokenVerifier) verifier = signaling_token_verifier_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *by_a = mint (SECRET_A, "alice", NULL, NULL, now () + 60);
  g_autofree char *by_b = mint (SECRET_B, "bob", NULL, NULL, now () + 60);
  g_autofree char *by_other = mint ("some-other-secret", "mallory", NULL, NULL, now () + 60);
  g_autofree char *expired = mint (SECRET_A, "alice", NULL, NULL, now () - 1);
  g_autofree char *tampered = NULL;
  g_autofree char *unsigned_token = NULL;
  g_auto(GStrv) parts = NULL;
  g_autofree char *payload = NULL;
  SignalingIdentity *identity;

  signaling_token_verifier_set_secret_file (verifier, file);
  g_assert_true (signaling_token_verifier_is_enabled (verifier));
  g_assert_true (signaling_token_verifier_reload (verifier, &error));
  g_assert_no_error (error);

  /* Rotation: any secret of the file. */
  identity = signaling_token_verifier_verify (verifier, by_a, now (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signaling_identity_get_id (identity), ==, "alice");
  g_clear_object (&identity);
  identity = signaling_token_verifier_verify (verifier, by_b, now (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signaling_identity_get_id (identity), ==, "bob");
  g_clear_object (&identity);

  for (gsize i = 0; i < 2; i++)
    {
      const char *bad = i == 0 ? by_other : expired;

      identity = signaling_token_verifier_verify (verifier, bad, now (), &error);
      g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);
      g_assert_null (identity);
      g_clear_error (&error);
    }

  /* Another sub in the payload, the signature of the first. */
  parts = g_strsplit (by_a, ".", -1);
  g_assert_cmpuint (g_strv_length (parts), ==, 3);
  {
    const char *claims = "{\"sub\":\"root\",\"exp\":9999999999}";

    payload = g_base64_encode ((const guchar *) claims, strlen (claims));
  }
  g_strdelimit (payload, "+", '-');
  g_strdelimit (payload, "/", '_');
  g_strdelimit (payload, "=", '\0');
  tampered = g_strjoin (".", parts[0], payload, parts[2], NULL);
  identity = signaling_token_verifier_verify (verifier, tampered, now (), &error);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  /* alg "none": eyJhbGciOiJub25lIn0 is {"alg":"none"}. */
  unsigned_token = g_strconcat ("eyJhbGciOiJub25lIn0.", payload, ".", NULL);
  identity = signaling_token_verifier_verify (verifier, unsigned_token, now (), &error);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  identity = signaling_token_verifier_verify (verifier, "not.a.token", now (), &error);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  identity = signaling_token_verifier_verify (verifier, NULL, now (), &error);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);
}

static void
test_verifier_reload_keeps_old (void)
{
  g_autoptr(TempFile) file = write_file (SECRET_A "\n", 0600);
  g_autoptr(SignalingTokenVerifier) verifier = signaling_token_verifier_new ();
  g_autoptr(SignalingIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = mint (SECRET_A, "alice", NULL, NULL, now () + 60);

  signaling_token_verifier_set_secret_file (verifier, file);
  g_assert_true (signaling_token_verifier_reload (verifier, &error));

  /* A bad file on reload: refused, and the old secret stays. */
  g_assert_cmpint (g_chmod (file, 0666), ==, 0);
  g_assert_false (signaling_token_verifier_reload (verifier, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM);
  g_clear_error (&error);

  identity = signaling_token_verifier_verify (verifier, token, now (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signaling_identity_get_id (identity), ==, "alice");
}

/* RS256 with a public key; an HS256 token "signed" with that public
 * key as its HMAC secret must not pass. */
static void
test_verifier_public_key (void)
{
#ifdef HAVE_LIBJWT
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *private_pem = NULL;
  g_autofree char *public_pem = NULL;
  g_autofree char *private_file = NULL;
  g_autofree char *public_file = NULL;
  g_autofree char *command = NULL;
  g_autofree char *claims = g_strdup_printf ("{\"sub\":\"rsa-user\",\"exp\":%" G_GINT64_FORMAT "}", now () + 60);
  g_autoptr(SignalingTokenVerifier) verifier = signaling_token_verifier_new ();
  g_autoptr(SignalingIdentity) identity = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  gsize private_length, public_length;
  jwt_t *jwt = NULL;
  char *rs256, *confused;
  int status;

  if (openssl == NULL)
    {
      g_test_skip ("openssl is not installed: no key pair to test RS256 with");
      return;
    }

  dir = g_dir_make_tmp ("signalbox-rsa-XXXXXX", &error);
  g_assert_no_error (error);
  private_file = g_build_filename (dir, "private.pem", NULL);
  public_file = g_build_filename (dir, "public.pem", NULL);
  command = g_strdup_printf ("sh -c 'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null && "
                             "openssl pkey -in %s -pubout -out %s'", private_file, private_file, public_file);
  g_spawn_command_line_sync (command, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_file_get_contents (private_file, &private_pem, &private_length, &error);
  g_assert_no_error (error);
  g_file_get_contents (public_file, &public_pem, &public_length, &error);
  g_assert_no_error (error);

  g_assert_cmpint (jwt_new (&jwt), ==, 0);
  g_assert_cmpint (jwt_add_grants_json (jwt, claims), ==, 0);
  g_assert_cmpint (jwt_set_alg (jwt, JWT_ALG_RS256, (const guchar *) private_pem, (int) private_length), ==, 0);
  rs256 = jwt_encode_str (jwt);
  g_assert_cmpint (jwt_set_alg (jwt, JWT_ALG_HS256, (const guchar *) public_pem, (int) public_length), ==, 0);
  confused = jwt_encode_str (jwt);
  jwt_free (jwt);

  signaling_token_verifier_set_public_key_file (verifier, public_file);
  g_assert_true (signaling_token_verifier_reload (verifier, &error));
  g_assert_no_error (error);

  identity = signaling_token_verifier_verify (verifier, rs256, now (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signaling_identity_get_id (identity), ==, "rsa-user");

  g_assert_null (signaling_token_verifier_verify (verifier, confused, now (), &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED);

  free (rs256);
  free (confused);
  g_unlink (private_file);
  g_unlink (public_file);
  g_rmdir (dir);
#else
  g_test_skip ("built without libjwt (-Dauth=disabled)");
#endif
}

/* The server. */

typedef struct {
  SignalingServer *server;
  char *secret_file;
  char *turn_secret_file;
} AuthFixture;

static void
auth_setup (AuthFixture   *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *turn_uris[] = { "turn:127.0.0.1:3478?transport=udp", "turns:turn.example.org:5349", NULL };
  const char *stun[] = { "stun:stun.example.org:3478", NULL };

  fixture->secret_file = write_file (SECRET_A "\n", 0600);
  fixture->turn_secret_file = write_file (TURN_SECRET "\n", 0600);
  fixture->server = signaling_server_new ();
  g_object_set (fixture->server,
                "auth-secret-file", fixture->secret_file,
                "turn-secret-file", fixture->turn_secret_file,
                "turn-uris", turn_uris,
                "turn-ttl", 600,
                "ice-servers", stun,
                NULL);
  signaling_server_listen (fixture->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
}

static void
auth_teardown (AuthFixture   *fixture,
               gconstpointer  data)
{
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->secret_file, remove_file);
  g_clear_pointer (&fixture->turn_secret_file, remove_file);
}

/* A WebSocket handshake on @path, read as plain HTTP: status and body. */
static guint
handshake (SignalingServer  *server,
           const char       *path,
           const char       *bearer,
           char            **out_body)
{
  g_autofree char *url = test_server_get_url (server, "http", path);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;

  soup_websocket_client_prepare_handshake (msg, NULL, NULL, NULL);
  if (bearer != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", bearer, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }
  body = test_send_and_read (session, msg);
  if (out_body != NULL)
    *out_body = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  return soup_message_get_status (msg);
}

static void
assert_unauthorized_body (const char *body)
{
  g_autoptr(JsonNode) node = json_from_string (body, NULL);

  g_assert_nonnull (node);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "error"), ==, "unauthorized");
  g_assert_true (json_object_has_member (json_node_get_object (node), "message"));
}

static TestClient *
connect_with (SignalingServer *server,
              const char      *token)
{
  g_autofree char *path = g_strconcat ("/ws?token=", token, NULL);
  g_autofree char *url = test_server_get_url (server, "ws", path);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  TestClient *client = test_client_connect_raw (url, NULL, &error);

  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));
  return client;
}

static void
test_refused_before_upgrade (AuthFixture   *fixture,
                             gconstpointer  data)
{
  g_autofree char *expired = NULL;
  g_autofree char *foreign = NULL;
  g_autofree char *good = NULL;

  expired = mint (SECRET_A, "alice", NULL, NULL, now () - 5);
  foreign = mint ("not-our-secret", "alice", NULL, NULL, now () + 60);
  good = mint (SECRET_A, "alice", NULL, NULL, now () + 60);

  {
    const char *paths[] = { "/ws", "/ws?token=garbage", "/socket.io/?EIO=4&transport=websocket&token=garbage",
                            "/socket.io/?EIO=4&transport=polling&token=garbage" };

    for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        g_autofree char *body = NULL;

        g_test_message ("%s", paths[i]);
        g_assert_cmpuint (handshake (fixture->server, paths[i], NULL, &body), ==, SOUP_STATUS_UNAUTHORIZED);
        assert_unauthorized_body (body);
      }
  }

  {
    const char *tokens[] = { expired, foreign };

    for (gsize i = 0; i < G_N_ELEMENTS (tokens); i++)
      {
        g_autofree char *path = g_strconcat ("/ws?token=", tokens[i], NULL);
        g_autofree char *body = NULL;

        g_assert_cmpuint (handshake (fixture->server, path, NULL, &body), ==, SOUP_STATUS_UNAUTHORIZED);
        assert_unauthorized_body (body);
        g_clear_pointer (&body, g_free);
        g_assert_cmpuint (handshake (fixture->server, "/ws", tokens[i], &body), ==, SOUP_STATUS_UNAUTHORIZED);
        assert_unauthorized_body (body);
      }
  }

  /* The same request with a good token upgrades. */
  {
    g_autoptr(TestClient) client = connect_with (fixture->server, good);

    g_assert_cmpstr (client->id, ==, "alice");
  }
}

static void
test_sub_is_id_and_rooms (AuthFixture   *fixture,
                          gconstpointer  data)
{
  const char *rooms[] = { "lobby", NULL };
  g_autofree char *alice_token = NULL;
  g_autofree char *bob_token = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) offer = NULL;

  alice_token = mint (SECRET_A, "alice", rooms, NULL, now () + 60);
  bob_token = mint (SECRET_A, "bob", NULL, NULL, now () + 60);

  alice = connect_with (fixture->server, alice_token);
  g_assert_cmpstr (alice->id, ==, "alice");
  bob = connect_with (fixture->server, bob_token);
  g_assert_cmpstr (bob->id, ==, "bob");
  g_assert_nonnull (signaling_server_lookup_client (fixture->server, "alice"));

  test_client_send (alice, "{\"type\":\"join\",\"room\":\"lobby\"}");
  joined = test_client_expect (alice, "joined");
  test_client_send (alice, "{\"type\":\"join\",\"room\":\"elsewhere\",\"rid\":7}");
  test_client_expect_error (alice, "forbidden");
  g_assert_null (signaling_server_lookup_room (fixture->server, "elsewhere"));

  /* Without "rooms", any room. */
  test_client_send (bob, "{\"type\":\"join\",\"room\":\"elsewhere\"}");
  g_clear_pointer (&joined, json_object_unref);
  joined = test_client_expect (bob, "joined");

  /* Peers reach each other by their subs. */
  test_client_send (alice, "{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":\"v=0\"}");
  offer = test_client_expect (bob, "offer");
  g_assert_cmpstr (json_object_get_string_member (offer, "from"), ==, "alice");
}

static void
test_same_sub_takes_over (AuthFixture   *fixture,
                          gconstpointer  data)
{
  g_autofree char *token = NULL;
  g_autoptr(TestClient) first = NULL;
  g_autoptr(TestClient) second = NULL;
  g_autoptr(JsonObject) pong = NULL;

  token = mint (SECRET_A, "alice", NULL, NULL, now () + 60);

  first = connect_with (fixture->server, token);
  second = connect_with (fixture->server, token);
  g_assert_cmpstr (second->id, ==, "alice");

  test_client_wait_closed (first);
  g_assert_cmpint (first->close_code, ==, 4001);
  g_assert_cmpuint (signaling_server_get_client_count (fixture->server), ==, 1);

  test_client_send (second, "{\"type\":\"ping\"}");
  pong = test_client_expect (second, "pong");
}

static void
assert_turn_entry (JsonArray  *servers,
                   const char *id,
                   guint       ttl)
{
  JsonObject *stun, *turn;
  JsonArray *urls;
  const char *username, *credential;
  g_auto(GStrv) parts = NULL;
  g_autoptr(GBytes) secret = g_bytes_new_static (TURN_SECRET, strlen (TURN_SECRET));
  g_autofree char *expected = NULL;
  gint64 expiry;

  g_assert_cmpuint (json_array_get_length (servers), ==, 2);
  stun = json_array_get_object_element (servers, 0);
  g_assert_cmpstr (json_object_get_string_member (stun, "urls"), ==, "stun:stun.example.org:3478");
  turn = json_array_get_object_element (servers, 1);
  urls = json_object_get_array_member (turn, "urls");
  g_assert_cmpuint (json_array_get_length (urls), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (urls, 0), ==, "turn:127.0.0.1:3478?transport=udp");
  g_assert_cmpstr (json_array_get_string_element (urls, 1), ==, "turns:turn.example.org:5349");

  username = json_object_get_string_member (turn, "username");
  credential = json_object_get_string_member (turn, "credential");
  parts = g_strsplit (username, ":", 2);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  g_assert_cmpstr (parts[1], ==, id);
  expiry = g_ascii_strtoll (parts[0], NULL, 10);
  g_assert_cmpint (expiry, >=, now () + ttl - 5);
  g_assert_cmpint (expiry, <=, now () + ttl);

  /* Computed here on its own from coturn's definition. */
  {
    g_autofree char *hex = g_compute_hmac_for_string (G_CHECKSUM_SHA1, (const guchar *) TURN_SECRET,
                                                      strlen (TURN_SECRET), username, -1);
    guint8 digest[20];

    for (gsize i = 0; i < 20; i++)
      digest[i] = g_ascii_xdigit_value (hex[2 * i]) * 16 + g_ascii_xdigit_value (hex[2 * i + 1]);
    expected = g_base64_encode (digest, 20);
  }
  g_assert_cmpstr (credential, ==, expected);
}

static void
test_turn_in_welcome (AuthFixture   *fixture,
                      gconstpointer  data)
{
  g_autofree char *token = NULL;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;
  g_autoptr(TestClient) client = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(GError) error = NULL;

  token = mint (SECRET_A, "alice", NULL, NULL, now () + 60);
  path = g_strconcat ("/ws?token=", token, NULL);
  url = test_server_get_url (fixture->server, "ws", path);
  client = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  assert_turn_entry (json_object_get_array_member (welcome, "iceServers"), "alice", 600);
}

static void
test_ice_servers_endpoint (AuthFixture   *fixture,
                           gconstpointer  data)
{
  g_autofree char *token = NULL;
  g_autofree char *url = NULL;
  g_autofree char *with_token = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();

  token = mint (SECRET_A, "carol", NULL, NULL, now () + 60);
  url = test_server_get_url (fixture->server, "http", "/ice-servers");
  with_token = g_strconcat (url, "?token=", token, NULL);

  {
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
    g_autoptr(GBytes) body = test_send_and_read (session, msg);
    g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

    g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_UNAUTHORIZED);
    assert_unauthorized_body (text);
  }

  {
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", with_token);
    g_autoptr(GBytes) body = test_send_and_read (session, msg);
    g_autoptr(JsonNode) node = NULL;

    g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
    node = json_from_string (g_bytes_get_data (body, NULL), NULL);
    g_assert_nonnull (node);
    assert_turn_entry (json_object_get_array_member (json_node_get_object (node), "iceServers"), "carol", 600);
  }

  {
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
    g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
    g_autoptr(GBytes) body = NULL;

    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
    body = test_send_and_read (session, msg);
    g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  }
}

/* Without tokens, /ice-servers answers anyone, with a made-up id. */
static void
test_ice_servers_without_auth (void)
{
  g_autoptr(SignalingServer) server = signaling_server_new ();
  g_autoptr(TempFile) turn_secret = write_file (TURN_SECRET "\n", 0600);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  const char *turn_uris[] = { "turn:127.0.0.1:3478?transport=udp", "turns:turn.example.org:5349", NULL };
  const char *stun[] = { "stun:stun.example.org:3478", NULL };
  JsonObject *turn;
  const char *username;

  g_object_set (server, "turn-secret-file", turn_secret, "turn-uris", turn_uris, "ice-servers", stun, NULL);
  signaling_server_listen (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);

  url = test_server_get_url (server, "http", "/ice-servers");
  msg = soup_message_new ("GET", url);
  body = test_send_and_read (session, msg);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  node = json_from_string (g_bytes_get_data (body, NULL), NULL);
  turn = json_array_get_object_element (json_object_get_array_member (json_node_get_object (node), "iceServers"), 1);
  username = json_object_get_string_member (turn, "username");
  assert_turn_entry (json_object_get_array_member (json_node_get_object (node), "iceServers"),
                     strchr (username, ':') + 1, SIGNALING_TURN_DEFAULT_TTL);
}

/* A server whose secrets cannot be used does not start. */
static void
test_listen_refuses_bad_secrets (void)
{
  g_autoptr(TempFile) open = write_file (SECRET_A "\n", 0604);
  const char *turn_uris[] = { "turn:127.0.0.1:3478", NULL };

  {
    g_autoptr(SignalingServer) server = signaling_server_new ();
    g_autoptr(GError) error = NULL;

    g_object_set (server, "auth-secret-file", open, NULL);
    g_assert_false (signaling_server_listen (server, "127.0.0.1", 0, &error));
    g_assert_nonnull (error);
    g_assert_null (signaling_server_get_uris (server));
  }

  {
    g_autoptr(SignalingServer) server = signaling_server_new ();
    g_autoptr(GError) error = NULL;

    g_object_set (server, "turn-uris", turn_uris, NULL);
    g_assert_false (signaling_server_listen (server, "127.0.0.1", 0, &error));
    g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED);
  }
}

/* signaling_server_reload() (SIGHUP) reads the secrets again; a bad
 * file is refused and the secrets before stay. */
static void
test_reload (AuthFixture   *fixture,
             gconstpointer  data)
{
  g_autofree char *by_a = mint (SECRET_A, "alice", NULL, NULL, now () + 60);
  g_autofree char *by_b = mint (SECRET_B, "bob", NULL, NULL, now () + 60);
  g_autofree char *body = NULL;
  g_autofree char *path_a = g_strconcat ("/ws?token=", by_a, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents_full (fixture->secret_file, SECRET_B "\n", -1,
                            G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);
  g_assert_true (signaling_server_reload (fixture->server, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (handshake (fixture->server, path_a, NULL, &body), ==, SOUP_STATUS_UNAUTHORIZED);
  {
    g_autoptr(TestClient) bob = connect_with (fixture->server, by_b);

    g_assert_cmpstr (bob->id, ==, "bob");
  }

  /* Opened to others: refused, and B stays. */
  g_assert_cmpint (g_chmod (fixture->secret_file, 0666), ==, 0);
  g_assert_false (signaling_server_reload (fixture->server, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM);
  {
    g_autoptr(TestClient) bob = connect_with (fixture->server, by_b);

    g_assert_cmpstr (bob->id, ==, "bob");
  }
}

/* signalboxctl token mints what the server takes. */
static void
test_signalboxctl_token (AuthFixture   *fixture,
                         gconstpointer  data)
{
  const char *ctl = g_getenv ("SIGNALBOXCTL_BIN");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(TestClient) client = NULL;
  g_autoptr(JsonObject) reply = NULL;
  int status;

  g_assert_nonnull (ctl);

  {
    const char *argv[] = { ctl, "token", "--sub", "dave", "--room", "r1", "--ttl", "120",
                           "--secret-file", fixture->secret_file, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_strstrip (out);
  }

  client = connect_with (fixture->server, out);
  g_assert_cmpstr (client->id, ==, "dave");
  test_client_send (client, "{\"type\":\"join\",\"room\":\"r2\"}");
  test_client_expect_error (client, "forbidden");
  test_client_send (client, "{\"type\":\"join\",\"room\":\"r1\"}");
  reply = test_client_expect (client, "joined");

  /* An invalid id is refused before signing. */
  {
    const char *argv[] = { ctl, "token", "--sub", "no spaces", "--secret-file", fixture->secret_file, NULL };

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
    g_assert_no_error (error);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_cmpstr (out, ==, "");
  }
}

static void
skip_tokens (void)
{
  g_test_skip ("built without libjwt (-Dauth=disabled): signed tokens cannot be tested");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/auth/claims/rules", test_claims);
  g_test_add_func ("/auth/claims/rooms", test_claims_rooms);
  g_test_add_func ("/auth/secrets/file", test_secrets_file);
  g_test_add_func ("/auth/turn/ice-servers-without-auth", test_ice_servers_without_auth);
  g_test_add_func ("/auth/server/listen-refuses-bad-secrets", test_listen_refuses_bad_secrets);

  if (!signaling_token_supported ())
    {
      g_test_add_func ("/auth/tokens", skip_tokens);
      return g_test_run ();
    }

  g_test_add_func ("/auth/verifier/hs256", test_verifier_hs256);
  g_test_add_func ("/auth/verifier/reload-keeps-old", test_verifier_reload_keeps_old);
  g_test_add_func ("/auth/verifier/public-key", test_verifier_public_key);
  g_test_add ("/auth/server/refused-before-upgrade", AuthFixture, NULL, auth_setup, test_refused_before_upgrade, auth_teardown);
  g_test_add ("/auth/server/sub-is-id-and-rooms", AuthFixture, NULL, auth_setup, test_sub_is_id_and_rooms, auth_teardown);
  g_test_add ("/auth/server/same-sub-takes-over", AuthFixture, NULL, auth_setup, test_same_sub_takes_over, auth_teardown);
  g_test_add ("/auth/turn/welcome", AuthFixture, NULL, auth_setup, test_turn_in_welcome, auth_teardown);
  g_test_add ("/auth/turn/ice-servers-endpoint", AuthFixture, NULL, auth_setup, test_ice_servers_endpoint, auth_teardown);
  g_test_add ("/auth/server/reload", AuthFixture, NULL, auth_setup, test_reload, auth_teardown);
  g_test_add ("/auth/ctl/token", AuthFixture, NULL, auth_setup, test_signalboxctl_token, auth_teardown);

  return g_test_run ();
}
