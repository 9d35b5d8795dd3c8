/* signaling-server-private.h: library-internal server API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-server.h"
#include "signaling-router-private.h"
#include "signaling-timer-queue-private.h"

G_BEGIN_DECLS

/* The limits a dialect and the router enforce, read on the hot path
 * without GObject property machinery. */
typedef struct
{
  guint max_clients;
  guint max_message_size;
  guint max_rooms_per_client;
  guint max_room_members;
  double rate_limit;
  guint rate_burst;
  guint keepalive_interval;
  guint max_send_queue;
} SignalingLimits;

const SignalingLimits *signaling_server_get_limits          (SignalingServer *self);
SignalingRouter       *signaling_server_get_router          (SignalingServer *self);
SignalingTimerQueue   *signaling_server_get_idle_deadlines  (SignalingServer *self);
const char * const    *signaling_server_get_ice_servers     (SignalingServer *self);
void                   signaling_server_count_relayed       (SignalingServer *self,
                                                             gsize            bytes);
void                   signaling_server_count_rejected      (SignalingServer *self);
void                   signaling_server_note_activity       (SignalingServer *self);
void                   signaling_server_set_activity_func   (SignalingServer *self,
                                                             GSourceFunc      func,
                                                             gpointer         data);
void                   signaling_server_emit_client_connected    (SignalingServer *self,
                                                                  SignalingClient *client);
void                   signaling_server_emit_client_disconnected (SignalingServer *self,
                                                                  SignalingClient *client,
                                                                  const char      *reason);
void                   signaling_server_emit_room_added     (SignalingServer *self,
                                                             SignalingRoom   *room);
void                   signaling_server_emit_room_removed   (SignalingServer *self,
                                                             SignalingRoom   *room);

G_END_DECLS
