/* signaling-redis-link-private.h: one connection to Redis that comes back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

G_BEGIN_DECLS

#define SIGNALING_TYPE_REDIS_LINK (signaling_redis_link_get_type ())

G_DECLARE_FINAL_TYPE (SignalingRedisLink, signaling_redis_link, SIGNALING, REDIS_LINK, GObject)

/* A command's reply; never called with a NULL reply (a command lost
 * with its connection is dropped, and its @user_data destroyed). */
typedef void (*SignalingRedisReplyFunc) (SignalingRedisLink *link,
                                         redisReply         *reply,
                                         gpointer            user_data);

SignalingRedisLink *signaling_redis_link_new          (const char          *url,
                                                       const char          *password,
                                                       const char          *role,
                                                       GError             **error);
void                signaling_redis_link_start        (SignalingRedisLink  *self);
gboolean            signaling_redis_link_is_connected (SignalingRedisLink  *self);
const char         *signaling_redis_link_get_address  (SignalingRedisLink  *self);
gboolean            signaling_redis_link_command      (SignalingRedisLink  *self,
                                                       SignalingRedisReplyFunc func,
                                                       gpointer             user_data,
                                                       GDestroyNotify       destroy,
                                                       int                  argc,
                                                       const char         **argv,
                                                       const size_t        *lengths);
void                signaling_redis_link_set_message_func (SignalingRedisLink *self,
                                                           SignalingRedisReplyFunc func,
                                                           gpointer            user_data);
gboolean            signaling_redis_link_subscribe    (SignalingRedisLink  *self,
                                                       const char          *channel,
                                                       gboolean             subscribe);

G_END_DECLS
