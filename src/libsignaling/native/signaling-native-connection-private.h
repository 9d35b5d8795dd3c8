/* signaling-native-connection-private.h: the native protocol v1 dialect
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "signaling-resume-table-private.h"
#include "signaling-router-private.h"
#include "signaling-websocket-private.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_NATIVE_CONNECTION (signaling_native_connection_get_type ())

G_DECLARE_FINAL_TYPE (SignalingNativeConnection, signaling_native_connection,
                      SIGNALING, NATIVE_CONNECTION, GObject)

void signaling_native_connection_accept (SignalingRouter      *router,
                                         SignalingResumeTable *resumes,
                                         SoupServerMessage    *msg,
                                         SignalingWebsocket   *websocket);

/* The native codec, also behind signaling_message_parse() and
 * signaling_message_to_json(). */
SignalingMessage *signaling_native_parse     (const char        *data,
                                              gssize             length,
                                              JsonNode         **out_rid,
                                              GError           **error);
const char       *signaling_native_serialize (SignalingMessage  *message,
                                              gsize             *length);

G_END_DECLS
