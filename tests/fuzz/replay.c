/* replay.c: runs a fuzz target on every file of its corpus
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * replay DIR|FILE...: calls LLVMFuzzerTestOneInput on each file (a
 * directory's files in name order) and fails if there were none, so
 * that a missing corpus is not a pass. A crash, a leak under ASan or a
 * GLib critical (G_DEBUG=fatal-criticals) fails the test; the name of
 * the input is printed first, so the log says which one.
 */
#include <glib.h>

#include "fuzz.h"

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The files under @path (itself if it is one), sorted, into @files. */
static gboolean
collect (const char  *path,
         GPtrArray   *files,
         GError     **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return TRUE;
    }

  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return FALSE;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (files, g_strdup (g_ptr_array_index (names, i)));
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!collect (argv[i], files, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }

  if (files->len == 0)
    {
      g_printerr ("No corpus files given\n");
      return 1;
    }

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_file_get_contents (path, &contents, &length, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      g_print ("%s\n", path);
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
    }

  g_print ("%u inputs replayed\n", files->len);
  return 0;
}
