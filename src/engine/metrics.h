/* metrics.h — the evaluation metrics, as pure functions of distances and
 * neighbour lists (so each can be checked on hand-computed examples).
 *
 *  similarity precision (the paper, §6): the share of triplets (q, p⁺, p⁻)
 *      ordered correctly, D(q,p⁺) < D(q,p⁻); a tie counts one half.
 *  score-at-top-K (the paper, §6): over the triplets whose p⁺ or p⁻ is
 *      among the K nearest neighbours of q in its pool, the number ordered
 *      correctly minus the number ordered incorrectly (ties count 0).
 *  Recall@K: the share of queries with at least one neighbour of their own
 *      category among their K nearest.
 *  mAP@R (Musgrave et al. 2020): R = the number of items of the query's
 *      category in the pool; AP@R = 1/R Σ_{i≤R} P(i)·rel(i) over the first
 *      R neighbours (P(i) the precision of the first i); the mean over the
 *      queries that have R > 0. */
#pragma once

#include "search.h"

G_BEGIN_DECLS

/* @d_pos[t] = D(q_t, p⁺_t), @d_neg[t] = D(q_t, p⁻_t). Returns 0 for n = 0. */
double lk_metric_similarity_precision (const float *d_pos,
                                       const float *d_neg,
                                       guint        n_triplets);

typedef struct {
  gint64 score;        /* correct − incorrect */
  guint  counted;      /* triplets with p⁺ or p⁻ in the top K */
  guint  correct;
  guint  incorrect;
} LkScoreAtK;

/* @query_ids (n_queries,) ascending and distinct, their neighbour lists
 * in @top (n_queries, stride) with @n_found each; only the first @k of
 * each list count. Triplets whose query has no list are not counted. */
void   lk_metric_score_at_k (const guint32     *queries,
                             const guint32     *positives,
                             const guint32     *negatives,
                             const float       *d_pos,
                             const float       *d_neg,
                             guint              n_triplets,
                             const guint32     *query_ids,
                             guint              n_queries,
                             const LkNeighbour *top,
                             const guint       *n_found,
                             guint              stride,
                             guint              k,
                             LkScoreAtK        *out);

/* @labels: category of every id a list can hold; @query_labels (n_queries,)
 * each query's category; @top (n_queries, stride). */
double lk_metric_recall_at_k (const guint16     *labels,
                              const guint16     *query_labels,
                              const LkNeighbour *top,
                              const guint       *n_found,
                              guint              n_queries,
                              guint              stride,
                              guint              k);

/* @r (n_queries,): R of each query; its list must hold min(R, stride)
 * neighbours or all there are. Returns the mean over queries with R > 0
 * (0 if none); *n_used_out (may be NULL) receives how many. */
double lk_metric_map_at_r (const guint16     *labels,
                           const guint16     *query_labels,
                           const guint       *r,
                           const LkNeighbour *top,
                           const guint       *n_found,
                           guint              n_queries,
                           guint              stride,
                           guint             *n_used_out);

G_END_DECLS
