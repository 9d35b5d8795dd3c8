/* signaling-router-private.h: who receives what
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include "signaling-types.h"
#include "signaling-message.h"

G_BEGIN_DECLS

/* What a dialect does with a message, before parsing it. */
typedef enum
{
  SIGNALING_ADMISSION_ACCEPT,  /* go on */
  SIGNALING_ADMISSION_REFUSE,  /* drop it and tell the peer the error */
  SIGNALING_ADMISSION_DROP,    /* drop it without a word (counted already) */
} SignalingAdmission;

#define SIGNALING_TYPE_ROUTER (signaling_router_get_type ())

G_DECLARE_FINAL_TYPE (SignalingRouter, signaling_router, SIGNALING, ROUTER, GObject)

SignalingRouter *signaling_router_new            (SignalingServer  *server);
gboolean         signaling_router_check_capacity (SignalingRouter  *self,
                                                  GError          **error);
gboolean         signaling_router_add_client     (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  GError          **error);
void             signaling_router_remove_client  (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  const char       *reason);
SignalingClient *signaling_router_lookup_client  (SignalingRouter  *self,
                                                  const char       *id);
SignalingRoom   *signaling_router_lookup_room    (SignalingRouter  *self,
                                                  const char       *name);
GHashTable      *signaling_router_get_clients    (SignalingRouter  *self);
GHashTable      *signaling_router_get_rooms      (SignalingRouter  *self);
SignalingAdmission signaling_router_admit        (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  gsize             size,
                                                  GError          **error);
SignalingRoom   *signaling_router_join           (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  const char       *room,
                                                  GError          **error);
gboolean         signaling_router_leave          (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  const char       *room,
                                                  GError          **error);
gboolean         signaling_router_route          (SignalingRouter  *self,
                                                  SignalingClient  *sender,
                                                  SignalingMessage *message,
                                                  GError          **error);

G_END_DECLS
