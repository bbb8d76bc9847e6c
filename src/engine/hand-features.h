/* hand-features.h — hand-crafted per-image features (the paper's Table 1
 * baselines and the blocks of its "golden features").
 *
 * Four blocks per image, each l2-normalised so that any one of them is an
 * embedding on its own (squared Euclidean distance between rows):
 *   wavelet — Haar-wavelet signature (Jacobs et al. 1995): the image at
 *             16×16 (luma) and 8×8 (two chroma channels), Haar-decomposed,
 *             the mean kept and the largest coefficients kept as their sign;
 *   color   — CIE-LAB histogram with soft (trilinear) binning, square-rooted
 *             (Hellinger); L only for gray images;
 *   hog     — histogram of oriented gradients, 4×4 cells, 9 unsigned
 *             orientations, 2×2-cell blocks normalised L2-Hys;
 *   lbp     — uniform local binary patterns (8 neighbours, radius 1, 59
 *             codes) in a 2×2 spatial grid, square-rooted.
 *
 * Input is raw pixels (N, side, side, channels) uint8 HWC, channels 3 (RGB)
 * or 1 (gray), exactly as LkCollection stores them. Rows are stored
 * (N, dim) float, the blocks side by side in the order of LkFeatureKind. */
#pragma once

#include <gio/gio.h>

#include "collection.h"

G_BEGIN_DECLS

typedef enum {
  LK_FEATURE_WAVELET = 0,
  LK_FEATURE_COLOR,
  LK_FEATURE_HOG,
  LK_FEATURE_LBP,
  LK_N_FEATURES
} LkFeatureKind;

/* A stable short name ("wavelet", "color", "hog", "lbp") for files and
 * command lines, and a translated label for the UI ("Haar wavelet"…). */
const char *lk_feature_kind_name  (LkFeatureKind kind);
const char *lk_feature_kind_label (LkFeatureKind kind);
/* Parses a short name; returns FALSE if unknown. */
gboolean    lk_feature_kind_from_name (const char *name, LkFeatureKind *kind_out);
/* Dimension of one block for images with @channels (1 or 3). */
guint       lk_feature_kind_dim   (LkFeatureKind kind, guint channels);

typedef struct _LkFeatures LkFeatures;

/* Progress, called from worker threads (never two calls at once) with the
 * number of images done so far. */
typedef void (*LkFeaturesProgress) (guint    done,
                                    guint    total,
                                    gpointer user_data);

/* Computes every block for every image on @n_threads threads (0 = number
 * of cores). @cancellable is checked between chunks of images; a
 * cancelled run returns NULL with G_IO_ERROR_CANCELLED. */
LkFeatures *lk_features_compute (const guint8        *pixels,
                                 guint                n_images,
                                 guint                side,
                                 guint                channels,
                                 guint                n_threads,
                                 LkFeaturesProgress   progress,
                                 gpointer             progress_data,
                                 GCancellable        *cancellable,
                                 GError             **error);

/* Wraps a copy of given rows (N, Σ dims) as features, e.g. synthetic data
 * in tests and benchmarks. @dims gives each block's width. */
LkFeatures *lk_features_new_from_data (guint        n_images,
                                       const guint  dims[LK_N_FEATURES],
                                       const float *data);

/* The same, taking ownership of @data (allocated with g_malloc). */
LkFeatures *lk_features_new_take_data (guint        n_images,
                                       const guint  dims[LK_N_FEATURES],
                                       float       *data);

LkFeatures *lk_features_ref   (LkFeatures *self);
void        lk_features_unref (LkFeatures *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkFeatures, lk_features_unref)

guint        lk_features_get_n_images (LkFeatures *self);
/* Width of a whole row. */
guint        lk_features_get_dim      (LkFeatures *self);
/* Width of block @kind; *offset_out (may be NULL) its first column. */
guint        lk_features_get_block    (LkFeatures    *self,
                                       LkFeatureKind  kind,
                                       guint         *offset_out);
/* All rows, (N, dim). Valid while @self lives. */
const float *lk_features_get_data     (LkFeatures *self);
const float *lk_features_get_row      (LkFeatures *self, guint index);
/* One block of every image as a new (N, block dim) matrix, to use as an
 * embedding (squared Euclidean distance). Free with g_free(). */
float       *lk_features_dup_block    (LkFeatures *self, LkFeatureKind kind);
/* A checksum of the rows, which keys caches derived from them. */
guint64      lk_features_get_checksum (LkFeatures *self);

/* Squared Euclidean distance of images @i and @j in each block. */
void         lk_features_block_distances (LkFeatures *self,
                                          guint       i,
                                          guint       j,
                                          float       d_out[LK_N_FEATURES]);

/* The cache key of a set of pixels: a hash of the bytes and the shape. */
guint64      lk_pixels_hash (const guint8 *pixels,
                             guint         n_images,
                             guint         side,
                             guint         channels);

/* Cache file, e.g. lk_cache_dir_for(id)/features-<side>.bin. Written
 * atomically; the header records the pixel hash (lk_pixels_hash()) and the
 * shape, and a checksum of the rows. */
gboolean     lk_features_save (LkFeatures  *self,
                               const char  *path,
                               GError     **error);
/* Maps a cache file back. Fails with LK_ERROR_NOT_FOUND if missing,
 * LK_ERROR_VERSION, LK_ERROR_CORRUPT (size or checksum), or
 * LK_ERROR_MISMATCH if it was computed from other pixels or another
 * shape than the ones given. */
LkFeatures  *lk_features_load (const char  *path,
                               guint        n_images,
                               guint        side,
                               guint        channels,
                               guint64      pixel_hash,
                               GError     **error);
/* Loads @path if it is valid for these pixels, otherwise computes the
 * features and writes the cache (a failed write is only a warning). */
LkFeatures  *lk_features_load_or_compute (const char          *path,
                                          const guint8        *pixels,
                                          guint                n_images,
                                          guint                side,
                                          guint                channels,
                                          guint                n_threads,
                                          LkFeaturesProgress   progress,
                                          gpointer             progress_data,
                                          GCancellable        *cancellable,
                                          GError             **error);

/* The same for a whole collection, cached in
 * lk_cache_dir_for(id)/features-<side>.bin. */
LkFeatures  *lk_features_load_or_compute_for_collection (LkCollection        *collection,
                                                         guint                n_threads,
                                                         LkFeaturesProgress   progress,
                                                         gpointer             progress_data,
                                                         GCancellable        *cancellable,
                                                         GError             **error);

G_END_DECLS
