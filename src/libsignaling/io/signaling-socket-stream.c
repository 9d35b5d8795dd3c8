/* signaling-socket-stream.c: a socket as a GIOStream, polled through SignalingPoller
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What GSocketConnection is, except that the pollable sources come from
 * a SignalingPoller (see there why). The input and output halves are
 * small private classes of this file: they only exist to be the two
 * streams of this one, and share the socket with it.
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include "signaling-socket-stream-private.h"

/* What the stream and its two halves share: libsoup may keep a half
 * after the stream itself is gone.
 *
 * The watch belongs to the main context the stream was made in, and
 * so does closing the descriptor, which must leave the epoll set
 * first. A GTlsConnection on this stream may still drop its last
 * reference in glib-networking's handshake thread (the GTask of
 * g_tls_connection_handshake_async() holds one until its thread
 * ends), and GIOStream closes on dispose: unwatching there raced the
 * main loop and crashed it (update_interest() on a watch another
 * thread had just cleared, once in a few hundred wss:// connections).
 * So the count is atomic, and closing is handed to the stream's own
 * context when it happens anywhere else. */
typedef struct
{
  GSocket *socket;
  GMainContext *context;
  SignalingPollerWatch *watch;  /* NULL once closed */
} Shared;

static void shared_release (Shared *shared);

/* Runs @func on @shared now when this thread may own the stream's
 * context, or soon in that context otherwise. */
static void
shared_invoke (Shared      *shared,
               GSourceFunc  func)
{
  g_main_context_invoke_full (shared->context, G_PRIORITY_DEFAULT, func,
                              g_atomic_rc_box_acquire (shared),
                              (GDestroyNotify) shared_release);
}

static gboolean
shared_close_in_context (gpointer user_data)
{
  Shared *shared = user_data;

  /* Out of the epoll set before the descriptor goes. */
  if (shared->watch != NULL)
    {
      signaling_poller_unwatch (shared->watch);
      shared->watch = NULL;
    }
  g_socket_close (shared->socket, NULL);
  return G_SOURCE_REMOVE;
}

static void
shared_clear (Shared *shared)
{
  /* Closed by now: GIOStream closes on dispose, and the closing holds
   * a reference until it has run. This is for a stream never closed. */
  if (shared->watch != NULL)
    signaling_poller_unwatch (shared->watch);
  g_object_unref (shared->socket);
  g_main_context_unref (shared->context);
}

static void
shared_release (Shared *shared)
{
  g_atomic_rc_box_release_full (shared, (GDestroyNotify) shared_clear);
}

struct _SignalingSocketStream
{
  GIOStream parent_instance;

  Shared *shared;
  GInputStream *input;
  GOutputStream *output;
};

G_DEFINE_FINAL_TYPE (SignalingSocketStream, signaling_socket_stream, G_TYPE_IO_STREAM)

static gssize
shared_read_nonblocking (Shared   *shared,
                         guint8   *buffer,
                         gsize     count,
                         GError  **error)
{
  return g_socket_receive_with_blocking (shared->socket, (char *) buffer, count, FALSE, NULL, error);
}

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

/* The input half */

#define SIGNALING_TYPE_SOCKET_INPUT (signaling_socket_input_get_type ())
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

  return g_socket_condition_check (self->shared->socket, G_IO_IN) != 0;
}

static GSource *
signaling_socket_input_create_source (GPollableInputStream *stream,
                                      GCancellable         *cancellable)
{
  SignalingSocketInput *self = SIGNALING_SOCKET_INPUT (stream);

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

static gboolean
signaling_socket_stream_close (GIOStream     *stream,
                               GCancellable  *cancellable,
                               GError       **error)
{
  SignalingSocketStream *self = SIGNALING_SOCKET_STREAM (stream);

  shared_invoke (self->shared, shared_close_in_context);
  return TRUE;
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

  self->shared = g_atomic_rc_box_new0 (Shared);
  self->shared->socket = g_object_ref (socket);
  self->shared->context = g_main_context_ref_thread_default ();
  self->shared->watch = signaling_poller_watch (poller, socket);
  input->shared = g_atomic_rc_box_acquire (self->shared);
  output->shared = g_atomic_rc_box_acquire (self->shared);
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
