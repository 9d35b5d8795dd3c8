/* signaling-json.c: JSON as JavaScript reads and writes it, fast
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every relayed message is parsed and serialized once or twice, so
 * these two are on the hot path. json-glib's GScanner-based parser
 * cost a quarter of the server's time under load; this one reads the
 * same JsonNode trees in a single pass. The serializer writes exactly
 * what JSON.stringify() would.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "signaling-json-private.h"

/* Deeper nesting than any signaling message needs; the limit keeps a
 * hostile "[[[[..." from exhausting the stack. */
#define MAX_DEPTH 128

/* Strings are most of a signaling message (an SDP is kilobytes of
 * plain text), so both directions skip plain bytes eight at a time.
 * A byte is "plain" when it needs no escaping: not '"', not '\\' and
 * not a control character. */

#define ONES  G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Non-zero if a byte of @word is below @n (n <= 128). */
#define HAS_BYTE_BELOW(word, n) (((word) - ONES * (n)) & ~(word) & HIGHS)
#define HAS_BYTE(word, c) HAS_BYTE_BELOW ((word) ^ (ONES * (c)), 1)

/* How many plain bytes [p, end) starts with. */
static gsize
plain_prefix (const char *p,
              const char *end)
{
  const char *start = p;

  while (end - p >= 8)
    {
      guint64 word;

      memcpy (&word, p, sizeof word);
      if (HAS_BYTE_BELOW (word, 0x20) | HAS_BYTE (word, '"') | HAS_BYTE (word, '\\'))
        break;
      p += 8;
    }

  while (p < end && (guchar) *p >= 0x20 && *p != '"' && *p != '\\')
    p++;

  return p - start;
}

/* Parsing */

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  guint depth;
  GError **error;
} Parser;

static JsonNode *
fail (Parser     *parser,
      const char *what)
{
  /* Keep the first error: callers unwind without checking. */
  if (parser->error != NULL && *parser->error == NULL)
    g_set_error (parser->error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                 "%s at offset %" G_GSIZE_FORMAT, what, (gsize) (parser->p - parser->start));
  return NULL;
}

static void
skip_whitespace (Parser *parser)
{
  while (parser->p < parser->end &&
         (*parser->p == ' ' || *parser->p == '\t' || *parser->p == '\n' || *parser->p == '\r'))
    parser->p++;
}

static gboolean
consume_literal (Parser     *parser,
                 const char *literal,
                 gsize       length)
{
  if ((gsize) (parser->end - parser->p) < length || memcmp (parser->p, literal, length) != 0)
    return FALSE;
  parser->p += length;
  return TRUE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
read_hex4 (Parser   *parser,
           gunichar *out)
{
  gunichar value = 0;

  if (parser->end - parser->p < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int digit = hex_value (parser->p[i]);

      if (digit < 0)
        return FALSE;
      value = value << 4 | digit;
    }
  parser->p += 4;
  *out = value;
  return TRUE;
}

/* After the backslash of a \u escape: one code point, joining a
 * surrogate pair. A lone surrogate becomes U+FFFD, as it cannot be
 * UTF-8. */
static gboolean
read_unicode_escape (Parser   *parser,
                     gunichar *out)
{
  gunichar high, low;

  if (!read_hex4 (parser, &high))
    return FALSE;

  if (high >= 0xd800 && high <= 0xdbff &&
      parser->end - parser->p >= 6 && parser->p[0] == '\\' && parser->p[1] == 'u')
    {
      const char *saved = parser->p;

      parser->p += 2;
      if (read_hex4 (parser, &low) && low >= 0xdc00 && low <= 0xdfff)
        {
          *out = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
          return TRUE;
        }
      parser->p = saved;
    }

  *out = (high >= 0xd800 && high <= 0xdfff) ? 0xfffd : high;
  return TRUE;
}

/* At the opening quote; returns the unescaped string. */
static char *
parse_string (Parser *parser)
{
  GString *out = NULL;
  const char *run;

  parser->p++;
  run = parser->p;

  while (parser->p < parser->end)
    {
      guchar c;

      parser->p += plain_prefix (parser->p, parser->end);
      if (parser->p >= parser->end)
        break;
      c = *parser->p;

      if (c == '"')
        {
          char *result;

          if (out == NULL)
            result = g_strndup (run, parser->p - run);
          else
            result = g_string_free (g_string_append_len (out, run, parser->p - run), FALSE);
          parser->p++;
          return result;
        }

      if (c < 0x20)
        break;

      /* A backslash: escapes from here on go through a copy. */
      if (out == NULL)
        out = g_string_sized_new (parser->p - run + 16);
      g_string_append_len (out, run, parser->p - run);
      parser->p++;
      if (parser->p >= parser->end)
        break;

      switch (*parser->p++)
        {
        case '"':  g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '/':  g_string_append_c (out, '/'); break;
        case 'b':  g_string_append_c (out, '\b'); break;
        case 'f':  g_string_append_c (out, '\f'); break;
        case 'n':  g_string_append_c (out, '\n'); break;
        case 'r':  g_string_append_c (out, '\r'); break;
        case 't':  g_string_append_c (out, '\t'); break;
        case 'u':
          {
            gunichar code_point;

            if (!read_unicode_escape (parser, &code_point))
              goto bad_escape;
            g_string_append_unichar (out, code_point);
          }
          break;
        default:
          goto bad_escape;
        }
      run = parser->p;
    }

  if (out != NULL)
    g_string_free (out, TRUE);
  fail (parser, "Unterminated string or control character in string");
  return NULL;

bad_escape:
  g_string_free (out, TRUE);
  fail (parser, "Invalid escape in string");
  return NULL;
}

static JsonNode *
parse_number (Parser *parser)
{
  const char *begin = parser->p;
  gboolean integral = TRUE;
  char buffer[64];
  gsize length;

  if (parser->p < parser->end && *parser->p == '-')
    parser->p++;
  if (parser->p >= parser->end || !g_ascii_isdigit (*parser->p))
    return fail (parser, "Invalid number");
  if (*parser->p == '0')
    parser->p++;
  else
    while (parser->p < parser->end && g_ascii_isdigit (*parser->p))
      parser->p++;

  if (parser->p < parser->end && *parser->p == '.')
    {
      integral = FALSE;
      parser->p++;
      if (parser->p >= parser->end || !g_ascii_isdigit (*parser->p))
        return fail (parser, "Invalid number");
      while (parser->p < parser->end && g_ascii_isdigit (*parser->p))
        parser->p++;
    }

  if (parser->p < parser->end && (*parser->p == 'e' || *parser->p == 'E'))
    {
      integral = FALSE;
      parser->p++;
      if (parser->p < parser->end && (*parser->p == '+' || *parser->p == '-'))
        parser->p++;
      if (parser->p >= parser->end || !g_ascii_isdigit (*parser->p))
        return fail (parser, "Invalid number");
      while (parser->p < parser->end && g_ascii_isdigit (*parser->p))
        parser->p++;
    }

  length = parser->p - begin;
  if (length >= sizeof buffer)
    integral = FALSE;  /* far beyond 64 bits anyway */
  else
    {
      memcpy (buffer, begin, length);
      buffer[length] = '\0';
    }

  if (integral)
    {
      gint64 value;
      char *end;

      errno = 0;
      value = g_ascii_strtoll (buffer, &end, 10);
      if (errno == 0)
        return json_node_init_int (json_node_alloc (), value);
    }

  if (length < sizeof buffer)
    return json_node_init_double (json_node_alloc (), g_ascii_strtod (buffer, NULL));
  else
    {
      g_autofree char *copy = g_strndup (begin, length);

      return json_node_init_double (json_node_alloc (), g_ascii_strtod (copy, NULL));
    }
}

static JsonNode *parse_value (Parser *parser);

static JsonNode *
parse_array (Parser *parser)
{
  g_autoptr(JsonArray) array = json_array_new ();

  parser->p++;
  skip_whitespace (parser);
  if (parser->p < parser->end && *parser->p == ']')
    {
      parser->p++;
      return json_node_init_array (json_node_alloc (), array);
    }

  for (;;)
    {
      JsonNode *element = parse_value (parser);

      if (element == NULL)
        return NULL;
      json_array_add_element (array, element);

      skip_whitespace (parser);
      if (parser->p < parser->end && *parser->p == ',')
        {
          parser->p++;
          continue;
        }
      if (parser->p < parser->end && *parser->p == ']')
        {
          parser->p++;
          return json_node_init_array (json_node_alloc (), array);
        }
      return fail (parser, "Expected “,” or “]” in array");
    }
}

static JsonNode *
parse_object (Parser *parser)
{
  g_autoptr(JsonObject) object = json_object_new ();

  parser->p++;
  skip_whitespace (parser);
  if (parser->p < parser->end && *parser->p == '}')
    {
      parser->p++;
      return json_node_init_object (json_node_alloc (), object);
    }

  for (;;)
    {
      g_autofree char *name = NULL;
      JsonNode *member;

      skip_whitespace (parser);
      if (parser->p >= parser->end || *parser->p != '"')
        return fail (parser, "Expected a member name in object");
      name = parse_string (parser);
      if (name == NULL)
        return NULL;

      skip_whitespace (parser);
      if (parser->p >= parser->end || *parser->p != ':')
        return fail (parser, "Expected “:” in object");
      parser->p++;

      member = parse_value (parser);
      if (member == NULL)
        return NULL;
      /* A repeated name keeps its first place and takes the last
       * value, as in JavaScript. */
      json_object_set_member (object, name, member);

      skip_whitespace (parser);
      if (parser->p < parser->end && *parser->p == ',')
        {
          parser->p++;
          continue;
        }
      if (parser->p < parser->end && *parser->p == '}')
        {
          parser->p++;
          return json_node_init_object (json_node_alloc (), object);
        }
      return fail (parser, "Expected “,” or “}” in object");
    }
}

static JsonNode *
parse_value (Parser *parser)
{
  JsonNode *node = NULL;

  skip_whitespace (parser);
  if (parser->p >= parser->end)
    return fail (parser, "Unexpected end of data");

  if (++parser->depth > MAX_DEPTH)
    return fail (parser, "Nested too deeply");

  switch (*parser->p)
    {
    case '{':
      node = parse_object (parser);
      break;
    case '[':
      node = parse_array (parser);
      break;
    case '"':
      {
        g_autofree char *text = parse_string (parser);

        if (text != NULL)
          node = json_node_init_string (json_node_alloc (), text);
      }
      break;
    case 't':
      node = consume_literal (parser, "true", 4) ? json_node_init_boolean (json_node_alloc (), TRUE)
                                                 : fail (parser, "Invalid literal");
      break;
    case 'f':
      node = consume_literal (parser, "false", 5) ? json_node_init_boolean (json_node_alloc (), FALSE)
                                                  : fail (parser, "Invalid literal");
      break;
    case 'n':
      node = consume_literal (parser, "null", 4) ? json_node_init_null (json_node_alloc ())
                                                 : fail (parser, "Invalid literal");
      break;
    default:
      node = parse_number (parser);
    }

  parser->depth--;
  return node;
}

/*
 * signaling_json_parse_utf8:
 * @text: valid UTF-8 JSON text, not necessarily nul-terminated
 * @length: its length in bytes
 * @error: a #JSON_PARSER_ERROR
 *
 * Like signaling_json_parse(), for text already known to be UTF-8:
 * WebSocket text frames (libsoup checks them), Engine.IO packets (the
 * engine checks them) and strings out of an earlier parse. Each check
 * is a pass over the whole message, which adds up on the hot path.
 */
JsonNode *
signaling_json_parse_utf8 (const char  *text,
                           gsize        length,
                           GError     **error)
{
  Parser parser = { text, text, text + length, 0, error };
  g_autoptr(JsonNode) node = NULL;

  node = parse_value (&parser);
  if (node == NULL)
    return NULL;

  skip_whitespace (&parser);
  if (parser.p != parser.end)
    return fail (&parser, "Unexpected data after the value");

  return g_steal_pointer (&node);
}

/*
 * signaling_json_parse:
 * @text: JSON text, not necessarily nul-terminated
 * @length: its length in bytes
 * @error: a #JSON_PARSER_ERROR
 *
 * Parses one JSON value (RFC 8259), with nothing but whitespace
 * around it. Objects keep their member order.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 */
JsonNode *
signaling_json_parse (const char  *text,
                      gsize        length,
                      GError     **error)
{
  if (!g_utf8_validate_len (text, length, NULL))
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, "Not UTF-8");
      return NULL;
    }

  return signaling_json_parse_utf8 (text, length, error);
}

/* Serializing */

static void
append_json_string (GString    *out,
                    const char *text)
{
  const char *end = text + strlen (text);
  const char *run = text;
  const char *p;

  g_string_append_c (out, '"');
  for (p = text; p < end; p++)
    {
      guchar c;

      p += plain_prefix (p, end);
      if (p >= end)
        break;
      c = *p;

      g_string_append_len (out, run, p - run);
      run = p + 1;
      switch (c)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          g_string_append_printf (out, "\\u%04x", c);
        }
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

static void
append_json_double (GString *out,
                    double   value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    {
      /* JSON.stringify turns NaN and infinities into null. */
      g_string_append (out, "null");
      return;
    }

  /* The shortest form that reads back the same, as JavaScript prints
   * numbers: 0.1 stays "0.1", not "0.10000000000000001". */
  for (int precision = 15; precision <= 17; precision++)
    {
      g_ascii_formatd (buffer, sizeof buffer, precision == 15 ? "%.15g" : precision == 16 ? "%.16g" : "%.17g", value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  g_string_append (out, buffer);
}

static void append_json (GString *out, JsonNode *node);

static void
append_json_object (GString    *out,
                    JsonObject *object)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      append_json_string (out, name);
      g_string_append_c (out, ':');
      append_json (out, member);
    }
  g_string_append_c (out, '}');
}

static void
append_json (GString  *out,
             JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      append_json_object (out, json_node_get_object (node));
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            append_json (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;

    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          append_json_string (out, json_node_get_string (node));
          break;
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          append_json_double (out, json_node_get_double (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        default:
          g_string_append (out, "null");
        }
      break;

    default:
      g_assert_not_reached ();
    }
}

/*
 * signaling_json_to_string:
 * @node: a JSON node
 *
 * Serializes @node compactly and exactly as JavaScript's
 * JSON.stringify() would: member order kept, the same escapes, the
 * same number forms. Peers that compare what they get with what they
 * sent see no difference, and Socket.IO packets match the reference
 * server's byte for byte.
 */
char *
signaling_json_to_string (JsonNode *node)
{
  GString *out = g_string_new (NULL);

  append_json (out, node);
  return g_string_free (out, FALSE);
}
