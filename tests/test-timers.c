/* test-timers.c: SignalingTimerQueue, the shared deadline list
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-utils.h"

#include "signaling-timer-queue-private.h"

typedef struct {
  GString *fired;
  char name;
  SignalingTimerQueue *queue;
  SignalingTimer timer;
  gboolean requeue;
} Entry;

static void
on_fired (gpointer data)
{
  Entry *entry = data;

  g_string_append_c (entry->fired, entry->name);
  if (entry->requeue)
    {
      /* Adding from a callback works, and runs in a later dispatch. */
      entry->requeue = FALSE;
      signaling_timer_queue_add (entry->queue, &entry->timer, g_get_monotonic_time () + 1000,
                                 on_fired, entry);
    }
}

static void
run_until_length (GString *fired,
                  gsize    length)
{
  guint guard = 0;

  while (fired->len < length && guard++ < 100000)
    g_main_context_iteration (NULL, TRUE);
}

/* Timers fire in deadline order whatever the order they were added
 * in; removed ones never fire. */
static void
test_order_and_removal (void)
{
  g_autoptr(SignalingTimerQueue) queue = signaling_timer_queue_new ("test");
  g_autoptr(GString) fired = g_string_new (NULL);
  gint64 now = g_get_monotonic_time ();
  Entry entries[] = {
    { fired, 'c', queue }, { fired, 'a', queue }, { fired, 'd', queue }, { fired, 'b', queue }, { fired, 'x', queue },
  };
  gint64 offsets[] = { 3000, 1000, 4000, 2000, 2500 };

  for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
    signaling_timer_queue_add (queue, &entries[i].timer, now + offsets[i], on_fired, &entries[i]);

  g_assert_true (signaling_timer_is_queued (&entries[4].timer));
  signaling_timer_queue_remove (queue, &entries[4].timer);
  g_assert_false (signaling_timer_is_queued (&entries[4].timer));
  signaling_timer_queue_remove (queue, &entries[4].timer);  /* harmless twice */

  run_until_length (fired, 4);
  g_assert_cmpstr (fired->str, ==, "abcd");
  for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
    g_assert_false (signaling_timer_is_queued (&entries[i].timer));
}

/* Removing the first timer moves the wake-up to the next one. */
static void
test_remove_first (void)
{
  g_autoptr(SignalingTimerQueue) queue = signaling_timer_queue_new ("test");
  g_autoptr(GString) fired = g_string_new (NULL);
  gint64 now = g_get_monotonic_time ();
  Entry first = { fired, '1', queue };
  Entry second = { fired, '2', queue };

  signaling_timer_queue_add (queue, &first.timer, now + 1000, on_fired, &first);
  signaling_timer_queue_add (queue, &second.timer, now + 2000, on_fired, &second);
  signaling_timer_queue_remove (queue, &first.timer);

  run_until_length (fired, 1);
  g_assert_cmpstr (fired->str, ==, "2");
}

static void
test_requeue_from_callback (void)
{
  g_autoptr(SignalingTimerQueue) queue = signaling_timer_queue_new ("test");
  g_autoptr(GString) fired = g_string_new (NULL);
  Entry entry = { fired, 'r', queue, .requeue = TRUE };

  signaling_timer_queue_add (queue, &entry.timer, g_get_monotonic_time (), on_fired, &entry);
  run_until_length (fired, 2);
  g_assert_cmpstr (fired->str, ==, "rr");
  g_assert_false (signaling_timer_is_queued (&entry.timer));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/timers/order-and-removal", test_order_and_removal);
  g_test_add_func ("/timers/remove-first", test_remove_first);
  g_test_add_func ("/timers/requeue-from-callback", test_requeue_from_callback);

  return g_test_run ();
}
