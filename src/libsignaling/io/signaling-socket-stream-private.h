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

G_END_DECLS
