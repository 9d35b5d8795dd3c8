/* test-daemon.c: the signalbox binary, started as a real subprocess
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "signaling-settings-private.h"
#include "test-utils.h"

typedef struct {
  GSubprocess *process;
  GDataInputStream *log;
  guint port;
} Daemon;

static const char *
signalbox_path (void)
{
  const char *path = g_getenv ("SIGNALBOX_BIN");

  g_assert_nonnull (path);
  return path;
}

static GSubprocess *
spawn (GSubprocessFlags   flags,
       GError           **error,
       ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) signalbox_path ());
  va_start (args, error);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  return g_subprocess_newv ((const char * const *) argv->pdata, flags, error);
}

/* Reads the daemon's log until it says where it listens. */
static guint
read_port (GDataInputStream *log)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);
      const char *found;

      if (line == NULL)
        g_error ("signalbox exited before listening");
      g_test_message ("signalbox: %s", line);

      found = strstr (line, "Listening on http://127.0.0.1:");
      if (found != NULL)
        return (guint) g_ascii_strtoull (found + strlen ("Listening on http://127.0.0.1:"), NULL, 10);
    }
}

static void
daemon_start (Daemon     *daemon,
              const char *config_file)
{
  g_autoptr(GError) error = NULL;

  if (config_file != NULL)
    daemon->process = spawn (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, "--config", config_file, NULL);
  else
    daemon->process = spawn (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                             "--address", "127.0.0.1", "--port", "0", NULL);
  g_assert_no_error (error);

  daemon->log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (daemon->process));
  daemon->port = read_port (daemon->log);
  g_assert_cmpuint (daemon->port, >, 0);
}

typedef struct {
  gboolean done;
} WaitData;

static void
on_process_exited (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  WaitData *data = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  data->done = TRUE;
}

/* Waits with the main loop running, so that our WebSocket clients
 * take part in the close handshakes. */
static void
daemon_wait (Daemon *daemon)
{
  WaitData data = { 0 };

  g_subprocess_wait_async (daemon->process, NULL, on_process_exited, &data);
  test_run_until (&data.done);
}

static void
daemon_clear (Daemon *daemon)
{
  if (daemon->process != NULL && !g_subprocess_get_if_exited (daemon->process))
    g_subprocess_force_exit (daemon->process);
  g_clear_object (&daemon->log);
  g_clear_object (&daemon->process);
}

static TestClient *
connect_to (Daemon *daemon)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/ws", daemon->port);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  TestClient *client = test_client_connect_raw (url, NULL, &error);

  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));
  return client;
}

static void
run_to_completion (const char  *arg1,
                   const char  *arg2,
                   int          expected_status,
                   char       **out_stdout,
                   char       **out_stderr)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  process = spawn (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                   arg1, arg2, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out_stdout, out_stderr, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, expected_status);
}

static void
test_version (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  run_to_completion ("--version", NULL, 0, &out, &err);
  g_assert_cmpstr (out, ==, "signalbox " SIGNALING_VERSION "\n");
}

static void
test_help (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  run_to_completion ("--help", NULL, 0, &out, &err);
  for (const char *const *option = (const char *const[]) { "--port", "--address", "--config",
                                                            "--verbose", "--version",
                                                            "--max-clients", NULL };
       *option != NULL; option++)
    g_assert_nonnull (strstr (out, *option));
}

/* The line of --help that describes @option. */
static char *
help_line (const char *help,
           const char *option)
{
  g_autofree char *prefix = g_strdup_printf ("  %s=", option);
  /* A boolean setting (--reuse-port) takes no value. */
  g_autofree char *flag = g_strdup_printf ("  %s ", option);
  const char *start = strstr (help, prefix) != NULL ? strstr (help, prefix) : strstr (help, flag);

  g_assert_nonnull (start);
  return g_strndup (start, strcspn (start, "\n"));
}

/* --help states each limit's default, taken from the server property
 * that has it (issue 12, item 21): "0 for no limit" alone left a user
 * who hit a limit guessing which. */
static void
test_help_defaults (void)
{
  static const char *options[] = {
    "max-clients", "max-message-size", "max-rooms-per-client", "max-room-members",
    "rate-limit", "rate-burst", "keepalive-interval", "max-send-queue", "request-timeout",
    "ping-interval", "ping-timeout", "max-payload",
  };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GTypeClass) klass = g_type_class_ref (SIGNALING_TYPE_SERVER);
  g_autofree char *rate = NULL;
  g_autofree char *burst = NULL;
  g_autofree char *queue = NULL;

  run_to_completion ("--help", NULL, 0, &out, &err);
  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    {
      GParamSpec *pspec = g_object_class_find_property (G_OBJECT_CLASS (klass), options[i]);
      g_autofree char *option = g_strconcat ("--", options[i], NULL);
      g_autofree char *line = help_line (out, option);
      g_autofree char *expected = NULL;

      g_assert_nonnull (pspec);
      if (G_IS_PARAM_SPEC_UINT (pspec))
        expected = g_strdup_printf ("(default %u)", G_PARAM_SPEC_UINT (pspec)->default_value);
      else
        expected = g_strdup_printf ("(default %g)", G_PARAM_SPEC_DOUBLE (pspec)->default_value);
      g_test_message ("%s", line);
      g_assert_nonnull (strstr (line, expected));
    }

  /* And the values that docs/design.md promises. */
  rate = help_line (out, "--rate-limit");
  burst = help_line (out, "--rate-burst");
  queue = help_line (out, "--max-send-queue");
  g_assert_true (g_str_has_suffix (rate, "(default 1000)"));
  g_assert_true (g_str_has_suffix (burst, "(default 2000)"));
  g_assert_true (g_str_has_suffix (queue, "(default 1048576)"));
}

/* The server properties the library marks as settings, in no order. */
static GPtrArray *
list_settings (void)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (SIGNALING_TYPE_SERVER);
  guint n_pspecs = 0;
  g_autofree GParamSpec **pspecs = g_object_class_list_properties (G_OBJECT_CLASS (klass), &n_pspecs);
  GPtrArray *settings = g_ptr_array_new ();

  for (guint i = 0; i < n_pspecs; i++)
    if (signaling_setting_get (pspecs[i]) != NULL)
      g_ptr_array_add (settings, pspecs[i]);

  return settings;
}

/* Every property the library marks as a setting is an option described
 * by its blurb, and a key of the printed configuration (issue 13, item
 * 5): nothing in src/daemon lists them, so a new limit cannot be
 * forgotten there. */
static void
test_options_from_specs (void)
{
  g_autoptr(GPtrArray) settings = list_settings ();
  g_autofree char *help = NULL;
  g_autofree char *config = NULL;
  g_autofree char *err = NULL;
  g_autofree char *err2 = NULL;

  run_to_completion ("--help", NULL, 0, &help, &err);
  run_to_completion ("--print-config", NULL, 0, &config, &err2);
  g_assert_cmpstr (err2, ==, "");

  /* The limits, the Socket.IO timings, the lists and the script folder. */
  g_assert_cmpuint (settings->len, >=, 16);
  for (guint i = 0; i < settings->len; i++)
    {
      GParamSpec *pspec = settings->pdata[i];
      const char *key = signaling_setting_get_key (pspec);
      g_autofree char *option = g_strconcat ("--", key, NULL);
      g_autofree char *line = help_line (help, option);
      g_autofree char *comment = g_strdup_printf ("\n# %s\n", g_param_spec_get_blurb (pspec));
      g_autofree char *assignment = g_strdup_printf ("\n#%s=", key);

      g_test_message ("%s", line);
      g_assert_nonnull (g_param_spec_get_blurb (pspec));
      g_assert_nonnull (strstr (line, g_param_spec_get_blurb (pspec)));
      g_assert_nonnull (strstr (config, comment));
      g_assert_nonnull (strstr (config, assignment));
    }
  g_assert_nonnull (strstr (config, "\n#max-clients=10000\n"));
  g_assert_nonnull (strstr (config, "\n#rate-limit=1000\n"));
  g_assert_nonnull (strstr (config, "\n#port=3000\n"));
}

/* The shipped data/signalbox.conf is what --print-config prints, so
 * that the two cannot drift apart: regenerate it with
 * `signalbox --print-config > data/signalbox.conf`. */
static void
test_print_config_shipped (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "signalbox.conf", NULL);
  g_autofree char *shipped = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_auto(GStrv) keys = NULL;
  g_autoptr(GError) error = NULL;

  run_to_completion ("--print-config", NULL, 0, &out, &err);
  g_file_get_contents (path, &shipped, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, shipped);

  /* A valid key file with the one group, every key commented out. */
  g_key_file_load_from_data (key_file, out, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (g_key_file_has_group (key_file, "signalbox"));
  keys = g_key_file_get_keys (key_file, "signalbox", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (keys), ==, 0);
}

/* Each line of @config with a value, uncommented, but for the
 * listening ones, which @overrides replaces. */
static char *
uncomment_config (const char *config,
                  const char *overrides)
{
  g_auto(GStrv) lines = g_strsplit (config, "\n", -1);
  g_autoptr(GString) result = g_string_new (NULL);

  for (char **line = lines; *line != NULL; line++)
    {
      if (g_str_has_prefix (*line, "[signalbox]"))
        g_string_append_printf (result, "%s\n%s", *line, overrides);
      else if (g_str_has_prefix (*line, "#port=") || g_str_has_prefix (*line, "#address=") ||
               g_str_has_prefix (*line, "#max-clients=") || g_str_has_suffix (*line, "="))
        continue;
      else if (g_str_has_prefix (*line, "#") && !g_str_has_prefix (*line, "# "))
        g_string_append_printf (result, "%s\n", *line + 1);
      else
        g_string_append_printf (result, "%s\n", *line);
    }

  return g_string_free (g_steal_pointer (&result), FALSE);
}

/* Every key --print-config prints reads back, of every type, and the
 * command line wins over the file. */
static void
test_print_config_reads_back (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("signalbox-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "signalbox.conf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *config = NULL;
  g_autofree char *url = NULL;
  g_autoptr(TestClient) first = NULL;
  g_autoptr(TestClient) second = NULL;
  g_autoptr(TestClient) third = NULL;
  Daemon daemon = { 0 };

  g_assert_no_error (error);
  run_to_completion ("--print-config", NULL, 0, &out, &err);
  config = uncomment_config (out, "address=127.0.0.1\nport=0\nmax-clients=1\n");
  g_test_message ("%s", config);
  g_assert_nonnull (strstr (config, "\nrate-limit=1000\n"));
  g_assert_nonnull (strstr (config, "\nverbose=false\n"));
  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);

  daemon.process = spawn (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                          "--config", path, "--max-clients", "2", "--no-dbus", NULL);
  g_assert_no_error (error);
  daemon.log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (daemon.process));
  daemon.port = read_port (daemon.log);

  /* --max-clients 2 beats max-clients=1: the second gets in, the third not. */
  first = connect_to (&daemon);
  second = connect_to (&daemon);
  url = g_strdup_printf ("ws://127.0.0.1:%u/ws", daemon.port);
  third = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  test_client_expect_error (third, "server-full");
  test_client_wait_closed (third);

  g_subprocess_send_signal (daemon.process, SIGTERM);
  test_client_wait_closed (first);
  test_client_wait_closed (second);
  daemon_wait (&daemon);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon.process), ==, 0);
  daemon_clear (&daemon);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_bad_arguments (void)
{
  static const char *cases[][2] = {
    { "--port", "http" },
    { "--port", "70000" },
    { "--max-clients", "-1" },
    { "--rate-limit", "fast" },
    /* Ranges come from the property specs. */
    { "--rate-limit=-1", NULL },
    { "--max-clients=4294967296", NULL },
    { "--ping-interval=0", NULL },
    { "--rate-burst=0", NULL },
    { "--no-such-option", NULL },
    { "--config", "/nonexistent/signalbox.conf" },
    { "stray-argument", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      run_to_completion (cases[i][0], cases[i][1], 1, &out, &err);
      g_assert_true (g_str_has_prefix (err, "signalbox: "));
    }
}

static void
test_serve_and_terminate (void)
{
  Daemon daemon = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) joined_bob = NULL;
  g_autoptr(JsonObject) offer = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonObject) candidate = NULL;

  daemon_start (&daemon, NULL);
  alice = connect_to (&daemon);
  bob = connect_to (&daemon);

  test_client_send (alice, "{\"type\":\"join\",\"room\":\"call\"}");
  joined = test_client_expect (alice, "joined");
  test_client_send (bob, "{\"type\":\"join\",\"room\":\"call\"}");
  joined_bob = test_client_expect (bob, "joined");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (joined_bob, "members"), 0),
                   ==, alice->id);
  g_autoptr(JsonObject) peer = test_client_expect (alice, "peer-joined");

  test_client_send (alice, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"v=0 offer\"}", bob->id);
  offer = test_client_expect (bob, "offer");
  g_assert_cmpstr (json_object_get_string_member (offer, "from"), ==, alice->id);
  test_client_send (bob, "{\"type\":\"answer\",\"to\":\"%s\",\"sdp\":\"v=0 answer\"}", alice->id);
  answer = test_client_expect (alice, "answer");
  g_assert_cmpstr (json_object_get_string_member (answer, "sdp"), ==, "v=0 answer");
  test_client_send (alice, "{\"type\":\"candidate\",\"to\":\"call\",\"candidate\":{\"candidate\":\"candidate:1\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}");
  candidate = test_client_expect (bob, "candidate");

  g_subprocess_send_signal (daemon.process, SIGTERM);
  test_client_wait_closed (alice);
  test_client_wait_closed (bob);
  g_assert_cmpuint (alice->close_code, ==, 1001);
  g_assert_cmpuint (bob->close_code, ==, 1001);

  daemon_wait (&daemon);
  g_assert_true (g_subprocess_get_if_exited (daemon.process));
  g_assert_cmpint (g_subprocess_get_exit_status (daemon.process), ==, 0);
  daemon_clear (&daemon);
}

static void
test_config_file (void)
{
  Daemon daemon = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("signalbox-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "signalbox.conf", NULL);
  g_autoptr(TestClient) first = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(SignalingServer) unused = NULL;
  g_autofree char *url = NULL;
  g_autoptr(TestClient) second = NULL;

  g_assert_no_error (error);
  g_file_set_contents (path,
                       "# every option is also a key\n"
                       "[signalbox]\n"
                       "address=127.0.0.1\n"
                       "port=0\n"
                       "max-clients=1\n"
                       "ice-server=stun:stun.example.org:3478;turn:turn.example.org\n",
                       -1, &error);
  g_assert_no_error (error);

  daemon_start (&daemon, path);
  url = g_strdup_printf ("ws://127.0.0.1:%u/ws", daemon.port);
  first = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  welcome = test_client_expect (first, "welcome");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (welcome, "iceServers")), ==, 2);

  /* max-clients=1 from the file: the second peer is turned away. */
  second = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  test_client_expect_error (second, "server-full");
  test_client_wait_closed (second);

  g_subprocess_send_signal (daemon.process, SIGINT);
  test_client_wait_closed (first);
  daemon_wait (&daemon);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon.process), ==, 0);
  daemon_clear (&daemon);

  g_unlink (path);
  g_rmdir (dir);
}

/* Reads the daemon's log until a line holds @needle. */
static void
wait_for_log (Daemon     *daemon,
              const char *needle)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (daemon->log, NULL, NULL, NULL);

      if (line == NULL)
        g_error ("signalbox exited before logging “%s”", needle);
      g_test_message ("signalbox: %s", line);
      if (strstr (line, needle) != NULL)
        return;
    }
}

static void
join (TestClient *client,
      const char *room)
{
  g_autoptr(JsonObject) joined = NULL;

  test_client_send (client, "{\"type\":\"join\",\"room\":\"%s\"}", room);
  joined = test_client_expect (client, "joined");
  g_assert_cmpstr (json_object_get_string_member (joined, "room"), ==, room);
}

static void
join_refused (TestClient *client,
              const char *room)
{
  test_client_send (client, "{\"type\":\"join\",\"room\":\"%s\"}", room);
  test_client_expect_error (client, "forbidden");
}

/* SIGHUP reads the file again: a new limit applies to a peer that
 * stays connected and to a new one; a change of port is only noted;
 * a bad file changes nothing and the daemon runs on. */
static void
test_reload (void)
{
  Daemon daemon = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("signalbox-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "signalbox.conf", NULL);
  g_autoptr(TestClient) live = NULL;
  g_autoptr(TestClient) late = NULL;

  g_assert_no_error (error);
  g_file_set_contents (path, "[signalbox]\naddress=127.0.0.1\nport=0\nmax-rooms-per-client=2\n", -1, &error);
  g_assert_no_error (error);
  daemon_start (&daemon, path);

  live = connect_to (&daemon);
  join (live, "a");
  join (live, "b");
  join_refused (live, "c");

  g_file_set_contents (path, "[signalbox]\naddress=127.0.0.1\nport=1\nmax-rooms-per-client=3\n", -1, &error);
  g_assert_no_error (error);
  g_subprocess_send_signal (daemon.process, SIGHUP);
  wait_for_log (&daemon, "port changed in the configuration file: restart signalbox");
  wait_for_log (&daemon, "Reloaded");

  join (live, "c");
  join_refused (live, "d");
  late = connect_to (&daemon);  /* still on the port it had */
  join (late, "x");
  join (late, "y");
  join (late, "z");
  join_refused (late, "d");

  /* One bad value spoils the whole file, the good one beside it too. */
  g_file_set_contents (path, "[signalbox]\naddress=127.0.0.1\nport=0\nmax-rooms-per-client=5\nmax-clients=banana\n",
                       -1, &error);
  g_assert_no_error (error);
  g_subprocess_send_signal (daemon.process, SIGHUP);
  wait_for_log (&daemon, "Reload failed");
  join_refused (live, "d");
  join_refused (late, "d");

  /* A file that is gone is no better. */
  g_unlink (path);
  g_subprocess_send_signal (daemon.process, SIGHUP);
  wait_for_log (&daemon, "Reload failed");
  join_refused (live, "d");
  g_assert_false (live->closed);
  g_assert_false (late->closed);

  /* A key taken out of the file goes back to its default (32 rooms). */
  g_file_set_contents (path, "[signalbox]\naddress=127.0.0.1\nport=0\n", -1, &error);
  g_assert_no_error (error);
  g_subprocess_send_signal (daemon.process, SIGHUP);
  wait_for_log (&daemon, "Reloaded");
  join (live, "d");
  g_unlink (path);

  g_subprocess_send_signal (daemon.process, SIGTERM);
  test_client_wait_closed (live);
  test_client_wait_closed (late);
  daemon_wait (&daemon);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon.process), ==, 0);
  daemon_clear (&daemon);
  g_rmdir (dir);
}

static void
test_default_port (void)
{
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (any, 3000);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GError) error = NULL;
  gboolean found = FALSE;

  /* A plain `signalbox` serves on port 3000, as the seed servers did.
   * Skip rather than fail when something else already has the port. */
  if (!g_socket_bind (probe, address, TRUE, NULL))
    {
      g_test_skip ("port 3000 is in use on this machine");
      return;
    }
  g_socket_close (probe, NULL);

  process = spawn (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, NULL);
  g_assert_no_error (error);
  log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));
  while (!found)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);

      g_assert_nonnull (line);
      found = strstr (line, "Listening on") != NULL && strstr (line, ":3000/") != NULL;
    }

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

static guint
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Socket activation: systemd-socket-activate listens, starts signalbox
 * on the first connection and passes the socket (sd_listen_fds), which
 * serves that very connection. */
static void
test_socket_activation (void)
{
  g_autofree char *activate = g_find_program_in_path ("systemd-socket-activate");
  g_autofree char *listen = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(TestClient) client = NULL;
  Daemon daemon = { 0 };
  guint port;

  if (activate == NULL)
    {
      g_test_skip ("systemd-socket-activate is not installed");
      return;
    }

  port = free_port ();
  listen = g_strdup_printf ("127.0.0.1:%u", port);
  daemon.process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                     activate, "--listen", listen, signalbox_path (), "--no-dbus", NULL);
  g_assert_no_error (error);
  daemon.log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (daemon.process));

  /* It listens before it says so; the first connection starts us. */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (daemon.log, NULL, NULL, NULL);

      g_assert_nonnull (line);
      if (strstr (line, "Listening on") != NULL)
        break;
    }

  url = g_strdup_printf ("ws://127.0.0.1:%u/ws", port);
  client = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  g_assert_nonnull (json_object_get_string_member (welcome, "id"));

  /* systemd-socket-activate executes signalbox in its own process. */
  g_subprocess_send_signal (daemon.process, SIGTERM);
  test_client_wait_closed (client);
  g_assert_cmpuint (client->close_code, ==, 1001);
  daemon_wait (&daemon);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon.process), ==, 0);
  daemon_clear (&daemon);
}

static void
limit_descriptors (gpointer user_data)
{
  struct rlimit limit = { 32, 32 };

  setrlimit (RLIMIT_NOFILE, &limit);
}

static GSocket *
open_tcp (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GError) error = NULL;

  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

/* Out of descriptors, the daemon stops accepting for a moment instead
 * of spinning on a listening socket it cannot take from, and serves
 * again once peers leave. */
static void
test_out_of_descriptors (void)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) client = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autofree char *url = NULL;
  Daemon daemon = { 0 };
  guint complaints = 0;

  /* libsoup's own listener has no pause: it spins, or gives up. */
  if (test_skip_without_soup_workarounds ("libsoup's listener does not pause when out of descriptors"))
    return;
  /* valgrind keeps a setrlimit() to itself: the daemon it execs would
   * get the real limit and never run out. */
  if (g_getenv ("SIGNALBOX_TEST_VALGRIND") != NULL)
    {
      g_test_skip ("valgrind does not pass RLIMIT_NOFILE on to the daemon");
      return;
    }

  g_subprocess_launcher_set_child_setup (launcher, limit_descriptors, NULL, NULL);
  daemon.process = g_subprocess_launcher_spawn (launcher, &error, signalbox_path (), "--no-dbus",
                                                "--address", "127.0.0.1", "--port", "0", NULL);
  g_assert_no_error (error);
  daemon.log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (daemon.process));
  daemon.port = read_port (daemon.log);

  for (guint i = 0; i < 40; i++)
    g_ptr_array_add (sockets, open_tcp (daemon.port));

  /* It says so, once per attempt. */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (daemon.log, NULL, NULL, NULL);

      g_assert_nonnull (line);
      if (strstr (line, "Could not accept a connection") != NULL)
        break;
    }

  g_ptr_array_set_size (sockets, 0);
  url = g_strdup_printf ("ws://127.0.0.1:%u/ws", daemon.port);
  client = test_client_connect_raw (url, NULL, &error);
  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");

  g_subprocess_send_signal (daemon.process, SIGTERM);
  daemon_wait (&daemon);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon.process), ==, 0);

  /* The rest of the log: a retry every 100 ms, not thousands. */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (daemon.log, NULL, NULL, NULL);

      if (line == NULL)
        break;
      if (strstr (line, "Could not accept a connection") != NULL)
        complaints++;
    }
  g_assert_cmpuint (complaints, <, 100);
  daemon_clear (&daemon);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* These daemons must not meet a signalbox on the developer's session
   * bus; a bus that does not exist makes them run without D-Bus, as on
   * a server with no session. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/signalbox-test-bus", TRUE);

  g_test_add_func ("/daemon/version", test_version);
  g_test_add_func ("/daemon/help", test_help);
  g_test_add_func ("/daemon/help-defaults", test_help_defaults);
  g_test_add_func ("/daemon/bad-arguments", test_bad_arguments);
  g_test_add_func ("/daemon/options-from-specs", test_options_from_specs);
  g_test_add_func ("/daemon/print-config-shipped", test_print_config_shipped);
  g_test_add_func ("/daemon/print-config-reads-back", test_print_config_reads_back);
  g_test_add_func ("/daemon/serve-and-terminate", test_serve_and_terminate);
  g_test_add_func ("/daemon/config-file", test_config_file);
  g_test_add_func ("/daemon/reload", test_reload);
  g_test_add_func ("/daemon/default-port", test_default_port);
  g_test_add_func ("/daemon/socket-activation", test_socket_activation);
  g_test_add_func ("/daemon/out-of-descriptors", test_out_of_descriptors);

  return g_test_run ();
}
