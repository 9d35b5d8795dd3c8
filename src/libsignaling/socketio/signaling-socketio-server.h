/* signaling-socketio-server.h: Socket.IO v5 on top of an Engine.IO server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include "signaling-engineio-server.h"
#include "signaling-socketio-namespace.h"
#include "signaling-socketio-socket.h"
#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_SOCKETIO_SERVER (signaling_socketio_server_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingSocketioServer, signaling_socketio_server,
                      SIGNALING, SOCKETIO_SERVER, GObject)

SIGNALING_AVAILABLE_IN_1_0
SignalingSocketioServer    *signaling_socketio_server_new              (SignalingEngineioServer *engine);
SIGNALING_AVAILABLE_IN_1_0
SignalingEngineioServer    *signaling_socketio_server_get_engine       (SignalingSocketioServer *self);
SIGNALING_AVAILABLE_IN_1_0
SignalingSocketioNamespace *signaling_socketio_server_add_namespace    (SignalingSocketioServer *self,
                                                                        const char              *name);
SIGNALING_AVAILABLE_IN_1_0
SignalingSocketioNamespace *signaling_socketio_server_lookup_namespace (SignalingSocketioServer *self,
                                                                        const char              *name);

G_END_DECLS
