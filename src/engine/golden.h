/* golden.h — the paper's "golden features": a weighted combination of the
 * hand-crafted feature blocks,
 *
 *     D(i, j) = Σ_b w_b · ||x_b(i) − x_b(j)||²,   w_b ≥ 0,
 *
 * with default weights, and weights learned from labelled triplets
 * (q, p, n) — "p is more like q than n is" — by max-margin ranking
 * (a linear ranking SVM on the block distance differences). */
#pragma once

#include "hand-features.h"

G_BEGIN_DECLS

typedef struct {
  float w[LK_N_FEATURES];
} LkGoldenWeights;

/* Every block weighs 1 (each block is l2-normalised, so each distance is
 * in [0, 4] and none dominates by scale). */
void  lk_golden_weights_init_default (LkGoldenWeights *weights);

float lk_golden_distance (LkFeatures            *features,
                          const LkGoldenWeights *weights,
                          guint                  i,
                          guint                  j);

/* The golden features as one embedding: every row with block b scaled by
 * √w_b, so its squared Euclidean distance is lk_golden_distance().
 * (N, dim) floats, free with g_free(). */
float *lk_golden_dup_embedding (LkFeatures            *features,
                                const LkGoldenWeights *weights);

typedef struct {
  float lambda;          /* regulariser weight λ in λ/2·||w||² (default 1e-3) */
  guint n_iterations;    /* full-batch projected subgradient steps (default 2000) */
} LkGoldenLearnParams;

void lk_golden_learn_params_init (LkGoldenLearnParams *params);

/* Learns w ≥ 0 minimising
 *     λ/2·||w||² + 1/T · Σ_t max(0, 1 − w·(d(q_t, n_t) − d(q_t, p_t)))
 * (d the vector of block distances) by projected subgradient descent
 * (Pegasos steps 1/(λ·t), iterate averaging). The result is rescaled so
 * that Σ_b w_b = LK_N_FEATURES (the scale of w does not change a ranking).
 * Fails with LK_ERROR_INVALID when there are no triplets or they carry no
 * signal (every learned weight 0). */
gboolean lk_golden_learn (LkFeatures                 *features,
                          const guint32              *queries,
                          const guint32              *positives,
                          const guint32              *negatives,
                          guint                       n_triplets,
                          const LkGoldenLearnParams  *params,
                          LkGoldenWeights            *weights_out,
                          GError                    **error);

/* Share of triplets with D(q, p) < D(q, n) (ties count half). */
double lk_golden_precision (LkFeatures            *features,
                            const LkGoldenWeights *weights,
                            const guint32         *queries,
                            const guint32         *positives,
                            const guint32         *negatives,
                            guint                  n_triplets);

G_END_DECLS
