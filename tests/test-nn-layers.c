/* test-nn-layers.c — every layer and loss of the NN engine, two ways:
 *
 * 1. Gradient checks in double precision. The naive reference executor
 *    (nn-reference.c) computes L = Σ r ⊙ outputs (r fixed random
 *    weights) and its gradient with respect to every parameter and input
 *    element (large tensors: a seeded sample), compared with central
 *    differences (L(θ + h) − L(θ − h)) / 2h, h = 1e-6. A check passes when
 *    |analytic − numeric| ≤ tol·(|analytic| + |numeric|) + 1e-9; tol is
 *    1e-6 for every layer (truncation error ~h², rounding ~1e-16/h = 1e-10,
 *    so a wrong term misses by orders of magnitude). Inputs are kept away
 *    from kinks: before checking, the test asserts that no ReLU input lies
 *    within 1e-5 (10 h) of 0, no pooling window has a runner-up within 1e-5 of its
 *    maximum, and no triplet's hinge lies within 1e-5 of 0 — a seed that
 *    violates this fails loudly instead of passing by luck.
 * 2. The fast float32 engine (nn-net.c: im2col + cblas_sgemm, fused
 *    bias+ReLU, threads) against the reference on the same parameters and
 *    inputs: outputs and every parameter gradient must agree to a relative
 *    error of 2e-4 (max |fast − ref| over a tensor / max |ref|), with 1 and
 *    2 threads, and batches smaller than the net's maximum. Every BLAS
 *    call site (conv forward, dW, dX, 1×1 conv, fc forward, dW, dX) is
 *    exercised. Each layer is placed after a conv so its input gradient
 *    feeds a parameter gradient the comparison sees. The comparison runs
 *    again with the portable C kernels instead of the AVX2 ones, and a
 *    direct test holds the two to bit-identical results. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "nn-kernels.h"
#include "nn-loss.h"
#include "nn-net.h"
#include "nn-reference.h"
#include "testutil.h"

#define H_STEP 1e-6
#define GRAD_TOL 1e-6
#define KINK_MARGIN 1e-5   /* ten steps h: no difference straddles a kink */
#define FAST_TOL 2e-4
#define MAX_CHECKS 120    /* sampled elements per tensor */

typedef LkNnSpec *(*SpecFn) (void);

typedef struct {
  const char *name;
  SpecFn make;
  guint batch;
  LkNnMode mode;
  gboolean fast_only;  /* a big net: only the fast-vs-reference comparison */
} Case;

/* ---- the reference's L and its gradient ---- */

typedef struct {
  LkNnSpec *spec;
  LkNnRef *ref;
  guint batch;
  LkNnMode mode;
  double **inputs;
  double *r[LK_NN_MAX_OUTPUTS];
} Problem;

static double
loss_of (Problem *p)
{
  double L = 0;
  lk_nn_ref_forward (p->ref, (const double *const *) p->inputs, p->mode, 7, 3, 0);
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (p->spec); o++)
    {
      const double *y = lk_nn_ref_get_output (p->ref, o);
      gsize len = (gsize) lk_nn_spec_get_output_dim (p->spec, o) * p->batch;
      for (gsize j = 0; j < len; j++)
        L += p->r[o][j] * y[j];
    }
  return L;
}

static void
assert_away_from_kinks (Problem *p)
{
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (p->spec); i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (p->spec, i);
      const LkNnNode *in;
      const double *x;
      if (n->op != LK_NN_OP_RELU && n->op != LK_NN_OP_MAX_POOL)
        continue;
      in = lk_nn_spec_get_node (p->spec, n->inputs[0]);
      x = lk_nn_ref_get_node_output (p->ref, n->inputs[0]);
      if (n->op == LK_NN_OP_RELU)
        {
          for (gsize j = 0; j < (gsize) in->c * in->h * in->w * p->batch; j++)
            if (fabs (x[j]) < KINK_MARGIN)
              g_error ("ReLU input %g within %g of the kink: change the seed", x[j], KINK_MARGIN);
          continue;
        }
      for (guint plane = 0; plane < in->c * p->batch; plane++)
        for (guint oh = 0; oh < n->h; oh++)
          for (guint ow = 0; ow < n->w; ow++)
            {
              double best = -INFINITY, second = -INFINITY;
              for (guint ki = 0; ki < n->kernel_h; ki++)
                for (guint kj = 0; kj < n->kernel_w; kj++)
                  {
                    int ih = (int) (oh * n->stride_h + ki) - (int) n->pad_h;
                    int iw = (int) (ow * n->stride_w + kj) - (int) n->pad_w;
                    double v;
                    if (ih < 0 || iw < 0 || ih >= (int) in->h || iw >= (int) in->w)
                      continue;
                    v = x[((gsize) plane * in->h + ih) * in->w + iw];
                    if (v > best)
                      second = best, best = v;
                    else if (v > second)
                      second = v;
                  }
              /* Windows of ReLU zeros tie harmlessly: the mask zeroes them. */
              if (best - second < KINK_MARGIN && best != 0)
                g_error ("max-pool tie (%g vs %g): change the seed", best, second);
            }
    }
}

static void
check_one (double analytic, double numeric, const char *what, gsize index)
{
  if (fabs (analytic - numeric) > GRAD_TOL * (fabs (analytic) + fabs (numeric)) + 1e-9)
    g_error ("%s[%" G_GSIZE_FORMAT "]: analytic %.10g, central difference %.10g", what, index,
             analytic, numeric);
}

/* Central differences on @n values at @x, sampled when many. */
static void
check_array (Problem *p, double *x, const double *analytic, gsize n, const char *what, GRand *rand)
{
  guint checks = n <= MAX_CHECKS ? (guint) n : MAX_CHECKS;
  for (guint c = 0; c < checks; c++)
    {
      gsize j = n <= MAX_CHECKS ? c : (gsize) g_rand_int_range (rand, 0, (gint32) n);
      double keep = x[j], lp, lm;
      x[j] = keep + H_STEP;
      lp = loss_of (p);
      x[j] = keep - H_STEP;
      lm = loss_of (p);
      x[j] = keep;
      check_one (analytic[j], (lp - lm) / (2 * H_STEP), what, j);
    }
}

static gsize
input_size (const LkNnSpec *spec, guint k, guint batch)
{
  const LkNnNode *n = lk_nn_spec_get_node (spec, lk_nn_spec_get_input_node (spec, k));
  return (gsize) n->c * n->h * n->w * batch;
}

static void
problem_init (Problem *p, const Case *c, guint64 seed, GRand *rand, LkNnNet *init_net)
{
  const float *fp;

  p->spec = c->make ();
  g_assert_true (lk_nn_spec_check (p->spec, NULL));
  p->batch = c->batch;
  p->mode = c->mode;
  p->ref = lk_nn_ref_new (p->spec, p->batch);
  /* He-initialised weights from the engine, plus biases that move
     pre-activations off zero. */
  lk_nn_net_init_params (init_net, seed);
  fp = lk_nn_net_get_params (init_net);
  for (gsize j = 0; j < lk_nn_spec_get_n_params (p->spec); j++)
    lk_nn_ref_get_params (p->ref)[j] = fp[j];
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (p->spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (p->spec, t);
      if (!info->decay)
        for (gsize j = 0; j < info->size; j++)
          lk_nn_ref_get_params (p->ref)[info->offset + j] = (float) g_rand_double_range (rand, -0.5, 0.5);
    }
  p->inputs = g_new0 (double *, lk_nn_spec_get_n_inputs (p->spec) + 1);
  for (guint k = 0; k < lk_nn_spec_get_n_inputs (p->spec); k++)
    {
      gsize n = input_size (p->spec, k, p->batch);
      p->inputs[k] = g_new (double, n);
      for (gsize j = 0; j < n; j++)
        p->inputs[k][j] = (float) g_rand_double_range (rand, -1, 1);
    }
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (p->spec); o++)
    {
      gsize n = (gsize) lk_nn_spec_get_output_dim (p->spec, o) * p->batch;
      p->r[o] = g_new (double, n);
      for (gsize j = 0; j < n; j++)
        p->r[o][j] = (float) g_rand_double_range (rand, -1, 1);
    }
}

static void
problem_clear (Problem *p)
{
  for (guint k = 0; k < lk_nn_spec_get_n_inputs (p->spec); k++)
    g_free (p->inputs[k]);
  g_free (p->inputs);
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (p->spec); o++)
    g_free (p->r[o]);
  lk_nn_ref_free (p->ref);
  lk_nn_spec_free (p->spec);
}

static void
reference_gradients (Problem *p)
{
  lk_nn_ref_forward (p->ref, (const double *const *) p->inputs, p->mode, 7, 3, 0);
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (p->spec); o++)
    memcpy (lk_nn_ref_get_output_grad (p->ref, o), p->r[o],
            (gsize) lk_nn_spec_get_output_dim (p->spec, o) * p->batch * sizeof (double));
  lk_nn_ref_backward (p->ref);
}

static double
rel_error (const float *fast, const double *ref, gsize n)
{
  double max_diff = 0, max_ref = 0;
  for (gsize j = 0; j < n; j++)
    {
      max_diff = MAX (max_diff, fabs (fast[j] - ref[j]));
      max_ref = MAX (max_ref, fabs (ref[j]));
    }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

static void
compare_fast (Problem *p, guint n_threads, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkNnNet) net = lk_nn_net_new (p->spec, p->batch + 3, n_threads, 0, &error);
  guint n_in = lk_nn_spec_get_n_inputs (p->spec);
  g_autofree float **inputs = g_new0 (float *, n_in + 1);

  g_assert_no_error (error);
  for (gsize j = 0; j < lk_nn_spec_get_n_params (p->spec); j++)
    lk_nn_net_get_params (net)[j] = (float) lk_nn_ref_get_params (p->ref)[j];
  for (guint k = 0; k < n_in; k++)
    {
      gsize n = input_size (p->spec, k, p->batch);
      inputs[k] = g_new (float, n);
      for (gsize j = 0; j < n; j++)
        inputs[k][j] = (float) p->inputs[k][j];
    }
  /* A first pass with other output gradients leaves stale activation
     gradients behind, which the second must overwrite, not add to. */
  lk_nn_net_set_rng_state (net, 7, 3);
  lk_nn_net_forward (net, (const float *const *) inputs, p->batch, p->mode, 0);
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (p->spec); o++)
    for (gsize j = 0; j < (gsize) lk_nn_spec_get_output_dim (p->spec, o) * p->batch; j++)
      lk_nn_net_get_output_grad (net, o)[j] = 1e3f;
  lk_nn_net_backward (net);
  lk_nn_net_set_rng_state (net, 7, 3);
  lk_nn_net_forward (net, (const float *const *) inputs, p->batch, p->mode, 0);
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (p->spec); o++)
    {
      gsize n = (gsize) lk_nn_spec_get_output_dim (p->spec, o) * p->batch;
      double e = rel_error (lk_nn_net_get_output (net, o), lk_nn_ref_get_output (p->ref, o), n);
      if (e > FAST_TOL)
        g_error ("%s, %u threads: output %u differs from the reference by %g", name, n_threads, o, e);
      for (gsize j = 0; j < n; j++)
        lk_nn_net_get_output_grad (net, o)[j] = (float) p->r[o][j];
    }
  /* Stale gradients must be overwritten by zero_grad, not summed. */
  for (gsize j = 0; j < lk_nn_net_get_n_params (net); j++)
    lk_nn_net_get_grads (net)[j] = 1e6f;
  lk_nn_net_zero_grad (net);
  lk_nn_net_backward (net);
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (p->spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (p->spec, t);
      double e = rel_error (lk_nn_net_get_grads (net) + info->offset,
                            lk_nn_ref_get_grads (p->ref) + info->offset, info->size);
      if (e > FAST_TOL)
        g_error ("%s, %u threads: gradient of %s differs from the reference by %g", name, n_threads,
                 info->name, e);
    }
  for (guint k = 0; k < n_in; k++)
    g_free (inputs[k]);
}

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20140 + c->batch);
  g_autoptr(LkNnSpec) spec = c->make ();
  g_autoptr(LkNnNet) init = lk_nn_net_new (spec, 1, 1, LK_NN_NET_NO_BACKWARD, NULL);
  Problem p;

  problem_init (&p, c, 11, rand, init);
  reference_gradients (&p);
  /* Both executors break ties alike (the first maximum in scan order), so
     only the central differences need inputs away from kinks. */
  if (!c->fast_only)
    assert_away_from_kinks (&p);
  if (!c->fast_only)
  {
    g_autofree double *grads = g_memdup2 (lk_nn_ref_get_grads (p.ref),
                                          lk_nn_spec_get_n_params (p.spec) * sizeof (double));
    for (guint t = 0; t < lk_nn_spec_get_n_tensors (p.spec); t++)
      {
        const LkNnTensorInfo *info = lk_nn_spec_get_tensor (p.spec, t);
        check_array (&p, lk_nn_ref_get_params (p.ref) + info->offset, grads + info->offset,
                     info->size, info->name, rand);
      }
    for (guint k = 0; k < lk_nn_spec_get_n_inputs (p.spec); k++)
      {
        gsize n = input_size (p.spec, k, p.batch);
        g_autofree double *gin = g_memdup2 (lk_nn_ref_get_input_grad (p.ref, k), n * sizeof (double));
        check_array (&p, p.inputs[k], gin, n, "input", rand);
      }
  }
  reference_gradients (&p);
  compare_fast (&p, 1, c->name);
  compare_fast (&p, 2, c->name);
  /* The portable C kernels, as on a CPU without AVX2. */
  lk_nn_kernels_set_simd (FALSE);
  compare_fast (&p, 2, c->name);
  lk_nn_kernels_set_simd (TRUE);
  problem_clear (&p);
}

/* ---- the cases: each layer after a conv, then flatten + fc to mix ---- */

static LkNnSpec *
finish (LkNnSpec *s, int x)
{
  const LkNnNode *n = lk_nn_spec_get_node (s, (guint) x);
  if (n->spatial)
    x = lk_nn_spec_add_flatten (s, "flat", x);
  x = lk_nn_spec_add_fc (s, "head", x, 5);
  lk_nn_spec_add_output (s, "out", x);
  return s;
}

static LkNnSpec *
spec_conv (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 3, 9, 8);
  x = lk_nn_spec_add_conv (s, "c1", x, 4, 3, 1, 1);
  x = lk_nn_spec_add_conv_full (s, "c2", x, 5, 3, 2, 2, 1, 1, 0);
  return finish (s, x);
}

static LkNnSpec *
spec_conv_relu (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 2, 8, 8);
  x = lk_nn_spec_add_conv (s, "c1", x, 4, 5, 2, 2);
  x = lk_nn_spec_add_relu (s, "r1", x);        /* fused */
  x = lk_nn_spec_add_conv (s, "c2", x, 6, 1, 1, 0); /* 1×1: no im2col */
  x = lk_nn_spec_add_relu (s, "r2", x);
  return finish (s, x);
}

static LkNnSpec *
spec_relu_unfused (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 2, 6, 6);
  int c = lk_nn_spec_add_conv (s, "c1", x, 3, 3, 1, 1);
  int r = lk_nn_spec_add_relu (s, "r1", c);     /* c has two consumers: not fused */
  int both[2] = { r, c };
  x = lk_nn_spec_add_concat (s, "cat", 2, both);
  x = lk_nn_spec_add_max_pool (s, "p1", x, 3, 2, 1, TRUE);  /* general, unfused */
  return finish (s, x);
}

static LkNnSpec *
spec_max_pool (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 2, 9, 9);
  x = lk_nn_spec_add_conv (s, "c1", x, 3, 3, 1, 1);
  x = lk_nn_spec_add_max_pool (s, "p1", x, 2, 2, 0, FALSE); /* the 2×2 fast path, 9 → 4 */
  x = lk_nn_spec_add_conv (s, "c2", x, 3, 1, 1, 0);
  x = lk_nn_spec_add_relu (s, "r2", x);
  /* Overlapping, padded, ceil, fused into c2. Last: neighbouring outputs
     can share their maximum, which a later max would see as a tie. */
  x = lk_nn_spec_add_max_pool (s, "p2", x, 3, 2, 1, TRUE);
  return finish (s, x);
}

static LkNnSpec *
spec_avg_pool (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 3, 12, 12);
  x = lk_nn_spec_add_avg_pool (s, "sub", x, 4, 4, 0, FALSE);  /* 4:1 subsampling */
  x = lk_nn_spec_add_conv (s, "c1", x, 3, 3, 1, 1);
  x = lk_nn_spec_add_avg_pool (s, "p1", x, 2, 2, 1, TRUE);    /* partial windows */
  return finish (s, x);
}

static LkNnSpec *
spec_lrn (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 2, 5, 5);
  x = lk_nn_spec_add_conv (s, "c1", x, 7, 3, 1, 1);
  x = lk_nn_spec_add_lrn (s, "n1", x, 5, 0.5f, 0.75f, 2.0f);
  x = lk_nn_spec_add_conv (s, "c2", x, 4, 1, 1, 0);
  x = lk_nn_spec_add_lrn (s, "n2", x, 2, 1e-1f, 0.6f, 1.0f);  /* even window */
  return finish (s, x);
}

static LkNnSpec *
spec_fc (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_vector (s, "features", 13);
  x = lk_nn_spec_add_fc (s, "f1", x, 11);
  x = lk_nn_spec_add_relu (s, "r1", x);  /* fused */
  x = lk_nn_spec_add_fc (s, "f2", x, 7);
  return finish (s, x);
}

static LkNnSpec *
spec_dropout (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 2, 5, 5);
  x = lk_nn_spec_add_conv (s, "c1", x, 3, 3, 1, 1);
  x = lk_nn_spec_add_dropout (s, "d1", x, 0.6f);
  x = lk_nn_spec_add_fc (s, "f1", x, 9);
  x = lk_nn_spec_add_dropout (s, "d2", x, 0.5f);
  return finish (s, x);
}

static LkNnSpec *
spec_l2norm_concat (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int img = lk_nn_spec_add_image (s, "image", 2, 6, 6);
  int vec = lk_nn_spec_add_vector (s, "aux", 4);
  int a = lk_nn_spec_add_conv (s, "ca", img, 3, 3, 1, 1);
  int b = lk_nn_spec_add_conv (s, "cb", img, 2, 3, 1, 1);
  int ab[2] = { a, b }, parts[3];
  int x = lk_nn_spec_add_concat (s, "chan", 2, ab);            /* channels */
  x = lk_nn_spec_add_fc (s, "f1", x, 6);
  parts[0] = lk_nn_spec_add_l2norm (s, "n1", x);
  parts[1] = lk_nn_spec_add_l2norm (s, "n2", lk_nn_spec_add_fc (s, "f2", b, 3));
  parts[2] = vec;                                               /* golden features */
  x = lk_nn_spec_add_concat (s, "feat", 3, parts);             /* vectors */
  x = lk_nn_spec_add_fc (s, "emb", x, 5);
  x = lk_nn_spec_add_l2norm (s, "embn", x);
  lk_nn_spec_add_output (s, "embedding", x);
  lk_nn_spec_add_output (s, "deep", parts[0]);  /* an output that is also consumed */
  return s;
}

/* The benchmark's multi-scale net at 32×32: the real shapes, chunking and
   fusions together. */
static LkNnSpec *
spec_multiscale (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  const guint filters[4] = { 8, 16, 24, 24 };
  int img = lk_nn_spec_add_image (s, "image", 3, 32, 32), x = img, parts[3];

  for (guint i = 0; i < 4; i++)
    {
      x = lk_nn_spec_add_conv (s, NULL, x, filters[i], 3, 1, 1);
      x = lk_nn_spec_add_relu (s, NULL, x);
      x = lk_nn_spec_add_max_pool (s, NULL, x, 2, 2, 0, FALSE);
    }
  parts[0] = lk_nn_spec_add_l2norm (s, NULL, lk_nn_spec_add_fc (s, NULL, x, 16));
  for (guint b = 1; b < 3; b++)
    {
      x = lk_nn_spec_add_avg_pool (s, NULL, img, 4 * b, 4 * b, 0, FALSE);
      x = lk_nn_spec_add_conv (s, NULL, x, 8, 5, 1, 2);
      x = lk_nn_spec_add_relu (s, NULL, x);
      x = lk_nn_spec_add_max_pool (s, NULL, x, 2, 2, 0, FALSE);
      parts[b] = lk_nn_spec_add_l2norm (s, NULL, lk_nn_spec_add_fc (s, NULL, x, 8));
    }
  x = lk_nn_spec_add_concat (s, NULL, 3, parts);
  x = lk_nn_spec_add_l2norm (s, NULL, lk_nn_spec_add_fc (s, NULL, x, 12));
  lk_nn_spec_add_output (s, "embedding", x);
  return s;
}

static const Case cases[] = {
  { "conv", spec_conv, 3, LK_NN_INFERENCE },
  { "conv-relu", spec_conv_relu, 4, LK_NN_INFERENCE },
  { "relu", spec_relu_unfused, 3, LK_NN_INFERENCE },
  { "max-pool", spec_max_pool, 3, LK_NN_INFERENCE },
  { "avg-pool", spec_avg_pool, 3, LK_NN_INFERENCE },
  { "lrn", spec_lrn, 3, LK_NN_INFERENCE },
  { "fc", spec_fc, 5, LK_NN_INFERENCE },
  { "dropout", spec_dropout, 4, LK_NN_TRAIN },
  { "dropout-inference", spec_dropout, 3, LK_NN_INFERENCE },
  { "l2norm-concat", spec_l2norm_concat, 3, LK_NN_INFERENCE },
  { "multiscale", spec_multiscale, 7, LK_NN_INFERENCE, TRUE },
  { "multiscale-big", spec_multiscale, 50, LK_NN_INFERENCE, TRUE },
};

/* ---- losses ---- */

static void
test_triplet_loss (void)
{
  const guint n = 6, dim = 5;
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  double emb[3 * 6 * 5], grad[3 * 6 * 5], fgrad_d[3 * 6 * 5];
  float femb[3 * 6 * 5], fgrad[3 * 6 * 5];
  double gap = 1.0, viol, loss, f;
  guint positive = 0;

  for (guint j = 0; j < 3 * n * dim; j++)
    emb[j] = femb[j] = (float) g_rand_double_range (rand, -0.6, 0.6);
  loss = lk_nn_ref_triplet_loss (emb, dim, n, gap, grad);
  /* Away from the hinge's kink, and both sides of it present. */
  for (guint i = 0; i < n; i++)
    {
      double dp = 0, dn = 0;
      for (guint k = 0; k < dim; k++)
        {
          dp += pow (emb[i * dim + k] - emb[(n + i) * dim + k], 2);
          dn += pow (emb[i * dim + k] - emb[(2 * n + i) * dim + k], 2);
        }
      g_assert_cmpfloat (fabs (gap + dp - dn), >, KINK_MARGIN);
      positive += gap + dp - dn > 0;
    }
  g_assert_cmpuint (positive, >, 0);
  g_assert_cmpuint (positive, <, n);
  for (guint j = 0; j < 3 * n * dim; j++)
    {
      double keep = emb[j], lp, lm;
      emb[j] = keep + H_STEP;
      lp = lk_nn_ref_triplet_loss (emb, dim, n, gap, NULL);
      emb[j] = keep - H_STEP;
      lm = lk_nn_ref_triplet_loss (emb, dim, n, gap, NULL);
      emb[j] = keep;
      check_one (grad[j], (lp - lm) / (2 * H_STEP), "triplet", j);
    }
  f = lk_nn_triplet_loss (femb, dim, n, (float) gap, fgrad, 0.5f, &viol);
  g_assert_cmpfloat (fabs (f - loss), <, 1e-5 * fabs (loss));
  g_assert_cmpfloat (viol, ==, (double) positive / n);
  for (guint j = 0; j < 3 * n * dim; j++)
    fgrad_d[j] = 2.0 * fgrad[j];
  for (guint j = 0; j < 3 * n * dim; j++)
    g_assert_cmpfloat (fabs (fgrad_d[j] - grad[j]), <, 1e-5);

  /* A hand-computed triplet: q = (0, 0), p = (1, 0), n = (0, 2), gap 1:
     1 + 1 − 4 < 0 → no loss; with p = (3, 0): 1 + 9 − 4 = 6. */
  {
    float t[6] = { 0, 0, 3, 0, 0, 2 }, g[6];
    g_assert_cmpfloat (lk_nn_triplet_loss (t, 2, 1, 1.0f, g, 1.0f, &viol), ==, 6.0);
    g_assert_cmpfloat (viol, ==, 1.0);
    /* ∂/∂q = 2(n − p) = (−6, 4); ∂/∂p = −2(q − p) = (6, 0); ∂/∂n = 2(q − n) = (0, −4). */
    g_assert_cmpfloat (g[0], ==, -6);
    g_assert_cmpfloat (g[1], ==, 4);
    g_assert_cmpfloat (g[2], ==, 6);
    g_assert_cmpfloat (g[3], ==, 0);
    g_assert_cmpfloat (g[4], ==, 0);
    g_assert_cmpfloat (g[5], ==, -4);
    t[2] = 1;
    g_assert_cmpfloat (lk_nn_triplet_loss (t, 2, 1, 1.0f, g, 1.0f, &viol), ==, 0.0);
    g_assert_cmpfloat (viol, ==, 0.0);
    g_assert_cmpfloat (g[0], ==, 0);
  }
}

static void
test_softmax_xent (void)
{
  const guint n = 5, k = 4;
  const guint labels[5] = { 0, 3, 1, 1, 2 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  double z[20], grad[20], loss, acc;
  float fz[20], fgrad[20];
  guint correct = 0;

  for (guint j = 0; j < n * k; j++)
    z[j] = fz[j] = (float) g_rand_double_range (rand, -2, 2);
  loss = lk_nn_ref_softmax_xent (z, n, k, labels, grad);
  for (guint j = 0; j < n * k; j++)
    {
      double keep = z[j], lp, lm;
      z[j] = keep + H_STEP;
      lp = lk_nn_ref_softmax_xent (z, n, k, labels, NULL);
      z[j] = keep - H_STEP;
      lm = lk_nn_ref_softmax_xent (z, n, k, labels, NULL);
      z[j] = keep;
      check_one (grad[j], (lp - lm) / (2 * H_STEP), "softmax", j);
    }
  g_assert_cmpfloat (fabs (lk_nn_softmax_xent (fz, n, k, labels, fgrad, 1.0f, &acc) - loss), <,
                     1e-5 * loss);
  for (guint j = 0; j < n * k; j++)
    g_assert_cmpfloat (fabs (fgrad[j] - grad[j]), <, 1e-6);
  for (guint i = 0; i < n; i++)
    {
      guint best = 0;
      for (guint c = 1; c < k; c++)
        if (z[i * k + c] > z[i * k + best])
          best = c;
      correct += best == labels[i];
    }
  g_assert_cmpfloat (acc, ==, (double) correct / n);
  /* Large logits must not overflow: log-sum-exp is shifted. */
  {
    float big[2] = { 1000, 0 }, g[2];
    guint l = 1;
    g_assert_cmpfloat (fabs (lk_nn_softmax_xent (big, 1, 2, &l, g, 1.0f, NULL) - 1000), <, 1e-3);
    g_assert_true (isfinite (g[0]) && isfinite (g[1]));
  }
}

/* The im2col/col2im pair is adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, for
   the general path (strided, padded, rectangular) and the stride-1 "same"
   path, with the SIMD and portable adds. */
static void
check_adjoint (guint C, guint n, guint H, guint W, const LkNnWindow win)
{
  guint OH = (H + 2 * win.ph - win.kh) / win.sh + 1, OW = (W + 2 * win.pw - win.kw) / win.sw + 1;
  g_autoptr(GRand) rand = g_rand_new_with_seed (6);
  gsize xs = (gsize) C * n * H * W, cs = (gsize) C * win.kh * win.kw * 1 * OH * OW;
  g_autofree float *x = g_new (float, xs), *col = g_new (float, cs);
  g_autofree float *c = g_new (float, cs), *dx = g_new0 (float, xs);
  double a = 0, b = 0;

  for (gsize j = 0; j < xs; j++)
    x[j] = (float) g_rand_double_range (rand, -1, 1);
  for (gsize j = 0; j < cs; j++)
    c[j] = (float) g_rand_double_range (rand, -1, 1);
  lk_nn_im2col (x, C, n, H, W, 1, 1, &win, OH, OW, col);
  lk_nn_col2im (c, C, n, H, W, 1, 1, &win, OH, OW, dx);
  for (gsize j = 0; j < cs; j++)
    a += (double) col[j] * c[j];
  for (gsize j = 0; j < xs; j++)
    b += (double) x[j] * dx[j];
  g_assert_cmpfloat (fabs (a - b), <, 1e-4 * (fabs (a) + 1));
  /* Image 0 was not touched. */
  for (guint ch = 0; ch < C; ch++)
    for (gsize j = 0; j < (gsize) H * W; j++)
      g_assert_cmpfloat (dx[(gsize) ch * n * H * W + j], ==, 0);
  /* A patch row is the input shifted: spot-check one element. */
  {
    guint ki = win.kh - 1, kj = 0, oh = OH / 2, ow = OW - 1;
    int ih = (int) (oh * win.sh + ki) - (int) win.ph, iw = (int) (ow * win.sw + kj) - (int) win.pw;
    float want = (ih < 0 || iw < 0 || ih >= (int) H || iw >= (int) W)
                 ? 0 : x[((gsize) 2 * n + 1) * H * W + (gsize) ih * W + iw];
    g_assert_cmpfloat (col[((gsize) (2 * win.kh + ki) * win.kw + kj) * OH * OW + oh * OW + ow], ==, want);
  }
}

static void
test_im2col_adjoint (void)
{
  for (guint simd = 0; simd < 2; simd++)
    {
      lk_nn_kernels_set_simd (simd == 1);
      check_adjoint (3, 2, 7, 6, (LkNnWindow) { 3, 2, 2, 2, 1, 0 });
      check_adjoint (3, 2, 7, 11, (LkNnWindow) { 3, 3, 1, 1, 1, 1 });
      check_adjoint (3, 3, 5, 9, (LkNnWindow) { 5, 5, 1, 1, 2, 2 });
    }
  lk_nn_kernels_set_simd (TRUE);
}

/* The AVX2 passes give bit-identical results to the portable ones,
   including which of several equal maxima a pool picks. */
static void
test_simd_vs_portable (void)
{
  const guint planes = 5, H = 10, W = 37, OH = 5, OW = 18;  /* odd widths: vector tails */
  const LkNnWindow win = { 2, 2, 2, 2, 0, 0 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  gsize n = (gsize) planes * H * W, no = (gsize) planes * OH * OW;
  g_autofree float *x = g_new (float, n), *y1 = g_new (float, no), *y2 = g_new (float, no);
  g_autofree float *b1 = g_new (float, n), *b2 = g_new (float, n), *bias = g_new (float, planes);
  g_autofree guint8 *a1 = g_new (guint8, no), *a2 = g_new (guint8, no);

  if (!lk_nn_kernels_get_simd ())
    {
      g_test_skip ("AVX2 kernels unavailable or disabled (LIKENESS_NN_SIMD=0): only the portable ones run");
      return;
    }
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_int_range (rand, -2, 3);   /* many ties, and zeros */
  for (guint i = 0; i < planes; i++)
    bias[i] = (float) g_rand_int_range (rand, -2, 3) * 0.5f;
  lk_nn_max_pool8_forward (x, planes, H, W, &win, OH, OW, y1, a1);
  memcpy (b1, x, n * sizeof *x);
  lk_nn_bias_act (b1, planes, H * W - 3, H * W, bias, TRUE);
  lk_nn_kernels_set_simd (FALSE);
  lk_nn_max_pool8_forward (x, planes, H, W, &win, OH, OW, y2, a2);
  memcpy (b2, x, n * sizeof *x);
  lk_nn_bias_act (b2, planes, H * W - 3, H * W, bias, TRUE);
  lk_nn_kernels_set_simd (TRUE);
  g_assert_cmpmem (y1, no * sizeof *y1, y2, no * sizeof *y2);
  g_assert_cmpmem (a1, no, a2, no);
  g_assert_cmpmem (b1, n * sizeof *b1, b2, n * sizeof *b2);
  /* Backward: the SIMD version writes every element itself (dx starts as
     garbage), the portable one adds into zeros. */
  {
    g_autofree float *dy = g_new (float, no), *d1 = g_new (float, n), *d2 = g_new0 (float, n);
    for (gsize i = 0; i < no; i++)
      dy[i] = (float) g_rand_double_range (rand, -1, 1);
    for (gsize i = 0; i < n; i++)
      d1[i] = NAN;
    g_assert_true (lk_nn_max_pool8_backward_tiles (&win, H, W, OH, OW));
    lk_nn_max_pool8_backward (dy, y1, a1, planes, H, W, &win, OH, OW, d1);
    lk_nn_kernels_set_simd (FALSE);
    g_assert_false (lk_nn_max_pool8_backward_tiles (&win, H, W, OH, OW));
    lk_nn_max_pool8_backward (dy, y2, a2, planes, H, W, &win, OH, OW, d2);
    lk_nn_kernels_set_simd (TRUE);
    g_assert_cmpmem (d1, n * sizeof *d1, d2, n * sizeof *d2);
  }
}

/* Output sizes, including the paper's 225 → 57 and 29 subsampling. */
static void
test_shapes (void)
{
  g_autoptr(LkNnSpec) s = lk_nn_spec_new ();
  g_autoptr(GError) error = NULL;
  int img = lk_nn_spec_add_image (s, "image", 3, 225, 225);
  int s4 = lk_nn_spec_add_avg_pool (s, "s4", img, 4, 4, 0, TRUE);
  int s8 = lk_nn_spec_add_avg_pool (s, "s8", img, 8, 8, 0, TRUE);
  int c1 = lk_nn_spec_add_conv (s, "c1", img, 96, 11, 4, 2);
  int p1 = lk_nn_spec_add_max_pool (s, "p1", c1, 3, 2, 0, TRUE);
  int sc = lk_nn_spec_add_conv (s, "sc", s4, 96, 8, 4, 0);
  int sp = lk_nn_spec_add_max_pool (s, "sp", sc, 3, 4, 0, TRUE);
  int bad;

  g_assert_cmpuint (lk_nn_spec_get_node (s, s4)->h, ==, 57);
  g_assert_cmpuint (lk_nn_spec_get_node (s, s8)->h, ==, 29);
  g_assert_cmpuint (lk_nn_spec_get_node (s, c1)->h, ==, 55);
  g_assert_cmpuint (lk_nn_spec_get_node (s, p1)->h, ==, 27);
  g_assert_cmpuint (lk_nn_spec_get_node (s, sc)->h, ==, 13);
  g_assert_cmpuint (lk_nn_spec_get_node (s, sp)->h, ==, 4);
  lk_nn_spec_add_output (s, "x", lk_nn_spec_add_flatten (s, NULL, sp));
  g_assert_true (lk_nn_spec_check (s, &error));
  /* A mistake is remembered and reported once. */
  bad = lk_nn_spec_add_conv (s, "big", s8, 4, 31, 1, 0);
  g_assert_cmpint (bad, ==, -1);
  g_assert_cmpint (lk_nn_spec_add_relu (s, NULL, bad), ==, -1);
  g_assert_false (lk_nn_spec_check (s, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "big"));
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/nn/shapes", test_shapes);
  g_test_add_func ("/engine/nn/im2col-adjoint", test_im2col_adjoint);
  g_test_add_func ("/engine/nn/simd-vs-portable", test_simd_vs_portable);
  g_test_add_func ("/engine/nn/loss/triplet", test_triplet_loss);
  g_test_add_func ("/engine/nn/loss/softmax", test_softmax_xent);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/engine/nn/layer/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], run_case);
    }
  return g_test_run ();
}
