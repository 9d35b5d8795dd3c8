/* signaling-error.c: the SIGNALING_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include "signaling-enums.h"
#include "signaling-error.h"

/**
 * signaling_error_quark:
 *
 * Gets the error domain of the library's errors, [error@Signaling.Error].
 *
 * Returns: the quark of `SIGNALING_ERROR`
 */
G_DEFINE_QUARK (signaling-error-quark, signaling_error)

/**
 * signaling_error_to_code:
 * @error: a [error@Signaling.Error] value
 *
 * Gets the short code the native protocol uses for @error, for example
 * `unknown-target`.
 *
 * Returns: (transfer none): the wire code
 */
const char *
signaling_error_to_code (SignalingError error)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (SIGNALING_TYPE_ERROR);
  GEnumValue *value = g_enum_get_value (klass, error);

  /* The class is static and never freed, so its nicks outlive the ref. */
  return value != NULL ? value->value_nick : "failed";
}
