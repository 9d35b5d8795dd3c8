/* signaling-poller-private.h: readiness of many sockets, one main loop source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SignalingPoller SignalingPoller;
typedef struct _SignalingPollerWatch SignalingPollerWatch;

SignalingPoller      *signaling_poller_new           (void);
SignalingPoller      *signaling_poller_ref           (SignalingPoller      *poller);
void                  signaling_poller_unref         (SignalingPoller      *poller);

SignalingPollerWatch *signaling_poller_watch         (SignalingPoller      *poller,
                                                      GSocket              *socket);
void                  signaling_poller_unwatch       (SignalingPollerWatch *watch);
GSource              *signaling_poller_create_source (SignalingPollerWatch *watch,
                                                      GObject              *stream,
                                                      GIOCondition          condition,
                                                      GCancellable         *cancellable);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingPoller, signaling_poller_unref)

G_END_DECLS
