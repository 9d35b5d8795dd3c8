/* fuzz-socketio.c: Socket.IO v5 packets, with binary attachments
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a sequence of Engine.IO messages separated by 0x1e, as
 * a polling body carries them; one that starts with 'b' is a binary
 * message (the rest of it), any other a text one. They go through one
 * decoder as a connection feeds it, up to the first error (on which a
 * connection closes). Every packet decoded is copied and encoded.
 */
#include "fuzz.h"
#include "signaling-socketio-packet-private.h"

#define RECORD_SEPARATOR '\x1e'

static void
check_packet (SignalingSocketioPacket *packet)
{
  g_autoptr(SignalingSocketioPacket) copy = signaling_socketio_packet_copy (packet);
  g_autofree char *encoded = signaling_socketio_packet_encode (copy);

  g_assert (encoded != NULL);
}

/* FALSE once the decoder has failed. */
static gboolean
feed (SignalingSocketioDecoder *decoder,
      const char               *frame,
      gsize                     length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingSocketioPacket) packet = NULL;

  if (length > 0 && frame[0] == 'b')
    {
      g_autoptr(GBytes) bytes = g_bytes_new (frame + 1, length - 1);

      packet = signaling_socketio_decoder_add_binary (decoder, bytes, &error);
    }
  else
    {
      packet = signaling_socketio_decoder_add_text (decoder, frame, length, &error);
    }

  if (packet != NULL)
    check_packet (packet);
  return error == NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(SignalingSocketioDecoder) decoder = signaling_socketio_decoder_new ();
  const char *text = (const char *) data;
  gsize start = 0;

  for (gsize i = 0; i <= size; i++)
    {
      if (i < size && text[i] != RECORD_SEPARATOR)
        continue;
      if (!feed (decoder, text + start, i - start))
        break;
      start = i + 1;
    }
  return 0;
}
