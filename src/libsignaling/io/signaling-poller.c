/* signaling-poller.c: readiness of many sockets, one main loop source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup stops and re-creates a WebSocket's input source on every
 * read, and GLib inserts the poll record of each new source into a
 * list ordered by priority: every read then costs time in proportion
 * to the number of connections, a fifth of the CPU at a thousand
 * peers. Here the sockets sit in one epoll set polled by a single
 * GSource, and the sources libsoup creates have no descriptor of their
 * own: they are made ready when the epoll set says so. Creating and
 * destroying one is constant time. Built without epoll (HAVE_EPOLL),
 * the same API hands out GLib's own socket sources.
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include "signaling-poller-private.h"

#ifdef HAVE_EPOLL

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVENTS_PER_DISPATCH 256

/* The main thread polls, but a source may be made, and freed, in any
 * thread: glib-networking's TLS handshake thread waits for the socket
 * with a source of its own from our stream, in a context of its own.
 * This lock keeps the watches' lists of sources and their epoll
 * registrations whole. Always taken before a GMainContext's lock
 * (g_source_set_ready_time() takes that one), never while holding it:
 * GLib calls a source's finalize and dispatch without its context
 * locked. One lock for all pollers, as a source's finalize must reach
 * it after its watch may be gone; it is uncontended but for TLS
 * handshakes. */
static GMutex watches_lock;

struct _SignalingPoller
{
  GSource *source;
  int epoll_fd;
};

struct _SignalingPollerWatch
{
  SignalingPoller *poller;
  int fd;
  guint32 registered;  /* epoll events asked for; 0 when not in the set */
  GList *sources;      /* StreamSource * waiting on this socket, unowned */
};

typedef struct
{
  GSource source;
  SignalingPoller *poller;
} PollerSource;

typedef struct
{
  GSource source;
  SignalingPollerWatch *watch;  /* NULL once unwatched */
  GObject *stream;
  GIOCondition condition;
} StreamSource;

/* Which epoll events the waiting sources need. Under watches_lock. */
static void
update_interest (SignalingPollerWatch *watch)
{
  guint32 wanted = 0;
  struct epoll_event event = { 0 };
  int op;

  for (GList *l = watch->sources; l != NULL; l = l->next)
    {
      StreamSource *source = l->data;

      if (source->condition & G_IO_IN)
        wanted |= EPOLLIN | EPOLLRDHUP;
      if (source->condition & G_IO_OUT)
        wanted |= EPOLLOUT;
    }

  if (wanted == watch->registered)
    return;

  /* Out of the set when nobody waits: a hung-up socket would otherwise
   * be reported again and again. */
  if (wanted == 0)
    op = EPOLL_CTL_DEL;
  else if (watch->registered == 0)
    op = EPOLL_CTL_ADD;
  else
    op = EPOLL_CTL_MOD;

  event.events = wanted;
  event.data.ptr = watch;
  if (epoll_ctl (watch->poller->epoll_fd, op, watch->fd, &event) != 0 && op != EPOLL_CTL_DEL)
    {
      /* Not pollable this way (closed meanwhile): let the waiting
       * sources run and find out for themselves. */
      g_debug ("epoll_ctl on %d: %s", watch->fd, g_strerror (errno));
      for (GList *l = watch->sources; l != NULL; l = l->next)
        g_source_set_ready_time (l->data, 0);
      wanted = 0;
    }
  watch->registered = wanted;
}

static void
wake_sources (SignalingPollerWatch *watch,
              guint32               events)
{
  GIOCondition ready = 0;

  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    ready |= G_IO_IN;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
    ready |= G_IO_OUT;

  for (GList *l = watch->sources; l != NULL; l = l->next)
    {
      StreamSource *source = l->data;

      if ((source->condition & ready) && !g_source_is_destroyed (&source->source))
        g_source_set_ready_time (&source->source, 0);
    }
}

static gboolean
poller_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  SignalingPoller *poller = ((PollerSource *) source)->poller;
  struct epoll_event events[EVENTS_PER_DISPATCH];
  int n = epoll_wait (poller->epoll_fd, events, G_N_ELEMENTS (events), 0);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&watches_lock);

  for (int i = 0; i < n; i++)
    wake_sources (events[i].data.ptr, events[i].events);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poller_source_funcs = {
  .dispatch = poller_dispatch,
};

SignalingPoller *
signaling_poller_new (void)
{
  SignalingPoller *poller = g_rc_box_new0 (SignalingPoller);

  poller->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (poller->epoll_fd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));

  poller->source = g_source_new (&poller_source_funcs, sizeof (PollerSource));
  ((PollerSource *) poller->source)->poller = poller;
  g_source_set_static_name (poller->source, "[signaling] socket poller");
  g_source_add_unix_fd (poller->source, poller->epoll_fd, G_IO_IN);
  g_source_attach (poller->source, g_main_context_get_thread_default ());

  return poller;
}

SignalingPoller *
signaling_poller_ref (SignalingPoller *poller)
{
  return g_rc_box_acquire (poller);
}

static void
poller_clear (SignalingPoller *poller)
{
  g_source_destroy (poller->source);
  g_source_unref (poller->source);
  close (poller->epoll_fd);
}

void
signaling_poller_unref (SignalingPoller *poller)
{
  g_rc_box_release_full (poller, (GDestroyNotify) poller_clear);
}

SignalingPollerWatch *
signaling_poller_watch (SignalingPoller *poller,
                        GSocket         *socket)
{
  SignalingPollerWatch *watch = g_new0 (SignalingPollerWatch, 1);

  watch->poller = signaling_poller_ref (poller);
  watch->fd = g_socket_get_fd (socket);
  return watch;
}

/* Before the descriptor is closed: out of the set, and whoever waits
 * is woken to find the stream closed. */
void
signaling_poller_unwatch (SignalingPollerWatch *watch)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&watches_lock);

  if (watch->registered != 0)
    epoll_ctl (watch->poller->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);

  for (GList *l = watch->sources; l != NULL; l = l->next)
    {
      StreamSource *source = l->data;

      source->watch = NULL;
      if (!g_source_is_destroyed (&source->source))
        g_source_set_ready_time (&source->source, 0);
    }
  g_list_free (watch->sources);
  signaling_poller_unref (watch->poller);
  g_free (watch);
}

static gboolean
stream_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  StreamSource *self = (StreamSource *) source;
  GPollableSourceFunc func = (GPollableSourceFunc) (GCallback) callback;

  /* Ready once per report: the socket says again if it still is. */
  g_source_set_ready_time (source, -1);
  return func != NULL ? func (self->stream, user_data) : G_SOURCE_REMOVE;
}

static void
stream_source_finalize (GSource *source)
{
  StreamSource *self = (StreamSource *) source;

  g_mutex_lock (&watches_lock);
  if (self->watch != NULL)
    {
      self->watch->sources = g_list_remove (self->watch->sources, self);
      update_interest (self->watch);
    }
  g_mutex_unlock (&watches_lock);
  g_clear_object (&self->stream);
}

static gboolean
stream_source_closure_callback (GObject  *stream,
                                gpointer  data)
{
  GClosure *closure = data;
  GValue param = G_VALUE_INIT;
  GValue result_value = G_VALUE_INIT;
  gboolean result;

  g_value_init (&result_value, G_TYPE_BOOLEAN);
  g_value_init (&param, G_TYPE_OBJECT);
  g_value_set_object (&param, stream);
  g_closure_invoke (closure, &result_value, 1, &param, NULL);
  result = g_value_get_boolean (&result_value);
  g_value_unset (&result_value);
  g_value_unset (&param);
  return result;
}

static GSourceFuncs stream_source_funcs = {
  .dispatch = stream_source_dispatch,
  .finalize = stream_source_finalize,
  .closure_callback = (GSourceFunc) (GCallback) stream_source_closure_callback,
  .closure_marshal = NULL,
};

/*
 * signaling_poller_create_source:
 * @watch: (nullable): the socket's watch, %NULL once it is closed
 *
 * A pollable source (GPollableSourceFunc callbacks) for @stream that
 * becomes ready when the socket is ready for @condition.
 */
GSource *
signaling_poller_create_source (SignalingPollerWatch *watch,
                                GObject              *stream,
                                GIOCondition          condition,
                                GCancellable         *cancellable)
{
  GSource *source = g_source_new (&stream_source_funcs, sizeof (StreamSource));
  StreamSource *self = (StreamSource *) source;

  g_source_set_static_name (source, "[signaling] socket stream");
  self->stream = g_object_ref (stream);
  self->condition = condition;
  self->watch = watch;

  if (cancellable != NULL)
    {
      GSource *cancelled = g_cancellable_source_new (cancellable);

      g_source_set_dummy_callback (cancelled);
      g_source_add_child_source (source, cancelled);
      g_source_unref (cancelled);
    }

  if (watch == NULL)
    {
      g_source_set_ready_time (source, 0);
      return source;
    }

  g_mutex_lock (&watches_lock);
  watch->sources = g_list_prepend (watch->sources, self);
  update_interest (watch);
  g_mutex_unlock (&watches_lock);
  return source;
}

#else /* !HAVE_EPOLL */

/* Without epoll, each source is GLib's own socket source, as
 * GSocketConnection's streams make them: correct, and only as slow as
 * libsoup alone (see signaling-soup-workarounds-private.h). */

struct _SignalingPoller
{
  int unused;
};

struct _SignalingPollerWatch
{
  SignalingPoller *poller;
  GSocket *socket;
};

SignalingPoller *
signaling_poller_new (void)
{
  return g_rc_box_new0 (SignalingPoller);
}

SignalingPoller *
signaling_poller_ref (SignalingPoller *poller)
{
  return g_rc_box_acquire (poller);
}

void
signaling_poller_unref (SignalingPoller *poller)
{
  g_rc_box_release (poller);
}

SignalingPollerWatch *
signaling_poller_watch (SignalingPoller *poller,
                        GSocket         *socket)
{
  SignalingPollerWatch *watch = g_new0 (SignalingPollerWatch, 1);

  watch->poller = signaling_poller_ref (poller);
  watch->socket = g_object_ref (socket);
  return watch;
}

/* Sources made before stay on the socket, which GLib reports closed. */
void
signaling_poller_unwatch (SignalingPollerWatch *watch)
{
  g_object_unref (watch->socket);
  signaling_poller_unref (watch->poller);
  g_free (watch);
}

GSource *
signaling_poller_create_source (SignalingPollerWatch *watch,
                                GObject              *stream,
                                GIOCondition          condition,
                                GCancellable         *cancellable)
{
  GSource *source = g_pollable_source_new (stream);
  GSource *child;

  g_source_set_static_name (source, "[signaling] socket stream");
  if (cancellable != NULL)
    {
      child = g_cancellable_source_new (cancellable);
      g_source_set_dummy_callback (child);
      g_source_add_child_source (source, child);
      g_source_unref (child);
    }

  /* Closed: whoever waits finds out at once. */
  if (watch == NULL)
    {
      g_source_set_ready_time (source, 0);
      return source;
    }

  child = g_socket_create_source (watch->socket, condition, NULL);
  g_source_set_dummy_callback (child);
  g_source_add_child_source (source, child);
  g_source_unref (child);
  return source;
}

#endif /* HAVE_EPOLL */
