/* signaling-settings-private.h: which server properties are settings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A SignalingServer property marked as a setting becomes a command-line
 * option and a configuration key of the signalbox daemon, with the
 * spec's blurb as description, its range and its default. The marks
 * are attached to the GParamSpecs themselves (qdata), so the daemon,
 * which links only the public API, finds them by walking the class:
 * hence this header is all inline.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct {
  /* The option and configuration key; NULL for the property's own
   * name. A list property named in the plural ("ice-servers") is a
   * key named in the singular ("ice-server") that may be repeated. */
  const char *key;
  /* The placeholder --help shows for the value ("BYTES"), marked
   * with N_() in the library's text domain. */
  const char *arg_description;
} SignalingSetting;

#define SIGNALING_SETTING_QUARK (g_quark_from_static_string ("signaling-setting"))

static inline void
signaling_setting_mark (GParamSpec             *pspec,
                        const SignalingSetting *setting)
{
  g_param_spec_set_qdata (pspec, SIGNALING_SETTING_QUARK, (gpointer) setting);
}

/* The mark of @pspec, or NULL if it is no setting. */
static inline const SignalingSetting *
signaling_setting_get (GParamSpec *pspec)
{
  return g_param_spec_get_qdata (pspec, SIGNALING_SETTING_QUARK);
}

static inline const char *
signaling_setting_get_key (GParamSpec *pspec)
{
  const SignalingSetting *setting = signaling_setting_get (pspec);

  g_return_val_if_fail (setting != NULL, NULL);
  return setting->key != NULL ? setting->key : g_param_spec_get_name (pspec);
}

G_END_DECLS
