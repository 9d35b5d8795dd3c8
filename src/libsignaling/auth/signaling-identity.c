/* signaling-identity.c: who a token says a peer is
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-auth"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-error.h"
#include "signaling-identity-private.h"

/*
 * SignalingIdentity:
 *
 * The claims of a verified token that signalbox acts on: `sub`, the
 * peer's id; `rooms`, the rooms it may join (%NULL: any); `exp`. The
 * rules for the claims live here, apart from the signature check
 * (signaling-token-verifier.c), so that they can be tested and fuzzed
 * on plain JSON.
 */
struct _SignalingIdentity
{
  GObject parent_instance;

  char *id;
  char **rooms;   /* NULL: the token does not limit rooms */
  gint64 expires; /* seconds since the epoch */
};

G_DEFINE_FINAL_TYPE (SignalingIdentity, signaling_identity, G_TYPE_OBJECT)

#define IDENTITY_QUARK (g_quark_from_static_string ("signaling-identity"))

static void
signaling_identity_finalize (GObject *object)
{
  SignalingIdentity *self = SIGNALING_IDENTITY (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->rooms, g_strfreev);

  G_OBJECT_CLASS (signaling_identity_parent_class)->finalize (object);
}

static void
signaling_identity_class_init (SignalingIdentityClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_identity_finalize;
}

static void
signaling_identity_init (SignalingIdentity *self)
{
}

/* A peer id from a token: 1 to 64 bytes of letters, digits and
 * `. _ @ -`, not starting with `-`. Ids are also D-Bus object path
 * elements (escaped), command-line arguments of signalboxctl kick
 * and log words: nothing else is needed for user names, uuids or
 * e-mail-like names, and nothing else can then surprise one of them. */
gboolean
signaling_identity_id_is_valid (const char *id)
{
  gsize length;

  if (id == NULL || id[0] == '\0' || id[0] == '-')
    return FALSE;

  for (length = 0; id[length] != '\0'; length++)
    {
      char c = id[length];

      if (length >= SIGNALING_IDENTITY_MAX_ID_LENGTH)
        return FALSE;
      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '@' && c != '-')
        return FALSE;
    }

  return TRUE;
}

static gpointer
unauthorized (GError     **error,
              const char  *message)
{
  g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED, message);
  return NULL;
}

/* A NumericDate (RFC 7519 §2): a JSON number of seconds, which may
 * have a fraction. */
static gboolean
get_time (JsonObject *claims,
          const char *name,
          gboolean   *present,
          gint64     *value)
{
  JsonNode *node = json_object_get_member (claims, name);
  double number;

  *present = node != NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_INT64 &&
       json_node_get_value_type (node) != G_TYPE_DOUBLE))
    return FALSE;

  number = json_node_get_value_type (node) == G_TYPE_INT64 ? (double) json_node_get_int (node)
                                                           : json_node_get_double (node);
  /* Beyond ±2^53 a double has no whole seconds; far beyond any token. */
  if (!(number > -9007199254740992.0 && number < 9007199254740992.0))
    return FALSE;
  *value = (gint64) number;
  return TRUE;
}

/* `aud` is a string or an array of strings (RFC 7519 §4.1.3). */
static gboolean
audience_matches (JsonNode   *aud,
                  const char *audience)
{
  if (JSON_NODE_HOLDS_VALUE (aud) && json_node_get_value_type (aud) == G_TYPE_STRING)
    return audience != NULL && g_str_equal (json_node_get_string (aud), audience);

  if (JSON_NODE_HOLDS_ARRAY (aud))
    {
      JsonArray *array = json_node_get_array (aud);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (audience != NULL && JSON_NODE_HOLDS_VALUE (element) &&
              json_node_get_value_type (element) == G_TYPE_STRING &&
              g_str_equal (json_node_get_string (element), audience))
            return TRUE;
        }
    }

  return FALSE;
}

/* `rooms`: an array of room names, each a non-empty string. */
static gboolean
get_rooms (JsonNode  *node,
           char    ***out_rooms)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *name;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return FALSE;
      name = json_node_get_string (element);
      if (name[0] == '\0')
        return FALSE;
      g_strv_builder_add (builder, name);
    }

  *out_rooms = g_strv_builder_end (builder);
  return TRUE;
}

/*
 * signaling_identity_new_from_claims:
 * @claims: the payload of a token whose signature has been checked
 * @audience: (nullable): what `aud` must name when the token has one
 * @now: seconds since the epoch
 *
 * Applies signalbox's rules to the claims: `sub` required and a valid
 * id, `exp` required and in the future, `nbf` (if present) not in the
 * future, `aud` (if present) naming @audience, `rooms` (if present) an
 * array of names. A token with `aud` is refused when no audience is
 * configured: it was meant for someone else.
 *
 * Returns: (transfer full): the identity, or %NULL with
 *   %SIGNALING_ERROR_UNAUTHORIZED
 */
SignalingIdentity *
signaling_identity_new_from_claims (JsonObject  *claims,
                                    const char  *audience,
                                    gint64       now,
                                    GError     **error)
{
  g_autoptr(SignalingIdentity) self = NULL;
  JsonNode *sub = json_object_get_member (claims, "sub");
  JsonNode *aud = json_object_get_member (claims, "aud");
  JsonNode *rooms = json_object_get_member (claims, "rooms");
  gboolean has_exp, has_nbf;
  gint64 exp = 0, nbf = 0;
  g_auto(GStrv) room_names = NULL;

  if (sub == NULL || !JSON_NODE_HOLDS_VALUE (sub) || json_node_get_value_type (sub) != G_TYPE_STRING ||
      !signaling_identity_id_is_valid (json_node_get_string (sub)))
    return unauthorized (error, _("The token has no valid “sub”"));

  if (!get_time (claims, "exp", &has_exp, &exp) || !has_exp)
    return unauthorized (error, _("The token has no valid “exp”"));
  if (exp <= now)
    return unauthorized (error, _("The token has expired"));

  if (!get_time (claims, "nbf", &has_nbf, &nbf))
    return unauthorized (error, _("The token has an invalid “nbf”"));
  if (has_nbf && nbf > now)
    return unauthorized (error, _("The token is not valid yet"));

  if (aud != NULL && !audience_matches (aud, audience))
    return unauthorized (error, _("The token is meant for another audience"));

  if (rooms != NULL && !get_rooms (rooms, &room_names))
    return unauthorized (error, _("The token’s “rooms” is not an array of room names"));

  self = g_object_new (SIGNALING_TYPE_IDENTITY, NULL);
  self->id = g_strdup (json_node_get_string (sub));
  self->rooms = g_steal_pointer (&room_names);
  self->expires = exp;
  return g_steal_pointer (&self);
}

const char *
signaling_identity_get_id (SignalingIdentity *self)
{
  g_return_val_if_fail (SIGNALING_IS_IDENTITY (self), NULL);
  return self->id;
}

/* Returns: (nullable): the rooms the peer may join; %NULL for any */
const char * const *
signaling_identity_get_rooms (SignalingIdentity *self)
{
  g_return_val_if_fail (SIGNALING_IS_IDENTITY (self), NULL);
  return (const char * const *) self->rooms;
}

gint64
signaling_identity_get_expires (SignalingIdentity *self)
{
  g_return_val_if_fail (SIGNALING_IS_IDENTITY (self), 0);
  return self->expires;
}

gboolean
signaling_identity_may_join (SignalingIdentity *self,
                             const char        *room)
{
  g_return_val_if_fail (SIGNALING_IS_IDENTITY (self), FALSE);
  return self->rooms == NULL || g_strv_contains ((const char * const *) self->rooms, room);
}

/* Keeps a reference to @self (nullable: none) as data of @carrier, a
 * GObject. */
void
signaling_identity_attach (SignalingIdentity *self,
                           gpointer           carrier)
{
  g_return_if_fail (G_IS_OBJECT (carrier));

  if (self == NULL)
    g_object_set_qdata (carrier, IDENTITY_QUARK, NULL);
  else
    g_object_set_qdata_full (carrier, IDENTITY_QUARK, g_object_ref (self), g_object_unref);
}

/* Returns: (transfer none) (nullable): the identity attached to @carrier */
SignalingIdentity *
signaling_identity_lookup (gpointer carrier)
{
  g_return_val_if_fail (G_IS_OBJECT (carrier), NULL);
  return g_object_get_qdata (carrier, IDENTITY_QUARK);
}
