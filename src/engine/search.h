/* search.h — exact k-nearest-neighbour search over an embedding.
 *
 * An LkSearchIndex holds a copy of some rows of an (N, dim) float32
 * matrix, packed for the CPU: rows sorted by category, in panels of 16
 * rows stored dimension-major (dim, 16), each category starting on a new
 * panel, with the squared row norms beside them. Every search is exact:
 * each distance of the pool is computed, nothing is approximated or
 * pruned, and the K best are kept by a fused selection (no N×N matrix is
 * ever formed).
 *
 * Metrics:
 *   LK_METRIC_L2 — squared Euclidean distance ||q − x||², smallest first;
 *   LK_METRIC_IP — inner product q·x, largest first.
 * Ties are broken by the smaller id. Candidates are chosen on
 * ||x||² − 2 q·x (resp. −q·x) in float: the K best, and every row whose
 * float score is within that score's error bound of the K-th best (rows
 * tied or nearly tied with it, such as duplicates, which float cannot
 * order). Their distances are then recomputed directly in double and
 * sorted by (distance, id). So every list is exactly lk_search_naive()'s,
 * to the last bit of each distance and including which of the rows tied
 * at the K-th place are kept (the smallest ids): a function of the data
 * alone, whatever the instruction set, thread count or path. The price
 * is memory and re-rank time for rows tied with the K-th best: G rows
 * with one and the same vector cost all pairs about G² of them.
 *
 * The kernels have AVX-512 and AVX2+FMA versions chosen at run time
 * (__builtin_cpu_supports) and a portable C fallback; all three give the
 * same lists. Searches on more than one thread use a small
 * pool of threads that the index keeps (so a sub-millisecond query does
 * not pay for starting threads), and scratch memory that is allocated once
 * and reused. One index runs one search at a time: use one index per
 * thread that searches. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  LK_METRIC_L2 = 0,
  LK_METRIC_IP,
} LkMetric;

/* A neighbour: its id (a row of the matrix the index was built from) and
 * its distance (L2) or inner product (IP). */
typedef struct {
  guint32 id;
  float   distance;
} LkNeighbour;

#define LK_SEARCH_NO_EXCLUDE G_MAXUINT32
#define LK_SEARCH_ANY_CATEGORY (-1)

typedef struct _LkSearchIndex LkSearchIndex;

/* Builds an index over rows @subset (@n_subset distinct row numbers < @n;
 * NULL means every row) of @data (n, dim). @labels (n,) gives each row's
 * category (< @n_categories) for category-restricted searches, or NULL.
 * The rows are copied into the packed layout, and @data itself is read
 * again for the exact distances of the final candidates: it must stay
 * valid and unchanged while the index lives. Returns NULL with
 * LK_ERROR_INVALID when @subset or @labels are invalid. */
LkSearchIndex *lk_search_index_new (const float    *data,
                                    guint           n,
                                    guint           dim,
                                    const guint32  *subset,
                                    guint           n_subset,
                                    const guint16  *labels,
                                    guint           n_categories,
                                    LkMetric        metric,
                                    GError        **error);
void           lk_search_index_free (LkSearchIndex *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkSearchIndex, lk_search_index_free)

/* Threads the searches use (default 1; 0 = every core). */
void      lk_search_index_set_n_threads (LkSearchIndex *self, guint n_threads);
guint     lk_search_index_get_n_threads (LkSearchIndex *self);
/* Single queries first scan a float16 copy of the rows (half the bytes),
 * with a bound on each score's error, then re-rank every row that could
 * be among the k best exactly: the lists are the same as without it. The
 * copy costs half the memory of the rows again. Returns FALSE (and stays
 * off) where the CPU has no float16 conversion (F16C) or a value does not
 * fit in float16. Batches and all pairs never use it. */
gboolean  lk_search_index_set_half_first_pass (LkSearchIndex *self, gboolean enabled);
guint     lk_search_index_get_size      (LkSearchIndex *self);
guint     lk_search_index_get_dim       (LkSearchIndex *self);
LkMetric  lk_search_index_get_metric    (LkSearchIndex *self);
/* The ids in the index, in the order lk_search_all_pairs() reports them
 * (the order of @subset, or 0…n−1). */
const guint32 *lk_search_index_get_ids  (LkSearchIndex *self);
/* Rows of one category in the index (0 without labels). */
guint     lk_search_index_get_category_size (LkSearchIndex *self, guint category);

/* One query vector (dim,). @category restricts the pool to one category
 * (LK_SEARCH_ANY_CATEGORY for all); @exclude leaves one id out (the query
 * itself, when it is a row of the index), LK_SEARCH_NO_EXCLUDE for none.
 * Writes at most @k neighbours, best first, to @out and returns how many
 * (fewer than @k when the pool is smaller). */
guint    lk_search_query (LkSearchIndex *self,
                          const float   *query,
                          guint          k,
                          gint           category,
                          guint32        exclude,
                          LkNeighbour   *out);

/* Many queries at once: @queries (n_queries, dim); @categories (n_queries,)
 * or NULL (each query's pool restriction, LK_SEARCH_ANY_CATEGORY for the
 * whole index); @exclude (n_queries,) or NULL. Writes (n_queries, k)
 * neighbours to @out and each query's count to @n_found. Blocked matrix
 * products with the selection fused in. Fails only when cancelled
 * (G_IO_ERROR_CANCELLED, checked between blocks). */
gboolean lk_search_batch (LkSearchIndex  *self,
                          const float    *queries,
                          guint           n_queries,
                          guint           k,
                          const gint32   *categories,
                          const guint32  *exclude,
                          LkNeighbour    *out,
                          guint          *n_found,
                          GCancellable   *cancellable,
                          GError        **error);

/* Every row of the index as a query against all the others (itself
 * excluded), within its own category when @within_category. Rows are
 * reported in the order of lk_search_index_get_ids(): @out (size, k),
 * @n_found (size,). Each pair's distance is computed once and serves
 * both rows. */
gboolean lk_search_all_pairs (LkSearchIndex  *self,
                              guint           k,
                              gboolean        within_category,
                              LkNeighbour    *out,
                              guint          *n_found,
                              GCancellable   *cancellable,
                              GError        **error);

/* The reference every fast path is tested against: distances computed
 * directly in double precision, a full sort. Same arguments as
 * lk_search_index_new() plus those of lk_search_query(). */
guint    lk_search_naive (const float    *data,
                          guint           n,
                          guint           dim,
                          const guint32  *subset,
                          guint           n_subset,
                          const guint16  *labels,
                          LkMetric        metric,
                          const float    *query,
                          guint           k,
                          gint            category,
                          guint32         exclude,
                          LkNeighbour    *out);

G_END_DECLS
