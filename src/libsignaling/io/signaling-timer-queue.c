/* signaling-timer-queue.c: many deadlines, one main loop source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every Engine.IO session has a ping to send and then a pong to wait
 * for. A GSource each would make the main loop look at thousands of
 * sources on every iteration, all of them but a few not due: with a
 * thousand clients that was a tenth of the server's time. Here the
 * deadlines wait in one list sorted by time, and a single source wakes
 * up for the first of them.
 *
 * Deadlines are mostly added in time order (all sessions share one
 * interval), so insertion walks back from the tail and stops at once.
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include "signaling-timer-queue-private.h"

struct _SignalingTimerQueue
{
  GSource *source;
  GQueue timers;  /* SignalingTimer *, earliest first */
};

static void
update_ready_time (SignalingTimerQueue *queue)
{
  SignalingTimer *first = g_queue_peek_head (&queue->timers);

  g_source_set_ready_time (queue->source, first != NULL ? first->deadline : -1);
}

static gboolean
dispatch_due (GSource     *source,
              GSourceFunc  callback,
              gpointer     user_data)
{
  SignalingTimerQueue *queue = user_data;
  gint64 now = g_source_get_time (source);
  SignalingTimer *first;

  /* Callbacks may add and remove timers: look at the head afresh. */
  while ((first = g_queue_peek_head (&queue->timers)) != NULL && first->deadline <= now)
    {
      g_queue_unlink (&queue->timers, &first->link);
      first->link.data = NULL;
      first->func (first->data);
    }

  update_ready_time (queue);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_queue_funcs = {
  .dispatch = dispatch_due,
};

/*
 * signaling_timer_queue_new:
 * @name: for the main loop source, as seen in profilers
 *
 * Attaches to the thread-default main context, at high priority: a
 * peer past its deadline is gone even if its next request is already
 * waiting.
 */
SignalingTimerQueue *
signaling_timer_queue_new (const char *name)
{
  SignalingTimerQueue *queue = g_rc_box_new0 (SignalingTimerQueue);

  queue->source = g_source_new (&timer_queue_funcs, sizeof (GSource));
  g_source_set_callback (queue->source, NULL, queue, NULL);
  g_source_set_priority (queue->source, G_PRIORITY_HIGH);
  g_source_set_name (queue->source, name);
  g_source_set_ready_time (queue->source, -1);
  g_source_attach (queue->source, g_main_context_get_thread_default ());

  return queue;
}

SignalingTimerQueue *
signaling_timer_queue_ref (SignalingTimerQueue *queue)
{
  return g_rc_box_acquire (queue);
}

static void
timer_queue_clear (SignalingTimerQueue *queue)
{
  /* Owners remove their timers before they let go of the queue. */
  g_warn_if_fail (g_queue_is_empty (&queue->timers));

  g_source_destroy (queue->source);
  g_source_unref (queue->source);
}

void
signaling_timer_queue_unref (SignalingTimerQueue *queue)
{
  g_rc_box_release_full (queue, (GDestroyNotify) timer_queue_clear);
}

gboolean
signaling_timer_is_queued (SignalingTimer *timer)
{
  return timer->link.data != NULL;
}

/*
 * signaling_timer_queue_add:
 * @timer: not queued
 * @deadline: monotonic time in µs
 *
 * Calls @func with @data once @deadline has passed, unless @timer is
 * removed before.
 */
void
signaling_timer_queue_add (SignalingTimerQueue *queue,
                           SignalingTimer      *timer,
                           gint64               deadline,
                           SignalingTimerFunc   func,
                           gpointer             data)
{
  GList *before;

  g_return_if_fail (!signaling_timer_is_queued (timer));

  timer->deadline = deadline;
  timer->func = func;
  timer->data = data;
  timer->link.data = timer;

  for (before = queue->timers.tail; before != NULL; before = before->prev)
    if (((SignalingTimer *) before->data)->deadline <= deadline)
      break;

  if (before == NULL)
    g_queue_push_head_link (&queue->timers, &timer->link);
  else if (before->next == NULL)
    g_queue_push_tail_link (&queue->timers, &timer->link);
  else
    {
      /* GQueue has no "insert link after"; splice by hand. */
      timer->link.prev = before;
      timer->link.next = before->next;
      before->next->prev = &timer->link;
      before->next = &timer->link;
      queue->timers.length++;
    }

  if (queue->timers.head == &timer->link)
    update_ready_time (queue);
}

/* Does nothing if @timer is not queued. */
void
signaling_timer_queue_remove (SignalingTimerQueue *queue,
                              SignalingTimer      *timer)
{
  gboolean was_first;

  if (!signaling_timer_is_queued (timer))
    return;

  was_first = queue->timers.head == &timer->link;
  g_queue_unlink (&queue->timers, &timer->link);
  timer->link.data = NULL;
  if (was_first)
    update_ready_time (queue);
}

/* Returns: (nullable): the timer due first */
SignalingTimer *
signaling_timer_queue_peek (SignalingTimerQueue *queue)
{
  return g_queue_peek_head (&queue->timers);
}
