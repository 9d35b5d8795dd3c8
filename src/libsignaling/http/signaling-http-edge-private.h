/* signaling-http-edge-private.h: what every HTTP request meets first
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signaling-acceptor-private.h"
#include "signaling-websocket-private.h"
#include "signaling-address-limiter-private.h"

G_BEGIN_DECLS

/* The origin rule, for every path and every dialect. */
gboolean signaling_http_origins_allow_any (const char * const *allowed_origins);
gboolean signaling_http_origin_allowed    (const char * const *allowed_origins,
                                           const char         *origin);

#define SIGNALING_TYPE_HTTP_EDGE (signaling_http_edge_get_type ())

G_DECLARE_FINAL_TYPE (SignalingHttpEdge, signaling_http_edge, SIGNALING, HTTP_EDGE, GObject)

/* Adds the members of the /healthz report that the edge cannot know. */
typedef void (*SignalingHttpHealthFunc) (JsonBuilder *builder,
                                         gpointer     user_data);

/* Appends the metrics exposition (Prometheus' text format) to @out. */
typedef void (*SignalingHttpMetricsFunc) (GString  *out,
                                          gpointer  user_data);

SignalingHttpEdge  *signaling_http_edge_new                 (SoupServer          *soup_server,
                                                             SignalingAcceptor   *acceptor);
void                signaling_http_edge_set_allowed_origins (SignalingHttpEdge   *self,
                                                             const char * const  *allowed_origins);
const char * const *signaling_http_edge_get_allowed_origins (SignalingHttpEdge   *self);
void                signaling_http_edge_set_max_body_size   (SignalingHttpEdge   *self,
                                                             guint64              max_body_size);
void                signaling_http_edge_limit_bodies        (SignalingHttpEdge   *self,
                                                             const char          *prefix,
                                                             GObject             *owner,
                                                             const char          *property);
void                signaling_http_edge_serve_client_scripts (SignalingHttpEdge  *self,
                                                              const char         *prefix);
void                signaling_http_edge_set_client_script_dir (SignalingHttpEdge *self,
                                                               const char        *dir);
const char         *signaling_http_edge_get_client_script_dir (SignalingHttpEdge *self);
void                signaling_http_edge_serve_demo          (SignalingHttpEdge   *self);
void                signaling_http_edge_set_demo_dir        (SignalingHttpEdge   *self,
                                                             const char          *dir);
const char         *signaling_http_edge_get_demo_dir        (SignalingHttpEdge   *self);
void                signaling_http_edge_serve_health        (SignalingHttpEdge   *self,
                                                             const char          *path,
                                                             SignalingHttpHealthFunc func,
                                                             gpointer             user_data);
void                signaling_http_edge_serve_metrics       (SignalingHttpEdge   *self,
                                                             const char          *path,
                                                             SignalingHttpMetricsFunc func,
                                                             gpointer             user_data);
gboolean            signaling_http_edge_set_metrics_allow   (SignalingHttpEdge   *self,
                                                             const char * const  *allow,
                                                             GError             **error);
const char * const *signaling_http_edge_get_metrics_allow   (SignalingHttpEdge   *self);
gboolean            signaling_http_edge_metrics_allowed     (SignalingHttpEdge   *self,
                                                             GInetAddress        *address);
void                signaling_http_edge_serve_websocket     (SignalingHttpEdge   *self,
                                                             const char          *path,
                                                             SignalingWebsocketAcceptFunc func,
                                                             gpointer             user_data);
void                signaling_http_edge_limit_connects      (SignalingHttpEdge   *self,
                                                             const char          *path,
                                                             gboolean             engineio);
SignalingAddressLimiter *signaling_http_edge_get_address_limiter (SignalingHttpEdge *self);
void                signaling_http_edge_set_closing         (SignalingHttpEdge   *self);

G_END_DECLS
