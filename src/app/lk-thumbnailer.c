/* lk-thumbnailer.c — LkThumbnailer: a worker pool that makes textures
 * from tensors or original files, and the LRU cache they land in.
 *
 * The workers never touch the LkThumbnailer object itself: each job holds
 * a reference to the shared cache (a plain ref-counted struct) and to the
 * collection, so the last reference to the thumbnailer is always dropped
 * on the main thread and its finalize can wait for the pool. */
#include "config.h"

#include <glib/gi18n.h>

#include "error.h"
#include "lk-thumbnailer-private.h"

#define CACHE_CAPACITY 800      /* ~40 MB of 112 px RGBA thumbnails */
#define DEFAULT_MAX_PIXELS ((guint64) 50 * 1000 * 1000)
#define NOT_CACHED G_MAXUINT    /* generation of requests for another collection */

/* The LRU cache, shared by the thumbnailer and its jobs ------------------- */

typedef struct {
  guint64     key;
  GdkTexture *texture;
} Entry;

typedef struct {
  gint        ref_count;
  GMutex      lock;
  GHashTable *table;            /* &Entry.key → GList link in @lru */
  GQueue      lru;              /* Entry*, most recently used first */
  guint       generation;       /* bumped when the collection changes */
  gint        n_pending;        /* atomic */
} Cache;

static guint64
make_key (guint index, guint size, LkThumbnailQuality quality)
{
  return ((guint64) index << 32) | ((guint64) (size & 0x7fffffff) << 1) | (guint64) quality;
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;
  g_object_unref (entry->texture);
  g_free (entry);
}

static Cache *
cache_new (void)
{
  Cache *cache = g_new0 (Cache, 1);

  cache->ref_count = 1;
  g_mutex_init (&cache->lock);
  cache->table = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_queue_init (&cache->lru);
  return cache;
}

static Cache *
cache_ref (Cache *cache)
{
  g_atomic_int_inc (&cache->ref_count);
  return cache;
}

static void
cache_unref (Cache *cache)
{
  if (!g_atomic_int_dec_and_test (&cache->ref_count))
    return;
  g_hash_table_unref (cache->table);
  g_queue_clear_full (&cache->lru, entry_free);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

/* Empties the cache and starts a new generation; returns it. */
static guint
cache_reset (Cache *cache)
{
  guint generation;

  g_mutex_lock (&cache->lock);
  g_hash_table_remove_all (cache->table);
  g_queue_clear_full (&cache->lru, entry_free);
  g_queue_init (&cache->lru);
  cache->generation++;
  if (cache->generation == NOT_CACHED)
    cache->generation = 0;
  generation = cache->generation;
  g_mutex_unlock (&cache->lock);
  return generation;
}

static GdkTexture *
cache_lookup (Cache *cache, guint generation, guint64 key)
{
  GdkTexture *texture = NULL;
  GList *link;

  g_mutex_lock (&cache->lock);
  if (generation == cache->generation &&
      (link = g_hash_table_lookup (cache->table, &key)) != NULL)
    {
      g_queue_unlink (&cache->lru, link);
      g_queue_push_head_link (&cache->lru, link);
      texture = g_object_ref (((Entry *) link->data)->texture);
    }
  g_mutex_unlock (&cache->lock);
  return texture;
}

static void
cache_insert (Cache *cache, guint generation, guint64 key, GdkTexture *texture)
{
  GList *link;

  g_mutex_lock (&cache->lock);
  if (generation == cache->generation)
    {
      if ((link = g_hash_table_lookup (cache->table, &key)) != NULL)
        {
          Entry *entry = link->data;
          g_set_object (&entry->texture, texture);
          g_queue_unlink (&cache->lru, link);
          g_queue_push_head_link (&cache->lru, link);
        }
      else
        {
          Entry *entry = g_new (Entry, 1);
          entry->key = key;
          entry->texture = g_object_ref (texture);
          g_queue_push_head (&cache->lru, entry);
          g_hash_table_insert (cache->table, &entry->key, cache->lru.head);
        }
      while (cache->lru.length > CACHE_CAPACITY)
        {
          Entry *old = g_queue_pop_tail (&cache->lru);
          g_hash_table_remove (cache->table, &old->key);
          entry_free (old);
        }
    }
  g_mutex_unlock (&cache->lock);
}

/* Texture makers ---------------------------------------------------------- */

static GdkTexture *
texture_from_pixbuf (GdkPixbuf *pixbuf)
{
  g_autoptr(GBytes) bytes = gdk_pixbuf_read_pixel_bytes (pixbuf);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pixbuf);

  g_assert (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8);
  g_assert (gdk_pixbuf_get_n_channels (pixbuf) == (alpha ? 4 : 3));
  return gdk_memory_texture_new (gdk_pixbuf_get_width (pixbuf),
                                 gdk_pixbuf_get_height (pixbuf),
                                 alpha ? GDK_MEMORY_R8G8B8A8 : GDK_MEMORY_R8G8B8,
                                 bytes, (gsize) gdk_pixbuf_get_rowstride (pixbuf));
}

GdkTexture *
_lk_thumbnail_from_tensor (const guint8 *pixels, guint side, guint channels, guint size)
{
  g_autoptr(GdkPixbuf) src = NULL;
  g_autoptr(GdkPixbuf) dst = NULL;
  guint8 *out;
  int stride;
  guint factor;

  g_return_val_if_fail (pixels != NULL, NULL);
  g_return_val_if_fail (channels == 1 || channels == 3, NULL);
  g_return_val_if_fail (side > 0 && size > 0, NULL);

  src = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) side, (int) side);
  out = gdk_pixbuf_get_pixels (src);
  stride = gdk_pixbuf_get_rowstride (src);
  for (guint y = 0; y < side; y++)
    for (guint x = 0; x < side; x++)
      {
        const guint8 *p = pixels + ((gsize) y * side + x) * channels;
        guint8 *q = out + (gsize) y * stride + x * 3;
        q[0] = p[0];
        q[1] = p[channels == 3 ? 1 : 0];
        q[2] = p[channels == 3 ? 2 : 0];
      }

  /* Small data scaled up a lot: whole pixels, not a blur. */
  factor = size / side;
  if (factor >= 3)
    dst = gdk_pixbuf_scale_simple (src, (int) (factor * side), (int) (factor * side),
                                   GDK_INTERP_NEAREST);
  else if (size != side)
    dst = gdk_pixbuf_scale_simple (src, (int) size, (int) size, GDK_INTERP_BILINEAR);
  else
    dst = g_object_ref (src);
  return texture_from_pixbuf (dst);
}

GdkTexture *
_lk_thumbnail_from_file (const char *path, guint size, guint64 max_pixels, GError **error)
{
  g_autoptr(GdkPixbuf) loaded = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GdkPixbuf) rgb = NULL;
  g_autofree char *display = NULL;
  GdkPixbuf *pixbuf;
  int w = 0, h = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (size > 0, NULL);

  display = g_filename_display_name (path);
  /* The header first: a file grown since the scan must not make a worker
   * decode a gigapixel image. */
  if (gdk_pixbuf_get_file_info (path, &w, &h) == NULL || w <= 0 || h <= 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                   _("%s: not an image GdkPixbuf can read"), display);
      return NULL;
    }
  if ((guint64) w * (guint64) h > max_pixels)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                   _("%s: %d × %d pixels is more than the limit"), display, w, h);
      return NULL;
    }
  loaded = gdk_pixbuf_new_from_file_at_scale (path, (int) size, (int) size, TRUE, error);
  if (loaded == NULL)
    return NULL;
  oriented = gdk_pixbuf_apply_embedded_orientation (loaded);
  pixbuf = oriented;
  /* Rare formats (grey or 16-bit through some loaders) become RGB(A) 8-bit. */
  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      gdk_pixbuf_get_n_channels (pixbuf) != (gdk_pixbuf_get_has_alpha (pixbuf) ? 4 : 3))
    {
      rgb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, gdk_pixbuf_get_width (pixbuf),
                            gdk_pixbuf_get_height (pixbuf));
      gdk_pixbuf_fill (rgb, 0);
      gdk_pixbuf_composite (pixbuf, rgb, 0, 0, gdk_pixbuf_get_width (pixbuf),
                            gdk_pixbuf_get_height (pixbuf), 0, 0, 1, 1,
                            GDK_INTERP_NEAREST, 255);
      pixbuf = rgb;
    }
  return texture_from_pixbuf (pixbuf);
}

/* Jobs -------------------------------------------------------------------- */

typedef struct {
  Cache              *cache;
  LkCollection       *collection;
  guint               generation;
  guint               index;
  guint               size;
  LkThumbnailQuality  quality;
  guint64             seq;
  guint64             max_pixels;
  GTask              *task;
} Job;

static void
job_free (Job *job)
{
  cache_unref (job->cache);
  lk_collection_unref (job->collection);
  g_object_unref (job->task);
  g_free (job);
}

static GdkTexture *
job_render (Job *job)
{
  LkCollection *coll = job->collection;

  if (job->quality == LK_THUMBNAIL_SHARP)
    {
      g_autofree char *path = lk_collection_dup_file (coll, job->index);
      g_autoptr(GError) error = NULL;
      GdkTexture *texture;

      if (path != NULL &&
          (texture = _lk_thumbnail_from_file (path, job->size, job->max_pixels, &error)) != NULL)
        return texture;
      if (error != NULL)
        g_debug ("Thumbnail from the tensor instead: %s", error->message);
    }
  return _lk_thumbnail_from_tensor (lk_collection_get_image (coll, job->index),
                                    lk_collection_get_side (coll),
                                    lk_collection_get_channels (coll), job->size);
}

static void
job_run (gpointer data, gpointer pool_data)
{
  Job *job = data;
  GdkTexture *texture = NULL;
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (job->task), &error))
    {
      guint64 key = make_key (job->index, job->size, job->quality);

      texture = cache_lookup (job->cache, job->generation, key);
      if (texture == NULL)
        {
          texture = job_render (job);
          cache_insert (job->cache, job->generation, key, texture);
        }
    }
  /* Not pending any more before the result can reach the main thread,
   * so a callback never sees itself still counted. */
  g_atomic_int_add (&job->cache->n_pending, -1);
  if (texture != NULL)
    g_task_return_pointer (job->task, texture, g_object_unref);
  else
    g_task_return_error (job->task, error);
  job_free (job);
}

/* FAST before SHARP, then the newest request first: what was bound last
 * is what is on screen now. */
static gint
job_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Job *x = a, *y = b;

  if (x->quality != y->quality)
    return x->quality == LK_THUMBNAIL_FAST ? -1 : 1;
  return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* The object ---------------------------------------------------------------- */

struct _LkThumbnailer
{
  GObject       parent_instance;

  Cache        *cache;
  GThreadPool  *pool;
  LkCollection *collection;
  guint         generation;
  guint64       seq;
  guint64       max_pixels;
};

G_DEFINE_FINAL_TYPE (LkThumbnailer, lk_thumbnailer, G_TYPE_OBJECT)

static void
lk_thumbnailer_finalize (GObject *object)
{
  LkThumbnailer *self = LK_THUMBNAILER (object);

  /* Queued jobs still run (their cancellables make them cheap) so every
   * GTask returns; then the workers are joined. */
  g_thread_pool_free (self->pool, FALSE, TRUE);
  cache_unref (self->cache);
  g_clear_pointer (&self->collection, lk_collection_unref);
  G_OBJECT_CLASS (lk_thumbnailer_parent_class)->finalize (object);
}

static void
lk_thumbnailer_class_init (LkThumbnailerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lk_thumbnailer_finalize;
}

static void
lk_thumbnailer_init (LkThumbnailer *self)
{
  /* One core is left to the main thread and the scan. */
  guint n_threads = CLAMP (g_get_num_processors () - 1, 1, 3);

  self->cache = cache_new ();
  self->max_pixels = DEFAULT_MAX_PIXELS;
  self->pool = g_thread_pool_new (job_run, NULL, (gint) n_threads, FALSE, NULL);
  g_thread_pool_set_sort_function (self->pool, job_compare, NULL);
}

LkThumbnailer *
lk_thumbnailer_new (void)
{
  return g_object_new (LK_TYPE_THUMBNAILER, NULL);
}

void
lk_thumbnailer_set_collection (LkThumbnailer *self, LkCollection *collection)
{
  g_return_if_fail (LK_IS_THUMBNAILER (self));

  if (self->collection == collection)
    return;
  g_clear_pointer (&self->collection, lk_collection_unref);
  if (collection != NULL)
    self->collection = lk_collection_ref (collection);
  self->generation = cache_reset (self->cache);
}

LkCollection *
lk_thumbnailer_get_collection (LkThumbnailer *self)
{
  g_return_val_if_fail (LK_IS_THUMBNAILER (self), NULL);
  return self->collection;
}

void
lk_thumbnailer_set_max_pixels (LkThumbnailer *self, guint64 max_pixels)
{
  g_return_if_fail (LK_IS_THUMBNAILER (self));
  self->max_pixels = max_pixels != 0 ? max_pixels : DEFAULT_MAX_PIXELS;
}

gboolean
lk_thumbnailer_has_sharp (LkThumbnailer *self, LkCollection *collection)
{
  g_return_val_if_fail (LK_IS_THUMBNAILER (self), FALSE);
  g_return_val_if_fail (collection != NULL, FALSE);
  return lk_collection_get_root (collection) != NULL;
}

static LkThumbnailQuality
effective_quality (LkThumbnailer *self, LkCollection *collection, LkThumbnailQuality quality)
{
  return lk_thumbnailer_has_sharp (self, collection) ? quality : LK_THUMBNAIL_FAST;
}

GdkTexture *
lk_thumbnailer_lookup (LkThumbnailer      *self,
                       LkCollection       *collection,
                       guint               index,
                       guint               size,
                       LkThumbnailQuality  quality)
{
  g_return_val_if_fail (LK_IS_THUMBNAILER (self), NULL);
  g_return_val_if_fail (collection != NULL, NULL);

  if (collection != self->collection)
    return NULL;
  quality = effective_quality (self, collection, quality);
  return cache_lookup (self->cache, self->generation, make_key (index, size, quality));
}

void
lk_thumbnailer_load_async (LkThumbnailer      *self,
                           LkCollection       *collection,
                           guint               index,
                           guint               size,
                           LkThumbnailQuality  quality,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  Job *job;

  g_return_if_fail (LK_IS_THUMBNAILER (self));
  g_return_if_fail (collection != NULL);
  g_return_if_fail (index < lk_collection_get_n_images (collection));
  g_return_if_fail (size > 0 && size <= 4096);

  job = g_new0 (Job, 1);
  /* No source object: a job must not keep the thumbnailer alive. */
  job->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, lk_thumbnailer_load_async);
  g_task_set_name (job->task, "[likeness] thumbnail");
  job->cache = cache_ref (self->cache);
  job->collection = lk_collection_ref (collection);
  job->generation = collection == self->collection ? self->generation : NOT_CACHED;
  job->index = index;
  job->size = size;
  job->quality = effective_quality (self, collection, quality);
  job->seq = ++self->seq;
  job->max_pixels = self->max_pixels;
  g_atomic_int_inc (&self->cache->n_pending);
  g_thread_pool_push (self->pool, job, NULL);
}

GdkTexture *
lk_thumbnailer_load_finish (LkThumbnailer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (LK_IS_THUMBNAILER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lk_thumbnailer_load_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
lk_thumbnailer_get_n_pending (LkThumbnailer *self)
{
  g_return_val_if_fail (LK_IS_THUMBNAILER (self), 0);
  return (guint) g_atomic_int_get (&self->cache->n_pending);
}
