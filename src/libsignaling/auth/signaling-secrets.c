/* signaling-secrets.c: reading files of shared secrets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-auth"

#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "signaling-secrets-private.h"

/*
 * signaling_secrets_read:
 * @filename: a file of secrets, one a line
 *
 * Reads the token secrets (--auth-secret-file) or the TURN secrets
 * (--turn-secret-file): one secret a line, surrounding blanks removed,
 * empty lines and lines starting with `#` skipped. The first is the
 * one to sign with; all of them are accepted, so that a new secret
 * can be put first while tokens signed with the old one are still
 * around.
 *
 * A file that other users may read or write is refused: anyone on
 * the host who can read it can mint tokens or TURN credentials, and
 * OpenSSH refuses its keys for the same reason. Its group may read it
 * (a service group, as systemd's `Group=` gives).
 *
 * Returns: (transfer full) (element-type GBytes): the secrets, at
 *   least one, or %NULL with a #GFileError or #G_IO_ERROR
 */
GPtrArray *
signaling_secrets_read (const char  *filename,
                        GError     **error)
{
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GStatBuf info;

  if (g_stat (filename, &info) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot read secrets from %s: %s"), filename, g_strerror (saved_errno));
      return NULL;
    }
  if ((info.st_mode & (S_IROTH | S_IWOTH)) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   _("The secrets file %s is open to other users (mode %04o): allow its owner and group only, for example with chmod 600"),
                   filename, (guint) (info.st_mode & 07777));
      return NULL;
    }

  if (!g_file_get_contents (filename, &contents, NULL, error))
    return NULL;

  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *secret = g_strstrip (lines[i]);

      if (secret[0] == '\0' || secret[0] == '#')
        continue;
      g_ptr_array_add (secrets, g_bytes_new (secret, strlen (secret)));
    }

  if (secrets->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("The secrets file %s holds no secret"), filename);
      return NULL;
    }

  return g_steal_pointer (&secrets);
}
