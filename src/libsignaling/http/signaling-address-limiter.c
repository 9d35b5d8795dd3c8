/* signaling-address-limiter.c: per-address client and connect-rate limits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-http"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "signaling-address-limiter-private.h"

/*
 * SignalingAddressLimiter:
 *
 * Decides whether a peer address may connect once more: at most
 * max-clients clients at once, and a token bucket of connect-rate new
 * connections a second (a second's worth at once, at least one).
 *
 * An "address" is an IPv4 address, or an IPv6 /64: one host or one
 * customer usually gets a whole /64, and counting single IPv6
 * addresses would let it take 2^64 of them. IPv4-mapped IPv6
 * addresses count as their IPv4 address. Loopback is an address like
 * any other (a reverse proxy on the same host would otherwise be one
 * peer for all its clients: exempt it instead).
 *
 * Refusals are counted, and logged at most once per address per
 * LOG_INTERVAL with the number left unsaid since, so that a flood does
 * not flood the journal.
 */
typedef struct
{
  guint clients;
  double tokens;
  gint64 refilled;  /* monotonic µs */
  gint64 logged;    /* monotonic µs of the last message, 0 for none */
  guint unlogged;   /* refusals since */
} Entry;

struct _SignalingAddressLimiter
{
  GObject parent_instance;

  guint max_clients;   /* 0: no limit */
  double rate;         /* connections a second, 0: no limit */
  char **exempt;
  GPtrArray *exempt_masks;  /* GInetAddressMask * */

  GHashTable *entries;  /* key → Entry * */
  guint sweep_source;
  guint64 refused;
};

G_DEFINE_FINAL_TYPE (SignalingAddressLimiter, signaling_address_limiter, G_TYPE_OBJECT)

enum {
  SIGNAL_REFUSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define LOG_INTERVAL_SECONDS 10
#define SWEEP_SECONDS 60

static void
signaling_address_limiter_finalize (GObject *object)
{
  SignalingAddressLimiter *self = SIGNALING_ADDRESS_LIMITER (object);

  g_clear_handle_id (&self->sweep_source, g_source_remove);
  g_hash_table_unref (self->entries);
  g_ptr_array_unref (self->exempt_masks);
  g_strfreev (self->exempt);

  G_OBJECT_CLASS (signaling_address_limiter_parent_class)->finalize (object);
}

static void
signaling_address_limiter_class_init (SignalingAddressLimiterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signaling_address_limiter_finalize;

  /*
   * SignalingAddressLimiter::refused:
   * @key: the address (or IPv6 /64) refused
   *
   * Emitted for every connection refused, for the counters above.
   */
  signals[SIGNAL_REFUSED] =
    g_signal_new ("refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
signaling_address_limiter_init (SignalingAddressLimiter *self)
{
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->exempt_masks = g_ptr_array_new_with_free_func (g_object_unref);
}

SignalingAddressLimiter *
signaling_address_limiter_new (void)
{
  return g_object_new (SIGNALING_TYPE_ADDRESS_LIMITER, NULL);
}

static double
burst (SignalingAddressLimiter *self)
{
  return MAX (1.0, self->rate);
}

/* An IPv4 address hidden in an IPv6 one (::ffff:a.b.c.d), or NULL. */
static GInetAddress *
unmap_ipv4 (GInetAddress *address)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  const guint8 *bytes;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return NULL;
  bytes = g_inet_address_to_bytes (address);
  if (memcmp (bytes, prefix, sizeof prefix) != 0)
    return NULL;
  return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
}

/* The peer @text as an address, IPv4-mapped ones as IPv4; NULL if it
 * is none (a Unix socket, say), which no limit applies to. */
static GInetAddress *
parse_address (const char *text)
{
  g_autoptr(GInetAddress) address = NULL;
  GInetAddress *ipv4;

  if (text == NULL)
    return NULL;
  address = g_inet_address_new_from_string (text);
  if (address == NULL)
    return NULL;
  ipv4 = unmap_ipv4 (address);
  return ipv4 != NULL ? ipv4 : g_steal_pointer (&address);
}

static gboolean
is_exempt (SignalingAddressLimiter *self,
           GInetAddress            *address)
{
  for (guint i = 0; i < self->exempt_masks->len; i++)
    {
      GInetAddressMask *mask = g_ptr_array_index (self->exempt_masks, i);

      if (g_inet_address_mask_get_family (mask) == g_inet_address_get_family (address) &&
          g_inet_address_mask_matches (mask, address))
        return TRUE;
    }
  return FALSE;
}

/* What the limits count @text under: see the top of this file. NULL
 * if it is not limited. */
static char *
key_for (SignalingAddressLimiter *self,
         const char              *text)
{
  g_autoptr(GInetAddress) address = parse_address (text);
  g_autoptr(GInetAddress) network = NULL;
  g_autofree char *prefix = NULL;
  guint8 bytes[16];

  if (address == NULL || is_exempt (self, address))
    return NULL;
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    return g_inet_address_to_string (address);

  memcpy (bytes, g_inet_address_to_bytes (address), 8);
  memset (bytes + 8, 0, 8);
  network = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
  prefix = g_inet_address_to_string (network);
  return g_strconcat (prefix, "/64", NULL);
}

/* An entry that says no more than a missing one may go. */
static gboolean
entry_is_idle (SignalingAddressLimiter *self,
               Entry                   *entry,
               gint64                   now)
{
  return entry->clients == 0 &&
         (self->rate == 0 ||
          entry->tokens + (double) (now - entry->refilled) / G_USEC_PER_SEC * self->rate >= burst (self));
}

static gboolean
on_sweep (gpointer user_data)
{
  SignalingAddressLimiter *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer entry;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &entry))
    if (entry_is_idle (self, entry, now))
      g_hash_table_iter_remove (&iter);

  if (g_hash_table_size (self->entries) > 0)
    return G_SOURCE_CONTINUE;
  self->sweep_source = 0;
  return G_SOURCE_REMOVE;
}

static Entry *
lookup (SignalingAddressLimiter *self,
        const char              *key)
{
  Entry *entry = g_hash_table_lookup (self->entries, key);

  if (entry != NULL)
    return entry;

  entry = g_new0 (Entry, 1);
  entry->tokens = burst (self);
  entry->refilled = g_get_monotonic_time ();
  g_hash_table_insert (self->entries, g_strdup (key), entry);
  if (self->sweep_source == 0)
    {
      self->sweep_source = g_timeout_add_seconds (SWEEP_SECONDS, on_sweep, self);
      g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->sweep_source),
                                "[signaling] per-address limits sweep");
    }
  return entry;
}

static gboolean
take_token (SignalingAddressLimiter *self,
            Entry                   *entry)
{
  gint64 now = g_get_monotonic_time ();

  entry->tokens = MIN (burst (self),
                       entry->tokens + (double) (now - entry->refilled) / G_USEC_PER_SEC * self->rate);
  entry->refilled = now;
  if (entry->tokens < 1.0)
    return FALSE;
  entry->tokens -= 1.0;
  return TRUE;
}

static void
count_refusal (SignalingAddressLimiter *self,
               const char              *key,
               Entry                   *entry,
               const char              *reason)
{
  gint64 now = g_get_monotonic_time ();

  self->refused++;
  g_signal_emit (self, signals[SIGNAL_REFUSED], 0, key);
  if (entry->logged != 0 && now - entry->logged < LOG_INTERVAL_SECONDS * G_USEC_PER_SEC)
    {
      entry->unlogged++;
      return;
    }

  if (entry->unlogged > 0)
    g_message ("Refusing connections from %s: %s (and %u more since the last message)",
               key, reason, entry->unlogged);
  else
    g_message ("Refusing connections from %s: %s", key, reason);
  entry->logged = now;
  entry->unlogged = 0;
}

/*
 * signaling_address_limiter_admit:
 * @address: the peer's IP address, as text
 * @out_reason: (out) (optional): why not, when it may not
 *
 * Whether a new client may connect from @address now. A connection
 * admitted takes one of the address's tokens; a refusal is counted
 * and logged (at most every few seconds per address).
 */
gboolean
signaling_address_limiter_admit (SignalingAddressLimiter  *self,
                                 const char               *address,
                                 char                    **out_reason)
{
  g_autofree char *key = NULL;
  Entry *entry;
  const char *reason = NULL;

  g_return_val_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self), TRUE);

  if (self->max_clients == 0 && self->rate == 0)
    return TRUE;
  key = key_for (self, address);
  if (key == NULL)
    return TRUE;
  entry = lookup (self, key);

  if (self->max_clients > 0 && entry->clients >= self->max_clients)
    reason = _("Too many clients from this address");
  else if (self->rate > 0 && !take_token (self, entry))
    reason = _("Connecting too often from this address");
  if (reason == NULL)
    return TRUE;

  count_refusal (self, key, entry, reason);
  if (out_reason != NULL)
    *out_reason = g_strdup (reason);
  return FALSE;
}

/*
 * signaling_address_limiter_add_client:
 *
 * A client from @address has connected: it counts until removed.
 */
void
signaling_address_limiter_add_client (SignalingAddressLimiter *self,
                                      const char              *address)
{
  g_autofree char *key = NULL;

  g_return_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self));

  key = key_for (self, address);
  if (key != NULL)
    lookup (self, key)->clients++;
}

void
signaling_address_limiter_remove_client (SignalingAddressLimiter *self,
                                         const char              *address)
{
  g_autofree char *key = NULL;
  Entry *entry;

  g_return_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self));

  key = key_for (self, address);
  entry = key != NULL ? g_hash_table_lookup (self->entries, key) : NULL;
  /* The exemptions may have changed since it came. */
  if (entry != NULL && entry->clients > 0)
    entry->clients--;
}

void
signaling_address_limiter_set_max_clients (SignalingAddressLimiter *self,
                                           guint                    max_clients)
{
  g_return_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self));
  self->max_clients = max_clients;
}

guint
signaling_address_limiter_get_max_clients (SignalingAddressLimiter *self)
{
  g_return_val_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self), 0);
  return self->max_clients;
}

void
signaling_address_limiter_set_connect_rate (SignalingAddressLimiter *self,
                                            double                   rate)
{
  g_return_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self));
  self->rate = rate;
}

double
signaling_address_limiter_get_connect_rate (SignalingAddressLimiter *self)
{
  g_return_val_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self), 0);
  return self->rate;
}

/*
 * signaling_address_limiter_set_exempt:
 * @exempt: (nullable): addresses or networks (`127.0.0.1`,
 *   `10.0.0.0/8`, `fd00::/8`) no limit applies to
 *
 * Entries that are neither are ignored, with a warning.
 */
void
signaling_address_limiter_set_exempt (SignalingAddressLimiter *self,
                                      const char * const      *exempt)
{
  g_return_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self));

  g_strfreev (self->exempt);
  self->exempt = g_strdupv ((char **) exempt);
  g_ptr_array_set_size (self->exempt_masks, 0);
  for (guint i = 0; exempt != NULL && exempt[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      GInetAddressMask *mask = g_inet_address_mask_new_from_string (exempt[i], &error);

      if (mask == NULL)
        {
          g_warning ("Ignoring the limit exemption “%s”: %s", exempt[i], error->message);
          continue;
        }
      g_ptr_array_add (self->exempt_masks, mask);
    }
}

const char * const *
signaling_address_limiter_get_exempt (SignalingAddressLimiter *self)
{
  g_return_val_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self), NULL);
  return (const char * const *) self->exempt;
}

/*
 * signaling_address_limiter_get_refused:
 *
 * Returns: how many connections the limits have refused
 */
guint64
signaling_address_limiter_get_refused (SignalingAddressLimiter *self)
{
  g_return_val_if_fail (SIGNALING_IS_ADDRESS_LIMITER (self), 0);
  return self->refused;
}
