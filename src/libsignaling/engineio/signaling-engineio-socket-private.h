/* signaling-engineio-socket-private.h: transports of an Engine.IO session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "signaling-engineio-socket.h"
#include "signaling-timer-queue-private.h"

G_BEGIN_DECLS

typedef struct {
  guint ping_interval;  /* ms */
  guint ping_timeout;   /* ms */
  guint max_payload;    /* bytes */
  guint max_send_queue; /* bytes, 0 for no limit */
  /* Shared by the server's sessions; each session holds a reference. */
  SignalingTimerQueue *pings;
  SignalingTimerQueue *pong_deadlines;
} SignalingEngineioSettings;

/* The separator between the node and the random part of a session id
 * in a cluster: neither a letter nor a digit, so never in the random
 * part (signaling_generate_id()). */
#define SIGNALING_ENGINEIO_NODE_SEPARATOR '~'

SignalingEngineioSocket *signaling_engineio_socket_new           (const char                      *remote_address,
                                                                  const SignalingEngineioSettings *settings,
                                                                  const char                      *node);
void                     signaling_engineio_socket_open_websocket (SignalingEngineioSocket        *self,
                                                                   SoupWebsocketConnection        *websocket);
char                    *signaling_engineio_socket_handshake_polling (SignalingEngineioSocket     *self);
gboolean                 signaling_engineio_socket_can_upgrade    (SignalingEngineioSocket        *self);
void                     signaling_engineio_socket_probe_websocket (SignalingEngineioSocket       *self,
                                                                    SoupWebsocketConnection       *websocket);
void                     signaling_engineio_socket_refuse_websocket (SignalingEngineioSocket      *self,
                                                                     SoupWebsocketConnection      *websocket);
void                     signaling_engineio_socket_handle_poll    (SignalingEngineioSocket        *self,
                                                                   SoupServerMessage              *msg);
void                     signaling_engineio_socket_handle_post    (SignalingEngineioSocket        *self,
                                                                   SoupServerMessage              *msg);
void                     signaling_engineio_socket_abandon        (SignalingEngineioSocket        *self,
                                                                   const char                     *reason);

G_END_DECLS
