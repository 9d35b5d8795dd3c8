/* signaling-util-private.h: small helpers shared inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signaling-json-private.h"

G_BEGIN_DECLS

char    *signaling_generate_id       (void);
gboolean signaling_http_has_body     (SoupServerMessage       *msg);

G_END_DECLS
