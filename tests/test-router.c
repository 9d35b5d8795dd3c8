/* test-router.c: the relay alone, with fake peers and no SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The router only ever talks to peers through SignalingConnection, so
 * a fake dialect that records what it is given is enough to check who
 * receives what, the limits, the rate limit, the counters and the
 * signals, without sockets or a main loop.
 */
#include <libsoup/soup.h>

#include "signaling-client-private.h"
#include "signaling-connection-private.h"
#include "signaling-error.h"
#include "signaling-message-private.h"
#include "signaling-room.h"
#include "signaling-router-private.h"

#include "test-utils.h"

/* What every fake delivery costs, in bytes. */
#define FAKE_BYTES 10

#define FAKE_TYPE_PEER (fake_peer_get_type ())
G_DECLARE_FINAL_TYPE (FakePeer, fake_peer, FAKE, PEER, GObject)

struct _FakePeer
{
  GObject parent_instance;

  GPtrArray *received;  /* SignalingMessage, in order */
  gushort close_code;   /* 0 while open */
  char *close_reason;
};

static void fake_peer_connection_init (SignalingConnectionInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FakePeer, fake_peer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SIGNALING_TYPE_CONNECTION,
                                                      fake_peer_connection_init))

static gsize
fake_peer_deliver (SignalingConnection *connection,
                   SignalingMessage    *message)
{
  FakePeer *self = FAKE_PEER (connection);

  g_ptr_array_add (self->received, signaling_message_ref (message));
  return FAKE_BYTES;
}

static void
fake_peer_close (SignalingConnection *connection,
                 gushort              code,
                 const char          *reason)
{
  FakePeer *self = FAKE_PEER (connection);

  self->close_code = code;
  g_free (self->close_reason);
  self->close_reason = g_strdup (reason);
}

static const char *
fake_peer_get_protocol (SignalingConnection *connection)
{
  return "fake";
}

static const char *
fake_peer_get_transport (SignalingConnection *connection)
{
  return "memory";
}

static void
fake_peer_connection_init (SignalingConnectionInterface *iface)
{
  iface->deliver = fake_peer_deliver;
  iface->close = fake_peer_close;
  iface->get_protocol = fake_peer_get_protocol;
  iface->get_transport = fake_peer_get_transport;
}

static void
fake_peer_finalize (GObject *object)
{
  FakePeer *self = FAKE_PEER (object);

  g_clear_pointer (&self->received, g_ptr_array_unref);
  g_clear_pointer (&self->close_reason, g_free);
  G_OBJECT_CLASS (fake_peer_parent_class)->finalize (object);
}

static void
fake_peer_class_init (FakePeerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fake_peer_finalize;
}

static void
fake_peer_init (FakePeer *self)
{
  self->received = g_ptr_array_new_with_free_func ((GDestroyNotify) signaling_message_unref);
}

/* A router, and what its signals said. */
typedef struct
{
  SignalingRouter *router;
  GPtrArray *peers;    /* FakePeer */
  GPtrArray *clients;  /* SignalingClient, same order */
  GString *events;     /* "+a -a +room:r -room:r " */
} Fixture;

static void
on_client_connected (SignalingRouter *router,
                     SignalingClient *client,
                     Fixture         *fixture)
{
  g_string_append_printf (fixture->events, "+%s ", signaling_client_get_id (client));
}

static void
on_client_disconnected (SignalingRouter *router,
                        SignalingClient *client,
                        const char      *reason,
                        Fixture         *fixture)
{
  g_string_append_printf (fixture->events, "-%s(%s) ", signaling_client_get_id (client), reason);
}

static void
on_room_added (SignalingRouter *router,
               SignalingRoom   *room,
               Fixture         *fixture)
{
  g_string_append_printf (fixture->events, "+room:%s ", signaling_room_get_name (room));
}

static void
on_room_removed (SignalingRouter *router,
                 SignalingRoom   *room,
                 Fixture         *fixture)
{
  g_string_append_printf (fixture->events, "-room:%s ", signaling_room_get_name (room));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->router = signaling_router_new ();
  fixture->peers = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->clients = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->events = g_string_new (NULL);
  g_signal_connect (fixture->router, "client-connected", G_CALLBACK (on_client_connected), fixture);
  g_signal_connect (fixture->router, "client-disconnected", G_CALLBACK (on_client_disconnected), fixture);
  g_signal_connect (fixture->router, "room-added", G_CALLBACK (on_room_added), fixture);
  g_signal_connect (fixture->router, "room-removed", G_CALLBACK (on_room_removed), fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  for (guint i = 0; i < fixture->clients->len; i++)
    signaling_router_remove_client (fixture->router, g_ptr_array_index (fixture->clients, i), "test over");
  g_assert_cmpuint (g_hash_table_size (signaling_router_get_clients (fixture->router)), ==, 0);
  g_assert_cmpuint (g_hash_table_size (signaling_router_get_rooms (fixture->router)), ==, 0);
  g_clear_pointer (&fixture->clients, g_ptr_array_unref);
  g_clear_pointer (&fixture->peers, g_ptr_array_unref);
  g_assert_finalize_object (fixture->router);
  g_string_free (fixture->events, TRUE);
}

/* Adds a client called @id; returns its fake peer. */
static FakePeer *
add_peer (Fixture    *fixture,
          const char *id)
{
  g_autoptr(GError) error = NULL;
  FakePeer *peer = g_object_new (FAKE_TYPE_PEER, NULL);
  SignalingClient *client = signaling_client_new (id, "192.0.2.1", SIGNALING_CONNECTION (peer));

  g_ptr_array_add (fixture->peers, peer);
  g_ptr_array_add (fixture->clients, client);
  g_assert_true (signaling_router_add_client (fixture->router, client, &error));
  g_assert_no_error (error);
  return peer;
}

static SignalingClient *
client_at (Fixture *fixture,
           guint    i)
{
  return g_ptr_array_index (fixture->clients, i);
}

static SignalingMessage *
received (FakePeer *peer,
          guint     i)
{
  g_assert_cmpuint (peer->received->len, >, i);
  return g_ptr_array_index (peer->received, i);
}

static void
join_ok_client (Fixture         *fixture,
                SignalingClient *client,
                const char      *room)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (signaling_router_join (fixture->router, client, room, &error));
  g_assert_no_error (error);
}

static void
join_ok (Fixture    *fixture,
         guint       i,
         const char *room)
{
  join_ok_client (fixture, client_at (fixture, i), room);
}

static gboolean
route (Fixture          *fixture,
       guint             sender,
       SignalingMessage *message,
       GError          **error)
{
  g_autoptr(SignalingMessage) owned = message;

  return signaling_router_route (fixture->router, client_at (fixture, sender), owned, error);
}

static void
test_join_leave (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  FakePeer *a = add_peer (fixture, "a");
  FakePeer *b = add_peer (fixture, "b");
  SignalingMessage *notice;

  join_ok (fixture, 0, "r");
  join_ok (fixture, 1, "r");
  /* Joining twice is no change and no second notice. */
  join_ok (fixture, 1, "r");
  g_assert_cmpstr (fixture->events->str, ==, "+a +b +room:r ");
  g_assert_cmpuint (signaling_room_get_member_count (signaling_router_lookup_room (fixture->router, "r")), ==, 2);

  /* A member hears of the others, never of itself. */
  g_assert_cmpuint (a->received->len, ==, 1);
  g_assert_cmpuint (b->received->len, ==, 0);
  notice = received (a, 0);
  g_assert_cmpint (signaling_message_get_kind (notice), ==, SIGNALING_MESSAGE_KIND_JOIN);
  g_assert_cmpstr (signaling_message_get_from (notice), ==, "b");
  g_assert_cmpstr (signaling_message_get_to (notice), ==, "r");

  g_assert_true (signaling_router_leave (fixture->router, client_at (fixture, 0), "r", &error));
  g_assert_no_error (error);
  notice = received (b, 0);
  g_assert_cmpint (signaling_message_get_kind (notice), ==, SIGNALING_MESSAGE_KIND_LEAVE);
  g_assert_cmpstr (signaling_message_get_from (notice), ==, "a");

  g_assert_false (signaling_router_leave (fixture->router, client_at (fixture, 0), "r", &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET);

  /* The last one out removes the room. */
  g_assert_true (signaling_router_leave (fixture->router, client_at (fixture, 1), "r", NULL));
  g_assert_null (signaling_router_lookup_room (fixture->router, "r"));
  g_assert_cmpstr (fixture->events->str, ==, "+a +b +room:r -room:r ");
}

static void
test_relay_to_client (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  FakePeer *a = add_peer (fixture, "a");
  FakePeer *b = add_peer (fixture, "b");
  SignalingMessage *got;

  /* No room needed to talk to a client by id. */
  g_assert_true (route (fixture, 0, signaling_message_new_offer ("b", "v=0"), &error));
  g_assert_no_error (error);
  got = received (b, 0);
  g_assert_cmpint (signaling_message_get_kind (got), ==, SIGNALING_MESSAGE_KIND_OFFER);
  g_assert_cmpstr (signaling_message_get_from (got), ==, "a");
  g_assert_cmpstr (signaling_message_get_sdp (got), ==, "v=0");
  g_assert_cmpuint (a->received->len, ==, 0);

  /* To itself, without io.to() semantics: nobody. */
  g_assert_true (route (fixture, 0, signaling_message_new_hangup ("a", NULL), &error));
  g_assert_cmpuint (a->received->len, ==, 0);

  g_assert_false (route (fixture, 0, signaling_message_new_hangup ("nobody", NULL), &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_UNKNOWN_TARGET);

  g_assert_cmpuint (signaling_router_get_messages_relayed (fixture->router), ==, 1);
  g_assert_cmpuint (signaling_router_get_bytes_relayed (fixture->router), ==, FAKE_BYTES);
}

static void
test_relay_to_room (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingMessage) broadcast = NULL;
  FakePeer *a = add_peer (fixture, "a");
  FakePeer *b = add_peer (fixture, "b");
  FakePeer *c = add_peer (fixture, "c");
  FakePeer *outsider = add_peer (fixture, "d");
  guint64 relayed;

  join_ok (fixture, 0, "r");
  join_ok (fixture, 1, "r");
  join_ok (fixture, 2, "r");
  g_ptr_array_set_size (a->received, 0);
  g_ptr_array_set_size (b->received, 0);
  g_ptr_array_set_size (c->received, 0);
  /* Join notices count as relayed messages too. */
  relayed = signaling_router_get_messages_relayed (fixture->router);
  g_assert_cmpuint (relayed, ==, 3);

  g_assert_true (route (fixture, 0, signaling_message_new_hangup ("r", "bye"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a->received->len, ==, 0);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpuint (c->received->len, ==, 1);
  g_assert_cmpstr (signaling_message_get_reason (received (c, 0)), ==, "bye");
  g_assert_cmpuint (signaling_router_get_messages_relayed (fixture->router), ==, relayed + 2);

  /* A native peer must join a room before it talks to it... */
  g_assert_false (route (fixture, 3, signaling_message_new_hangup ("r", NULL), &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FORBIDDEN);
  g_clear_error (&error);

  /* ...but Socket.IO's io.to() reaches everyone, sender included. */
  broadcast = signaling_message_new_hangup ("r", NULL);
  signaling_message_set_include_sender (broadcast, TRUE);
  g_assert_true (signaling_router_route (fixture->router, client_at (fixture, 3), broadcast, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a->received->len, ==, 1);
  g_assert_cmpuint (b->received->len, ==, 2);
  g_assert_cmpuint (c->received->len, ==, 2);
  g_assert_cmpuint (outsider->received->len, ==, 0);
}

static gboolean
consume (SignalingClient  *client,
         SignalingMessage *message,
         gpointer          data)
{
  return TRUE;
}

static void
test_sender_signal_consumes (Fixture       *fixture,
                             gconstpointer  data)
{
  FakePeer *b;

  add_peer (fixture, "a");
  b = add_peer (fixture, "b");
  g_signal_connect (client_at (fixture, 0), "offer", G_CALLBACK (consume), NULL);

  /* Even to an unknown target: the application may know it. */
  g_assert_true (route (fixture, 0, signaling_message_new_offer ("elsewhere", "v=0"), NULL));
  g_assert_true (route (fixture, 0, signaling_message_new_offer ("b", "v=0"), NULL));
  g_assert_cmpuint (b->received->len, ==, 0);
  g_assert_cmpuint (signaling_router_get_messages_relayed (fixture->router), ==, 0);
}

static void
test_max_clients (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FakePeer) peer = g_object_new (FAKE_TYPE_PEER, NULL);
  g_autoptr(SignalingClient) third = signaling_client_new ("c", NULL, SIGNALING_CONNECTION (peer));

  signaling_router_get_limits (fixture->router)->max_clients = 2;
  add_peer (fixture, "a");
  add_peer (fixture, "b");

  g_assert_false (signaling_router_check_capacity (fixture->router, &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_SERVER_FULL);
  g_clear_error (&error);
  g_assert_false (signaling_router_add_client (fixture->router, third, &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_SERVER_FULL);
  g_assert_null (signaling_router_lookup_client (fixture->router, "c"));
  g_clear_error (&error);

  /* What a dialect calls on accept counts the refusal. */
  g_assert_null (signaling_router_attach (fixture->router, SIGNALING_CONNECTION (peer), "c", NULL, &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_SERVER_FULL);
  g_assert_cmpuint (signaling_router_get_messages_rejected (fixture->router), ==, 1);
  g_assert_cmpstr (fixture->events->str, ==, "+a +b ");
}

static void
test_attach_detach (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(FakePeer) peer = g_object_new (FAKE_TYPE_PEER, NULL);
  SignalingClient *client;

  client = signaling_router_attach (fixture->router, SIGNALING_CONNECTION (peer), "x", "192.0.2.9", NULL);
  g_assert_nonnull (client);
  g_assert_true (signaling_router_lookup_client (fixture->router, "x") == client);
  g_assert_true (signaling_client_get_connection (client) == SIGNALING_CONNECTION (peer));
  g_assert_cmpstr (signaling_client_get_protocol (client), ==, "fake");
  join_ok_client (fixture, client, "r");

  signaling_router_detach (fixture->router, &client, "closed (1000)");
  g_assert_null (client);
  g_assert_null (signaling_router_lookup_client (fixture->router, "x"));
  /* A second close of the transport finds nothing to do. */
  signaling_router_detach (fixture->router, &client, "again");
  g_assert_cmpstr (fixture->events->str, ==, "+x +room:r -room:r -x(closed (1000)) ");
}

static void
test_room_limits (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SignalingLimits *limits = signaling_router_get_limits (fixture->router);

  limits->max_rooms_per_client = 2;
  limits->max_room_members = 2;
  add_peer (fixture, "a");
  add_peer (fixture, "b");
  add_peer (fixture, "c");

  join_ok (fixture, 0, "r1");
  join_ok (fixture, 0, "r2");
  g_assert_null (signaling_router_join (fixture->router, client_at (fixture, 0), "r3", &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_assert_null (signaling_router_lookup_room (fixture->router, "r3"));

  join_ok (fixture, 1, "r1");
  g_assert_null (signaling_router_join (fixture->router, client_at (fixture, 2), "r1", &error));
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_ROOM_FULL);
  g_assert_cmpuint (signaling_room_get_member_count (signaling_router_lookup_room (fixture->router, "r1")), ==, 2);
}

static void
test_rate_limit (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SignalingLimits *limits = signaling_router_get_limits (fixture->router);
  FakePeer *peer;
  SignalingClient *client;
  guint drops = 0;

  /* A bucket that does not refill within the test. */
  limits->rate_limit = 0.001;
  limits->rate_burst = 2;
  peer = add_peer (fixture, "a");
  client = client_at (fixture, 0);

  g_assert_cmpint (signaling_router_admit (fixture->router, client, 5, NULL), ==, SIGNALING_ADMISSION_ACCEPT);
  g_assert_cmpint (signaling_router_admit (fixture->router, client, 5, NULL), ==, SIGNALING_ADMISSION_ACCEPT);
  g_assert_cmpint (signaling_router_admit (fixture->router, client, 5, &error), ==, SIGNALING_ADMISSION_REFUSE);
  g_assert_error (error, SIGNALING_ERROR, SIGNALING_ERROR_RATE_LIMITED);
  g_assert_cmpuint (peer->close_code, ==, 0);

  /* Told once; then dropped in silence until it is closed. */
  while (peer->close_code == 0 && drops < 10)
    {
      g_assert_cmpint (signaling_router_admit (fixture->router, client, 5, NULL), ==, SIGNALING_ADMISSION_DROP);
      drops++;
    }
  g_assert_cmpuint (peer->close_code, ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  g_assert_cmpstr (peer->close_reason, ==, "rate limit exceeded");
  g_assert_cmpuint (signaling_router_get_messages_rejected (fixture->router), ==, drops);
  g_assert_cmpuint (signaling_client_get_messages_in (client), ==, 3 + drops);
}

static void
test_disconnect (Fixture       *fixture,
                 gconstpointer  data)
{
  FakePeer *a = add_peer (fixture, "a");
  FakePeer *b = add_peer (fixture, "b");
  SignalingClient *gone = client_at (fixture, 1);

  join_ok (fixture, 0, "shared");
  join_ok (fixture, 1, "shared");
  join_ok (fixture, 1, "alone");
  g_ptr_array_set_size (a->received, 0);

  signaling_router_remove_client (fixture->router, gone, "peer went away");
  g_assert_null (signaling_router_lookup_client (fixture->router, "b"));
  g_assert_null (signaling_router_lookup_room (fixture->router, "alone"));
  g_assert_cmpuint (signaling_client_get_room_count (gone), ==, 0);
  g_assert_cmpstr (fixture->events->str, ==,
                   "+a +b +room:shared +room:alone -room:alone -b(peer went away) ");

  /* The others hear it left; it hears nothing more. */
  g_assert_cmpuint (a->received->len, ==, 1);
  g_assert_cmpint (signaling_message_get_kind (received (a, 0)), ==, SIGNALING_MESSAGE_KIND_LEAVE);
  g_assert_cmpuint (signaling_client_deliver (gone, received (a, 0)), ==, 0);
  g_assert_cmpuint (b->received->len, ==, 0);

  /* Removing twice is harmless. */
  signaling_router_remove_client (fixture->router, gone, "again");
  g_assert_cmpstr (fixture->events->str, ==,
                   "+a +b +room:shared +room:alone -room:alone -b(peer went away) ");
}

static gboolean
count_activity (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_REMOVE;
}

static void
test_activity (Fixture       *fixture,
               gconstpointer  data)
{
  guint calls = 0;

  add_peer (fixture, "a");
  add_peer (fixture, "b");
  signaling_router_set_activity_func (fixture->router, count_activity, &calls);

  /* Once per batch, until re-armed. */
  g_assert_true (route (fixture, 0, signaling_message_new_hangup ("b", NULL), NULL));
  g_assert_true (route (fixture, 0, signaling_message_new_hangup ("b", NULL), NULL));
  signaling_router_count_rejected (fixture->router, SIGNALING_ERROR_BAD_JSON);
  g_assert_cmpuint (calls, ==, 1);

  signaling_router_set_activity_func (fixture->router, count_activity, &calls);
  signaling_router_count_rejected (fixture->router, SIGNALING_ERROR_BAD_JSON);
  g_assert_cmpuint (calls, ==, 2);
  g_assert_cmpuint (signaling_router_get_messages_relayed (fixture->router), ==, 2);
  g_assert_cmpuint (signaling_router_get_messages_rejected (fixture->router), ==, 2);
  /* The same counts, split as /metrics shows them. */
  g_assert_cmpuint (signaling_router_get_relayed_of_kind (fixture->router, SIGNALING_MESSAGE_KIND_HANGUP), ==, 2);
  g_assert_cmpuint (signaling_router_get_relayed_of_kind (fixture->router, SIGNALING_MESSAGE_KIND_OFFER), ==, 0);
  g_assert_cmpuint (signaling_router_get_rejected_for (fixture->router, SIGNALING_ERROR_BAD_JSON), ==, 2);
  g_assert_cmpuint (signaling_router_get_rejected_for (fixture->router, SIGNALING_ERROR_FORBIDDEN), ==, 0);
  signaling_router_set_activity_func (fixture->router, NULL, NULL);
}

/* Every structured log record, as field → value, while not NULL. */
static GPtrArray *captured_logs;

static GLogWriterOutput
capture_log (GLogLevelFlags   level,
             const GLogField *fields,
             gsize            n_fields,
             gpointer         user_data)
{
  if (captured_logs != NULL)
    {
      GHashTable *record = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      for (gsize i = 0; i < n_fields; i++)
        g_hash_table_insert (record, g_strdup (fields[i].key),
                             fields[i].length < 0 ? g_strdup (fields[i].value)
                                                  : g_strndup (fields[i].value, fields[i].length));
      g_ptr_array_add (captured_logs, record);
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* The records that name @client, as "MESSAGE|ROOM" lines. */
static char *
story_of (const char *client)
{
  GString *story = g_string_new (NULL);

  for (guint i = 0; i < captured_logs->len; i++)
    {
      GHashTable *record = g_ptr_array_index (captured_logs, i);
      const char *room = g_hash_table_lookup (record, "SIGNALBOX_ROOM");

      if (g_strcmp0 (g_hash_table_lookup (record, "SIGNALBOX_CLIENT"), client) != 0)
        continue;
      g_assert_cmpstr (g_hash_table_lookup (record, "SIGNALBOX_REMOTE"), ==, "192.0.2.1");
      g_assert_cmpstr (g_hash_table_lookup (record, "GLIB_DOMAIN"), ==, "Signaling-core");
      g_assert_nonnull (g_hash_table_lookup (record, "PRIORITY"));
      g_assert_nonnull (g_hash_table_lookup (record, "CODE_FUNC"));
      g_string_append_printf (story, "%s|%s\n", (char *) g_hash_table_lookup (record, "MESSAGE"),
                              room != NULL ? room : "");
    }
  return g_string_free (story, FALSE);
}

/* The library logs what happens to a peer with journal fields naming
 * it (and the room), so that `journalctl SIGNALBOX_CLIENT=a` finds a's
 * story and not b's. */
static void
test_journal_fields (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *story_a = NULL;
  g_autofree char *story_b = NULL;

  captured_logs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  add_peer (fixture, "a");
  add_peer (fixture, "b");
  g_assert_nonnull (signaling_router_join (fixture->router, client_at (fixture, 0), "lobby", NULL));
  g_assert_nonnull (signaling_router_join (fixture->router, client_at (fixture, 1), "lobby", NULL));
  g_assert_true (signaling_router_leave (fixture->router, client_at (fixture, 0), "lobby", NULL));
  signaling_router_remove_client (fixture->router, client_at (fixture, 0), "bye");

  story_a = story_of ("a");
  story_b = story_of ("b");
  g_assert_cmpstr (story_a, ==,
                   "Client a connected from 192.0.2.1 (fake)|\n"
                   "Client a joined room lobby|lobby\n"
                   "Client a left room lobby|lobby\n"
                   "Client a disconnected: bye|\n");
  g_assert_cmpstr (story_b, ==,
                   "Client b connected from 192.0.2.1 (fake)|\n"
                   "Client b joined room lobby|lobby\n");
  g_clear_pointer (&captured_logs, g_ptr_array_unref);
}

int
main (int   argc,
      char *argv[])
{
  g_log_set_writer_func (capture_log, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/router/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("join-leave", test_join_leave);
  ADD ("journal-fields", test_journal_fields);
  ADD ("relay-to-client", test_relay_to_client);
  ADD ("relay-to-room", test_relay_to_room);
  ADD ("sender-signal-consumes", test_sender_signal_consumes);
  ADD ("max-clients", test_max_clients);
  ADD ("attach-detach", test_attach_detach);
  ADD ("room-limits", test_room_limits);
  ADD ("rate-limit", test_rate_limit);
  ADD ("disconnect", test_disconnect);
  ADD ("activity", test_activity);

#undef ADD

  return g_test_run ();
}
