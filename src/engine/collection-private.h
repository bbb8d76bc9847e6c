/* collection-private.h — what the collection's parts (scan.c, decode.c,
 * idx.c, cache.c, collection.c) share. Not for use outside the engine. */
#pragma once

#include "collection.h"
#include "fileutil.h"

G_BEGIN_DECLS

/* Deepest folder nesting below a category that a scan follows. */
#define LK_SCAN_MAX_DEPTH 64
/* Largest file a scan reads, in bytes. */
#define LK_SCAN_MAX_FILE_SIZE ((guint64) 512 << 20)

/* One file found by the walk, before decoding. */
typedef struct {
  char    *relpath;   /* relative to the root, bytes as on disk */
  guint16  category;
  guint64  size;
  gint64   mtime_ns;
} LkScanEntry;

/* The result of walking a folder collection. */
typedef struct {
  char      *root;        /* canonical absolute path */
  GPtrArray *categories;  /* char*, sorted */
  GArray    *entries;     /* LkScanEntry, sorted by category then path */
  GArray    *skipped;     /* LkSkipped */
} LkScanTree;

LkScanTree *_lk_scan_tree          (const char    *root,
                                    GCancellable  *cancellable,
                                    GError       **error);
void        _lk_scan_tree_free     (LkScanTree    *tree);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkScanTree, _lk_scan_tree_free)

void        _lk_skipped_add        (GArray        *skipped,
                                    const char    *path,
                                    const char    *reason);
void        _lk_skipped_clear      (gpointer       skipped);

/* Decodes an image held in memory (@path only names it in messages) to
 * side × side × 3, fitted and padded on white. */
gboolean    _lk_image_decode_bytes (const guint8  *data,
                                    gsize          len,
                                    guint          side,
                                    guint64        max_pixels,
                                    guint8        *out,
                                    guint         *width_out,
                                    guint         *height_out,
                                    GError       **error);

/* Reads a whole regular file without ever opening a FIFO or device, and
 * at most LK_SCAN_MAX_FILE_SIZE bytes. */
gboolean    _lk_read_regular_file  (const char    *path,
                                    guint8       **data_out,
                                    gsize         *len_out,
                                    GError       **error);

/* IDX (the MNIST file format), gzip-compressed or not, parsed from memory.
 * Images: magic 0x00000803, dims (n, rows, cols); labels: 0x00000801, (n). */
gboolean    _lk_idx_parse          (const guint8  *data,
                                    gsize          len,
                                    guint          expected_dims,
                                    guint32       *dims_out,
                                    const guint8 **payload_out,
                                    GError       **error);
GBytes     *_lk_idx_load_file      (const char    *path,
                                    GCancellable  *cancellable,
                                    GError       **error);

struct _LkCollection
{
  gint ref_count;

  char *id;
  char *name;
  char *root;                  /* NULL for built-in */
  char *cache_path;
  gboolean builtin;

  guint side;
  guint channels;
  guint n_images;
  guint n_categories;
  char **category_names;       /* (n_categories) */
  guint *category_counts;      /* (n_categories) */

  guint16 *labels;             /* (N) */
  guint8 *splits;              /* (N) LkSplit, NULL = all LK_SPLIT_ALL */
  char **paths;                /* (N) into path_blob or the mapping */
  char *path_blob;             /* owned strings, or NULL */
  guint64 *file_sizes;         /* (N) */
  gint64 *mtimes;              /* (N) ns */
  guint32 *widths, *heights;   /* (N) original size */

  const guint8 *pixels;        /* (N, side, side, channels) */
  guint8 *owned_pixels;        /* pixels when not mapped */
  gsize owned_pixels_size;
  LkMapped *mapped;            /* the cache file, when pixels come from it */

  GArray *skipped;             /* LkSkipped */

  GMutex index_lock;
  GHashTable *path_index;      /* relpath -> index + 1, built on first use */

  LkScanStats stats;
};

LkCollection *_lk_collection_new (void);
void _lk_collection_count_categories (LkCollection *self);

/* The cache: one file per collection and tensor side, holding the
 * decoded pixels and everything needed to rebuild the collection. */
typedef struct {
  char   *relpath;
  guint64 size;
  gint64  mtime_ns;
  char   *reason;
} LkCachedSkip;

void     _lk_cached_skip_clear (gpointer skip);
char    *_lk_cache_path_for    (const char *collection_id, guint side);

typedef struct _LkCache LkCache;
/* Maps and validates a cache file. Returns NULL with @error when it is
 * missing (LK_ERROR_NOT_FOUND), of another version (LK_ERROR_VERSION),
 * damaged (LK_ERROR_CORRUPT) or made for another side/channel count
 * (LK_ERROR_MISMATCH); the caller then rebuilds it. */
LkCache       *_lk_cache_open         (const char  *path,
                                       guint        side,
                                       guint        channels,
                                       GError     **error);
void           _lk_cache_free         (LkCache     *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkCache, _lk_cache_free)
const char    *_lk_cache_get_source   (LkCache     *cache);
/* The collection stored in the cache; its pixels point into the mapping,
 * which the collection keeps alive. */
LkCollection  *_lk_cache_get_collection (LkCache   *cache);
/* The index of an unchanged image, by relative path, size and mtime. */
gboolean       _lk_cache_lookup       (LkCache     *cache,
                                       const char  *relpath,
                                       guint64      size,
                                       gint64       mtime_ns,
                                       guint       *index_out);
/* The reason an unchanged bad file was skipped before, or NULL. */
const char    *_lk_cache_lookup_skip  (LkCache     *cache,
                                       const char  *relpath,
                                       guint64      size,
                                       gint64       mtime_ns);

/* Writes @self and the skips that came from decoding (@decode_skips, of
 * LkCachedSkip, may be NULL) to @path atomically. @source describes the
 * source files of a built-in collection (sizes, mtimes), "" otherwise. */
gboolean       _lk_cache_write        (LkCollection *self,
                                       const char   *path,
                                       const char   *source,
                                       GArray       *decode_skips,
                                       GError      **error);

G_END_DECLS
