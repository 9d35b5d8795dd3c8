/* signaling-room-private.h: library-internal room API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-room.h"

G_BEGIN_DECLS

SignalingRoom *signaling_room_new            (const char      *name);
void           signaling_room_add_member     (SignalingRoom   *self,
                                              SignalingClient *client);
gboolean       signaling_room_remove_member  (SignalingRoom   *self,
                                              SignalingClient *client);

G_END_DECLS
