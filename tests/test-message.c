/* test-message.c: native protocol parsing, field by field
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling-message-private.h"
#include "signaling-native-connection-private.h"
#include "signaling-enums.h"
#include "signaling-error.h"

#include "test-utils.h"

static SignalingMessage *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  SignalingMessage *message = signaling_message_parse (text, -1, &error);

  if (message == NULL)
    g_error ("%s: %s", text, error->message);
  return message;
}

static void
assert_parse_error (const char     *text,
                    SignalingError  code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingMessage) message = signaling_message_parse (text, -1, &error);

  if (message != NULL)
    g_error ("%s parsed, expected %s", text, signaling_error_to_code (code));
  g_assert_error (error, SIGNALING_ERROR, (gint) code);
  g_assert_cmpstr (error->message, !=, "");
}

static void
test_kinds (void)
{
  static const struct {
    const char *text;
    SignalingMessageKind kind;
    const char *to;
  } cases[] = {
    { "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\"}", SIGNALING_MESSAGE_KIND_OFFER, "b" },
    { "{\"type\":\"answer\",\"to\":\"b\",\"sdp\":\"v=0\"}", SIGNALING_MESSAGE_KIND_ANSWER, "b" },
    { "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":null}", SIGNALING_MESSAGE_KIND_CANDIDATE, "b" },
    { "{\"type\":\"hangup\",\"to\":\"b\"}", SIGNALING_MESSAGE_KIND_HANGUP, "b" },
    { "{\"type\":\"message\",\"to\":\"b\",\"data\":null}", SIGNALING_MESSAGE_KIND_MESSAGE, "b" },
    { "{\"type\":\"join\",\"room\":\"r\"}", SIGNALING_MESSAGE_KIND_JOIN, "r" },
    { "{\"type\":\"leave\",\"room\":\"r\"}", SIGNALING_MESSAGE_KIND_LEAVE, "r" },
    { "{\"type\":\"ping\"}", SIGNALING_MESSAGE_KIND_PING, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SignalingMessage) message = parse_ok (cases[i].text);

      g_assert_cmpint (signaling_message_get_kind (message), ==, cases[i].kind);
      g_assert_cmpstr (signaling_message_get_to (message), ==, cases[i].to);
      g_assert_null (signaling_message_get_from (message));
      g_assert_cmpstr (signaling_message_get_dialect (message), ==, "native");
      g_assert_cmpstr (signaling_message_kind_to_string (cases[i].kind), ==,
                       json_object_get_string_member (signaling_message_get_payload (message), "type"));
    }
}

static void
test_fields (void)
{
  g_autoptr(SignalingMessage) offer = parse_ok ("{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\\r\\n\",\"x-app\":{\"k\":1}}");
  g_autoptr(SignalingMessage) candidate = parse_ok ("{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":null,\"sdpMLineIndex\":null,\"usernameFragment\":\"u\"}}");
  g_autoptr(SignalingMessage) hangup = parse_ok ("{\"type\":\"hangup\",\"to\":\"b\",\"reason\":\"busy\"}");
  g_autoptr(SignalingMessage) data = parse_ok ("{\"type\":\"message\",\"to\":\"b\",\"data\":[1,\"two\"]}");
  JsonNode *node;

  g_assert_cmpstr (signaling_message_get_sdp (offer), ==, "v=0\r\n");
  /* Unknown fields are kept, to be relayed as they came. */
  g_assert_true (json_object_has_member (signaling_message_get_payload (offer), "x-app"));

  node = signaling_message_get_candidate (candidate);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "candidate"), ==, "c");

  g_assert_cmpstr (signaling_message_get_reason (hangup), ==, "busy");
  g_assert_null (signaling_message_get_sdp (hangup));

  node = signaling_message_get_data (data);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 2);
}

static void
test_rid (void)
{
  g_autoptr(SignalingMessage) with_string = parse_ok ("{\"type\":\"ping\",\"rid\":\"a\"}");
  g_autoptr(SignalingMessage) with_number = parse_ok ("{\"type\":\"join\",\"room\":\"r\",\"rid\":3}");
  g_autoptr(SignalingMessage) without = parse_ok ("{\"type\":\"ping\"}");
  g_autoptr(JsonNode) rid = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingMessage) failed = NULL;

  g_assert_cmpstr (json_node_get_string (signaling_message_get_rid (with_string)), ==, "a");
  g_assert_cmpint (json_node_get_int (signaling_message_get_rid (with_number)), ==, 3);
  g_assert_null (signaling_message_get_rid (without));
  /* The rid is the sender's and is not part of what gets relayed. */
  g_assert_false (json_object_has_member (signaling_message_get_payload (with_string), "rid"));

  /* Even a message that fails validation hands its rid back. */
  failed = signaling_native_parse ("{\"type\":\"offer\",\"rid\":\"r9\"}", -1, &rid, &error);
  g_assert_null (failed);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE);
  g_assert_cmpstr (json_node_get_string (rid), ==, "r9");

  assert_parse_error ("{\"type\":\"ping\",\"rid\":{}}", SIGNALING_ERROR_BAD_MESSAGE);
  assert_parse_error ("{\"type\":\"ping\",\"rid\":true}", SIGNALING_ERROR_BAD_MESSAGE);
  assert_parse_error ("{\"type\":\"ping\",\"rid\":null}", SIGNALING_ERROR_BAD_MESSAGE);
}

static void
test_json_errors (void)
{
  static const char *bad_json[] = {
    "", "{", "nul", "[]", "\"s\"", "1", "true", "null", "{\"a\":}", "{\"type\":\"ping\"}}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_json); i++)
    assert_parse_error (bad_json[i], SIGNALING_ERROR_BAD_JSON);

  /* Invalid UTF-8 never reaches the JSON parser. */
  assert_parse_error ("{\"type\":\"ping\",\"x\":\"\xff\"}", SIGNALING_ERROR_BAD_JSON);
}

static void
test_field_errors (void)
{
  static const char *bad_message[] = {
    "{}",
    "{\"type\":null}",
    "{\"type\":[\"offer\"]}",
    "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"x\",\"from\":\"b\"}",
    "{\"type\":\"ping\",\"from\":null}",
    "{\"type\":\"offer\",\"sdp\":\"x\"}",
    "{\"type\":\"offer\",\"to\":\"\",\"sdp\":\"x\"}",
    "{\"type\":\"offer\",\"to\":null,\"sdp\":\"x\"}",
    "{\"type\":\"offer\",\"to\":\"b\"}",
    "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":1}",
    "{\"type\":\"answer\",\"to\":\"b\",\"sdp\":null}",
    "{\"type\":\"candidate\",\"to\":\"b\"}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":1}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{}}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":null}}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":0}}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":1.5}}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":-2}}",
    "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":70000}}",
    "{\"type\":\"hangup\",\"to\":\"b\",\"reason\":7}",
    "{\"type\":\"hangup\"}",
    "{\"type\":\"message\",\"to\":\"b\"}",
    "{\"type\":\"join\"}",
    "{\"type\":\"join\",\"room\":1}",
    "{\"type\":\"leave\",\"room\":\"\"}",
  };
  g_autofree char *long_name = g_strnfill (SIGNALING_MAX_NAME_LENGTH + 1, 'r');
  g_autofree char *long_join = g_strdup_printf ("{\"type\":\"join\",\"room\":\"%s\"}", long_name);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_message); i++)
    assert_parse_error (bad_message[i], SIGNALING_ERROR_BAD_MESSAGE);

  assert_parse_error (long_join, SIGNALING_ERROR_BAD_MESSAGE);
  assert_parse_error ("{\"type\":\"welcome\"}", SIGNALING_ERROR_UNKNOWN_TYPE);
  assert_parse_error ("{\"type\":\"OFFER\",\"to\":\"b\",\"sdp\":\"x\"}", SIGNALING_ERROR_UNKNOWN_TYPE);
  assert_parse_error ("{\"type\":\"\"}", SIGNALING_ERROR_UNKNOWN_TYPE);
}

/* "\u0000" used to cut strings short: {"type":"ping\u0000x"} was a
 * ping and "room\u0000x" the room "room". Names and types with it, or
 * with a lone surrogate, are refused; everything else keeps it and
 * relays it as it came. */
static void
test_nul_and_surrogates (void)
{
  static const char *bad_message[] = {
    "{\"type\":\"ping\\u0000x\"}",
    "{\"type\":\"ping\\u0000\"}",
    "{\"type\":\"ping\\ud800\"}",
    "{\"type\":\"join\",\"room\":\"r\\u0000x\"}",
    "{\"type\":\"join\",\"room\":\"\\u0000\"}",
    "{\"type\":\"leave\",\"room\":\"r\\udfff\"}",
    "{\"type\":\"offer\",\"to\":\"peer\\u0000\",\"sdp\":\"x\"}",
    "{\"type\":\"candidate\",\"to\":\"\\ud83d\",\"candidate\":null}",
    "{\"type\":\"hangup\",\"to\":\"a\\u0000b\"}",
    "{\"type\":\"message\",\"to\":\"a\\u0000\",\"data\":1}",
  };
  g_autoptr(SignalingMessage) offer = NULL;
  g_autoptr(SignalingMessage) emoji = NULL;
  g_autofree char *json = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad_message); i++)
    assert_parse_error (bad_message[i], SIGNALING_ERROR_BAD_MESSAGE);

  offer = parse_ok ("{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\\u0000x\\ud800\",\"x\\u0000\":\"\\u0000\"}");
  g_assert_cmpuint (strlen (signaling_message_get_sdp (offer)), ==, strlen ("v=0") + 2 + 1 + 3);
  signaling_message_set_from (offer, "a");
  json = signaling_message_to_json (offer);
  g_assert_cmpstr (json, ==, "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\\u0000x\\ud800\",\"x\\u0000\":\"\\u0000\",\"from\":\"a\"}");

  /* A pair is a character like any other. */
  emoji = parse_ok ("{\"type\":\"join\",\"room\":\"\\ud83d\\ude00\"}");
  g_assert_cmpstr (signaling_message_get_to (emoji), ==, "😀");
}

static void
test_serialize (void)
{
  g_autoptr(SignalingMessage) message = parse_ok ("{\"type\":\"offer\",\"to\":\"b\",\"rid\":1,\"sdp\":\"v=0\"}");
  g_autofree char *json = NULL;
  g_autoptr(JsonNode) candidate = json_from_string ("{\"candidate\":\"c\"}", NULL);
  g_autoptr(SignalingMessage) built = signaling_message_new_candidate ("room", candidate);
  g_autofree char *built_json = NULL;

  signaling_message_set_from (message, "a");
  json = signaling_message_to_json (message);
  /* Key order is kept and from comes last. */
  g_assert_cmpstr (json, ==, "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\",\"from\":\"a\"}");

  built_json = signaling_message_to_json (built);
  g_assert_cmpstr (built_json, ==, "{\"type\":\"candidate\",\"to\":\"room\",\"candidate\":{\"candidate\":\"c\"}}");
}

/* The native text is cached on the message; a message an application
 * sends on in several peers' names must not keep the first sender. */
static void
test_serialize_new_sender (void)
{
  g_autoptr(SignalingMessage) message = parse_ok ("{\"type\":\"hangup\",\"to\":\"b\"}");
  const char *text;
  gsize length;

  signaling_message_set_from (message, "a");
  text = signaling_native_serialize (message, &length);
  g_assert_cmpstr (text, ==, "{\"type\":\"hangup\",\"to\":\"b\",\"from\":\"a\"}");
  g_assert_cmpuint (length, ==, strlen (text));
  g_assert_true (signaling_native_serialize (message, NULL) == text);

  signaling_message_set_from (message, "c");
  g_assert_cmpstr (signaling_native_serialize (message, &length), ==,
                   "{\"type\":\"hangup\",\"to\":\"b\",\"from\":\"c\"}");
  g_assert_cmpuint (length, ==, strlen ("{\"type\":\"hangup\",\"to\":\"b\",\"from\":\"c\"}"));
}

/* A parsed message keeps its payload as text until somebody reads it:
 * the payload it then gives is the whole object, `from` included and
 * `rid` left out, and a payload an application may have changed is
 * what gets relayed from then on. */
static void
test_payload_from_text (void)
{
  g_autoptr(SignalingMessage) message =
    parse_ok ("{\"type\":\"message\",\"to\":\"b\",\"rid\":\"r\",\"data\":{\"k\":[1,\"\\u00e9\"]},\"extra\":true}");
  JsonObject *payload;
  g_autofree char *text = NULL;

  signaling_message_set_from (message, "a");
  g_assert_cmpstr (signaling_native_serialize (message, NULL), ==,
                   "{\"type\":\"message\",\"to\":\"b\",\"data\":{\"k\":[1,\"\\u00e9\"]},\"extra\":true,\"from\":\"a\"}");

  payload = signaling_message_get_payload (message);
  g_assert_cmpstr (json_object_get_string_member (payload, "from"), ==, "a");
  g_assert_false (json_object_has_member (payload, "rid"));
  g_assert_true (json_object_get_boolean_member (payload, "extra"));
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (json_object_get_object_member (payload, "data"), "k"), 1),
                   ==, "é");

  json_object_set_string_member (payload, "extra", "changed");
  text = signaling_message_to_json (message);
  g_assert_cmpstr (text, ==, "{\"type\":\"message\",\"to\":\"b\",\"data\":{\"k\":[1,\"é\"]},\"extra\":\"changed\",\"from\":\"a\"}");

  signaling_message_set_from (message, NULL);
  g_assert_false (json_object_has_member (signaling_message_get_payload (message), "from"));
}

/* What a scan leaves to a parse (an escaped name, many names) is a
 * message all the same, checked by the same rules. */
static void
test_parse_without_scan (void)
{
  g_autoptr(SignalingMessage) escaped = parse_ok ("{\"t\\u0079pe\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\",\"rid\":3}");
  g_autoptr(GString) many = g_string_new ("{\"type\":\"hangup\",\"to\":\"b\"");
  g_autoptr(SignalingMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  g_assert_cmpint (signaling_message_get_kind (escaped), ==, SIGNALING_MESSAGE_KIND_OFFER);
  g_assert_cmpstr (signaling_message_get_sdp (escaped), ==, "v=0");
  g_assert_false (json_object_has_member (signaling_message_get_payload (escaped), "rid"));

  for (guint i = 0; i < 40; i++)
    g_string_append_printf (many, ",\"n%u\":%u", i, i);
  g_string_append (many, ",\"reason\":5}");
  message = signaling_message_parse (many->str, many->len, &error);
  g_assert_null (message);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE);
  g_clear_error (&error);

  g_string_truncate (many, many->len - strlen (",\"reason\":5}"));
  g_string_append (many, "}");
  message = parse_ok (many->str);
  signaling_message_set_from (message, "a");
  json = signaling_message_to_json (message);
  g_assert_true (g_str_has_suffix (json, ",\"n39\":39,\"from\":\"a\"}"));
}

static void
test_error_codes (void)
{
  static const struct {
    SignalingError error;
    const char *code;
  } codes[] = {
    { SIGNALING_ERROR_BAD_JSON, "bad-json" },
    { SIGNALING_ERROR_BAD_MESSAGE, "bad-message" },
    { SIGNALING_ERROR_UNKNOWN_TYPE, "unknown-type" },
    { SIGNALING_ERROR_UNKNOWN_TARGET, "unknown-target" },
    { SIGNALING_ERROR_TOO_LARGE, "too-large" },
    { SIGNALING_ERROR_RATE_LIMITED, "rate-limited" },
    { SIGNALING_ERROR_FORBIDDEN, "forbidden" },
    { SIGNALING_ERROR_ROOM_FULL, "room-full" },
    { SIGNALING_ERROR_SERVER_FULL, "server-full" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    g_assert_cmpstr (signaling_error_to_code (codes[i].error), ==, codes[i].code);
}

/* Issue 12, item 4: the getters never hand a critical to an
 * application's handler, whatever a dialect put in the payload. */
static void
test_getters_wrong_types (void)
{
  static const char *payloads[] = {
    "{\"sdp\":{},\"reason\":[]}",
    "{\"sdp\":5,\"reason\":true}",
    "{\"sdp\":null,\"reason\":null}",
    "{}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (payloads); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (payloads[i], NULL);
      g_autoptr(SignalingMessage) message =
        signaling_message_new (SIGNALING_MESSAGE_KIND_OFFER, "b", json_node_get_object (node));
      g_autoptr(GError) error = NULL;

      g_assert_null (signaling_message_get_sdp (message));
      g_assert_null (signaling_message_get_reason (message));
      g_assert_false (signaling_message_validate_body (message, &error));
      g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/message/parse/kinds", test_kinds);
  g_test_add_func ("/message/parse/fields", test_fields);
  g_test_add_func ("/message/parse/rid", test_rid);
  g_test_add_func ("/message/parse/json-errors", test_json_errors);
  g_test_add_func ("/message/parse/field-errors", test_field_errors);
  g_test_add_func ("/message/parse/nul-and-surrogates", test_nul_and_surrogates);
  g_test_add_func ("/message/serialize", test_serialize);
  g_test_add_func ("/message/serialize/new-sender", test_serialize_new_sender);
  g_test_add_func ("/message/error-codes", test_error_codes);
  g_test_add_func ("/message/payload-from-text", test_payload_from_text);
  g_test_add_func ("/message/parse/without-scan", test_parse_without_scan);
  g_test_add_func ("/message/getters-wrong-types", test_getters_wrong_types);

  return g_test_run ();
}
