/* signaling-error.h: the SIGNALING_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib.h>

#include "signaling-version-macros.h"

G_BEGIN_DECLS

/**
 * SIGNALING_ERROR:
 *
 * Error domain for libsignaling. Errors in this domain are from the
 * [error@Signaling.Error] enumeration.
 */
#define SIGNALING_ERROR (signaling_error_quark ())

/**
 * SignalingError:
 * @SIGNALING_ERROR_FAILED: generic failure
 * @SIGNALING_ERROR_BAD_JSON: a frame is not valid JSON, or not a JSON object
 * @SIGNALING_ERROR_BAD_MESSAGE: a field is missing or has the wrong type,
 *   or the client supplied `from`
 * @SIGNALING_ERROR_UNKNOWN_TYPE: the message `type` is not known
 * @SIGNALING_ERROR_UNKNOWN_TARGET: no client or room has that name
 * @SIGNALING_ERROR_TOO_LARGE: the frame exceeds the size limit
 * @SIGNALING_ERROR_RATE_LIMITED: the client sends faster than allowed
 * @SIGNALING_ERROR_FORBIDDEN: the client may not do that (for example
 *   send to a room it has not joined, or join too many rooms)
 * @SIGNALING_ERROR_ROOM_FULL: the room has reached its member limit
 * @SIGNALING_ERROR_SERVER_FULL: the server has reached its client limit
 * @SIGNALING_ERROR_UNKNOWN_CLIENT: no connected client has that id
 * @SIGNALING_ERROR_UNAUTHORIZED: the peer's token is missing, invalid or
 *   expired
 * @SIGNALING_ERROR_RESUME_FAILED: a resume token names no session that
 *   may be resumed (forged, already used, or its session has ended)
 *
 * Errors of the [error@Signaling.Error] domain. The nick of each value
 * (for example `bad-json`) is the `code` sent to native clients.
 */
typedef enum {
  SIGNALING_ERROR_FAILED,
  SIGNALING_ERROR_BAD_JSON,
  SIGNALING_ERROR_BAD_MESSAGE,
  SIGNALING_ERROR_UNKNOWN_TYPE,
  SIGNALING_ERROR_UNKNOWN_TARGET,
  SIGNALING_ERROR_TOO_LARGE,
  SIGNALING_ERROR_RATE_LIMITED,
  SIGNALING_ERROR_FORBIDDEN,
  SIGNALING_ERROR_ROOM_FULL,
  SIGNALING_ERROR_SERVER_FULL,
  SIGNALING_ERROR_UNKNOWN_CLIENT,
  SIGNALING_ERROR_UNAUTHORIZED,
  SIGNALING_ERROR_RESUME_FAILED,
} SignalingError;

SIGNALING_AVAILABLE_IN_1_0
GQuark       signaling_error_quark        (void);

SIGNALING_AVAILABLE_IN_1_0
const char  *signaling_error_to_code      (SignalingError error);

G_END_DECLS
