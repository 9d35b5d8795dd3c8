/* signaling-client-private.h: library-internal client API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-client.h"
#include "signaling-connection-private.h"

G_BEGIN_DECLS

/* What the per-client rate limit makes of a message. */
typedef enum
{
  SIGNALING_RATE_ACCEPT,   /* within the limit */
  SIGNALING_RATE_REFUSE,   /* dropped, and the peer is told */
  SIGNALING_RATE_DROP,     /* dropped silently: the peer was told already */
  SIGNALING_RATE_ABUSIVE,  /* dropped, and the client must be closed */
} SignalingRateVerdict;

SignalingClient     *signaling_client_new             (const char          *id,
                                                       const char          *remote_address,
                                                       SignalingConnection *connection);
SignalingConnection *signaling_client_get_connection  (SignalingClient     *self);
void                 signaling_client_detach          (SignalingClient     *self);
GPtrArray           *signaling_client_get_room_names  (SignalingClient     *self);
gboolean             signaling_client_add_room        (SignalingClient     *self,
                                                       const char          *room);
gboolean             signaling_client_remove_room     (SignalingClient     *self,
                                                       const char          *room);
guint                signaling_client_get_room_count  (SignalingClient     *self);
gint64               signaling_client_get_connected_at_us (SignalingClient *self);
void                 signaling_client_count_in        (SignalingClient     *self,
                                                       gsize                bytes);
gsize                signaling_client_deliver         (SignalingClient     *self,
                                                       SignalingMessage    *message);
SignalingRateVerdict signaling_client_check_rate      (SignalingClient     *self,
                                                       double               rate,
                                                       guint                burst);
void                 signaling_client_notify_transport (SignalingClient    *self);
gboolean             signaling_client_emit_message    (SignalingClient     *self,
                                                       SignalingMessage    *message);

/* Journal fields that name a peer, a room and where the peer is. */
#define SIGNALING_LOG_FIELD_CLIENT "SIGNALBOX_CLIENT"
#define SIGNALING_LOG_FIELD_ROOM   "SIGNALBOX_ROOM"
#define SIGNALING_LOG_FIELD_REMOTE "SIGNALBOX_REMOTE"

void                 signaling_client_log_full        (SignalingClient     *self,
                                                       GLogLevelFlags       level,
                                                       const char          *room,
                                                       const char          *file,
                                                       const char          *line,
                                                       const char          *func,
                                                       const char          *format,
                                                       ...) G_GNUC_PRINTF (7, 8);

/* Logs about @client (and @room, or NULL) with the journal fields
 * above, so that `journalctl SIGNALBOX_CLIENT=ID` tells one peer's
 * story: every message the library logs about a peer goes through it. */
#define signaling_client_log(client, level, room, ...) \
  signaling_client_log_full ((client), (level), (room), __FILE__, G_STRINGIFY (__LINE__), \
                             G_STRFUNC, __VA_ARGS__)

G_END_DECLS
