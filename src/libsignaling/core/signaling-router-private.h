/* signaling-router-private.h: who receives what
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include "signaling-types.h"
#include "signaling-connection-private.h"
#include "signaling-error.h"
#include "signaling-message.h"
#include "signaling-remote-private.h"
#include "signaling-timer-queue-private.h"
#include "signaling-turn-credentials-private.h"

G_BEGIN_DECLS

/* The close code of a connection whose token's `sub` connected again. */
#define SIGNALING_CLOSE_REPLACED 4001

/*
 * The router is the relay: the clients, the rooms, the limits, the
 * counters and the idle deadlines. Dialects (signaling-native-connection.c,
 * signaling-socketio-connection.c) talk to it and to nothing above it:
 * they implement SignalingConnection (signaling-connection-private.h)
 * for their peers, wrap each in a SignalingClient and hand the router
 * SignalingMessages. SignalingServer creates the router, writes the
 * limits from its properties and forwards the router's signals.
 */

/* The limits a dialect and the router enforce, read on the hot path
 * without GObject property machinery. SignalingServer writes them from
 * its properties of the same names. */
typedef struct
{
  guint max_clients;
  guint max_message_size;
  guint max_rooms_per_client;
  guint max_room_members;
  double rate_limit;
  guint rate_burst;
  guint keepalive_interval;
  guint max_send_queue;
} SignalingLimits;

/* The sizes of the router's counters by kind and by reason. */
#define SIGNALING_N_MESSAGE_KINDS (SIGNALING_MESSAGE_KIND_PING + 1)
#define SIGNALING_N_ERRORS        (SIGNALING_ERROR_RESUME_FAILED + 1)

/* What a dialect does with a message, before parsing it. */
typedef enum
{
  SIGNALING_ADMISSION_ACCEPT,  /* go on */
  SIGNALING_ADMISSION_REFUSE,  /* drop it and tell the peer the error */
  SIGNALING_ADMISSION_DROP,    /* drop it without a word (counted already) */
} SignalingAdmission;

#define SIGNALING_TYPE_ROUTER (signaling_router_get_type ())

G_DECLARE_FINAL_TYPE (SignalingRouter, signaling_router, SIGNALING, ROUTER, GObject)

SignalingRouter *signaling_router_new            (void);
SignalingLimits *signaling_router_get_limits     (SignalingRouter  *self);
const char * const *signaling_router_get_ice_servers (SignalingRouter *self);
void             signaling_router_set_ice_servers (SignalingRouter   *self,
                                                   const char * const *ice_servers);
void             signaling_router_set_turn_credentials (SignalingRouter          *self,
                                                        SignalingTurnCredentials *turn);
JsonNode        *signaling_router_build_ice_servers (SignalingRouter *self,
                                                     const char      *id);
SignalingTimerQueue *signaling_router_get_idle_deadlines (SignalingRouter *self);
guint64          signaling_router_get_messages_relayed  (SignalingRouter *self);
guint64          signaling_router_get_bytes_relayed     (SignalingRouter *self);
guint64          signaling_router_get_messages_rejected (SignalingRouter *self);
guint64          signaling_router_get_relayed_of_kind (SignalingRouter      *self,
                                                       SignalingMessageKind  kind);
guint64          signaling_router_get_rejected_for (SignalingRouter *self,
                                                    SignalingError   reason);
GHashTable      *signaling_router_get_connections (SignalingRouter *self);
void             signaling_router_count_rejected  (SignalingRouter  *self,
                                                   SignalingError    reason);
void             signaling_router_count_error     (SignalingRouter  *self,
                                                   const GError     *error);
void             signaling_router_set_activity_func (SignalingRouter *self,
                                                     GSourceFunc      func,
                                                     gpointer         data);

typedef enum
{
  SIGNALING_CLIENT_CHANGE_ROOMS,
  SIGNALING_CLIENT_CHANGE_TRANSPORT,
} SignalingClientChange;

/* Told of every connected client's changes, as one observer for all:
 * a notify handler per client would cost each peer some 200 bytes. */
typedef void (*SignalingClientChangedFunc) (SignalingClient       *client,
                                            SignalingClientChange  change,
                                            gpointer               data);

void             signaling_router_set_client_changed_func (SignalingRouter            *self,
                                                           SignalingClientChangedFunc  func,
                                                           gpointer                    data);
void             signaling_router_notify_transport (SignalingRouter *self,
                                                    SignalingClient *client);
/* Returns whether it freed a place in the router. */
typedef gboolean (*SignalingRouterReclaimFunc) (gpointer data);

void             signaling_router_set_reclaim_func (SignalingRouter            *self,
                                                    SignalingRouterReclaimFunc  func,
                                                    gpointer                    data);
gboolean         signaling_router_check_capacity (SignalingRouter  *self,
                                                  GError          **error);
SignalingClient *signaling_router_attach         (SignalingRouter      *self,
                                                  SignalingConnection  *connection,
                                                  const char           *id,
                                                  const char           *remote_address,
                                                  GError              **error);
void             signaling_router_detach         (SignalingRouter  *self,
                                                  SignalingClient **client,
                                                  const char       *reason);
gboolean         signaling_router_add_client     (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  GError          **error);
void             signaling_router_remove_client  (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  const char       *reason);
SignalingClient *signaling_router_lookup_client  (SignalingRouter  *self,
                                                  const char       *id);
SignalingRoom   *signaling_router_lookup_room    (SignalingRouter  *self,
                                                  const char       *name);
GHashTable      *signaling_router_get_clients    (SignalingRouter  *self);
GHashTable      *signaling_router_get_rooms      (SignalingRouter  *self);
SignalingAdmission signaling_router_admit        (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  gsize             size,
                                                  GError          **error);
SignalingRoom   *signaling_router_join           (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  const char       *room,
                                                  GError          **error);
gboolean         signaling_router_leave          (SignalingRouter  *self,
                                                  SignalingClient  *client,
                                                  const char       *room,
                                                  GError          **error);
gboolean         signaling_router_route          (SignalingRouter  *self,
                                                  SignalingClient  *sender,
                                                  SignalingMessage *message,
                                                  GError          **error);

void             signaling_router_set_remote     (SignalingRouter  *self,
                                                  SignalingRemote  *remote);
SignalingRemote *signaling_router_get_remote     (SignalingRouter  *self);
void             signaling_router_hand_over      (SignalingRouter  *self,
                                                  SignalingClient **client);
SignalingClient *signaling_router_take_over      (SignalingRouter      *self,
                                                  SignalingConnection  *connection,
                                                  const char           *id,
                                                  const char           *remote_address,
                                                  JsonArray            *rooms,
                                                  GError              **error);
void             signaling_router_deliver_remote (SignalingRouter  *self,
                                                  SignalingMessage *message,
                                                  gboolean          to_room);
void             signaling_router_notify_remote_member (SignalingRouter      *self,
                                                        const char           *room_name,
                                                        const char           *id,
                                                        SignalingMessageKind  kind);
GPtrArray       *signaling_router_dup_room_members (SignalingRouter *self,
                                                    const char      *room_name,
                                                    SignalingClient *client);

G_END_DECLS
