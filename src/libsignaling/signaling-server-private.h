/* signaling-server-private.h: library-internal server API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-server.h"
#include "signaling-router-private.h"

G_BEGIN_DECLS

const SignalingLimits *signaling_server_get_limits          (SignalingServer *self);
SignalingRouter       *signaling_server_get_router          (SignalingServer *self);
void                   signaling_server_set_activity_func   (SignalingServer *self,
                                                             GSourceFunc      func,
                                                             gpointer         data);
void                   signaling_server_set_client_changed_func (SignalingServer            *self,
                                                                 SignalingClientChangedFunc  func,
                                                                 gpointer                    data);

GObject *signaling_server_get_cluster (SignalingServer *self);
const char *signaling_server_get_cluster_state (SignalingServer *self);
char **signaling_server_dup_cluster_nodes (SignalingServer *self);
const char *signaling_server_get_cluster_node_id (SignalingServer *self);
GVariant *signaling_server_dup_cluster_clients (SignalingServer *self);

G_END_DECLS
