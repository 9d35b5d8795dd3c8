/* signaling-socketio-socket-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-socketio-packet-private.h"
#include "signaling-socketio-socket.h"

G_BEGIN_DECLS

/*
 * SignalingSocketioConsumer:
 * @event: an event; %TRUE if taken, and the signal's handlers then do
 *   not see it
 * @disconnected: the socket is disconnected
 * @transport_changed: (nullable): its Engine.IO session moved to
 *   another transport
 *
 * What the library's own user of a socket (the seed dialects) is told,
 * before any handler of the public signals: plain functions, as a
 * signal connection costs some 200 bytes per peer and an emission per
 * message.
 */
typedef struct
{
  gboolean (*event)        (SignalingSocketioSocket *socket,
                            const char              *name,
                            JsonArray               *args,
                            GPtrArray               *attachments,
                            SignalingSocketioAck    *ack,
                            gpointer                 user_data);
  void     (*disconnected) (SignalingSocketioSocket *socket,
                            const char              *reason,
                            gpointer                 user_data);
  void     (*transport_changed) (SignalingSocketioSocket *socket,
                                 gpointer                 user_data);
} SignalingSocketioConsumer;

/* The session's own note that a socket is disconnected, before the
 * consumer and the signal: a connection per socket costs memory. */
typedef void (*SignalingSocketioDisconnectedFunc) (SignalingSocketioSocket *socket,
                                                   gpointer                 user_data);

void                     signaling_socketio_socket_set_disconnected_func (SignalingSocketioSocket          *self,
                                                                          SignalingSocketioDisconnectedFunc func,
                                                                          gpointer                          user_data);
/* Answers a held CONNECT (see signaling_socketio_socket_hold()). */
typedef void (*SignalingSocketioReleaseFunc) (SignalingSocketioSocket *socket,
                                              gpointer                 user_data);

void                     signaling_socketio_socket_hold               (SignalingSocketioSocket *self);
gboolean                 signaling_socketio_socket_is_held            (SignalingSocketioSocket *self);
void                     signaling_socketio_socket_set_release_func   (SignalingSocketioSocket     *self,
                                                                       SignalingSocketioReleaseFunc func,
                                                                       gpointer                     user_data);
void                     signaling_socketio_socket_release            (SignalingSocketioSocket *self);
void                     signaling_socketio_socket_emit_text          (SignalingSocketioSocket *self,
                                                                       const char              *event,
                                                                       const char              *args_json);
void                     signaling_socketio_socket_set_consumer       (SignalingSocketioSocket         *self,
                                                                       const SignalingSocketioConsumer *consumer,
                                                                       gpointer                         user_data);

SignalingSocketioSocket *signaling_socketio_socket_new                (SignalingEngineioSocket *engine,
                                                                       const char              *nsp,
                                                                       JsonNode                *auth);
void                     signaling_socketio_socket_send_packet        (SignalingSocketioSocket *self,
                                                                       SignalingSocketioPacket *packet);
void                     signaling_socketio_socket_handle_packet      (SignalingSocketioSocket *self,
                                                                       SignalingSocketioPacket *packet);
void                     signaling_socketio_socket_recover            (SignalingSocketioSocket *self,
                                                                       const char              *id,
                                                                       const char              *pid);
const char              *signaling_socketio_socket_get_pid            (SignalingSocketioSocket *self);
void                     signaling_socketio_socket_notify_transport  (SignalingSocketioSocket *self);
JsonNode                *signaling_socketio_socket_peek_auth          (SignalingSocketioSocket *self);
void                     signaling_socketio_socket_mark_disconnected  (SignalingSocketioSocket *self,
                                                                       const char              *reason);

G_END_DECLS
