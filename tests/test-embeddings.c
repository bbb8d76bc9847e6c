/* test-embeddings.c — the baselines (collection rows equal the rows of
 * the same image embedded on its own and from its file), the embedding
 * file (round trip, damage, staleness), the list of sources with a model
 * file and a factory, and the .npy export (a header check here, and
 * numpy.load under /usr/bin/python3 when it is there). */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "embeddings.h"
#include "error.h"
#include "fileutil.h"
#include "testutil.h"

static char *collection_root;

/* Three categories of four PNGs each. */
static LkCollection *
small_collection (void)
{
  g_autoptr(GError) error = NULL;
  LkScanOptions o;
  LkCollection *coll;

  if (collection_root == NULL)
    {
      const char *cats[] = { "alpha", "beta", "gamma", NULL };
      collection_root = lk_test_make_image_tree ("emb-col", cats, 4, 21, 18, 0);
    }
  lk_scan_options_init (&o);
  o.side = 24;
  coll = lk_collection_open_folder (collection_root, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return coll;
}

static void
test_baselines (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  const char *const *names = lk_embedder_baseline_names ();
  guint n = lk_collection_get_n_images (c);

  for (guint b = 0; names[b] != NULL; b++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LkEmbedder) e = lk_embedder_new_baseline (c, names[b], &error);
      g_autoptr(LkEmbedding) emb = NULL;
      guint dim;
      g_autofree float *row = NULL;

      g_assert_no_error (error);
      dim = lk_embedder_get_dim (e);
      emb = lk_embedding_compute (e, c, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (lk_embedding_get_n (emb), ==, n);
      g_assert_cmpuint (lk_embedding_get_dim (emb), ==, dim);
      row = g_new (float, dim);
      for (guint i = 0; i < n; i += 5)
        {
          g_autofree char *file = lk_collection_dup_file (c, i);
          /* One decoded image embedded alone gives its collection row. */
          g_assert_true (lk_embedder_embed_pixels (e, lk_collection_get_image (c, i), 24, 3, row,
                                                   &error));
          g_assert_cmpmem (row, dim * sizeof (float), lk_embedding_get_row (emb, i),
                           dim * sizeof (float));
          /* And so does its file, decoded as a scan decodes it. */
          g_assert_true (lk_embedder_embed_file (e, c, file, row, &error));
          g_assert_no_error (error);
          g_assert_cmpmem (row, dim * sizeof (float), lk_embedding_get_row (emb, i),
                           dim * sizeof (float));
        }
      if (g_str_equal (names[b], "pixels"))
        {
          /* 24 px → 24×24×3 values in [0, 1]. */
          g_assert_cmpuint (dim, ==, 24 * 24 * 3);
          for (guint k = 0; k < dim; k++)
            g_assert_true (lk_embedding_get_row (emb, 0)[k] >= 0
                           && lk_embedding_get_row (emb, 0)[k] <= 1);
        }
      if (g_str_equal (names[b], "golden"))
        {
          g_autoptr(LkFeatures) f = lk_features_load_or_compute_for_collection (c, 1, NULL, NULL,
                                                                                NULL, &error);
          LkGoldenWeights w;
          lk_golden_weights_init_default (&w);
          g_assert_cmpfloat_with_epsilon (lk_embedding_distance (emb, 1, 7),
                                          lk_golden_distance (f, &w, 1, 7), 1e-4);
        }
    }
  {
    g_autoptr(GError) error = NULL;
    g_assert_null (lk_embedder_new_baseline (c, "nonsense", &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  }
}

static void
test_file (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkEmbedder) e = lk_embedder_new_baseline (c, "hog", &error);
  g_autoptr(LkEmbedding) first = NULL, again = NULL, back = NULL;
  g_autofree char *path = lk_embedding_path_for (c, "hog");
  g_autofree char *bytes = NULL;
  gsize len;

  first = lk_embedding_load_or_compute (e, c, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lk_embedding_get_path (first), ==, path);
  g_assert_true (g_str_has_prefix (path, g_get_user_data_dir ()));
  again = lk_embedding_load_or_compute (e, c, NULL, NULL, NULL, &error);
  g_assert_cmpmem (lk_embedding_get_data (again), 12 * lk_embedding_get_dim (again) * 4,
                   lk_embedding_get_data (first), 12 * lk_embedding_get_dim (first) * 4);
  g_assert_cmpuint (lk_embedding_get_data_key (again), ==, lk_collection_pixels_key (c));
  g_assert_cmpstr (lk_embedding_get_collection_id (again), ==, lk_collection_get_id (c));

  /* Damage: a flipped data byte, a cut file, another version. */
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  bytes[len - 3] ^= 0x40;
  g_assert_true (g_file_set_contents (path, bytes, len, NULL));
  g_assert_null (lk_embedding_load (path, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
  g_clear_error (&error);
  bytes[len - 3] ^= 0x40;
  g_assert_true (g_file_set_contents (path, bytes, len - 4, NULL));
  g_assert_null (lk_embedding_load (path, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, bytes, 100, NULL));
  g_assert_null (lk_embedding_load (path, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (lk_embedding_load ("/nonexistent.emb", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A damaged file is recomputed, not trusted. */
  back = lk_embedding_load_or_compute (e, c, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (lk_embedding_get_data (back), 12 * lk_embedding_get_dim (back) * 4,
                   lk_embedding_get_data (first), 12 * lk_embedding_get_dim (first) * 4);
  g_clear_pointer (&back, lk_embedding_unref);
  back = lk_embedding_load (path, &error);
  g_assert_no_error (error);

  /* A file made from other images is stale: recomputed with the right key. */
  {
    g_autofree float *rows = g_memdup2 (lk_embedding_get_data (first),
                                        12 * lk_embedding_get_dim (first) * sizeof (float));
    g_autoptr(LkEmbedding) other = lk_embedding_new_take ("hog", "HOG", LK_EMBEDDING_BASELINE,
                                                          lk_collection_get_id (c), 12,
                                                          lk_embedding_get_dim (first),
                                                          lk_embedder_get_source_key (e), 12345,
                                                          g_steal_pointer (&rows));
    g_autoptr(LkEmbedding) fresh = NULL;
    g_autoptr(GPtrArray) sources = NULL;
    g_assert_true (lk_embedding_save (other, path, &error));
    sources = lk_embedding_list_sources (c);
    for (guint i = 0; i < sources->len; i++)
      {
        LkEmbeddingSource *s = sources->pdata[i];
        if (g_str_equal (s->name, "hog"))
          g_assert_true (s->stale && !s->stored);
      }
    fresh = lk_embedding_load_or_compute (e, c, NULL, NULL, NULL, &error);
    g_assert_cmpuint (lk_embedding_get_data_key (fresh), ==, lk_collection_pixels_key (c));
  }
}

/* A stand-in for a trained model: the mean of each colour channel. */
static gboolean
fake_embed_images (LkEmbedder *self, LkCollection *c, const guint32 *idx, guint n, float *out,
                   LkEmbedProgress progress, gpointer data, GCancellable *cancellable,
                   GError **error)
{
  guint side = lk_collection_get_side (c);
  for (guint i = 0; i < n; i++)
    {
      const guint8 *px = lk_collection_get_image (c, idx[i]);
      for (guint ch = 0; ch < 3; ch++)
        {
          double s = 0;
          for (guint p = 0; p < side * side; p++)
            s += px[p * 3 + ch];
          out[i * 3 + ch] = (float) (s / (side * side * 255.0));
        }
    }
  return TRUE;
}

static const LkEmbedderVTable fake_vtable = { fake_embed_images, NULL };

static LkEmbedder *
fake_factory (LkCollection *c, const char *name, gpointer user_data, GError **error)
{
  if (!g_str_equal (name, "model-fake"))
    return NULL;
  return lk_embedder_new (&fake_vtable, "model-fake", "Fake model", LK_EMBEDDING_MODEL, 3, 42,
                          NULL, NULL);
}

static void
test_sources_and_models (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(LkEmbedding) model = NULL, stale = NULL;
  g_autoptr(LkEmbedder) fake = NULL;
  gboolean seen_model = FALSE, seen_stale = FALSE;
  float rows[12 * 3] = { 0 };

  /* The seam: a factory makes "model-fake"; its rows are stored like any
   * other and listed as a model. */
  lk_embedder_register_factory (fake_factory, NULL);
  fake = lk_embedder_new_for_source (c, "model-fake", &error);
  g_assert_no_error (error);
  model = lk_embedding_load_or_compute (fake, c, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (lk_embedder_new_for_source (c, "model-unknown", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (lk_embedder_embed_pixels (fake, lk_collection_get_image (c, 0), 24, 3, rows,
                                            &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_clear_error (&error);

  /* A model file made from other images is listed as stale and refused. */
  stale = lk_embedding_new_take ("model-old", "Old model", LK_EMBEDDING_MODEL,
                                 lk_collection_get_id (c), 12, 3, 7, 999,
                                 g_memdup2 (rows, sizeof rows));
  {
    g_autofree char *path = lk_embedding_path_for (c, "model-old");
    g_assert_true (lk_embedding_save (stale, path, &error));
  }
  sources = lk_embedding_list_sources (c);
  g_assert_cmpuint (sources->len, >=, 8);
  for (guint i = 0; i < 6; i++)
    g_assert_cmpstr (((LkEmbeddingSource *) sources->pdata[i])->name, ==,
                     lk_embedder_baseline_names ()[i]);
  for (guint i = 0; i < sources->len; i++)
    {
      LkEmbeddingSource *s = sources->pdata[i];
      if (g_str_equal (s->name, "model-fake"))
        {
          seen_model = TRUE;
          g_assert_true (s->kind == LK_EMBEDDING_MODEL && s->stored && !s->stale);
          g_assert_cmpuint (s->dim, ==, 3);
        }
      if (g_str_equal (s->name, "model-old"))
        {
          seen_stale = TRUE;
          g_assert_true (s->stale && !s->stored);
        }
    }
  g_assert_true (seen_model && seen_stale);
  g_assert_null (lk_embedding_source_load (c, "model-old", NULL, NULL, NULL, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
}

static void
test_npy (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkEmbedding) emb = lk_embedding_source_load (c, "color", NULL, NULL, NULL, &error);
  g_autofree char *dir = lk_test_make_tmpdir ("npy");
  g_autofree char *npy = g_build_filename (dir, "color.npy", NULL);
  g_autofree char *tsv = g_build_filename (dir, "color.tsv", NULL);
  g_autofree char *bytes = NULL, *table = NULL, *expect = NULL;
  g_auto(GStrv) lines = NULL;
  guint n, dim;
  gsize len;
  guint16 hlen;

  g_assert_no_error (error);
  n = lk_embedding_get_n (emb);
  dim = lk_embedding_get_dim (emb);
  g_assert_true (lk_embedding_export_npy (emb, c, npy, tsv, &error));
  g_assert_no_error (error);

  /* Format 1.0: magic, version, header length, dict, data at 64 bytes. */
  g_assert_true (g_file_get_contents (npy, &bytes, &len, NULL));
  g_assert_cmpmem (bytes, 8, "\x93NUMPY\x01\x00", 8);
  memcpy (&hlen, bytes + 8, 2);
  hlen = GUINT16_FROM_LE (hlen);
  g_assert_cmpuint ((10 + hlen) % 64, ==, 0);
  g_assert_cmpint (bytes[10 + hlen - 1], ==, '\n');
  expect = g_strdup_printf ("{'descr': '<f4', 'fortran_order': False, 'shape': (%u, %u), }", n,
                            dim);
  g_assert_true (strncmp (bytes + 10, expect, strlen (expect)) == 0);
  g_assert_cmpuint (len, ==, 10 + hlen + (gsize) n * dim * 4);
  g_assert_cmpmem (bytes + 10 + hlen, (gsize) n * dim * 4, lk_embedding_get_data (emb),
                   (gsize) n * dim * 4);

  g_assert_true (g_file_get_contents (tsv, &table, NULL, NULL));
  lines = g_strsplit (table, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "index\tpath\tcategory");
  g_assert_cmpstr (lines[1], ==, "0\talpha/alpha-0.png\talpha");
  g_assert_cmpstr (lines[12], ==, "11\tgamma/gamma-3.png\tgamma");

  /* numpy itself, when Debian's is there. */
  if (g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_autofree char *script = g_strdup_printf (
        "import numpy as np\n"
        "a = np.load(%s)\n"
        "assert a.dtype == np.float32 and a.flags['C_CONTIGUOUS'], a.dtype\n"
        "print(a.shape[0], a.shape[1], repr(float(a[%u, %u])), repr(float(a.sum(dtype=np.float64))))\n",
        "'" "%s" "'", n - 1, dim - 1);
      g_autofree char *code = g_strdup_printf (script, npy);
      const char *argv[] = { "/usr/bin/python3", "-c", code, NULL };
      g_autofree char *out = NULL, *err = NULL;
      int status = 0;
      double sum = 0;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                   &err, &status, &error));
      if (!g_spawn_check_wait_status (status, NULL) && strstr (err, "No module named") != NULL)
        {
          g_test_skip ("numpy is not installed for /usr/bin/python3");
          return;
        }
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      for (guint i = 0; i < n * dim; i++)
        sum += lk_embedding_get_data (emb)[i];
      {
        g_auto(GStrv) f = g_strsplit (g_strstrip (out), " ", -1);
        g_assert_cmpuint (g_ascii_strtoull (f[0], NULL, 10), ==, n);
        g_assert_cmpuint (g_ascii_strtoull (f[1], NULL, 10), ==, dim);
        g_assert_cmpfloat (g_ascii_strtod (f[2], NULL), ==,
                           lk_embedding_get_row (emb, n - 1)[dim - 1]);
        g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[3], NULL), sum, 1e-6 * MAX (1, sum));
      }
    }
  else
    g_test_message ("/usr/bin/python3 absent: numpy check skipped");
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/embeddings/baselines", test_baselines);
  g_test_add_func ("/engine/embeddings/file", test_file);
  g_test_add_func ("/engine/embeddings/sources-models", test_sources_and_models);
  g_test_add_func ("/engine/embeddings/npy", test_npy);
  return g_test_run ();
}
