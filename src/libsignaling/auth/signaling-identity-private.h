/* signaling-identity-private.h: who a token says a peer is
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The longest peer id a token may give, in bytes. */
#define SIGNALING_IDENTITY_MAX_ID_LENGTH 64

#define SIGNALING_TYPE_IDENTITY (signaling_identity_get_type ())

G_DECLARE_FINAL_TYPE (SignalingIdentity, signaling_identity, SIGNALING, IDENTITY, GObject)

SignalingIdentity  *signaling_identity_new_from_claims (JsonObject         *claims,
                                                        const char         *audience,
                                                        gint64              now,
                                                        GError            **error);
const char         *signaling_identity_get_id          (SignalingIdentity  *self);
const char * const *signaling_identity_get_rooms       (SignalingIdentity  *self);
gint64              signaling_identity_get_expires     (SignalingIdentity  *self);
gboolean            signaling_identity_may_join        (SignalingIdentity  *self,
                                                        const char         *room);
gboolean            signaling_identity_id_is_valid     (const char         *id);

/* An identity travels from the HTTP request that proved it to the
 * connection or session the request opens, as data of those objects. */
void                signaling_identity_attach          (SignalingIdentity  *self,
                                                        gpointer            carrier);
SignalingIdentity  *signaling_identity_lookup          (gpointer            carrier);

G_END_DECLS
