/* signaling-timer-queue-private.h: many deadlines, one main loop source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SignalingTimerQueue SignalingTimerQueue;

typedef void (*SignalingTimerFunc) (gpointer data);

/* Embedded in its owner; zero-initialised means "not queued". */
typedef struct
{
  GList link;
  gint64 deadline;  /* monotonic µs */
  SignalingTimerFunc func;
  gpointer data;
} SignalingTimer;

SignalingTimerQueue *signaling_timer_queue_new    (const char          *name);
SignalingTimerQueue *signaling_timer_queue_ref    (SignalingTimerQueue *queue);
void                 signaling_timer_queue_unref  (SignalingTimerQueue *queue);
void                 signaling_timer_queue_add    (SignalingTimerQueue *queue,
                                                   SignalingTimer      *timer,
                                                   gint64               deadline,
                                                   SignalingTimerFunc   func,
                                                   gpointer             data);
void                 signaling_timer_queue_remove (SignalingTimerQueue *queue,
                                                   SignalingTimer      *timer);
SignalingTimer      *signaling_timer_queue_peek   (SignalingTimerQueue *queue);
gboolean             signaling_timer_is_queued    (SignalingTimer      *timer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalingTimerQueue, signaling_timer_queue_unref)

G_END_DECLS
