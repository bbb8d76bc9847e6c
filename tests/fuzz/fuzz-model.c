/* fuzz-model.c — NN model and checkpoint files (lk_nn_model_load,
 * nn-model-file.c; the format is docs/model-format.md).
 *
 * Input: a mode byte, then the file. Mode bit 0: recompute every payload
 * checksum that lies inside the file, then the header checksum (of the
 * section table and header bytes 0–15). A loaded model is read through
 * its accessors and rebuilt as a network of batch 1; then the same file
 * goes through lk_model_load() (model-store.c), which checks the
 * metadata of a Likeness model or checkpoint against its network. Mode
 * bit 1: the file is also the only checkpoint of model "fz" of a small
 * collection in memory, resumed with lk_trainer_new_resume() (the
 * trainer's parameters, state and loss history it reads). */
#include "config.h"

#include <string.h>

#include "fileutil.h"
#include "fuzz.h"
#include "model-store.h"
#include "nn-model-file.h"
#include "trainer.h"

#define HEADER_SIZE 24
#define ENTRY_SIZE 32
#define HASH_SEED G_GUINT64_CONSTANT (0x4C4B4E4E4D4F444C)

static void
fixup (guint8 *buf, gsize len)
{
  guint32 n = lk_fuzz_get_u32 (buf, len, 12);
  g_autofree guint8 *table = NULL;

  if (len < HEADER_SIZE || n > 4096 || len - HEADER_SIZE < (gsize) ENTRY_SIZE * n)
    return;
  for (guint32 i = 0; i < n; i++)
    {
      gsize e = HEADER_SIZE + (gsize) ENTRY_SIZE * i;
      guint64 off = lk_fuzz_get_u64 (buf, len, e + 8), size = lk_fuzz_get_u64 (buf, len, e + 16);
      if (off <= len && size <= len - off)
        lk_fuzz_set_u64 (buf, len, e + 24, lk_hash64 (buf + off, size, HASH_SEED));
    }
  table = g_malloc ((gsize) ENTRY_SIZE * n + 16);
  memcpy (table, buf + HEADER_SIZE, (gsize) ENTRY_SIZE * n);
  memcpy (table + (gsize) ENTRY_SIZE * n, buf, 16);
  lk_fuzz_set_u64 (buf, len, 16, lk_hash64 (table, (gsize) ENTRY_SIZE * n + 16, HASH_SEED));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkNnModel) model = NULL;
  guint8 mode;
  gsize len;

  if (!lk_fuzz_split_input (data, size, &mode, &buf, &len))
    return 0;
  if (mode & 1)
    fixup (buf, len);
  model = lk_nn_model_load (lk_fuzz_write_file ("model.lknn", buf, len), &error);
  if (model == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  {
    const LkNnSpec *spec = lk_nn_model_get_spec (model);
    g_autofree const char **keys = lk_nn_model_get_metadata_keys (model);
    g_autoptr(LkNnNet) net = NULL;

    lk_fuzz_touch (lk_nn_model_get_params (model),
                   (gsize) lk_nn_spec_get_n_params (spec) * sizeof (float));
    for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
      {
        const char *v = lk_nn_model_get_metadata (model, keys[k]);
        lk_fuzz_touch (v, strlen (v));
      }
    (void) lk_nn_model_has_optimizer (model);
    net = lk_nn_model_new_net (model, 1, 1, 0, NULL);
  }
  if (mode & 2)
    {
      static LkCollection *c;
      static char *checkpoint;
      g_autoptr(GError) local = NULL;
      g_autoptr(LkTrainer) t = NULL;

      if (c == NULL)
        {
          g_autofree char *dir = NULL, *parent = NULL;
          c = lk_fuzz_small_collection (8, 1, 12, FALSE);
          dir = lk_model_store_dir_for (c, "fz");
          checkpoint = lk_model_checkpoint_path (dir, 1);
          parent = g_path_get_dirname (checkpoint);
          g_mkdir_with_parents (parent, 0755);
        }
      if (!g_file_set_contents (checkpoint, (const char *) buf, (gssize) len, &local))
        g_error ("%s", local->message);
      t = lk_trainer_new_resume (c, "fz", &local);
      g_assert (t != NULL || local != NULL);
      if (t != NULL)
        {
          g_autoptr(GArray) history = lk_trainer_dup_history (t);
          lk_fuzz_touch (history->data, history->len * sizeof (LkTrainPoint));
        }
    }
  {
    g_autoptr(GError) local = NULL;
    g_autoptr(LkModel) m = lk_model_load (lk_fuzz_write_file ("model.lknn", buf, len), &local);
    g_assert (m != NULL || local != NULL);
    if (m != NULL)
      lk_fuzz_touch (lk_model_get_name (m), strlen (lk_model_get_name (m)));
  }
  return 0;
}
