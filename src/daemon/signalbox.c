/* signalbox.c: the signalbox daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include <signaling.h>

#include "signalbox-options.h"

/* How long to wait for peers to finish their close handshakes after
 * SIGTERM before exiting anyway. */
#define SHUTDOWN_GRACE_SECONDS 3

typedef struct {
  GMainLoop *loop;
  SignalingServer *server;
  gboolean stopping;
  guint grace_source;
} Signalbox;

static void
quit_when_empty (Signalbox *self)
{
  if (self->stopping && signaling_server_get_client_count (self->server) == 0)
    g_main_loop_quit (self->loop);
}

static void
on_client_count_changed (SignalingServer *server,
                         GParamSpec      *pspec,
                         Signalbox       *self)
{
  quit_when_empty (self);
}

static gboolean
on_grace_period_over (gpointer user_data)
{
  Signalbox *self = user_data;

  g_message ("Peers did not close in time; exiting");
  self->grace_source = 0;
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_terminate (gpointer user_data)
{
  Signalbox *self = user_data;

  if (self->stopping)
    {
      /* A second signal: the user does not want to wait. */
      g_main_loop_quit (self->loop);
      return G_SOURCE_CONTINUE;
    }

  g_message ("Shutting down");
  self->stopping = TRUE;
  signaling_server_shutdown (self->server);
  self->grace_source = g_timeout_add_seconds (SHUTDOWN_GRACE_SECONDS, on_grace_period_over, self);
  quit_when_empty (self);

  return G_SOURCE_CONTINUE;
}

static gboolean
start_listening (Signalbox         *self,
                 SignalboxOptions  *options,
                 GError           **error)
{
  const char * const *addresses = signalbox_options_get_addresses (options);
  guint port = signalbox_options_get_port (options);
  GSList *uris;

  if (addresses == NULL || addresses[0] == NULL)
    {
      if (!signaling_server_listen (self->server, NULL, port, error))
        return FALSE;
    }

  for (gsize i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      /* With --port 0, bind every address to the port the first got. */
      guint bound_port = i == 0 ? port : signaling_server_get_port (self->server);

      if (!signaling_server_listen (self->server, addresses[i], bound_port, error))
        return FALSE;
    }

  uris = signaling_server_get_uris (self->server);
  for (GSList *l = uris; l != NULL; l = l->next)
    {
      g_autofree char *uri = g_uri_to_string (l->data);

      g_message ("Listening on %s", uri);
    }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SignalboxOptions) options = signalbox_options_new ();
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(SignalingServer) server = NULL;
  g_autoptr(GError) error = NULL;
  Signalbox self = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("signalbox");

  if (!signalbox_options_parse (options, &argc, &argv, &error))
    {
      g_printerr ("signalbox: %s\n", error->message);
      g_printerr (_("Run “%s --help” to see the options.\n"), "signalbox");
      return EXIT_FAILURE;
    }

  if (signalbox_options_get_version (options))
    {
      g_print ("signalbox %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (signalbox_options_get_verbose (options))
    g_log_set_debug_enabled (TRUE);

  loop = g_main_loop_new (NULL, FALSE);
  server = signaling_server_new ();
  signalbox_options_apply (options, server);

  self.loop = loop;
  self.server = server;

  /* Before listening: a SIGTERM right after the first connection must
   * already get the graceful path. */
  g_unix_signal_add (SIGINT, on_terminate, &self);
  g_unix_signal_add (SIGTERM, on_terminate, &self);

  if (!start_listening (&self, options, &error))
    {
      g_printerr ("signalbox: %s\n", error->message);
      return EXIT_FAILURE;
    }

  g_signal_connect (server, "notify::client-count", G_CALLBACK (on_client_count_changed), &self);

  g_main_loop_run (loop);

  g_clear_handle_id (&self.grace_source, g_source_remove);
  g_signal_handlers_disconnect_by_data (server, &self);
  g_message ("Stopped");

  return EXIT_SUCCESS;
}
