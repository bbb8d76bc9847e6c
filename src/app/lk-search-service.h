/* lk-search-service.h — a window's embedding sources and their search
 * indexes, kept in memory so a query is answered in milliseconds.
 *
 * The list of sources: lk_embedding_list_sources() of the collection —
 * the baselines, golden-learned once there are labelled triplets, every
 * trained model — listed again in a worker when the collection changes,
 * when a file appears or changes in the collection's embeddings folder
 * (a model or a checkpoint written by the trainer, from this process or
 * another), when lk_search_service_refresh_sources() is called, and when
 * the labels change (lk_search_service_triplets_changed()). It emits
 * "sources-changed" only when what a view shows changes: a source came
 * or went, or a model's file was rewritten.
 *
 * LkSourceIndex: one source's rows (LkEmbedding, memory-mapped) and an
 * exact LkSearchIndex over every image of the collection, with its
 * categories and the float16 first pass. Building one (computing the
 * rows the first time, packing the index) runs in a thread of the
 * service's, below the window's priority, one at a time, with progress
 * ("prepare-progress") and cancel. The service keeps the few most
 * recently used; a view holds a reference to the ones it shows.
 *
 * Signals:
 *   sources-changed                        the list changed
 *   triplets-changed                       the labelled triplets changed
 *   prepare-progress (name, done, total)   while rows are computed
 *   notify::busy                           preparing or listing */
#pragma once

#include <gio/gio.h>

#include "collection.h"
#include "embeddings.h"
#include "search.h"

G_BEGIN_DECLS

/* ---- one source, ready to search ---- */

typedef struct _LkSourceIndex LkSourceIndex;

LkSourceIndex *lk_source_index_ref           (LkSourceIndex *self);
void           lk_source_index_unref         (LkSourceIndex *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkSourceIndex, lk_source_index_unref)

const char    *lk_source_index_get_name      (LkSourceIndex *self);
const char    *lk_source_index_get_label     (LkSourceIndex *self);
LkEmbedding   *lk_source_index_get_embedding (LkSourceIndex *self);
LkCollection  *lk_source_index_get_collection (LkSourceIndex *self);
/* Seconds it took to get the rows and build the index. */
double         lk_source_index_get_build_seconds (LkSourceIndex *self);
/* Any thread: lk_search_query() on the index, one search at a time (a
 * second caller waits). */
guint          lk_source_index_query         (LkSourceIndex *self,
                                              const float   *query,
                                              guint          k,
                                              gint           category,
                                              guint32        exclude,
                                              LkNeighbour   *out);

/* ---- the service ---- */

#define LK_TYPE_SEARCH_SERVICE (lk_search_service_get_type ())
G_DECLARE_FINAL_TYPE (LkSearchService, lk_search_service, LK, SEARCH_SERVICE, GObject)

LkSearchService *lk_search_service_new            (void);
/* Drops every index and job of the previous collection. */
void             lk_search_service_set_collection (LkSearchService *self,
                                                   LkCollection    *collection);
LkCollection    *lk_search_service_get_collection (LkSearchService *self);

/* The sources (LkEmbeddingSource), borrowed until the next
 * "sources-changed"; empty until the first listing is done. */
GPtrArray       *lk_search_service_get_sources    (LkSearchService *self);
gboolean         lk_search_service_get_sources_listed (LkSearchService *self);
const LkEmbeddingSource *lk_search_service_find_source (LkSearchService *self,
                                                        const char      *name);
/* Changes whenever the rows of source @name change: a model's file is
 * rewritten (a new checkpoint), golden-learned gets new labels. */
gint64           lk_search_service_get_source_version (LkSearchService *self,
                                                       const char      *name);
/* The newest model source (by its file's time), or NULL. */
const LkEmbeddingSource *lk_search_service_get_newest_model (LkSearchService *self);
void             lk_search_service_refresh_sources (LkSearchService *self);
/* The collection's triplet file changed (an answer, an undo): drops the
 * golden-learned index, lists the sources again, emits
 * "triplets-changed". */
void             lk_search_service_triplets_changed (LkSearchService *self);

/* The index of @name if it is ready, else NULL. Borrowed. */
LkSourceIndex   *lk_search_service_lookup         (LkSearchService *self,
                                                   const char      *name);
/* Gets the index of @name ready: at once if it is, else in the
 * service's thread (a second request for the same source joins the
 * first). @cancellable drops this caller's result only; to stop the
 * work, lk_search_service_cancel_prepare(). */
void             lk_search_service_prepare_async  (LkSearchService     *self,
                                                   const char          *name,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
LkSourceIndex   *lk_search_service_prepare_finish (LkSearchService *self,
                                                   GAsyncResult    *result,
                                                   GError         **error);
/* FALSE once the rows of @index's source changed (a model's file was
 * rewritten, new labels for golden-learned) or the collection did:
 * prepare the source again. */
gboolean         lk_search_service_is_current     (LkSearchService *self,
                                                   LkSourceIndex   *index);
/* Stops every preparation; their callers get G_IO_ERROR_CANCELLED. */
void             lk_search_service_cancel_prepare (LkSearchService *self);
/* The source being prepared, or NULL. */
const char      *lk_search_service_get_preparing  (LkSearchService *self);
gboolean         lk_search_service_get_busy       (LkSearchService *self);

/* ---- queries ---- */

typedef struct {
  int          image;          /* an image of the collection (left out of its list), or -1 */
  const char  *file;           /* else an image file, embedded by each source */
  guint        k;
  gboolean     same_category;  /* only the query image's category (not for a file) */
} LkQuerySpec;

typedef struct {
  char        *source;
  char        *label;
  LkNeighbour *neighbours;     /* (n,) nearest first */
  guint        n;
  double       search_ms;      /* embedding a file, and the search */
  char        *error;          /* this source could not answer, or NULL */
} LkQueryList;

typedef struct {
  int          image;
  char        *file;
  guint        n_lists;
  LkQueryList *lists;          /* one per index, in the order asked */
  gint64       started_at;     /* monotonic µs: the worker began, and returned */
  gint64       done_at;
} LkQueryResult;

void           lk_query_result_free (LkQueryResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkQueryResult, lk_query_result_free)

/* Runs @spec against each of @indexes (n_indexes, ready ones) in a
 * worker thread. */
void           lk_search_service_query_async  (LkSearchService     *self,
                                               LkSourceIndex      **indexes,
                                               guint                n_indexes,
                                               const LkQuerySpec   *spec,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LkQueryResult *lk_search_service_query_finish (LkSearchService *self,
                                               GAsyncResult    *result,
                                               GError         **error);

G_END_DECLS
