/* signaling-engineio-packet-private.h: Engine.IO v4 packets and payloads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIGNALING_ENGINEIO_ERROR (signaling_engineio_error_quark ())

typedef enum {
  SIGNALING_ENGINEIO_ERROR_MALFORMED,
} SignalingEngineioError;

typedef enum {
  SIGNALING_ENGINEIO_PACKET_OPEN,
  SIGNALING_ENGINEIO_PACKET_CLOSE,
  SIGNALING_ENGINEIO_PACKET_PING,
  SIGNALING_ENGINEIO_PACKET_PONG,
  SIGNALING_ENGINEIO_PACKET_MESSAGE,
  SIGNALING_ENGINEIO_PACKET_UPGRADE,
  SIGNALING_ENGINEIO_PACKET_NOOP,
} SignalingEngineioPacketKind;

typedef struct _SignalingEngineioPacket SignalingEngineioPacket;

GQuark                       signaling_engineio_error_quark          (void);

SignalingEngineioPacket     *signaling_engineio_packet_new           (SignalingEngineioPacketKind  kind,
                                                                      GBytes                      *data);
SignalingEngineioPacket     *signaling_engineio_packet_new_binary    (GBytes                      *data);
void                         signaling_engineio_packet_free          (SignalingEngineioPacket     *packet);
SignalingEngineioPacketKind  signaling_engineio_packet_get_kind      (SignalingEngineioPacket     *packet);
GBytes                      *signaling_engineio_packet_get_data      (SignalingEngineioPacket     *packet);
gboolean                     signaling_engineio_packet_is_binary     (SignalingEngineioPacket     *packet);

SignalingEngineioPacket     *signaling_engineio_packet_decode_ws_text (const char                 *text,
                                                                       gsize                       length,
                                                                       GError                    **error);
char                        *signaling_engineio_packet_encode_ws_text (SignalingEngineioPacket    *packet);

GPtrArray                   *signaling_engineio_payload_decode       (const char                  *body,
                                                                      gsize                        length,
                                                                      GError                     **error);
char                        *signaling_engineio_payload_encode       (GPtrArray                   *packets);

char                        *signaling_engineio_open_json            (const char                  *sid,
                                                                      gboolean                     can_upgrade,
                                                                      guint                        ping_interval,
                                                                      guint                        ping_timeout,
                                                                      guint                        max_payload);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingEngineioPacket, signaling_engineio_packet_free)

G_END_DECLS
