/* signaling-address-limiter-private.h: per-address client and connect-rate limits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SIGNALING_TYPE_ADDRESS_LIMITER (signaling_address_limiter_get_type ())

G_DECLARE_FINAL_TYPE (SignalingAddressLimiter, signaling_address_limiter, SIGNALING, ADDRESS_LIMITER, GObject)

SignalingAddressLimiter *signaling_address_limiter_new              (void);
void                     signaling_address_limiter_set_max_clients  (SignalingAddressLimiter *self,
                                                                     guint                    max_clients);
guint                    signaling_address_limiter_get_max_clients  (SignalingAddressLimiter *self);
void                     signaling_address_limiter_set_connect_rate (SignalingAddressLimiter *self,
                                                                     double                   rate);
double                   signaling_address_limiter_get_connect_rate (SignalingAddressLimiter *self);
void                     signaling_address_limiter_set_exempt       (SignalingAddressLimiter *self,
                                                                     const char * const      *exempt);
const char * const      *signaling_address_limiter_get_exempt       (SignalingAddressLimiter *self);
gboolean                 signaling_address_limiter_admit            (SignalingAddressLimiter *self,
                                                                     const char              *address,
                                                                     char                   **out_reason);
void                     signaling_address_limiter_add_client       (SignalingAddressLimiter *self,
                                                                     const char              *address);
void                     signaling_address_limiter_remove_client    (SignalingAddressLimiter *self,
                                                                     const char              *address);
guint64                  signaling_address_limiter_get_refused      (SignalingAddressLimiter *self);

G_END_DECLS
