/* fuzz-embedding.c — embedding files (lk_embedding_load, embeddings.c).
 *
 * Input: a mode byte, then the file. Mode bit 0: fix the data and header
 * checksums first (offsets as in embeddings.c's EmbeddingHeader). A loaded
 * embedding is read through every accessor. */
#include "config.h"

#include <string.h>

#include "embeddings.h"
#include "fileutil.h"
#include "fuzz.h"

#define HEADER_SIZE 384
#define OFF_N 20
#define OFF_DIM 24
#define OFF_DATA_CHECKSUM 368
#define OFF_HEADER_CHECKSUM 376

static void
fixup (guint8 *buf, gsize len)
{
  lk_fuzz_fix_float_file (buf, len, HEADER_SIZE,
                          (guint64) lk_fuzz_get_u32 (buf, len, OFF_N) *
                          lk_fuzz_get_u32 (buf, len, OFF_DIM),
                          0x454d4244, OFF_DATA_CHECKSUM, OFF_HEADER_CHECKSUM);
}

static void
exercise (LkEmbedding *e)
{
  guint n = lk_embedding_get_n (e), dim = lk_embedding_get_dim (e);

  lk_fuzz_touch (lk_embedding_get_name (e), strlen (lk_embedding_get_name (e)));
  lk_fuzz_touch (lk_embedding_get_label (e), strlen (lk_embedding_get_label (e)));
  lk_fuzz_touch (lk_embedding_get_collection_id (e), strlen (lk_embedding_get_collection_id (e)));
  lk_fuzz_touch (lk_embedding_get_data (e), (gsize) n * dim * sizeof (float));
  if (n > 0)
    {
      lk_fuzz_touch (lk_embedding_get_row (e, n - 1), dim * sizeof (float));
      (void) lk_embedding_distance (e, 0, n - 1);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkEmbedding) e = NULL;
  guint8 mode;
  gsize len;

  if (!lk_fuzz_split_input (data, size, &mode, &buf, &len))
    return 0;
  if (mode & 1)
    fixup (buf, len);
  e = lk_embedding_load (lk_fuzz_write_file ("golden.emb", buf, len), &error);
  if (e != NULL)
    exercise (e);
  else
    g_assert_nonnull (error);
  return 0;
}
