/* fuzz-message.c: the native protocol's message parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WebSocket text frame of /ws, as the native connection hands it
 * over. Should the codec move, only the include and the call change.
 */
#include "fuzz.h"
#include "signaling-json-private.h"
#include "signaling-message-private.h"
#include "signaling-native-connection-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) rid = NULL;
  g_autoptr(SignalingMessage) message =
    signaling_native_parse ((const char *) data, size, &rid, &error);
  g_autofree char *json = NULL;

  if (message == NULL)
    {
      g_assert (error != NULL);
      return 0;
    }

  /* What a recipient gets: the relayed message, stamped. */
  signaling_message_set_from (message, "fuzzer");
  json = signaling_message_to_json (message);
  g_assert (json != NULL);
  g_assert (signaling_native_serialize (message, NULL) != NULL);
  /* A payload kept as text must read back as the object it was. */
  g_assert (signaling_message_peek_payload (message) != NULL);
  g_assert (signaling_json_object_has_string (signaling_message_peek_payload (message), "type"));
  return 0;
}
