/* signaling-metrics-private.h: the Prometheus exposition of /metrics
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "signaling-router-private.h"

G_BEGIN_DECLS

void signaling_metrics_render (SignalingRouter *router,
                               GString         *out);

G_END_DECLS
