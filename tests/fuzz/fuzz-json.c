/* fuzz-json.c: the JSON reader and writer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whatever the reader accepts, the writer must write back as JSON the
 * reader accepts again: a peer's message is relayed that way.
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

  return 0;
}
