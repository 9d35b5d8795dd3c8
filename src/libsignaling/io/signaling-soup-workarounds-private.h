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
 *    connection's input source on every read, and GLib inserts each new
 *    source's poll record into a list ordered by priority: time in
 *    proportion to the number of connections, measured at a fifth of
 *    the CPU at a thousand WebSocket peers when libsoup still read them
 *    (not fixed as of 3.6; a GLib matter as much as libsoup's); HTTP
 *    connections still pay it. One epoll set polled by one GSource
 *    instead; where epoll is missing (no HAVE_EPOLL) the poller hands
 *    out GLib's own socket sources and only the cost remains.
 *
 * 3. (Gone.) The socket stream's WebSocket frame tracker bounded
 *    messages over their fragments for libsoup's WebSocket
 *    (CVE-2025-32049). Our own frame path, signaling-websocket.c, does
 *    that now, on both paths and over TLS; it is no workaround but the
 *    design (see docs/design.md, "WebSocket frames", for why).
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
