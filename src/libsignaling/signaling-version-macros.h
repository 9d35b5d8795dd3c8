/* signaling-version-macros.h: symbol visibility and availability
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <glib.h>

#ifndef _SIGNALING_EXTERN
#define _SIGNALING_EXTERN __attribute__((visibility ("default"))) extern
#endif

#define SIGNALING_AVAILABLE_IN_1_0 _SIGNALING_EXTERN
