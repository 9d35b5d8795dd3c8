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
    { "9007199254740993", "9007199254740992" },  /* JavaScript reads a double */
    { "123456789012345678901234567890", "1.2345678901234568e+29" },
    { "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}" },  /* last value, first place */
    { "{\"b\":1,\"2\":2,\"a\":3,\"10\":4,\"01\":5,\"1\":6}",  /* array indices first */
      "{\"1\":6,\"2\":2,\"10\":4,\"b\":1,\"a\":3,\"01\":5}" },
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
  const char *text = "[1,1.0,\"1\",-7,9007199254740993]";
  g_autoptr(JsonNode) node = signaling_json_parse (text, strlen (text), NULL);
  JsonArray *array = json_node_get_array (node);

  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 0)), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 1)), ==, G_TYPE_DOUBLE);
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 2)), ==, G_TYPE_STRING);
  g_assert_cmpint (json_array_get_int_element (array, 3), ==, -7);
  /* Past 2^53 JavaScript has a double, and so do we. */
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 4)), ==, G_TYPE_DOUBLE);
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
  /* and the stored forms of \u0000, of a lone surrogate, and a Hangul
   * syllable that starts like one */
  static const char *specials[] = { "\"", "\\", "\n", "\001", "\t", "é", "😀",
                                    "\xc0\x80", "\xed\xa0\x80", "\xed\x9f\xbf" };

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

static char *
round_trip (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = signaling_json_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  return signaling_json_to_string (node);
}

/* JavaScript keeps a lone surrogate, and JSON.stringify() writes it
 * escaped in lower case; it used to become U+FFFD. Halves of a pair
 * written apart join. */
static void
test_lone_surrogate (void)
{
  static const struct { const char *text; const char *expected; } cases[] = {
    { "\"a\\ud800b\"", "\"a\\ud800b\"" },
    { "\"\\uDFFF\"", "\"\\udfff\"" },
    { "\"\\udc00\\ud800\"", "\"\\udc00\\ud800\"" },     /* low then high: two lone ones */
    { "\"\\ud83d\\ude00\"", "\"😀\"" },
    { "\"\\ud83dx\\ude00\"", "\"\\ud83dx\\ude00\"" },
    { "{\"\\ud800\":1,\"\\ud801\":2}", "{\"\\ud800\":1,\"\\ud801\":2}" },
    { "\"\\ud7ff\\ue000\"", "\"\xed\x9f\xbf\xee\x80\x80\"" },  /* neighbours, not surrogates */
  };
  const char *text = "\"a\\ud800b\"";
  g_autoptr(JsonNode) node = signaling_json_parse (text, strlen (text), NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = round_trip (cases[i].text);

      g_assert_cmpstr (out, ==, cases[i].expected);
    }

  /* Halves stored apart (a seed 000 argument parsed twice can do that)
   * are one character again when they meet, as in JavaScript. */
  {
    g_autoptr(JsonNode) halves = json_node_init_string (json_node_alloc (), "\xed\xa0\xbd\xed\xb8\x80");
    g_autofree char *joined = signaling_json_to_string (halves);

    g_assert_cmpstr (joined, ==, "\"😀\"");
  }

  /* Not U+FFFD, and not UTF-8: no name can hold it. */
  g_assert_cmpstr (json_node_get_string (node), ==, "a\xed\xa0\x80" "b");
  g_assert_false (signaling_json_is_unicode (json_node_get_string (node)));
}

/* "\u0000" used to end the string there: "a\u0000b" was "a", and
 * {"a\u0000b":1,"a":2} was {"a":2}. */
static void
test_nul (void)
{
  static const struct { const char *text; const char *expected; } cases[] = {
    { "\"a\\u0000b\"", "\"a\\u0000b\"" },
    { "\"\\u0000\"", "\"\\u0000\"" },
    { "{\"a\\u0000b\":1,\"a\":2}", "{\"a\\u0000b\":1,\"a\":2}" },
    { "[\"\\u0000\\u0000x\\u0000\"]", "[\"\\u0000\\u0000x\\u0000\"]" },
  };
  const char *text = "{\"type\":\"ping\\u0000x\"}";
  g_autoptr(JsonNode) node = signaling_json_parse (text, strlen (text), NULL);
  const char *type = json_object_get_string_member (json_node_get_object (node), "type");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = round_trip (cases[i].text);

      g_assert_cmpstr (out, ==, cases[i].expected);
    }

  g_assert_cmpstr (type, !=, "ping");
  g_assert_cmpuint (strlen (type), ==, 7);
  g_assert_false (signaling_json_is_unicode (type));
  g_assert_true (signaling_json_is_unicode ("ping é 😀"));
}

/* Numbers as JavaScript's Number::toString() writes them: the shortest
 * digits that read back, in its layout. Each expected value is what
 * node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1])))'
 * prints. */
static void
test_numbers (void)
{
  static const struct { const char *text; const char *expected; } cases[] = {
    { "1e15", "1000000000000000" },
    { "1e16", "10000000000000000" },
    { "1e20", "100000000000000000000" },
    { "123456789012345678901", "123456789012345680000" },
    { "1e21", "1e+21" },
    { "1.5e300", "1.5e+300" },
    { "0.000001", "0.000001" },
    { "1e-6", "0.000001" },
    { "1.2345e-6", "0.0000012345" },
    { "1e-7", "1e-7" },
    { "-1.5e-7", "-1.5e-7" },
    { "-0", "0" },
    { "-0.0", "0" },
    { "-0e10", "0" },
    { "4.94065645841247e-324", "5e-324" },
    { "5e-324", "5e-324" },
    { "2.2250738585072014e-308", "2.2250738585072014e-308" },
    { "1.7976931348623157e308", "1.7976931348623157e+308" },
    { "1e400", "null" },
    { "-1e400", "null" },
    { "1e-400", "0" },
    { "0.1", "0.1" },
    { "0.30000000000000004", "0.30000000000000004" },
    { "100", "100" },
    { "1.0", "1" },
    { "2.5E+2", "250" },
    { "9007199254740992", "9007199254740992" },
    { "9007199254740993", "9007199254740992" },
    { "-9007199254740993", "-9007199254740992" },
    { "9223372036854775807", "9223372036854776000" },
    { "18446744073709551616", "18446744073709552000" },
    { "8.98846567431158e307", "8.98846567431158e+307" },   /* 2^1023 */
    { "9.5367431640625e-7", "9.5367431640625e-7" },       /* 2^-20 */
    { "1.4916681462400413e-154", "1.4916681462400413e-154" },  /* 2^-511 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = round_trip (cases[i].text);

      g_assert_cmpstr (out, ==, cases[i].expected);
    }
}

/* An int64 set by the application past 2^53 comes out as JavaScript
 * would have it, rounded to a double. */
static void
test_big_int (void)
{
  g_autoptr(JsonNode) node = json_node_init_int (json_node_alloc (), G_GINT64_CONSTANT (9007199254740993));
  g_autoptr(JsonNode) smallest = json_node_init_int (json_node_alloc (), G_MININT64);
  g_autofree char *text = signaling_json_to_string (node);
  g_autofree char *smallest_text = signaling_json_to_string (smallest);

  g_assert_cmpstr (text, ==, "9007199254740992");
  g_assert_cmpstr (smallest_text, ==, "-9223372036854776000");
}

/* A repeated name keeps its first place and takes the last value,
 * whatever the values' types, in nested objects too. */
static void
test_repeated_names (void)
{
  static const struct { const char *text; const char *expected; } cases[] = {
    { "{\"a\":1,\"a\":2,\"a\":3}", "{\"a\":3}" },
    { "{\"a\":{\"x\":1},\"b\":0,\"a\":[1],\"a\":\"s\",\"c\":0,\"a\":null}", "{\"a\":null,\"b\":0,\"c\":0}" },
    { "{\"a\":\"s\",\"a\":{\"x\":1,\"x\":2}}", "{\"a\":{\"x\":2}}" },
    { "[{\"k\":1,\"k\":true},{\"k\":false,\"k\":1.5}]", "[{\"k\":true},{\"k\":1.5}]" },
  };
  g_autoptr(GString) many = g_string_new ("{");
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object;
  g_autoptr(GList) names = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = round_trip (cases[i].text);

      g_assert_cmpstr (out, ==, cases[i].expected);
    }

  /* The shape that stalled the server, at a size the limits allow:
   * 1000 names, then 100 000 repeats of the last. */
  for (int i = 0; i < 1000; i++)
    g_string_append_printf (many, "\"k%d\":%d,", i, i);
  for (int i = 0; i < 100000; i++)
    g_string_append_printf (many, "\"k999\":%d,", i);
  g_string_append (many, "\"k0\":-1}");
  node = signaling_json_parse (many->str, many->len, NULL);
  object = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (object), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (object, "k0"), ==, -1);
  g_assert_cmpint (json_object_get_int_member (object, "k1"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "k999"), ==, 99999);
  names = json_object_get_members (object);
  g_assert_cmpstr (g_list_first (names)->data, ==, "k0");
  g_assert_cmpstr (g_list_last (names)->data, ==, "k999");
}

/* json-glib hashes member names with g_str_hash(), unseeded: names that
 * all hash alike made an object quadratic. An object has at most 1024
 * names, at most 8 of them sharing a hash. */
static void
test_member_limits (void)
{
  g_autoptr(GString) colliding = g_string_new ("{");
  g_autoptr(GString) big = g_string_new ("{");
  g_autoptr(JsonNode) fits = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  /* "ab" and "bA" add the same to a g_str_hash(): 16 names, one hash. */
  for (int i = 0; i < 16; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s%s%s%s", i & 1 ? "ab" : "bA", i & 2 ? "ab" : "bA",
                                               i & 4 ? "ab" : "bA", i & 8 ? "ab" : "bA");

      g_assert_cmpuint (g_str_hash (name), ==, g_str_hash ("bAbAbAbA"));
      g_string_append_printf (colliding, "%s\"%s\":%d", i > 0 ? "," : "", name, i);
      if (i == 7)
        {
          /* eight are fine, from anywhere in the object */
          g_autoptr(GString) eight = g_string_new (colliding->str);

          for (int j = 0; j < 40; j++)
            g_string_append_printf (eight, ",\"x%d\":0", j);
          g_string_append_c (eight, '}');
          fits = signaling_json_parse (eight->str, eight->len, &error);
          g_assert_no_error (error);
        }
    }
  for (int j = 0; j < 40; j++)
    g_string_append_printf (colliding, ",\"x%d\":0", j);
  g_string_append_c (colliding, '}');
  node = signaling_json_parse (colliding->str, colliding->len, &error);
  g_assert_null (node);
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);
  g_clear_error (&error);

  for (int i = 0; i < 1024; i++)
    g_string_append_printf (big, "%s\"k%d\":0", i > 0 ? "," : "", i);
  g_string_append_c (big, '}');
  g_clear_pointer (&fits, json_node_unref);
  fits = signaling_json_parse (big->str, big->len, &error);
  g_assert_no_error (error);

  g_string_truncate (big, big->len - 1);
  g_string_append (big, ",\"one-too-many\":0}");
  node = signaling_json_parse (big->str, big->len, &error);
  g_assert_null (node);
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);
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

/* A scan (the native relay's check, which builds nothing) accepts and
 * refuses what a parse does, with the same error and member spans,
 * and leaves to a parse what only a parse can check. */
static void
test_scan (void)
{
  static const char *agree[] = {
    "{}", " {\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"v=0\\r\\n\"} ",
    "{\"a\":{\"b\":[1,2.5,true,false,null,{\"c\":\"\\u00e9\"}]},\"rid\":7,\"z\":\"\\ud800\"}",
    "{\"a\":1,\"a\":2}", "{\"a\":{\"type\":1},\"type\":\"x\"}",
    /* and what both refuse */
    "{", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "{\"a\":\"\\x\"}", "{\"a\":01}",
    "{\"a\":tru}", "{} x", "{\"a\":[1,]}", "{\"a\":\"ctrl \x01\"}",
  };
  static const char *needs_parse[] = {
    "[1]", "\"s\"", "1", "", "  ",
    "{\"t\\u0079pe\":\"offer\"}",  /* an escaped name in the root */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (agree); i++)
    {
      g_autoptr(GArray) spans = g_array_new (FALSE, FALSE, sizeof (SignalingJsonSpan));
      g_autoptr(GArray) parsed_spans = g_array_new (FALSE, FALSE, sizeof (SignalingJsonSpan));
      g_autoptr(GError) scan_error = NULL;
      g_autoptr(GError) parse_error = NULL;
      g_autoptr(JsonNode) node = signaling_json_parse_spans (agree[i], strlen (agree[i]), "rid",
                                                             parsed_spans, &parse_error);
      SignalingJsonScan scan = signaling_json_scan_object (agree[i], strlen (agree[i]), "rid",
                                                           spans, &scan_error);

      if (node == NULL)
        {
          g_assert_cmpint (scan, ==, SIGNALING_JSON_SCAN_INVALID);
          g_assert_cmpstr (scan_error->message, ==, parse_error->message);
          continue;
        }

      g_assert_cmpint (scan, ==, SIGNALING_JSON_SCAN_OBJECT);
      g_assert_no_error (scan_error);
      g_assert_cmpuint (spans->len, ==, parsed_spans->len);
      for (guint k = 0; k < spans->len; k++)
        {
          SignalingJsonSpan *a = &g_array_index (spans, SignalingJsonSpan, k);
          SignalingJsonSpan *b = &g_array_index (parsed_spans, SignalingJsonSpan, k);

          g_assert_cmpuint (a->start, ==, b->start);
          g_assert_cmpuint (a->end, ==, b->end);
          g_assert_cmpuint (a->value_start, ==, b->value_start);
          g_assert_cmpuint (a->name_length, ==, b->name_length);
          g_assert_cmpint (a->marked, ==, b->marked);
        }
    }

  for (gsize i = 0; i < G_N_ELEMENTS (needs_parse); i++)
    {
      g_autoptr(GArray) spans = g_array_new (FALSE, FALSE, sizeof (SignalingJsonSpan));

      g_assert_cmpint (signaling_json_scan_object (needs_parse[i], strlen (needs_parse[i]), NULL, spans, NULL),
                       ==, SIGNALING_JSON_SCAN_NEEDS_PARSE);
      g_assert_cmpuint (spans->len, ==, 0);
    }
}

/* An object of many names is counted by hash only by a parse: a scan
 * hands it over, nested or not. */
static void
test_scan_many_names (void)
{
  for (guint nested = 0; nested < 2; nested++)
    {
      g_autoptr(GString) text = g_string_new (nested ? "{\"type\":\"x\",\"o\":{" : "{");
      g_autoptr(GArray) spans = g_array_new (FALSE, FALSE, sizeof (SignalingJsonSpan));

      for (guint i = 0; i < 40; i++)
        g_string_append_printf (text, "%s\"n%u\":%u", i > 0 ? "," : "", i, i);
      g_string_append (text, nested ? "}}" : "}");

      g_assert_cmpint (signaling_json_scan_object (text->str, text->len, NULL, spans, NULL),
                       ==, SIGNALING_JSON_SCAN_NEEDS_PARSE);
      g_assert_cmpuint (spans->len, ==, 0);
    }
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
  g_test_add_func ("/json/nul", test_nul);
  g_test_add_func ("/json/numbers", test_numbers);
  g_test_add_func ("/json/big-int", test_big_int);
  g_test_add_func ("/json/repeated-names", test_repeated_names);
  g_test_add_func ("/json/member-limits", test_member_limits);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/length", test_length);
  g_test_add_func ("/json/scan", test_scan);
  g_test_add_func ("/json/scan/many-names", test_scan_many_names);

  return g_test_run ();
}
