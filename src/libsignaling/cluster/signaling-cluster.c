/* signaling-cluster.c: several processes and hosts as one service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-cluster"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <unistd.h>

#include "signaling-client-private.h"
#include "signaling-cluster-private.h"
#include "signaling-enums.h"
#include "signaling-error.h"
#include "signaling-json-private.h"
#include "signaling-message-private.h"
#include "signaling-redis-link-private.h"
#include "signaling-remote-private.h"
#include "signaling-room.h"
#include "signaling-socketio-connection-private.h"

/*
 * SignalingCluster:
 *
 * Makes this process one node of a cluster through Redis, and is the
 * router's SignalingRemote. The layout (docs/design.md, "Cluster"):
 *
 * - channel `signalbox:cluster`: membership events of every node
 *   (connect, disconnect, join, leave, hello);
 * - channel `signalbox:peer:ID`: what is relayed to peer ID, subscribed
 *   by its node while it is connected;
 * - channel `signalbox:room:NAME`: what is broadcast to room NAME,
 *   subscribed by every node with members there;
 * - hash `signalbox:nodes`: node id → its JSON description;
 * - hash `signalbox:node:ID:peers`: peer id → {protocol, transport,
 *   rooms} of node ID's peers, for nodes that start or come back;
 * - key `signalbox:node:ID:alive`, set with an expiry a little under
 *   the heartbeat window and refreshed four times per window: a node
 *   whose key has expired is dead, and its peers leave everywhere;
 * - key `signalbox:resume:TOKEN`: {node, peer, rooms} of a session
 *   waiting for its resume, expiring with the resume window, so that
 *   another node can claim it (see "Resume across nodes" below).
 *
 * Every envelope carries the node id, so that a node drops its own
 * echoes. A node publishes on one connection, in order, and holds its
 * publications while a subscription it asked for is unconfirmed, so
 * that a peer's events and messages reach the other nodes in the order
 * it caused them. What other nodes know is a cache, read without
 * waiting by the router.
 */

#define PREFIX "signalbox:"
#define CLUSTER_CHANNEL PREFIX "cluster"
#define PEER_CHANNEL PREFIX "peer:"
#define ROOM_CHANNEL PREFIX "room:"
#define NODES_KEY PREFIX "nodes"
#define RESUME_KEY PREFIX "resume:"

typedef struct
{
  char *id;
  char *node;
  char *protocol;
  char *transport;
  GHashTable *rooms;  /* set of names */
} RemotePeer;

typedef struct
{
  char *id;
  GHashTable *peers;  /* id → RemotePeer */
  char *forward;      /* http(s)://host:port taking its polling requests, or NULL */
} RemoteNode;

struct _SignalingCluster
{
  GObject parent_instance;

  SignalingRouter *router;
  char *node_id;
  guint heartbeat_ms;
  SignalingRedisLink *commands;
  SignalingRedisLink *pubsub;
  char *state;

  GHashTable *nodes;  /* id → RemoteNode, other nodes only */
  GHashTable *peers;  /* id → RemotePeer, owned by their node */
  GHashTable *rooms;  /* name → (peer id → RemotePeer), peers on other nodes */

  guint pending_subscribes;
  GHashTable *channels;  /* name → ChannelState, on the pub/sub link */
  GQueue held;        /* of Held: publications waiting for subscriptions */
  gint64 grace_until; /* no node is declared dead before (monotonic µs) */
  guint heartbeat_source;

  GHashTable *claims;  /* token → Handover: sessions we claimed from other nodes */

  char *forward_address;  /* ours, for the other nodes */
  SoupSession *session;   /* passes polling requests on */
};

typedef struct
{
  char *channel;
  char *text;
} Held;

/* hiredis before 1.0 (which counts pending subscriptions per channel)
 * forgets a channel's callback when its UNSUBSCRIBE is confirmed, even
 * if a SUBSCRIBE of the same channel went out since: that channel's
 * messages, and the confirmation we hold publications for, would be
 * dropped. So a channel is subscribed again only once its UNSUBSCRIBE
 * is confirmed. */
typedef enum
{
  CHANNEL_SUBSCRIBED = 1,  /* or SUBSCRIBE on its way */
  CHANNEL_LEAVING,         /* UNSUBSCRIBE on its way */
  CHANNEL_REJOINING,       /* UNSUBSCRIBE on its way, wanted again */
} ChannelState;

enum
{
  PROP_0,
  PROP_STATE,
  PROP_NODES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void signaling_cluster_remote_init (SignalingRemoteInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignalingCluster, signaling_cluster, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SIGNALING_TYPE_REMOTE,
                                                      signaling_cluster_remote_init))

/* g_set_str() comes with GLib 2.76. */
static gboolean
set_str (char       **where,
         const char  *value)
{
  if (g_strcmp0 (*where, value) == 0)
    return FALSE;
  g_free (*where);
  *where = g_strdup (value);
  return TRUE;
}

/* The keys of @table, copied (g_hash_table_get_keys_as_ptr_array()
 * comes with GLib 2.76): safe to walk while the table changes. */
static GPtrArray *
dup_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_new_full (g_hash_table_size (table), g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, g_strdup (key));
  return keys;
}

static JsonArray *
get_array_member (JsonObject *object,
                  const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static void
remote_peer_free (RemotePeer *peer)
{
  g_free (peer->id);
  g_free (peer->node);
  g_free (peer->protocol);
  g_free (peer->transport);
  g_hash_table_unref (peer->rooms);
  g_free (peer);
}

static void
remote_node_free (RemoteNode *node)
{
  g_free (node->id);
  g_free (node->forward);
  g_hash_table_unref (node->peers);
  g_free (node);
}

static void
held_free (Held *held)
{
  g_free (held->channel);
  g_free (held->text);
  g_free (held);
}

/* The cache of the other nodes */

static RemoteNode *
get_node (SignalingCluster *self,
          const char       *id)
{
  RemoteNode *node = g_hash_table_lookup (self->nodes, id);

  if (node == NULL)
    {
      node = g_new0 (RemoteNode, 1);
      node->id = g_strdup (id);
      node->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify) remote_peer_free);
      g_hash_table_insert (self->nodes, node->id, node);
      g_debug ("Cluster node %s seen", id);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NODES]);
    }
  return node;
}

static RemotePeer *
add_peer (SignalingCluster *self,
          RemoteNode       *node,
          const char       *id,
          const char       *protocol,
          const char       *transport)
{
  RemotePeer *peer = g_hash_table_lookup (node->peers, id);

  if (peer == NULL)
    {
      peer = g_new0 (RemotePeer, 1);
      peer->id = g_strdup (id);
      peer->node = g_strdup (node->id);
      peer->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (node->peers, peer->id, peer);
      /* A peer id moves to the node that announced it last. */
      g_hash_table_insert (self->peers, peer->id, peer);
    }
  if (protocol != NULL)
    set_str (&peer->protocol, protocol);
  if (transport != NULL)
    set_str (&peer->transport, transport);
  return peer;
}

/* @notify: whether local members hear of it (not of a peer that only
 * moves between nodes) */
static void
peer_join_full (SignalingCluster *self,
                RemotePeer       *peer,
                const char       *room,
                gboolean          notify)
{
  GHashTable *members;

  if (!g_hash_table_add (peer->rooms, g_strdup (room)))
    return;

  members = g_hash_table_lookup (self->rooms, room);
  if (members == NULL)
    {
      members = g_hash_table_new (g_str_hash, g_str_equal);
      g_hash_table_insert (self->rooms, g_strdup (room), members);
    }
  g_hash_table_insert (members, peer->id, peer);
  if (notify)
    signaling_router_notify_remote_member (self->router, room, peer->id, SIGNALING_MESSAGE_KIND_JOIN);
}

static void
peer_join (SignalingCluster *self,
           RemotePeer       *peer,
           const char       *room)
{
  peer_join_full (self, peer, room, TRUE);
}

static void
peer_leave_full (SignalingCluster *self,
                 RemotePeer       *peer,
                 const char       *room,
                 gboolean          notify)
{
  g_autofree char *name = g_strdup (room);
  GHashTable *members;

  if (!g_hash_table_remove (peer->rooms, name))
    return;

  members = g_hash_table_lookup (self->rooms, name);
  if (members != NULL)
    {
      g_hash_table_remove (members, peer->id);
      if (g_hash_table_size (members) == 0)
        g_hash_table_remove (self->rooms, name);
    }
  if (notify)
    signaling_router_notify_remote_member (self->router, name, peer->id, SIGNALING_MESSAGE_KIND_LEAVE);
}

static void
peer_leave (SignalingCluster *self,
            RemotePeer       *peer,
            const char       *room)
{
  peer_leave_full (self, peer, room, TRUE);
}

static void
remove_peer_full (SignalingCluster *self,
                  RemoteNode       *node,
                  const char       *id,
                  gboolean          notify)
{
  RemotePeer *peer = g_hash_table_lookup (node->peers, id);
  g_autoptr(GPtrArray) rooms = NULL;

  if (peer == NULL)
    return;

  rooms = dup_keys (peer->rooms);
  for (guint i = 0; i < rooms->len; i++)
    peer_leave_full (self, peer, g_ptr_array_index (rooms, i), notify);

  if (g_hash_table_lookup (self->peers, id) == peer)
    g_hash_table_remove (self->peers, id);
  g_hash_table_remove (node->peers, id);
}

static void
remove_peer (SignalingCluster *self,
             RemoteNode       *node,
             const char       *id)
{
  remove_peer_full (self, node, id, TRUE);
}

/*
 * Makes what we know of @node_id what @snapshot says (peer id → JSON
 * {protocol, transport, rooms}; NULL for nothing), telling local
 * members of every difference: used when a node (re)appears, after an
 * outage, and when it dies.
 */
static void
replace_node (SignalingCluster *self,
              const char       *node_id,
              GHashTable       *snapshot)
{
  RemoteNode *node = get_node (self, node_id);
  g_autoptr(GPtrArray) known = dup_keys (node->peers);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < known->len; i++)
    {
      const char *id = g_ptr_array_index (known, i);
      JsonObject *info = snapshot != NULL ? g_hash_table_lookup (snapshot, id) : NULL;
      RemotePeer *peer = g_hash_table_lookup (node->peers, id);
      g_autoptr(GPtrArray) rooms = NULL;
      JsonArray *wanted;

      if (info == NULL)
        {
          remove_peer (self, node, id);
          continue;
        }

      wanted = get_array_member (info, "rooms");
      rooms = dup_keys (peer->rooms);
      for (guint j = 0; j < rooms->len; j++)
        {
          const char *room = g_ptr_array_index (rooms, j);
          gboolean kept = FALSE;

          for (guint k = 0; wanted != NULL && k < json_array_get_length (wanted); k++)
            kept = kept || g_strcmp0 (json_array_get_string_element (wanted, k), room) == 0;
          if (!kept)
            peer_leave (self, peer, room);
        }
    }

  if (snapshot == NULL)
    return;

  g_hash_table_iter_init (&iter, snapshot);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      JsonObject *info = value;
      JsonArray *rooms = get_array_member (info, "rooms");
      RemotePeer *peer = add_peer (self, node, key,
                                   json_object_get_string_member_with_default (info, "protocol", NULL),
                                   json_object_get_string_member_with_default (info, "transport", NULL));

      for (guint k = 0; rooms != NULL && k < json_array_get_length (rooms); k++)
        {
          const char *room = json_array_get_string_element (rooms, k);

          if (room != NULL)
            peer_join (self, peer, room);
        }
    }
}

static void
forget_node (SignalingCluster *self,
             const char       *node_id)
{
  g_autofree char *id = g_strdup (node_id);

  replace_node (self, id, NULL);
  g_hash_table_remove (self->nodes, id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NODES]);
}

/* Publishing */

static char *
node_key (const char *node,
          const char *what)
{
  return g_strconcat (PREFIX "node:", node, ":", what, NULL);
}

static void
send_publish (SignalingCluster *self,
              const char       *channel,
              const char       *text)
{
  const char *argv[] = { "PUBLISH", channel, text };

  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 3, argv, NULL);
}

/* Publishes @text on @channel after everything published before it,
 * and not before the subscriptions asked for so far are in place. */
static gboolean queue_own (SignalingCluster *self,
                           const char       *channel,
                           const char       *text);

static void
publish (SignalingCluster *self,
         const char       *channel,
         char             *text)
{
  Held *held;

  if (g_hash_table_size (self->claims) > 0 && queue_own (self, channel, text))
    {
      g_free (text);
      return;
    }

  if (self->pending_subscribes == 0 && g_queue_is_empty (&self->held))
    {
      send_publish (self, channel, text);
      g_free (text);
      return;
    }

  held = g_new0 (Held, 1);
  held->channel = g_strdup (channel);
  held->text = text;
  g_queue_push_tail (&self->held, held);
}

static void
flush_held (SignalingCluster *self)
{
  Held *held;

  while ((held = g_queue_pop_head (&self->held)) != NULL)
    {
      send_publish (self, held->channel, held->text);
      held_free (held);
    }
}

static void
subscription_confirmed (SignalingCluster *self)
{
  if (self->pending_subscribes > 0 && --self->pending_subscribes == 0)
    flush_held (self);
}

/* (Un)subscribes the pub/sub link to @channel. A subscription holds our
 * publications until Redis confirms it. While the link is down nothing
 * is sent: resubscribe() asks for everything when it is back. */
static void
subscribe (SignalingCluster *self,
           const char       *channel,
           gboolean          on)
{
  ChannelState state = GPOINTER_TO_INT (g_hash_table_lookup (self->channels, channel));

  if (!signaling_redis_link_is_connected (self->pubsub))
    return;

  if (on && state == 0)
    {
      if (signaling_redis_link_subscribe (self->pubsub, channel, TRUE))
        {
          self->pending_subscribes++;
          g_hash_table_insert (self->channels, g_strdup (channel), GINT_TO_POINTER (CHANNEL_SUBSCRIBED));
        }
    }
  else if (on && state == CHANNEL_LEAVING)
    {
      self->pending_subscribes++;
      g_hash_table_insert (self->channels, g_strdup (channel), GINT_TO_POINTER (CHANNEL_REJOINING));
    }
  else if (!on && state == CHANNEL_SUBSCRIBED)
    {
      if (signaling_redis_link_subscribe (self->pubsub, channel, FALSE))
        g_hash_table_insert (self->channels, g_strdup (channel), GINT_TO_POINTER (CHANNEL_LEAVING));
    }
  else if (!on && state == CHANNEL_REJOINING)
    {
      g_hash_table_insert (self->channels, g_strdup (channel), GINT_TO_POINTER (CHANNEL_LEAVING));
      subscription_confirmed (self);
    }
}

static void
on_unsubscribed (SignalingCluster *self,
                 const char       *channel)
{
  ChannelState state = GPOINTER_TO_INT (g_hash_table_lookup (self->channels, channel));

  if (state == CHANNEL_LEAVING)
    g_hash_table_remove (self->channels, channel);
  else if (state == CHANNEL_REJOINING)
    {
      /* Counted in pending_subscribes already. */
      if (signaling_redis_link_subscribe (self->pubsub, channel, TRUE))
        g_hash_table_insert (self->channels, g_strdup (channel), GINT_TO_POINTER (CHANNEL_SUBSCRIBED));
      else
        {
          g_hash_table_remove (self->channels, channel);
          subscription_confirmed (self);
        }
    }
}

static void
subscribe_peer (SignalingCluster *self,
                const char       *id,
                gboolean          on)
{
  g_autofree char *channel = g_strconcat (PEER_CHANNEL, id, NULL);

  subscribe (self, channel, on);
}

static void
subscribe_room (SignalingCluster *self,
                const char       *room,
                gboolean          on)
{
  g_autofree char *channel = g_strconcat (ROOM_CHANNEL, room, NULL);

  subscribe (self, channel, on);
}

static JsonBuilder *
begin_event (SignalingCluster *self,
             const char       *event)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "node");
  json_builder_add_string_value (builder, self->node_id);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  return builder;
}

static char *
end_builder (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return signaling_json_to_string (root);
}

static void
publish_event (SignalingCluster *self,
               const char       *event,
               SignalingClient  *client,
               const char       *room)
{
  g_autoptr(JsonBuilder) builder = begin_event (self, event);

  if (client != NULL)
    {
      json_builder_set_member_name (builder, "peer");
      json_builder_add_string_value (builder, signaling_client_get_id (client));
    }
  if (room != NULL)
    {
      json_builder_set_member_name (builder, "room");
      json_builder_add_string_value (builder, room);
    }
  if (client != NULL && g_str_equal (event, "connect"))
    {
      json_builder_set_member_name (builder, "protocol");
      json_builder_add_string_value (builder, signaling_client_get_protocol (client));
      json_builder_set_member_name (builder, "transport");
      json_builder_add_string_value (builder, signaling_client_get_transport (client));
    }
  publish (self, CLUSTER_CHANNEL, end_builder (builder));
}

/* {protocol, transport, rooms} of a local client, as stored in Redis. */
static char *
describe_client (SignalingClient *client)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GPtrArray *rooms = signaling_client_get_room_names (client);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "protocol");
  json_builder_add_string_value (builder, signaling_client_get_protocol (client));
  json_builder_set_member_name (builder, "transport");
  json_builder_add_string_value (builder, signaling_client_get_transport (client));
  json_builder_set_member_name (builder, "rooms");
  json_builder_begin_array (builder);
  for (guint i = 0; i < rooms->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (rooms, i));
  json_builder_end_array (builder);
  return end_builder (builder);
}

static void
store_client (SignalingCluster *self,
              SignalingClient  *client)
{
  g_autofree char *key = node_key (self->node_id, "peers");
  g_autofree char *description = describe_client (client);
  const char *argv[] = { "HSET", key, signaling_client_get_id (client), description };

  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 4, argv, NULL);
}

static void
unstore_client (SignalingCluster *self,
                SignalingClient  *client)
{
  g_autofree char *key = node_key (self->node_id, "peers");
  const char *argv[] = { "HDEL", key, signaling_client_get_id (client) };

  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 3, argv, NULL);
}

/* Resume across nodes
 *
 * A session waiting for its resume is recorded under RESUME_KEY (by
 * signaling_resume_table_set_detached(), through session_waiting). A
 * node that gets a token it does not know takes that key (GETDEL: of
 * two claims one wins), subscribes to the peer's channel and to its
 * rooms', and publishes a marker, `handover`, on the peer's channel.
 * Redis hands every subscriber the messages of all its channels in the
 * one order it ran the PUBLISHes, so the marker cuts the peer's traffic
 * in two for both nodes: what the old node read before the marker it
 * kept for the peer and hands over with the session (`handed-over`);
 * what the claiming node reads after its own marker (relays to the
 * peer and to its rooms, others' joins and leaves of its rooms, its
 * own echoes included) it queues and delivers after that state. The
 * old node lets the peer go without a word and takes it for a peer of
 * the new node; the new node takes it up without a word and tells the
 * others (`move`). No answer within the cluster timeout: the resume
 * fails.
 */

typedef struct
{
  SignalingCluster *cluster;  /* unowned: it drops its claims in dispose */
  char *token;
  char *sub;            /* the id the new connection's token names, or NULL */
  char *peer;           /* from the key, once read */
  char *node;
  GPtrArray *rooms;     /* of char *, from the key */
  gboolean marker_sent;  /* what we publish from now on comes after it */
  gboolean marker_seen;
  GPtrArray *queued;    /* of JsonObject *: envelopes after the marker */
  guint timeout_source;
  SignalingRemoteClaimFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Handover;

static SignalingMessage *message_from_envelope (JsonObject *envelope);

static void
handover_free (Handover *handover)
{
  g_clear_handle_id (&handover->timeout_source, g_source_remove);
  if (handover->destroy != NULL)
    handover->destroy (handover->user_data);
  g_free (handover->token);
  g_free (handover->sub);
  g_free (handover->peer);
  g_free (handover->node);
  g_clear_pointer (&handover->rooms, g_ptr_array_unref);
  g_ptr_array_unref (handover->queued);
  g_free (handover);
}

static Handover *
find_handover (SignalingCluster *self,
               const char       *peer)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->claims);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (((Handover *) value)->peer, peer) == 0)
      return value;
  return NULL;
}

static gboolean
handover_has_room (Handover   *handover,
                   const char *room)
{
  for (guint i = 0; handover->rooms != NULL && i < handover->rooms->len; i++)
    if (g_str_equal (g_ptr_array_index (handover->rooms, i), room))
      return TRUE;
  return FALSE;
}

/* What a claim subscribed to and nobody here needs any more. */
static void
release_channels (SignalingCluster *self,
                  Handover         *handover)
{
  if (handover->peer == NULL)
    return;

  if (signaling_router_lookup_client (self->router, handover->peer) == NULL)
    subscribe_peer (self, handover->peer, FALSE);
  for (guint i = 0; i < handover->rooms->len; i++)
    {
      const char *room = g_ptr_array_index (handover->rooms, i);

      if (signaling_router_lookup_room (self->router, room) == NULL)
        subscribe_room (self, room, FALSE);
    }
}

/* The claim failed: the dialect starts a fresh session. */
static void
fail_handover (SignalingCluster *self,
               Handover         *handover)
{
  g_hash_table_steal (self->claims, handover->token);
  release_channels (self, handover);
  handover->func (NULL, handover->user_data);
  handover_free (handover);
}

static gboolean
on_handover_timeout (gpointer user_data)
{
  Handover *handover = user_data;
  SignalingCluster *self = handover->cluster;

  handover->timeout_source = 0;
  g_message ("No answer from node %s within the cluster timeout: the resume fails",
             handover->node != NULL ? handover->node : "(unknown)");
  fail_handover (self, handover);
  return G_SOURCE_REMOVE;
}

static void
publish_peer_event (SignalingCluster *self,
                    const char       *event,
                    const char       *peer,
                    const char       *room)
{
  g_autoptr(JsonBuilder) builder = begin_event (self, event);

  json_builder_set_member_name (builder, "peer");
  json_builder_add_string_value (builder, peer);
  if (room != NULL)
    {
      json_builder_set_member_name (builder, "room");
      json_builder_add_string_value (builder, room);
    }
  publish (self, CLUSTER_CHANNEL, end_builder (builder));
}

/* A `join` or `leave` event as the router tells its members. */
static SignalingMessage *
notice_from_event (JsonObject *envelope)
{
  const char *event = json_object_get_string_member_with_default (envelope, "event", "");
  const char *room = json_object_get_string_member_with_default (envelope, "room", NULL);
  const char *peer = json_object_get_string_member_with_default (envelope, "peer", NULL);
  g_autoptr(JsonObject) payload = json_object_new ();
  SignalingMessage *notice;

  if (room == NULL || peer == NULL)
    return NULL;
  json_object_set_string_member (payload, "room", room);
  notice = signaling_message_new (g_str_equal (event, "join") ? SIGNALING_MESSAGE_KIND_JOIN
                                                               : SIGNALING_MESSAGE_KIND_LEAVE,
                                  room, payload);
  signaling_message_set_from (notice, peer);
  return notice;
}

/* What reached the peer's new node after the marker, in order. */
static void
deliver_queued (Handover        *handover,
                SignalingClient *client)
{
  for (guint i = 0; i < handover->queued->len; i++)
    {
      JsonObject *envelope = g_ptr_array_index (handover->queued, i);
      const char *event = json_object_get_string_member_with_default (envelope, "event", "");
      g_autoptr(SignalingMessage) message = g_str_equal (event, "relay") ? message_from_envelope (envelope)
                                                                         : notice_from_event (envelope);

      if (message != NULL)
        signaling_client_deliver (client, message);
    }
}

/* The old node handed the session over: it goes on here. */
static void
take_handover (SignalingCluster *self,
               Handover         *handover,
               JsonObject       *state)
{
  g_autoptr(JsonBuilder) builder = begin_event (self, "move");
  RemoteNode *old = g_hash_table_lookup (self->nodes, handover->node);
  SignalingClient *client;

  g_hash_table_steal (self->claims, handover->token);

  /* First the others, so that if the session cannot go on here after
   * all, its leave (from here, now) reaches them after its move. */
  if (old != NULL)
    remove_peer_full (self, old, handover->peer, FALSE);
  json_builder_set_member_name (builder, "peer");
  json_builder_add_string_value (builder, handover->peer);
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, handover->node);
  json_builder_set_member_name (builder, "rooms");
  json_builder_begin_array (builder);
  for (guint i = 0; i < handover->rooms->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (handover->rooms, i));
  json_builder_end_array (builder);
  publish (self, CLUSTER_CHANNEL, end_builder (builder));

  client = handover->func (state, handover->user_data);
  if (client != NULL)
    {
      g_autoptr(SignalingClient) kept = g_object_ref (client);

      store_client (self, client);
      deliver_queued (handover, client);
    }
  else if (signaling_router_lookup_client (self->router, handover->peer) == NULL)
    {
      /* Not taken up (this node is full): it leaves everywhere. */
      for (guint i = 0; i < handover->rooms->len; i++)
        publish_peer_event (self, "leave", handover->peer, g_ptr_array_index (handover->rooms, i));
      publish_peer_event (self, "disconnect", handover->peer, NULL);
      release_channels (self, handover);
    }
  handover_free (handover);
}

/* The key names the session: listen where it is spoken to, then say
 * where the cut is. */
static void
on_resume_key (SignalingRedisLink *link,
               redisReply         *reply,
               gpointer            user_data)
{
  SignalingCluster *self = g_object_get_data (G_OBJECT (link), "signaling-cluster");
  Handover *handover = g_hash_table_lookup (self->claims, user_data);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *channel = NULL;
  JsonObject *record;
  JsonArray *rooms;
  const char *node, *peer;

  if (handover == NULL)
    return;  /* timed out meanwhile */

  if (reply->type == REDIS_REPLY_STRING)
    root = signaling_json_parse (reply->str, reply->len, NULL);
  record = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  node = record != NULL ? json_object_get_string_member_with_default (record, "node", NULL) : NULL;
  peer = record != NULL ? json_object_get_string_member_with_default (record, "peer", NULL) : NULL;
  /* Unknown, expired or spent; ours (it ended here); another user's
   * (with tokens on); or a peer here or claimed already. */
  if (node == NULL || peer == NULL || g_str_equal (node, self->node_id) ||
      (handover->sub != NULL && !g_str_equal (handover->sub, peer)) ||
      signaling_router_lookup_client (self->router, peer) != NULL || find_handover (self, peer) != NULL)
    {
      fail_handover (self, handover);
      return;
    }

  handover->peer = g_strdup (peer);
  handover->node = g_strdup (node);
  handover->rooms = g_ptr_array_new_with_free_func (g_free);
  rooms = get_array_member (record, "rooms");
  for (guint i = 0; rooms != NULL && i < json_array_get_length (rooms); i++)
    if (json_array_get_string_element (rooms, i) != NULL)
      g_ptr_array_add (handover->rooms, g_strdup (json_array_get_string_element (rooms, i)));

  subscribe_peer (self, peer, TRUE);
  for (guint i = 0; i < handover->rooms->len; i++)
    subscribe_room (self, g_ptr_array_index (handover->rooms, i), TRUE);

  /* Held by publish() until those subscriptions are confirmed. */
  builder = begin_event (self, "handover");
  json_builder_set_member_name (builder, "to-node");
  json_builder_add_string_value (builder, node);
  json_builder_set_member_name (builder, "token");
  json_builder_add_string_value (builder, handover->token);
  channel = g_strconcat (PEER_CHANNEL, peer, NULL);
  publish (self, channel, end_builder (builder));
  handover->marker_sent = TRUE;
}

static void
cluster_claim_session (SignalingRemote          *remote,
                       const char               *token,
                       const char               *sub,
                       SignalingRemoteClaimFunc  func,
                       gpointer                  user_data,
                       GDestroyNotify            destroy)
{
  SignalingCluster *self = SIGNALING_CLUSTER (remote);
  g_autofree char *key = g_strconcat (RESUME_KEY, token, NULL);
  const char *argv[] = { "GETDEL", key };
  Handover *handover = g_new0 (Handover, 1);

  handover->token = g_strdup (token);
  handover->sub = g_strdup (sub);
  handover->queued = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  handover->cluster = self;
  handover->func = func;
  handover->user_data = user_data;
  handover->destroy = destroy;

  /* The same token twice at once: the first claim has it. */
  if (g_hash_table_contains (self->claims, token))
    {
      func (NULL, user_data);
      handover_free (handover);
      return;
    }

  g_hash_table_insert (self->claims, handover->token, handover);
  handover->timeout_source = g_timeout_add (self->heartbeat_ms, on_handover_timeout, handover);
  if (!signaling_redis_link_command (self->commands, on_resume_key, g_strdup (token), g_free, 2, argv, NULL))
    fail_handover (self, handover);
}

static void
cluster_session_waiting (SignalingRemote *remote,
                         const char      *token,
                         SignalingClient *client,
                         guint            window)
{
  SignalingCluster *self = SIGNALING_CLUSTER (remote);
  g_autofree char *key = g_strconcat (RESUME_KEY, token, NULL);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *record = NULL;
  g_autofree char *seconds = NULL;
  GPtrArray *rooms;

  if (window == 0)
    {
      const char *argv[] = { "DEL", key };

      signaling_redis_link_command (self->commands, NULL, NULL, NULL, 2, argv, NULL);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "node");
  json_builder_add_string_value (builder, self->node_id);
  json_builder_set_member_name (builder, "peer");
  json_builder_add_string_value (builder, signaling_client_get_id (client));
  json_builder_set_member_name (builder, "rooms");
  json_builder_begin_array (builder);
  rooms = signaling_client_get_room_names (client);
  for (guint i = 0; i < rooms->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (rooms, i));
  json_builder_end_array (builder);
  record = end_builder (builder);
  seconds = g_strdup_printf ("%u", window);
  {
    const char *argv[] = { "SET", key, record, "EX", seconds };

    signaling_redis_link_command (self->commands, NULL, NULL, NULL, 5, argv, NULL);
  }
}

/* Another node claims our session of @peer: hand it over, or say no. */
static void
hand_over_session (SignalingCluster *self,
                   const char       *peer,
                   const char       *to_node,
                   const char       *token)
{
  SignalingClient *found = signaling_router_lookup_client (self->router, peer);
  g_autoptr(SignalingClient) client = found != NULL ? g_object_ref (found) : NULL;
  g_autoptr(JsonObject) state = NULL;
  g_autoptr(JsonArray) rooms = json_array_new ();
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *channel = g_strconcat (PEER_CHANNEL, peer, NULL);
  g_autofree char *protocol = NULL;
  g_autofree char *transport = NULL;

  if (client != NULL)
    {
      GPtrArray *names = signaling_client_get_room_names (client);

      for (guint i = 0; i < names->len; i++)
        json_array_add_string_element (rooms, g_ptr_array_index (names, i));
      protocol = g_strdup (signaling_client_get_protocol (client));
      transport = g_strdup (signaling_client_get_transport (client));
      state = signaling_connection_hand_over (signaling_client_get_connection (client), token);
    }

  builder = begin_event (self, state != NULL ? "handed-over" : "handover-refused");
  json_builder_set_member_name (builder, "to-node");
  json_builder_add_string_value (builder, to_node);
  json_builder_set_member_name (builder, "token");
  json_builder_add_string_value (builder, token);
  if (state != NULL)
    {
      g_autoptr(JsonNode) node = NULL;

      json_object_set_string_member (state, "id", peer);
      json_object_set_array_member (state, "rooms", json_array_ref (rooms));
      node = json_node_init_object (json_node_alloc (), state);
      json_builder_set_member_name (builder, "state");
      json_builder_add_value (builder, g_steal_pointer (&node));
    }
  publish (self, channel, end_builder (builder));

  if (state == NULL)
    return;

  /* The peer is the other node's now: it speaks for it from here on. */
  {
    g_autofree char *key = node_key (self->node_id, "peers");
    const char *argv[] = { "HDEL", key, peer };
    RemotePeer *moved = add_peer (self, get_node (self, to_node), peer, protocol, transport);

    signaling_redis_link_command (self->commands, NULL, NULL, NULL, 3, argv, NULL);
    subscribe_peer (self, peer, FALSE);
    for (guint i = 0; i < json_array_get_length (rooms); i++)
      {
        const char *room = json_array_get_string_element (rooms, i);

        if (signaling_router_lookup_room (self->router, room) == NULL)
          subscribe_room (self, room, FALSE);
        peer_join_full (self, moved, room, FALSE);
      }
  }
}

/*
 * What we publish after a claim's marker is for its peer too, and its
 * echo might come back after the peer is ours (and be dropped as an
 * echo): it is queued now, and its echo ignored. Returns %TRUE for a
 * relay to the claimed peer itself, which nobody else wants.
 */
static gboolean
queue_own (SignalingCluster *self,
           const char       *channel,
           const char       *text)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *envelope;
  const char *event, *room = NULL, *who;
  GHashTableIter iter;
  gpointer value;
  gboolean to_peer = FALSE;

  root = signaling_json_parse (text, strlen (text), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  envelope = json_node_get_object (root);
  event = json_object_get_string_member_with_default (envelope, "event", "");
  if (g_str_has_prefix (channel, ROOM_CHANNEL) && g_str_equal (event, "relay"))
    room = channel + strlen (ROOM_CHANNEL);
  else if (g_str_equal (channel, CLUSTER_CHANNEL) && (g_str_equal (event, "join") || g_str_equal (event, "leave")))
    room = json_object_get_string_member_with_default (envelope, "room", NULL);
  else if (!g_str_has_prefix (channel, PEER_CHANNEL) || !g_str_equal (event, "relay"))
    return FALSE;
  who = json_object_get_string_member_with_default (envelope, g_str_equal (event, "relay") ? "from" : "peer", NULL);

  g_hash_table_iter_init (&iter, self->claims);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Handover *handover = value;
      gboolean wanted;

      if (!handover->marker_sent)
        continue;
      if (room != NULL)
        wanted = handover_has_room (handover, room) && g_strcmp0 (who, handover->peer) != 0;
      else
        wanted = to_peer = g_str_equal (channel + strlen (PEER_CHANNEL), handover->peer);
      if (wanted)
        g_ptr_array_add (handover->queued, json_object_ref (envelope));
    }
  return to_peer;
}

/* What a claim of ours reads after its marker is for its peer; but
 * not what the old node published before its answer: it delivered that
 * to the peer itself, before or after the marker, and after its answer
 * the peer is here. */
static void
queue_for_handovers (SignalingCluster *self,
                     const char       *node_id,
                     const char       *room,
                     const char       *from,
                     JsonObject       *envelope)
{
  /* Ours were queued as they went out: see queue_own(). */
  if (g_str_equal (node_id, self->node_id))
    return;

  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->claims);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Handover *handover = value;

      if (handover->marker_seen && g_strcmp0 (node_id, handover->node) != 0 &&
          g_strcmp0 (from, handover->peer) != 0 && handover_has_room (handover, room))
        g_ptr_array_add (handover->queued, json_object_ref (envelope));
    }
}

/*
 * Looks at every message on the pub/sub link, our own echoes too,
 * before anything else: returns %TRUE when it was a handover's alone.
 */
static gboolean
intercept_handover (SignalingCluster *self,
                    const char       *channel,
                    const char       *node_id,
                    JsonObject       *envelope)
{
  const char *event = json_object_get_string_member_with_default (envelope, "event", "");
  const char *token = json_object_get_string_member_with_default (envelope, "token", NULL);
  const char *to_node = json_object_get_string_member_with_default (envelope, "to-node", "");
  gboolean own = g_str_equal (node_id, self->node_id);
  Handover *handover;

  /* The common case, on every message: no claim of ours, no marker. */
  if (g_hash_table_size (self->claims) == 0 && !g_str_equal (event, "handover"))
    return FALSE;

  if (g_str_has_prefix (channel, ROOM_CHANNEL))
    {
      if (g_str_equal (event, "relay"))
        queue_for_handovers (self, node_id, channel + strlen (ROOM_CHANNEL),
                             json_object_get_string_member_with_default (envelope, "from", NULL), envelope);
      return FALSE;
    }
  if (g_str_equal (channel, CLUSTER_CHANNEL))
    {
      const char *room = json_object_get_string_member_with_default (envelope, "room", NULL);

      if (room != NULL && (g_str_equal (event, "join") || g_str_equal (event, "leave")))
        queue_for_handovers (self, node_id, room, json_object_get_string_member_with_default (envelope, "peer", NULL),
                             envelope);
      return FALSE;
    }
  if (!g_str_has_prefix (channel, PEER_CHANNEL))
    return FALSE;

  handover = find_handover (self, channel + strlen (PEER_CHANNEL));
  if (handover == NULL)
    {
      if (!own && g_str_equal (event, "handover") && g_str_equal (to_node, self->node_id) && token != NULL)
        {
          hand_over_session (self, channel + strlen (PEER_CHANNEL), node_id, token);
          return TRUE;
        }
      return FALSE;
    }

  if (g_str_equal (event, "handover"))
    {
      if (own && g_strcmp0 (token, handover->token) == 0)
        handover->marker_seen = TRUE;

    }
  else if (g_str_equal (event, "handed-over") || g_str_equal (event, "handover-refused"))
    {
      JsonNode *state = json_object_get_member (envelope, "state");

      if (g_strcmp0 (token, handover->token) != 0 || !g_str_equal (to_node, self->node_id))
        return TRUE;
      if (state != NULL && JSON_NODE_HOLDS_OBJECT (state))
        take_handover (self, handover, json_node_get_object (state));
      else
        fail_handover (self, handover);
    }
  else if (handover->marker_seen && !own && !g_str_equal (node_id, handover->node))
    g_ptr_array_add (handover->queued, json_object_ref (envelope));
  /* Before the marker: the old node has it for the peer. */
  return TRUE;
}

/* A peer of @from goes on on @node (a resume there): nobody saw it
 * leave or join. */
static void
move_peer (SignalingCluster *self,
           RemoteNode       *node,
           const char       *id,
           JsonObject       *envelope)
{
  const char *from = json_object_get_string_member_with_default (envelope, "from", NULL);
  RemoteNode *old;
  RemotePeer *peer;
  JsonArray *rooms;

  /* We handed it over, and noted it then. */
  if (from == NULL || g_str_equal (from, self->node_id))
    return;

  old = g_hash_table_lookup (self->nodes, from);
  peer = old != NULL ? g_hash_table_lookup (old->peers, id) : NULL;
  if (peer != NULL)
    {
      g_hash_table_steal (old->peers, id);
      set_str (&peer->node, node->id);
      g_hash_table_insert (node->peers, peer->id, peer);
      g_hash_table_insert (self->peers, peer->id, peer);
      return;
    }

  /* Never heard of there: to us it is a peer that appears. */
  peer = add_peer (self, node, id, NULL, NULL);
  rooms = get_array_member (envelope, "rooms");
  for (guint i = 0; rooms != NULL && i < json_array_get_length (rooms); i++)
    if (json_array_get_string_element (rooms, i) != NULL)
      peer_join (self, peer, json_array_get_string_element (rooms, i));
}

/* SignalingRemote */

static gboolean
cluster_has_peer (SignalingRemote *remote,
                  const char      *id)
{
  return g_hash_table_contains (SIGNALING_CLUSTER (remote)->peers, id);
}

static gboolean
cluster_has_room (SignalingRemote *remote,
                  const char      *room)
{
  return g_hash_table_contains (SIGNALING_CLUSTER (remote)->rooms, room);
}

static void
cluster_add_room_members (SignalingRemote *remote,
                          const char      *room,
                          GPtrArray       *ids)
{
  GHashTable *members = g_hash_table_lookup (SIGNALING_CLUSTER (remote)->rooms, room);
  GHashTableIter iter;
  gpointer key;

  if (members == NULL)
    return;

  g_hash_table_iter_init (&iter, members);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, key);
}

/* The envelope of a relayed message: the payload as it came (parsed
 * once more on the other side, never rebuilt field by field), and
 * what the router and the dialects know of it beside. */
static void
cluster_publish (SignalingRemote  *remote,
                 SignalingMessage *message,
                 gboolean          to_room)
{
  SignalingCluster *self = SIGNALING_CLUSTER (remote);
  g_autoptr(JsonBuilder) builder = begin_event (self, "relay");
  g_autoptr(JsonObject) note = signaling_socketio_dialect_export_note (message);
  g_autoptr(JsonNode) payload = json_node_init_object (json_node_alloc (),
                                                       signaling_message_peek_payload (message));
  const char *to = signaling_message_get_to (message);
  g_autofree char *channel = g_strconcat (to_room ? ROOM_CHANNEL : PEER_CHANNEL, to, NULL);

  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, signaling_message_kind_to_string (signaling_message_get_kind (message)));
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, signaling_message_get_from (message));
  json_builder_set_member_name (builder, "to");
  json_builder_add_string_value (builder, to);
  json_builder_set_member_name (builder, "dialect");
  json_builder_add_string_value (builder, signaling_message_get_dialect (message));
  json_builder_set_member_name (builder, "include-sender");
  json_builder_add_boolean_value (builder, signaling_message_get_include_sender (message));
  json_builder_set_member_name (builder, "payload");
  json_builder_add_value (builder, g_steal_pointer (&payload));
  if (note != NULL)
    {
      g_autoptr(JsonNode) note_node = json_node_init_object (json_node_alloc (), note);

      json_builder_set_member_name (builder, "socket.io");
      json_builder_add_value (builder, g_steal_pointer (&note_node));
    }

  publish (self, channel, end_builder (builder));
}

static void
cluster_client_changed (SignalingRemote *remote,
                        SignalingClient *client,
                        gboolean         connected)
{
  SignalingCluster *self = SIGNALING_CLUSTER (remote);
  const char *id = signaling_client_get_id (client);

  if (connected)
    {
      subscribe_peer (self, id, TRUE);
      store_client (self, client);
      publish_event (self, "connect", client, NULL);
    }
  else
    {
      subscribe_peer (self, id, FALSE);
      unstore_client (self, client);
      publish_event (self, "disconnect", client, NULL);
    }
}

static void
cluster_member_changed (SignalingRemote *remote,
                        SignalingClient *client,
                        const char      *room,
                        gboolean         joined)
{
  SignalingCluster *self = SIGNALING_CLUSTER (remote);
  SignalingRoom *local = signaling_router_lookup_room (self->router, room);

  /* Subscribed while the room has members here. */
  if (joined && local != NULL && signaling_room_get_member_count (local) == 1)
    subscribe_room (self, room, TRUE);

  store_client (self, client);
  publish_event (self, joined ? "join" : "leave", client, room);

  if (!joined && local == NULL)
    subscribe_room (self, room, FALSE);
}

static void
signaling_cluster_remote_init (SignalingRemoteInterface *iface)
{
  iface->has_peer = cluster_has_peer;
  iface->has_room = cluster_has_room;
  iface->add_room_members = cluster_add_room_members;
  iface->publish = cluster_publish;
  iface->client_changed = cluster_client_changed;
  iface->member_changed = cluster_member_changed;
  iface->session_waiting = cluster_session_waiting;
  iface->claim_session = cluster_claim_session;
}

/* What other nodes say */

static GHashTable *
snapshot_from_reply (redisReply *reply)
{
  GHashTable *snapshot = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify) json_object_unref);

  if (reply->type != REDIS_REPLY_ARRAY)
    return snapshot;

  for (size_t i = 0; i + 1 < reply->elements; i += 2)
    {
      redisReply *field = reply->element[i];
      redisReply *value = reply->element[i + 1];
      g_autoptr(JsonNode) root = NULL;

      if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
        continue;
      root = signaling_json_parse (value->str, value->len, NULL);
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        g_hash_table_insert (snapshot, g_strndup (field->str, field->len),
                             json_object_ref (json_node_get_object (root)));
    }
  return snapshot;
}

static void
on_node_peers (SignalingRedisLink *link,
               redisReply         *reply,
               gpointer            user_data)
{
  SignalingCluster *self = g_object_get_data (G_OBJECT (link), "signaling-cluster");
  g_autoptr(GHashTable) snapshot = snapshot_from_reply (reply);

  replace_node (self, user_data, snapshot);
}

/* Reads all that node @node_id has stored, and takes it for true. */
static void
fetch_node (SignalingCluster *self,
            const char       *node_id)
{
  g_autofree char *key = node_key (node_id, "peers");
  const char *argv[] = { "HGETALL", key };

  signaling_redis_link_command (self->commands, on_node_peers, g_strdup (node_id), g_free,
                                2, argv, NULL);
}

static SignalingMessage *
message_from_envelope (JsonObject *envelope)
{
  g_autoptr(GEnumClass) kinds = g_type_class_ref (SIGNALING_TYPE_MESSAGE_KIND);
  const char *kind = json_object_get_string_member_with_default (envelope, "kind", "");
  GEnumValue *value = g_enum_get_value_by_nick (kinds, kind);
  JsonNode *payload = json_object_get_member (envelope, "payload");
  JsonNode *note = json_object_get_member (envelope, "socket.io");
  const char *from = json_object_get_string_member_with_default (envelope, "from", NULL);
  SignalingMessage *message;

  if (value == NULL || from == NULL || payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload))
    return NULL;

  message = signaling_message_new (value->value, json_object_get_string_member_with_default (envelope, "to", NULL),
                                   json_node_get_object (payload));
  signaling_message_set_from (message, from);
  signaling_message_set_dialect (message, json_object_get_string_member_with_default (envelope, "dialect", "native"));
  signaling_message_set_include_sender (message,
                                        json_object_get_boolean_member_with_default (envelope, "include-sender", FALSE));
  if (note != NULL && JSON_NODE_HOLDS_OBJECT (note))
    signaling_socketio_dialect_import_note (message, json_node_get_object (note));
  return message;
}

static void
handle_event (SignalingCluster *self,
              const char       *node_id,
              JsonObject       *envelope)
{
  const char *event = json_object_get_string_member_with_default (envelope, "event", "");
  const char *peer_id = json_object_get_string_member_with_default (envelope, "peer", NULL);
  const char *room = json_object_get_string_member_with_default (envelope, "room", NULL);
  RemoteNode *node = get_node (self, node_id);
  RemotePeer *peer = NULL;

  if (g_str_equal (event, "hello"))
    {
      set_str (&node->forward, json_object_get_string_member_with_default (envelope, "forward", NULL));
      fetch_node (self, node_id);
      return;
    }

  if (peer_id == NULL)
    return;

  if (g_str_equal (event, "disconnect"))
    {
      remove_peer (self, node, peer_id);
      return;
    }
  if (g_str_equal (event, "move"))
    {
      move_peer (self, node, peer_id, envelope);
      return;
    }

  peer = add_peer (self, node, peer_id,
                   json_object_get_string_member_with_default (envelope, "protocol", NULL),
                   json_object_get_string_member_with_default (envelope, "transport", NULL));
  if (room != NULL && g_str_equal (event, "join"))
    peer_join (self, peer, room);
  else if (room != NULL && g_str_equal (event, "leave"))
    peer_leave (self, peer, room);
}

static void
handle_message (SignalingCluster *self,
                const char       *channel,
                const char       *text,
                gsize             length)
{
  g_autoptr(JsonNode) root = signaling_json_parse (text, length, NULL);
  JsonObject *envelope = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *node_id = envelope != NULL ? json_object_get_string_member_with_default (envelope, "node", NULL) : NULL;
  g_autoptr(SignalingMessage) message = NULL;

  if (node_id != NULL && intercept_handover (self, channel, node_id, envelope))
    return;

  /* Our own echo, or not ours to read. */
  if (node_id == NULL || g_str_equal (node_id, self->node_id))
    return;

  if (g_str_equal (channel, CLUSTER_CHANNEL))
    {
      handle_event (self, node_id, envelope);
      return;
    }

  message = message_from_envelope (envelope);
  if (message == NULL)
    {
      g_debug ("Dropped a malformed envelope from node %s on %s", node_id, channel);
      return;
    }
  signaling_router_deliver_remote (self->router, message, g_str_has_prefix (channel, ROOM_CHANNEL));
}

static void
on_pubsub_reply (SignalingRedisLink *link,
                 redisReply         *reply,
                 gpointer            user_data)
{
  SignalingCluster *self = user_data;
  const char *kind;

  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING)
    return;

  kind = reply->element[0]->str;
  if (g_str_equal (kind, "subscribe"))
    subscription_confirmed (self);
  else if (g_str_equal (kind, "unsubscribe"))
    on_unsubscribed (self, reply->element[1]->str);
  else if (g_str_equal (kind, "message") && reply->element[2]->type == REDIS_REPLY_STRING)
    handle_message (self, reply->element[1]->str, reply->element[2]->str, reply->element[2]->len);
}

/* Liveness */

static void
forget_dead_node (SignalingCluster *self,
                  const char       *node_id)
{
  RemoteNode *node = g_hash_table_lookup (self->nodes, node_id);
  g_autofree char *peers_key = node_key (node_id, "peers");
  const char *hdel[] = { "HDEL", NODES_KEY, node_id };
  const char *del[] = { "DEL", peers_key };

  g_message ("Cluster node %s stopped answering: its %u peers leave",
             node_id, node != NULL ? g_hash_table_size (node->peers) : 0);
  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 3, hdel, NULL);
  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 2, del, NULL);
  if (node != NULL)
    forget_node (self, node_id);
}

static void
on_alive (SignalingRedisLink *link,
          redisReply         *reply,
          gpointer            user_data)
{
  SignalingCluster *self = g_object_get_data (G_OBJECT (link), "signaling-cluster");

  if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0 &&
      g_get_monotonic_time () >= self->grace_until)
    forget_dead_node (self, user_data);
}

static void
check_alive (SignalingCluster *self,
             const char       *node_id)
{
  g_autofree char *key = node_key (node_id, "alive");
  const char *argv[] = { "EXISTS", key };

  signaling_redis_link_command (self->commands, on_alive, g_strdup (node_id), g_free, 2, argv, NULL);
}

/* Where @node takes polling requests, from its entry in NODES_KEY. */
static void
note_forward (RemoteNode *node,
              redisReply *description)
{
  g_autoptr(JsonNode) root = NULL;

  if (description->type != REDIS_REPLY_STRING)
    return;
  root = signaling_json_parse (description->str, description->len, NULL);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    set_str (&node->forward, json_object_get_string_member_with_default (json_node_get_object (root),
                                                                          "forward", NULL));
}

static void
on_nodes (SignalingRedisLink *link,
          redisReply         *reply,
          gpointer            user_data)
{
  SignalingCluster *self = g_object_get_data (G_OBJECT (link), "signaling-cluster");
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) known = NULL;

  if (reply->type != REDIS_REPLY_ARRAY)
    return;

  for (size_t i = 0; i + 1 < reply->elements; i += 2)
    {
      const char *id = reply->element[i]->str;

      if (reply->element[i]->type != REDIS_REPLY_STRING || g_str_equal (id, self->node_id))
        continue;
      g_hash_table_add (listed, (gpointer) id);
      if (!g_hash_table_contains (self->nodes, id))
        fetch_node (self, id);
      note_forward (get_node (self, id), reply->element[i + 1]);
      check_alive (self, id);
    }

  /* Known here, gone from the list: another node found it dead. */
  known = dup_keys (self->nodes);
  for (guint i = 0; i < known->len; i++)
    if (!g_hash_table_contains (listed, g_ptr_array_index (known, i)) &&
        g_get_monotonic_time () >= self->grace_until)
      forget_node (self, g_ptr_array_index (known, i));
}

static char *
describe_node (SignalingCluster *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "host");
  json_builder_add_string_value (builder, g_get_host_name ());
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, getpid ());
  if (self->forward_address != NULL)
    {
      json_builder_set_member_name (builder, "forward");
      json_builder_add_string_value (builder, self->forward_address);
    }
  return end_builder (builder);
}

/* Writes all this node knows of its own peers afresh, and tells the
 * others to read it. */
static void
announce (SignalingCluster *self)
{
  g_autofree char *key = node_key (self->node_id, "peers");
  g_autofree char *description = describe_node (self);
  const char *del[] = { "DEL", key };
  const char *hset[] = { "HSET", NODES_KEY, self->node_id, description };
  GHashTableIter iter;
  gpointer value;
  g_autoptr(JsonBuilder) hello = begin_event (self, "hello");

  if (self->forward_address != NULL)
    {
      json_builder_set_member_name (hello, "forward");
      json_builder_add_string_value (hello, self->forward_address);
    }

  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 2, del, NULL);
  g_hash_table_iter_init (&iter, signaling_router_get_clients (self->router));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    store_client (self, value);
  signaling_redis_link_command (self->commands, NULL, NULL, NULL, 4, hset, NULL);
  publish (self, CLUSTER_CHANNEL, end_builder (hello));
}

static void
on_own_alive (SignalingRedisLink *link,
              redisReply         *reply,
              gpointer            user_data)
{
  SignalingCluster *self = g_object_get_data (G_OBJECT (link), "signaling-cluster");

  /* Our key had expired: Redis restarted, or others took us for dead
   * and forgot our peers. Tell them again. */
  if (reply->type == REDIS_REPLY_NIL)
    announce (self);
}

static gboolean
heartbeat (gpointer user_data)
{
  SignalingCluster *self = user_data;
  g_autofree char *key = node_key (self->node_id, "alive");
  g_autofree char *ttl = g_strdup_printf ("%u", self->heartbeat_ms * 2 / 3);
  const char *set[] = { "SET", key, "1", "PX", ttl, "GET" };
  const char *nodes[] = { "HGETALL", NODES_KEY };

  if (!signaling_redis_link_is_connected (self->commands))
    return G_SOURCE_CONTINUE;

  signaling_redis_link_command (self->commands, on_own_alive, NULL, NULL, 6, set, NULL);
  signaling_redis_link_command (self->commands, on_nodes, NULL, NULL, 2, nodes, NULL);
  return G_SOURCE_CONTINUE;
}

/* State */

static void
set_state (SignalingCluster *self,
           const char       *state)
{
  if (set_str (&self->state, state))
    {
      g_message ("Cluster node %s: %s", self->node_id, state);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
resubscribe (SignalingCluster *self)
{
  GHashTableIter iter;
  gpointer key;

  self->pending_subscribes = 0;
  g_hash_table_remove_all (self->channels);
  subscribe (self, CLUSTER_CHANNEL, TRUE);
  g_hash_table_iter_init (&iter, signaling_router_get_clients (self->router));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    subscribe_peer (self, key, TRUE);
  g_hash_table_iter_init (&iter, signaling_router_get_rooms (self->router));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    subscribe_room (self, key, TRUE);
}

static void
on_link_state (SignalingRedisLink *link,
               SignalingCluster   *self)
{
  gboolean commands_up = signaling_redis_link_is_connected (self->commands);
  gboolean pubsub_up = signaling_redis_link_is_connected (self->pubsub);

  if (link == self->pubsub)
    {
      if (pubsub_up)
        resubscribe (self);
      else
        {
          /* Nothing will confirm what was asked: stop holding. */
          self->pending_subscribes = 0;
          g_hash_table_remove_all (self->channels);
          flush_held (self);
        }
    }

  if (!commands_up || !pubsub_up)
    {
      if (g_strcmp0 (self->state, "connected") == 0)
        set_state (self, "disconnected");
      return;
    }

  /* Both up, after a start or an outage: we may have missed anything.
   * No node is declared dead before it had a window to come back too. */
  self->grace_until = g_get_monotonic_time () + (gint64) self->heartbeat_ms * 1000;
  announce (self);
  heartbeat (self);
  set_state (self, "connected");
}

/* GObject */

static void
signaling_cluster_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  SignalingCluster *self = SIGNALING_CLUSTER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_NODES:
      g_value_take_boxed (value, signaling_cluster_dup_nodes (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_cluster_dispose (GObject *object)
{
  SignalingCluster *self = SIGNALING_CLUSTER (object);

  if (self->router != NULL)
    signaling_router_set_remote (self->router, NULL);
  g_clear_handle_id (&self->heartbeat_source, g_source_remove);
  if (self->commands != NULL)
    g_signal_handlers_disconnect_by_data (self->commands, self);
  if (self->pubsub != NULL)
    g_signal_handlers_disconnect_by_data (self->pubsub, self);
  g_clear_object (&self->commands);
  g_clear_object (&self->pubsub);
  g_queue_clear_full (&self->held, (GDestroyNotify) held_free);
  g_hash_table_remove_all (self->claims);  /* their sessions fail with the server */
  g_clear_object (&self->router);
  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (signaling_cluster_parent_class)->dispose (object);
}

static void
signaling_cluster_finalize (GObject *object)
{
  SignalingCluster *self = SIGNALING_CLUSTER (object);

  g_hash_table_unref (self->claims);
  g_hash_table_unref (self->channels);
  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->peers);
  g_hash_table_unref (self->nodes);
  g_free (self->node_id);
  g_free (self->state);
  g_free (self->forward_address);

  G_OBJECT_CLASS (signaling_cluster_parent_class)->finalize (object);
}

static void
signaling_cluster_class_init (SignalingClusterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = signaling_cluster_get_property;
  object_class->dispose = signaling_cluster_dispose;
  object_class->finalize = signaling_cluster_finalize;

  /* connecting, connected or disconnected */
  properties[PROP_STATE] =
    g_param_spec_string ("state", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* this node and the others it knows of */
  properties[PROP_NODES] =
    g_param_spec_boxed ("nodes", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
signaling_cluster_init (SignalingCluster *self)
{
  self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) remote_node_free);
  self->peers = g_hash_table_new (g_str_hash, g_str_equal);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->claims = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) handover_free);
  self->state = g_strdup ("connecting");
  g_queue_init (&self->held);
}

/*
 * signaling_cluster_new:
 * @url: `redis://[:password@]host:port/db` or `unix:///path`
 * @password: (nullable): instead of the URL's
 * @node_id: this node's id, unique in the cluster
 * @heartbeat_seconds: how long a node may stay silent before it is
 *   taken for dead and its peers leave
 *
 * Returns: (transfer full) (nullable): a cluster node for @router, not
 *   started, or %NULL for a bad URL
 */
SignalingCluster *
signaling_cluster_new (SignalingRouter  *router,
                       const char       *url,
                       const char       *password,
                       const char       *node_id,
                       guint             heartbeat_seconds,
                       GError          **error)
{
  g_autoptr(SignalingCluster) self = g_object_new (SIGNALING_TYPE_CLUSTER, NULL);

  self->commands = signaling_redis_link_new (url, password, "commands", error);
  if (self->commands == NULL)
    return NULL;
  self->pubsub = signaling_redis_link_new (url, password, "pub/sub", error);
  if (self->pubsub == NULL)
    return NULL;

  self->router = g_object_ref (router);
  self->node_id = g_strdup (node_id);
  self->heartbeat_ms = MAX (heartbeat_seconds, 1) * 1000;
  g_object_set_data (G_OBJECT (self->commands), "signaling-cluster", self);
  signaling_redis_link_set_message_func (self->pubsub, on_pubsub_reply, self);
  g_signal_connect (self->commands, "state-changed", G_CALLBACK (on_link_state), self);
  g_signal_connect (self->pubsub, "state-changed", G_CALLBACK (on_link_state), self);

  return g_steal_pointer (&self);
}

/* Joins the cluster: the router asks us from now on, and the links
 * connect (and reconnect) in the background. */
void
signaling_cluster_start (SignalingCluster *self)
{
  g_message ("Cluster node %s, through Redis at %s", self->node_id,
             signaling_redis_link_get_address (self->commands));
  signaling_router_set_remote (self->router, SIGNALING_REMOTE (self));
  self->heartbeat_source = g_timeout_add (self->heartbeat_ms / 4, heartbeat, self);
  signaling_redis_link_start (self->commands);
  signaling_redis_link_start (self->pubsub);
}

const char *
signaling_cluster_get_node_id (SignalingCluster *self)
{
  return self->node_id;
}

const char *
signaling_cluster_get_state (SignalingCluster *self)
{
  return self->state;
}

const char *
signaling_cluster_get_address (SignalingCluster *self)
{
  return signaling_redis_link_get_address (self->commands);
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Returns: (transfer full): this node's id and the others', sorted */
char **
signaling_cluster_dup_nodes (SignalingCluster *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) ids = dup_keys (self->nodes);
  char **nodes;

  g_strv_builder_add (builder, self->node_id);
  for (guint i = 0; i < ids->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (ids, i));
  nodes = g_strv_builder_end (builder);
  qsort (nodes, g_strv_length (nodes), sizeof (char *), compare_strings);
  return nodes;
}

/* Returns: (nullable): the node of a peer connected elsewhere */
const char *
signaling_cluster_get_peer_node (SignalingCluster *self,
                                 const char       *peer)
{
  RemotePeer *remote = g_hash_table_lookup (self->peers, peer);

  return remote != NULL ? remote->node : NULL;
}

/*
 * signaling_cluster_dup_remote_peers:
 *
 * Returns: (transfer full): for every peer on other nodes, a GVariant
 *   `(sssas)`: id, node, protocol, rooms
 */
GPtrArray *
signaling_cluster_dup_remote_peers (SignalingCluster *self)
{
  GPtrArray *peers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      RemotePeer *peer = value;
      g_autoptr(GPtrArray) rooms = dup_keys (peer->rooms);

      g_ptr_array_add (rooms, NULL);
      g_ptr_array_add (peers, g_variant_ref_sink (g_variant_new ("(sss^as)", peer->id, peer->node,
                                                                 peer->protocol != NULL ? peer->protocol : "",
                                                                 (char **) rooms->pdata)));
    }
  return peers;
}

/*
 * signaling_cluster_set_forward_address:
 * @address: `http(s)://host:port` where this node takes the polling requests
 *   other nodes pass on (its private loopback listener)
 */
void
signaling_cluster_set_forward_address (SignalingCluster *self,
                                       const char       *address)
{
  set_str (&self->forward_address, address);
}

/* Polling without sticky sessions */

typedef struct
{
  SoupServerMessage *msg;
  gboolean finished;  /* the client went away: nobody to answer */
} Forwarded;

static void
on_forwarded_finished (SoupServerMessage *msg,
                       Forwarded         *forwarded)
{
  forwarded->finished = TRUE;
}

static void
forwarded_free (Forwarded *forwarded)
{
  g_signal_handlers_disconnect_by_func (forwarded->msg, on_forwarded_finished, forwarded);
  g_object_unref (forwarded->msg);
  g_free (forwarded);
}

static void
on_forwarded (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Forwarded *forwarded = user_data;
  SoupMessage *out = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  if (forwarded->finished)
    {
      forwarded_free (forwarded);
      return;
    }

  if (body == NULL)
    {
      g_debug ("Could not pass a polling request on: %s", error->message);
      soup_server_message_set_status (forwarded->msg, SOUP_STATUS_BAD_GATEWAY, NULL);
    }
  else
    {
      const char *type = soup_message_headers_get_one (soup_message_get_response_headers (out),
                                                       "Content-Type");
      gsize length;
      gconstpointer data = g_bytes_get_data (body, &length);

      soup_server_message_set_status (forwarded->msg, soup_message_get_status (out), NULL);
      soup_server_message_set_response (forwarded->msg, type, SOUP_MEMORY_COPY, data, length);
    }
  soup_server_message_unpause (forwarded->msg);
  forwarded_free (forwarded);
}

static gboolean
accept_node_certificate (SoupMessage          *msg,
                         GTlsCertificate      *certificate,
                         GTlsCertificateFlags  errors,
                         gpointer              user_data)
{
  return TRUE;
}

/*
 * signaling_cluster_forward:
 * @msg: an Engine.IO polling request for a session of @node
 *
 * Passes @msg to @node's private listener, and its answer back: what a
 * load balancer without sticky sessions (or SO_REUSEPORT) sends to the
 * wrong node still reaches its session.
 *
 * Returns: FALSE when @node is not known to take requests
 */
gboolean
signaling_cluster_forward (SignalingCluster  *self,
                           SoupServerMessage *msg,
                           const char        *node_id)
{
  RemoteNode *node = g_hash_table_lookup (self->nodes, node_id);
  GUri *uri = soup_server_message_get_uri (msg);
  g_autofree char *target = NULL;
  g_autoptr(SoupMessage) out = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *type;
  const char *origin;
  Forwarded *forwarded;

  if (node == NULL || node->forward == NULL)
    return FALSE;

  target = g_strdup_printf ("%s%s%s%s", node->forward, g_uri_get_path (uri),
                            g_uri_get_query (uri) != NULL ? "?" : "",
                            g_uri_get_query (uri) != NULL ? g_uri_get_query (uri) : "");
  out = soup_message_new (soup_server_message_get_method (msg), target);
  if (out == NULL)
    return FALSE;
  /* With TLS, the nodes' private listeners serve the public
   * certificate, which does not name 127.0.0.1: what is checked is
   * that the address is the one the node announced. */
  if (g_str_has_prefix (node->forward, "https:"))
    g_signal_connect (out, "accept-certificate", G_CALLBACK (accept_node_certificate), NULL);

  /* What the owner needs: the body and its type, and the origin it
   * checks again. */
  type = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Content-Type");
  origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
  if (origin != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (out), "Origin", origin);
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (g_bytes_get_size (body) > 0 || soup_server_message_get_method (msg) == SOUP_METHOD_POST)
    soup_message_set_request_body_from_bytes (out, type != NULL ? type : "text/plain;charset=UTF-8", body);

  if (self->session == NULL)
    /* Long polls hold their connection for up to a ping interval:
     * libsoup's default of 2 per host would queue the sessions. */
    self->session = g_object_new (SOUP_TYPE_SESSION, "max-conns", 4096, "max-conns-per-host", 4096,
                                  "timeout", 0, "idle-timeout", 60, NULL);

  forwarded = g_new0 (Forwarded, 1);
  forwarded->msg = g_object_ref (msg);
  /* A provisional status, as for a long poll: the answer comes later. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  g_signal_connect (msg, "finished", G_CALLBACK (on_forwarded_finished), forwarded);
  soup_server_message_pause (msg);
  soup_session_send_and_read_async (self->session, out, G_PRIORITY_DEFAULT, NULL, on_forwarded, forwarded);
  return TRUE;
}
