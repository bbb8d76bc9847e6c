/* nn-model-file.h — saving and loading networks: architecture, parameters
 * and, for checkpoints, the optimiser state, the RNG state, metadata and
 * opaque blobs. The format is in docs/model-format.md.
 *
 * A file carries its own architecture (the serialised LkNnSpec), so
 * lk_nn_model_load() + lk_nn_model_new_net() rebuild a network without the
 * code that first described it. Files are written atomically; the reader
 * maps the file, checks every length against the file size, every
 * section's checksum and the architecture, and fails with a GError in
 * LK_ERROR (CORRUPT, VERSION, MISMATCH, IO, NOT_FOUND) — it never reads
 * outside the file. */
#pragma once

#include "nn-net.h"
#include "nn-optim.h"

G_BEGIN_DECLS

typedef struct {
  const char   *name;   /* unique among a file's blobs, < 256 bytes */
  gconstpointer data;
  gsize         size;
} LkNnBlob;

typedef struct {
  GHashTable     *metadata;  /* UTF-8 string → UTF-8 string, or NULL */
  LkNnSgd        *sgd;       /* checkpoint: momentum arena, step and settings, or NULL */
  const LkNnBlob *blobs;     /* e.g. a sampler's state, or NULL */
  guint           n_blobs;
} LkNnSaveOptions;

/* Saves @net's spec, parameters and dropout RNG state, plus what
 * @options (may be NULL) asks for. */
gboolean lk_nn_model_save (const char             *path,
                           LkNnNet                *net,
                           const LkNnSaveOptions  *options,
                           GError                **error);

typedef struct _LkNnModel LkNnModel;

LkNnModel *lk_nn_model_load (const char *path, GError **error);
void       lk_nn_model_free (LkNnModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkNnModel, lk_nn_model_free)

const LkNnSpec *lk_nn_model_get_spec     (LkNnModel *model);
/* lk_nn_spec_get_n_params() floats. */
const float    *lk_nn_model_get_params   (LkNnModel *model);
/* NULL when the file has no such key (or no metadata). */
const char     *lk_nn_model_get_metadata (LkNnModel *model, const char *key);
/* The keys, sorted; free the array (not the strings) with g_free(). */
const char    **lk_nn_model_get_metadata_keys (LkNnModel *model);
/* NULL when the file has no blob called @name. */
GBytes         *lk_nn_model_get_blob     (LkNnModel *model, const char *name);
/* TRUE for a checkpoint saved with an optimiser. */
gboolean        lk_nn_model_has_optimizer (LkNnModel *model);

/* A new net of the file's architecture with its parameters, RNG state and
 * (when saved) momentum. */
LkNnNet *lk_nn_model_new_net (LkNnModel     *model,
                              guint          max_batch,
                              guint          n_threads,
                              LkNnNetFlags   flags,
                              GError       **error);
/* Copies the file's parameters, RNG state and momentum into @net, and
 * when @sgd is not NULL its step and settings into @sgd. Fails with
 * LK_ERROR_MISMATCH if @net has another architecture, or @sgd is given
 * and the file has no optimiser state; @net is then unchanged. */
gboolean lk_nn_model_restore (LkNnModel  *model,
                              LkNnNet    *net,
                              LkNnSgd    *sgd,
                              GError    **error);

G_END_DECLS
