/* test-packets.c: Engine.IO v4 and Socket.IO v5 packet codecs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling-engineio-packet-private.h"
#include "signaling-json-private.h"
#include "signaling-socketio-packet-private.h"

#include "test-utils.h"

/* Engine.IO */

static void
test_engineio_ws_text (void)
{
  static const struct {
    const char *text;
    SignalingEngineioPacketKind kind;
    const char *data;
  } cases[] = {
    { "0{\"sid\":\"x\"}", SIGNALING_ENGINEIO_PACKET_OPEN, "{\"sid\":\"x\"}" },
    { "1", SIGNALING_ENGINEIO_PACKET_CLOSE, "" },
    { "2", SIGNALING_ENGINEIO_PACKET_PING, "" },
    { "2probe", SIGNALING_ENGINEIO_PACKET_PING, "probe" },
    { "3probe", SIGNALING_ENGINEIO_PACKET_PONG, "probe" },
    { "4hello ☃", SIGNALING_ENGINEIO_PACKET_MESSAGE, "hello ☃" },
    { "5", SIGNALING_ENGINEIO_PACKET_UPGRADE, "" },
    { "6", SIGNALING_ENGINEIO_PACKET_NOOP, "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignalingEngineioPacket) packet =
        signaling_engineio_packet_decode_ws_text (cases[i].text, strlen (cases[i].text), &error);
      g_autofree char *encoded = NULL;
      GBytes *data;

      g_assert_no_error (error);
      g_assert_cmpint (signaling_engineio_packet_get_kind (packet), ==, cases[i].kind);
      g_assert_false (signaling_engineio_packet_is_binary (packet));
      data = signaling_engineio_packet_get_data (packet);
      g_assert_cmpmem (g_bytes_get_data (data, NULL), g_bytes_get_size (data), cases[i].data, strlen (cases[i].data));

      encoded = signaling_engineio_packet_encode_ws_text (packet);
      g_assert_cmpstr (encoded, ==, cases[i].text);
    }
}

static void
test_engineio_ws_text_malformed (void)
{
  static const char *bad[] = { "", "7", "9x", "abc", "-1", "\xff" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignalingEngineioPacket) packet =
        signaling_engineio_packet_decode_ws_text (bad[i], strlen (bad[i]), &error);

      g_assert_null (packet);
      g_assert_error (error, SIGNALING_ENGINEIO_ERROR, SIGNALING_ENGINEIO_ERROR_MALFORMED);
    }

  /* Over HTTP, "4" followed by invalid UTF-8 is not a text packet
   * either (libsoup checks WebSocket text frames itself). */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) packets = signaling_engineio_payload_decode ("4ok\x1e" "4\xc3", 6, &error);

    g_assert_null (packets);
    g_assert_error (error, SIGNALING_ENGINEIO_ERROR, SIGNALING_ENGINEIO_ERROR_MALFORMED);
  }
}

static void
test_engineio_payload (void)
{
  const char body[] = "4hello\x1e" "bAQIDBA==\x1e" "2\x1e" "4\xe2\x98\x83";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) packets = signaling_engineio_payload_decode (body, strlen (body), &error);
  g_autofree char *encoded = NULL;
  GBytes *binary;
  const guint8 expected[] = { 1, 2, 3, 4 };

  g_assert_no_error (error);
  g_assert_cmpuint (packets->len, ==, 4);
  g_assert_cmpint (signaling_engineio_packet_get_kind (g_ptr_array_index (packets, 0)), ==, SIGNALING_ENGINEIO_PACKET_MESSAGE);
  g_assert_true (signaling_engineio_packet_is_binary (g_ptr_array_index (packets, 1)));
  binary = signaling_engineio_packet_get_data (g_ptr_array_index (packets, 1));
  g_assert_cmpmem (g_bytes_get_data (binary, NULL), g_bytes_get_size (binary), expected, sizeof expected);
  g_assert_cmpint (signaling_engineio_packet_get_kind (g_ptr_array_index (packets, 2)), ==, SIGNALING_ENGINEIO_PACKET_PING);

  /* Encoding gives the same bytes back: base64 for binary, 0x1e between. */
  encoded = signaling_engineio_payload_encode (packets);
  g_assert_cmpstr (encoded, ==, body);
}

/* Issue 12, item 1: the decoded bytes of a binary packet belong to the
 * packet alone. A GBytes whose only reference is ours gives its buffer
 * back without a copy; one that was also leaked elsewhere copies it. */
static void
test_engineio_payload_binary_owned (void)
{
  static const char *bodies[] = { "bAQIDBA==", "b" };

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) packets = signaling_engineio_payload_decode (bodies[i], strlen (bodies[i]), &error);
      GBytes *data;
      gconstpointer buffer;
      g_autofree gpointer stolen = NULL;
      gsize size;

      g_assert_no_error (error);
      g_assert_cmpuint (packets->len, ==, 1);
      data = g_bytes_ref (signaling_engineio_packet_get_data (g_ptr_array_index (packets, 0)));
      buffer = g_bytes_get_data (data, NULL);
      g_clear_pointer (&packets, g_ptr_array_unref);

      stolen = g_bytes_unref_to_data (data, &size);
      g_assert_cmpuint (size, ==, i == 0 ? 4 : 0);
      if (buffer != NULL)
        g_assert_true (stolen == buffer);
    }
}

static void
test_engineio_payload_malformed (void)
{
  static const char *bad[] = {
    "", "abc", "4a\x1e", "\x1e" "4a", "4a\x1e\x1e" "4b", "b!!!!", "9", "4ok\x1e" "x",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) packets = signaling_engineio_payload_decode (bad[i], strlen (bad[i]), &error);

      if (packets != NULL)
        g_error ("payload %s decoded", bad[i]);
      g_assert_error (error, SIGNALING_ENGINEIO_ERROR, SIGNALING_ENGINEIO_ERROR_MALFORMED);
    }
}

static void
test_engineio_open (void)
{
  g_autofree char *polling = signaling_engineio_open_json ("abc", TRUE, 25000, 20000, 1000000);
  g_autofree char *websocket = signaling_engineio_open_json ("abc", FALSE, 300, 200, 1000000);

  g_assert_cmpstr (polling, ==, "{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");
  g_assert_cmpstr (websocket, ==, "{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}");
}

/* Socket.IO */

static SignalingSocketioPacket *
decode_ok (const char *text,
           guint      *out_attachments)
{
  g_autoptr(GError) error = NULL;
  guint attachments = 0;
  SignalingSocketioPacket *packet = signaling_socketio_packet_decode (text, strlen (text), &attachments, &error);

  if (packet == NULL)
    g_error ("%s: %s", text, error->message);
  if (out_attachments != NULL)
    *out_attachments = attachments;
  return packet;
}

static void
test_socketio_roundtrip (void)
{
  /* Every packet type, both directions, in the protocol documentation's
   * own examples. */
  static const struct {
    const char *text;
    SignalingSocketioPacketType type;
    const char *nsp;
    gint64 id;
  } cases[] = {
    { "0", SIGNALING_SOCKETIO_PACKET_CONNECT, "/", -1 },
    { "0{\"token\":\"123\"}", SIGNALING_SOCKETIO_PACKET_CONNECT, "/", -1 },
    { "0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", SIGNALING_SOCKETIO_PACKET_CONNECT, "/admin", -1 },
    { "1", SIGNALING_SOCKETIO_PACKET_DISCONNECT, "/", -1 },
    { "1/admin,", SIGNALING_SOCKETIO_PACKET_DISCONNECT, "/admin", -1 },
    { "2[\"foo\"]", SIGNALING_SOCKETIO_PACKET_EVENT, "/", -1 },
    { "2/admin,[\"bar\"]", SIGNALING_SOCKETIO_PACKET_EVENT, "/admin", -1 },
    { "212[\"foo\",1,\"2\",{\"3\":[true,null]}]", SIGNALING_SOCKETIO_PACKET_EVENT, "/", 12 },
    { "3/admin,13[\"bar\"]", SIGNALING_SOCKETIO_PACKET_ACK, "/admin", 13 },
    { "30[]", SIGNALING_SOCKETIO_PACKET_ACK, "/", 0 },
    { "4{\"message\":\"Not authorized\"}", SIGNALING_SOCKETIO_PACKET_CONNECT_ERROR, "/", -1 },
    { "4/random,{\"message\":\"Invalid namespace\"}", SIGNALING_SOCKETIO_PACKET_CONNECT_ERROR, "/random", -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SignalingSocketioPacket) packet = decode_ok (cases[i].text, NULL);
      g_autofree char *encoded = NULL;

      g_assert_cmpint (packet->type, ==, cases[i].type);
      g_assert_cmpstr (packet->nsp, ==, cases[i].nsp);
      g_assert_cmpint (packet->id, ==, cases[i].id);

      encoded = signaling_socketio_packet_encode (packet);
      g_assert_cmpstr (encoded, ==, cases[i].text);
    }
}

static void
test_socketio_binary (void)
{
  const char *text = "52-[\"message\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
  g_autoptr(SignalingSocketioDecoder) decoder = NULL;
  g_autoptr(SignalingSocketioPacket) first = NULL;
  g_autoptr(SignalingSocketioPacket) second = NULL;
  g_autoptr(SignalingSocketioPacket) done = NULL;
  g_autoptr(GBytes) a = g_bytes_new ("\x01\x02\x03", 3);
  g_autoptr(GBytes) b = g_bytes_new ("\x04\x05\x06", 3);
  g_autoptr(GError) error = NULL;
  g_autofree char *encoded = NULL;
  guint attachments;
  g_autoptr(SignalingSocketioPacket) peek = decode_ok (text, &attachments);

  g_assert_cmpuint (attachments, ==, 2);

  decoder = signaling_socketio_decoder_new ();
  first = signaling_socketio_decoder_add_text (decoder, text, strlen (text), &error);
  g_assert_no_error (error);
  g_assert_null (first);  /* waiting for two attachments */
  second = signaling_socketio_decoder_add_binary (decoder, a, &error);
  g_assert_no_error (error);
  g_assert_null (second);
  done = signaling_socketio_decoder_add_binary (decoder, b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (done);
  g_assert_cmpint (done->type, ==, SIGNALING_SOCKETIO_PACKET_BINARY_EVENT);
  g_assert_cmpuint (done->attachments->len, ==, 2);
  g_assert_true (g_bytes_equal (g_ptr_array_index (done->attachments, 1), b));

  /* The placeholders stay in the JSON, and encode back the same. */
  encoded = signaling_socketio_packet_encode (done);
  g_assert_cmpstr (encoded, ==, text);
}

static void
test_socketio_binary_ack (void)
{
  const char *text = "62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
  guint attachments;
  g_autoptr(SignalingSocketioPacket) packet = decode_ok (text, &attachments);

  g_assert_cmpint (packet->type, ==, SIGNALING_SOCKETIO_PACKET_BINARY_ACK);
  g_assert_cmpint (packet->id, ==, 789);
  g_assert_cmpuint (attachments, ==, 2);
}

static void
test_socketio_decoder_errors (void)
{
  g_autoptr(SignalingSocketioDecoder) decoder = signaling_socketio_decoder_new ();
  g_autoptr(GBytes) bytes = g_bytes_new ("x", 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingSocketioPacket) packet = NULL;
  const char *needs_one = "51-[\"m\",{\"_placeholder\":true,\"num\":0}]";
  const char *bad_index = "51-[\"m\",{\"_placeholder\":true,\"num\":3}]";

  /* Binary with nothing to attach it to. */
  packet = signaling_socketio_decoder_add_binary (decoder, bytes, &error);
  g_assert_null (packet);
  g_assert_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_UNEXPECTED_BINARY);
  g_clear_error (&error);

  /* Text while attachments are awaited. */
  g_assert_null (signaling_socketio_decoder_add_text (decoder, needs_one, strlen (needs_one), &error));
  g_assert_no_error (error);
  packet = signaling_socketio_decoder_add_text (decoder, "2[\"m\"]", 6, &error);
  g_assert_null (packet);
  g_assert_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A placeholder pointing past the attachments. */
  signaling_socketio_decoder_free (g_steal_pointer (&decoder));
  decoder = signaling_socketio_decoder_new ();
  g_assert_null (signaling_socketio_decoder_add_text (decoder, bad_index, strlen (bad_index), &error));
  g_assert_no_error (error);
  packet = signaling_socketio_decoder_add_binary (decoder, bytes, &error);
  g_assert_null (packet);
  g_assert_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_MALFORMED);
}

static void
test_socketio_malformed (void)
{
  static const char *bad[] = {
    "",                          /* nothing */
    "7",                         /* unknown type */
    "abc",                       /* unknown type */
    "2{}",                       /* event data not an array */
    "2[]",                       /* event without a name */
    "2[{}]",                     /* event name not a string */
    "2[\"connect\"]",            /* reserved event name */
    "2[\"disconnect\",1]",       /* reserved event name */
    "2",                         /* event without data */
    "2abc[\"message\",1]",       /* invalid ack id */
    "2[\"a\"",                   /* invalid JSON */
    "3{}",                       /* ack data not an array */
    "0[1]",                      /* connect payload not an object */
    "0\"token\"",                /* connect payload not an object */
    "1{}",                       /* disconnect with data */
    "4[]",                       /* connect error neither string nor object */
    "5[\"m\"]",                  /* binary without attachment count */
    "5x-[\"m\"]",                /* bad attachment count */
    "51[\"m\"]",                 /* attachment count without '-' */
    "5999-[\"m\"]",              /* too many attachments */
    "2\xff[\"m\"]",              /* not UTF-8 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint attachments = 0;
      g_autoptr(SignalingSocketioPacket) packet =
        signaling_socketio_packet_decode (bad[i], strlen (bad[i]), &attachments, &error);

      if (packet != NULL)
        g_error ("“%s” decoded", bad[i]);
      g_assert_nonnull (error);
      g_assert_true (error->domain == SIGNALING_SOCKETIO_ERROR);
    }
}

/* Issue 12, item 3: `_placeholder` of any type is looked at without a
 * json-glib critical (the suite runs with fatal criticals). As in
 * socket.io-parser, only `true` makes a placeholder. */
static void
test_socketio_placeholder_shapes (void)
{
  static const char *plain[] = {
    "2[\"x\",{\"_placeholder\":[]}]",
    "2[\"x\",{\"_placeholder\":{\"num\":0}}]",
    "2[\"x\",{\"_placeholder\":null}]",
    "2[\"x\",{\"_placeholder\":\"true\"}]",
    "2[\"x\",{\"_placeholder\":1,\"num\":9}]",
    "2[\"x\",[{\"_placeholder\":false}]]",
  };
  static const char *refused[] = {
    "2[\"x\",{\"_placeholder\":true}]",
    "2[\"x\",{\"_placeholder\":true,\"num\":[]}]",
    "2[\"x\",{\"_placeholder\":true,\"num\":\"0\"}]",
    "2[\"x\",{\"_placeholder\":true,\"num\":0}]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (plain); i++)
    {
      g_autoptr(SignalingSocketioDecoder) decoder = signaling_socketio_decoder_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(SignalingSocketioPacket) packet =
        signaling_socketio_decoder_add_text (decoder, plain[i], strlen (plain[i]), &error);

      g_assert_no_error (error);
      g_assert_nonnull (packet);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(SignalingSocketioDecoder) decoder = signaling_socketio_decoder_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(SignalingSocketioPacket) packet =
        signaling_socketio_decoder_add_text (decoder, refused[i], strlen (refused[i]), &error);

      g_assert_null (packet);
      g_assert_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_MALFORMED);
    }
}

static void
test_socketio_event_names (void)
{
  g_autoptr(SignalingSocketioPacket) numeric = decode_ok ("2[42,\"x\"]", NULL);
  g_autoptr(SignalingSocketioPacket) nsp_no_comma = decode_ok ("0/custom", NULL);

  /* Numbers are valid event names; applications see them as text. */
  g_assert_cmpstr (json_array_get_string_element (json_node_get_array (numeric->data), 0), ==, "42");
  g_assert_cmpstr (nsp_no_comma->nsp, ==, "/custom");
}

static void
test_json_like_javascript (void)
{
  static const char *cases[] = {
    "[\"message-back\",1,\"2\",{\"3\":[true,false,null]}]",
    "{\"b\":1,\"a\":2,\"c\":{\"z\":0,\"y\":[]}}",
    "[0.1,1.5,-2,1e+21,123456789012,3.141592653589793]",
    "[\"é ☃ 😀 / </script>\"]",
    "[\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\"]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (cases[i], NULL);
      g_autoptr(SignalingSocketioPacket) packet = signaling_socketio_packet_new (SIGNALING_SOCKETIO_PACKET_ACK, "/", -1, node);
      g_autofree char *encoded = signaling_socketio_packet_encode (packet);

      /* What JSON.stringify(JSON.parse(x)) gives is x itself here. */
      g_assert_cmpstr (encoded + 1, ==, cases[i]);
    }
}

/* The relay's shortcut writes what the packet encoder writes. */
static void
test_socketio_encode_event (void)
{
  static const struct {
    const char *nsp;
    gint64 id;
    const char *args;
  } cases[] = {
    { "/", -1, "[]" },
    { "/", -1, "[{\"from\":\"a\",\"sdp\":\"v=0\\r\\n\"}]" },
    { "/custom", 12, "[1,\"two\",[3],null]" },
    { "/", 0, "[\"\\u0000\",\"\\ud800\",1e+21]" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) args = signaling_json_parse (cases[i].args, strlen (cases[i].args), NULL);
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) data = NULL;
      SignalingSocketioPacket *packet;
      g_autofree char *expected = NULL;
      g_autofree char *shortcut = NULL;

      json_array_add_string_element (array, "ev\"ent");
      for (guint j = 0; j < json_array_get_length (json_node_get_array (args)); j++)
        json_array_add_element (array, json_node_copy (json_array_get_element (json_node_get_array (args), j)));
      data = json_node_init_array (json_node_alloc (), array);
      packet = signaling_socketio_packet_new (SIGNALING_SOCKETIO_PACKET_EVENT, cases[i].nsp, cases[i].id, data);
      expected = signaling_socketio_packet_encode (packet);
      signaling_socketio_packet_free (packet);

      shortcut = signaling_socketio_encode_event (cases[i].nsp, cases[i].id, "ev\"ent",
                                                  json_node_get_array (args));
      g_assert_cmpstr (shortcut, ==, expected);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engineio/packet/ws-text", test_engineio_ws_text);
  g_test_add_func ("/engineio/packet/ws-text-malformed", test_engineio_ws_text_malformed);
  g_test_add_func ("/engineio/payload/roundtrip", test_engineio_payload);
  g_test_add_func ("/engineio/payload/malformed", test_engineio_payload_malformed);
  g_test_add_func ("/engineio/payload/binary-owned", test_engineio_payload_binary_owned);
  g_test_add_func ("/engineio/open", test_engineio_open);
  g_test_add_func ("/socketio/packet/roundtrip", test_socketio_roundtrip);
  g_test_add_func ("/socketio/packet/encode-event", test_socketio_encode_event);
  g_test_add_func ("/socketio/packet/binary-event", test_socketio_binary);
  g_test_add_func ("/socketio/packet/binary-ack", test_socketio_binary_ack);
  g_test_add_func ("/socketio/packet/decoder-errors", test_socketio_decoder_errors);
  g_test_add_func ("/socketio/packet/malformed", test_socketio_malformed);
  g_test_add_func ("/socketio/packet/event-names", test_socketio_event_names);
  g_test_add_func ("/socketio/packet/placeholder-shapes", test_socketio_placeholder_shapes);
  g_test_add_func ("/socketio/json-like-javascript", test_json_like_javascript);

  return g_test_run ();
}
