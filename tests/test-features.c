/* test-features.c — the feature blocks on hand-made images, the parallel
 * run, the cache file, and learning golden-feature weights. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "hand-features-private.h"
#include "golden.h"
#include "testutil.h"

#define SIDE 32

static guint8 *
solid_image (guint side, guint channels, guint8 r, guint8 g, guint8 b)
{
  guint8 *img = g_new (guint8, side * side * channels);
  for (guint i = 0; i < side * side; i++)
    {
      if (channels == 1)
        img[i] = r;
      else
        img[3 * i] = r, img[3 * i + 1] = g, img[3 * i + 2] = b;
    }
  return img;
}

static guint8 *
random_images (guint n, guint side, guint channels, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  gsize len = (gsize) n * side * side * channels;
  guint8 *px = g_new (guint8, len);
  /* Smooth-ish content: a random gradient plus noise, so every block has
   * something to measure. */
  for (guint i = 0; i < n; i++)
    {
      double ax = g_rand_double_range (rand, -3, 3), ay = g_rand_double_range (rand, -3, 3);
      for (guint p = 0; p < side * side; p++)
        for (guint c = 0; c < channels; c++)
          {
            double v = 128 + ax * (p % side) * (c + 1) + ay * (p / side)
                       + g_rand_double_range (rand, -40, 40);
            px[((gsize) i * side * side + p) * channels + c] = (guint8) CLAMP (v, 0, 255);
          }
    }
  g_rand_free (rand);
  return px;
}

static LkFeatures *
compute (const guint8 *px, guint n, guint side, guint channels)
{
  g_autoptr(GError) error = NULL;
  LkFeatures *f = lk_features_compute (px, n, side, channels, 1, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f);
  return f;
}

static const float *
block_of (LkFeatures *f, guint i, LkFeatureKind kind, guint *dim)
{
  guint off;
  *dim = lk_features_get_block (f, kind, &off);
  return lk_features_get_row (f, i) + off;
}

static void
test_lab_pure_colours (void)
{
  /* Reference values: sRGB, D65 (Bruce Lindbloom's calculator). */
  static const struct { guint8 rgb[3]; float lab[3]; } cases[] = {
    { { 255, 0, 0 }, { 53.24f, 80.09f, 67.20f } },
    { { 0, 255, 0 }, { 87.73f, -86.18f, 83.18f } },
    { { 0, 0, 255 }, { 32.30f, 79.19f, -107.86f } },
    { { 255, 255, 255 }, { 100.0f, 0.0f, 0.0f } },
    { { 0, 0, 0 }, { 0.0f, 0.0f, 0.0f } },
    { { 128, 128, 128 }, { 53.59f, 0.0f, 0.0f } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      float lab[3];
      _lk_rgb_to_lab (cases[i].rgb[0], cases[i].rgb[1], cases[i].rgb[2], lab);
      for (guint c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (lab[c], cases[i].lab[c], 0.1);
    }
}

/* Soft binning is linear interpolation between bin centres, so the
 * histogram of a one-colour image has its centroid exactly on the colour
 * (when the colour lies inside the outermost centres). */
static void
test_color_histogram_centroid (void)
{
  static const guint8 colours[][3] = { { 255, 0, 0 }, { 128, 128, 128 }, { 0, 128, 128 },
                                       { 200, 180, 40 } };
  for (guint i = 0; i < G_N_ELEMENTS (colours); i++)
    {
      g_autofree guint8 *img = solid_image (SIDE, 3, colours[i][0], colours[i][1], colours[i][2]);
      g_autoptr(LkFeatures) f = compute (img, 1, SIDE, 3);
      float lab[3], centroid[3] = { 0 }, total = 0;
      guint dim;
      const float *h = block_of (f, 0, LK_FEATURE_COLOR, &dim);

      g_assert_cmpuint (dim, ==, LK_COLOR_L_BINS * LK_COLOR_A_BINS * LK_COLOR_B_BINS);
      _lk_rgb_to_lab (colours[i][0], colours[i][1], colours[i][2], lab);
      for (guint l = 0; l < LK_COLOR_L_BINS; l++)
        for (guint a = 0; a < LK_COLOR_A_BINS; a++)
          for (guint b = 0; b < LK_COLOR_B_BINS; b++)
            {
              float v = h[(l * LK_COLOR_A_BINS + a) * LK_COLOR_B_BINS + b];
              float share = v * v;
              total += share;
              centroid[0] += share * _lk_color_bin_centre (0, l);
              centroid[1] += share * _lk_color_bin_centre (1, a);
              centroid[2] += share * _lk_color_bin_centre (2, b);
            }
      g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-4);
      for (guint c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (centroid[c], lab[c], 0.05);
    }

  /* Gray images: an L histogram only. */
  {
    g_autofree guint8 *img = solid_image (28, 1, 128, 0, 0);
    g_autoptr(LkFeatures) f = compute (img, 1, 28, 1);
    guint dim;
    const float *h = block_of (f, 0, LK_FEATURE_COLOR, &dim);
    float centroid = 0, lab[3];
    g_assert_cmpuint (dim, ==, LK_COLOR_GRAY_BINS);
    for (guint k = 0; k < dim; k++)
      centroid += h[k] * h[k] * (k + 0.5f) * 100.0f / LK_COLOR_GRAY_BINS;
    _lk_rgb_to_lab (128, 128, 128, lab);
    g_assert_cmpfloat_with_epsilon (centroid, lab[0], 0.05);
  }
}

static guint8 *
stripes (guint side, gboolean vertical)
{
  guint8 *img = g_new (guint8, side * side);
  for (guint y = 0; y < side; y++)
    for (guint x = 0; x < side; x++)
      img[y * side + x] = (guint8) (128 + 100 * sin (2 * G_PI * (vertical ? x : y) / 8.0));
  return img;
}

static void
orientation_shares (LkFeatures *f, float shares[LK_HOG_BINS])
{
  guint dim;
  const float *h = block_of (f, 0, LK_FEATURE_HOG, &dim);
  float total = 0;
  memset (shares, 0, LK_HOG_BINS * sizeof (float));
  for (guint k = 0; k < dim; k++)
    {
      shares[k % LK_HOG_BINS] += h[k];
      total += h[k];
    }
  g_assert_cmpfloat (total, >, 0);
  for (guint b = 0; b < LK_HOG_BINS; b++)
    shares[b] /= total;
}

static void
test_hog_stripes (void)
{
  g_autofree guint8 *v = stripes (SIDE, TRUE);
  g_autofree guint8 *h = stripes (SIDE, FALSE);
  g_autoptr(LkFeatures) fv = compute (v, 1, SIDE, 1);
  g_autoptr(LkFeatures) fh = compute (h, 1, SIDE, 1);
  float s[LK_HOG_BINS];

  /* Vertical stripes: intensity changes along x, gradient at 0°: bin 0. */
  orientation_shares (fv, s);
  g_assert_cmpfloat (s[0], >, 0.999);
  /* Horizontal stripes: gradient at 90°, halfway between bins 4 and 5. */
  orientation_shares (fh, s);
  g_assert_cmpfloat_with_epsilon (s[4], 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon (s[5], 0.5, 1e-3);
}

static void
test_lbp (void)
{
  g_autofree guint8 *flat = solid_image (SIDE, 1, 77, 0, 0);
  g_autoptr(LkFeatures) f = compute (flat, 1, SIDE, 1);
  guint dim, uniform = 0;
  const float *h = block_of (f, 0, LK_FEATURE_LBP, &dim);

  for (guint code = 0; code < 256; code++)
    uniform += _lk_lbp_bin (code) != 58;
  g_assert_cmpuint (uniform, ==, 58);
  /* Every neighbour equals the centre: code 0xff in every grid cell. */
  for (guint k = 0; k < dim; k++)
    g_assert_cmpfloat_with_epsilon (h[k], k % 59 == _lk_lbp_bin (0xff) ? 0.5 : 0.0, 1e-6);
}

static void
test_wavelet (void)
{
  g_autofree guint8 *flat = solid_image (SIDE, 1, 200, 0, 0);
  g_autofree guint8 *edge = g_new (guint8, SIDE * SIDE);
  guint dim;

  for (guint i = 0; i < SIDE * SIDE; i++)
    edge[i] = (i % SIDE) < SIDE / 2 ? 20 : 230;
  {
    g_autoptr(LkFeatures) f = compute (flat, 1, SIDE, 1);
    const float *w = block_of (f, 0, LK_FEATURE_WAVELET, &dim);
    /* A flat image has no detail: only the mean is left. */
    g_assert_cmpfloat_with_epsilon (w[0], 1.0, 1e-6);
    for (guint k = 1; k < dim; k++)
      g_assert_cmpfloat (w[k], ==, 0);
  }
  {
    g_autoptr(LkFeatures) f = compute (edge, 1, SIDE, 1);
    const float *w = block_of (f, 0, LK_FEATURE_WAVELET, &dim);
    /* A dark-left / bright-right step is one coarsest horizontal detail
     * coefficient, negative (left minus right). */
    g_assert_cmpfloat (w[0], >, 0);
    g_assert_cmpfloat (w[1], <, 0);
    for (guint k = 2; k < dim; k++)
      g_assert_cmpfloat (w[k], ==, 0);
  }
}

static void
assert_unit_blocks (LkFeatures *f)
{
  for (guint i = 0; i < lk_features_get_n_images (f); i++)
    for (guint k = 0; k < LK_N_FEATURES; k++)
      {
        guint dim;
        const float *b = block_of (f, i, k, &dim);
        double s = 0;
        for (guint c = 0; c < dim; c++)
          s += b[c] * b[c];
        g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-4);
      }
}

typedef struct {
  guint calls, last, total;
} Progress;

static void
on_progress (guint done, guint total, gpointer data)
{
  Progress *p = data;
  g_assert_cmpuint (done, >, p->last > done ? G_MAXUINT : 0);
  p->calls++;
  p->last = MAX (p->last, done);
  p->total = total;
}

static void
test_parallel_matches_serial (void)
{
  const guint n = 150;
  for (guint channels = 1; channels <= 3; channels += 2)
    {
      g_autofree guint8 *px = random_images (n, SIDE, channels, 7 + channels);
      g_autoptr(GError) error = NULL;
      g_autoptr(LkFeatures) serial = compute (px, n, SIDE, channels);
      g_autoptr(LkFeatures) parallel = NULL;
      Progress progress = { 0 };

      parallel = lk_features_compute (px, n, SIDE, channels, 3, on_progress, &progress,
                                      NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (lk_features_get_dim (parallel), ==, lk_features_get_dim (serial));
      g_assert_cmpmem (lk_features_get_data (parallel),
                       n * lk_features_get_dim (parallel) * sizeof (float),
                       lk_features_get_data (serial),
                       n * lk_features_get_dim (serial) * sizeof (float));
      g_assert_cmpuint (progress.last, ==, n);
      g_assert_cmpuint (progress.total, ==, n);
      g_assert_cmpuint (progress.calls, >=, 2);
      assert_unit_blocks (serial);
    }
}

static void
test_cancel (void)
{
  g_autofree guint8 *px = random_images (64, SIDE, 3, 1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  LkFeatures *f;

  g_cancellable_cancel (cancellable);
  f = lk_features_compute (px, 64, SIDE, 3, 2, NULL, NULL, cancellable, &error);
  g_assert_null (f);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_cache (void)
{
  const guint n = 40;
  g_autofree guint8 *px = random_images (n, SIDE, 3, 3);
  g_autofree char *dir = lk_test_make_tmpdir ("features-cache");
  g_autofree char *path = g_build_filename (dir, "features-32.bin", NULL);
  g_autoptr(LkFeatures) f = compute (px, n, SIDE, 3);
  guint64 hash = lk_pixels_hash (px, n, SIDE, 3);
  g_autoptr(GError) error = NULL;
  g_autofree char *bytes = NULL;
  gsize len;

  {
    LkFeatures *missing = lk_features_load (path, n, SIDE, 3, hash, &error);
    g_assert_null (missing);
    g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  g_assert_true (lk_features_save (f, path, &error));
  g_assert_no_error (error);
  {
    g_autoptr(LkFeatures) back = lk_features_load (path, n, SIDE, 3, hash, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (lk_features_get_data (back), n * lk_features_get_dim (back) * 4,
                     lk_features_get_data (f), n * lk_features_get_dim (f) * 4);
    g_assert_cmpuint (lk_features_get_checksum (back), ==, lk_features_get_checksum (f));
  }

  /* Other pixels, another shape: a mismatch, not a crash. */
  {
    LkFeatures *other = lk_features_load (path, n, SIDE, 3, hash ^ 1, &error);
    g_assert_null (other);
    g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
    g_clear_error (&error);
    other = lk_features_load (path, n - 1, SIDE, 3, hash, &error);
    g_assert_null (other);
    g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
    g_clear_error (&error);
  }

  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  /* One flipped bit in the rows, in the header, then a truncated file. */
  {
    g_autofree char *bad = g_build_filename (dir, "bad.bin", NULL);
    gsize offsets[] = { len - 5, 20 };
    for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
      {
        LkFeatures *back;
        bytes[offsets[i]] ^= 0x10;
        g_assert_true (g_file_set_contents (bad, bytes, len, NULL));
        bytes[offsets[i]] ^= 0x10;
        back = lk_features_load (bad, n, SIDE, 3, hash, &error);
        g_assert_null (back);
        g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
        g_clear_error (&error);
      }
    g_assert_true (g_file_set_contents (bad, bytes, len - 4, NULL));
    g_assert_null (lk_features_load (bad, n, SIDE, 3, hash, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
    g_clear_error (&error);
    g_assert_true (g_file_set_contents (bad, bytes, 10, NULL));
    g_assert_null (lk_features_load (bad, n, SIDE, 3, hash, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
    g_clear_error (&error);
  }

  /* load_or_compute: the cache when it fits, a recomputation when the
   * pixels changed (and the cache rewritten for them). */
  {
    g_autoptr(LkFeatures) a = lk_features_load_or_compute (path, px, n, SIDE, 3, 1, NULL, NULL,
                                                           NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (lk_features_get_checksum (a), ==, lk_features_get_checksum (f));
    px[5] ^= 0xff;
    {
      g_autoptr(LkFeatures) b = lk_features_load_or_compute (path, px, n, SIDE, 3, 1, NULL,
                                                             NULL, NULL, &error);
      g_autoptr(LkFeatures) c = NULL;
      g_assert_no_error (error);
      g_assert_cmpuint (lk_features_get_checksum (b), !=, lk_features_get_checksum (f));
      c = lk_features_load (path, n, SIDE, 3, lk_pixels_hash (px, n, SIDE, 3), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (lk_features_get_checksum (c), ==, lk_features_get_checksum (b));
    }
  }
}

/* ---- golden features ---- */

#define SYN_DIM 8

/* Random blocks; the "true" similarity uses block 0 strongly, block 2
 * weakly, and ignores blocks 1 and 3, which are high-variance noise — so
 * equal weights are misled and learned ones should not be. */
static LkFeatures *
synthetic_features (guint n, GRand *rand)
{
  static const double sd[LK_N_FEATURES] = { 1.0, 2.0, 1.0, 2.0 };
  guint dims[LK_N_FEATURES] = { SYN_DIM, SYN_DIM, SYN_DIM, SYN_DIM };
  g_autofree float *data = g_new (float, n * LK_N_FEATURES * SYN_DIM);
  for (guint i = 0; i < n; i++)
    for (guint b = 0; b < LK_N_FEATURES; b++)
      for (guint c = 0; c < SYN_DIM; c++)
        {
          /* Box–Muller. */
          double u1 = g_rand_double_range (rand, 1e-12, 1), u2 = g_rand_double (rand);
          data[(i * LK_N_FEATURES + b) * SYN_DIM + c] =
            (float) (sd[b] * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2));
        }
  return n % 2 ? lk_features_new_from_data (n, dims, data)
               : lk_features_new_take_data (n, dims, g_steal_pointer (&data));
}

static void
labelled_triplets (LkFeatures *f, const LkGoldenWeights *truth, GRand *rand, guint lo, guint hi,
                   guint count, guint32 *q, guint32 *p, guint32 *n)
{
  for (guint t = 0; t < count; t++)
    {
      guint32 a = g_rand_int_range (rand, lo, hi), b, c;
      do
        b = g_rand_int_range (rand, lo, hi);
      while (b == a);
      do
        c = g_rand_int_range (rand, lo, hi);
      while (c == a || c == b);
      if (lk_golden_distance (f, truth, a, b) > lk_golden_distance (f, truth, a, c))
        {
          guint32 tmp = b;
          b = c;
          c = tmp;
        }
      q[t] = a, p[t] = b, n[t] = c;
    }
}

static void
test_golden_learn (void)
{
  const guint n_images = 400, n_train = 3000, n_test = 3000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (2014);
  g_autoptr(LkFeatures) f = synthetic_features (n_images, rand);
  LkGoldenWeights truth = { { 4, 0, 1, 0 } }, def, learned;
  g_autofree guint32 *q = g_new (guint32, n_train + n_test);
  g_autofree guint32 *p = g_new (guint32, n_train + n_test);
  g_autofree guint32 *n = g_new (guint32, n_train + n_test);
  g_autoptr(GError) error = NULL;
  double prec_default, prec_learned;

  /* Training and held-out triplets use disjoint images. */
  labelled_triplets (f, &truth, rand, 0, n_images / 2, n_train, q, p, n);
  labelled_triplets (f, &truth, rand, n_images / 2, n_images, n_test,
                     q + n_train, p + n_train, n + n_train);
  g_assert_true (lk_golden_learn (f, q, p, n, n_train, NULL, &learned, &error));
  g_assert_no_error (error);
  lk_golden_weights_init_default (&def);
  prec_default = lk_golden_precision (f, &def, q + n_train, p + n_train, n + n_train, n_test);
  prec_learned = lk_golden_precision (f, &learned, q + n_train, p + n_train, n + n_train, n_test);
  g_test_message ("held-out precision: default %.3f, learned %.3f (w = %.2f %.2f %.2f %.2f)",
                  prec_default, prec_learned,
                  learned.w[0], learned.w[1], learned.w[2], learned.w[3]);
  g_assert_cmpfloat (prec_learned, >=, prec_default + 0.1);
  g_assert_cmpfloat (prec_learned, >=, 0.9);
  /* The noise blocks get (almost) nothing, block 0 the most. */
  g_assert_cmpfloat (learned.w[1], <, 0.1 * learned.w[0]);
  g_assert_cmpfloat (learned.w[3], <, 0.1 * learned.w[0]);
  g_assert_cmpfloat (learned.w[0], >, learned.w[2]);
  g_assert_cmpfloat_with_epsilon (learned.w[0] + learned.w[1] + learned.w[2] + learned.w[3],
                                  LK_N_FEATURES, 1e-4);

  /* Triplets without signal (each one and its mirror) are refused. */
  {
    guint32 mq[2] = { 0, 0 }, mp[2] = { 1, 2 }, mn[2] = { 2, 1 };
    LkGoldenWeights w;
    g_assert_false (lk_golden_learn (f, mq, mp, mn, 2, NULL, &w, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  }
}

static void
test_golden_embedding (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(LkFeatures) f = synthetic_features (20, rand);
  LkGoldenWeights w = { { 0.5f, 2.0f, 0.0f, 1.5f } };
  g_autofree float *emb = lk_golden_dup_embedding (f, &w);
  guint dim = lk_features_get_dim (f);

  for (guint i = 0; i < 20; i++)
    for (guint j = 0; j < 20; j++)
      {
        double s = 0;
        for (guint c = 0; c < dim; c++)
          {
            double t = emb[i * dim + c] - emb[j * dim + c];
            s += t * t;
          }
        g_assert_cmpfloat_with_epsilon (s, lk_golden_distance (f, &w, i, j),
                                        1e-4 * (1 + s));
      }
  {
    g_autofree float *hog = lk_features_dup_block (f, LK_FEATURE_HOG);
    guint off;
    lk_features_get_block (f, LK_FEATURE_HOG, &off);
    for (guint i = 0; i < 20; i++)
      g_assert_cmpmem (hog + i * SYN_DIM, SYN_DIM * 4, lk_features_get_row (f, i) + off,
                       SYN_DIM * 4);
  }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/features/lab-pure-colours", test_lab_pure_colours);
  g_test_add_func ("/engine/features/color-histogram-centroid", test_color_histogram_centroid);
  g_test_add_func ("/engine/features/hog-stripes", test_hog_stripes);
  g_test_add_func ("/engine/features/lbp", test_lbp);
  g_test_add_func ("/engine/features/wavelet", test_wavelet);
  g_test_add_func ("/engine/features/parallel-matches-serial", test_parallel_matches_serial);
  g_test_add_func ("/engine/features/cancel", test_cancel);
  g_test_add_func ("/engine/features/cache", test_cache);
  g_test_add_func ("/engine/golden/learn", test_golden_learn);
  g_test_add_func ("/engine/golden/embedding", test_golden_embedding);
  return g_test_run ();
}
