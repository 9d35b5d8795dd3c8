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
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "signaling-utf8-private.h"
#include "signaling-json-private.h"

/* Deeper nesting than any signaling message needs; the limit keeps a
 * hostile "[[[[..." from exhausting the stack. */
#define MAX_DEPTH 128

/* 2^53: the integers a double holds exactly, JavaScript's
 * Number.MAX_SAFE_INTEGER + 1. */
#define MAX_SAFE_INTEGER G_GINT64_CONSTANT (9007199254740992)

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

/* Where a string is unescaped before it is copied into its node or
 * member name: most strings fit the inline part, so parsing a message
 * costs one allocation per string (json-glib's copy), not two. */
typedef struct
{
  char *data;
  gsize length;
  gsize capacity;
  char inline_data[256];
} Scratch;

static void
scratch_init (Scratch *scratch)
{
  scratch->data = scratch->inline_data;
  scratch->length = 0;
  scratch->capacity = sizeof scratch->inline_data;
}

static void
scratch_clear (Scratch *scratch)
{
  if (scratch->data != scratch->inline_data)
    g_free (scratch->data);
}

static void
scratch_append (Scratch    *scratch,
                const char *bytes,
                gsize       length)
{
  if (scratch->length + length + 1 > scratch->capacity)
    {
      gsize capacity = MAX (scratch->capacity * 2, scratch->length + length + 1);

      if (scratch->data == scratch->inline_data)
        scratch->data = memcpy (g_malloc (capacity), scratch->inline_data, scratch->length);
      else
        scratch->data = g_realloc (scratch->data, capacity);
      scratch->capacity = capacity;
    }
  memcpy (scratch->data + scratch->length, bytes, length);
  scratch->length += length;
  scratch->data[scratch->length] = '\0';
}

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  guint depth;
  GError **error;
  Scratch name;   /* the member name being parsed */
  Scratch value;  /* the string value being parsed */
  GArray *spans;  /* SignalingJsonSpan of the root object's members, or NULL */
  const char *marked;  /* the member name spans mark */
  gboolean scan;        /* check the text only, build no node */
  gboolean needs_parse; /* the scan met what only a full parse checks */
} Parser;

/* What a scan returns for a value it checked: never dereferenced,
 * never freed. */
static char scanned_value;
#define SCANNED ((JsonNode *) &scanned_value)

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
 * surrogate pair. A lone surrogate is kept as such (see
 * append_code_point()), as JavaScript keeps it. */
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

  *out = high;
  return TRUE;
}

/* JavaScript strings hold any 16-bit code unit, C strings neither NUL
 * nor (as UTF-8) a lone surrogate. Both are stored in forms that valid
 * UTF-8 never contains, so that they cannot be confused with anything
 * a client can send as is, and the serializer writes them back as
 * JSON.stringify() does:
 *
 * - U+0000 as C0 80 (the "modified UTF-8" of Java and Tcl), so that
 *   "a\u0000b" keeps its three characters and is not "a";
 * - a lone surrogate as its three-byte form ED A0 80..ED BF BF
 *   (WTF-8), so that "\ud800" is not U+FFFD.
 *
 * Neither is valid UTF-8, so g_utf8_validate() refuses both wherever a
 * string must be a name (ids, rooms, types). */
static void
append_code_point (Scratch  *out,
                   gunichar  code_point)
{
  char bytes[6];

  if (code_point == 0)
    scratch_append (out, "\xc0\x80", 2);
  else if (code_point >= 0xd800 && code_point <= 0xdfff)
    {
      bytes[0] = (char) (0xe0 | code_point >> 12);
      bytes[1] = (char) (0x80 | (code_point >> 6 & 0x3f));
      bytes[2] = (char) (0x80 | (code_point & 0x3f));
      scratch_append (out, bytes, 3);
    }
  else
    scratch_append (out, bytes, g_unichar_to_utf8 (code_point, bytes));
}

/* At the opening quote: unescapes the string into @out (NUL-terminated,
 * valid until the next string into it), or only checks it if @out is
 * NULL (a scan copies no string it does not look at). */
static gboolean
parse_string (Parser  *parser,
              Scratch *out)
{
  const char *run;

  if (out != NULL)
    out->length = 0;
  parser->p++;
  run = parser->p;

  while (parser->p < parser->end)
    {
      guchar c;
      char escaped;

      parser->p += plain_prefix (parser->p, parser->end);
      if (parser->p >= parser->end)
        break;
      c = *parser->p;

      if (c == '"')
        {
          if (out != NULL)
            scratch_append (out, run, parser->p - run);
          parser->p++;
          return TRUE;
        }

      if (c < 0x20)
        break;

      /* A backslash */
      if (out != NULL)
        scratch_append (out, run, parser->p - run);
      parser->p++;
      if (parser->p >= parser->end)
        break;

      switch (*parser->p++)
        {
        case '"':  escaped = '"'; break;
        case '\\': escaped = '\\'; break;
        case '/':  escaped = '/'; break;
        case 'b':  escaped = '\b'; break;
        case 'f':  escaped = '\f'; break;
        case 'n':  escaped = '\n'; break;
        case 'r':  escaped = '\r'; break;
        case 't':  escaped = '\t'; break;
        case 'u':
          {
            gunichar code_point;

            if (!read_unicode_escape (parser, &code_point))
              goto bad_escape;
            if (out != NULL)
              append_code_point (out, code_point);
            run = parser->p;
            continue;
          }
        default:
          goto bad_escape;
        }
      if (out != NULL)
        scratch_append (out, &escaped, 1);
      run = parser->p;
    }

  fail (parser, "Unterminated string or control character in string");
  return FALSE;

bad_escape:
  fail (parser, "Invalid escape in string");
  return FALSE;
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

  if (parser->scan)
    return SCANNED;

  length = parser->p - begin;
  if (length >= sizeof buffer)
    integral = FALSE;  /* far beyond 64 bits anyway */
  else
    {
      memcpy (buffer, begin, length);
      buffer[length] = '\0';
    }

  /* JavaScript reads every number as a double: integers are kept as
   * such only while a double holds them exactly, beyond 2^53 they are
   * rounded as JSON.parse() rounds them. */
  if (integral)
    {
      gint64 value;
      char *end;

      errno = 0;
      value = g_ascii_strtoll (buffer, &end, 10);
      if (errno == 0 && value >= -MAX_SAFE_INTEGER && value <= MAX_SAFE_INTEGER)
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
end_array (Parser    *parser,
           JsonArray *array)
{
  parser->p++;
  return parser->scan ? SCANNED : json_node_init_array (json_node_alloc (), array);
}

static JsonNode *
parse_array (Parser *parser)
{
  g_autoptr(JsonArray) array = parser->scan ? NULL : json_array_new ();

  parser->p++;
  skip_whitespace (parser);
  if (parser->p < parser->end && *parser->p == ']')
    return end_array (parser, array);

  for (;;)
    {
      JsonNode *element = parse_value (parser);

      if (element == NULL)
        return NULL;
      if (array != NULL)
        json_array_add_element (array, element);

      skip_whitespace (parser);
      if (parser->p < parser->end && *parser->p == ',')
        {
          parser->p++;
          continue;
        }
      if (parser->p < parser->end && *parser->p == ']')
        return end_array (parser, array);
      return fail (parser, "Expected “,” or “]” in array");
    }
}

/* Objects are built so that no input costs more than linear time.
 *
 * A repeated name keeps its first place and takes the last value, as
 * in JavaScript. json_object_set_member() does that by searching the
 * member list for the name, once per repeat: N repeats of the last of
 * N names cost N² (a 1 MB body stalled the server for 10 s). Repeats
 * wait in a table instead, and the object is rebuilt once at its end.
 * (Resetting the member's node in place would be simpler, but
 * json_node_init() in json-glib < 1.8 keeps the old value's pointer and
 * reuses it.)
 *
 * JsonObject keeps its names in a GHashTable hashed by g_str_hash(),
 * which has no seed: names that all hash alike are easy to make ("ab"
 * and "bA" do), and N of them cost N² string comparisons (15 s for a
 * 1 MB object). So an object may have at most MAX_MEMBERS names, and at
 * most MAX_SAME_HASH of them may share a hash, which no real data does
 * by chance; counting is done in a table of our own with a random seed
 * from the CHECK_HASHES_FROM-th name on. */
#define MAX_MEMBERS       1024
#define MAX_SAME_HASH     8
#define CHECK_HASHES_FROM 32

typedef struct
{
  JsonObject *object;
  GHashTable *repeats;      /* name -> last value, or NULL */
  GHashTable *hash_counts;  /* g_str_hash (name) -> how many names, or NULL */
  guint n_members;
} ObjectBuilder;

static void
object_builder_clear (ObjectBuilder *builder)
{
  g_clear_pointer (&builder->object, json_object_unref);
  g_clear_pointer (&builder->repeats, g_hash_table_unref);
  g_clear_pointer (&builder->hash_counts, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ObjectBuilder, object_builder_clear)

static gsize hash_seed;  /* set once, never 0 */

/* A string hash already, spread with a seed the client cannot know
 * (the finalizer of MurmurHash3). */
static guint
seeded_hash (gconstpointer key)
{
  guint32 h = GPOINTER_TO_UINT (key) ^ (guint32) hash_seed;

  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

/* FALSE if @name is one too many of its hash. */
static gboolean
count_name_hash (GHashTable *hash_counts,
                 const char *name)
{
  gpointer key = GUINT_TO_POINTER (g_str_hash (name));
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (hash_counts, key)) + 1;

  g_hash_table_insert (hash_counts, key, GUINT_TO_POINTER (count));
  return count <= MAX_SAME_HASH;
}

static gboolean
start_counting_hashes (ObjectBuilder *builder)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (g_once_init_enter (&hash_seed))
    g_once_init_leave (&hash_seed, (gsize) (g_random_int () | 1));

  builder->hash_counts = g_hash_table_new (seeded_hash, g_direct_equal);
  json_object_iter_init (&iter, builder->object);
  while (json_object_iter_next (&iter, &name, &member))
    if (!count_name_hash (builder->hash_counts, name))
      return FALSE;
  return TRUE;
}

/* Takes @member; NULL, or why the object is refused. */
static const char *
add_member (ObjectBuilder *builder,
            const char    *name,
            JsonNode      *member)
{
  if (json_object_has_member (builder->object, name))
    {
      if (builder->repeats == NULL)
        builder->repeats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) json_node_unref);
      g_hash_table_replace (builder->repeats, g_strdup (name), member);
      return NULL;
    }

  if (++builder->n_members > MAX_MEMBERS)
    {
      json_node_unref (member);
      return "Too many members in an object";
    }

  if ((builder->hash_counts == NULL && builder->n_members == CHECK_HASHES_FROM &&
       !start_counting_hashes (builder)) ||
      (builder->hash_counts != NULL && !count_name_hash (builder->hash_counts, name)))
    {
      json_node_unref (member);
      return "Too many member names with the same hash in an object";
    }

  json_object_set_member (builder->object, name, member);
  return NULL;
}

static JsonNode *
end_object (ObjectBuilder *builder)
{
  g_autoptr(JsonObject) result = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (builder->repeats == NULL)
    return json_node_init_object (json_node_alloc (), builder->object);

  result = json_object_new ();
  json_object_iter_init_ordered (&iter, builder->object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      JsonNode *last = g_hash_table_lookup (builder->repeats, name);

      json_object_set_member (result, name, json_node_ref (last != NULL ? last : member));
    }

  return json_node_init_object (json_node_alloc (), result);
}

/* A scan builds no object, so it cannot count names by hash: it
 * leaves an object that many names to a full parse. */
static const char *
scan_member (Parser        *parser,
             ObjectBuilder *builder)
{
  if (++builder->n_members >= CHECK_HASHES_FROM)
    {
      parser->needs_parse = TRUE;
      return "Too many members to scan";
    }
  return NULL;
}

static JsonNode *
finish_object (Parser        *parser,
               ObjectBuilder *builder)
{
  parser->p++;
  return parser->scan ? SCANNED : end_object (builder);
}

/* Where a member of the root object is, for a relay to copy it. A scan
 * compares names as written, so it leaves escaped ones to a full parse. */
static gboolean
add_span (Parser     *parser,
          const char *member_start,
          const char *value_start)
{
  SignalingJsonSpan span = {
    .start = member_start - parser->start,
    .end = parser->p - parser->start,
    .value_start = value_start - parser->start,
    .name_length = parser->name.length,
    .marked = parser->marked != NULL && strcmp (parser->name.data, parser->marked) == 0,
  };

  /* Unescaped, the name is its first name_length bytes as written. */
  if (parser->scan && memchr (member_start + 1, '\\', span.name_length) != NULL)
    {
      parser->needs_parse = TRUE;
      return FALSE;
    }

  g_array_append_val (parser->spans, span);
  return TRUE;
}

static JsonNode *
parse_object (Parser *parser)
{
  g_auto(ObjectBuilder) builder = { parser->scan ? NULL : json_object_new (), NULL, NULL, 0 };

  parser->p++;
  skip_whitespace (parser);
  if (parser->p < parser->end && *parser->p == '}')
    return finish_object (parser, &builder);

  for (;;)
    {
      g_autofree char *nested_name = NULL;
      const char *name;
      JsonNode *member;
      const char *refused;
      const char *member_start, *value_start;
      gboolean root_member = parser->spans != NULL && parser->depth == 1;
      gsize name_length;

      skip_whitespace (parser);
      if (parser->p >= parser->end || *parser->p != '"')
        return fail (parser, "Expected a member name in object");
      member_start = parser->p;
      if (!parse_string (parser, parser->scan && !root_member ? NULL : &parser->name))
        return NULL;
      name = parser->name.data;

      skip_whitespace (parser);
      if (parser->p >= parser->end || *parser->p != ':')
        return fail (parser, "Expected “:” in object");
      parser->p++;

      /* A value holding objects would parse their names into the same
       * place: keep this one apart. */
      skip_whitespace (parser);
      value_start = parser->p;
      if (parser->p < parser->end && (*parser->p == '{' || *parser->p == '[') && !parser->scan)
        name = nested_name = g_strdup (name);
      name_length = parser->name.length;

      member = parse_value (parser);
      if (member == NULL)
        return NULL;
      if (root_member)
        {
          /* A parse put the value's names into parser->name (a scan
           * only keeps the root's): put this one back. */
          if (nested_name != NULL)
            {
              parser->name.length = 0;
              scratch_append (&parser->name, nested_name, name_length);
            }
          if (!add_span (parser, member_start, value_start))
            return fail (parser, "Escaped member name");
        }
      refused = parser->scan ? scan_member (parser, &builder) : add_member (&builder, name, member);
      if (refused != NULL)
        return fail (parser, refused);

      skip_whitespace (parser);
      if (parser->p < parser->end && *parser->p == ',')
        {
          parser->p++;
          continue;
        }
      if (parser->p < parser->end && *parser->p == '}')
        return finish_object (parser, &builder);
      return fail (parser, "Expected “,” or “}” in object");
    }
}

static JsonNode *
parse_literal (Parser      *parser,
               const char  *literal,
               gsize        length,
               JsonNodeType type,
               gboolean     value)
{
  if (!consume_literal (parser, literal, length))
    return fail (parser, "Invalid literal");
  if (parser->scan)
    return SCANNED;
  if (type == JSON_NODE_NULL)
    return json_node_init_null (json_node_alloc ());
  return json_node_init_boolean (json_node_alloc (), value);
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
      if (parse_string (parser, parser->scan ? NULL : &parser->value))
        node = parser->scan ? SCANNED : json_node_init_string (json_node_alloc (), parser->value.data);
      break;
    case 't':
      node = parse_literal (parser, "true", 4, JSON_NODE_VALUE, TRUE);
      break;
    case 'f':
      node = parse_literal (parser, "false", 5, JSON_NODE_VALUE, FALSE);
      break;
    case 'n':
      node = parse_literal (parser, "null", 4, JSON_NODE_NULL, FALSE);
      break;
    default:
      node = parse_number (parser);
    }

  parser->depth--;
  return node;
}

/* The value @parser's text holds, with nothing but whitespace around
 * it; in a scan, SCANNED for a valid one. */
static JsonNode *
run_parser (Parser *parser)
{
  JsonNode *node;  /* not g_autoptr: it may be SCANNED */

  scratch_init (&parser->name);
  scratch_init (&parser->value);
  node = parse_value (parser);
  if (node != NULL)
    {
      skip_whitespace (parser);
      if (parser->p != parser->end)
        {
          if (node != SCANNED)
            json_node_unref (node);
          node = NULL;
          fail (parser, "Unexpected data after the value");
        }
    }
  scratch_clear (&parser->name);
  scratch_clear (&parser->value);

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
  return signaling_json_parse_spans (text, length, NULL, NULL, error);
}

/*
 * signaling_json_parse_spans:
 * @text: valid UTF-8
 * @marked: (nullable): a member name
 * @spans: (nullable) (element-type SignalingJsonSpan): where the spans
 *   of the root object's members go, in order: from the opening quote
 *   of the name to the end of the value, marked if the name is @marked
 *
 * Like signaling_json_parse_utf8(), and says where the members of the
 * root object are in @text: a relay can then copy them as they came.
 */
JsonNode *
signaling_json_parse_spans (const char  *text,
                            gsize        length,
                            const char  *marked,
                            GArray      *spans,
                            GError     **error)
{
  Parser parser = { text, text, text + length, 0, error };

  parser.spans = spans;
  parser.marked = marked;
  return run_parser (&parser);
}

/*
 * signaling_json_scan_object:
 * @text: valid UTF-8
 * @marked: (nullable): a member name
 * @spans: (element-type SignalingJsonSpan): where the spans of the root
 *   object's members go, as signaling_json_parse_spans() puts them
 *
 * Checks @text as signaling_json_parse_spans() would, building nothing:
 * a relay that copies the members as they came needs no tree, and
 * building and freeing one was half of what a relayed native message
 * cost (callgrind, 100 native pairs: 54 % in parsing, 22 % in freeing).
 *
 * Returns: %SIGNALING_JSON_SCAN_OBJECT when @text is an object a parse
 *   accepts; %SIGNALING_JSON_SCAN_INVALID, with @error set, when a parse
 *   refuses it with the same error; %SIGNALING_JSON_SCAN_NEEDS_PARSE
 *   when only a parse can tell (not an object; an object of many
 *   names, which only a parse counts by hash; an escaped name in the
 *   root object)
 */
SignalingJsonScan
signaling_json_scan_object (const char  *text,
                            gsize        length,
                            const char  *marked,
                            GArray      *spans,
                            GError     **error)
{
  Parser parser = { text, text, text + length, 0, NULL };
  g_autoptr(GError) local_error = NULL;
  const char *first = text;

  g_return_val_if_fail (spans != NULL, SIGNALING_JSON_SCAN_NEEDS_PARSE);

  while (first < text + length && g_ascii_isspace (*first))
    first++;
  if (first == text + length || *first != '{')
    return SIGNALING_JSON_SCAN_NEEDS_PARSE;

  parser.error = &local_error;
  parser.spans = spans;
  parser.marked = marked;
  parser.scan = TRUE;
  if (run_parser (&parser) != NULL)
    return SIGNALING_JSON_SCAN_OBJECT;

  g_array_set_size (spans, 0);
  if (parser.needs_parse)
    return SIGNALING_JSON_SCAN_NEEDS_PARSE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return SIGNALING_JSON_SCAN_INVALID;
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
  return signaling_json_parse_with_spans (text, length, NULL, NULL, error);
}

/* signaling_json_parse_spans() for text not yet known to be UTF-8. */
JsonNode *
signaling_json_parse_with_spans (const char  *text,
                                 gsize        length,
                                 const char  *marked,
                                 GArray      *spans,
                                 GError     **error)
{
  if (!signaling_utf8_validate (text, length))
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, "Not UTF-8");
      return NULL;
    }

  return signaling_json_parse_spans (text, length, marked, spans, error);
}

/* Serializing */

/* How many bytes [p, end) starts with that the serializer copies as
 * they are: plain, and not the start of a stored NUL (C0) or lone
 * surrogate (ED A0..ED BF). An ED that starts a Hangul syllable is
 * copied as well, one byte at a time. */
static gsize
copied_prefix (const char *p,
               const char *end)
{
  const char *start = p;

  for (;;)
    {
      while (end - p >= 8)
        {
          guint64 word;

          memcpy (&word, p, sizeof word);
          if (HAS_BYTE_BELOW (word, 0x20) | HAS_BYTE (word, '"') | HAS_BYTE (word, '\\') |
              HAS_BYTE (word, 0xc0) | HAS_BYTE (word, 0xed))
            break;
          p += 8;
        }

      while (p < end && (guchar) *p >= 0x20 && *p != '"' && *p != '\\' &&
             (guchar) *p != 0xc0 && (guchar) *p != 0xed)
        p++;

      if (p < end && (guchar) *p == 0xed && end - p >= 3 && (guchar) p[1] < 0xa0)
        {
          p += 3;  /* U+D000..U+D7FF: valid UTF-8, copied */
          continue;
        }
      return p - start;
    }
}

/* The code unit of the three-byte surrogate form at @p, or 0. */
static gunichar
stored_surrogate (const char *p,
                  const char *end)
{
  if (end - p < 3 || (guchar) p[0] != 0xed || (guchar) p[1] < 0xa0)
    return 0;
  return 0xd000 | ((guchar) p[1] & 0x3f) << 6 | ((guchar) p[2] & 0x3f);
}

/* At a special byte of a string: writes what it stands for, returns
 * how many bytes it took. */
static gsize
append_special (GString    *out,
                const char *p,
                const char *end)
{
  guchar c = *p;
  gunichar high, low;

  switch (c)
    {
    case '"':  g_string_append (out, "\\\""); return 1;
    case '\\': g_string_append (out, "\\\\"); return 1;
    case '\b': g_string_append (out, "\\b"); return 1;
    case '\f': g_string_append (out, "\\f"); return 1;
    case '\n': g_string_append (out, "\\n"); return 1;
    case '\r': g_string_append (out, "\\r"); return 1;
    case '\t': g_string_append (out, "\\t"); return 1;
    default:
      break;
    }

  if (c < 0x20)
    {
      g_string_append_printf (out, "\\u%04x", c);
      return 1;
    }

  if (c == 0xc0 && end - p >= 2 && (guchar) p[1] == 0x80)
    {
      g_string_append (out, "\\u0000");
      return 2;
    }

  high = stored_surrogate (p, end);
  if (high == 0)
    {
      g_string_append_c (out, (char) c);  /* not ours: copied as it is */
      return 1;
    }

  /* Two halves that met by concatenation make one character, which
   * JavaScript writes as it is. */
  low = stored_surrogate (p + 3, end);
  if (high <= 0xdbff && low >= 0xdc00)
    {
      g_string_append_unichar (out, 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00));
      return 6;
    }

  /* JSON.stringify() escapes a lone surrogate, in lower case. */
  g_string_append_printf (out, "\\u%04x", high);
  return 3;
}

static void
append_json_string (GString    *out,
                    const char *text)
{
  const char *end = text + strlen (text);
  const char *p = text;

  g_string_append_c (out, '"');
  while (p < end)
    {
      gsize plain = copied_prefix (p, end);

      g_string_append_len (out, p, plain);
      p += plain;
      if (p < end)
        p += append_special (out, p, end);
    }
  g_string_append_c (out, '"');
}

/* Turns @candidate ("d.ddde±x", as printf writes it) into the next
 * value up with as many digits; TRUE if that reads back as @value. */
static gboolean
next_candidate_reads_back (char   *candidate,
                           double  value)
{
  char *e = strchr (candidate, 'e');
  char *q;

  for (q = e - 1; q >= candidate; q--)
    {
      if (*q == '.')
        continue;
      if (*q != '9')
        {
          (*q)++;
          break;
        }
      *q = '0';
    }

  if (q < candidate)
    {
      /* 9.99e4 + 1 unit is 1.00e5 */
      int exponent = atoi (e + 1);

      candidate[0] = '1';
      g_snprintf (e + 1, 8, "%+d", exponent + 1);
    }

  return g_ascii_strtod (candidate, NULL) == value;
}

/* Writes @value with @precision + 1 significant digits into @buffer:
 * printf's nearest candidate or, next to a power of two where the
 * values that read back lie further on one side than on the other, the
 * one above it. TRUE if it reads back as @value. */
static gboolean
candidate_reads_back (double value,
                      int    precision,
                      char   buffer[40])
{
  g_snprintf (buffer, 40, "%.*e", precision, value);
  return g_ascii_strtod (buffer, NULL) == value ||
         next_candidate_reads_back (buffer, value);
}

/* The shortest digits that read back as @value (positive, finite),
 * nearest to it when several do: what ECMAScript's Number::toString
 * asks for. Returns how many digits went into @digits, and the
 * decimal exponent of the first in @exponent. */
static int
shortest_digits (double  value,
                 char    digits[18],
                 int    *exponent)
{
  char buffer[40];
  int low = 0, high = 16;  /* 17 digits always read back */
  const char *e;
  int n = 0;

  /* If some k digits read back, so do k + 1 (add a zero): the fewest
   * can be searched for. */
  while (low < high)
    {
      int middle = (low + high) / 2;

      if (candidate_reads_back (value, middle, buffer))
        high = middle;
      else
        low = middle + 1;
    }
  candidate_reads_back (value, low, buffer);

  e = strchr (buffer, 'e');
  for (const char *q = buffer; q < e; q++)
    if (g_ascii_isdigit (*q))
      digits[n++] = *q;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
  *exponent = atoi (e + 1);
  return n;
}

/* As JavaScript's Number::toString() (ECMAScript 2024, 6.1.6.1.20)
 * and JSON.stringify() write a number: 1e21 and up and below 1e-6 in
 * exponent form, everything else in plain digits; no "-0"; NaN and
 * the infinities as null. */
static void
append_json_double (GString *out,
                    double   value)
{
  char digits[18];
  int k, n, exponent;

  if (!isfinite (value))
    {
      g_string_append (out, "null");
      return;
    }
  if (value == 0)
    {
      g_string_append_c (out, '0');
      return;
    }
  if (value < 0)
    {
      g_string_append_c (out, '-');
      value = -value;
    }
  if (value < (double) MAX_SAFE_INTEGER && value == (double) (gint64) value)
    {
      /* the digits of an integer this small are the shortest */
      g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) value);
      return;
    }

  k = shortest_digits (value, digits, &exponent);
  n = exponent + 1;  /* where the decimal point goes */

  if (k <= n && n <= 21)
    {
      g_string_append (out, digits);
      for (int i = k; i < n; i++)
        g_string_append_c (out, '0');
    }
  else if (0 < n && n <= 21)
    {
      g_string_append_len (out, digits, n);
      g_string_append_c (out, '.');
      g_string_append (out, digits + n);
    }
  else if (-6 < n && n <= 0)
    {
      g_string_append (out, "0.");
      for (int i = n; i < 0; i++)
        g_string_append_c (out, '0');
      g_string_append (out, digits);
    }
  else
    {
      g_string_append_c (out, digits[0]);
      if (k > 1)
        {
          g_string_append_c (out, '.');
          g_string_append (out, digits + 1);
        }
      g_string_append_printf (out, "e%c%d", n - 1 < 0 ? '-' : '+', ABS (n - 1));
    }
}

/* A double holds integers exactly up to 2^53; past that JavaScript,
 * and so JSON.stringify(), would have rounded an int64 set by the
 * application, and writes it as that double. */
static void
append_json_int (GString *out,
                 gint64   value)
{
  if (value >= -MAX_SAFE_INTEGER && value <= MAX_SAFE_INTEGER)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, value);
  else
    append_json_double (out, (double) value);
}

static void append_json (GString *out, JsonNode *node);

/* JavaScript objects list their "array index" keys ("0" to
 * "4294967294", as written by String(n)) first, in ascending order,
 * then the other keys in the order they were added. */
static gboolean
array_index_of (const char *name,
                guint32    *out_index)
{
  guint64 value = 0;

  if (name[0] == '0')
    {
      *out_index = 0;
      return name[1] == '\0';
    }
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) || p - name >= 10)
        return FALSE;
      value = value * 10 + (*p - '0');
    }
  if (name[0] == '\0' || value >= G_MAXUINT32)
    return FALSE;
  *out_index = value;
  return TRUE;
}

typedef struct
{
  guint32 index;
  const char *name;
  JsonNode *member;
} IndexMember;

static int
compare_index_members (gconstpointer a,
                       gconstpointer b)
{
  const IndexMember *x = a, *y = b;

  return x->index < y->index ? -1 : x->index > y->index;
}

static void
append_member (GString    *out,
               gboolean   *first,
               const char *name,
               JsonNode   *member)
{
  if (!*first)
    g_string_append_c (out, ',');
  *first = FALSE;
  append_json_string (out, name);
  g_string_append_c (out, ':');
  append_json (out, member);
}

static void
append_json_object (GString    *out,
                    JsonObject *object)
{
  g_autoptr(GArray) indexed = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean first = TRUE;
  guint32 index;

  g_string_append_c (out, '{');

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (array_index_of (name, &index))
      {
        IndexMember entry = { index, name, member };

        if (indexed == NULL)
          indexed = g_array_new (FALSE, FALSE, sizeof (IndexMember));
        g_array_append_val (indexed, entry);
      }

  if (indexed != NULL)
    {
      g_array_sort (indexed, compare_index_members);
      for (guint i = 0; i < indexed->len; i++)
        {
          IndexMember *entry = &g_array_index (indexed, IndexMember, i);

          append_member (out, &first, entry->name, entry->member);
        }
    }

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (indexed == NULL || !array_index_of (name, &index))
      append_member (out, &first, name, member);

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
          append_json_int (out, json_node_get_int (node));
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

/* As signaling_json_to_string(), at the end of @out. */
void
signaling_json_append (GString  *out,
                       JsonNode *node)
{
  append_json (out, node);
}

/* @text as a JSON string, at the end of @out. */
void
signaling_json_append_string (GString    *out,
                              const char *text)
{
  append_json_string (out, text);
}

/*
 * signaling_json_is_unicode:
 * @text: a string out of a parse
 *
 * Strings out of a parse may hold U+0000 and lone surrogates, in forms
 * that are not UTF-8 (see append_code_point()); they are kept in what
 * is relayed, but an id, a room name or a message type must not have
 * them: "a\u0000b" would be a different name from "a" that prints,
 * logs and crosses D-Bus as "a".
 *
 * Returns: %TRUE if @text is valid UTF-8, with neither
 */
gboolean
signaling_json_is_unicode (const char *text)
{
  return g_utf8_validate (text, -1, NULL);
}

/*
 * signaling_json_node_is_string:
 * @node: (nullable): a value, or %NULL for none
 *
 * Whether @node is a string: the check every field rule of both
 * dialects starts with.
 */
gboolean
signaling_json_node_is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING;
}

/* Whether @object has a member @name that is a string. */
gboolean
signaling_json_object_has_string (JsonObject *object,
                                  const char *name)
{
  return signaling_json_node_is_string (json_object_get_member (object, name));
}
