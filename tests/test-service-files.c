/* test-service-files.c: the systemd units and the system bus policy,
 * checked by the real tools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <unistd.h>

#include <glib/gstdio.h>

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

/* A bus configured like Debian's system bus (deny by default) plus our
 * policy file. */
static char *
write_bus_config (const char *dir,
                  const char *socket_path)
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
    "</busconfig>\n", socket_path, policy);
  char *path = g_build_filename (dir, "system.conf", NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
  return path;
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

  /* …but only root may disconnect. */
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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service-files/systemd-units", test_systemd_units);
  g_test_add_func ("/service-files/system-bus-policy", test_system_bus_policy);

  return g_test_run ();
}
