/* signaling-socketio-namespace.h: a Socket.IO namespace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib-object.h>

#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_SOCKETIO_NAMESPACE (signaling_socketio_namespace_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingSocketioNamespace, signaling_socketio_namespace,
                      SIGNALING, SOCKETIO_NAMESPACE, GObject)

SIGNALING_AVAILABLE_IN_1_0
const char *signaling_socketio_namespace_get_name (SignalingSocketioNamespace *self);

G_END_DECLS
