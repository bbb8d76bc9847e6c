/* collection.c — LkCollection: opening a folder or the built-in
 * Fashion-MNIST set, the shared accessors, and the parallel decoder that
 * fills the pixel tensor for the images the cache does not already hold. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "collection-private.h"
#include "error.h"

#define DEFAULT_SIDE 64
#define DEFAULT_MAX_PIXELS ((guint64) 50 * 1000 * 1000)

void
lk_scan_options_init (LkScanOptions *options)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->side = DEFAULT_SIDE;
  options->max_pixels = DEFAULT_MAX_PIXELS;
}

LkCollection *
_lk_collection_new (void)
{
  LkCollection *self = g_new0 (LkCollection, 1);

  self->ref_count = 1;
  self->skipped = g_array_new (FALSE, TRUE, sizeof (LkSkipped));
  g_array_set_clear_func (self->skipped, _lk_skipped_clear);
  g_mutex_init (&self->index_lock);
  return self;
}

LkCollection *
lk_collection_ref (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_collection_unref (LkCollection *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_free (self->id);
  g_free (self->name);
  g_free (self->root);
  g_free (self->cache_path);
  if (self->category_names != NULL)
    g_strfreev (self->category_names);
  g_free (self->category_counts);
  g_free (self->labels);
  g_free (self->splits);
  g_free (self->paths);
  g_free (self->path_blob);
  g_free (self->file_sizes);
  g_free (self->mtimes);
  g_free (self->widths);
  g_free (self->heights);
  g_free (self->owned_pixels);
  lk_mapped_free (self->mapped);
  g_array_unref (self->skipped);
  g_mutex_clear (&self->index_lock);
  if (self->path_index != NULL)
    g_hash_table_unref (self->path_index);
  g_free (self);
}

void
_lk_collection_count_categories (LkCollection *self)
{
  g_free (self->category_counts);
  self->category_counts = g_new0 (guint, MAX (self->n_categories, 1));
  for (guint i = 0; i < self->n_images; i++)
    {
      g_assert (self->labels[i] < self->n_categories);
      self->category_counts[self->labels[i]]++;
    }
}

/* Accessors ------------------------------------------------------------ */

const char *
lk_collection_get_id (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->id;
}

const char *
lk_collection_get_name (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

const char *
lk_collection_get_root (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->root;
}

gboolean
lk_collection_is_builtin (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->builtin;
}

const char *
lk_collection_get_cache_path (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->cache_path;
}

guint
lk_collection_get_n_images (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_images;
}

guint
lk_collection_get_n_categories (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_categories;
}

const char *
lk_collection_get_category_name (LkCollection *self, guint category)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (category < self->n_categories, NULL);
  return self->category_names[category];
}

guint
lk_collection_get_category_count (LkCollection *self, guint category)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (category < self->n_categories, 0);
  return self->category_counts[category];
}

guint
lk_collection_get_side (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->side;
}

guint
lk_collection_get_channels (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->channels;
}

const guint8 *
lk_collection_get_pixels (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->pixels;
}

const guint8 *
lk_collection_get_image (LkCollection *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_images, NULL);
  return self->pixels + (gsize) index * self->side * self->side * self->channels;
}

const guint16 *
lk_collection_get_labels (LkCollection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->labels;
}

guint
lk_collection_get_label (LkCollection *self, guint index)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (index < self->n_images, 0);
  return self->labels[index];
}

LkSplit
lk_collection_get_split (LkCollection *self, guint index)
{
  g_return_val_if_fail (self != NULL, LK_SPLIT_ALL);
  g_return_val_if_fail (index < self->n_images, LK_SPLIT_ALL);
  return self->splits != NULL ? (LkSplit) self->splits[index] : LK_SPLIT_ALL;
}

guint *
lk_collection_get_split_indices (LkCollection *self, LkSplit split, guint *n_out)
{
  guint *out;
  guint n = 0;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (n_out != NULL, NULL);

  out = g_new (guint, MAX (self->n_images, 1));
  for (guint i = 0; i < self->n_images; i++)
    if (split == LK_SPLIT_ALL || lk_collection_get_split (self, i) == split)
      out[n++] = i;
  *n_out = n;
  return out;
}

const char *
lk_collection_get_path (LkCollection *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_images, NULL);
  return self->paths[index];
}

char *
lk_collection_dup_file (LkCollection *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_images, NULL);
  if (self->root == NULL)
    return NULL;
  return g_build_filename (self->root, self->paths[index], NULL);
}

void
lk_collection_get_file_info (LkCollection *self,
                             guint         index,
                             guint64      *file_size,
                             guint        *width,
                             guint        *height)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (index < self->n_images);
  if (file_size != NULL)
    *file_size = self->file_sizes != NULL ? self->file_sizes[index] : 0;
  if (width != NULL)
    *width = self->widths != NULL ? self->widths[index] : self->side;
  if (height != NULL)
    *height = self->heights != NULL ? self->heights[index] : self->side;
}

gboolean
lk_collection_find_path (LkCollection *self, const char *relpath, guint *index_out)
{
  gpointer value;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (relpath != NULL, FALSE);

  g_mutex_lock (&self->index_lock);
  if (self->path_index == NULL)
    {
      self->path_index = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < self->n_images; i++)
        g_hash_table_insert (self->path_index, self->paths[i], GUINT_TO_POINTER (i + 1));
    }
  value = g_hash_table_lookup (self->path_index, relpath);
  g_mutex_unlock (&self->index_lock);

  if (value == NULL)
    return FALSE;
  if (index_out != NULL)
    *index_out = GPOINTER_TO_UINT (value) - 1;
  return TRUE;
}

const LkSkipped *
lk_collection_get_skipped (LkCollection *self, guint *n_out)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (n_out != NULL)
    *n_out = self->skipped->len;
  return (const LkSkipped *) (gpointer) self->skipped->data;
}

GError *
lk_collection_dup_skipped_error (LkCollection *self)
{
  g_autoptr(GString) msg = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  if (self->skipped->len == 0)
    return NULL;

  msg = g_string_new (NULL);
  g_string_append_printf (msg,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "%u entry of %s was skipped:",
                                       "%u entries of %s were skipped:",
                                       self->skipped->len),
                          self->skipped->len, self->name);
  for (guint i = 0; i < self->skipped->len; i++)
    {
      const LkSkipped *s = &g_array_index (self->skipped, LkSkipped, i);
      g_autofree char *display = g_filename_display_name (s->path);
      g_string_append_printf (msg, "\n%s: %s", display, s->reason);
    }
  return g_error_new_literal (LK_ERROR, LK_ERROR_SKIPPED, msg->str);
}

void
lk_collection_get_stats (LkCollection *self, LkScanStats *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stats != NULL);
  *stats = self->stats;
}

/* Parallel decoding ------------------------------------------------------ */

typedef struct {
  LkScanTree *tree;
  LkCollection *coll;
  guint side;
  guint64 max_pixels;
  guint *todo;              /* tree entry indices to decode */
  guint n_todo;
  gint next;                /* atomic: next todo slot */
  gint done;                /* atomic: slots finished */
  gint active;              /* atomic: worker threads still running */
  char **errors;            /* (n_todo) reason, NULL if decoded */
  GCancellable *cancellable;
} DecodeJob;

/* Decodes the next image of @job; FALSE when there is none left. */
static gboolean
decode_one (DecodeJob *job)
{
  gsize image_bytes = (gsize) job->side * job->side * 3;
  guint slot = (guint) g_atomic_int_add (&job->next, 1);
  const LkScanEntry *e;
  g_autofree char *path = NULL;
  g_autofree guint8 *bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  guint w = 0, h = 0, index;

  if (slot >= job->n_todo || g_cancellable_is_cancelled (job->cancellable))
    return FALSE;
  index = job->todo[slot];
  e = &g_array_index (job->tree->entries, LkScanEntry, index);
  path = g_build_filename (job->tree->root, e->relpath, NULL);
  if (_lk_read_regular_file (path, &bytes, &len, &error) &&
      _lk_image_decode_bytes (bytes, len, job->side, job->max_pixels,
                              job->coll->owned_pixels + (gsize) index * image_bytes,
                              &w, &h, &error))
    {
      job->coll->widths[index] = w;
      job->coll->heights[index] = h;
    }
  else
    job->errors[slot] = g_strdup (error->message);
  g_atomic_int_inc (&job->done);
  return TRUE;
}

static gpointer
decode_worker (gpointer data)
{
  DecodeJob *job = data;

  while (decode_one (job))
    ;
  g_atomic_int_dec_and_test (&job->active);
  return NULL;
}

/* Decodes job->todo with @n_threads threads, the caller's among them;
 * only the calling thread reports progress, at most every 50 ms. */
static void
decode_parallel (DecodeJob      *job,
                 guint           n_threads,
                 guint           n_before,
                 guint           total,
                 LkScanProgress  progress,
                 gpointer        progress_data)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  gint64 last = 0;

  n_threads = CLAMP (n_threads, 1, MAX (job->n_todo, 1));
  job->active = (gint) n_threads - 1;
  for (guint t = 1; t < n_threads; t++)
    g_ptr_array_add (threads, g_thread_new ("lk-decode", decode_worker, job));

  for (;;)
    {
      gboolean more = decode_one (job);
      gint64 now = g_get_monotonic_time ();

      if (!more && g_atomic_int_get (&job->active) == 0)
        break;
      if (progress != NULL && now - last > 50000)
        {
          progress (_("Decoding"), n_before + (guint) g_atomic_int_get (&job->done),
                    total, progress_data);
          last = now;
        }
      if (!more)
        g_usleep (10000);
    }
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (threads->pdata[t]);
  if (progress != NULL)
    progress (_("Decoding"), n_before + (guint) job->done, total, progress_data);
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

/* Opening a folder --------------------------------------------------------- */

static char *
folder_id (const char *root)
{
  g_autofree char *base = g_path_get_basename (root);
  GString *id = g_string_new (NULL);

  /* Only safe file-name characters in the id: it names our folders. */
  for (const char *p = base; *p != '\0' && id->len < 40; p++)
    g_string_append_c (id, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ? *p : '_');
  if (id->len == 0)
    g_string_append (id, "collection");
  g_string_append_printf (id, "-%012" G_GINT64_MODIFIER "x",
                          lk_hash64 (root, strlen (root), 0) & G_GUINT64_CONSTANT (0xffffffffffff));
  return g_string_free (id, FALSE);
}

/* A fresh collection laid out like @tree, images not yet filled. */
static LkCollection *
collection_from_tree (LkScanTree *tree, guint side)
{
  LkCollection *self = _lk_collection_new ();
  guint n = tree->entries->len;
  gsize blob_len = 0, pos = 0;

  self->root = g_strdup (tree->root);
  self->id = folder_id (tree->root);
  self->name = g_filename_display_basename (tree->root);
  self->side = side;
  self->channels = 3;
  self->n_images = n;
  self->n_categories = tree->categories->len;
  self->category_names = g_new0 (char *, self->n_categories + 1);
  for (guint c = 0; c < self->n_categories; c++)
    self->category_names[c] = g_filename_display_name (tree->categories->pdata[c]);

  self->labels = g_new (guint16, MAX (n, 1));
  self->paths = g_new (char *, MAX (n, 1));
  self->file_sizes = g_new (guint64, MAX (n, 1));
  self->mtimes = g_new (gint64, MAX (n, 1));
  self->widths = g_new0 (guint32, MAX (n, 1));
  self->heights = g_new0 (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    blob_len += strlen (g_array_index (tree->entries, LkScanEntry, i).relpath) + 1;
  self->path_blob = g_malloc (MAX (blob_len, 1));
  for (guint i = 0; i < n; i++)
    {
      const LkScanEntry *e = &g_array_index (tree->entries, LkScanEntry, i);
      gsize l = strlen (e->relpath) + 1;
      memcpy (self->path_blob + pos, e->relpath, l);
      self->paths[i] = self->path_blob + pos;
      pos += l;
      self->labels[i] = e->category;
      self->file_sizes[i] = e->size;
      self->mtimes[i] = e->mtime_ns;
    }
  _lk_collection_count_categories (self);
  return self;
}

/* Drops the images that failed to decode (listed in @failed, ascending)
 * from @self, keeping everything else in order. */
static void
collection_remove (LkCollection *self, const guint *failed, guint n_failed)
{
  gsize image_bytes = (gsize) self->side * self->side * self->channels;
  guint out = 0, f = 0;

  if (n_failed == 0)
    return;
  for (guint i = 0; i < self->n_images; i++)
    {
      if (f < n_failed && failed[f] == i)
        {
          f++;
          continue;
        }
      if (out != i)
        {
          self->labels[out] = self->labels[i];
          self->paths[out] = self->paths[i];
          self->file_sizes[out] = self->file_sizes[i];
          self->mtimes[out] = self->mtimes[i];
          self->widths[out] = self->widths[i];
          self->heights[out] = self->heights[i];
          memmove (self->owned_pixels + (gsize) out * image_bytes,
                   self->owned_pixels + (gsize) i * image_bytes, image_bytes);
        }
      out++;
    }
  self->n_images = out;
  _lk_collection_count_categories (self);
}

/* Is the cached collection exactly the tree (same files, same order,
 * none changed)? Then it can be used straight from the mapping. */
static gboolean
cache_matches_tree (LkCache *cache, LkScanTree *tree)
{
  g_autoptr(LkCollection) cached = _lk_cache_get_collection (cache);
  guint n_decode_skips = 0;

  if (cached->n_categories != tree->categories->len)
    return FALSE;
  for (guint c = 0; c < cached->n_categories; c++)
    {
      g_autofree char *name = g_filename_display_name (tree->categories->pdata[c]);
      if (!g_str_equal (name, cached->category_names[c]))
        return FALSE;
    }
  for (guint i = 0, j = 0; i < tree->entries->len; i++)
    {
      const LkScanEntry *e = &g_array_index (tree->entries, LkScanEntry, i);
      if (_lk_cache_lookup_skip (cache, e->relpath, e->size, e->mtime_ns) != NULL)
        {
          n_decode_skips++;
          continue;
        }
      if (j >= cached->n_images || !g_str_equal (cached->paths[j], e->relpath) ||
          cached->file_sizes[j] != e->size || cached->mtimes[j] != e->mtime_ns ||
          cached->labels[j] != e->category)
        return FALSE;
      j++;
    }
  return tree->entries->len == cached->n_images + n_decode_skips;
}

static void
copy_skips (GArray *to, GArray *from)
{
  for (guint i = 0; i < from->len; i++)
    {
      const LkSkipped *s = &g_array_index (from, LkSkipped, i);
      _lk_skipped_add (to, s->path, s->reason);
    }
}

LkCollection *
lk_collection_open_folder (const char           *root,
                           const LkScanOptions  *options,
                           LkScanProgress        progress,
                           gpointer              progress_data,
                           GCancellable         *cancellable,
                           GError              **error)
{
  LkScanOptions defaults;
  g_autoptr(LkScanTree) tree = NULL;
  g_autoptr(LkCache) cache = NULL;
  g_autoptr(GError) cache_error = NULL;
  g_autoptr(LkCollection) self = NULL;
  g_autoptr(GArray) decode_skips = NULL;
  g_autoptr(GArray) failed = NULL;
  g_autofree guint *todo = NULL;
  g_autofree char *cache_path = NULL;
  g_autofree char *id = NULL;
  gint64 t0 = g_get_monotonic_time (), t1;
  gsize image_bytes;
  guint n, n_todo = 0, n_reused = 0, side;
  DecodeJob job = { 0 };

  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      lk_scan_options_init (&defaults);
      options = &defaults;
    }
  side = options->side != 0 ? options->side : DEFAULT_SIDE;
  g_return_val_if_fail (side >= 8 && side <= 1024, NULL);

  if (progress != NULL)
    progress (_("Listing"), 0, 0, progress_data);
  tree = _lk_scan_tree (root, cancellable, error);
  if (tree == NULL)
    return NULL;
  t1 = g_get_monotonic_time ();

  id = folder_id (tree->root);
  cache_path = _lk_cache_path_for (id, side);
  if (!options->no_cache)
    {
      cache = _lk_cache_open (cache_path, side, 3, &cache_error);
      if (cache == NULL && !g_error_matches (cache_error, LK_ERROR, LK_ERROR_NOT_FOUND))
        g_debug ("Rebuilding the image cache: %s", cache_error->message);
    }

  /* Unchanged collection: the cached one, straight from the mapping. */
  if (cache != NULL && cache_matches_tree (cache, tree))
    {
      self = _lk_cache_get_collection (cache);
      /* The cache file does not store the root: without it the reopened
       * collection would name no file (lk_collection_dup_file). */
      g_free (self->root);
      self->root = g_strdup (tree->root);
      g_array_set_size (self->skipped, 0);
      copy_skips (self->skipped, tree->skipped);
      for (guint i = 0; i < tree->entries->len; i++)
        {
          const LkScanEntry *e = &g_array_index (tree->entries, LkScanEntry, i);
          const char *why = _lk_cache_lookup_skip (cache, e->relpath, e->size, e->mtime_ns);
          if (why != NULL)
            _lk_skipped_add (self->skipped, e->relpath, why);
        }
      self->cache_path = g_strdup (cache_path);
      self->stats.n_from_cache = self->n_images;
      self->stats.list_seconds = (t1 - t0) / 1e6;
      self->stats.total_seconds = (g_get_monotonic_time () - t0) / 1e6;
      if (progress != NULL)
        progress (_("Loading cache"), self->n_images, self->n_images, progress_data);
      return g_steal_pointer (&self);
    }

  self = collection_from_tree (tree, side);
  n = self->n_images;
  image_bytes = (gsize) side * side * 3;
  self->owned_pixels_size = MAX ((gsize) n * image_bytes, 1);
  self->owned_pixels = g_malloc (self->owned_pixels_size);
  self->pixels = self->owned_pixels;
  copy_skips (self->skipped, tree->skipped);

  /* Take what the cache still holds; decode the rest. Files that failed
   * before and have not changed fail again without being read. */
  decode_skips = g_array_new (FALSE, TRUE, sizeof (LkCachedSkip));
  g_array_set_clear_func (decode_skips, _lk_cached_skip_clear);
  failed = g_array_new (FALSE, FALSE, sizeof (guint));
  todo = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      const LkScanEntry *e = &g_array_index (tree->entries, LkScanEntry, i);
      guint ci;
      const char *why;

      if (cache != NULL && _lk_cache_lookup (cache, e->relpath, e->size, e->mtime_ns, &ci))
        {
          LkCollection *cached = _lk_cache_get_collection (cache);
          memcpy (self->owned_pixels + (gsize) i * image_bytes,
                  lk_collection_get_image (cached, ci), image_bytes);
          self->widths[i] = cached->widths[ci];
          self->heights[i] = cached->heights[ci];
          lk_collection_unref (cached);
          n_reused++;
        }
      else if (cache != NULL &&
               (why = _lk_cache_lookup_skip (cache, e->relpath, e->size, e->mtime_ns)) != NULL)
        {
          LkCachedSkip skip = { g_strdup (e->relpath), e->size, e->mtime_ns, g_strdup (why) };
          g_array_append_val (decode_skips, skip);
          g_array_append_val (failed, i);
        }
      else
        todo[n_todo++] = i;
    }
  g_clear_pointer (&cache, _lk_cache_free);

  job.tree = tree;
  job.coll = self;
  job.side = side;
  job.max_pixels = options->max_pixels != 0 ? options->max_pixels : DEFAULT_MAX_PIXELS;
  job.todo = todo;
  job.n_todo = n_todo;
  job.errors = g_new0 (char *, MAX (n_todo, 1));
  job.cancellable = cancellable;
  decode_parallel (&job,
                   options->n_threads != 0 ? options->n_threads : g_get_num_processors (),
                   n_reused, n - failed->len, progress, progress_data);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      for (guint s = 0; s < n_todo; s++)
        g_free (job.errors[s]);
      g_free (job.errors);
      return NULL;
    }
  for (guint s = 0; s < n_todo; s++)
    if (job.errors[s] != NULL)
      {
        const LkScanEntry *e = &g_array_index (tree->entries, LkScanEntry, todo[s]);
        LkCachedSkip skip = { g_strdup (e->relpath), e->size, e->mtime_ns, job.errors[s] };
        g_array_append_val (decode_skips, skip);
        g_array_append_val (failed, todo[s]);
      }
  g_free (job.errors);
  g_array_sort (failed, compare_uint);
  for (guint i = 0; i < decode_skips->len; i++)
    {
      const LkCachedSkip *skip = &g_array_index (decode_skips, LkCachedSkip, i);
      _lk_skipped_add (self->skipped, skip->relpath, skip->reason);
    }
  collection_remove (self, (const guint *) (gpointer) failed->data, failed->len);

  self->stats.n_decoded = n_todo;
  self->stats.n_from_cache = n_reused;
  self->stats.list_seconds = (t1 - t0) / 1e6;
  self->stats.decode_seconds = (g_get_monotonic_time () - t1) / 1e6;

  if (!options->no_cache)
    {
      g_autoptr(GError) write_error = NULL;
      if (_lk_cache_write (self, cache_path, "", decode_skips, &write_error))
        self->cache_path = g_strdup (cache_path);
      else
        g_message ("Could not write the image cache: %s", write_error->message);
    }
  self->stats.total_seconds = (g_get_monotonic_time () - t0) / 1e6;
  return g_steal_pointer (&self);
}

/* The built-in Fashion-MNIST collection ---------------------------------- */

static const char *const fashion_mnist_names[] = {
  N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
  N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"),
};

static const char *const fashion_mnist_files[] = {
  "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};

#define FMNIST_SIDE 28

/* Sizes and mtimes of the four IDX files: the cache is valid while they
 * are unchanged. */
static char *
fashion_mnist_source (const char *dir, GError **error)
{
  GString *source = g_string_new (NULL);

  for (gsize f = 0; f < G_N_ELEMENTS (fashion_mnist_files); f++)
    {
      g_autofree char *path = g_build_filename (dir, fashion_mnist_files[f], NULL);
      GStatBuf st;
      if (g_stat (path, &st) != 0)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND,
                       _("Cannot open the built-in collection: %s is missing "
                         "(install the package dataset-fashion-mnist)"), path);
          g_string_free (source, TRUE);
          return NULL;
        }
      g_string_append_printf (source, "%s:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ";",
                              fashion_mnist_files[f], (gint64) st.st_size,
                              (gint64) st.st_mtime);
    }
  return g_string_free (source, FALSE);
}

/* Reads one split's images and labels into @self at @offset. */
static gboolean
read_fashion_mnist_split (LkCollection  *self,
                          const char    *dir,
                          guint          split,
                          guint          offset,
                          guint          expected,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autofree char *img_path = g_build_filename (dir, fashion_mnist_files[2 * (split - 1)], NULL);
  g_autofree char *lbl_path = g_build_filename (dir, fashion_mnist_files[2 * (split - 1) + 1], NULL);
  g_autoptr(GBytes) img = NULL, lbl = NULL;
  guint32 idims[3], ldims[1];
  const guint8 *ipix, *lpay;
  gsize ilen, llen;
  const guint8 *idata, *ldata;

  img = _lk_idx_load_file (img_path, cancellable, error);
  if (img == NULL)
    return FALSE;
  lbl = _lk_idx_load_file (lbl_path, cancellable, error);
  if (lbl == NULL)
    return FALSE;
  idata = g_bytes_get_data (img, &ilen);
  ldata = g_bytes_get_data (lbl, &llen);
  if (!_lk_idx_parse (idata, ilen, 3, idims, &ipix, error) ||
      !_lk_idx_parse (ldata, llen, 1, ldims, &lpay, error))
    {
      g_prefix_error (error, "%s: ", img_path);
      return FALSE;
    }
  if (idims[0] != expected || idims[1] != FMNIST_SIDE || idims[2] != FMNIST_SIDE ||
      ldims[0] != expected)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("%s: expected %u images of 28×28 with as many labels, found %u of %u×%u and %u labels"),
                   img_path, expected, idims[0], idims[1], idims[2], ldims[0]);
      return FALSE;
    }
  memcpy (self->owned_pixels + (gsize) offset * FMNIST_SIDE * FMNIST_SIDE, ipix,
          (gsize) expected * FMNIST_SIDE * FMNIST_SIDE);
  for (guint i = 0; i < expected; i++)
    {
      if (lpay[i] >= G_N_ELEMENTS (fashion_mnist_names))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                       _("%s: label %u of image %u is not a Fashion-MNIST category"),
                       lbl_path, lpay[i], i);
          return FALSE;
        }
      self->labels[offset + i] = lpay[i];
      self->splits[offset + i] = (guint8) split;
    }
  return TRUE;
}

static LkCollection *
fashion_mnist_from_idx (const char *dir, GCancellable *cancellable, GError **error)
{
  g_autoptr(LkCollection) self = _lk_collection_new ();
  const guint n_train = 60000, n_test = 10000, n = n_train + n_test;

  self->id = g_strdup ("fashion-mnist");
  self->name = g_strdup (_("Fashion-MNIST"));
  self->builtin = TRUE;
  self->side = FMNIST_SIDE;
  self->channels = 1;
  self->n_images = n;
  self->n_categories = G_N_ELEMENTS (fashion_mnist_names);
  self->category_names = g_new0 (char *, self->n_categories + 1);
  for (guint c = 0; c < self->n_categories; c++)
    self->category_names[c] = g_strdup (_(fashion_mnist_names[c]));
  self->labels = g_new (guint16, n);
  self->splits = g_new (guint8, n);
  self->owned_pixels_size = (gsize) n * FMNIST_SIDE * FMNIST_SIDE;
  self->owned_pixels = g_malloc (self->owned_pixels_size);
  self->pixels = self->owned_pixels;

  if (!read_fashion_mnist_split (self, dir, LK_SPLIT_TRAIN, 0, n_train, cancellable, error) ||
      !read_fashion_mnist_split (self, dir, LK_SPLIT_TEST, n_train, n_test, cancellable, error))
    return NULL;

  /* Synthetic paths name each image by split and position in its file. */
  self->paths = g_new (char *, n);
  self->path_blob = g_malloc ((gsize) n * 12);
  for (guint i = 0; i < n; i++)
    {
      char *p = self->path_blob + (gsize) i * 12;
      g_snprintf (p, 12, "%s/%05u", i < n_train ? "train" : "test",
                  i < n_train ? i : i - n_train);
      self->paths[i] = p;
    }
  _lk_collection_count_categories (self);
  return g_steal_pointer (&self);
}

LkCollection *
lk_collection_open_fashion_mnist (const char    *idx_dir,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autofree char *source = NULL;
  g_autofree char *cache_path = NULL;
  g_autoptr(GError) cache_error = NULL;
  g_autoptr(GError) write_error = NULL;
  g_autoptr(LkCache) cache = NULL;
  g_autoptr(LkCollection) self = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (idx_dir == NULL)
    idx_dir = FASHION_MNIST_DIR;
  source = fashion_mnist_source (idx_dir, error);
  if (source == NULL)
    return NULL;

  cache_path = _lk_cache_path_for ("fashion-mnist", FMNIST_SIDE);
  cache = _lk_cache_open (cache_path, FMNIST_SIDE, 1, &cache_error);
  if (cache != NULL && g_str_equal (_lk_cache_get_source (cache), source))
    {
      self = _lk_cache_get_collection (cache);
      self->builtin = TRUE;
      /* Names in the user's language, whatever it was when cached. */
      g_free (self->name);
      self->name = g_strdup (_("Fashion-MNIST"));
      for (guint c = 0; c < self->n_categories && c < G_N_ELEMENTS (fashion_mnist_names); c++)
        {
          g_free (self->category_names[c]);
          self->category_names[c] = g_strdup (_(fashion_mnist_names[c]));
        }
      self->cache_path = g_strdup (cache_path);
      self->stats.n_from_cache = self->n_images;
      self->stats.total_seconds = (g_get_monotonic_time () - t0) / 1e6;
      return g_steal_pointer (&self);
    }

  self = fashion_mnist_from_idx (idx_dir, cancellable, error);
  if (self == NULL)
    return NULL;
  if (_lk_cache_write (self, cache_path, source, NULL, &write_error))
    self->cache_path = g_strdup (cache_path);
  else
    g_message ("Could not write the image cache: %s", write_error->message);
  self->stats.n_decoded = self->n_images;
  self->stats.total_seconds = (g_get_monotonic_time () - t0) / 1e6;
  self->stats.decode_seconds = self->stats.total_seconds;
  return g_steal_pointer (&self);
}
