/* test-idx.c — the IDX reader on crafted buffers, and the built-in
 * Fashion-MNIST collection read from Debian's real files. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <utime.h>

#include "collection-private.h"
#include "error.h"
#include "testutil.h"

static void
test_parse_errors (void)
{
  /* 2 images of 2×3 = 12 bytes of data. */
  guint8 good[4 + 12 + 12] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3 };
  guint8 buf[sizeof good];
  guint32 dims[3];
  const guint8 *payload;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 12; i++)
    good[16 + i] = (guint8) i;
  g_assert_true (_lk_idx_parse (good, sizeof good, 3, dims, &payload, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (dims[0], ==, 2);
  g_assert_cmpuint (dims[1], ==, 2);
  g_assert_cmpuint (dims[2], ==, 3);
  g_assert_true (payload == good + 16);

  /* Every truncation is refused. */
  for (gsize len = 0; len < sizeof good; len++)
    {
      g_assert_false (_lk_idx_parse (good, len, 3, dims, &payload, &error));
      g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
      g_clear_error (&error);
    }
  /* Wrong type, wrong number of dimensions, bad magic, sizes that
   * overflow, trailing bytes. */
  memcpy (buf, good, sizeof good);
  buf[2] = 0x0d;
  g_assert_false (_lk_idx_parse (buf, sizeof buf, 3, dims, &payload, &error));
  g_clear_error (&error);
  g_assert_false (_lk_idx_parse (good, sizeof good, 1, dims, &payload, &error));
  g_clear_error (&error);
  memcpy (buf, good, sizeof good);
  buf[0] = 1;
  g_assert_false (_lk_idx_parse (buf, sizeof buf, 3, dims, &payload, &error));
  g_clear_error (&error);
  memcpy (buf, good, sizeof good);
  memset (buf + 4, 0xff, 12);
  g_assert_false (_lk_idx_parse (buf, sizeof buf, 3, dims, &payload, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
  g_clear_error (&error);
  {
    guint8 longer[sizeof good + 1];
    memcpy (longer, good, sizeof good);
    longer[sizeof good] = 0;
    g_assert_false (_lk_idx_parse (longer, sizeof longer, 3, dims, &payload, &error));
    g_clear_error (&error);
  }
}

static void
test_load_file_errors (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("idx");
  g_autofree char *missing = g_build_filename (dir, "missing.gz", NULL);
  g_autofree char *notgz = g_build_filename (dir, "bad.gz", NULL);
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  bytes = _lk_idx_load_file (missing, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (notgz, "this is not gzip", -1, NULL));
  bytes = _lk_idx_load_file (notgz, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
}

static void
test_fashion_mnist (void)
{
  const char *dir = lk_test_fashion_mnist_dir ();
  g_autoptr(LkCollection) coll = NULL, again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *train = NULL, *test = NULL;
  guint n_train, n_test, per_class[10] = { 0 };
  LkScanStats stats;
  gboolean any_dark = FALSE, any_bright = FALSE;

  if (dir == NULL)
    return;
  coll = lk_collection_open_fashion_mnist (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lk_collection_get_n_images (coll), ==, 70000);
  g_assert_cmpuint (lk_collection_get_n_categories (coll), ==, 10);
  g_assert_cmpuint (lk_collection_get_side (coll), ==, 28);
  g_assert_cmpuint (lk_collection_get_channels (coll), ==, 1);
  g_assert_true (lk_collection_is_builtin (coll));
  g_assert_null (lk_collection_get_root (coll));
  g_assert_cmpstr (lk_collection_get_category_name (coll, 0), ==, "T-shirt/top");
  g_assert_cmpstr (lk_collection_get_category_name (coll, 9), ==, "Ankle boot");

  /* The splits are kept apart: 60,000 train then 10,000 test, each with
   * 6,000 and 1,000 images of every class. */
  train = lk_collection_get_split_indices (coll, LK_SPLIT_TRAIN, &n_train);
  test = lk_collection_get_split_indices (coll, LK_SPLIT_TEST, &n_test);
  g_assert_cmpuint (n_train, ==, 60000);
  g_assert_cmpuint (n_test, ==, 10000);
  g_assert_cmpuint (train[0], ==, 0);
  g_assert_cmpuint (test[0], ==, 60000);
  for (guint i = 0; i < n_train; i++)
    per_class[lk_collection_get_label (coll, train[i])]++;
  for (guint c = 0; c < 10; c++)
    {
      g_assert_cmpuint (per_class[c], ==, 6000);
      g_assert_cmpuint (lk_collection_get_category_count (coll, c), ==, 7000);
    }
  g_assert_cmpstr (lk_collection_get_path (coll, 0), ==, "train/00000");
  g_assert_cmpstr (lk_collection_get_path (coll, 60001), ==, "test/00001");
  /* The first training image is an ankle boot, as in every copy of the set. */
  g_assert_cmpuint (lk_collection_get_label (coll, 0), ==, 9);
  for (guint p = 0; p < 28 * 28; p++)
    {
      guint8 v = lk_collection_get_image (coll, 0)[p];
      any_dark |= v == 0;
      any_bright |= v > 200;
    }
  g_assert_true (any_dark && any_bright);

  again = lk_collection_open_fashion_mnist (dir, NULL, &error);
  g_assert_no_error (error);
  lk_collection_get_stats (again, &stats);
  g_assert_cmpuint (stats.n_from_cache, ==, 70000);
  g_assert_cmpmem (lk_collection_get_pixels (coll), 70000 * 784,
                   lk_collection_get_pixels (again), 70000 * 784);
  g_assert_cmpmem (lk_collection_get_labels (coll), 70000 * 2,
                   lk_collection_get_labels (again), 70000 * 2);
}

/* When one of the IDX files changes, the cache is not used. */
static void
test_fashion_mnist_invalidation (void)
{
  const char *dir = lk_test_fashion_mnist_dir ();
  g_autofree char *copy = NULL;
  const char *files[] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
  g_autoptr(GError) error = NULL;
  LkScanStats stats;

  if (dir == NULL)
    return;
  copy = lk_test_make_tmpdir ("fmnist");
  for (gsize f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *from = g_build_filename (dir, files[f], NULL);
      g_autofree char *to = g_build_filename (copy, files[f], NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  {
    g_autoptr(LkCollection) first = lk_collection_open_fashion_mnist (copy, NULL, &error);
    g_autoptr(LkCollection) second = lk_collection_open_fashion_mnist (copy, NULL, &error);
    g_assert_no_error (error);
    lk_collection_get_stats (second, &stats);
    g_assert_cmpuint (stats.n_from_cache, ==, 70000);
  }
  {
    g_autofree char *from = g_build_filename (dir, files[3], NULL);
    g_autofree char *to = g_build_filename (copy, files[3], NULL);
    g_autofree gchar *data = NULL;
    gsize len;
    g_autoptr(LkCollection) third = NULL;
    g_assert_true (g_file_get_contents (from, &data, &len, NULL));
    g_unlink (to);
    g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
    {
      GStatBuf st;
      g_stat (from, &st);
      /* A different mtime than the original's, even on coarse clocks. */
      g_assert_cmpint (g_utime (to, &(struct utimbuf) { st.st_atime, st.st_mtime + 10 }), ==, 0);
    }
    third = lk_collection_open_fashion_mnist (copy, NULL, &error);
    g_assert_no_error (error);
    lk_collection_get_stats (third, &stats);
    g_assert_cmpuint (stats.n_from_cache, ==, 0);
    g_assert_cmpuint (stats.n_decoded, ==, 70000);
  }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/idx/parse-errors", test_parse_errors);
  g_test_add_func ("/engine/idx/load-file-errors", test_load_file_errors);
  g_test_add_func ("/engine/idx/fashion-mnist", test_fashion_mnist);
  g_test_add_func ("/engine/idx/fashion-mnist-invalidation", test_fashion_mnist_invalidation);
  return g_test_run ();
}
