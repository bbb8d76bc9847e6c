/* model-store.h — a collection's trained models on disk, loading one,
 * and embedding with it (the model side of the embeddings.h seam).
 *
 * Layout, under lk_data_dir_for(id)/models/ (never inside the collection):
 *
 *   NAME/model.lkm                     the latest weights for inference
 *                                      (written at every stop and at the end)
 *   NAME/checkpoints/step-NNNNNNNNNN.lkm   checkpoints: weights, optimiser,
 *                                      RNG and trainer state (the last few)
 *   NAME/card.json                     the model card, for people and scripts
 *   NAME/evaluation.ini                figures from lk_model_store_set_evaluation()
 *
 * Every .lkm is an nn-model-file.h file whose metadata ("model.*",
 * "train.*") say how to feed it (input side, channels, normalisation,
 * golden weights) and what it is (preset, ablation, data, steps, time), so
 * any of them — a checkpoint too — can embed images.
 *
 * Embedding sources: "model-NAME" is the model file, "model-NAME@STEP" a
 * checkpoint. lk_model_register_embedder() registers the factory that
 * embeddings.h asks for such names, so `likeness-cli embed|query|eval` and
 * the app compute and list model rows as they do the baselines'. */
#pragma once

#include "collection.h"
#include "embeddings.h"
#include "model.h"
#include "nn-model-file.h"

G_BEGIN_DECLS

/* Names: 1–48 characters of [A-Za-z0-9._-], not starting with '.' or
 * '-' (they become folder and file names). */
gboolean lk_model_name_is_valid (const char *name);

/* lk_data_dir_for(id)/models and …/models/NAME. */
char    *lk_model_store_dir     (LkCollection *collection);
char    *lk_model_store_dir_for (LkCollection *collection, const char *name);
/* Whether NAME's folder holds a model: its model file or a checkpoint.
 * A folder with neither is what a run that failed or was killed before
 * its first checkpoint leaves; its name is free again. */
gboolean lk_model_store_has_model (LkCollection *collection, const char *name);
/* @base, or @base-2, @base-3…, the first that is free: no folder, or a
 * leftover folder without a model (lk_model_store_has_model()). */
char    *lk_model_store_new_name (LkCollection *collection, const char *base);

typedef struct {
  guint64 step;
  char   *path;
  gint64  mtime;     /* seconds since the epoch */
  guint64 size;      /* bytes */
} LkCheckpointInfo;

typedef struct {
  char      *name;
  char      *dir;
  char      *model_path;     /* NAME/model.lkm, or NULL if not written yet */
  char      *card_path;      /* NAME/card.json, or NULL */
  GPtrArray *checkpoints;    /* LkCheckpointInfo, by step */
} LkModelInfo;

void lk_model_info_free (LkModelInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkModelInfo, lk_model_info_free)

/* Every model folder of @collection with its files, by name (LkModelInfo,
 * freed with the array). Reads no model file. */
GPtrArray   *lk_model_store_list (LkCollection *collection);
/* One model's; NULL with LK_ERROR_NOT_FOUND when there is no such folder. */
LkModelInfo *lk_model_store_get  (LkCollection *collection, const char *name, GError **error);

/* The checkpoint file of @step in @dir (a model folder). */
char    *lk_model_checkpoint_path (const char *dir, guint64 step);

/* Evaluation figures kept with a model and shown in its card: key →
 * value (e.g. "class-level.precision" → "0.931"), merged into what is
 * there, and the card rewritten. */
gboolean lk_model_store_set_evaluation (LkCollection  *collection,
                                        const char    *name,
                                        GHashTable    *figures,
                                        GError       **error);

/* Writes NAME/card.json from @metadata (a model file's) and the stored
 * evaluation figures. */
gboolean lk_model_store_write_card (const char  *dir,
                                    GHashTable  *metadata,
                                    GError     **error);

/* ---- a model for inference ---- */

typedef struct _LkModel LkModel;

/* Loads a model file (model.lkm or a checkpoint) and checks that its
 * metadata describe a Likeness model whose input matches its network
 * (LK_ERROR_CORRUPT / _VERSION / _MISMATCH otherwise). */
LkModel *lk_model_load (const char *path, GError **error);
/* "NAME" (its model.lkm, else its latest checkpoint) or "NAME@STEP" of
 * @collection's store. */
LkModel *lk_model_open (LkCollection *collection, const char *name, GError **error);
LkModel *lk_model_ref   (LkModel *self);
void     lk_model_unref (LkModel *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkModel, lk_model_unref)

const char     *lk_model_get_path      (LkModel *self);
const char     *lk_model_get_name      (LkModel *self);     /* "NAME" or "NAME@STEP" */
LkPreset        lk_model_get_preset    (LkModel *self);
LkAblation      lk_model_get_ablation  (LkModel *self);
guint           lk_model_get_dim       (LkModel *self);     /* embedding width */
const LkNnSpec *lk_model_get_spec      (LkModel *self);
LkNnModel      *lk_model_get_file      (LkModel *self);
const char     *lk_model_get_metadata  (LkModel *self, const char *key);
/* A hash of the parameters and metadata: what keys its stored rows. */
guint64         lk_model_get_key       (LkModel *self);

/* An embedder ("model-NAME", labelled e.g. "DeepRanking (tiny) NAME")
 * for @collection: images are resampled to the model's input, so any
 * collection of the same channel count will do (LK_ERROR_MISMATCH
 * otherwise). @n_threads 0 = one per core. */
LkEmbedder *lk_model_new_embedder (LkModel       *self,
                                   LkCollection  *collection,
                                   guint          n_threads,
                                   GError       **error);

/* The source name of a model or checkpoint: "model-NAME", "model-NAME@STEP". */
char       *lk_model_source_name  (const char *name, guint64 step);

/* Registers the embeddings.h factory for "model-…" sources (once; any
 * thread; later calls do nothing). */
void        lk_model_register_embedder (void);

G_END_DECLS
