/* signaling-engineio-socket.h: one Engine.IO v4 session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib-object.h>

#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_ENGINEIO_SOCKET (signaling_engineio_socket_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingEngineioSocket, signaling_engineio_socket,
                      SIGNALING, ENGINEIO_SOCKET, GObject)

SIGNALING_AVAILABLE_IN_1_0
const char *signaling_engineio_socket_get_id             (SignalingEngineioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
const char *signaling_engineio_socket_get_transport      (SignalingEngineioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
const char *signaling_engineio_socket_get_remote_address (SignalingEngineioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
gboolean    signaling_engineio_socket_is_open            (SignalingEngineioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
void        signaling_engineio_socket_send_text          (SignalingEngineioSocket *self,
                                                          const char              *text);
SIGNALING_AVAILABLE_IN_1_0
void        signaling_engineio_socket_send_binary        (SignalingEngineioSocket *self,
                                                          GBytes                  *data);
SIGNALING_AVAILABLE_IN_1_0
void        signaling_engineio_socket_close              (SignalingEngineioSocket *self,
                                                          const char              *reason);

G_END_DECLS
