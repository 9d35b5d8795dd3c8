/* signaling-message-private.h: library-internal message API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-message.h"

G_BEGIN_DECLS

/* Longest room name or client id accepted, in bytes. */
#define SIGNALING_MAX_NAME_LENGTH 256

SignalingMessage *signaling_message_new             (SignalingMessageKind   kind,
                                                     const char            *to,
                                                     JsonObject            *payload);
SignalingMessage *signaling_message_new_from_text   (SignalingMessageKind   kind,
                                                     const char            *to,
                                                     char                  *text,
                                                     gsize                  length);
gboolean          signaling_message_validate_body   (SignalingMessage      *message,
                                                     GError               **error);

/* A member of a message's object by name (transfer full), or NULL;
 * for @shape_only, a node of the member's type that may lack its value
 * (a caller that checks types need not pay for copying an SDP). */
typedef JsonNode *(*SignalingMemberFunc) (gconstpointer  members,
                                          const char    *name,
                                          gboolean       shape_only);
gboolean          signaling_message_validate_members (SignalingMessageKind  kind,
                                                      SignalingMemberFunc   get_member,
                                                      gconstpointer         members,
                                                      GError              **error);
/* A member of a message being made: its native name (a static string)
 * and its value. */
typedef struct
{
  const char *name;
  JsonNode *value;
} SignalingMember;

SignalingMessage *signaling_message_new_from_members (SignalingMessageKind   kind,
                                                      const char            *to,
                                                      const SignalingMember *members,
                                                      guint                  n_members,
                                                      GError               **error);
JsonObject       *signaling_message_peek_payload    (SignalingMessage      *message);
const char       *signaling_message_get_text        (SignalingMessage      *message,
                                                     gsize                 *length);
void              signaling_message_set_from        (SignalingMessage      *message,
                                                     const char            *from);
void              signaling_message_set_dialect     (SignalingMessage      *message,
                                                     const char            *dialect);
gboolean          signaling_message_get_include_sender (SignalingMessage   *message);
void              signaling_message_set_include_sender (SignalingMessage   *message,
                                                        gboolean            include_sender);
void              signaling_message_mark_seen       (SignalingMessage      *message);
gboolean          signaling_message_is_seen         (SignalingMessage      *message);
gpointer          signaling_message_get_dialect_data (SignalingMessage     *message,
                                                      GQuark                dialect);
void              signaling_message_set_dialect_data (SignalingMessage     *message,
                                                      GQuark                dialect,
                                                      gpointer              data,
                                                      GDestroyNotify        destroy);
void              signaling_message_set_target      (SignalingMessage      *message,
                                                     const char            *to);
void              signaling_message_set_rid         (SignalingMessage      *message,
                                                     JsonNode              *rid);

G_END_DECLS
