/* signaling-router.c: who receives what
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "signaling-client-private.h"
#include "signaling-error.h"
#include "signaling-message-private.h"
#include "signaling-room-private.h"
#include "signaling-router-private.h"
#include "signaling-server-private.h"

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
 */
struct _SignalingRouter
{
  GObject parent_instance;

  SignalingServer *server;  /* unowned: the server owns the router */
  GHashTable *clients;      /* id → SignalingClient */
  GHashTable *rooms;        /* name → SignalingRoom */
};

G_DEFINE_FINAL_TYPE (SignalingRouter, signaling_router, G_TYPE_OBJECT)

static void
signaling_router_finalize (GObject *object)
{
  SignalingRouter *self = SIGNALING_ROUTER (object);

  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->rooms, g_hash_table_unref);

  G_OBJECT_CLASS (signaling_router_parent_class)->finalize (object);
}

static void
signaling_router_class_init (SignalingRouterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_router_finalize;
}

static void
signaling_router_init (SignalingRouter *self)
{
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
}

SignalingRouter *
signaling_router_new (SignalingServer *server)
{
  SignalingRouter *self = g_object_new (SIGNALING_TYPE_ROUTER, NULL);

  self->server = server;
  return self;
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

/* Whether one more client may come in: asked before a client exists
 * too, so that a dialect can refuse early and in its own words. */
gboolean
signaling_router_check_capacity (SignalingRouter  *self,
                                 GError          **error)
{
  const SignalingLimits *limits = signaling_server_get_limits (self->server);

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
  g_debug ("Client %s connected from %s (%s)",
           signaling_client_get_id (client),
           signaling_client_get_remote_address (client),
           signaling_client_get_protocol (client));
  signaling_server_emit_client_connected (self->server, client);

  return TRUE;
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
          signaling_server_count_relayed (self->server, bytes);
          reached++;
        }
    }

  return reached;
}

static void
notify_membership (SignalingRouter      *self,
                   SignalingRoom        *room,
                   SignalingClient      *client,
                   SignalingMessageKind  kind)
{
  g_autoptr(SignalingMessage) notice = NULL;
  g_autoptr(JsonObject) payload = json_object_new ();
  const char *name = signaling_room_get_name (room);

  json_object_set_string_member (payload, "room", name);
  notice = signaling_message_new (kind, name, payload);
  signaling_message_set_from (notice, signaling_client_get_id (client));
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
  signaling_client_remove_room (client, name);
  notify_membership (self, room, client, SIGNALING_MESSAGE_KIND_LEAVE);

  if (signaling_room_get_member_count (room) == 0)
    {
      g_hash_table_remove (self->rooms, name);
      signaling_server_emit_room_removed (self->server, room);
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
      else
        signaling_client_remove_room (client, name);
    }

  g_debug ("Client %s disconnected: %s", id, reason);
  signaling_server_emit_client_disconnected (self->server, client, reason);
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
  const SignalingLimits *limits = signaling_server_get_limits (self->server);

  signaling_client_count_in (client, size);
  signaling_server_note_activity (self->server);

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
      g_message ("Closing client %s from %s: it went on sending past the rate limit (%g/s, burst %u)",
                 signaling_client_get_id (client), signaling_client_get_remote_address (client),
                 limits->rate_limit, limits->rate_burst);
      signaling_server_count_rejected (self->server);
      signaling_client_disconnect (client, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                   "rate limit exceeded");
      return SIGNALING_ADMISSION_DROP;

    case SIGNALING_RATE_DROP:
    default:
      signaling_server_count_rejected (self->server);
      return SIGNALING_ADMISSION_DROP;
    }
}

SignalingRoom *
signaling_router_join (SignalingRouter  *self,
                       SignalingClient  *client,
                       const char       *name,
                       GError          **error)
{
  const SignalingLimits *limits = signaling_server_get_limits (self->server);
  SignalingRoom *room = g_hash_table_lookup (self->rooms, name);
  gboolean created = FALSE;

  if (room != NULL && signaling_room_has_member (room, client))
    return room;

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
  signaling_client_add_room (client, name);

  if (created)
    signaling_server_emit_room_added (self->server, room);
  notify_membership (self, room, client, SIGNALING_MESSAGE_KIND_JOIN);

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
        signaling_server_count_relayed (self->server, bytes);
      return TRUE;
    }

  room = to != NULL ? g_hash_table_lookup (self->rooms, to) : NULL;
  if (room == NULL)
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET,
                   _("No client or room called “%s”"), to != NULL ? to : "");
      return FALSE;
    }

  /* Native peers must be in a room to talk to it.  Socket.IO's io.to()
   * (include-sender) semantics let anybody broadcast to a room, and the
   * seed 003 clients depend on that. */
  if (!signaling_message_get_include_sender (message) &&
      !signaling_room_has_member (room, sender))
    {
      g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FORBIDDEN,
                   _("Join room “%s” before sending to it"), to);
      return FALSE;
    }

  deliver_to_room (self, room, sender, message);
  return TRUE;
}
