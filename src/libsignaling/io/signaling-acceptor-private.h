/* signaling-acceptor-private.h: listening sockets that feed a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define SIGNALING_TYPE_ACCEPTOR (signaling_acceptor_get_type ())

G_DECLARE_FINAL_TYPE (SignalingAcceptor, signaling_acceptor, SIGNALING, ACCEPTOR, GObject)

SignalingAcceptor *signaling_acceptor_new        (SoupServer         *server);
gboolean           signaling_acceptor_add_socket (SignalingAcceptor  *self,
                                                  GSocket            *socket,
                                                  GError            **error);
GPtrArray         *signaling_acceptor_get_sockets (SignalingAcceptor *self);
void               signaling_acceptor_set_request_timeout (SignalingAcceptor *self,
                                                           guint              seconds);
void               signaling_acceptor_set_max_pending (SignalingAcceptor *self,
                                                       guint              max_pending);
void               signaling_acceptor_set_tls_certificate (SignalingAcceptor *self,
                                                           GTlsCertificate   *certificate);
guint              signaling_acceptor_get_n_pending (SignalingAcceptor *self);
gboolean           signaling_acceptor_refuse     (SignalingAcceptor  *self,
                                                  SoupServerMessage  *msg,
                                                  guint               status);
void               signaling_acceptor_close      (SignalingAcceptor  *self);

G_END_DECLS
