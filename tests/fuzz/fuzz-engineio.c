/* fuzz-engineio.c: Engine.IO v4 packets and polling payloads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is both a WebSocket text frame and an HTTP long-polling
 * body (packets separated by 0x1e); whatever decodes is encoded again.
 */
#include "fuzz.h"
#include "signaling-engineio-packet-private.h"

static void
fuzz_ws_text (const char *text,
              gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingEngineioPacket) packet =
    signaling_engineio_packet_decode_ws_text (text, length, &error);
  g_autofree char *encoded = NULL;

  if (packet == NULL)
    {
      g_assert (error != NULL);
      return;
    }
  encoded = signaling_engineio_packet_encode_ws_text (packet);
  g_assert (encoded != NULL);
}

static void
fuzz_payload (const char *body,
              gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) packets = signaling_engineio_payload_decode (body, length, &error);
  g_autofree char *encoded = NULL;

  if (packets == NULL)
    {
      g_assert (error != NULL);
      return;
    }
  encoded = signaling_engineio_payload_encode (packets);
  g_assert (encoded != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  fuzz_ws_text ((const char *) data, size);
  fuzz_payload ((const char *) data, size);
  return 0;
}
