/* signaling-room.c: a named group of clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include "signaling-client.h"
#include "signaling-room-private.h"

/**
 * SignalingRoom:
 *
 * A named group of clients. A room exists while it has members: the
 * first join creates it and the last leave removes it.
 *
 * Members are kept in the order they joined, so member lists read the
 * same on every call.
 */
struct _SignalingRoom
{
  GObject parent_instance;

  char *name;
  GDateTime *created_at;
  GPtrArray *members;
};

G_DEFINE_FINAL_TYPE (SignalingRoom, signaling_room, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_CREATED_AT,
  PROP_MEMBER_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
signaling_room_finalize (GObject *object)
{
  SignalingRoom *self = SIGNALING_ROOM (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_clear_pointer (&self->members, g_ptr_array_unref);

  G_OBJECT_CLASS (signaling_room_parent_class)->finalize (object);
}

static void
signaling_room_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SignalingRoom *self = SIGNALING_ROOM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_CREATED_AT:
      g_value_set_boxed (value, self->created_at);
      break;
    case PROP_MEMBER_COUNT:
      g_value_set_uint (value, self->members->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_room_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SignalingRoom *self = SIGNALING_ROOM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signaling_room_class_init (SignalingRoomClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = signaling_room_finalize;
  object_class->get_property = signaling_room_get_property;
  object_class->set_property = signaling_room_set_property;

  /**
   * SignalingRoom:name:
   *
   * The room's name, as clients give it when they join.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingRoom:created-at:
   *
   * When the first member joined.
   */
  properties[PROP_CREATED_AT] =
    g_param_spec_boxed ("created-at", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SignalingRoom:member-count:
   *
   * How many clients are in the room.
   */
  properties[PROP_MEMBER_COUNT] =
    g_param_spec_uint ("member-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
signaling_room_init (SignalingRoom *self)
{
  self->created_at = g_date_time_new_now_utc ();
  self->members = g_ptr_array_new_with_free_func (g_object_unref);
}

SignalingRoom *
signaling_room_new (const char *name)
{
  return g_object_new (SIGNALING_TYPE_ROOM, "name", name, NULL);
}

/**
 * signaling_room_get_name:
 * @self: a room
 *
 * Gets the room's name.
 *
 * Returns: the room's name
 */
const char *
signaling_room_get_name (SignalingRoom *self)
{
  g_return_val_if_fail (SIGNALING_IS_ROOM (self), NULL);
  return self->name;
}

/**
 * signaling_room_get_created_at:
 * @self: a room
 *
 * Gets when the room was created.
 *
 * Returns: (transfer none): when the room was created
 */
GDateTime *
signaling_room_get_created_at (SignalingRoom *self)
{
  g_return_val_if_fail (SIGNALING_IS_ROOM (self), NULL);
  return self->created_at;
}

/**
 * signaling_room_get_member_count:
 * @self: a room
 *
 * Counts the members of the room.
 *
 * Returns: how many clients are in the room
 */
guint
signaling_room_get_member_count (SignalingRoom *self)
{
  g_return_val_if_fail (SIGNALING_IS_ROOM (self), 0);
  return self->members->len;
}

/**
 * signaling_room_get_members:
 * @self: a room
 *
 * Gets the members, in the order they joined.
 *
 * Returns: (transfer none) (element-type SignalingClient): the members,
 *   in the order they joined
 */
GPtrArray *
signaling_room_get_members (SignalingRoom *self)
{
  g_return_val_if_fail (SIGNALING_IS_ROOM (self), NULL);
  return self->members;
}

/**
 * signaling_room_dup_member_ids:
 * @self: a room
 *
 * Gets the ids of the members, in the order they joined.
 *
 * Returns: (transfer full): the ids of the members, in the order they joined
 */
char **
signaling_room_dup_member_ids (SignalingRoom *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (SIGNALING_IS_ROOM (self), NULL);

  for (guint i = 0; i < self->members->len; i++)
    g_strv_builder_add (builder, signaling_client_get_id (g_ptr_array_index (self->members, i)));

  return g_strv_builder_end (builder);
}

/**
 * signaling_room_has_member:
 * @self: a room
 * @client: a client
 *
 * Checks whether @client is a member of the room.
 *
 * Returns: whether @client is in the room
 */
gboolean
signaling_room_has_member (SignalingRoom   *self,
                           SignalingClient *client)
{
  g_return_val_if_fail (SIGNALING_IS_ROOM (self), FALSE);
  return g_ptr_array_find (self->members, client, NULL);
}

void
signaling_room_add_member (SignalingRoom   *self,
                           SignalingClient *client)
{
  if (signaling_room_has_member (self, client))
    return;

  g_ptr_array_add (self->members, g_object_ref (client));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMBER_COUNT]);
}

gboolean
signaling_room_remove_member (SignalingRoom   *self,
                              SignalingClient *client)
{
  if (!g_ptr_array_remove (self->members, client))
    return FALSE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMBER_COUNT]);
  return TRUE;
}
