/* signaling-turn-credentials.c: TURN REST credentials
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-auth"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-error.h"
#include "signaling-secrets-private.h"
#include "signaling-turn-credentials-private.h"

/*
 * SignalingTurnCredentials:
 *
 * Short-lived TURN credentials in coturn's "TURN REST" scheme
 * (`use-auth-secret` with `static-auth-secret`, draft-uberti-behave-
 * turn-rest): the username is `EXPIRY:ID`, EXPIRY the Unix time the
 * credential ends, and the password is base64 (HMAC-SHA1 (secret,
 * username)). The TURN server knows the secret, so it checks them
 * without asking us; the peer gets them with its ICE servers, in the
 * RTCIceServer form a browser takes as it is.
 */
struct _SignalingTurnCredentials
{
  GObject parent_instance;

  char *secret_file;
  char **uris;
  guint ttl;

  GPtrArray *secrets;  /* GBytes; the first signs */
  gboolean loaded;
};

G_DEFINE_FINAL_TYPE (SignalingTurnCredentials, signaling_turn_credentials, G_TYPE_OBJECT)

static void
signaling_turn_credentials_finalize (GObject *object)
{
  SignalingTurnCredentials *self = SIGNALING_TURN_CREDENTIALS (object);

  g_clear_pointer (&self->secret_file, g_free);
  g_clear_pointer (&self->uris, g_strfreev);
  g_clear_pointer (&self->secrets, g_ptr_array_unref);

  G_OBJECT_CLASS (signaling_turn_credentials_parent_class)->finalize (object);
}

static void
signaling_turn_credentials_class_init (SignalingTurnCredentialsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_turn_credentials_finalize;
}

static void
signaling_turn_credentials_init (SignalingTurnCredentials *self)
{
  self->ttl = SIGNALING_TURN_DEFAULT_TTL;
}

SignalingTurnCredentials *
signaling_turn_credentials_new (void)
{
  return g_object_new (SIGNALING_TYPE_TURN_CREDENTIALS, NULL);
}

/* Takes effect at the next reload. */
void
signaling_turn_credentials_set_secret_file (SignalingTurnCredentials *self,
                                            const char               *filename)
{
  g_return_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self));
  g_free (self->secret_file);
  self->secret_file = g_strdup (filename != NULL && filename[0] != '\0' ? filename : NULL);
  self->loaded = FALSE;
}

const char *
signaling_turn_credentials_get_secret_file (SignalingTurnCredentials *self)
{
  g_return_val_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self), NULL);
  return self->secret_file;
}

void
signaling_turn_credentials_set_uris (SignalingTurnCredentials *self,
                                     const char * const       *uris)
{
  g_return_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self));
  g_strfreev (self->uris);
  self->uris = uris != NULL && uris[0] != NULL ? g_strdupv ((char **) uris) : NULL;
}

const char * const *
signaling_turn_credentials_get_uris (SignalingTurnCredentials *self)
{
  g_return_val_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self), NULL);
  return (const char * const *) self->uris;
}

void
signaling_turn_credentials_set_ttl (SignalingTurnCredentials *self,
                                    guint                     ttl)
{
  g_return_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self));
  self->ttl = ttl;
}

guint
signaling_turn_credentials_get_ttl (SignalingTurnCredentials *self)
{
  g_return_val_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self), 0);
  return self->ttl;
}

/* Whether the secret file set (if any) has been read since it was set. */
gboolean
signaling_turn_credentials_is_loaded (SignalingTurnCredentials *self)
{
  g_return_val_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self), FALSE);
  return self->secret_file == NULL || self->loaded;
}

/* Reads the secret file again; on an error the secrets read before
 * stay in use. */
gboolean
signaling_turn_credentials_reload (SignalingTurnCredentials  *self,
                                   GError                   **error)
{
  g_autoptr(GPtrArray) secrets = NULL;

  g_return_val_if_fail (SIGNALING_IS_TURN_CREDENTIALS (self), FALSE);

  if (self->secret_file != NULL)
    {
      secrets = signaling_secrets_read (self->secret_file, error);
      if (secrets == NULL)
        return FALSE;
    }

  g_clear_pointer (&self->secrets, g_ptr_array_unref);
  self->secrets = g_steal_pointer (&secrets);
  self->loaded = TRUE;
  return TRUE;
}

/* base64 (HMAC-SHA1 (@secret, @username)), coturn's password for it. */
char *
signaling_turn_credential (GBytes     *secret,
                           const char *username)
{
  g_autoptr(GHmac) hmac = NULL;
  guint8 digest[20];
  gsize length = sizeof digest;
  gsize key_length;
  const guint8 *key = g_bytes_get_data (secret, &key_length);

  hmac = g_hmac_new (G_CHECKSUM_SHA1, key, key_length);
  g_hmac_update (hmac, (const guchar *) username, strlen (username));
  g_hmac_get_digest (hmac, digest, &length);
  return g_base64_encode (digest, length);
}

static void
add_stun (JsonArray          *servers,
          const char * const *stun_urls)
{
  for (gsize i = 0; stun_urls != NULL && stun_urls[i] != NULL; i++)
    {
      g_autoptr(JsonObject) server = json_object_new ();

      json_object_set_string_member (server, "urls", stun_urls[i]);
      json_array_add_object_element (servers, g_steal_pointer (&server));
    }
}

/*
 * signaling_turn_credentials_build_ice_servers:
 * @self: (nullable): the TURN configuration, or %NULL for none
 * @stun_urls: (nullable): the plain ICE server URLs (--ice-server)
 * @id: the peer's id, the second half of its TURN username
 * @now: seconds since the epoch
 *
 * The ICE servers a peer is given, as RTCIceServer objects:
 * `{"urls":URL}` for each plain URL, then, with TURN URIs and a
 * secret, `{"urls":[TURN URIs],"username":"EXPIRY:ID","credential":…}`.
 *
 * Returns: (transfer full): a JSON array
 */
JsonNode *
signaling_turn_credentials_build_ice_servers (SignalingTurnCredentials *self,
                                              const char * const       *stun_urls,
                                              const char               *id,
                                              gint64                    now)
{
  g_autoptr(JsonArray) servers = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  add_stun (servers, stun_urls);

  if (self != NULL && self->uris != NULL && self->secrets != NULL && self->secrets->len > 0)
    {
      g_autoptr(JsonObject) server = json_object_new ();
      g_autoptr(JsonArray) urls = json_array_new ();
      g_autofree char *username = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", now + self->ttl, id);
      g_autofree char *credential = signaling_turn_credential (g_ptr_array_index (self->secrets, 0), username);

      for (gsize i = 0; self->uris[i] != NULL; i++)
        json_array_add_string_element (urls, self->uris[i]);
      json_object_set_array_member (server, "urls", g_steal_pointer (&urls));
      json_object_set_string_member (server, "username", username);
      json_object_set_string_member (server, "credential", credential);
      json_array_add_object_element (servers, g_steal_pointer (&server));
    }

  json_node_take_array (node, g_steal_pointer (&servers));
  return node;
}
