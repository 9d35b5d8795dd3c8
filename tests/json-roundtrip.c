/* json-roundtrip.c: signalbox's JSON parser and serializer as a filter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reads one JSON text per line on stdin and writes, one per line, what
 * signaling_json_to_string() makes of signaling_json_parse(): the same
 * thing JSON.stringify(JSON.parse(line)) gives in JavaScript, which
 * json-corpus.test.js checks on a generated corpus. A line that does
 * not parse gives "!" and the error.
 */
#include <stdio.h>

#include "signaling-json-private.h"

int
main (void)
{
  g_autoptr(GIOChannel) in = g_io_channel_unix_new (0);
  g_autoptr(GString) line = g_string_new (NULL);
  GIOStatus status;

  /* Bytes, and lines ended by \n only: a \r is whitespace in JSON. */
  g_io_channel_set_encoding (in, NULL, NULL);
  g_io_channel_set_line_term (in, "\n", 1);
  while ((status = g_io_channel_read_line_string (in, line, NULL, NULL)) == G_IO_STATUS_NORMAL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = NULL;

      if (line->len > 0 && line->str[line->len - 1] == '\n')
        g_string_truncate (line, line->len - 1);

      node = signaling_json_parse (line->str, line->len, &error);
      if (node == NULL)
        printf ("! %s\n", error->message);
      else
        {
          g_autofree char *text = signaling_json_to_string (node);

          printf ("%s\n", text);
        }
    }

  return status == G_IO_STATUS_EOF ? 0 : 1;
}
