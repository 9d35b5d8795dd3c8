/* signaling-util-private.h: small helpers shared inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signaling-json-private.h"
#include "signaling-socket-stream-private.h"

G_BEGIN_DECLS

char    *signaling_generate_id       (void);
void     signaling_websocket_reject  (SoupWebsocketConnection *websocket,
                                      const char              *text,
                                      gushort                  code,
                                      const char              *reason);
void     signaling_websocket_track_backlog (SoupWebsocketConnection *websocket,
                                            SoupServerMessage       *msg);
gboolean signaling_websocket_send    (SoupWebsocketConnection *websocket,
                                      SoupWebsocketDataType    type,
                                      gconstpointer            data,
                                      gsize                    length,
                                      gsize                    limit);

gboolean signaling_websocket_limit_messages (SoupWebsocketConnection  *websocket,
                                             guint64                   max_message_size,
                                             gboolean                  text_as_binary,
                                             SignalingSocketStream   **out_stream);
gboolean signaling_http_has_body     (SoupServerMessage       *msg);

G_END_DECLS
