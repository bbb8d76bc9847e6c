/* test-relevance.c — the blocked relevance against a naive reference,
 * σ_c, the dense form, and the cache file. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileutil.h"
#include "relevance.h"
#include "testutil.h"

#define DIM 6

/* Clustered random rows: each category has a few clusters, so relevance
 * varies a lot within a category. Categories of sizes 0, 1, 2 and larger
 * are all present. */
static LkFeatures *
clustered_features (guint n, guint n_categories, guint16 *labels, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint dims[LK_N_FEATURES] = { DIM, DIM, DIM, DIM };
  g_autofree float *data = g_new (float, n * 4 * DIM);

  for (guint i = 0; i < n; i++)
    {
      guint cluster = g_rand_int_range (rand, 0, 3);
      labels[i] = i < 3 ? 1 + (i > 0) : g_rand_int_range (rand, 3, n_categories);
      for (guint k = 0; k < 4 * DIM; k++)
        data[i * 4 * DIM + k] = (float) (cluster * ((k * 7 + labels[i]) % 5) * 0.3
                                         + g_rand_double_range (rand, -0.3, 0.3));
    }
  return lk_features_new_from_data (n, dims, data);
}

static int
cmp_float_desc (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x < y) - (x > y);
}

static void
test_matches_naive (void)
{
  const guint n = 230, n_categories = 6;
  guint16 labels[230];
  g_autoptr(LkFeatures) f = clustered_features (n, n_categories, labels, 11);
  LkGoldenWeights w = { { 1.0f, 0.5f, 2.0f, 0.0f } };
  LkRelevanceParams params;
  g_autoptr(LkRelevance) rel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *row = g_new (float, n);

  lk_relevance_params_init (&params);
  params.top_m = 7;
  params.block_rows = 9;    /* tiles end mid-category */
  rel = lk_relevance_compute (f, labels, n_categories, &w, &params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (lk_relevance_get_sigma (rel, 1), >, 0);
  g_assert_cmpuint (lk_relevance_neighbours (rel, 0, NULL, NULL), ==, 0);  /* alone */
  g_assert_cmpfloat (lk_relevance_total (rel, 0), ==, 0);

  for (guint i = 0; i < n; i++)
    {
      const guint32 *idx;
      const float *r;
      guint m = 0, kept = lk_relevance_neighbours (rel, i, &idx, &r);
      double total = 0;

      /* Naive: every pair by the direct formula. */
      for (guint j = 0; j < n; j++)
        {
          float rij = lk_relevance_pair (rel, i, j);
          float d = lk_golden_distance (f, &w, i, j);
          if (i == j || labels[i] != labels[j])
            {
              g_assert_cmpfloat (rij, ==, 0);
              continue;
            }
          g_assert_cmpfloat_with_epsilon (rij, expf (-d / lk_relevance_get_sigma (rel, labels[i])),
                                          1e-5);
          g_assert_cmpfloat (rij, >, 0);
          total += rij;
          row[m++] = rij;
        }
      qsort (row, m, sizeof (float), cmp_float_desc);
      g_assert_cmpuint (kept, ==, MIN (m, params.top_m));
      g_assert_cmpfloat_with_epsilon (lk_relevance_total (rel, i), total, 1e-4 * (1 + total));
      g_assert_cmpfloat_with_epsilon (lk_relevance_max (rel, i), m ? row[0] : 0, 1e-4);
      for (guint k = 0; k < kept; k++)
        {
          /* The kept ones are the top ones, in order, and say who they are. */
          g_assert_cmpfloat_with_epsilon (r[k], row[k], 1e-4);
          g_assert_cmpuint (labels[idx[k]], ==, labels[i]);
          g_assert_cmpuint (idx[k], !=, i);
          g_assert_cmpfloat_with_epsilon (r[k], lk_relevance_pair (rel, i, idx[k]), 1e-4);
        }
    }
}

/* With fewer pairs than n_sigma_pairs, σ_c is exactly the quantile of all
 * of the category's pair distances. */
static void
test_sigma_quantile (void)
{
  const guint n = 60;
  guint16 labels[60];
  g_autoptr(LkFeatures) f = clustered_features (n, 4, labels, 3);
  LkGoldenWeights w;
  LkRelevanceParams params;
  g_autoptr(LkRelevance) rel = NULL;
  g_autofree float *d = g_new (float, n * n);

  lk_golden_weights_init_default (&w);
  lk_relevance_params_init (&params);
  params.sigma_quantile = 0.25f;
  rel = lk_relevance_compute (f, labels, 4, &w, &params, NULL, NULL, NULL, NULL);
  for (guint c = 3; c < 4; c++)
    {
      guint m = 0;
      for (guint i = 0; i < n; i++)
        for (guint j = i + 1; j < n; j++)
          if (labels[i] == c && labels[j] == c)
            d[m++] = lk_golden_distance (f, &w, i, j);
      qsort (d, m, sizeof (float), cmp_float_desc);
      /* descending: the 25% quantile is at the mirrored position */
      g_assert_cmpfloat_with_epsilon (lk_relevance_get_sigma (rel, c),
                                      d[m - 1 - (guint) floor (0.25 * (m - 1))], 1e-4);
    }
}

static void
test_dense (void)
{
  const guint16 labels[5] = { 0, 0, 0, 1, 1 };
  const float m[25] = {
    9, 1, 2, 5, 5,
    3, 9, 4, 5, 5,
    0.5f, 0, 9, 5, 5,
    5, 5, 5, 9, 7,
    5, 5, 5, 6, 9,
  };
  g_autoptr(LkRelevance) rel = lk_relevance_new_dense (5, labels, 2, m, 1);
  const guint32 *idx;
  const float *r;

  g_assert_cmpfloat (lk_relevance_pair (rel, 0, 0), ==, 0);
  g_assert_cmpfloat (lk_relevance_pair (rel, 0, 3), ==, 0);
  g_assert_cmpfloat (lk_relevance_pair (rel, 0, 2), ==, 2);
  g_assert_cmpfloat (lk_relevance_total (rel, 0), ==, 3);
  g_assert_cmpfloat (lk_relevance_total (rel, 2), ==, 0.5f);
  g_assert_cmpfloat (lk_relevance_max (rel, 1), ==, 4);
  g_assert_cmpuint (lk_relevance_neighbours (rel, 1, &idx, &r), ==, 1);
  g_assert_cmpuint (idx[0], ==, 2);
  g_assert_cmpfloat (lk_relevance_max (rel, 4), ==, 6);
}

static void
test_cache (void)
{
  const guint n = 120;
  guint16 labels[120];
  g_autoptr(LkFeatures) f = clustered_features (n, 5, labels, 5);
  LkGoldenWeights w, w2;
  LkRelevanceParams params;
  g_autoptr(LkRelevance) rel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = lk_test_make_tmpdir ("relevance-cache");
  g_autofree char *path = g_build_filename (dir, "relevance.bin", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.bin", NULL);
  g_autofree char *bytes = NULL;
  gsize len;

  lk_golden_weights_init_default (&w);
  lk_relevance_params_init (&params);
  params.top_m = 4;
  g_assert_null (lk_relevance_load (path, f, labels, 5, &w, &params, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  rel = lk_relevance_load_or_compute (path, f, labels, 5, &w, &params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(LkRelevance) back = lk_relevance_load (path, f, labels, 5, &w, &params, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < n; i++)
      {
        const guint32 *ia, *ib;
        const float *ra, *rb;
        guint ka = lk_relevance_neighbours (rel, i, &ia, &ra);
        guint kb = lk_relevance_neighbours (back, i, &ib, &rb);
        g_assert_cmpuint (ka, ==, kb);
        g_assert_cmpmem (ia, ka * 4, ib, kb * 4);
        g_assert_cmpmem (ra, ka * 4, rb, kb * 4);
        g_assert_cmpfloat (lk_relevance_total (rel, i), ==, lk_relevance_total (back, i));
        g_assert_cmpfloat (lk_relevance_pair (rel, i, (i + 1) % n), ==,
                           lk_relevance_pair (back, i, (i + 1) % n));
      }
  }

  /* Other weights, other labels, other parameters: mismatch. */
  w2 = w;
  w2.w[2] = 3;
  g_assert_null (lk_relevance_load (path, f, labels, 5, &w2, &params, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
  g_clear_error (&error);
  labels[7] = (labels[7] + 1) % 5;
  g_assert_null (lk_relevance_load (path, f, labels, 5, &w, &params, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
  g_clear_error (&error);
  labels[7] = (labels[7] + 4) % 5;
  params.top_m = 5;
  g_assert_null (lk_relevance_load (path, f, labels, 5, &w, &params, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
  g_clear_error (&error);
  params.top_m = 4;

  /* Damage: a flipped bit in the body, in the header, a truncated file. */
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  {
    gsize offsets[] = { len - 3, len / 2, 12 };
    for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
      {
        bytes[offsets[i]] ^= 0x04;
        g_assert_true (g_file_set_contents (bad, bytes, len, NULL));
        bytes[offsets[i]] ^= 0x04;
        g_assert_null (lk_relevance_load (bad, f, labels, 5, &w, &params, &error));
        g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
        g_clear_error (&error);
      }
    g_assert_true (g_file_set_contents (bad, bytes, len - 1, NULL));
    g_assert_null (lk_relevance_load (bad, f, labels, 5, &w, &params, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
    g_clear_error (&error);
  }
}

static void
test_cancel (void)
{
  guint16 labels[100];
  g_autoptr(LkFeatures) f = clustered_features (100, 5, labels, 9);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  LkGoldenWeights w;

  lk_golden_weights_init_default (&w);
  g_cancellable_cancel (cancellable);
  g_assert_null (lk_relevance_compute (f, labels, 5, &w, NULL, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The collection wrappers: both caches land in the collection's cache
 * folder, and a second call reads them back. */
static void
test_collection (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("coll");
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(LkFeatures) f1 = NULL, f2 = NULL;
  g_autoptr(LkRelevance) r1 = NULL, r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cache = NULL, *fpath = NULL, *rpath = NULL;
  LkScanOptions options;
  LkGoldenWeights w;

  for (guint c = 0; c < 2; c++)
    for (guint i = 0; i < 5; i++)
      {
        g_autofree char *dir = g_strdup_printf ("%s/cat%u", root, c);
        g_autofree char *file = g_strdup_printf ("%s/img%u.png", dir, i);
        g_mkdir_with_parents (dir, 0755);
        lk_test_write_png (file, 24, 24, c * 10 + i);
      }
  lk_scan_options_init (&options);
  options.side = 32;
  coll = lk_collection_open_folder (root, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  lk_golden_weights_init_default (&w);

  f1 = lk_features_load_or_compute_for_collection (coll, 2, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  r1 = lk_relevance_load_or_compute_for_collection (coll, f1, &w, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  cache = lk_cache_dir_for (lk_collection_get_id (coll));
  fpath = g_build_filename (cache, "features-32.bin", NULL);
  rpath = g_build_filename (cache, "relevance-32.bin", NULL);
  g_assert_true (g_file_test (fpath, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (rpath, G_FILE_TEST_IS_REGULAR));

  f2 = lk_features_load_or_compute_for_collection (coll, 2, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lk_features_get_checksum (f2), ==, lk_features_get_checksum (f1));
  r2 = lk_relevance_load (rpath, f2, lk_collection_get_labels (coll), 2, &w, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 10; i++)
    {
      g_assert_cmpfloat (lk_relevance_total (r2, i), ==, lk_relevance_total (r1, i));
      g_assert_cmpuint (lk_relevance_neighbours (r2, i, NULL, NULL), ==, 4);
    }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/relevance/matches-naive", test_matches_naive);
  g_test_add_func ("/engine/relevance/sigma-quantile", test_sigma_quantile);
  g_test_add_func ("/engine/relevance/dense", test_dense);
  g_test_add_func ("/engine/relevance/cache", test_cache);
  g_test_add_func ("/engine/relevance/cancel", test_cancel);
  g_test_add_func ("/engine/relevance/collection", test_collection);
  return g_test_run ();
}
