/* signalbox-bench: a load generator for signalbox and the Node servers it
 * replaces.
 *
 * One process, one thread, one epoll set. It speaks WebSocket itself
 * (upgrade handshake, masked client frames, incremental frame parsing)
 * so that what it measures is the server, not a client library: reads go
 * through one large shared buffer, outgoing frames are appended to a
 * per-connection buffer and sent with one send() per connection per loop
 * turn, and nothing is allocated per message once the buffers have grown.
 *
 * Every relayed payload carries the send time, a sequence number and the
 * sender's index, so the receiver computes the latency and hands the
 * sender its credit back directly (same process): "W in flight" means W
 * messages sent and not yet delivered.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE   /* memmem */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* "~" is in no id or room name the servers hand out, so the marker is
 * found only in the payload */
#define MARK "~sb"
#define MARK_LEN 3
/* MARK, 16 hex digits of send time (ns), 8 of sequence, 8 of sender index */
#define STAMP_LEN (MARK_LEN + 16 + 8 + 8)
#define READ_CHUNK (256 * 1024)
#define MAX_SPILL (4 * 1024 * 1024)
#define MAX_EVENTS 1024
#define FANOUT_ROOM "signalbox-bench-fanout"

/* Log-linear latency histogram: exact below 256 ns, then 256 buckets per
 * power of two (under 0.4 % error), up to 2^40 ns. */
#define HIST_SUB_BITS 8
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 40
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

typedef enum {
  MODE_PAIRS,
  MODE_IDLE,
  MODE_CHURN,
  MODE_FANOUT,
} Mode;

typedef enum {
  PROTO_NATIVE,
  PROTO_SEED000,
  PROTO_SEED003,
} Proto;

typedef enum {
  PEER_FREE,
  PEER_CONNECTING,   /* TCP connect in progress */
  PEER_UPGRADING,    /* HTTP upgrade sent, waiting for 101 */
  PEER_OPENING,      /* WebSocket open, waiting for welcome / your_id / joined */
  PEER_READY,
  PEER_CLOSING,      /* close frame sent, waiting for the server to close */
  PEER_DEAD,
} PeerState;

typedef enum {
  PHASE_SETUP,
  PHASE_SETTLE,
  PHASE_WARMUP,
  PHASE_MEASURE,
  PHASE_DONE,
} Phase;

typedef struct {
  int fd;
  guint32 idx;
  PeerState state;
  gboolean dirty;        /* in the flush list this turn */
  gboolean want_out;     /* EPOLLOUT armed */
  gboolean is_sender;
  char *id;              /* the server's name for us */
  int partner;           /* pairs: whom we send to, -1 for nobody */
  char *prefix;          /* text before the payload in each message we send */
  gsize prefix_len;
  const char *suffix;
  guint32 credit;
  guint32 seq;
  guint64 delivered;     /* messages received in the measuring window */
  guint32 *fan_left;     /* fanout sender: receivers still to get seq % window */
  char accept[32];       /* expected Sec-WebSocket-Accept */
  guint8 *spill;         /* bytes of an incomplete frame or HTTP response */
  gsize spill_len, spill_cap;
  guint8 *out;
  gsize out_off, out_len, out_cap;
  gint64 started_ns;     /* churn: when the connection began */
  gint64 hold_until;     /* backing off after an error reply, 0 if not */
  /* pairs, as a sender: the partner gets our messages in order, so a gap
   * in the sequence is a message the server dropped */
  guint32 next_expected;
  guint64 gaps;          /* messages that never arrived */
  guint64 rejected;      /* error replies we got (they explain gaps) */
  gint64 last_progress;  /* last delivery of ours, or the start */
  guint32 mask_state;
} Peer;

typedef struct {
  /* options */
  Mode mode;
  Proto proto;
  char *host;
  int port;
  int second_port;               /* pairs: the second peer of each pair goes there */
  int peers;
  int window;
  int size;
  double warmup;
  double duration;
  int concurrency;
  int server_pid;
  gboolean json;
  char *source_spec;

  /* state */
  int epfd;
  struct sockaddr_in server;
  struct sockaddr_in second_server;
  struct in_addr *sources;
  guint n_sources;
  guint next_source;
  Peer *peer;
  guint n_peers;
  guint *dirty;
  guint n_dirty;
  guint8 *rbuf;
  gsize rbuf_cap;
  char *payload;          /* padding that follows the stamp, size - STAMP_LEN */
  gsize pad_len;
  Phase phase;
  gint64 now;
  gint64 phase_start;
  gint64 measure_start, measure_end;
  guint n_ready;
  guint n_pending;        /* connecting or upgrading */
  guint n_started;        /* peers ever started (setup) */
  int fan_receivers;
  gboolean armed;
  gboolean server_gone;
  guint n_held;

  /* results */
  guint64 *hist;
  guint64 hist_count;
  gint64 hist_max;
  double hist_sum;
  guint64 delivered;
  guint64 sent;
  guint64 handshakes;
  GHashTable *errors;     /* kind -> count (as pointer) */
  guint64 errors_total;
  guint64 rss_base_kb, rss_start_kb, rss_end_kb, rss_peak_kb;
  double srv_cpu_start, srv_cpu_end;
  double cli_cpu_start, cli_cpu_end;
} Bench;

static volatile sig_atomic_t interrupted;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* ---- results ------------------------------------------------------------ */

static void
count_errors (Bench      *b,
              const char *kind,
              gsize       n)
{
  gpointer old = g_hash_table_lookup (b->errors, kind);

  g_hash_table_replace (b->errors, g_strdup (kind),
                        GSIZE_TO_POINTER (GPOINTER_TO_SIZE (old) + n));
  b->errors_total += n;
}

static void
count_error (Bench      *b,
             const char *kind)
{
  count_errors (b, kind, 1);
}

static guint
hist_index (guint64 v)
{
  int e;

  if (v < HIST_SUB)
    return (guint) v;
  e = 63 - __builtin_clzll (v);
  if (e >= HIST_MAX_EXP)
    return HIST_BUCKETS - 1;
  return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB
         + (guint) ((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

static guint64
hist_value (guint i)
{
  guint e, sub;

  if (i < HIST_SUB)
    return i;
  e = (i - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
  sub = (i - HIST_SUB) % HIST_SUB;
  /* upper edge of the bucket, so percentiles never under-report */
  return ((guint64) (HIST_SUB + sub + 1) << (e - HIST_SUB_BITS)) - 1;
}

static void
hist_record (Bench *b,
             gint64 ns)
{
  if (ns < 0)
    ns = 0;
  b->hist[hist_index ((guint64) ns)]++;
  b->hist_count++;
  b->hist_sum += (double) ns;
  if (ns > b->hist_max)
    b->hist_max = ns;
}

static double
hist_percentile_ms (Bench  *b,
                    double  p)
{
  guint64 want, seen = 0;

  if (b->hist_count == 0)
    return 0;
  want = (guint64) ceil (p / 100.0 * (double) b->hist_count);
  if (want == 0)
    want = 1;
  for (guint i = 0; i < HIST_BUCKETS; i++)
    {
      seen += b->hist[i];
      if (seen >= want)
        return MIN ((double) hist_value (i), (double) b->hist_max) / 1e6;
    }
  return (double) b->hist_max / 1e6;
}

/* ---- /proc -------------------------------------------------------------- */

static guint64
proc_rss_kb (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *line;

  if (pid <= 0)
    return 0;
  path = g_strdup_printf ("/proc/%d/status", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  line = strstr (text, "\nVmRSS:");
  if (line == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* utime + stime of a process, in seconds */
static double
proc_cpu_s (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *rest;

  if (pid <= 0)
    return 0;
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  /* the command name may hold spaces: fields start after its last ')' */
  rest = strrchr (text, ')');
  if (rest == NULL)
    return 0;
  fields = g_strsplit (rest + 2, " ", 0);
  /* field 3 (state) is fields[0], so utime (14) and stime (15) are 11, 12 */
  if (g_strv_length (fields) < 13)
    return 0;
  return (double) (g_ascii_strtoull (fields[11], NULL, 10)
                   + g_ascii_strtoull (fields[12], NULL, 10))
         / (double) sysconf (_SC_CLK_TCK);
}

/* A crashed server stays a zombie until its parent reaps it: that is
 * gone too. */
static gboolean
proc_alive (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  const char *rest;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  rest = strrchr (text, ')');
  return rest != NULL && rest[1] == ' ' && rest[2] != 'Z' && rest[2] != 'X';
}

static double
self_cpu_s (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- buffers and frames ------------------------------------------------- */

static void
out_reserve (Peer  *p,
             gsize  extra)
{
  if (p->out_off > 0 && p->out_off == p->out_len)
    p->out_off = p->out_len = 0;
  if (p->out_len + extra <= p->out_cap)
    return;
  if (p->out_off > 0)
    {
      memmove (p->out, p->out + p->out_off, p->out_len - p->out_off);
      p->out_len -= p->out_off;
      p->out_off = 0;
      if (p->out_len + extra <= p->out_cap)
        return;
    }
  p->out_cap = MAX (p->out_cap * 2, p->out_len + extra);
  p->out_cap = MAX (p->out_cap, 512);
  p->out = g_realloc (p->out, p->out_cap);
}

static void
mark_dirty (Bench *b,
            Peer  *p)
{
  if (p->dirty)
    return;
  p->dirty = TRUE;
  b->dirty[b->n_dirty++] = p->idx;
}

/* Cheap per-connection mask generator: RFC 6455 wants masks a proxy
 * cannot predict, which does not matter against our own loopback server. */
static guint32
next_mask (Peer *p)
{
  guint32 x = p->mask_state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  p->mask_state = x;
  return x;
}

/* Starts a masked frame of @len payload bytes in @p's output buffer and
 * returns where the payload goes; frame_end() masks it. */
static guint8 *
frame_begin (Peer   *p,
             guint8  opcode,
             gsize   len)
{
  guint8 *h;
  gsize hlen = len < 126 ? 6 : len < 65536 ? 8 : 14;

  out_reserve (p, hlen + len);
  h = p->out + p->out_len;
  h[0] = 0x80 | opcode;
  if (len < 126)
    h[1] = 0x80 | (guint8) len;
  else if (len < 65536)
    {
      h[1] = 0x80 | 126;
      h[2] = (guint8) (len >> 8);
      h[3] = (guint8) len;
    }
  else
    {
      h[1] = 0x80 | 127;
      for (int i = 0; i < 8; i++)
        h[2 + i] = (guint8) ((guint64) len >> (56 - 8 * i));
    }
  {
    guint32 m = next_mask (p);
    memcpy (h + hlen - 4, &m, 4);
  }
  p->out_len += hlen + len;
  return h + hlen;
}

static void
frame_mask (guint8 *payload,
            gsize   len)
{
  guint8 key[4];
  guint64 k8;
  gsize i = 0;

  memcpy (key, payload - 4, 4);
  for (int j = 0; j < 8; j++)
    ((guint8 *) &k8)[j] = key[j & 3];
  for (; i + 8 <= len; i += 8)
    {
      guint64 v;

      memcpy (&v, payload + i, 8);
      v ^= k8;
      memcpy (payload + i, &v, 8);
    }
  for (; i < len; i++)
    payload[i] ^= key[i & 3];
}

static void
send_frame (Bench      *b,
            Peer       *p,
            guint8      opcode,
            const void *data,
            gsize       len)
{
  guint8 *dst = frame_begin (p, opcode, len);

  memcpy (dst, data, len);
  frame_mask (dst, len);
  mark_dirty (b, p);
}

static void
send_text (Bench      *b,
           Peer       *p,
           const char *text)
{
  send_frame (b, p, 0x1, text, strlen (text));
}

static void
put_hex (char    *dst,
         guint64  v,
         int      digits)
{
  static const char hex[] = "0123456789abcdef";

  for (int i = digits - 1; i >= 0; i--, v >>= 4)
    dst[i] = hex[v & 0xf];
}

static gboolean
get_hex (const char *src,
         int         digits,
         guint64    *out)
{
  guint64 v = 0;

  for (int i = 0; i < digits; i++)
    {
      int d = g_ascii_xdigit_value (src[i]);

      if (d < 0)
        return FALSE;
      v = v << 4 | (guint) d;
    }
  *out = v;
  return TRUE;
}

/* One relayed message: prefix, stamp, padding, suffix; built in place. */
static void
send_stamped (Bench *b,
              Peer  *p)
{
  gsize suffix_len = strlen (p->suffix);
  gsize len = p->prefix_len + STAMP_LEN + b->pad_len + suffix_len;
  guint8 *dst = frame_begin (p, 0x1, len);
  char *c = (char *) dst;

  memcpy (c, p->prefix, p->prefix_len);
  c += p->prefix_len;
  memcpy (c, MARK, MARK_LEN);
  put_hex (c + MARK_LEN, (guint64) b->now, 16);
  put_hex (c + MARK_LEN + 16, p->seq, 8);
  put_hex (c + MARK_LEN + 24, p->idx, 8);
  c += STAMP_LEN;
  memcpy (c, b->payload, b->pad_len);
  c += b->pad_len;
  memcpy (c, p->suffix, suffix_len);
  frame_mask (dst, len);
  if (p->fan_left != NULL)
    p->fan_left[p->seq % (guint) b->window] = (guint32) b->fan_receivers;
  p->seq++;
  b->sent++;
}

/* ---- connection lifecycle ----------------------------------------------- */

static void
peer_close (Bench      *b,
            Peer       *p,
            const char *error_kind)
{
  if (p->fd >= 0)
    {
      epoll_ctl (b->epfd, EPOLL_CTL_DEL, p->fd, NULL);
      close (p->fd);
      p->fd = -1;
    }
  if (p->state == PEER_CONNECTING || p->state == PEER_UPGRADING)
    b->n_pending--;
  if (p->state == PEER_READY)
    b->n_ready--;
  if (error_kind != NULL)
    count_error (b, error_kind);
  p->state = PEER_DEAD;
  p->spill_len = 0;
  p->out_off = p->out_len = 0;
  p->want_out = FALSE;
}

static void
update_events (Bench *b,
               Peer  *p,
               gboolean want_out)
{
  struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                            .data.u32 = p->idx };

  if (p->want_out == want_out)
    return;
  p->want_out = want_out;
  epoll_ctl (b->epfd, EPOLL_CTL_MOD, p->fd, &ev);
}


/* Where peer @p connects: with --second-port, the second peer of each
 * pair goes to another node of a cluster, so that every message of the
 * pairs workload crosses nodes. */
static struct sockaddr_in *
peer_server (Bench *b,
             Peer  *p)
{
  return b->second_port > 0 && p->idx % 2 == 1 ? &b->second_server : &b->server;
}
static void
peer_start (Bench *b,
            Peer  *p)
{
  struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = p->idx };
  int one = 1;
  int fd;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      p->state = PEER_DEAD;
      count_error (b, g_strerror (errno));
      return;
    }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (b->n_sources > 0)
    {
      struct sockaddr_in src = { .sin_family = AF_INET,
                                 .sin_addr = b->sources[b->next_source++ % b->n_sources] };

#ifdef IP_BIND_ADDRESS_NO_PORT
      /* pick the port at connect(), so each source address has its own range */
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
      if (bind (fd, (struct sockaddr *) &src, sizeof src) < 0)
        {
          close (fd);
          p->state = PEER_DEAD;
          count_error (b, "bind-source-address");
          return;
        }
    }
  p->fd = fd;
  p->state = PEER_CONNECTING;
  p->want_out = TRUE;
  p->started_ns = b->now;
  b->n_pending++;
  if (connect (fd, (struct sockaddr *) peer_server (b, p), sizeof b->server) < 0 && errno != EINPROGRESS)
    {
      g_autofree char *kind = g_strdup_printf ("connect: %s", g_strerror (errno));

      close (fd);
      p->fd = -1;
      peer_close (b, p, kind);
      return;
    }
  epoll_ctl (b->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
send_upgrade (Bench *b,
              Peer  *p)
{
  guint8 nonce[16];
  g_autofree char *key = NULL;
  g_autofree char *accept_src = NULL;
  g_autofree char *request = NULL;
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  g_autofree char *accept = NULL;
  gsize len;

  for (guint i = 0; i < sizeof nonce; i++)
    nonce[i] = (guint8) g_random_int ();
  key = g_base64_encode (nonce, sizeof nonce);
  accept_src = g_strconcat (key, WS_GUID, NULL);
  g_checksum_update (sha1, (const guchar *) accept_src, -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  accept = g_base64_encode (digest, digest_len);
  g_strlcpy (p->accept, accept, sizeof p->accept);

  request = g_strdup_printf ("GET %s HTTP/1.1\r\n"
                             "Host: %s:%d\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Key: %s\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "\r\n",
                             b->proto == PROTO_NATIVE ? "/ws" : "/socket.io/?EIO=4&transport=websocket",
                             b->host, ntohs (peer_server (b, p)->sin_port), key);
  len = strlen (request);
  out_reserve (p, len);
  memcpy (p->out + p->out_len, request, len);
  p->out_len += len;
  p->state = PEER_UPGRADING;
  mark_dirty (b, p);
}

/* Finds a header's value in an HTTP response head (case-insensitive name). */
static gboolean
header_equals (const char *head,
               const char *name,
               const char *want)
{
  gsize nlen = strlen (name);

  for (const char *line = strstr (head, "\r\n"); line != NULL; line = strstr (line + 2, "\r\n"))
    {
      const char *v = line + 2;

      if (g_ascii_strncasecmp (v, name, nlen) != 0 || v[nlen] != ':')
        continue;
      v += nlen + 1;
      while (*v == ' ')
        v++;
      /* the last header has no CRLF left after it: the head was cut there */
      return strncmp (v, want, strlen (want)) == 0
             && (v[strlen (want)] == '\r' || v[strlen (want)] == ' ' || v[strlen (want)] == '\0');
    }
  return FALSE;
}

/* Returns bytes consumed, 0 if the head is incomplete, -1 on failure. */
static gssize
handle_upgrade_response (Bench        *b,
                         Peer         *p,
                         const guint8 *data,
                         gsize         len)
{
  const guint8 *end = memmem (data, len, "\r\n\r\n", 4);
  g_autofree char *head = NULL;

  if (end == NULL)
    return len > 16384 ? -1 : 0;
  head = g_strndup ((const char *) data, end - data);
  if (!g_str_has_prefix (head, "HTTP/1.1 101"))
    {
      g_autofree char *kind = g_strdup_printf ("upgrade: %.12s", head);

      peer_close (b, p, kind);
      return -1;
    }
  if (!header_equals (head, "Sec-WebSocket-Accept", p->accept))
    {
      peer_close (b, p, "upgrade: bad Sec-WebSocket-Accept");
      return -1;
    }
  p->state = PEER_OPENING;
  b->n_pending--;
  return end + 4 - data;
}

/* ---- what the dialects send --------------------------------------------- */

static void
peer_became_ready (Bench *b,
                   Peer  *p)
{
  if (p->state != PEER_OPENING)
    return;
  p->state = PEER_READY;
  b->n_ready++;
  if (b->mode == MODE_CHURN)
    {
      static const guint8 close_1000[] = { 0x03, 0xe8 };

      if (b->phase == PHASE_MEASURE)
        {
          hist_record (b, b->now - p->started_ns);
          b->handshakes++;
        }
      /* A Socket.IO client leaves as socket.disconnect() does, with a
       * DISCONNECT packet first: a bare close is a dropped transport,
       * which the server keeps for a recovery (a tab closing; the
       * server ends the oldest such session when full). */
      if (b->proto != PROTO_NATIVE)
        send_frame (b, p, 0x1, (const guint8 *) "41", 2);
      send_frame (b, p, 0x8, close_1000, sizeof close_1000);
      b->n_ready--;
      p->state = PEER_CLOSING;
    }
}

/* Copies a JSON string value that follows @key in @s into @out (ids are
 * plain URL-safe characters, so no unescaping is needed). */
static char *
string_after (const char *s,
              gsize       len,
              const char *key)
{
  const char *k = memmem (s, len, key, strlen (key));
  const char *v, *e;

  if (k == NULL)
    return NULL;
  v = k + strlen (key);
  e = memchr (v, '"', len - (v - s));
  if (e == NULL)
    return NULL;
  return g_strndup (v, e - v);
}

static void
handle_error_reply (Bench *b,
                    Peer  *p,
                    char  *kind)
{
  count_error (b, kind != NULL ? kind : "error");
  if (!p->is_sender || b->phase < PHASE_WARMUP)
    return;
  /* The message that caused it was dropped. In pairs its credit comes
   * back when the partner sees the gap it left; in fanout at once. Either
   * way the sender pauses, or a rate-limited one would spin resending. */
  if (p->fan_left != NULL)
    p->credit++;
  else
    p->rejected++;
  if (p->hold_until == 0)
    b->n_held++;
  p->hold_until = b->now + 10 * G_GINT64_CONSTANT (1000000);
}

/* A relayed message with our stamp in it. */
static void
handle_stamped (Bench      *b,
                Peer       *p,
                const char *stamp)
{
  guint64 t, seq, from;
  Peer *sender;

  if (!get_hex (stamp + MARK_LEN, 16, &t) || !get_hex (stamp + MARK_LEN + 16, 8, &seq)
      || !get_hex (stamp + MARK_LEN + 24, 8, &from) || from >= b->n_peers)
    {
      count_error (b, "bad-stamp");
      return;
    }
  if (from == p->idx)
    return;   /* our own echo (a room we are in): not a delivery */
  if (b->phase == PHASE_MEASURE && (gint64) t >= b->measure_start)
    {
      hist_record (b, b->now - (gint64) t);
      p->delivered++;
      b->delivered++;
    }
  sender = &b->peer[from];
  if (sender->state != PEER_READY)
    return;
  if (sender->fan_left != NULL)
    {
      guint32 *left = &sender->fan_left[seq % (guint) b->window];

      if (*left > 0 && --*left == 0)
        {
          sender->credit++;
          mark_dirty (b, sender);
        }
    }
  else if (seq >= sender->next_expected)
    {
      /* this one and every one skipped come back as credit */
      guint32 skipped = (guint32) seq - sender->next_expected;

      sender->gaps += skipped;
      sender->credit += skipped + 1;
      sender->next_expected = (guint32) seq + 1;
      sender->last_progress = b->now;
      mark_dirty (b, sender);
    }
  else if (sender->gaps > 0)
    sender->gaps--;   /* written off by check_stalled(), then came after all */
}

/* Seed 003 drops silently (no error, not even for rate-limited): when the
 * whole window is dropped no later message shows the gap, so a sender
 * that has heard nothing for a second writes off what it has in flight.
 * Only there: native and seed 000 answer every drop with an error, and a
 * starved pair is slow, not lost. */
static void
check_stalled (Bench *b)
{
  for (guint i = 0; i < b->n_peers; i++)
    {
      Peer *p = &b->peer[i];
      guint32 in_flight = p->seq - p->next_expected;

      if (!p->is_sender || p->fan_left != NULL || p->state != PEER_READY || in_flight == 0
          || b->now - p->last_progress < G_GINT64_CONSTANT (1000000000))
        continue;
      p->gaps += in_flight;
      p->credit += in_flight;
      p->next_expected = p->seq;
      p->last_progress = b->now;
      mark_dirty (b, p);
    }
}

/* Messages lost beyond those the server said it refused. */
static guint64
silently_lost (Bench *b)
{
  guint64 lost = 0;

  for (guint i = 0; i < b->n_peers; i++)
    if (b->peer[i].gaps > b->peer[i].rejected)
      lost += b->peer[i].gaps - b->peer[i].rejected;
  return lost;
}

static void
handle_native (Bench      *b,
               Peer       *p,
               const char *s,
               gsize       len)
{
  const char *stamp;

  if (p->state == PEER_READY && (stamp = memmem (s, len, MARK, MARK_LEN)) != NULL
      && (gsize) (stamp - s) + STAMP_LEN <= len)
    {
      handle_stamped (b, p, stamp);
      return;
    }
  if (memmem (s, len, "\"type\":\"welcome\"", 16) != NULL)
    {
      g_free (p->id);
      p->id = string_after (s, len, "\"id\":\"");
      if (b->mode == MODE_FANOUT)
        send_text (b, p, "{\"type\":\"join\",\"room\":\"" FANOUT_ROOM "\"}");
      else
        peer_became_ready (b, p);
    }
  else if (memmem (s, len, "\"type\":\"joined\"", 15) != NULL)
    peer_became_ready (b, p);
  else if (memmem (s, len, "\"type\":\"error\"", 14) != NULL)
    {
      g_autofree char *code = string_after (s, len, "\"code\":\"");

      handle_error_reply (b, p, code);
    }
  /* peer-joined, pong and the like: nothing to do */
}

static void
socketio_connected (Bench *b,
                    Peer  *p)
{
  if (b->proto == PROTO_SEED000)
    return;   /* ready once your_id names us */
  if (b->mode == MODE_FANOUT)
    {
      if (!p->is_sender)
        send_text (b, p, "42[\"JoinSocket\",\"" FANOUT_ROOM "\"]");
    }
  else if (b->mode == MODE_PAIRS)
    {
      g_autofree char *join = g_strdup_printf ("42[\"JoinSocket\",\"bench-%u\"]", p->idx);

      /* seed 003 has no acknowledgement: the settle phase covers the join */
      send_text (b, p, join);
    }
  peer_became_ready (b, p);
}

static void
handle_socketio (Bench      *b,
                 Peer       *p,
                 const char *s,
                 gsize       len)
{
  const char *stamp;

  if (len == 0)
    return;
  switch (s[0])
    {
    case '0':   /* Engine.IO open: connect to the default namespace */
      send_text (b, p, "40");
      return;
    case '2':   /* Engine.IO ping */
      send_frame (b, p, 0x1, "3", 1);
      return;
    case '1':
      peer_close (b, p, "engine.io close");
      return;
    case '4':
      break;
    default:
      return;
    }
  if (len < 2)
    return;
  if (s[1] == '0')
    {
      socketio_connected (b, p);
      return;
    }
  if (s[1] == '1' || s[1] == '4')
    {
      peer_close (b, p, s[1] == '1' ? "socket.io disconnect" : "socket.io connect_error");
      return;
    }
  if (s[1] != '2')
    return;
  if (p->state == PEER_READY && (stamp = memmem (s, len, MARK, MARK_LEN)) != NULL
      && (gsize) (stamp - s) + STAMP_LEN <= len)
    {
      handle_stamped (b, p, stamp);
      return;
    }
  if (len > 12 && memcmp (s, "42[\"your_id\"", 12) == 0)
    {
      g_free (p->id);
      p->id = string_after (s + 12, len - 12, "\"");
      if (b->proto == PROTO_SEED000)
        peer_became_ready (b, p);
    }
  else if (len > 10 && memcmp (s, "42[\"error\"", 10) == 0)
    {
      g_autofree char *kind = string_after (s, len, "\"code\":\"");

      if (kind == NULL)
        kind = string_after (s, len, "\"message\":\"");
      handle_error_reply (b, p, kind);
    }
}

/* ---- reading ------------------------------------------------------------ */

/* Parses complete frames in @data; returns bytes consumed, or -1 when the
 * peer was closed. */
static gssize
parse_frames (Bench        *b,
              Peer         *p,
              guint8       *data,
              gsize         len)
{
  gsize off = 0;

  while (off + 2 <= len)
    {
      guint8 *h = data + off;
      guint8 opcode = h[0] & 0x0f;
      gboolean fin = (h[0] & 0x80) != 0;
      guint64 plen = h[1] & 0x7f;
      gsize hlen = 2;
      guint8 *payload;

      if (h[1] & 0x80)
        {
          peer_close (b, p, "masked server frame");
          return -1;
        }
      if (plen == 126)
        {
          if (off + 4 > len)
            break;
          plen = (guint64) h[2] << 8 | h[3];
          hlen = 4;
        }
      else if (plen == 127)
        {
          if (off + 10 > len)
            break;
          plen = 0;
          for (int i = 0; i < 8; i++)
            plen = plen << 8 | h[2 + i];
          hlen = 10;
        }
      if (plen > MAX_SPILL)
        {
          peer_close (b, p, "frame too large");
          return -1;
        }
      if (off + hlen + plen > len)
        break;
      payload = h + hlen;
      off += hlen + plen;

      switch (opcode)
        {
        case 0x1:
        case 0x2:
          if (!fin)
            {
              count_error (b, "fragmented frame");
              break;
            }
          if (b->proto == PROTO_NATIVE)
            handle_native (b, p, (const char *) payload, plen);
          else
            handle_socketio (b, p, (const char *) payload, plen);
          break;
        case 0x0:
          count_error (b, "fragmented frame");
          break;
        case 0x8:
          if (p->state == PEER_CLOSING)
            {
              /* our close was answered; the server closes the TCP
               * connection first, so TIME_WAIT stays on its side and
               * churn does not run out of local ports */
              break;
            }
          else
            {
              g_autofree char *kind = g_strdup_printf ("closed by server: %u",
                                                       plen >= 2 ? (guint) payload[0] << 8 | payload[1] : 1005);
              peer_close (b, p, kind);
            }
          return -1;
        case 0x9:
          send_frame (b, p, 0xa, payload, plen);
          break;
        default:
          break;
        }
      if (p->state == PEER_DEAD)
        return -1;
    }
  return off;
}

static void
peer_read (Bench *b,
           Peer  *p)
{
  /* bounded work per connection per turn, as the server should do */
  for (int rounds = 0; rounds < 4 && p->state != PEER_DEAD; rounds++)
    {
      gsize have = p->spill_len;
      gssize n, used;

      if (b->rbuf_cap < have + READ_CHUNK)
        {
          b->rbuf_cap = have + READ_CHUNK;
          b->rbuf = g_realloc (b->rbuf, b->rbuf_cap);
        }
      if (have > 0)
        memcpy (b->rbuf, p->spill, have);
      n = recv (p->fd, b->rbuf + have, READ_CHUNK, 0);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EINTR)
            return;
          {
            g_autofree char *kind = g_strdup_printf ("recv: %s", g_strerror (errno));
            peer_close (b, p, kind);
          }
          return;
        }
      if (n == 0)
        {
          peer_close (b, p, p->state == PEER_CLOSING ? NULL : "closed by server: EOF");
          return;
        }
      b->now = now_ns ();
      have += n;
      used = 0;
      if (p->state == PEER_UPGRADING)
        {
          used = handle_upgrade_response (b, p, b->rbuf, have);
          if (used < 0)
            {
              if (p->state != PEER_DEAD)
                peer_close (b, p, "upgrade: response too large");
              return;
            }
        }
      if (p->state != PEER_UPGRADING)
        {
          gssize f = parse_frames (b, p, b->rbuf + used, have - used);

          if (f < 0)
            return;
          used += f;
        }
      p->spill_len = have - used;
      if (p->spill_len > MAX_SPILL)
        {
          peer_close (b, p, "frame too large");
          return;
        }
      if (p->spill_len > p->spill_cap)
        {
          p->spill_cap = MAX (p->spill_len, 256);
          p->spill = g_realloc (p->spill, p->spill_cap);
        }
      if (p->spill_len > 0)
        memcpy (p->spill, b->rbuf + used, p->spill_len);
      if ((gsize) n < READ_CHUNK)
        return;
    }
}

static void
peer_connected (Bench *b,
                Peer  *p)
{
  int err = 0;
  socklen_t elen = sizeof err;

  getsockopt (p->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  if (err != 0)
    {
      g_autofree char *kind = g_strdup_printf ("connect: %s", g_strerror (err));

      peer_close (b, p, kind);
      return;
    }
  send_upgrade (b, p);
}

static void
flush_peer (Bench *b,
            Peer  *p)
{
  gssize n;

  if (p->fd < 0 || p->state == PEER_CONNECTING)
    {
      p->dirty = FALSE;
      return;
    }
  /* top up the window: all of this peer's messages go out in one send() */
  if (p->state == PEER_READY && p->credit > 0 && p->hold_until == 0
      && (b->phase == PHASE_WARMUP || b->phase == PHASE_MEASURE))
    {
      while (p->credit > 0)
        {
          p->credit--;
          send_stamped (b, p);
        }
    }
  p->dirty = FALSE;
  if (p->out_len == p->out_off)
    return;
  n = send (p->fd, p->out + p->out_off, p->out_len - p->out_off, MSG_NOSIGNAL);
  if (n < 0)
    {
      if (errno == EAGAIN || errno == EINTR)
        {
          update_events (b, p, TRUE);
          return;
        }
      {
        g_autofree char *kind = g_strdup_printf ("send: %s", g_strerror (errno));
        peer_close (b, p, kind);
      }
      return;
    }
  p->out_off += n;
  if (p->out_off == p->out_len)
    {
      p->out_off = p->out_len = 0;
      update_events (b, p, FALSE);
    }
  else
    update_events (b, p, TRUE);
}

static void
flush_all (Bench *b)
{
  b->now = now_ns ();
  for (guint i = 0; i < b->n_dirty; i++)
    flush_peer (b, &b->peer[b->dirty[i]]);
  b->n_dirty = 0;
}

/* ---- setup -------------------------------------------------------------- */

static gboolean
parse_sources (Bench   *b,
               GError **error)
{
  g_auto(GStrv) parts = NULL;
  struct in_addr first, last;
  guint32 lo, hi;

  if (b->source_spec == NULL)
    return TRUE;
  parts = g_strsplit (b->source_spec, "-", 2);
  if (inet_pton (AF_INET, parts[0], &first) != 1
      || inet_pton (AF_INET, parts[1] != NULL ? parts[1] : parts[0], &last) != 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--source-addresses: expected A.B.C.D or A.B.C.D-A.B.C.E, got “%s”",
                   b->source_spec);
      return FALSE;
    }
  lo = ntohl (first.s_addr);
  hi = ntohl (last.s_addr);
  if (hi < lo || hi - lo >= 1024)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--source-addresses: the range must be ascending and at most 1024 addresses");
      return FALSE;
    }
  b->n_sources = hi - lo + 1;
  b->sources = g_new (struct in_addr, b->n_sources);
  for (guint i = 0; i < b->n_sources; i++)
    b->sources[i].s_addr = htonl (lo + i);
  return TRUE;
}

static void
raise_nofile (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static char *
json_target_prefix (Bench *b,
                    Peer  *p,
                    Peer  *to)
{
  switch (b->proto)
    {
    case PROTO_NATIVE:
      return g_strdup_printf ("{\"type\":\"message\",\"to\":\"%s\",\"data\":\"",
                              to != NULL ? to->id : FANOUT_ROOM);
    case PROTO_SEED000:
      return g_strdup_printf ("42[\"offer_sdp\",\"{\\\"targetClientId\\\":\\\"%s\\\",\\\"sdp\\\":\\\"",
                              to->id);
    case PROTO_SEED003:
    default:
      if (to == NULL)
        return g_strdup ("42[\"offer\",{\"to\":\"" FANOUT_ROOM "\",\"from\":\"bench\",\"offer\":\"");
      return g_strdup_printf ("42[\"offer\",{\"to\":\"bench-%u\",\"from\":\"bench-%u\",\"offer\":\"",
                              to->idx, p->idx);
    }
}

static void
arm_sender (Bench *b,
            Peer  *p,
            Peer  *to)
{
  p->is_sender = TRUE;
  p->prefix = json_target_prefix (b, p, to);
  p->prefix_len = strlen (p->prefix);
  p->suffix = b->proto == PROTO_NATIVE ? "\"}"
              : b->proto == PROTO_SEED000 ? "\\\"}\"]" : "\"}]";
  p->credit = (guint32) b->window;
  p->last_progress = b->now;
}

/* Once everyone is connected: whom each peer sends to. */
static void
arm_senders (Bench *b)
{
  if (b->mode == MODE_PAIRS)
    {
      for (guint i = 0; i + 1 < b->n_peers; i += 2)
        {
          Peer *x = &b->peer[i], *y = &b->peer[i + 1];

          if (x->state != PEER_READY || y->state != PEER_READY)
            continue;
          if (b->proto != PROTO_SEED003 && (x->id == NULL || y->id == NULL))
            continue;
          arm_sender (b, x, y);
          arm_sender (b, y, x);
        }
    }
  else if (b->mode == MODE_FANOUT && b->peer[0].state == PEER_READY)
    {
      arm_sender (b, &b->peer[0], NULL);
      b->fan_receivers = (int) b->n_ready - 1;
      b->peer[0].fan_left = g_new0 (guint32, b->window);
    }
  for (guint i = 0; i < b->n_peers; i++)
    if (b->peer[i].is_sender)
      mark_dirty (b, &b->peer[i]);
}

/* ---- output ------------------------------------------------------------- */

static const char *
mode_name (Mode m)
{
  static const char *names[] = { "pairs", "idle", "churn", "fanout" };

  return names[m];
}

static const char *
proto_name (Proto p)
{
  static const char *names[] = { "native", "socket.io seed000", "socket.io seed003" };

  return names[p];
}

static int
cmp_u64 (const void *a,
         const void *c)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) c;

  return x < y ? -1 : x > y;
}

typedef struct {
  double jain;
  guint64 slowest, median;
  guint n;
} Fairness;

/* Jain's index over the receivers' delivered counts, and the slowest
 * receiver against the median one. */
static Fairness
fairness (Bench *b)
{
  g_autofree guint64 *counts = g_new (guint64, b->n_peers);
  Fairness f = { 0 };
  double sum = 0, sq = 0;

  for (guint i = 0; i < b->n_peers; i++)
    {
      Peer *p = &b->peer[i];

      if (b->mode == MODE_FANOUT ? i == 0 || p->state != PEER_READY : !p->is_sender)
        continue;
      counts[f.n++] = p->delivered;
      sum += (double) p->delivered;
      sq += (double) p->delivered * (double) p->delivered;
    }
  if (f.n == 0)
    return f;
  qsort (counts, f.n, sizeof *counts, cmp_u64);
  f.jain = sq > 0 ? sum * sum / (f.n * sq) : 0;
  f.slowest = counts[0];
  f.median = counts[f.n / 2];
  return f;
}

static void
json_escape_into (GString    *s,
                  const char *text)
{
  g_string_append_c (s, '"');
  for (const char *c = text; *c; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (s, "\\%c", *c);
      else if ((guchar) *c < 0x20)
        g_string_append_printf (s, "\\u%04x", (guint) *c);
      else
        g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

static void
report (Bench *b)
{
  double secs = (double) (b->measure_end - b->measure_start) / 1e9;
  double count = b->mode == MODE_CHURN ? (double) b->handshakes
                 : b->mode == MODE_IDLE ? 0 : (double) b->delivered;
  double srv_cpu = b->server_gone ? 0 : b->srv_cpu_end - b->srv_cpu_start;
  double cli_cpu = b->cli_cpu_end - b->cli_cpu_start;
  double srv_us = count > 0 ? srv_cpu * 1e6 / count : 0;
  double cli_us = count > 0 ? cli_cpu * 1e6 / count : 0;
  Fairness f = fairness (b);
  double rate = secs > 0 ? count / secs : 0;
  double per_peer = b->n_ready > 0 && b->rss_end_kb > b->rss_base_kb
                    ? (double) (b->rss_end_kb - b->rss_base_kb) * 1024.0 / b->n_ready : 0;
  GHashTableIter iter;
  gpointer key, value;

  if (b->json)
    {
      g_autoptr(GString) s = g_string_new ("{");
      gboolean first = TRUE;

      g_string_append_printf (s, "\"mode\":\"%s\",\"protocol\":\"%s\",", mode_name (b->mode),
                              b->proto == PROTO_NATIVE ? "native" : "socket.io");
      g_string_append_printf (s, "\"events\":\"%s\",", b->proto == PROTO_SEED003 ? "seed003"
                              : b->proto == PROTO_SEED000 ? "seed000" : "native");
      g_string_append_printf (s, "\"peers\":%d,\"connected\":%u,\"window\":%d,\"size\":%d,",
                              b->peers, b->n_ready, b->window, b->size);
      g_string_append_printf (s, "\"cross_node\":%s,", b->second_port > 0 ? "true" : "false");
      g_string_append_printf (s, "\"warmup_s\":%.3f,\"duration_s\":%.3f,", b->warmup, secs);
      g_string_append_printf (s, "\"sent\":%" G_GUINT64_FORMAT ",\"messages\":%" G_GUINT64_FORMAT
                              ",\"msgs_per_s\":%.1f,", b->sent, b->delivered,
                              b->mode == MODE_CHURN || b->mode == MODE_IDLE ? 0.0 : rate);
      g_string_append_printf (s, "\"handshakes\":%" G_GUINT64_FORMAT ",\"handshakes_per_s\":%.1f,",
                              b->handshakes, b->mode == MODE_CHURN ? rate : 0.0);
      g_string_append_printf (s, "\"latency_ms\":{\"count\":%" G_GUINT64_FORMAT
                              ",\"mean\":%.4f,\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"max\":%.4f},",
                              b->hist_count, b->hist_count ? b->hist_sum / b->hist_count / 1e6 : 0.0,
                              hist_percentile_ms (b, 50), hist_percentile_ms (b, 90),
                              hist_percentile_ms (b, 99), (double) b->hist_max / 1e6);
      g_string_append_printf (s, "\"fairness\":{\"receivers\":%u,\"jain\":%.4f,\"slowest\":%" G_GUINT64_FORMAT
                              ",\"median\":%" G_GUINT64_FORMAT ",\"slowest_over_median\":%.4f},",
                              f.n, f.jain, f.slowest, f.median,
                              f.median > 0 ? (double) f.slowest / (double) f.median : 0.0);
      g_string_append_printf (s, "\"errors_total\":%" G_GUINT64_FORMAT ",\"errors\":{", b->errors_total);
      g_hash_table_iter_init (&iter, b->errors);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          if (!first)
            g_string_append_c (s, ',');
          first = FALSE;
          json_escape_into (s, key);
          g_string_append_printf (s, ":%" G_GSIZE_FORMAT, GPOINTER_TO_SIZE (value));
        }
      g_string_append (s, "},");
      g_string_append_printf (s, "\"server\":{\"pid\":%d,\"gone\":%s,\"rss_kb_before\":%" G_GUINT64_FORMAT
                              ",\"rss_kb_start\":%" G_GUINT64_FORMAT ",\"rss_kb_end\":%" G_GUINT64_FORMAT
                              ",\"rss_kb_peak\":%" G_GUINT64_FORMAT ",\"rss_bytes_per_peer\":%.0f"
                              ",\"cpu_s\":%.3f,\"cpu_us_per_op\":%.3f},",
                              b->server_pid, b->server_gone ? "true" : "false", b->rss_base_kb, b->rss_start_kb,
                              b->rss_end_kb, b->rss_peak_kb, per_peer, srv_cpu, srv_us);
      g_string_append_printf (s, "\"client\":{\"cpu_s\":%.3f,\"cpu_us_per_op\":%.3f}}", cli_cpu, cli_us);
      puts (s->str);
      return;
    }

  printf ("%-24s %s, %s, %s:%d\n", "workload", mode_name (b->mode), proto_name (b->proto), b->host, b->port);
  if (b->second_port > 0)
    printf ("%-24s each pair split between ports %d and %d\n", "across nodes", b->port, b->second_port);
  if (b->mode == MODE_CHURN)
    printf ("%-24s %d\n", "connections at once", b->peers);
  else
    printf ("%-24s %u of %d\n", "peers connected", b->n_ready, b->peers);
  if (b->mode == MODE_PAIRS || b->mode == MODE_FANOUT)
    {
      printf ("%-24s %d in flight per sender, %d B payload\n", "window", b->window, b->size);
      printf ("%-24s %" G_GUINT64_FORMAT " in %.2f s (after %.1f s warm-up)\n", "messages delivered",
              b->delivered, secs, b->warmup);
      printf ("%-24s %.0f\n", "msgs/s", rate);
    }
  else if (b->mode == MODE_CHURN)
    printf ("%-24s %" G_GUINT64_FORMAT " in %.2f s: %.0f/s\n", "handshakes", b->handshakes, secs, rate);
  if (b->hist_count > 0)
    printf ("%-24s p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (ms, %" G_GUINT64_FORMAT " samples)\n",
            b->mode == MODE_CHURN ? "handshake latency" : "latency",
            hist_percentile_ms (b, 50), hist_percentile_ms (b, 90), hist_percentile_ms (b, 99),
            (double) b->hist_max / 1e6, b->hist_count);
  if (f.n > 0)
    printf ("%-24s Jain %.3f, slowest/median %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " = %.3f\n",
            "fairness", f.jain, f.slowest, f.median,
            f.median > 0 ? (double) f.slowest / (double) f.median : 0.0);
  printf ("%-24s %" G_GUINT64_FORMAT "\n", "errors", b->errors_total);
  g_hash_table_iter_init (&iter, b->errors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    printf ("%-24s   %" G_GSIZE_FORMAT " %s\n", "", GPOINTER_TO_SIZE (value), (const char *) key);
  if (b->server_pid > 0)
    {
      printf ("%-24s before %" G_GUINT64_FORMAT " kB, start %" G_GUINT64_FORMAT " kB, end %" G_GUINT64_FORMAT
              " kB, peak %" G_GUINT64_FORMAT " kB\n", "server RSS",
              b->rss_base_kb, b->rss_start_kb, b->rss_end_kb, b->rss_peak_kb);
      if (b->mode == MODE_IDLE)
        printf ("%-24s %.0f bytes\n", "server RSS per peer", per_peer);
      printf ("%-24s server %.2f s (%.2f µs/op), bench %.2f s (%.2f µs/op)\n", "CPU",
              srv_cpu, srv_us, cli_cpu, cli_us);
    }
  else
    printf ("%-24s bench %.2f s (%.2f µs/op); pass --server-pid for the server's\n", "CPU", cli_cpu, cli_us);
}

/* ---- main loop ---------------------------------------------------------- */

static void
progress (Bench *b)
{
  static gint64 last;
  static guint64 last_count;
  guint64 count = b->mode == MODE_CHURN ? b->handshakes : b->delivered;
  static const char *phases[] = { "setup", "settle", "warm-up", "measure", "done" };

  if (b->now - last < G_GINT64_CONSTANT (1000000000))
    return;
  if (!b->json || isatty (STDERR_FILENO))
    {
      if (isatty (STDERR_FILENO))
        fprintf (stderr, "\r\033[K%-7s %.0f s  peers %u/%d  %s/s %.0f  errors %" G_GUINT64_FORMAT,
                 phases[b->phase], (double) (b->now - b->phase_start) / 1e9, b->n_ready, b->peers,
                 b->mode == MODE_CHURN ? "handshakes" : "msgs",
                 last ? (double) (count - last_count) * 1e9 / (double) (b->now - last) : 0.0,
                 b->errors_total);
    }
  last = b->now;
  last_count = count;
}

static void
sample_server (Bench *b)
{
  guint64 rss = proc_rss_kb (b->server_pid);

  b->rss_peak_kb = MAX (b->rss_peak_kb, rss);
}

static void
churn_refill (Bench *b)
{
  for (guint i = 0; i < b->n_peers; i++)
    {
      Peer *p = &b->peer[i];

      if (p->state == PEER_DEAD || p->state == PEER_FREE)
        {
          p->spill_len = 0;
          peer_start (b, p);
        }
    }
}

static void
release_held (Bench *b)
{
  for (guint i = 0; i < b->n_peers && b->n_held > 0; i++)
    {
      Peer *p = &b->peer[i];

      if (p->hold_until != 0 && b->now >= p->hold_until)
        {
          p->hold_until = 0;
          b->n_held--;
          mark_dirty (b, p);
        }
    }
}

static void
start_more (Bench *b)
{
  while (b->n_started < b->n_peers && b->n_pending < (guint) b->concurrency)
    peer_start (b, &b->peer[b->n_started++]);
}

static void
enter_phase (Bench *b,
             Phase  phase)
{
  b->phase = phase;
  b->phase_start = b->now;
  if ((phase == PHASE_WARMUP || phase == PHASE_MEASURE) && !b->armed && b->mode != MODE_CHURN)
    {
      b->armed = TRUE;
      arm_senders (b);
    }
  if (phase == PHASE_MEASURE)
    {
      b->measure_start = b->now;
      b->rss_start_kb = proc_rss_kb (b->server_pid);
      b->srv_cpu_start = proc_cpu_s (b->server_pid);
      b->cli_cpu_start = self_cpu_s ();
    }
  if (phase == PHASE_DONE)
    {
      b->measure_end = b->now;
      b->rss_end_kb = proc_rss_kb (b->server_pid);
      b->srv_cpu_end = proc_cpu_s (b->server_pid);
      b->cli_cpu_end = self_cpu_s ();
      /* a crash shows up as refused connections; say what it was */
      b->server_gone = b->server_pid > 0 && !proc_alive (b->server_pid);
      if (silently_lost (b) > 0)
        count_errors (b, "lost without error", silently_lost (b));
      if (b->server_gone)
        count_error (b, "server process gone");
    }
}

static gboolean
setup_done (Bench *b)
{
  guint dead = 0;

  if (b->n_started < b->n_peers || b->n_pending > 0)
    return FALSE;
  for (guint i = 0; i < b->n_peers; i++)
    {
      if (b->peer[i].state == PEER_DEAD)
        dead++;
      else if (b->peer[i].state != PEER_READY)
        return FALSE;
    }
  return b->n_ready + dead == b->n_peers;
}

static void
advance_phase (Bench *b)
{
  double elapsed = (double) (b->now - b->phase_start) / 1e9;

  switch (b->phase)
    {
    case PHASE_SETUP:
      if (b->mode == MODE_CHURN)
        {
          enter_phase (b, b->warmup > 0 ? PHASE_WARMUP : PHASE_MEASURE);
          return;
        }
      if (setup_done (b))
        enter_phase (b, PHASE_SETTLE);
      else if (elapsed > 60)
        {
          count_error (b, "setup timeout (60 s)");
          enter_phase (b, PHASE_SETTLE);
        }
      break;
    case PHASE_SETTLE:
      /* lets the last joins (seed 003 has no reply to them) take
       * effect, and across nodes the peers become known everywhere */
      if (elapsed >= (b->proto == PROTO_SEED003 || b->second_port > 0 ? 0.3 : 0.0))
        enter_phase (b, b->warmup > 0 && b->mode != MODE_IDLE ? PHASE_WARMUP : PHASE_MEASURE);
      break;
    case PHASE_WARMUP:
      if (elapsed >= b->warmup)
        enter_phase (b, PHASE_MEASURE);
      break;
    case PHASE_MEASURE:
      if (elapsed >= b->duration)
        enter_phase (b, PHASE_DONE);
      break;
    case PHASE_DONE:
    default:
      break;
    }
}

static void
run (Bench *b)
{
  struct epoll_event events[MAX_EVENTS];
  gint64 last_sample = 0;

  b->now = now_ns ();
  b->phase_start = b->now;
  b->rss_base_kb = proc_rss_kb (b->server_pid);
  b->rss_peak_kb = b->rss_base_kb;
  while (b->phase != PHASE_DONE && !interrupted)
    {
      int n;

      if (b->mode == MODE_CHURN)
        churn_refill (b);
      else if (b->phase == PHASE_SETUP)
        start_more (b);
      if (b->n_held > 0)
        release_held (b);
      flush_all (b);

      n = epoll_wait (b->epfd, events, MAX_EVENTS, 10);
      if (n < 0 && errno != EINTR)
        g_error ("epoll_wait: %s", g_strerror (errno));
      b->now = now_ns ();
      for (int i = 0; i < n; i++)
        {
          Peer *p = &b->peer[events[i].data.u32];

          if (p->fd < 0)
            continue;
          if (p->state == PEER_CONNECTING && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            {
              peer_connected (b, p);
              continue;
            }
          if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            peer_read (b, p);
          if (p->fd >= 0 && (events[i].events & EPOLLOUT))
            mark_dirty (b, p);
        }
      flush_all (b);

      if (b->now - last_sample > 250 * G_GINT64_CONSTANT (1000000))
        {
          sample_server (b);
          last_sample = b->now;
          if (b->mode == MODE_PAIRS && b->proto == PROTO_SEED003
              && (b->phase == PHASE_WARMUP || b->phase == PHASE_MEASURE))
            check_stalled (b);
          progress (b);
        }
      advance_phase (b);
    }
  if (interrupted && b->phase != PHASE_DONE)
    enter_phase (b, PHASE_DONE);
  if (isatty (STDERR_FILENO))
    fputs ("\r\033[K", stderr);
}

static void
on_signal (int sig)
{
  interrupted = 1;
}

static gboolean
parse_options (Bench   *b,
               int     *argc,
               char  ***argv,
               GError **error)
{
  g_autofree char *mode = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *events = NULL;
  int members = 0;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &b->host, "Server IPv4 address (default 127.0.0.1)", "ADDRESS" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &b->port, "Server port (default 3000)", "PORT" },
    { "second-port", 0, 0, G_OPTION_ARG_INT, &b->second_port, "Pairs across two cluster nodes: the second peer of each pair connects to this port", "PORT" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode, "pairs (default), idle, churn or fanout", "MODE" },
    { "protocol", 0, 0, G_OPTION_ARG_STRING, &protocol, "native (/ws, default) or socket.io", "PROTOCOL" },
    { "events", 0, 0, G_OPTION_ARG_STRING, &events, "Socket.IO vocabulary: seed000 (default) or seed003", "SEED" },
    { "peers", 'n', 0, G_OPTION_ARG_INT, &b->peers, "Peers (default 200); churn: connections at once", "N" },
    { "members", 0, 0, G_OPTION_ARG_INT, &members, "Fanout: room members including the sender (default --peers)", "M" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &b->window, "Messages in flight per sender (default 8)", "W" },
    { "size", 's', 0, G_OPTION_ARG_INT, &b->size, "Payload bytes per message (default 200, at least 35)", "BYTES" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &b->warmup, "Seconds of load before measuring (default 2)", "SECONDS" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &b->duration, "Seconds measured (default 10)", "SECONDS" },
    { "concurrency", 0, 0, G_OPTION_ARG_INT, &b->concurrency, "Connections being set up at once (default 200)", "N" },
    { "server-pid", 0, 0, G_OPTION_ARG_INT, &b->server_pid, "Read the server's RSS and CPU from /proc/PID", "PID" },
    { "source-addresses", 0, 0, G_OPTION_ARG_STRING, &b->source_spec,
      "Bind connections round-robin to these local addresses, e.g. 127.0.0.1-127.0.0.8", "RANGE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &b->json, "Print the results as one JSON object", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- load generator for signalbox and Socket.IO servers");

  g_option_context_set_summary (context,
    "Connects peers over WebSocket (native /ws or Socket.IO), relays stamped\n"
    "messages through the server and reports throughput, latency, fairness,\n"
    "errors and the server's memory and CPU.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  /* set after parsing: GOption would overwrite a default without freeing it */
  if (b->host == NULL)
    b->host = g_strdup ("127.0.0.1");

  if (mode == NULL || g_str_equal (mode, "pairs"))
    b->mode = MODE_PAIRS;
  else if (g_str_equal (mode, "idle"))
    b->mode = MODE_IDLE;
  else if (g_str_equal (mode, "churn"))
    b->mode = MODE_CHURN;
  else if (g_str_equal (mode, "fanout"))
    b->mode = MODE_FANOUT;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "unknown --mode “%s”", mode);
      return FALSE;
    }
  if (protocol == NULL || g_str_equal (protocol, "native"))
    b->proto = PROTO_NATIVE;
  else if (g_str_equal (protocol, "socket.io") || g_str_equal (protocol, "socketio"))
    b->proto = events != NULL && g_str_equal (events, "seed003") ? PROTO_SEED003 : PROTO_SEED000;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "unknown --protocol “%s”", protocol);
      return FALSE;
    }
  if (events != NULL && !g_str_equal (events, "seed000") && !g_str_equal (events, "seed003"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "unknown --events “%s”", events);
      return FALSE;
    }
  /* seed 000 has no rooms: fanout over Socket.IO uses seed 003's */
  if (b->mode == MODE_FANOUT && b->proto == PROTO_SEED000)
    b->proto = PROTO_SEED003;
  if (b->mode == MODE_FANOUT && members > 0)
    b->peers = members;
  if (b->peers < 1 || b->peers > 1000000 || (b->mode == MODE_PAIRS && b->peers < 2)
      || (b->mode == MODE_FANOUT && b->peers < 2))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--peers must be between 2 (1 for idle and churn) and 1000000");
      return FALSE;
    }
  if (b->window < 1 || b->window > 65536 || b->size < STAMP_LEN || b->size > 1 << 20
      || b->duration <= 0 || b->warmup < 0 || b->concurrency < 1 || b->port <= 0 || b->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "need 1 ≤ --window ≤ 65536, %d ≤ --size ≤ 1 MiB, --duration > 0, --warmup ≥ 0, "
                   "--concurrency ≥ 1 and a port", STAMP_LEN);
      return FALSE;
    }
  if (inet_pton (AF_INET, b->host, &b->server.sin_addr) != 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--host must be an IPv4 address");
      return FALSE;
    }
  b->server.sin_family = AF_INET;
  b->server.sin_port = htons ((guint16) b->port);
  if (b->second_port < 0 || b->second_port > 65535 || (b->second_port > 0 && b->mode != MODE_PAIRS))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--second-port is a port, for --mode pairs");
      return FALSE;
    }
  b->second_server = b->server;
  b->second_server.sin_port = htons ((guint16) b->second_port);
  return parse_sources (b, error);
}

int
main (int   argc,
      char *argv[])
{
  Bench bench = {
    .port = 3000, .peers = 200, .window = 8, .size = 200,
    .warmup = 2, .duration = 10, .concurrency = 200, .epfd = -1,
  };
  Bench *b = &bench;
  g_autoptr(GError) error = NULL;
  struct sigaction sa = { .sa_handler = on_signal };

  setlocale (LC_ALL, "");
  if (!parse_options (b, &argc, &argv, &error))
    {
      g_printerr ("signalbox-bench: %s\n", error->message);
      g_free (b->host);
      g_free (b->source_spec);
      return 2;
    }
  raise_nofile ();
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  b->epfd = epoll_create1 (EPOLL_CLOEXEC);
  b->n_peers = (guint) b->peers;
  b->peer = g_new0 (Peer, b->n_peers);
  b->dirty = g_new (guint, b->n_peers);
  b->hist = g_new0 (guint64, HIST_BUCKETS);
  b->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->pad_len = (gsize) b->size - STAMP_LEN;
  b->payload = g_malloc (b->pad_len + 1);
  memset (b->payload, 'x', b->pad_len);
  for (guint i = 0; i < b->n_peers; i++)
    {
      b->peer[i].fd = -1;
      b->peer[i].idx = i;
      b->peer[i].partner = -1;
      b->peer[i].mask_state = g_random_int () | 1;
    }
  /* fanout: the sender (peer 0) connects first, so it is in the room */
  run (b);
  report (b);

  for (guint i = 0; i < b->n_peers; i++)
    {
      Peer *p = &b->peer[i];

      if (p->fd >= 0)
        close (p->fd);
      g_free (p->id);
      g_free (p->prefix);
      g_free (p->spill);
      g_free (p->out);
      g_free (p->fan_left);
    }
  close (b->epfd);
  g_free (b->peer);
  g_free (b->dirty);
  g_free (b->hist);
  g_free (b->rbuf);
  g_free (b->payload);
  g_free (b->sources);
  g_free (b->host);
  g_free (b->source_spec);
  g_hash_table_unref (b->errors);
  return (b->mode == MODE_CHURN ? b->handshakes > 0 : b->n_ready > 0) ? 0 : 1;
}
