/* signaling-util.c: small helpers shared inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <sys/random.h>

#include "signaling-util-private.h"

#define ID_RANDOM_BYTES 16

static void
fill_random (guint8 *buffer,
             gsize   length)
{
  gsize filled = 0;

  /* getrandom() draws from the kernel CSPRNG: ids are capabilities
   * (anyone who knows one can send to that peer), so GLib's
   * Mersenne Twister is not good enough here. */
  while (filled < length)
    {
      gssize n = getrandom (buffer + filled, length - filled, 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          g_error ("getrandom() failed: %s", g_strerror (errno));
        }
      filled += n;
    }
}

/*
 * signaling_generate_id:
 *
 * Makes a new unguessable identifier: 128 random bits in URL-safe
 * base64 without padding (22 characters).
 */
char *
signaling_generate_id (void)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  guint8 bytes[ID_RANDOM_BYTES + 2] = { 0 };
  GString *id = g_string_sized_new (24);

  fill_random (bytes, ID_RANDOM_BYTES);

  for (gsize i = 0; i < ID_RANDOM_BYTES; i += 3)
    {
      guint32 triple = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      gsize remaining = ID_RANDOM_BYTES - i;

      g_string_append_c (id, alphabet[(triple >> 18) & 63]);
      g_string_append_c (id, alphabet[(triple >> 12) & 63]);
      if (remaining > 1)
        g_string_append_c (id, alphabet[(triple >> 6) & 63]);
      if (remaining > 2)
        g_string_append_c (id, alphabet[triple & 63]);
    }

  return g_string_free (id, FALSE);
}

/*
 * signaling_json_to_string:
 * @node: a JSON node
 *
 * Serializes @node compactly, as a peer would expect on the wire.
 */
char *
signaling_json_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

static void
append_frame_header (GByteArray *frame,
                     guint8      opcode,
                     gsize       length)
{
  guint8 header[4] = { 0x80 | opcode };

  /* Server frames are not masked (RFC 6455 §5.1). */
  if (length < 126)
    {
      header[1] = length;
      g_byte_array_append (frame, header, 2);
    }
  else
    {
      g_assert (length <= G_MAXUINT16);
      header[1] = 126;
      header[2] = length >> 8;
      header[3] = length & 0xff;
      g_byte_array_append (frame, header, 4);
    }
}

static void
on_reject_written (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SoupWebsocketConnection) websocket = user_data;
  GIOStream *stream = soup_websocket_connection_get_io_stream (websocket);

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/*
 * signaling_websocket_reject:
 * @websocket: a WebSocket that has not sent anything yet
 * @text: a text frame to send first
 * @code: the close code
 * @reason: the close reason
 *
 * Sends @text and a close frame, then drops the connection.
 *
 * libsoup refuses to send registered close codes it does not know,
 * such as 1013 (try again later), so this writes both frames to the
 * stream itself. Nothing else may use @websocket afterwards.
 */
void
signaling_websocket_reject (SoupWebsocketConnection *websocket,
                            const char              *text,
                            gushort                  code,
                            const char              *reason)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (websocket);
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  gsize text_length = strlen (text);
  gsize reason_length = MIN (strlen (reason), 123);  /* control frames carry ≤ 125 bytes */
  guint8 code_bytes[2] = { code >> 8, code & 0xff };
  gsize size;
  guint8 *data;

  append_frame_header (frames, 0x1, text_length);
  g_byte_array_append (frames, (const guint8 *) text, text_length);
  append_frame_header (frames, 0x8, 2 + reason_length);
  g_byte_array_append (frames, code_bytes, 2);
  g_byte_array_append (frames, (const guint8 *) reason, reason_length);

  size = frames->len;
  data = g_byte_array_free (g_steal_pointer (&frames), FALSE);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream), data, size,
                                   G_PRIORITY_DEFAULT, NULL, on_reject_written,
                                   g_object_ref (websocket));
  /* The buffer must outlive the write: tie it to the WebSocket. */
  g_object_set_data_full (G_OBJECT (websocket), "signaling-reject-buffer", data, g_free);
}
