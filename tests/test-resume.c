/* test-resume.c: native session resume (/ws?resume=TOKEN) against the
 * real daemon, with hand-written WebSocket clients whose TCP
 * connections the test cuts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon runs as a subprocess, so that the clients here may block
 * on their sockets (with a timeout against hangs) while it serves.
 */
#include <signal.h>

#include "test-utils.h"

typedef struct {
  GSubprocess *process;
  guint port;
} Daemon;

/* A peer: its socket, what it has read and not looked at, its session. */
typedef struct {
  GSocketConnection *connection;
  GDataInputStream *input;
  GPtrArray *texts;
  guint next;  /* the first of texts not looked at */
  char *id;
  char *token;
} Peer;

/* Starts the daemon with a resume window and buffer, and the options
 * that follow up to NULL. */
static void
daemon_start (Daemon      *daemon,
              const char  *window,
              const char  *buffer,
              ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_auto(GStrv) args = NULL;
  const char *arg;
  va_list extra;

  g_strv_builder_add_many (argv, g_getenv ("SIGNALBOX_BIN"), "--no-dbus", "--address", "127.0.0.1",
                           "--port", "0", "--resume-window", window, "--resume-buffer", buffer, NULL);
  va_start (extra, buffer);
  while ((arg = va_arg (extra, const char *)) != NULL)
    g_strv_builder_add (argv, arg);
  va_end (extra);
  args = g_strv_builder_end (argv);

  daemon->process = g_subprocess_newv ((const char * const *) args, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);

  log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (daemon->process));
  while (daemon->port == 0)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);
      const char *found;

      if (line == NULL)
        g_error ("signalbox exited before listening");
      found = strstr (line, "Listening on http://127.0.0.1:");
      if (found != NULL)
        daemon->port = (guint) g_ascii_strtoull (found + strlen ("Listening on http://127.0.0.1:"), NULL, 10);
    }
  /* The rest of the log goes on to the pipe, unread: the daemon's
   * writes are small and few enough for its buffer. */
}

static void
daemon_stop (Daemon *daemon)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (daemon->process, SIGTERM);
  g_subprocess_wait (daemon->process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon->process), ==, 0);
  g_clear_object (&daemon->process);
}

/* Sends a text frame, masked with a zero key (the payload goes as is). */
static void
peer_send (Peer       *peer,
           const char *format,
           ...)
{
  static const guint8 zero_mask[4] = { 0 };
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autofree char *text = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (peer->connection));
  gsize length;
  guint8 header[4];
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  length = strlen (text);
  g_assert_cmpuint (length, <, 65536);

  header[0] = 0x81;
  if (length < 126)
    {
      header[1] = 0x80 | length;
      g_byte_array_append (frame, header, 2);
    }
  else
    {
      header[1] = 0x80 | 126;
      header[2] = length >> 8;
      header[3] = length & 0xff;
      g_byte_array_append (frame, header, 4);
    }
  g_byte_array_append (frame, zero_mask, 4);
  g_byte_array_append (frame, (const guint8 *) text, length);
  g_assert_true (g_output_stream_write_all (output, frame->data, frame->len, NULL, NULL, NULL));
}

/* The next frame the server sent, parsed; fails on a close. */
static JsonObject *
peer_receive (Peer *peer)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  gushort code = 0;

  while (peer->next == peer->texts->len)
    if (!test_raw_websocket_read_frame (G_INPUT_STREAM (peer->input), peer->texts, &code))
      g_error ("The connection closed (%u) while a frame was expected", code);

  node = json_from_string (g_ptr_array_index (peer->texts, peer->next++), &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (node));
}

static JsonObject *
peer_expect (Peer       *peer,
             const char *type)
{
  JsonObject *object = peer_receive (peer);

  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, type);
  return object;
}

static void
peer_expect_error (Peer       *peer,
                   const char *code)
{
  g_autoptr(JsonObject) error = peer_expect (peer, "error");

  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, code);
}

/* Connects to /ws, with a resume token or none, and reads up to the
 * welcome (after a resume-failed error when @refused). */
static Peer *
peer_connect (Daemon     *daemon,
              const char *token,
              gboolean    refused)
{
  Peer *peer = g_new0 (Peer, 1);
  g_autofree char *path = token != NULL ? g_strdup_printf ("/ws?resume=%s", token) : g_strdup ("/ws");
  g_autoptr(JsonObject) welcome = NULL;

  peer->connection = test_raw_websocket_open (daemon->port, path, &peer->input);
  /* Only a guard against hangs. */
  g_socket_set_timeout (g_socket_connection_get_socket (peer->connection), TEST_TIMEOUT_SECONDS);
  peer->texts = g_ptr_array_new_with_free_func (g_free);

  if (refused)
    peer_expect_error (peer, "resume-failed");
  welcome = peer_expect (peer, "welcome");
  peer->id = g_strdup (json_object_get_string_member (welcome, "id"));
  peer->token = g_strdup (json_object_get_string_member (welcome, "resume"));
  g_assert_cmpuint (strlen (peer->token), >=, 22);
  g_assert_cmpstr (peer->token, !=, peer->id);
  g_assert_false (json_object_get_boolean_member_with_default (welcome, "resumed", FALSE));
  return peer;
}

/* The network goes: the socket closes without a close frame. */
static void
peer_cut (Peer *peer)
{
  g_autoptr(GError) error = NULL;

  g_socket_close (g_socket_connection_get_socket (peer->connection), &error);
  g_assert_no_error (error);
}

static void
peer_free (Peer *peer)
{
  g_io_stream_close (G_IO_STREAM (peer->connection), NULL, NULL);
  g_clear_object (&peer->input);
  g_clear_object (&peer->connection);
  g_ptr_array_unref (peer->texts);
  g_free (peer->id);
  g_free (peer->token);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

/* Nothing came between: a ping is answered by the very next frame. */
static void
peer_assert_idle (Peer *peer)
{
  g_autoptr(JsonObject) pong = NULL;

  peer_send (peer, "{\"type\":\"ping\"}");
  pong = peer_expect (peer, "pong");
}

static void
peer_join (Peer       *peer,
           const char *room)
{
  g_autoptr(JsonObject) joined = NULL;

  peer_send (peer, "{\"type\":\"join\",\"room\":\"%s\"}", room);
  joined = peer_expect (peer, "joined");
}

/* The daemon's /healthz, read with a blocking session. */
static gint64
health (Daemon     *daemon,
        const char *member)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/healthz", daemon->port);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  g_autoptr(JsonNode) node = NULL;

  g_assert_no_error (error);
  node = json_from_string (g_bytes_get_data (body, NULL), &error);
  g_assert_no_error (error);
  return json_object_get_int_member (json_node_get_object (node), member);
}

/* Waits until the daemon has seen the cut: messages sent before that
 * went to the old socket, as over any broken TCP connection. */
static void
wait_for_waiting (Daemon *daemon,
                  gint64  expected)
{
  gint64 deadline = g_get_monotonic_time () + TEST_TIMEOUT_SECONDS * G_USEC_PER_SEC;

  while (health (daemon, "waitingForResume") != expected)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (10 * 1000);
    }
}

/* Two peers in a room; @a is cut mid-exchange and resumes: the same id
 * and room, every message of the gap once and in order, and @b saw
 * nobody leave or join. The spent token then resumes nothing. */
static void
test_resume (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) again = NULL;
  g_autoptr(Peer) replayed = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autofree char *spent = NULL;

  daemon_start (&daemon, "30", "262144", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (b, "room");
  joined = peer_expect (a, "peer-joined");
  g_assert_cmpstr (json_object_get_string_member (joined, "id"), ==, b->id);

  peer_send (b, "{\"type\":\"message\",\"to\":\"%s\",\"data\":0}", a->id);
  first = peer_expect (a, "message");
  g_assert_cmpint (json_object_get_int_member (first, "data"), ==, 0);

  peer_cut (a);
  wait_for_waiting (&daemon, 1);
  for (int i = 1; i <= 5; i++)
    peer_send (b, "{\"type\":\"message\",\"to\":\"%s\",\"data\":%d}", a->id, i);
  peer_send (b, "{\"type\":\"message\",\"to\":\"room\",\"data\":6}");
  peer_assert_idle (b);  /* the server has taken them all */

  again = g_new0 (Peer, 1);
  {
    g_autofree char *path = g_strdup_printf ("/ws?resume=%s", a->token);

    again->connection = test_raw_websocket_open (daemon.port, path, &again->input);
    g_socket_set_timeout (g_socket_connection_get_socket (again->connection), TEST_TIMEOUT_SECONDS);
    again->texts = g_ptr_array_new_with_free_func (g_free);
  }
  welcome = peer_expect (again, "welcome");
  g_assert_true (json_object_get_boolean_member (welcome, "resumed"));
  g_assert_cmpstr (json_object_get_string_member (welcome, "id"), ==, a->id);
  g_assert_cmpstr (json_object_get_string_member (welcome, "resume"), !=, a->token);
  again->id = g_strdup (a->id);
  again->token = g_strdup (json_object_get_string_member (welcome, "resume"));

  for (int i = 1; i <= 6; i++)
    {
      g_autoptr(JsonObject) message = peer_expect (again, "message");

      g_assert_cmpint (json_object_get_int_member (message, "data"), ==, i);
      g_assert_cmpstr (json_object_get_string_member (message, "from"), ==, b->id);
    }
  peer_assert_idle (again);  /* once: nothing repeated */
  peer_assert_idle (b);      /* no peer-left, no peer-joined */
  g_assert_cmpint (health (&daemon, "waitingForResume"), ==, 0);
  g_assert_cmpint (health (&daemon, "clients"), ==, 2);

  /* Still in its room, live again. */
  peer_send (b, "{\"type\":\"message\",\"to\":\"room\",\"data\":7}");
  {
    g_autoptr(JsonObject) message = peer_expect (again, "message");

    g_assert_cmpint (json_object_get_int_member (message, "data"), ==, 7);
  }

  /* The spent token (a replay) gets an error and a session of its own. */
  spent = g_strdup (a->token);
  replayed = peer_connect (&daemon, spent, TRUE);
  g_assert_cmpstr (replayed->id, !=, a->id);
  peer_assert_idle (again);
  peer_assert_idle (b);

  g_assert_cmpint (health (&daemon, "resumed"), ==, 1);
  g_assert_cmpint (health (&daemon, "resumeFailed"), ==, 1);
  daemon_stop (&daemon);
}

/* Past the window the peer leaves as it did before resume existed,
 * and its token resumes nothing. */
static void
test_window_expiry (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) late = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) left = NULL;
  gint64 cut_at;

  daemon_start (&daemon, "1", "262144", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (b, "room");
  joined = peer_expect (a, "peer-joined");

  cut_at = g_get_monotonic_time ();
  peer_cut (a);
  left = peer_expect (b, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (left, "id"), ==, a->id);
  /* Not at the cut: after the window. */
  g_assert_cmpint (g_get_monotonic_time () - cut_at, >=, G_USEC_PER_SEC - 100 * 1000);

  late = peer_connect (&daemon, a->token, TRUE);
  g_assert_cmpstr (late->id, !=, a->id);
  peer_assert_idle (b);
  g_assert_cmpint (health (&daemon, "resumed"), ==, 0);
  g_assert_cmpint (health (&daemon, "resumeFailed"), ==, 1);
  daemon_stop (&daemon);
}

/* A full server makes room for a new peer by ending the session that
 * has waited longest for its resume. Before, a client connecting and
 * dropping its connection in a loop filled --max-clients with waiting
 * sessions and locked everyone else out for the window. */
static void
test_full_server_ends_oldest_waiting (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) c = NULL;
  g_autoptr(Peer) d = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) left = NULL;

  daemon_start (&daemon, "30", "262144", "--max-clients", "3", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  c = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (c, "room");
  joined = peer_expect (a, "peer-joined");
  peer_cut (a);
  wait_for_waiting (&daemon, 1);
  peer_cut (b);
  wait_for_waiting (&daemon, 2);

  /* a dropped first: it goes, and c, in its room, sees it leave. */
  d = peer_connect (&daemon, NULL, FALSE);
  left = peer_expect (c, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (left, "id"), ==, a->id);
  g_assert_cmpint (health (&daemon, "waitingForResume"), ==, 1);
  g_assert_cmpint (health (&daemon, "clients"), ==, 3);
  peer_assert_idle (c);
  peer_assert_idle (d);
  daemon_stop (&daemon);
}

/* More than the buffer holds for a dropped peer ends its session at
 * once: the others see it leave, and the token resumes nothing. */
static void
test_buffer_overflow (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) late = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) left = NULL;
  g_autofree char *big = g_strnfill (300, 'x');

  daemon_start (&daemon, "30", "200", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (b, "room");
  joined = peer_expect (a, "peer-joined");

  peer_cut (a);
  wait_for_waiting (&daemon, 1);
  peer_send (b, "{\"type\":\"message\",\"to\":\"%s\",\"data\":\"small\"}", a->id);
  peer_assert_idle (b);  /* that one fits */
  peer_send (b, "{\"type\":\"message\",\"to\":\"%s\",\"data\":\"%s\"}", a->id, big);
  left = peer_expect (b, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (left, "id"), ==, a->id);
  g_assert_cmpint (health (&daemon, "waitingForResume"), ==, 0);

  late = peer_connect (&daemon, a->token, TRUE);
  g_assert_cmpstr (late->id, !=, a->id);
  daemon_stop (&daemon);
}

/* A made-up token, and the token of a peer that is still connected
 * but altered by one character, resume nothing and take nobody's
 * session; a peer that closes cleanly (1000) does not linger. */
static void
test_forged_and_clean_close (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) forged = NULL;
  g_autoptr(Peer) altered = NULL;
  g_autoptr(Peer) after_close = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) left = NULL;
  g_autofree char *near = NULL;
  static const guint8 close_1000[] = { 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8 };
  GOutputStream *output;

  daemon_start (&daemon, "30", "262144", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (b, "room");
  joined = peer_expect (a, "peer-joined");

  forged = peer_connect (&daemon, "AAAAAAAAAAAAAAAAAAAAAA", TRUE);
  near = g_strdup (a->token);
  near[0] = near[0] == 'A' ? 'B' : 'A';
  altered = peer_connect (&daemon, near, TRUE);
  g_assert_cmpstr (forged->id, !=, a->id);
  g_assert_cmpstr (altered->id, !=, a->id);
  peer_assert_idle (a);  /* untouched */
  peer_assert_idle (b);

  /* A clean close: peer-left at once, and no session to resume. */
  output = g_io_stream_get_output_stream (G_IO_STREAM (a->connection));
  g_assert_true (g_output_stream_write_all (output, close_1000, sizeof close_1000, NULL, NULL, NULL));
  left = peer_expect (b, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (left, "id"), ==, a->id);
  g_assert_cmpint (health (&daemon, "waitingForResume"), ==, 0);
  after_close = peer_connect (&daemon, a->token, TRUE);

  g_assert_cmpint (health (&daemon, "resumed"), ==, 0);
  g_assert_cmpint (health (&daemon, "resumeFailed"), ==, 3);
  daemon_stop (&daemon);
}

/* A resume before the server has seen the old connection go (it only
 * hangs) takes the session over: the old connection is closed with
 * 4001, the new one gets the session, and nobody saw a leave. */
static void
test_takeover (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) again = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) message = NULL;
  gushort code = 0;

  daemon_start (&daemon, "30", "262144", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (b, "room");
  joined = peer_expect (a, "peer-joined");

  again = g_new0 (Peer, 1);
  {
    g_autofree char *path = g_strdup_printf ("/ws?resume=%s", a->token);
    g_autoptr(JsonObject) welcome = NULL;

    again->connection = test_raw_websocket_open (daemon.port, path, &again->input);
    g_socket_set_timeout (g_socket_connection_get_socket (again->connection), TEST_TIMEOUT_SECONDS);
    again->texts = g_ptr_array_new_with_free_func (g_free);
    welcome = peer_expect (again, "welcome");
    g_assert_true (json_object_get_boolean_member (welcome, "resumed"));
    g_assert_cmpstr (json_object_get_string_member (welcome, "id"), ==, a->id);
  }

  while (test_raw_websocket_read_frame (G_INPUT_STREAM (a->input), a->texts, &code))
    ;
  g_assert_cmpuint (code, ==, 4001);

  peer_send (b, "{\"type\":\"message\",\"to\":\"room\",\"data\":1}");
  message = peer_expect (again, "message");
  peer_assert_idle (b);
  daemon_stop (&daemon);
}

/* A close of the server's (here after too-large) ends the session at
 * once, whatever the window: others see it leave, the token is void. */
static void
test_server_close (void)
{
  Daemon daemon = { 0 };
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(Peer) late = NULL;
  g_autoptr(JsonObject) joined = NULL;
  g_autoptr(JsonObject) left = NULL;
  g_autofree char *big = g_strnfill (300, 'x');
  gushort code = 0;

  daemon_start (&daemon, "30", "262144", "--max-message-size", "200", NULL);
  a = peer_connect (&daemon, NULL, FALSE);
  b = peer_connect (&daemon, NULL, FALSE);
  peer_join (a, "room");
  peer_join (b, "room");
  joined = peer_expect (a, "peer-joined");

  peer_send (a, "{\"type\":\"message\",\"to\":\"room\",\"data\":\"%s\"}", big);
  peer_expect_error (a, "too-large");
  while (test_raw_websocket_read_frame (G_INPUT_STREAM (a->input), a->texts, &code))
    ;
  g_assert_cmpuint (code, ==, 1009);
  left = peer_expect (b, "peer-left");
  g_assert_cmpstr (json_object_get_string_member (left, "id"), ==, a->id);

  late = peer_connect (&daemon, a->token, TRUE);
  g_assert_cmpstr (late->id, !=, a->id);
  daemon_stop (&daemon);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/resume/cut-and-resume", test_resume);
  g_test_add_func ("/resume/window-expiry", test_window_expiry);
  g_test_add_func ("/resume/buffer-overflow", test_buffer_overflow);
  g_test_add_func ("/resume/full-server-ends-oldest-waiting", test_full_server_ends_oldest_waiting);
  g_test_add_func ("/resume/forged-and-clean-close", test_forged_and_clean_close);
  g_test_add_func ("/resume/takeover", test_takeover);
  g_test_add_func ("/resume/server-close", test_server_close);

  return g_test_run ();
}
