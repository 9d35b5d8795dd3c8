/* signaling-socket-stream.c: a socket as a GIOStream, polled through SignalingPoller
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What GSocketConnection is, except that the pollable sources come from
 * a SignalingPoller (see there why). The input and output halves are
 * small private classes of this file: they only exist to be the two
 * streams of this one, and share the socket with it.
 */
#include "config.h"

#include "signaling-socket-stream-private.h"

/* Most bytes one wake-up of the input hands out. libsoup's WebSocket
 * reads until the socket is empty: without a bound, a peer that sends
 * faster than we parse would keep the main loop to itself. */
#define READ_BUDGET (64 * 1024)

/* What is drained and thrown away per read once a message was too
 * large: the connection is closing, and nothing of it is parsed. */
#define DRAIN_CHUNK 4096

/* Where the connection's bytes are, for the WebSocket frame tracker. */
typedef enum
{
  PHASE_REQUEST_LINE,  /* the first bytes: "GET "? */
  PHASE_HEAD,          /* the request headers, up to their blank line */
  PHASE_FRAMES,        /* WebSocket frames, if the request upgraded */
  PHASE_UNTRACKED,     /* not a GET: no WebSocket can follow */
} Phase;

/* Follows the WebSocket frame headers in the raw byte stream, before
 * libsoup reads them. See signaling_socket_stream_limit_messages(). */
typedef struct
{
  Phase phase;

  /* The request head, as libsoup's HTTP/1 reader delimits it. */
  gsize head_offset;
  gsize line_start;
  guint8 line_first;

  /* The frame in progress. */
  guint8 header[14];
  guint header_length;
  guint header_needed;
  guint64 payload_left;
  guint64 message_size;  /* data bytes of the message in progress */
  guint64 message_starts;

  /* Set once the upgrade is done. */
  gboolean armed;
  guint64 max_message_size;  /* 0: no limit */
  gboolean tripped;
  gboolean text_as_binary;
  guint64 unflagged;      /* messages that started before text_as_binary */
  GByteArray *text_flags; /* one byte per message since: was it text? */
  guint text_flags_head;
} FrameTracker;

/* What the stream and its two halves share: libsoup may keep a half
 * after the stream itself is gone. */
typedef struct
{
  GSocket *socket;
  SignalingPollerWatch *watch;  /* NULL once closed */
  SignalingSocketStream *owner; /* NULL once finalized */
  gsize budget;                 /* left to read in this wake-up */
  FrameTracker tracker;
} Shared;

static void
shared_unwatch (Shared *shared)
{
  if (shared->watch != NULL)
    {
      signaling_poller_unwatch (shared->watch);
      shared->watch = NULL;
    }
}

static void
shared_clear (Shared *shared)
{
  shared_unwatch (shared);
  g_object_unref (shared->socket);
  g_clear_pointer (&shared->tracker.text_flags, g_byte_array_unref);
}

static void
shared_release (Shared *shared)
{
  g_rc_box_release_full (shared, (GDestroyNotify) shared_clear);
}

struct _SignalingSocketStream
{
  GIOStream parent_instance;

  Shared *shared;
  GInputStream *input;
  GOutputStream *output;
};

G_DEFINE_FINAL_TYPE (SignalingSocketStream, signaling_socket_stream, G_TYPE_IO_STREAM)

enum {
  SIGNAL_MESSAGE_TOO_LARGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The frame tracker */

static void
tracker_head_byte (FrameTracker *tracker,
                   guint8        byte)
{
  gsize offset = tracker->head_offset++;

  if (offset == tracker->line_start)
    tracker->line_first = byte;
  if (byte != '\n')
    return;

  /* libsoup ends the head at a line that is empty ("\n" or "\r\n")
   * after at least one other; the same rule here, or a crafted head
   * would put us out of step with it. */
  if ((offset == tracker->line_start && tracker->line_start >= 2) ||
      (offset == tracker->line_start + 1 && tracker->line_first == '\r' && tracker->line_start >= 3))
    tracker->phase = PHASE_FRAMES;
  else
    tracker->line_start = offset + 1;
}

static guint64
saturating_add (guint64 a,
                guint64 b)
{
  return b > G_MAXUINT64 - a ? G_MAXUINT64 : a + b;
}

/* The first byte of a frame: FIN, reserved bits and opcode. */
static void
tracker_frame_start (FrameTracker *tracker,
                     guint8       *byte)
{
  guint opcode = *byte & 0x0f;

  if ((opcode & 0x08) != 0 || opcode == 0)
    return;  /* control frame or continuation */

  tracker->message_starts++;
  if (!tracker->text_as_binary)
    return;

  /* libsoup fails the connection (1007) on a text message that is not
   * UTF-8; handed over as binary, it is ours to refuse politely. */
  g_byte_array_append (tracker->text_flags, (const guint8[]) { opcode == 0x1 }, 1);
  if (opcode == 0x1)
    *byte = (*byte & 0xf0) | 0x2;
}

/* A frame header is complete. Returns FALSE if its message is over
 * the limit. Protocol errors are libsoup's to report. */
static gboolean
tracker_frame_header (FrameTracker *tracker)
{
  const guint8 *header = tracker->header;
  guint opcode = header[0] & 0x0f;
  guint64 length = header[1] & 0x7f;

  if (length == 126)
    length = ((guint64) header[2] << 8) | header[3];
  else if (length == 127)
    {
      length = 0;
      for (guint i = 2; i < 10; i++)
        length = (length << 8) | header[i];
    }
  tracker->payload_left = length;
  tracker->header_length = 0;

  if ((opcode & 0x08) != 0)
    return TRUE;  /* control frames stand alone */

  tracker->message_size = opcode != 0 ? length : saturating_add (tracker->message_size, length);
  return tracker->max_message_size == 0 || tracker->message_size <= tracker->max_message_size;
}

/* How many bytes of a frame header: 2, the extended length, the mask. */
static guint
header_size (const guint8 *header)
{
  guint size = 2;

  if ((header[1] & 0x7f) == 126)
    size += 2;
  else if ((header[1] & 0x7f) == 127)
    size += 8;
  if ((header[1] & 0x80) != 0)
    size += 4;
  return size;
}

/* Follows @length bytes just read. Returns how many of them libsoup
 * may have: all, unless a frame header in them makes its message too
 * large, in which case the bytes before that header. */
static gsize
tracker_feed (FrameTracker *tracker,
              guint8       *data,
              gsize         length)
{
  gsize i = 0;
  gsize header_start = 0;

  while (i < length)
    {
      switch (tracker->phase)
        {
        case PHASE_REQUEST_LINE:
          if (data[i] != "GET "[tracker->head_offset])
            {
              tracker->phase = PHASE_UNTRACKED;
              return length;
            }
          tracker_head_byte (tracker, data[i++]);
          if (tracker->head_offset == 4)
            tracker->phase = PHASE_HEAD;
          break;

        case PHASE_HEAD:
          tracker_head_byte (tracker, data[i++]);
          break;

        case PHASE_FRAMES:
          if (tracker->payload_left > 0)
            {
              gsize skip = MIN (tracker->payload_left, length - i);

              tracker->payload_left -= skip;
              i += skip;
              break;
            }

          if (tracker->header_length == 0)
            {
              header_start = i;
              tracker_frame_start (tracker, &data[i]);
            }
          tracker->header[tracker->header_length++] = data[i++];
          if (tracker->header_length == 2)
            tracker->header_needed = header_size (tracker->header);
          if (tracker->header_length >= 2 && tracker->header_length == tracker->header_needed &&
              !tracker_frame_header (tracker))
            {
              tracker->tripped = TRUE;
              /* 0 if the header began in an earlier read. */
              return header_start;
            }
          break;

        case PHASE_UNTRACKED:
        default:
          return length;
        }
    }

  return length;
}

static gboolean
emit_too_large (gpointer user_data)
{
  Shared *shared = user_data;

  if (shared->owner != NULL)
    g_signal_emit (shared->owner, signals[SIGNAL_MESSAGE_TOO_LARGE], 0,
                   shared->tracker.message_size);
  return G_SOURCE_REMOVE;
}

/* A read for libsoup, through the budget and the frame tracker. */
static gssize
shared_read_nonblocking (Shared   *shared,
                         guint8   *buffer,
                         gsize     count,
                         GError  **error)
{
  gboolean was_tripped = shared->tracker.tripped;
  gssize n;
  gsize allowed;

  if (shared->budget == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "Read budget spent for this wake-up");
      return -1;
    }

  if (was_tripped)
    {
      guint8 scratch[DRAIN_CHUNK];

      /* Thrown away: the peer is being closed, and its bytes must
       * neither reach libsoup nor sit in the kernel. */
      n = g_socket_receive_with_blocking (shared->socket, (char *) scratch,
                                          MIN (sizeof scratch, shared->budget), FALSE, NULL, error);
      if (n <= 0)
        return n;
      shared->budget -= MIN ((gsize) n, shared->budget);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "Discarding the rest of a message that is too large");
      return -1;
    }

  n = g_socket_receive_with_blocking (shared->socket, (char *) buffer,
                                      MIN (count, shared->budget), FALSE, NULL, error);
  if (n <= 0)
    return n;
  shared->budget -= n;

  allowed = tracker_feed (&shared->tracker, buffer, n);
  if (shared->tracker.tripped)
    {
      /* After what libsoup has, so the messages before go first. */
      g_autoptr(GSource) idle = g_idle_source_new ();

      g_source_set_priority (idle, G_PRIORITY_DEFAULT);
      g_source_set_callback (idle, emit_too_large, g_rc_box_acquire (shared),
                             (GDestroyNotify) shared_release);
      g_source_set_static_name (idle, "[signaling] message too large");
      g_source_attach (idle, g_main_context_get_thread_default ());
      if (allowed == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                               "Message too large");
          return -1;
        }
    }
  return allowed;
}

/* The input half */

#define SIGNALING_TYPE_SOCKET_INPUT (signaling_socket_input_get_type ())
/* Closing, asynchronously, in the calling thread.
 *
 * GIO's default close_async() for GIOStream, GInputStream and
 * GOutputStream runs the close in a worker thread, and libsoup closes a
 * WebSocket's stream that way. Everything here belongs to the main
 * context: the non-atomic reference counts of Shared and of the poller,
 * the watch's list of sources, the epoll set. A close, or a last unref,
 * in a worker thread raced the main loop: connect/close churn corrupted
 * the poller's count within seconds ("g_rc_box_acquire: assertion
 * 'real_box->magic == G_BOX_MAGIC' failed", and at shutdown
 * "g_ref_count_dec: assertion 'rrc < 0' failed"). Closing a socket never
 * blocks, so it is done at once, as GSocketConnection does. */
typedef gboolean (*CloseFunc) (gpointer stream, GCancellable *cancellable, GError **error);

static void
close_now_async (gpointer             stream,
                 CloseFunc            close_fn,
                 gpointer             source_tag,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (stream, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;

  g_task_set_source_tag (task, source_tag);
  if (close_fn == NULL || close_fn (stream, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static gboolean
close_now_finish (GAsyncResult  *result,
                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

G_DECLARE_FINAL_TYPE (SignalingSocketInput, signaling_socket_input, SIGNALING, SOCKET_INPUT, GInputStream)

struct _SignalingSocketInput
{
  GInputStream parent_instance;
  Shared *shared;
};

static void signaling_socket_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignalingSocketInput, signaling_socket_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      signaling_socket_input_pollable_init))

static gssize
signaling_socket_input_read (GInputStream  *stream,
                             void          *buffer,
                             gsize          count,
                             GCancellable  *cancellable,
                             GError       **error)
{
  SignalingSocketInput *self = SIGNALING_SOCKET_INPUT (stream);

  return g_socket_receive_with_blocking (self->shared->socket, buffer, count, TRUE, cancellable, error);
}

static void
signaling_socket_input_finalize (GObject *object)
{
  g_clear_pointer (&SIGNALING_SOCKET_INPUT (object)->shared, shared_release);
  G_OBJECT_CLASS (signaling_socket_input_parent_class)->finalize (object);
}

static void
signaling_socket_input_close_async (GInputStream        *stream,
                                    int                  io_priority,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  close_now_async (stream, NULL, signaling_socket_input_close_async,
                   cancellable, callback, user_data);
}

static gboolean
signaling_socket_input_close_finish (GInputStream  *stream,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return close_now_finish (result, error);
}

static void
signaling_socket_input_class_init (SignalingSocketInputClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = signaling_socket_input_finalize;
  stream_class->read_fn = signaling_socket_input_read;
  stream_class->close_async = signaling_socket_input_close_async;
  stream_class->close_finish = signaling_socket_input_close_finish;
}

static void
signaling_socket_input_init (SignalingSocketInput *self)
{
}

static gboolean
signaling_socket_input_is_readable (GPollableInputStream *stream)
{
  SignalingSocketInput *self = SIGNALING_SOCKET_INPUT (stream);

  return self->shared->budget > 0 && g_socket_condition_check (self->shared->socket, G_IO_IN) != 0;
}

/* Whoever waits for input has read all it could: the next wake-up,
 * on a later main loop iteration, brings a new budget. */
static GSource *
signaling_socket_input_create_source (GPollableInputStream *stream,
                                      GCancellable         *cancellable)
{
  SignalingSocketInput *self = SIGNALING_SOCKET_INPUT (stream);

  self->shared->budget = READ_BUDGET;
  return signaling_poller_create_source (self->shared->watch, G_OBJECT (stream), G_IO_IN, cancellable);
}

static gssize
signaling_socket_input_read_nonblocking (GPollableInputStream  *stream,
                                         void                  *buffer,
                                         gsize                  count,
                                         GError               **error)
{
  SignalingSocketInput *self = SIGNALING_SOCKET_INPUT (stream);

  return shared_read_nonblocking (self->shared, buffer, count, error);
}

static void
signaling_socket_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->is_readable = signaling_socket_input_is_readable;
  iface->create_source = signaling_socket_input_create_source;
  iface->read_nonblocking = signaling_socket_input_read_nonblocking;
}

/* The output half */

#define SIGNALING_TYPE_SOCKET_OUTPUT (signaling_socket_output_get_type ())
G_DECLARE_FINAL_TYPE (SignalingSocketOutput, signaling_socket_output, SIGNALING, SOCKET_OUTPUT, GOutputStream)

struct _SignalingSocketOutput
{
  GOutputStream parent_instance;
  Shared *shared;
};

static void signaling_socket_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignalingSocketOutput, signaling_socket_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      signaling_socket_output_pollable_init))

static gssize
signaling_socket_output_write (GOutputStream  *stream,
                               const void     *buffer,
                               gsize           count,
                               GCancellable   *cancellable,
                               GError        **error)
{
  SignalingSocketOutput *self = SIGNALING_SOCKET_OUTPUT (stream);

  return g_socket_send_with_blocking (self->shared->socket, buffer, count, TRUE, cancellable, error);
}

static void
signaling_socket_output_finalize (GObject *object)
{
  g_clear_pointer (&SIGNALING_SOCKET_OUTPUT (object)->shared, shared_release);
  G_OBJECT_CLASS (signaling_socket_output_parent_class)->finalize (object);
}

static void
signaling_socket_output_close_async (GOutputStream       *stream,
                                     int                  io_priority,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  close_now_async (stream, NULL, signaling_socket_output_close_async,
                   cancellable, callback, user_data);
}

static gboolean
signaling_socket_output_close_finish (GOutputStream  *stream,
                                      GAsyncResult   *result,
                                      GError        **error)
{
  return close_now_finish (result, error);
}

static void
signaling_socket_output_class_init (SignalingSocketOutputClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = signaling_socket_output_finalize;
  stream_class->write_fn = signaling_socket_output_write;
  stream_class->close_async = signaling_socket_output_close_async;
  stream_class->close_finish = signaling_socket_output_close_finish;
}

static void
signaling_socket_output_init (SignalingSocketOutput *self)
{
}

static gboolean
signaling_socket_output_is_writable (GPollableOutputStream *stream)
{
  SignalingSocketOutput *self = SIGNALING_SOCKET_OUTPUT (stream);

  return g_socket_condition_check (self->shared->socket, G_IO_OUT) != 0;
}

static GSource *
signaling_socket_output_create_source (GPollableOutputStream *stream,
                                       GCancellable          *cancellable)
{
  SignalingSocketOutput *self = SIGNALING_SOCKET_OUTPUT (stream);

  return signaling_poller_create_source (self->shared->watch, G_OBJECT (stream), G_IO_OUT, cancellable);
}

static gssize
signaling_socket_output_write_nonblocking (GPollableOutputStream  *stream,
                                           const void             *buffer,
                                           gsize                   count,
                                           GError                **error)
{
  SignalingSocketOutput *self = SIGNALING_SOCKET_OUTPUT (stream);

  return g_socket_send_with_blocking (self->shared->socket, buffer, count, FALSE, NULL, error);
}

static void
signaling_socket_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->is_writable = signaling_socket_output_is_writable;
  iface->create_source = signaling_socket_output_create_source;
  iface->write_nonblocking = signaling_socket_output_write_nonblocking;
}

/* The stream */

static GInputStream *
signaling_socket_stream_get_input_stream (GIOStream *stream)
{
  return SIGNALING_SOCKET_STREAM (stream)->input;
}

static GOutputStream *
signaling_socket_stream_get_output_stream (GIOStream *stream)
{
  return SIGNALING_SOCKET_STREAM (stream)->output;
}

/* Lingering close: how long, and how much, a closed WebSocket's
 * peer may still send before we let go. */
#define LINGER_SECONDS 2
#define LINGER_MAX_BYTES (1024 * 1024)

typedef struct
{
  GSocket *socket;
  gsize drained;
} Linger;

static void
linger_free (Linger *linger)
{
  g_socket_close (linger->socket, NULL);
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

/* Closing a socket with unread input makes the kernel send a reset,
 * which can make the peer lose what we sent last: the close frame of a
 * peer closed for sending too much, or too fast, which is still
 * sending. So a WebSocket's socket is shut down for writing (the close
 * frame goes, then FIN) and drained until the peer closes too, or for
 * a bounded time and amount, before it is closed. */
static void
linger (GSocket *socket)
{
  g_autoptr(GSource) readable = NULL;
  g_autoptr(GSource) deadline = NULL;
  Linger *data;

  if (!g_socket_shutdown (socket, FALSE, TRUE, NULL))
    {
      g_socket_close (socket, NULL);
      return;
    }

  data = g_new0 (Linger, 1);
  data->socket = g_object_ref (socket);
  readable = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (readable, (GSourceFunc) (GCallback) on_linger_readable,
                         data, (GDestroyNotify) linger_free);
  g_source_set_static_name (readable, "[signaling] lingering close");
  /* The deadline, as a child: it wakes the source, whose read then
   * finds nothing and ends it. */
  deadline = g_timeout_source_new_seconds (LINGER_SECONDS);
  g_source_set_dummy_callback (deadline);
  g_source_add_child_source (readable, deadline);
  g_source_attach (readable, g_main_context_get_thread_default ());
}

static gboolean
signaling_socket_stream_close (GIOStream     *stream,
                               GCancellable  *cancellable,
                               GError       **error)
{
  SignalingSocketStream *self = SIGNALING_SOCKET_STREAM (stream);

  /* Out of the epoll set before the descriptor goes. */
  shared_unwatch (self->shared);

  if (self->shared->tracker.phase == PHASE_FRAMES && self->shared->tracker.armed &&
      !g_socket_is_closed (self->shared->socket))
    {
      linger (self->shared->socket);
      return TRUE;
    }
  return g_socket_close (self->shared->socket, error);
}

static void
signaling_socket_stream_close_async (GIOStream           *stream,
                                     int                  io_priority,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  close_now_async (stream, (CloseFunc) signaling_socket_stream_close,
                   signaling_socket_stream_close_async, cancellable, callback, user_data);
}

static gboolean
signaling_socket_stream_close_finish (GIOStream     *stream,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return close_now_finish (result, error);
}

static void
signaling_socket_stream_finalize (GObject *object)
{
  SignalingSocketStream *self = SIGNALING_SOCKET_STREAM (object);

  self->shared->owner = NULL;
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_pointer (&self->shared, shared_release);

  G_OBJECT_CLASS (signaling_socket_stream_parent_class)->finalize (object);
}

static void
signaling_socket_stream_class_init (SignalingSocketStreamClass *klass)
{
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = signaling_socket_stream_finalize;
  stream_class->get_input_stream = signaling_socket_stream_get_input_stream;
  stream_class->get_output_stream = signaling_socket_stream_get_output_stream;
  stream_class->close_fn = signaling_socket_stream_close;
  stream_class->close_async = signaling_socket_stream_close_async;
  stream_class->close_finish = signaling_socket_stream_close_finish;

  /*
   * SignalingSocketStream::message-too-large:
   * @size: how large the message is at least, in bytes
   *
   * Emitted once, from the main loop, when a WebSocket message exceeds
   * the limit given to signaling_socket_stream_limit_messages(). The
   * stream hands libsoup nothing from that message on.
   */
  signals[SIGNAL_MESSAGE_TOO_LARGE] =
    g_signal_new ("message-too-large", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
}

static void
signaling_socket_stream_init (SignalingSocketStream *self)
{
}

GIOStream *
signaling_socket_stream_new (GSocket         *socket,
                             SignalingPoller *poller)
{
  SignalingSocketStream *self = g_object_new (SIGNALING_TYPE_SOCKET_STREAM, NULL);
  SignalingSocketInput *input = g_object_new (SIGNALING_TYPE_SOCKET_INPUT, NULL);
  SignalingSocketOutput *output = g_object_new (SIGNALING_TYPE_SOCKET_OUTPUT, NULL);

  self->shared = g_rc_box_new0 (Shared);
  self->shared->socket = g_object_ref (socket);
  self->shared->watch = signaling_poller_watch (poller, socket);
  self->shared->owner = self;
  self->shared->budget = READ_BUDGET;
  input->shared = g_rc_box_acquire (self->shared);
  output->shared = g_rc_box_acquire (self->shared);
  self->input = G_INPUT_STREAM (input);
  self->output = G_OUTPUT_STREAM (output);

  return G_IO_STREAM (self);
}

GSocket *
signaling_socket_stream_get_socket (SignalingSocketStream *self)
{
  g_return_val_if_fail (SIGNALING_IS_SOCKET_STREAM (self), NULL);
  return self->shared->socket;
}

/*
 * signaling_socket_stream_limit_messages:
 * @max_message_size: most bytes a message may have over all its
 *   fragments; 0 for no limit
 * @text_as_binary: hand text messages to libsoup as binary ones, so
 *   that it does not check their UTF-8 (see
 *   signaling_socket_stream_pop_message_is_text())
 *
 * Called once the connection's request was upgraded to a WebSocket:
 * from now on a frame whose message would exceed @max_message_size is
 * not handed to libsoup, and #SignalingSocketStream::message-too-large
 * says so instead.
 *
 * Returns: %FALSE if the stream could not follow the frames (the
 *   request was not a plain GET), and the connection must be closed
 */
gboolean
signaling_socket_stream_limit_messages (SignalingSocketStream *self,
                                        guint64                max_message_size,
                                        gboolean               text_as_binary)
{
  FrameTracker *tracker;

  g_return_val_if_fail (SIGNALING_IS_SOCKET_STREAM (self), FALSE);

  tracker = &self->shared->tracker;
  if (tracker->phase != PHASE_FRAMES)
    return FALSE;

  tracker->armed = TRUE;
  tracker->max_message_size = max_message_size;
  if (text_as_binary && !tracker->text_as_binary)
    {
      tracker->text_as_binary = TRUE;
      tracker->unflagged = tracker->message_starts;
      tracker->text_flags = g_byte_array_new ();
    }

  /* Bytes libsoup read with the request may hold a message too large
   * already: its next header is refused. */
  return TRUE;
}

/*
 * signaling_socket_stream_pop_message_is_text:
 * @delivered_as_text: what libsoup says the message is
 *
 * For each message libsoup delivers, in order, once @text_as_binary
 * was asked for: whether the peer sent it as text.
 */
gboolean
signaling_socket_stream_pop_message_is_text (SignalingSocketStream *self,
                                             gboolean               delivered_as_text)
{
  FrameTracker *tracker;
  gboolean is_text;

  g_return_val_if_fail (SIGNALING_IS_SOCKET_STREAM (self), delivered_as_text);

  tracker = &self->shared->tracker;
  if (!tracker->text_as_binary)
    return delivered_as_text;

  /* Read before we were asked to rewrite: delivered as sent. */
  if (tracker->unflagged > 0)
    {
      tracker->unflagged--;
      return delivered_as_text;
    }

  if (tracker->text_flags_head >= tracker->text_flags->len)
    return delivered_as_text;  /* cannot happen: one flag per message */

  is_text = tracker->text_flags->data[tracker->text_flags_head++];

  /* Keep the queue small: drop what was consumed now and then. */
  if (tracker->text_flags_head >= 1024 || tracker->text_flags_head == tracker->text_flags->len)
    {
      g_byte_array_remove_range (tracker->text_flags, 0, tracker->text_flags_head);
      tracker->text_flags_head = 0;
    }
  return is_text;
}
