/* signaling-socketio-connection-private.h: the seed Socket.IO vocabularies as a dialect
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-router-private.h"
#include "signaling-socketio-socket.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_SOCKETIO_CONNECTION (signaling_socketio_connection_get_type ())

G_DECLARE_FINAL_TYPE (SignalingSocketioConnection, signaling_socketio_connection,
                      SIGNALING, SOCKETIO_CONNECTION, GObject)

void signaling_socketio_connection_accept (SignalingRouter         *router,
                                           SignalingSocketioSocket *socket);

G_END_DECLS
