/* nn-net.h — a network built from a spec for a maximum batch size: its
 * memory, forward and backward passes, and its threads.
 *
 * Memory. lk_nn_net_new() allocates everything a step needs, once:
 * parameters, gradients and momentum (three arenas of one layout, see
 * LkNnTensorInfo, 64-byte aligned, one allocation each), every activation
 * and activation gradient for max_batch images, the pooling indices and
 * masks, and one im2col workspace per thread. Nothing is allocated in
 * lk_nn_net_forward() or lk_nn_net_backward(). Large blocks are advised
 * as transparent huge pages and touched at build time, so a first step is
 * as fast as the next.
 *
 * Threads. One level of parallelism: the net splits a batch into
 * n_threads contiguous runs of images and runs the whole pass over each
 * run in its own thread (its own im2col workspace, its own copy of the
 * parameter gradients, summed in a fixed order at the end of backward);
 * OpenBLAS is set to one thread. Results are deterministic for a spec,
 * parameters, inputs, seed and thread count. A net is used by one thread
 * at a time (the caller's, e.g. a trainer's worker), which a GCancellable
 * can stop between steps.
 *
 * A training step:
 *
 *   lk_nn_net_forward (net, inputs, batch, LK_NN_TRAIN, 0);
 *   loss = lk_nn_triplet_loss (lk_nn_net_get_output (net, emb), dim, batch / 3, gap,
 *                              lk_nn_net_get_output_grad (net, emb), 3.0f / batch, &viol);
 *   lk_nn_net_zero_grad (net);
 *   lk_nn_net_backward (net);
 *   lk_nn_sgd_step (sgd, NULL);
 *
 * Only the nodes the requested outputs need run (output_mask, bit i for
 * output i, 0 for all): a classifier head on the deep branch can be
 * trained alone, its parameters the only ones whose gradients change. */
#pragma once

#include "nn-spec.h"

G_BEGIN_DECLS

typedef struct _LkNnNet LkNnNet;

typedef enum {
  LK_NN_INFERENCE = 0,   /* dropout is the identity */
  LK_NN_TRAIN = 1,       /* dropout draws a new mask per call */
} LkNnMode;

typedef enum {
  LK_NN_NET_DEFAULT = 0,
  LK_NN_NET_NO_BACKWARD = 1 << 0,   /* no gradient buffers: inference only */
  /* The other single level of threading, for comparison: the net's own
     code runs in the caller's thread and OpenBLAS uses n_threads. */
  LK_NN_NET_BLAS_THREADS = 1 << 1,
} LkNnNetFlags;

/* Copies @spec. @n_threads 0 means one per core. Fails
 * (LK_ERROR_INVALID) on a spec with an error or no output. */
LkNnNet *lk_nn_net_new  (const LkNnSpec  *spec,
                         guint            max_batch,
                         guint            n_threads,
                         LkNnNetFlags     flags,
                         GError         **error);
void     lk_nn_net_free (LkNnNet *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkNnNet, lk_nn_net_free)

const LkNnSpec *lk_nn_net_get_spec      (LkNnNet *net);
guint           lk_nn_net_get_max_batch (LkNnNet *net);
guint           lk_nn_net_get_n_threads (LkNnNet *net);

/* The three arenas, lk_nn_spec_get_n_params() floats each. */
gsize  lk_nn_net_get_n_params (LkNnNet *net);
float *lk_nn_net_get_params   (LkNnNet *net);
float *lk_nn_net_get_grads    (LkNnNet *net);
float *lk_nn_net_get_momentum (LkNnNet *net);
/* A parameter tensor by name ("conv1.weight"), or NULL. */
float *lk_nn_net_get_param    (LkNnNet *net, const char *tensor);

/* Weights ~ N(0, 2 / fan_in) (He), biases 0, momentum 0; from @seed. */
void lk_nn_net_init_params (LkNnNet *net, guint64 seed);

/* Dropout masks come from (seed, counter), the counter advancing by one
 * per training forward; the pair is all the RNG state a checkpoint needs. */
void lk_nn_net_set_rng_state (LkNnNet *net, guint64 seed, guint64 counter);
void lk_nn_net_get_rng_state (LkNnNet *net, guint64 *seed, guint64 *counter);

/* @inputs[k] is input k (lk_nn_spec_get_input_node() order): an image
 * input (batch, C, H, W) or a vector input (batch, D), row-major float32;
 * inputs the requested outputs do not need may be NULL. 1 ≤ batch ≤
 * max_batch. */
void lk_nn_net_forward (LkNnNet            *net,
                        const float *const *inputs,
                        guint               batch,
                        LkNnMode            mode,
                        guint64             output_mask);

/* Output @output of the last forward, (batch, D) row-major. */
const float *lk_nn_net_get_output      (LkNnNet *net, guint output);
/* Where the caller puts dLoss/dOutput, (batch, D), for every output the
 * last forward computed, before lk_nn_net_backward(). */
float       *lk_nn_net_get_output_grad (LkNnNet *net, guint output);

/* Back-propagates the output gradients of the last forward: parameter
 * gradients are *added* to the gradient arena (so call
 * lk_nn_net_zero_grad() first, or accumulate over several batches). */
void lk_nn_net_backward  (LkNnNet *net);
void lk_nn_net_zero_grad (LkNnNet *net);

/* Copies node @node's result of the last forward, (batch, C, H, W), to
 * @out — for inspection and cross-checks, not for the hot path. A conv or
 * fc whose ReLU was fused holds the ReLU'd values; a conv → ReLU →
 * max-pool chain keeps only the pooled result (reading the conv or the
 * ReLU is then a programmer error). */
void lk_nn_net_read_node (LkNnNet *net, guint node, float *out);

/* For a max-pool node: the index in its input plane (ih·W + iw) of each
 * output's maximum in the last forward, (batch, C, OH, OW). */
void lk_nn_net_read_argmax (LkNnNet *net, guint node, guint32 *out);

/* The image count of the last forward. */
guint lk_nn_net_get_batch (LkNnNet *net);

/* Where the time goes, measured on thread 0 (which does 1/n_threads of
 * every layer) while profiling is on: wall seconds per node in forward and
 * backward, and the part of them spent inside cblas_sgemm with the
 * multiply-adds × 2 it did, so a caller can set the engine's rate beside
 * sgemm's own on the same shapes. */
typedef struct {
  double  forward_s[LK_NN_MAX_NODES];
  double  backward_s[LK_NN_MAX_NODES];
  double  gemm_s[LK_NN_MAX_NODES];
  guint64 gemm_flops[LK_NN_MAX_NODES];
  double  reduce_s;        /* summing the threads' gradients, and waiting */
} LkNnProfile;

void lk_nn_net_set_profiling (LkNnNet *net, gboolean enabled);
/* The sums since profiling was last switched on. */
void lk_nn_net_get_profile   (LkNnNet *net, LkNnProfile *profile);

G_END_DECLS
