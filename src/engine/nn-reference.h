/* nn-reference.h — a naive double-precision executor of the same specs:
 * plain NCHW loops written straight from each layer's definition, no
 * BLAS, no fusion, no threads. It exists to check the fast engine: the
 * tests verify its gradients by central differences in double precision,
 * then hold nn-net.c's forward outputs and gradients to it. Slow; for
 * small nets. */
#pragma once

#include "nn-net.h"

G_BEGIN_DECLS

typedef struct _LkNnRef LkNnRef;

LkNnRef *lk_nn_ref_new  (const LkNnSpec *spec, guint batch);
void     lk_nn_ref_free (LkNnRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkNnRef, lk_nn_ref_free)

/* lk_nn_spec_get_n_params() doubles each, the arena layout. */
double *lk_nn_ref_get_params (LkNnRef *ref);
double *lk_nn_ref_get_grads  (LkNnRef *ref);

/* @inputs as for lk_nn_net_forward(), in double, for exactly the batch
 * given to lk_nn_ref_new(). Dropout draws the masks the fast net draws
 * for the same (seed, counter) (see lk_nn_net_set_rng_state()). */
void          lk_nn_ref_forward     (LkNnRef             *ref,
                                     const double *const *inputs,
                                     LkNnMode             mode,
                                     guint64              rng_seed,
                                     guint64              rng_counter,
                                     guint64              output_mask);
const double *lk_nn_ref_get_output      (LkNnRef *ref, guint output);
double       *lk_nn_ref_get_output_grad (LkNnRef *ref, guint output);
/* Overwrites the parameter gradients and the input gradients. */
void          lk_nn_ref_backward        (LkNnRef *ref);
/* d/d input k, in the input's own layout. */
const double *lk_nn_ref_get_input_grad  (LkNnRef *ref, guint input);

/* Any node's output of the last forward, (batch, C, H, W). */
const double *lk_nn_ref_get_node_output (LkNnRef *ref, guint node);

/* The losses of nn-loss.h, in double. */
double lk_nn_ref_triplet_loss (const double *emb, guint dim, guint n, double gap, double *grad);
double lk_nn_ref_softmax_xent (const double *logits, guint n, guint k, const guint *labels,
                               double *grad);

G_END_DECLS
