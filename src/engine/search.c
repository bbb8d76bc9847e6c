/* search.c — the exact search index: packing, the thread pool, the top-k
 * heaps, single and batched queries, all pairs, and the naive reference.
 * The kernels are in search-simd.c. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "search-private.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause ()
#else
#define cpu_relax() do { } while (0)
#endif

/* Panels of rows kept in L2 while a block of queries passes over them,
 * and query rows kept close while the panels stream by. */
#define L2_BLOCK_BYTES (1u << 20)
#define QUERY_BLOCK_BYTES (256u << 10)
/* A single query splits over threads only when each gets this many panels. */
#define MIN_PANELS_PER_THREAD 64
/* A worker spins this long for the next job before it sleeps: a query
 * takes well under a millisecond, waking a sleeping thread tens of µs. */
#define SPIN_US 500

/* ---- thread pool ---- */

typedef void (*PoolFn) (gpointer data, guint thread);

typedef struct {
  guint     n_threads;   /* including the caller */
  GThread **threads;
  GMutex    lock;
  GCond     wake;
  GCond     done;
  gint      generation;  /* atomic: bumped once per job */
  gint      pending;     /* atomic: workers still running the job */
  gboolean  quit;
  PoolFn    fn;
  gpointer  data;
} Pool;

typedef struct {
  Pool *pool;
  guint index;
} WorkerStart;

static gpointer
pool_worker (gpointer user_data)
{
  WorkerStart *start = user_data;
  Pool *pool = start->pool;
  guint index = start->index;
  gint seen = 0;

  g_free (start);
  for (;;)
    {
      gint64 until = g_get_monotonic_time () + SPIN_US;
      while (g_atomic_int_get (&pool->generation) == seen && g_get_monotonic_time () < until)
        for (guint i = 0; i < 64; i++)
          cpu_relax ();
      g_mutex_lock (&pool->lock);
      while (g_atomic_int_get (&pool->generation) == seen && !pool->quit)
        g_cond_wait (&pool->wake, &pool->lock);
      if (pool->quit)
        {
          g_mutex_unlock (&pool->lock);
          return NULL;
        }
      g_mutex_unlock (&pool->lock);
      seen = g_atomic_int_get (&pool->generation);
      pool->fn (pool->data, index);
      if (g_atomic_int_dec_and_test (&pool->pending))
        {
          g_mutex_lock (&pool->lock);
          g_cond_signal (&pool->done);
          g_mutex_unlock (&pool->lock);
        }
    }
}

static Pool *
pool_new (guint n_threads)
{
  Pool *pool = g_new0 (Pool, 1);

  pool->n_threads = n_threads;
  pool->threads = g_new0 (GThread *, n_threads);
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->wake);
  g_cond_init (&pool->done);
  for (guint t = 1; t < n_threads; t++)
    {
      WorkerStart *start = g_new (WorkerStart, 1);
      start->pool = pool;
      start->index = t;
      pool->threads[t] = g_thread_new ("lk-search", pool_worker, start);
    }
  return pool;
}

static void
pool_free (Pool *pool)
{
  if (pool == NULL)
    return;
  g_mutex_lock (&pool->lock);
  pool->quit = TRUE;
  g_cond_broadcast (&pool->wake);
  g_mutex_unlock (&pool->lock);
  for (guint t = 1; t < pool->n_threads; t++)
    g_thread_join (pool->threads[t]);
  g_free (pool->threads);
  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->wake);
  g_cond_clear (&pool->done);
  g_free (pool);
}

/* Runs fn(data, t) for t = 0 … n−1 (n ≤ the pool's threads), t = 0 on
 * the calling thread, and returns when all are done. */
static void
pool_run (Pool *pool, guint n, PoolFn fn, gpointer data)
{
  gint64 until;

  if (pool == NULL || n <= 1)
    {
      fn (data, 0);
      return;
    }
  g_assert (n == pool->n_threads);
  pool->fn = fn;
  pool->data = data;
  g_atomic_int_set (&pool->pending, (gint) n - 1);
  g_mutex_lock (&pool->lock);
  g_atomic_int_inc (&pool->generation);
  g_cond_broadcast (&pool->wake);
  g_mutex_unlock (&pool->lock);

  fn (data, 0);

  until = g_get_monotonic_time () + SPIN_US;
  while (g_atomic_int_get (&pool->pending) > 0 && g_get_monotonic_time () < until)
    for (guint i = 0; i < 64; i++)
      cpu_relax ();
  g_mutex_lock (&pool->lock);
  while (g_atomic_int_get (&pool->pending) > 0)
    g_cond_wait (&pool->done, &pool->lock);
  g_mutex_unlock (&pool->lock);
}

/* ---- scratch memory, grown once and reused ---- */

typedef struct {
  gpointer data;
  gsize    size;
} Scratch;

static gpointer
scratch_get (Scratch *s, gsize size)
{
  if (s->size < size)
    {
      g_aligned_free (s->data);
      s->size = MAX (size, s->size + s->size / 2);
      s->data = g_aligned_alloc (1, s->size, 64);
    }
  return s->data;
}

static void
scratch_clear (Scratch *s)
{
  g_aligned_free (s->data);
  s->data = NULL;
  s->size = 0;
}

/* ---- the index ---- */

enum {
  SCRATCH_HEAPS, SCRATCH_QUERIES, SCRATCH_SLOTS, SCRATCH_ORDER, SCRATCH_MARGIN,
  SCRATCH_NEAR_START, SCRATCH_NEAR_KEYS, N_SCRATCH
};

struct _LkSearchIndex
{
  guint     dim;
  guint     n_total;        /* rows of the matrix the ids refer to */
  guint     size;           /* rows in the index */
  guint     n_panels;
  guint     n_categories;   /* 0 without labels */
  LkMetric  metric;
  float     alpha;

  const float *data;        /* (n_total, dim), the caller's rows */
  float    *panels;         /* (n_panels, dim, LK_PANEL) */
  float    *bias;           /* (n_panels · LK_PANEL,) */
  guint32  *row_id;         /* internal row → id, G_MAXUINT32 on padding */
  guint32  *ids;            /* (size,) in the caller's order */
  guint32  *row_of_pos;     /* (size,) position in that order → internal row */
  guint32  *row_of_id;      /* (n_total,) id → internal row or G_MAXUINT32 */
  guint    *cat_p0;         /* (n_categories,) first panel of each category */
  guint    *cat_p1;         /* (n_categories,) end panel */
  guint    *cat_count;      /* (n_categories,) rows */

  float    *rownorm;        /* (n_panels · LK_PANEL,) ||x_r||, rounded up, 0 on padding */
  double    max_norm;       /* the largest of them */
  float     max_bias;
  guint16  *panels16;       /* float16 copy for the first pass, or NULL */
  LkCands   cands[64];      /* the first pass's candidates, one per thread */
  LkNear   *near;           /* (n_near,) rows just past the k best, one per thread */
  guint     n_near;

  guint     n_threads;
  Pool     *pool;
  LkSearchIsa            isa;
  const LkSearchKernels *kernels;
  Scratch   scratch[N_SCRATCH];
};

static guint
default_threads (guint n)
{
  return n == 0 ? MAX (1, g_get_num_processors ()) : n;
}

LkSearchIndex *
lk_search_index_new (const float *data, guint n, guint dim, const guint32 *subset,
                     guint n_subset, const guint16 *labels, guint n_categories,
                     LkMetric metric, GError **error)
{
  g_autofree guint8 *seen = NULL;
  g_autofree guint *fill = NULL;
  LkSearchIndex *self;
  guint size, n_cat;
  gsize ps;

  g_return_val_if_fail (data != NULL || n == 0, NULL);
  g_return_val_if_fail (dim > 0, NULL);
  g_return_val_if_fail (labels == NULL || n_categories > 0, NULL);
  g_return_val_if_fail (metric == LK_METRIC_L2 || metric == LK_METRIC_IP, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  size = subset != NULL ? n_subset : n;
  seen = g_new0 (guint8, MAX (n, 1));
  for (guint i = 0; i < size; i++)
    {
      guint32 id = subset != NULL ? subset[i] : i;
      if (id >= n || seen[id])
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Search index: row %u is out of range or listed twice"), id);
          return NULL;
        }
      seen[id] = 1;
      if (labels != NULL && labels[id] >= n_categories)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Search index: row %u has category %u of %u"), id, labels[id],
                       n_categories);
          return NULL;
        }
    }

  self = g_new0 (LkSearchIndex, 1);
  self->dim = dim;
  self->data = data;
  self->n_total = n;
  self->size = size;
  self->metric = metric;
  self->alpha = metric == LK_METRIC_L2 ? -2.0f : -1.0f;
  self->n_threads = 1;
  self->isa = _lk_search_best_isa ();
  self->kernels = _lk_search_kernels (self->isa);
  n_cat = labels != NULL ? n_categories : 1;
  self->n_categories = labels != NULL ? n_categories : 0;
  self->cat_p0 = g_new0 (guint, n_cat);
  self->cat_p1 = g_new0 (guint, n_cat);
  self->cat_count = g_new0 (guint, n_cat);
  for (guint i = 0; i < size; i++)
    {
      guint32 id = subset != NULL ? subset[i] : i;
      self->cat_count[labels != NULL ? labels[id] : 0]++;
    }
  /* Each category starts on a panel of its own, so restricting a search
   * to it is a contiguous range of panels. */
  for (guint c = 0; c < n_cat; c++)
    {
      self->cat_p0[c] = self->n_panels;
      self->n_panels += (self->cat_count[c] + LK_PANEL - 1) / LK_PANEL;
      self->cat_p1[c] = self->n_panels;
    }

  ps = (gsize) dim * LK_PANEL;
  self->panels = g_aligned_alloc0 (MAX (1, (gsize) self->n_panels * ps), sizeof (float), 64);
  self->bias = g_aligned_alloc (MAX (1, (gsize) self->n_panels * LK_PANEL), sizeof (float), 64);
  self->row_id = g_new (guint32, MAX (1, (gsize) self->n_panels * LK_PANEL));
  self->ids = g_new (guint32, MAX (size, 1));
  self->row_of_pos = g_new (guint32, MAX (size, 1));
  self->row_of_id = g_new (guint32, MAX (n, 1));
  self->rownorm = g_aligned_alloc (MAX (1, (gsize) self->n_panels * LK_PANEL), sizeof (float), 64);
  for (gsize r = 0; r < (gsize) self->n_panels * LK_PANEL; r++)
    {
      self->bias[r] = INFINITY;
      self->row_id[r] = G_MAXUINT32;
      self->rownorm[r] = 0;
    }
  memset (self->row_of_id, 0xff, MAX (n, 1) * sizeof (guint32));

  fill = g_new0 (guint, n_cat);
  for (guint i = 0; i < size; i++)
    {
      guint32 id = subset != NULL ? subset[i] : i;
      guint c = labels != NULL ? labels[id] : 0;
      guint32 r = self->cat_p0[c] * LK_PANEL + fill[c]++;
      float *panel = self->panels + (r / LK_PANEL) * ps + r % LK_PANEL;
      const float *x = data + (gsize) id * dim;
      double norm = 0;

      for (guint k = 0; k < dim; k++)
        {
          panel[(gsize) k * LK_PANEL] = x[k];
          norm += (double) x[k] * x[k];
        }
      self->bias[r] = metric == LK_METRIC_L2 ? (float) norm : 0.0f;
      self->rownorm[r] = (float) (sqrt (norm) * (1 + 0x1p-20));
      self->max_norm = MAX (self->max_norm, self->rownorm[r]);
      self->max_bias = MAX (self->max_bias, self->bias[r]);
      self->row_id[r] = id;
      self->ids[i] = id;
      self->row_of_pos[i] = r;
      self->row_of_id[id] = r;
    }
  return self;
}

void
lk_search_index_free (LkSearchIndex *self)
{
  if (self == NULL)
    return;
  pool_free (self->pool);
  for (guint i = 0; i < N_SCRATCH; i++)
    scratch_clear (&self->scratch[i]);
  g_aligned_free (self->panels16);
  g_aligned_free (self->rownorm);
  for (guint t = 0; t < G_N_ELEMENTS (self->cands); t++)
    {
      g_free (self->cands[t].row);
      g_free (self->cands[t].lo);
    }
  for (guint t = 0; t < self->n_near; t++)
    {
      g_free (self->near[t].slot);
      g_free (self->near[t].key);
    }
  g_free (self->near);
  g_aligned_free (self->panels);
  g_aligned_free (self->bias);
  g_free (self->row_id);
  g_free (self->ids);
  g_free (self->row_of_pos);
  g_free (self->row_of_id);
  g_free (self->cat_p0);
  g_free (self->cat_p1);
  g_free (self->cat_count);
  g_free (self);
}

void
lk_search_index_set_n_threads (LkSearchIndex *self, guint n_threads)
{
  g_return_if_fail (self != NULL);
  n_threads = default_threads (n_threads);
  if (n_threads == self->n_threads)
    return;
  pool_free (self->pool);
  self->pool = NULL;
  self->n_threads = n_threads;
}

guint
lk_search_index_get_n_threads (LkSearchIndex *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_threads;
}

gboolean
lk_search_index_set_half_first_pass (LkSearchIndex *self, gboolean enabled)
{
  const LkSearchKernels *k;
  gsize n_rows, n_values;

  g_return_val_if_fail (self != NULL, FALSE);
  if (!enabled)
    {
      g_clear_pointer (&self->panels16, g_aligned_free);
      return TRUE;
    }
  if (self->panels16 != NULL)
    return TRUE;
  k = _lk_search_kernels (_lk_search_best_isa ());
  if (k == NULL || k->to_half == NULL)
    return FALSE;
  n_rows = (gsize) self->n_panels * LK_PANEL;
  n_values = n_rows * self->dim;
  /* float16 holds magnitudes up to 65504; a larger value would become
   * infinite and its bound meaningless. */
  for (gsize i = 0; i < n_values; i++)
    if (!(fabsf (self->panels[i]) <= 65504.0f))
      return FALSE;
  self->panels16 = g_aligned_alloc (MAX (1, n_values), sizeof (guint16), 64);
  k->to_half (self->panels, self->panels16, n_values);
  return TRUE;
}

void
_lk_cands_push (LkCands *c, guint32 row, float lo)
{
  if (c->n == c->cap)
    {
      c->cap = MAX (1024, 2 * c->cap);
      c->row = g_renew (guint32, c->row, c->cap);
      c->lo = g_renew (float, c->lo, c->cap);
    }
  c->row[c->n] = row;
  c->lo[c->n] = lo;
  c->n++;
}

guint
lk_search_index_get_size (LkSearchIndex *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->size;
}

guint
lk_search_index_get_dim (LkSearchIndex *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->dim;
}

LkMetric
lk_search_index_get_metric (LkSearchIndex *self)
{
  g_return_val_if_fail (self != NULL, LK_METRIC_L2);
  return self->metric;
}

const guint32 *
lk_search_index_get_ids (LkSearchIndex *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->ids;
}

guint
lk_search_index_get_category_size (LkSearchIndex *self, guint category)
{
  g_return_val_if_fail (self != NULL, 0);
  if (category >= self->n_categories)
    return 0;
  return self->cat_count[category];
}

gboolean
_lk_search_index_set_isa (LkSearchIndex *self, LkSearchIsa isa)
{
  const LkSearchKernels *k = _lk_search_kernels (isa);
  g_return_val_if_fail (self != NULL, FALSE);
  if (k == NULL)
    return FALSE;
  self->isa = isa;
  self->kernels = k;
  return TRUE;
}

LkSearchIsa
_lk_search_index_get_isa (LkSearchIndex *self)
{
  return self->isa;
}

static Pool *
get_pool (LkSearchIndex *self)
{
  if (self->n_threads > 1 && self->pool == NULL)
    self->pool = pool_new (self->n_threads);
  return self->pool;
}

static void
category_range (LkSearchIndex *self, gint category, guint *p0, guint *p1)
{
  if (category < 0 || self->n_categories == 0)
    {
      *p0 = 0;
      *p1 = self->n_panels;
    }
  else
    {
      *p0 = self->cat_p0[category];
      *p1 = self->cat_p1[category];
    }
}

/* ---- heaps ---- */

/* A float's bits as an unsigned integer with the same order (−0 is
 * folded onto +0 first, so equal scores give equal keys). */
static inline guint32
ordered_bits (float s)
{
  guint32 u;
  s += 0.0f;
  memcpy (&u, &s, sizeof u);
  return u ^ ((u >> 31) ? 0xffffffffu : 0x80000000u);
}

static inline float
score_of_key (guint64 key)
{
  guint32 u = (guint32) (key >> 32);
  float s;
  u ^= (u >> 31) ? 0x80000000u : 0xffffffffu;
  memcpy (&s, &u, sizeof s);
  return s;
}

/* What a kernel compares a score of @slot with once the slot is full:
 * the k-th best score @kth plus the slot's margin (the margin's spare
 * factor of two covers the rounding of this sum, see score_margin()). */
static inline float
filter_of (const LkHeaps *h, guint slot, float kth)
{
  return kth + h->margin[slot];
}

/* Cold: most pushes never get here, and keeping the call off their path
 * spares _lk_heaps_push() a stack frame. */
G_GNUC_NO_INLINE __attribute__ ((cold)) static void
near_push (LkNear *near, guint32 slot, guint64 key)
{
  if (G_UNLIKELY (near->n == near->cap))
    {
      near->cap = MAX (1024, 2 * near->cap);
      near->slot = g_renew (guint32, near->slot, near->cap);
      near->key = g_renew (guint64, near->key, near->cap);
    }
  near->slot[near->n] = slot;
  near->key[near->n] = key;
  near->n++;
}

/* After a key entered a full slot and pushed @out (of score @s) out of
 * its k best, or @out did not get in: @out is kept as a near row while
 * its score is still within the margin of the new k-th best. */
static inline void
keep_near (LkHeaps *h, guint slot, guint64 out, float s)
{
  if (G_UNLIKELY (s <= h->thr[slot]) && h->near != NULL)
    near_push (h->near, slot, out);
}

/* Short lists (k ≤ SORTED_MAX) are kept sorted, inserted into from the
 * end: a few predictable steps beat a heap's unpredictable branches. */
#define SORTED_MAX 64

static inline void
sorted_push (LkHeaps *h, guint slot, guint64 *hk, guint n, guint64 key, float s)
{
  const guint k = h->k;
  guint64 out = 0;
  gint j;

  if (n == k)
    {
      if (key >= hk[k - 1])
        {
          keep_near (h, slot, key, s);
          return;
        }
      out = hk[k - 1];
      n = k - 1;
    }
  else
    h->count[slot] = n + 1;
  for (j = (gint) n - 1; j >= 0 && hk[j] > key; j--)
    hk[j + 1] = hk[j];
  hk[j + 1] = key;
  if (h->count[slot] == k)
    {
      h->thr[slot] = filter_of (h, slot, score_of_key (hk[k - 1]));
      if (out != 0)  /* keys of finite scores are never 0 */
        keep_near (h, slot, out, score_of_key (out));
    }
}

void
_lk_heaps_push (LkHeaps *h, guint slot, float s, guint32 row)
{
  const guint k = h->k;
  guint64 *hk = h->key + (gsize) slot * k;
  guint n = h->count[slot], i;
  guint64 key, out;

  if (!(s < INFINITY) || (h->exclude != NULL && h->exclude[slot] == row))
    return;
  key = (guint64) ordered_bits (s) << 32 | h->ids[row];
  if (k <= SORTED_MAX)
    {
      sorted_push (h, slot, hk, n, key, s);
      return;
    }
  if (n < k)
    {
      for (i = n; i > 0; )
        {
          guint parent = (i - 1) / 2;
          if (hk[parent] >= key)
            break;
          hk[i] = hk[parent];
          i = parent;
        }
      hk[i] = key;
      h->count[slot] = ++n;
      if (n == k)
        h->thr[slot] = filter_of (h, slot, score_of_key (hk[0]));
      return;
    }
  if (key >= hk[0])
    {
      keep_near (h, slot, key, s);
      return;
    }
  out = hk[0];
  for (i = 0;;)
    {
      guint c = 2 * i + 1;
      guint64 big;
      if (c >= k)
        break;
      big = hk[c];
      if (c + 1 < k && hk[c + 1] > big)
        big = hk[++c];
      if (big <= key)
        break;
      hk[i] = big;
      i = c;
    }
  hk[i] = key;
  h->thr[slot] = filter_of (h, slot, score_of_key (hk[0]));
  keep_near (h, slot, out, score_of_key (out));
}

/* Lays out @n_sets heap sets of @n_slots slots each in one scratch block;
 * they share @margin (n_slots,; set it before the first push when NULL
 * here) and keep no near rows until given a buffer. */
static void
heaps_init (LkSearchIndex *self, LkHeaps *sets, guint n_sets, guint n_slots, guint k,
            const guint32 *exclude, const float *margin)
{
  gsize per = (gsize) n_slots * ((gsize) k * sizeof (guint64) + sizeof (float) + sizeof (guint));
  guint8 *mem = scratch_get (&self->scratch[SCRATCH_HEAPS], per * n_sets + 64);

  for (guint s = 0; s < n_sets; s++)
    {
      LkHeaps *h = &sets[s];
      guint8 *p = mem + per * s;
      h->k = k;
      h->key = (guint64 *) p;
      p += (gsize) n_slots * k * sizeof (guint64);
      h->thr = (float *) p;
      p += (gsize) n_slots * sizeof (float);
      h->count = (guint *) p;
      h->margin = margin;
      h->near = NULL;
      h->exclude = exclude;
      h->ids = self->row_id;
      for (guint i = 0; i < n_slots; i++)
        {
          h->thr[i] = INFINITY;
          h->count[i] = 0;
        }
    }
}

/* ---- margins and near rows ---- */

static double
vector_norm (const float *v, guint dim)
{
  double n2 = 0;
  for (guint j = 0; j < dim; j++)
    n2 += (double) v[j] * v[j];
  return sqrt (n2) * (1 + 0x1p-20);
}

/* The margin of a query of norm @qnorm: four times the most a float
 * score s̃ = bias + alpha·(q·x) can be off the exact one, for any row.
 * With u = 2⁻²⁴ and n = dim: the dot product of n terms, summed in any
 * order, with or without fused multiply-adds, is off by at most
 * γₙ·Σ|q_k·x_k| ≤ γₙ·||q||·||x|| (γₙ = nu/(1 − nu), Higham §3.1); the
 * bias ||x||² rounded to float by u·||x||²; the final rounding by u·|s̃|;
 * underflow by 2⁻¹⁴⁹ an operation. A row can be among the k best by
 * distance only if its score is within twice that of the k-th best
 * score; the other factor of two covers the double roundings of the
 * exact distances and of this bound, and the rounding of k-th best +
 * margin in float (at most u·|s̃| + u·margin, under half the spare). */
static float
score_margin (LkSearchIndex *self, double qnorm)
{
  const double u = 0x1p-24, n = self->dim, a = fabs (self->alpha);
  const double N = self->max_norm, B = self->max_bias;
  double g, dot, e, m;
  float f;

  if (n * u >= 0.5)
    return INFINITY;
  g = n * u / (1 - n * u);
  dot = a * g * qnorm * N;
  e = 1.01 * u * B + dot + u * (B + a * qnorm * N + dot) + (n + 2) * (a + 1) * 0x1p-149;
  m = 4 * e + 4 * n * 0x1p-53 * (qnorm + N) * (qnorm + N);
  f = (float) m;
  return (double) f < m ? nextafterf (f, INFINITY) : f;
}

/* The near-row buffers of @n threads, emptied. */
static LkNear *
near_buffers (LkSearchIndex *self, guint n)
{
  if (self->n_near < n)
    {
      self->near = g_renew (LkNear, self->near, n);
      memset (self->near + self->n_near, 0, (n - self->n_near) * sizeof (LkNear));
      self->n_near = n;
    }
  for (guint t = 0; t < n; t++)
    self->near[t].n = 0;
  return self->near;
}

/* The near rows that @n_th threads (heaps @th, each with its buffer)
 * kept, grouped by slot with a counting sort, those already past their
 * slot's threshold dropped: slot s has keys[start[s] … start[s + 1]).
 * Returns the most any slot has. */
static guint
near_by_slot (LkSearchIndex *self, const LkHeaps *th, guint n_th, guint n_slots, guint **start_out,
              guint64 **keys_out)
{
  guint *start = scratch_get (&self->scratch[SCRATCH_NEAR_START], (n_slots + 1) * sizeof (guint));
  guint64 *keys;
  guint total = 0, most = 0;

  memset (start, 0, (n_slots + 1) * sizeof (guint));
  for (guint t = 0; t < n_th; t++)
    {
      LkNear *near = th[t].near;
      for (guint i = 0; i < near->n; i++)
        if (score_of_key (near->key[i]) <= th[t].thr[near->slot[i]])
          {
            start[near->slot[i] + 1]++;
            total++;
          }
        else
          near->slot[i] = G_MAXUINT32;
    }
  for (guint s = 0; s < n_slots; s++)
    {
      most = MAX (most, start[s + 1]);
      start[s + 1] += start[s];
    }
  keys = scratch_get (&self->scratch[SCRATCH_NEAR_KEYS], MAX (total, 1) * sizeof (guint64));
  for (guint t = 0; t < n_th; t++)
    {
      const LkNear *near = th[t].near;
      for (guint i = 0; i < near->n; i++)
        if (near->slot[i] != G_MAXUINT32)
          keys[start[near->slot[i]]++] = near->key[i];
    }
  /* Each start[s] now holds the start of s + 1. */
  for (guint s = n_slots; s > 0; s--)
    start[s] = start[s - 1];
  start[0] = 0;
  *start_out = start;
  *keys_out = keys;
  return most;
}

/* ---- exact re-rank of the candidates ---- */

typedef struct {
  double  d;      /* distance (L2) or −inner product (IP): smaller is better */
  guint32 id;
} Candidate;

static int
candidate_cmp (const void *a, const void *b)
{
  const Candidate *x = a, *y = b;
  if (x->d != y->d)
    return x->d < y->d ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* Keys: a slot's k best, or near rows. */
typedef struct {
  const guint64 *key;
  guint          n;
} KeyList;

/* Workspace of collect() for up to @n_lists lists of k best. */
typedef struct {
  guint   *pos;   /* (n_lists,) */
  guint64 *tmp;   /* (n_lists · k,) */
} CollectWork;

static void
collect_work_init (CollectWork *w, guint n_lists, guint k)
{
  w->pos = g_new (guint, MAX (n_lists, 1));
  w->tmp = g_new (guint64, MAX ((gsize) n_lists * k, 1));
}

static void
collect_work_clear (CollectWork *w)
{
  g_free (w->pos);
  g_free (w->tmp);
}

/* The k-th smallest key of @n_lists lists of k best (sorted when k ≤
 * SORTED_MAX, heaps otherwise), which hold at least k keys in all. */
static guint64
kth_key (const KeyList *lists, guint n_lists, guint k, CollectWork *w)
{
  guint64 best = 0;

  if (n_lists == 1)
    return k <= SORTED_MAX ? lists[0].key[k - 1] : lists[0].key[0];
  if (k > SORTED_MAX)
    {
      guint m = 0;
      for (guint l = 0; l < n_lists; l++)
        for (guint i = 0; i < lists[l].n; i++)
          w->tmp[m++] = lists[l].key[i];
      qsort (w->tmp, m, sizeof (guint64), cmp_u64);
      return w->tmp[k - 1];
    }
  /* Merge the sorted lists up to the k-th. */
  for (guint l = 0; l < n_lists; l++)
    w->pos[l] = 0;
  for (guint r = 0; r < k; r++)
    {
      guint at = 0;
      best = G_MAXUINT64;
      for (guint l = 0; l < n_lists; l++)
        if (w->pos[l] < lists[l].n && lists[l].key[w->pos[l]] < best)
          {
            best = lists[l].key[w->pos[l]];
            at = l;
          }
      w->pos[at]++;
    }
  return best;
}

/* The exact re-rank's candidates of one query, from its lists of k best
 * (one per thread or per part of the pool that kept one) and its near
 * rows: every row whose score is within @margin of the k-th best score
 * of them all. That holds every row that can be among the k best by
 * exact distance, whatever rows were tied or near-tied, and is the same
 * set however the pool was split: the result is a function of the data
 * alone. */
static guint
collect (const KeyList *lists, guint n_lists, const KeyList *near, guint n_near, guint k,
         float margin, CollectWork *w, Candidate *cand)
{
  guint total = 0, n = 0;
  float thr = INFINITY;

  for (guint l = 0; l < n_lists; l++)
    total += lists[l].n;
  if (total >= k)
    {
      thr = score_of_key (kth_key (lists, n_lists, k, w)) + margin;
    }
  for (guint l = 0; l < n_lists; l++)
    for (guint i = 0; i < lists[l].n; i++)
      if (score_of_key (lists[l].key[i]) <= thr)
        cand[n++].id = (guint32) lists[l].key[i];
  for (guint l = 0; l < n_near; l++)
    for (guint i = 0; i < near[l].n; i++)
      if (score_of_key (near[l].key[i]) <= thr)
        cand[n++].id = (guint32) near[l].key[i];
  return n;
}

/* Recomputes the distance of every candidate directly from the caller's
 * rows (the same function, to the last bit, as lk_search_naive()), sorts
 * them by (distance, id) and writes the best @k; returns how many. */
static guint
finish (LkSearchIndex *self, const float *query, Candidate *cand, guint n_cand, guint k,
        LkNeighbour *out)
{
  guint m;

  for (guint i = 0; i < n_cand; i++)
    cand[i].d = self->kernels->exact (self->metric == LK_METRIC_L2, query,
                                      self->data + (gsize) cand[i].id * self->dim, self->dim);
  qsort (cand, n_cand, sizeof *cand, candidate_cmp);
  m = MIN (k, n_cand);
  for (guint i = 0; i < m; i++)
    {
      out[i].id = cand[i].id;
      out[i].distance = (float) (self->metric == LK_METRIC_L2 ? cand[i].d : -cand[i].d);
    }
  return m;
}

/* ---- one query ---- */

typedef struct {
  LkSearchIndex *self;
  const float *query;
  LkHeaps *heaps;           /* (n_threads,): the same slots, each thread's near rows */
  const LkHalfArgs *half;   /* the float16 first pass, or NULL */
  guint p0, step, p1;
} QueryJob;

static void
query_job (gpointer data, guint t)
{
  QueryJob *job = data;
  LkSearchIndex *self = job->self;
  LkKernelArgs args = { self->panels, self->bias, self->dim, self->alpha, &job->heaps[t] };
  guint a = MIN (job->p1, job->p0 + t * job->step), b = MIN (job->p1, a + job->step);

  if (a >= b)
    return;
  if (job->half != NULL)
    self->kernels->scan_half (job->half, job->query, a, b, t);
  else
    self->kernels->scan (&args, job->query, a, b, t);
}

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

/* The error bound of the first pass for query @q (search-private.h):
 * float16 rounds each value to within 2⁻¹¹·|x| + 2⁻²⁵ and the float sums
 * of dim products add at most dim·2⁻²⁴ relative; every constant here is
 * twice that, and the final roundings get 2⁻²¹ of the score's size. */
static void
half_bounds (LkSearchIndex *self, const float *q, LkHalfArgs *h)
{
  double n2 = 0, n1 = 0, a = fabs (self->alpha);
  for (guint j = 0; j < self->dim; j++)
    {
      n2 += (double) q[j] * q[j];
      n1 += fabs (q[j]);
    }
  h->c_norm = (float) (a * (0x1p-10 + 2.0 * self->dim * 0x1p-24) * sqrt (n2) * (1 + 0x1p-20));
  h->c_abs = (float) (a * 0x1p-24 * n1 * 2);
  h->c_rel = 0x1p-21f;
}

/* After the first pass: the k-th smallest upper bound over the threads'
 * heaps, then every candidate whose lower bound is at most that. */
static guint
half_candidates (LkSearchIndex *self, LkHeaps *heaps, guint n_threads, guint k,
                 guint32 exclude_row, Candidate **cand_out)
{
  g_autofree float *hi = g_new (float, (gsize) n_threads * k + 1);
  guint n_hi = 0, n = 0, total = 0;
  float T = INFINITY;
  Candidate *cand;

  for (guint t = 0; t < n_threads; t++)
    {
      const guint64 *keys = heaps->key + (gsize) t * k;
      for (guint i = 0; i < heaps->count[t]; i++)
        hi[n_hi++] = score_of_key (keys[i]);
      total += self->cands[t].n;
    }
  if (n_hi >= k)
    {
      qsort (hi, n_hi, sizeof (float), cmp_float);
      T = hi[k - 1];
    }
  cand = g_new (Candidate, MAX (total, 1));
  for (guint t = 0; t < n_threads; t++)
    for (guint i = 0; i < self->cands[t].n; i++)
      if (self->cands[t].lo[i] <= T && self->cands[t].row[i] != exclude_row)
        cand[n++].id = self->row_id[self->cands[t].row[i]];
  *cand_out = cand;
  return n;
}

guint
lk_search_query (LkSearchIndex *self, const float *query, guint k, gint category,
                 guint32 exclude, LkNeighbour *out)
{
  guint32 exclude_rows[64];
  float margins[64];
  LkHeaps heaps, th[64];
  LkHalfArgs half;
  QueryJob job;
  guint n_threads, n;
  g_autofree Candidate *cand = NULL;

  g_return_val_if_fail (self != NULL && query != NULL, 0);
  g_return_val_if_fail (out != NULL || k == 0, 0);
  g_return_val_if_fail (category < (gint) self->n_categories, 0);
  if (k == 0 || self->size == 0)
    return 0;

  job.self = self;
  job.query = query;
  job.half = NULL;
  category_range (self, category, &job.p0, &job.p1);
  n_threads = MIN (self->n_threads, G_N_ELEMENTS (exclude_rows));
  n_threads = MAX (1, MIN (n_threads, (job.p1 - job.p0) / MIN_PANELS_PER_THREAD));
  if (n_threads != self->n_threads)
    n_threads = 1;  /* the pool runs on all its threads or on the caller alone */
  /* Each thread takes a whole number of 4-panel steps. */
  job.step = ((job.p1 - job.p0 + n_threads - 1) / n_threads + 3) / 4 * 4;
  for (guint t = 0; t < n_threads; t++)
    exclude_rows[t] = exclude < self->n_total ? self->row_of_id[exclude] : G_MAXUINT32;
  heaps_init (self, &heaps, 1, n_threads, k, exclude_rows, NULL);
  job.heaps = th;
  if (self->panels16 != NULL && self->kernels->scan_half != NULL)
    {
      half.panels = self->panels16;
      half.bias = self->bias;
      half.rownorm = self->rownorm;
      half.dim = self->dim;
      half.alpha = self->alpha;
      half.heaps = &heaps;
      half.cands = self->cands;
      half_bounds (self, query, &half);
      /* Its own bounds cover the scores: no margin, no near rows. */
      for (guint t = 0; t < n_threads; t++)
        {
          self->cands[t].n = 0;
          margins[t] = 0;
        }
      heaps.margin = margins;
      for (guint t = 0; t < n_threads; t++)
        th[t] = heaps;
      job.half = &half;
    }
  else
    {
      /* Thread t fills slot t and keeps its own near rows. */
      LkNear *near = near_buffers (self, n_threads);
      float m = score_margin (self, vector_norm (query, self->dim));
      for (guint t = 0; t < n_threads; t++)
        margins[t] = m;
      heaps.margin = margins;
      for (guint t = 0; t < n_threads; t++)
        {
          th[t] = heaps;
          th[t].near = &near[t];
        }
    }
  pool_run (n_threads > 1 ? get_pool (self) : NULL, n_threads, query_job, &job);

  if (job.half != NULL)
    n = half_candidates (self, &heaps, n_threads, k, exclude_rows[0], &cand);
  else
    {
      KeyList lists[64], nears[64];
      CollectWork w;
      gsize n_near = 0;
      for (guint t = 0; t < n_threads; t++)
        {
          lists[t] = (KeyList) { heaps.key + (gsize) t * k, heaps.count[t] };
          nears[t] = (KeyList) { self->near[t].key, self->near[t].n };
          n_near += self->near[t].n;
        }
      collect_work_init (&w, n_threads, k);
      cand = g_new (Candidate, (gsize) n_threads * k + n_near);
      n = collect (lists, n_threads, nears, n_threads, k, margins[0], &w, cand);
      collect_work_clear (&w);
    }
  return finish (self, query, cand, n, k, out);
}

/* ---- many queries ---- */

typedef struct {
  guint g0, g1;       /* groups */
  gint  category;
} Chunk;

typedef struct {
  LkSearchIndex *self;
  const float   *queries;
  guint          k;
  const guint32 *perm;       /* position → query */
  guint          n_queries;
  const float   *packed;     /* (n_groups, dim, LK_GROUP) */
  const guint   *group_pos;  /* (n_groups + 1,) first position of each group */
  const Chunk   *chunks;
  guint          n_chunks;
  gint           next;       /* atomic */
  LkHeaps       *heaps;      /* slot = group · LK_GROUP + row */
  LkHeaps       *th;         /* (n_threads,) the same, each with its thread's near rows */
  const float   *margin;     /* (slots,) */
  const guint   *near_start; /* near rows of each slot, after the scan */
  const guint64 *near_keys;
  guint          near_most;
  GCancellable  *cancellable;
  gint           cancelled;  /* atomic */
  LkNeighbour   *out;
  guint         *n_found;
  guint          n_threads;
} BatchJob;

static guint
block_panels (guint dim)
{
  guint b = L2_BLOCK_BYTES / (dim * LK_PANEL * (guint) sizeof (float));
  return MAX (2, b & ~1u);
}

static void
batch_job (gpointer data, guint t)
{
  BatchJob *job = data;
  LkSearchIndex *self = job->self;
  LkKernelArgs args = { self->panels, self->bias, self->dim, self->alpha, &job->th[t] };
  const gsize gsize_f = (gsize) self->dim * LK_GROUP;
  const guint bp = block_panels (self->dim);

  for (;;)
    {
      gint c = g_atomic_int_add (&job->next, 1);
      const Chunk *chunk;
      guint p0, p1;

      if (c >= (gint) job->n_chunks || g_atomic_int_get (&job->cancelled))
        return;
      if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable))
        {
          g_atomic_int_set (&job->cancelled, 1);
          return;
        }
      chunk = &job->chunks[c];
      category_range (self, chunk->category, &p0, &p1);
      for (guint b = p0; b < p1; b += bp)
        for (guint g = chunk->g0; g < chunk->g1; g++)
          self->kernels->group (&args, job->packed + g * gsize_f, LK_GROUP,
                                job->group_pos[g + 1] - job->group_pos[g], g * LK_GROUP,
                                b, MIN (p1, b + bp), FALSE);
    }
}

static void
batch_finish_job (gpointer data, guint t)
{
  BatchJob *job = data;
  LkSearchIndex *self = job->self;
  g_autofree Candidate *cand = g_new (Candidate, (gsize) job->k + job->near_most);
  guint n_groups = job->chunks[job->n_chunks - 1].g1;
  const LkHeaps *h = job->heaps;
  CollectWork w;

  collect_work_init (&w, 1, job->k);
  for (guint g = t; g < n_groups; g += job->n_threads)
    for (guint pos = job->group_pos[g]; pos < job->group_pos[g + 1]; pos++)
      {
        guint q = job->perm[pos];
        guint slot = g * LK_GROUP + (pos - job->group_pos[g]);
        KeyList list = { h->key + (gsize) slot * h->k, h->count[slot] };
        KeyList near = { job->near_keys + job->near_start[slot],
                         job->near_start[slot + 1] - job->near_start[slot] };
        guint n = collect (&list, 1, &near, 1, job->k, job->margin[slot], &w, cand);
        job->n_found[q] = finish (self, job->queries + (gsize) q * self->dim, cand, n, job->k,
                                  job->out + (gsize) q * job->k);
      }
  collect_work_clear (&w);
}

gboolean
lk_search_batch (LkSearchIndex *self, const float *queries, guint n_queries, guint k,
                 const gint32 *categories, const guint32 *exclude, LkNeighbour *out,
                 guint *n_found, GCancellable *cancellable, GError **error)
{
  g_autofree guint *key_count = NULL, *key_start = NULL;
  g_autofree guint32 *perm = NULL;
  g_autofree guint *group_pos = NULL;
  g_autofree gint *group_key = NULL;
  g_autoptr(GArray) chunks = NULL;
  g_autofree LkHeaps *th = NULL;
  guint32 *slot_exclude;
  float *packed, *margin;
  guint n_keys, n_groups = 0, n_threads, chunk_groups;
  LkHeaps heaps;
  LkNear *near;
  BatchJob job = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (queries != NULL || n_queries == 0, FALSE);
  g_return_val_if_fail (n_found != NULL || n_queries == 0, FALSE);
  g_return_val_if_fail (out != NULL || k == 0 || n_queries == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_queries == 0)
    return TRUE;
  if (k == 0 || self->size == 0)
    {
      memset (n_found, 0, n_queries * sizeof (guint));
      return TRUE;
    }

  /* Order the queries by pool (key 0 = the whole index, c + 1 = category
   * c) and cut each pool's run into groups of LK_GROUP. */
  n_keys = self->n_categories + 1;
  key_count = g_new0 (guint, n_keys);
  key_start = g_new0 (guint, n_keys);
  for (guint q = 0; q < n_queries; q++)
    {
      gint c = categories != NULL ? categories[q] : -1;
      g_return_val_if_fail (c < (gint) self->n_categories, FALSE);
      key_count[c < 0 ? 0 : c + 1]++;
    }
  for (guint c = 1; c < n_keys; c++)
    key_start[c] = key_start[c - 1] + key_count[c - 1];
  perm = g_new (guint32, n_queries);
  {
    g_autofree guint *fill = g_memdup2 (key_start, n_keys * sizeof (guint));
    for (guint q = 0; q < n_queries; q++)
      {
        gint c = categories != NULL ? categories[q] : -1;
        perm[fill[c < 0 ? 0 : c + 1]++] = q;
      }
  }
  group_pos = g_new (guint, n_queries + 1);
  group_key = g_new (gint, n_queries + 1);
  for (guint c = 0; c < n_keys; c++)
    for (guint i = 0; i < key_count[c]; i += LK_GROUP)
      {
        group_pos[n_groups] = key_start[c] + i;
        group_key[n_groups++] = (gint) c - 1;
      }
  group_pos[n_groups] = n_queries;

  /* Chunks: consecutive groups of one pool, few enough that their query
   * rows stay in cache while the pool's panels stream past, and at least
   * one per thread. */
  n_threads = self->n_threads;
  chunk_groups = MAX (1, QUERY_BLOCK_BYTES / (self->dim * LK_GROUP * (guint) sizeof (float)));
  chunks = g_array_new (FALSE, FALSE, sizeof (Chunk));
  for (guint g = 0; g < n_groups; )
    {
      guint e = g;
      guint per;
      while (e < n_groups && group_key[e] == group_key[g])
        e++;
      per = MIN (chunk_groups, MAX (1, (e - g + n_threads - 1) / n_threads));
      for (guint s = g; s < e; s += per)
        {
          Chunk ch = { s, MIN (e, s + per), group_key[g] };
          g_array_append_val (chunks, ch);
        }
      g = e;
    }

  packed = scratch_get (&self->scratch[SCRATCH_QUERIES],
                        (gsize) n_groups * self->dim * LK_GROUP * sizeof (float));
  slot_exclude = scratch_get (&self->scratch[SCRATCH_SLOTS],
                              (gsize) n_groups * LK_GROUP * sizeof (guint32));
  margin = scratch_get (&self->scratch[SCRATCH_MARGIN], (gsize) n_groups * LK_GROUP * sizeof (float));
  for (guint g = 0; g < n_groups; g++)
    {
      float *dst = packed + (gsize) g * self->dim * LK_GROUP;
      guint nq = group_pos[g + 1] - group_pos[g];
      for (guint r = 0; r < LK_GROUP; r++)
        {
          guint32 *ex = &slot_exclude[g * LK_GROUP + r];
          if (r < nq)
            {
              guint q = perm[group_pos[g] + r];
              const float *src = queries + (gsize) q * self->dim;
              for (guint j = 0; j < self->dim; j++)
                dst[(gsize) j * LK_GROUP + r] = src[j];
              *ex = exclude != NULL && exclude[q] < self->n_total
                    ? self->row_of_id[exclude[q]] : G_MAXUINT32;
              margin[g * LK_GROUP + r] = score_margin (self, vector_norm (src, self->dim));
            }
          else
            {
              for (guint j = 0; j < self->dim; j++)
                dst[(gsize) j * LK_GROUP + r] = 0;
              *ex = G_MAXUINT32;
              margin[g * LK_GROUP + r] = 0;
            }
        }
    }
  heaps_init (self, &heaps, 1, n_groups * LK_GROUP, k, slot_exclude, margin);
  near = near_buffers (self, n_threads);
  th = g_new (LkHeaps, n_threads);
  for (guint t = 0; t < n_threads; t++)
    {
      th[t] = heaps;
      th[t].near = &near[t];
    }

  job.self = self;
  job.queries = queries;
  job.k = k;
  job.perm = perm;
  job.n_queries = n_queries;
  job.packed = packed;
  job.group_pos = group_pos;
  job.chunks = (const Chunk *) chunks->data;
  job.n_chunks = chunks->len;
  job.heaps = &heaps;
  job.th = th;
  job.margin = margin;
  job.cancellable = cancellable;
  job.out = out;
  job.n_found = n_found;
  job.n_threads = n_threads;
  pool_run (get_pool (self), n_threads, batch_job, &job);
  if (g_atomic_int_get (&job.cancelled))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Search cancelled"));
      return FALSE;
    }
  {
    guint *start;
    guint64 *keys;
    job.near_most = near_by_slot (self, th, n_threads, n_groups * LK_GROUP, &start, &keys);
    job.near_start = start;
    job.near_keys = keys;
  }
  pool_run (get_pool (self), n_threads, batch_finish_job, &job);
  return TRUE;
}

/* ---- all pairs ---- */

typedef struct {
  guint P0, P1;      /* row panels */
  guint end;         /* end panel of their range */
} PairChunk;

typedef struct {
  LkSearchIndex   *self;
  guint            k;
  const PairChunk *chunks;
  guint            n_chunks;
  gint             next;
  LkHeaps         *sets;       /* one per thread, slot = internal row */
  const float     *margin;     /* (slots,) */
  const guint     *near_start; /* near rows of each slot, after the scan */
  const guint64   *near_keys;
  guint            near_most;
  GCancellable    *cancellable;
  gint             cancelled;
  LkNeighbour     *out;
  guint           *n_found;
  guint            n_threads;
} PairsJob;

static guint
valid_rows (LkSearchIndex *self, guint32 row0, guint n)
{
  guint m = 0;
  while (m < n && self->row_id[row0 + m] != G_MAXUINT32)
    m++;
  return m;
}

static void
pairs_job (gpointer data, guint t)
{
  PairsJob *job = data;
  LkSearchIndex *self = job->self;
  LkKernelArgs args = { self->panels, self->bias, self->dim, self->alpha, &job->sets[t] };
  const gsize ps = (gsize) self->dim * LK_PANEL;
  const guint bp = block_panels (self->dim);

  for (;;)
    {
      gint c = g_atomic_int_add (&job->next, 1);
      const PairChunk *ch;

      if (c >= (gint) job->n_chunks || g_atomic_int_get (&job->cancelled))
        return;
      if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable))
        {
          g_atomic_int_set (&job->cancelled, 1);
          return;
        }
      ch = &job->chunks[c];
      /* The panel against itself: every ordered pair, row side only (the
       * heaps exclude each row from its own list). */
      for (guint P = ch->P0; P < ch->P1; P++)
        for (guint g = 0; g < LK_PANEL; g += LK_GROUP)
          {
            guint nq = valid_rows (self, P * LK_PANEL + g, LK_GROUP);
            if (nq > 0)
              self->kernels->group (&args, self->panels + P * ps + g, LK_PANEL, nq,
                                    P * LK_PANEL + g, P, P + 1, FALSE);
          }
      /* Panels after it: each pair once, into both rows' heaps. */
      for (guint b = ch->P0 + 1; b < ch->end; b += bp)
        {
          guint be = MIN (ch->end, b + bp);
          for (guint P = ch->P0; P < ch->P1; P++)
            {
              guint lo = MAX (b, P + 1);
              if (lo >= be)
                continue;
              for (guint g = 0; g < LK_PANEL; g += LK_GROUP)
                {
                  guint nq = valid_rows (self, P * LK_PANEL + g, LK_GROUP);
                  if (nq > 0)
                    self->kernels->group (&args, self->panels + P * ps + g, LK_PANEL, nq,
                                          P * LK_PANEL + g, lo, be, TRUE);
                }
            }
        }
    }
}

static void
pairs_finish_job (gpointer data, guint t)
{
  PairsJob *job = data;
  LkSearchIndex *self = job->self;
  const guint k = job->k;
  g_autofree Candidate *cand = g_new (Candidate, (gsize) job->n_threads * k + job->near_most);
  g_autofree KeyList *lists = g_new (KeyList, job->n_threads);
  CollectWork w;

  collect_work_init (&w, job->n_threads, k);
  for (guint pos = t; pos < self->size; pos += job->n_threads)
    {
      guint32 row = self->row_of_pos[pos];
      KeyList near = { job->near_keys + job->near_start[row],
                       job->near_start[row + 1] - job->near_start[row] };
      guint n;
      for (guint s = 0; s < job->n_threads; s++)
        lists[s] = (KeyList) { job->sets[s].key + (gsize) row * k, job->sets[s].count[row] };
      n = collect (lists, job->n_threads, &near, 1, k, job->margin[row], &w, cand);
      job->n_found[pos] = finish (self, self->data + (gsize) self->ids[pos] * self->dim, cand, n,
                                  k, job->out + (gsize) pos * k);
    }
  collect_work_clear (&w);
}

gboolean
lk_search_all_pairs (LkSearchIndex *self, guint k, gboolean within_category, LkNeighbour *out,
                     guint *n_found, GCancellable *cancellable, GError **error)
{
  g_autoptr(GArray) chunks = NULL;
  g_autofree LkHeaps *sets = NULL;
  guint32 *identity;
  float *margin;
  LkNear *near;
  guint n_slots, n_threads, n_ranges, chunk_panels;
  PairsJob job = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (n_found != NULL || self->size == 0, FALSE);
  g_return_val_if_fail (out != NULL || k == 0 || self->size == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->size == 0)
    return TRUE;
  if (k == 0)
    {
      memset (n_found, 0, self->size * sizeof (guint));
      return TRUE;
    }

  n_slots = self->n_panels * LK_PANEL;
  n_threads = self->n_threads;
  identity = scratch_get (&self->scratch[SCRATCH_SLOTS], (gsize) n_slots * sizeof (guint32));
  margin = scratch_get (&self->scratch[SCRATCH_MARGIN], (gsize) n_slots * sizeof (float));
  for (guint r = 0; r < n_slots; r++)
    {
      identity[r] = r;
      margin[r] = self->row_id[r] != G_MAXUINT32 ? score_margin (self, self->rownorm[r]) : 0;
    }
  sets = g_new0 (LkHeaps, n_threads);
  heaps_init (self, sets, n_threads, n_slots, k, identity, margin);
  near = near_buffers (self, n_threads);
  for (guint t = 0; t < n_threads; t++)
    sets[t].near = &near[t];

  /* Row panels in chunks small enough to balance the threads (the first
   * rows of a range have the most pairs after them). */
  chunk_panels = MAX (1, QUERY_BLOCK_BYTES / (self->dim * LK_PANEL * (guint) sizeof (float)));
  chunks = g_array_new (FALSE, FALSE, sizeof (PairChunk));
  n_ranges = within_category && self->n_categories > 0 ? self->n_categories : 1;
  for (guint c = 0; c < n_ranges; c++)
    {
      guint p0, p1, per;
      category_range (self, n_ranges == 1 ? -1 : (gint) c, &p0, &p1);
      per = MIN (chunk_panels, MAX (1, (p1 - p0) / (4 * n_threads)));
      for (guint P = p0; P < p1; P += per)
        {
          PairChunk ch = { P, MIN (p1, P + per), p1 };
          g_array_append_val (chunks, ch);
        }
    }

  job.self = self;
  job.k = k;
  job.chunks = (const PairChunk *) chunks->data;
  job.n_chunks = chunks->len;
  job.sets = sets;
  job.margin = margin;
  job.cancellable = cancellable;
  job.out = out;
  job.n_found = n_found;
  job.n_threads = n_threads;
  pool_run (get_pool (self), n_threads, pairs_job, &job);
  if (g_atomic_int_get (&job.cancelled))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Search cancelled"));
      return FALSE;
    }
  {
    guint *start;
    guint64 *keys;
    job.near_most = near_by_slot (self, sets, n_threads, n_slots, &start, &keys);
    job.near_start = start;
    job.near_keys = keys;
  }
  pool_run (get_pool (self), n_threads, pairs_finish_job, &job);
  return TRUE;
}

/* ---- bandwidth ---- */

typedef struct {
  LkSearchIndex *self;
  gsize per;       /* floats per thread, a multiple of 64 */
  gsize total;
  double sums[64];
} StreamJob;

static void
stream_job (gpointer data, guint t)
{
  StreamJob *job = data;
  gsize a = MIN (job->total, t * job->per), b = MIN (job->total, a + job->per);
  if (a < b)
    job->sums[t] = job->self->kernels->stream_sum (job->self->panels + a, b - a);
}

double
_lk_search_index_read_bandwidth (LkSearchIndex *self, guint repeats)
{
  StreamJob job = { self };
  double best = G_MAXDOUBLE;
  guint n_threads = MIN (self->n_threads, G_N_ELEMENTS (job.sums));

  job.total = (gsize) self->n_panels * self->dim * LK_PANEL / 64 * 64;
  job.per = (job.total / n_threads + 63) / 64 * 64;
  for (guint r = 0; r < MAX (1, repeats); r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      pool_run (n_threads > 1 ? get_pool (self) : NULL, n_threads, stream_job, &job);
      best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  return job.total * sizeof (float) / MAX (best, 1e-9) / 1e9;
}

guint64
_lk_search_index_bytes (LkSearchIndex *self, gboolean half)
{
  guint64 rows = (guint64) self->n_panels * LK_PANEL;
  if (half)
    return rows * (self->dim * sizeof (guint16) + 2 * sizeof (float));
  return rows * (self->dim + 1) * sizeof (float);
}

/* ---- the naive reference ---- */

guint
lk_search_naive (const float *data, guint n, guint dim, const guint32 *subset, guint n_subset,
                 const guint16 *labels, LkMetric metric, const float *query, guint k,
                 gint category, guint32 exclude, LkNeighbour *out)
{
  guint size = subset != NULL ? n_subset : n, m = 0;
  g_autofree Candidate *cand = g_new (Candidate, MAX (size, 1));
  /* Every kernel's exact distance is the portable one to the last bit;
   * the fastest keeps the reference quick. */
  double (*exact) (gboolean, const float *, const float *, guint)
    = _lk_search_kernels (_lk_search_best_isa ())->exact;

  g_return_val_if_fail (query != NULL, 0);
  for (guint i = 0; i < size; i++)
    {
      guint32 id = subset != NULL ? subset[i] : i;
      if (id == exclude || (category >= 0 && labels != NULL && labels[id] != (guint) category))
        continue;
      cand[m].d = exact (metric == LK_METRIC_L2, query, data + (gsize) id * dim, dim);
      cand[m].id = id;
      m++;
    }
  qsort (cand, m, sizeof *cand, candidate_cmp);
  m = MIN (m, k);
  for (guint i = 0; i < m; i++)
    {
      out[i].id = cand[i].id;
      out[i].distance = (float) (metric == LK_METRIC_L2 ? cand[i].d : -cand[i].d);
    }
  return m;
}
