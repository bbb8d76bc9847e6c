/* test-stale-temporaries.c — a writer killed mid-write leaves its
 * temporary behind; the next atomic write of that file removes it, but
 * never a temporary another writer still holds, nor anything else. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "fileutil.h"
#include "testutil.h"

static void
test_sweep (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("stale");
  g_autofree char *path = g_build_filename (dir, "cache.bin", NULL);
  g_autofree char *stale = g_build_filename (dir, "cache.bin.tmp-AbC123", NULL);
  g_autofree char *other = g_build_filename (dir, "other.bin.tmp-AbC123", NULL);
  g_autofree char *odd = g_build_filename (dir, "cache.bin.tmp-toolong", NULL);
  g_autoptr(GError) error = NULL;
  LkAtomicFile *busy;
  guint n_tmp = 0;
  const char *name;
  GDir *d;

  g_assert_true (g_file_set_contents (stale, "half a cache", -1, NULL));
  g_assert_true (g_file_set_contents (other, "x", -1, NULL));
  g_assert_true (g_file_set_contents (odd, "x", -1, NULL));
  /* A writer in progress: its temporary is locked. */
  busy = lk_atomic_file_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (lk_atomic_file_write (busy, "busy", 4, &error));

  g_assert_true (lk_file_write_atomic (path, "fresh", 5, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (odd, G_FILE_TEST_EXISTS));
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    n_tmp += g_str_has_prefix (name, "cache.bin.tmp-") && strlen (name) == 20;
  g_dir_close (d);
  g_assert_cmpuint (n_tmp, ==, 1);   /* the busy writer's */

  /* The busy writer still commits; the last rename wins. */
  g_assert_true (lk_atomic_file_commit (busy, &error));
  g_assert_no_error (error);
  {
    g_autofree gchar *contents = NULL;
    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    g_assert_cmpstr (contents, ==, "busy");
  }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/atomic/stale-temporaries", test_sweep);
  return g_test_run ();
}
