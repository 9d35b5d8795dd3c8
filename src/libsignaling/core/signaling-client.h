/* signaling-client.h: one connected peer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "signaling-types.h"
#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_CLIENT (signaling_client_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingClient, signaling_client, SIGNALING, CLIENT, GObject)

SIGNALING_AVAILABLE_IN_1_0
const char  *signaling_client_get_id             (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
const char  *signaling_client_get_remote_address (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
const char  *signaling_client_get_protocol       (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
const char  *signaling_client_get_transport      (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
GDateTime   *signaling_client_get_connected_at   (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
char       **signaling_client_dup_rooms          (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
gboolean     signaling_client_is_in_room         (SignalingClient  *self,
                                                  const char       *room);
SIGNALING_AVAILABLE_IN_1_0
guint64      signaling_client_get_messages_in    (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64      signaling_client_get_messages_out   (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64      signaling_client_get_bytes_in       (SignalingClient  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64      signaling_client_get_bytes_out      (SignalingClient  *self);

SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_send               (SignalingClient  *self,
                                                  const char       *from,
                                                  SignalingMessage *message);
SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_send_offer         (SignalingClient  *self,
                                                  const char       *from,
                                                  const char       *sdp);
SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_send_answer        (SignalingClient  *self,
                                                  const char       *from,
                                                  const char       *sdp);
SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_send_candidate     (SignalingClient  *self,
                                                  const char       *from,
                                                  JsonNode         *candidate);
SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_send_hangup        (SignalingClient  *self,
                                                  const char       *from,
                                                  const char       *reason);
SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_send_data          (SignalingClient  *self,
                                                  const char       *from,
                                                  JsonNode         *data);

SIGNALING_AVAILABLE_IN_1_0
void         signaling_client_disconnect         (SignalingClient  *self,
                                                  gushort           code,
                                                  const char       *reason);

G_END_DECLS
