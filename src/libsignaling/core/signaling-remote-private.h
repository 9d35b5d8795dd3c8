/* signaling-remote-private.h: the peers and rooms of other nodes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "signaling-types.h"
#include "signaling-message.h"

G_BEGIN_DECLS

/*
 * SignalingRemoteClaimFunc:
 * @state: (nullable): the claimed session as its old node handed it
 *   over (`id`, `rooms`, and the dialect's own members), or %NULL when
 *   the claim failed
 *
 * Takes up a session claimed from another node.
 *
 * Returns: (transfer none) (nullable): the client now serving it, to
 *   which what was sent to it during the handover is delivered
 */
typedef SignalingClient *(*SignalingRemoteClaimFunc) (JsonObject *state,
                                                      gpointer    user_data);

#define SIGNALING_TYPE_REMOTE (signaling_remote_get_type ())

G_DECLARE_INTERFACE (SignalingRemote, signaling_remote, SIGNALING, REMOTE, GObject)

/*
 * SignalingRemoteInterface:
 * @has_peer: whether a client of that id is connected to another node
 * @has_room: whether a room of that name has members on another node
 * @add_room_members: appends the ids (const char *, valid until the
 *   next main loop iteration) of the members @room has on other nodes
 * @publish: hands @message to the other nodes: to the peer named by its
 *   `to`, or to every member of the room of that name when @to_room
 * @client_changed: a local client connected or disconnected
 * @member_changed: a local client joined or left @room
 * @session_waiting: a local session started waiting for a resume with
 *   @token, for @window seconds, or (@window 0) stopped waiting
 * @claim_session: asks the node where @token's session waits to hand
 *   it over, if its peer is @sub (with tokens on; %NULL: any); calls
 *   @func once, later
 *
 * What the router asks of the rest of the cluster (the cluster module,
 * src/libsignaling/cluster/, implements it). The router stays in
 * charge of everything local and never waits: the answers come from
 * what the cluster already knows.
 */
struct _SignalingRemoteInterface
{
  GTypeInterface parent_iface;

  gboolean (*has_peer)         (SignalingRemote  *self,
                                const char       *id);
  gboolean (*has_room)         (SignalingRemote  *self,
                                const char       *room);
  void     (*add_room_members) (SignalingRemote  *self,
                                const char       *room,
                                GPtrArray        *ids);
  void     (*publish)          (SignalingRemote  *self,
                                SignalingMessage *message,
                                gboolean          to_room);
  void     (*client_changed)   (SignalingRemote  *self,
                                SignalingClient  *client,
                                gboolean          connected);
  void     (*member_changed)   (SignalingRemote  *self,
                                SignalingClient  *client,
                                const char       *room,
                                gboolean          joined);
  void     (*session_waiting)  (SignalingRemote  *self,
                                const char       *token,
                                SignalingClient  *client,
                                guint             window);
  void     (*claim_session)    (SignalingRemote  *self,
                                const char       *token,
                                const char       *sub,
                                SignalingRemoteClaimFunc func,
                                gpointer          user_data,
                                GDestroyNotify    destroy);
};

gboolean signaling_remote_has_peer         (SignalingRemote  *self,
                                            const char       *id);
gboolean signaling_remote_has_room         (SignalingRemote  *self,
                                            const char       *room);
void     signaling_remote_add_room_members (SignalingRemote  *self,
                                            const char       *room,
                                            GPtrArray        *ids);
void     signaling_remote_publish          (SignalingRemote  *self,
                                            SignalingMessage *message,
                                            gboolean          to_room);
void     signaling_remote_client_changed   (SignalingRemote  *self,
                                            SignalingClient  *client,
                                            gboolean          connected);
void     signaling_remote_member_changed   (SignalingRemote  *self,
                                            SignalingClient  *client,
                                            const char       *room,
                                            gboolean          joined);

void     signaling_remote_session_waiting  (SignalingRemote  *self,
                                            const char       *token,
                                            SignalingClient  *client,
                                            guint             window);
void     signaling_remote_claim_session    (SignalingRemote  *self,
                                            const char       *token,
                                            const char       *sub,
                                            SignalingRemoteClaimFunc func,
                                            gpointer          user_data,
                                            GDestroyNotify    destroy);

G_END_DECLS
