/* test-poller.c: SignalingSocketStream and SignalingPoller on a socket pair
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <sys/socket.h>

#include "test-utils.h"

#include "signaling-poller-private.h"
#include "signaling-socket-stream-private.h"

typedef struct {
  GSocket *ours;
  GSocket *theirs;
  SignalingPoller *poller;
  GIOStream *stream;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  int fds[2];
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), ==, 0);
  fixture->ours = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  fixture->theirs = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  fixture->poller = signaling_poller_new ();
  fixture->stream = signaling_socket_stream_new (fixture->ours, fixture->poller);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_object (&fixture->stream);
  g_clear_pointer (&fixture->poller, signaling_poller_unref);
  g_clear_object (&fixture->ours);
  g_clear_object (&fixture->theirs);
}

static gboolean
on_ready (GObject  *stream,
          gpointer  data)
{
  (*(guint *) data)++;
  return G_SOURCE_REMOVE;
}

static gboolean
on_guard (gpointer data)
{
  g_error ("Timed out after %d s waiting for a source", TEST_TIMEOUT_SECONDS);
  return G_SOURCE_REMOVE;
}

/* Only a guard against hangs, as test_run_until(). */
static void
run_until_fired (guint *fired)
{
  guint guard = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS, on_guard, NULL);

  while (*fired == 0)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

static GSource *
watch_input (Fixture *fixture,
             guint   *fired)
{
  GPollableInputStream *input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (fixture->stream));
  GSource *source = g_pollable_input_stream_create_source (input, NULL);

  g_source_set_callback (source, (GSourceFunc) (GCallback) on_ready, fired, NULL);
  g_source_attach (source, NULL);
  return source;
}

/* A source fires once data comes, and reading gets the data; with
 * nothing more to read, a new source waits. */
static void
test_input (Fixture       *fixture,
            gconstpointer  data)
{
  GPollableInputStream *input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (fixture->stream));
  g_autoptr(GSource) first = NULL;
  g_autoptr(GSource) second = NULL;
  g_autoptr(GError) error = NULL;
  guint fired = 0;
  char buffer[16];
  gssize n;

  g_assert_true (g_pollable_input_stream_can_poll (input));
  first = watch_input (fixture, &fired);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (fired, ==, 0);

  g_assert_cmpint (g_socket_send (fixture->theirs, "hello", 5, NULL, NULL), ==, 5);
  run_until_fired (&fired);

  n = g_pollable_input_stream_read_nonblocking (input, buffer, sizeof buffer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpmem (buffer, 5, "hello", 5);

  n = g_pollable_input_stream_read_nonblocking (input, buffer, sizeof buffer, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_assert_cmpint (n, ==, -1);

  second = watch_input (fixture, &fired);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (fired, ==, 1);
  g_source_destroy (second);
}

/* The peer hanging up wakes a reader, which reads the end. */
static void
test_hang_up (Fixture       *fixture,
              gconstpointer  data)
{
  GInputStream *input = g_io_stream_get_input_stream (fixture->stream);
  g_autoptr(GSource) source = NULL;
  g_autoptr(GError) error = NULL;
  guint fired = 0;
  char buffer[4];

  source = watch_input (fixture, &fired);
  g_socket_close (fixture->theirs, NULL);
  run_until_fired (&fired);

  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input), buffer,
                                                             sizeof buffer, NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static gboolean
fill_until_blocked (GPollableOutputStream *output)
{
  static const char chunk[4096];
  g_autoptr(GError) error = NULL;

  while (g_pollable_output_stream_write_nonblocking (output, chunk, sizeof chunk, NULL, &error) > 0)
    ;
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* A writer blocked on a full socket is woken when the peer reads. */
static void
test_output (Fixture       *fixture,
             gconstpointer  data)
{
  GPollableOutputStream *output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (fixture->stream));
  g_autoptr(GSource) source = NULL;
  guint fired = 0;
  char drain[65536];

  g_assert_true (fill_until_blocked (output));
  g_assert_false (g_pollable_output_stream_is_writable (output));

  source = g_pollable_output_stream_create_source (output, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) on_ready, &fired, NULL);
  g_source_attach (source, NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (fired, ==, 0);

  while (g_socket_receive_with_blocking (fixture->theirs, drain, sizeof drain, FALSE, NULL, NULL) > 0)
    ;
  run_until_fired (&fired);
  g_assert_true (g_pollable_output_stream_is_writable (output));
}

/* Closing the stream wakes whoever waits, and closes the socket. */
static void
test_close (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GSource) source = NULL;
  g_autoptr(GError) error = NULL;
  guint fired = 0;

  source = watch_input (fixture, &fired);
  g_assert_true (g_io_stream_close (fixture->stream, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_is_closed (fixture->ours));
  run_until_fired (&fired);
}

static void
on_closed (GObject      *stream,
           GAsyncResult *result,
           gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_io_stream_close_finish (G_IO_STREAM (stream), result, &error));
  g_assert_no_error (error);
  (*(guint *) data)++;
}

static void
on_half_closed (GObject      *stream,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(GError) error = NULL;

  if (G_IS_INPUT_STREAM (stream))
    g_assert_true (g_input_stream_close_finish (G_INPUT_STREAM (stream), result, &error));
  else
    g_assert_true (g_output_stream_close_finish (G_OUTPUT_STREAM (stream), result, &error));
  g_assert_no_error (error);
  (*(guint *) data)++;
}

/* libsoup closes a WebSocket's stream with g_io_stream_close_async(),
 * whose default runs in a worker thread; the stream, its halves and the
 * poller belong to the main context (non-atomic counts, the epoll set),
 * so the close happens at once, in the calling thread. Before, connect/
 * close churn corrupted the poller's reference count. */
static void
test_close_async (Fixture       *fixture,
                  gconstpointer  data)
{
  GInputStream *input = g_io_stream_get_input_stream (fixture->stream);
  GOutputStream *output = g_io_stream_get_output_stream (fixture->stream);
  guint closed = 0;

  g_input_stream_close_async (input, G_PRIORITY_DEFAULT, NULL, on_half_closed, &closed);
  g_output_stream_close_async (output, G_PRIORITY_DEFAULT, NULL, on_half_closed, &closed);
  g_io_stream_close_async (fixture->stream, G_PRIORITY_DEFAULT, NULL, on_closed, &closed);
  g_assert_true (g_socket_is_closed (fixture->ours));

  while (closed < 3)
    g_main_context_iteration (NULL, TRUE);
}

static gpointer
unref_in_thread (gpointer data)
{
  g_object_unref (data);
  return NULL;
}

/* A GTlsConnection on the stream may drop its last reference in
 * glib-networking's handshake thread, and GIOStream closes on dispose.
 * The watch and the epoll set belong to the main context: the close
 * waits for it, and then happens. Before, it ran in the other thread,
 * against a main loop polling the same watch (a crash in a few hundred
 * wss:// connections). */
static void
test_last_unref_in_thread (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GSource) source = NULL;
  guint fired = 0;
  GThread *thread;

  source = watch_input (fixture, &fired);
  /* The main context is owned here, as by a running main loop. */
  g_assert_true (g_main_context_acquire (NULL));
  thread = g_thread_new ("unref", unref_in_thread, g_steal_pointer (&fixture->stream));
  g_thread_join (thread);
  g_assert_false (g_socket_is_closed (fixture->ours));

  run_until_fired (&fired);
  g_assert_true (g_socket_is_closed (fixture->ours));
  g_main_context_release (NULL);
}

/* glib-networking's TLS handshake runs in a thread, and waits for the
 * socket with a source of its own, from our stream, in a context of
 * its own (its pull timeout function), while the main thread polls
 * and makes sources for the same socket. Each round here is such a
 * wait in a thread; a lost wake-up or a list changed under the
 * poller's feet fails it (the second was a python TLS test that hung
 * for 15 s, once in a few hundred runs). */
#define THREAD_ROUNDS 2000

typedef struct {
  Fixture *fixture;
  gboolean done;
  guint rounds;
} ThreadWaits;

static gboolean
on_thread_ready (GObject  *stream,
                 gpointer  data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_thread_guard (gpointer data)
{
  g_error ("A source in another thread was not woken within %d s", TEST_TIMEOUT_SECONDS);
  return G_SOURCE_REMOVE;
}

static gpointer
wait_in_thread (gpointer data)
{
  ThreadWaits *waits = data;
  GPollableInputStream *input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (waits->fixture->stream));
  g_autoptr(GMainContext) context = g_main_context_new ();

  for (; waits->rounds < THREAD_ROUNDS; waits->rounds++)
    {
      g_autoptr(GSource) source = g_pollable_input_stream_create_source (input, NULL);
      g_autoptr(GSource) guard = g_timeout_source_new_seconds (TEST_TIMEOUT_SECONDS);
      gboolean ready = FALSE;
      char byte;

      g_source_set_callback (source, (GSourceFunc) (GCallback) on_thread_ready, &ready, NULL);
      g_source_attach (source, context);
      g_source_set_callback (guard, on_thread_guard, NULL, NULL);
      g_source_attach (guard, context);

      g_assert_cmpint (g_socket_send (waits->fixture->theirs, "x", 1, NULL, NULL), ==, 1);
      while (!ready)
        g_main_context_iteration (context, TRUE);
      g_assert_cmpint (g_pollable_input_stream_read_nonblocking (input, &byte, 1, NULL, NULL), ==, 1);
      g_source_destroy (source);
      g_source_destroy (guard);
    }

  g_atomic_int_set (&waits->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_sources_in_thread (Fixture       *fixture,
                        gconstpointer  data)
{
  GPollableOutputStream *output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (fixture->stream));
  ThreadWaits waits = { fixture, FALSE, 0 };
  GThread *thread = g_thread_new ("waits", wait_in_thread, &waits);

  /* Meanwhile the main thread makes and drops sources on the socket. */
  while (!g_atomic_int_get (&waits.done))
    {
      g_autoptr(GSource) source = g_pollable_output_stream_create_source (output, NULL);
      guint fired = 0;

      g_source_set_callback (source, (GSourceFunc) (GCallback) on_ready, &fired, NULL);
      g_source_attach (source, NULL);
      g_main_context_iteration (NULL, TRUE);
      g_source_destroy (source);
    }
  g_thread_join (thread);
  g_assert_cmpuint (waits.rounds, ==, THREAD_ROUNDS);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/poller/input", test_input);
  ADD ("/poller/hang-up", test_hang_up);
  ADD ("/poller/output", test_output);
  ADD ("/poller/close", test_close);
  ADD ("/poller/close-async", test_close_async);
  ADD ("/poller/last-unref-in-thread", test_last_unref_in_thread);
  ADD ("/poller/sources-in-thread", test_sources_in_thread);
#undef ADD

  return g_test_run ();
}
