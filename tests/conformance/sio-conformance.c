/* sio-conformance.c: a protocol conformance server on the public API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Serves what the official Engine.IO and Socket.IO test suites expect
 * at http://localhost:PORT:
 *
 *   /engine.io/  a raw Engine.IO endpoint echoing every message
 *   /socket.io/  namespaces "/" and "/custom": on connect, emit "auth"
 *                with the CONNECT payload; answer "message" with
 *                "message-back" and the same arguments; call the ack
 *                of "message-with-ack" with all its arguments
 *
 * pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000,
 * connectTimeout 1000 ms. The seed vocabularies are not served here.
 */
#include <stdlib.h>

#include <glib-unix.h>
#include <signaling.h>

#define PING_INTERVAL 300
#define PING_TIMEOUT 200
#define MAX_PAYLOAD 1000000
#define CONNECT_TIMEOUT 1000

static void
on_engine_message (SignalingEngineioSocket *socket,
                   GBytes                  *data,
                   gboolean                 binary,
                   gpointer                 user_data)
{
  if (binary)
    {
      signaling_engineio_socket_send_binary (socket, data);
    }
  else
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (data, NULL), g_bytes_get_size (data));

      signaling_engineio_socket_send_text (socket, text);
    }
}

static void
on_engine_connection (SignalingEngineioServer *server,
                      SignalingEngineioSocket *socket,
                      gpointer                 user_data)
{
  g_signal_connect (socket, "message", G_CALLBACK (on_engine_message), NULL);
}

static gboolean
on_event (SignalingSocketioSocket *socket,
          const char              *name,
          JsonArray               *args,
          GPtrArray               *attachments,
          SignalingSocketioAck    *ack,
          gpointer                 user_data)
{
  if (g_str_equal (name, "message"))
    {
      signaling_socketio_socket_emit (socket, "message-back", args, attachments);
      return TRUE;
    }

  if (g_str_equal (name, "message-with-ack") && ack != NULL)
    {
      signaling_socketio_ack_send (ack, args, attachments);
      return TRUE;
    }

  return FALSE;
}

static void
on_socketio_connection (SignalingSocketioNamespace *namespace,
                        SignalingSocketioSocket    *socket,
                        gpointer                    user_data)
{
  g_autoptr(JsonArray) args = json_array_new ();

  json_array_add_element (args, json_node_copy (signaling_socketio_socket_get_auth (socket)));
  signaling_socketio_socket_emit (socket, "auth", args, NULL);
  g_signal_connect (socket, "event", G_CALLBACK (on_event), NULL);
}

static SignalingEngineioServer *
new_engine (SoupServer *soup_server,
            const char *path)
{
  SignalingEngineioServer *engine = signaling_engineio_server_new ();

  g_object_set (engine,
                "ping-interval", PING_INTERVAL,
                "ping-timeout", PING_TIMEOUT,
                "max-payload", MAX_PAYLOAD,
                NULL);
  signaling_engineio_server_attach (engine, soup_server, path);
  return engine;
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
  g_autoptr(SoupServer) soup_server = soup_server_new (NULL, NULL);
  g_autoptr(SignalingEngineioServer) raw_engine = NULL;
  g_autoptr(SignalingEngineioServer) socketio_engine = NULL;
  g_autoptr(SignalingSocketioServer) socketio = NULL;
  g_autoptr(GError) error = NULL;
  const char *namespaces[] = { "/", "/custom" };
  guint port = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 3000;
  GSList *uris;

  raw_engine = new_engine (soup_server, "/engine.io");
  g_signal_connect (raw_engine, "connection", G_CALLBACK (on_engine_connection), NULL);

  socketio_engine = new_engine (soup_server, "/socket.io");
  /* Compression, where a client offers it: the Socket.IO suite reads
   * each packet in its own turn of the event loop, which a compressing
   * client's asynchronous inflate gives it. */
  g_object_set (socketio_engine, "per-message-deflate", TRUE, NULL);
  socketio = signaling_socketio_server_new (socketio_engine);
  g_object_set (socketio, "connect-timeout", CONNECT_TIMEOUT, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (namespaces); i++)
    g_signal_connect (signaling_socketio_server_add_namespace (socketio, namespaces[i]),
                      "connection", G_CALLBACK (on_socketio_connection), NULL);

  if (!soup_server_listen_all (soup_server, port, 0, &error))
    {
      g_printerr ("sio-conformance: %s\n", error->message);
      return EXIT_FAILURE;
    }

  uris = soup_server_get_uris (soup_server);
  for (GSList *l = uris; l != NULL; l = l->next)
    {
      g_autofree char *uri = g_uri_to_string (l->data);

      g_print ("Listening on %s\n", uri);
    }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_unix_signal_add (SIGINT, on_terminate, loop);
  g_unix_signal_add (SIGTERM, on_terminate, loop);
  g_main_loop_run (loop);

  return EXIT_SUCCESS;
}
