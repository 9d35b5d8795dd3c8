/* signaling-util.c: small helpers shared inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-core"

#include "config.h"

#include <errno.h>
#include <sys/random.h>

#include "signaling-util-private.h"

/* 22 characters of [A-Za-z0-9]: 22 × log2(62) = 131 bits. */
#define ID_LENGTH 22

static void
fill_random (guint8 *buffer,
             gsize   length)
{
  gsize filled = 0;

  /* getrandom() draws from the kernel CSPRNG: ids are capabilities
   * (anyone who knows one can send to that peer), so GLib's
   * Mersenne Twister is not good enough here. */
  while (filled < length)
    {
      gssize n = getrandom (buffer + filled, length - filled, 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          g_error ("getrandom() failed: %s", g_strerror (errno));
        }
      filled += n;
    }
}

/*
 * signaling_generate_id:
 *
 * Makes a new unguessable identifier: 22 letters and digits, 131
 * random bits.
 *
 * Only letters and digits, because an id is also the last element of
 * its D-Bus object path (`…/client/ID`), where every other character
 * is escaped (`-` as `_2d`, `_` as `_5f`): with base64url that was
 * half of all ids, whose path then was not the id. It also never
 * starts with `-`, which command lines (`signalboxctl kick ID`,
 * busctl, gdbus) would read as an option.
 */
char *
signaling_generate_id (void)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  /* The largest multiple of 62 a byte holds: bytes from 248 up are
   * drawn again, so that every character is equally likely. */
  const guint8 limit = 62 * 4;
  char id[ID_LENGTH + 1] = { 0 };
  gsize filled = 0;

  while (filled < ID_LENGTH)
    {
      guint8 bytes[32];

      fill_random (bytes, sizeof bytes);
      for (gsize i = 0; i < sizeof bytes && filled < ID_LENGTH; i++)
        if (bytes[i] < limit)
          id[filled++] = alphabet[bytes[i] % 62];
    }

  return g_strdup (id);
}

/*
 * signaling_http_has_body:
 *
 * Whether the request announces a body. A WebSocket upgrade must not:
 * its frames would follow the body, which libsoup reads first.
 */
gboolean
signaling_http_has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      return FALSE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (headers) > 0;
    case SOUP_ENCODING_UNRECOGNIZED:
    case SOUP_ENCODING_EOF:
    case SOUP_ENCODING_CHUNKED:
    case SOUP_ENCODING_BYTERANGES:
    default:
      return TRUE;
    }
}
