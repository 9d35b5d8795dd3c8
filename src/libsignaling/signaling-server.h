/* signaling-server.h: the signaling service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__SIGNALING_INSIDE__) && !defined(SIGNALING_COMPILATION)
#error "Only <signaling.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "signaling-socketio-server.h"
#include "signaling-types.h"
#include "signaling-version-macros.h"

G_BEGIN_DECLS

#define SIGNALING_TYPE_SERVER (signaling_server_get_type ())

SIGNALING_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (SignalingServer, signaling_server, SIGNALING, SERVER, GObject)

SIGNALING_AVAILABLE_IN_1_0
SignalingServer  *signaling_server_new                    (void);

SIGNALING_AVAILABLE_IN_1_0
gboolean          signaling_server_listen                 (SignalingServer  *self,
                                                           const char       *address,
                                                           guint             port,
                                                           GError          **error);
SIGNALING_AVAILABLE_IN_1_0
gboolean          signaling_server_listen_socket          (SignalingServer  *self,
                                                           GSocket          *socket,
                                                           GError          **error);
SIGNALING_AVAILABLE_IN_1_0
GSList           *signaling_server_get_uris               (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint             signaling_server_get_port               (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
char            **signaling_server_dup_listen_addresses   (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
SoupServer       *signaling_server_get_soup_server        (SignalingServer  *self);

SIGNALING_AVAILABLE_IN_1_0
SignalingSocketioServer *signaling_server_get_socketio_server (SignalingServer *self);

SIGNALING_AVAILABLE_IN_1_0
void              signaling_server_shutdown               (SignalingServer  *self);

SIGNALING_AVAILABLE_IN_1_0
gboolean          signaling_server_reload                 (SignalingServer  *self,
                                                           GError          **error);

/**
 * SignalingServerReloadFunc:
 * @server: the server being reloaded
 * @user_data: the data given with the function
 * @error: return location for a #GError
 *
 * Sets the properties a reload may change (from a configuration file,
 * say) before [method@Signaling.Server.reload] reads the TLS files
 * again. On error it must leave the properties as they were.
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*SignalingServerReloadFunc) (SignalingServer  *server,
                                               gpointer          user_data,
                                               GError          **error);

SIGNALING_AVAILABLE_IN_1_0
void              signaling_server_set_reload_func        (SignalingServer          *self,
                                                           SignalingServerReloadFunc func,
                                                           gpointer                  user_data,
                                                           GDestroyNotify            destroy);

SIGNALING_AVAILABLE_IN_1_0
SignalingClient  *signaling_server_lookup_client          (SignalingServer  *self,
                                                           const char       *id);
SIGNALING_AVAILABLE_IN_1_0
SignalingRoom    *signaling_server_lookup_room            (SignalingServer  *self,
                                                           const char       *name);
SIGNALING_AVAILABLE_IN_1_0
GPtrArray        *signaling_server_get_clients            (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
GPtrArray        *signaling_server_get_rooms              (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint             signaling_server_get_client_count       (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint             signaling_server_get_room_count         (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
GDateTime        *signaling_server_get_started_at         (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64           signaling_server_get_messages_relayed   (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64           signaling_server_get_bytes_relayed      (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64           signaling_server_get_messages_rejected  (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64           signaling_server_get_connections_refused (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64           signaling_server_get_sessions_resumed   (SignalingServer  *self);
SIGNALING_AVAILABLE_IN_1_0
guint64           signaling_server_get_resumes_failed     (SignalingServer  *self);

SIGNALING_AVAILABLE_IN_1_0
gboolean          signaling_server_export_dbus            (SignalingServer  *self,
                                                           GDBusConnection  *connection,
                                                           const char       *object_path,
                                                           GError          **error);
SIGNALING_AVAILABLE_IN_1_0
void              signaling_server_unexport_dbus          (SignalingServer  *self);

/**
 * SignalingDBusExportFlags:
 * @SIGNALING_DBUS_EXPORT_FLAGS_NONE: anyone who can reach the object may
 *   call every method (the bus policy decides)
 * @SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE: methods that act on peers
 *   (`DisconnectClient`, `Client.Disconnect`) need the caller to be root
 *   or authorised by polkit for the `org.signalbox.Signalbox1.disconnect`
 *   action; for the system bus, whose policy lets anyone call them
 *
 * How [method@Signaling.Server.export_dbus_full] publishes the server.
 */
typedef enum /*< flags >*/ {
  SIGNALING_DBUS_EXPORT_FLAGS_NONE = 0,
  SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE = 1 << 0,
} SignalingDBusExportFlags;

SIGNALING_AVAILABLE_IN_1_0
gboolean          signaling_server_export_dbus_full       (SignalingServer          *self,
                                                           GDBusConnection          *connection,
                                                           const char               *object_path,
                                                           SignalingDBusExportFlags  flags,
                                                           GError                  **error);

SIGNALING_AVAILABLE_IN_1_0
gboolean          signaling_server_disconnect_client      (SignalingServer  *self,
                                                           const char       *id,
                                                           const char       *reason,
                                                           GError          **error);

G_END_DECLS
