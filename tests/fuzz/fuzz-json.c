/* fuzz-json.c: the JSON reader and writer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whatever the reader accepts, the writer must write back as JSON the
 * reader accepts again: a peer's message is relayed that way. A scan
 * (the native relay's check, which builds nothing) must agree with the
 * reader on every text: what it passes is an object the reader
 * accepts, with the same members, and what it refuses the reader
 * refuses with the same error.
 */
#include "fuzz.h"
#include "signaling-json-private.h"

static void
check_round_trip (JsonNode *node)
{
  g_autofree char *text = signaling_json_to_string (node);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) again = signaling_json_parse (text, strlen (text), &error);

  if (again == NULL)
    g_error ("Cannot read back what we wrote (%s): %s", error->message, text);
}

static void
check_scan_agrees (const char *text,
                   gsize       size,
                   JsonNode   *node,
                   GError     *parse_error)
{
  g_autoptr(GArray) spans = g_array_new (FALSE, FALSE, sizeof (SignalingJsonSpan));
  g_autoptr(GArray) parsed_spans = g_array_new (FALSE, FALSE, sizeof (SignalingJsonSpan));
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) again = NULL;

  switch (signaling_json_scan_object (text, size, "rid", spans, &error))
    {
    case SIGNALING_JSON_SCAN_OBJECT:
      g_assert (node != NULL && JSON_NODE_HOLDS_OBJECT (node));
      again = signaling_json_parse_spans (text, size, "rid", parsed_spans, NULL);
      g_assert (again != NULL);
      g_assert_cmpuint (spans->len, ==, parsed_spans->len);
      for (guint i = 0; i < spans->len; i++)
        {
          SignalingJsonSpan *a = &g_array_index (spans, SignalingJsonSpan, i);
          SignalingJsonSpan *b = &g_array_index (parsed_spans, SignalingJsonSpan, i);

          g_assert (a->start == b->start && a->end == b->end && a->value_start == b->value_start &&
                    a->name_length == b->name_length && a->marked == b->marked);
        }
      break;
    case SIGNALING_JSON_SCAN_INVALID:
      g_assert (node == NULL);
      g_assert_cmpstr (error->message, ==, parse_error->message);
      break;
    case SIGNALING_JSON_SCAN_NEEDS_PARSE:
      g_assert (spans->len == 0);
      break;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *text = (const char *) data;
  g_autoptr(GError) error = NULL;
  /* Not signaling_json_parse_utf8(): it is for text already checked
   * (WebSocket text frames) and reads anything else as is; this checks
   * first, then calls it. */
  g_autoptr(JsonNode) node = signaling_json_parse (text, size, &error);

  if (node != NULL)
    check_round_trip (node);
  else
    g_assert (error != NULL);
  if (g_utf8_validate (text, size, NULL))
    check_scan_agrees (text, size, node, error);

  return 0;
}
