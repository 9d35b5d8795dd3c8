/* signaling-engineio-server.h: an Engine.IO v4 endpoint on a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <libsoup/soup.h>

#include "signaling-engineio-socket.h"
#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_ENGINEIO_SERVER (signaling_engineio_server_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingEngineioServer, signaling_engineio_server,
                      SIGNALING, ENGINEIO_SERVER, GObject)

SIGNALING_AVAILABLE_IN_1_0
SignalingEngineioServer *signaling_engineio_server_new          (void);
SIGNALING_AVAILABLE_IN_1_0
void                     signaling_engineio_server_attach       (SignalingEngineioServer *self,
                                                                 SoupServer              *soup_server,
                                                                 const char              *path);
SIGNALING_AVAILABLE_IN_1_0
guint                    signaling_engineio_server_get_n_sockets (SignalingEngineioServer *self);
SIGNALING_AVAILABLE_IN_1_0
void                     signaling_engineio_server_close_all    (SignalingEngineioServer *self,
                                                                 const char              *reason);

G_END_DECLS
