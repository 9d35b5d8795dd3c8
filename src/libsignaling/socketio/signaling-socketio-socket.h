/* signaling-socketio-socket.h: one Socket.IO v5 socket (a namespace connection)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "signaling-engineio-socket.h"
#include "signaling-version-macros.h"

G_BEGIN_DECLS

typedef struct _SignalingSocketioAck SignalingSocketioAck;

#define SIGNALING_TYPE_SOCKETIO_ACK (signaling_socketio_ack_get_type ())

SIGNALING_AVAILABLE_IN_1_0
GType                  signaling_socketio_ack_get_type (void) G_GNUC_CONST;
SIGNALING_AVAILABLE_IN_1_0
SignalingSocketioAck  *signaling_socketio_ack_ref      (SignalingSocketioAck *ack);
SIGNALING_AVAILABLE_IN_1_0
void                   signaling_socketio_ack_unref    (SignalingSocketioAck *ack);
SIGNALING_AVAILABLE_IN_1_0
void                   signaling_socketio_ack_send     (SignalingSocketioAck *ack,
                                                        JsonArray            *args,
                                                        GPtrArray            *attachments);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingSocketioAck, signaling_socketio_ack_unref)

#define SIGNALING_TYPE_SOCKETIO_SOCKET (signaling_socketio_socket_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingSocketioSocket, signaling_socketio_socket,
                      SIGNALING, SOCKETIO_SOCKET, GObject)

SIGNALING_AVAILABLE_IN_1_0
const char              *signaling_socketio_socket_get_id           (SignalingSocketioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
const char              *signaling_socketio_socket_get_namespace    (SignalingSocketioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
JsonNode                *signaling_socketio_socket_get_auth         (SignalingSocketioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
SignalingEngineioSocket *signaling_socketio_socket_get_engine       (SignalingSocketioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
gboolean                 signaling_socketio_socket_is_connected     (SignalingSocketioSocket *self);
SIGNALING_AVAILABLE_IN_1_0
void                     signaling_socketio_socket_emit             (SignalingSocketioSocket *self,
                                                                     const char              *event,
                                                                     JsonArray               *args,
                                                                     GPtrArray               *attachments);
SIGNALING_AVAILABLE_IN_1_0
void                     signaling_socketio_socket_emit_with_ack    (SignalingSocketioSocket *self,
                                                                     const char              *event,
                                                                     JsonArray               *args,
                                                                     GPtrArray               *attachments,
                                                                     GCancellable            *cancellable,
                                                                     GAsyncReadyCallback      callback,
                                                                     gpointer                 user_data);
SIGNALING_AVAILABLE_IN_1_0
JsonArray               *signaling_socketio_socket_emit_with_ack_finish (SignalingSocketioSocket *self,
                                                                         GAsyncResult            *result,
                                                                         GPtrArray              **out_attachments,
                                                                         GError                 **error);
SIGNALING_AVAILABLE_IN_1_0
void                     signaling_socketio_socket_disconnect       (SignalingSocketioSocket *self);

G_END_DECLS
