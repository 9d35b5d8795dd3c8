/* signaling-util-private.h: small helpers shared inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signaling-json-private.h"

G_BEGIN_DECLS

char    *signaling_generate_id       (void);
void     signaling_http_honor_connection_close (SoupServerMessage *msg);
void     signaling_http_set_no_delay           (SoupServerMessage *msg);
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

G_END_DECLS
