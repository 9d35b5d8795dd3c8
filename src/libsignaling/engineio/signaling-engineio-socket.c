/* signaling-engineio-socket.c: one Engine.IO v4 session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-engineio"

#include "config.h"

#include "signaling-engineio-packet-private.h"
#include "signaling-engineio-socket-private.h"
#include "signaling-marshal.h"
#include "signaling-util-private.h"

/**
 * SignalingEngineioSocket:
 *
 * One Engine.IO v4 session, whatever transport carries it: HTTP
 * long-polling, WebSocket, or polling first and then WebSocket after an
 * upgrade. The session pings its peer and closes itself when the peer
 * stops answering.
 *
 * Messages arrive through [signal@Signaling.EngineioSocket::message];
 * send with [method@Signaling.EngineioSocket.send_text] and
 * [method@Signaling.EngineioSocket.send_binary].
 */

#define UPGRADE_POLL_GRACE_MS 100
#define CLOSE_POLL_GRACE_MS 100
/* How long a session the server closed waits for its goodbye to be
 * delivered: the GET that fetches it (polling clients ask again at
 * once, so this is generous), or the WebSocket close handshake (which
 * a peer that reads nothing would hold up forever). */
#define GOODBYE_WAIT_MS 2000

typedef enum {
  TRANSPORT_POLLING,
  TRANSPORT_WEBSOCKET,
} Transport;

struct _SignalingEngineioSocket
{
  GObject parent_instance;

  char *id;
  char *remote_address;
  SignalingEngineioSettings settings;
  Transport transport;
  gboolean closed;

  /* Polling: packets wait here for the next GET; a GET with nothing
   * to answer waits (paused) in pending_poll. */
  GQueue queue;  /* in place: one allocation less per peer */
  gsize queued_bytes;
  SoupServerMessage *pending_poll;

  SignalingWebsocket *websocket;
  SignalingWebsocket *probe;

  const SignalingEngineioConsumer *consumer;  /* static; NULL: none */
  gpointer consumer_data;
  SignalingEngineioFinishedFunc finished_func;
  gpointer finished_data;

  /* Between "2probe" and "5". */
  gboolean upgrading;
  /* The parked GET came while a probe WebSocket was open. */
  gboolean poll_raced_upgrade;
  /* Further WebSockets for this session, closed once the upgrade in
   * progress is settled so that they cannot overtake its "3probe". */
  GPtrArray *refused;  /* or NULL, as for almost every session */

  SignalingTimer ping_timer;
  SignalingTimer pong_deadline;
  guint close_grace_source;  /* the peer closed; its last GET may come */
  gint64 ping_due_at;  /* monotonic µs */

  /* After the server closed the session: its goodbye (`1`, and the
   * Socket.IO `41` before it) is still on its way, on the lingering
   * WebSocket until its close handshake ends, or in the queue for the
   * next GET and then in poll responses being written. Only then is
   * the session "finished". */
  gboolean goodbye_queued;
  guint goodbye_wait_source;
  guint polls_in_flight;
  gboolean closed_emitted;  /* "finished" comes after "closed" */
  gboolean finished;
};

G_DEFINE_FINAL_TYPE (SignalingEngineioSocket, signaling_engineio_socket, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TRANSPORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_MESSAGE,
  SIGNAL_CLOSED,
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean release_poll_during_upgrade (gpointer user_data);
static void stop_heartbeat (SignalingEngineioSocket *self);
static void send_packet (SignalingEngineioSocket *self,
                         SignalingEngineioPacket *packet);
static void close_session (SignalingEngineioSocket *self,
                           const char              *reason,
                           gboolean                 notify_peer);

static void
forget_websocket (SignalingEngineioSocket  *self,
                  SignalingWebsocket **websocket)
{
  if (*websocket == NULL)
    return;

  signaling_websocket_set_handlers (*websocket, NULL, NULL);
  if (signaling_websocket_is_open (*websocket))
    signaling_websocket_close (*websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (websocket);
}

static void
close_refused (SignalingEngineioSocket *self)
{
  if (self->refused == NULL)
    return;
  for (guint i = 0; i < self->refused->len; i++)
    {
      SignalingWebsocket *websocket = g_ptr_array_index (self->refused, i);

      if (signaling_websocket_is_open (websocket))
        signaling_websocket_close (websocket, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
    }
  g_ptr_array_set_size (self->refused, 0);
}

static void
signaling_engineio_socket_dispose (GObject *object)
{
  SignalingEngineioSocket *self = SIGNALING_ENGINEIO_SOCKET (object);

  close_refused (self);

  g_clear_handle_id (&self->close_grace_source, g_source_remove);
  g_clear_handle_id (&self->goodbye_wait_source, g_source_remove);
  stop_heartbeat (self);
  forget_websocket (self, &self->websocket);
  forget_websocket (self, &self->probe);

  if (self->pending_poll != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->pending_poll, self);
      soup_server_message_set_status (self->pending_poll, SOUP_STATUS_GONE, NULL);
      soup_server_message_unpause (self->pending_poll);
      g_clear_object (&self->pending_poll);
    }

  G_OBJECT_CLASS (signaling_engineio_socket_parent_class)->dispose (object);
}

static void
signaling_engineio_socket_finalize (GObject *object)
{
  SignalingEngineioSocket *self = SIGNALING_ENGINEIO_SOCKET (object);

  g_queue_clear_full (&self->queue, (GDestroyNotify) signaling_engineio_packet_free);
  g_clear_pointer (&self->refused, g_ptr_array_unref);
  g_free (self->id);
  g_free (self->remote_address);
  g_clear_pointer (&self->settings.pings, signaling_timer_queue_unref);
  g_clear_pointer (&self->settings.pong_deadlines, signaling_timer_queue_unref);

  G_OBJECT_CLASS (signaling_engineio_socket_parent_class)->finalize (object);
}

static void
signaling_engineio_socket_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  SignalingEngineioSocket *self = SIGNALING_ENGINEIO_SOCKET (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT:
      g_value_set_string (value, signaling_engineio_socket_get_transport (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_engineio_socket_class_init (SignalingEngineioSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_engineio_socket_dispose;
  object_class->finalize = signaling_engineio_socket_finalize;
  object_class->get_property = signaling_engineio_socket_get_property;

  /**
   * SignalingEngineioSocket:transport:
   *
   * `polling` or `websocket`; notified when the session upgrades.
   */
  properties[PROP_TRANSPORT] =
    g_param_spec_string ("transport", NULL, NULL, "polling",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SignalingEngineioSocket::message:
   * @self: the session
   * @data: the message
   * @binary: whether @data is binary (otherwise UTF-8 text, not
   *   nul-terminated)
   *
   * Emitted for every message packet the peer sends.
   */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, _signaling_marshal_VOID__BOXED_BOOLEAN, G_TYPE_NONE, 2,
                  G_TYPE_BYTES, G_TYPE_BOOLEAN);
  g_signal_set_va_marshaller (signals[SIGNAL_MESSAGE], G_TYPE_FROM_CLASS (klass),
                              _signaling_marshal_VOID__BOXED_BOOLEANv);

  /**
   * SignalingEngineioSocket::closed:
   * @self: the session
   * @reason: why, for example `transport close` or `ping timeout`
   *
   * Emitted once, when the session ends.
   */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * SignalingEngineioSocket::finished:
   * @self: the session
   *
   * Emitted once, after [signal@Signaling.EngineioSocket::closed], when
   * the session has nothing left to deliver: the close packet the
   * server sent has been written to the peer (or given up on).
   */
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
signaling_engineio_socket_init (SignalingEngineioSocket *self)
{
  g_queue_init (&self->queue);
}

/* Heartbeat: the server pings every ping_interval; a peer that has not
 * answered ping_timeout after a ping is gone. */

static void
on_pong_deadline (gpointer user_data)
{
  close_session (user_data, "ping timeout", FALSE);
}

static void
on_ping_due (gpointer user_data)
{
  SignalingEngineioSocket *self = user_data;

  send_packet (self, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_PING, NULL));

  /* Count the timeout from when the ping was due, not from when the
   * main loop got to it. */
  if (!self->closed)
    signaling_timer_queue_add (self->settings.pong_deadlines, &self->pong_deadline,
                               self->ping_due_at + (gint64) self->settings.ping_timeout * 1000,
                               on_pong_deadline, self);
}

static void
stop_heartbeat (SignalingEngineioSocket *self)
{
  signaling_timer_queue_remove (self->settings.pings, &self->ping_timer);
  signaling_timer_queue_remove (self->settings.pong_deadlines, &self->pong_deadline);
}

static void
schedule_ping (SignalingEngineioSocket *self)
{
  stop_heartbeat (self);
  self->ping_due_at = g_get_monotonic_time () + (gint64) self->settings.ping_interval * 1000;
  signaling_timer_queue_add (self->settings.pings, &self->ping_timer, self->ping_due_at,
                             on_ping_due, self);
}

SignalingEngineioSocket *
signaling_engineio_socket_new (const char                      *remote_address,
                               const SignalingEngineioSettings *settings,
                               const char                      *node)
{
  SignalingEngineioSocket *self = g_object_new (SIGNALING_TYPE_ENGINEIO_SOCKET, NULL);
  g_autofree char *random = signaling_generate_id ();

  /* In a cluster the id names its node, which every node can then
   * pass the session's requests to (signaling_engineio_server_set_node()). */
  self->id = node != NULL ? g_strdup_printf ("%s%c%s", node, SIGNALING_ENGINEIO_NODE_SEPARATOR, random)
                          : g_steal_pointer (&random);
  self->remote_address = g_strdup (remote_address);
  self->settings = *settings;
  signaling_timer_queue_ref (self->settings.pings);
  signaling_timer_queue_ref (self->settings.pong_deadlines);
  schedule_ping (self);

  return self;
}

/* Sending */

static void finish_if_delivered (SignalingEngineioSocket *self);

static void
on_poll_response_written (SoupServerMessage       *msg,
                          SignalingEngineioSocket *self)
{
  g_signal_handlers_disconnect_by_func (msg, on_poll_response_written, self);
  self->polls_in_flight--;
  finish_if_delivered (self);
}

static void
respond_to_poll (SignalingEngineioSocket *self,
                 SoupServerMessage       *msg,
                 GPtrArray               *packets)
{
  g_autofree char *body = signaling_engineio_payload_encode (packets);
  gsize length = strlen (body);

  /* libsoup writes the response later: a session that is closing is
   * not finished before its last packets are on the wire. */
  self->polls_in_flight++;
  g_signal_connect_object (msg, "finished", G_CALLBACK (on_poll_response_written), self, 0);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8",
                                    SOUP_MEMORY_TAKE, g_steal_pointer (&body), length);
}

static GPtrArray *
take_queue (SignalingEngineioSocket *self)
{
  GPtrArray *packets = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_engineio_packet_free);

  while (!g_queue_is_empty (&self->queue))
    g_ptr_array_add (packets, g_queue_pop_head (&self->queue));
  self->queued_bytes = 0;
  return packets;
}

static void
flush_poll (SignalingEngineioSocket *self)
{
  g_autoptr(GPtrArray) packets = NULL;
  g_autoptr(SoupServerMessage) msg = NULL;

  if (self->pending_poll == NULL || g_queue_is_empty (&self->queue))
    return;

  msg = g_steal_pointer (&self->pending_poll);
  g_signal_handlers_disconnect_by_data (msg, self);
  packets = take_queue (self);
  respond_to_poll (self, msg, packets);
  soup_server_message_unpause (msg);
}

/* Returns FALSE if the peer fell too far behind and the WebSocket was
 * closed instead. */
static gboolean
send_on_websocket (SignalingEngineioSocket *self,
                   SignalingWebsocket *websocket,
                   SignalingEngineioPacket *packet)
{
  if (!signaling_websocket_is_open (websocket))
    return TRUE;

  if (signaling_engineio_packet_is_binary (packet))
    {
      GBytes *data = signaling_engineio_packet_get_data (packet);

      return signaling_websocket_send (websocket, FALSE, g_bytes_get_data (data, NULL),
                                       g_bytes_get_size (data));
    }
  else
    {
      g_autofree char *text = signaling_engineio_packet_encode_ws_text (packet);

      return signaling_websocket_send (websocket, TRUE, text, strlen (text));
    }
}

static gsize
packet_size (SignalingEngineioPacket *packet)
{
  GBytes *data = signaling_engineio_packet_get_data (packet);

  return 1 + (data != NULL ? g_bytes_get_size (data) : 0);
}

/* Takes ownership of @packet. */
static void
send_packet (SignalingEngineioSocket *self,
             SignalingEngineioPacket *packet)
{
  if (self->closed)
    {
      signaling_engineio_packet_free (packet);
      return;
    }

  if (self->transport == TRANSPORT_WEBSOCKET)
    {
      gboolean sent = send_on_websocket (self, self->websocket, packet);

      signaling_engineio_packet_free (packet);
      if (!sent)
        close_session (self, "transport error", FALSE);
      return;
    }

  /* A client that stops polling must not make us queue without end. */
  self->queued_bytes += packet_size (packet);
  g_queue_push_tail (&self->queue, packet);
  if (self->settings.max_send_queue > 0 && self->queued_bytes > self->settings.max_send_queue &&
      self->pending_poll == NULL)
    {
      close_session (self, "transport error", FALSE);
      return;
    }
  flush_poll (self);
}

/**
 * signaling_engineio_socket_send_text:
 * @self: a session
 * @text: a UTF-8 message
 *
 * Sends a text message packet.
 */
void
signaling_engineio_socket_send_text (SignalingEngineioSocket *self,
                                     const char              *text)
{
  g_autoptr(GBytes) data = NULL;

  g_return_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self));
  g_return_if_fail (text != NULL);

  /* The relay's path: straight into the WebSocket, after the packet
   * type (a digit, as signaling_engineio_packet_encode_ws_text() writes
   * it), with no packet in between. */
  if (!self->closed && self->transport == TRANSPORT_WEBSOCKET)
    {
      const char type[] = { '0' + SIGNALING_ENGINEIO_PACKET_MESSAGE, '\0' };

      if (signaling_websocket_is_open (self->websocket) &&
          !signaling_websocket_send_with_prefix (self->websocket, TRUE, type, text, strlen (text)))
        close_session (self, "transport error", FALSE);
      return;
    }

  data = g_bytes_new (text, strlen (text));
  send_packet (self, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_MESSAGE, data));
}

/**
 * signaling_engineio_socket_send_binary:
 * @self: a session
 * @data: the bytes
 *
 * Sends a binary message packet (base64 over polling).
 */
void
signaling_engineio_socket_send_binary (SignalingEngineioSocket *self,
                                       GBytes                  *data)
{
  g_return_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self));
  g_return_if_fail (data != NULL);

  send_packet (self, signaling_engineio_packet_new_binary (data));
}

/* Receiving */

static gboolean
close_after_grace (gpointer user_data)
{
  SignalingEngineioSocket *self = user_data;

  self->close_grace_source = 0;
  close_session (self, "transport close", FALSE);
  return G_SOURCE_REMOVE;
}

/* A polling client that closes may have its last GET on the way: the
 * reference server reads a POST body only after handling a GET that
 * came with it, so that GET still gets its noop. Give it a moment. */
static void
close_after_last_poll (SignalingEngineioSocket *self)
{
  if (self->close_grace_source != 0)
    return;
  self->close_grace_source = g_timeout_add (CLOSE_POLL_GRACE_MS, close_after_grace, self);
}

/* A message: to the consumer, then to the signal's handlers. */
static void
deliver_message (SignalingEngineioSocket *self,
                 gboolean                 binary,
                 const char              *text,
                 gsize                    length,
                 GBytes                  *data)
{
  g_autoptr(GBytes) made = NULL;

  if (self->consumer != NULL && binary)
    self->consumer->binary (self, data, self->consumer_data);
  else if (self->consumer != NULL)
    self->consumer->text (self, text, length, self->consumer_data);

  if (self->closed || !g_signal_has_handler_pending (self, signals[SIGNAL_MESSAGE], 0, FALSE))
    return;
  if (data == NULL)
    data = made = g_bytes_new (text, length);
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, data, binary);
}

static gboolean
handle_packet (SignalingEngineioSocket *self,
               SignalingEngineioPacket *packet)
{
  GBytes *data = signaling_engineio_packet_get_data (packet);

  switch (signaling_engineio_packet_get_kind (packet))
    {
    case SIGNALING_ENGINEIO_PACKET_MESSAGE:
      deliver_message (self, signaling_engineio_packet_is_binary (packet),
                       g_bytes_get_data (data, NULL), g_bytes_get_size (data), data);
      return TRUE;

    case SIGNALING_ENGINEIO_PACKET_PONG:
      schedule_ping (self);
      return TRUE;

    case SIGNALING_ENGINEIO_PACKET_PING:
      /* v4 peers do not ping, but answering costs nothing. */
      send_packet (self, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_PONG, data));
      return TRUE;

    case SIGNALING_ENGINEIO_PACKET_CLOSE:
      if (self->transport == TRANSPORT_POLLING && self->pending_poll == NULL)
        close_after_last_poll (self);
      else
        close_session (self, "transport close", FALSE);
      return FALSE;

    case SIGNALING_ENGINEIO_PACKET_NOOP:
    case SIGNALING_ENGINEIO_PACKET_UPGRADE:
      return TRUE;

    case SIGNALING_ENGINEIO_PACKET_OPEN:
    default:
      close_session (self, "parse error", FALSE);
      return FALSE;
    }
}

static SignalingEngineioPacket *
decode_ws_message (gboolean    is_text,
                   const char *data,
                   gsize       length)
{
  g_autoptr(GBytes) bytes = NULL;

  if (is_text)
    return signaling_engineio_packet_decode_ws_text (data, length, NULL);

  bytes = g_bytes_new (data, length);
  return signaling_engineio_packet_new_binary (bytes);
}

static void
on_websocket_message (SignalingWebsocket *websocket,
                      gboolean            is_text,
                      const char         *data,
                      gsize               length,
                      gpointer            user_data)
{
  SignalingEngineioSocket *self = user_data;
  g_autoptr(SignalingEngineioSocket) kept = g_object_ref (self);
  g_autoptr(SignalingEngineioPacket) packet = NULL;

  /* The relay's path: a text message packet, without a packet. */
  if (is_text && length > 0 && data[0] == '0' + SIGNALING_ENGINEIO_PACKET_MESSAGE)
    {
      deliver_message (self, FALSE, data + 1, length - 1, NULL);
      return;
    }

  packet = decode_ws_message (is_text, data, length);

  if (packet == NULL)
    {
      close_session (self, "parse error", FALSE);
      return;
    }

  handle_packet (self, packet);
}

static void
on_websocket_closed (SignalingWebsocket *websocket,
                     gpointer            user_data)
{
  close_session (user_data, "transport close", FALSE);
}

static const SignalingWebsocketHandlers websocket_handlers = {
  .message = on_websocket_message,
  .closed = on_websocket_closed,
};

static void
use_websocket (SignalingEngineioSocket *self,
               SignalingWebsocket      *websocket)
{
  self->websocket = g_object_ref (websocket);
  self->transport = TRANSPORT_WEBSOCKET;
  signaling_websocket_set_max_send_queue (websocket, self->settings.max_send_queue);
  signaling_websocket_set_handlers (websocket, &websocket_handlers, self);
}

static char *
open_packet (SignalingEngineioSocket *self,
             gboolean                 can_upgrade)
{
  g_autofree char *json = signaling_engineio_open_json (self->id, can_upgrade,
                                                        self->settings.ping_interval,
                                                        self->settings.ping_timeout,
                                                        self->settings.max_payload);

  return g_strconcat ("0", json, NULL);
}

void
signaling_engineio_socket_set_finished_func (SignalingEngineioSocket       *self,
                                             SignalingEngineioFinishedFunc  func,
                                             gpointer                       user_data)
{
  g_return_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self));
  self->finished_func = func;
  self->finished_data = user_data;
}

void
signaling_engineio_socket_set_consumer (SignalingEngineioSocket         *self,
                                        const SignalingEngineioConsumer *consumer,
                                        gpointer                         user_data)
{
  g_return_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self));
  self->consumer = consumer;
  self->consumer_data = user_data;
}

/*
 * signaling_engineio_socket_open_websocket:
 *
 * Starts a session that is WebSocket from the first packet on.
 */
void
signaling_engineio_socket_open_websocket (SignalingEngineioSocket *self,
                                          SignalingWebsocket *websocket)
{
  g_autofree char *open = open_packet (self, FALSE);

  use_websocket (self, websocket);
  signaling_websocket_send (websocket, TRUE, open, strlen (open));
}

/*
 * signaling_engineio_socket_handshake_polling:
 *
 * Returns: the body answering the polling handshake
 */
char *
signaling_engineio_socket_handshake_polling (SignalingEngineioSocket *self)
{
  return open_packet (self, TRUE);
}

/**
 * signaling_engineio_socket_get_id:
 * @self: a session
 *
 * Gets the Engine.IO session id (`sid`).
 *
 * Returns: the session id
 */
const char *
signaling_engineio_socket_get_id (SignalingEngineioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self), NULL);
  return self->id;
}

/**
 * signaling_engineio_socket_get_transport:
 * @self: a session
 *
 * Gets the transport the session is on now.
 *
 * Returns: `polling` or `websocket`
 */
const char *
signaling_engineio_socket_get_transport (SignalingEngineioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self), NULL);
  return self->transport == TRANSPORT_WEBSOCKET ? "websocket" : "polling";
}

/**
 * signaling_engineio_socket_get_remote_address:
 * @self: a session
 *
 * Gets the peer's IP address.
 *
 * Returns: (nullable): the peer's IP address
 */
const char *
signaling_engineio_socket_get_remote_address (SignalingEngineioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self), NULL);
  return self->remote_address;
}

/**
 * signaling_engineio_socket_is_open:
 * @self: a session
 *
 * Checks whether the session is still open.
 *
 * Returns: %FALSE once the session has closed
 */
gboolean
signaling_engineio_socket_is_open (SignalingEngineioSocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self), FALSE);
  return !self->closed;
}

/* Polling */

static void
on_poll_finished (SoupServerMessage       *msg,
                  SignalingEngineioSocket *self)
{
  /* The peer went away while its GET was parked. */
  if (self->pending_poll == msg)
    {
      g_signal_handlers_disconnect_by_data (msg, self);
      g_clear_object (&self->pending_poll);
    }
}

static void
respond_status (SoupServerMessage *msg,
                guint              status,
                const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8", SOUP_MEMORY_COPY,
                                    text, strlen (text));
}

void
signaling_engineio_socket_handle_poll (SignalingEngineioSocket *self,
                                       SoupServerMessage       *msg)
{
  g_autoptr(SignalingEngineioSocket) kept = g_object_ref (self);

  /* A closed session waiting for its GETs: first what was queued,
   * then the close packet on its own. */
  if (self->closed && self->goodbye_queued)
    {
      g_autoptr(GPtrArray) packets = take_queue (self);

      if (packets->len == 0)
        {
          g_ptr_array_add (packets, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_CLOSE, NULL));
          self->goodbye_queued = FALSE;
          g_clear_handle_id (&self->goodbye_wait_source, g_source_remove);
        }
      respond_to_poll (self, msg, packets);
      return;
    }

  if (self->closed || self->transport != TRANSPORT_POLLING)
    {
      respond_status (msg, SOUP_STATUS_BAD_REQUEST, "{\"code\":3,\"message\":\"Bad request\"}");
      return;
    }

  if (self->pending_poll != NULL)
    {
      /* Two GETs at once: the client is confused or hostile. */
      respond_status (msg, SOUP_STATUS_BAD_REQUEST, "{\"code\":3,\"message\":\"Bad request\"}");
      close_session (self, "poll overlap", TRUE);
      return;
    }

  if (!g_queue_is_empty (&self->queue))
    {
      g_autoptr(GPtrArray) packets = take_queue (self);

      respond_to_poll (self, msg, packets);
      if (self->close_grace_source != 0)
        close_session (self, "transport close", FALSE);
      return;
    }

  /* A provisional status stops libsoup from trying the WebSocket
   * handler that shares our path; the real response comes later. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  self->pending_poll = g_object_ref (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (on_poll_finished), self);
  soup_server_message_pause (msg);

  /* The peer has closed: this was its last GET, released with a noop. */
  if (self->close_grace_source != 0)
    {
      close_session (self, "transport close", FALSE);
      return;
    }

  /* A GET during an upgrade only needs releasing, but the client may
   * have sent "5" already: give it the reference server's 100 ms to
   * arrive, after which the GET is refused instead. */
  if (self->probe != NULL)
    {
      self->poll_raced_upgrade = TRUE;
      g_timeout_add_full (G_PRIORITY_DEFAULT, UPGRADE_POLL_GRACE_MS, release_poll_during_upgrade,
                          g_object_ref (self), g_object_unref);
    }
}

void
signaling_engineio_socket_handle_post (SignalingEngineioSocket *self,
                                       SoupServerMessage       *msg)
{
  g_autoptr(SignalingEngineioSocket) kept = g_object_ref (self);
  SoupMessageBody *request = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (request);
  g_autoptr(GPtrArray) packets = NULL;
  g_autoptr(GError) error = NULL;

  /* The server has closed the session and its goodbye is on the way:
   * what the client sent meanwhile is dropped, but an error here would
   * reach the client before the goodbye, as engine.io's does not. */
  if (self->closed && !self->finished && self->transport == TRANSPORT_POLLING)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "ok", 2);
      return;
    }

  if (self->closed || self->transport != TRANSPORT_POLLING || self->close_grace_source != 0)
    {
      respond_status (msg, SOUP_STATUS_BAD_REQUEST, "{\"code\":3,\"message\":\"Bad request\"}");
      return;
    }

  if (g_bytes_get_size (body) > self->settings.max_payload)
    {
      respond_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "{\"code\":3,\"message\":\"Payload too large\"}");
      close_session (self, "transport error", TRUE);
      return;
    }

  packets = signaling_engineio_payload_decode (g_bytes_get_data (body, NULL),
                                               g_bytes_get_size (body), &error);
  if (packets == NULL)
    {
      g_debug ("Engine.IO session %s: %s", self->id, error->message);
      respond_status (msg, SOUP_STATUS_BAD_REQUEST, "{\"code\":3,\"message\":\"Bad request\"}");
      close_session (self, "parse error", FALSE);
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "ok", 2);

  for (guint i = 0; i < packets->len && !self->closed; i++)
    if (!handle_packet (self, g_ptr_array_index (packets, i)))
      break;
}

static void
release_poll_with_noop (SignalingEngineioSocket *self)
{
  g_autoptr(SoupServerMessage) msg = g_steal_pointer (&self->pending_poll);
  g_autoptr(GPtrArray) packets = NULL;

  if (msg == NULL)
    return;

  g_signal_handlers_disconnect_by_data (msg, self);
  self->poll_raced_upgrade = FALSE;
  packets = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_engineio_packet_free);
  g_ptr_array_add (packets, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_NOOP, NULL));
  respond_to_poll (self, msg, packets);
  soup_server_message_unpause (msg);
}

static gboolean
release_poll_during_upgrade (gpointer user_data)
{
  SignalingEngineioSocket *self = user_data;

  release_poll_with_noop (self);
  return G_SOURCE_REMOVE;
}

/* Upgrade: the client opens a WebSocket with the session id, probes it
 * with "2probe" (answered "3probe"), then sends "5" to switch. The
 * parked GET is released with a noop so the client can let go of it. */

gboolean
signaling_engineio_socket_can_upgrade (SignalingEngineioSocket *self)
{
  return !self->closed && self->transport == TRANSPORT_POLLING && self->probe == NULL;
}

static void
complete_upgrade (SignalingEngineioSocket *self)
{
  g_autoptr(SignalingWebsocket) websocket = g_steal_pointer (&self->probe);
  g_autoptr(GPtrArray) queued = NULL;

  signaling_websocket_set_handlers (websocket, NULL, NULL);

  /* Whatever the polling side still held goes over the WebSocket. A
   * GET still parked came after the probe and raced the "5": it is
   * now a request for a session that has left polling. */
  queued = take_queue (self);
  if (self->pending_poll != NULL)
    {
      g_autoptr(SoupServerMessage) msg = g_steal_pointer (&self->pending_poll);

      g_signal_handlers_disconnect_by_data (msg, self);
      respond_status (msg, SOUP_STATUS_BAD_REQUEST, "{\"code\":3,\"message\":\"Bad request\"}");
      soup_server_message_unpause (msg);
    }
  self->upgrading = FALSE;
  self->poll_raced_upgrade = FALSE;

  use_websocket (self, websocket);
  close_refused (self);
  if (self->consumer != NULL && self->consumer->transport_changed != NULL)
    self->consumer->transport_changed (self, self->consumer_data);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSPORT]);
  for (guint i = 0; i < queued->len; i++)
    if (!send_on_websocket (self, websocket, g_ptr_array_index (queued, i)))
      {
        close_session (self, "transport error", FALSE);
        return;
      }
}

static void
on_probe_message (SignalingWebsocket *websocket,
                  gboolean            is_text,
                  const char         *data,
                  gsize               length,
                  gpointer            user_data)
{
  SignalingEngineioSocket *self = user_data;
  g_autoptr(SignalingEngineioSocket) kept = g_object_ref (self);
  g_autoptr(SignalingEngineioPacket) packet = NULL;

  if (is_text)
    packet = signaling_engineio_packet_decode_ws_text (data, length, NULL);
  if (packet == NULL)
    {
      forget_websocket (self, &self->probe);
      return;
    }

  switch (signaling_engineio_packet_get_kind (packet))
    {
    case SIGNALING_ENGINEIO_PACKET_PING:
      signaling_websocket_send (websocket, TRUE, "3probe", strlen ("3probe"));
      /* Release the long-poll that was parked before the probe; one
       * that came since waits for its grace period or the "5". */
      self->upgrading = TRUE;
      if (!self->poll_raced_upgrade)
        release_poll_with_noop (self);
      break;

    case SIGNALING_ENGINEIO_PACKET_UPGRADE:
      complete_upgrade (self);
      break;

    default:
      break;
    }
}

static void
on_probe_closed (SignalingWebsocket *websocket,
                 gpointer            user_data)
{
  SignalingEngineioSocket *self = user_data;

  forget_websocket (self, &self->probe);
  self->upgrading = FALSE;
  close_refused (self);
}

static const SignalingWebsocketHandlers probe_handlers = {
  .message = on_probe_message,
  .closed = on_probe_closed,
};

/*
 * signaling_engineio_socket_refuse_websocket:
 *
 * Closes a WebSocket that asks to upgrade a session that has one
 * already, or waits until the upgrade in progress is settled.
 */
void
signaling_engineio_socket_refuse_websocket (SignalingEngineioSocket *self,
                                            SignalingWebsocket *websocket)
{
  if (self->refused == NULL)
    self->refused = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->refused, g_object_ref (websocket));
  if (self->probe == NULL)
    close_refused (self);
}

void
signaling_engineio_socket_probe_websocket (SignalingEngineioSocket *self,
                                           SignalingWebsocket *websocket)
{
  self->probe = g_object_ref (websocket);
  signaling_websocket_set_handlers (websocket, &probe_handlers, self);
}

/* Closing */

static void
finish_if_delivered (SignalingEngineioSocket *self)
{
  g_autoptr(SignalingEngineioSocket) kept = NULL;

  if (!self->closed_emitted || self->finished)
    return;
  if (self->websocket != NULL || self->goodbye_queued || self->polls_in_flight > 0)
    return;

  self->finished = TRUE;
  /* The server's note drops its reference, maybe the last. */
  kept = g_object_ref (self);
  if (self->finished_func != NULL)
    self->finished_func (self, self->finished_data);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
on_lingering_websocket_closed (SignalingWebsocket *websocket,
                               gpointer            user_data)
{
  SignalingEngineioSocket *self = user_data;

  g_autoptr(SignalingEngineioSocket) kept = g_object_ref (self);

  g_clear_handle_id (&self->goodbye_wait_source, g_source_remove);
  forget_websocket (self, &self->websocket);
  finish_if_delivered (self);
}

/* A lingering WebSocket's messages are not read: its session is over. */
static void
ignore_message (SignalingWebsocket *websocket,
                gboolean            is_text,
                const char         *data,
                gsize               length,
                gpointer            user_data)
{
}

static const SignalingWebsocketHandlers lingering_handlers = {
  .message = ignore_message,
  .closed = on_lingering_websocket_closed,
};

static gboolean
on_goodbye_wait_over (gpointer user_data)
{
  SignalingEngineioSocket *self = user_data;

  self->goodbye_wait_source = 0;
  self->goodbye_queued = FALSE;
  /* Dropping our reference makes libsoup cut the connection. */
  forget_websocket (self, &self->websocket);
  finish_if_delivered (self);
  return G_SOURCE_REMOVE;
}

/* The server closes the session: a WebSocket stays referenced until
 * its close handshake is over, since dropping the last reference makes
 * libsoup cut the connection with whatever was still queued (the
 * goodbye among it); polling keeps the close packet for the next GET,
 * for a while. */
static void
linger (SignalingEngineioSocket *self)
{
  if (self->websocket != NULL)
    {
      signaling_websocket_set_handlers (self->websocket, NULL, NULL);
      if (signaling_websocket_get_state (self->websocket) == SIGNALING_WEBSOCKET_CLOSED)
        {
          g_clear_object (&self->websocket);
          return;
        }
      signaling_websocket_set_handlers (self->websocket, &lingering_handlers, self);
      if (signaling_websocket_is_open (self->websocket))
        signaling_websocket_close (self->websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }

  if (self->websocket != NULL || self->goodbye_queued)
    self->goodbye_wait_source = g_timeout_add (GOODBYE_WAIT_MS, on_goodbye_wait_over, self);
}

static void
close_session (SignalingEngineioSocket *self,
               const char              *reason,
               gboolean                 notify_peer)
{
  g_autoptr(SignalingEngineioSocket) kept = g_object_ref (self);

  if (self->closed)
    return;

  g_debug ("Engine.IO session %s closed: %s", self->id, reason);

  /* Over polling, the close packet goes in a response of its own,
   * after whatever is queued (a Socket.IO `41`), as engine.io sends it:
   * socket.io-client handles a `41` that shares a response with the
   * close packet after the close, and reports "transport close". */
  if (notify_peer && self->transport == TRANSPORT_POLLING && self->pending_poll == NULL)
    self->goodbye_queued = TRUE;
  else if (notify_peer)
    send_packet (self, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_CLOSE, NULL));
  else if (self->pending_poll != NULL)
    send_packet (self, signaling_engineio_packet_new (SIGNALING_ENGINEIO_PACKET_NOOP, NULL));

  /* Sending may have closed the session already (a peer too far
   * behind): it is closed once. */
  if (self->closed)
    return;

  self->closed = TRUE;
  g_clear_handle_id (&self->close_grace_source, g_source_remove);
  stop_heartbeat (self);
  if (notify_peer)
    linger (self);
  else
    forget_websocket (self, &self->websocket);
  forget_websocket (self, &self->probe);
  close_refused (self);

  if (self->consumer != NULL)
    self->consumer->closed (self, reason, self->consumer_data);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, reason);
  self->closed_emitted = TRUE;
  finish_if_delivered (self);
}

/**
 * signaling_engineio_socket_close:
 * @self: a session
 * @reason: (nullable): why, for logs
 *
 * Sends a close packet and ends the session.
 */
void
signaling_engineio_socket_close (SignalingEngineioSocket *self,
                                 const char              *reason)
{
  g_return_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self));

  close_session (self, reason != NULL ? reason : "server close", TRUE);
}

/*
 * signaling_engineio_socket_abandon:
 *
 * Ends a session whose client is not there to hear a goodbye (one never
 * polled since its handshake): at once, with no close packet and no
 * lingering.
 */
void
signaling_engineio_socket_abandon (SignalingEngineioSocket *self,
                                   const char              *reason)
{
  g_return_if_fail (SIGNALING_IS_ENGINEIO_SOCKET (self));

  close_session (self, reason, FALSE);
}
