/* room-logger.c: signalbox embedded in a C application
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A signaling server on port 3000 (or the first argument) that logs
 * who connects and which rooms come and go, and refuses to relay
 * offers that carry no SDP body worth the name.
 *
 *   cc room-logger.c $(pkg-config --cflags --libs signaling-1) -o room-logger
 */
#include <glib-unix.h>
#include <signaling.h>

static void
on_room_added (SignalingServer *server,
               SignalingRoom   *room,
               gpointer         user_data)
{
  g_print ("room %s opened\n", signaling_room_get_name (room));
}

static void
on_room_removed (SignalingServer *server,
                 SignalingRoom   *room,
                 gpointer         user_data)
{
  g_print ("room %s closed\n", signaling_room_get_name (room));
}

/* Returning TRUE consumes the offer: it is not relayed. */
static gboolean
on_offer (SignalingClient  *client,
          SignalingMessage *message,
          gpointer          user_data)
{
  const char *sdp = signaling_message_get_sdp (message);

  if (sdp != NULL && g_str_has_prefix (sdp, "v=0"))
    return FALSE;

  g_print ("dropped an offer from %s without a session description\n",
           signaling_client_get_id (client));
  return TRUE;
}

static void
on_client_connected (SignalingServer *server,
                     SignalingClient *client,
                     gpointer         user_data)
{
  g_print ("%s connected from %s (%s)\n", signaling_client_get_id (client),
           signaling_client_get_remote_address (client), signaling_client_get_protocol (client));
  g_signal_connect (client, "offer", G_CALLBACK (on_offer), NULL);
}

static void
on_client_disconnected (SignalingServer *server,
                        SignalingClient *client,
                        const char      *reason,
                        gpointer         user_data)
{
  g_print ("%s left: %s\n", signaling_client_get_id (client), reason);
}

static gboolean
on_terminate (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(SignalingServer) server = signaling_server_new ();
  g_autoptr(GError) error = NULL;
  guint port = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 3000;

  g_signal_connect (server, "client-connected", G_CALLBACK (on_client_connected), NULL);
  g_signal_connect (server, "client-disconnected", G_CALLBACK (on_client_disconnected), NULL);
  g_signal_connect (server, "room-added", G_CALLBACK (on_room_added), NULL);
  g_signal_connect (server, "room-removed", G_CALLBACK (on_room_removed), NULL);

  if (!signaling_server_listen (server, NULL, port, &error))
    {
      g_printerr ("room-logger: %s\n", error->message);
      return 1;
    }
  g_print ("listening on port %u\n", signaling_server_get_port (server));

  g_unix_signal_add (SIGINT, on_terminate, loop);
  g_unix_signal_add (SIGTERM, on_terminate, loop);
  g_main_loop_run (loop);

  signaling_server_shutdown (server);
  return 0;
}
