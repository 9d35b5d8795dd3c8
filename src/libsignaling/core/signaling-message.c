/* signaling-message.c: one signaling message, whatever dialect it came from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-enums.h"
#include "signaling-error.h"
#include "signaling-json-private.h"
#include "signaling-message-private.h"

/**
 * SignalingMessage:
 *
 * A signaling message on its way from one peer to another.
 *
 * Dialects turn wire frames into messages and back. The payload is the
 * parsed JSON object in the native protocol's shape and is relayed as it
 * came, never rebuilt field by field, so fields a client adds for its
 * own use survive the trip. `from` is always stamped by the server.
 */
struct _SignalingMessage
{
  grefcount ref_count;

  SignalingMessageKind kind;
  char *from;
  char *to;
  const char *dialect;  /* interned */
  gboolean seen;  /* by an application's handler */
  JsonObject *payload;  /* or NULL until somebody asks for it */
  gboolean payload_given;  /* to an application, which may change it */

  /* The payload as the sender wrote it, without `from` and `rid`, for
   * a message parsed from text: a relay copies it, and only a reader
   * of the payload pays for parsing it into a tree. */
  char *text;
  gsize text_length;

  /* Or, for a message another dialect translated, its members besides
   * `type` and the target, written as text on first use: a relay
   * between Socket.IO peers never needs it. NULL-terminated. */
  SignalingMember *members;
  JsonNode *rid;
  gboolean include_sender;

  /* What each dialect remembers about the message, by dialect quark
   * (Socket.IO: the sender's own argument). */
  GData *dialect_data;

};

G_DEFINE_BOXED_TYPE (SignalingMessage, signaling_message,
                     signaling_message_ref, signaling_message_unref)

SignalingMessage *
signaling_message_new (SignalingMessageKind  kind,
                       const char           *to,
                       JsonObject           *payload)
{
  SignalingMessage *self = g_new0 (SignalingMessage, 1);

  g_ref_count_init (&self->ref_count);
  self->kind = kind;
  self->to = g_strdup (to);
  self->dialect = g_intern_static_string ("native");
  self->payload = payload != NULL ? json_object_ref (payload) : json_object_new ();

  /* Keep the payload a valid native message whoever built it. */
  if (!json_object_has_member (self->payload, "type"))
    json_object_set_string_member (self->payload, "type",
                                   signaling_message_kind_to_string (kind));
  if (to != NULL && !json_object_has_member (self->payload, "to"))
    json_object_set_string_member (self->payload, "to", to);

  return self;
}

/*
 * signaling_message_new_from_text:
 * @text: (transfer full): a JSON object, checked, in the native shape
 *   (with `type` and the kind's target), without `from`
 *
 * A message whose payload stays text until somebody reads it.
 */
SignalingMessage *
signaling_message_new_from_text (SignalingMessageKind  kind,
                                 const char           *to,
                                 char                 *text,
                                 gsize                 length)
{
  SignalingMessage *self = g_new0 (SignalingMessage, 1);

  g_ref_count_init (&self->ref_count);
  self->kind = kind;
  self->to = g_strdup (to);
  self->dialect = g_intern_static_string ("native");
  self->text = text;
  self->text_length = length;
  return self;
}

static JsonNode *
listed_member (gconstpointer  members,
               const char    *name,
               gboolean       shape_only)
{
  for (const SignalingMember *member = members; member->name != NULL; member++)
    if (g_str_equal (member->name, name))
      return member->value != NULL ? json_node_ref (member->value) : NULL;
  return NULL;
}

/*
 * signaling_message_new_from_members:
 * @to: the target, written as the kind's target field
 * @members: (array length=n_members): the rest of the payload, after
 *   `type` and the target; a member without a value is left out, as
 *   JSON.stringify() leaves out undefined
 *
 * A message another dialect translated, checked against the native
 * rules of its kind. Its payload is neither built nor written until a
 * reader needs it: a tree cost a third of a relayed Socket.IO message
 * (building and freeing it), and the text for native peers another
 * tenth, for no use between Socket.IO peers.
 *
 * Returns: (transfer full): the message, or %NULL with @error set
 */
SignalingMessage *
signaling_message_new_from_members (SignalingMessageKind   kind,
                                    const char            *to,
                                    const SignalingMember *members,
                                    guint                  n_members,
                                    GError               **error)
{
  g_autofree SignalingMember *listed = g_new0 (SignalingMember, n_members + 1);
  SignalingMessage *self;
  guint n_kept = 0;

  /* A member without a value is left out, as JSON.stringify() leaves
   * out undefined. */
  for (guint i = 0; i < n_members; i++)
    if (members[i].value != NULL)
      listed[n_kept++] = (SignalingMember) { members[i].name, json_node_ref (members[i].value) };

  if (!signaling_message_validate_members (kind, listed_member, listed, error))
    {
      for (guint i = 0; i < n_kept; i++)
        json_node_unref (listed[i].value);
      return NULL;
    }

  self = signaling_message_new_from_text (kind, to, NULL, 0);
  self->members = g_steal_pointer (&listed);
  return self;
}

/* The text of a message made of members: `type`, the target, the
 * members, as the native protocol writes them. */
static void
write_members (SignalingMessage *message)
{
  gboolean join = message->kind == SIGNALING_MESSAGE_KIND_JOIN || message->kind == SIGNALING_MESSAGE_KIND_LEAVE;
  GString *text = g_string_sized_new (128);

  g_string_append (text, "{\"type\":");
  signaling_json_append_string (text, signaling_message_kind_to_string (message->kind));
  if (message->to != NULL)
    {
      g_string_append (text, join ? ",\"room\":" : ",\"to\":");
      signaling_json_append_string (text, message->to);
    }
  for (SignalingMember *member = message->members; member->name != NULL; member++)
    {
      g_string_append_c (text, ',');
      signaling_json_append_string (text, member->name);
      g_string_append_c (text, ':');
      signaling_json_append (text, member->value);
    }
  g_string_append_c (text, '}');

  message->text_length = text->len;
  message->text = g_string_free (text, FALSE);
}

/* The payload, parsed from the text on first use. */
static JsonObject *
payload (SignalingMessage *message)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  if (message->payload != NULL)
    return message->payload;

  if (message->text == NULL && message->members != NULL)
    write_members (message);
  root = signaling_json_parse_utf8 (message->text, message->text_length, &error);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    message->payload = json_object_ref (json_node_get_object (root));
  else
    {
      /* The text was checked when the message was made from it. */
      g_critical ("A message's text no longer parses: %s", error != NULL ? error->message : "not an object");
      message->payload = json_object_new ();
    }

  if (message->from != NULL)
    json_object_set_string_member (message->payload, "from", message->from);
  return message->payload;
}

/**
 * signaling_message_ref:
 * @message: a message
 *
 * Takes a reference to @message.
 *
 * Returns: (transfer full): @message
 */
SignalingMessage *
signaling_message_ref (SignalingMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);

  g_ref_count_inc (&message->ref_count);
  return message;
}

/**
 * signaling_message_unref:
 * @message: (transfer full): a message
 *
 * Drops a reference to @message, freeing it with the last one.
 */
void
signaling_message_unref (SignalingMessage *message)
{
  g_return_if_fail (message != NULL);

  if (!g_ref_count_dec (&message->ref_count))
    return;

  g_free (message->from);
  g_free (message->to);
  g_clear_pointer (&message->payload, json_object_unref);
  g_free (message->text);
  if (message->members != NULL)
    for (SignalingMember *member = message->members; member->name != NULL; member++)
      g_clear_pointer (&member->value, json_node_unref);
  g_free (message->members);
  g_clear_pointer (&message->rid, json_node_unref);
  g_datalist_clear (&message->dialect_data);
  g_free (message);
}

/**
 * signaling_message_kind_to_string:
 * @kind: a message kind
 *
 * Gets the native protocol `type` of a message kind, for example
 * `offer`.
 *
 * Returns: (transfer none): the native protocol `type` for @kind
 */
const char *
signaling_message_kind_to_string (SignalingMessageKind kind)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (SIGNALING_TYPE_MESSAGE_KIND);
  GEnumValue *value = g_enum_get_value (klass, kind);

  g_return_val_if_fail (value != NULL, NULL);
  return value->value_nick;
}

/* Field validation.  Each check names the field so that a client
 * developer sees at once what to fix. */

static gboolean
require_string (JsonNode    *node,
                const char  *field,
                GError     **error)
{
  if (signaling_json_node_is_string (node))
    return TRUE;

  g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
               _("Field “%s” must be a string"), field);
  return FALSE;
}

static gboolean
optional_string (JsonNode    *node,
                 const char  *field,
                 GError     **error)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node) || signaling_json_node_is_string (node))
    return TRUE;

  g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
               _("Field “%s” must be a string or null"), field);
  return FALSE;
}

static gboolean
validate_candidate (JsonNode    *node,
                    GError     **error)
{
  JsonObject *candidate;
  JsonNode *index;

  if (node == NULL)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” is required"), "candidate");
      return FALSE;
    }

  /* null marks the end of candidates, as in RTCPeerConnection. */
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be an object or null"), "candidate");
      return FALSE;
    }

  candidate = json_node_get_object (node);
  if (!require_string (json_object_get_member (candidate, "candidate"), "candidate", error) ||
      !optional_string (json_object_get_member (candidate, "sdpMid"), "sdpMid", error))
    return FALSE;

  index = json_object_get_member (candidate, "sdpMLineIndex");
  if (index != NULL && !JSON_NODE_HOLDS_NULL (index) &&
      (!JSON_NODE_HOLDS_VALUE (index) || json_node_get_value_type (index) != G_TYPE_INT64 ||
       json_node_get_int (index) < 0 || json_node_get_int (index) > G_MAXUINT16))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be a non-negative integer or null"),
                   "sdpMLineIndex");
      return FALSE;
    }

  return TRUE;
}

/*
 * signaling_message_validate_members:
 * @get_member: returns a member of @members by name (transfer full),
 *   or %NULL: a parsed object's, or one out of a message's text
 *
 * The fields of each kind besides its target, the same whichever
 * dialect the message came in through and however it is held.
 */
gboolean
signaling_message_validate_members (SignalingMessageKind   kind,
                                    SignalingMemberFunc    get_member,
                                    gconstpointer          members,
                                    GError               **error)
{
  const char *field;
  g_autoptr(JsonNode) node = NULL;

  switch (kind)
    {
    case SIGNALING_MESSAGE_KIND_OFFER:
    case SIGNALING_MESSAGE_KIND_ANSWER:
      field = "sdp";
      break;
    case SIGNALING_MESSAGE_KIND_CANDIDATE:
      field = "candidate";
      break;
    case SIGNALING_MESSAGE_KIND_HANGUP:
      field = "reason";
      break;
    case SIGNALING_MESSAGE_KIND_MESSAGE:
      field = "data";
      break;
    default:
      return TRUE;
    }

  /* Only a candidate is looked into; the rest are checked for type. */
  node = get_member (members, field, kind != SIGNALING_MESSAGE_KIND_CANDIDATE);
  switch (kind)
    {
    case SIGNALING_MESSAGE_KIND_CANDIDATE:
      return validate_candidate (node, error);
    case SIGNALING_MESSAGE_KIND_HANGUP:
      return optional_string (node, field, error);
    case SIGNALING_MESSAGE_KIND_MESSAGE:
      if (node == NULL)
        {
          g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                       _("Field “%s” is required"), field);
          return FALSE;
        }
      return TRUE;
    default:
      return require_string (node, field, error);
    }
}

static JsonNode *
object_member (gconstpointer object,
               const char   *name,
               gboolean      shape_only)
{
  return json_object_dup_member ((JsonObject *) object, name);
}

/*
 * signaling_message_validate_body:
 *
 * Checks a message another dialect translated into the native shape
 * against the native rules for its kind (a string `sdp`, a candidate
 * object or null, ...), so that native peers and the signal handlers
 * of applications only ever see what docs/protocol.md allows. The
 * target is the dialect's business: each has its own rules for it.
 */
gboolean
signaling_message_validate_body (SignalingMessage  *message,
                                 GError           **error)
{
  return signaling_message_validate_members (message->kind, object_member, payload (message), error);
}

static SignalingMessage *
new_with_string (SignalingMessageKind  kind,
                 const char           *to,
                 const char           *field,
                 const char           *value)
{
  g_autoptr(JsonObject) payload = json_object_new ();

  json_object_set_string_member (payload, "type",
                                 signaling_message_kind_to_string (kind));
  if (to != NULL)
    json_object_set_string_member (payload, "to", to);
  if (value != NULL)
    json_object_set_string_member (payload, field, value);

  return signaling_message_new (kind, to, payload);
}

static SignalingMessage *
new_with_node (SignalingMessageKind  kind,
               const char           *to,
               const char           *field,
               JsonNode             *value)
{
  g_autoptr(JsonObject) payload = json_object_new ();

  json_object_set_string_member (payload, "type",
                                 signaling_message_kind_to_string (kind));
  if (to != NULL)
    json_object_set_string_member (payload, "to", to);
  json_object_set_member (payload, field,
                          value != NULL ? json_node_copy (value) : json_node_new (JSON_NODE_NULL));

  return signaling_message_new (kind, to, payload);
}

/**
 * signaling_message_new_offer:
 * @to: (nullable): the client id or room to send to
 * @sdp: the SDP offer
 *
 * Creates an offer to send to @to, for an application that acts as a
 * peer.
 *
 * Returns: (transfer full): a new offer message
 */
SignalingMessage *
signaling_message_new_offer (const char *to,
                             const char *sdp)
{
  g_return_val_if_fail (sdp != NULL, NULL);
  return new_with_string (SIGNALING_MESSAGE_KIND_OFFER, to, "sdp", sdp);
}

/**
 * signaling_message_new_answer:
 * @to: (nullable): the client id or room to send to
 * @sdp: the SDP answer
 *
 * Creates an answer to send to @to, for an application that acts as a
 * peer.
 *
 * Returns: (transfer full): a new answer message
 */
SignalingMessage *
signaling_message_new_answer (const char *to,
                              const char *sdp)
{
  g_return_val_if_fail (sdp != NULL, NULL);
  return new_with_string (SIGNALING_MESSAGE_KIND_ANSWER, to, "sdp", sdp);
}

/**
 * signaling_message_new_candidate:
 * @to: (nullable): the client id or room to send to
 * @candidate: (nullable): an RTCIceCandidateInit object, or %NULL for the
 *   end of candidates
 *
 * Creates an ICE candidate message to send to @to.
 *
 * Returns: (transfer full): a new candidate message
 */
SignalingMessage *
signaling_message_new_candidate (const char *to,
                                 JsonNode   *candidate)
{
  return new_with_node (SIGNALING_MESSAGE_KIND_CANDIDATE, to, "candidate", candidate);
}

/**
 * signaling_message_new_hangup:
 * @to: (nullable): the client id or room to send to
 * @reason: (nullable): why the call ends
 *
 * Creates a hangup message to send to @to.
 *
 * Returns: (transfer full): a new hangup message
 */
SignalingMessage *
signaling_message_new_hangup (const char *to,
                              const char *reason)
{
  return new_with_string (SIGNALING_MESSAGE_KIND_HANGUP, to, "reason", reason);
}

/**
 * signaling_message_new_data:
 * @to: (nullable): the client id or room to send to
 * @data: (nullable): any JSON value
 *
 * Creates an application data message (native `message`) to send to
 * @to.
 *
 * Returns: (transfer full): a new application data message
 */
SignalingMessage *
signaling_message_new_data (const char *to,
                            JsonNode   *data)
{
  return new_with_node (SIGNALING_MESSAGE_KIND_MESSAGE, to, "data", data);
}

/**
 * signaling_message_get_kind:
 * @message: a message
 *
 * Gets what @message asks for.
 *
 * Returns: what @message asks for
 */
SignalingMessageKind
signaling_message_get_kind (SignalingMessage *message)
{
  return message->kind;
}

/**
 * signaling_message_get_from:
 * @message: a message
 *
 * Gets the id of the sender, stamped by the server.
 *
 * Returns: (nullable): the id of the sender, stamped by the server
 */
const char *
signaling_message_get_from (SignalingMessage *message)
{
  return message->from;
}

void
signaling_message_set_from (SignalingMessage *message,
                            const char       *from)
{
  if (g_strcmp0 (message->from, from) == 0)
    return;

  g_free (message->from);
  message->from = g_strdup (from);
  if (message->payload == NULL)
    return;  /* stamped when it is built */
  if (from != NULL)
    json_object_set_string_member (message->payload, "from", from);
  else
    json_object_remove_member (message->payload, "from");
}

/**
 * signaling_message_get_to:
 * @message: a message
 *
 * Gets the target client id or room (for join and leave, the room).
 *
 * Returns: (nullable): the target client id or room (for join and leave,
 *   the room)
 */
const char *
signaling_message_get_to (SignalingMessage *message)
{
  return message->to;
}

/**
 * signaling_message_get_dialect:
 * @message: a message
 *
 * Gets the dialect the message came in through.
 *
 * Returns: the dialect the message came in through, `native` or `socket.io`
 */
const char *
signaling_message_get_dialect (SignalingMessage *message)
{
  return message->dialect;
}

void
signaling_message_set_dialect (SignalingMessage *message,
                               const char       *dialect)
{
  /* Interned: a handful of names, set on every message. */
  message->dialect = g_intern_string (dialect);
}

/* An application's handler has had @message, and may have changed its
 * payload: what was kept of its frame no longer says the same. */
void
signaling_message_mark_seen (SignalingMessage *message)
{
  message->seen = TRUE;
}

gboolean
signaling_message_is_seen (SignalingMessage *message)
{
  return message->seen;
}

gboolean
signaling_message_get_include_sender (SignalingMessage *message)
{
  return message->include_sender;
}

/*
 * Socket.IO's io.to(room) delivers to the sender too when it is in
 * the room; the seed 003 vocabulary relies on that.
 */
void
signaling_message_set_include_sender (SignalingMessage *message,
                                      gboolean          include_sender)
{
  message->include_sender = include_sender;
}

/**
 * signaling_message_get_payload:
 * @message: a message
 *
 * Gets the message as a native protocol object.
 *
 * Returns: (transfer none): the message as a native protocol object
 */
JsonObject *
signaling_message_get_payload (SignalingMessage *message)
{
  message->payload_given = TRUE;
  return payload (message);
}

/* The payload, for a reader that does not change it. */
JsonObject *
signaling_message_peek_payload (SignalingMessage *message)
{
  return payload (message);
}

/*
 * signaling_message_get_text:
 *
 * Returns: (nullable): the payload as the sender wrote it (without
 *   `from`), while nobody who might have changed the payload has had it
 */
const char *
signaling_message_get_text (SignalingMessage *message,
                            gsize            *length)
{
  if (message->seen || message->payload_given)
    return NULL;
  if (message->text == NULL && message->members != NULL)
    write_members (message);
  if (message->text == NULL)
    return NULL;

  *length = message->text_length;
  return message->text;
}

/**
 * signaling_message_get_rid:
 * @message: a message
 *
 * Gets the client's request id.
 *
 * Returns: (transfer none) (nullable): the client's request id
 */
JsonNode *
signaling_message_get_rid (SignalingMessage *message)
{
  return message->rid;
}

/* What a parsed message is for (a join's room), without touching the
 * payload: a dialect's frame names its target in its own field. */
void
signaling_message_set_target (SignalingMessage *message,
                              const char       *to)
{
  g_free (message->to);
  message->to = g_strdup (to);
}

/* The native dialect's request id: echoed to the sender only. */
void
signaling_message_set_rid (SignalingMessage *message,
                           JsonNode         *rid)
{
  g_clear_pointer (&message->rid, json_node_unref);
  message->rid = rid != NULL ? json_node_ref (rid) : NULL;
}

/**
 * signaling_message_get_sdp:
 * @message: a message
 *
 * Gets the SDP of an offer or answer.
 *
 * Returns: (nullable): the SDP of an offer or answer
 */
const char *
signaling_message_get_sdp (SignalingMessage *message)
{
  /* Never trust the payload's types here: a critical in an app's
   * handler is worse than a missing SDP. */
  JsonObject *object = payload (message);

  return signaling_json_object_has_string (object, "sdp")
         ? json_object_get_string_member (object, "sdp") : NULL;
}

/**
 * signaling_message_get_candidate:
 * @message: a message
 *
 * Gets the candidate object, a null node for the end of candidates, or
 * %NULL when absent.
 *
 * Returns: (transfer none) (nullable): the candidate object, a null node
 *   for the end of candidates, or %NULL when absent
 */
JsonNode *
signaling_message_get_candidate (SignalingMessage *message)
{
  return json_object_get_member (payload (message), "candidate");
}

/**
 * signaling_message_get_reason:
 * @message: a message
 *
 * Gets the reason of a hangup.
 *
 * Returns: (nullable): the reason of a hangup
 */
const char *
signaling_message_get_reason (SignalingMessage *message)
{
  JsonObject *object = payload (message);

  return signaling_json_object_has_string (object, "reason")
         ? json_object_get_string_member (object, "reason") : NULL;
}

/**
 * signaling_message_get_data:
 * @message: a message
 *
 * Gets the application data.
 *
 * Returns: (transfer none) (nullable): the application data
 */
JsonNode *
signaling_message_get_data (SignalingMessage *message)
{
  return json_object_get_member (payload (message), "data");
}

/*
 * signaling_message_get_dialect_data:
 * @dialect: the quark of the dialect's name
 *
 * Returns: (transfer none) (nullable): what @dialect attached
 */
gpointer
signaling_message_get_dialect_data (SignalingMessage *message,
                                    GQuark            dialect)
{
  return g_datalist_id_get_data (&message->dialect_data, dialect);
}

/*
 * signaling_message_set_dialect_data:
 * @dialect: the quark of the dialect's name
 * @data: (transfer full) (nullable): what the dialect needs to remember
 *   about the message, freed with @destroy along with the message
 *
 * A dialect keeps what only it needs here (the Socket.IO vocabulary and
 * original argument, the native serialization), so that the message
 * itself stays what every dialect shares.
 */
void
signaling_message_set_dialect_data (SignalingMessage *message,
                                    GQuark            dialect,
                                    gpointer          data,
                                    GDestroyNotify    destroy)
{
  g_datalist_id_set_data_full (&message->dialect_data, dialect, data, destroy);
}
