/* signalbox.c: the signalbox daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include <signaling.h>

#include "signalbox-options.h"
#include "signalbox-service.h"

#define BUS_NAME "org.signalbox.Signalbox1"

/* How long to wait for peers to finish their close handshakes after
 * SIGTERM before exiting anyway. */
#define SHUTDOWN_GRACE_SECONDS 3

typedef struct {
  GMainLoop *loop;
  SignalingServer *server;
  gboolean stopping;
  guint grace_source;
  int exit_status;

  GDBusConnection *bus;
  guint owner_id;
  gboolean name_pending;
  gboolean name_owned;
} Signalbox;

/* Socket.IO clients leave the router at once when the server closes
 * them, but their goodbye (`41`, then the close packet) may still be
 * queued on a WebSocket or waiting for the next long-poll: the
 * Engine.IO sessions are gone only once it has been delivered. */
static SignalingEngineioServer *
get_engineio (Signalbox *self)
{
  return signaling_socketio_server_get_engine (signaling_server_get_socketio_server (self->server));
}

static guint
count_engineio_sessions (Signalbox *self)
{
  return signaling_engineio_server_get_n_sockets (get_engineio (self));
}

static void
quit_when_empty (Signalbox *self)
{
  if (self->stopping && signaling_server_get_client_count (self->server) == 0 &&
      count_engineio_sessions (self) == 0)
    g_main_loop_quit (self->loop);
}

static void
on_engineio_sessions_changed (SignalingEngineioServer *engineio,
                              GParamSpec              *pspec,
                              Signalbox               *self)
{
  quit_when_empty (self);
}

static void
on_counts_changed (SignalingServer *server,
                   GParamSpec      *pspec,
                   Signalbox       *self)
{
  signalbox_service_notify_status (server);
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

/* What signaling_server_reload() asks first, however it was asked for
 * (SIGHUP, the D-Bus method Reload): the configuration file again. */
static gboolean
reload_options (SignalingServer  *server,
                gpointer          user_data,
                GError          **error)
{
  return signalbox_options_reload (user_data, server, error);
}

/* SIGHUP: what the server can take while it runs (the settings of the
 * configuration file, the TLS certificate and key), read from the same
 * files again. A bad file leaves the service as it was, and says why:
 * an edit or a rotation must never take it down. */
static gboolean
on_reload (gpointer user_data)
{
  Signalbox *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!signaling_server_reload (self->server, &error))
    g_warning ("Reload failed, keeping what was loaded before: %s", error->message);
  else
    g_message ("Reloaded");

  return G_SOURCE_CONTINUE;
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
  signalbox_service_notify_stopping ();
  self->stopping = TRUE;
  signaling_server_shutdown (self->server);
  self->grace_source = g_timeout_add_seconds (SHUTDOWN_GRACE_SECONDS, on_grace_period_over, self);
  g_signal_connect (get_engineio (self), "notify::n-sockets",
                    G_CALLBACK (on_engineio_sessions_changed), self);
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
  gboolean activated;
  GSList *uris;

  /* Under socket activation systemd's sockets replace --address/--port. */
  if (!signalbox_service_listen_activated (self->server, &activated, error))
    return FALSE;

  if (activated)
    addresses = NULL;
  else if (addresses == NULL || addresses[0] == NULL)
    {
      if (!signaling_server_listen (self->server, NULL, port, error))
        return FALSE;
    }

  for (gsize i = 0; !activated && addresses != NULL && addresses[i] != NULL; i++)
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

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Signalbox *self = user_data;

  g_message ("Owning %s on D-Bus", name);
  self->name_pending = FALSE;
  self->name_owned = TRUE;
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  Signalbox *self = user_data;

  if (self->name_owned)
    {
      /* Replaced (--replace) or the bus went away: leave cleanly. */
      g_warning ("Lost the D-Bus name %s; exiting", name);
      self->exit_status = SIGNALBOX_EXIT_NAME_TAKEN;
      g_main_loop_quit (self->loop);
    }

  self->name_pending = FALSE;
  self->name_owned = FALSE;
}

/* Publishes the control interface and owns org.signalbox.Signalbox1.
 * Without a session bus (a server shell, a container) the service runs
 * on without it, unless the user asked for a bus explicitly. */
static gboolean
start_dbus (Signalbox         *self,
            SignalboxOptions  *options,
            GError           **error)
{
  gboolean explicit;
  SignalboxBus bus = signalbox_options_get_bus (options, &explicit);
  GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;
  g_autoptr(GError) local_error = NULL;

  if (bus == SIGNALBOX_BUS_NONE)
    return TRUE;

  self->bus = g_bus_get_sync (bus == SIGNALBOX_BUS_SYSTEM ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION,
                              NULL, &local_error);
  if (self->bus == NULL)
    {
      if (explicit)
        {
          self->exit_status = SIGNALBOX_EXIT_BUS_UNAVAILABLE;
          g_set_error (error, local_error->domain, local_error->code,
                       _("Cannot connect to the %s bus: %s"),
                       bus == SIGNALBOX_BUS_SYSTEM ? "system" : "session", local_error->message);
          return FALSE;
        }

      g_message ("No session bus (%s): the D-Bus control interface is off", local_error->message);
      return TRUE;
    }

  /* The system bus lets anyone call Disconnect: root or polkit decides. */
  if (!signaling_server_export_dbus_full (self->server, self->bus, NULL,
                                          bus == SIGNALBOX_BUS_SYSTEM ? SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE
                                                                      : SIGNALING_DBUS_EXPORT_FLAGS_NONE,
                                          error))
    {
      self->exit_status = SIGNALBOX_EXIT_BUS_UNAVAILABLE;
      return FALSE;
    }

  if (signalbox_options_get_replace (options))
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  flags |= G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE;

  self->name_pending = TRUE;
  self->owner_id = g_bus_own_name_on_connection (self->bus, BUS_NAME, flags,
                                                 on_name_acquired, on_name_lost, self, NULL);
  while (self->name_pending)
    g_main_context_iteration (NULL, TRUE);

  if (!self->name_owned)
    {
      self->exit_status = SIGNALBOX_EXIT_NAME_TAKEN;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("The D-Bus name %s is already owned: is signalbox running? (use --replace to take over)"),
                   BUS_NAME);
      return FALSE;
    }

  return TRUE;
}

/* Every peer is a descriptor, and the soft limit is often 1024 for
 * compatibility with select(), which GLib does not use. Take what the
 * hard limit allows, as systemd advises services to do. */
static void
raise_descriptor_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
    return;

  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) == 0)
    g_debug ("Raised the descriptor limit to %lu", (unsigned long) limit.rlim_cur);
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

  if (signalbox_options_get_print_config (options))
    {
      g_autofree char *config = signalbox_options_print_config (options);

      /* As is: a configuration file is UTF-8 in any locale. */
      fputs (config, stdout);
      return fflush (stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }

  if (signalbox_options_get_verbose (options))
    g_log_set_debug_enabled (TRUE);

  raise_descriptor_limit ();

  loop = g_main_loop_new (NULL, FALSE);
  server = signaling_server_new ();
  signalbox_options_apply (options, server);
  signaling_server_set_reload_func (server, reload_options, options, NULL);

  self.loop = loop;
  self.server = server;

  /* Before listening: a SIGTERM right after the first connection must
   * already get the graceful path. */
  g_unix_signal_add (SIGINT, on_terminate, &self);
  g_unix_signal_add (SIGTERM, on_terminate, &self);
  g_unix_signal_add (SIGHUP, on_reload, &self);

  if (!start_listening (&self, options, &error))
    {
      g_printerr ("signalbox: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (!start_dbus (&self, options, &error))
    {
      g_printerr ("signalbox: %s\n", error->message);
      return self.exit_status;
    }

  g_signal_connect (server, "notify::client-count", G_CALLBACK (on_counts_changed), &self);
  g_signal_connect (server, "notify::room-count", G_CALLBACK (on_counts_changed), &self);
  signalbox_service_notify_ready (server);

  g_main_loop_run (loop);

  g_clear_handle_id (&self.grace_source, g_source_remove);
  g_signal_handlers_disconnect_by_data (get_engineio (&self), &self);
  g_clear_handle_id (&self.owner_id, g_bus_unown_name);
  g_signal_handlers_disconnect_by_data (server, &self);
  signaling_server_unexport_dbus (server);
  if (self.bus != NULL)
    g_dbus_connection_flush_sync (self.bus, NULL, NULL);
  g_clear_object (&self.bus);
  g_message ("Stopped");

  return self.exit_status;
}
