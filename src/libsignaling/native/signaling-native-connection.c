/* signaling-native-connection.c: the native protocol v1 dialect
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-native"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-client-private.h"
#include "signaling-enums.h"
#include "signaling-connection-private.h"
#include "signaling-error.h"
#include "signaling-identity-private.h"
#include "signaling-json-private.h"
#include "signaling-message-private.h"
#include "signaling-native-connection-private.h"
#include "signaling-resume-table-private.h"
#include "signaling-room.h"
#include "signaling-router-private.h"
#include "signaling-timer-queue-private.h"
#include "signaling-util-private.h"
#include "signaling-utf8-private.h"
#include "signaling-version.h"
#include "signaling-websocket-private.h"

/* WebSocket close codes (RFC 6455 §7.4.1), and ours. */
#define CLOSE_ABNORMAL    1006
#define CLOSE_TOO_BIG     1009
#define CLOSE_TRY_AGAIN   1013
#define CLOSE_RESUMED     4001  /* the session went on over a newer connection */

/*
 * SignalingNativeConnection:
 *
 * One peer speaking native protocol v1 over a WebSocket at /ws: JSON
 * text frames, one object each. Parses frames into SignalingMessages
 * for the router and encodes what the router delivers.
 */
struct _SignalingNativeConnection
{
  GObject parent_instance;

  SignalingWebsocket *websocket;
  SignalingRouter *router;  /* unowned: the server closes us before it drops the router */
  SignalingClient *client;  /* unowned: the client owns us */

  /* A peer silent for an interval is pinged; one that neither sends
   * nor answers for two intervals is gone, even if TCP has not noticed
   * yet. */
  SignalingTimer idle_deadline;
  SignalingTimerQueue *idle_deadlines;
  SignalingTimer window;  /* in @resumes, while detached */
  gboolean pinged;

  /* Resume (/ws?resume=TOKEN): a session whose WebSocket broke stays
   * in the router, "detached", for the resume window, and what is sent
   * to it meanwhile waits here; idle_deadline then marks the window's
   * end. */
  SignalingResumeTable *resumes;
  char *token;
  gboolean detached;
  const char *ending;  /* why a detached session ends early, or NULL */
  GQueue buffered;  /* GBytes *, oldest first */
  gsize buffered_size;
};

static void signaling_native_connection_iface_init (SignalingConnectionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignalingNativeConnection, signaling_native_connection, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SIGNALING_TYPE_CONNECTION,
                                                      signaling_native_connection_iface_init))

static void
set_detached (SignalingNativeConnection *self,
              gboolean                   detached)
{
  signaling_resume_table_set_detached (self->resumes, &self->detached, detached, self->token, self->client);
}

static void
forget_token (SignalingNativeConnection *self)
{
  signaling_resume_table_forget (self->resumes, &self->token);
}

static void
clear_buffered (SignalingNativeConnection *self)
{
  g_queue_clear_full (&self->buffered, (GDestroyNotify) g_bytes_unref);
  self->buffered_size = 0;
}

static void
signaling_native_connection_dispose (GObject *object)
{
  SignalingNativeConnection *self = SIGNALING_NATIVE_CONNECTION (object);

  if (self->idle_deadlines != NULL)
    {
      signaling_timer_queue_remove (self->idle_deadlines, &self->idle_deadline);
      g_clear_pointer (&self->idle_deadlines, signaling_timer_queue_unref);
    }
  if (self->websocket != NULL)
    signaling_websocket_set_handlers (self->websocket, NULL, NULL);
  g_clear_object (&self->websocket);
  if (self->resumes != NULL)
    {
      signaling_resume_table_stop_window (self->resumes, &self->window);
      set_detached (self, FALSE);
      forget_token (self);
    }
  g_clear_object (&self->resumes);
  clear_buffered (self);

  G_OBJECT_CLASS (signaling_native_connection_parent_class)->dispose (object);
}

static void
signaling_native_connection_class_init (SignalingNativeConnectionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = signaling_native_connection_dispose;
}

static void
signaling_native_connection_init (SignalingNativeConnection *self)
{
}

/* The native codec: frames to messages and back.
 *
 * The public signaling_message_parse() and signaling_message_to_json()
 * live here too: the library's wire format is this dialect's. What a
 * message of each kind must hold, whatever its dialect, is checked by
 * signaling_message_validate_body(); the target and the frame's own
 * fields (`type`, `rid`, no `from`) are this dialect's rules. */

static gboolean
kind_from_string (const char           *type,
                  SignalingMessageKind *out_kind)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (SIGNALING_TYPE_MESSAGE_KIND);
  GEnumValue *value = g_enum_get_value_by_nick (klass, type);

  if (value == NULL)
    return FALSE;

  *out_kind = value->value;
  return TRUE;
}

/* Names (ids, rooms) and types are compared, logged and published on
 * D-Bus: a \u0000 or a lone surrogate in them could make two names
 * look alike. */
static gboolean
require_unicode (const char  *value,
                 const char  *field,
                 GError     **error)
{
  if (signaling_json_is_unicode (value))
    return TRUE;

  g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
               _("Field “%s” must not contain \\u0000 or a lone surrogate"), field);
  return FALSE;
}

static gboolean
require_name (JsonNode    *node,
              const char  *field,
              GError     **error)
{
  const char *value;

  if (!signaling_json_node_is_string (node))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be a string"), field);
      return FALSE;
    }

  value = json_node_get_string (node);
  if (*value == '\0' || strlen (value) > SIGNALING_MAX_NAME_LENGTH)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be 1 to %d bytes long"),
                   field, SIGNALING_MAX_NAME_LENGTH);
      return FALSE;
    }

  return require_unicode (value, field, error);
}

/* The field naming the target of each kind, if it has one. */
static const char *
target_field (SignalingMessageKind kind)
{
  switch (kind)
    {
    case SIGNALING_MESSAGE_KIND_JOIN:
    case SIGNALING_MESSAGE_KIND_LEAVE:
      return "room";
    case SIGNALING_MESSAGE_KIND_PING:
      return NULL;
    default:
      return "to";
    }
}

/* The members of a message: as scanned in its text, or parsed (the
 * few a scan leaves to a parse: see signaling_json_scan_object()). */
typedef struct
{
  const char *data;
  GArray *spans;
  JsonObject *object;
} Members;

static void
members_clear (Members *members)
{
  g_clear_pointer (&members->object, json_object_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Members, members_clear)

/* A string, object or array as its shape: a scan has checked it. */
static JsonNode *
shape_of (const char *value)
{
  switch (*value)
    {
    case '"':
      return json_node_init_string (json_node_alloc (), "");
    case '{':
      return json_node_init_object (json_node_alloc (), NULL);
    case '[':
      return json_node_init_array (json_node_alloc (), NULL);
    default:
      return NULL;
    }
}

/* A scanned value as a node. A string without escapes is its bytes as
 * written (the text is valid UTF-8 and was scanned), so it needs no
 * parser: the type and target of every message are such strings. */
static JsonNode *
value_of (const char *value,
          gsize       length)
{
  if (length >= 2 && value[0] == '"' && memchr (value, '\\', length) == NULL)
    {
      g_autofree char *string = g_strndup (value + 1, length - 2);

      return json_node_init_string (json_node_alloc (), string);
    }
  return signaling_json_parse_utf8 (value, length, NULL);
}

/* The last of the members named @name, as JSON.parse() keeps it. */
static JsonNode *
get_member (gconstpointer  members,
            const char    *name,
            gboolean       shape_only)
{
  const Members *self = members;
  gsize name_length = strlen (name);

  if (self->object != NULL)
    return json_object_dup_member (self->object, name);

  for (guint i = self->spans->len; i-- > 0;)
    {
      const SignalingJsonSpan *span = &g_array_index (self->spans, SignalingJsonSpan, i);
      JsonNode *shape;

      if (span->name_length != name_length ||
          memcmp (self->data + span->start + 1, name, name_length) != 0)
        continue;
      if (shape_only && (shape = shape_of (self->data + span->value_start)) != NULL)
        return shape;
      return value_of (self->data + span->value_start, span->end - span->value_start);
    }
  return NULL;
}

static gboolean
read_members (Members     *members,
              const char  *data,
              gsize        length,
              GError     **error)
{
  g_autoptr(GError) json_error = NULL;
  g_autoptr(JsonNode) root = NULL;

  members->data = data;
  if (!signaling_utf8_validate (data, length))
    {
      g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_JSON,
                           _("Invalid JSON: Not UTF-8"));
      return FALSE;
    }

  switch (signaling_json_scan_object (data, length, "rid", members->spans, &json_error))
    {
    case SIGNALING_JSON_SCAN_OBJECT:
      return TRUE;
    case SIGNALING_JSON_SCAN_NEEDS_PARSE:
      root = signaling_json_parse_utf8 (data, length, &json_error);
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        {
          members->object = json_object_ref (json_node_get_object (root));
          return TRUE;
        }
      break;
    case SIGNALING_JSON_SCAN_INVALID:
      break;
    }

  if (json_error != NULL)
    g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_JSON,
                 _("Invalid JSON: %s"), json_error->message);
  else
    g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_JSON,
                         _("A message must be a JSON object"));
  return FALSE;
}

static JsonNode *
read_rid (Members  *members,
          GError  **error)
{
  g_autoptr(JsonNode) rid = get_member (members, "rid", FALSE);

  if (rid == NULL)
    return NULL;

  if (!JSON_NODE_HOLDS_VALUE (rid) ||
      (json_node_get_value_type (rid) != G_TYPE_STRING &&
       json_node_get_value_type (rid) != G_TYPE_INT64 &&
       json_node_get_value_type (rid) != G_TYPE_DOUBLE))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be a string or a number"), "rid");
      return NULL;
    }

  return g_steal_pointer (&rid);
}

static char *text_as_sent (const char *data,
                           GArray     *spans,
                           gsize      *length);

/* The message @members say, @kind and @target read from them already. */
static SignalingMessage *
message_from_members (Members              *members,
                      SignalingMessageKind  kind,
                      const char           *target)
{
  SignalingMessage *message;
  gsize length;
  char *text;

  if (members->object == NULL)
    {
      text = text_as_sent (members->data, members->spans, &length);
      return signaling_message_new_from_text (kind, target, text, length);
    }

  /* The rid belongs to the sender's request/reply bookkeeping; it is
   * echoed to the sender and not relayed to anybody else. */
  json_object_remove_member (members->object, "rid");
  message = signaling_message_new (kind, NULL, members->object);
  signaling_message_set_target (message, target);
  return message;
}

/*
 * signaling_native_parse:
 * @out_rid: (out) (optional): the request id, even when parsing fails
 *
 * Like signaling_message_parse(), and hands back the `rid` so that
 * the error reply can carry it too.
 */
SignalingMessage *
signaling_native_parse (const char  *data,
                        gssize       length,
                        JsonNode   **out_rid,
                        GError     **error)
{
  g_autoptr(GArray) spans = g_array_sized_new (FALSE, FALSE, sizeof (SignalingJsonSpan), 8);
  g_auto(Members) members = { NULL, spans, NULL };
  g_autoptr(JsonNode) rid = NULL;
  g_autoptr(JsonNode) type = NULL;
  g_autoptr(JsonNode) from = NULL;
  g_autoptr(JsonNode) target = NULL;
  g_autoptr(GError) rid_error = NULL;
  g_autoptr(SignalingMessage) message = NULL;
  SignalingMessageKind kind;
  const char *field;

  g_return_val_if_fail (data != NULL, NULL);

  if (length < 0)
    length = strlen (data);
  if (!read_members (&members, data, length, error))
    return NULL;

  rid = read_rid (&members, &rid_error);
  if (out_rid != NULL && rid != NULL)
    *out_rid = json_node_ref (rid);
  if (rid_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&rid_error));
      return NULL;
    }

  type = get_member (&members, "type", FALSE);
  if (!signaling_json_node_is_string (type))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be a string"), "type");
      return NULL;
    }

  if (!require_unicode (json_node_get_string (type), "type", error))
    return NULL;
  if (!kind_from_string (json_node_get_string (type), &kind))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TYPE,
                   _("Unknown message type “%s”"), json_node_get_string (type));
      return NULL;
    }

  /* The server stamps the sender; a client that names one is either
   * buggy or trying to impersonate another peer. */
  from = get_member (&members, "from", TRUE);
  if (from != NULL)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” is set by the server and must not be sent"),
                   "from");
      return NULL;
    }

  field = target_field (kind);
  if (field != NULL)
    {
      target = get_member (&members, field, FALSE);
      if (!require_name (target, field, error))
        return NULL;
    }

  if (!signaling_message_validate_members (kind, get_member, &members, error))
    return NULL;

  message = message_from_members (&members, kind, target != NULL ? json_node_get_string (target) : NULL);
  signaling_message_set_rid (message, rid);
  return g_steal_pointer (&message);
}

/**
 * signaling_message_parse:
 * @data: a native protocol v1 frame
 * @length: length of @data, or -1 if it is nul-terminated
 * @error: return location for a [error@Signaling.Error]
 *
 * Parses and validates one native protocol message.
 *
 * Returns: (transfer full): the message, or %NULL with @error set
 */
SignalingMessage *
signaling_message_parse (const char  *data,
                         gssize       length,
                         GError     **error)
{
  return signaling_native_parse (data, length, NULL, error);
}

/* The native text of a message is the same for every native recipient
 * of a room, so it is built once, on first use, and kept on the message
 * as this dialect's attachment; `from` is the only field the router
 * changes after parsing, so a text for another sender is rebuilt.
 *
 * A message that came in over the native protocol is relayed as it
 * came: its members as the sender wrote them (`rid` left out), then
 * `from`. Serializing the parsed payload again cost a quarter of a
 * relayed message's CPU (callgrind, native pairs). A message whose
 * payload an application has had (and may have changed) is serialized
 * from its payload. */
typedef struct
{
  char *from;
  char *json;
  gsize length;
  gboolean as_sent;
} NativeText;

static GQuark
native_text_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("native");
  return quark;
}

static void
native_text_free (gpointer data)
{
  NativeText *text = data;

  g_free (text->from);
  g_free (text->json);
  g_free (text);
}

/* "{", the members not marked (all but `rid`), "}". */
static char *
text_as_sent (const char *data,
              GArray     *spans,
              gsize      *length)
{
  gsize capacity = spans->len > 0 ? g_array_index (spans, SignalingJsonSpan, spans->len - 1).end + 2 : 3;
  GString *out = g_string_sized_new (capacity);

  g_string_append_c (out, '{');
  for (guint i = 0; i < spans->len; i++)
    {
      SignalingJsonSpan *span = &g_array_index (spans, SignalingJsonSpan, i);

      if (span->marked)
        continue;
      if (out->len > 1)
        g_string_append_c (out, ',');
      g_string_append_len (out, data + span->start, span->end - span->start);
    }
  g_string_append_c (out, '}');

  *length = out->len;
  return g_string_free (out, FALSE);
}

/* The text as sent, with @from stamped last. */
static char *
text_with_from (const char *sent,
                gsize       sent_length,
                const char *from,
                gsize      *length)
{
  GString *out = g_string_sized_new (sent_length + 64);

  g_string_append_len (out, sent, sent_length - 1);
  if (from != NULL)
    {
      if (sent_length > 2)
        g_string_append_c (out, ',');
      g_string_append (out, "\"from\":");
      signaling_json_append_string (out, from);
    }
  g_string_append_c (out, '}');

  *length = out->len;
  return g_string_free (out, FALSE);
}

/*
 * signaling_native_serialize:
 * @length: (out) (optional): the text's length
 *
 * Returns: (transfer none): @message as a native protocol v1 frame,
 *   valid as long as @message and its sender are unchanged
 */
const char *
signaling_native_serialize (SignalingMessage *message,
                            gsize            *length)
{
  NativeText *text = signaling_message_get_dialect_data (message, native_text_quark ());
  const char *from = signaling_message_get_from (message);
  gsize sent_length = 0;
  const char *sent = signaling_message_get_text (message, &sent_length);

  if (text == NULL)
    {
      text = g_new0 (NativeText, 1);
      signaling_message_set_dialect_data (message, native_text_quark (), text, native_text_free);
    }

  if (text->json == NULL || g_strcmp0 (text->from, from) != 0 || (text->as_sent && sent == NULL))
    {
      g_free (text->json);
      if (sent != NULL)
        text->json = text_with_from (sent, sent_length, from, &text->length);
      else
        {
          g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (),
                                                            signaling_message_peek_payload (message));

          text->json = signaling_json_to_string (root);
          text->length = strlen (text->json);
        }
      text->as_sent = sent != NULL;
      g_free (text->from);
      text->from = g_strdup (from);
    }

  if (length != NULL)
    *length = text->length;
  return text->json;
}

/**
 * signaling_message_to_json:
 * @message: a message
 *
 * Serializes @message as a native protocol v1 frame, with `from`.
 *
 * Returns: (transfer full): compact JSON text
 */
char *
signaling_message_to_json (SignalingMessage *message)
{
  return g_strdup (signaling_native_serialize (message, NULL));
}

static void end_detached_soon (SignalingNativeConnection *self,
                               const char                *why);


/* While detached, a frame waits for the resume, if it fits. */
static gsize
buffer_text (SignalingNativeConnection *self,
             const char                *text,
             gsize                      length)
{
  gsize limit = signaling_resume_table_get_buffer_size (self->resumes);

  if (self->client == NULL)
    return 0;

  if (self->buffered_size + length > limit)
    {
      /* Past the buffer the session cannot be whole again: it ends
       * now, as if the window had, rather than resume with a gap. */
      signaling_client_log (self->client, G_LOG_LEVEL_DEBUG, NULL,
                            "Client %s: resume buffer of %" G_GSIZE_FORMAT " bytes full",
                            signaling_client_get_id (self->client), limit);
      clear_buffered (self);
      end_detached_soon (self, "resume buffer full");
      return 0;
    }

  g_queue_push_tail (&self->buffered, g_bytes_new (text, length));
  self->buffered_size += length;
  return length;
}

/* Every frame goes out through here, so that a peer that stops
 * reading is cut off rather than buffered for without end. */
static gsize
send_text (SignalingNativeConnection *self,
           const char                *text,
           gsize                      length)
{
  if (self->detached)
    return buffer_text (self, text, length);

  if (self->websocket == NULL)
    return 0;

  return signaling_websocket_send (self->websocket, TRUE, text, length) ? length : 0;
}

static gsize
send_object (SignalingNativeConnection *self,
             JsonBuilder               *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = signaling_json_to_string (root);

  return send_text (self, text, strlen (text));
}

static JsonBuilder *
begin_reply (const char *type)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  return builder;
}

static void
end_reply (JsonBuilder *builder,
           JsonNode    *rid)
{
  if (rid != NULL)
    {
      json_builder_set_member_name (builder, "rid");
      json_builder_add_value (builder, json_node_copy (rid));
    }
  json_builder_end_object (builder);
}

static char *
error_to_json (const GError *error,
               JsonNode     *rid)
{
  g_autoptr(JsonBuilder) builder = begin_reply ("error");
  g_autoptr(JsonNode) root = NULL;
  SignalingError code = error->domain == SIGNALING_ERROR ? error->code : SIGNALING_ERROR_FAILED;

  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, signaling_error_to_code (code));
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, error->message);
  end_reply (builder, rid);

  root = json_builder_get_root (builder);
  return signaling_json_to_string (root);
}

static void
send_error (SignalingNativeConnection *self,
            const GError              *error,
            JsonNode                  *rid)
{
  g_autofree char *text = error_to_json (error, rid);

  signaling_router_count_error (self->router, error);
  if (self->client != NULL)
    signaling_client_log (self->client, G_LOG_LEVEL_DEBUG, NULL, "Client %s: %s",
                          signaling_client_get_id (self->client), error->message);
  send_text (self, text, strlen (text));
}

/* Each welcome carries a new token: the one used to resume is spent. */
static void
send_welcome (SignalingNativeConnection *self,
              gboolean                   resumed)
{
  g_autoptr(JsonBuilder) builder = begin_reply ("welcome");
  const char *id = signaling_client_get_id (self->client);

  forget_token (self);
  self->token = signaling_resume_table_add (self->resumes, self);

  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "resume");
  json_builder_add_string_value (builder, self->token);
  if (resumed)
    {
      json_builder_set_member_name (builder, "resumed");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_set_member_name (builder, "protocol");
  json_builder_add_int_value (builder, SIGNALING_NATIVE_PROTOCOL_VERSION);
  json_builder_set_member_name (builder, "server");
  json_builder_add_string_value (builder, "signalbox/" SIGNALING_VERSION);
  json_builder_set_member_name (builder, "iceServers");
  json_builder_add_value (builder, signaling_router_build_ice_servers (self->router, id));
  end_reply (builder, NULL);

  send_object (self, builder);
}

static void
send_joined (SignalingNativeConnection *self,
             SignalingRoom             *room,
             JsonNode                  *rid)
{
  g_autoptr(JsonBuilder) builder = begin_reply ("joined");
  const char *name = signaling_room_get_name (room);
  /* The other members, on this node and the others in a cluster: the
   * ones the newcomer may want to call. */
  g_autoptr(GPtrArray) members = signaling_router_dup_room_members (self->router, name, self->client);

  json_builder_set_member_name (builder, "room");
  json_builder_add_string_value (builder, name);

  json_builder_set_member_name (builder, "members");
  json_builder_begin_array (builder);
  for (guint i = 0; i < members->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (members, i));
  json_builder_end_array (builder);
  end_reply (builder, rid);

  send_object (self, builder);
}

static void
send_simple_reply (SignalingNativeConnection *self,
                   const char                *type,
                   const char                *room,
                   JsonNode                  *rid)
{
  g_autoptr(JsonBuilder) builder = begin_reply (type);

  if (room != NULL)
    {
      json_builder_set_member_name (builder, "room");
      json_builder_add_string_value (builder, room);
    }
  end_reply (builder, rid);

  send_object (self, builder);
}

static gboolean
dispatch (SignalingNativeConnection  *self,
          SignalingMessage           *message,
          GError                    **error)
{
  SignalingRouter *router = self->router;
  const char *to = signaling_message_get_to (message);
  JsonNode *rid = signaling_message_get_rid (message);
  SignalingRoom *room;

  switch (signaling_message_get_kind (message))
    {
    case SIGNALING_MESSAGE_KIND_PING:
      send_simple_reply (self, "pong", NULL, rid);
      return TRUE;

    case SIGNALING_MESSAGE_KIND_JOIN:
      room = signaling_router_join (router, self->client, to, error);
      if (room == NULL)
        return FALSE;
      send_joined (self, room, rid);
      return TRUE;

    case SIGNALING_MESSAGE_KIND_LEAVE:
      if (!signaling_router_leave (router, self->client, to, error))
        return FALSE;
      send_simple_reply (self, "left", to, rid);
      return TRUE;

    case SIGNALING_MESSAGE_KIND_OFFER:
    case SIGNALING_MESSAGE_KIND_ANSWER:
    case SIGNALING_MESSAGE_KIND_CANDIDATE:
    case SIGNALING_MESSAGE_KIND_HANGUP:
    case SIGNALING_MESSAGE_KIND_MESSAGE:
    default:
      return signaling_router_route (router, self->client, message, error);
    }
}

static void
arm_idle_deadline (SignalingNativeConnection *self);

static void
on_idle_too_long (gpointer data)
{
  SignalingNativeConnection *self = data;

  if (!self->pinged)
    {
      self->pinged = TRUE;
      signaling_websocket_ping (self->websocket);
      arm_idle_deadline (self);
      return;
    }

  if (self->client != NULL)
    signaling_client_log (self->client, G_LOG_LEVEL_DEBUG, NULL, "Closing client %s: it has not answered pings",
                          signaling_client_get_id (self->client));
  forget_token (self);
  signaling_websocket_close (self->websocket, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "ping timeout");
}

static void
arm_idle_deadline (SignalingNativeConnection *self)
{
  guint interval = signaling_router_get_limits (self->router)->keepalive_interval;

  signaling_timer_queue_remove (self->idle_deadlines, &self->idle_deadline);
  if (interval > 0)
    signaling_timer_queue_add (self->idle_deadlines, &self->idle_deadline,
                               g_get_monotonic_time () + (gint64) interval * G_USEC_PER_SEC,
                               on_idle_too_long, self);
}

/* Called for everything the peer sends, pongs included. */
static void
note_peer_alive (SignalingNativeConnection *self)
{
  self->pinged = FALSE;
  arm_idle_deadline (self);
}

static void
on_pong (SignalingWebsocket *websocket,
         gpointer            user_data)
{
  note_peer_alive (user_data);
}

static void
refuse_too_large (SignalingNativeConnection *self,
                  guint64                    size)
{
  const SignalingLimits *limits = signaling_router_get_limits (self->router);
  g_autoptr(GError) error = NULL;

  g_set_error (&error, SIGNALING_ERROR, SIGNALING_ERROR_TOO_LARGE,
               /* %lu, not G_GSIZE_FORMAT: xgettext cannot expand macros */
               _("Message of %lu bytes exceeds the limit of %u bytes"),
               (unsigned long) size, limits->max_message_size);
  send_error (self, error, NULL);
  forget_token (self);
  signaling_websocket_close (self->websocket, CLOSE_TOO_BIG, error->message);
}

/* The WebSocket stopped reading at a frame that makes its message too
 * large, however it came: one frame or many fragments. */
static void
on_message_too_large (SignalingWebsocket *websocket,
                      guint64             size,
                      gpointer            user_data)
{
  SignalingNativeConnection *self = user_data;
  g_autoptr(SignalingNativeConnection) kept = g_object_ref (self);

  if (self->client != NULL)
    refuse_too_large (self, size);
}

static void
on_message (SignalingWebsocket *websocket,
            gboolean            is_text,
            const char         *data,
            gsize               size,
            gpointer            user_data)
{
  SignalingNativeConnection *self = user_data;
  SignalingRouter *router = self->router;
  g_autoptr(SignalingNativeConnection) kept = g_object_ref (self);
  g_autoptr(SignalingMessage) message = NULL;
  g_autoptr(JsonNode) rid = NULL;
  g_autoptr(GError) error = NULL;

  if (self->client == NULL)
    return;

  note_peer_alive (self);

  switch (signaling_router_admit (router, self->client, size, &error))
    {
    case SIGNALING_ADMISSION_ACCEPT:
      break;
    case SIGNALING_ADMISSION_REFUSE:
      send_error (self, error, NULL);
      return;
    case SIGNALING_ADMISSION_DROP:
    default:
      return;
    }

  if (!is_text)
    {
      g_set_error_literal (&error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                           _("Binary frames are not supported: send JSON text"));
      send_error (self, error, NULL);
      return;
    }

  message = signaling_native_parse (data, size, &rid, &error);
  if (message == NULL || !dispatch (self, message, &error))
    send_error (self, error, rid);
}

/* The session is over: it leaves the router (peer-left to the others)
 * and cannot be resumed any more. */
static void
end_session (SignalingNativeConnection *self,
             const char                *reason)
{
  g_autoptr(SignalingNativeConnection) kept = g_object_ref (self);

  signaling_timer_queue_remove (self->idle_deadlines, &self->idle_deadline);
  signaling_resume_table_stop_window (self->resumes, &self->window);
  set_detached (self, FALSE);
  forget_token (self);
  clear_buffered (self);
  signaling_router_detach (self->router, &self->client, reason);
}

static void
on_window_over (gpointer data)
{
  SignalingNativeConnection *self = data;

  end_session (self, self->ending != NULL ? self->ending : "not resumed in time");
}

static void
end_detached_soon (SignalingNativeConnection *self,
                   const char                *why)
{
  self->ending = why;
  signaling_resume_table_end_window_soon (self->resumes, &self->window, on_window_over, self);
}

/* A WebSocket that broke without a close frame is a dropped network,
 * not a peer that left: its session waits for a resume. Any close frame
 * (1000, 1001, any code) and any close of ours (a kick, a ping timeout,
 * a limit) end the session at once. A peer whose old connection only
 * hangs (no FIN reached us) resumes by taking it over: see resume(). */
static gboolean
may_wait_for_resume (SignalingNativeConnection *self,
                     gushort                    code)
{
  return self->client != NULL && self->token != NULL &&
         signaling_resume_table_get_window (self->resumes) > 0 &&
         code == CLOSE_ABNORMAL;
}

static void
detach_websocket (SignalingNativeConnection *self)
{
  signaling_timer_queue_remove (self->idle_deadlines, &self->idle_deadline);
  if (self->websocket != NULL)
    signaling_websocket_set_handlers (self->websocket, NULL, NULL);
  g_clear_object (&self->websocket);
}

static void
on_closed (SignalingWebsocket *websocket,
           gpointer            user_data)
{
  SignalingNativeConnection *self = user_data;
  g_autoptr(SignalingNativeConnection) kept = g_object_ref (self);
  g_autofree char *reason = NULL;
  const char *data = signaling_websocket_get_close_reason (websocket);
  gushort code = signaling_websocket_get_close_code (websocket);
  guint window = signaling_resume_table_get_window (self->resumes);

  if (data != NULL && *data != '\0')
    reason = g_strdup (data);
  else
    reason = g_strdup_printf ("closed (%u)", code);

  if (!may_wait_for_resume (self, code))
    {
      end_session (self, reason);
      return;
    }

  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL,
                        "Client %s dropped (%s): kept %u s for a resume",
                        signaling_client_get_id (self->client), reason, window);
  detach_websocket (self);
  set_detached (self, TRUE);
  self->ending = NULL;
  signaling_resume_table_start_window (self->resumes, &self->window, on_window_over, self);
}

static const SignalingWebsocketHandlers websocket_handlers = {
  .message = on_message,
  .closed = on_closed,
  .pong = on_pong,
  .too_large = on_message_too_large,
};

static gsize
encode_membership (SignalingNativeConnection *self,
                   const char                *type,
                   SignalingMessage          *message)
{
  g_autoptr(JsonBuilder) builder = begin_reply (type);

  json_builder_set_member_name (builder, "room");
  json_builder_add_string_value (builder, signaling_message_get_to (message));
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, signaling_message_get_from (message));
  end_reply (builder, NULL);

  return send_object (self, builder);
}

static gsize
signaling_native_connection_deliver (SignalingConnection *connection,
                                     SignalingMessage    *message)
{
  SignalingNativeConnection *self = SIGNALING_NATIVE_CONNECTION (connection);
  const char *text;
  gsize length;

  if (!self->detached && !signaling_websocket_is_open (self->websocket))
    return 0;

  switch (signaling_message_get_kind (message))
    {
    case SIGNALING_MESSAGE_KIND_JOIN:
      return encode_membership (self, "peer-joined", message);
    case SIGNALING_MESSAGE_KIND_LEAVE:
      return encode_membership (self, "peer-left", message);
    case SIGNALING_MESSAGE_KIND_PING:
      return 0;
    default:
      text = signaling_native_serialize (message, &length);
      return send_text (self, text, length);
    }
}

static void
signaling_native_connection_close (SignalingConnection *connection,
                                   gushort              code,
                                   const char          *reason)
{
  SignalingNativeConnection *self = SIGNALING_NATIVE_CONNECTION (connection);

  if (self->detached)
    end_detached_soon (self, reason);  /* kicked, or the server stops: no one waits */
  else if (self->websocket != NULL)
    {
      forget_token (self);
      signaling_websocket_close (self->websocket, code, reason);
    }
}

/* Another node resumes the session: it takes the frames that waited
 * here, and the peer leaves this node without a word. */
static JsonObject *
signaling_native_connection_hand_over (SignalingConnection *connection,
                                       const char          *token)
{
  SignalingNativeConnection *self = SIGNALING_NATIVE_CONNECTION (connection);
  g_autoptr(SignalingNativeConnection) kept = g_object_ref (self);
  JsonObject *state;
  JsonArray *frames;

  if (!self->detached || self->client == NULL || g_strcmp0 (self->token, token) != 0)
    return NULL;

  frames = json_array_new ();
  for (GList *l = self->buffered.head; l != NULL; l = l->next)
    {
      gsize length;
      const char *data = g_bytes_get_data (l->data, &length);
      g_autofree char *text = g_strndup (data, length);

      json_array_add_string_element (frames, text);
    }
  state = json_object_new ();
  json_object_set_array_member (state, "frames", frames);

  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL, "Client %s resumes on another node",
                        signaling_client_get_id (self->client));
  signaling_resume_table_stop_window (self->resumes, &self->window);
  set_detached (self, FALSE);
  forget_token (self);
  clear_buffered (self);
  signaling_router_hand_over (self->router, &self->client);
  return state;
}

static const char *
signaling_native_connection_get_protocol (SignalingConnection *connection)
{
  return "native";
}

static const char *
signaling_native_connection_get_transport (SignalingConnection *connection)
{
  return "websocket";
}

static void
signaling_native_connection_iface_init (SignalingConnectionInterface *iface)
{
  iface->deliver = signaling_native_connection_deliver;
  iface->close = signaling_native_connection_close;
  iface->get_protocol = signaling_native_connection_get_protocol;
  iface->get_transport = signaling_native_connection_get_transport;
  iface->hand_over = signaling_native_connection_hand_over;
}

static void
configure_websocket (SignalingNativeConnection *self,
                     const SignalingLimits     *limits)
{
  SignalingWebsocket *websocket = self->websocket;

  signaling_websocket_set_max_message_size (websocket, limits->max_message_size, NULL);
  signaling_websocket_set_max_send_queue (websocket, limits->max_send_queue);
  /* A text message that is not UTF-8 gets the `bad-json` error
   * docs/protocol.md promises, and the connection stays. */
  signaling_websocket_set_strict_utf8 (websocket, FALSE);
}

/* Serves @self over @websocket from now on: the handlers, the idle
 * deadline, the welcome, and whatever waited for a resume. */
static void
take_websocket (SignalingNativeConnection *self,
                SignalingWebsocket        *websocket,
                gboolean                   resumed)
{
  self->websocket = g_object_ref (websocket);
  set_detached (self, FALSE);
  configure_websocket (self, signaling_router_get_limits (self->router));
  note_peer_alive (self);
  signaling_websocket_set_handlers (websocket, &websocket_handlers, self);
  send_welcome (self, resumed);

  while (!g_queue_is_empty (&self->buffered))
    {
      g_autoptr(GBytes) frame = g_queue_pop_head (&self->buffered);
      gsize length;
      const char *text = g_bytes_get_data (frame, &length);

      send_text (self, text, length);
    }
  self->buffered_size = 0;
}

/* A new connection with the token of @self: the session goes on over
 * it, with its id and rooms. A WebSocket the session still has (the
 * server has not noticed the drop yet) is closed without a word to the
 * router: nobody left. */
static void
resume (SignalingNativeConnection *self,
        SignalingWebsocket        *websocket)
{
  g_autoptr(SignalingWebsocket) old = g_steal_pointer (&self->websocket);

  if (old != NULL)
    {
      signaling_websocket_set_handlers (old, NULL, NULL);
      signaling_websocket_close (old, CLOSE_RESUMED, "resumed on a new connection");
    }
  signaling_timer_queue_remove (self->idle_deadlines, &self->idle_deadline);
  signaling_resume_table_stop_window (self->resumes, &self->window);
  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL, "Client %s resumed",
                        signaling_client_get_id (self->client));
  take_websocket (self, websocket, TRUE);
}

/* Tells the peer its token resumes nothing; it gets a new session. */
static void
refuse_resume (SignalingWebsocket *websocket)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_set_error_literal (&error, SIGNALING_ERROR, SIGNALING_ERROR_RESUME_FAILED,
                       _("Cannot resume: the session has ended or the token is not valid; this is a new session"));
  text = error_to_json (error, NULL);
  signaling_websocket_send (websocket, TRUE, text, strlen (text));
}

/* The `resume` parameter of the request, or NULL. */
static char *
requested_token (SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) params = NULL;

  if (query == NULL)
    return NULL;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (params == NULL)
    return NULL;
  return g_strdup (g_hash_table_lookup (params, "resume"));
}

/* A session of its own for a new peer: a client in the router, and the
 * welcome. */
static void
start_session (SignalingRouter      *router,
               SignalingResumeTable *resumes,
               SignalingWebsocket   *websocket,
               const char           *remote_address,
               SignalingIdentity    *identity)
{
  g_autoptr(SignalingNativeConnection) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  id = identity != NULL ? g_strdup (signaling_identity_get_id (identity)) : signaling_generate_id ();
  self = g_object_new (SIGNALING_TYPE_NATIVE_CONNECTION, NULL);
  self->router = router;
  self->resumes = g_object_ref (resumes);

  self->client = signaling_router_attach (router, SIGNALING_CONNECTION (self), id, remote_address, &error);
  if (self->client == NULL)
    {
      g_autofree char *text = error_to_json (error, NULL);

      signaling_websocket_send (websocket, TRUE, text, strlen (text));
      signaling_websocket_close (websocket, CLOSE_TRY_AGAIN, error->message);
      return;
    }
  signaling_identity_attach (identity, self->client);

  self->idle_deadlines = signaling_timer_queue_ref (signaling_router_get_idle_deadlines (router));
  take_websocket (self, websocket, FALSE);
}

/* A resume whose session waits on another node of the cluster: the
 * new WebSocket waits (its frames before the welcome are dropped) for
 * the session's state, through signaling_resume_table_claim(). */
typedef struct
{
  SignalingRouter *router;
  SignalingResumeTable *resumes;
  SignalingWebsocket *websocket;
  char *remote_address;
  SignalingIdentity *identity;  /* nullable */
} Claim;

static void
claim_free (gpointer data)
{
  Claim *claim = data;

  g_clear_object (&claim->resumes);
  g_clear_object (&claim->websocket);
  g_free (claim->remote_address);
  g_clear_object (&claim->identity);
  g_free (claim);
}

/* A session handed over by another node goes on here: the same id and
 * rooms, nobody told, then what waited for it there. */
static SignalingClient *
take_up (Claim      *claim,
         JsonObject *state)
{
  g_autoptr(SignalingNativeConnection) self = g_object_new (SIGNALING_TYPE_NATIVE_CONNECTION, NULL);
  g_autoptr(GError) error = NULL;
  const char *id = json_object_get_string_member_with_default (state, "id", NULL);
  JsonArray *rooms = json_object_get_array_member (state, "rooms");
  JsonArray *frames = json_object_get_array_member (state, "frames");

  self->router = claim->router;
  self->resumes = g_object_ref (claim->resumes);
  self->client = signaling_router_take_over (claim->router, SIGNALING_CONNECTION (self), id,
                                             claim->remote_address, rooms, &error);
  if (self->client == NULL)
    {
      g_autofree char *text = error_to_json (error, NULL);

      signaling_websocket_send (claim->websocket, TRUE, text, strlen (text));
      signaling_websocket_close (claim->websocket, CLOSE_TRY_AGAIN, error->message);
      return NULL;
    }
  signaling_identity_attach (claim->identity, self->client);
  self->idle_deadlines = signaling_timer_queue_ref (signaling_router_get_idle_deadlines (claim->router));

  for (guint i = 0; frames != NULL && i < json_array_get_length (frames); i++)
    {
      const char *text = json_array_get_string_element (frames, i);

      if (text != NULL)
        g_queue_push_tail (&self->buffered, g_bytes_new (text, strlen (text)));
    }
  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL, "Client %s resumed from another node", id);
  take_websocket (self, claim->websocket, TRUE);

  /* The peer went away while its session was on its way: it ends here
   * as it would have there. */
  if (!signaling_websocket_is_open (claim->websocket))
    {
      end_session (self, "closed during a resume");
      return NULL;
    }
  return self->client;
}

static SignalingClient *
on_claimed (JsonObject *state,
            gpointer    user_data)
{
  Claim *claim = user_data;
  const char *id = state != NULL ? json_object_get_string_member_with_default (state, "id", NULL) : NULL;

  signaling_resume_table_count (claim->resumes, id != NULL);
  if (id != NULL)
    return take_up (claim, state);

  refuse_resume (claim->websocket);
  start_session (claim->router, claim->resumes, claim->websocket, claim->remote_address, claim->identity);
  return NULL;
}

static gboolean
claim_elsewhere (SignalingRouter      *router,
                 SignalingResumeTable *resumes,
                 SoupServerMessage    *msg,
                 SignalingWebsocket   *websocket,
                 const char           *token)
{
  Claim *claim = g_new0 (Claim, 1);
  SignalingIdentity *identity = signaling_identity_lookup (msg);

  claim->router = router;
  claim->resumes = g_object_ref (resumes);
  claim->websocket = g_object_ref (websocket);
  claim->remote_address = g_strdup (soup_server_message_get_remote_host (msg));
  claim->identity = identity != NULL ? g_object_ref (identity) : NULL;
  if (signaling_resume_table_claim (resumes, token,
                                    identity != NULL ? signaling_identity_get_id (identity) : NULL,
                                    on_claimed, claim, claim_free))
    return TRUE;

  /* No cluster: the resume fails here and now. */
  claim_free (claim);
  return FALSE;
}

/*
 * signaling_native_connection_accept:
 * @resumes: the sessions that may be resumed, which the new one joins
 *
 * Takes over a freshly upgraded WebSocket at /ws: makes its client,
 * registers it with the router and greets it; or, with a valid
 * `resume` token, hands it to the session the token names, here or (in
 * a cluster) on another node.
 */
void
signaling_native_connection_accept (SignalingRouter      *router,
                                    SignalingResumeTable *resumes,
                                    SoupServerMessage    *msg,
                                    SignalingWebsocket   *websocket)
{
  SignalingIdentity *identity = signaling_identity_lookup (msg);
  g_autofree char *token = requested_token (msg);

  if (token != NULL)
    {
      SignalingNativeConnection *session = signaling_resume_table_take (resumes, token,
                                                                        SIGNALING_TYPE_NATIVE_CONNECTION);

      if (session == NULL && claim_elsewhere (router, resumes, msg, websocket, token))
        return;

      /* With tokens on, a session is resumed only by its own peer: a
       * resume token of another's is spent, and refused. */
      if (session != NULL && identity != NULL && session->client != NULL &&
          g_strcmp0 (signaling_client_get_id (session->client), signaling_identity_get_id (identity)) != 0)
        session = NULL;
      signaling_resume_table_count (resumes, session != NULL);
      if (session != NULL)
        {
          resume (session, websocket);
          return;
        }
      refuse_resume (websocket);
    }

  start_session (router, resumes, websocket, soup_server_message_get_remote_host (msg), identity);
}
