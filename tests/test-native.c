/* test-native.c: native protocol v1 over real WebSockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/socket.h>

#include "test-utils.h"

#include "signaling-util-private.h"

typedef TestServerFixture Fixture;

static JsonObject *
join (TestClient *client,
      const char *room)
{
  JsonObject *joined;

  test_client_send (client, "{\"type\":\"join\",\"room\":\"%s\"}", room);
  joined = test_client_expect (client, "joined");
  g_assert_cmpstr (json_object_get_string_member (joined, "room"), ==, room);
  return joined;
}

static void
assert_members (JsonObject *joined,
                ...)
{
  JsonArray *members = json_object_get_array_member (joined, "members");
  const char *id;
  guint i = 0;
  va_list args;

  va_start (args, joined);
  while ((id = va_arg (args, const char *)) != NULL)
    {
      g_assert_cmpuint (i, <, json_array_get_length (members));
      g_assert_cmpstr (json_array_get_string_element (members, i), ==, id);
      i++;
    }
  va_end (args);

  g_assert_cmpuint (json_array_get_length (members), ==, i);
}

static void
test_welcome (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *url = test_server_get_url (fixture->server, "ws", "/ws");
  g_autoptr(TestClient) client = test_client_connect_raw (url, NULL, NULL);
  g_autoptr(JsonObject) welcome = test_client_expect (client, "welcome");
  const char *id = json_object_get_string_member (welcome, "id");

  g_assert_nonnull (id);
  g_assert_cmpuint (strlen (id), ==, 22);
  for (const char *p = id; *p; p++)
    g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');
  g_assert_cmpint (json_object_get_int_member (welcome, "protocol"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (welcome, "server"), ==, "signalbox/" SIGNALING_VERSION);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (welcome, "iceServers")), ==, 0);
  g_assert_nonnull (signaling_server_lookup_client (fixture->server, id));
}

static void
test_welcome_ice_servers (Fixture       *fixture,
                          gconstpointer  data)
{
  const char *urls[] = { "stun:stun.example.org:3478", NULL };
  g_autoptr(TestClient) client = NULL;
  g_autofree char *url = test_server_get_url (fixture->server, "ws", "/ws");
  g_autoptr(JsonObject) welcome = NULL;
  JsonArray *ice;

  g_object_set (fixture->server, "ice-servers", urls, NULL);
  client = test_client_connect_raw (url, NULL, NULL);
  welcome = test_client_expect (client, "welcome");
  ice = json_object_get_array_member (welcome, "iceServers");
  g_assert_cmpuint (json_array_get_length (ice), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (ice, 0), "urls"),
                   ==, urls[0]);
}

static void
test_ids_unique (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) test_client_free);

  for (guint i = 0; i < 64; i++)
    {
      TestClient *client = test_client_connect (fixture->server);

      g_ptr_array_add (clients, client);
      g_assert_false (g_hash_table_contains (seen, client->id));
      g_hash_table_add (seen, client->id);
    }

  g_assert_cmpuint (signaling_server_get_client_count (fixture->server), ==, 64);
}

/* Ids are 22 letters and digits, all 62 of them used: no '-' that a
 * command line would take for an option, nothing that D-Bus object
 * paths escape. */
static void
test_id_alphabet (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean used[256] = { FALSE };
  guint distinct = 0;

  for (guint i = 0; i < 20000; i++)
    {
      char *id = signaling_generate_id ();

      g_assert_cmpuint (strlen (id), ==, 22);
      for (const char *p = id; *p; p++)
        {
          g_assert_true (g_ascii_isalnum (*p));
          used[(guchar) *p] = TRUE;
        }
      g_assert_true (g_hash_table_add (seen, id));
    }

  for (guint c = 0; c < 256; c++)
    distinct += used[c];
  g_assert_cmpuint (distinct, ==, 62);
}

static void
test_join_leave (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autoptr(TestClient) c = test_client_connect (fixture->server);
  g_autoptr(JsonObject) joined_a = join (a, "lobby");
  g_autoptr(JsonObject) joined_b = NULL;
  g_autoptr(JsonObject) joined_c = NULL;
  g_autoptr(JsonObject) peer_joined = NULL;
  g_autoptr(JsonObject) left = NULL;
  g_autoptr(JsonObject) peer_left = NULL;
  SignalingRoom *room;

  assert_members (joined_a, NULL);

  joined_b = join (b, "lobby");
  assert_members (joined_b, a->id, NULL);
  peer_joined = test_client_expect (a, "peer-joined");
  g_assert_cmpstr (json_object_get_string_member (peer_joined, "room"), ==, "lobby");
  g_assert_cmpstr (json_object_get_string_member (peer_joined, "id"), ==, b->id);

  joined_c = join (c, "lobby");
  assert_members (joined_c, a->id, b->id, NULL);
  g_clear_pointer (&peer_joined, json_object_unref);
  peer_joined = test_client_expect (a, "peer-joined");
  g_assert_cmpstr (json_object_get_string_member (peer_joined, "id"), ==, c->id);
  g_clear_pointer (&peer_joined, json_object_unref);
  peer_joined = test_client_expect (b, "peer-joined");
  g_assert_cmpstr (json_object_get_string_member (peer_joined, "id"), ==, c->id);

  room = signaling_server_lookup_room (fixture->server, "lobby");
  g_assert_nonnull (room);
  g_assert_cmpuint (signaling_room_get_member_count (room), ==, 3);

  test_client_send (b, "{\"type\":\"leave\",\"room\":\"lobby\",\"rid\":7}");
  left = test_client_expect (b, "left");
  g_assert_cmpstr (json_object_get_string_member (left, "room"), ==, "lobby");
  g_assert_cmpint (json_object_get_int_member (left, "rid"), ==, 7);
  peer_left = test_client_expect (a, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (peer_left, "id"), ==, b->id);
  g_clear_pointer (&peer_left, json_object_unref);
  peer_left = test_client_expect (c, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (peer_left, "id"), ==, b->id);
  g_assert_cmpuint (signaling_room_get_member_count (room), ==, 2);

  /* Leaving a room one is not in is an error, and changes nothing. */
  test_client_send (b, "{\"type\":\"leave\",\"room\":\"lobby\",\"rid\":\"again\"}");
  test_client_expect_error (b, "unknown-target");
  test_client_assert_idle (a);

  /* Joining twice is harmless and tells nobody. */
  g_clear_pointer (&joined_a, json_object_unref);
  joined_a = join (a, "lobby");
  assert_members (joined_a, c->id, NULL);
  test_client_assert_idle (c);
}

static void
test_room_removed_when_empty (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(JsonObject) joined = join (a, "solo");
  g_autoptr(JsonObject) left = NULL;

  g_assert_cmpuint (signaling_server_get_room_count (fixture->server), ==, 1);
  test_client_send (a, "{\"type\":\"leave\",\"room\":\"solo\"}");
  left = test_client_expect (a, "left");
  g_assert_cmpuint (signaling_server_get_room_count (fixture->server), ==, 0);
  g_assert_null (signaling_server_lookup_room (fixture->server, "solo"));
}

typedef struct {
  const char *kind;
  const char *body;  /* fields after "type" and "to" */
} RelayCase;

static const RelayCase relay_cases[] = {
  { "offer", "\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"" },
  { "answer", "\"sdp\":\"v=0\\r\\n\"" },
  { "candidate", "\"candidate\":{\"candidate\":\"candidate:1 1 UDP 2122252543 192.0.2.1 54400 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}" },
  { "candidate", "\"candidate\":null" },
  { "hangup", "\"reason\":\"bye\"" },
  { "hangup", "\"extra\":{\"kept\":[1,2,3]}" },
  { "message", "\"data\":{\"chat\":\"hello\",\"n\":[1,true,null]}" },
};

/* The recipient must get exactly what was sent, plus "from", minus "rid". */
static void
assert_relayed (JsonObject *received,
                const char *sent,
                const char *from)
{
  g_autoptr(JsonNode) expected_node = json_from_string (sent, NULL);
  JsonObject *expected = json_node_get_object (expected_node);
  g_autoptr(JsonNode) received_node = NULL;

  json_object_remove_member (expected, "rid");
  json_object_set_string_member (expected, "from", from);
  received_node = json_node_init_object (json_node_alloc (), received);

  if (!json_node_equal (expected_node, received_node))
    g_error ("Relayed %s, expected %s",
             json_to_string (received_node, FALSE), json_to_string (expected_node, FALSE));
}

static void
test_relay_direct (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autoptr(TestClient) c = test_client_connect (fixture->server);

  for (gsize i = 0; i < G_N_ELEMENTS (relay_cases); i++)
    {
      g_autofree char *sent = g_strdup_printf ("{\"type\":\"%s\",\"to\":\"%s\",\"rid\":%" G_GSIZE_FORMAT ",%s}",
                                               relay_cases[i].kind, b->id, i, relay_cases[i].body);
      g_autoptr(JsonObject) received = NULL;

      test_client_send (a, "%s", sent);
      received = test_client_expect (b, relay_cases[i].kind);
      assert_relayed (received, sent, a->id);
    }

  test_client_assert_idle (a);
  test_client_assert_idle (c);
  g_assert_cmpuint (signaling_server_get_messages_relayed (fixture->server), ==, G_N_ELEMENTS (relay_cases));
  g_assert_cmpuint (signaling_client_get_messages_in (signaling_server_lookup_client (fixture->server, a->id)),
                    >=, G_N_ELEMENTS (relay_cases));
}

static void
test_relay_room (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autoptr(TestClient) c = test_client_connect (fixture->server);
  g_autoptr(TestClient) outsider = test_client_connect (fixture->server);
  g_autoptr(JsonObject) ja = join (a, "call");
  g_autoptr(JsonObject) jb = join (b, "call");
  g_autoptr(JsonObject) jc = join (c, "call");

  g_queue_free_full (a->frames, (GDestroyNotify) json_object_unref);
  a->frames = g_queue_new ();
  g_queue_free_full (b->frames, (GDestroyNotify) json_object_unref);
  b->frames = g_queue_new ();
  test_client_assert_idle (a);
  test_client_assert_idle (b);

  for (gsize i = 0; i < G_N_ELEMENTS (relay_cases); i++)
    {
      g_autofree char *sent = g_strdup_printf ("{\"type\":\"%s\",\"to\":\"call\",%s}",
                                               relay_cases[i].kind, relay_cases[i].body);
      g_autoptr(JsonObject) got_b = NULL;
      g_autoptr(JsonObject) got_c = NULL;

      test_client_send (a, "%s", sent);
      got_b = test_client_expect (b, relay_cases[i].kind);
      got_c = test_client_expect (c, relay_cases[i].kind);
      assert_relayed (got_b, sent, a->id);
      assert_relayed (got_c, sent, a->id);
    }

  /* The sender is excluded, and so is everyone outside the room. */
  test_client_assert_idle (a);
  test_client_assert_idle (outsider);

  /* Sending to a room one has not joined is refused. */
  test_client_send (outsider, "{\"type\":\"offer\",\"to\":\"call\",\"sdp\":\"x\"}");
  test_client_expect_error (outsider, "forbidden");
  test_client_assert_idle (a);
  test_client_assert_idle (b);
}

static void
test_from_refused (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autoptr(JsonObject) error = NULL;

  test_client_send (a, "{\"type\":\"offer\",\"to\":\"%s\",\"from\":\"%s\",\"sdp\":\"x\",\"rid\":\"r1\"}",
                    b->id, b->id);
  error = test_client_expect (a, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "bad-message");
  g_assert_cmpstr (json_object_get_string_member (error, "rid"), ==, "r1");
  test_client_assert_idle (b);
}

typedef struct {
  const char *frame;
  const char *code;
} BadCase;

static void
test_bad_input (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autoptr(JsonObject) joined = join (b, "room");
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  static const BadCase fixed[] = {
    { "not json", "bad-json" },
    { "{\"type\":\"offer\",", "bad-json" },
    { "[1,2,3]", "bad-json" },
    { "\"offer\"", "bad-json" },
    { "42", "bad-json" },
    { "null", "bad-json" },
    { "{}", "bad-message" },
    { "{\"type\":7}", "bad-message" },
    { "{\"type\":\"shout\"}", "unknown-type" },
    { "{\"type\":\"join\"}", "bad-message" },
    { "{\"type\":\"join\",\"room\":\"\"}", "bad-message" },
    { "{\"type\":\"join\",\"room\":[\"a\"]}", "bad-message" },
    { "{\"type\":\"offer\",\"sdp\":\"x\"}", "bad-message" },
    { "{\"type\":\"offer\",\"to\":5,\"sdp\":\"x\"}", "bad-message" },
    { "{\"type\":\"offer\",\"to\":\"room\"}", "bad-message" },
    { "{\"type\":\"answer\",\"to\":\"room\",\"sdp\":{\"sdp\":\"x\"}}", "bad-message" },
    { "{\"type\":\"candidate\",\"to\":\"room\"}", "bad-message" },
    { "{\"type\":\"candidate\",\"to\":\"room\",\"candidate\":\"c\"}", "bad-message" },
    { "{\"type\":\"candidate\",\"to\":\"room\",\"candidate\":{\"sdpMid\":\"0\"}}", "bad-message" },
    { "{\"type\":\"candidate\",\"to\":\"room\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":-1}}", "bad-message" },
    { "{\"type\":\"candidate\",\"to\":\"room\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}}", "bad-message" },
    { "{\"type\":\"candidate\",\"to\":\"room\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":3}}", "bad-message" },
    { "{\"type\":\"hangup\",\"to\":\"room\",\"reason\":false}", "bad-message" },
    { "{\"type\":\"message\",\"to\":\"room\"}", "bad-message" },
    { "{\"type\":\"offer\",\"to\":\"nobody\",\"sdp\":\"x\"}", "unknown-target" },
    { "{\"type\":\"ping\",\"rid\":[1]}", "bad-message" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    {
      g_autoptr(JsonObject) error = NULL;

      test_client_send (a, "%s", fixed[i].frame);
      error = test_client_expect (a, "error");
      if (g_strcmp0 (json_object_get_string_member (error, "code"), fixed[i].code) != 0)
        g_error ("%s: expected %s, got %s", fixed[i].frame, fixed[i].code,
                 json_object_get_string_member (error, "code"));
      g_assert_cmpstr (json_object_get_string_member (error, "message"), !=, "");
    }

  /* A rid is echoed on errors whenever the frame was an object. */
  {
    g_autoptr(JsonObject) error = NULL;

    test_client_send (a, "{\"type\":\"shout\",\"rid\":\"abc\"}");
    error = test_client_expect (a, "error");
    g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "unknown-type");
    g_assert_cmpstr (json_object_get_string_member (error, "rid"), ==, "abc");
  }

  /* Binary frames are refused the same way. */
  soup_websocket_connection_send_binary (a->websocket, "{\"type\":\"ping\"}", 15);
  test_client_expect_error (a, "bad-message");

  /* Nothing reached anybody, and the connection is still fine. */
  test_client_assert_idle (b);
  test_client_assert_idle (a);
  g_assert_false (a->closed);
  g_assert_cmpuint (signaling_server_get_messages_relayed (fixture->server), ==, 0);
  g_assert_cmpuint (signaling_server_get_messages_rejected (fixture->server), >=, G_N_ELEMENTS (fixed) + 2);
}

static void
test_too_large (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(TestClient) a = NULL;
  g_autoptr(TestClient) b = NULL;
  g_autofree char *sdp = NULL;

  g_object_set (fixture->server, "max-message-size", 1024, NULL);
  a = test_client_connect (fixture->server);
  b = test_client_connect (fixture->server);

  sdp = g_strnfill (1500, 'x');
  test_client_send (a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"%s\"}", b->id, sdp);
  test_client_expect_error (a, "too-large");
  test_client_wait_closed (a);
  g_assert_cmpuint (a->close_code, ==, 1009);
  test_client_assert_idle (b);
}

static void
test_rate_limited (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(TestClient) a = NULL;
  g_autoptr(TestClient) b = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;

  /* One message per 1000 s with a burst of 2: the third is refused
   * whatever the speed of the machine. */
  g_object_set (fixture->server, "rate-limit", 0.001, "rate-burst", 2, NULL);
  a = test_client_connect (fixture->server);
  b = test_client_connect (fixture->server);

  test_client_send (a, "{\"type\":\"message\",\"to\":\"%s\",\"data\":1}", b->id);
  test_client_send (a, "{\"type\":\"message\",\"to\":\"%s\",\"data\":2}", b->id);
  test_client_send (a, "{\"type\":\"message\",\"to\":\"%s\",\"data\":3}", b->id);
  test_client_expect_error (a, "rate-limited");
  first = test_client_expect (b, "message");
  second = test_client_expect (b, "message");
  g_assert_cmpint (json_object_get_int_member (first, "data"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (second, "data"), ==, 2);
  g_assert_true (g_queue_is_empty (b->frames));
  g_assert_false (a->closed);
}

/* A client that goes on sending past its burst hears `rate-limited`
 * once, not once per message, and is closed with 1008 once it has had
 * more than a burst refused; another client is served throughout. */
static void
test_flooder_closed (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(TestClient) flooder = NULL;
  g_autoptr(TestClient) other = NULL;
  guint64 rejected_before;

  /* 1 message a second after a burst of 5: the test sends its 40 far
   * faster than the bucket refills. */
  g_object_set (fixture->server, "rate-limit", 1.0, "rate-burst", 5, NULL);
  flooder = test_client_connect (fixture->server);
  other = test_client_connect (fixture->server);
  rejected_before = signaling_server_get_messages_rejected (fixture->server);

  for (guint i = 0; i < 40; i++)
    test_client_send (flooder, "{\"type\":\"message\",\"to\":\"%s\",\"data\":%u}", other->id, i);
  test_client_expect_error (flooder, "rate-limited");
  test_client_wait_closed (flooder);

  g_assert_cmpuint (flooder->close_code, ==, 1008);
  g_assert_true (g_queue_is_empty (flooder->frames));  /* one error, no more */
  /* Every message past the burst counts as rejected: the one told, the
   * five dropped before the close, and any libsoup had read already. */
  g_assert_cmpuint (signaling_server_get_messages_rejected (fixture->server) - rejected_before, >=, 6);
  g_assert_null (signaling_server_lookup_client (fixture->server, flooder->id));

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(JsonObject) message = test_client_expect (other, "message");

      g_assert_cmpint (json_object_get_int_member (message, "data"), ==, i);
    }
  test_client_assert_idle (other);
}

static void
test_room_full (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(TestClient) a = NULL;
  g_autoptr(TestClient) b = NULL;
  g_autoptr(JsonObject) joined = NULL;

  g_object_set (fixture->server, "max-room-members", 1, NULL);
  a = test_client_connect (fixture->server);
  b = test_client_connect (fixture->server);
  joined = join (a, "small");
  test_client_send (b, "{\"type\":\"join\",\"room\":\"small\"}");
  test_client_expect_error (b, "room-full");
  test_client_assert_idle (a);
  g_assert_cmpuint (signaling_room_get_member_count (signaling_server_lookup_room (fixture->server, "small")), ==, 1);
}

static void
test_too_many_rooms (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(TestClient) a = NULL;
  g_autoptr(JsonObject) joined = NULL;

  g_object_set (fixture->server, "max-rooms-per-client", 1, NULL);
  a = test_client_connect (fixture->server);
  joined = join (a, "one");
  test_client_send (a, "{\"type\":\"join\",\"room\":\"two\"}");
  test_client_expect_error (a, "forbidden");
  g_assert_null (signaling_server_lookup_room (fixture->server, "two"));
}

static void
test_server_full (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(TestClient) a = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(JsonNode) error = NULL;
  gushort close_code = 0;

  g_object_set (fixture->server, "max-clients", 1, NULL);
  a = test_client_connect (fixture->server);

  /* libsoup's client calls 1013 a protocol error, so read it raw. */
  texts = test_raw_session (fixture->server, "/ws", &close_code);
  g_assert_cmpuint (texts->len, ==, 1);
  error = json_from_string (g_ptr_array_index (texts, 0), NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (error), "code"), ==, "server-full");
  g_assert_cmpuint (close_code, ==, 1013);
  g_assert_cmpuint (signaling_server_get_client_count (fixture->server), ==, 1);
  test_client_assert_idle (a);
}

typedef struct {
  GPtrArray *events;
} EventLog;

static void
on_client_connected (SignalingServer *server,
                     SignalingClient *client,
                     EventLog        *log)
{
  g_ptr_array_add (log->events, g_strdup_printf ("connected %s", signaling_client_get_id (client)));
}

static void
on_client_disconnected (SignalingServer *server,
                        SignalingClient *client,
                        const char      *reason,
                        EventLog        *log)
{
  g_auto(GStrv) rooms = signaling_client_dup_rooms (client);

  g_assert_nonnull (reason);
  g_assert_cmpuint (g_strv_length (rooms), ==, 0);
  g_ptr_array_add (log->events, g_strdup_printf ("disconnected %s", signaling_client_get_id (client)));
}

static void
on_room_added (SignalingServer *server,
               SignalingRoom   *room,
               EventLog        *log)
{
  g_ptr_array_add (log->events, g_strdup_printf ("added %s", signaling_room_get_name (room)));
}

static void
on_room_removed (SignalingServer *server,
                 SignalingRoom   *room,
                 EventLog        *log)
{
  g_ptr_array_add (log->events, g_strdup_printf ("removed %s", signaling_room_get_name (room)));
}

static void
test_disconnect_cleanup (Fixture       *fixture,
                         gconstpointer  data)
{
  EventLog log = { g_ptr_array_new_with_free_func (g_free) };
  g_autoptr(TestClient) a = NULL;
  TestClient *b;
  g_autoptr(JsonObject) ja = NULL;
  g_autoptr(JsonObject) jb = NULL;
  g_autoptr(JsonObject) jb2 = NULL;
  g_autoptr(JsonObject) peer_joined = NULL;
  g_autoptr(JsonObject) peer_left = NULL;
  g_autofree char *b_id = NULL;
  gboolean gone = FALSE;

  g_signal_connect (fixture->server, "client-connected", G_CALLBACK (on_client_connected), &log);
  g_signal_connect (fixture->server, "client-disconnected", G_CALLBACK (on_client_disconnected), &log);
  g_signal_connect (fixture->server, "room-added", G_CALLBACK (on_room_added), &log);
  g_signal_connect (fixture->server, "room-removed", G_CALLBACK (on_room_removed), &log);

  a = test_client_connect (fixture->server);
  b = test_client_connect (fixture->server);
  b_id = g_strdup (b->id);
  ja = join (a, "shared");
  jb = join (b, "shared");
  jb2 = join (b, "private");
  peer_joined = test_client_expect (a, "peer-joined");
  g_assert_cmpuint (signaling_server_get_room_count (fixture->server), ==, 2);

  test_client_free (b);
  peer_left = test_client_expect (a, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (peer_left, "id"), ==, b_id);
  g_assert_cmpstr (json_object_get_string_member (peer_left, "room"), ==, "shared");

  while (!gone)
    {
      gone = signaling_server_lookup_client (fixture->server, b_id) == NULL;
      if (!gone)
        g_main_context_iteration (NULL, TRUE);
    }

  g_assert_cmpuint (signaling_server_get_client_count (fixture->server), ==, 1);
  g_assert_cmpuint (signaling_server_get_room_count (fixture->server), ==, 1);
  g_assert_null (signaling_server_lookup_room (fixture->server, "private"));
  g_assert_cmpuint (signaling_room_get_member_count (signaling_server_lookup_room (fixture->server, "shared")), ==, 1);

  /* Messages to the departed peer now fail. */
  test_client_send (a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"x\"}", b_id);
  test_client_expect_error (a, "unknown-target");

  g_assert_cmpuint (log.events->len, ==, 6);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (log.events, 0), "connected "));
  g_assert_cmpstr (g_ptr_array_index (log.events, 2), ==, "added shared");
  g_assert_cmpstr (g_ptr_array_index (log.events, 3), ==, "added private");
  g_assert_cmpstr (g_ptr_array_index (log.events, 4), ==, "removed private");
  g_assert_true (g_str_has_suffix (g_ptr_array_index (log.events, 5), b_id));

  g_signal_handlers_disconnect_by_data (fixture->server, &log);
  g_ptr_array_unref (log.events);
}

typedef struct {
  guint offers_seen;
  char *from;
} ConsumeData;

static gboolean
on_offer_consume (SignalingClient  *client,
                  SignalingMessage *message,
                  ConsumeData      *data)
{
  data->offers_seen++;
  g_free (data->from);
  data->from = g_strdup (signaling_message_get_from (message));
  g_assert_cmpint (signaling_message_get_kind (message), ==, SIGNALING_MESSAGE_KIND_OFFER);
  g_assert_cmpstr (signaling_message_get_sdp (message), ==, "secret");
  return TRUE;
}

static gboolean
on_answer_observe (SignalingClient  *client,
                   SignalingMessage *message,
                   ConsumeData      *data)
{
  return FALSE;
}

static void
test_signal_consumes (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  SignalingClient *client_a = signaling_server_lookup_client (fixture->server, a->id);
  ConsumeData consume = { 0 };
  g_autoptr(JsonObject) answer = NULL;

  g_signal_connect (client_a, "offer", G_CALLBACK (on_offer_consume), &consume);
  g_signal_connect (client_a, "answer", G_CALLBACK (on_answer_observe), &consume);

  test_client_send (a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"secret\"}", b->id);
  while (consume.offers_seen == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (consume.from, ==, a->id);
  test_client_assert_idle (b);

  /* A handler that returns FALSE lets the message through. */
  test_client_send (a, "{\"type\":\"answer\",\"to\":\"%s\",\"sdp\":\"open\"}", b->id);
  answer = test_client_expect (b, "answer");
  g_assert_cmpstr (json_object_get_string_member (answer, "sdp"), ==, "open");

  g_signal_handlers_disconnect_by_data (client_a, &consume);
  g_free (consume.from);
}

static gboolean
on_message_rewrite (SignalingClient  *client,
                    SignalingMessage *message,
                    gpointer          user_data)
{
  json_object_set_string_member (signaling_message_get_payload (message), "data", "rewritten");
  return FALSE;
}

/* A message is relayed with its members as the sender wrote them (the
 * relay copies them from the frame), never its `rid`, with `from`; one
 * an application's handler changed goes out as changed. */
static void
test_relay_as_sent (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  SignalingClient *client_a = signaling_server_lookup_client (fixture->server, a->id);
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;
  JsonObject *inner;

  test_client_send (a, "{ \"rid\" : 7, \"type\":\"message\" ,\"to\": \"%s\", "
                       "\"data\" : {\"b\":1, \"a\":[1, \"\\u00e9\"]}, \"rid\":\"again\"}", b->id);
  first = test_client_expect (b, "message");
  g_assert_false (json_object_has_member (first, "rid"));
  g_assert_cmpstr (json_object_get_string_member (first, "from"), ==, a->id);
  g_assert_cmpstr (json_object_get_string_member (first, "to"), ==, b->id);
  inner = json_object_get_object_member (first, "data");
  g_assert_cmpint (json_object_get_int_member (inner, "b"), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (inner, "a"), 1), ==, "\u00e9");
  g_assert_cmpuint (json_object_get_size (first), ==, 4);  /* type, to, data, from */

  g_signal_connect (client_a, "message", G_CALLBACK (on_message_rewrite), NULL);
  test_client_send (a, "{\"type\":\"message\",\"to\":\"%s\",\"data\":\"original\"}", b->id);
  second = test_client_expect (b, "message");
  g_assert_cmpstr (json_object_get_string_member (second, "data"), ==, "rewritten");
  g_signal_handlers_disconnect_by_func (client_a, on_message_rewrite, NULL);
}

static void
test_app_as_peer (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  SignalingClient *client = signaling_server_lookup_client (fixture->server, a->id);
  g_autoptr(JsonNode) candidate = json_from_string ("{\"candidate\":\"candidate:0 1 UDP 1 192.0.2.9 9 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}", NULL);
  g_autoptr(JsonNode) payload = json_from_string ("{\"hello\":[1,2]}", NULL);
  g_autoptr(JsonObject) offer = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonObject) got_candidate = NULL;
  g_autoptr(JsonObject) end = NULL;
  g_autoptr(JsonObject) hangup = NULL;
  g_autoptr(JsonObject) message = NULL;

  signaling_client_send_offer (client, "app", "v=0 app");
  offer = test_client_expect (a, "offer");
  g_assert_cmpstr (json_object_get_string_member (offer, "from"), ==, "app");
  g_assert_cmpstr (json_object_get_string_member (offer, "to"), ==, a->id);
  g_assert_cmpstr (json_object_get_string_member (offer, "sdp"), ==, "v=0 app");

  signaling_client_send_answer (client, "app", "v=0 answer");
  answer = test_client_expect (a, "answer");
  g_assert_cmpstr (json_object_get_string_member (answer, "sdp"), ==, "v=0 answer");

  signaling_client_send_candidate (client, "app", candidate);
  got_candidate = test_client_expect (a, "candidate");
  g_assert_true (json_node_equal (json_object_get_member (got_candidate, "candidate"), candidate));

  signaling_client_send_candidate (client, "app", NULL);
  end = test_client_expect (a, "candidate");
  g_assert_true (json_object_get_null_member (end, "candidate"));

  signaling_client_send_data (client, "app", payload);
  message = test_client_expect (a, "message");
  g_assert_true (json_node_equal (json_object_get_member (message, "data"), payload));

  signaling_client_send_hangup (client, "app", "done");
  hangup = test_client_expect (a, "hangup");
  g_assert_cmpstr (json_object_get_string_member (hangup, "reason"), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (hangup, "from"), ==, "app");

  g_assert_cmpuint (signaling_client_get_messages_out (client), ==, 6);
}

static void
test_ping (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(JsonObject) pong = NULL;
  g_autoptr(JsonObject) pong_rid = NULL;

  test_client_send (a, "{\"type\":\"ping\"}");
  pong = test_client_expect (a, "pong");
  g_assert_false (json_object_has_member (pong, "rid"));

  test_client_send (a, "{\"type\":\"ping\",\"rid\":12.5}");
  pong_rid = test_client_expect (a, "pong");
  g_assert_cmpfloat (json_object_get_double_member (pong_rid, "rid"), ==, 12.5);
}

static void
test_disconnect_client (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(GError) error = NULL;

  g_assert_false (signaling_server_disconnect_client (fixture->server, "nope", "x", &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_CLIENT);

  g_assert_true (signaling_server_disconnect_client (fixture->server, a->id, "kicked", NULL));
  test_client_wait_closed (a);
  g_assert_cmpuint (a->close_code, ==, 4000);
  g_assert_cmpstr (a->close_reason, ==, "kicked");
}

static void
test_healthz (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(JsonObject) joined = join (a, "r");
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = test_server_get_url (fixture->server, "http", "/healthz");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *health;

  body = test_send_and_read (session, msg);

  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL),
                   ==, "application/json");
  root = json_from_string (g_bytes_get_data (body, NULL), NULL);
  g_assert_nonnull (root);
  health = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (health, "status"), ==, "ok");
  g_assert_cmpint (json_object_get_int_member (health, "clients"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (health, "rooms"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (health, "uptime"), >=, 0);

  /* Each HTTP connection ends after its response (libsoup before 3.4
   * leaks the ones it keeps alive), and clients are told so. Plain
   * libsoup keeps them alive. */
  if (test_have_soup_workarounds ())
    g_assert_true (soup_message_headers_header_contains (soup_message_get_response_headers (msg),
                                                         "Connection", "close"));
}

static void
test_origin (Fixture       *fixture,
             gconstpointer  data)
{
  const char *origins[] = { "https://good.example", NULL };
  g_autofree char *url = test_server_get_url (fixture->server, "ws", "/ws");
  g_autoptr(TestClient) good = NULL;
  g_autoptr(TestClient) bad = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(GError) error = NULL;

  g_object_set (fixture->server, "allowed-origins", origins, NULL);

  bad = test_client_connect_raw (url, "https://evil.example", &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
  g_assert_cmpuint (signaling_server_get_client_count (fixture->server), ==, 0);

  good = test_client_connect_raw (url, "https://good.example", NULL);
  g_assert_nonnull (good);
  welcome = test_client_expect (good, "welcome");
}

static void
test_two_peers_negotiate (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(TestClient) alice = test_client_connect (fixture->server);
  g_autoptr(TestClient) bob = test_client_connect (fixture->server);
  g_autoptr(JsonObject) ja = join (alice, "meeting");
  g_autoptr(JsonObject) jb = join (bob, "meeting");
  g_autoptr(JsonObject) seen = test_client_expect (alice, "peer-joined");
  g_autoptr(JsonObject) offer = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonObject) cand_bob = NULL;
  g_autoptr(JsonObject) cand_alice = NULL;
  const char *bob_id = json_object_get_string_member (seen, "id");

  /* Alice learns Bob from peer-joined and calls him directly. */
  test_client_send (alice, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"o\"}", bob_id);
  offer = test_client_expect (bob, "offer");
  test_client_send (bob, "{\"type\":\"answer\",\"to\":\"%s\",\"sdp\":\"a\"}",
                    json_object_get_string_member (offer, "from"));
  answer = test_client_expect (alice, "answer");
  g_assert_cmpstr (json_object_get_string_member (answer, "from"), ==, bob->id);

  test_client_send (alice, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"candidate\":\"c1\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}", bob->id);
  test_client_send (bob, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"candidate\":\"c2\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}", alice->id);
  cand_bob = test_client_expect (bob, "candidate");
  cand_alice = test_client_expect (alice, "candidate");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (cand_bob, "candidate"), "candidate"), ==, "c1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (cand_alice, "candidate"), "candidate"), ==, "c2");
}

/* A peer that stopped reading: its socket, and the server's client
 * for it. */
typedef struct {
  SignalingServer *server;
  GSocket *socket;
  SignalingClient *client;
  gboolean connected;
  gboolean disconnected;
} SlowPeer;

static void
on_slow_connected (SignalingServer *server,
                   SignalingClient *client,
                   SlowPeer        *slow)
{
  if (slow->client == NULL)
    {
      slow->client = g_object_ref (client);
      slow->connected = TRUE;
    }
}

static void
on_slow_disconnected (SignalingServer *server,
                      SignalingClient *client,
                      const char      *reason,
                      SlowPeer        *slow)
{
  if (client == slow->client)
    slow->disconnected = TRUE;
}

/* Opens a WebSocket at /ws by hand and then never reads from it, as a
 * stalled or hostile peer would. */
static GSocket *
connect_never_reading (SignalingServer *server)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, signaling_server_get_port (server));
  g_autofree char *request = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 4096, &error);
  g_assert_no_error (error);
  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);

  request = g_strdup_printf ("GET /ws HTTP/1.1\r\n"
                             "Host: 127.0.0.1:%u\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n",
                             signaling_server_get_port (server));
  g_socket_send (socket, request, strlen (request), NULL, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&socket);
}

/* Connects a peer that never reads and waits until the server has it. */
static void
slow_peer_connect (SlowPeer        *slow,
                   SignalingServer *server)
{
  slow->server = server;
  g_signal_connect (server, "client-connected", G_CALLBACK (on_slow_connected), slow);
  g_signal_connect (server, "client-disconnected", G_CALLBACK (on_slow_disconnected), slow);
  slow->socket = connect_never_reading (server);
  test_run_until (&slow->connected);
}

static void
slow_peer_clear (SlowPeer *slow)
{
  g_signal_handlers_disconnect_by_data (slow->server, slow);
  g_clear_object (&slow->client);
  g_clear_object (&slow->socket);
}

/* A peer that stops reading is disconnected once it has left
 * max-send-queue bytes unread, instead of the server buffering for
 * it without end; the sender is not affected. Without the bound the
 * wait below never ends and the test times out. */
static void
test_slow_reader (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(TestClient) sender = NULL;
  g_autofree char *payload = g_strnfill (32 * 1024, 'x');
  SlowPeer slow = { 0 };
  guint sent = 0;

  g_object_set (fixture->server, "rate-limit", 0.0, "max-send-queue", 256 * 1024, NULL);
  slow_peer_connect (&slow, fixture->server);
  sender = test_client_connect (fixture->server);

  /* 64 MiB at most: far more than the kernel buffers hold. */
  while (!slow.disconnected && sent < 2048)
    {
      test_client_send (sender, "{\"type\":\"message\",\"to\":\"%s\",\"data\":\"%s\"}",
                        signaling_client_get_id (slow.client), payload);
      sent++;
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  test_run_until (&slow.disconnected);

  /* Messages still on their way when the slow peer was closed find it
   * gone (how many depends on the machine's speed: under valgrind,
   * dozens); then the sender is served as before. */
  g_assert_false (sender->closed);
  test_client_send (sender, "{\"type\":\"ping\",\"rid\":\"after\"}");
  for (;;)
    {
      g_autoptr(JsonObject) frame = test_client_receive (sender);
      const char *type = json_object_get_string_member (frame, "type");

      if (g_str_equal (type, "pong"))
        break;
      g_assert_cmpstr (type, ==, "error");
      g_assert_cmpstr (json_object_get_string_member (frame, "code"), ==, "unknown-target");
    }
  g_assert_false (sender->closed);
  test_client_assert_idle (sender);

  slow_peer_clear (&slow);
}

/* A peer that answers neither messages nor pings is closed after two
 * keepalive intervals; one whose WebSocket answers pings stays. */
static void
test_unresponsive_peer (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(TestClient) alive = NULL;
  SlowPeer mute = { 0 };

  g_object_set (fixture->server, "keepalive-interval", 1, NULL);
  slow_peer_connect (&mute, fixture->server);
  alive = test_client_connect (fixture->server);

  test_run_until (&mute.disconnected);
  g_assert_false (alive->closed);
  test_client_assert_idle (alive);

  slow_peer_clear (&mute);
}

static gboolean
on_readable (GSocket      *socket,
             GIOCondition  condition,
             gboolean     *readable)
{
  *readable = TRUE;
  return G_SOURCE_REMOVE;
}

/* A connection that never sends its request is dropped after
 * request-timeout seconds; one that does is served. */
static void
test_silent_connection (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GSocket) silent = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSource) source = NULL;
  g_autoptr(TestClient) talker = NULL;
  g_autoptr(GError) error = NULL;
  gboolean readable = FALSE;
  char buffer[16];

  if (test_skip_without_soup_workarounds ("only the acceptor has a request timeout"))
    return;

  g_object_set (fixture->server, "request-timeout", 1, NULL);
  address = g_inet_socket_address_new (loopback, signaling_server_get_port (fixture->server));
  g_socket_connect (silent, address, NULL, &error);
  g_assert_no_error (error);

  talker = test_client_connect (fixture->server);

  source = g_socket_create_source (silent, G_IO_IN | G_IO_HUP, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) on_readable, &readable, NULL);
  g_source_attach (source, NULL);
  test_run_until (&readable);

  /* End of stream, and no HTTP response: the server just let go. */
  g_assert_cmpint (g_socket_receive (silent, buffer, sizeof buffer, NULL, &error), ==, 0);
  g_assert_no_error (error);
  test_client_assert_idle (talker);
}


/* A WebSocket client by hand, for what libsoup's client will not send:
 * endless fragments, absurd frame headers, text that is not UTF-8. In
 * a thread, with the server on the main loop. */
typedef struct {
  guint port;
  GBytes *frames;         /* sent right after the upgrade */
  guint64 fragments;      /* then continuation frames, up to this many bytes */
  gboolean early;         /* frames go with the upgrade request */
  guint expect_texts;     /* after as many text frames, close ourselves */
  GPtrArray *texts;       /* what the server sent */
  GPtrArray *pongs;       /* the payloads of its pongs */
  gushort close_code;     /* of the server's close frame; 0 for none */
  guint64 sent;
  gint done;
} Hostile;

/* A client frame, masked with a zero key (so the payload goes as is),
 * announcing @announced bytes and carrying @length of them. */
static void
append_client_frame (GByteArray *out,
                     guint8      first,
                     const void *payload,
                     gsize       length,
                     guint64     announced)
{
  static const guint8 zero_mask[4] = { 0 };
  guint8 header[10] = { first };

  if (announced < 126)
    {
      header[1] = 0x80 | announced;
      g_byte_array_append (out, header, 2);
    }
  else if (announced <= G_MAXUINT16)
    {
      header[1] = 0x80 | 126;
      header[2] = announced >> 8;
      header[3] = announced & 0xff;
      g_byte_array_append (out, header, 4);
    }
  else
    {
      header[1] = 0x80 | 127;
      for (guint i = 0; i < 8; i++)
        header[2 + i] = (announced >> (56 - 8 * i)) & 0xff;
      g_byte_array_append (out, header, 10);
    }
  g_byte_array_append (out, zero_mask, 4);
  g_byte_array_append (out, payload, length);
}

/* Continuation frames of 16 KiB until the cap, the server answers, or
 * it is gone. */
static void
hostile_send_fragments (Hostile           *hostile,
                        GSocketConnection *connection)
{
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autofree char *chunk = g_strnfill (16 * 1024, 'x');
  g_autoptr(GByteArray) frame = g_byte_array_new ();

  append_client_frame (frame, 0x00, chunk, 16 * 1024, 16 * 1024);
  while (hostile->sent < hostile->fragments &&
         !(g_socket_condition_check (socket, G_IO_IN) & G_IO_IN))
    {
      if (!g_output_stream_write_all (output, frame->data, frame->len, NULL, NULL, NULL))
        return;
      hostile->sent += 16 * 1024;
    }
  /* Never answered: say we are done, so that the test ends. */
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
}

/* Reads one server frame: FALSE at the end (close frame or EOF). */
static gboolean
hostile_read_frame (Hostile      *hostile,
                    GInputStream *input)
{
  return test_raw_websocket_read_frame_full (input, hostile->texts, hostile->pongs, &hostile->close_code);
}

static gpointer
hostile_thread (gpointer user_data)
{
  Hostile *hostile = user_data;
  g_autoptr(GDataInputStream) input = NULL;
  g_autoptr(GSocketConnection) connection =
    test_raw_websocket_open_with (hostile->port, "/ws", hostile->early ? hostile->frames : NULL, &input);
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  /* The welcome first, so that anything readable later is an answer. */
  g_assert_true (hostile_read_frame (hostile, G_INPUT_STREAM (input)));

  /* The server may be gone before all of it is written. */
  if (hostile->frames != NULL && !hostile->early)
    g_output_stream_write_all (output, g_bytes_get_data (hostile->frames, NULL),
                               g_bytes_get_size (hostile->frames), NULL, NULL, NULL);
  if (hostile->fragments > 0)
    hostile_send_fragments (hostile, connection);

  while (hostile_read_frame (hostile, G_INPUT_STREAM (input)))
    if (hostile->texts->len == hostile->expect_texts)
      {
        g_autoptr(GByteArray) close = g_byte_array_new ();

        append_client_frame (close, 0x88, "\x03\xe8", 2, 2);
        g_output_stream_write_all (output, close->data, close->len, NULL, NULL, NULL);
      }

  g_atomic_int_set (&hostile->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

static gboolean
on_hostile_hang (gpointer user_data)
{
  g_error ("Timed out after %d s: the server neither closed nor answered", TEST_TIMEOUT_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
hostile_run (Hostile         *hostile,
             SignalingServer *server)
{
  g_autoptr(GThread) thread = NULL;
  guint timeout = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS, on_hostile_hang, NULL);

  hostile->port = signaling_server_get_port (server);
  hostile->texts = g_ptr_array_new_with_free_func (g_free);
  hostile->pongs = g_ptr_array_new_with_free_func (g_free);
  thread = g_thread_new ("hostile-websocket", hostile_thread, hostile);
  while (!g_atomic_int_get (&hostile->done))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  g_thread_join (g_steal_pointer (&thread));
}

static void
hostile_clear (Hostile *hostile)
{
  g_clear_pointer (&hostile->frames, g_bytes_unref);
  g_clear_pointer (&hostile->texts, g_ptr_array_unref);
  g_clear_pointer (&hostile->pongs, g_ptr_array_unref);
}

static void
assert_error_code (const char *text,
                   const char *code)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (object, "code"), ==, code);
}

static gsize
resident_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

/* A message that never ends, in fragments each far below the limit:
 * the limit holds over the whole message (libsoup 3.2 buffered it
 * without bound, CVE-2025-32049). The peer hears why, then 1009, and
 * the server's memory stays put. Others are not disturbed. */
static void
test_too_large_fragments (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(TestClient) bystander = test_client_connect (fixture->server);
  g_autoptr(GByteArray) first = g_byte_array_new ();
  g_autofree char *chunk = g_strnfill (16 * 1024, 'x');
  Hostile hostile = { 0 };
  gsize before;


  /* A text frame without FIN: a message is starting. */
  append_client_frame (first, 0x01, chunk, 16 * 1024, 16 * 1024);
  hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&first));
  hostile.fragments = 256 * 1024 * 1024;

  before = resident_kib ();
  hostile_run (&hostile, fixture->server);

  g_assert_cmpuint (hostile.texts->len, ==, 2);  /* welcome, error */
  assert_error_code (g_ptr_array_index (hostile.texts, 1), "too-large");
  g_assert_cmpuint (hostile.close_code, ==, 1009);
  g_assert_cmpuint (hostile.sent, <, hostile.fragments);
  g_assert_cmpuint (resident_kib (), <, before + 64 * 1024);
  test_client_assert_idle (bystander);

  hostile_clear (&hostile);
}

/* Frames over the limit get `too-large` and 1009 whatever their size:
 * libsoup drops those over its own limit without a close frame. */
static void
test_too_large_frames (Fixture       *fixture,
                       gconstpointer  data)
{
  static const struct {
    gsize sent;
    guint64 announced;
  } cases[] = {
    { 3 * 1024, 3 * 1024 },                 /* over twice the limit */
    { 4096, G_GUINT64_CONSTANT (1) << 30 }, /* a header announcing 1 GiB */
    { 0, G_MAXINT64 },                      /* a bare header, the most there is */
  };
  g_autofree char *payload = g_strnfill (4096, 'x');


  g_object_set (fixture->server, "max-message-size", 1024, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) frame = g_byte_array_new ();
      Hostile hostile = { 0 };

      append_client_frame (frame, 0x81, payload, cases[i].sent, cases[i].announced);
      hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&frame));
      hostile_run (&hostile, fixture->server);

      g_assert_cmpuint (hostile.texts->len, ==, 2);  /* welcome, error */
      assert_error_code (g_ptr_array_index (hostile.texts, 1), "too-large");
      g_assert_cmpuint (hostile.close_code, ==, 1009);
      hostile_clear (&hostile);
    }
}

/* Text that is not UTF-8 is `bad-json`, and the connection stays, as
 * docs/protocol.md says (libsoup alone would close with 1007). Valid
 * text split in fragments, mid-character, still goes through. */
static void
test_not_utf8 (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  static const char ping[] = "{\"type\":\"ping\",\"rid\":\"\xc3\xa9t\xc3\xa9\"}";
  gsize split = strlen ("{\"type\":\"ping\",\"rid\":\"\xc3");
  Hostile hostile = { 0 };


  append_client_frame (frames, 0x81, "{\"type\":\"ping\",\"rid\":\"\xff\"}", 25, 25);
  append_client_frame (frames, 0x01, "{\"type\":\"ping\",\"rid\":\"\xc3", split - 1, split - 1);
  append_client_frame (frames, 0x80, "(", 1, 1);  /* completes \xc3 into nothing valid */
  append_client_frame (frames, 0x01, ping, split, split);
  append_client_frame (frames, 0x80, ping + split, strlen (ping) - split, strlen (ping) - split);
  append_client_frame (frames, 0x82, "{\"type\":\"ping\"}", 15, 15);
  hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&frames));
  hostile.expect_texts = 5;  /* welcome, 2 × bad-json, pong, bad-message */

  hostile_run (&hostile, fixture->server);

  g_assert_cmpuint (hostile.texts->len, ==, 5);
  assert_error_code (g_ptr_array_index (hostile.texts, 1), "bad-json");
  assert_error_code (g_ptr_array_index (hostile.texts, 2), "bad-json");
  g_assert_cmpstr (g_ptr_array_index (hostile.texts, 3), ==, "{\"type\":\"pong\",\"rid\":\"\xc3\xa9t\xc3\xa9\"}");
  assert_error_code (g_ptr_array_index (hostile.texts, 4), "bad-message");
  /* Our own close, answered: the server never closed on its own. */
  g_assert_cmpuint (hostile.close_code, ==, 1000);

  hostile_clear (&hostile);
}

/* Frames that break RFC 6455: the connection is failed with 1002
 * (1007 for a close reason that is not UTF-8), and nothing of it
 * reaches the router. */
static void
test_websocket_protocol_errors (Fixture       *fixture,
                                gconstpointer  data)
{
  static const struct {
    const char *what;
    guint8 first;
    gsize length;
    gboolean unmasked;
    gushort code;
  } cases[] = {
    { "reserved bit", 0x81 | 0x40, 15, FALSE, 1002 },
    { "unknown data opcode", 0x83, 15, FALSE, 1002 },
    { "unknown control opcode", 0x8b, 0, FALSE, 1002 },
    { "fragmented ping", 0x09, 0, FALSE, 1002 },
    { "ping of 126 bytes", 0x89, 126, FALSE, 1002 },
    { "continuation of nothing", 0x80, 15, FALSE, 1002 },
    { "unmasked text", 0x81, 15, TRUE, 1002 },
  };
  g_autoptr(TestClient) bystander = test_client_connect (fixture->server);
  g_autofree char *payload = g_strnfill (200, 'x');

  memcpy (payload, "{\"type\":\"ping\"}", 15);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) frame = g_byte_array_new ();
      Hostile hostile = { 0 };

      g_test_message ("%s", cases[i].what);
      if (cases[i].unmasked)
        {
          guint8 header[2] = { cases[i].first, cases[i].length };

          g_byte_array_append (frame, header, 2);
          g_byte_array_append (frame, (const guint8 *) payload, cases[i].length);
        }
      else
        append_client_frame (frame, cases[i].first, payload, cases[i].length, cases[i].length);
      /* A valid ping after it must go unanswered: nothing is read
       * past a protocol error. */
      append_client_frame (frame, 0x81, "{\"type\":\"ping\"}", 15, 15);
      hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&frame));
      hostile_run (&hostile, fixture->server);

      g_assert_cmpuint (hostile.texts->len, ==, 1);  /* the welcome */
      g_assert_cmpuint (hostile.close_code, ==, cases[i].code);
      hostile_clear (&hostile);
    }

  /* Close frames: one byte, a code no frame may carry, a reason that
   * is not UTF-8. */
  {
    static const struct { const char *payload; gsize length; gushort code; } closes[] = {
      { "\x03", 1, 1002 },
      { "\x03\xed", 2, 1002 },  /* 1005 */
      { "\x03\xe8\xff", 3, 1007 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (closes); i++)
      {
        g_autoptr(GByteArray) frame = g_byte_array_new ();
        Hostile hostile = { 0 };

        append_client_frame (frame, 0x88, closes[i].payload, closes[i].length, closes[i].length);
        hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&frame));
        hostile_run (&hostile, fixture->server);
        g_assert_cmpuint (hostile.close_code, ==, closes[i].code);
        hostile_clear (&hostile);
      }
  }
  test_client_assert_idle (bystander);
}

/* What a correct client may send: pings with a payload (answered with
 * it), a message in fragments with a ping between them, many messages
 * in one write, frames sent with the upgrade request before its
 * answer, and a close with its own code (answered with that code). */
static void
test_websocket_framing (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  static const char ping[] = "{\"type\":\"ping\",\"rid\":\"fragmented\"}";
  Hostile hostile = { 0 };

  append_client_frame (frames, 0x89, "hello", 5, 5);
  append_client_frame (frames, 0x01, ping, 10, 10);
  append_client_frame (frames, 0x89, "between", 7, 7);
  append_client_frame (frames, 0x00, ping + 10, 10, 10);
  append_client_frame (frames, 0x80, ping + 20, strlen (ping) - 20, strlen (ping) - 20);
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"type\":\"ping\",\"rid\":%u}", i);

      append_client_frame (frames, 0x81, text, strlen (text), strlen (text));
    }
  hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&frames));
  hostile.early = TRUE;
  hostile.expect_texts = 1 + 1 + 300;
  hostile_run (&hostile, fixture->server);

  g_assert_cmpuint (hostile.texts->len, ==, 302);
  g_assert_cmpstr (g_ptr_array_index (hostile.texts, 1), ==, "{\"type\":\"pong\",\"rid\":\"fragmented\"}");
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *expected = g_strdup_printf ("{\"type\":\"pong\",\"rid\":%u}", i);

      g_assert_cmpstr (g_ptr_array_index (hostile.texts, 2 + i), ==, expected);
    }
  g_assert_cmpuint (hostile.pongs->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (hostile.pongs, 0), ==, "hello");
  g_assert_cmpstr (g_ptr_array_index (hostile.pongs, 1), ==, "between");
  g_assert_cmpuint (hostile.close_code, ==, 1000);  /* our own, echoed */
  hostile_clear (&hostile);

  hostile = (Hostile) { 0 };
  frames = g_byte_array_new ();
  append_client_frame (frames, 0x88, "\x0f\xa0" "bye", 5, 5);  /* 4000 */
  hostile.frames = g_byte_array_free_to_bytes (g_steal_pointer (&frames));
  hostile_run (&hostile, fixture->server);
  g_assert_cmpuint (hostile.close_code, ==, 4000);
  hostile_clear (&hostile);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, test_server_fixture_setup, func, test_server_fixture_teardown)
  ADD ("/native/welcome", test_welcome);
  ADD ("/native/welcome/ice-servers", test_welcome_ice_servers);
  ADD ("/native/welcome/ids-unique", test_ids_unique);
  ADD ("/native/welcome/id-alphabet", test_id_alphabet);
  ADD ("/native/rooms/join-leave", test_join_leave);
  ADD ("/native/rooms/removed-when-empty", test_room_removed_when_empty);
  ADD ("/native/relay/direct", test_relay_direct);
  ADD ("/native/relay/as-sent", test_relay_as_sent);
  ADD ("/native/relay/room", test_relay_room);
  ADD ("/native/relay/from-refused", test_from_refused);
  ADD ("/native/relay/two-peers-negotiate", test_two_peers_negotiate);
  ADD ("/native/errors/bad-input", test_bad_input);
  ADD ("/native/errors/too-large", test_too_large);
  ADD ("/native/errors/too-large-fragments", test_too_large_fragments);
  ADD ("/native/errors/too-large-frames", test_too_large_frames);
  ADD ("/native/errors/not-utf8", test_not_utf8);
  ADD ("/native/websocket/protocol-errors", test_websocket_protocol_errors);
  ADD ("/native/websocket/framing", test_websocket_framing);
  ADD ("/native/errors/rate-limited", test_rate_limited);
  ADD ("/native/errors/flooder-closed", test_flooder_closed);
  ADD ("/native/errors/room-full", test_room_full);
  ADD ("/native/errors/too-many-rooms", test_too_many_rooms);
  ADD ("/native/errors/server-full", test_server_full);
  ADD ("/native/errors/slow-reader", test_slow_reader);
  ADD ("/native/errors/silent-connection", test_silent_connection);
  ADD ("/native/disconnect/unresponsive", test_unresponsive_peer);
  ADD ("/native/disconnect/cleanup", test_disconnect_cleanup);
  ADD ("/native/disconnect/by-server", test_disconnect_client);
  ADD ("/native/signals/consume", test_signal_consumes);
  ADD ("/native/app-as-peer", test_app_as_peer);
  ADD ("/native/ping", test_ping);
  ADD ("/native/healthz", test_healthz);
  ADD ("/native/origin", test_origin);
#undef ADD

  return g_test_run ();
}
