/* signaling-socketio-packet-private.h: Socket.IO v5 packets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SIGNALING_SOCKETIO_ERROR (signaling_socketio_error_quark ())

typedef enum {
  SIGNALING_SOCKETIO_ERROR_MALFORMED,
  SIGNALING_SOCKETIO_ERROR_UNEXPECTED_BINARY,
  SIGNALING_SOCKETIO_ERROR_TOO_MANY_ATTACHMENTS,
} SignalingSocketioError;

typedef enum {
  SIGNALING_SOCKETIO_PACKET_CONNECT,
  SIGNALING_SOCKETIO_PACKET_DISCONNECT,
  SIGNALING_SOCKETIO_PACKET_EVENT,
  SIGNALING_SOCKETIO_PACKET_ACK,
  SIGNALING_SOCKETIO_PACKET_CONNECT_ERROR,
  SIGNALING_SOCKETIO_PACKET_BINARY_EVENT,
  SIGNALING_SOCKETIO_PACKET_BINARY_ACK,
} SignalingSocketioPacketType;

/* Most binary attachments one packet may announce. */
#define SIGNALING_SOCKETIO_MAX_ATTACHMENTS 64

typedef struct {
  SignalingSocketioPacketType type;
  char *nsp;               /* "/" for the main namespace */
  gint64 id;               /* ack id, -1 when absent */
  JsonNode *data;          /* nullable; binary data as placeholders */
  GPtrArray *attachments;  /* GBytes, in placeholder order */
} SignalingSocketioPacket;

typedef struct _SignalingSocketioDecoder SignalingSocketioDecoder;

GQuark                    signaling_socketio_error_quark         (void);

SignalingSocketioPacket  *signaling_socketio_packet_new          (SignalingSocketioPacketType  type,
                                                                  const char                  *nsp,
                                                                  gint64                       id,
                                                                  JsonNode                    *data);
SignalingSocketioPacket  *signaling_socketio_packet_copy         (SignalingSocketioPacket     *packet);
void                      signaling_socketio_packet_free         (SignalingSocketioPacket     *packet);
char                     *signaling_socketio_packet_encode       (SignalingSocketioPacket     *packet);
char                     *signaling_socketio_encode_event        (const char                  *nsp,
                                                                  gint64                       id,
                                                                  const char                  *event,
                                                                  JsonArray                   *args);
char                     *signaling_socketio_encode_event_text   (const char                  *nsp,
                                                                  gint64                       id,
                                                                  const char                  *event,
                                                                  const char                  *args_json);
SignalingSocketioPacket  *signaling_socketio_packet_decode       (const char                  *text,
                                                                  gsize                        length,
                                                                  guint                       *out_n_attachments,
                                                                  GError                     **error);

SignalingSocketioDecoder *signaling_socketio_decoder_new         (void);
void                      signaling_socketio_decoder_free        (SignalingSocketioDecoder    *decoder);
SignalingSocketioPacket  *signaling_socketio_decoder_add_text    (SignalingSocketioDecoder    *decoder,
                                                                  const char                  *text,
                                                                  gsize                        length,
                                                                  GError                     **error);
SignalingSocketioPacket  *signaling_socketio_decoder_add_binary  (SignalingSocketioDecoder    *decoder,
                                                                  GBytes                      *data,
                                                                  GError                     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingSocketioPacket, signaling_socketio_packet_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingSocketioDecoder, signaling_socketio_decoder_free)

G_END_DECLS
