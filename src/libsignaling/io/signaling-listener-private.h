/* signaling-listener-private.h: the listening sockets of a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "signaling-acceptor-private.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_LISTENER (signaling_listener_get_type ())

G_DECLARE_FINAL_TYPE (SignalingListener, signaling_listener, SIGNALING, LISTENER, GObject)

SignalingListener *signaling_listener_new          (SoupServer         *soup_server);
SignalingAcceptor *signaling_listener_get_acceptor (SignalingListener  *self);
gboolean           signaling_listener_listen       (SignalingListener  *self,
                                                    const char         *address,
                                                    guint               port,
                                                    GError            **error);
void               signaling_listener_set_tls_certificate (SignalingListener *self,
                                                           GTlsCertificate   *certificate);
gboolean           signaling_listener_add_socket   (SignalingListener  *self,
                                                    GSocket            *socket,
                                                    GError            **error);
GSList            *signaling_listener_dup_uris     (SignalingListener  *self);
char             **signaling_listener_dup_addresses (SignalingListener *self);
void               signaling_listener_close        (SignalingListener  *self);
void               signaling_listener_set_reuse_port (SignalingListener *self,
                                                      gboolean           reuse_port);
gboolean           signaling_listener_get_reuse_port (SignalingListener *self);
gboolean           signaling_listener_listen_loopback (SignalingListener  *self,
                                                       guint              *port,
                                                       GError            **error);

G_END_DECLS
