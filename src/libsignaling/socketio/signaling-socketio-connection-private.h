/* signaling-socketio-connection-private.h: the seed Socket.IO vocabularies as a dialect
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling-router-private.h"
#include "signaling-resume-table-private.h"
#include "signaling-socketio-socket.h"

G_BEGIN_DECLS

/* Which seed's words a Socket.IO event or peer uses (docs/protocol.md). */
typedef enum {
  SIGNALING_VOCABULARY_NONE,     /* not known yet, or not a Socket.IO message */
  SIGNALING_VOCABULARY_SEED000,  /* offer_sdp / answer_sdp / send_ice by socket id */
  SIGNALING_VOCABULARY_SEED003,  /* JoinSocket rooms; offer / answer / candidate / hangup */
} SignalingVocabulary;

#define SIGNALING_TYPE_SOCKETIO_CONNECTION (signaling_socketio_connection_get_type ())

G_DECLARE_FINAL_TYPE (SignalingSocketioConnection, signaling_socketio_connection,
                      SIGNALING, SOCKETIO_CONNECTION, GObject)

void signaling_socketio_connection_prepare (SignalingRouter         *router,
                                            SignalingResumeTable    *resumes,
                                            SignalingSocketioSocket *socket);
void signaling_socketio_connection_accept (SignalingRouter         *router,
                                           SignalingSocketioSocket *socket);

/* The dialect's codec, without a socket: tests/test-socketio-dialect.c. */
gboolean          signaling_socketio_dialect_lookup_event   (const char            *event,
                                                             SignalingVocabulary   *out_vocabulary,
                                                             SignalingMessageKind  *out_kind);
SignalingMessage *signaling_socketio_dialect_decode_seed000 (SignalingMessageKind   kind,
                                                             JsonArray             *args,
                                                             GError               **error);
SignalingMessage *signaling_socketio_dialect_decode_seed003 (SignalingClient       *sender,
                                                             SignalingMessageKind   kind,
                                                             JsonArray             *args,
                                                             GError               **error);
JsonObject       *signaling_socketio_dialect_encode         (SignalingMessage      *message,
                                                             SignalingVocabulary    vocabulary,
                                                             const char           **out_event);

JsonObject       *signaling_socketio_dialect_export_note     (SignalingMessage      *message);
void              signaling_socketio_dialect_import_note     (SignalingMessage      *message,
                                                              JsonObject            *note);

G_END_DECLS
