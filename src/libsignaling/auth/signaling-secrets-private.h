/* signaling-secrets-private.h: reading files of shared secrets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

GPtrArray *signaling_secrets_read (const char  *filename,
                                   GError     **error);

G_END_DECLS
