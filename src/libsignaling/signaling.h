/* signaling.h: libsignaling, a WebRTC signaling service library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define __SIGNALING_INSIDE__

#include "signaling-version-macros.h"
#include "signaling-version.h"
#include "signaling-types.h"
#include "signaling-enums.h"
#include "signaling-error.h"
#include "signaling-message.h"
#include "signaling-room.h"
#include "signaling-client.h"
#include "signaling-engineio-socket.h"
#include "signaling-engineio-server.h"
#include "signaling-socketio-socket.h"
#include "signaling-socketio-namespace.h"
#include "signaling-socketio-server.h"
#include "signaling-server.h"

#undef __SIGNALING_INSIDE__
