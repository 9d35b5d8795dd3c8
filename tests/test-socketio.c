/* test-socketio.c: the Socket.IO side of a real server, over long-polling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test drives an in-process SignalingServer with plain HTTP
 * requests, as socket.io-client does on its polling transport. The
 * suite runs with G_DEBUG=fatal-criticals, so a critical anywhere in
 * the server fails the test; in the ASan build LeakSanitizer checks
 * that nothing a request allocated is left behind.
 */
#include "test-utils.h"

#define RECORD_SEPARATOR "\x1e"

typedef struct {
  SoupSession *session;
  char *base;      /* the handshake URL */
  char *url;       /* with the session id */
  char *id;        /* the Socket.IO socket id, from `your_id` */
  GQueue *packets; /* char *, received but not yet looked at */
} Poller;

static guint
request (Poller      *poller,
         const char  *method,
         const char  *url,
         const char  *body,
         gsize        body_length,
         char       **out_body)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) response = NULL;
  gsize size;
  const char *data;

  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, body_length);

      soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8", bytes);
    }

  response = test_send_and_read (poller->session, msg);
  data = g_bytes_get_data (response, &size);
  if (out_body != NULL)
    *out_body = g_strndup (data, size);
  return soup_message_get_status (msg);
}

static void
post (Poller     *poller,
      const char *body)
{
  g_autofree char *reply = NULL;

  g_assert_cmpuint (request (poller, "POST", poller->url, body, strlen (body), &reply), ==, 200);
  g_assert_cmpstr (reply, ==, "ok");
}

/* Returns the next packet the server sent, long-polling for more when
 * none is waiting. */
static char *
next_packet (Poller *poller)
{
  while (g_queue_is_empty (poller->packets))
    {
      g_autofree char *body = NULL;
      g_auto(GStrv) packets = NULL;

      g_assert_cmpuint (request (poller, "GET", poller->url, NULL, 0, &body), ==, 200);
      packets = g_strsplit (body, RECORD_SEPARATOR, -1);
      for (guint i = 0; packets[i] != NULL; i++)
        g_queue_push_tail (poller->packets, g_steal_pointer (&packets[i]));
    }

  return g_queue_pop_head (poller->packets);
}

/* Asserts that the next packet starts with @prefix and returns it:
 * nothing else may have come first. */
static char *
expect_packet (Poller     *poller,
               const char *prefix)
{
  char *packet = next_packet (poller);

  if (!g_str_has_prefix (packet, prefix))
    g_error ("expected a packet starting with %s, got %s", prefix, packet);
  return packet;
}

static Poller *
poller_open (SignalingServer *server,
             const char      *connect)
{
  Poller *poller = g_new0 (Poller, 1);
  g_autofree char *open = NULL;
  g_autofree char *your_id = NULL;
  g_autoptr(JsonNode) handshake = NULL;
  g_autoptr(JsonNode) args = NULL;

  poller->session = soup_session_new ();
  poller->packets = g_queue_new ();
  poller->base = test_server_get_url (server, "http", "/socket.io/?EIO=4&transport=polling");

  g_assert_cmpuint (request (poller, "GET", poller->base, NULL, 0, &open), ==, 200);
  g_assert_true (g_str_has_prefix (open, "0"));
  handshake = json_from_string (open + 1, NULL);
  g_assert_nonnull (handshake);
  poller->url = g_strdup_printf ("%s&sid=%s", poller->base,
                                 json_object_get_string_member (json_node_get_object (handshake), "sid"));

  post (poller, connect);
  g_free (expect_packet (poller, "40{\"sid\":"));
  your_id = expect_packet (poller, "42[\"your_id\",");
  args = json_from_string (your_id + 2, NULL);
  poller->id = g_strdup (json_array_get_string_element (json_node_get_array (args), 1));

  return poller;
}

static void
poller_free (Poller *poller)
{
  g_queue_free_full (poller->packets, g_free);
  g_free (poller->id);
  g_free (poller->url);
  g_free (poller->base);
  g_object_unref (poller->session);
  g_free (poller);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Poller, poller_free)

/* A seed 000 offer to itself comes back: the session is alive and has
 * sent nothing else meanwhile. */
static void
assert_alive (Poller *poller)
{
  g_autofree char *body = g_strdup_printf ("42[\"offer_sdp\",\"{\\\"targetClientId\\\":\\\"%s\\\",\\\"sdp\\\":\\\"alive\\\"}\"]",
                                           poller->id);
  g_autofree char *expected = g_strdup_printf ("42[\"offer_sdp\",{\"from\":\"%s\",\"sdp\":\"alive\"}]",
                                               poller->id);
  g_autofree char *packet = NULL;

  post (poller, body);
  packet = next_packet (poller);
  g_assert_cmpstr (packet, ==, expected);
}

/* Issue 12, item 1: every base64 binary packet in a POST leaked its
 * bytes. LeakSanitizer (ASan build) is what fails here before the fix. */
static void
test_polling_binary_packets (void)
{
  g_autoptr(SignalingServer) server = test_server_new ();
  g_autoptr(Poller) poller = poller_open (server, "40");
  g_autofree char *big = NULL;
  g_autofree char *body = NULL;
  guint8 attachment[4096];

  for (gsize i = 0; i < sizeof attachment; i++)
    attachment[i] = i;
  big = g_base64_encode (attachment, sizeof attachment);

  /* An event nobody handles, with two binary attachments, one empty. */
  body = g_strconcat ("452-[\"blob\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
                      RECORD_SEPARATOR "b" RECORD_SEPARATOR "b", big, NULL);
  for (guint i = 0; i < 20; i++)
    post (poller, body);

  assert_alive (poller);
}

/* Issue 12, item 2: a CONNECT without auth data leaked the empty auth
 * object. LeakSanitizer (ASan build) is what fails here before the fix. */
static void
test_connect_without_auth (void)
{
  g_autoptr(SignalingServer) server = test_server_new ();

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(Poller) without = poller_open (server, "40");
      g_autoptr(Poller) with = poller_open (server, "40{\"token\":\"t\"}");

      assert_alive (without);
      assert_alive (with);
    }
}

/* Issue 12, item 3: a `_placeholder` that is not a boolean reached a
 * json-glib getter that is critical on other types. socket.io-parser
 * takes an object as a placeholder only when `_placeholder` is `true`;
 * other values are plain data. */
static void
test_placeholder_shapes (void)
{
  static const char *data[] = {
    "42[\"x\",{\"_placeholder\":[]}]",
    "42[\"x\",{\"_placeholder\":{}}]",
    "42[\"x\",{\"_placeholder\":null}]",
    "42[\"x\",{\"_placeholder\":\"true\"}]",
    "42[\"x\",{\"_placeholder\":1,\"num\":0}]",
    "42[\"x\",[{\"a\":{\"_placeholder\":false}}]]",
    "451-[\"x\",{\"_placeholder\":{\"num\":0}},{\"_placeholder\":true,\"num\":0}]" RECORD_SEPARATOR "bAQID",
  };
  static const char *refused[] = {
    "42[\"x\",{\"_placeholder\":true}]",
    "42[\"x\",{\"_placeholder\":true,\"num\":[]}]",
    "451-[\"x\",{\"_placeholder\":true,\"num\":\"0\"}]" RECORD_SEPARATOR "bAQID",
    "451-[\"x\",{\"_placeholder\":true,\"num\":{}}]" RECORD_SEPARATOR "bAQID",
    "451-[\"x\",{\"_placeholder\":true,\"num\":-1}]" RECORD_SEPARATOR "bAQID",
  };
  g_autoptr(SignalingServer) server = test_server_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (data); i++)
    {
      g_autoptr(Poller) poller = poller_open (server, "40");

      post (poller, data[i]);
      assert_alive (poller);
    }

  /* What socket.io-parser refuses closes the session, as any other
   * packet it cannot parse: the next poll gets the close packet. */
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(Poller) poller = poller_open (server, "40");
      g_autofree char *reply = NULL;
      guint status;

      post (poller, refused[i]);
      status = request (poller, "GET", poller->url, NULL, 0, &reply);
      if (status == 200)
        g_assert_cmpstr (reply, ==, "1");
      else
        g_assert_cmpuint (status, ==, 400);
    }
}

static gboolean
on_offer (SignalingClient  *client,
          SignalingMessage *message,
          GPtrArray        *seen)
{
  /* As examples/c/room-logger.c does. */
  const char *sdp = signaling_message_get_sdp (message);

  g_ptr_array_add (seen, g_strdup (sdp != NULL ? sdp : "(null)"));
  return FALSE;
}

static void
on_client_connected (SignalingServer *server,
                     SignalingClient *client,
                     GPtrArray       *seen)
{
  g_signal_connect (client, "offer", G_CALLBACK (on_offer), seen);
  g_signal_connect (client, "answer", G_CALLBACK (on_offer), seen);
}

/* Issue 12, item 4: an offer whose sdp was not a string was relayed to
 * native peers and handed to applications' handlers. Seed 000 answers
 * it with an `error` event, seed 003 drops it; either way no native
 * peer and no handler sees it. Candidates are held to the native
 * shape likewise. */
/* Puts @id where @template says @T@. */
static char *
with_target (const char *template,
             const char *id)
{
  g_auto(GStrv) parts = g_strsplit (template, "@T@", -1);

  return g_strjoinv (id, parts);
}

static void
test_non_string_sdp (void)
{
  g_autoptr(SignalingServer) server = signaling_server_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(TestClient) native = NULL;
  g_autoptr(Poller) sio = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) offer = NULL;
  g_autoptr(JsonObject) candidate = NULL;
  g_autofree char *body = NULL;

  g_signal_connect (server, "client-connected", G_CALLBACK (on_client_connected), seen);
  signaling_server_listen (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  native = test_client_connect (server);
  sio = poller_open (server, "40");

  /* Seed 000: an error event for each, nothing relayed. */
  {
    static const char *bad[] = {
      "{\\\"targetClientId\\\":\\\"@T@\\\",\\\"sdp\\\":5}",
      "{\\\"targetClientId\\\":\\\"@T@\\\",\\\"sdp\\\":{}}",
      "{\\\"targetClientId\\\":\\\"@T@\\\",\\\"sdp\\\":null}",
      "{\\\"targetClientId\\\":\\\"@T@\\\"}",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      for (guint answer = 0; answer < 2; answer++)
        {
          g_autofree char *argument = with_target (bad[i], native->id);
          g_autofree char *packet = NULL;

          g_free (body);
          body = g_strdup_printf ("42[\"%s\",\"%s\"]", answer ? "answer_sdp" : "offer_sdp", argument);
          post (sio, body);
          packet = expect_packet (sio, "42[\"error\",{\"message\":");
          g_assert_nonnull (strstr (packet, "sdp"));
        }

    g_free (body);
    body = g_strdup_printf ("42[\"send_ice\",\"{\\\"targetClientId\\\":\\\"%s\\\",\\\"candidate\\\":{},\\\"mid\\\":\\\"0\\\"}\"]",
                            native->id);
    post (sio, body);
    g_free (expect_packet (sio, "42[\"error\",{\"message\":"));
    g_free (body);
    body = g_strdup_printf ("42[\"send_ice\",\"{\\\"targetClientId\\\":\\\"%s\\\",\\\"candidate\\\":\\\"c\\\",\\\"mid\\\":7}\"]",
                            native->id);
    post (sio, body);
    g_free (expect_packet (sio, "42[\"error\",{\"message\":"));
  }

  /* Seed 003: dropped without a word. */
  {
    static const char *bad[] = {
      "42[\"offer\",{\"to\":\"@T@\",\"offer\":{\"sdp\":{}}}]",
      "42[\"offer\",{\"to\":\"@T@\",\"offer\":{\"type\":\"offer\",\"sdp\":5}}]",
      "42[\"offer\",{\"to\":\"@T@\",\"offer\":{\"type\":\"offer\"}}]",
      "42[\"offer\",{\"to\":\"@T@\",\"offer\":[\"v=0\"]}]",
      "42[\"offer\",{\"to\":\"@T@\"}]",
      "42[\"answer\",{\"to\":\"@T@\",\"answer\":{\"sdp\":[]}}]",
      "42[\"answer\",{\"to\":\"@T@\",\"answer\":true}]",
      "42[\"candidate\",{\"to\":\"@T@\",\"candidate\":\"c\"}]",
      "42[\"candidate\",{\"to\":\"@T@\",\"candidate\":{\"candidate\":5}}]",
      "42[\"candidate\",{\"to\":\"@T@\",\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}}]",
      "42[\"candidate\",{\"to\":\"@T@\"}]",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_free (body);
        body = with_target (bad[i], native->id);
        post (sio, body);
      }
  }

  /* What is well formed still goes through, and is the first thing
   * the native peer hears. */
  g_free (body);
  body = g_strdup_printf ("42[\"offer\",{\"to\":\"%s\",\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0 ok\"}}]",
                          native->id);
  post (sio, body);
  offer = test_client_expect (native, "offer");
  g_assert_cmpstr (json_object_get_string_member (offer, "sdp"), ==, "v=0 ok");
  g_assert_cmpstr (json_object_get_string_member (offer, "from"), ==, sio->id);

  g_free (body);
  body = g_strdup_printf ("42[\"candidate\",{\"to\":\"%s\",\"candidate\":null}]", native->id);
  post (sio, body);
  candidate = test_client_expect (native, "candidate");
  g_assert_true (json_object_get_null_member (candidate, "candidate"));
  test_client_assert_idle (native);

  /* The handlers saw the good offer only, and the sender was told
   * nothing else. */
  g_assert_cmpuint (seen->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (seen, 0), ==, "v=0 ok");
  assert_alive (sio);
}

/* Issue 12, item 13: a full server turned Socket.IO clients away with
 * a session that ended at its CONNECT (or a bare 400 on the next
 * request). A polling handshake now gets 503 with an Engine.IO error
 * body, and a CONNECT that gets past the handshake a CONNECT_ERROR. */
static void
test_server_full (void)
{
  g_autoptr(SignalingServer) server = test_server_new ();
  g_autoptr(Poller) early = g_new0 (Poller, 1);
  g_autoptr(TestClient) native = NULL;
  g_autoptr(JsonNode) error = NULL;
  g_autofree char *open = NULL;
  g_autofree char *body = NULL;
  g_autofree char *refusal = NULL;
  g_autofree char *close = NULL;
  JsonObject *object;

  g_object_set (server, "max-clients", 1, NULL);

  /* A session that shook hands while there was room... */
  early->session = soup_session_new ();
  early->packets = g_queue_new ();
  early->base = test_server_get_url (server, "http", "/socket.io/?EIO=4&transport=polling");
  g_assert_cmpuint (request (early, "GET", early->base, NULL, 0, &open), ==, 200);
  {
    g_autoptr(JsonNode) handshake = json_from_string (open + 1, NULL);

    early->url = g_strdup_printf ("%s&sid=%s", early->base,
                                  json_object_get_string_member (json_node_get_object (handshake), "sid"));
  }

  /* ...then the server fills up. */
  native = test_client_connect (server);

  g_assert_cmpuint (request (early, "GET", early->base, NULL, 0, &body), ==, 503);
  error = json_from_string (body, NULL);
  g_assert_nonnull (error);
  object = json_node_get_object (error);
  g_assert_cmpint (json_object_get_int_member (object, "code"), ==, 4);
  g_assert_nonnull (strstr (json_object_get_string_member (object, "message"), "limit"));

  /* The early session's CONNECT is refused in Socket.IO's words, and
   * the session ends with a close packet. */
  post (early, "40");
  refusal = expect_packet (early, "44{\"message\":");
  g_assert_nonnull (strstr (refusal, "limit"));
  close = next_packet (early);
  g_assert_cmpstr (close, ==, "1");

  /* The native client was not disturbed. */
  test_client_assert_idle (native);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/socketio/polling/binary-packets", test_polling_binary_packets);
  g_test_add_func ("/socketio/connect/without-auth", test_connect_without_auth);
  g_test_add_func ("/socketio/packet/placeholder-shapes", test_placeholder_shapes);
  g_test_add_func ("/socketio/seeds/non-string-sdp", test_non_string_sdp);
  g_test_add_func ("/socketio/server-full", test_server_full);

  return g_test_run ();
}
