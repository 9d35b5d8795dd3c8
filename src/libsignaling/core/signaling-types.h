/* signaling-types.h: forward declarations shared by the public headers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SignalingServer SignalingServer;
typedef struct _SignalingClient SignalingClient;
typedef struct _SignalingRoom SignalingRoom;
typedef struct _SignalingMessage SignalingMessage;

G_END_DECLS
