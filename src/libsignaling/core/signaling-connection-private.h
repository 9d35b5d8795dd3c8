/* signaling-connection-private.h: what a dialect provides for one peer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "signaling-message.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_CONNECTION (signaling_connection_get_type ())

G_DECLARE_INTERFACE (SignalingConnection, signaling_connection, SIGNALING, CONNECTION, GObject)

/*
 * SignalingConnectionInterface:
 * @deliver: encodes @message in the dialect's wire format and queues it;
 *   returns the number of bytes queued (0 when the dialect has no way
 *   to express the message and drops it)
 * @close: closes the peer with a WebSocket close code and reason
 * @get_protocol: `native` or `socket.io`
 * @get_transport: `websocket` or `polling`
 * @hand_over: (optional): when the peer waits for a resume with @token,
 *   returns what another node needs to take the session up (the
 *   dialect's members beside `id` and `rooms`) and gives the peer up
 *   without a word to anyone; %NULL otherwise
 *
 * A dialect implements this for each peer it serves. The router only
 * ever talks to peers through it, so adding a dialect needs no router
 * change.
 */
struct _SignalingConnectionInterface
{
  GTypeInterface parent_iface;

  gsize        (*deliver)       (SignalingConnection *self,
                                 SignalingMessage    *message);
  void         (*close)         (SignalingConnection *self,
                                 gushort              code,
                                 const char          *reason);
  const char * (*get_protocol)  (SignalingConnection *self);
  const char * (*get_transport) (SignalingConnection *self);
  JsonObject * (*hand_over)     (SignalingConnection *self,
                                 const char          *token);
};

gsize        signaling_connection_deliver       (SignalingConnection *self,
                                                 SignalingMessage    *message);
void         signaling_connection_close         (SignalingConnection *self,
                                                 gushort              code,
                                                 const char          *reason);
const char  *signaling_connection_get_protocol  (SignalingConnection *self);
const char  *signaling_connection_get_transport (SignalingConnection *self);

JsonObject  *signaling_connection_hand_over     (SignalingConnection *self,
                                                 const char          *token);

G_END_DECLS
