/* signaling-metrics.c: the Prometheus exposition of /metrics
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-metrics"

#include "config.h"

#include <sys/resource.h>
#include <unistd.h>

#include "signaling-client.h"
#include "signaling-message.h"
#include "signaling-metrics-private.h"
#include "signaling-version.h"

/*
 * The text format 0.0.4 of Prometheus, from the router's counters: the
 * same ones the D-Bus exporter publishes, read when a scrape comes and
 * never on the relay's path. Names follow Prometheus' conventions:
 * the `signalbox_` prefix, base units (bytes, seconds), `_total` on
 * counters, and no label per peer or room, whose number has no bound.
 * The `process_*` series are those every Prometheus client library
 * exports, from /proc as client_golang reads them.
 */

static void
begin_family (GString    *out,
              const char *name,
              const char *type,
              const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void
append_label_value (GString    *out,
                    const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
}

/* name{label="value"} number, or name number without a label. */
static void
append_sample (GString    *out,
               const char *name,
               const char *label,
               const char *value,
               guint64     number)
{
  g_string_append (out, name);
  if (label != NULL)
    {
      g_string_append_printf (out, "{%s=\"", label);
      append_label_value (out, value);
      g_string_append (out, "\"}");
    }
  g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", number);
}

static void
append_double (GString    *out,
               const char *name,
               double      number)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "%s %s\n", name, g_ascii_dtostr (buffer, sizeof buffer, number));
}

/* The protocols and transports a server has, listed even at 0, so that
 * a series exists before its first client (rate() needs a start). */
static const char * const known_client_kinds[][2] = {
  { "native", "websocket" },
  { "socket.io", "websocket" },
  { "socket.io", "polling" },
};

static void
render_clients (SignalingRouter *router,
                GString         *out)
{
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GList) keys = NULL;
  GHashTableIter iter;
  gpointer value;

  for (gsize i = 0; i < G_N_ELEMENTS (known_client_kinds); i++)
    g_hash_table_insert (counts, g_strdup_printf ("%s\n%s", known_client_kinds[i][0], known_client_kinds[i][1]),
                         GUINT_TO_POINTER (0));

  g_hash_table_iter_init (&iter, signaling_router_get_clients (router));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const char *transport = signaling_client_get_transport (value);
      g_autofree char *key = g_strdup_printf ("%s\n%s", signaling_client_get_protocol (value),
                                              transport != NULL ? transport : "none");
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));

      g_hash_table_replace (counts, g_steal_pointer (&key), GUINT_TO_POINTER (count + 1));
    }

  begin_family (out, "signalbox_clients", "gauge", "Connected clients, by protocol and transport.");
  keys = g_list_sort (g_hash_table_get_keys (counts), (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      g_auto(GStrv) parts = g_strsplit (l->data, "\n", 2);

      g_string_append (out, "signalbox_clients{protocol=\"");
      append_label_value (out, parts[0]);
      g_string_append (out, "\",transport=\"");
      append_label_value (out, parts[1]);
      g_string_append_printf (out, "\"} %u\n", GPOINTER_TO_UINT (g_hash_table_lookup (counts, l->data)));
    }
}

static void
render_connections (SignalingRouter *router,
                    GString         *out)
{
  GHashTable *connections = signaling_router_get_connections (router);
  g_autoptr(GList) protocols = NULL;
  const char * const known[] = { "native", "socket.io" };

  begin_family (out, "signalbox_connections_total", "counter", "Clients accepted since the start, by protocol.");
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (!g_hash_table_contains (connections, g_intern_string (known[i])))
      append_sample (out, "signalbox_connections_total", "protocol", known[i], 0);

  protocols = g_list_sort (g_hash_table_get_keys (connections), (GCompareFunc) g_strcmp0);
  for (GList *l = protocols; l != NULL; l = l->next)
    {
      guint64 *count = g_hash_table_lookup (connections, l->data);

      append_sample (out, "signalbox_connections_total", "protocol", l->data, *count);
    }
}

static void
render_messages (SignalingRouter *router,
                 GString         *out)
{
  begin_family (out, "signalbox_messages_relayed_total", "counter",
                "Messages delivered to a peer, by kind (one per recipient).");
  /* Not pings: the server answers them itself. */
  for (guint kind = 0; kind < SIGNALING_MESSAGE_KIND_PING; kind++)
    append_sample (out, "signalbox_messages_relayed_total", "kind", signaling_message_kind_to_string (kind),
                   signaling_router_get_relayed_of_kind (router, kind));

  begin_family (out, "signalbox_messages_rejected_total", "counter",
                "Messages answered with an error or dropped, by reason (the native protocol's error code).");
  for (guint reason = 0; reason < SIGNALING_N_ERRORS; reason++)
    append_sample (out, "signalbox_messages_rejected_total", "reason", signaling_error_to_code (reason),
                   signaling_router_get_rejected_for (router, reason));

  begin_family (out, "signalbox_relayed_bytes_total", "counter", "Bytes of messages delivered to peers.");
  append_sample (out, "signalbox_relayed_bytes_total", NULL, NULL, signaling_router_get_bytes_relayed (router));
}

/* Field @field (1-based, as proc(5) counts) of /proc/self/stat. */
static char *
proc_stat_field (guint field)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;

  if (!g_file_get_contents ("/proc/self/stat", &contents, NULL, NULL))
    return NULL;
  /* The command name (field 2) may hold spaces: count after its ')'. */
  after_comm = strrchr (contents, ')');
  if (after_comm == NULL || field < 3)
    return NULL;
  fields = g_strsplit (after_comm + 2, " ", -1);
  if (g_strv_length (fields) <= field - 3)
    return NULL;
  return g_strdup (fields[field - 3]);
}

/* The boot time from /proc/stat (`btime`), in seconds since the epoch;
 * 0 when unknown. */
static guint64
boot_time (void)
{
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL))
    return 0;
  line = strstr (contents, "\nbtime ");
  return line != NULL ? g_ascii_strtoull (line + strlen ("\nbtime "), NULL, 10) : 0;
}

static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint count = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    count++;
  /* Not the one g_dir_open() itself holds. */
  return count > 0 ? count - 1 : 0;
}

static void
render_process (GString *out)
{
  struct rusage usage;
  struct rlimit limit;
  g_autofree char *rss_pages = proc_stat_field (24);
  g_autofree char *vsize = proc_stat_field (23);
  g_autofree char *start_ticks = proc_stat_field (22);
  guint64 btime = boot_time ();
  long ticks_per_second = sysconf (_SC_CLK_TCK);

  if (getrusage (RUSAGE_SELF, &usage) == 0)
    {
      begin_family (out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
      append_double (out, "process_cpu_seconds_total",
                     usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                     (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6);
    }
  if (rss_pages != NULL)
    {
      begin_family (out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
      append_sample (out, "process_resident_memory_bytes", NULL, NULL,
                     g_ascii_strtoull (rss_pages, NULL, 10) * (guint64) sysconf (_SC_PAGESIZE));
    }
  if (vsize != NULL)
    {
      begin_family (out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
      append_sample (out, "process_virtual_memory_bytes", NULL, NULL, g_ascii_strtoull (vsize, NULL, 10));
    }
  begin_family (out, "process_open_fds", "gauge", "Number of open file descriptors.");
  append_sample (out, "process_open_fds", NULL, NULL, count_open_fds ());
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    {
      begin_family (out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
      append_sample (out, "process_max_fds", NULL, NULL, limit.rlim_cur);
    }
  if (start_ticks != NULL && btime > 0 && ticks_per_second > 0)
    {
      begin_family (out, "process_start_time_seconds", "gauge",
                    "Start time of the process since unix epoch in seconds.");
      append_double (out, "process_start_time_seconds",
                     btime + (double) g_ascii_strtoull (start_ticks, NULL, 10) / ticks_per_second);
    }
}

/*
 * signaling_metrics_render:
 * @out: where to append the exposition
 *
 * Writes every series of /metrics, in Prometheus' text format 0.0.4.
 */
void
signaling_metrics_render (SignalingRouter *router,
                          GString         *out)
{
  render_clients (router, out);
  begin_family (out, "signalbox_rooms", "gauge", "Rooms with at least one member.");
  append_sample (out, "signalbox_rooms", NULL, NULL, g_hash_table_size (signaling_router_get_rooms (router)));
  render_connections (router, out);
  render_messages (router, out);
  begin_family (out, "signalbox_build_info", "gauge", "The version of signalbox; always 1.");
  append_sample (out, "signalbox_build_info", "version", SIGNALING_VERSION, 1);
  render_process (out);
}
