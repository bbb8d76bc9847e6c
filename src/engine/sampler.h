/* sampler.h — the paper's online triplet sampler (DESIGN.md §1, "Triplet
 * sampling" and "Online sampling with buffers").
 *
 * Images stream, epoch after epoch in a seeded random order, through one
 * fixed-size buffer per category. Each arrival j gets the key
 * k_j = u_j^(1/r_j), u_j ~ U(0,1), r_j its total relevance (weighted
 * reservoir sampling, Efraimidis & Spirakis), kept as log k_j = log(u_j)/r_j;
 * a full buffer replaces its smallest key when a larger one arrives. At the
 * end of every epoch each buffer is therefore an exact weighted sample
 * without replacement of its category.
 *
 * A triplet (q, p, n): q uniform among the buffered images; p uniform from
 * q's buffer, accepted with probability min(T_p, r(q,p)) / min(T_p, r_q⁺);
 * n out-of-class (uniform from the other buffers) with probability
 * out_of_class_share, else in-class: drawn like p and kept only if
 * r(q,p) − r(q,n) ≥ T_r. See sampler.c for how r_q⁺ is read.
 *
 * Threads: one thread draws (lk_sampler_next_batch, lk_sampler_stream);
 * any thread may take a snapshot at the same time. */
#pragma once

#include "relevance.h"

G_BEGIN_DECLS

typedef struct _LkSampler LkSampler;

typedef struct {
  guint   buffer_size;          /* images per category buffer (default 256) */
  float   t_p;                  /* cap on the relevance positives are drawn by (default 1) */
  float   t_r;                  /* margin for in-class negatives (default 0.1) */
  float   out_of_class_share;   /* share of out-of-class negatives (default 0.2) */
  guint64 seed;                 /* stream order, keys and draws (default 1) */
  float   stream_per_triplet;   /* images streamed per triplet drawn (default 1) */
  guint   max_positive_draws;   /* positives tried per query (default 64) */
  guint   max_negative_draws;   /* in-class negatives tried per (q, p) (default 16) */
  guint   max_attempts;         /* draws per triplet before giving up (default 100000) */
} LkSamplerParams;

void lk_sampler_params_init (LkSamplerParams *params);

/* Indices into the collection. */
typedef struct {
  guint32 query;
  guint32 positive;
  guint32 negative;
} LkTriplet;

/* Keeps a reference to @relevance. Returns NULL (programmer error) on
 * invalid parameters. */
LkSampler *lk_sampler_new  (LkRelevance            *relevance,
                            const LkSamplerParams  *params);
/* The same, streaming only @images (e.g. a collection's training split,
 * lk_collection_get_split_indices()), so no other image ever appears in a
 * triplet. Indices must be distinct. */
LkSampler *lk_sampler_new_for_images (LkRelevance            *relevance,
                                      const LkSamplerParams  *params,
                                      const guint32          *images,
                                      guint                   n_images);
void       lk_sampler_free (LkSampler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkSampler, lk_sampler_free)

/* Streams the next @n_images of the epoch order into the buffers (a new
 * seeded order starts when an epoch ends). lk_sampler_next_batch() does
 * this itself; call it directly to watch the buffers fill. */
void     lk_sampler_stream     (LkSampler *self,
                                guint      n_images);

/* Fills @out with @n triplets for the trainer. The first call streams one
 * whole epoch first, so training starts from full buffers; later calls
 * stream stream_per_triplet·n images. Deterministic for a seed and a
 * sequence of calls. Fails (LK_ERROR_FAILED) only if a triplet cannot be
 * found within max_attempts draws — e.g. no category has two images with
 * relevance, or no negative can ever satisfy T_r. */
gboolean lk_sampler_next_batch (LkSampler  *self,
                                LkTriplet  *out,
                                guint       n,
                                GError    **error);

/* ---- observability ---- */

typedef struct {
  guint32 image;
  guint32 epoch;      /* epoch the key was drawn in; newer epochs rank higher */
  float   log_key;    /* log(u)/r, −∞ for an image without relevance */
} LkBufferEntry;

typedef struct {
  LkTriplet triplet;
  float     r_positive;    /* r(q, p) */
  float     r_negative;    /* r(q, n); 0 for out-of-class */
  gboolean  out_of_class;
} LkDrawnTriplet;

typedef struct {
  guint64 triplets;
  guint64 out_of_class;
  guint64 positives_accepted;
  guint64 positives_rejected;         /* the min(1, r/r⁺) draw said no */
  guint64 negatives_accepted;         /* in-class */
  guint64 negatives_rejected_draw;    /* the relevance draw said no */
  guint64 negatives_rejected_margin;  /* failed r(q,p) − r(q,n) ≥ T_r */
  guint64 pairs_abandoned;            /* (q, p) dropped after max_negative_draws */
  guint64 queries_abandoned;          /* q dropped after max_positive_draws */
  guint64 images_streamed;
  guint64 images_inserted;
  guint64 images_evicted;
  guint64 images_dropped;             /* arrived with a key below a full buffer's */
  guint   epoch;                      /* epochs started so far */
} LkSamplerCounts;

#define LK_SAMPLER_RECENT 16

typedef struct {
  guint n_categories;
  guint buffer_size;
  guint *fill;                 /* (n_categories,) */
  /* (n_categories, buffer_size): category c's fill[c] entries start at
   * entries + c·buffer_size, largest key (last to be evicted) first. */
  LkBufferEntry *entries;
  guint n_recent;
  LkDrawnTriplet recent[LK_SAMPLER_RECENT];   /* newest first */
  LkSamplerCounts counts;
  float t_p, t_r, out_of_class_share;
} LkSamplerSnapshot;

/* A copy of the state as the drawing thread last published it: at the end
 * of the first batch after any snapshot (so a UI polling 10 times a second
 * sees every poll's latest batch), at least every 100 ms while drawing, and
 * after lk_sampler_stream() and lk_sampler_publish(). Cheap: the lock is
 * held for one memcpy on either side; sorting the copy happens in the
 * calling thread. Any thread. */
LkSamplerSnapshot *lk_sampler_snapshot      (LkSampler *self);
/* Publishes the current state now, from the drawing thread: call it when
 * drawing pauses or stops so the next snapshot shows the last batch. */
void               lk_sampler_publish       (LkSampler *self);
void               lk_sampler_snapshot_free (LkSamplerSnapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkSamplerSnapshot, lk_sampler_snapshot_free)

G_END_DECLS
