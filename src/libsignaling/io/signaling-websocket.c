/* signaling-websocket.c: the server side of a WebSocket, after libsoup's handshake
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup answers the upgrade request; from then on the connection is
 * ours. We used SoupWebsocketConnection for the frames until issue 14
 * measured it (1000 peers in pairs, 8 messages in flight, see
 * bench/README.md): one write() per frame, a GBytes and a generic
 * GObject signal emission per message, a poll() per send to guess the
 * backlog, and a new input source per read. Around it we needed a frame
 * tracker in the socket stream (libsoup 3.2 bounds messages per frame
 * only, CVE-2025-32049, and drops an oversize one without a close
 * frame), a text-as-binary rewrite (it closes with 1007 where the
 * native protocol answers `bad-json`) and hand-written close frames for
 * codes it refuses (1013). Here, instead:
 *
 * - input is read at most 64 KiB per connection per wake-up, into one
 *   buffer shared by all connections, and parsed in place; only an
 *   unfinished frame is copied, into the connection's own buffer, so an
 *   idle peer holds no buffer at all;
 * - a message's size is checked when its frame header arrives, over
 *   all its fragments, and refused with a close frame;
 * - what is sent is appended to the connection's output buffer and
 *   written once per main loop iteration (one write for many frames),
 *   by one flush source for all connections;
 * - the backlog is known exactly: the bytes the kernel has not taken.
 *
 * permessage-deflate is offered only where asked for (see
 * signaling_websocket_upgrade()), through libsoup's own extension
 * objects; it costs a copy of every message each way.
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include "signaling-utf8-private.h"
#include "signaling-socket-stream-private.h"
#include "signaling-websocket-private.h"

/* Most bytes read from one connection per wake-up. */
#define READ_CHUNK (64 * 1024)

/* Output past this is written at once rather than at the end of the
 * main loop iteration. */
#define FLUSH_THRESHOLD (64 * 1024)

/* How long a closing connection may take to take our close frame. */
#define CLOSE_TIMEOUT_MS 2000

#define OPCODE_CONTINUATION 0x0
#define OPCODE_TEXT         0x1
#define OPCODE_BINARY       0x2
#define OPCODE_CLOSE        0x8
#define OPCODE_PING         0x9
#define OPCODE_PONG         0xa

/* Close codes (RFC 6455 §7.4.1) */
#define CLOSE_NORMAL         1000
#define CLOSE_PROTOCOL_ERROR 1002
#define CLOSE_NO_STATUS      1005
#define CLOSE_ABNORMAL       1006
#define CLOSE_BAD_DATA       1007
#define CLOSE_POLICY         1008
#define CLOSE_TOO_BIG        1009

/* The flusher: one per thread, for all its connections. It writes
 * what each connection queued during a main loop iteration, and ends
 * the connections whose closing is over. It also lends its read buffer
 * to whichever connection is reading. */
typedef struct
{
  GSource source;
  GQueue dirty;  /* SignalingWebsocket *, through their flush_link */
  guint8 scratch[READ_CHUNK + 1];  /* +1: room for a NUL after a payload */
} Flusher;

struct _SignalingWebsocket
{
  GObject parent_instance;

  GIOStream *stream;
  GPollableInputStream *input;
  GPollableOutputStream *output;
  /* A read shorter than asked means the kernel had no more: true of
   * plain sockets, not of TLS, which may hold decrypted bytes. */
  gboolean short_read_drains;
  GSource *input_source;
  GSource *output_source;  /* only while a write would block */
  GSource *close_timeout;
  GList *extensions;  /* SoupWebsocketExtension *, agreed in the handshake */
  /* A closing connection keeps itself until it is closed, so that its
   * close frame goes out whoever drops it. */
  SignalingWebsocket *closing_ref;

  SignalingWebsocketState state;
  gboolean close_received;
  gboolean discarding;  /* after a close frame, an error or a message too large */
  gboolean failed;      /* the connection broke while writing */
  gboolean unparsed;    /* partial holds bytes read with the request */
  gushort close_code;
  char *close_reason;

  const SignalingWebsocketHandlers *handlers;  /* static; NULL: none */
  gpointer handlers_data;
  guint64 max_message_size;
  const char *too_large_reason;  /* static */
  gboolean strict_utf8;
  gsize max_send_queue;

  /* Input: an unfinished frame, and a message arriving in fragments. */
  GByteArray *partial;
  GByteArray *fragments;
  guint8 fragments_opcode;  /* 0: no fragmented message in progress */

  /* Output: bytes from out_offset on are not written yet. */
  GByteArray *out;
  gsize out_offset;
  Flusher *flusher;
  GList flush_link;
};

G_DEFINE_FINAL_TYPE (SignalingWebsocket, signaling_websocket, G_TYPE_OBJECT)

static void flush (SignalingWebsocket *self,
                   gboolean            may_finish);
static void finish (SignalingWebsocket *self);
static void refuse_too_large (SignalingWebsocket *self,
                              guint64             size);

/* The flusher */

static gboolean
flusher_dispatch (GSource     *source,
                  GSourceFunc  callback,
                  gpointer     user_data)
{
  Flusher *flusher = (Flusher *) source;
  GList *link;

  g_source_set_ready_time (source, -1);
  while ((link = g_queue_pop_head_link (&flusher->dirty)) != NULL)
    {
      g_autoptr(SignalingWebsocket) websocket = g_object_ref (link->data);

      link->data = NULL;
      flush (websocket, TRUE);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flusher_funcs = {
  .dispatch = flusher_dispatch,
};

static GPrivate thread_flusher = G_PRIVATE_INIT ((GDestroyNotify) g_source_unref);

/* The flusher of the thread-default main context, new or shared. */
static Flusher *
flusher_acquire (void)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  GSource *source = g_private_get (&thread_flusher);

  if (source == NULL || g_source_is_destroyed (source) || g_source_get_context (source) != context)
    {
      source = g_source_new (&flusher_funcs, sizeof (Flusher));
      g_source_set_static_name (source, "[signaling] websocket flush");
      g_source_attach (source, context);
      g_private_replace (&thread_flusher, source);
    }
  return (Flusher *) g_source_ref (source);
}

static void
schedule_flush (SignalingWebsocket *self)
{
  if (self->flush_link.data != NULL)
    return;

  self->flush_link.data = self;
  g_queue_push_tail_link (&self->flusher->dirty, &self->flush_link);
  g_source_set_ready_time (&self->flusher->source, 0);
}

static void
unschedule_flush (SignalingWebsocket *self)
{
  if (self->flush_link.data == NULL)
    return;

  g_queue_unlink (&self->flusher->dirty, &self->flush_link);
  self->flush_link.data = NULL;
}

/* Output */

/* A frame whose payload is @prefix (may be empty) then @payload: an
 * Engine.IO packet type before its data, without joining them first. */
static void
append_frame_with_prefix (SignalingWebsocket *self,
                          guint8              opcode,
                          const char         *prefix,
                          const void         *payload,
                          gsize               length)
{
  g_autoptr(GBytes) converted = NULL;
  gsize prefix_length = prefix != NULL ? strlen (prefix) : 0;
  guint8 header[10];
  gsize header_length = 2;

  header[0] = 0x80 | opcode;  /* FIN: we never fragment */
  if (self->extensions != NULL && (opcode & 0x08) == 0)
    {
      GByteArray *joined = g_byte_array_sized_new (prefix_length + length);

      g_byte_array_append (joined, (const guint8 *) prefix, prefix_length);
      g_byte_array_append (joined, payload, length);
      converted = g_byte_array_free_to_bytes (joined);
      for (GList *l = self->extensions; l != NULL; l = l->next)
        converted = soup_websocket_extension_process_outgoing_message (l->data, header,
                                                                       converted, NULL);
      payload = g_bytes_get_data (converted, &length);
      prefix_length = 0;
    }
  length += prefix_length;
  if (length < 126)
    header[1] = length;
  else if (length <= G_MAXUINT16)
    {
      header[1] = 126;
      header[2] = length >> 8;
      header[3] = length & 0xff;
      header_length = 4;
    }
  else
    {
      header[1] = 127;
      for (guint i = 0; i < 8; i++)
        header[2 + i] = ((guint64) length >> (56 - 8 * i)) & 0xff;
      header_length = 10;
    }

  if (self->out == NULL)
    self->out = g_byte_array_sized_new (header_length + length);
  g_byte_array_append (self->out, header, header_length);
  if (prefix_length > 0)
    g_byte_array_append (self->out, (const guint8 *) prefix, prefix_length);
  if (length > prefix_length)
    g_byte_array_append (self->out, payload, length - prefix_length);

  /* Scheduled even when written now: should writing fail, the flusher
   * ends the connection, not whoever is sending. */
  schedule_flush (self);
  if (self->out->len - self->out_offset >= FLUSH_THRESHOLD && self->output_source == NULL)
    flush (self, FALSE);
}

static void
append_frame (SignalingWebsocket *self,
              guint8              opcode,
              const void         *payload,
              gsize               length)
{
  append_frame_with_prefix (self, opcode, NULL, payload, length);
}

static gboolean
on_writable (GObject  *stream,
             gpointer  user_data)
{
  SignalingWebsocket *self = user_data;
  g_autoptr(SignalingWebsocket) kept = g_object_ref (self);

  g_source_destroy (self->output_source);
  g_clear_pointer (&self->output_source, g_source_unref);
  flush (self, TRUE);
  return G_SOURCE_REMOVE;
}

static void
wait_writable (SignalingWebsocket *self)
{
  if (self->output_source != NULL)
    return;

  self->output_source = g_pollable_output_stream_create_source (self->output, NULL);
  g_source_set_callback (self->output_source, (GSourceFunc) (GCallback) on_writable, self, NULL);
  g_source_set_static_name (self->output_source, "[signaling] websocket output");
  g_source_attach (self->output_source, g_source_get_context (&self->flusher->source));
}

/* Writes what is queued, as far as the kernel takes it. If
 * @may_finish, ends the connection when its close frame is out or
 * writing failed; otherwise the flusher, which is scheduled, will. */
static void
flush (SignalingWebsocket *self,
       gboolean            may_finish)
{
  g_autoptr(GError) error = NULL;

  if (self->state == SIGNALING_WEBSOCKET_CLOSED)
    return;

  while (!self->failed && self->out != NULL && self->out_offset < self->out->len)
    {
      gssize n = g_pollable_output_stream_write_nonblocking (self->output,
                                                            self->out->data + self->out_offset,
                                                            self->out->len - self->out_offset,
                                                            NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          wait_writable (self);
          return;
        }
      if (n < 0)
        {
          g_debug ("WebSocket write failed: %s", error->message);
          self->failed = TRUE;
          break;
        }
      self->out_offset += n;
    }

  /* Drained: an idle connection holds no buffer. */
  if (self->out != NULL && self->out_offset >= self->out->len)
    {
      g_clear_pointer (&self->out, g_byte_array_unref);
      self->out_offset = 0;
    }

  if (!may_finish)
    return;
  if (self->failed || (self->state == SIGNALING_WEBSOCKET_CLOSING && self->out == NULL))
    finish (self);
}

/* Closing */

static void
set_close_status (SignalingWebsocket *self,
                  gushort             code,
                  const char         *reason)
{
  self->close_code = code;
  g_free (self->close_reason);
  self->close_reason = g_strdup (reason != NULL ? reason : "");
}

static gboolean
on_close_timeout (gpointer user_data)
{
  SignalingWebsocket *self = user_data;
  g_autoptr(SignalingWebsocket) kept = g_object_ref (self);

  g_debug ("WebSocket peer did not take our close frame in time");
  finish (self);
  return G_SOURCE_REMOVE;
}

/* A close reason must fit a control frame (125 bytes, 2 for the code)
 * and stay UTF-8. */
static gsize
reason_length (const char *reason)
{
  gsize length = reason != NULL ? strlen (reason) : 0;
  const char *end;

  if (length <= 123)
    return length;
  g_utf8_validate_len (reason, 123, &end);
  return end - reason;
}

static void
queue_close (SignalingWebsocket *self,
             gushort             code,
             const char         *reason)
{
  guint8 payload[125];
  gsize length = 0;

  if (code != CLOSE_NO_STATUS)
    {
      payload[0] = code >> 8;
      payload[1] = code & 0xff;
      length = 2 + reason_length (reason);
      if (length > 2)
        memcpy (payload + 2, reason, length - 2);
    }

  self->state = SIGNALING_WEBSOCKET_CLOSING;
  self->discarding = TRUE;
  self->closing_ref = g_object_ref (self);
  append_frame (self, OPCODE_CLOSE, payload, length);

  self->close_timeout = g_timeout_source_new (CLOSE_TIMEOUT_MS);
  g_source_set_callback (self->close_timeout, on_close_timeout, self, NULL);
  g_source_set_static_name (self->close_timeout, "[signaling] websocket close");
  g_source_attach (self->close_timeout, g_source_get_context (&self->flusher->source));
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
release_io (SignalingWebsocket *self)
{
  destroy_source (&self->input_source);
  destroy_source (&self->output_source);
  destroy_source (&self->close_timeout);
}

/* Lingering close: how long, and how much, a closed WebSocket's
 * peer may still send before we let go. On loopback a peer that sends
 * without pause has megabytes in flight in the two socket buffers when
 * it hears our close: 1 MiB was not enough to reach its close (the
 * Engine.IO test of endless fragments saw 1006 now and then); reading
 * 16 MiB costs a few milliseconds. */
#define LINGER_SECONDS 2
#define LINGER_MAX_BYTES (16 * 1024 * 1024)
#define DRAIN_CHUNK (64 * 1024)

typedef struct
{
  GIOStream *stream;
  GSocket *socket;
  gsize drained;
} Linger;

static void
linger_free (Linger *linger)
{
  g_io_stream_close (linger->stream, NULL, NULL);
  g_object_unref (linger->stream);
  g_object_unref (linger->socket);
  g_free (linger);
}

static gboolean
on_linger_readable (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  Linger *linger = user_data;
  char scratch[DRAIN_CHUNK];
  gssize n = g_socket_receive_with_blocking (socket, scratch, sizeof scratch, FALSE, NULL, NULL);

  /* Woken by the deadline, the read would block. */
  if (n > 0 && (linger->drained += n) < LINGER_MAX_BYTES)
    return G_SOURCE_CONTINUE;
  return G_SOURCE_REMOVE;  /* end of stream, an error, time or enough */
}

static GSocket *
stream_get_socket (GIOStream *stream)
{
  if (SIGNALING_IS_SOCKET_STREAM (stream))
    return signaling_socket_stream_get_socket (SIGNALING_SOCKET_STREAM (stream));
  if (G_IS_SOCKET_CONNECTION (stream))
    return g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  return NULL;  /* TLS: its close says goodbye itself */
}

/* Closing a socket with unread input makes the kernel send a reset,
 * and a reset makes the peer's kernel throw away what it received and
 * the peer did not read yet: our last messages and close frame, when
 * the peer's own close frame (or anything else) arrives after we
 * closed. So the socket is shut down for writing (the close frame
 * goes, then FIN) and drained until the peer closes too, or for a
 * bounded time and amount, before it is closed. */
static void
close_lingering (GIOStream *stream)
{
  GSocket *socket = stream_get_socket (stream);
  g_autoptr(GSource) readable = NULL;
  g_autoptr(GSource) deadline = NULL;
  Linger *linger;

  if (socket == NULL || g_socket_is_closed (socket) || !g_socket_shutdown (socket, FALSE, TRUE, NULL))
    {
      g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      return;
    }

  linger = g_new0 (Linger, 1);
  linger->stream = g_object_ref (stream);
  linger->socket = g_object_ref (socket);
  readable = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (readable, (GSourceFunc) (GCallback) on_linger_readable,
                         linger, (GDestroyNotify) linger_free);
  g_source_set_static_name (readable, "[signaling] lingering close");
  /* The deadline, as a child: it wakes the source, whose read then
   * finds nothing and ends it. */
  deadline = g_timeout_source_new_seconds (LINGER_SECONDS);
  g_source_set_dummy_callback (deadline);
  g_source_add_child_source (readable, deadline);
  g_source_attach (readable, g_main_context_get_thread_default ());
}

/* The connection is over: the socket goes, the owner is told. Only
 * ever called from the main loop (a read, a flush, a timeout), never
 * from a call of the owner's, which may not expect its handlers to run
 * there. */
static void
finish (SignalingWebsocket *self)
{
  g_autoptr(SignalingWebsocket) kept = NULL;

  if (self->state == SIGNALING_WEBSOCKET_CLOSED)
    return;

  kept = g_object_ref (self);
  if (!self->close_received && self->state == SIGNALING_WEBSOCKET_OPEN)
    set_close_status (self, CLOSE_ABNORMAL, NULL);
  self->state = SIGNALING_WEBSOCKET_CLOSED;
  self->discarding = TRUE;

  release_io (self);
  unschedule_flush (self);
  g_clear_pointer (&self->partial, g_byte_array_unref);
  g_clear_pointer (&self->fragments, g_byte_array_unref);
  g_clear_pointer (&self->out, g_byte_array_unref);

  close_lingering (self->stream);

  if (self->handlers != NULL && self->handlers->closed != NULL)
    self->handlers->closed (self, self->handlers_data);
  g_clear_object (&self->closing_ref);
}

static void
fail (SignalingWebsocket *self,
      gushort             code,
      const char         *reason)
{
  g_debug ("Closing a WebSocket: %s (%u)", reason, code);
  self->discarding = TRUE;
  if (self->state == SIGNALING_WEBSOCKET_OPEN)
    {
      set_close_status (self, code, reason);
      queue_close (self, code, reason);
    }
}

/* Input */

static void
deliver (SignalingWebsocket *self,
         guint8              opcode,
         guint8             *payload,
         gsize               length)
{
  gboolean is_text = opcode == OPCODE_TEXT;
  guint8 after = payload[length];

  if (is_text && self->strict_utf8 && !signaling_utf8_validate ((const char *) payload, length))
    {
      fail (self, CLOSE_BAD_DATA, "Invalid UTF-8 in a text message");
      return;
    }
  if (self->handlers == NULL || self->handlers->message == NULL)
    return;

  /* Borrowed for the call: the first byte of the next frame, or the
   * spare byte at the end of the buffer. */
  payload[length] = '\0';
  self->handlers->message (self, is_text, (const char *) payload, length, self->handlers_data);
  payload[length] = after;
}

static void
on_data_frame (SignalingWebsocket *self,
               guint8              opcode,
               gboolean            fin,
               guint8             *payload,
               gsize               length)
{
  if (self->state != SIGNALING_WEBSOCKET_OPEN)
    return;

  if (opcode != OPCODE_CONTINUATION && fin)
    {
      deliver (self, opcode, payload, length);
      return;
    }

  if (opcode != OPCODE_CONTINUATION)
    {
      self->fragments_opcode = opcode;
      self->fragments = g_byte_array_sized_new (length + 1);
    }
  g_byte_array_append (self->fragments, payload, length);
  if (!fin)
    return;

  {
    g_autoptr(GByteArray) message = g_steal_pointer (&self->fragments);
    gsize size = message->len;

    opcode = self->fragments_opcode;
    self->fragments_opcode = 0;
    g_byte_array_append (message, (const guint8 *) "", 1);
    deliver (self, opcode, message->data, size);
  }
}

/* A data frame through the agreed extensions (inflated), then as any
 * other. The message's size is checked again once inflated. */
static void
on_extended_data_frame (SignalingWebsocket *self,
                        guint8              first,
                        const guint8       *payload,
                        gsize               length)
{
  g_autoptr(GBytes) bytes = g_bytes_new (payload, length);
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  guint8 opcode = first & 0x0f;
  guint64 size;

  for (GList *l = self->extensions; l != NULL && bytes != NULL; l = l->next)
    bytes = soup_websocket_extension_process_incoming_message (l->data, &first, g_steal_pointer (&bytes),
                                                               &error);
  if (bytes == NULL)
    {
      fail (self, CLOSE_PROTOCOL_ERROR, error != NULL ? error->message : "Bad compressed frame");
      return;
    }

  size = g_bytes_get_size (bytes) + (opcode == OPCODE_CONTINUATION ? self->fragments->len : 0);
  if (self->max_message_size > 0 && size > self->max_message_size)
    {
      refuse_too_large (self, size);
      return;
    }

  /* deliver() wants a spare byte after the payload. */
  copy = g_malloc (g_bytes_get_size (bytes) + 1);
  memcpy (copy, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  on_data_frame (self, opcode, (first & 0x80) != 0, copy, g_bytes_get_size (bytes));
}

static gboolean
close_code_is_valid (gushort code)
{
  if (code >= 3000 && code <= 4999)
    return TRUE;
  return code >= 1000 && code <= 1014 && code != 1004 && code != CLOSE_NO_STATUS &&
         code != CLOSE_ABNORMAL;
}

static void
on_close_frame (SignalingWebsocket *self,
                const guint8       *payload,
                gsize               length)
{
  gushort code = CLOSE_NO_STATUS;
  g_autofree char *reason = NULL;

  if (length == 1)
    {
      fail (self, CLOSE_PROTOCOL_ERROR, "Close frame of one byte");
      return;
    }
  if (length >= 2)
    {
      code = (payload[0] << 8) | payload[1];
      if (!close_code_is_valid (code))
        {
          fail (self, CLOSE_PROTOCOL_ERROR, "Invalid close code");
          return;
        }
      if (!g_utf8_validate_len ((const char *) payload + 2, length - 2, NULL))
        {
          fail (self, CLOSE_BAD_DATA, "Invalid UTF-8 in a close reason");
          return;
        }
      reason = g_strndup ((const char *) payload + 2, length - 2);
    }

  self->close_received = TRUE;
  self->discarding = TRUE;
  if (self->state == SIGNALING_WEBSOCKET_OPEN)
    {
      set_close_status (self, code, reason);
      /* The usual answer: the peer's own code back. */
      queue_close (self, code, NULL);
    }
}

static void
on_control_frame (SignalingWebsocket *self,
                  guint8              opcode,
                  const guint8       *payload,
                  gsize               length)
{
  switch (opcode)
    {
    case OPCODE_PING:
      if (self->state == SIGNALING_WEBSOCKET_OPEN)
        append_frame (self, OPCODE_PONG, payload, length);
      break;
    case OPCODE_PONG:
      if (self->handlers != NULL && self->handlers->pong != NULL)
        self->handlers->pong (self, self->handlers_data);
      break;
    case OPCODE_CLOSE:
    default:
      on_close_frame (self, payload, length);
      break;
    }
}

static void
refuse_too_large (SignalingWebsocket *self,
                  guint64             size)
{
  self->discarding = TRUE;
  if (self->handlers != NULL && self->handlers->too_large != NULL)
    self->handlers->too_large (self, size, self->handlers_data);
  /* Whoever was told did not close: the default answer. */
  fail (self, CLOSE_TOO_BIG, self->too_large_reason != NULL ? self->too_large_reason : "Message too big");
}

/* Checks a frame header (RFC 6455 §5.2) before its payload is read.
 * Returns FALSE if the connection is failing. */
static gboolean
check_header (SignalingWebsocket *self,
              guint8              first,
              guint8              second,
              guint64             length)
{
  guint8 opcode = first & 0x0f;
  gboolean fin = (first & 0x80) != 0;
  guint64 size;

  /* RSV1 is permessage-deflate's, checked by its extension object. */
  if ((first & (self->extensions != NULL ? 0x30 : 0x70)) != 0)
    fail (self, CLOSE_PROTOCOL_ERROR, "Reserved bits set, but no extension was agreed");
  else if ((second & 0x80) == 0)
    fail (self, CLOSE_PROTOCOL_ERROR, "Unmasked frame from a client");
  else if (opcode >= OPCODE_CLOSE)
    {
      if (opcode > OPCODE_PONG)
        fail (self, CLOSE_PROTOCOL_ERROR, "Unknown control frame");
      else if (!fin || length > 125)
        fail (self, CLOSE_PROTOCOL_ERROR, "Fragmented or oversized control frame");
      return !self->discarding;
    }
  else if (opcode > OPCODE_BINARY)
    fail (self, CLOSE_PROTOCOL_ERROR, "Unknown data frame");
  else if (opcode == OPCODE_CONTINUATION && self->fragments_opcode == 0)
    fail (self, CLOSE_PROTOCOL_ERROR, "Continuation of no message");
  else if (opcode != OPCODE_CONTINUATION && self->fragments_opcode != 0)
    fail (self, CLOSE_PROTOCOL_ERROR, "New message before the last one ended");
  if (self->discarding)
    return FALSE;

  size = length;
  if (opcode == OPCODE_CONTINUATION)
    size += self->fragments->len;
  if (self->max_message_size > 0 && size > self->max_message_size)
    {
      refuse_too_large (self, size);
      return FALSE;
    }
  return TRUE;
}

/* Eight bytes at a time: the mask is four bytes, repeated. */
static void
unmask (guint8       *payload,
        gsize         length,
        const guint8 *mask)
{
  guint8 mask8[8];
  guint64 mask64;
  gsize i = 0;

  for (guint j = 0; j < 8; j++)
    mask8[j] = mask[j & 3];
  memcpy (&mask64, mask8, 8);

  for (; i + 8 <= length; i += 8)
    {
      guint64 word;

      memcpy (&word, payload + i, 8);
      word ^= mask64;
      memcpy (payload + i, &word, 8);
    }
  for (; i < length; i++)
    payload[i] ^= mask[i & 3];
}

/* Parses and handles the complete frames at the start of @data.
 * Returns how many bytes they took; the rest is an unfinished frame
 * (or, once discarding, nothing worth keeping). @data has one byte to
 * spare after @length. */
static gsize
process (SignalingWebsocket *self,
         guint8             *data,
         gsize               length)
{
  gsize pos = 0;

  while (!self->discarding && length - pos >= 2)
    {
      guint8 *frame = data + pos;
      gsize available = length - pos;
      guint64 payload_length = frame[1] & 0x7f;
      gsize header_length = 2;
      guint8 *payload;

      if (payload_length == 126)
        {
          if (available < 4)
            break;
          payload_length = (frame[2] << 8) | frame[3];
          header_length = 4;
        }
      else if (payload_length == 127)
        {
          if (available < 10)
            break;
          payload_length = 0;
          for (guint i = 2; i < 10; i++)
            payload_length = (payload_length << 8) | frame[i];
          header_length = 10;
          if (payload_length >> 63)
            {
              fail (self, CLOSE_PROTOCOL_ERROR, "Frame length out of range");
              break;
            }
        }

      if (!check_header (self, frame[0], frame[1], payload_length))
        break;

      header_length += 4;  /* the mask */
      if (available < header_length || available - header_length < payload_length)
        break;

      payload = frame + header_length;
      unmask (payload, payload_length, frame + header_length - 4);
      pos += header_length + payload_length;

      if ((frame[0] & 0x08) != 0)
        on_control_frame (self, frame[0] & 0x0f, payload, payload_length);
      else if (self->extensions != NULL)
        on_extended_data_frame (self, frame[0], payload, payload_length);
      else
        on_data_frame (self, frame[0] & 0x0f, (frame[0] & 0x80) != 0, payload, payload_length);
    }

  return self->discarding ? length : pos;
}

/* Where the next input goes, after the unfinished frame if there is
 * one (@kept bytes of it), with room for @room more and one spare
 * byte. A small unfinished frame moves back into the shared buffer: a
 * buffer of 64 KiB per connection, allocated and freed as frames
 * straddle reads, cost more than its copy (glibc consolidates its free
 * lists on every free of 64 KiB). A large one (a message bigger than
 * half the shared buffer) stays where it is, and grows. */
static guint8 *
input_buffer (SignalingWebsocket *self,
              gsize              *kept,
              gsize              *room)
{
  *kept = self->partial != NULL ? self->partial->len : 0;
  if (self->partial == NULL || *kept <= READ_CHUNK / 2)
    {
      if (self->partial != NULL)
        {
          memcpy (self->flusher->scratch, self->partial->data, *kept);
          g_clear_pointer (&self->partial, g_byte_array_unref);
        }
      *room = READ_CHUNK - *kept;
      return self->flusher->scratch;
    }

  *room = READ_CHUNK;
  g_byte_array_set_size (self->partial, *kept + READ_CHUNK + 1);
  g_byte_array_set_size (self->partial, *kept);  /* the room stays allocated */
  return self->partial->data;
}

/* Parses what input_buffer() holds now, @n new bytes after @kept, and
 * keeps an unfinished frame for the next turn. */
static void
take_input (SignalingWebsocket *self,
            guint8             *buffer,
            gsize               kept,
            gsize               n)
{
  gsize consumed;

  if (self->partial != NULL)
    g_byte_array_set_size (self->partial, kept + n);

  if (self->discarding)
    {
      g_clear_pointer (&self->partial, g_byte_array_unref);
      return;
    }

  consumed = process (self, buffer, kept + n);
  if (self->state == SIGNALING_WEBSOCKET_CLOSED || self->discarding)
    {
      g_clear_pointer (&self->partial, g_byte_array_unref);
      return;
    }

  if (self->partial != NULL)
    {
      g_byte_array_remove_range (self->partial, 0, consumed);
      if (self->partial->len == 0)
        g_clear_pointer (&self->partial, g_byte_array_unref);
    }
  else if (consumed < kept + n)
    {
      self->partial = g_byte_array_sized_new (kept + n - consumed + 1);
      g_byte_array_append (self->partial, buffer + consumed, kept + n - consumed);
    }
}

/* One read, of at most READ_CHUNK bytes: a connection that sends
 * without pause gets its turn like the others, no more. */
static void
read_once (SignalingWebsocket *self)
{
  g_autoptr(GError) error = NULL;
  gsize kept, room;
  guint8 *buffer = input_buffer (self, &kept, &room);
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (self->input, buffer + kept, room, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      if (!self->unparsed)
        return;
      n = 0;
    }
  else if (n <= 0)
    {
      if (n < 0)
        g_debug ("WebSocket read failed: %s", error->message);
      finish (self);
      return;
    }

  self->unparsed = FALSE;

  /* Maybe more: another turn, on the next main loop iteration. */
  if ((gsize) n == room || !self->short_read_drains)
    g_source_set_ready_time (self->input_source, 0);

  take_input (self, buffer, kept, n);
}

/*
 * signaling_websocket_feed_for_testing:
 *
 * Parses @data as if it had been read from the connection, in reads of
 * @chunk bytes (at most 64 KiB): for the fuzz target.
 */
void
signaling_websocket_feed_for_testing (SignalingWebsocket *self,
                                      const guint8       *data,
                                      gsize               length,
                                      gsize               chunk)
{
  g_autoptr(SignalingWebsocket) kept_alive = g_object_ref (self);

  chunk = CLAMP (chunk, 1, READ_CHUNK / 2);
  while (length > 0 && self->state != SIGNALING_WEBSOCKET_CLOSED)
    {
      gsize kept, room;
      guint8 *buffer = input_buffer (self, &kept, &room);
      gsize n = MIN (MIN (length, chunk), room);

      memcpy (buffer + kept, data, n);
      take_input (self, buffer, kept, n);
      data += n;
      length -= n;
    }
}

static gboolean
on_readable (GObject  *stream,
             gpointer  user_data)
{
  SignalingWebsocket *self = user_data;
  g_autoptr(SignalingWebsocket) kept = g_object_ref (self);

  g_source_set_ready_time (self->input_source, -1);
  read_once (self);
  return G_SOURCE_CONTINUE;
}

/* The object */

static void
signaling_websocket_dispose (GObject *object)
{
  SignalingWebsocket *self = SIGNALING_WEBSOCKET (object);

  /* Dropped while open: the connection goes with it, after what can
   * still be written at once. (A closing one is not dropped before it
   * is closed.) */
  if (self->state != SIGNALING_WEBSOCKET_CLOSED)
    {
      flush (self, FALSE);
      self->state = SIGNALING_WEBSOCKET_CLOSED;
      release_io (self);
      unschedule_flush (self);
      g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    }

  G_OBJECT_CLASS (signaling_websocket_parent_class)->dispose (object);
}

static void
signaling_websocket_finalize (GObject *object)
{
  SignalingWebsocket *self = SIGNALING_WEBSOCKET (object);

  g_clear_pointer (&self->partial, g_byte_array_unref);
  g_clear_pointer (&self->fragments, g_byte_array_unref);
  g_clear_pointer (&self->out, g_byte_array_unref);
  g_clear_pointer (&self->close_reason, g_free);
  g_list_free_full (self->extensions, g_object_unref);
  g_clear_object (&self->stream);
  g_source_unref (&self->flusher->source);

  G_OBJECT_CLASS (signaling_websocket_parent_class)->finalize (object);
}

static void
signaling_websocket_class_init (SignalingWebsocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_websocket_dispose;
  object_class->finalize = signaling_websocket_finalize;
}

static void
signaling_websocket_init (SignalingWebsocket *self)
{
  self->strict_utf8 = TRUE;
  self->flusher = flusher_acquire ();
}

/*
 * signaling_websocket_new:
 * @stream: a connection whose WebSocket handshake is done, as libsoup
 *   hands it over
 * @extensions: (transfer full) (element-type SoupWebsocketExtension):
 *   the extensions agreed in the handshake
 *
 * Starts reading frames from @stream at once; set handlers before
 * returning to the main loop.
 */
SignalingWebsocket *
signaling_websocket_new (GIOStream *stream,
                         GList     *extensions)
{
  SignalingWebsocket *self = g_object_new (SIGNALING_TYPE_WEBSOCKET, NULL);
  g_autoptr(GIOStream) base = NULL;

  self->extensions = extensions;

  /* libsoup wraps the connection in its own buffered stream. What it
   * read past the request is in that buffer: read once through it,
   * then use the connection underneath, as libsoup's wrappers cost
   * a signal emission per read. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream") != NULL)
    g_object_get (stream, "base-iostream", &base, NULL);

  if (base != NULL && G_IS_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (base)) &&
      G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (base)))
    {
      GInputStream *wrapper = g_io_stream_get_input_stream (stream);
      guint8 *buffer = self->flusher->scratch;
      gssize n = -1;

      if (G_IS_POLLABLE_INPUT_STREAM (wrapper))
        n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (wrapper),
                                                      buffer, READ_CHUNK, NULL, NULL);
      if (n > 0)
        {
          self->partial = g_byte_array_new_take (g_memdup2 (buffer, n), n);
          self->unparsed = TRUE;
        }
      self->stream = g_steal_pointer (&base);
    }
  else
    self->stream = g_object_ref (stream);

  self->input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->stream));
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->stream));
  self->short_read_drains = SIGNALING_IS_SOCKET_STREAM (self->stream) ||
                            G_IS_SOCKET_CONNECTION (self->stream);

  self->input_source = g_pollable_input_stream_create_source (self->input, NULL);
  g_source_set_callback (self->input_source, (GSourceFunc) (GCallback) on_readable, self, NULL);
  g_source_set_static_name (self->input_source, "[signaling] websocket input");
  g_source_attach (self->input_source, g_source_get_context (&self->flusher->source));
  /* Bytes that came with the request are parsed on the first turn. */
  if (self->partial != NULL)
    g_source_set_ready_time (self->input_source, 0);

  return self;
}

typedef struct
{
  SignalingWebsocketAcceptFunc func;
  gpointer user_data;
  GList *extensions;
} Upgrade;

static void
upgrade_free (Upgrade *upgrade)
{
  g_list_free_full (upgrade->extensions, g_object_unref);
  g_free (upgrade);
}

static void
on_wrote_informational (SoupServerMessage *msg,
                        Upgrade           *upgrade)
{
  g_autoptr(SoupServerMessage) kept = g_object_ref (msg);
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);
  g_autoptr(SignalingWebsocket) websocket = NULL;

  if (stream == NULL)
    return;

  websocket = signaling_websocket_new (stream, g_steal_pointer (&upgrade->extensions));
  upgrade->func (msg, websocket, upgrade->user_data);
}

/*
 * signaling_websocket_upgrade:
 * @msg: a request to a WebSocket path, from a #SoupServer handler
 * @offer_deflate: whether to agree to permessage-deflate if the client
 *   offers it
 * @func: called with the WebSocket once the 101 response is written
 *
 * Answers @msg's WebSocket handshake: 101 and the upgrade, or libsoup's
 * error response (400 and the like) if it is no valid handshake. Any
 * subprotocol is fine.
 *
 * Returns: whether @msg is upgrading
 */
gboolean
signaling_websocket_upgrade (SoupServerMessage            *msg,
                             gboolean                      offer_deflate,
                             SignalingWebsocketAcceptFunc  func,
                             gpointer                      user_data)
{
  g_autoptr(GPtrArray) supported = g_ptr_array_new_with_free_func (g_type_class_unref);
  GList *extensions = NULL;
  Upgrade *upgrade;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);

  if (offer_deflate)
    g_ptr_array_add (supported, g_type_class_ref (SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE));
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, supported, &extensions))
    return FALSE;

  upgrade = g_new (Upgrade, 1);
  upgrade->func = func;
  upgrade->user_data = user_data;
  upgrade->extensions = extensions;
  g_signal_connect_data (msg, "wrote-informational", G_CALLBACK (on_wrote_informational),
                         upgrade, (GClosureNotify) (void (*) (void)) upgrade_free, 0);
  return TRUE;
}

void
signaling_websocket_set_handlers (SignalingWebsocket               *self,
                                  const SignalingWebsocketHandlers *handlers,
                                  gpointer                          user_data)
{
  g_return_if_fail (SIGNALING_IS_WEBSOCKET (self));
  self->handlers = handlers;
  self->handlers_data = user_data;
}
/* Most bytes a message may have over all its fragments; 0: no limit.
 * A larger one closes the connection with 1009 and @reason (a static
 * string; %NULL: "Message too big"), unless the too_large handler
 * closes it first. */
void
signaling_websocket_set_max_message_size (SignalingWebsocket *self,
                                          guint64             max_message_size,
                                          const char         *reason)
{
  g_return_if_fail (SIGNALING_IS_WEBSOCKET (self));
  self->max_message_size = max_message_size;
  self->too_large_reason = reason;
}

/* Whether a text message that is not UTF-8 closes the connection with
 * 1007, as RFC 6455 §8.1 has it (the default), or is handed over. */
void
signaling_websocket_set_strict_utf8 (SignalingWebsocket *self,
                                     gboolean            strict)
{
  g_return_if_fail (SIGNALING_IS_WEBSOCKET (self));
  self->strict_utf8 = strict;
}

/* Most bytes the peer may leave unread before the connection is closed
 * with 1008 instead of buffering more; 0: no limit. */
void
signaling_websocket_set_max_send_queue (SignalingWebsocket *self,
                                        gsize               max_send_queue)
{
  g_return_if_fail (SIGNALING_IS_WEBSOCKET (self));
  self->max_send_queue = max_send_queue;
}

/*
 * signaling_websocket_send:
 *
 * Queues a message, to be written at the end of this main loop
 * iteration.
 *
 * Returns: %FALSE if the connection is not open, or was closed now
 *   because the peer left too much unread
 */
gboolean
signaling_websocket_send (SignalingWebsocket *self,
                          gboolean            is_text,
                          const char         *data,
                          gsize               length)
{
  return signaling_websocket_send_with_prefix (self, is_text, NULL, data, length);
}

/*
 * signaling_websocket_send_with_prefix:
 * @prefix: (nullable): text the message starts with, before @data
 *
 * As signaling_websocket_send(), for a message that is @prefix then
 * @data, without joining them first.
 */
gboolean
signaling_websocket_send_with_prefix (SignalingWebsocket *self,
                                      gboolean            is_text,
                                      const char         *prefix,
                                      const char         *data,
                                      gsize               length)
{
  gsize total = length + (prefix != NULL ? strlen (prefix) : 0);

  g_return_val_if_fail (SIGNALING_IS_WEBSOCKET (self), FALSE);

  if (self->state != SIGNALING_WEBSOCKET_OPEN)
    return FALSE;

  if (self->max_send_queue > 0 &&
      signaling_websocket_get_buffered_amount (self) + total > self->max_send_queue)
    {
      g_debug ("Closing a WebSocket whose peer left more than %" G_GSIZE_FORMAT " bytes unread",
               self->max_send_queue);
      fail (self, CLOSE_POLICY, "send queue full");
      return FALSE;
    }

  append_frame_with_prefix (self, is_text ? OPCODE_TEXT : OPCODE_BINARY, prefix, data, length);
  return TRUE;
}

void
signaling_websocket_ping (SignalingWebsocket *self)
{
  g_return_if_fail (SIGNALING_IS_WEBSOCKET (self));

  if (self->state == SIGNALING_WEBSOCKET_OPEN)
    append_frame (self, OPCODE_PING, NULL, 0);
}

/*
 * signaling_websocket_close:
 * @code: a close code (RFC 6455 §7.4), 1000 to 4999
 * @reason: (nullable): why, cut to fit a control frame
 *
 * Sends a close frame after what is queued. The connection ends once
 * it is written (the closed handler runs then, from the main loop); what
 * the peer still sends is not delivered.
 */
void
signaling_websocket_close (SignalingWebsocket *self,
                           gushort             code,
                           const char         *reason)
{
  g_return_if_fail (SIGNALING_IS_WEBSOCKET (self));

  if (self->state != SIGNALING_WEBSOCKET_OPEN)
    return;

  set_close_status (self, code, reason);
  queue_close (self, code, reason);
}

SignalingWebsocketState
signaling_websocket_get_state (SignalingWebsocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_WEBSOCKET (self), SIGNALING_WEBSOCKET_CLOSED);
  return self->state;
}

gboolean
signaling_websocket_is_open (SignalingWebsocket *self)
{
  return self != NULL && self->state == SIGNALING_WEBSOCKET_OPEN;
}

/* The code the peer closed with, or ours if we closed first; 1006
 * if the connection broke without a close frame. */
gushort
signaling_websocket_get_close_code (SignalingWebsocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_WEBSOCKET (self), 0);
  return self->close_code;
}

const char *
signaling_websocket_get_close_reason (SignalingWebsocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_WEBSOCKET (self), NULL);
  return self->close_reason;
}

/* Bytes queued that the kernel has not taken yet. */
gsize
signaling_websocket_get_buffered_amount (SignalingWebsocket *self)
{
  g_return_val_if_fail (SIGNALING_IS_WEBSOCKET (self), 0);
  return self->out != NULL ? self->out->len - self->out_offset : 0;
}
