/* fuzz-relevance.c — the relevance cache (lk_relevance_load), and the
 * sampler fed with what it loads.
 *
 * Input: a mode byte, then the file. The harness builds features, labels,
 * weights and parameters that agree with what the header claims (sizes
 * bounded so each run stays small), so the fuzzer gets past the mismatch
 * check. Mode bit 0: also fix the key hashes and both checksums first
 * (offsets as in relevance.c's RelevanceHeader). A loaded relevance is read
 * through every accessor and drives a few sampler batches. */
#include "config.h"

#include <string.h>

#include "fileutil.h"
#include "fuzz.h"
#include "sampler.h"

#define HEADER_SIZE 96
#define OFF_N_IMAGES 16
#define OFF_N_CATEGORIES 20
#define OFF_TOP_M 24
#define OFF_N_SIGMA_PAIRS 28
#define OFF_SIGMA_QUANTILE 32
#define OFF_WEIGHTS 36
#define OFF_SEED 56
#define OFF_FEATURES_CHECKSUM 64
#define OFF_LABELS_HASH 72
#define OFF_DATA_CHECKSUM 80
#define OFF_HEADER_CHECKSUM 88
#define MAX_IMAGES 64
#define MAX_CATEGORIES 8
#define MAX_TOP_M 64

typedef struct {
  guint n, n_categories;
  guint16 labels[MAX_IMAGES];
  LkFeatures *features;
  LkGoldenWeights weights;
  LkRelevanceParams params;
} Key;

static void
key_from_header (Key *key, const guint8 *buf, gsize len)
{
  static const guint dims[LK_N_FEATURES] = { 2, 1, 1, 1 };
  float data[MAX_IMAGES * 5];
  guint32 bits;

  key->n = lk_fuzz_get_u32 (buf, len, OFF_N_IMAGES);
  key->n_categories = lk_fuzz_get_u32 (buf, len, OFF_N_CATEGORIES);
  if (key->n > MAX_IMAGES)
    key->n = MAX_IMAGES;
  if (key->n_categories < 1 || key->n_categories > MAX_CATEGORIES)
    key->n_categories = 2;
  for (guint i = 0; i < key->n; i++)
    {
      key->labels[i] = (guint16) (i % key->n_categories);
      for (guint c = 0; c < 5; c++)
        data[i * 5 + c] = (float) ((i * 7 + c * 3) % 11) / 11.0f;
    }
  key->features = lk_features_new_from_data (key->n, dims, data);
  lk_relevance_params_init (&key->params);
  key->params.top_m = lk_fuzz_get_u32 (buf, len, OFF_TOP_M);
  if (key->params.top_m < 1 || key->params.top_m > MAX_TOP_M)
    key->params.top_m = 32;
  key->params.n_sigma_pairs = lk_fuzz_get_u32 (buf, len, OFF_N_SIGMA_PAIRS);
  bits = lk_fuzz_get_u32 (buf, len, OFF_SIGMA_QUANTILE);
  memcpy (&key->params.sigma_quantile, &bits, 4);
  key->params.seed = lk_fuzz_get_u64 (buf, len, OFF_SEED);
  for (guint k = 0; k < LK_N_FEATURES; k++)
    {
      bits = lk_fuzz_get_u32 (buf, len, OFF_WEIGHTS + 4 * k);
      memcpy (&key->weights.w[k], &bits, 4);
    }
}

static void
fixup (const Key *key, guint8 *buf, gsize len)
{
  gsize n = key->n, nm = n * key->params.top_m;
  gsize sizes[6] = { key->n_categories * 4, n * 4, n * 4, n * 4, nm * 4, nm * 4 };
  gsize at = HEADER_SIZE;
  guint64 h = 0x52454c;

  if (len < HEADER_SIZE)
    return;
  lk_fuzz_set_u32 (buf, len, OFF_N_IMAGES, key->n);
  lk_fuzz_set_u32 (buf, len, OFF_N_CATEGORIES, key->n_categories);
  lk_fuzz_set_u32 (buf, len, OFF_TOP_M, key->params.top_m);
  lk_fuzz_set_u64 (buf, len, OFF_FEATURES_CHECKSUM, lk_features_get_checksum (key->features));
  lk_fuzz_set_u64 (buf, len, OFF_LABELS_HASH,
                   lk_hash64 (key->labels, n * sizeof (guint16), key->n_categories));
  for (guint k = 0; k < 6 && at + sizes[k] <= len; k++)
    {
      h = lk_hash64 (buf + at, sizes[k], h);
      at += sizes[k];
    }
  lk_fuzz_set_u64 (buf, len, OFF_DATA_CHECKSUM, h);
  lk_fuzz_set_u64 (buf, len, OFF_HEADER_CHECKSUM, lk_hash64 (buf, OFF_HEADER_CHECKSUM, 0));
}

static void
exercise (LkRelevance *rel, guint n_categories)
{
  guint n = lk_relevance_get_n_images (rel);
  g_autoptr(LkSampler) sampler = NULL;
  LkSamplerParams sp;
  LkTriplet batch[4];
  float x = 0;

  for (guint c = 0; c < n_categories; c++)
    x += lk_relevance_get_sigma (rel, c);
  for (guint i = 0; i < n; i++)
    {
      const guint32 *idx;
      const float *r;
      guint m = lk_relevance_neighbours (rel, i, &idx, &r);
      g_assert_cmpuint (m, <=, lk_relevance_get_top_m (rel));
      x += lk_relevance_total (rel, i) + lk_relevance_max (rel, i);
      for (guint k = 0; k < m; k++)
        x += r[k] + lk_relevance_pair (rel, i, idx[k]);
      x += lk_relevance_pair (rel, i, n - 1 - i);
    }
  lk_sampler_params_init (&sp);
  sp.buffer_size = 8;
  sp.max_attempts = 200;
  sampler = lk_sampler_new (rel, &sp);
  for (guint b = 0; b < 3 && lk_sampler_next_batch (sampler, batch, 4, NULL); b++)
    for (guint t = 0; t < 4; t++)
      g_assert_true (batch[t].query < n && batch[t].positive < n && batch[t].negative < n);
  lk_sampler_snapshot_free (lk_sampler_snapshot (sampler));
  (void) x;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkRelevance) rel = NULL;
  Key key;
  const char *path;
  guint8 mode;
  gsize len;

  if (!lk_fuzz_split_input (data, size, &mode, &buf, &len))
    return 0;
  key_from_header (&key, buf, len);
  if (mode & 1)
    fixup (&key, buf, len);
  path = lk_fuzz_write_file ("relevance-28.bin", buf, len);
  rel = lk_relevance_load (path, key.features, key.labels, key.n_categories, &key.weights,
                           &key.params, &error);
  if (rel != NULL)
    exercise (rel, key.n_categories);
  else
    g_assert_nonnull (error);
  lk_features_unref (key.features);
  return 0;
}
