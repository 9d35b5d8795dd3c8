/* signaling-message.h: one signaling message, whatever dialect it came from
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

/**
 * SignalingMessageKind:
 * @SIGNALING_MESSAGE_KIND_OFFER: an SDP offer
 * @SIGNALING_MESSAGE_KIND_ANSWER: an SDP answer
 * @SIGNALING_MESSAGE_KIND_CANDIDATE: an ICE candidate (or end of candidates)
 * @SIGNALING_MESSAGE_KIND_HANGUP: the end of a call
 * @SIGNALING_MESSAGE_KIND_MESSAGE: application data
 * @SIGNALING_MESSAGE_KIND_JOIN: joining a room
 * @SIGNALING_MESSAGE_KIND_LEAVE: leaving a room
 * @SIGNALING_MESSAGE_KIND_PING: a keep-alive, answered by the server itself
 *
 * What a [struct@Signaling.Message] asks for. The nick of each value is
 * the native protocol's `type`.
 */
typedef enum {
  SIGNALING_MESSAGE_KIND_OFFER,
  SIGNALING_MESSAGE_KIND_ANSWER,
  SIGNALING_MESSAGE_KIND_CANDIDATE,
  SIGNALING_MESSAGE_KIND_HANGUP,
  SIGNALING_MESSAGE_KIND_MESSAGE,
  SIGNALING_MESSAGE_KIND_JOIN,
  SIGNALING_MESSAGE_KIND_LEAVE,
  SIGNALING_MESSAGE_KIND_PING,
} SignalingMessageKind;

#define SIGNALING_TYPE_MESSAGE (signaling_message_get_type ())

SIGNALING_AVAILABLE_IN_1_0
GType                 signaling_message_get_type      (void) G_GNUC_CONST;

SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_parse         (const char            *data,
                                                       gssize                 length,
                                                       GError               **error);
SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_new_offer     (const char            *to,
                                                       const char            *sdp);
SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_new_answer    (const char            *to,
                                                       const char            *sdp);
SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_new_candidate (const char            *to,
                                                       JsonNode              *candidate);
SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_new_hangup    (const char            *to,
                                                       const char            *reason);
SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_new_data      (const char            *to,
                                                       JsonNode              *data);

SIGNALING_AVAILABLE_IN_1_0
SignalingMessage     *signaling_message_ref           (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
void                  signaling_message_unref         (SignalingMessage      *message);

SIGNALING_AVAILABLE_IN_1_0
SignalingMessageKind  signaling_message_get_kind      (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
const char           *signaling_message_get_from      (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
const char           *signaling_message_get_to        (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
const char           *signaling_message_get_dialect   (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
JsonObject           *signaling_message_get_payload   (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
JsonNode             *signaling_message_get_rid       (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
const char           *signaling_message_get_sdp       (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
JsonNode             *signaling_message_get_candidate (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
const char           *signaling_message_get_reason    (SignalingMessage      *message);
SIGNALING_AVAILABLE_IN_1_0
JsonNode             *signaling_message_get_data      (SignalingMessage      *message);

SIGNALING_AVAILABLE_IN_1_0
char                 *signaling_message_to_json       (SignalingMessage      *message);

SIGNALING_AVAILABLE_IN_1_0
const char           *signaling_message_kind_to_string (SignalingMessageKind  kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingMessage, signaling_message_unref)

G_END_DECLS
