/* test-fileutil.c — atomic writes and the checksum. */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileutil.h"
#include "testutil.h"

static void
test_atomic_write (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("atomic");
  g_autofree char *path = g_build_filename (dir, "sub", "file.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  GDir *d;
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  const char *name;
  int n = 0;

  g_assert_true (lk_file_write_atomic (path, "first", 5, &error));
  g_assert_no_error (error);
  g_assert_true (lk_file_write_atomic (path, "second", 6, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, "second", 6);

  /* No temporary is left behind. */
  d = g_dir_open (sub, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    n++;
  g_dir_close (d);
  g_assert_cmpint (n, ==, 1);
}

static void
test_atomic_write_fails_cleanly (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("atomic-ro");
  g_autofree char *path = g_build_filename (dir, "file.bin", NULL);
  g_autoptr(GError) error = NULL;

  if (geteuid () == 0)
    {
      g_test_skip ("root ignores folder permissions");
      return;
    }
  g_chmod (dir, 0555);
  g_assert_false (lk_file_write_atomic (path, "x", 1, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_IO);
  g_assert_nonnull (strstr (error->message, dir));
  g_chmod (dir, 0755);
}

static void
test_hash (void)
{
  guint8 buf[1000];
  guint64 h;

  for (guint i = 0; i < sizeof buf; i++)
    buf[i] = (guint8) (i * 7);
  h = lk_hash64 (buf, sizeof buf, 0);
  g_assert_cmpuint (h, ==, lk_hash64 (buf, sizeof buf, 0));
  /* Every single-bit change in any position changes the hash. */
  for (guint i = 0; i < sizeof buf; i += 13)
    for (int b = 0; b < 8; b++)
      {
        buf[i] ^= 1 << b;
        g_assert_cmpuint (lk_hash64 (buf, sizeof buf, 0), !=, h);
        buf[i] ^= 1 << b;
      }
  g_assert_cmpuint (lk_hash64 (buf, 999, 0), !=, h);
  g_assert_cmpuint (lk_hash64 (buf, sizeof buf, 1), !=, h);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/fileutil/atomic-write", test_atomic_write);
  g_test_add_func ("/engine/fileutil/atomic-write-fails-cleanly", test_atomic_write_fails_cleanly);
  g_test_add_func ("/engine/fileutil/hash", test_hash);
  return g_test_run ();
}
