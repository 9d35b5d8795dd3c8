/* signaling-socketio-socket.c: one Socket.IO v5 socket (a namespace connection)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-socketio"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-error.h"
#include "signaling-socketio-socket-private.h"
#include "signaling-marshal.h"
#include "signaling-util-private.h"

/**
 * SignalingSocketioSocket:
 *
 * A client's connection to one Socket.IO namespace, over an
 * [class@Signaling.EngineioSocket].
 *
 * Every event the client emits is announced by
 * [signal@Signaling.SocketioSocket::event]; the first handler that
 * returns %TRUE takes it. Send events with
 * [method@Signaling.SocketioSocket.emit].
 */
struct _SignalingSocketioSocket
{
  GObject parent_instance;

  char *id;
  char *pid;  /* Connection State Recovery's private id, or NULL */
  char *nsp;
  JsonNode *auth;
  SignalingEngineioSocket *engine;
  gboolean connected;

  gint64 next_ack_id;
  GHashTable *pending_acks;  /* ack id → GTask */

  const SignalingSocketioConsumer *consumer;  /* static; NULL: none */
  gpointer consumer_data;
  SignalingSocketioDisconnectedFunc disconnected_func;
  gpointer disconnected_data;

  /* A CONNECT whose answer waits (a recovery from another node). */
  gboolean held;
  SignalingSocketioReleaseFunc release_func;
  gpointer release_data;
};

G_DEFINE_FINAL_TYPE (SignalingSocketioSocket, signaling_socketio_socket, G_TYPE_OBJECT)

enum {
  SIGNAL_EVENT,
  SIGNAL_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/**
 * SignalingSocketioAck:
 *
 * The acknowledgement a client asked for when it emitted an event.
 * Call [method@Signaling.SocketioAck.send] once to answer it.
 */
struct _SignalingSocketioAck
{
  grefcount ref_count;
  SignalingSocketioSocket *socket;
  gint64 id;
  gboolean sent;
};

G_DEFINE_BOXED_TYPE (SignalingSocketioAck, signaling_socketio_ack,
                     signaling_socketio_ack_ref, signaling_socketio_ack_unref)

static SignalingSocketioAck *
signaling_socketio_ack_new (SignalingSocketioSocket *socket,
                            gint64                   id)
{
  SignalingSocketioAck *ack = g_new0 (SignalingSocketioAck, 1);

  g_ref_count_init (&ack->ref_count);
  ack->socket = g_object_ref (socket);
  ack->id = id;
  return ack;
}

/**
 * signaling_socketio_ack_ref:
 * @ack: an acknowledgement
 *
 * Takes a reference to @ack.
 *
 * Returns: (transfer full): @ack
 */
SignalingSocketioAck *
signaling_socketio_ack_ref (SignalingSocketioAck *ack)
{
  g_ref_count_inc (&ack->ref_count);
  return ack;
}

/**
 * signaling_socketio_ack_unref:
 * @ack: (transfer full): an acknowledgement
 *
 * Drops a reference to @ack, freeing it with the last one.
 */
void
signaling_socketio_ack_unref (SignalingSocketioAck *ack)
{
  if (!g_ref_count_dec (&ack->ref_count))
    return;

  g_object_unref (ack->socket);
  g_free (ack);
}

/* Binary attachments travel as {"_placeholder":true,"num":N} in the
 * JSON; the packet type says whether there are any. */
static SignalingSocketioPacket *
new_data_packet (SignalingSocketioPacketType  text_type,
                 SignalingSocketioPacketType  binary_type,
                 const char                  *nsp,
                 gint64                       id,
                 JsonArray                   *array,
                 GPtrArray                   *attachments)
{
  g_autoptr(JsonNode) data = json_node_init_array (json_node_alloc (), array);
  gboolean binary = attachments != NULL && attachments->len > 0;
  SignalingSocketioPacket *packet;

  packet = signaling_socketio_packet_new (binary ? binary_type : text_type, nsp, id, data);
  for (guint i = 0; binary && i < attachments->len; i++)
    g_ptr_array_add (packet->attachments, g_bytes_ref (g_ptr_array_index (attachments, i)));

  return packet;
}

/**
 * signaling_socketio_ack_send:
 * @ack: an acknowledgement
 * @args: (nullable): the arguments of the reply
 * @attachments: (nullable) (element-type GBytes): binary attachments the
 *   placeholders in @args refer to
 *
 * Answers the client's acknowledgement. Only the first call counts.
 */
void
signaling_socketio_ack_send (SignalingSocketioAck *ack,
                             JsonArray            *args,
                             GPtrArray            *attachments)
{
  g_autoptr(JsonArray) empty = NULL;
  SignalingSocketioPacket *packet;

  g_return_if_fail (ack != NULL);

  if (ack->sent)
    return;
  ack->sent = TRUE;

  if (args == NULL)
    args = empty = json_array_new ();

  packet = new_data_packet (SIGNALING_SOCKETIO_PACKET_ACK, SIGNALING_SOCKETIO_PACKET_BINARY_ACK,
                            ack->socket->nsp, ack->id, args, attachments);
  signaling_socketio_socket_send_packet (ack->socket, packet);
  signaling_socketio_packet_free (packet);
}

static void
fail_pending_ack (gpointer data)
{
  GTask *task = data;

  if (!g_task_had_error (task) && !g_task_get_completed (task))
    g_task_return_new_error (task, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                             _("The client disconnected before acknowledging"));
  g_object_unref (task);
}

static void
signaling_socketio_socket_finalize (GObject *object)
{
  SignalingSocketioSocket *self = SIGNALING_SOCKETIO_SOCKET (object);

  g_clear_pointer (&self->pending_acks, g_hash_table_unref);
  g_clear_pointer (&self->auth, json_node_unref);
  g_free (self->pid);
  g_clear_object (&self->engine);
  g_free (self->id);
  g_free (self->nsp);

  G_OBJECT_CLASS (signaling_socketio_socket_parent_class)->finalize (object);
}

static void
signaling_socketio_socket_class_init (SignalingSocketioSocketClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_socketio_socket_finalize;

  /**
   * SignalingSocketioSocket::event:
   * @self: the socket
   * @name: the event name
   * @args: the arguments after the name (binary ones as placeholders)
   * @attachments: (element-type GBytes): the binary attachments, in
   *   placeholder order; empty when there are none
   * @ack: (nullable): the acknowledgement the client asked for, if any
   *
   * Emitted for every event the client emits.
   *
   * Returns: %TRUE if the handler took the event; later handlers then
   *   do not see it
   */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL,
                  _signaling_marshal_BOOLEAN__STRING_BOXED_BOXED_BOXED,
                  G_TYPE_BOOLEAN, 4,
                  G_TYPE_STRING,
                  JSON_TYPE_ARRAY,
                  G_TYPE_PTR_ARRAY,
                  SIGNALING_TYPE_SOCKETIO_ACK);
  g_signal_set_va_marshaller (signals[SIGNAL_EVENT], G_TYPE_FROM_CLASS (klass),
                              _signaling_marshal_BOOLEAN__STRING_BOXED_BOXED_BOXEDv);

  /**
   * SignalingSocketioSocket::disconnected:
   * @self: the socket
   * @reason: why, for example `client namespace disconnect` or
   *   `transport close`
   *
   * Emitted once, when the socket has left its namespace.
   */
  signals[SIGNAL_DISCONNECTED] =
    g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
signaling_socketio_socket_init (SignalingSocketioSocket *self)
{
}

SignalingSocketioSocket *
signaling_socketio_socket_new (SignalingEngineioSocket *engine,
                               const char              *nsp,
                               JsonNode                *auth)
{
  SignalingSocketioSocket *self = g_object_new (SIGNALING_TYPE_SOCKETIO_SOCKET, NULL);

  self->id = signaling_generate_id ();
  self->nsp = g_strdup (nsp);
  self->engine = g_object_ref (engine);
  /* Without one, an empty object is made when first asked for: most
   * sockets never are, and an idle peer should cost little. */
  if (auth != NULL)
    self->auth = json_node_copy (auth);
  self->connected = TRUE;

  return self;
}

/*
 * signaling_socketio_socket_recover:
 * @id: (nullable): the id of the session this socket recovers, or %NULL
 * @pid: (nullable): the private id to give the client for its next recovery
 *
 * Before the CONNECT reply, which carries both: Connection State
 * Recovery gives a recovered socket its old id (socket.io 4.6+).
 */
void
signaling_socketio_socket_recover (SignalingSocketioSocket *self,
                                   const char              *id,
                                   const char              *pid)
{
  if (id != NULL)
    {
      g_free (self->id);
      self->id = g_strdup (id);
    }
  g_free (self->pid);
  self->pid = g_strdup (pid);
}

const char *
signaling_socketio_socket_get_pid (SignalingSocketioSocket *self)
{
  return self->pid;
}

/**
 * signaling_socketio_socket_get_id:
 * @self: a socket
 *
 * Gets the socket's id (not the Engine.IO session id).
 *
 * Returns: the socket's id (not the Engine.IO session id)
 */
const char *
signaling_socketio_socket_get_id (SignalingSocketioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self), NULL);
  return self->id;
}

/**
 * signaling_socketio_socket_get_namespace:
 * @self: a socket
 *
 * Gets the namespace name.
 *
 * Returns: the namespace name
 */
const char *
signaling_socketio_socket_get_namespace (SignalingSocketioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self), NULL);
  return self->nsp;
}

/**
 * signaling_socketio_socket_get_auth:
 * @self: a socket
 *
 * Gets the CONNECT payload (an empty object if the client sent none).
 *
 * Returns: (transfer none): the CONNECT payload (an empty object if the
 *   client sent none)
 */
/* The CONNECT payload as sent, or NULL: readers inside the library
 * need no empty object made for every peer that sent none. */
JsonNode *
signaling_socketio_socket_peek_auth (SignalingSocketioSocket *self)
{
  return self->auth;
}

JsonNode *
signaling_socketio_socket_get_auth (SignalingSocketioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self), NULL);

  if (self->auth == NULL)
    {
      /* json_node_init_object() takes its own reference to the object. */
      g_autoptr(JsonObject) empty = json_object_new ();

      self->auth = json_node_init_object (json_node_alloc (), empty);
    }
  return self->auth;
}

/**
 * signaling_socketio_socket_get_engine:
 * @self: a socket
 *
 * Gets the Engine.IO session underneath.
 *
 * Returns: (transfer none): the Engine.IO session underneath
 */
SignalingEngineioSocket *
signaling_socketio_socket_get_engine (SignalingSocketioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self), NULL);
  return self->engine;
}

/**
 * signaling_socketio_socket_is_connected:
 * @self: a socket
 *
 * Checks whether the socket is still connected to its namespace.
 *
 * Returns: %FALSE once the socket has left its namespace
 */
gboolean
signaling_socketio_socket_is_connected (SignalingSocketioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self), FALSE);
  return self->connected;
}

void
signaling_socketio_socket_send_packet (SignalingSocketioSocket *self,
                                       SignalingSocketioPacket *packet)
{
  g_autofree char *text = NULL;

  if (!signaling_engineio_socket_is_open (self->engine))
    return;

  text = signaling_socketio_packet_encode (packet);
  signaling_engineio_socket_send_text (self->engine, text);
  for (guint i = 0; i < packet->attachments->len; i++)
    signaling_engineio_socket_send_binary (self->engine, g_ptr_array_index (packet->attachments, i));
}

static JsonArray *
prepend_event_name (const char *event,
                    JsonArray  *args)
{
  JsonArray *array = json_array_sized_new (1 + (args != NULL ? json_array_get_length (args) : 0));

  json_array_add_string_element (array, event);
  /* Shared, not copied: nodes are never changed once built. */
  for (guint i = 0; args != NULL && i < json_array_get_length (args); i++)
    json_array_add_element (array, json_node_ref (json_array_get_element (args, i)));

  return array;
}

static void
send_event (SignalingSocketioSocket *self,
            gint64                   ack_id,
            const char              *event,
            JsonArray               *args,
            GPtrArray               *attachments)
{
  g_autoptr(JsonArray) array = NULL;
  SignalingSocketioPacket *packet;

  /* Without attachments, the relay's case, straight to text. */
  if (attachments == NULL || attachments->len == 0)
    {
      g_autofree char *text = NULL;

      if (!signaling_engineio_socket_is_open (self->engine))
        return;
      text = signaling_socketio_encode_event (self->nsp, ack_id, event, args);
      signaling_engineio_socket_send_text (self->engine, text);
      return;
    }

  array = prepend_event_name (event, args);
  packet = new_data_packet (SIGNALING_SOCKETIO_PACKET_EVENT, SIGNALING_SOCKETIO_PACKET_BINARY_EVENT,
                            self->nsp, ack_id, array, attachments);
  signaling_socketio_socket_send_packet (self, packet);
  signaling_socketio_packet_free (packet);
}

/**
 * signaling_socketio_socket_emit:
 * @self: a socket
 * @event: the event name
 * @args: (nullable): the arguments
 * @attachments: (nullable) (element-type GBytes): binary attachments the
 *   placeholders in @args refer to
 *
 * Emits an event to the client.
 */
void
signaling_socketio_socket_emit (SignalingSocketioSocket *self,
                                const char              *event,
                                JsonArray               *args,
                                GPtrArray               *attachments)
{
  g_return_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self));
  g_return_if_fail (event != NULL);

  if (self->connected)
    send_event (self, -1, event, args, attachments);
}

/*
 * signaling_socketio_socket_emit_text:
 * @args_json: the event's arguments as JSON text, joined by commas
 *
 * As signaling_socketio_socket_emit(), for arguments already written
 * as JSON: the relay's path, with no JSON tree built to be written.
 */
void
signaling_socketio_socket_emit_text (SignalingSocketioSocket *self,
                                     const char              *event,
                                     const char              *args_json)
{
  g_autofree char *text = NULL;

  g_return_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self));

  if (!self->connected || !signaling_engineio_socket_is_open (self->engine))
    return;
  text = signaling_socketio_encode_event_text (self->nsp, -1, event, args_json);
  signaling_engineio_socket_send_text (self->engine, text);
}

/**
 * signaling_socketio_socket_emit_with_ack:
 * @self: a socket
 * @event: the event name
 * @args: (nullable): the arguments
 * @attachments: (nullable) (element-type GBytes): binary attachments
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the client's acknowledgement
 * @user_data: data for @callback
 *
 * Emits an event and asks the client to acknowledge it.
 */
void
signaling_socketio_socket_emit_with_ack (SignalingSocketioSocket *self,
                                         const char              *event,
                                         JsonArray               *args,
                                         GPtrArray               *attachments,
                                         GCancellable            *cancellable,
                                         GAsyncReadyCallback      callback,
                                         gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  gint64 id;

  g_return_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self));
  g_return_if_fail (event != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signaling_socketio_socket_emit_with_ack);

  if (!self->connected)
    {
      g_task_return_new_error (task, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
                               _("The socket is not connected"));
      return;
    }

  id = self->next_ack_id++;
  /* Made on first use: most sockets never ask for an acknowledgement. */
  if (self->pending_acks == NULL)
    self->pending_acks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, fail_pending_ack);
  g_hash_table_insert (self->pending_acks, g_memdup2 (&id, sizeof id), g_object_ref (task));
  send_event (self, id, event, args, attachments);
}

/**
 * signaling_socketio_socket_emit_with_ack_finish:
 * @self: a socket
 * @result: the result
 * @out_attachments: (out) (optional) (transfer full) (element-type GBytes):
 *   the binary attachments of the acknowledgement
 * @error: return location for a #GError
 *
 * Finishes [method@Signaling.SocketioSocket.emit_with_ack].
 *
 * Returns: (transfer full): the arguments the client acknowledged with
 */
JsonArray *
signaling_socketio_socket_emit_with_ack_finish (SignalingSocketioSocket  *self,
                                                GAsyncResult             *result,
                                                GPtrArray               **out_attachments,
                                                GError                  **error)
{
  SignalingSocketioPacket *packet;
  JsonArray *args;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  packet = g_task_propagate_pointer (G_TASK (result), error);
  if (packet == NULL)
    return NULL;

  args = json_array_ref (json_node_get_array (packet->data));
  if (out_attachments != NULL)
    *out_attachments = g_ptr_array_ref (packet->attachments);
  signaling_socketio_packet_free (packet);

  return args;
}

static void
handle_ack (SignalingSocketioSocket *self,
            SignalingSocketioPacket *packet)
{
  GTask *task;
  gint64 id = packet->id;

  if (self->pending_acks == NULL ||
      !g_hash_table_steal_extended (self->pending_acks, &id, NULL, (gpointer *) &task))
    {
      g_debug ("Socket.IO socket %s: acknowledgement %" G_GINT64_FORMAT " was not asked for",
               self->id, id);
      return;
    }

  g_task_return_pointer (task, signaling_socketio_packet_copy (packet),
                         (GDestroyNotify) signaling_socketio_packet_free);
  g_object_unref (task);
}

static void
handle_event (SignalingSocketioSocket *self,
              SignalingSocketioPacket *packet)
{
  g_autoptr(JsonArray) args = json_array_ref (json_node_get_array (packet->data));
  g_autoptr(SignalingSocketioAck) ack = NULL;
  g_autofree char *name = g_strdup (json_array_get_string_element (args, 0));
  gboolean handled = FALSE;

  /* The packet was decoded for us alone: its array, without the name,
   * is the arguments (no new array per event). */
  json_array_remove_element (args, 0);

  if (packet->id >= 0)
    ack = signaling_socketio_ack_new (self, packet->id);

  if (self->consumer != NULL)
    handled = self->consumer->event (self, name, args, packet->attachments, ack, self->consumer_data);
  if (!handled && g_signal_has_handler_pending (self, signals[SIGNAL_EVENT], 0, FALSE))
    g_signal_emit (self, signals[SIGNAL_EVENT], 0, name, args, packet->attachments, ack, &handled);
  if (!handled)
    g_debug ("Socket.IO socket %s: nobody handled event “%s”", self->id, name);
}

void
signaling_socketio_socket_handle_packet (SignalingSocketioSocket *self,
                                         SignalingSocketioPacket *packet)
{
  g_autoptr(SignalingSocketioSocket) kept = g_object_ref (self);

  switch (packet->type)
    {
    case SIGNALING_SOCKETIO_PACKET_EVENT:
    case SIGNALING_SOCKETIO_PACKET_BINARY_EVENT:
      handle_event (self, packet);
      break;

    case SIGNALING_SOCKETIO_PACKET_ACK:
    case SIGNALING_SOCKETIO_PACKET_BINARY_ACK:
      handle_ack (self, packet);
      break;

    default:
      break;
    }
}

void
signaling_socketio_socket_mark_disconnected (SignalingSocketioSocket *self,
                                             const char              *reason)
{
  g_autoptr(SignalingSocketioSocket) kept = g_object_ref (self);

  if (!self->connected)
    return;

  self->connected = FALSE;
  if (self->pending_acks != NULL)
    g_hash_table_remove_all (self->pending_acks);
  if (self->disconnected_func != NULL)
    self->disconnected_func (self, self->disconnected_data);
  if (self->consumer != NULL)
    self->consumer->disconnected (self, reason, self->consumer_data);
  g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0, reason);
}

/*
 * signaling_socketio_socket_hold:
 *
 * Called by a SignalingSocketioServer::refuse-socket handler that lets
 * the socket in but cannot say yet with which id and pid: the CONNECT
 * is answered at signaling_socketio_socket_release().
 */
void
signaling_socketio_socket_hold (SignalingSocketioSocket *self)
{
  self->held = TRUE;
}

gboolean
signaling_socketio_socket_is_held (SignalingSocketioSocket *self)
{
  return self->held;
}

/* The session's: how to answer the held CONNECT; %NULL once it has
 * gone. */
void
signaling_socketio_socket_set_release_func (SignalingSocketioSocket      *self,
                                            SignalingSocketioReleaseFunc  func,
                                            gpointer                      user_data)
{
  self->release_func = func;
  self->release_data = user_data;
}

void
signaling_socketio_socket_release (SignalingSocketioSocket *self)
{
  SignalingSocketioReleaseFunc func = self->release_func;

  self->held = FALSE;
  self->release_func = NULL;
  if (func != NULL)
    func (self, self->release_data);
}

void
signaling_socketio_socket_set_disconnected_func (SignalingSocketioSocket           *self,
                                                 SignalingSocketioDisconnectedFunc  func,
                                                 gpointer                           user_data)
{
  g_return_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self));
  self->disconnected_func = func;
  self->disconnected_data = user_data;
}

void
signaling_socketio_socket_set_consumer (SignalingSocketioSocket         *self,
                                        const SignalingSocketioConsumer *consumer,
                                        gpointer                         user_data)
{
  g_return_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self));
  self->consumer = consumer;
  self->consumer_data = user_data;
}

/* Its session moved to another transport: its consumer is told. */
void
signaling_socketio_socket_notify_transport (SignalingSocketioSocket *self)
{
  if (self->consumer != NULL && self->consumer->transport_changed != NULL)
    self->consumer->transport_changed (self, self->consumer_data);
}

/**
 * signaling_socketio_socket_disconnect:
 * @self: a socket
 *
 * Makes the client leave the namespace (a DISCONNECT packet). The
 * Engine.IO session stays open for the client's other namespaces.
 */
void
signaling_socketio_socket_disconnect (SignalingSocketioSocket *self)
{
  SignalingSocketioPacket *packet;

  g_return_if_fail (SIGNALING_IS_SOCKETIO_SOCKET (self));

  if (!self->connected)
    return;

  packet = signaling_socketio_packet_new (SIGNALING_SOCKETIO_PACKET_DISCONNECT, self->nsp, -1, NULL);
  signaling_socketio_socket_send_packet (self, packet);
  signaling_socketio_packet_free (packet);
  signaling_socketio_socket_mark_disconnected (self, "server namespace disconnect");
}
