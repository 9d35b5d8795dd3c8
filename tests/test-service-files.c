/* test-service-files.c: the systemd units and the system bus policy,
 * checked by the real tools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "config.h"

#include "test-utils.h"

static char *
data_file (const char *dir_variable,
           const char *name)
{
  return g_build_filename (g_getenv (dir_variable), name, NULL);
}

/* Runs argv; returns the exit status, stdout+stderr in *out_text. */
static int
run_argv (const char * const  *argv,
          const char * const  *env,
          char               **out_text)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);

  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out_text, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s", argv[0], *out_text);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

static void
test_systemd_units (void)
{
  g_autofree char *analyze = g_find_program_in_path ("systemd-analyze");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *text = NULL;
  g_autofree char *output = NULL;
  g_autofree char *built = data_file ("SERVICE_FILES_BUILDDIR", "signalbox.service");
  g_autofree char *socket_src = data_file ("SERVICE_FILES_SRCDIR", "signalbox.socket");
  g_autoptr(GRegex) exec = g_regex_new ("ExecStart=\\S+", 0, 0, NULL);
  g_autofree char *exec_line = g_strdup_printf ("ExecStart=%s", g_getenv ("SIGNALBOX_BIN"));
  g_autofree char *rewritten = NULL;
  g_autofree char *socket_text = NULL;
  int status;

  if (analyze == NULL)
    {
      g_test_skip ("systemd-analyze is not installed");
      return;
    }

  /* Verify the unit as installed, but pointing at the binary just built. */
  dir = g_dir_make_tmp ("signalbox-units-XXXXXX", &error);
  g_assert_no_error (error);
  g_file_get_contents (built, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "Type=notify"));
  g_assert_nonnull (strstr (text, "ProtectSystem=strict"));
  g_assert_nonnull (strstr (text, "NoNewPrivileges=yes"));
  g_assert_nonnull (strstr (text, "RestrictAddressFamilies="));
  rewritten = g_regex_replace_literal (exec, text, -1, 0, exec_line, 0, NULL);
  unit = g_build_filename (dir, "signalbox.service", NULL);
  g_file_set_contents (unit, rewritten, -1, &error);
  g_assert_no_error (error);
  g_file_get_contents (socket_src, &socket_text, NULL, &error);
  g_assert_no_error (error);
  socket = g_build_filename (dir, "signalbox.socket", NULL);
  g_file_set_contents (socket, socket_text, -1, &error);
  g_assert_no_error (error);

  status = run_argv ((const char * const[]) { analyze, "verify", "--man=no", unit, socket, NULL }, NULL, &output);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (output, "signalbox.service:"));
  g_assert_null (strstr (output, "signalbox.socket:"));

  g_unlink (unit);
  g_unlink (socket);
  g_rmdir (dir);
}

/* signalbox@.service, a node of a cluster on one host: verified as an
 * instance, with the options that make instances share a port, and
 * accepted by the daemon just built (--help parses them). */
static void
test_systemd_template (void)
{
  g_autofree char *analyze = g_find_program_in_path ("systemd-analyze");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *text = NULL;
  g_autofree char *output = NULL;
  g_autofree char *built = data_file ("SERVICE_FILES_BUILDDIR", "signalbox@.service");
  g_autoptr(GRegex) exec = g_regex_new ("ExecStart=\\S+", 0, 0, NULL);
  g_autofree char *exec_line = g_strdup_printf ("ExecStart=%s", g_getenv ("SIGNALBOX_BIN"));
  g_autofree char *rewritten = NULL;
  int status;

  g_file_get_contents (built, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "--reuse-port"));
  g_assert_nonnull (strstr (text, "--node-id %H-%i"));
  g_assert_nonnull (strstr (text, "--no-dbus"));
  g_assert_nonnull (strstr (text, "ProtectSystem=strict"));

  if (analyze == NULL)
    {
      g_test_skip ("systemd-analyze is not installed");
      return;
    }

  dir = g_dir_make_tmp ("signalbox-units-XXXXXX", &error);
  g_assert_no_error (error);
  rewritten = g_regex_replace_literal (exec, text, -1, 0, exec_line, 0, NULL);
  unit = g_build_filename (dir, "signalbox@2.service", NULL);
  g_file_set_contents (unit, rewritten, -1, &error);
  g_assert_no_error (error);

  status = run_argv ((const char * const[]) { analyze, "verify", "--man=no", unit, NULL }, NULL, &output);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (output, "signalbox@"));

  g_unlink (unit);
  g_rmdir (dir);
}

/* A bus configured like Debian's system bus (deny by default) plus our
 * policy file and any other busconfig lines in @extra. */
static char *
write_bus_config_with (const char *dir,
                       const char *socket_path,
                       const char *extra)
{
  g_autofree char *policy = data_file ("SERVICE_FILES_SRCDIR", "org.signalbox.Signalbox1.conf");
  g_autofree char *config = g_strdup_printf (
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>system</type>\n"
    "  <listen>unix:path=%s</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <deny own=\"*\"/>\n"
    "    <deny send_type=\"method_call\"/>\n"
    "    <allow send_type=\"signal\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
    "    <allow receive_type=\"method_call\"/>\n"
    "    <allow receive_type=\"method_return\"/>\n"
    "    <allow receive_type=\"error\"/>\n"
    "    <allow receive_type=\"signal\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
    "  </policy>\n"
    "  <include>%s</include>\n"
    "%s"
    "</busconfig>\n", socket_path, policy, extra);
  char *path = g_build_filename (dir, "system.conf", NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_bus_config (const char *dir,
                  const char *socket_path)
{
  return write_bus_config_with (dir, socket_path, "");
}

static void
test_system_bus_policy (void)
{
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
  g_autofree char *runuser = g_find_program_in_path ("runuser");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GSubprocess) bus = NULL;
  g_autoptr(GSubprocess) signalbox = NULL;
  g_autoptr(GDataInputStream) bus_out = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *out = NULL;
  const char *env[3];

  if (dbus_daemon == NULL)
    {
      g_test_skip ("dbus-daemon is not installed");
      return;
    }
  if (getuid () != 0 || runuser == NULL)
    {
      g_test_skip ("checking who may do what needs root and runuser");
      return;
    }

  dir = g_dir_make_tmp ("signalbox-bus-XXXXXX", &error);
  g_assert_no_error (error);
  g_chmod (dir, 0755);
  socket_path = g_build_filename (dir, "system_bus_socket", NULL);
  config = write_bus_config (dir, socket_path);

  /* dbus-daemon refuses a policy file it cannot parse. */
  bus = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                          dbus_daemon, "--config-file", config, "--nofork", "--print-address", NULL);
  g_assert_no_error (error);
  bus_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  address = g_data_input_stream_read_line_utf8 (bus_out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);
  g_chmod (socket_path, 0666);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  signalbox = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SIGNALBOX_BIN"),
                                           "--system", "--address", "127.0.0.1", "--port", "0", NULL);
  g_assert_no_error (error);
  log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (signalbox));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);

      g_assert_nonnull (line);  /* root may own the name */
      if (strstr (line, "Owning org.signalbox.Signalbox1") != NULL)
        break;
    }

  env[0] = "DBUS_SYSTEM_BUS_ADDRESS";
  env[1] = address;
  env[2] = NULL;

  /* Anyone may read and list… */
  g_assert_cmpint (run_argv ((const char * const[]) { runuser, "-u", "nobody", "--", "gdbus", "call", "--system",
                                                      "--dest", "org.signalbox.Signalbox1", "--object-path",
                                                      "/org/signalbox/Signalbox1", "--method",
                                                      "org.signalbox.Signalbox1.Server.ListClients", NULL },
                             env, &out), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_argv ((const char * const[]) { runuser, "-u", "nobody", "--", "gdbus", "call", "--system",
                                                      "--dest", "org.signalbox.Signalbox1", "--object-path",
                                                      "/org/signalbox/Signalbox1", "--method",
                                                      "org.freedesktop.DBus.Properties.Get",
                                                      "org.signalbox.Signalbox1.Server", "ClientCount", NULL },
                             env, &out), ==, 0);
  g_clear_pointer (&out, g_free);

  /* …but only root may disconnect: the bus lets the call through and
   * signalbox refuses it, with no polkitd on this bus to ask. */
  g_assert_cmpint (run_argv ((const char * const[]) { runuser, "-u", "nobody", "--", "gdbus", "call", "--system",
                                                      "--dest", "org.signalbox.Signalbox1", "--object-path",
                                                      "/org/signalbox/Signalbox1", "--method",
                                                      "org.signalbox.Signalbox1.Server.DisconnectClient",
                                                      "someone", "no", NULL },
                             env, &out), !=, 0);
  g_assert_nonnull (strstr (out, "AccessDenied"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_argv ((const char * const[]) { "gdbus", "call", "--system",
                                                      "--dest", "org.signalbox.Signalbox1", "--object-path",
                                                      "/org/signalbox/Signalbox1", "--method",
                                                      "org.signalbox.Signalbox1.Server.DisconnectClient",
                                                      "someone", "no", NULL },
                             env, &out), !=, 0);
  g_assert_nonnull (strstr (out, "UnknownClient"));

  g_subprocess_send_signal (signalbox, SIGTERM);
  g_subprocess_wait (signalbox, NULL, NULL);
  g_assert_cmpint (g_subprocess_get_exit_status (signalbox), ==, 0);
  g_subprocess_send_signal (bus, SIGTERM);
  g_subprocess_wait (bus, NULL, NULL);

  g_unlink (config);
  g_unlink (socket_path);
  g_rmdir (dir);
}

#define POLKITD "/usr/lib/polkit-1/polkitd"
#define POLKIT_ACTIONS_DIR "/usr/share/polkit-1/actions"
#define POLKIT_RULES_DIR "/etc/polkit-1/rules.d"

#ifdef HAVE_POLKIT
#define NOBODY_REFUSED "needs authentication"
#else
#define NOBODY_REFUSED "built without polkit"
#endif

/* A private system bus with polkitd and signalbox --system on it. */
typedef struct {
  char *dir;
  char *actions;    /* bound over POLKIT_ACTIONS_DIR for polkitd */
  char *rules;      /* bound over POLKIT_RULES_DIR for polkitd */
  char *address;
  GSubprocess *bus;
  GSubprocess *polkitd;
  GSubprocess *signalbox;
  GDataInputStream *log;
  guint port;
} PolkitFixture;

static void remove_tree (const char *dir);

/* A failed assertion aborts the test: its daemons go with it rather than
 * keep meson waiting on their pipes. */
static void
die_with_test (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static GSubprocessLauncher *
fixture_launcher (PolkitFixture    *fixture,
                  GSubprocessFlags  flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  if (fixture->address != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", fixture->address, TRUE);
  return launcher;
}

static void
make_shared_dir (const char *path)
{
  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
  g_chmod (path, 0755);  /* polkitd reads it as its own user */
}

/* Starts polkitd in a mount namespace of its own where our directories
 * replace the machine's actions and local rules, so the test installs
 * nothing; waits until it owns its name. FALSE if it could not start. */
static gboolean
start_polkitd (PolkitFixture *fixture,
               char         **out_why)
{
  g_autoptr(GSubprocessLauncher) launcher = fixture_launcher (fixture, G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *log_path = g_build_filename (fixture->dir, "polkitd.log", NULL);
  g_autofree char *out = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;
  const char *env[] = { "DBUS_SYSTEM_BUS_ADDRESS", fixture->address, NULL };
  int status;

  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  fixture->polkitd = g_subprocess_launcher_spawn (launcher, &error, "unshare", "--mount", "--propagation", "private",
                                                  "sh", "-c",
                                                  "mount --bind \"$1\" " POLKIT_ACTIONS_DIR " && "
                                                  "mount --bind \"$2\" " POLKIT_RULES_DIR " && "
                                                  "exec " POLKITD " --no-debug",
                                                  "sh", fixture->actions, fixture->rules, NULL);
  g_assert_no_error (error);

  status = run_argv ((const char * const[]) { "gdbus", "wait", "--system", "--timeout", "10",
                                              "org.freedesktop.PolicyKit1", NULL }, env, &out);
  if (status == 0)
    return TRUE;

  g_file_get_contents (log_path, &log, NULL, NULL);
  *out_why = g_strdup_printf ("polkitd did not start here (%s)", log != NULL ? g_strstrip (log) : "no output");
  g_subprocess_force_exit (fixture->polkitd);
  g_subprocess_wait (fixture->polkitd, NULL, NULL);
  g_clear_object (&fixture->polkitd);
  return FALSE;
}

static void
stop (GSubprocess **process)
{
  if (*process == NULL)
    return;
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait (*process, NULL, NULL);
  g_clear_object (process);
}

static void
start_signalbox_on_system_bus (PolkitFixture *fixture)
{
  g_autoptr(GSubprocessLauncher) launcher = fixture_launcher (fixture, G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GError) error = NULL;

  fixture->signalbox = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SIGNALBOX_BIN"),
                                                    "--system", "--address", "127.0.0.1", "--port", "0", NULL);
  g_assert_no_error (error);
  fixture->log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (fixture->signalbox));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (fixture->log, NULL, NULL, NULL);
      const char *listening;

      g_assert_nonnull (line);
      if ((listening = strstr (line, "Listening on http://127.0.0.1:")) != NULL)
        fixture->port = (guint) g_ascii_strtoull (listening + strlen ("Listening on http://127.0.0.1:"), NULL, 10);
      if (strstr (line, "Owning org.signalbox.Signalbox1") != NULL)
        break;
    }
  g_assert_cmpuint (fixture->port, >, 0);
}

/* Sets up the bus, polkitd (with our action) and signalbox; FALSE, with
 * the reason, when this machine cannot run them. */
static gboolean
polkit_fixture_setup (PolkitFixture *fixture,
                      char         **out_why)
{
  g_autofree char *policy = data_file ("SERVICE_FILES_BUILDDIR", "org.signalbox.Signalbox1.policy");
  g_autofree char *installed = NULL;
  g_autofree char *text = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *config = NULL;
  g_autoptr(GDataInputStream) bus_out = NULL;
  g_autoptr(GSubprocessLauncher) launcher = fixture_launcher (fixture, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("signalbox-polkit-XXXXXX", &error);
  g_assert_no_error (error);
  make_shared_dir (fixture->dir);
  fixture->actions = g_build_filename (fixture->dir, "actions", NULL);
  fixture->rules = g_build_filename (fixture->dir, "rules.d", NULL);
  make_shared_dir (fixture->actions);
  make_shared_dir (fixture->rules);

  /* The action as installed (translated from the .policy.in). */
  g_file_get_contents (policy, &text, NULL, &error);
  g_assert_no_error (error);
  installed = g_build_filename (fixture->actions, "org.signalbox.Signalbox1.policy", NULL);
  g_file_set_contents (installed, text, -1, &error);
  g_assert_no_error (error);
  g_chmod (installed, 0644);

  /* polkitd owns its name as the polkitd user, which its own bus policy allows. */
  socket_path = g_build_filename (fixture->dir, "system_bus_socket", NULL);
  config = write_bus_config_with (fixture->dir, socket_path,
                                  "  <include ignore_missing=\"yes\">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>\n");
  fixture->bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--config-file", config,
                                              "--nofork", "--print-address", NULL);
  g_assert_no_error (error);
  bus_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fixture->bus));
  fixture->address = g_data_input_stream_read_line_utf8 (bus_out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->address);
  g_chmod (socket_path, 0666);

  if (!start_polkitd (fixture, out_why))
    return FALSE;
  start_signalbox_on_system_bus (fixture);
  return TRUE;
}

static void
polkit_fixture_teardown (PolkitFixture *fixture)
{
  stop (&fixture->signalbox);
  stop (&fixture->polkitd);
  stop (&fixture->bus);
  g_clear_object (&fixture->log);
  remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->actions);
  g_free (fixture->rules);
  g_free (fixture->address);
}

/* gdbus call --system on the fixture's bus, as root or (runuser) as
 * nobody; returns the exit status, the output in *out. */
static int
gdbus_call (PolkitFixture  *fixture,
            gboolean        as_nobody,
            const char     *object_path,
            const char     *method,
            const char     *arg1,
            const char     *arg2,
            char          **out)
{
  const char *env[] = { "DBUS_SYSTEM_BUS_ADDRESS", fixture->address, NULL };
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_clear_pointer (out, g_free);
  if (as_nobody)
    {
      g_ptr_array_add (argv, (gpointer) "runuser");
      g_ptr_array_add (argv, (gpointer) "-u");
      g_ptr_array_add (argv, (gpointer) "nobody");
      g_ptr_array_add (argv, (gpointer) "--");
    }
  for (const char *const *word = (const char *const[]) { "gdbus", "call", "--system", "--dest",
                                                         "org.signalbox.Signalbox1", "--object-path", NULL };
       *word != NULL; word++)
    g_ptr_array_add (argv, (gpointer) *word);
  g_ptr_array_add (argv, (gpointer) object_path);
  g_ptr_array_add (argv, (gpointer) "--method");
  g_ptr_array_add (argv, (gpointer) method);
  if (arg1 != NULL)
    g_ptr_array_add (argv, (gpointer) arg1);
  if (arg2 != NULL)
    g_ptr_array_add (argv, (gpointer) arg2);
  g_ptr_array_add (argv, NULL);
  return run_argv ((const char * const *) argv->pdata, env, out);
}

static gboolean
have_programs (const char * const *names)
{
  for (; *names != NULL; names++)
    {
      g_autofree char *path = g_find_program_in_path (*names);

      if (path == NULL)
        return FALSE;
    }
  return TRUE;
}

static TestClient *
connect_peer (PolkitFixture *fixture,
              char         **out_object_path)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/ws", fixture->port);
  g_autoptr(GError) error = NULL;
  TestClient *client = test_client_connect_raw (url, NULL, &error);
  g_autoptr(JsonObject) welcome = NULL;
  g_autofree char *escaped = NULL;

  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));
  escaped = g_dbus_escape_object_path (client->id);
  *out_object_path = g_strconcat ("/org/signalbox/Signalbox1/client/", escaped, NULL);
  return client;
}

/* On the system bus anyone may call Disconnect (the bus policy lets the
 * call through) and signalbox asks polkit: nobody is refused by default
 * (auth_admin_keep, and no agent to ask a password), allowed by a rule;
 * root is allowed without polkit. Before, the bus policy refused everyone
 * but root and no .policy file existed (issue 15, polkit). */
static void
test_system_bus_polkit (void)
{
  PolkitFixture fixture = { 0 };
  g_autofree char *why = NULL;
  g_autofree char *out = NULL;
  g_autofree char *peer_path = NULL;
  g_autofree char *rule = NULL;
  g_autoptr(TestClient) peer = NULL;
  g_autoptr(GError) error = NULL;
  const char *env[3] = { NULL };

  if (getuid () != 0 || !g_file_test (POLKITD, G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test (POLKIT_RULES_DIR, G_FILE_TEST_IS_DIR) ||
      !g_file_test (POLKIT_ACTIONS_DIR, G_FILE_TEST_IS_DIR) ||
      !have_programs ((const char * const[]) { "dbus-daemon", "runuser", "unshare", "pkaction", NULL }))
    {
      g_test_skip ("needs root, dbus-daemon, runuser, unshare and polkitd (" POLKITD ", pkaction, "
                   POLKIT_RULES_DIR ", " POLKIT_ACTIONS_DIR ")");
      return;
    }

  if (!polkit_fixture_setup (&fixture, &why))
    {
      g_test_skip (why);
      polkit_fixture_teardown (&fixture);
      return;
    }

  /* polkitd knows the action, admin authentication by default. */
  env[0] = "DBUS_SYSTEM_BUS_ADDRESS";
  env[1] = fixture.address;
  g_assert_cmpint (run_argv ((const char * const[]) { "pkaction", "--verbose", "--action-id",
                                                      "org.signalbox.Signalbox1.disconnect", NULL }, env, &out), ==, 0);
  g_assert_nonnull (strstr (out, "implicit any:      auth_admin_keep"));
  g_assert_nonnull (strstr (out, "implicit active:   auth_admin_keep"));

  peer = connect_peer (&fixture, &peer_path);

  /* Reading stays open to everyone. */
  g_assert_cmpint (gdbus_call (&fixture, TRUE, "/org/signalbox/Signalbox1",
                               "org.signalbox.Signalbox1.Server.ListClients", NULL, NULL, &out), ==, 0);
  g_assert_nonnull (strstr (out, peer->id));

  /* nobody: the bus lets the call through, polkit says no. */
  g_assert_cmpint (gdbus_call (&fixture, TRUE, "/org/signalbox/Signalbox1",
                               "org.signalbox.Signalbox1.Server.DisconnectClient", peer->id, "no", &out), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.AccessDenied"));
  g_assert_nonnull (strstr (out, NOBODY_REFUSED));
  g_assert_cmpint (gdbus_call (&fixture, TRUE, peer_path, "org.signalbox.Signalbox1.Client.Disconnect",
                               "no", NULL, &out), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.AccessDenied"));
  g_assert_false (peer->closed);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_argv ((const char * const[]) { "runuser", "-u", "nobody", "--", g_getenv ("SIGNALBOXCTL_BIN"),
                                                      "--system", "kick", peer->id, NULL }, env, &out), ==, 1);
  g_assert_nonnull (strstr (out, NOBODY_REFUSED));
  g_assert_cmpint (gdbus_call (&fixture, TRUE, "/org/signalbox/Signalbox1",
                               "org.signalbox.Signalbox1.Server.ListClients", NULL, NULL, &out), ==, 0);
  g_assert_nonnull (strstr (out, peer->id));

  /* root: allowed without polkit (no such client, but past the check). */
  g_assert_cmpint (gdbus_call (&fixture, FALSE, "/org/signalbox/Signalbox1",
                               "org.signalbox.Signalbox1.Server.DisconnectClient", "someone", "bye", &out), !=, 0);
  g_assert_nonnull (strstr (out, "UnknownClient"));

  /* A local rule allows nobody; polkitd reads rules when it starts. */
  rule = g_build_filename (fixture.rules, "50-signalbox-test.rules", NULL);
  g_file_set_contents (rule,
                       "polkit.addRule(function(action, subject) {\n"
                       "  if (action.id == \"org.signalbox.Signalbox1.disconnect\" && subject.user == \"nobody\")\n"
                       "    return polkit.Result.YES;\n"
                       "});\n", -1, &error);
  g_assert_no_error (error);
  g_chmod (rule, 0644);
  stop (&fixture.polkitd);
  g_clear_pointer (&why, g_free);
  g_assert_true (start_polkitd (&fixture, &why));

#ifdef HAVE_POLKIT
  g_assert_cmpint (gdbus_call (&fixture, TRUE, "/org/signalbox/Signalbox1",
                               "org.signalbox.Signalbox1.Server.DisconnectClient", "someone", "bye", &out), !=, 0);
  g_assert_nonnull (strstr (out, "UnknownClient"));
  g_assert_cmpint (gdbus_call (&fixture, TRUE, peer_path, "org.signalbox.Signalbox1.Client.Disconnect",
                               "bye", NULL, &out), ==, 0);
#else
  /* Built without polkit, signalbox asks no one: still only root. */
  g_assert_cmpint (gdbus_call (&fixture, TRUE, peer_path, "org.signalbox.Signalbox1.Client.Disconnect",
                               "bye", NULL, &out), !=, 0);
  g_assert_nonnull (strstr (out, NOBODY_REFUSED));
  g_assert_cmpint (gdbus_call (&fixture, FALSE, peer_path, "org.signalbox.Signalbox1.Client.Disconnect",
                               "bye", NULL, &out), ==, 0);
#endif
  test_client_wait_closed (peer);
  g_assert_cmpint (peer->close_code, ==, 4000);
  g_assert_cmpstr (peer->close_reason, ==, "bye");

  polkit_fixture_teardown (&fixture);
}

/* The users data/signalbox-sysusers.conf creates ("u NAME …" lines). */
static GPtrArray *
read_sysusers (void)
{
  g_autofree char *path = data_file ("SERVICE_FILES_SRCDIR", "signalbox-sysusers.conf");
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *users = g_ptr_array_new_with_free_func (g_free);

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (lines[i], " \t", -1);

      if (g_strcmp0 (fields[0], "u") == 0 && fields[1] != NULL)
        g_ptr_array_add (users, g_strdup (fields[1]));
    }
  return users;
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

/* Starts dbus-daemon on our policy as the system bus would, seeing the
 * users of this machine plus those the package creates (through
 * nss_wrapper and a copy of /etc/passwd that systemd-sysusers added
 * them to); returns what it printed before it was ready. */
static char *
load_policy_as_installed (const char *dbus_daemon,
                          const char *sysusers,
                          const char *nss_wrapper)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("signalbox-root-XXXXXX", &error);
  g_autofree char *etc = g_build_filename (root, "etc", NULL);
  g_autofree char *passwd = g_build_filename (etc, "passwd", NULL);
  g_autofree char *group = g_build_filename (etc, "group", NULL);
  g_autofree char *socket_path = g_build_filename (root, "system_bus_socket", NULL);
  g_autofree char *sysusers_file = data_file ("SERVICE_FILES_SRCDIR", "signalbox-sysusers.conf");
  g_autofree char *root_option = g_strconcat ("--root=", root, NULL);
  g_autofree char *config = NULL;
  g_autofree char *text = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) bus = NULL;
  g_autoptr(GDataInputStream) bus_out = NULL;
  g_autoptr(GString) log = g_string_new (NULL);

  g_assert_no_error (error);
  g_mkdir (etc, 0755);
  for (const char *const *file = (const char *const[]) { "passwd", "group", NULL }; *file != NULL; file++)
    {
      g_autofree char *from = g_build_filename ("/etc", *file, NULL);
      g_autofree char *to = g_build_filename (etc, *file, NULL);

      g_clear_pointer (&text, g_free);
      g_file_get_contents (from, &text, NULL, &error);
      g_assert_no_error (error);
      g_file_set_contents (to, text, -1, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpint (run_argv ((const char * const[]) { sysusers, root_option, sysusers_file, NULL }, NULL, &out), ==, 0);

  config = write_bus_config (root, socket_path);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv (launcher, "LD_PRELOAD", nss_wrapper, TRUE);
  g_subprocess_launcher_setenv (launcher, "NSS_WRAPPER_PASSWD", passwd, TRUE);
  g_subprocess_launcher_setenv (launcher, "NSS_WRAPPER_GROUP", group, TRUE);
  bus = g_subprocess_launcher_spawn (launcher, &error, dbus_daemon, "--config-file", config,
                                     "--nofork", "--print-address", NULL);
  g_assert_no_error (error);

  /* The policy is loaded, and complained about, before the address. */
  bus_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (bus_out, NULL, NULL, NULL);

      g_assert_nonnull (line);  /* dbus-daemon refused the configuration */
      if (g_str_has_prefix (line, "unix:"))
        break;
      g_string_append_printf (log, "%s\n", line);
    }
  g_test_message ("dbus-daemon: %s", log->str);

  g_subprocess_send_signal (bus, SIGTERM);
  g_subprocess_wait (bus, NULL, NULL);
  remove_tree (root);
  return g_string_free (g_steal_pointer (&log), FALSE);
}

/* The system bus policy names only users that exist whether or not the
 * service runs: root, and those the package creates with sysusers.d.
 * It named the DynamicUser "signalbox", which exists only while the
 * unit runs, so dbus-daemon logged `Unknown username "signalbox"`
 * whenever it loaded the policy (issue 12, item 19). */
static void
test_system_bus_policy_users (void)
{
  g_autofree char *policy_path = data_file ("SERVICE_FILES_SRCDIR", "org.signalbox.Signalbox1.conf");
  g_autofree char *unit_path = data_file ("SERVICE_FILES_BUILDDIR", "signalbox.service");
  g_autofree char *policy = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
  g_autofree char *sysusers = g_find_program_in_path ("systemd-sysusers");
  g_autofree char *log = NULL;
  const char *nss_wrapper = g_getenv ("NSS_WRAPPER_LIB");
  g_autoptr(GPtrArray) created = read_sysusers ();
  g_autoptr(GRegex) named = g_regex_new ("<policy\\s+(user|group)=\"([^\"]+)\"", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GError) error = NULL;
  guint names = 0;

  g_file_get_contents (policy_path, &policy, NULL, &error);
  g_assert_no_error (error);
  for (g_regex_match (named, policy, 0, &match); g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *name = g_match_info_fetch (match, 2);

      g_test_message ("the policy names %s", name);
      if (g_strcmp0 (name, "root") != 0)
        g_assert_true (g_ptr_array_find_with_equal_func (created, name, g_str_equal, NULL));
      names++;
    }
  g_assert_cmpuint (names, >, 0);

  /* The unit runs as the user the package creates. */
  g_file_get_contents (unit_path, &unit, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (created->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (created, 0), ==, "signalbox");
  g_assert_nonnull (strstr (unit, "\nUser=signalbox\n"));

  if (dbus_daemon == NULL || sysusers == NULL || nss_wrapper == NULL || getuid () != 0)
    {
      g_test_skip ("loading the policy as installed needs root, dbus-daemon, systemd-sysusers and nss_wrapper");
      return;
    }
  log = load_policy_as_installed (dbus_daemon, sysusers, nss_wrapper);
  g_assert_null (strstr (log, "Unknown username"));
  g_assert_null (strstr (log, "Unknown group"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service-files/systemd-units", test_systemd_units);
  g_test_add_func ("/service-files/systemd-template", test_systemd_template);
  g_test_add_func ("/service-files/system-bus-policy", test_system_bus_policy);
  g_test_add_func ("/service-files/system-bus-policy-users", test_system_bus_policy_users);
  g_test_add_func ("/service-files/system-bus-polkit", test_system_bus_polkit);

  return g_test_run ();
}
