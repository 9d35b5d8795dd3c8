/* test-json.c: the JSON parser and serializer against JavaScript's rules
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include "signaling-json-private.h"

/* Each text parses and serializes back to exactly what
 * JSON.stringify(JSON.parse(text)) gives in JavaScript. */
static void
test_round_trip (void)
{
  static const struct { const char *text; const char *expected; } cases[] = {
    { "{}", "{}" },
    { "[]", "[]" },
    { " { \"b\" : 1 , \"a\" : [ true , false , null ] } ", "{\"b\":1,\"a\":[true,false,null]}" },
    { "\"plain\"", "\"plain\"" },
    { "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"esc \\\" \\\\ / \\b \\f \\n \\r \\t\"" },
    { "\"\\u00e9\\u20ac\"", "\"é€\"" },
    { "\"\\ud83d\\ude00\"", "\"😀\"" },
    { "\"\\u0001\"", "\"\\u0001\"" },
    { "\"é€😀\"", "\"é€😀\"" },
    { "0", "0" },
    { "-0.5", "-0.5" },
    { "0.1", "0.1" },
    { "1e3", "1000" },
    { "1.5E-3", "0.0015" },
    { "9007199254740993", "9007199254740993" },
    { "123456789012345678901234567890", "1.2345678901234568e+29" },
    { "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}" },  /* last value, first place */
    { "[{\"sdp\":\"v=0\\r\\n\",\"type\":\"offer\"}]", "[{\"sdp\":\"v=0\\r\\n\",\"type\":\"offer\"}]" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = signaling_json_parse (cases[i].text, strlen (cases[i].text), &error);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (node);
      text = signaling_json_to_string (node);
      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_types (void)
{
  const char *text = "[1,1.0,\"1\",-7]";
  g_autoptr(JsonNode) node = signaling_json_parse (text, strlen (text), NULL);
  JsonArray *array = json_node_get_array (node);

  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 0)), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 1)), ==, G_TYPE_DOUBLE);
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 2)), ==, G_TYPE_STRING);
  g_assert_cmpint (json_array_get_int_element (array, 3), ==, -7);
}

static void
test_invalid (void)
{
  static const char *bad[] = {
    "", " ", "{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}",
    "\"unterminated", "\"ctrl \x01\"", "\"bad \\x escape\"", "\"\\u12\"", "01", "1.", ".5",
    "-", "1e", "+1", "tru", "nul", "NaN", "Infinity", "[1] 2", "{} x", "'single'",
    "\xff", "\"\xc3\"",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = signaling_json_parse (bad[i], strlen (bad[i]), &error);

      g_assert_null (node);
      g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);
    }
}

/* Plain runs are skipped eight bytes at a time: an escape at any
 * place of a long string, and a multi-byte character across a word
 * boundary, still come through intact both ways. */
static void
test_escape_positions (void)
{
  static const char *specials[] = { "\"", "\\", "\n", "\001", "\t", "é", "😀" };

  for (gsize k = 0; k < G_N_ELEMENTS (specials); k++)
    for (gsize position = 0; position < 40; position++)
      {
        g_autoptr(GString) plain = g_string_new (NULL);
        g_autoptr(JsonNode) string = NULL;
        g_autoptr(JsonNode) parsed = NULL;
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;

        for (gsize i = 0; i < 40; i++)
          g_string_append_c (plain, 'a' + i % 26);
        g_string_insert (plain, position, specials[k]);

        string = json_node_init_string (json_node_alloc (), plain->str);
        text = signaling_json_to_string (string);
        parsed = signaling_json_parse (text, strlen (text), &error);
        g_assert_no_error (error);
        g_assert_cmpstr (json_node_get_string (parsed), ==, plain->str);
      }
}

/* A lone surrogate cannot be UTF-8: it becomes U+FFFD. */
static void
test_lone_surrogate (void)
{
  const char *text = "\"a\\ud800b\"";
  g_autoptr(JsonNode) node = signaling_json_parse (text, strlen (text), NULL);

  g_assert_cmpstr (json_node_get_string (node), ==, "a\xef\xbf\xbd" "b");
}

/* Hostile nesting is refused instead of exhausting the stack. */
static void
test_depth (void)
{
  g_autofree char *deep = g_strnfill (100000, '[');
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = signaling_json_parse (deep, strlen (deep), &error);
  g_autoptr(GString) fine = g_string_new (NULL);
  g_autoptr(JsonNode) nested = NULL;

  g_assert_null (node);
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);

  for (int i = 0; i < 100; i++)
    g_string_append_c (fine, '[');
  for (int i = 0; i < 100; i++)
    g_string_append_c (fine, ']');
  nested = signaling_json_parse (fine->str, fine->len, NULL);
  g_assert_nonnull (nested);
}

/* The length is honoured: the text need not be nul-terminated. */
static void
test_length (void)
{
  g_autoptr(JsonNode) node = signaling_json_parse ("{\"a\":1}garbage", 7, NULL);

  g_assert_nonnull (node);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "a"), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/round-trip", test_round_trip);
  g_test_add_func ("/json/types", test_types);
  g_test_add_func ("/json/invalid", test_invalid);
  g_test_add_func ("/json/escape-positions", test_escape_positions);
  g_test_add_func ("/json/lone-surrogate", test_lone_surrogate);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/length", test_length);

  return g_test_run ();
}
