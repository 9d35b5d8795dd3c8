/* test-socketio-dialect.c: the seed vocabularies' codec, without a socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Socket.IO packets in, SignalingMessages out, and back out as packets
 * in each seed's words: what signaling-socketio-connection.c does with
 * an event, short of the router and the Engine.IO session.
 */
#include "signaling-client-private.h"
#include "signaling-connection-private.h"
#include "signaling-error.h"
#include "signaling-message-private.h"
#include "signaling-socketio-connection-private.h"
#include "signaling-socketio-packet-private.h"

#include "test-utils.h"

/* A sender needs a connection; this one is never used. */
#define IDLE_TYPE_PEER (idle_peer_get_type ())
G_DECLARE_FINAL_TYPE (IdlePeer, idle_peer, IDLE, PEER, GObject)

struct _IdlePeer
{
  GObject parent_instance;
};

static gsize
idle_peer_deliver (SignalingConnection *connection,
                   SignalingMessage    *message)
{
  g_assert_not_reached ();
}

static void
idle_peer_close (SignalingConnection *connection,
                 gushort              code,
                 const char          *reason)
{
  g_assert_not_reached ();
}

static const char *
idle_peer_get_protocol (SignalingConnection *connection)
{
  return "socket.io";
}

static const char *
idle_peer_get_transport (SignalingConnection *connection)
{
  return "websocket";
}

static void
idle_peer_connection_init (SignalingConnectionInterface *iface)
{
  iface->deliver = idle_peer_deliver;
  iface->close = idle_peer_close;
  iface->get_protocol = idle_peer_get_protocol;
  iface->get_transport = idle_peer_get_transport;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (IdlePeer, idle_peer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SIGNALING_TYPE_CONNECTION,
                                                      idle_peer_connection_init))

static void
idle_peer_class_init (IdlePeerClass *klass)
{
}

static void
idle_peer_init (IdlePeer *self)
{
}

static SignalingClient *
new_sender (const char *id)
{
  g_autoptr(IdlePeer) peer = g_object_new (IDLE_TYPE_PEER, NULL);

  return signaling_client_new (id, "192.0.2.1", SIGNALING_CONNECTION (peer));
}

/* Decodes the Socket.IO packet @text as the connection would, with
 * @sender as the sender, and stamps @sender's id on the message as the
 * router would. */
static SignalingMessage *
decode (SignalingClient      *sender,
        const char           *text,
        SignalingVocabulary   expected_vocabulary,
        GError              **error)
{
  g_autoptr(GError) packet_error = NULL;
  g_autoptr(SignalingSocketioPacket) packet = NULL;
  g_autoptr(JsonArray) args = json_array_new ();
  SignalingMessage *message;
  SignalingVocabulary vocabulary;
  SignalingMessageKind kind;
  JsonArray *data;
  guint n_attachments;

  packet = signaling_socketio_packet_decode (text, strlen (text), &n_attachments, &packet_error);
  g_assert_no_error (packet_error);
  g_assert_cmpuint (n_attachments, ==, 0);
  g_assert_cmpint (packet->type, ==, SIGNALING_SOCKETIO_PACKET_EVENT);
  data = json_node_get_array (packet->data);
  g_assert_true (signaling_socketio_dialect_lookup_event (json_array_get_string_element (data, 0),
                                                          &vocabulary, &kind));
  g_assert_cmpint (vocabulary, ==, expected_vocabulary);
  for (guint i = 1; i < json_array_get_length (data); i++)
    json_array_add_element (args, json_node_copy (json_array_get_element (data, i)));

  if (vocabulary == SIGNALING_VOCABULARY_SEED000)
    message = signaling_socketio_dialect_decode_seed000 (kind, args, error);
  else
    message = signaling_socketio_dialect_decode_seed003 (sender, kind, args, error);

  if (message != NULL)
    {
      g_assert_cmpstr (signaling_message_get_dialect (message), ==, "socket.io");
      /* Both seeds emit to the target as io.to() does. */
      g_assert_true (signaling_message_get_include_sender (message));
      signaling_message_set_from (message, signaling_client_get_id (sender));
    }
  return message;
}

static SignalingMessage *
decode_ok (SignalingClient     *sender,
           const char          *text,
           SignalingVocabulary  vocabulary)
{
  g_autoptr(GError) error = NULL;
  SignalingMessage *message = decode (sender, text, vocabulary, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static void
assert_decode_error (SignalingClient     *sender,
                     const char          *text,
                     SignalingVocabulary  vocabulary,
                     SignalingError       code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingMessage) message = decode (sender, text, vocabulary, &error);

  if (message != NULL)
    g_error ("%s decoded, expected %s", text, signaling_error_to_code (code));
  g_assert_error (error, SIGNALING_ERROR, (gint) code);
}

/* @message as the packet a peer speaking @vocabulary receives, or NULL. */
static char *
encode (SignalingMessage    *message,
        SignalingVocabulary  vocabulary)
{
  const char *event = NULL;
  JsonObject *object = signaling_socketio_dialect_encode (message, vocabulary, &event);
  g_autoptr(JsonArray) data = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(SignalingSocketioPacket) packet = NULL;

  if (object == NULL)
    return NULL;

  data = json_array_new ();
  json_array_add_string_element (data, event);
  json_array_add_object_element (data, object);
  node = json_node_init_array (json_node_alloc (), data);
  packet = signaling_socketio_packet_new (SIGNALING_SOCKETIO_PACKET_EVENT, "/", -1, node);
  return signaling_socketio_packet_encode (packet);
}

static void
assert_encodes (SignalingMessage    *message,
                SignalingVocabulary  vocabulary,
                const char          *expected)
{
  g_autofree char *text = encode (message, vocabulary);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_native (SignalingMessage *message,
               const char       *expected)
{
  g_autofree char *json = signaling_message_to_json (message);

  g_assert_cmpstr (json, ==, expected);
}

static void
test_lookup (void)
{
  SignalingVocabulary vocabulary;
  SignalingMessageKind kind;

  g_assert_true (signaling_socketio_dialect_lookup_event ("send_ice", &vocabulary, &kind));
  g_assert_cmpint (vocabulary, ==, SIGNALING_VOCABULARY_SEED000);
  g_assert_cmpint (kind, ==, SIGNALING_MESSAGE_KIND_CANDIDATE);
  g_assert_true (signaling_socketio_dialect_lookup_event ("hangup", &vocabulary, &kind));
  g_assert_cmpint (vocabulary, ==, SIGNALING_VOCABULARY_SEED003);
  g_assert_cmpint (kind, ==, SIGNALING_MESSAGE_KIND_HANGUP);

  /* Rooms are not relayed messages, and the rest is the application's. */
  g_assert_false (signaling_socketio_dialect_lookup_event ("JoinSocket", &vocabulary, &kind));
  g_assert_false (signaling_socketio_dialect_lookup_event ("chat", &vocabulary, &kind));
  g_assert_false (signaling_socketio_dialect_lookup_event ("your_id", &vocabulary, &kind));
}

static void
test_seed000_offer (void)
{
  g_autoptr(SignalingClient) sender = new_sender ("a");
  g_autoptr(SignalingMessage) message =
    decode_ok (sender, "2[\"offer_sdp\",\"{\\\"targetClientId\\\":\\\"b\\\",\\\"sdp\\\":\\\"v=0\\\",\\\"x\\\":1}\"]",
               SIGNALING_VOCABULARY_SEED000);

  g_assert_cmpint (signaling_message_get_kind (message), ==, SIGNALING_MESSAGE_KIND_OFFER);
  g_assert_cmpstr (signaling_message_get_to (message), ==, "b");
  assert_native (message, "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\",\"from\":\"a\"}");

  assert_encodes (message, SIGNALING_VOCABULARY_SEED000,
                  "2[\"offer_sdp\",{\"from\":\"a\",\"sdp\":\"v=0\"}]");
  assert_encodes (message, SIGNALING_VOCABULARY_SEED003,
                  "2[\"offer\",{\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\"},\"from\":\"a\"}]");

  /* The payload, built only for a reader, says the same. */
  g_assert_cmpstr (signaling_message_get_sdp (message), ==, "v=0");
  g_assert_cmpstr (json_object_get_string_member (signaling_message_get_payload (message), "from"), ==, "a");
  g_assert_cmpuint (json_object_get_size (signaling_message_get_payload (message)), ==, 4);
}

static void
test_seed000_candidate (void)
{
  g_autoptr(SignalingClient) sender = new_sender ("a");
  g_autoptr(SignalingMessage) message =
    decode_ok (sender, "2[\"send_ice\",\"{\\\"targetClientId\\\":\\\"b\\\",\\\"candidate\\\":\\\"c1\\\",\\\"mid\\\":\\\"0\\\"}\"]",
               SIGNALING_VOCABULARY_SEED000);

  assert_native (message,
                 "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":\"c1\",\"sdpMid\":\"0\"},\"from\":\"a\"}");
  assert_encodes (message, SIGNALING_VOCABULARY_SEED000,
                  "2[\"send_ice\",{\"from\":\"a\",\"candidate\":\"c1\",\"mid\":\"0\"}]");
  assert_encodes (message, SIGNALING_VOCABULARY_SEED003,
                  "2[\"candidate\",{\"candidate\":{\"candidate\":\"c1\",\"sdpMid\":\"0\"},\"from\":\"a\"}]");
}

static void
test_seed000_errors (void)
{
  g_autoptr(SignalingClient) sender = new_sender ("a");

  /* The seed's argument is an object in a JSON string. */
  assert_decode_error (sender, "2[\"offer_sdp\",{\"targetClientId\":\"b\",\"sdp\":\"v=0\"}]",
                       SIGNALING_VOCABULARY_SEED000, SIGNALING_ERROR_BAD_MESSAGE);
  assert_decode_error (sender, "2[\"offer_sdp\"]",
                       SIGNALING_VOCABULARY_SEED000, SIGNALING_ERROR_BAD_MESSAGE);
  assert_decode_error (sender, "2[\"offer_sdp\",\"{nope\"]",
                       SIGNALING_VOCABULARY_SEED000, SIGNALING_ERROR_BAD_JSON);
  assert_decode_error (sender, "2[\"offer_sdp\",\"{\\\"sdp\\\":\\\"v=0\\\"}\"]",
                       SIGNALING_VOCABULARY_SEED000, SIGNALING_ERROR_BAD_MESSAGE);
  /* The native rules for the body hold for every dialect. */
  assert_decode_error (sender, "2[\"answer_sdp\",\"{\\\"targetClientId\\\":\\\"b\\\",\\\"sdp\\\":5}\"]",
                       SIGNALING_VOCABULARY_SEED000, SIGNALING_ERROR_BAD_MESSAGE);
}

static void
test_seed003_offer (void)
{
  g_autoptr(SignalingClient) sender = new_sender ("sid1");
  g_autoptr(SignalingMessage) trusted = NULL;
  g_autoptr(SignalingMessage) untrusted = NULL;
  const char *text =
    "2[\"offer\",{\"to\":\"room1\",\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\",\"x\":1},\"from\":\"alice\"}]";

  /* Its own "from" is kept only for a room the sender is in. */
  untrusted = decode_ok (sender, text, SIGNALING_VOCABULARY_SEED003);
  assert_encodes (untrusted, SIGNALING_VOCABULARY_SEED003,
                  "2[\"offer\",{\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\",\"x\":1},\"from\":\"sid1\"}]");

  signaling_client_add_room (sender, "alice");
  trusted = decode_ok (sender, text, SIGNALING_VOCABULARY_SEED003);
  g_assert_cmpint (signaling_message_get_kind (trusted), ==, SIGNALING_MESSAGE_KIND_OFFER);
  g_assert_cmpstr (signaling_message_get_to (trusted), ==, "room1");
  assert_native (trusted, "{\"type\":\"offer\",\"to\":\"room1\",\"sdp\":\"v=0\",\"from\":\"sid1\"}");

  /* The same vocabulary gets the argument as sent, another a translation. */
  assert_encodes (trusted, SIGNALING_VOCABULARY_SEED003,
                  "2[\"offer\",{\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\",\"x\":1},\"from\":\"alice\"}]");
  assert_encodes (trusted, SIGNALING_VOCABULARY_SEED000,
                  "2[\"offer_sdp\",{\"from\":\"sid1\",\"sdp\":\"v=0\"}]");
  signaling_client_remove_room (sender, "alice");
}

static void
test_seed003_numeric_room (void)
{
  g_autoptr(SignalingClient) sender = new_sender ("sid1");
  g_autoptr(SignalingMessage) message =
    decode_ok (sender, "2[\"hangup\",{\"to\":42}]", SIGNALING_VOCABULARY_SEED003);

  g_assert_cmpstr (signaling_message_get_to (message), ==, "42");
  assert_encodes (message, SIGNALING_VOCABULARY_SEED003, "2[\"hangup\",{\"from\":\"sid1\"}]");
  assert_encodes (message, SIGNALING_VOCABULARY_SEED000, "2[\"hangup\",{\"from\":\"sid1\"}]");
}

static void
test_seed003_errors (void)
{
  g_autoptr(SignalingClient) sender = new_sender ("sid1");

  assert_decode_error (sender, "2[\"offer\",\"not an object\"]",
                       SIGNALING_VOCABULARY_SEED003, SIGNALING_ERROR_BAD_MESSAGE);
  assert_decode_error (sender, "2[\"offer\",{\"offer\":{\"sdp\":\"v=0\"}}]",
                       SIGNALING_VOCABULARY_SEED003, SIGNALING_ERROR_BAD_MESSAGE);
  assert_decode_error (sender, "2[\"offer\",{\"to\":\"\",\"offer\":{\"sdp\":\"v=0\"}}]",
                       SIGNALING_VOCABULARY_SEED003, SIGNALING_ERROR_BAD_MESSAGE);
  assert_decode_error (sender, "2[\"offer\",{\"to\":\"r\",\"offer\":{\"sdp\":7}}]",
                       SIGNALING_VOCABULARY_SEED003, SIGNALING_ERROR_BAD_MESSAGE);
  assert_decode_error (sender, "2[\"candidate\",{\"to\":\"r\",\"candidate\":\"c1\"}]",
                       SIGNALING_VOCABULARY_SEED003, SIGNALING_ERROR_BAD_MESSAGE);
}

static void
test_native_in_seed_words (void)
{
  g_autoptr(SignalingMessage) hangup = signaling_message_new_hangup ("b", "bye");
  g_autoptr(JsonNode) candidate = json_from_string ("{\"candidate\":\"c2\",\"sdpMid\":\"1\",\"sdpMLineIndex\":0}", NULL);
  g_autoptr(SignalingMessage) ice = signaling_message_new_candidate ("b", candidate);
  g_autoptr(SignalingMessage) done = signaling_message_new_candidate ("b", NULL);
  g_autoptr(JsonObject) payload = json_object_new ();
  g_autoptr(SignalingMessage) join = NULL;
  g_autoptr(SignalingMessage) ping = NULL;

  signaling_message_set_from (hangup, "a");
  assert_encodes (hangup, SIGNALING_VOCABULARY_SEED000, "2[\"hangup\",{\"from\":\"a\",\"reason\":\"bye\"}]");
  assert_encodes (hangup, SIGNALING_VOCABULARY_SEED003, "2[\"hangup\",{\"reason\":\"bye\",\"from\":\"a\"}]");

  signaling_message_set_from (ice, "a");
  assert_encodes (ice, SIGNALING_VOCABULARY_SEED000,
                  "2[\"send_ice\",{\"from\":\"a\",\"candidate\":\"c2\",\"mid\":\"1\"}]");
  assert_encodes (ice, SIGNALING_VOCABULARY_SEED003,
                  "2[\"candidate\",{\"candidate\":{\"candidate\":\"c2\",\"sdpMid\":\"1\",\"sdpMLineIndex\":0},\"from\":\"a\"}]");
  /* The end of candidates, in seed 000's words. */
  signaling_message_set_from (done, "a");
  assert_encodes (done, SIGNALING_VOCABULARY_SEED000,
                  "2[\"send_ice\",{\"from\":\"a\",\"candidate\":null,\"mid\":null}]");

  /* The seeds have no words for rooms or keep-alives. */
  json_object_set_string_member (payload, "room", "r");
  join = signaling_message_new (SIGNALING_MESSAGE_KIND_JOIN, "r", payload);
  signaling_message_set_from (join, "a");
  g_assert_null (encode (join, SIGNALING_VOCABULARY_SEED000));
  g_assert_null (encode (join, SIGNALING_VOCABULARY_SEED003));
  ping = signaling_message_new (SIGNALING_MESSAGE_KIND_PING, NULL, NULL);
  g_assert_null (encode (ping, SIGNALING_VOCABULARY_SEED003));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/socketio-dialect/lookup", test_lookup);
  g_test_add_func ("/socketio-dialect/seed000/offer", test_seed000_offer);
  g_test_add_func ("/socketio-dialect/seed000/candidate", test_seed000_candidate);
  g_test_add_func ("/socketio-dialect/seed000/errors", test_seed000_errors);
  g_test_add_func ("/socketio-dialect/seed003/offer", test_seed003_offer);
  g_test_add_func ("/socketio-dialect/seed003/numeric-room", test_seed003_numeric_room);
  g_test_add_func ("/socketio-dialect/seed003/errors", test_seed003_errors);
  g_test_add_func ("/socketio-dialect/native-in-seed-words", test_native_in_seed_words);

  return g_test_run ();
}
