/* signaling-engineio-socket-private.h: transports of an Engine.IO session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "signaling-engineio-socket.h"
#include "signaling-timer-queue-private.h"
#include "signaling-websocket-private.h"

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

/*
 * SignalingEngineioConsumer:
 * @text: a text message (its data, valid during the call only)
 * @binary: a binary message
 * @closed: the session is closed
 * @transport_changed: (nullable): the session moved to another
 *   transport (an upgrade to WebSocket)
 *
 * What the layer above (the Socket.IO server) is told, before any
 * handler of the public signals: plain functions, as a signal
 * connection costs some 200 bytes per session and an emission per
 * message.
 */
typedef struct
{
  void (*text)   (SignalingEngineioSocket *socket,
                  const char              *data,
                  gsize                    length,
                  gpointer                 user_data);
  void (*binary) (SignalingEngineioSocket *socket,
                  GBytes                  *data,
                  gpointer                 user_data);
  void (*closed) (SignalingEngineioSocket *socket,
                  const char              *reason,
                  gpointer                 user_data);
  void (*transport_changed) (SignalingEngineioSocket *socket,
                             gpointer                 user_data);
} SignalingEngineioConsumer;

/* The server's own note that a session is finished, before the
 * "finished" signal's handlers: a connection per session costs memory. */
typedef void (*SignalingEngineioFinishedFunc) (SignalingEngineioSocket *socket,
                                               gpointer                 user_data);

void                     signaling_engineio_socket_set_finished_func (SignalingEngineioSocket     *self,
                                                                      SignalingEngineioFinishedFunc func,
                                                                      gpointer                     user_data);
void                     signaling_engineio_socket_set_consumer  (SignalingEngineioSocket         *self,
                                                                  const SignalingEngineioConsumer *consumer,
                                                                  gpointer                         user_data);
SignalingEngineioSocket *signaling_engineio_socket_new           (const char                      *remote_address,
                                                                  const SignalingEngineioSettings *settings,
                                                                  const char                      *node);
void                     signaling_engineio_socket_open_websocket (SignalingEngineioSocket        *self,
                                                                   SignalingWebsocket             *websocket);
char                    *signaling_engineio_socket_handshake_polling (SignalingEngineioSocket     *self);
gboolean                 signaling_engineio_socket_can_upgrade    (SignalingEngineioSocket        *self);
void                     signaling_engineio_socket_probe_websocket (SignalingEngineioSocket       *self,
                                                                    SignalingWebsocket            *websocket);
void                     signaling_engineio_socket_refuse_websocket (SignalingEngineioSocket      *self,
                                                                     SignalingWebsocket           *websocket);
void                     signaling_engineio_socket_handle_poll    (SignalingEngineioSocket        *self,
                                                                   SoupServerMessage              *msg);
void                     signaling_engineio_socket_handle_post    (SignalingEngineioSocket        *self,
                                                                   SoupServerMessage              *msg);
void                     signaling_engineio_socket_abandon        (SignalingEngineioSocket        *self,
                                                                   const char                     *reason);

G_END_DECLS
