/* signaling-dbus-exporter-private.h: the D-Bus control interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "signaling-server.h"

G_BEGIN_DECLS

#define SIGNALING_DBUS_NAME        "org.signalbox.Signalbox1"
#define SIGNALING_DBUS_OBJECT_PATH "/org/signalbox/Signalbox1"

/* The polkit action of the methods that disconnect peers
 * (data/org.signalbox.Signalbox1.policy). */
#define SIGNALING_DBUS_DISCONNECT_ACTION "org.signalbox.Signalbox1.disconnect"

/* Counters reach D-Bus at most this often. */
#define SIGNALING_DBUS_COUNTER_INTERVAL_MS 500

#define SIGNALING_TYPE_DBUS_EXPORTER (signaling_dbus_exporter_get_type ())

G_DECLARE_FINAL_TYPE (SignalingDBusExporter, signaling_dbus_exporter,
                      SIGNALING, DBUS_EXPORTER, GObject)

SignalingDBusExporter *signaling_dbus_exporter_new    (SignalingServer           *server,
                                                       GDBusConnection           *connection,
                                                       const char                *object_path,
                                                       SignalingDBusExportFlags   flags,
                                                       GError                   **error);
void                   signaling_dbus_exporter_unexport (SignalingDBusExporter *self);

G_END_DECLS
