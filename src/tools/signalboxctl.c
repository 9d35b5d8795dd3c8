/* signalboxctl.c: inspect and control signalbox over D-Bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   signalboxctl [--system|--session] [--json] status|clients|rooms|monitor
 *   signalboxctl kick ID [REASON]
 *   signalboxctl token --sub ID [--room R]... [--ttl SECONDS] [--secret-file FILE]
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "signaling-secrets-private.h"
#include "signaling-token-verifier-private.h"

#define BUS_NAME     "org.signalbox.Signalbox1"
#define OBJECT_PATH  "/org/signalbox/Signalbox1"
#define SERVER_IFACE "org.signalbox.Signalbox1.Server"
#define CALL_TIMEOUT_MS 10000
#define KICK_TIMEOUT_MS (2 * 60 * 1000)
#define DEFAULT_TOKEN_TTL 3600

static gboolean opt_system;
static gboolean opt_session;
static gboolean opt_json;
static char *opt_sub;
static char **opt_rooms;
static int opt_ttl = DEFAULT_TOKEN_TTL;
static char *opt_secret_file;
static char *opt_audience;
static char *opt_config;

static gboolean opt_cluster;

static const GOptionEntry entries[] = {
  { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Talk to signalbox on the system bus"), NULL },
  { "session", 0, 0, G_OPTION_ARG_NONE, &opt_session, N_("Talk to signalbox on the session bus (the default)"), NULL },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, N_("Print JSON for scripts"), NULL },
  { "sub", 0, 0, G_OPTION_ARG_STRING, &opt_sub, N_("token: the peer’s id"), N_("ID") },
  { "room", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_rooms, N_("token: a room the peer may join; repeat for several (default: any)"), N_("ROOM") },
  { "ttl", 0, 0, G_OPTION_ARG_INT, &opt_ttl, N_("token: seconds the token is valid (default: 3600)"), N_("SECONDS") },
  { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_secret_file, N_("token: sign with the first secret of this file (default: auth-secret-file of the configuration)"), N_("FILE") },
  { "audience", 0, 0, G_OPTION_ARG_STRING, &opt_audience, N_("token: the “aud” claim (default: auth-audience of the configuration)"), N_("AUDIENCE") },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, N_("token: the signalbox configuration to read (default: " SYSCONFDIR "/signalbox/signalbox.conf)"), N_("FILE") },
  { "cluster", 0, 0, G_OPTION_ARG_NONE, &opt_cluster, N_("With clients: the peers of every node of the cluster, with their node"), NULL },
  { NULL }
};

static void
print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static GVariant *
call (GDBusConnection  *bus,
      const char       *interface,
      const char       *method,
      GVariant         *parameters,
      const char       *reply_type,
      GError          **error)
{
  return g_dbus_connection_call_sync (bus, BUS_NAME, OBJECT_PATH, interface, method, parameters,
                                      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, error);
}

static char *
format_time (guint64 usec)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
}

/* Columns are counted in what a terminal shows, not in bytes: "café"
 * takes four columns and five bytes, "部屋" four columns and six
 * bytes, so printf's %-24s misaligns every row after a non-ASCII room
 * name (or a translated heading). Strings from D-Bus are valid UTF-8. */
static guint
display_width (const char *text)
{
  guint width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

/* Prints @text and the spaces that make it @width columns wide, and one
 * more that separates it from the next column. */
static void
print_column (const char *text,
              guint       width)
{
  guint used = display_width (text);

  g_print ("%s%*s ", text, used < width ? (int) (width - used) : 0, "");
}

static void
print_status_line (const char *label,
                   const char *value)
{
  print_column (label, 18);
  g_print ("%s\n", value);
}

static void
print_status_number (const char *label,
                     guint64     value)
{
  print_column (label, 18);
  g_print ("%" G_GUINT64_FORMAT "\n", value);
}

static int
cmd_status (GDBusConnection  *bus,
            GError          **error)
{
  g_autoptr(GVariant) reply = call (bus, "org.freedesktop.DBus.Properties", "GetAll",
                                    g_variant_new ("(s)", SERVER_IFACE), "(a{sv})", error);
  g_autoptr(GVariantDict) props = NULL;
  g_autofree const char **addresses = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *started = NULL;
  const char *version = "?";
  const char *node_id = "";
  const char *cluster_state = "off";
  g_autofree const char **nodes = NULL;
  g_autofree char *joined_nodes = NULL;
  guint32 clients = 0, rooms = 0;
  guint64 started_at = 0, relayed = 0, bytes = 0, rejected = 0;

  if (reply == NULL)
    return EXIT_FAILURE;

  props = g_variant_dict_new (g_variant_get_child_value (reply, 0));
  g_variant_dict_lookup (props, "Version", "&s", &version);
  g_variant_dict_lookup (props, "ListenAddresses", "^a&s", &addresses);
  g_variant_dict_lookup (props, "ClientCount", "u", &clients);
  g_variant_dict_lookup (props, "RoomCount", "u", &rooms);
  g_variant_dict_lookup (props, "StartedAt", "t", &started_at);
  g_variant_dict_lookup (props, "MessagesRelayed", "t", &relayed);
  g_variant_dict_lookup (props, "BytesRelayed", "t", &bytes);
  g_variant_dict_lookup (props, "MessagesRejected", "t", &rejected);
  g_variant_dict_lookup (props, "NodeId", "&s", &node_id);
  g_variant_dict_lookup (props, "ClusterState", "&s", &cluster_state);
  g_variant_dict_lookup (props, "ClusterNodes", "^a&s", &nodes);
  joined_nodes = nodes != NULL ? g_strjoinv (", ", (char **) nodes) : g_strdup ("");
  joined = addresses != NULL ? g_strjoinv (", ", (char **) addresses) : g_strdup ("");
  started = format_time (started_at);

  if (opt_json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, version);
      json_builder_set_member_name (builder, "listenAddresses");
      json_builder_begin_array (builder);
      for (gsize i = 0; addresses != NULL && addresses[i] != NULL; i++)
        json_builder_add_string_value (builder, addresses[i]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "clients");
      json_builder_add_int_value (builder, clients);
      json_builder_set_member_name (builder, "rooms");
      json_builder_add_int_value (builder, rooms);
      json_builder_set_member_name (builder, "startedAt");
      json_builder_add_int_value (builder, started_at);
      json_builder_set_member_name (builder, "messagesRelayed");
      json_builder_add_int_value (builder, relayed);
      json_builder_set_member_name (builder, "bytesRelayed");
      json_builder_add_int_value (builder, bytes);
      json_builder_set_member_name (builder, "messagesRejected");
      json_builder_add_int_value (builder, rejected);
      json_builder_set_member_name (builder, "nodeId");
      json_builder_add_string_value (builder, node_id);
      json_builder_set_member_name (builder, "clusterState");
      json_builder_add_string_value (builder, cluster_state);
      json_builder_set_member_name (builder, "clusterNodes");
      json_builder_begin_array (builder);
      for (gsize i = 0; nodes != NULL && nodes[i] != NULL; i++)
        json_builder_add_string_value (builder, nodes[i]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
      return EXIT_SUCCESS;
    }

  print_status_line (_("Version"), version);
  print_status_line (_("Listening on"), joined);
  print_status_line (_("Started"), started);
  print_status_number (_("Clients"), clients);
  print_status_number (_("Rooms"), rooms);
  print_status_number (_("Messages relayed"), relayed);
  print_status_number (_("Bytes relayed"), bytes);
  print_status_number (_("Messages rejected"), rejected);
  print_status_line (_("Cluster"), cluster_state);
  if (node_id[0] != '\0')
    {
      print_status_line (_("Node"), node_id);
      print_status_line (_("Nodes"), joined_nodes);
    }
  return EXIT_SUCCESS;
}

static void
add_strv (JsonBuilder  *builder,
          const char  **strv)
{
  json_builder_begin_array (builder);
  for (gsize i = 0; strv != NULL && strv[i] != NULL; i++)
    json_builder_add_string_value (builder, strv[i]);
  json_builder_end_array (builder);
}

/* The JSON form of a listing is printed at its end; the table was
 * printed row by row. */
static int
finish_listing (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = NULL;

  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  if (opt_json)
    print_json (root);
  return EXIT_SUCCESS;
}

static int
cmd_clients (GDBusConnection  *bus,
             GError          **error)
{
  g_autoptr(GVariant) reply = call (bus, SERVER_IFACE, "ListClients", NULL, "(a(ssas))", error);
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *id, *protocol;
  const char **rooms;

  if (reply == NULL)
    return EXIT_FAILURE;

  g_variant_get (reply, "(a(ssas))", &iter);
  if (!opt_json)
    {
      print_column (_("ID"), 24);
      print_column (_("PROTOCOL"), 10);
      g_print ("%s\n", _("ROOMS"));
    }
  json_builder_begin_array (builder);

  while (g_variant_iter_next (iter, "(&s&s^a&s)", &id, &protocol, &rooms))
    {
      g_autofree const char **owned = rooms;
      g_autofree char *joined = g_strjoinv (", ", (char **) rooms);

      if (!opt_json)
        {
          print_column (id, 24);
          print_column (protocol, 10);
          g_print ("%s\n", joined);
        }

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_set_member_name (builder, "protocol");
      json_builder_add_string_value (builder, protocol);
      json_builder_set_member_name (builder, "rooms");
      add_strv (builder, owned);
      json_builder_end_object (builder);
    }

  return finish_listing (builder);
}

/* clients --cluster: every node's peers, with their node. */
static int
cmd_cluster_clients (GDBusConnection  *bus,
                     GError          **error)
{
  g_autoptr(GVariant) reply = call (bus, SERVER_IFACE, "ListClusterClients", NULL, "(a(sssas))", error);
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *id, *node, *protocol;
  const char **rooms;

  if (reply == NULL)
    return EXIT_FAILURE;

  g_variant_get (reply, "(a(sssas))", &iter);
  if (!opt_json)
    {
      print_column (_("ID"), 24);
      print_column (_("NODE"), 14);
      print_column (_("PROTOCOL"), 10);
      g_print ("%s\n", _("ROOMS"));
    }
  json_builder_begin_array (builder);

  while (g_variant_iter_next (iter, "(&s&s&s^a&s)", &id, &node, &protocol, &rooms))
    {
      g_autofree const char **owned = rooms;
      g_autofree char *joined = g_strjoinv (", ", (char **) rooms);

      if (!opt_json)
        {
          print_column (id, 24);
          print_column (node, 14);
          print_column (protocol, 10);
          g_print ("%s\n", joined);
        }

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_set_member_name (builder, "node");
      json_builder_add_string_value (builder, node);
      json_builder_set_member_name (builder, "protocol");
      json_builder_add_string_value (builder, protocol);
      json_builder_set_member_name (builder, "rooms");
      add_strv (builder, owned);
      json_builder_end_object (builder);
    }

  return finish_listing (builder);
}

static int
cmd_rooms (GDBusConnection  *bus,
           GError          **error)
{
  g_autoptr(GVariant) reply = call (bus, SERVER_IFACE, "ListRooms", NULL, "(a(sas))", error);
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *name;
  const char **members;

  if (reply == NULL)
    return EXIT_FAILURE;

  g_variant_get (reply, "(a(sas))", &iter);
  if (!opt_json)
    {
      print_column (_("ROOM"), 24);
      g_print ("%s\n", _("MEMBERS"));
    }
  json_builder_begin_array (builder);

  while (g_variant_iter_next (iter, "(&s^a&s)", &name, &members))
    {
      g_autofree const char **owned = members;
      g_autofree char *joined = g_strjoinv (", ", (char **) members);

      if (!opt_json)
        {
          print_column (name, 24);
          g_print ("%s\n", joined);
        }

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "members");
      add_strv (builder, owned);
      json_builder_end_object (builder);
    }

  return finish_listing (builder);
}

static int
cmd_kick (GDBusConnection  *bus,
          const char       *id,
          const char       *reason,
          GError          **error)
{
  /* On the system bus polkit may ask for a password (through the
   * desktop's or pkttyagent's agent): leave time to type it. */
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (bus, BUS_NAME, OBJECT_PATH, SERVER_IFACE, "DisconnectClient",
                                 g_variant_new ("(ss)", id, reason), NULL,
                                 G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, KICK_TIMEOUT_MS, NULL, error);

  if (reply == NULL)
    return EXIT_FAILURE;

  if (!opt_json)
    g_print (_("Disconnected %s\n"), id);
  return EXIT_SUCCESS;
}

static int
cmd_reload (GDBusConnection  *bus,
            GError          **error)
{
  /* Authorised as kick is, so polkit may ask for a password too. */
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (bus, BUS_NAME, OBJECT_PATH, SERVER_IFACE, "Reload",
                                 NULL, NULL, G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                                 KICK_TIMEOUT_MS, NULL, error);

  if (reply == NULL)
    return EXIT_FAILURE;

  if (!opt_json)
    g_print (_("Reloaded\n"));
  return EXIT_SUCCESS;
}

static void
on_signal (GDBusConnection *bus,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *signal,
           GVariant        *parameters,
           gpointer         user_data)
{
  static const struct {
    const char *signal;
    const char *event;
  } events[] = {
    { "ClientConnected", "client-connected" },
    { "ClientDisconnected", "client-disconnected" },
    { "RoomCreated", "room-created" },
    { "RoomRemoved", "room-removed" },
  };
  const char *event = NULL;
  const char *subject = NULL;
  const char *reason = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S");

  for (gsize i = 0; i < G_N_ELEMENTS (events); i++)
    if (g_str_equal (signal, events[i].signal))
      event = events[i].event;
  if (event == NULL)
    return;

  if (g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)")))
    g_variant_get (parameters, "(&s&s)", &subject, &reason);
  else if (g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(s)")))
    g_variant_get (parameters, "(&s)", &subject);
  else
    return;

  if (opt_json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "event");
      json_builder_add_string_value (builder, event);
      json_builder_set_member_name (builder, g_str_has_prefix (event, "room") ? "room" : "id");
      json_builder_add_string_value (builder, subject);
      if (reason != NULL)
        {
          json_builder_set_member_name (builder, "reason");
          json_builder_add_string_value (builder, reason);
        }
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else if (reason != NULL)
    g_print ("%s %-20s %s (%s)\n", stamp, event, subject, reason);
  else
    g_print ("%s %-20s %s\n", stamp, event, subject);
}

static int
cmd_monitor (GDBusConnection *bus)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  g_dbus_connection_signal_subscribe (bus, BUS_NAME, SERVER_IFACE, NULL, OBJECT_PATH, NULL,
                                      G_DBUS_SIGNAL_FLAGS_NONE, on_signal, NULL, NULL);
  if (!opt_json)
    g_printerr (_("Watching signalbox; Ctrl-C to stop.\n"));
  g_main_loop_run (loop);
  return EXIT_SUCCESS;
}

/* The key @key of signalbox's configuration, if it has one. */
static char *
config_value (const char *key)
{
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autofree char *filename = opt_config != NULL ? g_strdup (opt_config)
                                                 : g_build_filename (SYSCONFDIR, "signalbox", "signalbox.conf", NULL);

  if (!g_key_file_load_from_file (config, filename, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_key_file_get_string (config, "signalbox", key, NULL);
}

/* Mints a token from the first secret, as signalbox checks them. */
static int
cmd_token (GError **error)
{
  g_autofree char *secret_file = opt_secret_file != NULL ? g_strdup (opt_secret_file)
                                                         : config_value ("auth-secret-file");
  g_autofree char *audience = opt_audience != NULL ? g_strdup (opt_audience)
                                                   : config_value ("auth-audience");
  g_autoptr(GPtrArray) secrets = NULL;
  g_autofree char *token = NULL;

  if (opt_sub == NULL || opt_ttl <= 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("token needs --sub ID, and --ttl above 0"));
      return 2;
    }
  if (secret_file == NULL || secret_file[0] == '\0')
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("No secret: give --secret-file, or set auth-secret-file in the configuration"));
      return 2;
    }

  secrets = signaling_secrets_read (secret_file, error);
  if (secrets == NULL)
    return EXIT_FAILURE;

  token = signaling_token_mint (g_ptr_array_index (secrets, 0), opt_sub,
                                (const char * const *) opt_rooms,
                                audience != NULL && audience[0] != '\0' ? audience : NULL,
                                g_get_real_time () / G_USEC_PER_SEC + opt_ttl, error);
  if (token == NULL)
    return EXIT_FAILURE;

  g_print ("%s\n", token);
  return EXIT_SUCCESS;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("COMMAND [ARGS…]"));
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  const char *command;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_option_context_set_summary (context,
                                _("Commands:\n"
                                  "  status            the service's state and counters\n"
                                  "  clients           connected peers\n"
                                  "  rooms             rooms and their members\n"
                                  "  kick ID [REASON]  disconnect a peer\n"
                                  "  reload            apply the configuration file again\n"
                                  "  monitor           print connections and rooms as they come and go\n"
                                  "  token --sub ID    print a signed token (JWT) for a peer"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("signalboxctl: %s\n", error->message);
      return 2;
    }

  if (argc < 2 || (opt_system && opt_session))
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return 2;
    }

  /* Needs no bus: it signs with the service's secret file. */
  if (g_str_equal (argv[1], "token") && argc == 2)
    {
      status = cmd_token (&error);
      if (error != NULL)
        g_printerr ("signalboxctl: %s\n", error->message);
      return status;
    }

  bus = g_bus_get_sync (opt_system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("signalboxctl: %s\n", error->message);
      return EXIT_FAILURE;
    }

  command = argv[1];
  if (g_str_equal (command, "status") && argc == 2)
    status = cmd_status (bus, &error);
  else if (g_str_equal (command, "clients") && argc == 2)
    status = opt_cluster ? cmd_cluster_clients (bus, &error) : cmd_clients (bus, &error);
  else if (g_str_equal (command, "rooms") && argc == 2)
    status = cmd_rooms (bus, &error);
  else if (g_str_equal (command, "kick") && (argc == 3 || argc == 4))
    status = cmd_kick (bus, argv[2], argc == 4 ? argv[3] : "", &error);
  else if (g_str_equal (command, "reload") && argc == 2)
    status = cmd_reload (bus, &error);
  else if (g_str_equal (command, "monitor") && argc == 2)
    status = cmd_monitor (bus);
  else
    {
      g_printerr (_("signalboxctl: unknown command or wrong arguments: %s\n"), command);
      return 2;
    }

  if (error != NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_printerr ("signalboxctl: %s\n", error->message);
    }

  return status;
}
