/* fuzz-token.c: token claims and token decoding
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is read twice: as the JSON payload of a token whose
 * signature passed (the claim rules of SignalingIdentity), and as a
 * token itself, through libjwt and the verifier, against a fixed
 * secret. Whatever the rules accept must hold what signalbox relies
 * on: a valid id as the peer's id, an expiry in the future, room
 * names that are non-empty strings.
 */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fuzz.h"
#include "signaling-error.h"
#include "signaling-identity-private.h"
#include "signaling-json-private.h"
#include "signaling-token-verifier-private.h"

/* A fixed "now", so that a corpus file means the same on every run. */
#define NOW G_GINT64_CONSTANT (1700000000)

static void
check_identity (SignalingIdentity *identity,
                const GError      *error)
{
  const char * const *rooms;

  if (identity == NULL)
    {
      g_assert (g_error_matches (error, SIGNALING_ERROR, SIGNALING_ERROR_UNAUTHORIZED));
      return;
    }

  if (!signaling_identity_id_is_valid (signaling_identity_get_id (identity)))
    g_error ("Accepted an invalid id: %s", signaling_identity_get_id (identity));
  if (signaling_identity_get_expires (identity) <= NOW)
    g_error ("Accepted an expired token");

  rooms = signaling_identity_get_rooms (identity);
  for (gsize i = 0; rooms != NULL && rooms[i] != NULL; i++)
    if (rooms[i][0] == '\0' || !signaling_identity_may_join (identity, rooms[i]))
      g_error ("Accepted a bad room list");
}

static void
fuzz_claims (const uint8_t *data,
             size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = signaling_json_parse ((const char *) data, size, &error);
  g_autoptr(SignalingIdentity) identity = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;

  identity = signaling_identity_new_from_claims (json_node_get_object (node), "signalbox", NOW, &error);
  check_identity (identity, error);
}

static SignalingTokenVerifier *
get_verifier (void)
{
  static SignalingTokenVerifier *verifier;
  g_autofree char *filename = NULL;
  g_autoptr(GError) error = NULL;
  int fd;

  if (verifier != NULL)
    return verifier;

  fd = g_file_open_tmp ("fuzz-token-XXXXXX", &filename, &error);
  g_assert_no_error (error);
  g_assert (write (fd, "fuzz-secret\n", 12) == 12);
  close (fd);

  verifier = signaling_token_verifier_new ();
  signaling_token_verifier_set_secret_file (verifier, filename);
  signaling_token_verifier_set_audience (verifier, "signalbox");
  if (!signaling_token_verifier_reload (verifier, &error))
    g_assert (!signaling_token_supported ());
  g_unlink (filename);
  return verifier;
}

static void
fuzz_token (const uint8_t *data,
            size_t         size)
{
  g_autofree char *token = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignalingIdentity) identity = NULL;

  identity = signaling_token_verifier_verify (get_verifier (), token, NOW, &error);
  check_identity (identity, error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  fuzz_claims (data, size);
  fuzz_token (data, size);
  return 0;
}
