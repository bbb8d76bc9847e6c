/* test-nn-optim.c — the optimiser and the net's contracts around a step:
 *  - SGD updates against values computed by hand from the documented
 *    rule (plain and Nesterov momentum, weight decay on weights only,
 *    clipping by the global norm), and the learning-rate schedules at
 *    chosen steps;
 *  - a sub-graph runs alone: forward/backward of one output touch only its
 *    branch's parameter gradients, and the other output's nodes don't run;
 *  - determinism: the same seed and thread count give bit-identical
 *    outputs and gradients; 1 and 2 threads agree to float rounding;
 *    dropout masks change with the counter and repeat with the state;
 *  - no heap allocation during training steps (glibc's mallinfo2 counters
 *    stay put over several steps after the first);
 *  - the loss falls when a small net trains on separable triplets. */
#include "config.h"

#include <malloc.h>
#include <math.h>
#include <string.h>

#include "nn-loss.h"
#include "nn-optim.h"
#include "testutil.h"

static LkNnSpec *
two_head_spec (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int img = lk_nn_spec_add_image (s, "image", 2, 8, 8);
  int deep = lk_nn_spec_add_conv (s, "deep", img, 4, 3, 1, 1);
  int x = lk_nn_spec_add_relu (s, NULL, deep), sub;
  x = lk_nn_spec_add_max_pool (s, NULL, x, 2, 2, 0, FALSE);
  x = lk_nn_spec_add_fc (s, "dfc", x, 6);
  x = lk_nn_spec_add_dropout (s, "drop", x, 0.6f);
  lk_nn_spec_add_output (s, "classes", lk_nn_spec_add_fc (s, "cls", x, 3));
  sub = lk_nn_spec_add_avg_pool (s, NULL, img, 2, 2, 0, FALSE);
  {
    int parts[2] = { lk_nn_spec_add_l2norm (s, NULL, x),
                     lk_nn_spec_add_l2norm (s, NULL, lk_nn_spec_add_fc (s, "sfc", sub, 4)) };
    x = lk_nn_spec_add_concat (s, NULL, 2, parts);
  }
  lk_nn_spec_add_output (s, "embedding", lk_nn_spec_add_l2norm (s, NULL, lk_nn_spec_add_fc (s, "emb", x, 5)));
  return s;
}

static float *
random_floats (gsize n, guint32 seed, double lo, double hi)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, lo, hi);
  return x;
}

static void
test_sgd_update (void)
{
  g_autoptr(LkNnSpec) spec = two_head_spec ();
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 2, 1, 0, NULL);
  gsize n = lk_nn_net_get_n_params (net);
  g_autofree float *w0 = NULL, *g = random_floats (n, 2, -1, 1);
  int wt = lk_nn_spec_find_tensor (spec, "dfc.weight"), bt = lk_nn_spec_find_tensor (spec, "dfc.bias");
  gsize wi = lk_nn_spec_get_tensor (spec, wt)->offset + 3, bi = lk_nn_spec_get_tensor (spec, bt)->offset + 1;

  for (guint nesterov = 0; nesterov < 2; nesterov++)
    for (guint clip = 0; clip < 2; clip++)
      {
        g_autoptr(LkNnSgd) sgd = NULL;
        LkNnSgdParams p;
        double norm = 0, norm_seen = 0, scale = 1;
        float v_w = 0, v_b = 0, w = 0, b = 0;

        lk_nn_net_init_params (net, 1);
        /* Gaps between tensors are zero in the gradient, as after backward. */
        memset (lk_nn_net_get_grads (net), 0, n * sizeof (float));
        for (guint t = 0; t < lk_nn_spec_get_n_tensors (spec); t++)
          {
            const LkNnTensorInfo *info = lk_nn_spec_get_tensor (spec, t);
            memcpy (lk_nn_net_get_grads (net) + info->offset, g + info->offset, info->size * 4);
            for (gsize j = 0; j < info->size; j++)
              norm += (double) g[info->offset + j] * g[info->offset + j];
          }
        norm = sqrt (norm);
        lk_nn_sgd_params_init (&p);
        p.lr = 0.1f;
        p.momentum = 0.9f;
        p.weight_decay = 0.01f;
        p.nesterov = nesterov;
        p.clip_norm = clip ? (float) (norm / 2) : 0;
        if (clip)
          scale = p.clip_norm / (norm + 1e-6);
        w0 = g_memdup2 (lk_nn_net_get_params (net), n * 4);
        w = w0[wi], b = w0[bi];
        sgd = lk_nn_sgd_new (net, &p);
        for (guint k = 0; k < 3; k++)
          {
            float gw = (float) (g[wi] * scale) + p.weight_decay * w, gb = (float) (g[bi] * scale);
            v_w = p.momentum * v_w + gw;
            v_b = p.momentum * v_b + gb;  /* biases: no decay */
            w -= p.lr * (nesterov ? gw + p.momentum * v_w : v_w);
            b -= p.lr * (nesterov ? gb + p.momentum * v_b : v_b);
            g_assert_cmpfloat (lk_nn_sgd_step (sgd, &norm_seen), ==, p.lr);
            g_assert_cmpfloat (fabs (norm_seen - norm), <, 1e-4 * norm);
          }
        g_assert_cmpfloat (fabs (lk_nn_net_get_params (net)[wi] - w), <, 1e-6);
        g_assert_cmpfloat (fabs (lk_nn_net_get_params (net)[bi] - b), <, 1e-6);
        g_assert_cmpfloat (fabs (lk_nn_net_get_momentum (net)[wi] - v_w), <, 1e-6);
        g_assert_cmpuint (lk_nn_sgd_get_step (sgd), ==, 3);
        /* The gradient arena is left as it was. */
        g_assert_cmpfloat (lk_nn_net_get_grads (net)[wi], ==, g[wi]);
        g_clear_pointer (&w0, g_free);
      }
}

static void
test_schedules (void)
{
  LkNnSgdParams p;

  lk_nn_sgd_params_init (&p);
  p.lr = 1.0f;
  g_assert_cmpfloat (lk_nn_sgd_lr_at (&p, 12345), ==, 1.0f);
  p.schedule = LK_NN_LR_STEP;
  p.step_size = 10;
  p.gamma = 0.5f;
  g_assert_cmpfloat (lk_nn_sgd_lr_at (&p, 9), ==, 1.0f);
  g_assert_cmpfloat (lk_nn_sgd_lr_at (&p, 10), ==, 0.5f);
  g_assert_cmpfloat (lk_nn_sgd_lr_at (&p, 35), ==, 0.125f);
  p.schedule = LK_NN_LR_COSINE;
  p.total_steps = 100;
  p.min_lr = 0.1f;
  g_assert_cmpfloat (lk_nn_sgd_lr_at (&p, 0), ==, 1.0f);
  g_assert_cmpfloat (fabs (lk_nn_sgd_lr_at (&p, 50) - 0.55f), <, 1e-6);
  g_assert_cmpfloat (fabs (lk_nn_sgd_lr_at (&p, 100) - 0.1f), <, 1e-6);
  g_assert_cmpfloat (fabs (lk_nn_sgd_lr_at (&p, 1000) - 0.1f), <, 1e-6);
  p.warmup_steps = 4;
  g_assert_cmpfloat (fabs (lk_nn_sgd_lr_at (&p, 0) - 0.25f), <, 1e-6);
  g_assert_cmpfloat (fabs (lk_nn_sgd_lr_at (&p, 1) - 0.5f * lk_nn_sgd_lr_at (&(LkNnSgdParams) { .lr = 1, .schedule = LK_NN_LR_COSINE, .total_steps = 100, .min_lr = 0.1f }, 1)), <, 1e-6);
  g_assert_cmpfloat (lk_nn_sgd_lr_at (&p, 3), ==, lk_nn_sgd_lr_at (&(LkNnSgdParams) { .lr = 1, .schedule = LK_NN_LR_COSINE, .total_steps = 100, .min_lr = 0.1f }, 3));
  p.lr = -1;
  g_assert_false (lk_nn_sgd_params_check (&p, NULL));
}

static void
test_subgraph (void)
{
  g_autoptr(LkNnSpec) spec = two_head_spec ();
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 6, 2, 0, NULL);
  g_autofree float *images = random_floats (6 * 2 * 8 * 8, 3, 0, 1);
  const float *in[1] = { images };
  const guint labels[6] = { 0, 1, 2, 0, 1, 2 };
  int cls = lk_nn_spec_find_output (spec, "classes");
  gsize n = lk_nn_net_get_n_params (net);
  g_autofree float *before = NULL;

  lk_nn_net_init_params (net, 4);
  /* Poison the other output's buffer: a forward of "classes" alone must
     not compute it. */
  lk_nn_net_forward (net, in, 6, LK_NN_TRAIN, 0);
  memset ((float *) lk_nn_net_get_output (net, 1 - cls), 0x7f, 6 * 5 * 4);
  lk_nn_net_forward (net, in, 6, LK_NN_TRAIN, (guint64) 1 << cls);
  g_assert_cmpuint (((guint32 *) lk_nn_net_get_output (net, 1 - cls))[0], ==, 0x7f7f7f7f);
  lk_nn_softmax_xent (lk_nn_net_get_output (net, cls), 6, 3, labels,
                      lk_nn_net_get_output_grad (net, cls), 1.0f / 6, NULL);
  lk_nn_net_zero_grad (net);
  lk_nn_net_backward (net);
  before = g_memdup2 (lk_nn_net_get_grads (net), n * 4);
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (spec, t);
      gboolean branch = g_str_has_prefix (info->name, "deep.") || g_str_has_prefix (info->name, "dfc.") ||
                        g_str_has_prefix (info->name, "cls.");
      double sum = 0;
      for (gsize j = 0; j < info->size; j++)
        sum += fabs (before[info->offset + j]);
      if (branch)
        g_assert_cmpfloat (sum, >, 0);
      else
        g_assert_cmpfloat (sum, ==, 0);
    }
}

static void
run_step (LkNnNet *net, const float *images, guint batch, float *out_emb)
{
  const float *in[1] = { images };
  lk_nn_net_forward (net, in, batch, LK_NN_TRAIN, 2);
  memcpy (out_emb, lk_nn_net_get_output (net, 1), (gsize) batch * 5 * 4);
  lk_nn_triplet_loss (lk_nn_net_get_output (net, 1), 5, batch / 3, 1.0f,
                      lk_nn_net_get_output_grad (net, 1), 3.0f / batch, NULL);
  lk_nn_net_zero_grad (net);
  lk_nn_net_backward (net);
}

static void
test_determinism (void)
{
  g_autoptr(LkNnSpec) spec = two_head_spec ();
  const guint batch = 12;
  g_autofree float *images = random_floats (batch * 2 * 8 * 8, 5, 0, 1);
  float *e[4], *g[4];
  guint threads[4] = { 2, 2, 1, 2 };
  gsize n = lk_nn_spec_get_n_params (spec);

  for (guint k = 0; k < 4; k++)
    {
      g_autoptr(LkNnNet) net = lk_nn_net_new (spec, batch, threads[k], 0, NULL);
      lk_nn_net_init_params (net, 8);
      lk_nn_net_set_rng_state (net, 42, k == 3 ? 1 : 0);
      e[k] = g_new (float, batch * 5);
      run_step (net, images, batch, e[k]);
      g[k] = g_memdup2 (lk_nn_net_get_grads (net), n * 4);
    }
  /* Same seed, same threads: bit-identical. */
  g_assert_cmpmem (e[0], batch * 5 * 4, e[1], batch * 5 * 4);
  g_assert_cmpmem (g[0], n * 4, g[1], n * 4);
  /* Another thread count: the same up to float rounding (and the same
     dropout masks, which depend on image indices only). */
  for (gsize j = 0; j < (gsize) batch * 5; j++)
    g_assert_cmpfloat (fabs (e[0][j] - e[2][j]), <, 1e-5);
  /* Another RNG counter: other masks. */
  g_assert_true (memcmp (e[0], e[3], batch * 5 * 4) != 0);
  for (guint k = 0; k < 4; k++)
    {
      g_free (e[k]);
      g_free (g[k]);
    }
}

static void
test_no_allocation_in_step (void)
{
  g_autoptr(LkNnSpec) spec = two_head_spec ();
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 12, 2, 0, NULL);
  g_autoptr(LkNnSgd) sgd = NULL;
  g_autofree float *images = random_floats (12 * 2 * 8 * 8, 6, 0, 1);
  g_autofree float *emb = g_new (float, 12 * 5);
  LkNnSgdParams p;
  struct mallinfo2 a, b;

  lk_nn_sgd_params_init (&p);
  sgd = lk_nn_sgd_new (net, &p);
  lk_nn_net_init_params (net, 1);
  /* The first step lets OpenBLAS set up its buffers. */
  run_step (net, images, 12, emb);
  lk_nn_sgd_step (sgd, NULL);
  a = mallinfo2 ();
  for (guint k = 0; k < 5; k++)
    {
      run_step (net, images, 9 + k % 4, emb);
      lk_nn_sgd_step (sgd, NULL);
    }
  b = mallinfo2 ();
  g_assert_cmpuint (a.uordblks, ==, b.uordblks);
  g_assert_cmpuint (a.hblkhd, ==, b.hblkhd);
}

/* Separable triplets: images are noise plus a class pattern; positives
   share the query's class. The mean hinge must fall well below its start. */
static void
test_loss_falls (void)
{
  g_autoptr(LkNnSpec) spec = two_head_spec ();
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 24, 2, 0, NULL);
  g_autoptr(LkNnSgd) sgd = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  g_autofree float *images = g_new (float, 24 * 128);
  g_autofree float *pattern = random_floats (3 * 128, 10, -1, 1);
  LkNnSgdParams p;
  double first = 0, last = 0;

  lk_nn_sgd_params_init (&p);
  p.lr = 0.05f;
  sgd = lk_nn_sgd_new (net, &p);
  lk_nn_net_init_params (net, 2);
  for (guint step = 0; step < 150; step++)
    {
      const float *in[1] = { images };
      double loss;
      for (guint t = 0; t < 8; t++)
        {
          guint cq = g_rand_int_range (rand, 0, 3), cn = (cq + g_rand_int_range (rand, 1, 3)) % 3;
          guint cls[3] = { cq, cq, cn };
          for (guint r = 0; r < 3; r++)
            for (guint j = 0; j < 128; j++)
              images[(r * 8 + t) * 128 + j] =
                pattern[cls[r] * 128 + j] + 0.7f * (float) g_rand_double_range (rand, -1, 1);
        }
      lk_nn_net_forward (net, in, 24, LK_NN_TRAIN, 2);
      loss = lk_nn_triplet_loss (lk_nn_net_get_output (net, 1), 5, 8, 1.0f,
                                 lk_nn_net_get_output_grad (net, 1), 1.0f / 8, NULL) / 8;
      lk_nn_net_zero_grad (net);
      lk_nn_net_backward (net);
      lk_nn_sgd_step (sgd, NULL);
      if (step < 10)
        first += loss / 10;
      if (step >= 140)
        last += loss / 10;
    }
  g_test_message ("mean triplet loss: first 10 steps %.3f, last 10 %.3f", first, last);
  g_assert_cmpfloat (last, <, 0.5 * first);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/nn/optim/sgd-update", test_sgd_update);
  g_test_add_func ("/engine/nn/optim/schedules", test_schedules);
  g_test_add_func ("/engine/nn/net/subgraph", test_subgraph);
  g_test_add_func ("/engine/nn/net/determinism", test_determinism);
  g_test_add_func ("/engine/nn/net/no-allocation-in-step", test_no_allocation_in_step);
  g_test_add_func ("/engine/nn/net/loss-falls", test_loss_falls);
  return g_test_run ();
}
