/* signaling-turn-credentials-private.h: TURN REST credentials
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SIGNALING_TURN_DEFAULT_TTL 86400

#define SIGNALING_TYPE_TURN_CREDENTIALS (signaling_turn_credentials_get_type ())

G_DECLARE_FINAL_TYPE (SignalingTurnCredentials, signaling_turn_credentials, SIGNALING, TURN_CREDENTIALS, GObject)

SignalingTurnCredentials *signaling_turn_credentials_new (void);
void                signaling_turn_credentials_set_secret_file (SignalingTurnCredentials *self,
                                                                const char               *filename);
const char         *signaling_turn_credentials_get_secret_file (SignalingTurnCredentials *self);
void                signaling_turn_credentials_set_uris        (SignalingTurnCredentials *self,
                                                                const char * const       *uris);
const char * const *signaling_turn_credentials_get_uris        (SignalingTurnCredentials *self);
void                signaling_turn_credentials_set_ttl         (SignalingTurnCredentials *self,
                                                                guint                     ttl);
guint               signaling_turn_credentials_get_ttl         (SignalingTurnCredentials *self);
gboolean            signaling_turn_credentials_is_loaded       (SignalingTurnCredentials *self);
gboolean            signaling_turn_credentials_reload          (SignalingTurnCredentials *self,
                                                                GError                  **error);
char               *signaling_turn_credential                  (GBytes                   *secret,
                                                                const char               *username);
JsonNode           *signaling_turn_credentials_build_ice_servers (SignalingTurnCredentials *self,
                                                                  const char * const       *stun_urls,
                                                                  const char               *id,
                                                                  gint64                    now);

G_END_DECLS
