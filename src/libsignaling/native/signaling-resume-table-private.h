/* signaling-resume-table-private.h: native sessions a peer may resume
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "signaling-remote-private.h"

#include "signaling-timer-queue-private.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_RESUME_TABLE (signaling_resume_table_get_type ())

G_DECLARE_FINAL_TYPE (SignalingResumeTable, signaling_resume_table, SIGNALING, RESUME_TABLE, GObject)

SignalingResumeTable *signaling_resume_table_new          (void);
guint                 signaling_resume_table_get_window   (SignalingResumeTable *self);
void                  signaling_resume_table_set_window   (SignalingResumeTable *self,
                                                           guint                 seconds);
gsize                 signaling_resume_table_get_buffer_size (SignalingResumeTable *self);
void                  signaling_resume_table_set_buffer_size (SignalingResumeTable *self,
                                                              gsize                 bytes);
gboolean              signaling_resume_table_get_offsets  (SignalingResumeTable *self);
void                  signaling_resume_table_set_offsets  (SignalingResumeTable *self,
                                                           gboolean              offsets);
char                 *signaling_resume_table_add          (SignalingResumeTable *self,
                                                           gpointer              session);
void                  signaling_resume_table_put          (SignalingResumeTable *self,
                                                           const char           *token,
                                                           gpointer              session);
gpointer              signaling_resume_table_take         (SignalingResumeTable *self,
                                                           const char           *token,
                                                           GType                 type);
void                  signaling_resume_table_count        (SignalingResumeTable *self,
                                                           gboolean              resumed);
void                  signaling_resume_table_set_remote   (SignalingResumeTable *self,
                                                           SignalingRemote      *remote);
void                  signaling_resume_table_set_detached (SignalingResumeTable *self,
                                                           gboolean             *detached,
                                                           gboolean              value,
                                                           const char           *token,
                                                           SignalingClient      *client);
void                  signaling_resume_table_forget       (SignalingResumeTable *self,
                                                           char                **token);
gboolean              signaling_resume_table_claim        (SignalingResumeTable *self,
                                                           const char           *token,
                                                           const char           *sub,
                                                           SignalingRemoteClaimFunc func,
                                                           gpointer              user_data,
                                                           GDestroyNotify        destroy);
guint                 signaling_resume_table_get_waiting  (SignalingResumeTable *self);
guint64               signaling_resume_table_get_resumed  (SignalingResumeTable *self);
guint64               signaling_resume_table_get_failed   (SignalingResumeTable *self);
void                  signaling_resume_table_start_window (SignalingResumeTable *self,
                                                           SignalingTimer       *timer,
                                                           SignalingTimerFunc    func,
                                                           gpointer              data);
void                  signaling_resume_table_end_window_soon (SignalingResumeTable *self,
                                                              SignalingTimer       *timer,
                                                              SignalingTimerFunc    func,
                                                              gpointer              data);
void                  signaling_resume_table_stop_window  (SignalingResumeTable *self,
                                                           SignalingTimer       *timer);
gboolean              signaling_resume_table_end_oldest   (SignalingResumeTable *self);

G_END_DECLS
