/* signaling-router.c: who receives what
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "signaling-client-private.h"
#include "signaling-error.h"
#include "signaling-identity-private.h"
#include "signaling-message-private.h"
#include "signaling-remote-private.h"
#include "signaling-room-private.h"
#include "signaling-router-private.h"

/*
 * SignalingRouter:
 *
 * Owns the connected clients and the rooms and decides who receives a
 * message. It knows nothing of wire formats: dialects hand it
 * SignalingMessages and it hands them back to the recipients' dialects
 * through SignalingConnection.
 *
 * A target is first looked up as a client id (every client is
 * implicitly a room of one, as in Socket.IO), then as a room name.
 *
 * In a cluster (signaling_router_set_remote()), a target that is not
 * here is looked up among the other nodes' peers and rooms, and what
 * goes there is handed to the SignalingRemote; what the other nodes
 * send comes back in through signaling_router_deliver_remote().
 */
struct _SignalingRouter
{
  GObject parent_instance;

  GHashTable *clients;      /* id → SignalingClient */
  GHashTable *rooms;        /* name → SignalingRoom */
  SignalingLimits limits;   /* 0: no limit; written by the server */
  char **ice_servers;       /* handed to native peers in their welcome */
  SignalingTurnCredentials *turn;  /* nullable: TURN REST credentials */
  SignalingTimerQueue *idle_deadlines;  /* of the native peers */
  SignalingRemote *remote;  /* the other nodes, or NULL; not owned */
  gboolean moving;          /* a peer moves between nodes: nobody hears of it */

  /* The counters D-Bus and /metrics read: totals, and the same split
   * by message kind, by reason (an error code) and by protocol. */
  guint64 messages_relayed;
  guint64 bytes_relayed;
  guint64 messages_rejected;
  guint64 relayed_by_kind[SIGNALING_N_MESSAGE_KINDS];
  guint64 rejected_by_reason[SIGNALING_N_ERRORS];
  GHashTable *connections;  /* interned protocol → guint64 * */

  /* The D-Bus exporter wants to hear, once per batch, that counters
   * moved; it never runs on the hot path itself. */
  GSourceFunc activity_func;
  gpointer activity_data;
  SignalingClientChangedFunc client_changed_func;
  gpointer client_changed_data;
  gboolean activity_noted;

  /* Frees a place when the router is full, if it can (the server ends
   * the session that has waited longest for a resume). */
  SignalingRouterReclaimFunc reclaim_func;
  gpointer reclaim_data;
};

enum
{
  SIGNAL_CLIENT_CONNECTED,
  SIGNAL_CLIENT_DISCONNECTED,
  SIGNAL_ROOM_ADDED,
  SIGNAL_ROOM_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SignalingRouter, signaling_router, G_TYPE_OBJECT)

/* Whether the other nodes hear of a local change: not of a peer that
 * moves between nodes, whose nodes tell the others themselves. */
static gboolean
tell_remote (SignalingRouter *self)
{
  return self->remote != NULL && !self->moving;
}

static void
signaling_router_finalize (GObject *object)
{
  SignalingRouter *self = SIGNALING_ROUTER (object);

  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->rooms, g_hash_table_unref);
  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->ice_servers, g_strfreev);
  g_clear_object (&self->turn);
  g_clear_pointer (&self->idle_deadlines, signaling_timer_queue_unref);

  G_OBJECT_CLASS (signaling_router_parent_class)->finalize (object);
}

static void
signaling_router_class_init (SignalingRouterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_router_finalize;

  /* The same four as SignalingServer's, which forwards them: see
   * signaling-server.c for their documentation. */
  signals[SIGNAL_CLIENT_CONNECTED] =
    g_signal_new ("client-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_CLIENT);
  signals[SIGNAL_CLIENT_DISCONNECTED] =
    g_signal_new ("client-disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, SIGNALING_TYPE_CLIENT, G_TYPE_STRING);
  signals[SIGNAL_ROOM_ADDED] =
    g_signal_new ("room-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_ROOM);
  signals[SIGNAL_ROOM_REMOVED] =
    g_signal_new ("room-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SIGNALING_TYPE_ROOM);
}

static void
signaling_router_init (SignalingRouter *self)
{
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->connections = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->idle_deadlines = signaling_timer_queue_new ("[signaling] native idle deadlines");
}

/* A router with no limits at all: the server sets them. */
SignalingRouter *
signaling_router_new (void)
{
  return g_object_new (SIGNALING_TYPE_ROUTER, NULL);
}

/* Writable for the server, which owns the properties; everyone else
 * only reads. */
SignalingLimits *
signaling_router_get_limits (SignalingRouter *self)
{
  return &self->limits;
}

const char * const *
signaling_router_get_ice_servers (SignalingRouter *self)
{
  return (const char * const *) self->ice_servers;
}

void
signaling_router_set_ice_servers (SignalingRouter    *self,
                                  const char * const *ice_servers)
{
  g_strfreev (self->ice_servers);
  self->ice_servers = g_strdupv ((char **) ice_servers);
}

void
signaling_router_set_turn_credentials (SignalingRouter          *self,
                                       SignalingTurnCredentials *turn)
{
  g_set_object (&self->turn, turn);
}

/* The ICE servers of the peer @id, as RTCIceServer objects: the plain
 * URLs, and TURN credentials of its own when TURN is set up. Every
 * dialect hands out these, and /healthz's neighbour /ice-servers too. */
JsonNode *
signaling_router_build_ice_servers (SignalingRouter *self,
                                    const char      *id)
{
  return signaling_turn_credentials_build_ice_servers (self->turn,
                                                       (const char * const *) self->ice_servers,
                                                       id, g_get_real_time () / G_USEC_PER_SEC);
}

SignalingTimerQueue *
signaling_router_get_idle_deadlines (SignalingRouter *self)
{
  return self->idle_deadlines;
}

guint64
signaling_router_get_messages_relayed (SignalingRouter *self)
{
  return self->messages_relayed;
}

guint64
signaling_router_get_bytes_relayed (SignalingRouter *self)
{
  return self->bytes_relayed;
}

guint64
signaling_router_get_messages_rejected (SignalingRouter *self)
{
  return self->messages_rejected;
}

guint64
signaling_router_get_relayed_of_kind (SignalingRouter      *self,
                                      SignalingMessageKind  kind)
{
  g_return_val_if_fail (kind < SIGNALING_N_MESSAGE_KINDS, 0);
  return self->relayed_by_kind[kind];
}

guint64
signaling_router_get_rejected_for (SignalingRouter *self,
                                   SignalingError   reason)
{
  g_return_val_if_fail (reason < SIGNALING_N_ERRORS, 0);
  return self->rejected_by_reason[reason];
}

/*
 * signaling_router_get_connections:
 *
 * Returns: (transfer none): how many clients have connected since the
 *   start, by protocol: an interned protocol name → guint64 *
 */
GHashTable *
signaling_router_get_connections (SignalingRouter *self)
{
  return self->connections;
}

static void
count_connection (SignalingRouter *self,
                  const char      *protocol)
{
  const char *key = g_intern_string (protocol);
  guint64 *count = g_hash_table_lookup (self->connections, key);

  if (count == NULL)
    {
      count = g_new0 (guint64, 1);
      g_hash_table_insert (self->connections, (gpointer) key, count);
    }
  (*count)++;
}

static void
note_activity (SignalingRouter *self)
{
  if (G_LIKELY (self->activity_noted || self->activity_func == NULL))
    return;

  self->activity_noted = TRUE;
  self->activity_func (self->activity_data);
}

/*
 * signaling_router_set_activity_func:
 *
 * @func is called when counters start moving after a quiet spell; it
 * should arrange to read them later and then call this again (with the
 * same function) to re-arm.
 */
void
signaling_router_set_activity_func (SignalingRouter *self,
                                    GSourceFunc      func,
                                    gpointer         data)
{
  self->activity_func = func;
  self->activity_data = data;
  self->activity_noted = FALSE;
}

void
signaling_router_set_client_changed_func (SignalingRouter            *self,
                                          SignalingClientChangedFunc  func,
                                          gpointer                    data)
{
  self->client_changed_func = func;
  self->client_changed_data = data;
}

static void
client_changed (SignalingRouter       *self,
                SignalingClient       *client,
                SignalingClientChange  change)
{
  if (self->client_changed_func != NULL)
    self->client_changed_func (client, change, self->client_changed_data);
}

/* A client's transport changed (a Socket.IO upgrade or recovery). */
void
signaling_router_notify_transport (SignalingRouter *self,
                                   SignalingClient *client)
{
  signaling_client_notify_transport (client);
  client_changed (self, client, SIGNALING_CLIENT_CHANGE_TRANSPORT);
}

static void
count_relayed (SignalingRouter  *self,
               SignalingMessage *message,
               gsize             bytes)
{
  SignalingMessageKind kind = signaling_message_get_kind (message);

  self->messages_relayed++;
  self->bytes_relayed += bytes;
  if (G_LIKELY (kind < SIGNALING_N_MESSAGE_KINDS))
    self->relayed_by_kind[kind]++;
  note_activity (self);
}

/* A message answered with an error, or dropped, by the router or a
 * dialect; @reason is the error it met. */
void
signaling_router_count_rejected (SignalingRouter *self,
                                 SignalingError   reason)
{
  self->messages_rejected++;
  self->rejected_by_reason[reason < SIGNALING_N_ERRORS ? reason : SIGNALING_ERROR_FAILED]++;
  note_activity (self);
}

/* The same, for @error: its code when it is one of ours. */
void
signaling_router_count_error (SignalingRouter *self,
                              const GError    *error)
{
  signaling_router_count_rejected (self, error != NULL && error->domain == SIGNALING_ERROR
                                         ? (SignalingError) error->code : SIGNALING_ERROR_FAILED);
}

GHashTable *
signaling_router_get_clients (SignalingRouter *self)
{
  return self->clients;
}

GHashTable *
signaling_router_get_rooms (SignalingRouter *self)
{
  return self->rooms;
}

SignalingClient *
signaling_router_lookup_client (SignalingRouter *self,
                                const char      *id)
{
  return g_hash_table_lookup (self->clients, id);
}

SignalingRoom *
signaling_router_lookup_room (SignalingRouter *self,
                              const char      *name)
{
  return g_hash_table_lookup (self->rooms, name);
}

void
signaling_router_set_reclaim_func (SignalingRouter            *self,
                                   SignalingRouterReclaimFunc  func,
                                   gpointer                    data)
{
  self->reclaim_func = func;
  self->reclaim_data = data;
}

/* Whether one more client may come in: asked before a client exists
 * too, so that a dialect can refuse early and in its own words. */
gboolean
signaling_router_check_capacity (SignalingRouter  *self,
                                 GError          **error)
{
  const SignalingLimits *limits = &self->limits;

  while (limits->max_clients > 0 &&
         g_hash_table_size (self->clients) >= limits->max_clients &&
         self->reclaim_func != NULL && self->reclaim_func (self->reclaim_data))
    ;

  if (limits->max_clients > 0 &&
      g_hash_table_size (self->clients) >= limits->max_clients)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_SERVER_FULL,
                   _("The server has reached its limit of %u clients"),
                   limits->max_clients);
      return FALSE;
    }

  return TRUE;
}

gboolean
signaling_router_add_client (SignalingRouter  *self,
                             SignalingClient  *client,
                             GError          **error)
{
  if (!signaling_router_check_capacity (self, error))
    return FALSE;

  g_hash_table_insert (self->clients,
                       (gpointer) signaling_client_get_id (client),
                       g_object_ref (client));
  count_connection (self, signaling_client_get_protocol (client));
  signaling_client_log (client, G_LOG_LEVEL_INFO, NULL, "Client %s connected from %s (%s)",
                        signaling_client_get_id (client),
                        signaling_client_get_remote_address (client),
                        signaling_client_get_protocol (client));
  if (tell_remote (self))
    signaling_remote_client_changed (self->remote, client, TRUE);
  g_signal_emit (self, signals[SIGNAL_CLIENT_CONNECTED], 0, client);

  return TRUE;
}

/*
 * signaling_router_attach:
 * @connection: a new peer of a dialect
 * @id: the client id to give it
 *
 * What every dialect does when it accepts a peer: wraps @connection in
 * a client and adds it. When the router is full the refusal is counted
 * and the dialect tells its peer in its own words.
 *
 * Returns: (transfer none) (nullable): the client, owned by the router
 *   until signaling_router_detach()
 */
SignalingClient *
signaling_router_attach (SignalingRouter      *self,
                         SignalingConnection  *connection,
                         const char           *id,
                         const char           *remote_address,
                         GError              **error)
{
  g_autoptr(SignalingClient) client = signaling_client_new (id, remote_address, connection);
  SignalingClient *previous = g_hash_table_lookup (self->clients, id);

  /* Only ids from tokens can meet again (made-up ones are 131 random
   * bits): the same user connecting anew, most likely from a network
   * that changed under the old connection, which may take a keepalive
   * interval to notice it is dead. The newcomer takes over. */
  if (previous != NULL)
    {
      g_autoptr(SignalingClient) kept = g_object_ref (previous);

      g_debug ("Client %s connected again from %s: closing its older connection", id, remote_address);
      /* Closing first: removing cuts the client from its connection. */
      signaling_client_disconnect (kept, SIGNALING_CLOSE_REPLACED, "replaced by a new connection");
      signaling_router_remove_client (self, kept, "replaced by a new connection");
    }

  if (!signaling_router_add_client (self, client, error))
    {
      signaling_router_count_error (self, error != NULL ? *error : NULL);
      return NULL;
    }

  return client;
}

/*
 * signaling_router_detach:
 * @client: (inout): the dialect's pointer to its client, cleared first
 *
 * What every dialect does when its peer's transport has closed; a
 * second call does nothing. Removing the client may drop the last
 * reference to the connection: a dialect holds one across the call.
 */
void
signaling_router_detach (SignalingRouter  *self,
                         SignalingClient **client,
                         const char       *reason)
{
  SignalingClient *gone = g_steal_pointer (client);

  if (gone != NULL)
    signaling_router_remove_client (self, gone, reason);
}

/* Delivers @message to every member of @room but @sender (unless the
 * message asks for Socket.IO's io.to() semantics), and returns how many
 * peers it reached. */
static guint
deliver_to_room (SignalingRouter  *self,
                 SignalingRoom    *room,
                 SignalingClient  *sender,
                 SignalingMessage *message)
{
  GPtrArray *members = signaling_room_get_members (room);
  gboolean include_sender = signaling_message_get_include_sender (message);
  guint reached = 0;

  for (guint i = 0; i < members->len; i++)
    {
      SignalingClient *member = g_ptr_array_index (members, i);
      gsize bytes;

      if (member == sender && !include_sender)
        continue;

      bytes = signaling_client_deliver (member, message);
      if (bytes > 0)
        {
          count_relayed (self, message, bytes);
          reached++;
        }
    }

  return reached;
}

/* Tells the members of @room but @client (NULL for a peer of another
 * node) that @id joined or left it. */
static void
notify_membership (SignalingRouter      *self,
                   SignalingRoom        *room,
                   SignalingClient      *client,
                   const char           *id,
                   SignalingMessageKind  kind)
{
  g_autoptr(SignalingMessage) notice = NULL;
  g_autoptr(JsonObject) payload = json_object_new ();
  const char *name = signaling_room_get_name (room);

  if (self->moving)
    return;

  json_object_set_string_member (payload, "room", name);
  notice = signaling_message_new (kind, name, payload);
  signaling_message_set_from (notice, id);
  deliver_to_room (self, room, client, notice);
}

static void
remove_member (SignalingRouter *self,
               SignalingRoom   *room,
               SignalingClient *client)
{
  g_autoptr(SignalingRoom) kept = g_object_ref (room);
  const char *name = signaling_room_get_name (room);

  signaling_room_remove_member (room, client);
  if (signaling_client_remove_room (client, name))
    client_changed (self, client, SIGNALING_CLIENT_CHANGE_ROOMS);
  signaling_client_log (client, G_LOG_LEVEL_INFO, name, "Client %s left room %s",
                        signaling_client_get_id (client), name);
  notify_membership (self, room, client, signaling_client_get_id (client),
                     SIGNALING_MESSAGE_KIND_LEAVE);
  if (tell_remote (self))
    signaling_remote_member_changed (self->remote, client, name, FALSE);

  if (signaling_room_get_member_count (room) == 0)
    {
      g_hash_table_remove (self->rooms, name);
      g_signal_emit (self, signals[SIGNAL_ROOM_REMOVED], 0, room);
    }
}

void
signaling_router_remove_client (SignalingRouter *self,
                                SignalingClient *client,
                                const char      *reason)
{
  g_autoptr(SignalingClient) kept = NULL;
  GPtrArray *rooms;
  const char *id = signaling_client_get_id (client);

  if (g_hash_table_lookup (self->clients, id) != client)
    return;

  kept = g_object_ref (client);
  g_hash_table_remove (self->clients, id);

  /* Leave from the last room backwards: the array shrinks as we go. */
  rooms = signaling_client_get_room_names (client);
  while (rooms->len > 0)
    {
      const char *name = g_ptr_array_index (rooms, rooms->len - 1);
      SignalingRoom *room = g_hash_table_lookup (self->rooms, name);

      if (room != NULL)
        remove_member (self, room, client);
      else if (signaling_client_remove_room (client, name))
        client_changed (self, client, SIGNALING_CLIENT_CHANGE_ROOMS);
    }

  if (tell_remote (self))
    signaling_remote_client_changed (self->remote, client, FALSE);
  signaling_client_log (client, G_LOG_LEVEL_INFO, NULL, "Client %s disconnected: %s", id, reason);
  g_signal_emit (self, signals[SIGNAL_CLIENT_DISCONNECTED], 0, client, reason);
  signaling_client_detach (client);
}

/*
 * signaling_router_admit:
 *
 * Counts a message in and applies the rate limit, before the message
 * costs any parsing. A client that floods past its burst is told once,
 * then its messages are dropped unanswered, and if it keeps on it is
 * closed (1008 on a WebSocket; Socket.IO clients are disconnected).
 *
 * Returns: what the dialect does with the message; @error is set for
 *   %SIGNALING_ADMISSION_REFUSE only
 */
SignalingAdmission
signaling_router_admit (SignalingRouter  *self,
                        SignalingClient  *client,
                        gsize             size,
                        GError          **error)
{
  const SignalingLimits *limits = &self->limits;

  signaling_client_count_in (client, size);
  note_activity (self);

  switch (signaling_client_check_rate (client, limits->rate_limit, limits->rate_burst))
    {
    case SIGNALING_RATE_ACCEPT:
      return SIGNALING_ADMISSION_ACCEPT;

    case SIGNALING_RATE_REFUSE:
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_RATE_LIMITED,
                   _("Too many messages: the limit is %g per second"),
                   limits->rate_limit);
      return SIGNALING_ADMISSION_REFUSE;

    case SIGNALING_RATE_ABUSIVE:
      signaling_client_log (client, G_LOG_LEVEL_MESSAGE, NULL,
                            "Closing client %s from %s: it went on sending past the rate limit (%g/s, burst %u)",
                            signaling_client_get_id (client), signaling_client_get_remote_address (client),
                            limits->rate_limit, limits->rate_burst);
      signaling_router_count_rejected (self, SIGNALING_ERROR_RATE_LIMITED);
      signaling_client_disconnect (client, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                   "rate limit exceeded");
      return SIGNALING_ADMISSION_DROP;

    case SIGNALING_RATE_DROP:
    default:
      signaling_router_count_rejected (self, SIGNALING_ERROR_RATE_LIMITED);
      return SIGNALING_ADMISSION_DROP;
    }
}

SignalingRoom *
signaling_router_join (SignalingRouter  *self,
                       SignalingClient  *client,
                       const char       *name,
                       GError          **error)
{
  const SignalingLimits *limits = &self->limits;
  SignalingRoom *room = g_hash_table_lookup (self->rooms, name);
  SignalingIdentity *identity;
  gboolean created = FALSE;

  if (room != NULL && signaling_room_has_member (room, client))
    return room;

  identity = signaling_identity_lookup (client);
  if (identity != NULL && !signaling_identity_may_join (identity, name))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FORBIDDEN,
                   _("Your token does not let you join room “%s”"), name);
      return NULL;
    }

  if (limits->max_rooms_per_client > 0 &&
      signaling_client_get_room_count (client) >= limits->max_rooms_per_client)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FORBIDDEN,
                   _("A client may be in at most %u rooms"),
                   limits->max_rooms_per_client);
      return NULL;
    }

  if (room != NULL && limits->max_room_members > 0 &&
      signaling_room_get_member_count (room) >= limits->max_room_members)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_ROOM_FULL,
                   _("Room “%s” is full (%u members)"),
                   name, limits->max_room_members);
      return NULL;
    }

  if (room == NULL)
    {
      room = signaling_room_new (name);
      g_hash_table_insert (self->rooms, (gpointer) signaling_room_get_name (room), room);
      created = TRUE;
    }

  signaling_room_add_member (room, client);
  if (signaling_client_add_room (client, name))
    client_changed (self, client, SIGNALING_CLIENT_CHANGE_ROOMS);
  signaling_client_log (client, G_LOG_LEVEL_INFO, name, "Client %s joined room %s",
                        signaling_client_get_id (client), name);

  if (created)
    g_signal_emit (self, signals[SIGNAL_ROOM_ADDED], 0, room);
  notify_membership (self, room, client, signaling_client_get_id (client),
                     SIGNALING_MESSAGE_KIND_JOIN);
  if (tell_remote (self))
    signaling_remote_member_changed (self->remote, client, name, TRUE);

  return room;
}

gboolean
signaling_router_leave (SignalingRouter  *self,
                        SignalingClient  *client,
                        const char       *name,
                        GError          **error)
{
  SignalingRoom *room = g_hash_table_lookup (self->rooms, name);

  if (room == NULL || !signaling_room_has_member (room, client))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET,
                   _("Not a member of room “%s”"), name);
      return FALSE;
    }

  remove_member (self, room, client);
  return TRUE;
}

/*
 * signaling_router_route:
 *
 * Relays an offer, answer, candidate, hangup or application message.
 * The sender's signal runs first, so an application can consume a
 * message addressed to a peer that only it knows about.
 */
gboolean
signaling_router_route (SignalingRouter   *self,
                        SignalingClient   *sender,
                        SignalingMessage  *message,
                        GError           **error)
{
  const char *to = signaling_message_get_to (message);
  SignalingClient *target;
  SignalingRoom *room;
  gboolean remote_room;

  signaling_message_set_from (message, signaling_client_get_id (sender));

  if (signaling_client_emit_message (sender, message))
    return TRUE;

  target = to != NULL ? g_hash_table_lookup (self->clients, to) : NULL;
  if (target != NULL)
    {
      gsize bytes;

      /* A client is a room of one, and room delivery skips the sender. */
      if (target == sender && !signaling_message_get_include_sender (message))
        return TRUE;

      bytes = signaling_client_deliver (target, message);
      if (bytes > 0)
        count_relayed (self, message, bytes);
      return TRUE;
    }

  if (to != NULL && self->remote != NULL && signaling_remote_has_peer (self->remote, to))
    {
      signaling_remote_publish (self->remote, message, FALSE);
      return TRUE;
    }

  room = to != NULL ? g_hash_table_lookup (self->rooms, to) : NULL;
  remote_room = to != NULL && self->remote != NULL && signaling_remote_has_room (self->remote, to);
  if (room == NULL && !remote_room)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET,
                   _("No client or room called “%s”"), to != NULL ? to : "");
      return FALSE;
    }

  /* Native peers must be in a room to talk to it.  Socket.IO's io.to()
   * (include-sender) semantics let anybody broadcast to a room, and the
   * seed 003 clients depend on that. A local member's room is here. */
  if (!signaling_message_get_include_sender (message) &&
      (room == NULL || !signaling_room_has_member (room, sender)))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FORBIDDEN,
                   _("Join room “%s” before sending to it"), to);
      return FALSE;
    }

  if (room != NULL)
    deliver_to_room (self, room, sender, message);
  if (remote_room)
    signaling_remote_publish (self->remote, message, TRUE);
  return TRUE;
}

/*
 * signaling_router_set_remote:
 * @remote: (nullable): the other nodes of a cluster, not referenced:
 *   its owner unsets it before it goes
 */
void
signaling_router_set_remote (SignalingRouter *self,
                             SignalingRemote *remote)
{
  self->remote = remote;
}

SignalingRemote *
signaling_router_get_remote (SignalingRouter *self)
{
  return self->remote;
}

/*
 * signaling_router_hand_over:
 * @client: (inout): the dialect's pointer to its client, cleared first
 *
 * The peer of @client goes on on another node (a resume there): it
 * leaves here, its rooms too, without a `peer-left` to anyone and
 * without telling the other nodes (its new node does).
 */
void
signaling_router_hand_over (SignalingRouter  *self,
                            SignalingClient **client)
{
  self->moving = TRUE;
  signaling_router_detach (self, client, "resumed on another node");
  self->moving = FALSE;
}

/*
 * signaling_router_take_over:
 * @rooms: (element-type utf8): the rooms the peer was in
 *
 * The other side of signaling_router_hand_over(): a peer that was on
 * another node goes on here, with its id and rooms, and nobody sees it
 * join. A room the limits refuse now is left out (and logged).
 *
 * Returns: (transfer none) (nullable): the client, as
 *   signaling_router_attach()
 */
SignalingClient *
signaling_router_take_over (SignalingRouter      *self,
                            SignalingConnection  *connection,
                            const char           *id,
                            const char           *remote_address,
                            JsonArray            *rooms,
                            GError              **error)
{
  SignalingClient *client;

  /* A full server makes room first (signaling_router_check_capacity()
   * may end a waiting session), and that one's leave is heard. */
  if (!signaling_router_check_capacity (self, error))
    {
      signaling_router_count_error (self, error != NULL ? *error : NULL);
      return NULL;
    }

  self->moving = TRUE;
  client = signaling_router_attach (self, connection, id, remote_address, error);
  for (guint i = 0; client != NULL && rooms != NULL && i < json_array_get_length (rooms); i++)
    {
      const char *name = json_array_get_string_element (rooms, i);
      g_autoptr(GError) local_error = NULL;

      if (name != NULL && signaling_router_join (self, client, name, &local_error) == NULL)
        g_message ("Client %s resumed here without room %s: %s", id, name, local_error->message);
    }
  self->moving = FALSE;
  return client;
}

/*
 * signaling_router_deliver_remote:
 * @message: from a peer of another node, its `from` stamped there
 * @to_room: whether its `to` names a room (else a client)
 *
 * Delivers what another node relayed to the peers here. The sender's
 * node ran its signals and checks; there is nobody to answer with an
 * error here, and a target gone meanwhile is silence.
 */
void
signaling_router_deliver_remote (SignalingRouter  *self,
                                 SignalingMessage *message,
                                 gboolean          to_room)
{
  const char *to = signaling_message_get_to (message);

  if (to == NULL)
    return;

  if (to_room)
    {
      SignalingRoom *room = g_hash_table_lookup (self->rooms, to);

      if (room != NULL)
        deliver_to_room (self, room, NULL, message);
    }
  else
    {
      SignalingClient *target = g_hash_table_lookup (self->clients, to);
      gsize bytes = target != NULL ? signaling_client_deliver (target, message) : 0;

      if (bytes > 0)
        count_relayed (self, message, bytes);
    }
}

/*
 * signaling_router_notify_remote_member:
 * @id: a peer of another node
 * @kind: %SIGNALING_MESSAGE_KIND_JOIN or %SIGNALING_MESSAGE_KIND_LEAVE
 *
 * Tells the members @room has here that @id joined or left it.
 */
void
signaling_router_notify_remote_member (SignalingRouter      *self,
                                       const char           *room_name,
                                       const char           *id,
                                       SignalingMessageKind  kind)
{
  SignalingRoom *room = g_hash_table_lookup (self->rooms, room_name);

  if (room != NULL)
    notify_membership (self, room, NULL, id, kind);
}

/*
 * signaling_router_dup_room_members:
 * @client: (nullable): left out of the list
 *
 * Returns: (transfer full) (element-type utf8): the ids of every member
 *   of @room_name, here and on the other nodes
 */
GPtrArray *
signaling_router_dup_room_members (SignalingRouter *self,
                                   const char      *room_name,
                                   SignalingClient *client)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) remote_ids = g_ptr_array_new ();
  SignalingRoom *room = g_hash_table_lookup (self->rooms, room_name);

  if (room != NULL)
    {
      GPtrArray *members = signaling_room_get_members (room);

      for (guint i = 0; i < members->len; i++)
        if (g_ptr_array_index (members, i) != client)
          g_ptr_array_add (ids, g_strdup (signaling_client_get_id (g_ptr_array_index (members, i))));
    }

  if (self->remote != NULL)
    signaling_remote_add_room_members (self->remote, room_name, remote_ids);
  for (guint i = 0; i < remote_ids->len; i++)
    g_ptr_array_add (ids, g_strdup (g_ptr_array_index (remote_ids, i)));

  return ids;
}
