/* fuzz-config.c: the daemon's configuration file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is the file signalbox reads with --config: GKeyFile loads
 * it, signalbox-options.c checks every key against the server
 * property's spec, and what passes is applied to a SignalingServer
 * exactly as the daemon does. A value the checks let through that the
 * property refuses would be a GLib critical, fatal here.
 */
#include <unistd.h>

#include "fuzz.h"
#include "signalbox-options.h"

/* One file for the whole run, rewritten for each input. */
static int config_fd = -1;
static char *config_path;

static void
open_config_file (void)
{
  g_autoptr(GError) error = NULL;

  config_fd = g_file_open_tmp ("fuzz-config-XXXXXX.conf", &config_path, &error);
  g_assert_no_error (error);
}

static void
write_config_file (const uint8_t *data,
                   size_t         size)
{
  if (ftruncate (config_fd, 0) != 0 || pwrite (config_fd, data, size, 0) != (ssize_t) size)
    g_error ("Cannot write %s: %s", config_path, g_strerror (errno));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(SignalboxOptions) options = signalbox_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingServer) server = NULL;
  g_autofree char *arg0 = g_strdup ("signalbox");
  g_autofree char *arg1 = g_strdup ("--config");
  g_autofree char *arg2 = NULL;
  char *args[] = { arg0, arg1, NULL, NULL };
  char **argv = args;
  int argc = 3;

  if (config_fd < 0)
    open_config_file ();
  write_config_file (data, size);
  args[2] = arg2 = g_strdup (config_path);

  if (!signalbox_options_parse (options, &argc, &argv, &error))
    {
      g_assert (error != NULL);
      return 0;
    }

  server = signaling_server_new ();
  signalbox_options_apply (options, server);
  return 0;
}
