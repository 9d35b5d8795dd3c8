/* signaling-socketio-socket-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-socketio-packet-private.h"
#include "signaling-socketio-socket.h"

G_BEGIN_DECLS

SignalingSocketioSocket *signaling_socketio_socket_new                (SignalingEngineioSocket *engine,
                                                                       const char              *nsp,
                                                                       JsonNode                *auth);
void                     signaling_socketio_socket_send_packet        (SignalingSocketioSocket *self,
                                                                       SignalingSocketioPacket *packet);
void                     signaling_socketio_socket_handle_packet      (SignalingSocketioSocket *self,
                                                                       SignalingSocketioPacket *packet);
void                     signaling_socketio_socket_mark_disconnected  (SignalingSocketioSocket *self,
                                                                       const char              *reason);

G_END_DECLS
