/* test-trainer.c — the trainer:
 *  - the ranking loss and its gradient on values computed by hand, and
 *    through a small network (l2-normalised embedding) by central
 *    differences;
 *  - a short seeded run on a Fashion-MNIST subset whose losses fall in
 *    both stages, by more than four standard errors;
 *  - pausing, stopping and resuming from a checkpoint (in each stage)
 *    continue exactly as an uninterrupted run: the same losses at every
 *    step and the same final weights;
 *  - planning from a time budget leaves no trace (the planned run equals
 *    a run given the same steps); cancelling stops with a checkpoint;
 *  - the softmax loss kept while ranking changes that stage only, and a
 *    checkpoint from before the parameter resumes without it, exactly;
 *  - every ablation trains and the convnet one has no ranking stage;
 *    the sampler is exposed for snapshots while training runs. */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "error.h"
#include "model-store.h"
#include "nn-loss.h"
#include "nn-model-file.h"
#include "nn-net.h"
#include "testutil.h"
#include "trainer-private.h"
#include "trainer.h"

/* ---- the loss ---- */

static void
test_ranking_loss_by_hand (void)
{
  /* Triplet 0: q (1,0), p (0.6,0.8), n (0,1): D(q,p) = 0.8, D(q,n) = 2,
   * hinge max(0, 0.5 + 0.8 − 2) = 0. Triplet 1: q (1,0), p (0,1),
   * n (0.8,0.6): D(q,p) = 2, D(q,n) = 0.4, hinge 0.5 + 2 − 0.4 = 2.1.
   * Mean 1.05; half violate. Gradient of the mean for triplet 1:
   * ∂/∂q = (n − p) = (0.8, −0.4), ∂/∂p = (p − q) = (−1, 1),
   * ∂/∂n = (q − n) = (0.2, −0.6); zero for triplet 0. */
  const float emb[12] = { 1, 0, 1, 0,  0.6f, 0.8f, 0, 1,  0, 1, 0.8f, 0.6f };
  const float want[12] = { 0, 0, 0.8f, -0.4f,  0, 0, -1, 1,  0, 0, 0.2f, -0.6f };
  float grad[12];
  double viol = -1, loss;

  loss = _lk_trainer_ranking_loss (emb, 2, 2, 0.5f, grad, &viol);
  g_assert_cmpfloat_with_epsilon (loss, 1.05, 1e-6);
  g_assert_cmpfloat_with_epsilon (viol, 0.5, 1e-12);
  for (guint i = 0; i < 12; i++)
    g_assert_cmpfloat_with_epsilon (grad[i], want[i], 1e-6);
  /* A gap of 0 leaves triplet 1 only: 1.6 / 2. */
  g_assert_cmpfloat_with_epsilon (_lk_trainer_ranking_loss (emb, 2, 2, 0, grad, NULL), 0.8, 1e-6);
}

/* Through fc → l2norm, the embedding the models use: the analytic
 * weight gradient against central differences (double accumulation of
 * float evaluations, inputs chosen away from hinge kinks). */
static void
test_ranking_loss_gradient (void)
{
  g_autoptr(LkNnSpec) s = lk_nn_spec_new ();
  g_autoptr(LkNnNet) net = NULL;
  g_autoptr(GRand) r = g_rand_new_with_seed (5);
  float x[9 * 6];
  const float *in[1] = { x };
  float *w;
  g_autofree float *grad = NULL;
  guint n_w, checked = 0;
  double worst = 0;
  int v, e;

  v = lk_nn_spec_add_vector (s, "x", 6);
  e = lk_nn_spec_add_fc (s, "fc", v, 4);
  e = lk_nn_spec_add_l2norm (s, "norm", e);
  lk_nn_spec_add_output (s, "embedding", e);
  net = lk_nn_net_new (s, 9, 1, 0, NULL);
  lk_nn_net_init_params (net, 3);
  for (guint i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
  w = lk_nn_net_get_param (net, "fc.weight");
  n_w = 4 * 6;

  lk_nn_net_forward (net, in, 9, LK_NN_TRAIN, 0);
  _lk_trainer_ranking_loss (lk_nn_net_get_output (net, 0), 4, 3, 1.5f,
                            lk_nn_net_get_output_grad (net, 0), NULL);
  lk_nn_net_zero_grad (net);
  lk_nn_net_backward (net);
  grad = g_memdup2 (lk_nn_net_get_grads (net) + (w - lk_nn_net_get_params (net)),
                    n_w * sizeof (float));
  for (guint k = 0; k < n_w; k++)
    {
      const float h = 1e-2f;
      float keep = w[k];
      double up, down, num;
      w[k] = keep + h;
      lk_nn_net_forward (net, in, 9, LK_NN_INFERENCE, 0);
      up = _lk_trainer_ranking_loss (lk_nn_net_get_output (net, 0), 4, 3, 1.5f, NULL, NULL);
      w[k] = keep - h;
      lk_nn_net_forward (net, in, 9, LK_NN_INFERENCE, 0);
      down = _lk_trainer_ranking_loss (lk_nn_net_get_output (net, 0), 4, 3, 1.5f, NULL, NULL);
      w[k] = keep;
      num = (up - down) / (2 * h);
      if (fabs (num) < 1e-3 && fabs (grad[k]) < 1e-3)
        continue;
      worst = MAX (worst, fabs (num - grad[k]) / MAX (fabs (num), fabs (grad[k])));
      checked++;
    }
  g_test_message ("%u weight gradients checked, worst relative error %.2g", checked, worst);
  g_assert_cmpuint (checked, >, n_w / 2);
  g_assert_cmpfloat (worst, <, 2e-2);
}

/* ---- runs on real data ---- */

static LkCollection *
fashion_mnist (void)
{
  static LkCollection *c;
  const char *dir = lk_test_fashion_mnist_dir ();
  g_autoptr(GError) error = NULL;

  if (dir == NULL)
    return NULL;
  if (c == NULL)
    {
      c = lk_collection_open_fashion_mnist (dir, NULL, &error);
      g_assert_no_error (error);
    }
  return lk_collection_ref (c);
}

static void
small_params (LkTrainParams *p, guint64 pretrain, guint64 ranking)
{
  lk_train_params_init (p, LK_PRESET_TINY);
  p->max_images = 1500;
  p->pretrain_steps = pretrain;
  p->ranking_steps = ranking;
  p->pretrain_batch = 32;
  p->ranking_batch = 16;
  p->sampler.buffer_size = 64;
  p->n_threads = 2;
  p->seed = 7;
  p->embed_when_done = FALSE;
  /* The paper's ranking values rather than tiny's (gap 0.2, 90%
   * out-of-class negatives, which a pre-trained net mostly satisfies
   * already): in-class triplets leave a short run something to learn
   * that the loss-falls test can measure. */
  p->gap = 0.5f;
  p->sampler.out_of_class_share = 0.2f;
  p->ranking_lr = 0.01f;   /* tiny's 0.0005 keeps a pre-trained net as it is */
}

static GArray *
run_to_end (LkCollection *c, const char *name, const LkTrainParams *p)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = lk_trainer_new (c, name, p, &error);

  g_assert_no_error (error);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_FINISHED);
  return lk_trainer_dup_history (t);
}

/* Least squares of the losses of points [a, b) on their step: the
 * slope and its t statistic (slope / standard error). */
static double
slope_t (GArray *h, guint a, guint b, double *slope)
{
  double n = b - a, sx = 0, sy = 0, sxx = 0, sxy = 0, rss = 0, bx, c0;
  for (guint i = a; i < b; i++)
    {
      double x = i, y = g_array_index (h, LkTrainPoint, i).loss;
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
  bx = (sxy - sx * sy / n) / (sxx - sx * sx / n);
  c0 = (sy - bx * sx) / n;
  for (guint i = a; i < b; i++)
    {
      double r = g_array_index (h, LkTrainPoint, i).loss - (c0 + bx * i);
      rss += r * r;
    }
  *slope = bx;
  return bx / sqrt (rss / (n - 2) / (sxx - sx * sx / n));
}

static double
mean_loss_of (const double *v, guint n)
{
  double s = 0;
  for (guint i = 0; i < n; i++)
    s += v[i];
  return s / n;
}

static double
mean_loss (GArray *h, guint a, guint b)
{
  double s = 0;
  for (guint i = a; i < b; i++)
    s += g_array_index (h, LkTrainPoint, i).loss;
  return s / (b - a);
}

/* Per triplet hinge of @t (collection indices) under model @name. */
static void
hinges (LkCollection *c, const char *name, const LkTriplet *t, guint n, float gap, double *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkModel) m = lk_model_open (c, name, &error);
  g_autoptr(LkEmbedder) e = NULL;
  g_autofree guint32 *idx = g_new (guint32, 3 * n);
  g_autofree float *rows = NULL;
  guint dim;

  g_assert_no_error (error);
  e = lk_model_new_embedder (m, c, 2, &error);
  g_assert_no_error (error);
  dim = lk_model_get_dim (m);
  rows = g_new (float, (gsize) 3 * n * dim);
  for (guint i = 0; i < n; i++)
    {
      idx[i] = t[i].query;
      idx[n + i] = t[i].positive;
      idx[2 * n + i] = t[i].negative;
    }
  g_assert_true (lk_embedder_embed_images (e, c, idx, 3 * n, rows, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      double dp = 0, dn = 0;
      for (guint k = 0; k < dim; k++)
        {
          double q = rows[(gsize) i * dim + k], pp = rows[(gsize) (n + i) * dim + k];
          double nn = rows[(gsize) (2 * n + i) * dim + k];
          dp += (q - pp) * (q - pp);
          dn += (q - nn) * (q - nn);
        }
      out[i] = MAX (0, gap + dp - dn);
    }
}

static void
test_loss_falls (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GArray) h = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) tr = NULL;
  g_autofree char *at_start = NULL;
  const guint P = 100, R = 120, W = 15, N = 600;
  LkTriplet t[600];
  double before[600], after[600], mean = 0, var = 0, slope, tv;
  const guint32 *images;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, P, R);
  p.checkpoint_steps = P;   /* the weights the ranking stage starts from */
  tr = lk_trainer_new (c, "falls", &p, &error);
  g_assert_no_error (error);
  g_assert_true (lk_trainer_run (tr, NULL, &error));
  g_assert_no_error (error);
  h = lk_trainer_dup_history (tr);
  g_assert_cmpuint (h->len, ==, P + R);
  for (guint i = 0; i < P + R; i++)
    {
      g_assert_cmpuint (g_array_index (h, LkTrainPoint, i).step, ==, i + 1);
      g_assert_cmpuint (g_array_index (h, LkTrainPoint, i).stage, ==,
                        i < P ? LK_TRAIN_STAGE_PRETRAIN : LK_TRAIN_STAGE_RANKING);
    }
  /* Pre-training: the least-squares slope of loss on step is negative by
   * more than four standard errors (P < 1e-4 were it flat), and the
   * last steps average below the first. */
  tv = slope_t (h, 0, P, &slope);
  g_test_message ("pre-training: loss %.3f over the first %u steps, %.3f over the last; "
                  "slope %.4f per step, t = %.1f", mean_loss (h, 0, W), W,
                  mean_loss (h, P - W, P), slope, tv);
  g_assert_cmpfloat (tv, <, -4);
  g_assert_cmpfloat (mean_loss (h, P - W, P), <, mean_loss (h, 0, W));

  /* Ranking: a step's loss is noisy (dropout, and each batch new
   * triplets), so measure it on N fresh triplets of the same sampler,
   * without dropout, with the weights the stage started from and ended
   * with: the paired difference is positive by four standard errors. */
  g_assert_true (lk_sampler_next_batch (lk_trainer_get_sampler (tr), t, N, &error));
  g_assert_no_error (error);
  images = lk_trainer_get_images (tr, NULL);
  for (guint i = 0; i < N; i++)
    t[i] = (LkTriplet) { images[t[i].query], images[t[i].positive], images[t[i].negative] };
  at_start = g_strdup_printf ("falls@%u", P);
  hinges (c, at_start, t, N, p.gap, before);
  hinges (c, "falls", t, N, p.gap, after);
  for (guint i = 0; i < N; i++)
    mean += (before[i] - after[i]) / N;
  for (guint i = 0; i < N; i++)
    var += (before[i] - after[i] - mean) * (before[i] - after[i] - mean) / (N - 1);
  g_test_message ("ranking: mean hinge on %u fresh triplets %.4f at the start of the stage, "
                  "%.4f at its end; difference %.4f ± %.4f", N, mean_loss_of (before, N),
                  mean_loss_of (after, N), mean, sqrt (var / N));
  g_assert_cmpfloat (mean, >, 4 * sqrt (var / N));
}

static void
assert_same_history (GArray *a, GArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      const LkTrainPoint *x = &g_array_index (a, LkTrainPoint, i);
      const LkTrainPoint *y = &g_array_index (b, LkTrainPoint, i);
      g_assert_cmpuint (x->step, ==, y->step);
      g_assert_cmpuint (x->stage, ==, y->stage);
      /* Deterministic by design; the tolerance only allows for a
       * different summation order should a kernel change. */
      g_assert_cmpfloat_with_epsilon (x->loss, y->loss, 1e-5 * MAX (1, fabs (x->loss)));
      g_assert_cmpfloat_with_epsilon (x->violation, y->violation, 1e-6);
    }
}

static void
assert_same_weights (LkCollection *c, const char *a, const char *b)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkModel) ma = lk_model_open (c, a, &error);
  g_autoptr(LkModel) mb = NULL;
  gsize n;
  const float *wa, *wb;
  double worst = 0;

  g_assert_no_error (error);
  mb = lk_model_open (c, b, &error);
  g_assert_no_error (error);
  n = lk_nn_spec_get_n_params (lk_model_get_spec (ma));
  g_assert_cmpuint (n, ==, lk_nn_spec_get_n_params (lk_model_get_spec (mb)));
  wa = lk_nn_model_get_params (lk_model_get_file (ma));
  wb = lk_nn_model_get_params (lk_model_get_file (mb));
  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs (wa[i] - wb[i]));
  g_test_message ("final weights of %s and %s: largest difference %.3g", a, b, worst);
  g_assert_cmpfloat (worst, <=, 1e-6);
}

typedef struct {
  LkTrainer *trainer;
  guint64    at;          /* act when this many steps are done */
  gboolean   pause;       /* pause (and resume from another thread) instead of stopping */
  gboolean   acted;
  gboolean   saw_paused;
  gboolean   saw_eta;
  gboolean   saw_sampler;
  GThread   *resumer;
} Interrupt;

static gpointer
resume_later (gpointer data)
{
  Interrupt *i = data;
  g_usleep (200000);
  /* Still paused a moment later: pausing holds. */
  g_assert_cmpint (lk_trainer_get_state (i->trainer), ==, LK_TRAINER_PAUSED);
  lk_trainer_resume (i->trainer);
  return NULL;
}

static void
on_progress (const LkTrainProgress *p, gpointer user_data)
{
  Interrupt *i = user_data;

  if (p->state == LK_TRAINER_PAUSED)
    i->saw_paused = TRUE;
  /* Steps were given, not minutes: an ETA all the same, from the
   * pre-training steps timed so far. */
  if (p->stage == LK_TRAIN_STAGE_PRETRAIN && p->stage_step >= 3 && p->eta_s > 0)
    i->saw_eta = TRUE;
  if (p->stage == LK_TRAIN_STAGE_RANKING && lk_trainer_get_sampler (i->trainer) != NULL)
    {
      /* What the Buffers view does while training runs. */
      g_autoptr(LkSamplerSnapshot) snap = lk_sampler_snapshot (lk_trainer_get_sampler (i->trainer));
      i->saw_sampler = snap != NULL && snap->n_categories == 10;
    }
  if (i->acted || p->step != i->at || p->state != LK_TRAINER_RUNNING)
    return;
  i->acted = TRUE;
  if (i->pause)
    {
      lk_trainer_pause (i->trainer);
      i->resumer = g_thread_new ("resume", resume_later, i);
    }
  else
    lk_trainer_stop (i->trainer);
}

/* Runs @name, interrupted at @at (paused, or stopped and resumed from
 * its checkpoint in a new trainer), to the end. */
static GArray *
run_interrupted (LkCollection *c, const char *name, const LkTrainParams *p, guint64 at,
                 gboolean pause)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = lk_trainer_new (c, name, p, &error);
  Interrupt i = { t, at, pause };

  g_assert_no_error (error);
  lk_trainer_set_progress_func (t, on_progress, &i, NULL);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (i.acted);
  if (pause)
    {
      g_thread_join (i.resumer);
      g_assert_true (i.saw_paused);
      g_assert_true (i.saw_eta);
      g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_FINISHED);
      return lk_trainer_dup_history (t);
    }
  {
    LkTrainProgress pr;
    g_autoptr(LkTrainer) r = NULL;
    g_autoptr(GArray) before = lk_trainer_dup_history (t);

    g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_STOPPED);
    lk_trainer_get_progress (t, &pr);
    g_assert_cmpuint (pr.step, ==, at);
    g_assert_cmpuint (pr.checkpoint_step, ==, at);
    g_assert_cmpuint (before->len, ==, at);
    g_clear_pointer (&t, lk_trainer_unref);   /* gone, as a killed process would be */

    r = lk_trainer_new_resume (c, name, &error);
    g_assert_no_error (error);
    /* It starts with the history it had. */
    {
      g_autoptr(GArray) h = lk_trainer_dup_history (r);
      g_assert_cmpuint (h->len, ==, at);
    }
    g_assert_true (lk_trainer_run (r, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (lk_trainer_get_state (r), ==, LK_TRAINER_FINISHED);
    return lk_trainer_dup_history (r);
  }
}

static void
test_resume_exact (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GArray) whole = NULL, paused = NULL, stop_pre = NULL, stop_rank = NULL;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, 12, 12);
  p.max_shift = 2;
  whole = run_to_end (c, "whole", &p);
  paused = run_interrupted (c, "paused", &p, 17, TRUE);
  assert_same_history (whole, paused);
  stop_pre = run_interrupted (c, "stop-pre", &p, 5, FALSE);
  assert_same_history (whole, stop_pre);
  stop_rank = run_interrupted (c, "stop-rank", &p, 18, FALSE);
  assert_same_history (whole, stop_rank);
  assert_same_weights (c, "whole", "stop-pre");
  assert_same_weights (c, "whole", "stop-rank");
  assert_same_weights (c, "whole", "paused");
}

/* Checkpoints at the stage boundary (step 12 of 12 + 12) resume into the
 * ranking stage with its own optimiser settings. */
static void
test_resume_at_boundary (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GArray) whole = NULL, resumed = NULL;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, 12, 6);
  whole = run_to_end (c, "b-whole", &p);
  resumed = run_interrupted (c, "b-resumed", &p, 12, FALSE);
  assert_same_history (whole, resumed);
  assert_same_weights (c, "b-whole", "b-resumed");
}

/* Rewrites checkpoint @path without the metadata keys @drop (NULL-ended):
 * a checkpoint written before those parameters existed. */
static void
drop_metadata (const char *path, const char *const *drop)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkNnModel) m = lk_nn_model_load (path, &error);
  g_autoptr(GHashTable) md = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GBytes) history = NULL;
  g_autofree const char **keys = NULL;
  LkNnSgdParams sp;
  LkNnSgd *sgd;
  LkNnNet *net;
  LkNnBlob blob = { "history", NULL, 0 };

  g_assert_no_error (error);
  net = lk_nn_model_new_net (m, 1, 1, 0, &error);
  g_assert_no_error (error);
  lk_nn_sgd_params_init (&sp);
  sgd = lk_nn_sgd_new (net, &sp);
  g_assert_true (lk_nn_model_restore (m, net, sgd, &error));
  keys = lk_nn_model_get_metadata_keys (m);
  for (guint i = 0; keys[i] != NULL; i++)
    if (!g_strv_contains (drop, keys[i]))
      g_hash_table_insert (md, (char *) keys[i], (char *) lk_nn_model_get_metadata (m, keys[i]));
  for (guint i = 0; drop[i] != NULL; i++)
    g_assert_nonnull (lk_nn_model_get_metadata (m, drop[i]));
  history = lk_nn_model_get_blob (m, "history");
  g_assert_nonnull (history);
  blob.data = g_bytes_get_data (history, &blob.size);
  g_assert_true (lk_nn_model_save (path, net, &(LkNnSaveOptions) { md, sgd, &blob, 1 }, &error));
  g_assert_no_error (error);
  lk_nn_sgd_free (sgd);
  lk_nn_net_free (net);
}

/* The softmax loss kept while ranking (ranking_softmax) changes the
 * ranking stage and nothing before it; a checkpoint from before the
 * parameter (and shallow_init) existed resumes as the paper's ranking
 * loss alone, exactly as a run of today with both at their old values. */
static void
test_ranking_softmax (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GArray) off = NULL, on = NULL, old = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkModelInfo) info = NULL;
  const char *const drop[] = { "param.ranking_softmax", "param.shallow_init", NULL };
  guint differ = 0;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, 6, 6);
  g_assert_cmpfloat (p.ranking_softmax, ==, 0);
  g_assert_cmpfloat (p.shallow_init, ==, 1);
  off = run_to_end (c, "rs-off", &p);
  p.ranking_softmax = 1;
  on = run_to_end (c, "rs-on", &p);
  g_assert_cmpuint (off->len, ==, 12);
  g_assert_cmpuint (on->len, ==, 12);
  /* The same until the first ranking update (its loss is measured before
   * it), then a different descent. */
  for (guint i = 0; i < 12; i++)
    {
      double a = g_array_index (off, LkTrainPoint, i).loss, b = g_array_index (on, LkTrainPoint, i).loss;
      if (i <= 6)
        g_assert_cmpfloat (a, ==, b);
      else
        differ += fabs (a - b) > 1e-4 * MAX (1, fabs (a));
    }
  g_assert_cmpuint (differ, >=, 4);

  /* Stopped at step 9, its checkpoint stripped of the new keys. */
  p.ranking_softmax = 0;
  {
    g_autoptr(LkTrainer) t = lk_trainer_new (c, "rs-old", &p, &error);
    Interrupt i = { t, 9, FALSE };
    g_assert_no_error (error);
    lk_trainer_set_progress_func (t, on_progress, &i, NULL);
    g_assert_true (lk_trainer_run (t, NULL, &error));
    g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_STOPPED);
  }
  info = lk_model_store_get (c, "rs-old", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->checkpoints->len, >=, 1);
  drop_metadata (((LkCheckpointInfo *) g_ptr_array_index (info->checkpoints,
                                                          info->checkpoints->len - 1))->path,
                 drop);
  {
    g_autoptr(LkTrainer) r = lk_trainer_new_resume (c, "rs-old", &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (lk_trainer_get_params (r)->ranking_softmax, ==, 0);
    g_assert_cmpfloat (lk_trainer_get_params (r)->shallow_init, ==, 1);
    g_assert_true (lk_trainer_run (r, NULL, &error));
    g_assert_no_error (error);
    old = lk_trainer_dup_history (r);
  }
  assert_same_history (off, old);
  assert_same_weights (c, "rs-off", "rs-old");
}

static void
test_plan_leaves_no_trace (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  g_autoptr(GArray) planned = NULL, given = NULL;
  LkTrainProgress pr;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, 0, 0);
  p.budget_seconds = 6;
  t = lk_trainer_new (c, "planned", &p, &error);
  g_assert_no_error (error);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  lk_trainer_get_progress (t, &pr);
  planned = lk_trainer_dup_history (t);
  g_test_message ("a 6 s budget planned %" G_GUINT64_FORMAT " steps, %u done in %.1f s",
                  pr.total_steps, planned->len, pr.elapsed_s);
  g_assert_cmpuint (pr.total_steps, >=, 2);
  /* The budget caps the time (with one step of slack). */
  g_assert_cmpfloat (pr.elapsed_s, <, 6 + 3);

  /* The same steps given outright: the same losses at every step. */
  {
    g_autoptr(LkModel) m = lk_model_open (c, "planned", &error);
    g_assert_no_error (error);
    small_params (&p, 0, 0);
    p.pretrain_steps = g_ascii_strtoull (lk_model_get_metadata (m, "train.pretrain.planned"),
                                         NULL, 10);
    p.ranking_steps = g_ascii_strtoull (lk_model_get_metadata (m, "train.ranking.planned"),
                                        NULL, 10);
    g_assert_cmpuint (p.pretrain_steps + p.ranking_steps, ==, pr.total_steps);
    g_assert_cmpuint (p.pretrain_steps, >, 0);
    g_assert_cmpuint (p.ranking_steps, >, 0);
    if (lk_model_get_metadata (m, "train.pretrain.cut_from") != NULL)
      {
        /* A busy machine: pre-training was cut at its deadline, its
         * rate schedule that of the longer plan. */
        g_test_message ("pre-training cut at its deadline; compared nothing");
        return;
      }
  }
  if (planned->len < pr.total_steps)
    {
      /* A busy machine: the budget ran out before the plan. */
      g_test_message ("stopped by the budget before the plan's end; compared nothing");
      return;
    }
  given = run_to_end (c, "given", &p);
  assert_same_history (planned, given);
}

static guint
count_stage (GArray *history, LkTrainStage stage)
{
  guint n = 0;
  for (guint i = 0; i < history->len; i++)
    n += g_array_index (history, LkTrainPoint, i).stage == stage;
  return n;
}

/* The pre-training steps a budget run planned (before any cut), from
 * its model card. */
static guint64
planned_pretraining (LkModel *m)
{
  const char *cut_from = lk_model_get_metadata (m, "train.pretrain.cut_from");
  return g_ascii_strtoull (cut_from != NULL ? cut_from
                                            : lk_model_get_metadata (m, "train.pretrain.planned"),
                           NULL, 10);
}

/* A budget run whose pre-training steps run much slower than the ones
 * timed for its plan (here three times as long, as on a machine that got
 * busy) still ranks: pre-training ends at its share of the time and the
 * ranking stage gets the rest. Before, the plan's pre-training steps ate
 * the whole budget (1.5 times it) and the run ended without a single
 * ranking step. The figures are the machine's; the slowdown is relative,
 * so the outcome is not. */
static void
test_budget_slow_pretraining (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  g_autoptr(LkModel) m = NULL;
  g_autoptr(GArray) history = NULL;
  LkTrainProgress pr;
  LkTrainParams p;
  guint pretrain, ranking;
  const char *cut_from;

  if (c == NULL)
    return;
  small_params (&p, 0, 0);
  p.budget_seconds = 10;
  p.pretrain_share = 0.5f;
  t = lk_trainer_new (c, "slow", &p, &error);
  g_assert_no_error (error);
  _lk_trainer_set_pretrain_slowdown (t, 3);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  lk_trainer_get_progress (t, &pr);
  history = lk_trainer_dup_history (t);
  pretrain = count_stage (history, LK_TRAIN_STAGE_PRETRAIN);
  ranking = count_stage (history, LK_TRAIN_STAGE_RANKING);
  m = lk_model_open (c, "slow", &error);
  g_assert_no_error (error);
  cut_from = lk_model_get_metadata (m, "train.pretrain.cut_from");
  g_test_message ("10 s budget: %u pre-training steps (plan %s), %u ranking steps, %.1f s",
                  pretrain, cut_from != NULL ? cut_from : "not cut", ranking, pr.elapsed_s);
  if (planned_pretraining (m) < 6)
    {
      /* Preparing took most of the budget (a very busy machine). */
      g_test_message ("too few steps planned to slow down; checked nothing");
      return;
    }
  g_assert_nonnull (cut_from);
  g_assert_cmpuint (g_ascii_strtoull (cut_from, NULL, 10), >, pretrain);
  g_assert_cmpuint (ranking, >=, 2);
  g_assert_cmpfloat (pr.elapsed_s, <, 10 + 3);
}

/* Stops a run at pre-training step @at. Not run_interrupted(), which
 * asserts that the stop lands: a budget's plan can be shorter than that
 * on a busy machine, and this test then says it checked nothing. */
typedef struct {
  LkTrainer *trainer;
  guint64    at;
  gboolean   acted;
} StopAt;

static void
stop_at (const LkTrainProgress *p, gpointer data)
{
  StopAt *s = data;

  if (!s->acted && p->step >= s->at && p->stage == LK_TRAIN_STAGE_PRETRAIN
      && p->state == LK_TRAINER_RUNNING)
    {
      s->acted = TRUE;
      lk_trainer_stop (s->trainer);
    }
}

/* The same, stopped after 2 pre-training steps and continued from its
 * checkpoint in a new trainer: the deadline is the checkpoint's, so the
 * continued run still cuts pre-training and ranks (without it, the
 * continued run pre-trained to its plan's end and the budget ran out). */
static void
test_budget_slow_pretraining_resumed (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL, r = NULL;
  g_autoptr(LkModel) m = NULL;
  g_autoptr(GArray) history = NULL;
  LkTrainParams p;
  StopAt s = { NULL, 2, FALSE };
  guint ranking;

  if (c == NULL)
    return;
  small_params (&p, 0, 0);
  p.budget_seconds = 10;
  p.pretrain_share = 0.5f;
  t = lk_trainer_new (c, "slow-resumed", &p, &error);
  g_assert_no_error (error);
  s.trainer = t;
  lk_trainer_set_progress_func (t, stop_at, &s, NULL);
  _lk_trainer_set_pretrain_slowdown (t, 3);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  if (!s.acted)
    {
      /* Its plan ended before step 2 (preparing took the budget). */
      g_test_message ("too few steps planned to stop in; checked nothing");
      return;
    }
  g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_STOPPED);
  g_clear_pointer (&t, lk_trainer_unref);

  r = lk_trainer_new_resume (c, "slow-resumed", &error);
  g_assert_no_error (error);
  _lk_trainer_set_pretrain_slowdown (r, 3);
  g_assert_true (lk_trainer_run (r, NULL, &error));
  g_assert_no_error (error);
  history = lk_trainer_dup_history (r);
  ranking = count_stage (history, LK_TRAIN_STAGE_RANKING);
  m = lk_model_open (c, "slow-resumed", &error);
  g_assert_no_error (error);
  g_test_message ("continued: %u steps, %u ranking, plan cut from %s", history->len, ranking,
                  lk_model_get_metadata (m, "train.pretrain.cut_from"));
  if (planned_pretraining (m) < 6)
    {
      g_test_message ("too few steps planned to slow down; checked nothing");
      return;
    }
  g_assert_nonnull (lk_model_get_metadata (m, "train.pretrain.cut_from"));
  g_assert_cmpuint (ranking, >=, 2);
}

static void
test_cancel (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(LkModelInfo) info = NULL;
  LkTrainParams p;
  LkTrainProgress pr;

  if (c == NULL)
    return;
  small_params (&p, 100000, 0);
  t = lk_trainer_new (c, "cancelled", &p, &error);
  g_assert_no_error (error);
  g_assert_true (lk_trainer_start (t, cancellable, &error));
  do
    {
      g_usleep (20000);
      lk_trainer_get_progress (t, &pr);
    }
  while (pr.step < 3);
  g_cancellable_cancel (cancellable);
  g_assert_true (lk_trainer_wait (t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_STOPPED);
  lk_trainer_get_progress (t, &pr);
  /* Within one batch of the cancel. */
  g_assert_cmpuint (pr.step, <, 100000);
  info = lk_model_store_get (c, "cancelled", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->checkpoints->len, ==, 1);
  g_assert_cmpuint (((LkCheckpointInfo *) info->checkpoints->pdata[0])->step, ==, pr.step);
  g_assert_nonnull (info->model_path);
}

static void
test_ablations (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();

  if (c == NULL)
    return;
  for (guint a = 0; a < LK_N_ABLATIONS; a++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LkTrainer) t = NULL;
      g_autoptr(GArray) h = NULL;
      g_autoptr(LkModel) m = NULL;
      g_autofree char *name = g_strdup_printf ("abl-%s", lk_ablation_name (a));
      Interrupt i = { NULL, G_MAXUINT64, FALSE };
      LkTrainParams p;

      small_params (&p, 3, 3);
      p.ablation = a;
      t = lk_trainer_new (c, name, &p, &error);
      g_assert_no_error (error);
      i.trainer = t;
      lk_trainer_set_progress_func (t, on_progress, &i, NULL);
      g_assert_true (lk_trainer_run (t, NULL, &error));
      g_assert_no_error (error);
      h = lk_trainer_dup_history (t);
      g_assert_cmpuint (h->len, ==, a == LK_ABLATION_CONVNET ? 3 : 6);
      g_assert_cmpint (i.saw_sampler, ==, a != LK_ABLATION_CONVNET);
      g_assert_cmpint (lk_trainer_get_sampler (t) != NULL, ==, a != LK_ABLATION_CONVNET);
      m = lk_model_open (c, name, &error);
      g_assert_no_error (error);
      g_assert_cmpint (lk_model_get_ablation (m), ==, a);
    }
}

/* Largest difference between the tensors of models @a and @b that the
 * classifier uses (@logits) or the others (!@logits). */
static double
tensor_difference (LkCollection *c, const char *a, const char *b, gboolean logits)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkModel) ma = lk_model_open (c, a, &error);
  g_autoptr(LkModel) mb = NULL;
  const LkNnSpec *sa, *sb;
  gboolean needed[LK_NN_MAX_NODES];
  const float *wa, *wb;
  double worst = 0;
  guint compared = 0;

  g_assert_no_error (error);
  mb = lk_model_open (c, b, &error);
  g_assert_no_error (error);
  sa = lk_model_get_spec (ma);
  sb = lk_model_get_spec (mb);
  wa = lk_nn_model_get_params (lk_model_get_file (ma));
  wb = lk_nn_model_get_params (lk_model_get_file (mb));
  lk_nn_spec_get_needed (sa, 1u << LK_MODEL_OUTPUT_LOGITS, needed);
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (sa); t++)
    {
      const LkNnTensorInfo *ta = lk_nn_spec_get_tensor (sa, t);
      g_autofree char *node = g_strndup (ta->name, strcspn (ta->name, "."));
      int n = lk_nn_spec_find_node (sa, node), u = lk_nn_spec_find_tensor (sb, ta->name);
      g_assert_cmpint (n, >=, 0);
      if (needed[n] != logits)
        continue;
      g_assert_cmpint (u, >=, 0);
      g_assert_cmpuint (lk_nn_spec_get_tensor (sb, u)->size, ==, ta->size);
      for (gsize i = 0; i < ta->size; i++)
        worst = MAX (worst, fabs (wa[ta->offset + i] - wb[lk_nn_spec_get_tensor (sb, u)->offset + i]));
      compared++;
    }
  g_assert_cmpuint (compared, >, 0);
  return worst;
}

/* lk_trainer_new_from(): a model that starts from another's pre-trained
 * network skips pre-training (its history is the base's), ranks from that
 * network and says where it came from; a base that does not exist, of
 * other images or of another preset is refused. */
static void
test_from (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GArray) whole = NULL, base = NULL, from = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  g_autoptr(LkModel) m = NULL;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, 10, 6);
  whole = run_to_end (c, "from-whole", &p);
  p.ranking_steps = 0;
  p.ablation = LK_ABLATION_CONVNET;
  base = run_to_end (c, "from-base", &p);
  g_assert_cmpuint (base->len, ==, 10);

  p.ranking_steps = 6;
  p.ablation = LK_ABLATION_DEEP_RANKING;
  t = lk_trainer_new_from (c, "from-ranked", &p, "from-base", &error);
  g_assert_no_error (error);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_FINISHED);
  from = lk_trainer_dup_history (t);
  g_assert_cmpuint (from->len, ==, 16);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpfloat (g_array_index (from, LkTrainPoint, i).loss, ==,
                       g_array_index (base, LkTrainPoint, i).loss);
  for (guint i = 10; i < 16; i++)
    g_assert_cmpint (g_array_index (from, LkTrainPoint, i).stage, ==, LK_TRAIN_STAGE_RANKING);
  m = lk_model_open (c, "from-ranked", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lk_nn_model_get_metadata (lk_model_get_file (m), "train.from"), ==, "from-base");
  /* The classifier's layers are the base's, moved a little by six
   * ranking steps: far closer to them than to those of a network that
   * pre-trained from another start (from-whole). */
  {
    double to_base = tensor_difference (c, "from-ranked", "from-base", TRUE);
    double to_other = tensor_difference (c, "from-ranked", "from-whole", TRUE);
    g_test_message ("classifier layers: %.3g from the base's, %.3g from another run's",
                    to_base, to_other);
    g_assert_cmpfloat (to_base, >, 0);
    g_assert_cmpfloat (to_base, <, 0.1 * to_other);
  }
  g_clear_pointer (&t, lk_trainer_unref);

  /* Refusals. */
  g_assert_null (lk_trainer_new_from (c, "from-x", &p, "no-such-model", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  p.max_images = 1400;
  g_assert_null (lk_trainer_new_from (c, "from-x", &p, "from-base", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
  g_clear_error (&error);
  p.max_images = 1500;
  p.preset = LK_PRESET_PHOTO;
  g_assert_null (lk_trainer_new_from (c, "from-x", &p, "from-base", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
}

/* The model folder is one run's at a time: while another run (here an
 * flock() on its .lock, as another process would hold it) trains a name,
 * a run of that name fails with a message and touches nothing; once it is
 * gone the name trains, and a finished model leaves no .lock behind. */
static void
test_folder_lock (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL, *lock = NULL, *ckpts = NULL;
  LkTrainParams p;
  int fd;

  if (c == NULL)
    return;
  small_params (&p, 2, 0);
  dir = lk_model_store_dir_for (c, "locked");
  lock = g_build_filename (dir, ".lock", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  fd = g_open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
  ckpts = g_build_filename (dir, "checkpoints", NULL);
  g_assert_cmpint (g_mkdir_with_parents (ckpts, 0755), ==, 0);   /* the other run's, empty yet */
  {
    g_autoptr(LkTrainer) t = lk_trainer_new (c, "locked", &p, &error);
    g_assert_no_error (error);
    g_assert_false (lk_trainer_run (t, NULL, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "another run"));
    g_clear_error (&error);
    g_assert_true (g_file_test (lock, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_test (ckpts, G_FILE_TEST_IS_DIR));
    g_assert_false (lk_model_store_has_model (c, "locked"));
  }
  close (fd);   /* that run is over (or its process died) */
  {
    g_autoptr(LkTrainer) t = lk_trainer_new (c, "locked", &p, &error);
    g_assert_no_error (error);
    g_assert_true (lk_trainer_run (t, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_true (lk_model_store_has_model (c, "locked"));
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));

  /* Two runs that both took a name while it was free: the second to run
   * finds the first's model under the lock, fails and leaves it as is. */
  {
    g_autoptr(LkTrainer) first = lk_trainer_new (c, "raced", &p, &error);
    g_autoptr(LkTrainer) second = lk_trainer_new (c, "raced", &p, &error);
    g_autoptr(LkModelInfo) before = NULL, after = NULL;
    g_assert_no_error (error);
    g_assert_true (lk_trainer_run (first, NULL, &error));
    g_assert_no_error (error);
    before = lk_model_store_get (c, "raced", &error);
    g_assert_no_error (error);
    g_assert_false (lk_trainer_run (second, NULL, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "exists already"));
    g_clear_error (&error);
    after = lk_model_store_get (c, "raced", &error);
    g_assert_no_error (error);
    g_assert_nonnull (after->model_path);
    g_assert_cmpuint (after->checkpoints->len, ==, before->checkpoints->len);
  }
}

static void
test_bad_input (void)
{
  g_autoptr(LkCollection) c = fashion_mnist ();
  g_autoptr(GError) error = NULL;
  LkTrainParams p;

  if (c == NULL)
    return;
  small_params (&p, 1, 1);
  g_assert_null (lk_trainer_new (c, "../up", &p, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_clear_error (&error);
  p.keep = 0;
  g_assert_null (lk_trainer_new (c, "fine", &p, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (lk_trainer_new_resume (c, "never-trained", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/trainer/ranking-loss/by-hand", test_ranking_loss_by_hand);
  g_test_add_func ("/engine/trainer/ranking-loss/gradient", test_ranking_loss_gradient);
  g_test_add_func ("/engine/trainer/bad-input", test_bad_input);
  g_test_add_func ("/engine/trainer/loss-falls", test_loss_falls);
  g_test_add_func ("/engine/trainer/resume-exact", test_resume_exact);
  g_test_add_func ("/engine/trainer/resume-at-boundary", test_resume_at_boundary);
  g_test_add_func ("/engine/trainer/ranking-softmax", test_ranking_softmax);
  g_test_add_func ("/engine/trainer/plan", test_plan_leaves_no_trace);
  g_test_add_func ("/engine/trainer/budget-slow-pretraining", test_budget_slow_pretraining);
  g_test_add_func ("/engine/trainer/budget-slow-pretraining-resumed",
                   test_budget_slow_pretraining_resumed);
  g_test_add_func ("/engine/trainer/cancel", test_cancel);
  g_test_add_func ("/engine/trainer/ablations", test_ablations);
  g_test_add_func ("/engine/trainer/from", test_from);
  g_test_add_func ("/engine/trainer/folder-lock", test_folder_lock);
  return g_test_run ();
}
