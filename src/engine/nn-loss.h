/* nn-loss.h — the two losses of the Deep Ranking model, on a net's
 * row-major (N, D) outputs.
 *
 * Both return the *sum* of the per-example losses (the paper's objective
 * Σᵢ ξᵢ is per triplet, not a batch average) and write @scale times its
 * gradient into @grad, (N, D) like the input, overwriting it: pass
 * scale = 1.0/n for the gradient of the mean. @grad may be NULL (loss
 * only). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Squared-Euclidean triplet hinge over @emb rows arranged as
 * [0, n) queries, [n, 2n) positives, [2n, 3n) negatives (so the net runs
 * a batch of 3n images):
 *   Σᵢ max{0, gap + ‖qᵢ − pᵢ‖² − ‖qᵢ − nᵢ‖²}.
 * *violating (may be NULL) receives the share of triplets whose hinge is
 * positive, i.e. that violate the margin. At a hinge of exactly 0 the
 * gradient taken is 0. */
double lk_nn_triplet_loss (const float *emb,
                           guint        dim,
                           guint        n_triplets,
                           float        gap,
                           float       *grad,
                           float        scale,
                           double      *violating);

/* Softmax cross-entropy of @logits (n, k) against @labels (each < k):
 * Σᵢ −log softmax(logitsᵢ)[labelᵢ]. *accuracy (may be NULL) receives the
 * share of rows whose largest logit (the first on ties) is the label. */
double lk_nn_softmax_xent (const float  *logits,
                           guint         n,
                           guint         k,
                           const guint  *labels,
                           float        *grad,
                           float         scale,
                           double       *accuracy);

G_END_DECLS
