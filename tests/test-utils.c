/* test-utils.c: a real server and real WebSocket clients for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

/* Whether the library takes our way around libsoup 3.2 (acceptor,
 * poller, socket stream) or libsoup's plain path
 * (-Dsoup_workarounds=false). */
gboolean
test_have_soup_workarounds (void)
{
  return SIGNALING_SOUP_WORKAROUNDS;
}

/* Skips the test, saying why, in a build without the workarounds; a
 * test of what only they do calls it first and returns if it did. */
gboolean
test_skip_without_soup_workarounds (const char *reason)
{
  g_autofree char *message = NULL;

  if (test_have_soup_workarounds ())
    return FALSE;

  message = g_strdup_printf ("built with -Dsoup_workarounds=false: %s", reason);
  g_test_skip (message);
  return TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("Timed out after %d s waiting for an event", TEST_TIMEOUT_SECONDS);
  return G_SOURCE_REMOVE;
}

/* Iterates the default main context, which runs both the server and
 * the clients, until *flag becomes TRUE. */
void
test_run_until (gboolean *flag)
{
  guint timeout = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS, on_timeout, NULL);

  while (!*flag)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (timeout);
}

SignalingServer *
test_server_new (void)
{
  g_autoptr(SignalingServer) server = signaling_server_new ();
  g_autoptr(GError) error = NULL;

  signaling_server_listen (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (signaling_server_get_port (server), >, 0);

  return g_steal_pointer (&server);
}

char *
test_server_get_url (SignalingServer *server,
                     const char      *scheme,
                     const char      *path)
{
  return g_strdup_printf ("%s://127.0.0.1:%u%s", scheme,
                          signaling_server_get_port (server), path);
}

static void
on_frame (SoupWebsocketConnection *websocket,
          SoupWebsocketDataType    type,
          GBytes                  *bytes,
          TestClient              *client)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  json_parser_load_from_data (parser, data, size, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  g_queue_push_tail (client->frames, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

static void
on_closed (SoupWebsocketConnection *websocket,
           TestClient              *client)
{
  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (websocket);
  client->close_reason = g_strdup (soup_websocket_connection_get_close_data (websocket));
}

typedef struct {
  gboolean done;
  SoupWebsocketConnection *websocket;
  GError *error;
} ConnectData;

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ConnectData *data = user_data;

  data->websocket = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &data->error);
  data->done = TRUE;
}

TestClient *
test_client_connect_raw (const char  *url,
                         const char  *origin,
                         GError     **error)
{
  g_autoptr(SoupSession) session = soup_session_new ();

  return test_client_connect_session (session, url, origin, error);
}

/* The same through @session, for one with its own TLS database. */
TestClient *
test_client_connect_session (SoupSession  *session,
                             const char   *url,
                             const char   *origin,
                             GError      **error)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  ConnectData data = { 0 };
  TestClient *client;

  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT,
                                        NULL, on_connected, &data);
  test_run_until (&data.done);

  if (data.websocket == NULL)
    {
      g_propagate_error (error, data.error);
      return NULL;
    }

  client = g_new0 (TestClient, 1);
  client->websocket = data.websocket;
  client->frames = g_queue_new ();
  g_signal_connect (client->websocket, "message", G_CALLBACK (on_frame), client);
  g_signal_connect (client->websocket, "closed", G_CALLBACK (on_closed), client);

  return client;
}

/* Connects to /ws and reads the welcome. */
TestClient *
test_client_connect (SignalingServer *server)
{
  g_autofree char *url = test_server_get_url (server, "ws", "/ws");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  TestClient *client = test_client_connect_raw (url, NULL, &error);

  g_assert_no_error (error);
  welcome = test_client_expect (client, "welcome");
  client->id = g_strdup (json_object_get_string_member (welcome, "id"));

  return client;
}

void
test_client_free (TestClient *client)
{
  g_signal_handlers_disconnect_by_data (client->websocket, client);
  if (soup_websocket_connection_get_state (client->websocket) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (client->websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (client->websocket);
  g_queue_free_full (client->frames, (GDestroyNotify) json_object_unref);
  g_free (client->id);
  g_free (client->close_reason);
  g_free (client);
}

void
test_client_send (TestClient *client,
                  const char *format,
                  ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  soup_websocket_connection_send_text (client->websocket, text);
}

static gboolean
has_frame_or_closed (TestClient *client)
{
  return !g_queue_is_empty (client->frames) || client->closed;
}

JsonObject *
test_client_receive (TestClient *client)
{
  guint timeout = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS, on_timeout, NULL);

  while (!has_frame_or_closed (client))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);

  if (g_queue_is_empty (client->frames))
    g_error ("Connection closed (%u %s) while waiting for a frame",
             client->close_code, client->close_reason);

  return g_queue_pop_head (client->frames);
}

JsonObject *
test_client_expect (TestClient *client,
                    const char *type)
{
  JsonObject *frame = test_client_receive (client);
  const char *got = json_object_get_string_member_with_default (frame, "type", "(none)");

  if (g_strcmp0 (got, type) != 0)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), frame);
      g_autofree char *text = json_to_string (node, FALSE);

      g_error ("Expected a “%s” frame, got %s", type, text);
    }

  return frame;
}

void
test_client_expect_error (TestClient *client,
                          const char *code)
{
  g_autoptr(JsonObject) error = test_client_expect (client, "error");

  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, code);
  g_assert_true (json_object_has_member (error, "message"));
}

/* Proves that nothing is queued for @client: a ping sent now is
 * answered after anything the server already sent, so the next frame
 * must be the pong. */
void
test_client_assert_idle (TestClient *client)
{
  g_autoptr(JsonObject) pong = NULL;

  test_client_send (client, "{\"type\":\"ping\",\"rid\":\"idle-check\"}");
  pong = test_client_expect (client, "pong");
  g_assert_cmpstr (json_object_get_string_member (pong, "rid"), ==, "idle-check");
}

void
test_client_wait_closed (TestClient *client)
{
  test_run_until (&client->closed);
}

typedef struct {
  guint port;
  char *path;
  GPtrArray *texts;
  gushort close_code;
  gint done;
} RawSession;

static gboolean
read_exactly (GInputStream *input,
              guint8       *buffer,
              gsize         length)
{
  gsize read = 0;

  return g_input_stream_read_all (input, buffer, length, &read, NULL, NULL) && read == length;
}

/*
 * test_raw_websocket_open:
 *
 * A WebSocket client by hand (blocking, for a thread of its own):
 * connects to 127.0.0.1:@port, upgrades @path and skips the 101
 * response's headers. @out_input reads the server's frames.
 */
GSocketConnection *
test_raw_websocket_open (guint              port,
                         const char        *path,
                         GDataInputStream **out_input)
{
  return test_raw_websocket_open_with (port, path, NULL, out_input);
}

/*
 * test_raw_websocket_open_with:
 * @early: (nullable): bytes sent in the same write as the upgrade
 *   request, before any answer: frames of a client that does not wait
 *
 * As test_raw_websocket_open().
 */
GSocketConnection *
test_raw_websocket_open_with (guint              port,
                              const char        *path,
                              GBytes            *early,
                              GDataInputStream **out_input)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) input = NULL;
  g_autofree char *request = NULL;
  GOutputStream *output;

  connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", port, NULL, NULL);
  g_assert_nonnull (connection);
  output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (input), 1);

  request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n", path);
  if (early != NULL)
    {
      g_autoptr(GByteArray) joined = g_byte_array_new ();

      g_byte_array_append (joined, (const guint8 *) request, strlen (request));
      g_byte_array_append (joined, g_bytes_get_data (early, NULL), g_bytes_get_size (early));
      g_assert_true (g_output_stream_write_all (output, joined->data, joined->len, NULL, NULL, NULL));
    }
  else
    g_assert_true (g_output_stream_write_all (output, request, strlen (request), NULL, NULL, NULL));

  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (input, NULL, NULL, NULL);

      g_assert_nonnull (line);
      if (*line == '\0' || g_str_equal (line, "\r"))
        break;
    }

  *out_input = g_steal_pointer (&input);
  return g_steal_pointer (&connection);
}

/*
 * test_raw_websocket_read_frame:
 *
 * Reads one server frame: a text frame's payload is added to @texts.
 * FALSE at the end: a close frame (its code in @close_code, 1005 for
 * none) or the end of the stream.
 */
gboolean
test_raw_websocket_read_frame (GInputStream *input,
                               GPtrArray    *texts,
                               gushort      *close_code)
{
  return test_raw_websocket_read_frame_full (input, texts, NULL, close_code);
}

/*
 * test_raw_websocket_read_frame_full:
 * @pongs: (nullable): where pong payloads go
 *
 * As test_raw_websocket_read_frame(), keeping pongs too.
 */
gboolean
test_raw_websocket_read_frame_full (GInputStream *input,
                                    GPtrArray    *texts,
                                    GPtrArray    *pongs,
                                    gushort      *close_code)
{
  guint8 header[2];
  guint64 length;
  g_autofree guint8 *payload = NULL;

  if (!read_exactly (input, header, 2))
    return FALSE;
  length = header[1] & 0x7f;
  if (length == 126)
    {
      guint8 ext[2];

      g_assert_true (read_exactly (input, ext, 2));
      length = (ext[0] << 8) | ext[1];
    }
  g_assert_cmpuint (length, <, 65536);

  payload = g_malloc0 (length + 1);
  if (!read_exactly (input, payload, length))
    return FALSE;

  switch (header[0] & 0x0f)
    {
    case 0x1:
      g_ptr_array_add (texts, g_strdup ((char *) payload));
      return TRUE;
    case 0x8:
      *close_code = length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
      return FALSE;
    case 0xa:
      if (pongs != NULL)
        g_ptr_array_add (pongs, g_strdup ((char *) payload));
      return TRUE;
    default:
      return TRUE;
    }
}

static gpointer
raw_session_thread (gpointer user_data)
{
  RawSession *session = user_data;
  g_autoptr(GDataInputStream) input = NULL;
  g_autoptr(GSocketConnection) connection =
    test_raw_websocket_open (session->port, session->path, &input);

  while (test_raw_websocket_read_frame (G_INPUT_STREAM (input), session->texts, &session->close_code))
    ;

  g_atomic_int_set (&session->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/*
 * test_raw_session:
 *
 * Opens a WebSocket by hand and reads until the server's close frame,
 * for the close codes libsoup's client refuses to report (1013).
 */
GPtrArray *
test_raw_session (SignalingServer *server,
                  const char      *path,
                  gushort         *out_close_code)
{
  RawSession session = { 0 };
  g_autoptr(GThread) thread = NULL;
  guint timeout = g_timeout_add_seconds (TEST_TIMEOUT_SECONDS, on_timeout, NULL);

  session.port = signaling_server_get_port (server);
  session.path = (char *) path;
  session.texts = g_ptr_array_new_with_free_func (g_free);
  thread = g_thread_new ("raw-websocket", raw_session_thread, &session);

  while (!g_atomic_int_get (&session.done))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  g_thread_join (g_steal_pointer (&thread));

  *out_close_code = session.close_code;
  return session.texts;
}

typedef struct {
  gboolean done;
  GBytes *body;
} SendData;

static void
on_sent_and_read (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SendData *data = user_data;
  g_autoptr(GError) error = NULL;

  data->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
  data->done = TRUE;
}

/* Sends @msg with the main loop running, as the server shares it, and
 * returns the whole response body; the status is on @msg. */
GBytes *
test_send_and_read (SoupSession *session,
                    SoupMessage *msg)
{
  SendData data = { 0 };

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_sent_and_read, &data);
  test_run_until (&data.done);
  return data.body;
}

void
test_server_fixture_setup (TestServerFixture *fixture,
                           gconstpointer      data)
{
  fixture->server = test_server_new ();
}

void
test_server_fixture_teardown (TestServerFixture *fixture,
                              gconstpointer      data)
{
  g_clear_object (&fixture->server);
}
