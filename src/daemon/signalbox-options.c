/* signalbox-options.c: command line and configuration file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every setting is both a long option and a key of the [signalbox]
 * group of the configuration file, with the same name. The command
 * line wins over the file, the file over the built-in defaults.
 *
 * Nothing here names a server setting: the options, the keys, their
 * descriptions, ranges and defaults, and --print-config come from the
 * SignalingServer properties the library marks as settings.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "signalbox-options.h"
#include "signaling-settings-private.h"

#define CONFIG_GROUP "signalbox"
#define DEFAULT_CONFIG_FILE SYSCONFDIR "/signalbox/signalbox.conf"
#define DEFAULT_PORT 3000

/* One setting: a long option and a configuration key of the same name.
 * Most are SignalingServer properties the library marks as settings
 * (signaling-settings-private.h); port and address belong to the
 * daemon and get specs of their own here, so that both kinds are read,
 * described and printed by the same code. */
typedef struct {
  GParamSpec *pspec;           /* type, range, default and blurb */
  const char *name;            /* long option and configuration key */
  const char *arg_description; /* untranslated placeholder */
  gboolean is_property;        /* of SignalingServer, set by apply() */
  gboolean from_command_line;  /* wins over the file, on reload too */
  GValue value;                /* unset (G_VALUE_INIT) until given */
} Setting;

struct _SignalboxOptions
{
  GArray *settings;  /* of Setting, in --help order */
  Setting *port;
  Setting *address;
  char *config_file;
  gboolean version;
  gboolean print_config;
  gboolean verbose;
  gboolean system_bus;
  gboolean session_bus;
  gboolean no_dbus;
  gboolean no_demo;
  gboolean replace;
  char *bus;  /* from the configuration file */
};

static void
setting_clear (gpointer data)
{
  Setting *setting = data;

  if (G_IS_VALUE (&setting->value))
    g_value_unset (&setting->value);
  g_param_spec_unref (setting->pspec);
}

static void
add_setting (SignalboxOptions *options,
             GParamSpec       *pspec,
             const char       *name,
             const char       *arg_description,
             gboolean          is_property)
{
  Setting setting = { g_param_spec_ref_sink (pspec), name, arg_description, is_property, FALSE, G_VALUE_INIT };

  g_array_append_val (options->settings, setting);
}

static int
compare_param_ids (gconstpointer a,
                   gconstpointer b)
{
  const GParamSpec *first = *(GParamSpec * const *) a;
  const GParamSpec *second = *(GParamSpec * const *) b;

  return (first->param_id > second->param_id) - (first->param_id < second->param_id);
}

/* The server's settings, in the order the library installs them (the
 * class lists its properties in no particular order). */
static void
add_server_settings (SignalboxOptions *options)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (SIGNALING_TYPE_SERVER);
  guint n_pspecs = 0;
  g_autofree GParamSpec **pspecs = g_object_class_list_properties (G_OBJECT_CLASS (klass), &n_pspecs);

  qsort (pspecs, n_pspecs, sizeof *pspecs, compare_param_ids);
  for (guint i = 0; i < n_pspecs; i++)
    {
      const SignalingSetting *mark = signaling_setting_get (pspecs[i]);

      if (mark != NULL)
        add_setting (options, pspecs[i], signaling_setting_get_key (pspecs[i]),
                     mark->arg_description, TRUE);
    }
}

SignalboxOptions *
signalbox_options_new (void)
{
  SignalboxOptions *options = g_new0 (SignalboxOptions, 1);

  options->settings = g_array_new (FALSE, TRUE, sizeof (Setting));
  g_array_set_clear_func (options->settings, setting_clear);

  add_setting (options,
               g_param_spec_uint ("port", NULL, N_("TCP port to listen on"),
                                  0, G_MAXUINT16, DEFAULT_PORT,
                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
               "port", N_("PORT"), FALSE);
  add_setting (options,
               g_param_spec_boxed ("address", NULL,
                                   N_("IP address to listen on; repeat for several (default: all interfaces)"),
                                   G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
               "address", N_("ADDRESS"), FALSE);
  add_server_settings (options);

  /* Settings never move once added. */
  options->port = &g_array_index (options->settings, Setting, 0);
  options->address = &g_array_index (options->settings, Setting, 1);

  return options;
}

void
signalbox_options_free (SignalboxOptions *options)
{
  g_array_unref (options->settings);
  g_free (options->config_file);
  g_free (options->bus);
  g_free (options);
}

static Setting *
find_setting (SignalboxOptions *options,
              const char       *name)
{
  for (guint i = 0; i < options->settings->len; i++)
    {
      Setting *setting = &g_array_index (options->settings, Setting, i);

      if (g_str_equal (setting->name, name))
        return setting;
    }

  return NULL;
}

static gboolean
is_list (const Setting *setting)
{
  return G_PARAM_SPEC_VALUE_TYPE (setting->pspec) == G_TYPE_STRV;
}

static gboolean
parse_double (const Setting  *setting,
              const char     *text,
              GValue         *value,
              GError        **error)
{
  GParamSpecDouble *spec = G_PARAM_SPEC_DOUBLE (setting->pspec);
  char *end = NULL;
  double number = g_ascii_strtod (text, &end);

  if (end == text || *end != '\0' || !isfinite (number) ||
      number < spec->minimum || number > spec->maximum)
    {
      char minimum[G_ASCII_DTOSTR_BUF_SIZE];
      char maximum[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (minimum, sizeof minimum, "%g", spec->minimum);
      g_ascii_formatd (maximum, sizeof maximum, "%g", spec->maximum);
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("Invalid value “%s” for %s: expected a number from %s to %s"),
                   text, setting->name, minimum, maximum);
      return FALSE;
    }

  g_value_set_double (value, number);
  return TRUE;
}

static gboolean
parse_integer (const Setting  *setting,
               const char     *text,
               GValue         *value,
               GError        **error)
{
  GParamSpec *pspec = setting->pspec;
  g_autoptr(GError) local_error = NULL;
  gboolean parsed = FALSE;

  if (G_IS_PARAM_SPEC_UINT (pspec) || G_IS_PARAM_SPEC_UINT64 (pspec))
    {
      guint64 minimum = G_IS_PARAM_SPEC_UINT (pspec) ? G_PARAM_SPEC_UINT (pspec)->minimum : G_PARAM_SPEC_UINT64 (pspec)->minimum;
      guint64 maximum = G_IS_PARAM_SPEC_UINT (pspec) ? G_PARAM_SPEC_UINT (pspec)->maximum : G_PARAM_SPEC_UINT64 (pspec)->maximum;
      guint64 number;

      parsed = g_ascii_string_to_unsigned (text, 10, minimum, maximum, &number, &local_error);
      if (parsed && G_IS_PARAM_SPEC_UINT (pspec))
        g_value_set_uint (value, (guint) number);
      else if (parsed)
        g_value_set_uint64 (value, number);
    }
  else
    {
      gint64 number;

      parsed = g_ascii_string_to_signed (text, 10, G_PARAM_SPEC_INT (pspec)->minimum,
                                         G_PARAM_SPEC_INT (pspec)->maximum, &number, &local_error);
      if (parsed)
        g_value_set_int (value, (int) number);
    }

  if (!parsed)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 _("Invalid value “%s” for %s: %s"), text, setting->name, local_error->message);
  return parsed;
}

static gboolean
parse_boolean (const Setting  *setting,
               const char     *text,
               GValue         *value,
               GError        **error)
{
  /* What GKeyFile accepts for a boolean. */
  if (g_str_equal (text, "true") || g_str_equal (text, "1"))
    g_value_set_boolean (value, TRUE);
  else if (g_str_equal (text, "false") || g_str_equal (text, "0"))
    g_value_set_boolean (value, FALSE);
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("Invalid value “%s” for %s: expected true or false"), text, setting->name);
      return FALSE;
    }
  return TRUE;
}

/* Turns @text into the value of @setting, with the same rules for the
 * command line and the file; a list gains @text as one more item. */
static gboolean
parse_value (Setting     *setting,
             const char  *text,
             GError     **error)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (setting->pspec);
  g_auto(GValue) value = G_VALUE_INIT;
  gboolean parsed = TRUE;

  g_value_init (&value, type);
  if (type == G_TYPE_STRV)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      if (G_IS_VALUE (&setting->value))
        g_strv_builder_addv (builder, (const char **) g_value_get_boxed (&setting->value));
      g_strv_builder_add (builder, text);
      g_value_take_boxed (&value, g_strv_builder_end (builder));
    }
  else if (type == G_TYPE_STRING)
    g_value_set_string (&value, text);
  else if (type == G_TYPE_DOUBLE)
    parsed = parse_double (setting, text, &value, error);
  else if (type == G_TYPE_BOOLEAN)
    parsed = parse_boolean (setting, text, &value, error);
  else if (type == G_TYPE_INT || type == G_TYPE_UINT || type == G_TYPE_UINT64)
    parsed = parse_integer (setting, text, &value, error);
  else
    g_error ("Setting %s has a type (%s) the daemon cannot read", setting->name, g_type_name (type));

  if (!parsed)
    return FALSE;

  if (G_IS_VALUE (&setting->value))
    g_value_unset (&setting->value);
  setting->value = value;
  value = (GValue) G_VALUE_INIT;
  return TRUE;
}

static gboolean
on_setting_option (const char  *option_name,
                   const char  *text,
                   gpointer     data,
                   GError     **error)
{
  Setting *setting = find_setting (data, option_name + strlen ("--"));

  g_assert (setting != NULL);
  /* A boolean's value is optional: --foo means --foo=true. */
  return parse_value (setting, text != NULL ? text : "true", error);
}

/* The default of a numeric setting, as its spec declares it: the
 * library states each default once, and --help shows that one, so a
 * user who hits a limit can tell which it was. NULL for the others. */
static char *
describe_default (GParamSpec *pspec,
                  gboolean    numbers_only)
{
  const GValue *value = g_param_spec_get_default_value (pspec);
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);

  if (type == G_TYPE_DOUBLE)
    {
      char buffer[G_ASCII_DTOSTR_BUF_SIZE];

      return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%g", g_value_get_double (value)));
    }
  if (type == G_TYPE_INT)
    return g_strdup_printf ("%d", g_value_get_int (value));
  if (type == G_TYPE_UINT)
    return g_strdup_printf ("%u", g_value_get_uint (value));
  if (type == G_TYPE_UINT64)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_value_get_uint64 (value));
  if (numbers_only)
    return NULL;
  if (type == G_TYPE_BOOLEAN)
    return g_strdup (g_value_get_boolean (value) ? "true" : "false");
  if (type == G_TYPE_STRING)
    return g_strdup (g_value_get_string (value) != NULL ? g_value_get_string (value) : "");
  if (type == G_TYPE_STRV)
    return g_value_get_boxed (value) != NULL ? g_strjoinv (";", g_value_get_boxed (value)) : g_strdup ("");

  g_assert_not_reached ();
}

/* The translated description of @setting, with its default appended.
 * The result goes into @owned: GOptionContext keeps only pointers, and
 * translates nothing it finds no entry for. */
static const char *
describe_setting (const Setting *setting,
                  GPtrArray     *owned)
{
  const char *blurb = g_dgettext (GETTEXT_PACKAGE, g_param_spec_get_blurb (setting->pspec));
  g_autofree char *fallback = describe_default (setting->pspec, TRUE);
  char *text;

  if (fallback == NULL)
    return blurb;

  /* TRANSLATORS: an option's description and its default value */
  text = g_strdup_printf (_("%s (default %s)"), blurb, fallback);
  g_ptr_array_add (owned, text);
  return text;
}

static GOptionEntry *
build_entries (SignalboxOptions *options,
               const char       *config_description,
               GPtrArray        *owned)
{
  GOptionEntry *entries = g_new0 (GOptionEntry, options->settings->len + 10);
  guint n = 0;

  for (guint i = 0; i < options->settings->len; i++, n++)
    {
      const Setting *setting = &g_array_index (options->settings, Setting, i);
      GType type = G_PARAM_SPEC_VALUE_TYPE (setting->pspec);

      entries[n].long_name = setting->name;
      entries[n].description = describe_setting (setting, owned);
      entries[n].arg = G_OPTION_ARG_CALLBACK;
      entries[n].arg_data = (gpointer) on_setting_option;
      if (type == G_TYPE_BOOLEAN)
        entries[n].flags = G_OPTION_FLAG_OPTIONAL_ARG;
      else
        entries[n].arg_description = setting->arg_description;
      /* Strings are paths (client-script-dir): bytes, not UTF-8. */
      if (type == G_TYPE_STRING)
        entries[n].flags |= G_OPTION_FLAG_FILENAME;
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
  entries[n++] = (GOptionEntry) { "no-demo", 0, 0, G_OPTION_ARG_NONE, &options->no_demo,
                                  N_("Do not serve the demo page at /"), NULL };
  entries[n++] = (GOptionEntry) { "replace", 'r', 0, G_OPTION_ARG_NONE, &options->replace,
                                  N_("Replace a running instance on the bus"), NULL };
  entries[n++] = (GOptionEntry) { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose,
                                  N_("Log debug messages"), NULL };
  entries[n++] = (GOptionEntry) { "print-config", 0, 0, G_OPTION_ARG_NONE, &options->print_config,
                                  N_("Print a configuration file with every key commented out at its default, and exit"), NULL };
  entries[n++] = (GOptionEntry) { "version", 0, 0, G_OPTION_ARG_NONE, &options->version,
                                  N_("Print the version and exit"), NULL };

  return entries;
}

static gboolean
load_setting (Setting   *setting,
              GKeyFile  *key_file,
              GError   **error)
{
  g_autofree char *text = NULL;

  if (G_IS_VALUE (&setting->value) || !g_key_file_has_key (key_file, CONFIG_GROUP, setting->name, NULL))
    return TRUE;

  /* Lists are separated by ';' and strings may hold escapes: GKeyFile
   * reads both; the rest goes through the command line's parser. */
  if (is_list (setting))
    {
      g_auto(GStrv) items = g_key_file_get_string_list (key_file, CONFIG_GROUP, setting->name, NULL, error);

      if (items == NULL)
        return FALSE;
      g_value_init (&setting->value, G_TYPE_STRV);
      g_value_take_boxed (&setting->value, g_steal_pointer (&items));
      return TRUE;
    }

  if (G_PARAM_SPEC_VALUE_TYPE (setting->pspec) == G_TYPE_STRING)
    text = g_key_file_get_string (key_file, CONFIG_GROUP, setting->name, error);
  else
    text = g_key_file_get_value (key_file, CONFIG_GROUP, setting->name, error);
  if (text == NULL)
    return FALSE;

  if (G_PARAM_SPEC_VALUE_TYPE (setting->pspec) != G_TYPE_STRING)
    g_strstrip (text);
  return parse_value (setting, text, error);
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

  for (guint i = 0; i < options->settings->len; i++)
    {
      if (!load_setting (&g_array_index (options->settings, Setting, i), key_file, &local_error))
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

  if (options->version || options->print_config)
    return TRUE;

  for (guint i = 0; i < options->settings->len; i++)
    {
      Setting *setting = &g_array_index (options->settings, Setting, i);

      setting->from_command_line = G_IS_VALUE (&setting->value);
    }

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

gboolean
signalbox_options_get_print_config (SignalboxOptions *options)
{
  return options->print_config;
}

guint
signalbox_options_get_port (SignalboxOptions *options)
{
  if (!G_IS_VALUE (&options->port->value))
    return DEFAULT_PORT;
  return g_value_get_uint (&options->port->value);
}

const char * const *
signalbox_options_get_addresses (SignalboxOptions *options)
{
  if (!G_IS_VALUE (&options->address->value))
    return NULL;
  return g_value_get_boxed (&options->address->value);
}

/* Sets one server property from @setting: its value, or the default,
 * which is the library's but for demo-dir. The library serves no demo
 * page unless asked; the daemon serves the installed one, unless told
 * --no-demo or another demo-dir (an empty one for none, which is how
 * the configuration file says it). */
static void
apply_setting (SignalboxOptions *options,
               SignalingServer  *server,
               const Setting    *setting)
{
  const char *name = g_param_spec_get_name (setting->pspec);

  if (g_str_equal (setting->name, "demo-dir") && (options->no_demo || !G_IS_VALUE (&setting->value)))
    g_object_set (server, "demo-dir", options->no_demo ? NULL : DEMO_DIR, NULL);
  else if (G_IS_VALUE (&setting->value))
    g_object_set_property (G_OBJECT (server), name, &setting->value);
  else
    g_object_set_property (G_OBJECT (server), name, g_param_spec_get_default_value (setting->pspec));
}

/*
 * signalbox_options_apply:
 *
 * Sets the server properties the user gave, and the daemon's demo
 * page; the rest keep the library's defaults.
 */
void
signalbox_options_apply (SignalboxOptions *options,
                         SignalingServer  *server)
{
  for (guint i = 0; i < options->settings->len; i++)
    {
      const Setting *setting = &g_array_index (options->settings, Setting, i);

      if (setting->is_property && (G_IS_VALUE (&setting->value) || g_str_equal (setting->name, "demo-dir")))
        apply_setting (options, server, setting);
    }
}

/* The value @setting has, given or by default, as text to compare. */
static char *
describe_value (const Setting *setting)
{
  if (G_IS_VALUE (&setting->value))
    return g_strdup_value_contents (&setting->value);
  return g_strdup_value_contents (g_param_spec_get_default_value (setting->pspec));
}

/* What the server cannot take while it runs: where it listens (systemd's
 * sockets, under socket activation, are not ours to change either) and
 * the bus. Said, so that an edited file does not seem ignored. */
static void
note_restart_needed (SignalboxOptions *options,
                     SignalboxOptions *fresh)
{
  gboolean explicit;
  const Setting *listening[] = { options->port, options->address };
  const Setting *changed[] = { fresh->port, fresh->address };

  for (gsize i = 0; i < G_N_ELEMENTS (listening); i++)
    {
      g_autofree char *before = describe_value (listening[i]);
      g_autofree char *after = describe_value (changed[i]);

      if (!g_str_equal (before, after))
        g_message (_("%s changed in the configuration file: restart signalbox to apply it"),
                   listening[i]->name);
    }

  if (signalbox_options_get_bus (options, &explicit) != signalbox_options_get_bus (fresh, &explicit))
    g_message (_("%s changed in the configuration file: restart signalbox to apply it"), "bus");
}

/*
 * signalbox_options_reload:
 *
 * Reads the configuration file again and applies to @server what may
 * change while it runs; the command line still wins. A file that cannot
 * be read, or holds a bad value, changes nothing. A key removed from the
 * file goes back to its default.
 */
gboolean
signalbox_options_reload (SignalboxOptions  *options,
                          SignalingServer   *server,
                          GError           **error)
{
  g_autoptr(SignalboxOptions) fresh = signalbox_options_new ();

  fresh->config_file = g_strdup (options->config_file);
  fresh->verbose = options->verbose;
  fresh->system_bus = options->system_bus;
  fresh->session_bus = options->session_bus;
  fresh->no_dbus = options->no_dbus;
  for (guint i = 0; i < options->settings->len; i++)
    {
      const Setting *given = &g_array_index (options->settings, Setting, i);
      Setting *setting = &g_array_index (fresh->settings, Setting, i);

      if (!given->from_command_line)
        continue;
      g_value_init (&setting->value, G_VALUE_TYPE (&given->value));
      g_value_copy (&given->value, &setting->value);
      setting->from_command_line = TRUE;
    }

  if (!load_config_file (fresh, error))
    return FALSE;

  note_restart_needed (options, fresh);

  /* The rest take the file's values, and only what changed is set on
   * the server; where it listens and the bus stay as read at start,
   * since they are still what it does. */
  for (guint i = 0; i < options->settings->len; i++)
    {
      Setting *kept = &g_array_index (options->settings, Setting, i);
      Setting *read = &g_array_index (fresh->settings, Setting, i);
      g_autofree char *before = describe_value (kept);
      g_autofree char *after = describe_value (read);
      Setting swapped = *kept;

      if (kept == options->port || kept == options->address)
        continue;
      *kept = *read;
      *read = swapped;
      if (kept->is_property && !g_str_equal (before, after))
        apply_setting (options, server, kept);
    }

  return TRUE;
}

/* A comment line on the values @pspec takes, or NULL. */
static char *
describe_range (GParamSpec *pspec)
{
  if (G_IS_PARAM_SPEC_UINT (pspec))
    return g_strdup_printf ("Range: %u to %u", G_PARAM_SPEC_UINT (pspec)->minimum, G_PARAM_SPEC_UINT (pspec)->maximum);
  if (G_IS_PARAM_SPEC_INT (pspec))
    return g_strdup_printf ("Range: %d to %d", G_PARAM_SPEC_INT (pspec)->minimum, G_PARAM_SPEC_INT (pspec)->maximum);
  if (G_IS_PARAM_SPEC_UINT64 (pspec))
    return g_strdup_printf ("Range: %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                            G_PARAM_SPEC_UINT64 (pspec)->minimum, G_PARAM_SPEC_UINT64 (pspec)->maximum);
  if (G_IS_PARAM_SPEC_DOUBLE (pspec))
    {
      char minimum[G_ASCII_DTOSTR_BUF_SIZE];
      char maximum[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (minimum, sizeof minimum, "%g", G_PARAM_SPEC_DOUBLE (pspec)->minimum);
      if (G_PARAM_SPEC_DOUBLE (pspec)->maximum == G_MAXDOUBLE)
        return g_strdup_printf ("Range: %s or more", minimum);
      g_ascii_formatd (maximum, sizeof maximum, "%g", G_PARAM_SPEC_DOUBLE (pspec)->maximum);
      return g_strdup_printf ("Range: %s to %s", minimum, maximum);
    }
  if (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_STRV)
    return g_strdup ("A list separated by ';'");  /* as GKeyFile has it */

  return NULL;
}

static void
print_key (GString    *config,
           const char *description,
           const char *range,
           const char *key,
           const char *default_value)
{
  g_string_append_printf (config, "\n# %s\n", description);
  if (range != NULL)
    g_string_append_printf (config, "# %s\n", range);
  g_string_append_printf (config, "#%s=%s\n", key, default_value);
}

/*
 * signalbox_options_print_config:
 *
 * A configuration file with every key, its description, range and
 * default, generated from the same specs as the options; data/signalbox.conf
 * is its output. In English whatever the locale, so that the shipped
 * file and its test do not depend on one.
 */
char *
signalbox_options_print_config (SignalboxOptions *options)
{
  g_autoptr(GString) config = g_string_new (NULL);

  g_string_append (config,
                   "# signalbox configuration, as signalbox --print-config writes it.\n"
                   "# Every key is also a command-line option of the same name\n"
                   "# (signalbox --help), and the command line wins. A key left\n"
                   "# commented out keeps the default it shows.\n"
                   "[signalbox]\n");

  for (guint i = 0; i < options->settings->len; i++)
    {
      const Setting *setting = &g_array_index (options->settings, Setting, i);
      g_autofree char *range = describe_range (setting->pspec);
      g_autofree char *default_value = describe_default (setting->pspec, FALSE);

      print_key (config, g_param_spec_get_blurb (setting->pspec), range, setting->name, default_value);

      /* The keys without an option of their own follow the listening
       * address, as they always have. */
      if (setting == options->address)
        print_key (config, "D-Bus bus for the control interface", "One of session, system or none",
                   "bus", "session");
    }

  print_key (config, "Log debug messages", NULL, "verbose", "false");

  return g_string_free (g_steal_pointer (&config), FALSE);
}
