/* signaling-token-verifier-private.h: checking signed tokens (JWT)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include "signaling-identity-private.h"

G_BEGIN_DECLS

/* Tokens longer than this are refused unread. */
#define SIGNALING_TOKEN_MAX_LENGTH 8192

#define SIGNALING_TYPE_TOKEN_VERIFIER (signaling_token_verifier_get_type ())

G_DECLARE_FINAL_TYPE (SignalingTokenVerifier, signaling_token_verifier, SIGNALING, TOKEN_VERIFIER, GObject)

SignalingTokenVerifier *signaling_token_verifier_new          (void);
void               signaling_token_verifier_set_secret_file   (SignalingTokenVerifier  *self,
                                                               const char              *filename);
const char        *signaling_token_verifier_get_secret_file   (SignalingTokenVerifier  *self);
void               signaling_token_verifier_set_public_key_file (SignalingTokenVerifier *self,
                                                                 const char             *filename);
const char        *signaling_token_verifier_get_public_key_file (SignalingTokenVerifier *self);
void               signaling_token_verifier_set_audience      (SignalingTokenVerifier  *self,
                                                               const char              *audience);
const char        *signaling_token_verifier_get_audience      (SignalingTokenVerifier  *self);
gboolean           signaling_token_verifier_is_enabled        (SignalingTokenVerifier  *self);
gboolean           signaling_token_verifier_is_loaded         (SignalingTokenVerifier  *self);
gboolean           signaling_token_verifier_reload            (SignalingTokenVerifier  *self,
                                                               GError                 **error);
SignalingIdentity *signaling_token_verifier_verify            (SignalingTokenVerifier  *self,
                                                               const char              *token,
                                                               gint64                   now,
                                                               GError                 **error);

gboolean           signaling_token_supported                  (void);
char              *signaling_token_mint                       (GBytes                  *secret,
                                                               const char              *sub,
                                                               const char * const      *rooms,
                                                               const char              *audience,
                                                               gint64                   expires,
                                                               GError                 **error);

G_END_DECLS
