/* signaling-engineio-server-private.h: library-internal Engine.IO server API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "signaling-engineio-server.h"

G_BEGIN_DECLS

/*
 * SignalingEngineioForwardFunc:
 * @msg: a polling request for a session of another node
 * @node: that node's id
 *
 * Passes @msg to @node and answers it when @node has (pausing it
 * meanwhile). Returns: FALSE if @node cannot be reached, and the
 * request gets "Session ID unknown"
 */
typedef gboolean (*SignalingEngineioForwardFunc) (SoupServerMessage *msg,
                                                  const char        *node,
                                                  gpointer           user_data);

void signaling_engineio_server_set_node (SignalingEngineioServer      *self,
                                         const char                   *node,
                                         SignalingEngineioForwardFunc  forward,
                                         gpointer                      user_data);

G_END_DECLS
