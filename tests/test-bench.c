/* test-bench.c: signalbox-bench against the real daemon
 *
 * A smoke test of the load generator: each case runs it for a second or
 * two with a few peers against a fresh signalbox and checks its --json
 * report: messages were delivered, nothing failed, every field is there.
 * Rates and latencies are printed by the tool, never asserted.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <sys/prctl.h>

#include "test-utils.h"

typedef struct {
  GSubprocess *daemon;
  GDataInputStream *log;
  guint port;
} Fixture;

static const char *
env_path (const char *name)
{
  const char *path = g_getenv (name);

  g_assert_nonnull (path);
  return path;
}

static guint
read_port (GDataInputStream *log)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);
      const char *found;

      if (line == NULL)
        g_error ("signalbox exited before listening");
      found = strstr (line, "Listening on http://127.0.0.1:");
      if (found != NULL)
        return (guint) g_ascii_strtoull (found + strlen ("Listening on http://127.0.0.1:"), NULL, 10);
    }
}

/* A failed assertion aborts the test: the daemon must not outlive it and
 * hold meson's output pipe open until the timeout. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* The rate limit is off: with 8 messages in flight a pair on loopback
 * goes past the default 1000/s, and the bench measures the relay. */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  f->daemon = g_subprocess_launcher_spawn (launcher, &error,
                                           env_path ("SIGNALBOX_BIN"), "--no-dbus",
                                           "--address", "127.0.0.1", "--port", "0",
                                           "--rate-limit", "0", NULL);
  g_assert_no_error (error);
  f->log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (f->daemon));
  f->port = read_port (f->log);
}

/* The daemon must survive the load and exit cleanly (it runs with
 * G_DEBUG=fatal-criticals, so a critical would show here too). */
static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (f->daemon, SIGTERM);
  g_subprocess_wait (f->daemon, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (f->daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (f->daemon), ==, 0);
  g_clear_object (&f->log);
  g_clear_object (&f->daemon);
}

/* Runs signalbox-bench with @args (NULL-terminated) and returns its
 * parsed --json report. */
static JsonObject *
run_bench (Fixture    *f,
           const char *first_arg,
           ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) bench = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  va_list args;

  g_ptr_array_add (argv, g_strdup (env_path ("SIGNALBOX_BENCH_BIN")));
  g_ptr_array_add (argv, g_strdup_printf ("--port=%u", f->port));
  g_ptr_array_add (argv, g_strdup_printf ("--server-pid=%s", g_subprocess_get_identifier (f->daemon)));
  g_ptr_array_add (argv, g_strdup ("--json"));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  bench = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (bench, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("signalbox-bench: %s", out);
  g_assert_true (g_subprocess_get_if_exited (bench));
  g_assert_cmpint (g_subprocess_get_exit_status (bench), ==, 0);

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static JsonObject *
member_object (JsonObject *o,
               const char *name)
{
  g_assert_true (json_object_has_member (o, name));
  return json_object_get_object_member (o, name);
}

static void
assert_members (JsonObject         *o,
                const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (!json_object_has_member (o, names[i]))
      g_error ("report has no “%s”", names[i]);
}

/* Every report has these, whatever the mode. */
static void
assert_report_shape (JsonObject *report,
                     const char *mode)
{
  static const char * const top[] = { "mode", "protocol", "events", "peers", "connected", "window", "size",
                                      "warmup_s", "duration_s", "sent", "messages", "msgs_per_s",
                                      "handshakes", "handshakes_per_s", "latency_ms", "fairness",
                                      "errors_total", "errors", "server", "client", NULL };
  static const char * const latency[] = { "count", "mean", "p50", "p90", "p99", "max", NULL };
  static const char * const fair[] = { "receivers", "jain", "slowest", "median", "slowest_over_median", NULL };
  static const char * const server[] = { "pid", "rss_kb_before", "rss_kb_start", "rss_kb_end", "rss_kb_peak",
                                         "rss_bytes_per_peer", "cpu_s", "cpu_us_per_op", "gone", NULL };
  static const char * const client[] = { "cpu_s", "cpu_us_per_op", NULL };
  JsonObject *errors;

  assert_members (report, top);
  assert_members (member_object (report, "latency_ms"), latency);
  assert_members (member_object (report, "fairness"), fair);
  assert_members (member_object (report, "server"), server);
  assert_members (member_object (report, "client"), client);
  g_assert_cmpstr (json_object_get_string_member (report, "mode"), ==, mode);

  /* errors by kind: none at all, and the total agrees */
  errors = member_object (report, "errors");
  if (json_object_get_size (errors) > 0)
    {
      g_autoptr(GList) kinds = json_object_get_members (errors);

      g_error ("signalbox-bench reported errors, first: %s", (const char *) kinds->data);
    }
  g_assert_cmpint (json_object_get_int_member (report, "errors_total"), ==, 0);
  /* the server was found through --server-pid */
  g_assert_cmpint (json_object_get_int_member (member_object (report, "server"), "rss_kb_end"), >, 0);
}

/* Pairs: every peer connected, messages delivered and each one timed,
 * and every receiver got some (fairness is computed over all of them). */
static void
assert_pairs_delivered (JsonObject *report,
                        gint64      peers)
{
  JsonObject *latency = member_object (report, "latency_ms");
  JsonObject *fair = member_object (report, "fairness");
  gint64 messages = json_object_get_int_member (report, "messages");

  g_assert_cmpint (json_object_get_int_member (report, "connected"), ==, peers);
  g_assert_cmpint (messages, >, 0);
  g_assert_cmpint (json_object_get_int_member (latency, "count"), ==, messages);
  g_assert_cmpfloat (json_object_get_double_member (latency, "p50"), <=,
                     json_object_get_double_member (latency, "max"));
  g_assert_cmpint (json_object_get_int_member (fair, "receivers"), ==, peers);
  g_assert_cmpfloat (json_object_get_double_member (fair, "jain"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (fair, "jain"), <=, 1.0 + 1e-9);
}

static void
test_pairs_native (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(JsonObject) report = run_bench (f, "--mode=pairs", "--protocol=native", "--peers=20",
                                            "--warmup=0.5", "--duration=2", NULL);

  assert_report_shape (report, "pairs");
  g_assert_cmpstr (json_object_get_string_member (report, "protocol"), ==, "native");
  assert_pairs_delivered (report, 20);
}

static void
test_pairs_socketio (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(JsonObject) report = run_bench (f, "--mode=pairs", "--protocol=socket.io", "--peers=20",
                                            "--warmup=0.5", "--duration=2", NULL);

  assert_report_shape (report, "pairs");
  g_assert_cmpstr (json_object_get_string_member (report, "events"), ==, "seed000");
  assert_pairs_delivered (report, 20);
}

static void
test_pairs_seed003 (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(JsonObject) report = run_bench (f, "--mode=pairs", "--protocol=socket.io", "--events=seed003",
                                            "--peers=10", "--warmup=0.2", "--duration=1", NULL);

  assert_report_shape (report, "pairs");
  g_assert_cmpstr (json_object_get_string_member (report, "events"), ==, "seed003");
  assert_pairs_delivered (report, 10);
}

/* Fanout: each of the 9 other members receives what the sender sends. */
static void
test_fanout_native (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(JsonObject) report = run_bench (f, "--mode=fanout", "--members=10",
                                            "--warmup=0.2", "--duration=1", NULL);
  JsonObject *fair;

  assert_report_shape (report, "fanout");
  fair = member_object (report, "fairness");
  g_assert_cmpint (json_object_get_int_member (report, "connected"), ==, 10);
  g_assert_cmpint (json_object_get_int_member (fair, "receivers"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (fair, "slowest"), >, 0);
}

static void
test_churn (Fixture       *f,
            gconstpointer  data)
{
  const char *protocol = data;
  g_autofree char *arg = g_strdup_printf ("--protocol=%s", protocol);
  g_autoptr(JsonObject) report = run_bench (f, "--mode=churn", arg, "--peers=4",
                                            "--warmup=0.2", "--duration=1", NULL);

  assert_report_shape (report, "churn");
  g_assert_cmpint (json_object_get_int_member (report, "handshakes"), >, 0);
  g_assert_cmpint (json_object_get_int_member (member_object (report, "latency_ms"), "count"), ==,
                   json_object_get_int_member (report, "handshakes"));
}

/* Idle: everyone stays connected (Engine.IO heartbeats answered) and the
 * server's memory per peer is reported. */
static void
test_idle_socketio (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(JsonObject) report = run_bench (f, "--mode=idle", "--protocol=socket.io", "--peers=50",
                                            "--duration=1", NULL);

  assert_report_shape (report, "idle");
  g_assert_cmpint (json_object_get_int_member (report, "connected"), ==, 50);
  g_assert_true (json_object_has_member (member_object (report, "server"), "rss_bytes_per_peer"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/bench/pairs/native", Fixture, NULL, fixture_setup, test_pairs_native, fixture_teardown);
  g_test_add ("/bench/pairs/socket.io", Fixture, NULL, fixture_setup, test_pairs_socketio, fixture_teardown);
  g_test_add ("/bench/pairs/seed003", Fixture, NULL, fixture_setup, test_pairs_seed003, fixture_teardown);
  g_test_add ("/bench/fanout/native", Fixture, NULL, fixture_setup, test_fanout_native, fixture_teardown);
  /* Connect/close churn once corrupted the poller's reference count
   * (streams closed in GIO's worker thread): it must run clean. */
  g_test_add ("/bench/churn/native", Fixture, "native", fixture_setup, test_churn, fixture_teardown);
  g_test_add ("/bench/churn/socket.io", Fixture, "socket.io", fixture_setup, test_churn, fixture_teardown);
  g_test_add ("/bench/idle/socket.io", Fixture, NULL, fixture_setup, test_idle_socketio, fixture_teardown);

  return g_test_run ();
}
