/* search-private.h — the pieces of search.c that the SIMD kernels
 * (search-simd.c), the tests and the benchmark share.
 *
 * Layout: rows live in panels of LK_PANEL rows stored dimension-major,
 * panel p at panels + p·dim·LK_PANEL, element (row r of the panel, k) at
 * [k·LK_PANEL + r]. A query group is up to LK_GROUP query rows, also
 * dimension-major with a stride (LK_GROUP when packed from query vectors,
 * LK_PANEL when the queries are rows of the index itself).
 *
 * Every kernel computes inner products and turns them into a score to
 * minimise, s = bias[j] + alpha·(q·x_j), with bias = ||x_j||² and alpha =
 * −2 for L2 (||q||² is the same for every j and is left out), bias = 0
 * and alpha = −1 for IP, and bias = +inf on padding rows so they never
 * enter a list. Scores go into per-query max-heaps on (score, id). */
#pragma once

#include "search.h"

G_BEGIN_DECLS

#define LK_PANEL 16
#define LK_GROUP 8

typedef enum {
  LK_SEARCH_ISA_SCALAR = 0,
  LK_SEARCH_ISA_AVX2,
  LK_SEARCH_ISA_AVX512,
  LK_SEARCH_N_ISAS
} LkSearchIsa;

/* Rows just past a slot's k best (see LkHeaps): its slot and its key. */
typedef struct {
  guint32 *slot;
  guint64 *key;
  guint    n, cap;
} LkNear;

/* Top-k collectors for @n slots (queries): slot s keeps up to k
 * candidates (a sorted list for small k, a max-heap for large) of 64-bit
 * keys (the score's bits in an order-preserving form above the id, so one
 * integer comparison orders by score and then by id). The float scores
 * are only within margin[s] of the exact ones, so the k best by score are
 * not yet the k best by distance: every row whose score is within
 * margin[s] of the k-th best goes to @near too (the k best themselves
 * excepted, and rows pushed out of them once the k-th best passed them),
 * and the exact re-rank sees them all. thr[s] is the k-th best score plus
 * margin[s] once the slot is full (+inf before), so a kernel filters with
 * "s <= thr[s]" and calls _lk_heaps_push() only for the rare candidates.
 * The float16 pass, which bounds its errors itself, has margins of 0 and
 * @near NULL (only the k best are kept). */
typedef struct {
  guint          k;
  float         *thr;       /* (n,) */
  guint64       *key;       /* (n, k) */
  guint         *count;     /* (n,) */
  const float   *margin;    /* (n,) */
  LkNear        *near;      /* this thread's, or NULL */
  const guint32 *exclude;   /* (n,) internal row each slot leaves out, or NULL */
  const guint32 *ids;       /* internal row → id */
} LkHeaps;

void _lk_heaps_push (LkHeaps *h, guint slot, float score, guint32 row);

typedef struct {
  const float *panels;   /* (n_panels, dim, LK_PANEL) */
  const float *bias;     /* (n_panels · LK_PANEL,) */
  guint        dim;
  float        alpha;
  LkHeaps     *heaps;
} LkKernelArgs;

/* One query vector (dim,) against panels [p0, p1), into heap @slot. */
typedef void (*LkScanKernel) (const LkKernelArgs *a,
                              const float        *query,
                              guint               p0,
                              guint               p1,
                              guint               slot);

/* A query group: @nq ≤ LK_GROUP rows at @q with stride @qs, heap slots
 * slot0 … slot0+nq−1, against panels [p0, p1). With @symmetric the
 * queries are rows slot0… of the index itself, every column lies after
 * every query row, and each pair also enters the column's heap (slot =
 * the column's internal row) with the query row as its neighbour. */
typedef void (*LkGroupKernel) (const LkKernelArgs *a,
                               const float        *q,
                               guint               qs,
                               guint               nq,
                               guint               slot0,
                               guint               p0,
                               guint               p1,
                               gboolean            symmetric);

/* Candidates of the float16 first pass: rows whose lower bound passed. */
typedef struct {
  guint32 *row;
  float   *lo;     /* each one's lower bound */
  guint    n, cap;
} LkCands;

void _lk_cands_push (LkCands *c, guint32 row, float lo);

/* The float16 first pass of a single query. Scores come from float16
 * copies of the rows, so each has an error bound e_r; the heaps keep the
 * k smallest upper bounds s̃ + e_r (their threshold can only be above the
 * true k-th score), and every row whose lower bound s̃ − e_r is at most
 * that threshold becomes a candidate for the exact re-rank. Bound:
 *   e_r = c_norm·||x_r|| + c_abs + c_rel·(bias_r + |s̃_r|),
 * see lk_search_query(). */
typedef struct {
  const guint16 *panels;    /* (n_panels, dim, LK_PANEL) float16 */
  const float   *bias;
  const float   *rownorm;   /* (n_panels · LK_PANEL,) ||x_r||, rounded up */
  guint          dim;
  float          alpha;
  float          c_norm, c_abs, c_rel;
  LkHeaps       *heaps;
  LkCands       *cands;     /* one per slot */
} LkHalfArgs;

typedef void (*LkHalfKernel) (const LkHalfArgs *a, const float *query, guint p0, guint p1,
                              guint slot);

typedef struct {
  LkScanKernel  scan;
  LkGroupKernel group;
  /* Sums @n floats (n a multiple of 64, 64-byte aligned): a streaming
   * read at the speed the memory gives, to measure bandwidth. */
  double (*stream_sum) (const float *data, gsize n);
  /* ||q − x||² (@l2) or −q·x, accumulated in double: the exact distance
   * of a final candidate. Every instruction set does the same operations
   * in the same order (sixteen fused multiply-add chains over j mod 16,
   * the rest on chain 0, one fixed reduction tree), so a pair has one
   * distance to the last bit whichever kernel, thread or path computes
   * it, and ties are ties everywhere. */
  double (*exact) (gboolean l2, const float *q, const float *x, guint dim);
  /* The float16 first pass and the conversion to float16 (round to
   * nearest), NULL where the CPU has no F16C. */
  LkHalfKernel scan_half;
  void (*to_half) (const float *src, guint16 *dst, gsize n);
} LkSearchKernels;

/* The portable exact distance (C99 fma(), so a compiler's contraction
 * choices cannot change it); the naive reference uses the best
 * instruction set's, which is the same to the last bit. */
double _lk_search_exact_distance (gboolean l2, const float *q, const float *x, guint dim);

/* Kernels of one instruction set, or NULL when this CPU lacks it. */
const LkSearchKernels *_lk_search_kernels (LkSearchIsa isa);
const char            *_lk_search_isa_name (LkSearchIsa isa);
/* The best instruction set this CPU has (LK_SEARCH_ISA env var may lower
 * it: "scalar", "avx2" or "avx512"). */
LkSearchIsa            _lk_search_best_isa (void);

/* Forces the kernels an index uses (tests and benchmarks). Returns FALSE
 * if this CPU lacks @isa. */
gboolean     _lk_search_index_set_isa (LkSearchIndex *self, LkSearchIsa isa);
LkSearchIsa  _lk_search_index_get_isa (LkSearchIndex *self);

/* Streaming read of the index's packed rows on its threads; returns the
 * best of @repeats runs in GB/s (the bytes of the panels, once each). */
double       _lk_search_index_read_bandwidth (LkSearchIndex *self, guint repeats);
/* Bytes a whole-index query reads (panels and biases; float16 panels,
 * biases and norms with @half). */
guint64      _lk_search_index_bytes (LkSearchIndex *self, gboolean half);

G_END_DECLS
