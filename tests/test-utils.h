/* test-utils.h: a real server and real WebSocket clients for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include <signaling.h>

G_BEGIN_DECLS

/* Only a guard against hangs: every wait ends as soon as its event
 * happens, so no test ever sleeps to synchronize. */
#define TEST_TIMEOUT_SECONDS 10

typedef struct {
  SoupWebsocketConnection *websocket;
  GQueue *frames;           /* JsonObject *, oldest first */
  char *id;
  gboolean closed;
  gushort close_code;
  char *close_reason;
} TestClient;

gboolean         test_have_soup_workarounds (void);
gboolean         test_skip_without_soup_workarounds (const char *reason);
SignalingServer *test_server_new            (void);
char            *test_server_get_url        (SignalingServer *server,
                                             const char      *scheme,
                                             const char      *path);
void             test_run_until             (gboolean        *flag);

TestClient      *test_client_connect        (SignalingServer *server);
TestClient      *test_client_connect_raw    (const char      *url,
                                             const char      *origin,
                                             GError         **error);
TestClient      *test_client_connect_session (SoupSession    *session,
                                              const char     *url,
                                              const char     *origin,
                                              GError        **error);
void             test_client_free           (TestClient      *client);
void             test_client_send           (TestClient      *client,
                                             const char      *format,
                                             ...) G_GNUC_PRINTF (2, 3);
JsonObject      *test_client_receive        (TestClient      *client) G_GNUC_WARN_UNUSED_RESULT;
JsonObject      *test_client_expect         (TestClient      *client,
                                             const char      *type) G_GNUC_WARN_UNUSED_RESULT;
void             test_client_expect_error   (TestClient      *client,
                                             const char      *code);
void             test_client_assert_idle    (TestClient      *client);
void             test_client_wait_closed    (TestClient      *client);
GBytes          *test_send_and_read         (SoupSession     *session,
                                             SoupMessage     *msg);
GPtrArray       *test_raw_session           (SignalingServer *server,
                                             const char      *path,
                                             gushort         *out_close_code);
GSocketConnection *test_raw_websocket_open  (guint              port,
                                             const char        *path,
                                             GDataInputStream **out_input);
GSocketConnection *test_raw_websocket_open_with (guint              port,
                                                 const char        *path,
                                                 GBytes            *early,
                                                 GDataInputStream **out_input);
gboolean         test_raw_websocket_read_frame (GInputStream *input,
                                                GPtrArray    *texts,
                                                gushort      *close_code);
gboolean         test_raw_websocket_read_frame_full (GInputStream *input,
                                                     GPtrArray    *texts,
                                                     GPtrArray    *pongs,
                                                     gushort      *close_code);

/* The fixture of suites that need one in-process server and nothing
 * else. */
typedef struct {
  SignalingServer *server;
} TestServerFixture;

void             test_server_fixture_setup    (TestServerFixture *fixture,
                                               gconstpointer      data);
void             test_server_fixture_teardown (TestServerFixture *fixture,
                                               gconstpointer      data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestClient, test_client_free)

G_END_DECLS
