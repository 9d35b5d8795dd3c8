/* signaling-util.c: small helpers shared inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <sys/random.h>

#include "signaling-socket-stream-private.h"
#include "signaling-util-private.h"

/* 22 characters of [A-Za-z0-9]: 22 × log2(62) = 131 bits. */
#define ID_LENGTH 22

static void
fill_random (guint8 *buffer,
             gsize   length)
{
  gsize filled = 0;

  /* getrandom() draws from the kernel CSPRNG: ids are capabilities
   * (anyone who knows one can send to that peer), so GLib's
   * Mersenne Twister is not good enough here. */
  while (filled < length)
    {
      gssize n = getrandom (buffer + filled, length - filled, 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          g_error ("getrandom() failed: %s", g_strerror (errno));
        }
      filled += n;
    }
}

/*
 * signaling_generate_id:
 *
 * Makes a new unguessable identifier: 22 letters and digits, 131
 * random bits.
 *
 * Only letters and digits, because an id is also the last element of
 * its D-Bus object path (`…/client/ID`), where every other character
 * is escaped (`-` as `_2d`, `_` as `_5f`): with base64url that was
 * half of all ids, whose path then was not the id. It also never
 * starts with `-`, which command lines (`signalboxctl kick ID`,
 * busctl, gdbus) would read as an option.
 */
char *
signaling_generate_id (void)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  /* The largest multiple of 62 a byte holds: bytes from 248 up are
   * drawn again, so that every character is equally likely. */
  const guint8 limit = 62 * 4;
  char id[ID_LENGTH + 1] = { 0 };
  gsize filled = 0;

  while (filled < ID_LENGTH)
    {
      guint8 bytes[32];

      fill_random (bytes, sizeof bytes);
      for (gsize i = 0; i < sizeof bytes && filled < ID_LENGTH; i++)
        if (bytes[i] < limit)
          id[filled++] = alphabet[bytes[i] % 62];
    }

  return g_strdup (id);
}

static void
append_frame_header (GByteArray *frame,
                     guint8      opcode,
                     gsize       length)
{
  guint8 header[4] = { 0x80 | opcode };

  /* Server frames are not masked (RFC 6455 §5.1). */
  if (length < 126)
    {
      header[1] = length;
      g_byte_array_append (frame, header, 2);
    }
  else
    {
      g_assert (length <= G_MAXUINT16);
      header[1] = 126;
      header[2] = length >> 8;
      header[3] = length & 0xff;
      g_byte_array_append (frame, header, 4);
    }
}

static void
on_reject_written (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SoupWebsocketConnection) websocket = user_data;
  GIOStream *stream = soup_websocket_connection_get_io_stream (websocket);

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/*
 * signaling_websocket_reject:
 * @websocket: a WebSocket that has not sent anything yet
 * @text: a text frame to send first
 * @code: the close code
 * @reason: the close reason
 *
 * Sends @text and a close frame, then drops the connection.
 *
 * libsoup refuses to send registered close codes it does not know,
 * such as 1013 (try again later), so this writes both frames to the
 * stream itself. Nothing else may use @websocket afterwards.
 */
void
signaling_websocket_reject (SoupWebsocketConnection *websocket,
                            const char              *text,
                            gushort                  code,
                            const char              *reason)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (websocket);
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  gsize text_length = strlen (text);
  gsize reason_length = MIN (strlen (reason), 123);  /* control frames carry ≤ 125 bytes */
  guint8 code_bytes[2] = { code >> 8, code & 0xff };
  gsize size;
  guint8 *data;

  append_frame_header (frames, 0x1, text_length);
  g_byte_array_append (frames, (const guint8 *) text, text_length);
  append_frame_header (frames, 0x8, 2 + reason_length);
  g_byte_array_append (frames, code_bytes, 2);
  g_byte_array_append (frames, (const guint8 *) reason, reason_length);

  size = frames->len;
  data = g_byte_array_free (g_steal_pointer (&frames), FALSE);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream), data, size,
                                   G_PRIORITY_DEFAULT, NULL, on_reject_written,
                                   g_object_ref (websocket));
  /* The buffer must outlive the write: tie it to the WebSocket. */
  g_object_set_data_full (G_OBJECT (websocket), "signaling-reject-buffer", data, g_free);
}

/* Outgoing backlog of a WebSocket.
 *
 * libsoup queues frames without limit when the peer stops reading and
 * has no API to tell how much is queued. It only queues once a write
 * would block, though, so a socket that polls writable has nothing
 * queued. We count what was sent since the socket was last seen
 * writable: an upper bound of the backlog, reset whenever the peer
 * catches up. */

typedef struct
{
  GSocket *socket;
  gsize backlog;
} SendBacklog;

static void
send_backlog_free (SendBacklog *state)
{
  g_clear_object (&state->socket);
  g_free (state);
}

static GQuark
send_backlog_quark (void)
{
  return g_quark_from_static_string ("signaling-send-backlog");
}

/*
 * signaling_websocket_track_backlog:
 * @websocket: a WebSocket just accepted by the server
 * @msg: the request that upgraded to it
 *
 * Lets signaling_websocket_send() measure what @websocket's peer has
 * not read yet.
 */
/* The socket under a server-side WebSocket. libsoup only knows it for
 * connections it accepted itself; for streams handed to it, it is the
 * one under the stream libsoup wraps ("base-iostream"). */
static GIOStream *
websocket_get_base_stream (SoupWebsocketConnection *websocket)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (websocket);
  GIOStream *base = NULL;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream") == NULL)
    return g_object_ref (stream);

  g_object_get (stream, "base-iostream", &base, NULL);
  return base;
}

static GSocket *
websocket_get_socket (SoupWebsocketConnection *websocket,
                      SoupServerMessage       *msg)
{
  g_autoptr(GIOStream) base = NULL;

  if (soup_server_message_get_socket (msg) != NULL)
    return soup_server_message_get_socket (msg);

  base = websocket_get_base_stream (websocket);
  if (SIGNALING_IS_SOCKET_STREAM (base))
    return signaling_socket_stream_get_socket (SIGNALING_SOCKET_STREAM (base));
  return G_IS_SOCKET_CONNECTION (base) ? g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)) : NULL;
}

void
signaling_websocket_track_backlog (SoupWebsocketConnection *websocket,
                                   SoupServerMessage       *msg)
{
  GSocket *socket = websocket_get_socket (websocket, msg);
  SendBacklog *state;

  if (socket == NULL)
    return;

  state = g_new0 (SendBacklog, 1);
  state->socket = g_object_ref (socket);
  g_object_set_qdata_full (G_OBJECT (websocket), send_backlog_quark (), state,
                           (GDestroyNotify) send_backlog_free);
}

static gboolean
backlog_allows (SoupWebsocketConnection *websocket,
                gsize                    length,
                gsize                    limit)
{
  SendBacklog *state = g_object_get_qdata (G_OBJECT (websocket), send_backlog_quark ());

  if (state == NULL || limit == 0)
    return TRUE;

  if (g_socket_condition_check (state->socket, G_IO_OUT) & G_IO_OUT)
    state->backlog = 0;

  state->backlog += length;
  return state->backlog <= limit;
}

/*
 * signaling_websocket_send:
 * @websocket: an open WebSocket
 * @type: text or binary
 * @data: the payload
 * @length: its size in bytes
 * @limit: most bytes the peer may leave unread, 0 for no limit
 *
 * Sends a frame, unless the peer has fallen more than @limit bytes
 * behind: then the connection is closed with 1008 instead, because a
 * peer that does not read would otherwise make us buffer without end.
 *
 * Returns: %FALSE if the connection was closed instead of sending
 */
gboolean
signaling_websocket_send (SoupWebsocketConnection *websocket,
                          SoupWebsocketDataType    type,
                          gconstpointer            data,
                          gsize                    length,
                          gsize                    limit)
{
  if (soup_websocket_connection_get_state (websocket) != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;

  if (!backlog_allows (websocket, length, limit))
    {
      g_debug ("Closing a WebSocket whose peer left more than %" G_GSIZE_FORMAT " bytes unread", limit);
      soup_websocket_connection_close (websocket, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                       "send queue full");
      return FALSE;
    }

  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    soup_websocket_connection_send_binary (websocket, data, length);
  else
    soup_websocket_connection_send_text (websocket, data);
  return TRUE;
}

/*
 * signaling_websocket_limit_messages:
 * @websocket: a WebSocket just accepted by the server
 * @max_message_size: most bytes a message may have, over all its
 *   fragments; 0 for no limit
 * @text_as_binary: see signaling_socket_stream_limit_messages()
 * @out_stream: (out) (transfer full) (nullable): the stream to watch
 *   for #SignalingSocketStream::message-too-large, or %NULL if the
 *   WebSocket does not run on one (libsoup's own checks apply then)
 *
 * Holds @websocket's messages to @max_message_size, with a readable
 * refusal. This works around libsoup, which cannot do either:
 *
 * - before 3.7.1, it checks max-incoming-payload-size per frame only,
 *   so a message sent in fragments grows without bound
 *   (CVE-2025-32049; 3.7.1 added max-total-message-size);
 * - in every release so far (3.7.x), a frame or message over its
 *   limits is closed "with prejudice": no close frame, the peer only
 *   sees the connection drop.
 *
 * So the socket stream follows the frame headers before libsoup reads
 * them and stops at the first frame that makes its message too large;
 * the connection then sends its error and a 1009 close itself. When
 * libsoup closes such frames cleanly, this and the frame tracker in
 * signaling-socket-stream.c can go.
 *
 * Returns: %FALSE if the stream's bytes cannot be followed (the
 *   request was no plain GET) and @websocket must be closed
 */
gboolean
signaling_websocket_limit_messages (SoupWebsocketConnection  *websocket,
                                    guint64                   max_message_size,
                                    gboolean                  text_as_binary,
                                    SignalingSocketStream   **out_stream)
{
  g_autoptr(GIOStream) base = websocket_get_base_stream (websocket);

  *out_stream = NULL;

#if SOUP_CHECK_VERSION (3, 7, 1)
  /* A second line of defence where libsoup has one. */
  soup_websocket_connection_set_max_total_message_size (websocket, max_message_size);
#endif

  if (!SIGNALING_IS_SOCKET_STREAM (base))
    return TRUE;

  if (!signaling_socket_stream_limit_messages (SIGNALING_SOCKET_STREAM (base),
                                               max_message_size, text_as_binary))
    return FALSE;

  *out_stream = SIGNALING_SOCKET_STREAM (g_steal_pointer (&base));
  return TRUE;
}

/*
 * signaling_http_has_body:
 *
 * Whether the request announces a body. A WebSocket upgrade must not:
 * its frames would follow the body, where the frame tracker (see
 * signaling_websocket_limit_messages()) does not look for them.
 */
gboolean
signaling_http_has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      return FALSE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (headers) > 0;
    case SOUP_ENCODING_UNRECOGNIZED:
    case SOUP_ENCODING_EOF:
    case SOUP_ENCODING_CHUNKED:
    case SOUP_ENCODING_BYTERANGES:
    default:
      return TRUE;
    }
}
