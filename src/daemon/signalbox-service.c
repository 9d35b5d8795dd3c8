/* signalbox-service.c: systemd integration of the daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With libsystemd at build time, the daemon takes its listening sockets
 * from socket activation and reports READY/STATUS/STOPPING; without it,
 * these are no-ops and the daemon listens by itself.
 */
#include "config.h"

#include <glib/gi18n.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "signalbox-service.h"

#ifdef HAVE_LIBSYSTEMD
static char *
status_text (SignalingServer *server)
{
  guint clients = signaling_server_get_client_count (server);
  guint rooms = signaling_server_get_room_count (server);

  return g_strdup_printf ("%u %s, %u %s",
                          clients, g_dngettext (GETTEXT_PACKAGE, "client", "clients", clients),
                          rooms, g_dngettext (GETTEXT_PACKAGE, "room", "rooms", rooms));
}
#endif

void
signalbox_service_notify_ready (SignalingServer *server)
{
#ifdef HAVE_LIBSYSTEMD
  g_autofree char *status = status_text (server);

  sd_notifyf (FALSE, "READY=1\nSTATUS=%s", status);
#endif
}

void
signalbox_service_notify_status (SignalingServer *server)
{
#ifdef HAVE_LIBSYSTEMD
  g_autofree char *status = status_text (server);

  sd_notifyf (FALSE, "STATUS=%s", status);
#endif
}

void
signalbox_service_notify_stopping (void)
{
#ifdef HAVE_LIBSYSTEMD
  sd_notify (FALSE, "STOPPING=1\nSTATUS=Shutting down");
#endif
}

/*
 * signalbox_service_listen_activated:
 * @out_activated: (out): whether systemd passed sockets
 *
 * Serves on the sockets systemd passed (signalbox.socket), if any.
 */
gboolean
signalbox_service_listen_activated (SignalingServer  *server,
                                    gboolean         *out_activated,
                                    GError          **error)
{
  *out_activated = FALSE;

#ifdef HAVE_LIBSYSTEMD
  int n = sd_listen_fds (TRUE);

  if (n < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-n),
                   _("Cannot take sockets from systemd: %s"), g_strerror (-n));
      return FALSE;
    }

  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
    {
      g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, error);

      if (socket == NULL || !signaling_server_listen_socket (server, socket, error))
        return FALSE;
    }

  *out_activated = n > 0;
#endif

  return TRUE;
}
