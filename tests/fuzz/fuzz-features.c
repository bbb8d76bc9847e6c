/* fuzz-features.c — the features cache (lk_features_load).
 *
 * Input: a mode byte, then the file. The shape and pixel hash the reader
 * is asked for are the ones the header claims, so the fuzzer gets past the
 * mismatch check. Mode bit 0: fix the data and header checksums first
 * (offsets as in hand-features.c's FeaturesHeader). Loaded rows are read
 * through every accessor. */
#include "config.h"

#include <string.h>

#include "golden.h"
#include "fileutil.h"
#include "fuzz.h"

#define HEADER_SIZE 72
#define OFF_N_IMAGES 16
#define OFF_SIDE 20
#define OFF_CHANNELS 24
#define OFF_DIMS 28
#define OFF_PIXEL_HASH 48
#define OFF_DATA_CHECKSUM 56
#define OFF_HEADER_CHECKSUM 64

static void
fixup (guint8 *buf, gsize len)
{
  guint64 dim = 0;

  for (guint k = 0; k < LK_N_FEATURES; k++)
    dim += lk_fuzz_get_u32 (buf, len, OFF_DIMS + 4 * k);
  lk_fuzz_fix_float_file (buf, len, HEADER_SIZE, lk_fuzz_get_u32 (buf, len, OFF_N_IMAGES) * dim,
                          0x46454154, OFF_DATA_CHECKSUM, OFF_HEADER_CHECKSUM);
}

static void
exercise (LkFeatures *f)
{
  guint n = lk_features_get_n_images (f), dim = lk_features_get_dim (f);
  LkGoldenWeights w;
  float d[LK_N_FEATURES];

  lk_golden_weights_init_default (&w);
  lk_fuzz_touch (lk_features_get_data (f), (gsize) n * dim * sizeof (float));
  for (guint k = 0; k < LK_N_FEATURES; k++)
    {
      guint offset;
      g_autofree float *block = lk_features_dup_block (f, k);
      guint bd = lk_features_get_block (f, k, &offset);
      g_assert_cmpuint (offset + bd, <=, dim);
      lk_fuzz_touch (block, (gsize) n * bd * sizeof (float));
    }
  for (guint i = 0; i + 1 < n && i < 8; i++)
    {
      lk_features_block_distances (f, i, i + 1, d);
      (void) lk_golden_distance (f, &w, i, n - 1);
    }
  if (n > 0)
    g_free (lk_golden_dup_embedding (f, &w));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkFeatures) f = NULL;
  const char *path;
  guint8 mode;
  gsize len;

  if (!lk_fuzz_split_input (data, size, &mode, &buf, &len))
    return 0;
  if (mode & 1)
    fixup (buf, len);
  path = lk_fuzz_write_file ("features-28.bin", buf, len);
  f = lk_features_load (path, lk_fuzz_get_u32 (buf, len, OFF_N_IMAGES),
                        lk_fuzz_get_u32 (buf, len, OFF_SIDE),
                        lk_fuzz_get_u32 (buf, len, OFF_CHANNELS),
                        lk_fuzz_get_u64 (buf, len, OFF_PIXEL_HASH), &error);
  if (f != NULL)
    exercise (f);
  else
    g_assert_nonnull (error);
  return 0;
}
