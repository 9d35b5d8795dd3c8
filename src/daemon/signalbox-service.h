/* signalbox-service.h: systemd and D-Bus integration of the daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <signaling.h>

G_BEGIN_DECLS

/* Exit codes beyond EXIT_SUCCESS/EXIT_FAILURE, for systemd and scripts. */
#define SIGNALBOX_EXIT_BUS_UNAVAILABLE 3
#define SIGNALBOX_EXIT_NAME_TAKEN      4

void      signalbox_service_notify_ready    (SignalingServer  *server);
void      signalbox_service_notify_status   (SignalingServer  *server);
void      signalbox_service_notify_stopping (void);
gboolean  signalbox_service_listen_activated (SignalingServer  *server,
                                              gboolean         *out_activated,
                                              GError          **error);

G_END_DECLS
