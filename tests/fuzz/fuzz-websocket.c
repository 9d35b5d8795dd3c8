/* fuzz-websocket.c: WebSocket frames as a client sends them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The first byte of the input picks the size of each read (1 to 256
 * bytes, so that frames arrive split anywhere), the second the
 * settings (strict UTF-8 or not, a message limit or none); the rest
 * goes to a server-side SignalingWebsocket on one end of a socket
 * pair. Every message is sent back, so that the send path runs too;
 * one that starts with "close" closes the connection.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "signaling-websocket-private.h"

static void
on_message (SignalingWebsocket *websocket,
            gboolean            is_text,
            const char         *data,
            gsize               length,
            gpointer            user_data)
{
  g_assert (data[length] == '\0');
  if (length >= 5 && memcmp (data, "close", 5) == 0)
    signaling_websocket_close (websocket, 1000, data);
  else
    signaling_websocket_send (websocket, is_text, data, length);
}

static const SignalingWebsocketHandlers handlers = { .message = on_message };

static GIOStream *
socket_pair_end (int *out_peer)
{
  g_autoptr(GSocket) socket = NULL;
  int fds[2];

  g_assert (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert (socket != NULL);
  *out_peer = fds[1];
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(SignalingWebsocket) websocket = NULL;
  char drain[4096];
  int peer;

  if (size < 2)
    return 0;

  stream = socket_pair_end (&peer);
  websocket = signaling_websocket_new (stream, NULL);
  signaling_websocket_set_handlers (websocket, &handlers, NULL);
  signaling_websocket_set_strict_utf8 (websocket, (data[1] & 1) != 0);
  signaling_websocket_set_max_message_size (websocket, (data[1] & 2) != 0 ? 1024 : 0, NULL);
  signaling_websocket_set_max_send_queue (websocket, 64 * 1024);

  signaling_websocket_feed_for_testing (websocket, data + 2, size - 2, 1 + data[0]);

  /* What was queued is written (and the socket drained), closing or
   * not; then the connection goes. */
  for (int i = 0; i < 8; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      while (recv (peer, drain, sizeof drain, MSG_DONTWAIT) > 0)
        ;
    }
  g_clear_object (&websocket);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  close (peer);
  return 0;
}
