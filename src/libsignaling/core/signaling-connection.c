/* signaling-connection.c: what a dialect provides for one peer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include "signaling-connection-private.h"

G_DEFINE_INTERFACE (SignalingConnection, signaling_connection, G_TYPE_OBJECT)

static void
signaling_connection_default_init (SignalingConnectionInterface *iface)
{
}

gsize
signaling_connection_deliver (SignalingConnection *self,
                              SignalingMessage    *message)
{
  g_return_val_if_fail (SIGNALING_IS_CONNECTION (self), 0);
  return SIGNALING_CONNECTION_GET_IFACE (self)->deliver (self, message);
}

void
signaling_connection_close (SignalingConnection *self,
                            gushort              code,
                            const char          *reason)
{
  g_return_if_fail (SIGNALING_IS_CONNECTION (self));
  SIGNALING_CONNECTION_GET_IFACE (self)->close (self, code, reason);
}

const char *
signaling_connection_get_protocol (SignalingConnection *self)
{
  g_return_val_if_fail (SIGNALING_IS_CONNECTION (self), NULL);
  return SIGNALING_CONNECTION_GET_IFACE (self)->get_protocol (self);
}

const char *
signaling_connection_get_transport (SignalingConnection *self)
{
  g_return_val_if_fail (SIGNALING_IS_CONNECTION (self), NULL);
  return SIGNALING_CONNECTION_GET_IFACE (self)->get_transport (self);
}

/* Returns: (transfer full) (nullable): the session's state, or %NULL */
JsonObject *
signaling_connection_hand_over (SignalingConnection *self,
                                const char          *token)
{
  SignalingConnectionInterface *iface;

  g_return_val_if_fail (SIGNALING_IS_CONNECTION (self), NULL);
  iface = SIGNALING_CONNECTION_GET_IFACE (self);
  return iface->hand_over != NULL ? iface->hand_over (self, token) : NULL;
}
