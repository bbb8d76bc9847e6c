/* testutil.c — see testutil.h. */
#include "config.h"
#include "testutil.h"

#include <errno.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/wait.h>

static char *test_home;

void
lk_test_rm_rf (const char *path)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      DIR *dir;
      struct dirent *de;
      chmod (path, 0700);
      dir = opendir (path);
      if (dir != NULL)
        {
          while ((de = readdir (dir)) != NULL)
            {
              g_autofree char *child = NULL;
              if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
                continue;
              child = g_build_filename (path, de->d_name, NULL);
              lk_test_rm_rf (child);
            }
          closedir (dir);
        }
      rmdir (path);
    }
  else
    unlink (path);
}

static void
remove_test_home (void)
{
  if (test_home != NULL && g_getenv ("LK_TEST_KEEP") == NULL)
    lk_test_rm_rf (test_home);
}

void
lk_test_init (int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cache = NULL, *data = NULL, *config = NULL;

  g_test_init (argc, argv, NULL);
  test_home = g_dir_make_tmp ("likeness-test-XXXXXX", &error);
  g_assert_no_error (error);
  cache = g_build_filename (test_home, "cache", NULL);
  data = g_build_filename (test_home, "data", NULL);
  config = g_build_filename (test_home, "config", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  atexit (remove_test_home);
}

char *
lk_test_make_tmpdir (const char *name)
{
  char *path = g_build_filename (test_home, name, NULL);
  lk_test_rm_rf (path);
  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
  return path;
}

void
lk_test_write_png (const char *path, int w, int h, guint seed)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, w, h);
  g_autoptr(GError) error = NULL;
  guint8 *px = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  guint32 s = seed * 2654435761u + 1;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 *p = px + y * stride + x * 4;
        s = s * 1664525u + 1013904223u;
        p[0] = (guint8) (seed * 37 + x * 255 / MAX (w, 1));
        p[1] = (guint8) (seed * 91 + y * 255 / MAX (h, 1));
        p[2] = (guint8) (s >> 24);
        p[3] = 255;
      }
  gdk_pixbuf_save (pb, path, "png", &error, NULL);
  g_assert_no_error (error);
}

guint32
lk_test_crc32 (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;
  for (gsize i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
  return ~c;
}

char *
lk_test_make_image_tree (const char *name, const char *const *categories, guint per_category,
                         int w, int h, guint seed)
{
  char *root = lk_test_make_tmpdir (name);

  for (guint c = 0; categories[c] != NULL; c++)
    {
      g_autofree char *dir = g_build_filename (root, categories[c], NULL);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
      for (guint i = 0; i < per_category; i++)
        {
          g_autofree char *file = g_strdup_printf ("%s-%u.png", categories[c], i);
          g_autofree char *path = g_build_filename (dir, file, NULL);
          lk_test_write_png (path, w, h, seed + c * 50 + i);
        }
    }
  return root;
}

const char *
lk_test_fashion_mnist_dir (void)
{
  const char *dir = g_getenv ("LK_FASHION_MNIST_DIR");
  g_autofree char *probe = NULL;

  if (dir == NULL)
    dir = FASHION_MNIST_DIR;
  probe = g_build_filename (dir, "train-images-idx3-ubyte.gz", NULL);
  if (!g_file_test (probe, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return NULL;
    }
  return dir;
}

const char *
lk_test_cli_path (void)
{
  const char *cli = g_getenv ("LIKENESS_CLI");
  g_assert_nonnull (cli);
  return cli;
}

void
lk_test_run_clear (LkTestRun *run)
{
  g_free (run->out);
  g_free (run->err);
}

void
lk_test_run_cli (LkTestRun *run, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  va_list ap;
  int wait_status;

  g_ptr_array_add (argv, (gpointer) lk_test_cli_path ());
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                &run->err, &wait_status, &error);
  g_assert_no_error (error);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}
