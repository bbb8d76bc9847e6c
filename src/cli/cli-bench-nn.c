/* cli-bench-nn.c — `likeness-cli bench nn`: the NN engine's throughput on
 * the reference multi-scale net of issue 3 (64×64 RGB):
 *  - deep branch: conv 3×3 with 32, 64, 128, 128 filters (pad 1), each
 *    followed by ReLU and 2×2 max-pooling, fc 256, l2-normalised;
 *  - two shallow branches on 4:1 and 8:1 average-pooled input: conv 5×5
 *    with 32 filters (pad 2), ReLU, 2×2 max-pool, fc 128, l2-normalised;
 *  - the three concatenated, fc 128, l2-normalised; triplet hinge, gap 1.
 * Training: 32 triplets (96 images) a step, forward + backward + SGD
 * (momentum 0.9, λ 0.001 on weights). Inference: batch 256. For each
 * thread count it prints images/s, the engine's GFLOP/s and cblas_sgemm's
 * rate inside it on the same shapes, and with --profile where the time
 * goes per layer. --export writes weights, inputs, loss and gradients for
 * build-aux/bench-nn-torch.py to recompute in PyTorch; build-aux/bench-nn
 * runs both side by side. Lines starting "RESULT" are for that script. */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas-kernels.h"
#include "cli.h"
#include "nn-loss.h"
#include "nn-net.h"
#include "nn-optim.h"

#define GAP 1.0f

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static int
branch_shallow (LkNnSpec *s, int img, guint factor, const char *prefix)
{
  char sub[32], conv[32], relu[32], pool[32], fc[32], norm[32];
  int x;

  g_snprintf (sub, sizeof sub, "%s_sub", prefix);
  g_snprintf (conv, sizeof conv, "%s_conv", prefix);
  g_snprintf (relu, sizeof relu, "%s_relu", prefix);
  g_snprintf (pool, sizeof pool, "%s_pool", prefix);
  g_snprintf (fc, sizeof fc, "%s_fc", prefix);
  g_snprintf (norm, sizeof norm, "%s_norm", prefix);
  x = lk_nn_spec_add_avg_pool (s, sub, img, factor, factor, 0, FALSE);
  x = lk_nn_spec_add_conv (s, conv, x, 32, 5, 1, 2);
  x = lk_nn_spec_add_relu (s, relu, x);
  x = lk_nn_spec_add_max_pool (s, pool, x, 2, 2, 0, FALSE);
  x = lk_nn_spec_add_fc (s, fc, x, 128);
  return lk_nn_spec_add_l2norm (s, norm, x);
}

/* The names match the PyTorch twin in build-aux/bench-nn-torch.py. */
static LkNnSpec *
reference_spec (guint side)
{
  LkNnSpec *s = lk_nn_spec_new ();
  const guint filters[4] = { 32, 64, 128, 128 };
  int img = lk_nn_spec_add_image (s, "image", 3, side, side), x = img, parts[3];

  for (guint i = 0; i < 4; i++)
    {
      char conv[16], relu[16], pool[16];
      g_snprintf (conv, sizeof conv, "conv%u", i + 1);
      g_snprintf (relu, sizeof relu, "relu%u", i + 1);
      g_snprintf (pool, sizeof pool, "pool%u", i + 1);
      x = lk_nn_spec_add_conv (s, conv, x, filters[i], 3, 1, 1);
      x = lk_nn_spec_add_relu (s, relu, x);
      x = lk_nn_spec_add_max_pool (s, pool, x, 2, 2, 0, FALSE);
    }
  x = lk_nn_spec_add_fc (s, "deep_fc", x, 256);
  parts[0] = lk_nn_spec_add_l2norm (s, "deep_norm", x);
  parts[1] = branch_shallow (s, img, 4, "s4");
  parts[2] = branch_shallow (s, img, 8, "s8");
  x = lk_nn_spec_add_concat (s, "concat", 3, parts);
  x = lk_nn_spec_add_fc (s, "emb_fc", x, 128);
  x = lk_nn_spec_add_l2norm (s, "emb_norm", x);
  lk_nn_spec_add_output (s, "embedding", x);
  return s;
}

/* Multiply-adds × 2 of a training step per image: forward, dW, and dX
 * where the input has a gradient (not for the layers on the image). */
static guint64
train_flops (const LkNnSpec *s)
{
  guint64 f = 0;
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (s); i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (s, i), *in;
      guint64 one;
      gboolean dx = FALSE;
      if (n->op != LK_NN_OP_CONV && n->op != LK_NN_OP_FC)
        continue;
      in = lk_nn_spec_get_node (s, n->inputs[0]);
      one = n->op == LK_NN_OP_CONV
            ? 2ull * n->c * n->h * n->w * in->c * n->kernel_h * n->kernel_w
            : 2ull * n->c * in->c;
      /* Does any conv/fc come before the input? */
      for (guint j = 0; j < n->inputs[0] + 1 && !dx; j++)
        {
          LkNnOp op = lk_nn_spec_get_node (s, j)->op;
          dx = op == LK_NN_OP_CONV || op == LK_NN_OP_FC;
        }
      f += one * (dx ? 3 : 2);
    }
  return f;
}

static void
fill_random (float *x, gsize n, guint32 seed, float lo, float hi)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, lo, hi);
}

/* One training step; returns the mean triplet loss. */
static double
train_step (LkNnNet *net, LkNnSgd *sgd, const float *images, guint batch, double *viol)
{
  const float *inputs[1] = { images };
  double loss;

  lk_nn_net_forward (net, inputs, batch, LK_NN_TRAIN, 0);
  loss = lk_nn_triplet_loss (lk_nn_net_get_output (net, 0), 128, batch / 3, GAP,
                             lk_nn_net_get_output_grad (net, 0), 3.0f / batch, viol);
  lk_nn_net_zero_grad (net);
  lk_nn_net_backward (net);
  if (sgd != NULL)
    lk_nn_sgd_step (sgd, NULL);
  return loss / (batch / 3);
}

static void
print_profile (LkNnNet *net, guint steps, gboolean training)
{
  const LkNnSpec *s = lk_nn_net_get_spec (net);
  LkNnProfile p;
  double total = 0, gemm = 0;
  guint64 flops = 0;

  lk_nn_net_get_profile (net, &p);
  printf ("    per-layer profile (thread 0 of %u, ms per step): forward / backward / of which sgemm "
          "(GFLOP/s)\n", lk_nn_net_get_n_threads (net));
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (s); i++)
    {
      double f = p.forward_s[i] / steps * 1e3, b = p.backward_s[i] / steps * 1e3;
      double g = p.gemm_s[i] / steps * 1e3;
      total += f + b;
      gemm += g;
      flops += p.gemm_flops[i];
      if (f + b < 0.005)
        continue;
      printf ("      %-10s %7.2f %7.2f %7.2f", lk_nn_spec_get_node (s, i)->name, f, b, g);
      if (p.gemm_s[i] > 0)
        printf (" (%.0f)", p.gemm_flops[i] / p.gemm_s[i] / 1e9);
      printf ("\n");
    }
  if (training)
    printf ("      %-10s %7s %7.2f\n", "reduce", "", p.reduce_s / steps * 1e3);
  printf ("      %-10s %7.2f ms in layers, %.2f ms in sgemm (%.0f%%)\n", "total", total, gemm,
          total > 0 ? 100 * gemm / total : 0);
}

typedef struct {
  double images_per_s;
  double engine_gflops;
  double sgemm_gflops;
  double gemm_share;
} Rate;

static void
one_step (LkNnNet *net, LkNnSgd *sgd, const float *images, guint batch, gboolean training)
{
  const float *inputs[1] = { images };
  double viol;

  if (training)
    train_step (net, sgd, images, batch, &viol);
  else
    lk_nn_net_forward (net, inputs, batch, LK_NN_INFERENCE, 0);
}

/* Runs @fn for at least @seconds (and 3 calls), after 2 warm-up calls;
 * then the same again with profiling on to read the sgemm share. */
static Rate
measure (LkNnNet *net, LkNnSgd *sgd, const float *images, guint batch, gboolean training,
         double seconds, guint64 flops_per_image, gboolean show_profile, guint batch_threads)
{
  Rate r = { 0 };
  guint steps = 0;
  double t0, t = 0;
  LkNnProfile p;
  double gemm_s = 0, layer_s = 0;
  guint64 gemm_flops = 0;

  for (guint w = 0; w < 2; w++)
    one_step (net, sgd, images, batch, training);
  t0 = now_s ();
  do
    {
      one_step (net, sgd, images, batch, training);
      steps++;
      t = now_s () - t0;
    }
  while (t < seconds || steps < 3);
  r.images_per_s = steps * (double) batch / t;
  r.engine_gflops = r.images_per_s * flops_per_image / 1e9;

  /* A shorter profiled run for the sgemm rate and the per-layer split. */
  lk_nn_net_set_profiling (net, TRUE);
  steps = 0;
  t0 = now_s ();
  do
    {
      one_step (net, sgd, images, batch, training);
      steps++;
    }
  while (now_s () - t0 < seconds / 3 || steps < 2);
  lk_nn_net_get_profile (net, &p);
  lk_nn_net_set_profiling (net, FALSE);
  for (guint i = 0; i < LK_NN_MAX_NODES; i++)
    {
      gemm_s += p.gemm_s[i];
      gemm_flops += p.gemm_flops[i];
      layer_s += p.forward_s[i] + p.backward_s[i];
    }
  /* Thread 0 did 1/batch_threads of the GEMMs, the others as much at once. */
  r.sgemm_gflops = gemm_s > 0 ? gemm_flops / gemm_s / 1e9 * batch_threads : 0;
  r.gemm_share = layer_s > 0 ? gemm_s / layer_s : 0;
  if (show_profile)
    print_profile (net, steps, training);
  return r;
}

/* Weights, inputs, the engine's loss and gradients, for the PyTorch
 * cross-check: PREFIX.txt describes PREFIX.bin (float32 little-endian:
 * params | images | grads | embedding). */
static gboolean
export_check (const char *prefix, guint side, GError **error)
{
  g_autoptr(LkNnSpec) spec = reference_spec (side);
  g_autoptr(LkNnNet) net = NULL;
  const guint batch = 96;
  gsize n_img = (gsize) batch * 3 * side * side;
  g_autofree float *images = g_new (float, n_img);
  g_autoptr(GString) txt = g_string_new (NULL);
  g_autoptr(GByteArray) bin = g_byte_array_new ();
  g_autofree char *txt_path = g_strconcat (prefix, ".txt", NULL);
  g_autofree char *bin_path = g_strconcat (prefix, ".bin", NULL);
  double loss, viol;
  gsize np;

  net = lk_nn_net_new (spec, batch, 1, 0, error);
  if (net == NULL)
    return FALSE;
  lk_nn_net_init_params (net, 1404);
  /* Non-zero biases, so their gradients and the ReLUs are exercised. */
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (spec, t);
      if (!info->decay)
        fill_random (lk_nn_net_get_params (net) + info->offset, info->size, 77 + t, -0.1f, 0.1f);
    }
  fill_random (images, n_img, 5, 0, 1);
  /* Inference mode: no dropout in this net, and no optimiser step. */
  {
    const float *inputs[1] = { images };
    lk_nn_net_forward (net, inputs, batch, LK_NN_INFERENCE, 0);
    loss = lk_nn_triplet_loss (lk_nn_net_get_output (net, 0), 128, batch / 3, GAP,
                               lk_nn_net_get_output_grad (net, 0), 3.0f / batch, &viol) / (batch / 3);
    lk_nn_net_zero_grad (net);
    lk_nn_net_backward (net);
  }
  np = lk_nn_net_get_n_params (net);
  g_string_append_printf (txt, "side %u\nbatch %u\ngap %.9g\nn_params %" G_GSIZE_FORMAT "\n",
                          side, batch, GAP, np);
  g_string_append_printf (txt, "loss %.9g\nviolating %.9g\n", loss, viol);
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (spec, t);
      g_string_append_printf (txt, "tensor %s %" G_GSIZE_FORMAT " %" G_GSIZE_FORMAT, info->name,
                              info->offset, info->size);
      for (guint d = 0; d < info->rank; d++)
        g_string_append_printf (txt, " %u", info->shape[d]);
      g_string_append (txt, "\n");
    }
  g_byte_array_append (bin, (const guint8 *) lk_nn_net_get_params (net), np * 4);
  g_byte_array_append (bin, (const guint8 *) images, n_img * 4);
  g_byte_array_append (bin, (const guint8 *) lk_nn_net_get_grads (net), np * 4);
  g_byte_array_append (bin, (const guint8 *) lk_nn_net_get_output (net, 0), batch * 128 * 4);
  /* Each max-pool's output and choices, so the check can take the
     engine's ReLU masks and max-pool choices: at ~10⁶ pooling windows a
     few maxima are within float32 rounding of their runner-up, and which
     one wins moves that window's gradient to another pixel in either
     implementation. */
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (spec); i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (spec, i);
      gsize len = (gsize) n->c * n->h * n->w * batch;
      g_autofree float *out = NULL, *argf = NULL;
      g_autofree guint32 *arg = NULL;
      const LkNnNode *conv;
      if (n->op != LK_NN_OP_MAX_POOL)
        continue;
      conv = lk_nn_spec_get_node (spec, lk_nn_spec_get_node (spec, n->inputs[0])->inputs[0]);
      out = g_new (float, len);
      arg = g_new (guint32, len);
      argf = g_new (float, len);
      lk_nn_net_read_node (net, i, out);
      lk_nn_net_read_argmax (net, i, arg);
      for (gsize j = 0; j < len; j++)
        argf[j] = (float) arg[j];
      g_string_append_printf (txt, "pool %s %u %u %u\n", conv->name, n->c, n->h, n->w);
      g_byte_array_append (bin, (const guint8 *) out, len * 4);
      g_byte_array_append (bin, (const guint8 *) argf, len * 4);
    }
  return g_file_set_contents (txt_path, txt->str, txt->len, error) &&
         g_file_set_contents (bin_path, (const char *) bin->data, bin->len, error);
}

static void
print_env (void)
{
  const char *ct = g_getenv ("OPENBLAS_CORETYPE"), *l2 = g_getenv ("OPENBLAS_L2_SIZE");
  printf ("OpenBLAS %s: kernel %s (OPENBLAS_CORETYPE %s, OPENBLAS_L2_SIZE %s)\n",
          openblas_get_config (), lk_blas_describe_kernels (), ct != NULL ? ct : "unset",
          l2 != NULL ? l2 : "unset");
  printf ("RESULT kernel=%s coretype=%s l2=%s\n", openblas_get_corename (),
          ct != NULL ? ct : "unset", l2 != NULL ? l2 : "unset");
}

int
lk_cli_bench_nn (int argc, char **argv)
{
  g_autofree char *threads_arg = NULL, *export_prefix = NULL;
  double seconds = 3;
  int side = 64, train_batch = 96, infer_batch = 256;
  gboolean profile = FALSE, blas_threads = FALSE;
  const GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_STRING, &threads_arg, N_("Thread counts to run (default 1,2)"), N_("LIST") },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, N_("Seconds per measurement (default 3)"), N_("S") },
    { "side", 0, 0, G_OPTION_ARG_INT, &side, N_("Input side in pixels (default 64)"), N_("N") },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &profile, N_("Print where the time goes per layer"), NULL },
    { "blas-threads", 0, 0, G_OPTION_ARG_NONE, &blas_threads,
      N_("Thread OpenBLAS instead of the batch (the other single level), for comparison"), NULL },
    { "export", 0, 0, G_OPTION_ARG_FILENAME, &export_prefix,
      N_("Write weights, inputs and gradients to PREFIX.txt/.bin for the PyTorch check"), N_("PREFIX") },
    { NULL }
  };
  g_auto(GStrv) thread_list = NULL;
  g_autoptr(LkNnSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *images = NULL;
  guint64 fwd_flops, trn_flops;

  if (!lk_cli_parse (&argc, &argv, "", _("Benchmark the neural-network engine"), entries, NULL))
    return LK_EXIT_USAGE;
  if (side < 16 || side > 1024 || seconds <= 0)
    return lk_cli_usage_error (argv[0], _("invalid --side or --seconds"));
  print_env ();
  if (export_prefix != NULL)
    {
      if (!export_check (export_prefix, (guint) side, &error))
        return lk_cli_fail (error);
      printf ("exported weights, inputs and gradients to %s.txt/.bin\n", export_prefix);
    }
  spec = reference_spec ((guint) side);
  fwd_flops = lk_nn_spec_get_flops (spec, 0);
  trn_flops = train_flops (spec);
  printf ("reference net, %d×%d RGB: %" G_GSIZE_FORMAT " parameters, %.1f MFLOP forward and "
          "%.1f MFLOP per trained image\n", side, side, lk_nn_spec_get_n_params (spec),
          fwd_flops / 1e6, trn_flops / 1e6);
  images = g_new (float, (gsize) infer_batch * 3 * side * side);
  fill_random (images, (gsize) infer_batch * 3 * side * side, 5, 0, 1);

  thread_list = g_strsplit (threads_arg != NULL ? threads_arg : "1,2", ",", -1);
  for (guint k = 0; thread_list[k] != NULL; k++)
    {
      guint threads = (guint) g_ascii_strtoull (thread_list[k], NULL, 10);
      g_autoptr(LkNnNet) train = NULL;
      g_autoptr(LkNnNet) infer = NULL;
      g_autoptr(LkNnSgd) sgd = NULL;
      LkNnSgdParams sp;
      Rate tr, in;
      double t0 = now_s (), build_s;

      if (threads == 0 || threads > 64)
        return lk_cli_usage_error (argv[0], _("invalid --threads"));
      LkNnNetFlags level = blas_threads ? LK_NN_NET_BLAS_THREADS : 0;
      train = lk_nn_net_new (spec, (guint) train_batch, threads, level, &error);
      build_s = now_s () - t0;
      if (train == NULL)
        return lk_cli_fail (error);
      lk_nn_net_init_params (train, 1404);
      lk_nn_sgd_params_init (&sp);
      sp.lr = 0.01f;
      sgd = lk_nn_sgd_new (train, &sp);
      printf ("threads %u%s (net built in %.2f s):\n", threads,
              blas_threads ? " in OpenBLAS, the net's own code serial" : " over the batch, OpenBLAS at 1",
              build_s);
      tr = measure (train, sgd, images, (guint) train_batch, TRUE, seconds, trn_flops, profile,
                    blas_threads ? 1 : threads);
      printf ("  training, %d images a step: %.0f images/s, %.1f GFLOP/s; sgemm inside it %.1f "
              "GFLOP/s, %.0f%% of layer time\n", train_batch, tr.images_per_s, tr.engine_gflops,
              tr.sgemm_gflops, 100 * tr.gemm_share);
      g_clear_pointer (&sgd, lk_nn_sgd_free);
      g_clear_pointer (&train, lk_nn_net_free);

      infer = lk_nn_net_new (spec, (guint) infer_batch, threads, LK_NN_NET_NO_BACKWARD | level,
                             &error);
      if (infer == NULL)
        return lk_cli_fail (error);
      lk_nn_net_init_params (infer, 1404);
      in = measure (infer, NULL, images, (guint) infer_batch, FALSE, seconds, fwd_flops, profile,
                    blas_threads ? 1 : threads);
      printf ("  inference, batch %d: %.0f images/s, %.1f GFLOP/s; sgemm inside it %.1f GFLOP/s, "
              "%.0f%% of layer time\n", infer_batch, in.images_per_s, in.engine_gflops,
              in.sgemm_gflops, 100 * in.gemm_share);
      printf ("RESULT side=%s threads=%u train=%.1f infer=%.1f train_gflops=%.1f "
              "infer_gflops=%.1f train_sgemm_gflops=%.1f infer_sgemm_gflops=%.1f\n",
              blas_threads ? "engine-blas-threads" : "engine", threads,
              tr.images_per_s, in.images_per_s, tr.engine_gflops, in.engine_gflops,
              tr.sgemm_gflops, in.sgemm_gflops);
      fflush (stdout);
    }
  return LK_EXIT_OK;
}
