/* test-dbus.c: the D-Bus control interface on a real private bus
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string.h>

#include "signaling-dbus-generated.h"
#include "test-utils.h"

#define NAME  "org.signalbox.Signalbox1"
#define PATH  "/org/signalbox/Signalbox1"
#define IFACE "org.signalbox.Signalbox1.Server"

typedef struct {
  GTestDBus *bus;
  GDBusConnection *service_side;  /* the server exports here */
  GDBusConnection *client_side;   /* tests call from here, as busctl would */
  SignalingServer *server;
} Fixture;

static GDBusConnection *
connect_bus (GTestDBus *bus)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection =
    g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (fixture->bus);
  fixture->service_side = connect_bus (fixture->bus);
  fixture->client_side = connect_bus (fixture->bus);

  fixture->server = test_server_new ();
  g_object_set (fixture->server, "rate-limit", 0.0, NULL);
  signaling_server_export_dbus (fixture->server, fixture->service_side, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_object (&fixture->server);
  g_dbus_connection_close_sync (fixture->service_side, NULL, NULL);
  g_dbus_connection_close_sync (fixture->client_side, NULL, NULL);
  g_clear_object (&fixture->service_side);
  g_clear_object (&fixture->client_side);
  g_test_dbus_down (fixture->bus);
  g_clear_object (&fixture->bus);
}

typedef struct {
  gboolean done;
  GVariant *reply;
  GError *error;
} CallData;

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  CallData *data = user_data;

  data->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &data->error);
  data->done = TRUE;
}

/* Calls over the bus while the main loop runs, since the service side
 * answers from this very thread. */
static GVariant *
call (Fixture     *fixture,
      const char  *path,
      const char  *interface,
      const char  *method,
      GVariant    *parameters,
      GError     **error)
{
  CallData data = { 0 };

  g_dbus_connection_call (fixture->client_side, g_dbus_connection_get_unique_name (fixture->service_side),
                          path, interface, method, parameters, NULL, G_DBUS_CALL_FLAGS_NONE,
                          -1, NULL, on_call_done, &data);
  test_run_until (&data.done);
  if (data.error != NULL)
    g_propagate_error (error, data.error);
  return data.reply;
}

static GVariant *
get_property (Fixture    *fixture,
              const char *path,
              const char *interface,
              const char *property)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call (fixture, path, "org.freedesktop.DBus.Properties", "Get",
                                    g_variant_new ("(ss)", interface, property), &error);
  GVariant *value;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

static guint
get_uint (Fixture    *fixture,
          const char *property)
{
  g_autoptr(GVariant) value = get_property (fixture, PATH, IFACE, property);

  return g_variant_get_uint32 (value);
}

static char *
client_path (const char *id)
{
  g_autofree char *escaped = g_dbus_escape_object_path (id);

  return g_strdup_printf (PATH "/client/%s", escaped);
}

static GVariant *
managed_objects (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call (fixture, PATH, "org.freedesktop.DBus.ObjectManager",
                                    "GetManagedObjects", NULL, &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (reply, 0);
}

static void
join (TestClient *client,
      const char *room)
{
  g_autoptr(JsonObject) joined = NULL;

  test_client_send (client, "{\"type\":\"join\",\"room\":\"%s\"}", room);
  joined = test_client_expect (client, "joined");
}

static void
test_properties (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(TestClient) a = NULL;
  g_autoptr(TestClient) b = NULL;
  g_autoptr(GVariant) version = get_property (fixture, PATH, IFACE, "Version");
  g_autoptr(GVariant) addresses = get_property (fixture, PATH, IFACE, "ListenAddresses");
  g_autoptr(GVariant) protocol = NULL;
  g_autoptr(GVariant) rooms = NULL;
  g_autoptr(GVariant) members = NULL;
  g_autoptr(GVariant) address = NULL;
  g_autoptr(GVariant) member = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expected_address = g_strdup_printf ("127.0.0.1:%u", signaling_server_get_port (fixture->server));

  g_assert_cmpstr (g_variant_get_string (version, NULL), ==, SIGNALING_VERSION);
  g_assert_cmpuint (g_variant_n_children (addresses), ==, 1);
  address = g_variant_get_child_value (addresses, 0);
  g_assert_cmpstr (g_variant_get_string (address, NULL), ==, expected_address);
  g_assert_cmpuint (get_uint (fixture, "ClientCount"), ==, 0);

  a = test_client_connect (fixture->server);
  b = test_client_connect (fixture->server);
  join (a, "lobby");
  join (b, "lobby");
  g_assert_cmpuint (get_uint (fixture, "ClientCount"), ==, 2);
  g_assert_cmpuint (get_uint (fixture, "RoomCount"), ==, 1);

  path = client_path (a->id);
  protocol = get_property (fixture, path, "org.signalbox.Signalbox1.Client", "Protocol");
  g_assert_cmpstr (g_variant_get_string (protocol, NULL), ==, "native");
  rooms = get_property (fixture, path, "org.signalbox.Signalbox1.Client", "Rooms");
  g_assert_cmpuint (g_variant_n_children (rooms), ==, 1);

  members = get_property (fixture, PATH "/room/lobby", "org.signalbox.Signalbox1.Room", "Members");
  g_assert_cmpuint (g_variant_n_children (members), ==, 2);
  member = g_variant_get_child_value (members, 0);
  g_assert_cmpstr (g_variant_get_string (member, NULL), ==, a->id);
}

static void
test_list_methods (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(GVariant) clients = NULL;
  g_autoptr(GVariant) rooms = NULL;
  g_autoptr(GVariant) room_list = NULL;
  g_autofree char *clients_text = NULL;
  g_autofree char *rooms_text = NULL;
  g_autofree char *expected_clients = NULL;
  g_autofree char *expected_rooms = NULL;

  join (a, "r1");
  join (a, "r2");
  clients = call (fixture, PATH, IFACE, "ListClients", NULL, NULL);
  rooms = call (fixture, PATH, IFACE, "ListRooms", NULL, NULL);

  clients_text = g_variant_print (clients, FALSE);
  expected_clients = g_strdup_printf ("([('%s', 'native', ['r1', 'r2'])],)", a->id);
  g_assert_cmpstr (clients_text, ==, expected_clients);

  room_list = g_variant_get_child_value (rooms, 0);
  g_assert_cmpuint (g_variant_n_children (room_list), ==, 2);
  rooms_text = g_variant_print (rooms, FALSE);
  g_assert_nonnull (strstr (rooms_text, a->id));
}

static void
test_objects_follow_clients (Fixture       *fixture,
                             gconstpointer  data)
{
  TestClient *a = test_client_connect (fixture->server);
  g_autofree char *path = client_path (a->id);
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) during = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) client_object = NULL;
  g_autoptr(GVariant) room_object = NULL;
  g_autofree char *id = g_strdup (a->id);
  gboolean gone = FALSE;

  join (a, "temp");
  during = managed_objects (fixture);
  client_object = g_variant_lookup_value (during, path, NULL);
  room_object = g_variant_lookup_value (during, PATH "/room/temp", NULL);
  g_assert_nonnull (client_object);
  g_assert_nonnull (room_object);

  test_client_free (a);
  while (!gone)
    {
      gone = signaling_server_lookup_client (fixture->server, id) == NULL;
      if (!gone)
        g_main_context_iteration (NULL, TRUE);
    }

  after = managed_objects (fixture);
  g_assert_null (g_variant_lookup_value (after, path, NULL));
  g_assert_null (g_variant_lookup_value (after, PATH "/room/temp", NULL));
  g_assert_cmpuint (g_variant_n_children (after), ==, 0);
  (void) before;
}

/* A client's object path ends with its id, unescaped: ids are made of
 * letters and digits only, which g_dbus_escape_object_path() leaves
 * alone. With base64url ids about half of the paths had `_2d` or `_5f`
 * in them (issue 12, item 17); 32 clients made that certain. */
static void
test_client_paths_are_ids (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) test_client_free);
  g_autoptr(GVariant) objects = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *interfaces;
  guint seen = 0;

  for (guint i = 0; i < 32; i++)
    g_ptr_array_add (clients, test_client_connect (fixture->server));

  objects = managed_objects (fixture);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_loop (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) properties = g_variant_lookup_value (interfaces, "org.signalbox.Signalbox1.Client",
                                                               G_VARIANT_TYPE ("a{sv}"));
      g_autoptr(GVariant) id = NULL;
      g_autofree char *expected = NULL;

      if (properties == NULL)
        continue;
      id = g_variant_lookup_value (properties, "Id", G_VARIANT_TYPE_STRING);
      g_assert_nonnull (id);
      expected = g_strdup_printf (PATH "/client/%s", g_variant_get_string (id, NULL));
      g_assert_cmpstr (path, ==, expected);
      seen++;
    }
  g_assert_cmpuint (seen, ==, clients->len);
}

typedef struct {
  GPtrArray *signals;
} SignalLog;

static void
on_signal (GDBusConnection *connection,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *name,
           GVariant        *parameters,
           gpointer         user_data)
{
  SignalLog *log = user_data;
  g_autofree char *args = g_variant_print (parameters, FALSE);

  g_ptr_array_add (log->signals, g_strdup_printf ("%s %s", name, args));
}

static void
test_signals (Fixture       *fixture,
              gconstpointer  data)
{
  SignalLog log = { g_ptr_array_new_with_free_func (g_free) };
  guint subscription;
  TestClient *a;
  g_autofree char *id = NULL;
  g_autofree char *expected = NULL;

  subscription = g_dbus_connection_signal_subscribe (fixture->client_side, NULL, IFACE, NULL, PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &log, NULL);
  /* A round trip makes sure the bus has the match rule. */
  g_variant_unref (call (fixture, PATH, IFACE, "ListRooms", NULL, NULL));

  a = test_client_connect (fixture->server);
  id = g_strdup (a->id);
  join (a, "sig");
  test_client_free (a);

  while (log.signals->len < 4)
    g_main_context_iteration (NULL, TRUE);

  expected = g_strdup_printf ("ClientConnected ('%s',)", id);
  g_assert_cmpstr (g_ptr_array_index (log.signals, 0), ==, expected);
  g_assert_cmpstr (g_ptr_array_index (log.signals, 1), ==, "RoomCreated ('sig',)");
  g_assert_cmpstr (g_ptr_array_index (log.signals, 2), ==, "RoomRemoved ('sig',)");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (log.signals, 3), "ClientDisconnected"));

  g_dbus_connection_signal_unsubscribe (fixture->client_side, subscription);
  g_ptr_array_unref (log.signals);
}

static void
test_disconnect (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) reply2 = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *path = client_path (b->id);

  reply = call (fixture, PATH, IFACE, "DisconnectClient", g_variant_new ("(ss)", "no-such-id", "x"), &error);
  g_assert_null (reply);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.signalbox.Signalbox1.Error.UnknownClient");
  g_clear_error (&error);

  g_clear_pointer (&reply, g_variant_unref);
  reply = call (fixture, PATH, IFACE, "DisconnectClient", g_variant_new ("(ss)", a->id, "bye now"), &error);
  g_assert_no_error (error);
  test_client_wait_closed (a);
  g_assert_cmpuint (a->close_code, ==, 4000);
  g_assert_cmpstr (a->close_reason, ==, "bye now");

  /* The per-client object has its own Disconnect. */
  reply2 = call (fixture, path, "org.signalbox.Signalbox1.Client", "Disconnect", g_variant_new ("(s)", "you too"), &error);
  g_assert_no_error (error);
  test_client_wait_closed (b);
  g_assert_cmpuint (b->close_code, ==, 4000);
  g_assert_cmpstr (b->close_reason, ==, "you too");
}

/* What the daemon's reload does, counted; it fails when told to. */
typedef struct {
  guint calls;
  gboolean fail;
} ReloadData;

static gboolean
count_reload (SignalingServer  *server,
              gpointer          user_data,
              GError          **error)
{
  ReloadData *data = user_data;

  data->calls++;
  if (data->fail)
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "a bad value");
      return FALSE;
    }
  return TRUE;
}

/* Reload runs the server's reload function; its error reaches the
 * caller as a plain failure that says why. */
static void
test_reload (Fixture       *fixture,
             gconstpointer  data)
{
  ReloadData reload = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) refused = NULL;

  signaling_server_set_reload_func (fixture->server, count_reload, &reload, NULL);
  reply = call (fixture, PATH, IFACE, "Reload", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reload.calls, ==, 1);

  reload.fail = TRUE;
  refused = call (fixture, PATH, IFACE, "Reload", NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "a bad value"));
  g_assert_cmpuint (reload.calls, ==, 2);
  signaling_server_set_reload_func (fixture->server, NULL, NULL, NULL);
}

/* With AUTHORIZE (the daemon's --system), root may disconnect without
 * asking polkit: the exporter asks the bus who the caller is. */
static void
test_authorize_root (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  g_autofree char *path = client_path (b->id);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) reply2 = NULL;

  if (getuid () != 0)
    {
      g_test_skip ("the caller is not root: polkit of this machine would decide");
      return;
    }

  signaling_server_unexport_dbus (fixture->server);
  signaling_server_export_dbus_full (fixture->server, fixture->service_side, NULL,
                                     SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE, &error);
  g_assert_no_error (error);

  reply = call (fixture, PATH, IFACE, "DisconnectClient", g_variant_new ("(ss)", a->id, "root"), &error);
  g_assert_no_error (error);
  test_client_wait_closed (a);
  g_assert_cmpuint (a->close_code, ==, 4000);
  reply2 = call (fixture, path, "org.signalbox.Signalbox1.Client", "Disconnect", g_variant_new ("(s)", "root"), &error);
  g_assert_no_error (error);
  test_client_wait_closed (b);
  g_assert_cmpuint (b->close_code, ==, 4000);

  /* Reload behind the same rule. */
  {
    ReloadData reload = { 0 };
    g_autoptr(GVariant) reloaded = NULL;

    signaling_server_set_reload_func (fixture->server, count_reload, &reload, NULL);
    reloaded = call (fixture, PATH, IFACE, "Reload", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (reload.calls, ==, 1);
    signaling_server_set_reload_func (fixture->server, NULL, NULL, NULL);
  }
}

typedef struct {
  gboolean done;
  GDBusConnection *connection;
} NewConnection;

static void
on_connection_ready (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  NewConnection *data = user_data;
  g_autoptr(GError) error = NULL;

  data->connection = g_dbus_connection_new_finish (result, &error);
  g_assert_no_error (error);
  data->done = TRUE;
}

static GIOStream *
stream_for_fd (int fd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, &error);

  g_assert_no_error (error);
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

/* A peer-to-peer connection has no bus to say who the caller is: with
 * AUTHORIZE, Disconnect is refused there, and the peer stays. */
static void
test_authorize_peer_to_peer (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) service_stream = NULL;
  g_autoptr(GIOStream) caller_stream = NULL;
  g_autofree char *guid = g_dbus_generate_guid ();
  g_autofree char *remote = NULL;
  NewConnection service = { 0 }, caller = { 0 };
  CallData call_data = { 0 };
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  service_stream = stream_for_fd (fds[0]);
  caller_stream = stream_for_fd (fds[1]);
  g_dbus_connection_new (service_stream, guid, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER,
                         NULL, NULL, on_connection_ready, &service);
  g_dbus_connection_new (caller_stream, NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                         NULL, NULL, on_connection_ready, &caller);
  test_run_until (&service.done);
  test_run_until (&caller.done);

  signaling_server_unexport_dbus (fixture->server);
  signaling_server_export_dbus_full (fixture->server, service.connection, NULL,
                                     SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE, &error);
  g_assert_no_error (error);

  g_dbus_connection_call (caller.connection, NULL, PATH, IFACE, "DisconnectClient",
                          g_variant_new ("(ss)", a->id, "no"), NULL, G_DBUS_CALL_FLAGS_NONE,
                          -1, NULL, on_call_done, &call_data);
  test_run_until (&call_data.done);
  g_assert_null (call_data.reply);
  g_assert_error (call_data.error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED);
  g_clear_error (&call_data.error);
  test_client_assert_idle (a);
  g_assert_false (a->closed);

  /* Reload is refused alike, without running. */
  {
    ReloadData reload = { 0 };
    CallData reload_call = { 0 };

    signaling_server_set_reload_func (fixture->server, count_reload, &reload, NULL);
    g_dbus_connection_call (caller.connection, NULL, PATH, IFACE, "Reload", NULL, NULL,
                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_call_done, &reload_call);
    test_run_until (&reload_call.done);
    g_assert_null (reload_call.reply);
    g_assert_error (reload_call.error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED);
    g_clear_error (&reload_call.error);
    g_assert_cmpuint (reload.calls, ==, 0);
    signaling_server_set_reload_func (fixture->server, NULL, NULL, NULL);
  }

  signaling_server_unexport_dbus (fixture->server);
  g_dbus_connection_close_sync (caller.connection, NULL, NULL);
  g_dbus_connection_close_sync (service.connection, NULL, NULL);
  g_object_unref (caller.connection);
  g_object_unref (service.connection);
}

typedef struct {
  guint server_changes;
  guint client_changes;
} ChangeCount;

static void
on_properties_changed (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *name,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  ChangeCount *count = user_data;

  if (g_str_equal (path, PATH))
    count->server_changes++;
  else
    count->client_changes++;
}

static void
test_counter_throttle (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autoptr(TestClient) b = test_client_connect (fixture->server);
  ChangeCount count = { 0 };
  guint subscription;
  guint received = 0;
  gint64 start, elapsed_ms;
  guint64 relayed = 0;
  guint bound;
  const guint n_messages = 10000;

  subscription = g_dbus_connection_signal_subscribe (fixture->client_side, NULL,
                                                     "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                                     NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_properties_changed, &count, NULL);
  g_variant_unref (call (fixture, PATH, IFACE, "ListRooms", NULL, NULL));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_messages; i++)
    test_client_send (a, "{\"type\":\"message\",\"to\":\"%s\",\"data\":%u}", b->id, i);
  while (received < n_messages)
    {
      g_autoptr(JsonObject) message = test_client_expect (b, "message");

      g_assert_cmpint (json_object_get_int_member (message, "data"), ==, received);
      received++;
    }
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  /* The final counters do arrive, within one publishing period. */
  while (relayed < n_messages)
    {
      g_autoptr(GVariant) value = get_property (fixture, PATH, IFACE, "MessagesRelayed");

      relayed = g_variant_get_uint64 (value);
      if (relayed < n_messages)
        g_main_context_iteration (NULL, TRUE);
    }

  /* At most one update per period (plus the first and the last), for
   * the server object and for each of the two client objects. */
  bound = (elapsed_ms / 500 + 3);
  g_test_message ("%u messages in %" G_GINT64_FORMAT " ms: %u server and %u client PropertiesChanged",
                  n_messages, elapsed_ms, count.server_changes, count.client_changes);
  g_assert_cmpuint (count.server_changes, <=, bound);
  g_assert_cmpuint (count.client_changes, <=, 2 * bound);
  g_assert_cmpuint (count.server_changes, <, n_messages / 100);

  g_dbus_connection_signal_unsubscribe (fixture->client_side, subscription);
}

/* A new client over the per-address limits is counted on the bus, in
 * ConnectionsRefused and MessagesRejected alike. */
static void
test_connections_refused (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(TestClient) first = NULL;
  g_autoptr(TestClient) second = NULL;
  g_autofree char *url = test_server_get_url (fixture->server, "ws", "/ws");
  g_autoptr(GError) error = NULL;
  guint64 refused = 0;
  g_autoptr(GVariant) initial = get_property (fixture, PATH, IFACE, "ConnectionsRefused");

  g_assert_cmpuint (g_variant_get_uint64 (initial), ==, 0);
  g_object_set (fixture->server, "max-clients-per-address", 1, NULL);
  first = test_client_connect (fixture->server);
  second = test_client_connect_raw (url, NULL, &error);
  g_assert_null (second);
  g_assert_nonnull (error);

  /* Published within one period, as the other counters. */
  while (refused < 1)
    {
      g_autoptr(GVariant) value = get_property (fixture, PATH, IFACE, "ConnectionsRefused");

      refused = g_variant_get_uint64 (value);
      if (refused < 1)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpuint (refused, ==, 1);
  {
    g_autoptr(GVariant) rejected = get_property (fixture, PATH, IFACE, "MessagesRejected");

    g_assert_cmpuint (g_variant_get_uint64 (rejected), >=, 1);
  }
}

static guint64
wait_for_counter (Fixture    *fixture,
                  const char *property,
                  guint64     expected)
{
  guint64 count = 0;

  /* Published within one period, as the other counters. */
  while (count < expected)
    {
      g_autoptr(GVariant) value = get_property (fixture, PATH, IFACE, property);

      count = g_variant_get_uint64 (value);
      if (count < expected)
        g_main_context_iteration (NULL, TRUE);
    }
  return count;
}

/* A native peer whose connection is cut resumes with its token; the
 * spent token then fails: both counted on the bus. */
static void
test_resume_counters (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *url = test_server_get_url (fixture->server, "ws", "/ws");
  g_autoptr(TestClient) dropped = NULL;
  g_autoptr(TestClient) resumed = NULL;
  g_autoptr(TestClient) replayed = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autoptr(JsonObject) fresh = NULL;
  g_autoptr(JsonObject) relayed = NULL;
  g_autofree char *token = NULL;
  g_autofree char *resume_url = NULL;
  g_autoptr(GError) error = NULL;

  dropped = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  welcome = test_client_expect (dropped, "welcome");
  token = g_strdup (json_object_get_string_member (welcome, "resume"));
  resume_url = g_strdup_printf ("%s?resume=%s", url, token);

  /* The network goes: no close frame. */
  g_io_stream_close (soup_websocket_connection_get_io_stream (dropped->websocket), NULL, NULL);

  resumed = test_client_connect_raw (resume_url, NULL, &error);
  g_assert_no_error (error);
  again = test_client_expect (resumed, "welcome");
  g_assert_true (json_object_get_boolean_member (again, "resumed"));
  g_assert_cmpstr (json_object_get_string_member (again, "id"), ==,
                   json_object_get_string_member (welcome, "id"));

  replayed = test_client_connect_raw (resume_url, NULL, &error);
  g_assert_no_error (error);
  test_client_expect_error (replayed, "resume-failed");
  fresh = test_client_expect (replayed, "welcome");
  g_assert_cmpstr (json_object_get_string_member (fresh, "id"), !=,
                   json_object_get_string_member (welcome, "id"));

  /* Some relaying, which is what wakes the counters up. */
  test_client_send (replayed, "{\"type\":\"message\",\"to\":\"%s\",\"data\":1}",
                    json_object_get_string_member (welcome, "id"));
  relayed = test_client_expect (resumed, "message");

  g_assert_cmpuint (wait_for_counter (fixture, "SessionsResumed", 1), ==, 1);
  g_assert_cmpuint (wait_for_counter (fixture, "ResumesFailed", 1), ==, 1);
}

static char *
http (SoupSession *session,
      const char  *method,
      const char  *url,
      const char  *body)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) response = NULL;

  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8", bytes);
    }
  response = test_send_and_read (session, msg);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  return g_strndup (g_bytes_get_data (response, NULL), g_bytes_get_size (response));
}

static char *
get_client_string (Fixture    *fixture,
                   const char *id,
                   const char *property)
{
  g_autofree char *path = client_path (id);
  g_autoptr(GVariant) value = get_property (fixture, path, "org.signalbox.Signalbox1.Client", property);

  return g_variant_dup_string (value, NULL);
}

static void
on_probe_answer (SoupWebsocketConnection *websocket,
                 SoupWebsocketDataType    type,
                 GBytes                  *bytes,
                 gboolean                *probed)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  if (size == 6 && memcmp (data, "3probe", 6) == 0)
    *probed = TRUE;
}

/* PropertiesChanged on a client's object that says it is on a WebSocket. */
static void
on_transport_changed (GDBusConnection *connection,
                      const char      *sender,
                      const char      *path,
                      const char      *interface,
                      const char      *name,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  g_autoptr(GVariant) changed = g_variant_get_child_value (parameters, 1);
  const char *transport = NULL;

  if (g_variant_lookup (changed, "Transport", "&s", &transport) && g_str_equal (transport, "websocket"))
    *(gboolean *) user_data = TRUE;
}

/* A Socket.IO client, by hand: polling first, then the upgrade. D-Bus
 * shows its protocol and follows its transport, and tells the change. */
static void
test_socketio_client (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *base = test_server_get_url (fixture->server, "http", "/socket.io/?EIO=4&transport=polling");
  g_autofree char *open = http (session, "GET", base, NULL);
  g_autoptr(JsonNode) handshake = json_from_string (open + 1, NULL);
  const char *sid = json_object_get_string_member (json_node_get_object (handshake), "sid");
  g_autofree char *session_url = g_strdup_printf ("%s&sid=%s", base, sid);
  g_autofree char *ok = http (session, "POST", session_url, "40");
  g_autofree char *connected = http (session, "GET", session_url, NULL);
  g_autoptr(GPtrArray) clients = NULL;
  g_autofree char *id = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *transport = NULL;
  g_autofree char *ws_url = NULL;
  g_autoptr(TestClient) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean probed = FALSE;
  gboolean upgraded = FALSE;
  guint subscription;

  g_assert_cmpstr (ok, ==, "ok");
  g_assert_true (g_str_has_prefix (connected, "40{\"sid\":"));
  clients = signaling_server_get_clients (fixture->server);
  g_assert_cmpuint (clients->len, ==, 1);
  id = g_strdup (signaling_client_get_id (g_ptr_array_index (clients, 0)));
  g_assert_nonnull (strstr (connected, id));  /* your_id follows the CONNECT */

  protocol = get_client_string (fixture, id, "Protocol");
  transport = get_client_string (fixture, id, "Transport");
  g_assert_cmpstr (protocol, ==, "socket.io");
  g_assert_cmpstr (transport, ==, "polling");

  ws_url = g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket&sid=%s",
                            signaling_server_get_port (fixture->server), sid);
  ws = test_client_connect_raw (ws_url, NULL, &error);
  g_assert_no_error (error);
  /* Engine.IO frames are not the native JSON the helper parses. */
  g_signal_handlers_disconnect_matched (ws->websocket, G_SIGNAL_MATCH_ID | G_SIGNAL_MATCH_DATA,
                                        g_signal_lookup ("message", SOUP_TYPE_WEBSOCKET_CONNECTION),
                                        0, NULL, NULL, ws);
  g_signal_connect (ws->websocket, "message", G_CALLBACK (on_probe_answer), &probed);
  path = client_path (id);
  subscription = g_dbus_connection_signal_subscribe (fixture->client_side, NULL,
                                                     "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                                     path, "org.signalbox.Signalbox1.Client",
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_transport_changed,
                                                     &upgraded, NULL);

  soup_websocket_connection_send_text (ws->websocket, "2probe");
  test_run_until (&probed);
  soup_websocket_connection_send_text (ws->websocket, "5");
  test_run_until (&upgraded);
  g_dbus_connection_signal_unsubscribe (fixture->client_side, subscription);

  g_clear_pointer (&transport, g_free);
  transport = get_client_string (fixture, id, "Transport");
  g_assert_cmpstr (transport, ==, "websocket");
}

typedef struct {
  gboolean done;
  GDBusObjectManager *manager;
  GError *error;
} ManagerData;

static void
on_manager_ready (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ManagerData *data = user_data;

  data->manager = signaling_dbus_object_manager_client_new_finish (result, &data->error);
  data->done = TRUE;
}

/* Runs the main loop until @path's object is there (or gone). */
static GDBusObject *
wait_for_object (GDBusObjectManager *manager,
                 const char         *path,
                 gboolean            present)
{
  for (;;)
    {
      GDBusObject *object = g_dbus_object_manager_get_object (manager, path);

      if ((object != NULL) == present)
        return object;
      g_clear_object (&object);
      g_main_context_iteration (NULL, TRUE);
    }
}

static gboolean
strv_is (const char * const *strv,
         const char         *only)
{
  return strv != NULL && g_strv_length ((char **) strv) == 1 && g_str_equal (strv[0], only);
}

static void
on_disconnect_called (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  signaling_dbus_client_call_disconnect_finish (SIGNALING_DBUS_CLIENT (source), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* What a GNOME application sees through a GDBusObjectManagerClient:
 * objects that come and go with clients and rooms (InterfacesAdded,
 * InterfacesRemoved), their properties kept current by
 * PropertiesChanged, and a client's own Disconnect through its proxy. */
static void
test_manager_client (Fixture       *fixture,
                     gconstpointer  data)
{
  ManagerData ready = { 0 };
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(TestClient) a = NULL;
  g_autoptr(GDBusObject) object = NULL;
  g_autoptr(GDBusObject) room_object = NULL;
  g_autoptr(GDBusObject) gone = NULL;
  g_autoptr(SignalingDBusClient) client = NULL;
  g_autoptr(SignalingDBusRoom) room = NULL;
  g_autofree char *path = NULL;
  gboolean disconnected = FALSE;

  signaling_dbus_object_manager_client_new (fixture->client_side, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                            g_dbus_connection_get_unique_name (fixture->service_side),
                                            PATH, NULL, on_manager_ready, &ready);
  test_run_until (&ready.done);
  g_assert_no_error (ready.error);
  manager = ready.manager;
  g_assert_null (g_dbus_object_manager_get_objects (manager));

  a = test_client_connect (fixture->server);
  path = client_path (a->id);
  object = wait_for_object (manager, path, TRUE);
  client = signaling_dbus_object_get_client (SIGNALING_DBUS_OBJECT (object));
  g_assert_nonnull (client);
  g_assert_cmpstr (signaling_dbus_client_get_id (client), ==, a->id);
  g_assert_cmpstr (signaling_dbus_client_get_protocol (client), ==, "native");
  g_assert_cmpstr (signaling_dbus_client_get_transport (client), ==, "websocket");
  g_assert_cmpuint (g_strv_length ((char **) signaling_dbus_client_get_rooms (client)), ==, 0);

  join (a, "lobby");
  room_object = wait_for_object (manager, PATH "/room/lobby", TRUE);
  room = signaling_dbus_object_get_room (SIGNALING_DBUS_OBJECT (room_object));
  g_assert_cmpstr (signaling_dbus_room_get_name (room), ==, "lobby");
  while (!strv_is (signaling_dbus_client_get_rooms (client), "lobby") ||
         !strv_is (signaling_dbus_room_get_members (room), a->id))
    g_main_context_iteration (NULL, TRUE);

  signaling_dbus_client_call_disconnect (client, "from the proxy", NULL, on_disconnect_called, &disconnected);
  test_run_until (&disconnected);
  test_client_wait_closed (a);
  g_assert_cmpstr (a->close_reason, ==, "from the proxy");
  gone = wait_for_object (manager, path, FALSE);
  g_clear_object (&gone);
  gone = wait_for_object (manager, PATH "/room/lobby", FALSE);
  g_assert_null (gone);
}

/* Introspection walks the tree as busctl tree does: the client and room
 * nodes, each child with its interface, nothing for an unknown one. */
static void
test_introspection (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(TestClient) a = test_client_connect (fixture->server);
  g_autofree char *path = client_path (a->id);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) clients = call (fixture, PATH "/client", "org.freedesktop.DBus.Introspectable",
                                      "Introspect", NULL, &error);
  g_autoptr(GVariant) child = NULL;
  g_autoptr(GVariant) unknown = NULL;
  g_autoptr(GVariant) id = NULL;
  g_autofree char *node = NULL;
  const char *xml;

  g_assert_no_error (error);
  g_variant_get (clients, "(&s)", &xml);
  node = g_strdup_printf ("<node name=\"%s\"/>", a->id);
  g_assert_nonnull (strstr (xml, node));

  child = call (fixture, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (child, "(&s)", &xml);
  g_assert_nonnull (strstr (xml, "<interface name=\"org.signalbox.Signalbox1.Client\">"));

  id = get_property (fixture, path, "org.signalbox.Signalbox1.Client", "Id");
  g_assert_cmpstr (g_variant_get_string (id, NULL), ==, a->id);

  unknown = call (fixture, PATH "/client/nobody", "org.freedesktop.DBus.Properties", "Get",
                  g_variant_new ("(ss)", "org.signalbox.Signalbox1.Client", "Id"), &error);
  g_assert_null (unknown);
  g_assert_nonnull (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/dbus/server/properties", test_properties);
  ADD ("/dbus/server/list-methods", test_list_methods);
  ADD ("/dbus/server/signals", test_signals);
  ADD ("/dbus/server/disconnect", test_disconnect);
  ADD ("/dbus/server/counter-throttle", test_counter_throttle);
  ADD ("/dbus/server/resume-counters", test_resume_counters);
  ADD ("/dbus/server/reload", test_reload);
  ADD ("/dbus/server/connections-refused", test_connections_refused);
  ADD ("/dbus/object-manager/follows-clients", test_objects_follow_clients);
  ADD ("/dbus/object-manager/client-path-is-id", test_client_paths_are_ids);
  ADD ("/dbus/object-manager/manager-client", test_manager_client);
  ADD ("/dbus/object-manager/introspection", test_introspection);
  ADD ("/dbus/client/socketio", test_socketio_client);
  ADD ("/dbus/authorize/root", test_authorize_root);
  ADD ("/dbus/authorize/peer-to-peer", test_authorize_peer_to_peer);
#undef ADD

  return g_test_run ();
}
