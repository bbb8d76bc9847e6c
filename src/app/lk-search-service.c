/* lk-search-service.c — LkSearchService: the sources of a collection,
 * their indexes built in a thread of ours, and queries in workers. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "error.h"
#include "fileutil.h"
#include "lk-progress-relay.h"
#include "lk-search-service.h"
#include "lk-worker.h"

/* Indexes kept ready: the Query view's two sides and the Label view's
 * pair share golden features. One Fashion-MNIST golden index costs
 * ~580 MB (rows mapped, packed copy, float16 copy). */
#define MAX_READY 3
/* Events of the embeddings folder come in bursts (a temporary, then a
 * rename): one listing after they stop. */
#define RELIST_DELAY_MS 300

/* ---- LkSourceIndex ---- */

struct _LkSourceIndex
{
  gint           ref_count;
  char          *name;
  char          *label;
  LkCollection  *collection;
  LkEmbedding   *embedding;
  LkSearchIndex *index;
  GMutex         lock;         /* one search at a time */
  double         build_seconds;
  gint64         file_signature;  /* of the rows' file when built, 0 if none */
  guint          version;      /* the service's version of the source when it was built */
};

LkSourceIndex *
lk_source_index_ref (LkSourceIndex *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_source_index_unref (LkSourceIndex *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  lk_search_index_free (self->index);
  lk_embedding_unref (self->embedding);
  lk_collection_unref (self->collection);
  g_mutex_clear (&self->lock);
  g_free (self->name);
  g_free (self->label);
  g_free (self);
}

const char *
lk_source_index_get_name (LkSourceIndex *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

const char *
lk_source_index_get_label (LkSourceIndex *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->label;
}

LkEmbedding *
lk_source_index_get_embedding (LkSourceIndex *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->embedding;
}

LkCollection *
lk_source_index_get_collection (LkSourceIndex *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->collection;
}

double
lk_source_index_get_build_seconds (LkSourceIndex *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->build_seconds;
}

guint
lk_source_index_query (LkSourceIndex *self, const float *query, guint k, gint category,
                       guint32 exclude, LkNeighbour *out)
{
  guint n;

  g_return_val_if_fail (self != NULL && query != NULL && out != NULL, 0);
  g_mutex_lock (&self->lock);
  n = lk_search_query (self->index, query, k, category, exclude, out);
  g_mutex_unlock (&self->lock);
  return n;
}

/* What identifies one version of a file: its time and size. */
static gint64
file_signature (const char *path)
{
  GStatBuf st;

  if (path == NULL || g_stat (path, &st) != 0)
    return 0;
  return (gint64) st.st_mtime * 1000003 + (gint64) st.st_size;
}

static gint64
file_mtime (const char *path)
{
  GStatBuf st;

  if (path == NULL || g_stat (path, &st) != 0)
    return 0;
  return (gint64) st.st_mtime;
}

/* ---- the service ---- */

typedef struct _PrepareJob PrepareJob;

struct _LkSearchService
{
  GObject          parent_instance;

  /* Owned */
  LkCollection    *collection;
  guint            generation;      /* bumped per collection: older results are dropped */
  GPtrArray       *sources;         /* LkEmbeddingSource */
  GHashTable      *signatures;      /* model name → file signature (gint64 *) */
  GHashTable      *mtimes;          /* model name → file time (gint64 *) */
  GHashTable      *versions;        /* name → how often its rows changed (guint) */
  gboolean         listed;
  gboolean         listing;
  gboolean         list_again;
  GFileMonitor    *monitor;
  guint            relist_source;
  GQueue           ready;           /* LkSourceIndex, most recently used first */
  GPtrArray       *jobs;            /* PrepareJob, in the order they run, the first running */
  PrepareJob      *running;         /* borrowed from @jobs, or NULL */
  LkProgressRelay *relay;
};

G_DEFINE_FINAL_TYPE (LkSearchService, lk_search_service, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

enum {
  SOURCES_CHANGED,
  TRIPLETS_CHANGED,
  PREPARE_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

struct _PrepareJob
{
  gint             ref_count;
  char            *name;
  LkCollection    *collection;
  guint            generation;
  guint            version;
  GCancellable    *cancellable;
  LkProgressRelay *relay;
  GMainContext    *context;
  GWeakRef         service;
  GList           *waiters;         /* GTask, main thread only */
  /* Set by the worker, read on the main thread after it is done. */
  LkSourceIndex   *result;
  GError          *error;
};

static PrepareJob *
prepare_job_ref (PrepareJob *job)
{
  g_atomic_int_inc (&job->ref_count);
  return job;
}

static void
prepare_job_unref (PrepareJob *job)
{
  if (!g_atomic_int_dec_and_test (&job->ref_count))
    return;
  g_assert (job->waiters == NULL);
  g_free (job->name);
  lk_collection_unref (job->collection);
  g_object_unref (job->cancellable);
  lk_progress_relay_unref (job->relay);
  g_main_context_unref (job->context);
  g_weak_ref_clear (&job->service);
  g_clear_pointer (&job->result, lk_source_index_unref);
  g_clear_error (&job->error);
  g_free (job);
}

static void
notify_busy (LkSearchService *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* Versions: a source's rows change under the same name (a model's new
 * checkpoint, golden-learned after new labels); an index built before
 * is then out of date. */
static guint
get_version (LkSearchService *self, const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->versions, name));
}

static void
bump_version (LkSearchService *self, const char *name)
{
  g_hash_table_replace (self->versions, g_strdup (name),
                        GUINT_TO_POINTER (get_version (self, name) + 1));
}

gboolean
lk_search_service_is_current (LkSearchService *self, LkSourceIndex *index)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), FALSE);
  g_return_val_if_fail (index != NULL, FALSE);
  return index->collection == self->collection && index->version == get_version (self, index->name);
}

/* The ready list ---------------------------------------------------------- */

static LkSourceIndex *
find_ready (LkSearchService *self, const char *name, GList **link_out)
{
  for (GList *l = self->ready.head; l != NULL; l = l->next)
    if (g_str_equal (((LkSourceIndex *) l->data)->name, name))
      {
        if (link_out != NULL)
          *link_out = l;
        return l->data;
      }
  return NULL;
}

static void
drop_ready (LkSearchService *self, const char *name)
{
  GList *link = NULL;

  if (find_ready (self, name, &link) != NULL)
    {
      lk_source_index_unref (link->data);
      g_queue_delete_link (&self->ready, link);
    }
}

static void
add_ready (LkSearchService *self, LkSourceIndex *index)
{
  drop_ready (self, index->name);
  g_queue_push_head (&self->ready, lk_source_index_ref (index));
  while (self->ready.length > MAX_READY)
    lk_source_index_unref (g_queue_pop_tail (&self->ready));
}

static void
clear_ready (LkSearchService *self)
{
  g_queue_clear_full (&self->ready, (GDestroyNotify) lk_source_index_unref);
}

/* Preparing ----------------------------------------------------------------- */

static void
on_embed_progress (guint done, guint total, gpointer data)
{
  PrepareJob *job = data;
  lk_progress_relay_post (job->relay, job->name, done, total);
}

static gboolean prepare_done (gpointer data);

/* A thread of its own, below the window's priority: the rows (stored,
 * or computed the first time), then the index over every image. */
static gpointer
prepare_thread (gpointer data)
{
  PrepareJob *job = data;
  g_autoptr(LkEmbedding) emb = NULL;
  LkSearchIndex *index = NULL;
  gint64 t0 = g_get_monotonic_time ();

  lk_thread_lower_priority ();
  if (!g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
    {
      lk_progress_relay_post (job->relay, job->name, 0, 0);
      emb = lk_embedding_source_load (job->collection, job->name, on_embed_progress, job,
                                      job->cancellable, &job->error);
    }
  if (emb != NULL && !g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
    {
      guint n = lk_embedding_get_n (emb);
      lk_progress_relay_post (job->relay, job->name, n, n);
      index = lk_search_index_new (lk_embedding_get_data (emb), n, lk_embedding_get_dim (emb),
                                   NULL, 0, lk_collection_get_labels (job->collection),
                                   lk_collection_get_n_categories (job->collection),
                                   LK_METRIC_L2, &job->error);
    }
  if (index != NULL)
    {
      LkSourceIndex *si = g_new0 (LkSourceIndex, 1);

      /* Two threads: a single query reads 100+ MB on Fashion-MNIST, and
       * the float16 pass halves that, with the same lists. */
      lk_search_index_set_n_threads (index, 0);
      lk_search_index_set_half_first_pass (index, TRUE);
      si->ref_count = 1;
      si->name = g_strdup (job->name);
      si->label = g_strdup (lk_embedding_get_label (emb));
      si->collection = lk_collection_ref (job->collection);
      si->embedding = g_steal_pointer (&emb);
      si->index = index;
      g_mutex_init (&si->lock);
      si->file_signature = file_signature (lk_embedding_get_path (si->embedding));
      si->version = job->version;
      si->build_seconds = (g_get_monotonic_time () - t0) / 1e6;
      job->result = si;
    }
  lk_worker_post (job->context, prepare_done, job, (GDestroyNotify) prepare_job_unref);
  return NULL;
}

/* One at a time: two builds at once would only share the cores and the
 * memory bandwidth, and both finish later. */
static void
start_next_job (LkSearchService *self)
{
  g_autoptr(GError) error = NULL;
  PrepareJob *job;
  GThread *thread;

  if (self->running != NULL || self->jobs->len == 0)
    return;
  job = self->running = self->jobs->pdata[0];
  /* The thread's reference, given back through prepare_done. */
  thread = g_thread_try_new ("lk-prepare", prepare_thread, prepare_job_ref (job), &error);
  if (thread != NULL)
    {
      g_thread_unref (thread);
      return;
    }
  job->error = g_steal_pointer (&error);
  lk_worker_post (job->context, prepare_done, job, (GDestroyNotify) prepare_job_unref);
}

static void
return_to_waiters (PrepareJob *job)
{
  GList *waiters = g_steal_pointer (&job->waiters);

  for (GList *l = waiters; l != NULL; l = l->next)
    {
      GTask *task = l->data;

      if (g_task_return_error_if_cancelled (task))
        ;
      else if (job->result != NULL)
        g_task_return_pointer (task, lk_source_index_ref (job->result),
                               (GDestroyNotify) lk_source_index_unref);
      else
        g_task_return_error (task, g_error_copy (job->error));
      g_object_unref (task);
    }
  g_list_free (waiters);
}

/* Main thread. */
static gboolean
prepare_done (gpointer data)
{
  PrepareJob *job = data;
  g_autoptr(LkSearchService) self = g_weak_ref_get (&job->service);

  if (self != NULL)
    {
      if (self->running == job)
        self->running = NULL;
      if (job->result != NULL && job->generation == self->generation &&
          job->version == get_version (self, job->name))
        add_ready (self, job->result);
      g_ptr_array_remove (self->jobs, job);
    }
  return_to_waiters (job);
  if (self != NULL)
    {
      start_next_job (self);
      notify_busy (self);
    }
  return G_SOURCE_REMOVE;
}

static PrepareJob *
find_job (LkSearchService *self, const char *name)
{
  for (guint i = 0; i < self->jobs->len; i++)
    {
      PrepareJob *job = self->jobs->pdata[i];
      if (g_str_equal (job->name, name) && !g_cancellable_is_cancelled (job->cancellable))
        return job;
    }
  return NULL;
}

void
lk_search_service_prepare_async (LkSearchService     *self,
                                 const char          *name,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LkSourceIndex *ready;
  PrepareJob *job;

  g_return_if_fail (LK_IS_SEARCH_SERVICE (self));
  g_return_if_fail (name != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lk_search_service_prepare_async);
  if (self->collection == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("No collection is open"));
      return;
    }
  ready = find_ready (self, name, NULL);
  if (ready != NULL)
    {
      /* Most recently used first. */
      g_queue_remove (&self->ready, ready);
      g_queue_push_head (&self->ready, ready);
      g_task_return_pointer (task, lk_source_index_ref (ready),
                             (GDestroyNotify) lk_source_index_unref);
      return;
    }
  job = find_job (self, name);
  if (job == NULL)
    {
      job = g_new0 (PrepareJob, 1);
      job->ref_count = 1;
      job->name = g_strdup (name);
      job->collection = lk_collection_ref (self->collection);
      job->generation = self->generation;
      job->version = get_version (self, name);
      job->cancellable = g_cancellable_new ();
      job->relay = lk_progress_relay_ref (self->relay);
      job->context = g_main_context_ref_thread_default ();
      g_weak_ref_init (&job->service, self);
      g_ptr_array_add (self->jobs, job);
      start_next_job (self);
      notify_busy (self);
    }
  job->waiters = g_list_append (job->waiters, g_steal_pointer (&task));
}

LkSourceIndex *
lk_search_service_prepare_finish (LkSearchService *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lk_search_service_prepare_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
cancel_jobs (LkSearchService *self)
{
  for (guint i = 0; i < self->jobs->len; i++)
    g_cancellable_cancel (((PrepareJob *) self->jobs->pdata[i])->cancellable);
}

void
lk_search_service_cancel_prepare (LkSearchService *self)
{
  g_return_if_fail (LK_IS_SEARCH_SERVICE (self));
  cancel_jobs (self);
}

const char *
lk_search_service_get_preparing (LkSearchService *self)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);

  /* The pool runs them in order: the first is the one running. */
  for (guint i = 0; i < self->jobs->len; i++)
    {
      PrepareJob *job = self->jobs->pdata[i];
      if (!g_cancellable_is_cancelled (job->cancellable))
        return job->name;
    }
  return NULL;
}

gboolean
lk_search_service_get_busy (LkSearchService *self)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), FALSE);
  return self->jobs->len > 0 || self->listing || self->relist_source != 0 ||
         (self->collection != NULL && !self->listed);
}

LkSourceIndex *
lk_search_service_lookup (LkSearchService *self, const char *name)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return find_ready (self, name, NULL);
}

static void
relay_progress (const char *name, guint done, guint total, gpointer user_data)
{
  g_signal_emit (user_data, signals[PREPARE_PROGRESS], 0, name, done, total);
}

/* Listing the sources --------------------------------------------------------- */

typedef struct {
  GPtrArray  *sources;
  GHashTable *signatures;
  GHashTable *mtimes;
} Listing;

static void
listing_free (Listing *l)
{
  g_ptr_array_unref (l->sources);
  g_hash_table_unref (l->signatures);
  g_hash_table_unref (l->mtimes);
  g_free (l);
}

static GHashTable *
new_int64_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Listing *l = g_new0 (Listing, 1);

  l->sources = lk_embedding_list_sources (task_data);
  l->signatures = new_int64_table ();
  l->mtimes = new_int64_table ();
  for (guint i = 0; i < l->sources->len; i++)
    {
      LkEmbeddingSource *s = l->sources->pdata[i];
      gint64 sig = file_signature (s->path), mtime = file_mtime (s->path);

      if (s->kind != LK_EMBEDDING_MODEL)
        continue;
      g_hash_table_insert (l->signatures, g_strdup (s->name), g_memdup2 (&sig, sizeof sig));
      g_hash_table_insert (l->mtimes, g_strdup (s->name), g_memdup2 (&mtime, sizeof mtime));
    }
  g_task_return_pointer (task, l, (GDestroyNotify) listing_free);
}

static gint64
lookup_int64 (GHashTable *table, const char *name)
{
  gint64 *v = table != NULL ? g_hash_table_lookup (table, name) : NULL;
  return v != NULL ? *v : 0;
}

/* What a view shows of the list: names, labels, kinds, dims, and which
 * version of each model's file. Whether a baseline is stored yet is not
 * part of it (computing one writes its file). */
static gboolean
listing_differs (LkSearchService *self, Listing *l)
{
  if (self->sources == NULL || self->sources->len != l->sources->len)
    return TRUE;
  for (guint i = 0; i < l->sources->len; i++)
    {
      LkEmbeddingSource *a = self->sources->pdata[i], *b = l->sources->pdata[i];
      if (!g_str_equal (a->name, b->name) || g_strcmp0 (a->label, b->label) != 0 ||
          a->kind != b->kind || a->dim != b->dim ||
          lookup_int64 (self->signatures, a->name) != lookup_int64 (l->signatures, b->name))
        return TRUE;
    }
  return FALSE;
}

/* Models whose file was rewritten (a newer checkpoint under the same
 * name) since the last listing, or since their index was built: their
 * indexes are out of date. */
static void
drop_rewritten (LkSearchService *self, GHashTable *before)
{
  GHashTableIter iter;
  gpointer name, sig;
  GList *l;

  g_hash_table_iter_init (&iter, self->signatures);
  while (before != NULL && g_hash_table_iter_next (&iter, &name, &sig))
    if (lookup_int64 (before, name) != *(gint64 *) sig)
      {
        bump_version (self, name);
        drop_ready (self, name);
      }
  l = self->ready.head;
  while (l != NULL)
    {
      LkSourceIndex *si = l->data;
      GList *next = l->next;
      gint64 *current = g_hash_table_lookup (self->signatures, si->name);

      if (current != NULL && *current != si->file_signature)
        {
          bump_version (self, si->name);
          lk_source_index_unref (si);
          g_queue_delete_link (&self->ready, l);
        }
      l = next;
    }
}

static void start_listing (LkSearchService *self);

static void
list_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LkSearchService *self = LK_SEARCH_SERVICE (source);
  guint generation = GPOINTER_TO_UINT (user_data);
  Listing *l = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autoptr(GHashTable) before = NULL;
  gboolean changed;

  self->listing = FALSE;
  if (generation != self->generation || l == NULL)
    {
      g_clear_pointer (&l, listing_free);
      if (self->collection != NULL)
        start_listing (self);
      else
        notify_busy (self);
      return;
    }
  changed = listing_differs (self, l) || !self->listed;
  before = g_steal_pointer (&self->signatures);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_clear_pointer (&self->mtimes, g_hash_table_unref);
  self->sources = g_steal_pointer (&l->sources);
  self->signatures = g_steal_pointer (&l->signatures);
  self->mtimes = g_steal_pointer (&l->mtimes);
  g_free (l);
  self->listed = TRUE;
  drop_rewritten (self, before);
  if (changed)
    g_signal_emit (self, signals[SOURCES_CHANGED], 0);
  if (self->list_again)
    start_listing (self);
  notify_busy (self);
}

static void
start_listing (LkSearchService *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->collection == NULL)
    return;
  if (self->listing)
    {
      self->list_again = TRUE;
      return;
    }
  self->listing = TRUE;
  self->list_again = FALSE;
  task = g_task_new (self, NULL, list_done, GUINT_TO_POINTER (self->generation));
  g_task_set_source_tag (task, start_listing);
  g_task_set_task_data (task, lk_collection_ref (self->collection),
                        (GDestroyNotify) lk_collection_unref);
  g_task_run_in_thread (task, list_thread);
  notify_busy (self);
}

static gboolean
relist_timeout (gpointer data)
{
  LkSearchService *self = data;

  self->relist_source = 0;
  start_listing (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_listing (LkSearchService *self)
{
  g_clear_handle_id (&self->relist_source, g_source_remove);
  self->relist_source = g_timeout_add (RELIST_DELAY_MS, relist_timeout, self);
  notify_busy (self);
}

static void
on_embeddings_folder_changed (LkSearchService *self)
{
  schedule_listing (self);
}

void
lk_search_service_refresh_sources (LkSearchService *self)
{
  g_return_if_fail (LK_IS_SEARCH_SERVICE (self));
  start_listing (self);
}

void
lk_search_service_triplets_changed (LkSearchService *self)
{
  g_return_if_fail (LK_IS_SEARCH_SERVICE (self));

  /* Its weights are learned from the labels. */
  bump_version (self, "golden-learned");
  drop_ready (self, "golden-learned");
  start_listing (self);
  g_signal_emit (self, signals[TRIPLETS_CHANGED], 0);
}

GPtrArray *
lk_search_service_get_sources (LkSearchService *self)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  if (self->sources == NULL)
    self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) lk_embedding_source_free);
  return self->sources;
}

gboolean
lk_search_service_get_sources_listed (LkSearchService *self)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), FALSE);
  return self->listed;
}

const LkEmbeddingSource *
lk_search_service_find_source (LkSearchService *self, const char *name)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  for (guint i = 0; name != NULL && self->sources != NULL && i < self->sources->len; i++)
    if (g_str_equal (((LkEmbeddingSource *) self->sources->pdata[i])->name, name))
      return self->sources->pdata[i];
  return NULL;
}

gint64
lk_search_service_get_source_version (LkSearchService *self, const char *name)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), 0);
  g_return_val_if_fail (name != NULL, 0);
  /* Both parts: a rewritten file, and a change the service was told of. */
  return lookup_int64 (self->signatures, name) * 31 + get_version (self, name);
}

const LkEmbeddingSource *
lk_search_service_get_newest_model (LkSearchService *self)
{
  const LkEmbeddingSource *best = NULL;
  gint64 best_time = G_MININT64;

  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  for (guint i = 0; self->sources != NULL && i < self->sources->len; i++)
    {
      const LkEmbeddingSource *s = self->sources->pdata[i];
      gint64 t = lookup_int64 (self->mtimes, s->name);
      if (s->kind == LK_EMBEDDING_MODEL && s->stored && (best == NULL || t >= best_time))
        {
          best = s;
          best_time = t;
        }
    }
  return best;
}

/* The collection ---------------------------------------------------------------- */

static void
watch_embeddings_folder (LkSearchService *self)
{
  g_autofree char *data_dir = NULL, *dir = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  if (self->collection == NULL)
    return;
  data_dir = lk_data_dir_for (lk_collection_get_id (self->collection));
  dir = g_build_filename (data_dir, "embeddings", NULL);
  /* Our own data folder: made now so it can be watched before the first
   * model writes into it. */
  g_mkdir_with_parents (dir, 0755);
  file = g_file_new_for_path (dir);
  self->monitor = g_file_monitor_directory (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor == NULL)
    {
      g_debug ("Not watching %s: %s", dir, error->message);
      return;
    }
  g_signal_connect_swapped (self->monitor, "changed",
                            G_CALLBACK (on_embeddings_folder_changed), self);
}

void
lk_search_service_set_collection (LkSearchService *self, LkCollection *collection)
{
  g_return_if_fail (LK_IS_SEARCH_SERVICE (self));

  if (self->collection == collection)
    return;
  self->generation++;
  /* A job still running finishes at its next check, unseen. */
  cancel_jobs (self);
  g_ptr_array_set_size (self->jobs, 0);
  self->running = NULL;
  clear_ready (self);
  g_clear_pointer (&self->collection, lk_collection_unref);
  if (collection != NULL)
    self->collection = lk_collection_ref (collection);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_clear_pointer (&self->signatures, g_hash_table_unref);
  g_clear_pointer (&self->mtimes, g_hash_table_unref);
  g_clear_handle_id (&self->relist_source, g_source_remove);
  self->listed = FALSE;
  watch_embeddings_folder (self);
  start_listing (self);
  g_signal_emit (self, signals[SOURCES_CHANGED], 0);
  notify_busy (self);
}

LkCollection *
lk_search_service_get_collection (LkSearchService *self)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  return self->collection;
}

/* Queries ------------------------------------------------------------------------- */

void
lk_query_result_free (LkQueryResult *result)
{
  if (result == NULL)
    return;
  for (guint i = 0; i < result->n_lists; i++)
    {
      g_free (result->lists[i].source);
      g_free (result->lists[i].label);
      g_free (result->lists[i].neighbours);
      g_free (result->lists[i].error);
    }
  g_free (result->lists);
  g_free (result->file);
  g_free (result);
}

typedef struct {
  LkSourceIndex **indexes;
  guint           n_indexes;
  int             image;
  char           *file;
  guint           k;
  gboolean        same_category;
} QueryData;

static void
query_data_free (QueryData *d)
{
  for (guint i = 0; i < d->n_indexes; i++)
    lk_source_index_unref (d->indexes[i]);
  g_free (d->indexes);
  g_free (d->file);
  g_free (d);
}

/* The query's row: its own row of the source, or the file embedded by
 * the source's embedder. */
static gboolean
query_vector (LkSourceIndex *si, QueryData *d, float *out, GError **error)
{
  g_autoptr(LkEmbedder) embedder = NULL;
  guint dim = lk_embedding_get_dim (si->embedding);

  if (d->image >= 0)
    {
      memcpy (out, lk_embedding_get_row (si->embedding, (guint) d->image), dim * sizeof (float));
      return TRUE;
    }
  embedder = lk_embedder_new_for_source (si->collection, si->name, error);
  if (embedder == NULL)
    return FALSE;
  if (lk_embedder_get_dim (embedder) != dim)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("“%s” now makes rows of another size: choose it again"), si->label);
      return FALSE;
    }
  return lk_embedder_embed_file (embedder, si->collection, d->file, out, error);
}

static void
query_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  QueryData *d = task_data;
  LkQueryResult *r = g_new0 (LkQueryResult, 1);

  r->started_at = g_get_monotonic_time ();
  r->image = d->image;
  r->file = g_strdup (d->file);
  r->n_lists = d->n_indexes;
  r->lists = g_new0 (LkQueryList, MAX (d->n_indexes, 1));
  for (guint i = 0; i < d->n_indexes; i++)
    {
      LkSourceIndex *si = d->indexes[i];
      LkQueryList *list = &r->lists[i];
      g_autofree float *q = g_new (float, lk_embedding_get_dim (si->embedding));
      g_autoptr(GError) error = NULL;
      gint64 t0 = g_get_monotonic_time ();
      gint category = LK_SEARCH_ANY_CATEGORY;

      list->source = g_strdup (si->name);
      list->label = g_strdup (si->label);
      list->neighbours = g_new (LkNeighbour, MAX (d->k, 1));
      if (!query_vector (si, d, q, &error))
        {
          list->error = g_strdup (error->message);
          continue;
        }
      if (d->image >= 0 && d->same_category)
        category = (gint) lk_collection_get_label (si->collection, (guint) d->image);
      list->n = lk_source_index_query (si, q, d->k, category,
                                       d->image >= 0 ? (guint32) d->image : LK_SEARCH_NO_EXCLUDE,
                                       list->neighbours);
      list->search_ms = (g_get_monotonic_time () - t0) / 1e3;
    }
  r->done_at = g_get_monotonic_time ();
  g_task_return_pointer (task, r, (GDestroyNotify) lk_query_result_free);
}

void
lk_search_service_query_async (LkSearchService     *self,
                               LkSourceIndex      **indexes,
                               guint                n_indexes,
                               const LkQuerySpec   *spec,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  QueryData *d;

  g_return_if_fail (LK_IS_SEARCH_SERVICE (self));
  g_return_if_fail (indexes != NULL && n_indexes > 0);
  g_return_if_fail (spec != NULL && spec->k > 0);
  g_return_if_fail (spec->image >= 0 || spec->file != NULL);

  for (guint i = 0; i < n_indexes; i++)
    g_return_if_fail (spec->image < 0 ||
                      (guint) spec->image < lk_embedding_get_n (indexes[i]->embedding));

  d = g_new0 (QueryData, 1);
  d->indexes = g_new (LkSourceIndex *, n_indexes);
  for (guint i = 0; i < n_indexes; i++)
    d->indexes[i] = lk_source_index_ref (indexes[i]);
  d->n_indexes = n_indexes;
  d->image = spec->image;
  d->file = spec->image < 0 ? g_strdup (spec->file) : NULL;
  d->k = spec->k;
  d->same_category = spec->same_category;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lk_search_service_query_async);
  g_task_set_task_data (task, d, (GDestroyNotify) query_data_free);
  g_task_set_check_cancellable (task, TRUE);
  g_task_run_in_thread (task, query_thread);
}

LkQueryResult *
lk_search_service_query_finish (LkSearchService *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (LK_IS_SEARCH_SERVICE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lk_search_service_query_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Object ---------------------------------------------------------------------------- */

static void
lk_search_service_dispose (GObject *object)
{
  LkSearchService *self = LK_SEARCH_SERVICE (object);

  /* Running jobs stop at their next check; their results are dropped. */
  lk_search_service_set_collection (self, NULL);
  if (self->relay != NULL)
    lk_progress_relay_close (self->relay);
  G_OBJECT_CLASS (lk_search_service_parent_class)->dispose (object);
}

static void
lk_search_service_finalize (GObject *object)
{
  LkSearchService *self = LK_SEARCH_SERVICE (object);

  g_ptr_array_unref (self->jobs);
  g_clear_pointer (&self->relay, lk_progress_relay_unref);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_hash_table_unref (self->versions);
  G_OBJECT_CLASS (lk_search_service_parent_class)->finalize (object);
}

static void
lk_search_service_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkSearchService *self = LK_SEARCH_SERVICE (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, lk_search_service_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_search_service_class_init (LkSearchServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lk_search_service_dispose;
  object_class->finalize = lk_search_service_finalize;
  object_class->get_property = lk_search_service_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SOURCES_CHANGED] =
    g_signal_new ("sources-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[TRIPLETS_CHANGED] =
    g_signal_new ("triplets-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[PREPARE_PROGRESS] =
    g_signal_new ("prepare-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT);
}

static void
lk_search_service_init (LkSearchService *self)
{
  g_queue_init (&self->ready);
  self->versions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) prepare_job_unref);
  self->relay = lk_progress_relay_new (relay_progress, self);
}

LkSearchService *
lk_search_service_new (void)
{
  return g_object_new (LK_TYPE_SEARCH_SERVICE, NULL);
}
