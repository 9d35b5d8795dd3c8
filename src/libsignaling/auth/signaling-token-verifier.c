/* signaling-token-verifier.c: checking signed tokens (JWT)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-auth"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#ifdef HAVE_LIBJWT
#include <jwt.h>
#endif

#include "signaling-error.h"
#include "signaling-secrets-private.h"
#include "signaling-token-verifier-private.h"

/*
 * SignalingTokenVerifier:
 *
 * Checks the signature of a token with Debian's libjwt (never by hand)
 * and hands its claims to SignalingIdentity, which applies the rules.
 * HS256 tokens are checked against every secret of the secret file
 * (rotation: the first one signs, all are accepted), RS256/ES256 ones
 * (and their 384/512 variants) against the public key. The algorithm
 * a token names must fit the key that checks it: otherwise a token
 * "signed" with HS256 using the public key, which is no secret, as its
 * HMAC key would pass.
 *
 * The files are read by signaling_token_verifier_reload(), which keeps
 * what it had when a file is bad, so that SIGHUP can call it.
 */
struct _SignalingTokenVerifier
{
  GObject parent_instance;

  char *secret_file;
  char *public_key_file;
  char *audience;

  GPtrArray *secrets;   /* GBytes; NULL until loaded */
  GBytes *public_key;   /* PEM */
  gboolean loaded;
};

G_DEFINE_FINAL_TYPE (SignalingTokenVerifier, signaling_token_verifier, G_TYPE_OBJECT)

static void
signaling_token_verifier_finalize (GObject *object)
{
  SignalingTokenVerifier *self = SIGNALING_TOKEN_VERIFIER (object);

  g_clear_pointer (&self->secret_file, g_free);
  g_clear_pointer (&self->public_key_file, g_free);
  g_clear_pointer (&self->audience, g_free);
  g_clear_pointer (&self->secrets, g_ptr_array_unref);
  g_clear_pointer (&self->public_key, g_bytes_unref);

  G_OBJECT_CLASS (signaling_token_verifier_parent_class)->finalize (object);
}

static void
signaling_token_verifier_class_init (SignalingTokenVerifierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_token_verifier_finalize;
}

static void
signaling_token_verifier_init (SignalingTokenVerifier *self)
{
}

SignalingTokenVerifier *
signaling_token_verifier_new (void)
{
  return g_object_new (SIGNALING_TYPE_TOKEN_VERIFIER, NULL);
}

/* Setting a file takes effect at the next reload. */
void
signaling_token_verifier_set_secret_file (SignalingTokenVerifier *self,
                                          const char             *filename)
{
  g_return_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self));
  g_free (self->secret_file);
  self->secret_file = g_strdup (filename != NULL && filename[0] != '\0' ? filename : NULL);
  self->loaded = FALSE;
}

const char *
signaling_token_verifier_get_secret_file (SignalingTokenVerifier *self)
{
  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), NULL);
  return self->secret_file;
}

void
signaling_token_verifier_set_public_key_file (SignalingTokenVerifier *self,
                                              const char             *filename)
{
  g_return_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self));
  g_free (self->public_key_file);
  self->public_key_file = g_strdup (filename != NULL && filename[0] != '\0' ? filename : NULL);
  self->loaded = FALSE;
}

const char *
signaling_token_verifier_get_public_key_file (SignalingTokenVerifier *self)
{
  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), NULL);
  return self->public_key_file;
}

void
signaling_token_verifier_set_audience (SignalingTokenVerifier *self,
                                       const char             *audience)
{
  g_return_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self));
  g_free (self->audience);
  self->audience = g_strdup (audience != NULL && audience[0] != '\0' ? audience : NULL);
}

const char *
signaling_token_verifier_get_audience (SignalingTokenVerifier *self)
{
  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), NULL);
  return self->audience;
}

/* Whether peers need a token: a secret file or a public key is set. */
gboolean
signaling_token_verifier_is_enabled (SignalingTokenVerifier *self)
{
  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), FALSE);
  return self->secret_file != NULL || self->public_key_file != NULL;
}

/* Whether the files set have been read since they were set. */
gboolean
signaling_token_verifier_is_loaded (SignalingTokenVerifier *self)
{
  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), FALSE);
  return self->loaded;
}

/* Whether this build checks tokens (the `auth` meson feature). */
gboolean
signaling_token_supported (void)
{
#ifdef HAVE_LIBJWT
  return TRUE;
#else
  return FALSE;
#endif
}

static gboolean
set_unsupported (GError **error)
{
  g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                       _("This signalbox was built without signed tokens (libjwt, the “auth” build option)"));
  return FALSE;
}

/*
 * signaling_token_verifier_reload:
 *
 * Reads the secret file and the public key again. On an error the
 * secrets and key read before stay in use.
 */
gboolean
signaling_token_verifier_reload (SignalingTokenVerifier  *self,
                                 GError                 **error)
{
  g_autoptr(GPtrArray) secrets = NULL;
  g_autoptr(GBytes) public_key = NULL;

  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), FALSE);

  if (signaling_token_verifier_is_enabled (self) && !signaling_token_supported ())
    return set_unsupported (error);

  if (self->secret_file != NULL)
    {
      secrets = signaling_secrets_read (self->secret_file, error);
      if (secrets == NULL)
        return FALSE;
    }

  if (self->public_key_file != NULL)
    {
      g_autofree char *pem = NULL;
      gsize length;

      if (!g_file_get_contents (self->public_key_file, &pem, &length, error))
        return FALSE;
      if (strstr (pem, "-----BEGIN PUBLIC KEY-----") == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       _("%s is no PEM public key (“-----BEGIN PUBLIC KEY-----”)"),
                       self->public_key_file);
          return FALSE;
        }
      public_key = g_bytes_new_take (g_steal_pointer (&pem), length);
    }

  g_clear_pointer (&self->secrets, g_ptr_array_unref);
  self->secrets = g_steal_pointer (&secrets);
  g_clear_pointer (&self->public_key, g_bytes_unref);
  self->public_key = g_steal_pointer (&public_key);
  self->loaded = TRUE;
  return TRUE;
}

static gpointer
unauthorized (GError     **error,
              const char  *message)
{
  g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED, message);
  return NULL;
}

#ifdef HAVE_LIBJWT

G_DEFINE_AUTOPTR_CLEANUP_FUNC (jwt_t, jwt_free)

static gboolean
is_hmac (jwt_alg_t alg)
{
  return alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 || alg == JWT_ALG_HS512;
}

static gboolean
is_public_key_alg (jwt_alg_t alg)
{
  return alg == JWT_ALG_RS256 || alg == JWT_ALG_RS384 || alg == JWT_ALG_RS512 ||
         alg == JWT_ALG_ES256 || alg == JWT_ALG_ES384 || alg == JWT_ALG_ES512;
}

/* Whether @token is three non-empty base64url segments joined by dots,
 * as a signed compact JWS is. libjwt 1.10 (Debian 12) decodes an empty
 * segment into a malloc (0) and writes past it (valgrind on the fuzz
 * corpus, tests/fuzz/corpus/token/empty-segments): such a token must
 * never reach it. */
static gboolean
is_compact_jws (const char *token)
{
  guint segments = 1;
  gsize segment_length = 0;

  for (const char *p = token; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (segment_length == 0)
            return FALSE;
          segments++;
          segment_length = 0;
        }
      else if (g_ascii_isalnum (*p) || *p == '-' || *p == '_')
        segment_length++;
      else
        return FALSE;
    }
  return segments == 3 && segment_length > 0;
}

/* The decoded token if @key checks its signature with an algorithm
 * that fits the key. */
static jwt_t *
decode_with (const char *token,
             GBytes     *key,
             gboolean    key_is_secret)
{
  g_autoptr(jwt_t) jwt = NULL;
  gsize length;
  const guint8 *data = g_bytes_get_data (key, &length);

  if (length > G_MAXINT || jwt_decode (&jwt, token, data, (int) length) != 0 || jwt == NULL)
    return NULL;
  if (key_is_secret ? !is_hmac (jwt_get_alg (jwt)) : !is_public_key_alg (jwt_get_alg (jwt)))
    return NULL;
  return g_steal_pointer (&jwt);
}

static jwt_t *
decode (SignalingTokenVerifier *self,
        const char             *token)
{
  for (guint i = 0; self->secrets != NULL && i < self->secrets->len; i++)
    {
      jwt_t *jwt = decode_with (token, g_ptr_array_index (self->secrets, i), TRUE);

      if (jwt != NULL)
        return jwt;
    }

  if (self->public_key != NULL)
    return decode_with (token, self->public_key, FALSE);
  return NULL;
}

#endif

/*
 * signaling_token_verifier_verify:
 * @token: a compact JWS, as a peer sent it
 * @now: seconds since the epoch
 *
 * Returns: (transfer full): who the token says the peer is, or %NULL
 *   with %SIGNALING_ERROR_UNAUTHORIZED
 */
SignalingIdentity *
signaling_token_verifier_verify (SignalingTokenVerifier  *self,
                                 const char              *token,
                                 gint64                   now,
                                 GError                 **error)
{
  g_return_val_if_fail (SIGNALING_IS_TOKEN_VERIFIER (self), NULL);

  if (token == NULL || token[0] == '\0')
    return unauthorized (error, _("A token is required"));
  if (strlen (token) > SIGNALING_TOKEN_MAX_LENGTH)
    return unauthorized (error, _("The token is too long"));

#ifdef HAVE_LIBJWT
  {
    g_autoptr(jwt_t) jwt = is_compact_jws (token) ? decode (self, token) : NULL;
    g_autoptr(JsonNode) claims = NULL;
    char *json;

    if (jwt == NULL)
      return unauthorized (error, _("The token’s signature is not valid"));

    json = jwt_get_grants_json (jwt, NULL);
    claims = json != NULL ? json_from_string (json, NULL) : NULL;
    free (json);
    if (claims == NULL || !JSON_NODE_HOLDS_OBJECT (claims))
      return unauthorized (error, _("The token has no claims"));

    return signaling_identity_new_from_claims (json_node_get_object (claims), self->audience, now, error);
  }
#else
  (void) now;
  return unauthorized (error, _("This signalbox was built without signed tokens (libjwt, the “auth” build option)"));
#endif
}

/*
 * signaling_token_mint:
 * @secret: the HS256 secret to sign with
 * @sub: the peer's id
 * @rooms: (nullable): the rooms it may join; %NULL for any
 * @audience: (nullable): the `aud` claim
 * @expires: the `exp` claim, seconds since the epoch
 *
 * Makes a token as `signalboxctl token` prints it.
 *
 * Returns: (transfer full): the token, or %NULL
 */
char *
signaling_token_mint (GBytes              *secret,
                      const char          *sub,
                      const char * const  *rooms,
                      const char          *audience,
                      gint64               expires,
                      GError             **error)
{
  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (sub != NULL, NULL);

  if (!signaling_identity_id_is_valid (sub))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                   _("“%s” is not a valid id: 1 to %d letters, digits and . _ @ -, not starting with -"),
                   sub, SIGNALING_IDENTITY_MAX_ID_LENGTH);
      return NULL;
    }

#ifdef HAVE_LIBJWT
  {
    g_autoptr(jwt_t) jwt = NULL;
    g_autoptr(JsonGenerator) generator = json_generator_new ();
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *claims = NULL;
    gsize length;
    const guint8 *key = g_bytes_get_data (secret, &length);
    char *encoded;
    char *token;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "sub");
    json_builder_add_string_value (builder, sub);
    json_builder_set_member_name (builder, "iat");
    json_builder_add_int_value (builder, g_get_real_time () / G_USEC_PER_SEC);
    json_builder_set_member_name (builder, "exp");
    json_builder_add_int_value (builder, expires);
    if (audience != NULL)
      {
        json_builder_set_member_name (builder, "aud");
        json_builder_add_string_value (builder, audience);
      }
    if (rooms != NULL)
      {
        json_builder_set_member_name (builder, "rooms");
        json_builder_begin_array (builder);
        for (gsize i = 0; rooms[i] != NULL; i++)
          json_builder_add_string_value (builder, rooms[i]);
        json_builder_end_array (builder);
      }
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    json_generator_set_root (generator, root);
    claims = json_generator_to_data (generator, NULL);

    if (jwt_new (&jwt) != 0 || jwt_add_grants_json (jwt, claims) != 0 ||
        length > G_MAXINT || jwt_set_alg (jwt, JWT_ALG_HS256, key, (int) length) != 0 ||
        (encoded = jwt_encode_str (jwt)) == NULL)
      {
        g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED, _("Cannot sign the token"));
        return NULL;
      }

    /* libjwt's memory is libc's: hand back GLib's. */
    token = g_strdup (encoded);
    free (encoded);
    return token;
  }
#else
  (void) rooms; (void) audience; (void) expires;
  set_unsupported (error);
  return NULL;
#endif
}
