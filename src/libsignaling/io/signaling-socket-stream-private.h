/* signaling-socket-stream-private.h: a socket as a GIOStream, polled through SignalingPoller
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "signaling-poller-private.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_SOCKET_STREAM (signaling_socket_stream_get_type ())

G_DECLARE_FINAL_TYPE (SignalingSocketStream, signaling_socket_stream, SIGNALING, SOCKET_STREAM, GIOStream)

GIOStream *signaling_socket_stream_new        (GSocket               *socket,
                                              SignalingPoller       *poller);
GSocket   *signaling_socket_stream_get_socket (SignalingSocketStream *self);
gboolean   signaling_socket_stream_limit_messages (SignalingSocketStream *self,
                                                   guint64                max_message_size,
                                                   gboolean               text_as_binary);
gboolean   signaling_socket_stream_pop_message_is_text (SignalingSocketStream *self,
                                                        gboolean               delivered_as_text);

G_END_DECLS
