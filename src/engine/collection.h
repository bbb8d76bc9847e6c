/* collection.h — a collection of images grouped in categories.
 *
 * A collection is a folder tree whose first-level sub-folders are the
 * categories (DESIGN.md §2), or the built-in Fashion-MNIST set read from
 * Debian's IDX files. Opening one scans it, decodes every image to a
 * fixed-size tensor of 8-bit pixels and keeps those in a per-collection
 * cache file under $XDG_CACHE_HOME, memory-mapped on the next open and
 * refreshed per file when a file's size or mtime changes.
 *
 * Pixels are stored (N, side, side, channels) uint8, row-major, channels
 * interleaved (HWC); channels is 3 (RGB) for folders, 1 for Fashion-MNIST.
 * Images that are not square keep their aspect: they are scaled so the
 * longer side fits and padded with white (transparent areas are also
 * composited on white), so no part of a picture is ever cut away.
 *
 * The collection is read-only to Likeness: nothing here ever writes inside
 * it; symlinks leading outside it, loops, FIFOs and devices are skipped.
 *
 * An LkCollection is immutable once opened, so any thread may read it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _LkCollection LkCollection;

typedef enum {
  LK_SPLIT_ALL = 0,  /* folder collections have no split */
  LK_SPLIT_TRAIN,
  LK_SPLIT_TEST,
} LkSplit;

typedef struct {
  guint   side;            /* tensor side in pixels (default 64) */
  guint64 max_pixels;      /* images whose header claims more are skipped (default 50 MP) */
  guint   n_threads;       /* decoding threads; 0 = number of cores */
  gboolean no_cache;       /* neither read nor write the cache file */
} LkScanOptions;

void lk_scan_options_init (LkScanOptions *options);

/* Progress of a scan, called from the scanning thread (not the main
 * thread: the app copies it and posts it back itself). @done and @total
 * count images decoded (or found in the cache) so far; @phase is a short
 * translated word ("Listing", "Decoding", "Loading cache"). */
typedef void (*LkScanProgress) (const char *phase,
                                guint       done,
                                guint       total,
                                gpointer    user_data);

/* One entry that could not be used, with its reason in one line. */
typedef struct {
  char *path;    /* relative to the collection root, as bytes (may not be UTF-8) */
  char *reason;  /* translated, one line */
} LkSkipped;

/* Opens a folder collection. Returns NULL with @error only when the
 * collection as a whole cannot be opened (missing folder, no categories,
 * cancelled). Unusable entries do not fail the open: they are listed by
 * lk_collection_get_skipped(). */
LkCollection *lk_collection_open_folder (const char           *root,
                                         const LkScanOptions  *options,
                                         LkScanProgress        progress,
                                         gpointer              progress_data,
                                         GCancellable         *cancellable,
                                         GError              **error);

/* Opens the built-in Fashion-MNIST collection (28×28 gray, 70,000 images,
 * 60,000 train then 10,000 test). @idx_dir NULL means Debian's location. */
LkCollection *lk_collection_open_fashion_mnist (const char     *idx_dir,
                                                GCancellable   *cancellable,
                                                GError        **error);

LkCollection *lk_collection_ref   (LkCollection *self);
void          lk_collection_unref (LkCollection *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkCollection, lk_collection_unref)

/* A short stable id ("fashion-mnist", or the folder's name and a hash of
 * its absolute path) naming its cache and data folders. */
const char   *lk_collection_get_id    (LkCollection *self);
/* Display name: "Fashion-MNIST" or the folder's name. */
const char   *lk_collection_get_name  (LkCollection *self);
/* Absolute root folder, or NULL for a built-in collection. */
const char   *lk_collection_get_root  (LkCollection *self);
gboolean      lk_collection_is_builtin (LkCollection *self);
/* Path of the cache file in use, or NULL if none. */
const char   *lk_collection_get_cache_path (LkCollection *self);

guint         lk_collection_get_n_images     (LkCollection *self);
guint         lk_collection_get_n_categories (LkCollection *self);
const char   *lk_collection_get_category_name  (LkCollection *self, guint category);
guint         lk_collection_get_category_count (LkCollection *self, guint category);

guint         lk_collection_get_side     (LkCollection *self);
guint         lk_collection_get_channels (LkCollection *self);
/* All pixels, (N, side, side, channels) uint8. */
const guint8 *lk_collection_get_pixels   (LkCollection *self);
const guint8 *lk_collection_get_image    (LkCollection *self, guint index);
/* Category of every image, (N,). */
const guint16 *lk_collection_get_labels  (LkCollection *self);
guint         lk_collection_get_label    (LkCollection *self, guint index);
LkSplit       lk_collection_get_split    (LkCollection *self, guint index);
/* Indices of one split, ascending; *n_out receives the count. */
guint        *lk_collection_get_split_indices (LkCollection *self,
                                               LkSplit       split,
                                               guint        *n_out);

/* Path relative to the root (bytes, as on disk), e.g. "animals/cat.png";
 * for Fashion-MNIST a synthetic "train/00042" or "test/00042". */
const char   *lk_collection_get_path     (LkCollection *self, guint index);
/* Absolute path of the file, NULL for a built-in collection. */
char         *lk_collection_dup_file     (LkCollection *self, guint index);
/* Size in bytes and pixel size of the original file (0 if unknown). */
void          lk_collection_get_file_info (LkCollection *self,
                                           guint         index,
                                           guint64      *file_size,
                                           guint        *width,
                                           guint        *height);
/* Looks an image up by its relative path; returns FALSE if none. */
gboolean      lk_collection_find_path    (LkCollection *self,
                                          const char   *relpath,
                                          guint        *index_out);

/* The entries that were skipped by the last scan. */
const LkSkipped *lk_collection_get_skipped (LkCollection *self, guint *n_out);
/* A GError (LK_ERROR_SKIPPED) listing every skipped entry, one per line,
 * or NULL if none was skipped. */
GError       *lk_collection_dup_skipped_error (LkCollection *self);

/* Timing of the last open, for `likeness-cli bench scan`. */
typedef struct {
  guint   n_decoded;      /* images decoded now */
  guint   n_from_cache;   /* images taken from the cache */
  gdouble list_seconds;
  gdouble decode_seconds;
  gdouble total_seconds;
} LkScanStats;
void lk_collection_get_stats (LkCollection *self, LkScanStats *stats);

/* Decodes one image file as a scan does (same limits, same fit), into
 * @out (side × side × 3). Used for outside query images and benchmarks. */
gboolean lk_image_decode_file (const char  *path,
                               guint        side,
                               guint64      max_pixels,
                               guint8      *out,
                               guint       *width_out,
                               guint       *height_out,
                               GError     **error);

G_END_DECLS
