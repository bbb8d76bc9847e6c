/* relevance.h — pairwise relevance between images of one category, from
 * the golden distance D (golden.h):
 *
 *     r(i, j) = exp(−D(i, j) / σ_c)   if i ≠ j are both in category c,
 *     r(i, j) = 0                      otherwise,
 *
 * σ_c a low quantile of the category's pair distances (so the nearest
 * few per cent of pairs have r ≥ 1/e), and the total relevance
 * r_i = Σ_j r(i, j) over the whole category, exactly.
 *
 * It scales to 100,000 images: distances come from cblas_sgemm on tiles of
 * rows against one category at a time (never an N×N matrix), and only each
 * image's top-M most relevant neighbours are kept. Any other pair's
 * relevance is recomputed on demand from the features (lk_relevance_pair),
 * which is what the sampler uses. */
#pragma once

#include "golden.h"

G_BEGIN_DECLS

typedef struct _LkRelevance LkRelevance;

typedef struct {
  guint   top_m;            /* neighbours kept per image (default 32) */
  float   sigma_quantile;   /* σ_c as this quantile of pair distances (default 0.05) */
  guint   n_sigma_pairs;    /* pairs sampled per category to estimate it (default 20000) */
  guint   block_rows;       /* rows per sgemm tile, 0 = automatic */
  guint64 seed;             /* for the pair sample */
} LkRelevanceParams;

void lk_relevance_params_init (LkRelevanceParams *params);

/* Progress in rows (images) done, from the calling thread. */
typedef void (*LkRelevanceProgress) (guint    done,
                                     guint    total,
                                     gpointer user_data);

/* @labels (N,) category of each image, < @n_categories. Keeps a reference
 * to @features for lk_relevance_pair(). Cancellation is checked between
 * tiles (G_IO_ERROR_CANCELLED). */
LkRelevance *lk_relevance_compute (LkFeatures               *features,
                                   const guint16            *labels,
                                   guint                     n_categories,
                                   const LkGoldenWeights    *weights,
                                   const LkRelevanceParams  *params,
                                   LkRelevanceProgress       progress,
                                   gpointer                  progress_data,
                                   GCancellable             *cancellable,
                                   GError                  **error);

/* A relevance given as a dense (N, N) matrix (copied; the diagonal and
 * cross-category entries are forced to 0), for small sets and tests. */
LkRelevance *lk_relevance_new_dense (guint          n_images,
                                     const guint16 *labels,
                                     guint          n_categories,
                                     const float   *matrix,
                                     guint          top_m);

LkRelevance *lk_relevance_ref   (LkRelevance *self);
void         lk_relevance_unref (LkRelevance *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkRelevance, lk_relevance_unref)

guint          lk_relevance_get_n_images     (LkRelevance *self);
guint          lk_relevance_get_n_categories (LkRelevance *self);
const guint16 *lk_relevance_get_labels       (LkRelevance *self);
guint          lk_relevance_get_top_m        (LkRelevance *self);
/* σ_c of a category (0 for dense relevance). */
float          lk_relevance_get_sigma        (LkRelevance *self, guint category);

/* r(i, j), exact, for any pair. Thread-safe. */
float lk_relevance_pair  (LkRelevance *self, guint i, guint j);
/* r_i = Σ_j r(i, j). */
float lk_relevance_total (LkRelevance *self, guint i);
/* max_j r(i, j) (0 for an image alone in its category). */
float lk_relevance_max   (LkRelevance *self, guint i);
/* The kept neighbours of @i, most relevant first; returns their count
 * (≤ top_m). The arrays stay valid while @self lives. */
guint lk_relevance_neighbours (LkRelevance    *self,
                               guint           i,
                               const guint32 **indices_out,
                               const float   **relevances_out);

/* Cache file (e.g. lk_cache_dir_for(id)/relevance-<side>.bin), keyed on
 * the features' checksum, the labels, the weights and the parameters. */
gboolean     lk_relevance_save (LkRelevance  *self,
                                const char   *path,
                                GError      **error);
/* Fails with LK_ERROR_NOT_FOUND, _VERSION, _CORRUPT or _MISMATCH (made
 * from other features, labels, weights or parameters). */
LkRelevance *lk_relevance_load (const char               *path,
                                LkFeatures               *features,
                                const guint16            *labels,
                                guint                     n_categories,
                                const LkGoldenWeights    *weights,
                                const LkRelevanceParams  *params,
                                GError                  **error);
/* Loads @path when it fits, else computes and writes it (a failed write
 * is only a warning). */
LkRelevance *lk_relevance_load_or_compute (const char               *path,
                                           LkFeatures               *features,
                                           const guint16            *labels,
                                           guint                     n_categories,
                                           const LkGoldenWeights    *weights,
                                           const LkRelevanceParams  *params,
                                           LkRelevanceProgress       progress,
                                           gpointer                  progress_data,
                                           GCancellable             *cancellable,
                                           GError                  **error);

/* The same for a whole collection (its labels and categories), cached in
 * lk_cache_dir_for(id)/relevance-<side>.bin. @features must be the
 * collection's (lk_features_load_or_compute_for_collection()). */
LkRelevance *lk_relevance_load_or_compute_for_collection (LkCollection             *collection,
                                                         LkFeatures               *features,
                                                         const LkGoldenWeights    *weights,
                                                         const LkRelevanceParams  *params,
                                                         LkRelevanceProgress       progress,
                                                         gpointer                  progress_data,
                                                         GCancellable             *cancellable,
                                                         GError                  **error);

G_END_DECLS
