/* signaling-redis-link.c: one connection to Redis that comes back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-cluster"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <hiredis/adapters/glib.h>

#include "signaling-error.h"
#include "signaling-redis-link-private.h"

/* Between attempts to reconnect: doubling from the first to the last,
 * which stays well under the cluster's heartbeat window, so that a
 * Redis restart costs no node its peers. */
#define FIRST_RETRY_MS 100
#define LAST_RETRY_MS 2000

/*
 * SignalingRedisLink:
 *
 * One hiredis asynchronous connection on the GLib main context
 * (hiredis's own GLib adapter, adapters/glib.h), for commands or for
 * pub/sub. It connects, authenticates and selects the database of a
 * `redis://[:password@]host:port/db` or `unix:///path` URL, and when
 * the connection drops it reconnects with backoff. It logs each change
 * of state once (not each failed attempt) and emits ::state-changed.
 */
struct _SignalingRedisLink
{
  GObject parent_instance;

  char *role;        /* for logs: "commands", "pub/sub" */
  char *host;        /* or NULL for a unix socket */
  char *path;        /* the unix socket */
  int port;
  int db;
  char *password;
  char *address;     /* for logs and D-Bus, without the password */

  redisAsyncContext *context;  /* NULL while down */
  GSource *source;             /* the adapter's, for context */
  GPtrArray *dead_sources;     /* destroyed, unreferenced once idle */
  gboolean connected;
  gboolean was_up;             /* logged as up last */
  gboolean disposing;
  guint retry_ms;
  guint retry_source;

  SignalingRedisReplyFunc message_func;
  gpointer message_data;
};

enum
{
  SIGNAL_STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SignalingRedisLink, signaling_redis_link, G_TYPE_OBJECT)

typedef struct
{
  SignalingRedisLink *link;
  SignalingRedisReplyFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Pending;

static void connect_now (SignalingRedisLink *self);

static void
destroy_source (gpointer source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
drop_context (SignalingRedisLink *self)
{
  redisAsyncContext *context = g_steal_pointer (&self->context);

  self->connected = FALSE;
  /* hiredis still uses the source while it frees the context (the
   * adapter's cleanup removes its poll, which must not be destroyed
   * yet), maybe from inside its dispatch: destroy it later. */
  if (self->source != NULL)
    g_ptr_array_add (self->dead_sources, g_steal_pointer (&self->source));
  if (context != NULL)
    context->data = NULL;
}

static gboolean
retry (gpointer user_data)
{
  SignalingRedisLink *self = user_data;

  self->retry_source = 0;
  g_ptr_array_set_size (self->dead_sources, 0);
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* The connection is gone (or never came): log it if it was up, and try
 * again after the backoff. */
static void
lost (SignalingRedisLink *self,
      const char         *why)
{
  gboolean was_connected = self->connected;

  drop_context (self);

  if (self->was_up)
    {
      g_message ("Lost Redis at %s (%s): %s; reconnecting", self->address, self->role, why);
      self->was_up = FALSE;
    }
  else
    g_debug ("Redis at %s (%s) not reachable: %s", self->address, self->role, why);

  if (self->disposing)
    return;

  if (self->retry_source == 0)
    {
      self->retry_source = g_timeout_add (self->retry_ms, retry, self);
      self->retry_ms = MIN (self->retry_ms * 2, LAST_RETRY_MS);
    }

  if (was_connected)
    g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

static void
on_connect (const redisAsyncContext *context,
            int                      status)
{
  SignalingRedisLink *self = context->data;

  if (self == NULL)
    return;

  if (status != REDIS_OK)
    {
      lost (self, context->errstr);
      return;
    }

  self->connected = TRUE;
  self->retry_ms = FIRST_RETRY_MS;
  if (!self->was_up)
    {
      g_message ("Connected to Redis at %s (%s)", self->address, self->role);
      self->was_up = TRUE;
    }
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

static void
on_disconnect (const redisAsyncContext *context,
               int                      status)
{
  SignalingRedisLink *self = context->data;

  if (self != NULL)
    lost (self, status == REDIS_OK ? "closed" : context->errstr);
}

static void
on_reply (redisAsyncContext *context,
          void              *reply,
          void              *privdata)
{
  Pending *pending = privdata;

  /* NULL: the command was lost with its connection. */
  if (reply != NULL && context->data != NULL)
    pending->func (pending->link, reply, pending->user_data);

  if (pending->destroy != NULL)
    pending->destroy (pending->user_data);
  g_free (pending);
}

/* Errors of the commands sent on connecting (AUTH, SELECT) are worth a
 * line: nothing else will work after them. */
static void
log_setup_error (SignalingRedisLink *self,
                 redisReply         *reply,
                 gpointer            user_data)
{
  if (reply->type == REDIS_REPLY_ERROR)
    g_message ("Redis at %s (%s) refused %s: %s", self->address, self->role,
               (const char *) user_data, reply->str);
}

static void
connect_now (SignalingRedisLink *self)
{
  redisAsyncContext *context;

  if (self->host != NULL)
    context = redisAsyncConnect (self->host, self->port);
  else
    context = redisAsyncConnectUnix (self->path);

  if (context == NULL || context->err)
    {
      g_autofree char *why = g_strdup (context != NULL ? context->errstr : "out of memory");

      if (context != NULL)
        redisAsyncFree (context);
      lost (self, why);
      return;
    }

  self->context = context;
  context->data = self;
  self->source = redis_source_new (context);
  g_source_set_static_name (self->source, "[signaling] redis link");
  g_source_attach (self->source, NULL);
  redisAsyncSetConnectCallback (context, on_connect);
  redisAsyncSetDisconnectCallback (context, on_disconnect);

  /* Queued before anything else the owner sends. */
  if (self->password != NULL)
    {
      const char *argv[] = { "AUTH", self->password };

      signaling_redis_link_command (self, log_setup_error, (gpointer) "AUTH", NULL, 2, argv, NULL);
    }
  if (self->db != 0)
    {
      g_autofree char *db = g_strdup_printf ("%d", self->db);
      const char *argv[] = { "SELECT", db };

      signaling_redis_link_command (self, log_setup_error, (gpointer) "SELECT", NULL, 2, argv, NULL);
    }
}

static void
signaling_redis_link_dispose (GObject *object)
{
  SignalingRedisLink *self = SIGNALING_REDIS_LINK (object);
  redisAsyncContext *context = self->context;

  self->disposing = TRUE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (context != NULL)
    {
      /* Frees the pending commands' data too, without replies. */
      self->context = NULL;
      context->data = NULL;
      redisAsyncFree (context);
    }
  drop_context (self);
  g_ptr_array_set_size (self->dead_sources, 0);

  G_OBJECT_CLASS (signaling_redis_link_parent_class)->dispose (object);
}

static void
signaling_redis_link_finalize (GObject *object)
{
  SignalingRedisLink *self = SIGNALING_REDIS_LINK (object);

  g_free (self->role);
  g_free (self->host);
  g_free (self->path);
  g_free (self->password);
  g_free (self->address);
  g_ptr_array_unref (self->dead_sources);

  G_OBJECT_CLASS (signaling_redis_link_parent_class)->finalize (object);
}

static void
signaling_redis_link_class_init (SignalingRedisLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_redis_link_dispose;
  object_class->finalize = signaling_redis_link_finalize;

  /*
   * SignalingRedisLink::state-changed:
   *
   * The link connected or lost its connection.
   */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
signaling_redis_link_init (SignalingRedisLink *self)
{
  self->dead_sources = g_ptr_array_new_with_free_func (destroy_source);
  self->retry_ms = FIRST_RETRY_MS;
}

static gboolean
parse_url (SignalingRedisLink  *self,
           const char          *url,
           GError             **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  const char *path = uri != NULL ? g_uri_get_path (uri) : NULL;

  if (g_strcmp0 (scheme, "unix") == 0 && path != NULL && path[0] == '/')
    {
      self->path = g_uri_unescape_string (path, NULL);
      self->address = g_strdup_printf ("unix:%s", self->path);
      return TRUE;
    }

  if (g_strcmp0 (scheme, "redis") == 0 && g_uri_get_host (uri) != NULL && g_uri_get_host (uri)[0] != '\0')
    {
      const char *password = g_uri_get_password (uri);
      gint64 db = 0;

      if (path != NULL && path[0] == '/' && path[1] != '\0' &&
          !g_ascii_string_to_signed (path + 1, 10, 0, G_MAXINT, &db, NULL))
        goto bad;

      self->host = g_strdup (g_uri_get_host (uri));
      self->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379;
      self->db = db;
      if (password != NULL && password[0] != '\0')
        self->password = g_uri_unescape_string (password, NULL);
      self->address = g_strdup_printf (strchr (self->host, ':') != NULL ? "[%s]:%d" : "%s:%d",
                                       self->host, self->port);
      return TRUE;
    }

bad:
  g_set_error (error, SIGNALING_ERROR, SIGNALING_ERROR_FAILED,
               _("“%s” is no Redis URL: redis://[:password@]host[:port][/db] or unix:///path"),
               url);
  return FALSE;
}

/*
 * signaling_redis_link_new:
 * @password: (nullable): overrides the URL's
 * @role: what the link is for, in logs
 *
 * Returns: (transfer full) (nullable): a link, not connected yet
 */
SignalingRedisLink *
signaling_redis_link_new (const char  *url,
                          const char  *password,
                          const char  *role,
                          GError     **error)
{
  g_autoptr(SignalingRedisLink) self = g_object_new (SIGNALING_TYPE_REDIS_LINK, NULL);

  if (!parse_url (self, url, error))
    return NULL;

  self->role = g_strdup (role);
  if (password != NULL)
    {
      g_free (self->password);
      self->password = g_strdup (password);
    }

  return g_steal_pointer (&self);
}

void
signaling_redis_link_start (SignalingRedisLink *self)
{
  if (self->context == NULL && self->retry_source == 0)
    connect_now (self);
}

gboolean
signaling_redis_link_is_connected (SignalingRedisLink *self)
{
  return self->connected;
}

const char *
signaling_redis_link_get_address (SignalingRedisLink *self)
{
  return self->address;
}

/*
 * signaling_redis_link_command:
 * @func: (nullable): gets the reply, if one comes
 * @lengths: (nullable): of @argv's strings, or NULL for NUL-terminated
 *
 * Queues a command. Returns: FALSE (and destroys @user_data) when the
 *   link is down: the command is not kept for later
 */
gboolean
signaling_redis_link_command (SignalingRedisLink      *self,
                              SignalingRedisReplyFunc  func,
                              gpointer                 user_data,
                              GDestroyNotify           destroy,
                              int                      argc,
                              const char             **argv,
                              const size_t            *lengths)
{
  Pending *pending;

  if (self->context == NULL)
    {
      if (destroy != NULL)
        destroy (user_data);
      return FALSE;
    }

  if (func == NULL)
    return redisAsyncCommandArgv (self->context, NULL, NULL, argc, argv, lengths) == REDIS_OK;

  pending = g_new0 (Pending, 1);
  pending->link = self;
  pending->func = func;
  pending->user_data = user_data;
  pending->destroy = destroy;
  if (redisAsyncCommandArgv (self->context, on_reply, pending, argc, argv, lengths) != REDIS_OK)
    {
      if (destroy != NULL)
        destroy (user_data);
      g_free (pending);
      return FALSE;
    }
  return TRUE;
}

/* Every reply of the subscriptions: ("subscribe", channel, count),
 * ("message", channel, payload), ("unsubscribe", channel, count). */
static void
on_subscription (redisAsyncContext *context,
                 void              *reply,
                 void              *privdata)
{
  SignalingRedisLink *self = privdata;

  if (reply != NULL && context->data != NULL && self->message_func != NULL)
    self->message_func (self, reply, self->message_data);
}

void
signaling_redis_link_set_message_func (SignalingRedisLink      *self,
                                       SignalingRedisReplyFunc  func,
                                       gpointer                 user_data)
{
  self->message_func = func;
  self->message_data = user_data;
}

/* (Un)subscribes the link to @channel; its messages and the
 * confirmation go to the message function. */
gboolean
signaling_redis_link_subscribe (SignalingRedisLink *self,
                                const char         *channel,
                                gboolean            subscribe)
{
  const char *argv[] = { subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", channel };

  if (self->context == NULL)
    return FALSE;

  return redisAsyncCommandArgv (self->context, on_subscription, self, 2, argv, NULL) == REDIS_OK;
}
