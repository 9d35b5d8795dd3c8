/* signaling-socketio-namespace-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-socketio-namespace.h"
#include "signaling-socketio-socket.h"

G_BEGIN_DECLS

SignalingSocketioNamespace *signaling_socketio_namespace_new             (const char                 *name);
void                        signaling_socketio_namespace_emit_connection (SignalingSocketioNamespace *self,
                                                                          SignalingSocketioSocket    *socket);

G_END_DECLS
