/* signaling-socketio-connection.c: the seed Socket.IO vocabularies as a dialect
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-socketio"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-client-private.h"
#include "signaling-connection-private.h"
#include "signaling-error.h"
#include "signaling-identity-private.h"
#include "signaling-message-private.h"
#include "signaling-resume-table-private.h"
#include "signaling-router-private.h"
#include "signaling-socketio-connection-private.h"
#include "signaling-socketio-socket-private.h"
#include "signaling-util-private.h"

/*
 * SignalingSocketioConnection:
 *
 * A Socket.IO client of the default namespace, speaking both seed
 * vocabularies at once (see docs/protocol.md):
 *
 * - seed 000: `offer_sdp`, `answer_sdp`, `send_ice` with a JSON *string*
 *   naming `targetClientId`; the target gets `{from, sdp}` or
 *   `{from, candidate, mid}`; an absent target earns the sender an
 *   `error` event.
 * - seed 003: `JoinSocket`/`LeaveSocket` rooms and `offer`, `answer`,
 *   `candidate`, `hangup` objects delivered io.to(room)-style to every
 *   member, the sender included; nothing is said about failures.
 *
 * Each event becomes a SignalingMessage in the native shape, so native
 * peers and Socket.IO peers can signal each other; the sender's own
 * argument rides along so that same-vocabulary peers get it verbatim.
 * Other events are left to the application (the socket's "event"
 * signal carries on to its handlers).
 */
struct _SignalingSocketioConnection
{
  GObject parent_instance;

  SignalingSocketioSocket *socket;
  SignalingRouter *router;  /* unowned: the server closes us before it drops the router */
  SignalingClient *client;  /* unowned: the client owns us */

  /* The vocabulary this peer has used, to address native messages to
   * it in words it understands. */
  SignalingVocabulary vocabulary;

  /* Connection State Recovery (socket.io 4.6+, docs/design.md): a
   * socket whose transport broke stays in the router, "detached", for
   * the resume window, and what is sent to it waits here. */
  SignalingResumeTable *resumes;  /* NULL: recovery not offered */
  char *pid;                      /* its key in @resumes, or NULL */
  gboolean detached;
  const char *ending;             /* why a detached socket ends early, or NULL */
  SignalingTimer window;
  GQueue buffered;                /* BufferedEvent *, oldest first */
  gsize buffered_size;

  /* With recovery offsets on (socket.io's own wire: an offset after
   * every event's arguments), @buffered also keeps what was sent, up
   * to the resume buffer, so that a recovery replays from the client's
   * last offset what a dead transport swallowed. */
  gboolean offsets;
  guint64 next_offset;
  char *replay_after;             /* the offset a recovery asked for, or NULL */
};

typedef struct
{
  char *event;
  char *json;
  char *offset;   /* NULL without recovery offsets */
  gboolean sent;  /* history, that a recovery may replay */
} BufferedEvent;

static void
buffered_event_free (gpointer data)
{
  BufferedEvent *buffered = data;

  g_free (buffered->event);
  g_free (buffered->json);
  g_free (buffered->offset);
  g_free (buffered);
}

/* What a kept event counts against the resume buffer. */
static gsize
buffered_event_size (BufferedEvent *buffered)
{
  return strlen (buffered->event) + strlen (buffered->json);
}

/* Sends a kept event, with its offset after its arguments if it has one. */
static void
emit_buffered (SignalingSocketioSocket *socket,
               BufferedEvent           *buffered)
{
  g_autofree char *with_offset = NULL;

  if (buffered->offset != NULL)
    with_offset = g_strdup_printf ("%s,\"%s\"", buffered->json, buffered->offset);
  signaling_socketio_socket_emit_text (socket, buffered->event,
                                       with_offset != NULL ? with_offset : buffered->json);
}

static GQuark
prepared_quark (void)
{
  return g_quark_from_static_string ("signaling-socketio-prepared");
}

static void signaling_socketio_connection_iface_init (SignalingConnectionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignalingSocketioConnection, signaling_socketio_connection, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SIGNALING_TYPE_CONNECTION,
                                                      signaling_socketio_connection_iface_init))

static void
set_detached (SignalingSocketioConnection *self,
              gboolean                     detached)
{
  if (self->resumes != NULL)
    signaling_resume_table_set_detached (self->resumes, &self->detached, detached, self->pid, self->client);
}

/* The pid can no longer recover this socket. */
static void
forget_pid (SignalingSocketioConnection *self)
{
  if (self->resumes != NULL)
    signaling_resume_table_forget (self->resumes, &self->pid);
}

static void
clear_buffered (SignalingSocketioConnection *self)
{
  g_queue_clear_full (&self->buffered, buffered_event_free);
  self->buffered_size = 0;
}

static void
stop_window (SignalingSocketioConnection *self)
{
  if (self->resumes != NULL)
    signaling_resume_table_stop_window (self->resumes, &self->window);
}

static void
signaling_socketio_connection_dispose (GObject *object)
{
  SignalingSocketioConnection *self = SIGNALING_SOCKETIO_CONNECTION (object);

  stop_window (self);
  set_detached (self, FALSE);
  forget_pid (self);
  clear_buffered (self);
  g_clear_pointer (&self->replay_after, g_free);
  g_clear_object (&self->resumes);

  if (self->socket != NULL)
    {
      signaling_socketio_socket_set_consumer (self->socket, NULL, NULL);
    }
  g_clear_object (&self->socket);

  G_OBJECT_CLASS (signaling_socketio_connection_parent_class)->dispose (object);
}

static void
signaling_socketio_connection_class_init (SignalingSocketioConnectionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = signaling_socketio_connection_dispose;
}

static void
signaling_socketio_connection_init (SignalingSocketioConnection *self)
{
}

/* What the dialect remembers about a message it decoded: the sender's
 * own argument, so that peers of the same vocabulary get it verbatim,
 * and seed 003's "from" once checked. It rides on the message as the
 * dialect's attachment (see signaling_message_set_dialect_data()). */
typedef struct
{
  SignalingVocabulary vocabulary;
  JsonObject *original;
  char *claimed_from;
} SocketioNote;

#define SOCKETIO_NOTE (g_quark_from_static_string ("socket.io"))

static void
socketio_note_free (gpointer data)
{
  SocketioNote *note = data;

  g_clear_pointer (&note->original, json_object_unref);
  g_free (note->claimed_from);
  g_free (note);
}

static void
attach_note (SignalingMessage    *message,
             SignalingVocabulary  vocabulary,
             JsonObject          *original,
             const char          *claimed_from)
{
  SocketioNote *note = g_new0 (SocketioNote, 1);

  note->vocabulary = vocabulary;
  note->original = json_object_ref (original);
  note->claimed_from = g_strdup (claimed_from);
  signaling_message_set_dialect_data (message, SOCKETIO_NOTE, note, socketio_note_free);
}

/* The note of a message in @vocabulary, or NULL for one that came in
 * another vocabulary or dialect. */
static SocketioNote *
note_in (SignalingMessage    *message,
         SignalingVocabulary  vocabulary)
{
  SocketioNote *note = signaling_message_get_dialect_data (message, SOCKETIO_NOTE);

  return note != NULL && note->vocabulary == vocabulary ? note : NULL;
}

/*
 * signaling_socketio_dialect_export_note:
 *
 * What this dialect remembers about @message, as JSON, for a message
 * that travels to another node of a cluster: its Socket.IO recipients
 * there get the sender's own argument as they would here.
 *
 * Returns: (transfer full) (nullable): the note, or %NULL for a message
 *   that came in no seed vocabulary
 */
JsonObject *
signaling_socketio_dialect_export_note (SignalingMessage *message)
{
  SocketioNote *note = signaling_message_get_dialect_data (message, SOCKETIO_NOTE);
  JsonObject *object;

  if (note == NULL)
    return NULL;

  object = json_object_new ();
  json_object_set_int_member (object, "vocabulary", note->vocabulary);
  json_object_set_object_member (object, "original", json_object_ref (note->original));
  if (note->claimed_from != NULL)
    json_object_set_string_member (object, "claimed-from", note->claimed_from);
  return object;
}

/* The other way: @note from signaling_socketio_dialect_export_note(),
 * as another node sent it (a note that makes no sense is ignored). */
void
signaling_socketio_dialect_import_note (SignalingMessage *message,
                                        JsonObject       *note)
{
  gint64 vocabulary = json_object_get_int_member_with_default (note, "vocabulary", 0);
  JsonNode *original = json_object_get_member (note, "original");

  if ((vocabulary != SIGNALING_VOCABULARY_SEED000 && vocabulary != SIGNALING_VOCABULARY_SEED003) ||
      original == NULL || !JSON_NODE_HOLDS_OBJECT (original))
    return;

  attach_note (message, vocabulary, json_node_get_object (original),
               json_object_get_string_member_with_default (note, "claimed-from", NULL));
}

static SignalingVocabulary
vocabulary_of (SignalingMessage *message)
{
  SocketioNote *note = signaling_message_get_dialect_data (message, SOCKETIO_NOTE);

  return note != NULL ? note->vocabulary : SIGNALING_VOCABULARY_NONE;
}

/* Small JSON helpers */

static JsonArray *
args_of_object (JsonObject *object)
{
  JsonArray *args = json_array_new ();

  json_array_add_object_element (args, object);
  return args;
}

static gsize buffer_event (SignalingSocketioConnection *self,
                           const char                  *event,
                           char                        *json,
                           gboolean                     sent);

/* Sends an event whose arguments are @json (JSON text, joined by
 * commas), with an offset after them when recovery offsets are on. */
static void
send_event (SignalingSocketioConnection *self,
            const char                  *event,
            char                        *json)
{
  if (!self->offsets || self->resumes == NULL)
    {
      signaling_socketio_socket_emit_text (self->socket, event, json);
      g_free (json);
      return;
    }

  if (buffer_event (self, event, json, TRUE) > 0)
    emit_buffered (self->socket, g_queue_peek_tail (&self->buffered));
}

static void
emit_args (SignalingSocketioConnection *self,
           const char                  *event,
           JsonArray                   *args)
{
  GString *json;

  if (!self->offsets)
    {
      signaling_socketio_socket_emit (self->socket, event, args, NULL);
      return;
    }

  json = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (args); i++)
    {
      if (i > 0)
        g_string_append_c (json, ',');
      signaling_json_append (json, json_array_get_element (args, i));
    }
  send_event (self, event, g_string_free (json, FALSE));
}

static void
emit_object (SignalingSocketioConnection *self,
             const char                  *event,
             JsonObject                  *object)
{
  g_autoptr(JsonArray) args = args_of_object (object);

  emit_args (self, event, args);
}

static void
emit_error (SignalingSocketioConnection *self,
            const char                  *text)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "message", text);
  emit_object (self, "error", object);
}

static void
copy_member (JsonObject *to,
             const char *to_name,
             JsonObject *from,
             const char *from_name)
{
  JsonNode *node = from != NULL ? json_object_get_member (from, from_name) : NULL;

  /* JSON.stringify drops undefined members; so do we. The node is
   * shared, not copied: nodes are never changed once built. */
  if (node != NULL)
    json_object_set_member (to, to_name, json_node_ref (node));
}

static const char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return signaling_json_node_is_string (node) ? json_node_get_string (node) : NULL;
}

/* Seed 000: the argument is a JSON string holding an object. */

static JsonObject *
parse_seed000_argument (JsonArray  *args,
                        GError    **error)
{
  JsonNode *arg = json_array_get_length (args) > 0 ? json_array_get_element (args, 0) : NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *text, *target;

  if (!signaling_json_node_is_string (arg))
    {
      g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                           _("The argument must be a JSON string"));
      return NULL;
    }

  text = json_node_get_string (arg);
  /* Out of a parse already: UTF-8, but for a \u0000 (C0 80), which
   * JSON.parse() refuses there as a raw control character. */
  if (strstr (text, "\xc0\x80") == NULL)
    root = signaling_json_parse_utf8 (text, strlen (text), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_JSON,
                           _("The argument must be a JSON object in a string"));
      return NULL;
    }

  target = string_member (json_node_get_object (root), "targetClientId");
  if (target == NULL)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be a string"), "targetClientId");
      return NULL;
    }
  if (!signaling_json_is_unicode (target))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must not contain \\u0000 or a lone surrogate"),
                   "targetClientId");
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

static SignalingMessage *
message_from_seed000 (SignalingMessageKind   kind,
                      JsonObject            *original,
                      GError               **error)
{
  const char *to = string_member (original, "targetClientId");
  g_autoptr(JsonNode) candidate = NULL;
  SignalingMember member = { "sdp", json_object_get_member (original, "sdp") };
  SignalingMessage *message;

  if (kind == SIGNALING_MESSAGE_KIND_CANDIDATE)
    {
      JsonObject *object = json_object_new ();

      copy_member (object, "candidate", original, "candidate");
      copy_member (object, "sdpMid", original, "mid");
      candidate = json_node_init_object (json_node_alloc (), object);
      json_object_unref (object);
      member = (SignalingMember) { "candidate", candidate };
    }

  /* An `sdp` or `candidate` of the wrong type would reach native
   * peers and application handlers against the native contract. */
  message = signaling_message_new_from_members (kind, to, &member, 1, error);
  if (message == NULL)
    return NULL;
  signaling_message_set_dialect (message, "socket.io");
  attach_note (message, SIGNALING_VOCABULARY_SEED000, original, NULL);
  /* clients[target].emit() reaches the sender too if it names itself. */
  signaling_message_set_include_sender (message, TRUE);
  return message;
}

/*
 * signaling_socketio_dialect_decode_seed000:
 *
 * Turns the arguments of a seed 000 event into a message in the native
 * shape, or fails with the error the sender is told about.
 */
SignalingMessage *
signaling_socketio_dialect_decode_seed000 (SignalingMessageKind   kind,
                                           JsonArray             *args,
                                           GError               **error)
{
  g_autoptr(JsonObject) original = NULL;
  g_autoptr(SignalingMessage) message = NULL;

  original = parse_seed000_argument (args, error);
  if (original == NULL)
    return NULL;

  message = message_from_seed000 (kind, original, error);
  return g_steal_pointer (&message);
}

static void
handle_seed000 (SignalingSocketioConnection *self,
                SignalingMessageKind         kind,
                JsonArray                   *args)
{
  g_autoptr(SignalingMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  self->vocabulary = SIGNALING_VOCABULARY_SEED000;

  message = signaling_socketio_dialect_decode_seed000 (kind, args, &error);
  if (message != NULL)
    signaling_router_route (self->router, self->client, message, &error);

  if (error == NULL)
    return;

  signaling_router_count_error (self->router, error);
  if (g_error_matches (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET))
    emit_error (self, "Target client not connected");  /* the seed's words, verbatim */
  else
    emit_error (self, error->message);
}

/* Seed 003: the argument is an object {to, <kind>, from}. */

static const char *
seed003_field (SignalingMessageKind kind)
{
  switch (kind)
    {
    case SIGNALING_MESSAGE_KIND_OFFER:
      return "offer";
    case SIGNALING_MESSAGE_KIND_ANSWER:
      return "answer";
    case SIGNALING_MESSAGE_KIND_CANDIDATE:
      return "candidate";
    default:
      return NULL;
    }
}

static char *
name_of (JsonNode *node)
{
  /* socket.join() takes any value; strings and numbers are the ones
   * that make sense as room names. A name with \u0000 or a lone
   * surrogate is refused: it would pass for another. */
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *name = json_node_get_string (node);

      return *name != '\0' && signaling_json_is_unicode (name) ? g_strdup (name) : NULL;
    }
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  return NULL;
}

static SignalingMessage *
message_from_seed003 (SignalingClient       *sender,
                      SignalingMessageKind   kind,
                      JsonObject            *original,
                      const char            *to,
                      GError               **error)
{
  const char *field = seed003_field (kind);
  const char *claimed = string_member (original, "from");
  JsonNode *value = field != NULL ? json_object_get_member (original, field) : NULL;
  SignalingMember member = { "sdp", value };
  SignalingMessage *message;

  if (kind == SIGNALING_MESSAGE_KIND_CANDIDATE)
    member.name = "candidate";
  else if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
    member.value = json_object_get_member (json_node_get_object (value), "sdp");

  message = signaling_message_new_from_members (kind, to, &member, 1, error);
  if (message == NULL)
    return NULL;

  /* The seed trusted "from" blindly; we keep it only when the sender
   * has joined a room of that name (its own user id, in practice).
   * A peer with a token is who its token says, and nobody else. */
  if (claimed == NULL || !signaling_client_is_in_room (sender, claimed) ||
      signaling_identity_lookup (sender) != NULL)
    claimed = signaling_client_get_id (sender);

  signaling_message_set_dialect (message, "socket.io");
  attach_note (message, SIGNALING_VOCABULARY_SEED003, original, claimed);
  signaling_message_set_include_sender (message, TRUE);
  return message;
}

/*
 * signaling_socketio_dialect_decode_seed003:
 * @sender: the client the event came from, whose rooms decide whether
 *   its own "from" is kept
 *
 * Turns the arguments of a seed 003 event into a message in the native
 * shape. The seed has no error channel: a failure is only logged.
 */
SignalingMessage *
signaling_socketio_dialect_decode_seed003 (SignalingClient       *sender,
                                           SignalingMessageKind   kind,
                                           JsonArray             *args,
                                           GError               **error)
{
  JsonNode *arg = json_array_get_length (args) > 0 ? json_array_get_element (args, 0) : NULL;
  g_autoptr(SignalingMessage) message = NULL;
  g_autofree char *to = NULL;
  JsonObject *original;

  if (arg == NULL || !JSON_NODE_HOLDS_OBJECT (arg))
    {
      g_set_error_literal (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                           _("The argument must be an object"));
      return NULL;
    }

  original = json_node_get_object (arg);
  to = name_of (json_object_get_member (original, "to"));
  if (to == NULL)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_BAD_MESSAGE,
                   _("Field “%s” must be a non-empty string or an integer"), "to");
      return NULL;
    }

  message = message_from_seed003 (sender, kind, original, to, error);
  return g_steal_pointer (&message);
}

static void
handle_seed003 (SignalingSocketioConnection *self,
                SignalingMessageKind         kind,
                JsonArray                   *args)
{
  g_autoptr(SignalingMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  self->vocabulary = SIGNALING_VOCABULARY_SEED003;

  /* The seed has no error channel: what it cannot use is dropped. */
  message = signaling_socketio_dialect_decode_seed003 (self->client, kind, args, &error);
  if (message == NULL)
    {
      signaling_router_count_error (self->router, error);
      signaling_client_log (self->client, G_LOG_LEVEL_DEBUG, NULL, "Socket.IO %s: dropped %s: %s",
                            signaling_client_get_id (self->client),
                            signaling_message_kind_to_string (kind), error->message);
      return;
    }

  if (!signaling_router_route (self->router, self->client, message, &error))
    signaling_client_log (self->client, G_LOG_LEVEL_DEBUG, NULL, "Socket.IO %s: %s",
                          signaling_client_get_id (self->client), error->message);
}

static void
handle_room (SignalingSocketioConnection *self,
             gboolean                     join,
             JsonArray                   *args)
{
  SignalingRouter *router = self->router;
  JsonNode *arg = json_array_get_length (args) > 0 ? json_array_get_element (args, 0) : NULL;
  g_autofree char *name = name_of (arg);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  self->vocabulary = SIGNALING_VOCABULARY_SEED003;

  if (name == NULL || strlen (name) > SIGNALING_MAX_NAME_LENGTH)
    {
      signaling_router_count_rejected (self->router, SIGNALING_ERROR_BAD_MESSAGE);
      return;
    }

  if (join)
    ok = signaling_router_join (router, self->client, name, &error) != NULL;
  else
    ok = signaling_router_leave (router, self->client, name, &error);

  /* Leaving a room one is not in is a no-op in Socket.IO. */
  if (!ok && !g_error_matches (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET))
    {
      signaling_router_count_error (self->router, error);
      signaling_client_log (self->client, G_LOG_LEVEL_DEBUG, name, "Socket.IO %s: %s",
                            signaling_client_get_id (self->client), error->message);
      /* A refused join (a room its token does not list, a full room)
       * is told in seed 000's error event; seed 003's clients, which
       * have no error channel, ignore it. */
      if (join)
        emit_error (self, error->message);
    }
}

/*
 * signaling_socketio_dialect_lookup_event:
 *
 * Whether @event is a relayed event of a seed vocabulary (not the
 * room events JoinSocket and LeaveSocket), and of which kind.
 */
gboolean
signaling_socketio_dialect_lookup_event (const char           *event,
                                         SignalingVocabulary  *out_vocabulary,
                                         SignalingMessageKind *out_kind)
{
  static const struct {
    const char *event;
    SignalingVocabulary vocabulary;
    SignalingMessageKind kind;
  } events[] = {
    { "offer_sdp", SIGNALING_VOCABULARY_SEED000, SIGNALING_MESSAGE_KIND_OFFER },
    { "answer_sdp", SIGNALING_VOCABULARY_SEED000, SIGNALING_MESSAGE_KIND_ANSWER },
    { "send_ice", SIGNALING_VOCABULARY_SEED000, SIGNALING_MESSAGE_KIND_CANDIDATE },
    { "offer", SIGNALING_VOCABULARY_SEED003, SIGNALING_MESSAGE_KIND_OFFER },
    { "answer", SIGNALING_VOCABULARY_SEED003, SIGNALING_MESSAGE_KIND_ANSWER },
    { "candidate", SIGNALING_VOCABULARY_SEED003, SIGNALING_MESSAGE_KIND_CANDIDATE },
    { "hangup", SIGNALING_VOCABULARY_SEED003, SIGNALING_MESSAGE_KIND_HANGUP },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (events); i++)
    if (g_str_equal (event, events[i].event))
      {
        *out_vocabulary = events[i].vocabulary;
        *out_kind = events[i].kind;
        return TRUE;
      }

  return FALSE;
}

static gboolean
on_event (SignalingSocketioSocket *socket,
          const char              *name,
          JsonArray               *args,
          GPtrArray               *attachments,
          SignalingSocketioAck    *ack,
          gpointer                 user_data)
{
  SignalingSocketioConnection *self = user_data;
  SignalingVocabulary vocabulary;
  SignalingMessageKind kind;
  g_autoptr(SignalingSocketioConnection) kept = g_object_ref (self);
  g_autoptr(GError) error = NULL;

  if (self->client == NULL)
    return TRUE;

  switch (signaling_router_admit (self->router, self->client,
                                  strlen (name), &error))
    {
    case SIGNALING_ADMISSION_ACCEPT:
      break;
    case SIGNALING_ADMISSION_REFUSE:
      signaling_router_count_error (self->router, error);
      if (self->vocabulary != SIGNALING_VOCABULARY_SEED003)
        emit_error (self, error->message);
      return TRUE;
    case SIGNALING_ADMISSION_DROP:
    default:
      return TRUE;
    }

  if (signaling_socketio_dialect_lookup_event (name, &vocabulary, &kind))
    {
      if (vocabulary == SIGNALING_VOCABULARY_SEED000)
        handle_seed000 (self, kind, args);
      else
        handle_seed003 (self, kind, args);
      return TRUE;
    }

  if (g_str_equal (name, "JoinSocket") || g_str_equal (name, "LeaveSocket"))
    {
      handle_room (self, g_str_equal (name, "JoinSocket"), args);
      return TRUE;
    }

  /* Not ours: the application's handlers may take it. */
  return FALSE;
}

/* The socket is over: it leaves the router (a leave to the others)
 * and cannot be recovered any more. */
static void
end_session (SignalingSocketioConnection *self,
             const char                  *reason)
{
  g_autoptr(SignalingSocketioConnection) kept = g_object_ref (self);

  stop_window (self);
  set_detached (self, FALSE);
  forget_pid (self);
  clear_buffered (self);
  signaling_router_detach (self->router, &self->client, reason);
}

static void
on_window_over (gpointer data)
{
  SignalingSocketioConnection *self = data;

  end_session (self, self->ending != NULL ? self->ending : "not recovered in time");
}

/* From the main loop, not now: a delivery (the room being walked) or a
 * close may have called us. */
static void
end_detached_soon (SignalingSocketioConnection *self,
                   const char                  *why)
{
  self->ending = why;
  signaling_resume_table_end_window_soon (self->resumes, &self->window, on_window_over, self);
}

/* socket.io's own choice (RECOVERABLE_DISCONNECT_REASONS in its
 * socket.js), less the server's closes: a broken or silent transport
 * waits for a recovery; a client's or the server's leave does not. */
static gboolean
may_wait_for_recovery (SignalingSocketioConnection *self,
                       const char                  *reason)
{
  static const char *const recoverable[] = { "transport close", "transport error", "ping timeout", NULL };

  return self->client != NULL && self->pid != NULL &&
         signaling_resume_table_get_window (self->resumes) > 0 &&
         g_strv_contains (recoverable, reason);
}

static void
on_disconnected (SignalingSocketioSocket *socket,
                 const char              *reason,
                 gpointer                 user_data)
{
  SignalingSocketioConnection *self = user_data;
  g_autoptr(SignalingSocketioConnection) kept = g_object_ref (self);
  guint window;

  if (!may_wait_for_recovery (self, reason))
    {
      end_session (self, reason);
      return;
    }

  window = signaling_resume_table_get_window (self->resumes);
  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL,
                        "Client %s dropped (%s): kept %u s for a recovery",
                        signaling_client_get_id (self->client), reason, window);
  signaling_socketio_socket_set_consumer (self->socket, NULL, NULL);
  set_detached (self, TRUE);
  self->ending = NULL;
  signaling_resume_table_start_window (self->resumes, &self->window, on_window_over, self);
}

static void
on_transport_changed (SignalingSocketioSocket *socket,
                      gpointer                 user_data)
{
  SignalingSocketioConnection *self = user_data;

  if (self->client != NULL)
    signaling_router_notify_transport (self->router, self->client);
}

static const SignalingSocketioConsumer socket_consumer = {
  .event = on_event,
  .disconnected = on_disconnected,
  .transport_changed = on_transport_changed,
};


/* Encoding what the router delivers */

static SignalingVocabulary
vocabulary_for (SignalingSocketioConnection *self,
                SignalingMessage            *message)
{
  SignalingVocabulary vocabulary = vocabulary_of (message);

  if (vocabulary != SIGNALING_VOCABULARY_NONE)
    return vocabulary;
  if (self->vocabulary != SIGNALING_VOCABULARY_NONE)
    return self->vocabulary;

  /* A peer that has said nothing yet: one in rooms is a seed 003
   * client, one addressed by its id a seed 000 client. */
  return signaling_client_get_room_count (self->client) > 0 ? SIGNALING_VOCABULARY_SEED003
                                                            : SIGNALING_VOCABULARY_SEED000;
}

/* The one argument of a seed event, as its members in order: built
 * once, then written as JSON text (what the relay sends) or made a
 * JsonObject (signaling_socketio_dialect_encode()). Values are
 * borrowed from the message. */
typedef struct
{
  const char *name;
  JsonNode *value;     /* NULL: @text, or null if that is NULL too */
  const char *text;
} SeedMember;

typedef struct
{
  SeedMember members[4];
  guint n_members;
  JsonNode *owned;  /* a value made for the argument, freed with it */
} SeedArgument;

static void
seed_argument_clear (SeedArgument *argument)
{
  g_clear_pointer (&argument->owned, json_node_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SeedArgument, seed_argument_clear)

static void
add_value (SeedArgument *argument,
           const char   *name,
           JsonNode     *value,
           const char   *text)
{
  SeedMember *member = &argument->members[argument->n_members++];

  g_assert (argument->n_members <= G_N_ELEMENTS (argument->members));
  member->name = name;
  member->value = value;
  member->text = text;
}

/* JSON.stringify drops undefined members; so do we. */
static void
add_member_of (SeedArgument *argument,
               const char   *name,
               JsonObject   *from,
               const char   *from_name)
{
  JsonNode *node = from != NULL ? json_object_get_member (from, from_name) : NULL;

  if (node != NULL)
    add_value (argument, name, node, NULL);
}

static void
add_native_candidate_fields (SeedArgument     *argument,
                             SignalingMessage *message)
{
  JsonNode *candidate = signaling_message_get_candidate (message);

  if (candidate != NULL && JSON_NODE_HOLDS_OBJECT (candidate))
    {
      add_member_of (argument, "candidate", json_node_get_object (candidate), "candidate");
      add_member_of (argument, "mid", json_node_get_object (candidate), "sdpMid");
    }
  else
    {
      add_value (argument, "candidate", NULL, NULL);
      add_value (argument, "mid", NULL, NULL);
    }
}

static void
encode_seed000 (SignalingMessage  *message,
                SeedArgument      *argument,
                const char       **out_event)
{
  static const char *events[] = {
    [SIGNALING_MESSAGE_KIND_OFFER] = "offer_sdp",
    [SIGNALING_MESSAGE_KIND_ANSWER] = "answer_sdp",
    [SIGNALING_MESSAGE_KIND_CANDIDATE] = "send_ice",
    [SIGNALING_MESSAGE_KIND_HANGUP] = "hangup",
    [SIGNALING_MESSAGE_KIND_MESSAGE] = "message",
  };
  SignalingMessageKind kind = signaling_message_get_kind (message);
  SocketioNote *note = note_in (message, SIGNALING_VOCABULARY_SEED000);
  JsonObject *original = note != NULL ? note->original : NULL;
  /* Parsed only for what the sender's own argument does not hold. */
  JsonObject *payload = original == NULL || kind == SIGNALING_MESSAGE_KIND_HANGUP ||
                        kind == SIGNALING_MESSAGE_KIND_MESSAGE
                        ? signaling_message_peek_payload (message) : NULL;

  add_value (argument, "from", NULL, signaling_message_get_from (message));

  if (kind == SIGNALING_MESSAGE_KIND_CANDIDATE && original != NULL)
    {
      add_member_of (argument, "candidate", original, "candidate");
      add_member_of (argument, "mid", original, "mid");
    }
  else if (kind == SIGNALING_MESSAGE_KIND_CANDIDATE)
    add_native_candidate_fields (argument, message);
  else if (kind == SIGNALING_MESSAGE_KIND_OFFER || kind == SIGNALING_MESSAGE_KIND_ANSWER)
    add_member_of (argument, "sdp", original != NULL ? original : payload, "sdp");
  else if (kind == SIGNALING_MESSAGE_KIND_HANGUP)
    add_member_of (argument, "reason", payload, "reason");
  else
    add_member_of (argument, "data", payload, "data");

  *out_event = events[kind];
}

static JsonNode *
session_description (const char *type,
                     JsonObject *payload)
{
  g_autoptr(JsonObject) description = json_object_new ();
  JsonNode *sdp = json_object_get_member (payload, "sdp");

  json_object_set_string_member (description, "type", type);
  if (sdp != NULL)
    json_object_set_member (description, "sdp", json_node_ref (sdp));
  return json_node_init_object (json_node_alloc (), description);
}

static void
encode_seed003 (SignalingMessage  *message,
                SeedArgument      *argument,
                const char       **out_event)
{
  SignalingMessageKind kind = signaling_message_get_kind (message);
  const char *field = seed003_field (kind);
  SocketioNote *note = note_in (message, SIGNALING_VOCABULARY_SEED003);
  gboolean same = note != NULL;
  JsonObject *payload = same && field != NULL ? NULL : signaling_message_peek_payload (message);
  const char *from = same ? note->claimed_from : signaling_message_get_from (message);

  /* The seed builds {<kind>: d.<kind>, from: d.from}: that key order. */
  if (field != NULL && same)
    add_member_of (argument, field, note->original, field);
  else if (kind == SIGNALING_MESSAGE_KIND_CANDIDATE)
    add_member_of (argument, "candidate", payload, "candidate");
  else if (field != NULL)
    {
      argument->owned = session_description (field, payload);
      add_value (argument, field, argument->owned, NULL);
    }
  else if (kind == SIGNALING_MESSAGE_KIND_MESSAGE)
    add_member_of (argument, "data", payload, "data");
  else if (kind == SIGNALING_MESSAGE_KIND_HANGUP && !same)
    add_member_of (argument, "reason", payload, "reason");

  add_value (argument, "from", NULL, from);
  *out_event = signaling_message_kind_to_string (kind);
}

/* Says @message in a seed's words into @argument: the sender's own
 * argument when it spoke the same vocabulary, a translation otherwise.
 * FALSE when the seeds have no words for it (room membership,
 * keep-alives). */
static gboolean
encode_argument (SignalingMessage     *message,
                 SignalingVocabulary   vocabulary,
                 SeedArgument         *argument,
                 const char          **out_event)
{
  SignalingMessageKind kind = signaling_message_get_kind (message);

  if (kind == SIGNALING_MESSAGE_KIND_JOIN || kind == SIGNALING_MESSAGE_KIND_LEAVE ||
      kind == SIGNALING_MESSAGE_KIND_PING)
    return FALSE;

  if (vocabulary == SIGNALING_VOCABULARY_SEED003)
    encode_seed003 (message, argument, out_event);
  else
    encode_seed000 (message, argument, out_event);
  return TRUE;
}

/*
 * signaling_socketio_dialect_encode:
 * @vocabulary: the recipient's, %SIGNALING_VOCABULARY_SEED000 or
 *   %SIGNALING_VOCABULARY_SEED003
 * @out_event: (out): the event to emit
 *
 * Says @message in a seed's words, as signaling_socketio_connection's
 * deliver() sends it.
 *
 * Returns: (transfer full) (nullable): the event's one argument, or
 *   %NULL when the seeds have no words for @message (room membership,
 *   keep-alives)
 */
JsonObject *
signaling_socketio_dialect_encode (SignalingMessage     *message,
                                   SignalingVocabulary   vocabulary,
                                   const char          **out_event)
{
  g_auto(SeedArgument) argument = { 0 };
  JsonObject *object;

  if (!encode_argument (message, vocabulary, &argument, out_event))
    return NULL;

  object = json_object_new ();
  for (guint i = 0; i < argument.n_members; i++)
    {
      SeedMember *member = &argument.members[i];

      if (member->value != NULL)
        json_object_set_member (object, member->name, json_node_ref (member->value));
      else if (member->text != NULL)
        json_object_set_string_member (object, member->name, member->text);
      else
        json_object_set_null_member (object, member->name);
    }
  return object;
}

static char *
seed_argument_to_json (SeedArgument *argument)
{
  GString *out = g_string_sized_new (256);

  g_string_append_c (out, '{');
  for (guint i = 0; i < argument->n_members; i++)
    {
      SeedMember *member = &argument->members[i];

      if (i > 0)
        g_string_append_c (out, ',');
      signaling_json_append_string (out, member->name);
      g_string_append_c (out, ':');
      if (member->value != NULL)
        signaling_json_append (out, member->value);
      else if (member->text != NULL)
        signaling_json_append_string (out, member->text);
      else
        g_string_append (out, "null");
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* Keeps an event for a recovery: one sent (@sent, only with recovery
 * offsets on), as history a recovery may replay, or one a detached
 * socket could not be sent, which a recovery must replay. History
 * makes room for newer events; past the buffer, an unsent event ends
 * the socket. Returns 0 when the socket ends. */
static gsize
buffer_event (SignalingSocketioConnection *self,
              const char                  *event,
              char                        *json,
              gboolean                     sent)
{
  gsize limit = signaling_resume_table_get_buffer_size (self->resumes);
  BufferedEvent *buffered;
  gsize length = strlen (event) + strlen (json);

  while (self->buffered_size + length > limit && !g_queue_is_empty (&self->buffered) &&
         ((BufferedEvent *) g_queue_peek_head (&self->buffered))->sent)
    {
      BufferedEvent *oldest = g_queue_pop_head (&self->buffered);

      self->buffered_size -= buffered_event_size (oldest);
      buffered_event_free (oldest);
    }

  if (!sent && self->buffered_size + length > limit)
    {
      /* Past the buffer the socket cannot be whole again: it ends now,
       * as if the window had, rather than recover with a gap. */
      g_free (json);
      clear_buffered (self);
      end_detached_soon (self, "resume buffer full");
      return 0;
    }

  buffered = g_new0 (BufferedEvent, 1);
  buffered->event = g_strdup (event);
  buffered->json = json;
  buffered->sent = sent;
  if (self->offsets)
    buffered->offset = g_strdup_printf ("%" G_GUINT64_FORMAT, self->next_offset++);
  g_queue_push_tail (&self->buffered, buffered);
  self->buffered_size += length;
  return 1;
}

static gsize
signaling_socketio_connection_deliver (SignalingConnection *connection,
                                       SignalingMessage    *message)
{
  SignalingSocketioConnection *self = SIGNALING_SOCKETIO_CONNECTION (connection);
  g_auto(SeedArgument) argument = { 0 };
  g_autofree char *json = NULL;
  const char *event = NULL;

  if (self->client == NULL ||
      (!self->detached && !signaling_socketio_socket_is_connected (self->socket)))
    return 0;

  /* The seeds have no words for room membership or keep-alives. */
  if (!encode_argument (message, vocabulary_for (self, message), &argument, &event))
    return 0;

  /* Written straight to text: no JSON tree per recipient. */
  json = seed_argument_to_json (&argument);
  if (self->detached)
    return buffer_event (self, event, g_steal_pointer (&json), FALSE);
  send_event (self, event, g_steal_pointer (&json));
  return 1;
}

static void
signaling_socketio_connection_close (SignalingConnection *connection,
                                     gushort              code,
                                     const char          *reason)
{
  SignalingSocketioConnection *self = SIGNALING_SOCKETIO_CONNECTION (connection);
  /* Disconnecting removes the client, which may drop the last
   * reference to this connection: keep the engine session ourselves. */
  g_autoptr(SignalingEngineioSocket) engine =
    g_object_ref (signaling_socketio_socket_get_engine (self->socket));

  /* A close of the server's voids the pid at once: a kicked peer does
   * not come back through a recovery. */
  forget_pid (self);
  if (self->detached)
    {
      end_detached_soon (self, g_intern_string (reason));  /* kicked, or the server stops: no one waits */
      return;
    }

  /* Socket.IO has no close codes: end the whole Engine.IO session, so
   * the client sees "io server disconnect" and may reconnect. */
  signaling_socketio_socket_disconnect (self->socket);
  signaling_engineio_socket_close (engine, reason);
}

/* Another node recovers the socket: it takes the socket's id and pid
 * and the events that waited here, and the peer leaves this node
 * without a word. */
static JsonObject *
signaling_socketio_connection_hand_over (SignalingConnection *connection,
                                         const char          *token)
{
  SignalingSocketioConnection *self = SIGNALING_SOCKETIO_CONNECTION (connection);
  g_autoptr(SignalingSocketioConnection) kept = g_object_ref (self);
  JsonObject *state;
  JsonArray *events;

  if (!self->detached || self->client == NULL || g_strcmp0 (self->pid, token) != 0)
    return NULL;

  events = json_array_new ();
  for (GList *l = self->buffered.head; l != NULL; l = l->next)
    {
      BufferedEvent *buffered = l->data;
      JsonArray *pair = json_array_new ();

      json_array_add_string_element (pair, buffered->event);
      json_array_add_string_element (pair, buffered->json);
      if (buffered->offset != NULL)
        {
          json_array_add_string_element (pair, buffered->offset);
          json_array_add_boolean_element (pair, buffered->sent);
        }
      json_array_add_array_element (events, pair);
    }
  state = json_object_new ();
  json_object_set_string_member (state, "sid", signaling_socketio_socket_get_id (self->socket));
  json_object_set_string_member (state, "pid", self->pid);
  json_object_set_int_member (state, "vocabulary", self->vocabulary);
  json_object_set_array_member (state, "events", events);
  if (self->offsets)
    json_object_set_int_member (state, "nextOffset", self->next_offset);

  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL, "Client %s recovers on another node",
                        signaling_client_get_id (self->client));
  stop_window (self);
  set_detached (self, FALSE);
  forget_pid (self);
  clear_buffered (self);
  signaling_router_hand_over (self->router, &self->client);
  return state;
}

static const char *
signaling_socketio_connection_get_protocol (SignalingConnection *connection)
{
  return "socket.io";
}

static const char *
signaling_socketio_connection_get_transport (SignalingConnection *connection)
{
  SignalingSocketioConnection *self = SIGNALING_SOCKETIO_CONNECTION (connection);

  return signaling_engineio_socket_get_transport (signaling_socketio_socket_get_engine (self->socket));
}

static void
signaling_socketio_connection_iface_init (SignalingConnectionInterface *iface)
{
  iface->deliver = signaling_socketio_connection_deliver;
  iface->close = signaling_socketio_connection_close;
  iface->get_protocol = signaling_socketio_connection_get_protocol;
  iface->get_transport = signaling_socketio_connection_get_transport;
  iface->hand_over = signaling_socketio_connection_hand_over;
}

/* A string member of the CONNECT payload (socket.io-client puts its
 * `pid` and `offset` there when it recovers), or NULL. */
static const char *
auth_string (SignalingSocketioSocket *socket,
             const char              *name)
{
  JsonNode *auth = signaling_socketio_socket_peek_auth (socket);

  if (auth == NULL || !JSON_NODE_HOLDS_OBJECT (auth))
    return NULL;
  return string_member (json_node_get_object (auth), name);
}

static const char *
requested_pid (SignalingSocketioSocket *socket)
{
  return auth_string (socket, "pid");
}

static const char *
requested_offset (SignalingSocketioSocket *socket)
{
  return auth_string (socket, "offset");
}


/* Whether a recovery from @offset (the client's last, or NULL: none)
 * misses nothing: without offsets every kept event is replayed; with
 * them, the offset must still be in what was kept, or nothing may have
 * gone before it. */
static gboolean
can_replay_after (SignalingSocketioConnection *self,
                  const char                  *offset)
{
  BufferedEvent *oldest = g_queue_peek_head (&self->buffered);

  if (!self->offsets || offset == NULL)
    return !self->offsets || oldest == NULL || g_strcmp0 (oldest->offset, "0") == 0;
  for (GList *l = self->buffered.head; l != NULL; l = l->next)
    if (g_strcmp0 (((BufferedEvent *) l->data)->offset, offset) == 0)
      return TRUE;
  return FALSE;
}

/* The detached (or still connected) socket @pid recovers, or NULL. */
static SignalingSocketioConnection *
take_session (SignalingResumeTable    *resumes,
              SignalingSocketioSocket *socket,
              gboolean                *unknown)
{
  const char *pid = requested_pid (socket);
  SignalingIdentity *identity = signaling_identity_lookup (socket);
  SignalingSocketioConnection *session;

  if (pid == NULL)
    return NULL;

  session = signaling_resume_table_take (resumes, pid, SIGNALING_TYPE_SOCKETIO_CONNECTION);
  if (session == NULL)
    {
      *unknown = TRUE;  /* here: another node may know it */
      return NULL;
    }

  /* With tokens on, a socket is recovered only by its own peer: the
   * pid of another's is spent, and gives a new socket. */
  if (session->client == NULL ||
      (identity != NULL &&
       g_strcmp0 (signaling_client_get_id (session->client), signaling_identity_get_id (identity)) != 0))
    {
      g_clear_pointer (&session->pid, g_free);
      signaling_resume_table_count (resumes, FALSE);
      return NULL;
    }

  /* An offset older than what was kept: a recovery would have a gap.
   * The client gets a new socket; the old one waits out its window. */
  if (!can_replay_after (session, requested_offset (socket)))
    {
      signaling_resume_table_put (resumes, session->pid, session);
      signaling_resume_table_count (resumes, FALSE);
      return NULL;
    }
  signaling_resume_table_count (resumes, TRUE);
  g_free (session->replay_after);
  session->replay_after = g_strdup (requested_offset (socket));

  /* Unlike a native token, the pid stays: socket.io-client counts a
   * recovery only when the CONNECT reply brings its pid back. */
  signaling_resume_table_put (resumes, session->pid, session);
  return session;
}

/* A new socket, with a pid of its own (in the CONNECT reply). */
static SignalingSocketioConnection *
new_session (SignalingResumeTable    *resumes,
             SignalingSocketioSocket *socket)
{
  SignalingSocketioConnection *self = g_object_new (SIGNALING_TYPE_SOCKETIO_CONNECTION, NULL);

  self->resumes = g_object_ref (resumes);
  if (signaling_resume_table_get_window (resumes) > 0)
    self->pid = signaling_resume_table_add (resumes, self);
  self->offsets = self->pid != NULL && signaling_resume_table_get_offsets (resumes);
  signaling_socketio_socket_recover (socket, NULL, self->pid);
  return self;
}

/* A recovery whose socket waits on another node of the cluster: the
 * CONNECT is held (signaling_socketio_socket_hold()) until the socket's
 * state comes, through signaling_resume_table_claim(). */
typedef struct
{
  SignalingRouter *router;
  SignalingResumeTable *resumes;
  SignalingSocketioSocket *socket;
} Claim;

static void
claim_free (gpointer data)
{
  Claim *claim = data;

  g_clear_object (&claim->resumes);
  g_clear_object (&claim->socket);
  g_free (claim);
}

/* A socket handed over by another node goes on here: the same id, pid
 * and rooms, nobody told, then what waited for it there. */
static SignalingClient *
take_up (Claim      *claim,
         JsonObject *state)
{
  g_autoptr(SignalingSocketioConnection) self = g_object_new (SIGNALING_TYPE_SOCKETIO_CONNECTION, NULL);
  SignalingSocketioSocket *socket = claim->socket;
  SignalingEngineioSocket *engine = signaling_socketio_socket_get_engine (socket);
  JsonArray *events = json_object_get_array_member (state, "events");
  g_autoptr(GError) error = NULL;

  self->router = claim->router;
  self->resumes = g_object_ref (claim->resumes);
  self->socket = g_object_ref (socket);
  self->vocabulary = json_object_get_int_member_with_default (state, "vocabulary", SIGNALING_VOCABULARY_NONE);
  /* Detached until accept() hands it the socket; no pid yet, so that
   * no node is told it waits. */
  set_detached (self, TRUE);
  self->client = signaling_router_take_over (claim->router, SIGNALING_CONNECTION (self),
                                             json_object_get_string_member_with_default (state, "id", NULL),
                                             signaling_engineio_socket_get_remote_address (engine),
                                             json_object_get_array_member (state, "rooms"), &error);
  if (self->client == NULL)
    {
      set_detached (self, FALSE);
      signaling_engineio_socket_close (engine, error->message);
      return NULL;
    }
  signaling_identity_attach (signaling_identity_lookup (socket), self->client);

  self->pid = g_strdup (json_object_get_string_member_with_default (state, "pid", NULL));
  if (self->pid != NULL)
    signaling_resume_table_put (self->resumes, self->pid, self);
  self->offsets = json_object_has_member (state, "nextOffset");
  self->next_offset = json_object_get_int_member_with_default (state, "nextOffset", 0);
  for (guint i = 0; events != NULL && i < json_array_get_length (events); i++)
    {
      JsonArray *pair = json_array_get_array_element (events, i);
      guint length = pair != NULL ? json_array_get_length (pair) : 0;
      BufferedEvent *buffered;

      if (length != (self->offsets ? 4 : 2))
        continue;
      buffered = g_new0 (BufferedEvent, 1);
      buffered->event = g_strdup (json_array_get_string_element (pair, 0));
      buffered->json = g_strdup (json_array_get_string_element (pair, 1));
      if (self->offsets)
        {
          buffered->offset = g_strdup (json_array_get_string_element (pair, 2));
          buffered->sent = json_array_get_boolean_element (pair, 3);
        }
      self->buffered_size += buffered_event_size (buffered);
      g_queue_push_tail (&self->buffered, buffered);
    }
  /* The old node already let go: from the client's offset if it is
   * still kept, else all that was kept. */
  if (can_replay_after (self, requested_offset (socket)))
    self->replay_after = g_strdup (requested_offset (socket));

  signaling_socketio_socket_recover (socket, json_object_get_string_member_with_default (state, "sid", NULL),
                                     self->pid);
  g_object_set_qdata_full (G_OBJECT (socket), prepared_quark (), g_object_ref (self), g_object_unref);

  /* The client went away while its socket was on its way: it ends here
   * as it would have there. */
  if (!signaling_socketio_socket_is_connected (socket))
    {
      end_session (self, "closed during a recovery");
      return NULL;
    }
  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL, "Client %s recovered from another node",
                        signaling_client_get_id (self->client));
  signaling_socketio_socket_release (socket);  /* the CONNECT reply, then accept() */
  return self->client;
}

static SignalingClient *
on_claimed (JsonObject *state,
            gpointer    user_data)
{
  Claim *claim = user_data;
  gboolean found = state != NULL && json_object_get_string_member_with_default (state, "id", NULL) != NULL;

  signaling_resume_table_count (claim->resumes, found);
  if (found)
    return take_up (claim, state);

  g_object_set_qdata_full (G_OBJECT (claim->socket), prepared_quark (),
                           new_session (claim->resumes, claim->socket), g_object_unref);
  signaling_socketio_socket_release (claim->socket);
  return NULL;
}

static gboolean
claim_elsewhere (SignalingRouter         *router,
                 SignalingResumeTable    *resumes,
                 SignalingSocketioSocket *socket)
{
  SignalingIdentity *identity = signaling_identity_lookup (socket);
  Claim *claim = g_new0 (Claim, 1);

  claim->router = router;
  claim->resumes = g_object_ref (resumes);
  claim->socket = g_object_ref (socket);
  signaling_socketio_socket_hold (socket);
  if (signaling_resume_table_claim (resumes, requested_pid (socket),
                                    identity != NULL ? signaling_identity_get_id (identity) : NULL,
                                    on_claimed, claim, claim_free))
    return TRUE;

  signaling_socketio_socket_release (socket);
  claim_free (claim);
  return FALSE;
}

/*
 * signaling_socketio_connection_prepare:
 * @resumes: the sessions that may be resumed, which this one joins
 *
 * Before the CONNECT reply: finds the socket a pid recovers, here or
 * (in a cluster, holding the reply) on another node, and gives @socket
 * its id and pid, or a new pid to a new socket (both go in the reply).
 * signaling_socketio_connection_accept() then takes it up.
 */
void
signaling_socketio_connection_prepare (SignalingRouter         *router,
                                       SignalingResumeTable    *resumes,
                                       SignalingSocketioSocket *socket)
{
  gboolean unknown = FALSE;
  SignalingSocketioConnection *self = take_session (resumes, socket, &unknown);

  if (self == NULL && unknown)
    {
      if (claim_elsewhere (router, resumes, socket))
        return;
      signaling_resume_table_count (resumes, FALSE);
    }

  if (self == NULL)
    {
      g_object_set_qdata_full (G_OBJECT (socket), prepared_quark (), new_session (resumes, socket),
                               g_object_unref);
      return;
    }

  signaling_socketio_socket_recover (socket, signaling_socketio_socket_get_id (self->socket), self->pid);
  g_object_set_qdata_full (G_OBJECT (socket), prepared_quark (), g_object_ref (self), g_object_unref);
}

/* Sends what the client missed: every kept event without offsets
 * (they were all kept unsent); with offsets, those after the one the
 * client named, with their own offsets, and they stay kept. */
static void
replay (SignalingSocketioConnection *self)
{
  g_autofree char *after = g_steal_pointer (&self->replay_after);
  gboolean replaying = after == NULL;

  if (!self->offsets)
    {
      while (!g_queue_is_empty (&self->buffered))
        {
          BufferedEvent *buffered = g_queue_pop_head (&self->buffered);

          emit_buffered (self->socket, buffered);
          buffered_event_free (buffered);
        }
      self->buffered_size = 0;
      return;
    }

  for (GList *l = self->buffered.head; l != NULL; l = l->next)
    {
      BufferedEvent *buffered = l->data;

      if (replaying)
        emit_buffered (self->socket, buffered);
      buffered->sent = TRUE;
      if (!replaying && g_strcmp0 (buffered->offset, after) == 0)
        replaying = TRUE;
    }
}

/* Hands @socket to the session it recovers: its events go on where
 * they stopped, with what was sent in the gap, and no one saw it leave. */
static void
recover (SignalingSocketioConnection *self,
         SignalingSocketioSocket     *socket)
{
  stop_window (self);
  if (!self->detached)
    {
      /* The old transport only hangs (no close reached us yet): end it
       * without a word to the router. */
      g_autoptr(SignalingEngineioSocket) old = g_object_ref (signaling_socketio_socket_get_engine (self->socket));

      signaling_socketio_socket_set_consumer (self->socket, NULL, NULL);
      signaling_engineio_socket_close (old, "recovered on a new connection");
    }
  set_detached (self, FALSE);

  g_set_object (&self->socket, socket);
  signaling_socketio_socket_set_consumer (socket, &socket_consumer, self);
  signaling_router_notify_transport (self->router, self->client);
  signaling_client_log (self->client, G_LOG_LEVEL_INFO, NULL, "Client %s recovered",
                        signaling_client_get_id (self->client));

  replay (self);
}

/*
 * signaling_socketio_connection_accept:
 *
 * Takes a new socket of the default namespace: registers its client
 * with the router (the socket id is the client id, as seed 000's
 * clients expect, or the token's `sub` when tokens are on) and sends
 * seed 000's `your_id`, then `ice_servers`.
 */
void
signaling_socketio_connection_accept (SignalingRouter         *router,
                                      SignalingSocketioSocket *socket)
{
  g_autoptr(SignalingSocketioConnection) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) args = json_array_new ();
  g_autoptr(JsonArray) ice_args = json_array_new ();
  g_autoptr(JsonNode) ice_servers = NULL;
  SignalingEngineioSocket *engine = signaling_socketio_socket_get_engine (socket);
  /* Left by the server's refuse-socket handler when tokens are on. */
  SignalingIdentity *identity = signaling_identity_lookup (socket);

  self = g_object_steal_qdata (G_OBJECT (socket), prepared_quark ());
  if (self != NULL && self->client != NULL)
    {
      recover (self, socket);
      return;
    }
  if (self == NULL)
    self = g_object_new (SIGNALING_TYPE_SOCKETIO_CONNECTION, NULL);
  self->socket = g_object_ref (socket);
  self->router = router;

  self->client = signaling_router_attach (router, SIGNALING_CONNECTION (self),
                                         identity != NULL ? signaling_identity_get_id (identity)
                                                          : signaling_socketio_socket_get_id (socket),
                                         signaling_engineio_socket_get_remote_address (engine),
                                         &error);
  if (self->client == NULL)
    {
      emit_error (self, error->message);
      signaling_engineio_socket_close (engine, "server full");
      return;
    }

  /* A plain handler, taken back in dispose: g_signal_connect_object()
   * costs twice the memory, for every idle peer. */
  signaling_socketio_socket_set_consumer (socket, &socket_consumer, self);

  signaling_identity_attach (identity, self->client);

  json_array_add_string_element (args, signaling_client_get_id (self->client));
  emit_args (self, "your_id", args);

  /* Seed clients ignore events they do not know; with no ICE server
   * configured there is nothing to say. */
  ice_servers = signaling_router_build_ice_servers (router, signaling_client_get_id (self->client));
  if (json_array_get_length (json_node_get_array (ice_servers)) > 0)
    {
      json_array_add_element (ice_args, g_steal_pointer (&ice_servers));
      emit_args (self, "ice_servers", ice_args);
    }
}
