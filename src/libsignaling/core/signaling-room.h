/* signaling-room.h: a named group of clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib-object.h>

#include "signaling-types.h"
#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_ROOM (signaling_room_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingRoom, signaling_room, SIGNALING, ROOM, GObject)

SIGNALING_AVAILABLE_IN_1_0
const char  *signaling_room_get_name          (SignalingRoom   *self);
SIGNALING_AVAILABLE_IN_1_0
GDateTime   *signaling_room_get_created_at    (SignalingRoom   *self);
SIGNALING_AVAILABLE_IN_1_0
guint        signaling_room_get_member_count  (SignalingRoom   *self);
SIGNALING_AVAILABLE_IN_1_0
GPtrArray   *signaling_room_get_members       (SignalingRoom   *self);
SIGNALING_AVAILABLE_IN_1_0
char       **signaling_room_dup_member_ids    (SignalingRoom   *self);
SIGNALING_AVAILABLE_IN_1_0
gboolean     signaling_room_has_member        (SignalingRoom   *self,
                                               SignalingClient *client);

G_END_DECLS
