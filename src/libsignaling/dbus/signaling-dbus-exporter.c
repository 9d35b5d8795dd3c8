/* signaling-dbus-exporter.c: the D-Bus control interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-dbus"

#include "config.h"

#include <string.h>

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
 * the Server interface and an ObjectManager on the root object, and
 * one object per client and per room below it.
 *
 * The clients' and rooms' objects are not kept: they are answered from
 * the server's own state when asked for (one subtree each), and so is
 * the ObjectManager, as GDBusObjectManagerServer only knows objects it
 * holds. An exported GDBusObjectSkeleton per client cost 4.5 kB per
 * peer (75 MB for 10 000 idle Socket.IO peers; 39.3 MiB without).
 * What changes is still told as it happens: InterfacesAdded and
 * InterfacesRemoved as clients and rooms come and go, PropertiesChanged
 * for their rooms, members and transport (a client's changes through
 * the router's one observer, not a notify handler per client).
 *
 * It only reads server state. Counters, which change with every
 * message, are published at most every SIGNALING_DBUS_COUNTER_INTERVAL_MS,
 * and only after the server reported activity, so an idle service does
 * not wake up.
 */

typedef enum
{
  CHILD_CLIENT,
  CHILD_ROOM,
  N_CHILD_KINDS
} ChildKind;

/* Where each kind of child lives below the root, and what it is. */
static const struct
{
  const char *segment;
  GDBusInterfaceInfo *(*interface_info) (void);
} child_kinds[N_CHILD_KINDS] = {
  [CHILD_CLIENT] = { "client", signaling_dbus_client_interface_info },
  [CHILD_ROOM] = { "room", signaling_dbus_room_interface_info },
};

/* A kind's subtree: what its callbacks are given. */
typedef struct
{
  SignalingDBusExporter *self;
  ChildKind kind;
  guint registration;  /* 0 when not registered */
} Subtree;

/* A client's counters as last published. */
typedef struct
{
  guint64 messages_in;
  guint64 messages_out;
  guint64 bytes_in;
  guint64 bytes_out;
} ClientCounters;

struct _SignalingDBusExporter
{
  GObject parent_instance;

  SignalingServer *server;  /* unowned: the server owns us */
  GDBusConnection *connection;
  char *object_path;
  SignalingDBusServer *server_iface;
  guint manager_id;  /* the ObjectManager's registration; 0 once unexported */
  Subtree subtrees[N_CHILD_KINDS];
  /* SignalingClient * (unowned, while connected) → ClientCounters *:
   * only clients whose counters were ever other than zero. */
  GHashTable *published;
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

/* Children: clients and rooms, as D-Bus objects */

static const char *
child_name (ChildKind  kind,
            GObject   *child)
{
  return kind == CHILD_CLIENT ? signaling_client_get_id (SIGNALING_CLIENT (child))
                              : signaling_room_get_name (SIGNALING_ROOM (child));
}

static char *
child_path (SignalingDBusExporter *self,
            ChildKind              kind,
            GObject               *child)
{
  g_autofree char *escaped = g_dbus_escape_object_path (child_name (kind, child));

  return g_strdup_printf ("%s/%s/%s", self->object_path, child_kinds[kind].segment, escaped);
}

/* The client or room a path element below the kind's subtree names. */
static GObject *
lookup_child (SignalingDBusExporter *self,
              ChildKind              kind,
              const char            *node)
{
  g_autofree char *name = NULL;

  if (node == NULL)
    return NULL;
  name = (char *) g_dbus_unescape_object_path (node);
  if (name == NULL)
    return NULL;
  return kind == CHILD_CLIENT ? G_OBJECT (signaling_server_lookup_client (self->server, name))
                              : G_OBJECT (signaling_server_lookup_room (self->server, name));
}

/* Returns: (transfer container): the server's clients or rooms */
static GPtrArray *
list_children (SignalingDBusExporter *self,
               ChildKind              kind)
{
  return kind == CHILD_CLIENT ? signaling_server_get_clients (self->server)
                              : signaling_server_get_rooms (self->server);
}

static GVariant *
client_property (SignalingClient *client,
                 const char      *name)
{
  if (g_str_equal (name, "Id"))
    return g_variant_new_string (signaling_client_get_id (client));
  if (g_str_equal (name, "RemoteAddress"))
    return g_variant_new_string (signaling_client_get_remote_address (client) ?: "");
  if (g_str_equal (name, "Protocol"))
    return g_variant_new_string (signaling_client_get_protocol (client) ?: "");
  if (g_str_equal (name, "Transport"))
    return g_variant_new_string (signaling_client_get_transport (client) ?: "");
  if (g_str_equal (name, "ConnectedAt"))
    return g_variant_new_uint64 (signaling_client_get_connected_at_us (client));
  if (g_str_equal (name, "Rooms"))
    {
      g_auto(GStrv) rooms = signaling_client_dup_rooms (client);

      return g_variant_new_strv ((const char * const *) rooms, -1);
    }
  if (g_str_equal (name, "MessagesIn"))
    return g_variant_new_uint64 (signaling_client_get_messages_in (client));
  if (g_str_equal (name, "MessagesOut"))
    return g_variant_new_uint64 (signaling_client_get_messages_out (client));
  if (g_str_equal (name, "BytesIn"))
    return g_variant_new_uint64 (signaling_client_get_bytes_in (client));
  if (g_str_equal (name, "BytesOut"))
    return g_variant_new_uint64 (signaling_client_get_bytes_out (client));
  return NULL;
}

static GVariant *
room_property (SignalingRoom *room,
               const char    *name)
{
  if (g_str_equal (name, "Name"))
    return g_variant_new_string (signaling_room_get_name (room));
  if (g_str_equal (name, "Members"))
    {
      g_auto(GStrv) members = signaling_room_dup_member_ids (room);

      return g_variant_new_strv ((const char * const *) members, -1);
    }
  if (g_str_equal (name, "CreatedAt"))
    return g_variant_new_uint64 (unix_usec (signaling_room_get_created_at (room)));
  return NULL;
}

/* Returns: (transfer floating) (nullable): %NULL for no such property */
static GVariant *
child_property (ChildKind   kind,
                GObject    *child,
                const char *name)
{
  return kind == CHILD_CLIENT ? client_property (SIGNALING_CLIENT (child), name)
                              : room_property (SIGNALING_ROOM (child), name);
}

/* An a{sv} of @names, or of every property of the kind's interface. */
static GVariant *
child_properties (ChildKind           kind,
                  GObject            *child,
                  const char * const *names)
{
  GDBusPropertyInfo **properties = child_kinds[kind].interface_info ()->properties;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (names != NULL)
    for (gsize i = 0; names[i] != NULL; i++)
      g_variant_builder_add (&builder, "{sv}", names[i], child_property (kind, child, names[i]));
  else
    for (gsize i = 0; properties[i] != NULL; i++)
      g_variant_builder_add (&builder, "{sv}", properties[i]->name,
                             child_property (kind, child, properties[i]->name));

  return g_variant_builder_end (&builder);
}

/* The child's entry in GetManagedObjects and InterfacesAdded. */
static GVariant *
child_interfaces (ChildKind  kind,
                  GObject   *child)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sa{sv}}"));

  g_variant_builder_add (&builder, "{s@a{sv}}", child_kinds[kind].interface_info ()->name,
                         child_properties (kind, child, NULL));
  return g_variant_builder_end (&builder);
}

static void
emit_child_added (SignalingDBusExporter *self,
                  ChildKind              kind,
                  GObject               *child)
{
  g_autofree char *path = child_path (self, kind, child);

  g_dbus_connection_emit_signal (self->connection, NULL, self->object_path,
                                 "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                 g_variant_new ("(o@a{sa{sv}})", path, child_interfaces (kind, child)),
                                 NULL);
}

static void
emit_child_removed (SignalingDBusExporter *self,
                    ChildKind              kind,
                    GObject               *child)
{
  g_autofree char *path = child_path (self, kind, child);
  const char *interfaces[] = { child_kinds[kind].interface_info ()->name, NULL };

  g_dbus_connection_emit_signal (self->connection, NULL, self->object_path,
                                 "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                                 g_variant_new ("(o^as)", path, interfaces),
                                 NULL);
}

static void
emit_child_changed (SignalingDBusExporter *self,
                    ChildKind              kind,
                    GObject               *child,
                    const char * const    *names)
{
  g_autofree char *path = child_path (self, kind, child);

  g_dbus_connection_emit_signal (self->connection, NULL, path,
                                 "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                 g_variant_new ("(s@a{sv}@as)", child_kinds[kind].interface_info ()->name,
                                                child_properties (kind, child, names),
                                                g_variant_new_strv (NULL, 0)),
                                 NULL);
}

/* Counters */

/* Remembers the client's counters as published (told by
 * InterfacesAdded, GetManagedObjects or PropertiesChanged); whether
 * they differ from what was. */
static gboolean
remember_published (SignalingDBusExporter *self,
                    SignalingClient       *client)
{
  static const ClientCounters zero = { 0 };
  ClientCounters *last = g_hash_table_lookup (self->published, client);
  ClientCounters now = {
    .messages_in = signaling_client_get_messages_in (client),
    .messages_out = signaling_client_get_messages_out (client),
    .bytes_in = signaling_client_get_bytes_in (client),
    .bytes_out = signaling_client_get_bytes_out (client),
  };

  if (memcmp (last != NULL ? last : &zero, &now, sizeof now) == 0)
    return FALSE;
  if (last == NULL)
    {
      last = g_new (ClientCounters, 1);
      g_hash_table_insert (self->published, client, last);
    }
  *last = now;
  return TRUE;
}

static void
publish_client_counters (SignalingDBusExporter *self,
                         SignalingClient       *client)
{
  static const char * const names[] = { "MessagesIn", "MessagesOut", "BytesIn", "BytesOut", NULL };

  if (remember_published (self, client))
    emit_child_changed (self, CHILD_CLIENT, G_OBJECT (client), names);
}

static gboolean
publish_counters (gpointer user_data)
{
  SignalingDBusExporter *self = user_data;
  g_autoptr(GPtrArray) clients = signaling_server_get_clients (self->server);

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

  for (guint i = 0; i < clients->len; i++)
    publish_client_counters (self, g_ptr_array_index (clients, i));

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
on_client_changed (SignalingClient       *client,
                   SignalingClientChange  change,
                   gpointer               user_data)
{
  SignalingDBusExporter *self = user_data;
  static const char * const rooms[] = { "Rooms", NULL };
  static const char * const transport[] = { "Transport", NULL };

  /* Only a connected client has an object to change. */
  if (signaling_server_lookup_client (self->server, signaling_client_get_id (client)) != client)
    return;
  emit_child_changed (self, CHILD_CLIENT, G_OBJECT (client),
                      change == SIGNALING_CLIENT_CHANGE_ROOMS ? rooms : transport);
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
  if (call->self->connection == NULL)
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
  remember_published (self, client);
  emit_child_added (self, CHILD_CLIENT, G_OBJECT (client));
  update_counts (self);
  signaling_dbus_server_emit_client_connected (self->server_iface, signaling_client_get_id (client));
}

static void
on_client_disconnected (SignalingServer       *server,
                        SignalingClient       *client,
                        const char            *reason,
                        SignalingDBusExporter *self)
{
  g_hash_table_remove (self->published, client);
  emit_child_removed (self, CHILD_CLIENT, G_OBJECT (client));
  update_counts (self);
  signaling_dbus_server_emit_client_disconnected (self->server_iface,
                                                  signaling_client_get_id (client),
                                                  reason != NULL ? reason : "");
}

/* Rooms */

static void
on_room_members_changed (SignalingRoom         *room,
                         GParamSpec            *pspec,
                         SignalingDBusExporter *self)
{
  static const char * const names[] = { "Members", NULL };

  emit_child_changed (self, CHILD_ROOM, G_OBJECT (room), names);
}

static void
watch_room (SignalingDBusExporter *self,
            SignalingRoom         *room)
{
  g_signal_connect (room, "notify::member-count", G_CALLBACK (on_room_members_changed), self);
}

static void
on_room_added (SignalingServer       *server,
               SignalingRoom         *room,
               SignalingDBusExporter *self)
{
  watch_room (self, room);
  emit_child_added (self, CHILD_ROOM, G_OBJECT (room));
  update_counts (self);
  signaling_dbus_server_emit_room_created (self->server_iface, signaling_room_get_name (room));
}

static void
on_room_removed (SignalingServer       *server,
                 SignalingRoom         *room,
                 SignalingDBusExporter *self)
{
  g_signal_handlers_disconnect_by_data (room, self);
  emit_child_removed (self, CHILD_ROOM, G_OBJECT (room));
  update_counts (self);
  signaling_dbus_server_emit_room_removed (self->server_iface, signaling_room_get_name (room));
}

/* The children's objects, answered from the server's state */

static void
child_method_call (GDBusConnection       *connection,
                   const char            *sender,
                   const char            *object_path,
                   const char            *interface_name,
                   const char            *method_name,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation,
                   gpointer               user_data)
{
  Subtree *subtree = user_data;
  GObject *client = lookup_child (subtree->self, subtree->kind, strrchr (object_path, '/') + 1);
  const char *reason;

  /* Client.Disconnect(reason), the children's only method: GDBus
   * answers any other from the introspection data. */
  if (client == NULL || subtree->kind != CHILD_CLIENT)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             _("No method %s on %s"), method_name, object_path);
      return;
    }
  g_variant_get (parameters, "(&s)", &reason);
  handle_control (subtree->self, invocation, disconnect_allowed,
                  signaling_client_get_id (SIGNALING_CLIENT (client)), reason);
}

static GVariant *
child_get_property (GDBusConnection  *connection,
                    const char       *sender,
                    const char       *object_path,
                    const char       *interface_name,
                    const char       *property_name,
                    GError          **error,
                    gpointer          user_data)
{
  Subtree *subtree = user_data;
  GObject *child = lookup_child (subtree->self, subtree->kind, strrchr (object_path, '/') + 1);
  GVariant *value = child != NULL ? child_property (subtree->kind, child, property_name) : NULL;

  if (value == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
                 _("No property %s on %s"), property_name, object_path);
  return value;
}

static const GDBusInterfaceVTable child_vtable = {
  .method_call = child_method_call,
  .get_property = child_get_property,
};

/* Introspection of the subtree's root lists every child. */
static char **
subtree_enumerate (GDBusConnection *connection,
                   const char      *sender,
                   const char      *object_path,
                   gpointer         user_data)
{
  Subtree *subtree = user_data;
  g_autoptr(GPtrArray) children = list_children (subtree->self, subtree->kind);
  GPtrArray *nodes = g_ptr_array_new_full (children->len + 1, NULL);

  for (guint i = 0; i < children->len; i++)
    g_ptr_array_add (nodes, g_dbus_escape_object_path (child_name (subtree->kind, g_ptr_array_index (children, i))));
  g_ptr_array_add (nodes, NULL);
  return (char **) g_ptr_array_free (nodes, FALSE);
}

static GDBusInterfaceInfo **
subtree_introspect (GDBusConnection *connection,
                    const char      *sender,
                    const char      *object_path,
                    const char      *node,
                    gpointer         user_data)
{
  Subtree *subtree = user_data;
  GDBusInterfaceInfo **interfaces;

  if (lookup_child (subtree->self, subtree->kind, node) == NULL)
    return NULL;
  interfaces = g_new0 (GDBusInterfaceInfo *, 2);
  interfaces[0] = g_dbus_interface_info_ref (child_kinds[subtree->kind].interface_info ());
  return interfaces;
}

static const GDBusInterfaceVTable *
subtree_dispatch (GDBusConnection *connection,
                  const char      *sender,
                  const char      *object_path,
                  const char      *interface_name,
                  const char      *node,
                  gpointer        *out_user_data,
                  gpointer         user_data)
{
  Subtree *subtree = user_data;

  if (lookup_child (subtree->self, subtree->kind, node) == NULL ||
      g_strcmp0 (interface_name, child_kinds[subtree->kind].interface_info ()->name) != 0)
    return NULL;
  *out_user_data = subtree;
  return &child_vtable;
}

static const GDBusSubtreeVTable subtree_vtable = {
  .enumerate = subtree_enumerate,
  .introspect = subtree_introspect,
  .dispatch = subtree_dispatch,
};

/* The ObjectManager */

static const char object_manager_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.DBus.ObjectManager'>"
  "    <method name='GetManagedObjects'>"
  "      <arg type='a{oa{sa{sv}}}' name='object_paths_interfaces_and_properties' direction='out'/>"
  "    </method>"
  "    <signal name='InterfacesAdded'>"
  "      <arg type='o' name='object_path'/>"
  "      <arg type='a{sa{sv}}' name='interfaces_and_properties'/>"
  "    </signal>"
  "    <signal name='InterfacesRemoved'>"
  "      <arg type='o' name='object_path'/>"
  "      <arg type='as' name='interfaces'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

static GDBusInterfaceInfo *
object_manager_interface_info (void)
{
  static GDBusNodeInfo *node;

  if (g_once_init_enter (&node))
    g_once_init_leave (&node, g_dbus_node_info_new_for_xml (object_manager_xml, NULL));
  return node->interfaces[0];
}

static void
add_managed_children (SignalingDBusExporter *self,
                      ChildKind              kind,
                      GVariantBuilder       *builder)
{
  g_autoptr(GPtrArray) children = list_children (self, kind);

  for (guint i = 0; i < children->len; i++)
    {
      GObject *child = g_ptr_array_index (children, i);
      g_autofree char *path = child_path (self, kind, child);

      g_variant_builder_add (builder, "{o@a{sa{sv}}}", path, child_interfaces (kind, child));
    }
}

static void
object_manager_method_call (GDBusConnection       *connection,
                            const char            *sender,
                            const char            *object_path,
                            const char            *interface_name,
                            const char            *method_name,
                            GVariant              *parameters,
                            GDBusMethodInvocation *invocation,
                            gpointer               user_data)
{
  SignalingDBusExporter *self = user_data;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{oa{sa{sv}}}"));

  /* GetManagedObjects, its only method (GDBus checks the name). */
  for (ChildKind kind = 0; kind < N_CHILD_KINDS; kind++)
    add_managed_children (self, kind, &builder);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{oa{sa{sv}}})",
                                                                    g_variant_builder_end (&builder)));
}

static const GDBusInterfaceVTable object_manager_vtable = {
  .method_call = object_manager_method_call,
};

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
  self->published = g_hash_table_new_full (NULL, NULL, NULL, g_free);
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

/* The Server interface and the ObjectManager, on the root path. */
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

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->server_iface),
                                         self->connection, self->object_path, error))
    return FALSE;

  self->manager_id = g_dbus_connection_register_object (self->connection, self->object_path,
                                                        object_manager_interface_info (),
                                                        &object_manager_vtable, self, NULL, error);
  return self->manager_id != 0;
}

static gboolean
export_children (SignalingDBusExporter  *self,
                 GError                **error)
{
  for (ChildKind kind = 0; kind < N_CHILD_KINDS; kind++)
    {
      Subtree *subtree = &self->subtrees[kind];
      g_autofree char *path = g_strdup_printf ("%s/%s", self->object_path, child_kinds[kind].segment);

      subtree->self = self;
      subtree->kind = kind;
      /* Dispatched without enumerating: a lookup, not a list of all. */
      subtree->registration = g_dbus_connection_register_subtree (self->connection, path, &subtree_vtable,
                                                                  G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES,
                                                                  subtree, NULL, error);
      if (subtree->registration == 0)
        return FALSE;
    }
  return TRUE;
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

  if (!export_root (self, error) || !export_children (self, error))
    return NULL;
  for (guint i = 0; i < clients->len; i++)
    remember_published (self, g_ptr_array_index (clients, i));
  for (guint i = 0; i < rooms->len; i++)
    watch_room (self, g_ptr_array_index (rooms, i));

  g_signal_connect (server, "client-connected", G_CALLBACK (on_client_connected), self);
  g_signal_connect (server, "client-disconnected", G_CALLBACK (on_client_disconnected), self);
  g_signal_connect (server, "room-added", G_CALLBACK (on_room_added), self);
  g_signal_connect (server, "room-removed", G_CALLBACK (on_room_removed), self);
  signaling_server_set_activity_func (server, on_activity, self);
  signaling_server_set_client_changed_func (server, on_client_changed, self);

  return g_steal_pointer (&self);
}

void
signaling_dbus_exporter_unexport (SignalingDBusExporter *self)
{
  if (self->connection == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->server, self);
  signaling_server_set_activity_func (self->server, NULL, NULL);
  signaling_server_set_client_changed_func (self->server, NULL, NULL);
  /* Checks in flight answer their callers with an error. */
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->counters_source, g_source_remove);

  {
    g_autoptr(GPtrArray) rooms = signaling_server_get_rooms (self->server);

    for (guint i = 0; i < rooms->len; i++)
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (rooms, i), self);
  }

  for (ChildKind kind = 0; kind < N_CHILD_KINDS; kind++)
    if (self->subtrees[kind].registration != 0)
      g_dbus_connection_unregister_subtree (self->connection, self->subtrees[kind].registration);
  if (self->manager_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->manager_id);
  if (self->server_iface != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->server_iface));
  g_clear_pointer (&self->published, g_hash_table_unref);
  g_clear_object (&self->server_iface);
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
