/* signaling-dbus-exporter.c: the D-Bus control interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-dbus"

#include "config.h"

#include <glib/gi18n-lib.h>

#ifdef HAVE_POLKIT
#include <polkit/polkit.h>
#endif

#include "signaling-client-private.h"
#include "signaling-dbus-exporter-private.h"
#include "signaling-dbus-generated.h"
#include "signaling-error.h"
#include "signaling-room.h"
#include "signaling-server-private.h"
#include "signaling-version.h"

#define EXPORTER_KEY "signaling-dbus-exporter"

/*
 * SignalingDBusExporter:
 *
 * Publishes a SignalingServer on D-Bus as org.signalbox.Signalbox1:
 * the Server interface on the root object, and one object per client
 * and per room through an ObjectManager.
 *
 * It only reads server state. Membership changes are published as they
 * happen; counters, which change with every message, are published at
 * most every SIGNALING_DBUS_COUNTER_INTERVAL_MS, and only after the
 * server reported activity, so an idle service does not wake up.
 */
struct _SignalingDBusExporter
{
  GObject parent_instance;

  SignalingServer *server;  /* unowned: the server owns us */
  GDBusConnection *connection;
  char *object_path;
  GDBusObjectManagerServer *manager;
  SignalingDBusServer *server_iface;
  GHashTable *clients;      /* SignalingClient → SignalingDBusObjectSkeleton */
  GHashTable *rooms;        /* SignalingRoom → SignalingDBusObjectSkeleton */
  guint counters_source;
  SignalingDBusExportFlags flags;
  GCancellable *cancellable;  /* authorization checks in flight */
};

G_DEFINE_FINAL_TYPE (SignalingDBusExporter, signaling_dbus_exporter, G_TYPE_OBJECT)

static void
register_errors (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered))
    {
      static const struct {
        SignalingError code;
        const char *name;
      } errors[] = {
        { SIGNALING_ERROR_FAILED, "org.signalbox.Signalbox1.Error.Failed" },
        { SIGNALING_ERROR_UNKNOWN_CLIENT, "org.signalbox.Signalbox1.Error.UnknownClient" },
        { SIGNALING_ERROR_UNKNOWN_TARGET, "org.signalbox.Signalbox1.Error.UnknownTarget" },
        { SIGNALING_ERROR_FORBIDDEN, "org.signalbox.Signalbox1.Error.Forbidden" },
      };

      for (gsize i = 0; i < G_N_ELEMENTS (errors); i++)
        g_dbus_error_register_error (SIGNALING_ERROR, errors[i].code, errors[i].name);
      g_once_init_leave (&registered, 1);
    }
}

static guint64
unix_usec (GDateTime *time)
{
  return (guint64) g_date_time_to_unix (time) * G_USEC_PER_SEC +
         g_date_time_get_microsecond (time);
}

static char *
child_path (SignalingDBusExporter *self,
            const char            *kind,
            const char            *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strdup_printf ("%s/%s/%s", self->object_path, kind, escaped);
}

/* Counters */

static void
publish_client_counters (SignalingClient             *client,
                         SignalingDBusObjectSkeleton *object)
{
  g_autoptr(SignalingDBusClient) iface = signaling_dbus_object_get_client (SIGNALING_DBUS_OBJECT (object));

  signaling_dbus_client_set_messages_in (iface, signaling_client_get_messages_in (client));
  signaling_dbus_client_set_messages_out (iface, signaling_client_get_messages_out (client));
  signaling_dbus_client_set_bytes_in (iface, signaling_client_get_bytes_in (client));
  signaling_dbus_client_set_bytes_out (iface, signaling_client_get_bytes_out (client));
}

static gboolean
publish_counters (gpointer user_data)
{
  SignalingDBusExporter *self = user_data;
  GHashTableIter iter;
  gpointer client, object;

  self->counters_source = 0;

  signaling_dbus_server_set_messages_relayed (self->server_iface,
                                              signaling_server_get_messages_relayed (self->server));
  signaling_dbus_server_set_bytes_relayed (self->server_iface,
                                           signaling_server_get_bytes_relayed (self->server));
  signaling_dbus_server_set_messages_rejected (self->server_iface,
                                               signaling_server_get_messages_rejected (self->server));
  signaling_dbus_server_set_connections_refused (self->server_iface,
                                                 signaling_server_get_connections_refused (self->server));
  signaling_dbus_server_set_sessions_resumed (self->server_iface,
                                              signaling_server_get_sessions_resumed (self->server));
  signaling_dbus_server_set_resumes_failed (self->server_iface,
                                            signaling_server_get_resumes_failed (self->server));

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &client, &object))
    publish_client_counters (client, object);

  return G_SOURCE_REMOVE;
}

static gboolean on_activity (gpointer user_data);

static gboolean
on_counters_due (gpointer user_data)
{
  SignalingDBusExporter *self = user_data;

  publish_counters (self);
  /* Re-arm: the next message after this starts a new period. */
  signaling_server_set_activity_func (self->server, on_activity, self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_activity (gpointer user_data)
{
  SignalingDBusExporter *self = user_data;

  if (self->counters_source == 0)
    self->counters_source = g_timeout_add (SIGNALING_DBUS_COUNTER_INTERVAL_MS, on_counters_due, self);
  return G_SOURCE_REMOVE;
}

/* Clients */

static void
update_client_rooms (SignalingClient             *client,
                     SignalingDBusObjectSkeleton *object)
{
  g_autoptr(SignalingDBusClient) iface = signaling_dbus_object_get_client (SIGNALING_DBUS_OBJECT (object));
  g_auto(GStrv) rooms = signaling_client_dup_rooms (client);

  signaling_dbus_client_set_rooms (iface, (const char * const *) rooms);
}

static void
on_client_rooms_changed (SignalingClient       *client,
                         GParamSpec            *pspec,
                         SignalingDBusExporter *self)
{
  SignalingDBusObjectSkeleton *object = g_hash_table_lookup (self->clients, client);

  if (object != NULL)
    update_client_rooms (client, object);
}

static void
on_client_transport_changed (SignalingClient       *client,
                             GParamSpec            *pspec,
                             SignalingDBusExporter *self)
{
  SignalingDBusObjectSkeleton *object = g_hash_table_lookup (self->clients, client);
  g_autoptr(SignalingDBusClient) iface = NULL;

  if (object == NULL)
    return;

  iface = signaling_dbus_object_get_client (SIGNALING_DBUS_OBJECT (object));
  signaling_dbus_client_set_transport (iface, signaling_client_get_transport (client) ?: "");
}

/* Control methods: who may disconnect peers and reload the service.
 * Both are behind the same rule (root, or polkit's disconnect action
 * on the system bus): one check, whatever the call does once allowed. */

typedef struct _ControlCall ControlCall;

/* What an allowed call does; it answers the invocation it is given. */
typedef void (*ControlFunc) (ControlCall           *call,
                             GDBusMethodInvocation *invocation);

/* A control call waiting for its caller to be authorised. */
struct _ControlCall {
  SignalingDBusExporter *self;
  GDBusMethodInvocation *invocation;  /* ours until answered */
  ControlFunc func;
  char *id;      /* DisconnectClient's arguments */
  char *reason;
};

static void
control_call_free (ControlCall *call)
{
  g_assert (call->invocation == NULL);
  g_object_unref (call->self);
  g_free (call->id);
  g_free (call->reason);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ControlCall, control_call_free)

static void
control_call_allow (ControlCall *call)
{
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);

  /* The server may have gone while polkit was thinking. */
  if (call->self->manager == NULL)
    {
      g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                                     _("The service is shutting down"));
      return;
    }

  call->func (call, invocation);
}

static void
disconnect_allowed (ControlCall           *call,
                    GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;

  if (!signaling_server_disconnect_client (call->self->server, call->id, call->reason, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
reload_allowed (ControlCall           *call,
                GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;

  /* A bad file is the caller's to fix: say why, as a plain failure. */
  if (!signaling_server_reload (call->self->server, &error))
    g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                                   error->message);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
control_call_deny (ControlCall *call,
                      const char     *why)
{
  g_dbus_method_invocation_return_error_literal (g_steal_pointer (&call->invocation),
                                                 G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, why);
}

#ifdef HAVE_POLKIT
static void
on_polkit_checked (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ControlCall) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthorizationResult) answer =
    polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), result, &error);

  if (answer == NULL)
    {
      g_message ("Cannot ask polkit whether %s may control the service: %s",
                 g_dbus_method_invocation_get_sender (call->invocation), error->message);
      control_call_deny (call, _("Cannot check authorization with polkit"));
    }
  else if (!polkit_authorization_result_get_is_authorized (answer))
    control_call_deny (call, polkit_authorization_result_get_is_challenge (answer)
                                ? _("Controlling the service needs authentication")
                                : _("Not authorized to control the service"));
  else
    control_call_allow (call);
}

static void
on_polkit_authority (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(ControlCall) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthority) authority = polkit_authority_get_finish (result, &error);
  g_autoptr(PolkitSubject) subject = NULL;
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  GDBusMessage *message = g_dbus_method_invocation_get_message (call->invocation);
  GCancellable *cancellable;

  if (authority == NULL)
    {
      g_message ("Cannot reach polkit: %s", error->message);
      control_call_deny (call, _("Cannot check authorization with polkit"));
      return;
    }

  /* Only pop up a password dialog when the caller said it can wait for one
   * (gdbus call --interactive, busctl's default). */
  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;

  subject = polkit_system_bus_name_new (g_dbus_method_invocation_get_sender (call->invocation));
  cancellable = call->self->cancellable;  /* before the call is handed over */
  polkit_authority_check_authorization (authority, subject, SIGNALING_DBUS_DISCONNECT_ACTION, NULL, flags,
                                        cancellable, on_polkit_checked, g_steal_pointer (&call));
}
#endif

static void
on_caller_uid (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ControlCall) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  G_GNUC_UNUSED GCancellable *cancellable;
  guint32 uid;

  if (reply == NULL)
    {
      control_call_deny (call, _("Cannot identify the caller"));
      return;
    }

  /* Root may always, without asking polkit: its default rules know no
   * exception for uid 0, and root could take the service over anyway. */
  g_variant_get (reply, "(u)", &uid);
  if (uid == 0)
    {
      control_call_allow (call);
      return;
    }

#ifdef HAVE_POLKIT
  cancellable = call->self->cancellable;
  polkit_authority_get_async (cancellable, on_polkit_authority, g_steal_pointer (&call));
#else
  control_call_deny (call, _("Only root may control the service (signalbox was built without polkit)"));
#endif
}

/* Runs @func for a D-Bus caller, once it is allowed to. */
static void
handle_control (SignalingDBusExporter *self,
                GDBusMethodInvocation *invocation,
                ControlFunc            func,
                const char            *id,
                const char            *reason)
{
  g_autoptr(ControlCall) call = g_new0 (ControlCall, 1);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  call->self = g_object_ref (self);
  call->invocation = invocation;
  call->func = func;
  call->id = g_strdup (id);
  call->reason = g_strdup (reason);

  if (!(self->flags & SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE))
    control_call_allow (call);
  else if (sender == NULL)  /* a peer-to-peer connection: no bus to ask */
    control_call_deny (call, _("Cannot identify the caller"));
  else
    g_dbus_connection_call (self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus", "GetConnectionUnixUser", g_variant_new ("(s)", sender),
                            G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                            on_caller_uid, g_steal_pointer (&call));
}

static gboolean
on_handle_client_disconnect (SignalingDBusClient   *iface,
                             GDBusMethodInvocation *invocation,
                             const char            *reason,
                             SignalingDBusExporter *self)
{
  handle_control (self, invocation, disconnect_allowed, signaling_dbus_client_get_id (iface), reason);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
add_client (SignalingDBusExporter *self,
            SignalingClient       *client)
{
  g_autofree char *path = child_path (self, "client", signaling_client_get_id (client));
  g_autoptr(SignalingDBusObjectSkeleton) object = signaling_dbus_object_skeleton_new (path);
  g_autoptr(SignalingDBusClient) iface = signaling_dbus_client_skeleton_new ();

  signaling_dbus_client_set_id (iface, signaling_client_get_id (client));
  signaling_dbus_client_set_remote_address (iface, signaling_client_get_remote_address (client) ?: "");
  signaling_dbus_client_set_protocol (iface, signaling_client_get_protocol (client) ?: "");
  signaling_dbus_client_set_transport (iface, signaling_client_get_transport (client) ?: "");
  signaling_dbus_client_set_connected_at (iface, unix_usec (signaling_client_get_connected_at (client)));
  g_signal_connect (iface, "handle-disconnect", G_CALLBACK (on_handle_client_disconnect), self);
  signaling_dbus_object_skeleton_set_client (object, iface);

  g_hash_table_insert (self->clients, g_object_ref (client), g_object_ref (object));
  update_client_rooms (client, object);
  publish_client_counters (client, object);
  g_signal_connect (client, "notify::rooms", G_CALLBACK (on_client_rooms_changed), self);
  g_signal_connect (client, "notify::transport", G_CALLBACK (on_client_transport_changed), self);

  g_dbus_object_manager_server_export (self->manager, G_DBUS_OBJECT_SKELETON (object));
}

static void
remove_client (SignalingDBusExporter *self,
               SignalingClient       *client)
{
  SignalingDBusObjectSkeleton *object = g_hash_table_lookup (self->clients, client);

  if (object == NULL)
    return;

  g_signal_handlers_disconnect_by_data (client, self);
  g_dbus_object_manager_server_unexport (self->manager,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
  g_hash_table_remove (self->clients, client);
}

static void
update_counts (SignalingDBusExporter *self)
{
  signaling_dbus_server_set_client_count (self->server_iface, signaling_server_get_client_count (self->server));
  signaling_dbus_server_set_room_count (self->server_iface, signaling_server_get_room_count (self->server));
}

static void
on_client_connected (SignalingServer       *server,
                     SignalingClient       *client,
                     SignalingDBusExporter *self)
{
  add_client (self, client);
  update_counts (self);
  signaling_dbus_server_emit_client_connected (self->server_iface, signaling_client_get_id (client));
}

static void
on_client_disconnected (SignalingServer       *server,
                        SignalingClient       *client,
                        const char            *reason,
                        SignalingDBusExporter *self)
{
  remove_client (self, client);
  update_counts (self);
  signaling_dbus_server_emit_client_disconnected (self->server_iface,
                                                  signaling_client_get_id (client),
                                                  reason != NULL ? reason : "");
}

/* Rooms */

static void
update_room_members (SignalingRoom               *room,
                     SignalingDBusObjectSkeleton *object)
{
  g_autoptr(SignalingDBusRoom) iface = signaling_dbus_object_get_room (SIGNALING_DBUS_OBJECT (object));
  g_auto(GStrv) members = signaling_room_dup_member_ids (room);

  signaling_dbus_room_set_members (iface, (const char * const *) members);
}

static void
on_room_members_changed (SignalingRoom         *room,
                         GParamSpec            *pspec,
                         SignalingDBusExporter *self)
{
  SignalingDBusObjectSkeleton *object = g_hash_table_lookup (self->rooms, room);

  if (object != NULL)
    update_room_members (room, object);
}

static void
add_room (SignalingDBusExporter *self,
          SignalingRoom         *room)
{
  g_autofree char *path = child_path (self, "room", signaling_room_get_name (room));
  g_autoptr(SignalingDBusObjectSkeleton) object = signaling_dbus_object_skeleton_new (path);
  g_autoptr(SignalingDBusRoom) iface = signaling_dbus_room_skeleton_new ();

  signaling_dbus_room_set_name (iface, signaling_room_get_name (room));
  signaling_dbus_room_set_created_at (iface, unix_usec (signaling_room_get_created_at (room)));
  signaling_dbus_object_skeleton_set_room (object, iface);

  g_hash_table_insert (self->rooms, g_object_ref (room), g_object_ref (object));
  update_room_members (room, object);
  g_signal_connect (room, "notify::member-count", G_CALLBACK (on_room_members_changed), self);

  g_dbus_object_manager_server_export (self->manager, G_DBUS_OBJECT_SKELETON (object));
}

static void
remove_room (SignalingDBusExporter *self,
             SignalingRoom         *room)
{
  SignalingDBusObjectSkeleton *object = g_hash_table_lookup (self->rooms, room);

  if (object == NULL)
    return;

  g_signal_handlers_disconnect_by_data (room, self);
  g_dbus_object_manager_server_unexport (self->manager,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
  g_hash_table_remove (self->rooms, room);
}

static void
on_room_added (SignalingServer       *server,
               SignalingRoom         *room,
               SignalingDBusExporter *self)
{
  add_room (self, room);
  update_counts (self);
  signaling_dbus_server_emit_room_created (self->server_iface, signaling_room_get_name (room));
}

static void
on_room_removed (SignalingServer       *server,
                 SignalingRoom         *room,
                 SignalingDBusExporter *self)
{
  remove_room (self, room);
  update_counts (self);
  signaling_dbus_server_emit_room_removed (self->server_iface, signaling_room_get_name (room));
}

/* Server methods */

static gboolean
on_handle_list_clients (SignalingDBusServer   *iface,
                        GDBusMethodInvocation *invocation,
                        SignalingDBusExporter *self)
{
  g_autoptr(GPtrArray) clients = signaling_server_get_clients (self->server);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ssas)"));

  for (guint i = 0; i < clients->len; i++)
    {
      SignalingClient *client = g_ptr_array_index (clients, i);
      g_auto(GStrv) rooms = signaling_client_dup_rooms (client);

      g_variant_builder_add (&builder, "(ss^as)",
                             signaling_client_get_id (client),
                             signaling_client_get_protocol (client) ?: "",
                             rooms);
    }

  signaling_dbus_server_complete_list_clients (iface, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_list_cluster_clients (SignalingDBusServer   *iface,
                                GDBusMethodInvocation *invocation,
                                SignalingDBusExporter *self)
{
  signaling_dbus_server_complete_list_cluster_clients (iface, invocation,
                                                       signaling_server_dup_cluster_clients (self->server));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_list_rooms (SignalingDBusServer   *iface,
                      GDBusMethodInvocation *invocation,
                      SignalingDBusExporter *self)
{
  g_autoptr(GPtrArray) rooms = signaling_server_get_rooms (self->server);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sas)"));

  for (guint i = 0; i < rooms->len; i++)
    {
      SignalingRoom *room = g_ptr_array_index (rooms, i);
      g_auto(GStrv) members = signaling_room_dup_member_ids (room);

      g_variant_builder_add (&builder, "(s^as)", signaling_room_get_name (room), members);
    }

  signaling_dbus_server_complete_list_rooms (iface, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_disconnect_client (SignalingDBusServer   *iface,
                             GDBusMethodInvocation *invocation,
                             const char            *id,
                             const char            *reason,
                             SignalingDBusExporter *self)
{
  handle_control (self, invocation, disconnect_allowed, id, reason);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_reload (SignalingDBusServer   *iface,
                  GDBusMethodInvocation *invocation,
                  SignalingDBusExporter *self)
{
  handle_control (self, invocation, reload_allowed, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Life cycle */

static void
signaling_dbus_exporter_dispose (GObject *object)
{
  SignalingDBusExporter *self = SIGNALING_DBUS_EXPORTER (object);

  signaling_dbus_exporter_unexport (self);

  G_OBJECT_CLASS (signaling_dbus_exporter_parent_class)->dispose (object);
}

static void
signaling_dbus_exporter_finalize (GObject *object)
{
  SignalingDBusExporter *self = SIGNALING_DBUS_EXPORTER (object);

  g_free (self->object_path);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (signaling_dbus_exporter_parent_class)->finalize (object);
}

static void
signaling_dbus_exporter_class_init (SignalingDBusExporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_dbus_exporter_dispose;
  object_class->finalize = signaling_dbus_exporter_finalize;
}

static void
signaling_dbus_exporter_init (SignalingDBusExporter *self)
{
  self->clients = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  self->rooms = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  self->cancellable = g_cancellable_new ();
}

static void
update_cluster (SignalingDBusExporter *self)
{
  g_auto(GStrv) nodes = signaling_server_dup_cluster_nodes (self->server);
  const char *node_id = signaling_server_get_cluster_node_id (self->server);

  signaling_dbus_server_set_node_id (self->server_iface, node_id != NULL ? node_id : "");
  signaling_dbus_server_set_cluster_state (self->server_iface, signaling_server_get_cluster_state (self->server));
  signaling_dbus_server_set_cluster_nodes (self->server_iface, (const char * const *) nodes);
}

static void
on_cluster_changed (SignalingServer       *server,
                    GParamSpec            *pspec,
                    SignalingDBusExporter *self)
{
  update_cluster (self);
}

/* The ObjectManager only holds children of its path, so the Server
 * interface is exported on the root path beside it. */
static gboolean
export_root (SignalingDBusExporter  *self,
             GError                **error)
{
  g_auto(GStrv) addresses = signaling_server_dup_listen_addresses (self->server);

  self->server_iface = signaling_dbus_server_skeleton_new ();
  signaling_dbus_server_set_version (self->server_iface, SIGNALING_VERSION);
  signaling_dbus_server_set_listen_addresses (self->server_iface, (const char * const *) addresses);
  signaling_dbus_server_set_started_at (self->server_iface,
                                        unix_usec (signaling_server_get_started_at (self->server)));
  update_counts (self);
  publish_counters (self);

  g_signal_connect (self->server_iface, "handle-list-clients", G_CALLBACK (on_handle_list_clients), self);
  g_signal_connect (self->server_iface, "handle-list-rooms", G_CALLBACK (on_handle_list_rooms), self);
  g_signal_connect (self->server_iface, "handle-list-cluster-clients",
                    G_CALLBACK (on_handle_list_cluster_clients), self);
  update_cluster (self);
  g_signal_connect (self->server, "notify::cluster-state", G_CALLBACK (on_cluster_changed), self);
  g_signal_connect (self->server, "notify::cluster-nodes", G_CALLBACK (on_cluster_changed), self);
  g_signal_connect (self->server_iface, "handle-disconnect-client", G_CALLBACK (on_handle_disconnect_client), self);
  g_signal_connect (self->server_iface, "handle-reload", G_CALLBACK (on_handle_reload), self);

  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->server_iface),
                                           self->connection, self->object_path, error);
}

SignalingDBusExporter *
signaling_dbus_exporter_new (SignalingServer           *server,
                             GDBusConnection           *connection,
                             const char                *object_path,
                             SignalingDBusExportFlags   flags,
                             GError                   **error)
{
  g_autoptr(SignalingDBusExporter) self = g_object_new (SIGNALING_TYPE_DBUS_EXPORTER, NULL);
  g_autoptr(GPtrArray) clients = signaling_server_get_clients (server);
  g_autoptr(GPtrArray) rooms = signaling_server_get_rooms (server);

  register_errors ();

  self->server = server;
  self->connection = g_object_ref (connection);
  self->object_path = g_strdup (object_path);
  self->flags = flags;
  self->manager = g_dbus_object_manager_server_new (object_path);

  if (!export_root (self, error))
    return NULL;
  for (guint i = 0; i < clients->len; i++)
    add_client (self, g_ptr_array_index (clients, i));
  for (guint i = 0; i < rooms->len; i++)
    add_room (self, g_ptr_array_index (rooms, i));

  g_signal_connect (server, "client-connected", G_CALLBACK (on_client_connected), self);
  g_signal_connect (server, "client-disconnected", G_CALLBACK (on_client_disconnected), self);
  g_signal_connect (server, "room-added", G_CALLBACK (on_room_added), self);
  g_signal_connect (server, "room-removed", G_CALLBACK (on_room_removed), self);
  signaling_server_set_activity_func (server, on_activity, self);

  g_dbus_object_manager_server_set_connection (self->manager, connection);
  return g_steal_pointer (&self);
}

void
signaling_dbus_exporter_unexport (SignalingDBusExporter *self)
{
  if (self->manager == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->server, self);
  signaling_server_set_activity_func (self->server, NULL, NULL);
  /* Checks in flight answer their callers with an error. */
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->counters_source, g_source_remove);

  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, self->clients);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_signal_handlers_disconnect_by_data (key, self);
    g_hash_table_iter_init (&iter, self->rooms);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_signal_handlers_disconnect_by_data (key, self);
  }

  g_dbus_object_manager_server_set_connection (self->manager, NULL);
  if (self->server_iface != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->server_iface));
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->rooms, g_hash_table_unref);
  g_clear_object (&self->server_iface);
  g_clear_object (&self->manager);
  g_clear_object (&self->connection);
}

/**
 * signaling_server_export_dbus:
 * @self: a server
 * @connection: a D-Bus connection
 * @object_path: (nullable): where to export, `/org/signalbox/Signalbox1`
 *   if %NULL
 * @error: return location for a #GError
 *
 * Publishes the server on @connection as the `org.signalbox.Signalbox1`
 * control interface (see `data/org.signalbox.Signalbox1.xml`): the
 * Server interface and an ObjectManager with one object per client and
 * per room. Owning a bus name is left to the caller. Every caller may
 * call every method: see [method@Signaling.Server.export_dbus_full] for
 * the system bus.
 *
 * Returns: %TRUE on success
 */
gboolean
signaling_server_export_dbus (SignalingServer  *self,
                              GDBusConnection  *connection,
                              const char       *object_path,
                              GError          **error)
{
  return signaling_server_export_dbus_full (self, connection, object_path,
                                            SIGNALING_DBUS_EXPORT_FLAGS_NONE, error);
}

/**
 * signaling_server_export_dbus_full:
 * @self: a server
 * @connection: a D-Bus connection
 * @object_path: (nullable): where to export, `/org/signalbox/Signalbox1`
 *   if %NULL
 * @flags: who may call what
 * @error: return location for a #GError
 *
 * Like [method@Signaling.Server.export_dbus]. With
 * %SIGNALING_DBUS_EXPORT_FLAGS_AUTHORIZE, for the system bus, a caller
 * that is not root may disconnect peers or reload the service only when
 * polkit allows it the `org.signalbox.Signalbox1.disconnect` action (never, when the library
 * was built without polkit); others get
 * `org.freedesktop.DBus.Error.AccessDenied`.
 *
 * Returns: %TRUE on success
 */
gboolean
signaling_server_export_dbus_full (SignalingServer           *self,
                                   GDBusConnection           *connection,
                                   const char                *object_path,
                                   SignalingDBusExportFlags   flags,
                                   GError                   **error)
{
  SignalingDBusExporter *exporter;

  g_return_val_if_fail (SIGNALING_IS_SERVER (self), FALSE);
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), FALSE);

  if (object_path == NULL)
    object_path = SIGNALING_DBUS_OBJECT_PATH;

  if (!g_variant_is_object_path (object_path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a D-Bus object path"), object_path);
      return FALSE;
    }

  if (g_object_get_data (G_OBJECT (self), EXPORTER_KEY) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           _("The server is already exported on D-Bus"));
      return FALSE;
    }

  exporter = signaling_dbus_exporter_new (self, connection, object_path, flags, error);
  if (exporter == NULL)
    return FALSE;

  g_object_set_data_full (G_OBJECT (self), EXPORTER_KEY, exporter, g_object_unref);
  return TRUE;
}

/**
 * signaling_server_unexport_dbus:
 * @self: a server
 *
 * Removes what [method@Signaling.Server.export_dbus] published.
 */
void
signaling_server_unexport_dbus (SignalingServer *self)
{
  g_return_if_fail (SIGNALING_IS_SERVER (self));

  g_object_set_data (G_OBJECT (self), EXPORTER_KEY, NULL);
}
