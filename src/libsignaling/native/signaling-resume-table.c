/* signaling-resume-table.c: native sessions a peer may resume
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every native session has a resume token, given in its `welcome`: a
 * new connection to /ws?resume=TOKEN takes the session over, with its
 * id and rooms. The tokens are kept here, server-side, each pointing
 * at its session; a token is drawn like an id (131 bits from the
 * kernel's CSPRNG), so that it cannot be guessed, and used once: a
 * resumed session gets a new one. Taking a token that is not here (a
 * forged one, one already used, one whose session has ended) counts as
 * a failed resume.
 *
 * In a cluster (signaling_resume_table_set_remote()) the table also
 * tells the other nodes which of its sessions wait, and a token that is
 * not here may still name a session waiting on another node:
 * signaling_resume_table_claim() asks for it (docs/design.md, "Resume
 * across cluster nodes").
 */
#include "config.h"

#include "signaling-resume-table-private.h"
#include "signaling-util-private.h"

#define DEFAULT_WINDOW      30
#define DEFAULT_BUFFER_SIZE (256 * 1024)

struct _SignalingResumeTable
{
  GObject parent_instance;

  GHashTable *sessions;  /* token (owned) → session (unowned: it removes itself) */
  guint window;          /* seconds a dropped session waits; 0: none waits */
  gsize buffer_size;     /* bytes kept for a dropped session */
  gboolean offsets;      /* Socket.IO recovery offsets on events */
  guint waiting;         /* dropped sessions in their window */
  /* Their windows' ends: one source for all, not one each, as GLib
   * walks every source on every main loop iteration (30 000 timeouts
   * after a minute of Socket.IO connect/close churn took half the
   * server's time). Windows have one length, so each is queued last. */
  SignalingTimerQueue *windows;
  guint64 resumed;
  guint64 failed;
  SignalingRemote *remote;  /* the other nodes, or NULL; not owned */
};

G_DEFINE_FINAL_TYPE (SignalingResumeTable, signaling_resume_table, G_TYPE_OBJECT)

static void
signaling_resume_table_finalize (GObject *object)
{
  SignalingResumeTable *self = SIGNALING_RESUME_TABLE (object);

  g_hash_table_unref (self->sessions);
  g_clear_pointer (&self->windows, signaling_timer_queue_unref);

  G_OBJECT_CLASS (signaling_resume_table_parent_class)->finalize (object);
}

static void
signaling_resume_table_class_init (SignalingResumeTableClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_resume_table_finalize;
}

static void
signaling_resume_table_init (SignalingResumeTable *self)
{
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->window = DEFAULT_WINDOW;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->windows = signaling_timer_queue_new ("[signaling] resume windows");
}

SignalingResumeTable *
signaling_resume_table_new (void)
{
  return g_object_new (SIGNALING_TYPE_RESUME_TABLE, NULL);
}

guint
signaling_resume_table_get_window (SignalingResumeTable *self)
{
  return self->window;
}

void
signaling_resume_table_set_window (SignalingResumeTable *self,
                                   guint                 seconds)
{
  self->window = seconds;
}

gsize
signaling_resume_table_get_buffer_size (SignalingResumeTable *self)
{
  return self->buffer_size;
}

void
signaling_resume_table_set_buffer_size (SignalingResumeTable *self,
                                        gsize                 bytes)
{
  self->buffer_size = bytes;
}

gboolean
signaling_resume_table_get_offsets (SignalingResumeTable *self)
{
  return self->offsets;
}

/* Socket.IO sockets that begin from now on carry offsets, or not. */
void
signaling_resume_table_set_offsets (SignalingResumeTable *self,
                                    gboolean              offsets)
{
  self->offsets = offsets;
}

/* Returns: (transfer full): a new token for @session, which must
 * remove it before it goes */
char *
signaling_resume_table_add (SignalingResumeTable *self,
                            gpointer              session)
{
  char *token = signaling_generate_id ();

  g_hash_table_insert (self->sessions, g_strdup (token), session);
  return token;
}

/* Puts back a token take() returned: a Socket.IO pid lasts as long as
 * its socket (the client checks that it comes back unchanged). */
void
signaling_resume_table_put (SignalingResumeTable *self,
                            const char           *token,
                            gpointer              session)
{
  g_hash_table_insert (self->sessions, g_strdup (token), session);
}

/*
 * signaling_resume_table_take:
 *
 * Looks @token up, for a session of @type, and forgets it: each token
 * resumes once. The caller counts the outcome (signaling_resume_table_count()),
 * which may still come from another node.
 *
 * Returns: (transfer none) (nullable): the session, or %NULL
 */
gpointer
signaling_resume_table_take (SignalingResumeTable *self,
                             const char           *token,
                             GType                 type)
{
  g_autofree char *key = NULL;
  gpointer session = g_hash_table_lookup (self->sessions, token);

  /* Native tokens and Socket.IO pids share the table (and its counts):
   * a token of the other kind resumes nothing. */
  if (session == NULL || !G_TYPE_CHECK_INSTANCE_TYPE (session, type))
    return NULL;

  g_hash_table_steal_extended (self->sessions, token, (gpointer *) &key, NULL);
  return session;
}

/* Counts a resume that was done or, with @resumed %FALSE, refused. */
void
signaling_resume_table_count (SignalingResumeTable *self,
                              gboolean              resumed)
{
  if (resumed)
    self->resumed++;
  else
    self->failed++;
}

/* @remote: (nullable): the other nodes of the cluster, not referenced */
void
signaling_resume_table_set_remote (SignalingResumeTable *self,
                                   SignalingRemote      *remote)
{
  self->remote = remote;
}

/*
 * signaling_resume_table_set_detached:
 * @detached: (inout): the session's own flag
 * @token: (nullable): the token that resumes it
 * @client: (nullable): its client
 *
 * The one place a session (of either dialect) starts or stops waiting
 * for its resume, so that the count of waiting sessions cannot drift
 * and the other nodes of a cluster know where to ask for it.
 */
void
signaling_resume_table_set_detached (SignalingResumeTable *self,
                                     gboolean             *detached,
                                     gboolean              value,
                                     const char           *token,
                                     SignalingClient      *client)
{
  if (*detached == value)
    return;
  *detached = value;

  if (value)
    self->waiting++;
  else
    {
      g_return_if_fail (self->waiting > 0);
      self->waiting--;
    }

  if (self->remote != NULL && token != NULL && client != NULL)
    signaling_remote_session_waiting (self->remote, token, client, value ? self->window : 0);
}

/* Voids *@token: a session the server closes, or that ends, cannot be
 * rescued through it any more (a kick, then a quick resume). */
void
signaling_resume_table_forget (SignalingResumeTable  *self,
                               char                 **token)
{
  if (*token != NULL)
    g_hash_table_remove (self->sessions, *token);
  g_clear_pointer (token, g_free);
}

/*
 * signaling_resume_table_claim:
 *
 * Asks the other nodes of the cluster for the session @token names,
 * which is not here, if its id is @sub (the new connection's token's,
 * or %NULL without tokens). @func is called once, later, with the session's
 * state or %NULL (no such session, or no answer in time).
 *
 * Returns: %FALSE, without calling @func, when there is no cluster to
 *   ask: the resume fails now
 */
gboolean
signaling_resume_table_claim (SignalingResumeTable     *self,
                              const char               *token,
                              const char               *sub,
                              SignalingRemoteClaimFunc  func,
                              gpointer                  user_data,
                              GDestroyNotify            destroy)
{
  if (self->remote == NULL)
    return FALSE;

  signaling_remote_claim_session (self->remote, token, sub, func, user_data, destroy);
  return TRUE;
}

guint
signaling_resume_table_get_waiting (SignalingResumeTable *self)
{
  return self->waiting;
}

guint64
signaling_resume_table_get_resumed (SignalingResumeTable *self)
{
  return self->resumed;
}

guint64
signaling_resume_table_get_failed (SignalingResumeTable *self)
{
  return self->failed;
}

/*
 * signaling_resume_table_start_window:
 * @timer: the session's own, not queued
 *
 * Calls @func with @data when the window of a session that starts
 * waiting now is over, unless signaling_resume_table_stop_window()
 * comes first.
 */
void
signaling_resume_table_start_window (SignalingResumeTable *self,
                                     SignalingTimer       *timer,
                                     SignalingTimerFunc    func,
                                     gpointer              data)
{
  signaling_timer_queue_add (self->windows, timer,
                             g_get_monotonic_time () + (gint64) self->window * G_USEC_PER_SEC,
                             func, data);
}

/* Ends @timer's window on the next main loop iteration, not now: a
 * delivery (a room being walked) or a close may be calling. */
void
signaling_resume_table_end_window_soon (SignalingResumeTable *self,
                                        SignalingTimer       *timer,
                                        SignalingTimerFunc    func,
                                        gpointer              data)
{
  signaling_resume_table_stop_window (self, timer);
  signaling_timer_queue_add (self->windows, timer, g_get_monotonic_time (), func, data);
}

void
signaling_resume_table_stop_window (SignalingResumeTable *self,
                                    SignalingTimer       *timer)
{
  if (signaling_timer_is_queued (timer))
    signaling_timer_queue_remove (self->windows, timer);
}

/*
 * signaling_resume_table_end_oldest:
 *
 * Ends, now, the session that has waited longest for its resume: the
 * router asks when it is full, as a peer that is here is worth more
 * than one that may come back. Without this, a client that connects
 * and drops the TCP connection in a loop fills the server with
 * sessions waiting for a resume and locks everyone out for a window.
 *
 * Returns: whether a session was ended
 */
gboolean
signaling_resume_table_end_oldest (SignalingResumeTable *self)
{
  SignalingTimer *oldest = signaling_timer_queue_peek (self->windows);
  SignalingTimerFunc func;
  gpointer data;

  if (oldest == NULL)
    return FALSE;

  func = oldest->func;
  data = oldest->data;
  signaling_timer_queue_remove (self->windows, oldest);
  func (data);
  return TRUE;
}
