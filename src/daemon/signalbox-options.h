/* signalbox-options.h: command line and configuration file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <signaling.h>

G_BEGIN_DECLS

typedef struct _SignalboxOptions SignalboxOptions;

typedef enum {
  SIGNALBOX_BUS_SESSION,
  SIGNALBOX_BUS_SYSTEM,
  SIGNALBOX_BUS_NONE,
} SignalboxBus;

SignalboxOptions *signalbox_options_new            (void);
void              signalbox_options_free           (SignalboxOptions  *options);
gboolean          signalbox_options_parse          (SignalboxOptions  *options,
                                                    int               *argc,
                                                    char            ***argv,
                                                    GError           **error);
gboolean          signalbox_options_get_version    (SignalboxOptions  *options);
gboolean          signalbox_options_get_print_config (SignalboxOptions *options);
gboolean          signalbox_options_get_verbose    (SignalboxOptions  *options);
guint             signalbox_options_get_port       (SignalboxOptions  *options);
const char * const *signalbox_options_get_addresses (SignalboxOptions *options);
SignalboxBus      signalbox_options_get_bus        (SignalboxOptions  *options,
                                                    gboolean          *out_explicit);
gboolean          signalbox_options_get_replace    (SignalboxOptions  *options);
void              signalbox_options_apply          (SignalboxOptions  *options,
                                                    SignalingServer   *server);
gboolean          signalbox_options_reload         (SignalboxOptions  *options,
                                                    SignalingServer   *server,
                                                    GError           **error);
char             *signalbox_options_print_config   (SignalboxOptions  *options);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalboxOptions, signalbox_options_free)

G_END_DECLS
