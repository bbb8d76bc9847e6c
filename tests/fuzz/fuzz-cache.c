/* fuzz-cache.c — the decoded-image cache file (src/engine/cache.c).
 *
 * Input: a mode byte, then the file. The side and channel count the
 * reader is asked for are the ones the header claims (when sane), so the
 * fuzzer gets past the mismatch check. Mode bit 0: fix the header's file
 * length and checksum first (offsets as in cache.c's CacheHeader). An
 * opened cache is then read the way a scan reads it: every path, image,
 * lookup and skip. */
#include "config.h"

#include <string.h>

#include "collection-private.h"
#include "fuzz.h"

#define HEADER_SIZE 128
#define OFF_SIDE 16
#define OFF_CHANNELS 20
#define OFF_META_SIZE 48
#define OFF_FILE_SIZE 72
#define OFF_CHECKSUM 80

static void
fixup (guint8 *buf, gsize len)
{
  guint64 meta_size, hash;

  if (len < HEADER_SIZE)
    return;
  lk_fuzz_set_u64 (buf, len, OFF_FILE_SIZE, len);
  lk_fuzz_set_u64 (buf, len, OFF_CHECKSUM, 0);
  meta_size = lk_fuzz_get_u64 (buf, len, OFF_META_SIZE);
  if (meta_size > len - HEADER_SIZE)
    return;
  hash = lk_hash64 (buf, HEADER_SIZE, 0);
  lk_fuzz_set_u64 (buf, len, OFF_CHECKSUM, lk_hash64 (buf + HEADER_SIZE, meta_size, hash));
}

static void
exercise (LkCache *cache)
{
  g_autoptr(LkCollection) coll = _lk_cache_get_collection (cache);
  g_autoptr(GError) skipped = NULL;
  guint n = lk_collection_get_n_images (coll), n_skipped;
  gsize image_bytes = (gsize) lk_collection_get_side (coll) * lk_collection_get_side (coll) *
                      lk_collection_get_channels (coll);
  const LkSkipped *skips;
  guint8 x = 0;

  x ^= lk_fuzz_touch (lk_collection_get_id (coll), strlen (lk_collection_get_id (coll)));
  x ^= lk_fuzz_touch (lk_collection_get_name (coll), strlen (lk_collection_get_name (coll)));
  x ^= lk_fuzz_touch (_lk_cache_get_source (cache), strlen (_lk_cache_get_source (cache)));
  for (guint c = 0; c < lk_collection_get_n_categories (coll); c++)
    {
      const char *name = lk_collection_get_category_name (coll, c);
      x ^= lk_fuzz_touch (name, strlen (name));
      x ^= (guint8) lk_collection_get_category_count (coll, c);
    }
  for (guint i = 0; i < n; i++)
    {
      const char *path = lk_collection_get_path (coll, i);
      guint64 size;
      guint w, h, found;

      x ^= lk_fuzz_touch (path, strlen (path));
      x ^= lk_fuzz_touch (lk_collection_get_image (coll, i), image_bytes);
      x ^= (guint8) lk_collection_get_label (coll, i) ^ (guint8) lk_collection_get_split (coll, i);
      lk_collection_get_file_info (coll, i, &size, &w, &h);
      if (lk_collection_find_path (coll, path, &found))
        x ^= (guint8) found;
      if (_lk_cache_lookup (cache, path, size, coll->mtimes[i], &found))
        x ^= (guint8) found;
      if (_lk_cache_lookup_skip (cache, path, size, coll->mtimes[i]) != NULL)
        x ^= 1;
    }
  skips = lk_collection_get_skipped (coll, &n_skipped);
  for (guint s = 0; s < n_skipped; s++)
    x ^= lk_fuzz_touch (skips[s].path, strlen (skips[s].path));
  skipped = lk_collection_dup_skipped_error (coll);
  (void) x;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCache) cache = NULL;
  const char *path;
  guint side, channels;
  guint8 mode;
  gsize len;

  if (!lk_fuzz_split_input (data, size, &mode, &buf, &len))
    return 0;
  if (mode & 1)
    fixup (buf, len);
  side = lk_fuzz_get_u32 (buf, len, OFF_SIDE);
  channels = lk_fuzz_get_u32 (buf, len, OFF_CHANNELS);
  if (side < 1 || side > 1024)
    side = 64;
  if (channels != 1 && channels != 3)
    channels = 3;
  path = lk_fuzz_write_file ("images-64.cache", buf, len);
  cache = _lk_cache_open (path, side, channels, &error);
  if (cache != NULL)
    exercise (cache);
  else
    g_assert_nonnull (error);
  return 0;
}
