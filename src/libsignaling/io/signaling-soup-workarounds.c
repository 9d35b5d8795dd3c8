/* signaling-soup-workarounds.c: the rules both HTTP paths share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See signaling-soup-workarounds-private.h for the list of workarounds
 * and the libsoup bugs behind them.
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "signaling-soup-workarounds-private.h"

/*
 * signaling_soup_set_no_delay:
 *
 * Turns off Nagle's algorithm on a connection (workaround 5): signaling
 * is small messages that must go out at once.
 */
void
signaling_soup_set_no_delay (GSocket *socket)
{
  if (socket != NULL && g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

/*
 * signaling_soup_announce_close:
 * @connection_ends: whether the connection closes after this response
 *   whatever the request said (connections of the acceptor)
 *
 * Says `Connection: close` when the connection is going away after the
 * response (workaround 4), so that clients that keep connections alive
 * do not reuse it. A WebSocket upgrade keeps its connection.
 */
void
signaling_soup_announce_close (SoupServerMessage *msg,
                               gboolean           connection_ends)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);

  if (soup_message_headers_header_contains (request, "Upgrade", "websocket"))
    return;
  if (connection_ends || soup_message_headers_header_contains (request, "Connection", "close"))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");
}
