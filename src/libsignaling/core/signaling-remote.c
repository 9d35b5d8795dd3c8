/* signaling-remote.c: the peers and rooms of other nodes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include "signaling-remote-private.h"

G_DEFINE_INTERFACE (SignalingRemote, signaling_remote, G_TYPE_OBJECT)

static void
signaling_remote_default_init (SignalingRemoteInterface *iface)
{
}

gboolean
signaling_remote_has_peer (SignalingRemote *self,
                           const char      *id)
{
  g_return_val_if_fail (SIGNALING_IS_REMOTE (self), FALSE);
  return SIGNALING_REMOTE_GET_IFACE (self)->has_peer (self, id);
}

gboolean
signaling_remote_has_room (SignalingRemote *self,
                           const char      *room)
{
  g_return_val_if_fail (SIGNALING_IS_REMOTE (self), FALSE);
  return SIGNALING_REMOTE_GET_IFACE (self)->has_room (self, room);
}

void
signaling_remote_add_room_members (SignalingRemote *self,
                                   const char      *room,
                                   GPtrArray       *ids)
{
  g_return_if_fail (SIGNALING_IS_REMOTE (self));
  SIGNALING_REMOTE_GET_IFACE (self)->add_room_members (self, room, ids);
}

void
signaling_remote_publish (SignalingRemote  *self,
                          SignalingMessage *message,
                          gboolean          to_room)
{
  g_return_if_fail (SIGNALING_IS_REMOTE (self));
  SIGNALING_REMOTE_GET_IFACE (self)->publish (self, message, to_room);
}

void
signaling_remote_client_changed (SignalingRemote *self,
                                 SignalingClient *client,
                                 gboolean         connected)
{
  g_return_if_fail (SIGNALING_IS_REMOTE (self));
  SIGNALING_REMOTE_GET_IFACE (self)->client_changed (self, client, connected);
}

void
signaling_remote_member_changed (SignalingRemote *self,
                                 SignalingClient *client,
                                 const char      *room,
                                 gboolean         joined)
{
  g_return_if_fail (SIGNALING_IS_REMOTE (self));
  SIGNALING_REMOTE_GET_IFACE (self)->member_changed (self, client, room, joined);
}

void
signaling_remote_session_waiting (SignalingRemote *self,
                                  const char      *token,
                                  SignalingClient *client,
                                  guint            window)
{
  g_return_if_fail (SIGNALING_IS_REMOTE (self));
  SIGNALING_REMOTE_GET_IFACE (self)->session_waiting (self, token, client, window);
}

void
signaling_remote_claim_session (SignalingRemote          *self,
                                const char               *token,
                                const char               *sub,
                                SignalingRemoteClaimFunc  func,
                                gpointer                  user_data,
                                GDestroyNotify            destroy)
{
  g_return_if_fail (SIGNALING_IS_REMOTE (self));
  SIGNALING_REMOTE_GET_IFACE (self)->claim_session (self, token, sub, func, user_data, destroy);
}
