/* test-cli.c: the daemon on a private bus, driven by gdbus, busctl and
 * signalboxctl exactly as an administrator would
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>

#include <glib/gstdio.h>

#include "test-utils.h"

typedef struct {
  GTestDBus *bus;
  GSubprocess *daemon;
  GDataInputStream *log;
  guint port;
  char *config_dir;   /* with a configuration file, for reload tests */
  char *config_file;
} Fixture;

/* The configuration file of the reload tests: one room per peer. */
#define CONFIG_ONE_ROOM "[signalbox]\naddress=127.0.0.1\nport=0\nmax-rooms-per-client=1\n"

static GSubprocess *
spawn_daemon (const char  *config_file,
              GError     **error)
{
  if (config_file != NULL)
    return g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                             g_getenv ("SIGNALBOX_BIN"), "--config", config_file, NULL);
  return g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                           g_getenv ("SIGNALBOX_BIN"), "--address", "127.0.0.1", "--port", "0", NULL);
}

/* Reads the daemon's log until it owns its name; returns its port. */
static guint
wait_until_ready (GDataInputStream *log)
{
  guint port = 0;

  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);
      const char *found;

      if (line == NULL)
        g_error ("signalbox exited before it was ready");
      g_test_message ("signalbox: %s", line);

      if ((found = strstr (line, "Listening on http://127.0.0.1:")) != NULL)
        port = g_ascii_strtoull (found + strlen ("Listening on http://127.0.0.1:"), NULL, 10);
      if (strstr (line, "Owning org.signalbox.Signalbox1") != NULL)
        return port;
    }
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (fixture->bus);  /* sets DBUS_SESSION_BUS_ADDRESS for children */

  if (data != NULL)
    {
      fixture->config_dir = g_dir_make_tmp ("signalbox-cli-XXXXXX", &error);
      g_assert_no_error (error);
      fixture->config_file = g_build_filename (fixture->config_dir, "signalbox.conf", NULL);
      g_file_set_contents (fixture->config_file, data, -1, &error);
      g_assert_no_error (error);
    }

  fixture->daemon = spawn_daemon (fixture->config_file, &error);
  g_assert_no_error (error);
  fixture->log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (fixture->daemon));
  fixture->port = wait_until_ready (fixture->log);
  g_assert_cmpuint (fixture->port, >, 0);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (fixture->daemon, SIGTERM);
  g_subprocess_wait (fixture->daemon, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (fixture->daemon), ==, 0);

  g_clear_object (&fixture->log);
  g_clear_object (&fixture->daemon);
  g_test_dbus_down (fixture->bus);
  g_clear_object (&fixture->bus);

  if (fixture->config_file != NULL)
    {
      g_unlink (fixture->config_file);
      g_rmdir (fixture->config_dir);
    }
  g_clear_pointer (&fixture->config_file, g_free);
  g_clear_pointer (&fixture->config_dir, g_free);
}

/* Runs a command line and returns its standard output. */
static char *
run (int         expected_status,
     const char *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) first);
  va_start (args, first);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s → %s%s", first, out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, expected_status);
  return out;
}

static TestClient *
connect_and_join (Fixture    *fixture,
                  const char *room)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/ws", fixture->port);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(JsonObject) joined = NULL;
  TestClient *client = test_client_connect_raw (url, NULL, &error);

  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));
  test_client_send (client, "{\"type\":\"join\",\"room\":\"%s\"}", room);
  joined = test_client_expect (client, "joined");
  return client;
}

static void
test_gdbus (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(TestClient) client = connect_and_join (fixture, "lobby");
  g_autofree char *clients = run (0, "gdbus", "call", "--session", "--dest", "org.signalbox.Signalbox1",
                                  "--object-path", "/org/signalbox/Signalbox1",
                                  "--method", "org.signalbox.Signalbox1.Server.ListClients", NULL);
  g_autofree char *rooms = run (0, "gdbus", "call", "--session", "--dest", "org.signalbox.Signalbox1",
                                "--object-path", "/org/signalbox/Signalbox1",
                                "--method", "org.signalbox.Signalbox1.Server.ListRooms", NULL);
  g_autofree char *tree = run (0, "gdbus", "introspect", "--session", "--dest", "org.signalbox.Signalbox1",
                               "--object-path", "/org/signalbox/Signalbox1", "--recurse", NULL);
  g_autofree char *expected_clients = g_strdup_printf ("([('%s', 'native', ['lobby'])],)\n", client->id);
  g_autofree char *expected_rooms = g_strdup_printf ("([('lobby', ['%s'])],)\n", client->id);
  g_autofree char *escaped = g_dbus_escape_object_path (client->id);
  g_autofree char *kicked = NULL;

  g_assert_cmpstr (clients, ==, expected_clients);
  g_assert_cmpstr (rooms, ==, expected_rooms);
  g_assert_nonnull (strstr (tree, escaped));
  g_assert_nonnull (strstr (tree, "/org/signalbox/Signalbox1/room/lobby"));
  g_assert_nonnull (strstr (tree, "interface org.signalbox.Signalbox1.Client"));

  kicked = run (0, "gdbus", "call", "--session", "--dest", "org.signalbox.Signalbox1",
                "--object-path", "/org/signalbox/Signalbox1",
                "--method", "org.signalbox.Signalbox1.Server.DisconnectClient", client->id, "by gdbus", NULL);
  test_client_wait_closed (client);
  g_assert_cmpuint (client->close_code, ==, 4000);
  g_assert_cmpstr (client->close_reason, ==, "by gdbus");
}

static void
test_busctl (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *busctl = g_find_program_in_path ("busctl");
  g_autoptr(TestClient) client = NULL;
  g_autofree char *count = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *error_out = NULL;

  if (busctl == NULL)
    {
      g_test_skip ("busctl (systemd) is not installed");
      return;
    }

  client = connect_and_join (fixture, "busctl-room");
  count = run (0, busctl, "--user", "get-property", "org.signalbox.Signalbox1", "/org/signalbox/Signalbox1",
               "org.signalbox.Signalbox1.Server", "ClientCount", NULL);
  g_assert_cmpstr (count, ==, "u 1\n");
  tree = run (0, busctl, "--user", "--list", "tree", "org.signalbox.Signalbox1", NULL);
  g_assert_nonnull (strstr (tree, "/org/signalbox/Signalbox1/room/busctl_2droom"));

  error_out = run (1, busctl, "--user", "call", "org.signalbox.Signalbox1", "/org/signalbox/Signalbox1",
                   "org.signalbox.Signalbox1.Server", "DisconnectClient", "ss", "nobody", "x", NULL);

  g_free (run (0, busctl, "--user", "call", "org.signalbox.Signalbox1", "/org/signalbox/Signalbox1",
               "org.signalbox.Signalbox1.Server", "DisconnectClient", "ss", client->id, "by busctl", NULL));
  test_client_wait_closed (client);
  g_assert_cmpuint (client->close_code, ==, 4000);
}

static void
test_signalboxctl (Fixture       *fixture,
                   gconstpointer  data)
{
  const char *ctl = g_getenv ("SIGNALBOXCTL_BIN");
  g_autoptr(TestClient) client = connect_and_join (fixture, "ctl-room");
  g_autofree char *status = run (0, ctl, "status", NULL);
  g_autofree char *clients = run (0, ctl, "clients", NULL);
  g_autofree char *rooms_json = run (0, ctl, "--json", "rooms", NULL);
  g_autofree char *status_json = run (0, ctl, "--json", "status", NULL);
  g_autofree char *unknown = run (1, ctl, "kick", "no-such-client", NULL);
  g_autofree char *kicked = NULL;
  g_autoptr(JsonNode) rooms = json_from_string (rooms_json, NULL);
  g_autoptr(JsonNode) state = json_from_string (status_json, NULL);
  JsonObject *room;

  g_assert_nonnull (strstr (status, "Clients"));
  g_assert_nonnull (strstr (status, SIGNALING_VERSION));
  g_assert_nonnull (strstr (clients, client->id));
  g_assert_nonnull (strstr (clients, "ctl-room"));

  g_assert_true (JSON_NODE_HOLDS_ARRAY (rooms));
  room = json_array_get_object_element (json_node_get_array (rooms), 0);
  g_assert_cmpstr (json_object_get_string_member (room, "name"), ==, "ctl-room");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (room, "members"), 0),
                   ==, client->id);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "clients"), ==, 1);

  kicked = run (0, ctl, "kick", client->id, "by signalboxctl", NULL);
  test_client_wait_closed (client);
  g_assert_cmpuint (client->close_code, ==, 4000);
  g_assert_cmpstr (client->close_reason, ==, "by signalboxctl");
}

/* signalboxctl reload applies an edited file to a peer that stays
 * connected; a bad file is refused, with status 1, and changes nothing. */
static void
test_signalboxctl_reload (Fixture       *fixture,
                          gconstpointer  data)
{
  const char *ctl = g_getenv ("SIGNALBOXCTL_BIN");
  g_autoptr(TestClient) client = connect_and_join (fixture, "first");
  g_autoptr(JsonObject) joined = NULL;
  g_autofree char *reloaded = NULL;
  g_autofree char *refused = NULL;
  g_autoptr(GError) error = NULL;

  test_client_send (client, "{\"type\":\"join\",\"room\":\"second\"}");
  test_client_expect_error (client, "forbidden");

  g_file_set_contents (fixture->config_file,
                       "[signalbox]\naddress=127.0.0.1\nport=0\nmax-rooms-per-client=2\n", -1, &error);
  g_assert_no_error (error);
  reloaded = run (0, ctl, "reload", NULL);
  g_assert_nonnull (strstr (reloaded, "Reloaded"));
  test_client_send (client, "{\"type\":\"join\",\"room\":\"second\"}");
  joined = test_client_expect (client, "joined");

  g_file_set_contents (fixture->config_file,
                       "[signalbox]\naddress=127.0.0.1\nport=0\nmax-rooms-per-client=3\nmax-clients=banana\n",
                       -1, &error);
  g_assert_no_error (error);
  refused = run (1, ctl, "reload", NULL);
  g_assert_cmpstr (refused, ==, "");
  test_client_send (client, "{\"type\":\"join\",\"room\":\"third\"}");
  test_client_expect_error (client, "forbidden");
  g_assert_false (client->closed);
}

/* What a terminal shows of @text, in columns: wide (East Asian)
 * characters take two. */
static guint
columns (const char *text,
         gsize       length)
{
  guint width = 0;

  for (const char *p = text; p < text + length; p = g_utf8_next_char (p))
    width += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;
  return width;
}

/* The column where @needle starts on @line, or -1. */
static int
column_of (const char *line,
           const char *needle)
{
  const char *found = strstr (line, needle);

  return found != NULL ? (int) columns (line, found - line) : -1;
}

/* Rooms named "café" (5 bytes, 4 columns) and "部屋" (6 bytes, 4
 * columns) line up with the others in signalboxctl's tables, which
 * padded by bytes (issue 12, item 18). */
static void
test_signalboxctl_columns (Fixture       *fixture,
                           gconstpointer  data)
{
  const char *ctl = g_getenv ("SIGNALBOXCTL_BIN");
  const char *names[] = { "lobby", "café", "部屋" };
  TestClient *clients[G_N_ELEMENTS (names)];
  g_autofree char *rooms = NULL;
  g_autofree char *listing = NULL;
  g_auto(GStrv) lines = NULL;
  int members_column;
  guint rows = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    clients[i] = connect_and_join (fixture, names[i]);

  rooms = run (0, ctl, "rooms", NULL);
  lines = g_strsplit (rooms, "\n", -1);
  members_column = column_of (lines[0], "MEMBERS");
  g_assert_cmpint (members_column, >, 0);
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      gboolean matched = FALSE;

      for (gsize c = 0; c < G_N_ELEMENTS (names); c++)
        if (g_str_has_prefix (lines[i], names[c]))
          {
            g_assert_cmpint (column_of (lines[i], clients[c]->id), ==, members_column);
            matched = TRUE;
          }
      g_assert_true (matched);
      rows++;
    }
  g_assert_cmpuint (rows, ==, G_N_ELEMENTS (names));

  /* The clients table: the rooms column likewise. */
  listing = run (0, ctl, "clients", NULL);
  g_strfreev (lines);
  lines = g_strsplit (listing, "\n", -1);
  members_column = column_of (lines[0], "ROOMS");
  for (gsize c = 0; c < G_N_ELEMENTS (names); c++)
    {
      for (guint i = 1; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], clients[c]->id))
          g_assert_cmpint (column_of (lines[i], names[c]), ==, members_column);
      test_client_free (clients[c]);
    }
}

static void
test_name_taken (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) second = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  second = spawn_daemon (NULL, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (second, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 4);
  g_assert_nonnull (strstr (err, "already owned"));
}

int
main (int   argc,
      char *argv[])
{
  /* The tools run as in an administrator's terminal: UTF-8, so that
   * non-ASCII room names are printed as they are. */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/cli/gdbus", Fixture, NULL, fixture_setup, test_gdbus, fixture_teardown);
  g_test_add ("/cli/busctl", Fixture, NULL, fixture_setup, test_busctl, fixture_teardown);
  g_test_add ("/cli/signalboxctl", Fixture, NULL, fixture_setup, test_signalboxctl, fixture_teardown);
  g_test_add ("/cli/signalboxctl-columns", Fixture, NULL, fixture_setup, test_signalboxctl_columns, fixture_teardown);
  g_test_add ("/cli/signalboxctl-reload", Fixture, CONFIG_ONE_ROOM, fixture_setup, test_signalboxctl_reload, fixture_teardown);
  g_test_add ("/cli/name-taken", Fixture, NULL, fixture_setup, test_name_taken, fixture_teardown);

  return g_test_run ();
}
