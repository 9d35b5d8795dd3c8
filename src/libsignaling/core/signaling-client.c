/* signaling-client.c: one connected peer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include "signaling-client-private.h"
#include "signaling-marshal.h"
#include "signaling-enums.h"
#include "signaling-message-private.h"

/**
 * SignalingClient:
 *
 * One connected peer, whatever protocol it speaks.
 *
 * Before the server relays a message from a client, the client emits
 * the signal for its kind ([signal@Signaling.Client::offer] and so on).
 * A handler that returns %TRUE consumes the message and nothing is
 * relayed, which is how an application adds its own behaviour.
 *
 * An application can also act as a peer itself with
 * [method@Signaling.Client.send_offer] and friends.
 */
struct _SignalingClient
{
  GObject parent_instance;

  char *id;
  char *remote_address;
  gint64 connected_at_us;  /* real time */
  GDateTime *connected_at;  /* made from it when asked for */
  SignalingConnection *connection;

  /* Names of joined rooms in join order.  Names, not SignalingRoom
   * references: rooms hold their members, and the router owns both. */
  GPtrArray *rooms;

  guint64 messages_in;
  guint64 messages_out;
  guint64 bytes_in;
  guint64 bytes_out;

  /* Token bucket for the per-client message rate. */
  double tokens;
  gint64 tokens_updated_at;
  /* Messages refused since the client last slowed down. */
  guint refused;
  gboolean abusive;
};

G_DEFINE_FINAL_TYPE (SignalingClient, signaling_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_REMOTE_ADDRESS,
  PROP_PROTOCOL,
  PROP_TRANSPORT,
  PROP_CONNECTED_AT,
  PROP_ROOMS,
  PROP_MESSAGES_IN,
  PROP_MESSAGES_OUT,
  PROP_BYTES_IN,
  PROP_BYTES_OUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_OFFER,
  SIGNAL_ANSWER,
  SIGNAL_CANDIDATE,
  SIGNAL_HANGUP,
  SIGNAL_MESSAGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
signaling_client_finalize (GObject *object)
{
  SignalingClient *self = SIGNALING_CLIENT (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->remote_address, g_free);
  g_clear_pointer (&self->connected_at, g_date_time_unref);
  g_clear_pointer (&self->rooms, g_ptr_array_unref);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (signaling_client_parent_class)->finalize (object);
}

static void
signaling_client_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SignalingClient *self = SIGNALING_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_string (value, self->remote_address);
      break;
    case PROP_PROTOCOL:
      g_value_set_string (value, signaling_client_get_protocol (self));
      break;
    case PROP_TRANSPORT:
      g_value_set_string (value, signaling_client_get_transport (self));
      break;
    case PROP_CONNECTED_AT:
      g_value_set_boxed (value, signaling_client_get_connected_at (self));
      break;
    case PROP_ROOMS:
      g_value_take_boxed (value, signaling_client_dup_rooms (self));
      break;
    case PROP_MESSAGES_IN:
      g_value_set_uint64 (value, self->messages_in);
      break;
    case PROP_MESSAGES_OUT:
      g_value_set_uint64 (value, self->messages_out);
      break;
    case PROP_BYTES_IN:
      g_value_set_uint64 (value, self->bytes_in);
      break;
    case PROP_BYTES_OUT:
      g_value_set_uint64 (value, self->bytes_out);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_client_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  SignalingClient *self = SIGNALING_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_REMOTE_ADDRESS:
      self->remote_address = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static guint
new_relay_signal (GObjectClass *object_class,
                  const char   *name)
{
  guint id = g_signal_new (name,
                           G_TYPE_FROM_CLASS (object_class),
                           G_SIGNAL_RUN_LAST,
                           0,
                           g_signal_accumulator_true_handled, NULL,
                           _signaling_marshal_BOOLEAN__BOXED,
                           G_TYPE_BOOLEAN, 1,
                           SIGNALING_TYPE_MESSAGE | G_SIGNAL_TYPE_STATIC_SCOPE);

  g_signal_set_va_marshaller (id, G_TYPE_FROM_CLASS (object_class),
                              _signaling_marshal_BOOLEAN__BOXEDv);
  return id;
}

static GParamSpec *
new_counter_pspec (const char *name)
{
  /* Counters change with every message; they are read on demand
   * (the D-Bus exporter polls them), never notified. */
  return g_param_spec_uint64 (name, NULL, NULL, 0, G_MAXUINT64, 0,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
signaling_client_class_init (SignalingClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = signaling_client_finalize;
  object_class->get_property = signaling_client_get_property;
  object_class->set_property = signaling_client_set_property;

  /**
   * SignalingClient:id:
   *
   * The server-assigned, unguessable id that peers use to address
   * this client.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingClient:remote-address:
   *
   * The peer's IP address.
   */
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_string ("remote-address", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingClient:protocol:
   *
   * The dialect the peer speaks: `native` or `socket.io`.
   */
  properties[PROP_PROTOCOL] =
    g_param_spec_string ("protocol", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingClient:transport:
   *
   * How the peer is connected: `websocket` or `polling`.
   */
  properties[PROP_TRANSPORT] =
    g_param_spec_string ("transport", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingClient:connected-at:
   *
   * When the peer connected.
   */
  properties[PROP_CONNECTED_AT] =
    g_param_spec_boxed ("connected-at", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingClient:rooms:
   *
   * The rooms the peer has joined, in join order.
   */
  properties[PROP_ROOMS] =
    g_param_spec_boxed ("rooms", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingClient:messages-in:
   *
   * Messages received from the peer. Not notified.
   */
  properties[PROP_MESSAGES_IN] = new_counter_pspec ("messages-in");

  /**
   * SignalingClient:messages-out:
   *
   * Messages sent to the peer. Not notified.
   */
  properties[PROP_MESSAGES_OUT] = new_counter_pspec ("messages-out");

  /**
   * SignalingClient:bytes-in:
   *
   * Bytes received from the peer. Not notified.
   */
  properties[PROP_BYTES_IN] = new_counter_pspec ("bytes-in");

  /**
   * SignalingClient:bytes-out:
   *
   * Bytes sent to the peer. Not notified.
   */
  properties[PROP_BYTES_OUT] = new_counter_pspec ("bytes-out");

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SignalingClient::offer:
   * @self: the sending client
   * @message: the offer
   *
   * Emitted before an offer from this client is relayed.
   *
   * Returns: %TRUE to consume the message and stop the relay
   */
  signals[SIGNAL_OFFER] = new_relay_signal (object_class, "offer");

  /**
   * SignalingClient::answer:
   * @self: the sending client
   * @message: the answer
   *
   * Emitted before an answer from this client is relayed.
   *
   * Returns: %TRUE to consume the message and stop the relay
   */
  signals[SIGNAL_ANSWER] = new_relay_signal (object_class, "answer");

  /**
   * SignalingClient::candidate:
   * @self: the sending client
   * @message: the ICE candidate
   *
   * Emitted before an ICE candidate from this client is relayed.
   *
   * Returns: %TRUE to consume the message and stop the relay
   */
  signals[SIGNAL_CANDIDATE] = new_relay_signal (object_class, "candidate");

  /**
   * SignalingClient::hangup:
   * @self: the sending client
   * @message: the hangup
   *
   * Emitted before a hangup from this client is relayed.
   *
   * Returns: %TRUE to consume the message and stop the relay
   */
  signals[SIGNAL_HANGUP] = new_relay_signal (object_class, "hangup");

  /**
   * SignalingClient::message:
   * @self: the sending client
   * @message: the application message
   *
   * Emitted before application data from this client is relayed.
   *
   * Returns: %TRUE to consume the message and stop the relay
   */
  signals[SIGNAL_MESSAGE] = new_relay_signal (object_class, "message");
}

static void
signaling_client_init (SignalingClient *self)
{
  self->connected_at_us = g_get_real_time ();
  self->rooms = g_ptr_array_new_with_free_func (g_free);
  self->tokens = -1;
}

SignalingClient *
signaling_client_new (const char          *id,
                      const char          *remote_address,
                      SignalingConnection *connection)
{
  SignalingClient *self;

  self = g_object_new (SIGNALING_TYPE_CLIENT,
                       "id", id,
                       "remote-address", remote_address,
                       NULL);
  self->connection = g_object_ref (connection);

  return self;
}

SignalingConnection *
signaling_client_get_connection (SignalingClient *self)
{
  return self->connection;
}

/*
 * signaling_client_detach:
 *
 * Called when the peer has gone: later sends are dropped instead of
 * reaching a closed connection.
 */
void
signaling_client_detach (SignalingClient *self)
{
  g_clear_object (&self->connection);
}

/**
 * signaling_client_get_id:
 * @self: a client
 *
 * Gets the client's id.
 *
 * Returns: the client's id
 */
const char *
signaling_client_get_id (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), NULL);
  return self->id;
}

/**
 * signaling_client_get_remote_address:
 * @self: a client
 *
 * Gets the peer's IP address.
 *
 * Returns: (nullable): the peer's IP address
 */
const char *
signaling_client_get_remote_address (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), NULL);
  return self->remote_address;
}

/**
 * signaling_client_get_protocol:
 * @self: a client
 *
 * Gets the protocol the peer speaks.
 *
 * Returns: `native` or `socket.io`
 */
const char *
signaling_client_get_protocol (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), NULL);

  if (self->connection == NULL)
    return NULL;
  return signaling_connection_get_protocol (self->connection);
}

/**
 * signaling_client_get_transport:
 * @self: a client
 *
 * Gets the transport the peer is connected over.
 *
 * Returns: `websocket` or `polling`
 */
const char *
signaling_client_get_transport (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), NULL);

  if (self->connection == NULL)
    return NULL;
  return signaling_connection_get_transport (self->connection);
}

/**
 * signaling_client_get_connected_at:
 * @self: a client
 *
 * Gets when the peer connected.
 *
 * Returns: (transfer none): when the peer connected
 */
GDateTime *
signaling_client_get_connected_at (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), NULL);

  /* A GDateTime per idle peer costs 48 bytes; few are ever asked for. */
  if (self->connected_at == NULL)
    {
      g_autoptr(GDateTime) second = g_date_time_new_from_unix_utc (self->connected_at_us / G_USEC_PER_SEC);

      self->connected_at = g_date_time_add (second, self->connected_at_us % G_USEC_PER_SEC);
    }
  return self->connected_at;
}

/* When the peer connected, in real-time µs: without a GDateTime. */
gint64
signaling_client_get_connected_at_us (SignalingClient *self)
{
  return self->connected_at_us;
}

/**
 * signaling_client_dup_rooms:
 * @self: a client
 *
 * Gets the names of the rooms the client is in.
 *
 * Returns: (transfer full): the names of the rooms the client is in
 */
char **
signaling_client_dup_rooms (SignalingClient *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), NULL);

  for (guint i = 0; i < self->rooms->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (self->rooms, i));

  return g_strv_builder_end (builder);
}

static gboolean
room_name_equal (gconstpointer a,
                 gconstpointer b)
{
  return g_str_equal (a, b);
}

/**
 * signaling_client_is_in_room:
 * @self: a client
 * @room: a room name
 *
 * Checks whether the client has joined @room.
 *
 * Returns: whether the client has joined @room
 */
gboolean
signaling_client_is_in_room (SignalingClient *self,
                             const char      *room)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  return g_ptr_array_find_with_equal_func (self->rooms, room, room_name_equal, NULL);
}

GPtrArray *
signaling_client_get_room_names (SignalingClient *self)
{
  return self->rooms;
}

guint
signaling_client_get_room_count (SignalingClient *self)
{
  return self->rooms->len;
}

/* Returns whether the client's rooms changed. */
gboolean
signaling_client_add_room (SignalingClient *self,
                           const char      *room)
{
  if (signaling_client_is_in_room (self, room))
    return FALSE;

  g_ptr_array_add (self->rooms, g_strdup (room));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOMS]);
  return TRUE;
}

/* Returns whether the client's rooms changed. */
gboolean
signaling_client_remove_room (SignalingClient *self,
                              const char      *room)
{
  guint index;

  if (!g_ptr_array_find_with_equal_func (self->rooms, room, room_name_equal, &index))
    return FALSE;

  g_ptr_array_remove_index (self->rooms, index);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOMS]);
  return TRUE;
}

/**
 * signaling_client_get_messages_in:
 * @self: a client
 *
 * Counts the messages the peer has sent.
 *
 * Returns: how many messages the peer has sent
 */
guint64
signaling_client_get_messages_in (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), 0);
  return self->messages_in;
}

/**
 * signaling_client_get_messages_out:
 * @self: a client
 *
 * Counts the messages sent to the peer.
 *
 * Returns: how many messages were sent to the peer
 */
guint64
signaling_client_get_messages_out (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), 0);
  return self->messages_out;
}

/**
 * signaling_client_get_bytes_in:
 * @self: a client
 *
 * Counts the bytes of messages the peer has sent.
 *
 * Returns: how many bytes of messages the peer has sent
 */
guint64
signaling_client_get_bytes_in (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), 0);
  return self->bytes_in;
}

/**
 * signaling_client_get_bytes_out:
 * @self: a client
 *
 * Counts the bytes of messages sent to the peer.
 *
 * Returns: how many bytes of messages were sent to the peer
 */
guint64
signaling_client_get_bytes_out (SignalingClient *self)
{
  g_return_val_if_fail (SIGNALING_IS_CLIENT (self), 0);
  return self->bytes_out;
}

void
signaling_client_count_in (SignalingClient *self,
                           gsize            bytes)
{
  self->messages_in++;
  self->bytes_in += bytes;
}

/*
 * signaling_client_deliver:
 *
 * Hands @message to the peer's dialect, which encodes it.
 *
 * Returns: the bytes queued, 0 if the message was dropped
 */
gsize
signaling_client_deliver (SignalingClient  *self,
                          SignalingMessage *message)
{
  gsize bytes;

  if (self->connection == NULL)
    return 0;

  bytes = signaling_connection_deliver (self->connection, message);
  if (bytes > 0)
    {
      self->messages_out++;
      self->bytes_out += bytes;
    }

  return bytes;
}

/*
 * signaling_client_check_rate:
 * @rate: tokens added per second; 0 disables the limit
 * @burst: bucket size
 *
 * Takes a token for one more message. A client that runs out is
 * refused; one that goes on sending, more than a burst (or a second's
 * worth, if more) of refused messages without letting its bucket fill
 * back to half, is abusive. The peer hears of the first refusal only:
 * answering each message of a flood would be a flood of our own.
 *
 * Returns: what to do with the message
 */
SignalingRateVerdict
signaling_client_check_rate (SignalingClient *self,
                             double           rate,
                             guint            burst)
{
  gint64 now;

  if (rate <= 0)
    return SIGNALING_RATE_ACCEPT;

  now = g_get_monotonic_time ();
  if (self->tokens < 0)
    self->tokens = burst;
  else
    self->tokens = MIN ((double) burst,
                        self->tokens + rate * (now - self->tokens_updated_at) / G_USEC_PER_SEC);
  self->tokens_updated_at = now;

  /* It slowed down: a later overflow is a new one. */
  if (self->refused > 0 && self->tokens >= MAX (1.0, burst / 2.0))
    self->refused = 0;

  if (self->tokens >= 1)
    {
      self->tokens -= 1;
      return SIGNALING_RATE_ACCEPT;
    }

  if (self->abusive)
    return SIGNALING_RATE_DROP;

  self->refused++;
  if (self->refused == 1)
    return SIGNALING_RATE_REFUSE;
  if (self->refused > MAX ((double) burst, rate))
    {
      self->abusive = TRUE;
      return SIGNALING_RATE_ABUSIVE;
    }
  return SIGNALING_RATE_DROP;
}

void
signaling_client_notify_transport (SignalingClient *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSPORT]);
}

/*
 * signaling_client_emit_message:
 *
 * Emits the signal for @message's kind.
 *
 * Returns: %TRUE if a handler consumed the message
 */
gboolean
signaling_client_emit_message (SignalingClient  *self,
                               SignalingMessage *message)
{
  static const int signal_for_kind[] = {
    [SIGNALING_MESSAGE_KIND_OFFER] = SIGNAL_OFFER,
    [SIGNALING_MESSAGE_KIND_ANSWER] = SIGNAL_ANSWER,
    [SIGNALING_MESSAGE_KIND_CANDIDATE] = SIGNAL_CANDIDATE,
    [SIGNALING_MESSAGE_KIND_HANGUP] = SIGNAL_HANGUP,
    [SIGNALING_MESSAGE_KIND_MESSAGE] = SIGNAL_MESSAGE,
  };
  SignalingMessageKind kind = signaling_message_get_kind (message);
  gboolean handled = FALSE;

  g_return_val_if_fail (kind <= SIGNALING_MESSAGE_KIND_MESSAGE, FALSE);

  /* Every relayed message comes here: most servers connect nothing. */
  if (!g_signal_has_handler_pending (self, signals[signal_for_kind[kind]], 0, FALSE))
    return FALSE;

  signaling_message_mark_seen (message);
  g_signal_emit (self, signals[signal_for_kind[kind]], 0, message, &handled);
  return handled;
}

/**
 * signaling_client_send:
 * @self: a client
 * @from: the id the message appears to come from
 * @message: the message to deliver
 *
 * Sends @message to this client as if a peer called @from had sent it,
 * so that an application can take part in signaling itself. The
 * message is encoded in whatever dialect the client speaks.
 */
void
signaling_client_send (SignalingClient  *self,
                       const char       *from,
                       SignalingMessage *message)
{
  g_return_if_fail (SIGNALING_IS_CLIENT (self));
  g_return_if_fail (from != NULL);
  g_return_if_fail (message != NULL);

  signaling_message_set_from (message, from);
  signaling_client_deliver (self, message);
}

/**
 * signaling_client_send_offer:
 * @self: a client
 * @from: the id the offer appears to come from
 * @sdp: the SDP offer
 *
 * Sends an SDP offer to this client.
 */
void
signaling_client_send_offer (SignalingClient *self,
                             const char      *from,
                             const char      *sdp)
{
  g_autoptr(SignalingMessage) message = NULL;

  g_return_if_fail (SIGNALING_IS_CLIENT (self));

  message = signaling_message_new_offer (self->id, sdp);
  signaling_client_send (self, from, message);
}

/**
 * signaling_client_send_answer:
 * @self: a client
 * @from: the id the answer appears to come from
 * @sdp: the SDP answer
 *
 * Sends an SDP answer to this client.
 */
void
signaling_client_send_answer (SignalingClient *self,
                              const char      *from,
                              const char      *sdp)
{
  g_autoptr(SignalingMessage) message = NULL;

  g_return_if_fail (SIGNALING_IS_CLIENT (self));

  message = signaling_message_new_answer (self->id, sdp);
  signaling_client_send (self, from, message);
}

/**
 * signaling_client_send_candidate:
 * @self: a client
 * @from: the id the candidate appears to come from
 * @candidate: (nullable): an RTCIceCandidateInit object, or %NULL for the
 *   end of candidates
 *
 * Sends an ICE candidate to this client.
 */
void
signaling_client_send_candidate (SignalingClient *self,
                                 const char      *from,
                                 JsonNode        *candidate)
{
  g_autoptr(SignalingMessage) message = NULL;

  g_return_if_fail (SIGNALING_IS_CLIENT (self));

  message = signaling_message_new_candidate (self->id, candidate);
  signaling_client_send (self, from, message);
}

/**
 * signaling_client_send_hangup:
 * @self: a client
 * @from: the id the hangup appears to come from
 * @reason: (nullable): why the call ends
 *
 * Tells this client that the call with @from has ended.
 */
void
signaling_client_send_hangup (SignalingClient *self,
                              const char      *from,
                              const char      *reason)
{
  g_autoptr(SignalingMessage) message = NULL;

  g_return_if_fail (SIGNALING_IS_CLIENT (self));

  message = signaling_message_new_hangup (self->id, reason);
  signaling_client_send (self, from, message);
}

/**
 * signaling_client_send_data:
 * @self: a client
 * @from: the id the data appears to come from
 * @data: (nullable): any JSON value
 *
 * Sends application data to this client.
 */
void
signaling_client_send_data (SignalingClient *self,
                            const char      *from,
                            JsonNode        *data)
{
  g_autoptr(SignalingMessage) message = NULL;

  g_return_if_fail (SIGNALING_IS_CLIENT (self));

  message = signaling_message_new_data (self->id, data);
  signaling_client_send (self, from, message);
}

/**
 * signaling_client_disconnect:
 * @self: a client
 * @code: a WebSocket close code, for example 4000
 * @reason: (nullable): a short reason shown to the peer
 *
 * Closes the connection to the peer. The server then removes the client
 * from its rooms and emits [signal@Signaling.Server::client-disconnected].
 */
void
signaling_client_disconnect (SignalingClient *self,
                             gushort          code,
                             const char      *reason)
{
  g_return_if_fail (SIGNALING_IS_CLIENT (self));

  if (self->connection != NULL)
    signaling_connection_close (self->connection, code, reason);
}

/* The syslog priority of a GLib level, as GLib's own structured
 * logging writes it. */
static const char *
log_priority (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "3";
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return "4";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "5";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  return "7";
}

void
signaling_client_log_full (SignalingClient *self,
                           GLogLevelFlags   level,
                           const char      *room,
                           const char      *file,
                           const char      *line,
                           const char      *func,
                           const char      *format,
                           ...)
{
  g_autofree char *message = NULL;
  va_list args;
  GLogField fields[] = {
    { "MESSAGE", NULL, -1 },
    { "PRIORITY", log_priority (level), -1 },
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "CODE_FILE", file, -1 },
    { "CODE_LINE", line, -1 },
    { "CODE_FUNC", func, -1 },
    { SIGNALING_LOG_FIELD_CLIENT, self->id, -1 },
    { SIGNALING_LOG_FIELD_REMOTE, self->remote_address != NULL ? self->remote_address : "", -1 },
    { SIGNALING_LOG_FIELD_ROOM, room, -1 },
  };

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fields[0].value = message;

  g_log_structured_array (level, fields, G_N_ELEMENTS (fields) - (room == NULL ? 1 : 0));
}
