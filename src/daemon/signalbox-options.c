/* signalbox-options.c: command line and configuration file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every setting is both a long option and a key of the [signalbox]
 * group of the configuration file, with the same name. The command
 * line wins over the file, the file over the built-in defaults.
 */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "signalbox-options.h"

#define CONFIG_GROUP "signalbox"
#define DEFAULT_CONFIG_FILE SYSCONFDIR "/signalbox/signalbox.conf"
#define DEFAULT_PORT 3000

typedef enum {
  SETTING_UINT,
  SETTING_DOUBLE,
  SETTING_STRV,
  SETTING_PATH,
} SettingKind;

typedef struct {
  const char *name;         /* long option and configuration key */
  SettingKind kind;
  const char *property;     /* SignalingServer property, or NULL */
  guint minimum;            /* for numbers */
  const char *description;
  const char *arg_description;
} SettingSpec;

enum {
  SETTING_PORT,
  SETTING_ADDRESS,
  SETTING_MAX_CLIENTS,
  SETTING_MAX_MESSAGE_SIZE,
  SETTING_MAX_ROOMS_PER_CLIENT,
  SETTING_MAX_ROOM_MEMBERS,
  SETTING_RATE_LIMIT,
  SETTING_RATE_BURST,
  SETTING_KEEPALIVE_INTERVAL,
  SETTING_MAX_SEND_QUEUE,
  SETTING_REQUEST_TIMEOUT,
  SETTING_MAX_PENDING_CONNECTIONS,
  SETTING_CLIENT_SCRIPT_DIR,
  SETTING_ICE_SERVER,
  SETTING_ALLOWED_ORIGIN,
  SETTING_PING_INTERVAL,
  SETTING_PING_TIMEOUT,
  SETTING_MAX_PAYLOAD,
  N_SETTINGS
};

static const SettingSpec settings[N_SETTINGS] = {
  [SETTING_PORT] = { "port", SETTING_UINT, NULL, 0,
    N_("TCP port to listen on (default 3000)"), N_("PORT") },
  [SETTING_ADDRESS] = { "address", SETTING_STRV, NULL, 0,
    N_("IP address to listen on; repeat for several (default: all interfaces)"), N_("ADDRESS") },
  [SETTING_MAX_CLIENTS] = { "max-clients", SETTING_UINT, "max-clients", 0,
    N_("Most clients connected at once, 0 for no limit"), N_("N") },
  [SETTING_MAX_MESSAGE_SIZE] = { "max-message-size", SETTING_UINT, "max-message-size", 0,
    N_("Largest message in bytes, 0 for no limit"), N_("BYTES") },
  [SETTING_MAX_ROOMS_PER_CLIENT] = { "max-rooms-per-client", SETTING_UINT, "max-rooms-per-client", 0,
    N_("Most rooms one client may join, 0 for no limit"), N_("N") },
  [SETTING_MAX_ROOM_MEMBERS] = { "max-room-members", SETTING_UINT, "max-room-members", 0,
    N_("Most members of one room, 0 for no limit"), N_("N") },
  [SETTING_RATE_LIMIT] = { "rate-limit", SETTING_DOUBLE, "rate-limit", 0,
    N_("Messages per second one client may send, 0 for no limit"), N_("RATE") },
  [SETTING_RATE_BURST] = { "rate-burst", SETTING_UINT, "rate-burst", 1,
    N_("Messages a client may send at once above the rate"), N_("N") },
  [SETTING_KEEPALIVE_INTERVAL] = { "keepalive-interval", SETTING_UINT, "keepalive-interval", 0,
    N_("Seconds between WebSocket pings, 0 to never ping"), N_("SECONDS") },
  [SETTING_MAX_SEND_QUEUE] = { "max-send-queue", SETTING_UINT, "max-send-queue", 0,
    N_("Bytes a client may leave unread before it is disconnected, 0 for no limit"), N_("BYTES") },
  [SETTING_REQUEST_TIMEOUT] = { "request-timeout", SETTING_UINT, "request-timeout", 0,
    N_("Seconds a new connection has to send its request, 0 for no limit"), N_("SECONDS") },
  [SETTING_MAX_PENDING_CONNECTIONS] = { "max-pending-connections", SETTING_UINT, "max-pending-connections", 0,
    N_("Most connections (and unpolled Socket.IO sessions) waiting for a request; the oldest goes first, 0 for no limit"), N_("N") },
  [SETTING_CLIENT_SCRIPT_DIR] = { "client-script-dir", SETTING_PATH, "client-script-dir", 0,
    N_("Serve the Socket.IO client bundles (socket.io.js…) from this socket.io-client dist folder"), N_("DIR") },
  [SETTING_ICE_SERVER] = { "ice-server", SETTING_STRV, "ice-servers", 0,
    N_("STUN/TURN URL offered to clients; repeat for several"), N_("URL") },
  [SETTING_ALLOWED_ORIGIN] = { "allowed-origin", SETTING_STRV, "allowed-origins", 0,
    N_("Origin browsers may connect from; repeat for several (default: any)"), N_("ORIGIN") },
  [SETTING_PING_INTERVAL] = { "ping-interval", SETTING_UINT, "ping-interval", 1,
    N_("Milliseconds between Socket.IO pings"), N_("MS") },
  [SETTING_PING_TIMEOUT] = { "ping-timeout", SETTING_UINT, "ping-timeout", 1,
    N_("Milliseconds a Socket.IO client has to answer a ping"), N_("MS") },
  [SETTING_MAX_PAYLOAD] = { "max-payload", SETTING_UINT, "max-payload", 1,
    N_("Largest Socket.IO payload in bytes"), N_("BYTES") },
};

typedef struct {
  /* GOptionContext fills these; "unset" is G_MININT64 / NAN / NULL so
   * that the configuration file can fill in what the command line left. */
  gint64 uint_value;
  double double_value;
  char **strv_value;
  char *string_value;
} SettingValue;

struct _SignalboxOptions
{
  SettingValue values[N_SETTINGS];
  char *config_file;
  gboolean version;
  gboolean verbose;
  gboolean system_bus;
  gboolean session_bus;
  gboolean no_dbus;
  gboolean replace;
  char *bus;  /* from the configuration file */
};

SignalboxOptions *
signalbox_options_new (void)
{
  SignalboxOptions *options = g_new0 (SignalboxOptions, 1);

  for (guint i = 0; i < N_SETTINGS; i++)
    {
      options->values[i].uint_value = G_MININT64;
      options->values[i].double_value = NAN;
    }

  return options;
}

void
signalbox_options_free (SignalboxOptions *options)
{
  for (guint i = 0; i < N_SETTINGS; i++)
    {
      g_strfreev (options->values[i].strv_value);
      g_free (options->values[i].string_value);
    }
  g_free (options->config_file);
  g_free (options->bus);
  g_free (options);
}

static gboolean
is_set (const SettingSpec  *spec,
        const SettingValue *value)
{
  switch (spec->kind)
    {
    case SETTING_UINT:
      return value->uint_value != G_MININT64;
    case SETTING_DOUBLE:
      return !isnan (value->double_value);
    case SETTING_STRV:
      return value->strv_value != NULL;
    case SETTING_PATH:
      return value->string_value != NULL;
    default:
      g_assert_not_reached ();
    }
}

/* GOptionContext has no unsigned or 64-bit-with-sentinel parser for our
 * needs, so numbers arrive as strings and are checked here, with the
 * same rules for the command line and the file. */
static gboolean
parse_number (const SettingSpec  *spec,
              const char         *text,
              SettingValue       *value,
              GError            **error)
{
  g_autoptr(GError) local_error = NULL;

  if (spec->kind == SETTING_DOUBLE)
    {
      char *end = NULL;
      double number = g_ascii_strtod (text, &end);

      if (end == text || *end != '\0' || !isfinite (number) || number < 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("Invalid value “%s” for %s: expected a non-negative number"),
                       text, spec->name);
          return FALSE;
        }
      value->double_value = number;
      return TRUE;
    }
  else
    {
      guint64 number;
      guint64 maximum = spec == &settings[SETTING_PORT] ? G_MAXUINT16 : G_MAXINT;

      if (!g_ascii_string_to_unsigned (text, 10, spec->minimum, maximum, &number, &local_error))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("Invalid value “%s” for %s: %s"),
                       text, spec->name, local_error->message);
          return FALSE;
        }
      value->uint_value = number;
      return TRUE;
    }
}

static gboolean
on_number_option (const char  *option_name,
                  const char  *text,
                  gpointer     data,
                  GError     **error)
{
  SignalboxOptions *options = data;

  for (guint i = 0; i < N_SETTINGS; i++)
    {
      const SettingSpec *spec = &settings[i];

      if (spec->kind != SETTING_STRV && g_str_equal (option_name + 2, spec->name))
        return parse_number (spec, text, &options->values[i], error);
    }

  g_assert_not_reached ();
}

/* The default of a numeric setting, as its SignalingServer property
 * declares it: the library states each default once, and --help shows
 * that one, so a user who hits a limit can tell which it was. NULL for
 * settings without such a property. */
static char *
describe_default (const SettingSpec *spec)
{
  gpointer klass;
  GParamSpec *pspec;
  char *text = NULL;

  if (spec->property == NULL || (spec->kind != SETTING_UINT && spec->kind != SETTING_DOUBLE))
    return NULL;

  klass = g_type_class_ref (SIGNALING_TYPE_SERVER);
  pspec = g_object_class_find_property (G_OBJECT_CLASS (klass), spec->property);
  if (G_IS_PARAM_SPEC_UINT (pspec))
    text = g_strdup_printf ("%u", G_PARAM_SPEC_UINT (pspec)->default_value);
  else if (G_IS_PARAM_SPEC_DOUBLE (pspec))
    {
      char buffer[G_ASCII_DTOSTR_BUF_SIZE];

      text = g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%g", G_PARAM_SPEC_DOUBLE (pspec)->default_value));
    }
  g_type_class_unref (klass);

  return text;
}

/* The translated description of @spec, with its default appended.
 * The result goes into @owned: GOptionContext keeps only pointers, and
 * translates nothing it finds no entry for. */
static const char *
describe_setting (const SettingSpec *spec,
                  GPtrArray         *owned)
{
  g_autofree char *fallback = describe_default (spec);
  char *text;

  if (fallback == NULL)
    return spec->description;

  /* TRANSLATORS: an option's description and its default value */
  text = g_strdup_printf (_("%s (default %s)"), g_dgettext (GETTEXT_PACKAGE, spec->description), fallback);
  g_ptr_array_add (owned, text);
  return text;
}

static GOptionEntry *
build_entries (SignalboxOptions *options,
               const char       *config_description,
               GPtrArray        *owned)
{
  GOptionEntry *entries = g_new0 (GOptionEntry, N_SETTINGS + 8);
  guint n = 0;

  for (guint i = 0; i < N_SETTINGS; i++, n++)
    {
      const SettingSpec *spec = &settings[i];

      entries[n].long_name = spec->name;
      entries[n].description = describe_setting (spec, owned);
      entries[n].arg_description = spec->arg_description;
      if (spec->kind == SETTING_STRV)
        {
          entries[n].arg = G_OPTION_ARG_STRING_ARRAY;
          entries[n].arg_data = &options->values[i].strv_value;
        }
      else if (spec->kind == SETTING_PATH)
        {
          entries[n].arg = G_OPTION_ARG_FILENAME;
          entries[n].arg_data = &options->values[i].string_value;
        }
      else
        {
          entries[n].arg = G_OPTION_ARG_CALLBACK;
          entries[n].arg_data = (gpointer) on_number_option;
        }
    }

  entries[n++] = (GOptionEntry) { "config", 'c', 0, G_OPTION_ARG_FILENAME, &options->config_file,
                                  config_description,
                                  N_("FILE") };
  entries[n++] = (GOptionEntry) { "session", 0, 0, G_OPTION_ARG_NONE, &options->session_bus,
                                  N_("Publish the control interface on the session bus (the default)"), NULL };
  entries[n++] = (GOptionEntry) { "system", 0, 0, G_OPTION_ARG_NONE, &options->system_bus,
                                  N_("Publish the control interface on the system bus"), NULL };
  entries[n++] = (GOptionEntry) { "no-dbus", 0, 0, G_OPTION_ARG_NONE, &options->no_dbus,
                                  N_("Do not publish the D-Bus control interface"), NULL };
  entries[n++] = (GOptionEntry) { "replace", 'r', 0, G_OPTION_ARG_NONE, &options->replace,
                                  N_("Replace a running instance on the bus"), NULL };
  entries[n++] = (GOptionEntry) { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose,
                                  N_("Log debug messages"), NULL };
  entries[n++] = (GOptionEntry) { "version", 0, 0, G_OPTION_ARG_NONE, &options->version,
                                  N_("Print the version and exit"), NULL };

  return entries;
}

static gboolean
load_setting (SignalboxOptions  *options,
              GKeyFile          *key_file,
              guint              index,
              GError           **error)
{
  const SettingSpec *spec = &settings[index];
  SettingValue *value = &options->values[index];
  g_autofree char *text = NULL;

  if (is_set (spec, value) || !g_key_file_has_key (key_file, CONFIG_GROUP, spec->name, NULL))
    return TRUE;

  if (spec->kind == SETTING_STRV)
    {
      value->strv_value = g_key_file_get_string_list (key_file, CONFIG_GROUP, spec->name, NULL, error);
      return value->strv_value != NULL;
    }

  if (spec->kind == SETTING_PATH)
    {
      value->string_value = g_key_file_get_string (key_file, CONFIG_GROUP, spec->name, error);
      return value->string_value != NULL;
    }

  text = g_key_file_get_value (key_file, CONFIG_GROUP, spec->name, error);
  if (text == NULL)
    return FALSE;

  g_strstrip (text);
  return parse_number (spec, text, value, error);
}

static gboolean
load_config_file (SignalboxOptions  *options,
                  GError           **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  const char *path = options->config_file;
  gboolean explicit = path != NULL;

  if (!explicit)
    path = DEFAULT_CONFIG_FILE;

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &local_error))
    {
      /* The default file is optional; one the user named is not. */
      if (!explicit && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;

      g_set_error (error, local_error->domain, local_error->code,
                   _("Cannot read configuration file %s: %s"), path, local_error->message);
      return FALSE;
    }

  for (guint i = 0; i < N_SETTINGS; i++)
    {
      if (!load_setting (options, key_file, i, &local_error))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       _("%s: %s"), path, local_error->message);
          return FALSE;
        }
    }

  if (!options->verbose)
    options->verbose = g_key_file_get_boolean (key_file, CONFIG_GROUP, "verbose", NULL);

  /* bus=session|system|none; the command line wins. */
  options->bus = g_key_file_get_string (key_file, CONFIG_GROUP, "bus", NULL);
  if (options->bus != NULL &&
      !g_str_equal (options->bus, "session") && !g_str_equal (options->bus, "system") &&
      !g_str_equal (options->bus, "none"))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("%s: bus must be session, system or none, not “%s”"), path, options->bus);
      return FALSE;
    }

  g_debug ("Read configuration from %s", path);
  return TRUE;
}

gboolean
signalbox_options_parse (SignalboxOptions   *options,
                         int                *argc,
                         char             ***argv,
                         GError            **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  /* Formatted here because the path is only known at build time; the
   * option group's own lookup then finds no entry and keeps it. */
  g_autofree char *config_description =
    g_strdup_printf (_("Read settings from FILE (default %s if it exists)"), DEFAULT_CONFIG_FILE);
  g_autoptr(GPtrArray) descriptions = g_ptr_array_new_with_free_func (g_free);
  g_autofree GOptionEntry *entries = build_entries (options, config_description, descriptions);
  GOptionGroup *group;

  g_option_context_set_summary (context, _("WebRTC signaling service: relays offers, answers and ICE candidates between peers."));

  /* A group with user data, so that number callbacks find @options. */
  group = g_option_group_new ("signalbox", NULL, NULL, options, NULL);
  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_option_context_set_main_group (context, group);

  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("Unexpected argument “%s”"), (*argv)[1]);
      return FALSE;
    }

  if (options->system_bus + options->session_bus + options->no_dbus > 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _("Choose one of --session, --system and --no-dbus"));
      return FALSE;
    }

  if (options->version)
    return TRUE;

  return load_config_file (options, error);
}

gboolean
signalbox_options_get_version (SignalboxOptions *options)
{
  return options->version;
}

/*
 * signalbox_options_get_bus:
 * @out_explicit: (out): whether the user chose the bus, so that failing
 *   to reach it is an error rather than a warning
 */
SignalboxBus
signalbox_options_get_bus (SignalboxOptions *options,
                           gboolean         *out_explicit)
{
  *out_explicit = TRUE;

  if (options->no_dbus)
    return SIGNALBOX_BUS_NONE;
  if (options->system_bus)
    return SIGNALBOX_BUS_SYSTEM;
  if (options->session_bus)
    return SIGNALBOX_BUS_SESSION;
  if (g_strcmp0 (options->bus, "none") == 0)
    return SIGNALBOX_BUS_NONE;
  if (g_strcmp0 (options->bus, "system") == 0)
    return SIGNALBOX_BUS_SYSTEM;

  *out_explicit = options->bus != NULL;
  return SIGNALBOX_BUS_SESSION;
}

gboolean
signalbox_options_get_replace (SignalboxOptions *options)
{
  return options->replace;
}

gboolean
signalbox_options_get_verbose (SignalboxOptions *options)
{
  return options->verbose;
}

guint
signalbox_options_get_port (SignalboxOptions *options)
{
  const SettingValue *value = &options->values[SETTING_PORT];

  return is_set (&settings[SETTING_PORT], value) ? (guint) value->uint_value : DEFAULT_PORT;
}

const char * const *
signalbox_options_get_addresses (SignalboxOptions *options)
{
  return (const char * const *) options->values[SETTING_ADDRESS].strv_value;
}

/*
 * signalbox_options_apply:
 *
 * Sets the server properties the user gave; the rest keep the
 * library's defaults.
 */
void
signalbox_options_apply (SignalboxOptions *options,
                         SignalingServer  *server)
{
  for (guint i = 0; i < N_SETTINGS; i++)
    {
      const SettingSpec *spec = &settings[i];
      const SettingValue *value = &options->values[i];

      if (spec->property == NULL || !is_set (spec, value))
        continue;

      switch (spec->kind)
        {
        case SETTING_UINT:
          g_object_set (server, spec->property, (guint) value->uint_value, NULL);
          break;
        case SETTING_DOUBLE:
          g_object_set (server, spec->property, value->double_value, NULL);
          break;
        case SETTING_STRV:
          g_object_set (server, spec->property, value->strv_value, NULL);
          break;
        case SETTING_PATH:
          g_object_set (server, spec->property, value->string_value, NULL);
          break;
        default:
          g_assert_not_reached ();
        }
    }
}
