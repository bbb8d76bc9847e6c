/* embeddings.h — embeddings of a collection: what computes them
 * (LkEmbedder), the stored rows (LkEmbedding), the list of every source
 * a collection has, and the NumPy export.
 *
 * An embedding is an (N, dim) float32 matrix, one row per image of the
 * collection in collection order, compared by squared Euclidean distance.
 * Sources:
 *   baselines, computed on demand and stored once:
 *     "pixels"   the image area-averaged to at most 32×32, values in [0, 1]
 *     "wavelet", "color", "hog", "lbp"   one hand-crafted block each
 *     "golden"   the four blocks with the default golden weights
 *     "golden-learned"   the same with weights learned from the
 *                collection's labelled triplets (only when it has some)
 *   models (issue 4): any LkEmbedder a registered factory can build, and
 *     every embedding file a model left in the collection's folder.
 *
 * Files: lk_data_dir_for(id)/embeddings/NAME.emb, written atomically: a
 * 384-byte header (magic, version, kind, n, dim, name, label, collection
 * id, the source key — what computed it: the features' parameters, the
 * weights, a model's checksum — and the data key — the images it was
 * computed from, lk_collection_pixels_key() — and checksums), then the
 * rows, 64-byte aligned, memory-mapped when loaded. A file whose keys do
 * not match the collection and the source is stale and is recomputed
 * (baselines) or reported as such (models). */
#pragma once

#include <gio/gio.h>

#include "collection.h"
#include "golden.h"

G_BEGIN_DECLS

typedef enum {
  LK_EMBEDDING_BASELINE = 0,
  LK_EMBEDDING_MODEL,
} LkEmbeddingKind;

/* Progress in images done, from the computing thread. */
typedef void (*LkEmbedProgress) (guint    done,
                                 guint    total,
                                 gpointer user_data);

/* ---- LkEmbedder: what turns images into rows ---- */

typedef struct _LkEmbedder LkEmbedder;

/* What an embedder implements. Both functions may run in a worker thread;
 * an embedder is used by one thread at a time. */
typedef struct {
  /* Rows of images @indices (n) of @collection into @out (n, dim). Checks
   * @cancellable between batches (G_IO_ERROR_CANCELLED). */
  gboolean (*embed_images) (LkEmbedder       *self,
                            LkCollection     *collection,
                            const guint32    *indices,
                            guint             n,
                            float            *out,
                            LkEmbedProgress   progress,
                            gpointer          progress_data,
                            GCancellable     *cancellable,
                            GError          **error);
  /* The row of one decoded image, (side, side, channels) uint8 HWC at the
   * collection's side and channels, into @out (dim). */
  gboolean (*embed_pixels) (LkEmbedder       *self,
                            const guint8     *image,
                            guint             side,
                            guint             channels,
                            float            *out,
                            GError          **error);
} LkEmbedderVTable;

/* For implementations: @name is a stable file-name-safe id ("golden",
 * "model-tiny-3"), @label is shown to people, @source_key identifies what
 * computes the rows (weights, parameters, a checksum of a model), so a
 * stored embedding made by something else is detected. @impl is handed
 * back by lk_embedder_get_impl() and freed with @impl_free. */
LkEmbedder *lk_embedder_new (const LkEmbedderVTable *vtable,
                             const char             *name,
                             const char             *label,
                             LkEmbeddingKind         kind,
                             guint                   dim,
                             guint64                 source_key,
                             gpointer                impl,
                             GDestroyNotify          impl_free);
LkEmbedder *lk_embedder_ref   (LkEmbedder *self);
void        lk_embedder_unref (LkEmbedder *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkEmbedder, lk_embedder_unref)

const char     *lk_embedder_get_name       (LkEmbedder *self);
const char     *lk_embedder_get_label      (LkEmbedder *self);
LkEmbeddingKind lk_embedder_get_kind       (LkEmbedder *self);
guint           lk_embedder_get_dim        (LkEmbedder *self);
guint64         lk_embedder_get_source_key (LkEmbedder *self);
gpointer        lk_embedder_get_impl       (LkEmbedder *self);

gboolean lk_embedder_embed_images (LkEmbedder *self, LkCollection *collection,
                                   const guint32 *indices, guint n, float *out,
                                   LkEmbedProgress progress, gpointer progress_data,
                                   GCancellable *cancellable, GError **error);
gboolean lk_embedder_embed_pixels (LkEmbedder *self, const guint8 *image, guint side,
                                   guint channels, float *out, GError **error);
/* Decodes an image file from outside the collection as a scan would (the
 * collection's side; gray for a gray collection) and embeds it into @out
 * (dim). */
gboolean lk_embedder_embed_file   (LkEmbedder *self, LkCollection *collection,
                                   const char *path, float *out, GError **error);

/* The baselines' names, NULL-terminated: pixels, wavelet, color, hog,
 * lbp, golden (golden-learned is made by lk_embedder_new_golden()). */
const char *const *lk_embedder_baseline_names (void);

/* A baseline embedder for @collection; NULL with LK_ERROR_NOT_FOUND for
 * an unknown name. */
LkEmbedder *lk_embedder_new_baseline (LkCollection *collection,
                                      const char   *name,
                                      GError      **error);
/* Golden features with given weights, named @name ("golden",
 * "golden-learned"). */
LkEmbedder *lk_embedder_new_golden   (LkCollection          *collection,
                                      const char            *name,
                                      const char            *label,
                                      const LkGoldenWeights *weights);

/* The seam for models (issue 4): a factory returns an embedder for a
 * source name it knows, NULL without an error for names it does not
 * know, or NULL with an error. */
typedef LkEmbedder *(*LkEmbedderFactory) (LkCollection  *collection,
                                          const char    *name,
                                          gpointer       user_data,
                                          GError       **error);
void        lk_embedder_register_factory (LkEmbedderFactory factory, gpointer user_data);
/* A baseline, golden-learned (weights learned from the collection's
 * labelled triplets), or what a registered factory builds for @name. */
LkEmbedder *lk_embedder_new_for_source   (LkCollection  *collection,
                                          const char    *name,
                                          GError       **error);

/* ---- LkEmbedding: the rows ---- */

typedef struct _LkEmbedding LkEmbedding;

/* Takes @data (n, dim), allocated with g_malloc. */
LkEmbedding *lk_embedding_new_take (const char      *name,
                                    const char      *label,
                                    LkEmbeddingKind  kind,
                                    const char      *collection_id,
                                    guint            n,
                                    guint            dim,
                                    guint64          source_key,
                                    guint64          data_key,
                                    float           *data);
LkEmbedding *lk_embedding_ref   (LkEmbedding *self);
void         lk_embedding_unref (LkEmbedding *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkEmbedding, lk_embedding_unref)

const char     *lk_embedding_get_name          (LkEmbedding *self);
const char     *lk_embedding_get_label         (LkEmbedding *self);
LkEmbeddingKind lk_embedding_get_kind          (LkEmbedding *self);
const char     *lk_embedding_get_collection_id (LkEmbedding *self);
guint           lk_embedding_get_n             (LkEmbedding *self);
guint           lk_embedding_get_dim           (LkEmbedding *self);
guint64         lk_embedding_get_source_key    (LkEmbedding *self);
guint64         lk_embedding_get_data_key      (LkEmbedding *self);
/* (n, dim), valid while @self lives. */
const float    *lk_embedding_get_data          (LkEmbedding *self);
const float    *lk_embedding_get_row           (LkEmbedding *self, guint index);
/* The file it was loaded from or saved to, or NULL. */
const char     *lk_embedding_get_path          (LkEmbedding *self);
/* ||row i − row j||². */
float           lk_embedding_distance          (LkEmbedding *self, guint i, guint j);

/* lk_data_dir_for(id)/embeddings/NAME.emb */
char        *lk_embedding_path_for (LkCollection *collection, const char *name);
/* The key of a collection's images (lk_pixels_hash() of its pixels). */
guint64      lk_collection_pixels_key (LkCollection *collection);

gboolean     lk_embedding_save (LkEmbedding *self, const char *path, GError **error);
/* Maps a file and checks its header, size and checksum: LK_ERROR_NOT_FOUND,
 * LK_ERROR_CORRUPT or LK_ERROR_VERSION. */
LkEmbedding *lk_embedding_load (const char *path, GError **error);

/* Every image of @collection through @embedder (not stored). */
LkEmbedding *lk_embedding_compute (LkEmbedder       *embedder,
                                   LkCollection     *collection,
                                   LkEmbedProgress   progress,
                                   gpointer          progress_data,
                                   GCancellable     *cancellable,
                                   GError          **error);
/* The stored file when its keys match @embedder and @collection, else
 * computed and stored (a failed write is only a warning). */
LkEmbedding *lk_embedding_load_or_compute (LkEmbedder       *embedder,
                                           LkCollection     *collection,
                                           LkEmbedProgress   progress,
                                           gpointer          progress_data,
                                           GCancellable     *cancellable,
                                           GError          **error);

/* ---- every source of a collection ---- */

typedef struct {
  char           *name;
  char           *label;
  LkEmbeddingKind kind;
  guint           dim;      /* 0 when not known without computing */
  char           *path;     /* the stored file, or NULL */
  gboolean        stored;   /* a valid file for these images exists */
  gboolean        stale;    /* a file exists but was made from other images */
} LkEmbeddingSource;

void lk_embedding_source_free (LkEmbeddingSource *source);

/* The baselines (golden-learned when the collection has labelled
 * triplets) and every model embedding file in the collection's folder,
 * as a GPtrArray of LkEmbeddingSource (freed with the array). */
GPtrArray   *lk_embedding_list_sources (LkCollection *collection);

/* The rows of source @name: a baseline is loaded or computed; a model's
 * file is loaded when fresh, recomputed when a factory knows the model,
 * otherwise LK_ERROR_MISMATCH (stale) or LK_ERROR_NOT_FOUND. */
LkEmbedding *lk_embedding_source_load (LkCollection     *collection,
                                       const char       *name,
                                       LkEmbedProgress   progress,
                                       gpointer          progress_data,
                                       GCancellable     *cancellable,
                                       GError          **error);

/* ---- export ---- */

/* @npy_path: NumPy format 1.0, '<f4', C order, shape (n, dim).
 * @tsv_path (may be NULL): "index<TAB>path<TAB>category" with a header
 * line; tabs, newlines and backslashes in names escaped as \t \n \\. */
gboolean lk_embedding_export_npy (LkEmbedding   *self,
                                  LkCollection  *collection,
                                  const char    *npy_path,
                                  const char    *tsv_path,
                                  GError       **error);

G_END_DECLS
