/* signaling-cluster-private.h: several processes and hosts as one service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

#include "signaling-router-private.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_CLUSTER (signaling_cluster_get_type ())

G_DECLARE_FINAL_TYPE (SignalingCluster, signaling_cluster, SIGNALING, CLUSTER, GObject)

SignalingCluster *signaling_cluster_new          (SignalingRouter  *router,
                                                  const char       *url,
                                                  const char       *password,
                                                  const char       *node_id,
                                                  guint             heartbeat_seconds,
                                                  GError          **error);
void              signaling_cluster_start        (SignalingCluster *self);
const char       *signaling_cluster_get_node_id  (SignalingCluster *self);
const char       *signaling_cluster_get_state    (SignalingCluster *self);
char            **signaling_cluster_dup_nodes    (SignalingCluster *self);
const char       *signaling_cluster_get_address  (SignalingCluster *self);
const char       *signaling_cluster_get_peer_node (SignalingCluster *self,
                                                   const char       *peer);
GPtrArray        *signaling_cluster_dup_remote_peers (SignalingCluster *self);

void              signaling_cluster_set_forward_address (SignalingCluster *self,
                                                         const char       *address);
gboolean          signaling_cluster_forward      (SignalingCluster  *self,
                                                  SoupServerMessage *msg,
                                                  const char        *node_id);

G_END_DECLS
