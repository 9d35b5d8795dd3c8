/* signaling-websocket-private.h: the server side of a WebSocket, after libsoup's handshake
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum
{
  SIGNALING_WEBSOCKET_OPEN,
  SIGNALING_WEBSOCKET_CLOSING,  /* our close frame is queued or sent */
  SIGNALING_WEBSOCKET_CLOSED,
} SignalingWebsocketState;

#define SIGNALING_TYPE_WEBSOCKET (signaling_websocket_get_type ())

G_DECLARE_FINAL_TYPE (SignalingWebsocket, signaling_websocket, SIGNALING, WEBSOCKET, GObject)

/*
 * SignalingWebsocketHandlers:
 * @message: a message; @data is valid during the call only, and
 *   NUL-terminated
 * @closed: (nullable): the connection is over, by a close handshake or
 *   not (the close code and reason say which); called once, from the
 *   main loop
 * @pong: (nullable): the peer answered a ping
 * @too_large: (nullable): a frame header announced a message over the
 *   limit, @size bytes at least; nothing more is read, and unless the
 *   handler closes the connection it is closed with 1009
 *
 * What the owner of a WebSocket is told. Plain functions, not signals:
 * a signal connection costs some 200 bytes per handler and peer, and
 * an emission per message.
 */
typedef struct
{
  void (*message)   (SignalingWebsocket *websocket,
                     gboolean            is_text,
                     const char         *data,
                     gsize               length,
                     gpointer            user_data);
  void (*closed)    (SignalingWebsocket *websocket,
                     gpointer            user_data);
  void (*pong)      (SignalingWebsocket *websocket,
                     gpointer            user_data);
  void (*too_large) (SignalingWebsocket *websocket,
                     guint64             size,
                     gpointer            user_data);
} SignalingWebsocketHandlers;

typedef void (*SignalingWebsocketAcceptFunc)  (SoupServerMessage  *msg,
                                               SignalingWebsocket *websocket,
                                               gpointer            user_data);

gboolean                signaling_websocket_upgrade               (SoupServerMessage            *msg,
                                                                   gboolean                      offer_deflate,
                                                                   SignalingWebsocketAcceptFunc  func,
                                                                   gpointer                      user_data);
SignalingWebsocket     *signaling_websocket_new                   (GIOStream                    *stream,
                                                                   GList                        *extensions);

void                    signaling_websocket_set_handlers          (SignalingWebsocket           *self,
                                                                   const SignalingWebsocketHandlers *handlers,
                                                                   gpointer                      user_data);
void                    signaling_websocket_set_max_message_size  (SignalingWebsocket           *self,
                                                                   guint64                       max_message_size,
                                                                   const char                   *reason);
void                    signaling_websocket_set_strict_utf8       (SignalingWebsocket           *self,
                                                                   gboolean                      strict);
void                    signaling_websocket_set_max_send_queue    (SignalingWebsocket           *self,
                                                                   gsize                         max_send_queue);

gboolean                signaling_websocket_send                  (SignalingWebsocket           *self,
                                                                   gboolean                      is_text,
                                                                   const char                   *data,
                                                                   gsize                         length);
gboolean                signaling_websocket_send_with_prefix      (SignalingWebsocket           *self,
                                                                   gboolean                      is_text,
                                                                   const char                   *prefix,
                                                                   const char                   *data,
                                                                   gsize                         length);
void                    signaling_websocket_ping                  (SignalingWebsocket           *self);
void                    signaling_websocket_close                 (SignalingWebsocket           *self,
                                                                   gushort                       code,
                                                                   const char                   *reason);

SignalingWebsocketState signaling_websocket_get_state             (SignalingWebsocket           *self);
gboolean                signaling_websocket_is_open               (SignalingWebsocket           *self);
gushort                 signaling_websocket_get_close_code        (SignalingWebsocket           *self);
const char             *signaling_websocket_get_close_reason      (SignalingWebsocket           *self);
gsize                   signaling_websocket_get_buffered_amount   (SignalingWebsocket           *self);

void                    signaling_websocket_feed_for_testing      (SignalingWebsocket           *self,
                                                                   const guint8                 *data,
                                                                   gsize                         length,
                                                                   gsize                         chunk);

G_END_DECLS
