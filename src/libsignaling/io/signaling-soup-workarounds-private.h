/* signaling-soup-workarounds-private.h: where we work around libsoup 3.2
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every place where signalbox does what libsoup would do itself, and
 * why. Built with -Dsoup_workarounds=false, the library takes libsoup's
 * own path everywhere (SoupServer listens and accepts itself), and only
 * the rules marked "both paths" below apply.
 *
 * 1. The acceptor (signaling-acceptor.c, fed by signaling-listener.c).
 *    SoupServer's own listener leaked each keep-alive connection a
 *    client closed while idle (fixed by libsoup commit d20c6601 in
 *    3.3.0, so from release 3.4.0). It also has no deadline for a
 *    request to arrive and no bound on connections waiting for one
 *    (not fixed as of 3.6): the acceptor adds request-timeout and
 *    max-pending-connections, and refuses an oversized body with a 413
 *    without reading it (libsoup reads the whole body first). With
 *    libsoup >= 3.4 only these remain a reason for it, so no
 *    version check turns it off.
 *
 * 2. The poller (signaling-poller.c). libsoup destroys and re-creates a
 *    WebSocket's input source on every read, and GLib inserts each new
 *    source's poll record into a list ordered by priority: time in
 *    proportion to the number of connections, measured at a fifth of
 *    the CPU at a thousand peers (not fixed as of 3.6; a GLib matter as
 *    much as libsoup's). One epoll set polled by one GSource instead;
 *    where epoll is missing (no HAVE_EPOLL) the poller hands out GLib's
 *    own socket sources and only the cost remains.
 *
 * 3. The socket stream and its WebSocket frame tracker
 *    (signaling-socket-stream.c, signaling_websocket_limit_messages()).
 *    Before 3.7.1 libsoup bounds a WebSocket message per frame only
 *    (max-incoming-payload-size), so a message sent in fragments grows
 *    without bound (CVE-2025-32049; 3.7.1 adds max-total-message-size,
 *    used under SOUP_CHECK_VERSION (3, 7, 1)); and every release so far
 *    drops a too-large message's connection without a close frame. The
 *    tracker reads the frame headers before libsoup does and closes
 *    with 1009 and a readable error. Without the acceptor there is no
 *    socket stream, and libsoup's per-frame limit is all there is.
 *
 * 4. `Connection: close` (both paths; signaling_soup_announce_close()).
 *    libsoup closes a connection after answering a request that said
 *    `Connection: close`, but does not say so (seen in 3.2.3); Node's
 *    agent then reuses the socket and fails with "socket hang up".
 *    And connections handed over with soup_server_accept_iostream()
 *    are never kept alive (by design: only connections of libsoup's
 *    own listeners are), so with the acceptor every response that does
 *    not upgrade says it closes.
 *
 * 5. TCP_NODELAY (both paths; signaling_soup_set_no_delay()). libsoup
 *    leaves Nagle's algorithm on (as of 3.6): a small reply can wait
 *    for the peer's delayed ACK, and replies on different connections
 *    arrive out of order. Node's HTTP server turns it off too.
 */
#pragma once

#include <libsoup/soup.h>

#include "config.h"

G_BEGIN_DECLS

#ifndef SIGNALING_SOUP_WORKAROUNDS
#error "config.h must define SIGNALING_SOUP_WORKAROUNDS"
#endif

void signaling_soup_set_no_delay     (GSocket           *socket);
void signaling_soup_announce_close   (SoupServerMessage *msg,
                                      gboolean           connection_ends);

G_END_DECLS
