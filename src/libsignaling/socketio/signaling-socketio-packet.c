/* signaling-socketio-packet.c: Socket.IO v5 packets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text form is <type>[<attachments>-][<nsp>,][<ack id>][<JSON>]:
 * `2["hello",1]`, `3/chat,12["ok"]`, `51-["file",{"_placeholder":true,"num":0}]`.
 * A binary packet is followed by its attachments, one Engine.IO binary
 * message each. The rules are socket.io-parser's, so that what it
 * accepts we accept and what it refuses we refuse.
 */
#define G_LOG_DOMAIN "Signaling-socketio"

#include "config.h"

#include <string.h>

#include "signaling-socketio-packet-private.h"
#include "signaling-util-private.h"

G_DEFINE_QUARK (signaling-socketio-error-quark, signaling_socketio_error)

SignalingSocketioPacket *
signaling_socketio_packet_new (SignalingSocketioPacketType  type,
                               const char                  *nsp,
                               gint64                       id,
                               JsonNode                    *data)
{
  SignalingSocketioPacket *packet = g_new0 (SignalingSocketioPacket, 1);

  packet->type = type;
  packet->nsp = g_strdup (nsp != NULL ? nsp : "/");
  packet->id = id;
  packet->data = data != NULL ? json_node_ref (data) : NULL;
  packet->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return packet;
}

SignalingSocketioPacket *
signaling_socketio_packet_copy (SignalingSocketioPacket *packet)
{
  SignalingSocketioPacket *copy = signaling_socketio_packet_new (packet->type, packet->nsp,
                                                                 packet->id, packet->data);

  for (guint i = 0; i < packet->attachments->len; i++)
    g_ptr_array_add (copy->attachments, g_bytes_ref (g_ptr_array_index (packet->attachments, i)));
  return copy;
}

void
signaling_socketio_packet_free (SignalingSocketioPacket *packet)
{
  g_free (packet->nsp);
  g_clear_pointer (&packet->data, json_node_unref);
  g_ptr_array_unref (packet->attachments);
  g_free (packet);
}

static gboolean
is_binary_type (SignalingSocketioPacketType type)
{
  return type == SIGNALING_SOCKETIO_PACKET_BINARY_EVENT ||
         type == SIGNALING_SOCKETIO_PACKET_BINARY_ACK;
}

/* Type, attachment count, namespace and id: what comes before the data. */
static void
append_header (GString                     *out,
               SignalingSocketioPacketType  type,
               guint                        n_attachments,
               const char                  *nsp,
               gint64                       id)
{
  g_string_append_c (out, '0' + type);
  if (is_binary_type (type))
    g_string_append_printf (out, "%u-", n_attachments);
  if (g_strcmp0 (nsp, "/") != 0)
    g_string_append_printf (out, "%s,", nsp);
  if (id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, id);
}

char *
signaling_socketio_packet_encode (SignalingSocketioPacket *packet)
{
  GString *out = g_string_new (NULL);

  append_header (out, packet->type, packet->attachments->len, packet->nsp, packet->id);
  if (packet->data != NULL)
    signaling_json_append (out, packet->data);

  return g_string_free (out, FALSE);
}

/*
 * signaling_socketio_encode_event:
 * @nsp: the namespace
 * @id: the acknowledgement id, or -1
 * @event: the event name
 * @args: (nullable): the arguments
 *
 * The text of an EVENT packet without attachments, as
 * signaling_socketio_packet_encode() writes it, without building the
 * packet: what the relay sends for every message.
 */
char *
signaling_socketio_encode_event (const char *nsp,
                                 gint64      id,
                                 const char *event,
                                 JsonArray  *args)
{
  GString *out = g_string_sized_new (256);

  append_header (out, SIGNALING_SOCKETIO_PACKET_EVENT, 0, nsp, id);
  g_string_append_c (out, '[');
  signaling_json_append_string (out, event);
  for (guint i = 0; args != NULL && i < json_array_get_length (args); i++)
    {
      g_string_append_c (out, ',');
      signaling_json_append (out, json_array_get_element (args, i));
    }
  g_string_append_c (out, ']');

  return g_string_free (out, FALSE);
}

/*
 * signaling_socketio_encode_event_text:
 * @args_json: the arguments as JSON text, joined by commas (one
 *   object, say), or %NULL for none
 *
 * As signaling_socketio_encode_event(), for arguments already written.
 */
char *
signaling_socketio_encode_event_text (const char *nsp,
                                      gint64      id,
                                      const char *event,
                                      const char *args_json)
{
  GString *out = g_string_sized_new (256);

  append_header (out, SIGNALING_SOCKETIO_PACKET_EVENT, 0, nsp, id);
  g_string_append_c (out, '[');
  signaling_json_append_string (out, event);
  if (args_json != NULL)
    {
      g_string_append_c (out, ',');
      g_string_append (out, args_json);
    }
  g_string_append_c (out, ']');

  return g_string_free (out, FALSE);
}

static gboolean
malformed (GError     **error,
           const char  *what)
{
  g_set_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_MALFORMED,
               "Malformed Socket.IO packet: %s", what);
  return FALSE;
}

static gboolean
is_reserved_event (const char *name)
{
  static const char * const reserved[] = {
    "connect", "connect_error", "disconnect", "disconnecting",
    "newListener", "removeListener", NULL,
  };

  return g_strv_contains (reserved, name);
}

static gboolean
payload_is_valid (SignalingSocketioPacketType  type,
                  JsonNode                    *data)
{
  JsonArray *array;
  JsonNode *first;

  switch (type)
    {
    case SIGNALING_SOCKETIO_PACKET_CONNECT:
      return data == NULL || JSON_NODE_HOLDS_OBJECT (data);

    case SIGNALING_SOCKETIO_PACKET_DISCONNECT:
      return data == NULL;

    case SIGNALING_SOCKETIO_PACKET_CONNECT_ERROR:
      return data != NULL &&
             (JSON_NODE_HOLDS_OBJECT (data) ||
              (JSON_NODE_HOLDS_VALUE (data) && json_node_get_value_type (data) == G_TYPE_STRING));

    case SIGNALING_SOCKETIO_PACKET_EVENT:
    case SIGNALING_SOCKETIO_PACKET_BINARY_EVENT:
      if (data == NULL || !JSON_NODE_HOLDS_ARRAY (data))
        return FALSE;
      array = json_node_get_array (data);
      if (json_array_get_length (array) == 0)
        return FALSE;
      first = json_array_get_element (array, 0);
      if (!JSON_NODE_HOLDS_VALUE (first))
        return FALSE;
      if (json_node_get_value_type (first) == G_TYPE_INT64 ||
          json_node_get_value_type (first) == G_TYPE_DOUBLE)
        return TRUE;
      return json_node_get_value_type (first) == G_TYPE_STRING &&
             !is_reserved_event (json_node_get_string (first));

    case SIGNALING_SOCKETIO_PACKET_ACK:
    case SIGNALING_SOCKETIO_PACKET_BINARY_ACK:
      return data != NULL && JSON_NODE_HOLDS_ARRAY (data);

    default:
      return FALSE;
    }
}

/* Event names may be numbers on the wire; the application sees text. */
static void
normalize_event_name (SignalingSocketioPacket *packet)
{
  JsonArray *array;
  JsonNode *first;
  g_autofree char *name = NULL;

  if (packet->type != SIGNALING_SOCKETIO_PACKET_EVENT &&
      packet->type != SIGNALING_SOCKETIO_PACKET_BINARY_EVENT)
    return;

  array = json_node_get_array (packet->data);
  first = json_array_get_element (array, 0);
  if (json_node_get_value_type (first) == G_TYPE_STRING)
    return;

  if (json_node_get_value_type (first) == G_TYPE_INT64)
    name = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (first));
  else
    name = signaling_json_to_string (first);
  json_node_set_string (first, name);
}

static JsonNode *
parse_json (const char *text,
            gsize       length)
{
  return signaling_json_parse_utf8 (text, length, NULL);
}

/*
 * signaling_socketio_packet_decode:
 * @out_n_attachments: (out): how many binary attachments must follow
 *
 * Parses the text form of a packet.
 */
SignalingSocketioPacket *
signaling_socketio_packet_decode (const char  *text,
                                  gsize        length,
                                  guint       *out_n_attachments,
                                  GError     **error)
{
  g_autoptr(SignalingSocketioPacket) packet = NULL;
  g_autoptr(JsonNode) data = NULL;
  g_autofree char *nsp = NULL;
  guint64 attachments = 0;
  gint64 id = -1;
  gsize i = 1;

  *out_n_attachments = 0;

  if (length == 0 || text[0] < '0' || text[0] > '6')
    return malformed (error, "unknown packet type"), NULL;

  if (is_binary_type (text[0] - '0'))
    {
      gsize start = i;

      while (i < length && g_ascii_isdigit (text[i]))
        i++;
      if (i == start || i >= length || text[i] != '-' || i - start > 3)
        return malformed (error, "illegal attachments"), NULL;
      attachments = g_ascii_strtoull (text + start, NULL, 10);
      if (attachments > SIGNALING_SOCKETIO_MAX_ATTACHMENTS)
        {
          g_set_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_TOO_MANY_ATTACHMENTS,
                       "Socket.IO packet announces %" G_GUINT64_FORMAT " attachments", attachments);
          return NULL;
        }
      i++;
    }

  if (i < length && text[i] == '/')
    {
      gsize start = i;

      while (i < length && text[i] != ',')
        i++;
      nsp = g_strndup (text + start, i - start);
      if (i < length)
        i++;  /* the comma */
    }

  if (i < length && g_ascii_isdigit (text[i]))
    {
      gsize start = i;

      while (i < length && g_ascii_isdigit (text[i]))
        i++;
      if (i - start > 15)
        return malformed (error, "ack id too large"), NULL;
      id = g_ascii_strtoll (text + start, NULL, 10);
    }

  if (i < length)
    {
      data = parse_json (text + i, length - i);
      if (data == NULL)
        return malformed (error, "invalid JSON"), NULL;
    }

  if (!payload_is_valid (text[0] - '0', data))
    return malformed (error, "invalid payload"), NULL;

  packet = signaling_socketio_packet_new (text[0] - '0', nsp, id, data);
  normalize_event_name (packet);
  *out_n_attachments = attachments;
  return g_steal_pointer (&packet);
}

/* Decoder: a binary packet is complete once its attachments arrived. */

struct _SignalingSocketioDecoder
{
  SignalingSocketioPacket *pending;
  guint expected;
};

SignalingSocketioDecoder *
signaling_socketio_decoder_new (void)
{
  return g_new0 (SignalingSocketioDecoder, 1);
}

void
signaling_socketio_decoder_free (SignalingSocketioDecoder *decoder)
{
  g_clear_pointer (&decoder->pending, signaling_socketio_packet_free);
  g_free (decoder);
}

/* socket.io-parser takes an object for a placeholder only when
 * `_placeholder` is exactly `true`; any other value (an array, a
 * string, false) leaves it plain data. The member is looked at as a
 * node, since the typed json-glib getters are critical on other types. */
static gboolean
is_placeholder (JsonObject *object)
{
  JsonNode *flag = json_object_get_member (object, "_placeholder");

  return flag != NULL && JSON_NODE_HOLDS_VALUE (flag) &&
         json_node_get_value_type (flag) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (flag);
}

static gboolean
placeholders_valid (JsonNode *node,
                    guint     n_attachments)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (!placeholders_valid (json_array_get_element (array, i), n_attachments))
          return FALSE;
      return TRUE;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonObjectIter iter;
      JsonNode *member;

      if (is_placeholder (object))
        {
          JsonNode *num = json_object_get_member (object, "num");

          return num != NULL && JSON_NODE_HOLDS_VALUE (num) &&
                 json_node_get_value_type (num) == G_TYPE_INT64 &&
                 json_node_get_int (num) >= 0 && json_node_get_int (num) < n_attachments;
        }

      json_object_iter_init (&iter, object);
      while (json_object_iter_next (&iter, NULL, &member))
        if (!placeholders_valid (member, n_attachments))
          return FALSE;
    }

  return TRUE;
}

static SignalingSocketioPacket *
finish (SignalingSocketioDecoder  *decoder,
        GError                   **error)
{
  g_autoptr(SignalingSocketioPacket) packet = g_steal_pointer (&decoder->pending);

  if (packet->data != NULL && !placeholders_valid (packet->data, packet->attachments->len))
    return malformed (error, "illegal attachments"), NULL;
  return g_steal_pointer (&packet);
}

SignalingSocketioPacket *
signaling_socketio_decoder_add_text (SignalingSocketioDecoder  *decoder,
                                     const char                *text,
                                     gsize                      length,
                                     GError                   **error)
{
  if (decoder->pending != NULL)
    return malformed (error, "got text while reconstructing a binary packet"), NULL;

  decoder->pending = signaling_socketio_packet_decode (text, length, &decoder->expected, error);
  if (decoder->pending == NULL)
    return NULL;

  if (decoder->expected > 0)
    return NULL;  /* attachments follow */

  return finish (decoder, error);
}

SignalingSocketioPacket *
signaling_socketio_decoder_add_binary (SignalingSocketioDecoder  *decoder,
                                       GBytes                    *data,
                                       GError                   **error)
{
  if (decoder->pending == NULL)
    {
      g_set_error (error, SIGNALING_SOCKETIO_ERROR, SIGNALING_SOCKETIO_ERROR_UNEXPECTED_BINARY,
                   "Got binary data when not reconstructing a packet");
      return NULL;
    }

  g_ptr_array_add (decoder->pending->attachments, g_bytes_ref (data));
  if (decoder->pending->attachments->len < decoder->expected)
    return NULL;

  return finish (decoder, error);
}
