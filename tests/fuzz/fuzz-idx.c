/* fuzz-idx.c — the IDX reader (src/engine/idx.c), raw and gzipped.
 *
 * Input: a mode byte, then the data. Mode & 3: 0 parses it from memory as
 * images (3 dimensions), 1 as labels (1 dimension), 2 loads it from a
 * plain file, 3 from a .gz file (so the data is a gzip stream) and parses
 * what comes out. Every byte of an accepted payload is read. */
#include "config.h"

#include "collection-private.h"
#include "fuzz.h"

static void
parse (const guint8 *data, gsize len, guint n_dims)
{
  g_autoptr(GError) error = NULL;
  guint32 dims[3] = { 0 };
  const guint8 *payload = NULL;
  guint64 count = 1;

  if (!_lk_idx_parse (data, len, n_dims, dims, &payload, &error))
    {
      g_assert_nonnull (error);
      return;
    }
  for (guint d = 0; d < n_dims; d++)
    count *= dims[d];
  g_assert_true (payload >= data && payload + count == data + len);
  lk_fuzz_touch (payload, (gsize) count);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint mode;

  if (size < 1)
    return 0;
  lk_fuzz_init ();
  mode = data[0] & 3;
  data++, size--;
  if (mode < 2)
    parse (data, size, mode == 0 ? 3 : 1);
  else
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      const char *path = lk_fuzz_write_file (mode == 2 ? "input-idx3-ubyte" : "input-idx3-ubyte.gz",
                                             data, size);
      bytes = _lk_idx_load_file (path, NULL, &error);
      if (bytes != NULL)
        {
          gsize len;
          const guint8 *p = g_bytes_get_data (bytes, &len);
          parse (p, len, 3);
          parse (p, len, 1);
        }
      else
        g_assert_nonnull (error);
    }
  return 0;
}
