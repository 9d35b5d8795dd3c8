/* signaling-engineio-packet.c: Engine.IO v4 packets and payloads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A packet is a type digit followed by its data: "4hello" is a message.
 * Over WebSocket, a text frame holds one packet and a binary frame holds
 * a binary message's bytes. Over HTTP long-polling, a payload joins
 * packets with the record separator 0x1e, binary ones as "b" + base64.
 */
#define G_LOG_DOMAIN "Signaling-engineio"

#include "config.h"

#include <string.h>

#include "signaling-utf8-private.h"
#include "signaling-engineio-packet-private.h"

#define RECORD_SEPARATOR '\x1e'

struct _SignalingEngineioPacket
{
  SignalingEngineioPacketKind kind;
  gboolean binary;
  GBytes *data;  /* nullable for packets without data */
};

G_DEFINE_QUARK (signaling-engineio-error-quark, signaling_engineio_error)

SignalingEngineioPacket *
signaling_engineio_packet_new (SignalingEngineioPacketKind  kind,
                               GBytes                      *data)
{
  SignalingEngineioPacket *packet = g_new0 (SignalingEngineioPacket, 1);

  packet->kind = kind;
  packet->data = data != NULL ? g_bytes_ref (data) : NULL;
  return packet;
}

SignalingEngineioPacket *
signaling_engineio_packet_new_binary (GBytes *data)
{
  SignalingEngineioPacket *packet = signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_MESSAGE, data);

  packet->binary = TRUE;
  return packet;
}

void
signaling_engineio_packet_free (SignalingEngineioPacket *packet)
{
  g_clear_pointer (&packet->data, g_bytes_unref);
  g_free (packet);
}

SignalingEngineioPacketKind
signaling_engineio_packet_get_kind (SignalingEngineioPacket *packet)
{
  return packet->kind;
}

/* Never NULL: a packet without data has empty data. */
GBytes *
signaling_engineio_packet_get_data (SignalingEngineioPacket *packet)
{
  if (packet->data == NULL)
    packet->data = g_bytes_new_static ("", 0);
  return packet->data;
}

gboolean
signaling_engineio_packet_is_binary (SignalingEngineioPacket *packet)
{
  return packet->binary;
}

/* @text must be UTF-8: SignalingWebsocket checks text frames, and
 * signaling_engineio_payload_decode() checks what came over HTTP. */
SignalingEngineioPacket *
signaling_engineio_packet_decode_ws_text (const char  *text,
                                          gsize        length,
                                          GError     **error)
{
  g_autoptr(GBytes) data = NULL;

  if (length == 0 || text[0] < '0' || text[0] > '6')
    {
      g_set_error (error, SIGNALING_ENGINEIO_ERROR, SIGNALING_ENGINEIO_ERROR_MALFORMED,
                   "Unknown Engine.IO packet type");
      return NULL;
    }

  data = g_bytes_new (text + 1, length - 1);
  return signaling_engineio_packet_new (text[0] - '0', data);
}

static void
append_text_packet (GString                 *out,
                    SignalingEngineioPacket *packet)
{
  g_string_append_c (out, '0' + packet->kind);
  if (packet->data != NULL)
    g_string_append_len (out, g_bytes_get_data (packet->data, NULL), g_bytes_get_size (packet->data));
}

char *
signaling_engineio_packet_encode_ws_text (SignalingEngineioPacket *packet)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (!packet->binary, NULL);

  append_text_packet (out, packet);
  return g_string_free (out, FALSE);
}

static SignalingEngineioPacket *
decode_payload_item (const char  *item,
                     gsize        length,
                     GError     **error)
{
  g_autofree guchar *decoded = NULL;
  g_autofree char *base64 = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize decoded_length;

  if (length == 0 || item[0] != 'b')
    {
      /* WebSocket text frames come checked by libsoup; HTTP bodies not. */
      if (!signaling_utf8_validate (item, length))
        {
          g_set_error (error, SIGNALING_ENGINEIO_ERROR, SIGNALING_ENGINEIO_ERROR_MALFORMED,
                       "Engine.IO text packet is not UTF-8");
          return NULL;
        }
      return signaling_engineio_packet_decode_ws_text (item, length, error);
    }

  /* g_base64_decode() skips invalid characters; be strict instead. */
  for (gsize i = 1; i < length; i++)
    if (!g_ascii_isalnum (item[i]) && item[i] != '+' && item[i] != '/' && item[i] != '=')
      {
        g_set_error (error, SIGNALING_ENGINEIO_ERROR, SIGNALING_ENGINEIO_ERROR_MALFORMED,
                     "Invalid base64 in binary packet");
        return NULL;
      }

  base64 = g_strndup (item + 1, length - 1);
  decoded = g_base64_decode (base64, &decoded_length);
  /* The packet takes its own reference: ours goes with this scope. */
  bytes = g_bytes_new_take (g_steal_pointer (&decoded), decoded_length);
  return signaling_engineio_packet_new_binary (bytes);
}

GPtrArray *
signaling_engineio_payload_decode (const char  *body,
                                   gsize        length,
                                   GError     **error)
{
  g_autoptr(GPtrArray) packets = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_engineio_packet_free);
  gsize start = 0;

  for (gsize i = 0; i <= length; i++)
    {
      SignalingEngineioPacket *packet;

      if (i < length && body[i] != RECORD_SEPARATOR)
        continue;

      packet = decode_payload_item (body + start, i - start, error);
      if (packet == NULL)
        return NULL;
      g_ptr_array_add (packets, packet);
      start = i + 1;
    }

  return g_steal_pointer (&packets);
}

char *
signaling_engineio_payload_encode (GPtrArray *packets)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < packets->len; i++)
    {
      SignalingEngineioPacket *packet = g_ptr_array_index (packets, i);

      if (i > 0)
        g_string_append_c (out, RECORD_SEPARATOR);

      if (packet->binary)
        {
          g_autofree char *base64 = g_base64_encode (g_bytes_get_data (packet->data, NULL),
                                                     g_bytes_get_size (packet->data));

          g_string_append_c (out, 'b');
          g_string_append (out, base64);
        }
      else
        append_text_packet (out, packet);
    }

  return g_string_free (out, FALSE);
}

/* Key order as the reference server sends it. */
char *
signaling_engineio_open_json (const char *sid,
                              gboolean    can_upgrade,
                              guint       ping_interval,
                              guint       ping_timeout,
                              guint       max_payload)
{
  return g_strdup_printf ("{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,"
                          "\"pingTimeout\":%u,\"maxPayload\":%u}",
                          sid, can_upgrade ? "\"websocket\"" : "",
                          ping_interval, ping_timeout, max_payload);
}
