/* test-sampler.c — statistical tests of the online triplet sampler:
 * reservoir inclusion probabilities against exact weighted sampling
 * without replacement, the positive rule's distribution, the T_r rule on
 * every triplet, the out-of-class share, determinism, and snapshots taken
 * while another thread draws.
 *
 * Tolerances. Counts over T seeded trials are compared with their exact
 * expectation by z = (count − T·p) / √(T·p·(1−p)) and must satisfy
 * |z| ≤ 4.5 (two-sided p ≈ 7·10⁻⁶ per comparison); distributions over
 * many cells by Pearson's χ² against the critical value at p = 10⁻⁴
 * (Wilson–Hilferty approximation). The seeds are fixed, so the tests are
 * deterministic; the bounds say how unlikely a pass would be by chance if
 * the sampler were right, and a wrong sampler (e.g. keys u·r instead of
 * u^(1/r), or uniform positives) misses them by tens of standard errors. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "sampler.h"
#include "testutil.h"

#define Z_BOUND 4.5
#define CHI2_Z 3.719   /* standard normal quantile for p = 1e-4 */

static double
chi2_critical (guint df)
{
  double a = 2.0 / (9.0 * df);
  return df * pow (1 - a + CHI2_Z * sqrt (a), 3);
}

static void
assert_binomial (guint64 count, guint64 trials, double p, const char *what)
{
  double mean = trials * p, sd = sqrt (trials * p * (1 - p));
  double z = sd > 0 ? (count - mean) / sd : (count == mean ? 0 : INFINITY);
  if (fabs (z) > Z_BOUND)
    g_error ("%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ", expected %.1f (p = %.4f), z = %.2f",
             what, count, trials, mean, p, z);
}

/* ---- reservoir inclusion ---- */

/* Exact inclusion probabilities of successive weighted sampling without
 * replacement of k of n items (the distribution A-Res reproduces), by
 * summing over every ordered sequence. */
static void
inclusion_rec (const double *w, guint n, guint k, gboolean *used, double prob, double remaining,
               guint depth, double *p_out)
{
  if (depth == k)
    {
      for (guint i = 0; i < n; i++)
        if (used[i])
          p_out[i] += prob;
      return;
    }
  for (guint i = 0; i < n; i++)
    if (!used[i])
      {
        used[i] = TRUE;
        inclusion_rec (w, n, k, used, prob * w[i] / remaining, remaining - w[i], depth + 1, p_out);
        used[i] = FALSE;
      }
}

static void
inclusion_exact (const double *w, guint n, guint k, double *p_out)
{
  gboolean used[16] = { FALSE };
  double total = 0;
  for (guint i = 0; i < n; i++)
    total += w[i], p_out[i] = 0;
  inclusion_rec (w, n, k, used, 1.0, total, 0, p_out);
}

/* Dense relevance where image i's total relevance is w[i]: r(i, j) =
 * w_i / (n_c − 1) for the other images j of its category. */
static LkRelevance *
relevance_with_totals (guint n, const guint16 *labels, guint n_categories, const double *w)
{
  g_autofree float *m = g_new0 (float, n * n);
  guint count[8] = { 0 };
  for (guint i = 0; i < n; i++)
    count[labels[i]]++;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (i != j && labels[i] == labels[j])
        m[i * n + j] = (float) (w[i] / (count[labels[i]] - 1));
  return lk_relevance_new_dense (n, labels, n_categories, m, 4);
}

static void
test_reservoir_inclusion (void)
{
  /* Two categories, interleaved in index order; the stream order is
   * random anyway. Category 0: 6 images, category 1: 7, buffers of 3. */
  const double wa[6] = { 1, 2, 3, 4, 5, 10 };
  const double wb[7] = { 0.2, 0.5, 1, 1, 2, 4, 8 };
  const guint K = 3, n = 13, trials = 20000;
  guint16 labels[13];
  double w[13], pa[6], pb[7], p[13];
  guint64 count[2][13] = { { 0 } };
  guint ia = 0, ib = 0;
  g_autoptr(LkRelevance) rel = NULL;
  LkSamplerParams params;

  for (guint i = 0; i < n; i++)
    {
      labels[i] = (i % 2 == 1 && ib < 7) || ia == 6;
      w[i] = labels[i] ? wb[ib++] : wa[ia++];
    }
  inclusion_exact (wa, 6, K, pa);
  inclusion_exact (wb, 7, K, pb);
  ia = ib = 0;
  for (guint i = 0; i < n; i++)
    p[i] = labels[i] ? pb[ib++] : pa[ia++];

  rel = relevance_with_totals (n, labels, 2, w);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (lk_relevance_total (rel, i), w[i], 1e-5);
  lk_sampler_params_init (&params);
  params.buffer_size = K;

  for (guint t = 0; t < trials; t++)
    {
      g_autoptr(LkSampler) s = NULL;
      params.seed = 1000 + t;
      s = lk_sampler_new (rel, &params);
      for (guint epoch = 0; epoch < 2; epoch++)
        {
          g_autoptr(LkSamplerSnapshot) snap = NULL;
          lk_sampler_stream (s, n);
          snap = lk_sampler_snapshot (s);
          g_assert_cmpuint (snap->counts.epoch, ==, epoch + 1);
          for (guint c = 0; c < 2; c++)
            {
              g_assert_cmpuint (snap->fill[c], ==, K);
              for (guint k = 0; k < K; k++)
                {
                  const LkBufferEntry *e = &snap->entries[c * K + k];
                  g_assert_cmpuint (labels[e->image], ==, c);
                  /* After a whole epoch, only this epoch's keys are left. */
                  g_assert_cmpuint (e->epoch, ==, epoch + 1);
                  if (k > 0)
                    g_assert_cmpfloat (e->log_key, <=, e[-1].log_key);
                  count[epoch][e->image]++;
                }
            }
        }
    }

  for (guint epoch = 0; epoch < 2; epoch++)
    for (guint i = 0; i < n; i++)
      {
        g_autofree char *what = g_strdup_printf ("epoch %u, image %u (w = %g)", epoch + 1, i, w[i]);
        assert_binomial (count[epoch][i], trials, p[i], what);
      }
  g_test_message ("inclusion of w=10 in {1,2,3,4,5,10}, K=3: exact %.4f, observed %.4f",
                  pa[5], (double) count[0][10] / trials);
}

/* ---- triplet rules ---- */

static LkRelevance *
random_relevance (guint n, guint n_categories, guint16 *labels, guint32 seed, double zero_share)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree float *m = g_new (float, n * n);
  for (guint i = 0; i < n; i++)
    labels[i] = i % n_categories;
  for (guint i = 0; i < n * n; i++)
    m[i] = g_rand_double (rand) < zero_share ? 0.0f : (float) g_rand_double_range (rand, 0.05, 1.0);
  return lk_relevance_new_dense (n, labels, n_categories, m, 8);
}

static gboolean
in_buffers (const LkSamplerSnapshot *snap, guint32 image)
{
  for (guint c = 0; c < snap->n_categories; c++)
    for (guint k = 0; k < snap->fill[c]; k++)
      if (snap->entries[c * snap->buffer_size + k].image == image)
        return TRUE;
  return FALSE;
}

static void
test_every_triplet_obeys_rules (void)
{
  const guint n = 120, n_cat = 4, rounds = 3000;
  guint16 labels[120];
  g_autoptr(LkRelevance) rel = random_relevance (n, n_cat, labels, 77, 0.1);
  g_autoptr(LkSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  LkSamplerParams params;
  guint n_out = 0;

  lk_sampler_params_init (&params);
  params.buffer_size = 10;   /* categories of 30: the buffers churn */
  params.t_r = 0.15f;
  params.t_p = 0.7f;
  params.out_of_class_share = 0.3f;
  params.seed = 42;
  s = lk_sampler_new (rel, &params);

  for (guint t = 0; t < rounds; t++)
    {
      LkTriplet tr;
      g_autoptr(LkSamplerSnapshot) snap = NULL;
      float r_qp, r_qn;

      g_assert_true (lk_sampler_next_batch (s, &tr, 1, &error));
      g_assert_no_error (error);
      snap = lk_sampler_snapshot (s);
      r_qp = lk_relevance_pair (rel, tr.query, tr.positive);
      r_qn = lk_relevance_pair (rel, tr.query, tr.negative);

      g_assert_cmpuint (labels[tr.query], ==, labels[tr.positive]);
      g_assert_cmpuint (tr.query, !=, tr.positive);
      g_assert_cmpfloat (r_qp, >, 0);
      if (labels[tr.negative] == labels[tr.query])
        {
          g_assert_cmpuint (tr.negative, !=, tr.query);
          g_assert_cmpuint (tr.negative, !=, tr.positive);
          g_assert_cmpfloat (r_qp - r_qn, >=, params.t_r);
          g_assert_false (snap->recent[0].out_of_class);
        }
      else
        {
          g_assert_true (snap->recent[0].out_of_class);
          n_out++;
        }
      /* The snapshot after a batch shows that batch, and every image of a
       * triplet was in the buffers when it was drawn. */
      g_assert_cmpuint (snap->counts.triplets, ==, t + 1);
      g_assert_cmpmem (&snap->recent[0].triplet, sizeof tr, &tr, sizeof tr);
      g_assert_cmpfloat (snap->recent[0].r_positive, ==, r_qp);
      g_assert_true (in_buffers (snap, tr.query));
      g_assert_true (in_buffers (snap, tr.positive));
      g_assert_true (in_buffers (snap, tr.negative));
    }
  g_assert_cmpuint (n_out, >, 0);
}

/* Queries are uniform over the buffered images, and positives given the
 * query are distributed ∝ min(T_p, r(q, p)) over its buffer. */
static void
test_positive_distribution (void)
{
  const guint n = 16, n_cat = 2, draws = 60000;
  guint16 labels[16];
  g_autoptr(LkRelevance) rel = random_relevance (n, n_cat, labels, 5, 0.0);
  g_autoptr(LkSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree LkTriplet *batch = g_new (LkTriplet, 1000);
  guint64 pairs[16][16] = { { 0 } }, queries[16] = { 0 };
  LkSamplerParams params;
  double chi2 = 0, chi2_q = 0;
  guint df = 0;

  lk_sampler_params_init (&params);
  params.buffer_size = 8;            /* = category size: buffers hold all */
  params.t_p = 0.6f;                 /* caps part of the relevances */
  params.out_of_class_share = 1.0f;  /* no T_r filter on the positives */
  params.stream_per_triplet = 0;
  s = lk_sampler_new (rel, &params);

  for (guint b = 0; b < draws / 1000; b++)
    {
      g_assert_true (lk_sampler_next_batch (s, batch, 1000, &error));
      for (guint t = 0; t < 1000; t++)
        {
          pairs[batch[t].query][batch[t].positive]++;
          queries[batch[t].query]++;
        }
    }

  for (guint q = 0; q < n; q++)
    {
      double norm = 0, e = draws / (double) n;
      for (guint j = 0; j < n; j++)
        norm += MIN (params.t_p, lk_relevance_pair (rel, q, j));
      for (guint j = 0; j < n; j++)
        {
          double share = MIN (params.t_p, lk_relevance_pair (rel, q, j)) / norm;
          double expected = queries[q] * share;
          if (share == 0)
            {
              g_assert_cmpuint (pairs[q][j], ==, 0);
              continue;
            }
          chi2 += (pairs[q][j] - expected) * (pairs[q][j] - expected) / expected;
          df++;
        }
      df--;   /* the row total is fixed */
      chi2_q += (queries[q] - e) * (queries[q] - e) / e;
    }
  g_test_message ("positives: chi2 = %.1f, df = %u, critical %.1f; queries: chi2 = %.1f, df 15, "
                  "critical %.1f", chi2, df, chi2_critical (df), chi2_q, chi2_critical (n - 1));
  g_assert_cmpfloat (chi2, <, chi2_critical (df));
  g_assert_cmpfloat (chi2_q, <, chi2_critical (n - 1));
}

static void
test_out_of_class_share (void)
{
  const guint n = 120, n_cat = 4, draws = 20000;
  const float shares[] = { 0.2f, 0.0f, 1.0f, 0.65f };
  guint16 labels[120];
  g_autoptr(LkRelevance) rel = random_relevance (n, n_cat, labels, 9, 0.0);
  g_autofree LkTriplet *batch = g_new (LkTriplet, draws);

  for (guint k = 0; k < G_N_ELEMENTS (shares); k++)
    {
      g_autoptr(LkSampler) s = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(LkSamplerSnapshot) snap = NULL;
      LkSamplerParams params;
      guint64 out = 0;

      lk_sampler_params_init (&params);
      params.buffer_size = 12;
      params.out_of_class_share = shares[k];
      params.t_r = 0.2f;
      params.seed = 3 + k;
      s = lk_sampler_new (rel, &params);
      for (guint b = 0; b < draws / 500; b++)
        g_assert_true (lk_sampler_next_batch (s, batch + b * 500, 500, &error));
      for (guint t = 0; t < draws; t++)
        out += labels[batch[t].negative] != labels[batch[t].query];
      assert_binomial (out, draws, shares[k], "out-of-class share");
      lk_sampler_publish (s);
      snap = lk_sampler_snapshot (s);
      g_assert_cmpuint (snap->counts.out_of_class, ==, out);
      g_assert_cmpuint (snap->counts.triplets, ==, draws);
      g_test_message ("share %.2f: %" G_GUINT64_FORMAT " of %u out of class; rejections: "
                      "positive %" G_GUINT64_FORMAT ", negative draw %" G_GUINT64_FORMAT
                      ", margin %" G_GUINT64_FORMAT, shares[k], out, draws,
                      snap->counts.positives_rejected, snap->counts.negatives_rejected_draw,
                      snap->counts.negatives_rejected_margin);
    }
}

static void
test_deterministic (void)
{
  guint16 labels[90];
  g_autoptr(LkRelevance) rel = random_relevance (90, 3, labels, 1, 0.2);
  LkTriplet a[3][400];
  LkSamplerParams params;

  lk_sampler_params_init (&params);
  params.buffer_size = 7;
  for (guint k = 0; k < 3; k++)
    {
      g_autoptr(LkSampler) s = NULL;
      params.seed = k < 2 ? 99 : 100;
      s = lk_sampler_new (rel, &params);
      for (guint b = 0; b < 4; b++)
        g_assert_true (lk_sampler_next_batch (s, a[k] + b * 100, 100, NULL));
    }
  g_assert_cmpmem (a[0], sizeof a[0], a[1], sizeof a[1]);
  g_assert_true (memcmp (a[0], a[2], sizeof a[0]) != 0);
}

/* A sampler over a subset (a training split) never shows another image. */
static void
test_subset (void)
{
  guint16 labels[120];
  g_autoptr(LkRelevance) rel = random_relevance (120, 4, labels, 21, 0.1);
  g_autoptr(LkSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  guint32 images[60];
  LkTriplet batch[250];
  LkSamplerParams params;

  for (guint k = 0; k < 60; k++)
    images[k] = 2 * k + 1;
  lk_sampler_params_init (&params);
  params.buffer_size = 6;
  s = lk_sampler_new_for_images (rel, &params, images, 60);
  for (guint b = 0; b < 20; b++)
    {
      g_assert_true (lk_sampler_next_batch (s, batch, 250, &error));
      g_assert_no_error (error);
      for (guint t = 0; t < 250; t++)
        {
          g_assert_cmpuint (batch[t].query % 2, ==, 1);
          g_assert_cmpuint (batch[t].positive % 2, ==, 1);
          g_assert_cmpuint (batch[t].negative % 2, ==, 1);
        }
    }
  lk_sampler_publish (s);
  {
    g_autoptr(LkSamplerSnapshot) snap = lk_sampler_snapshot (s);
    /* The first batch streams one epoch (60), each later one 250 images;
     * epochs are counted over the subset. */
    g_assert_cmpuint (snap->counts.images_streamed, ==, 60 + 19 * 250);
    g_assert_cmpuint (snap->counts.epoch, ==, (60 + 19 * 250 + 59) / 60);
  }
}

static void
test_gives_up (void)
{
  /* Every pair equally relevant: no in-class negative is ever T_r less
   * relevant than a positive. The sampler must say so, not spin. */
  guint16 labels[20];
  float m[400];
  g_autoptr(LkRelevance) rel = NULL;
  g_autoptr(LkSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  LkSamplerParams params;
  LkTriplet t[4];

  for (guint i = 0; i < 20; i++)
    labels[i] = i % 2;
  for (guint i = 0; i < 400; i++)
    m[i] = 0.5f;
  rel = lk_relevance_new_dense (20, labels, 2, m, 4);
  lk_sampler_params_init (&params);
  params.out_of_class_share = 0;
  params.max_attempts = 5000;
  s = lk_sampler_new (rel, &params);
  g_assert_false (lk_sampler_next_batch (s, t, 4, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_FAILED);
}

/* ---- snapshots while another thread draws ---- */

typedef struct {
  LkSampler *sampler;
  gint stop;
  guint64 batches;
} Drawer;

static gpointer
drawer_thread (gpointer data)
{
  Drawer *d = data;
  LkTriplet batch[64];
  while (!g_atomic_int_get (&d->stop))
    {
      g_assert_true (lk_sampler_next_batch (d->sampler, batch, 64, NULL));
      d->batches++;
    }
  return NULL;
}

static void
test_snapshot_concurrent (void)
{
  const guint n = 2000, n_cat = 10;
  guint16 labels[2000];
  g_autoptr(LkRelevance) rel = random_relevance (n, n_cat, labels, 13, 0.05);
  g_autoptr(LkSampler) s = NULL;
  LkSamplerParams params;
  Drawer d = { 0 };
  GThread *thread;
  LkSamplerCounts prev = { 0 };
  gint64 worst = 0, total_us = 0;
  const guint n_snaps = 200;

  lk_sampler_params_init (&params);
  params.buffer_size = 64;
  s = lk_sampler_new (rel, &params);
  d.sampler = s;
  thread = g_thread_new ("drawer", drawer_thread, &d);
  for (guint k = 0; k < n_snaps; k++)
    {
      gint64 t0 = g_get_monotonic_time (), dt;
      g_autoptr(LkSamplerSnapshot) snap = lk_sampler_snapshot (s);
      dt = g_get_monotonic_time () - t0;
      worst = MAX (worst, dt);
      total_us += dt;

      g_assert_cmpuint (snap->n_recent, <=, LK_SAMPLER_RECENT);
      g_assert_cmpuint (snap->counts.triplets, >=, prev.triplets);
      g_assert_cmpuint (snap->counts.images_streamed, >=, prev.images_streamed);
      g_assert_cmpuint (snap->counts.out_of_class, <=, snap->counts.triplets);
      for (guint c = 0; c < n_cat; c++)
        {
          g_assert_cmpuint (snap->fill[c], <=, params.buffer_size);
          for (guint i = 0; i < snap->fill[c]; i++)
            {
              const LkBufferEntry *e = &snap->entries[c * params.buffer_size + i];
              g_assert_cmpuint (labels[e->image], ==, c);
              if (i > 0)
                g_assert_true (e[-1].epoch > e->epoch
                               || (e[-1].epoch == e->epoch && e[-1].log_key >= e->log_key));
            }
        }
      for (guint i = 0; i < snap->n_recent; i++)
        if (!snap->recent[i].out_of_class)
          g_assert_cmpfloat (snap->recent[i].r_positive - snap->recent[i].r_negative, >=,
                             params.t_r);
      prev = snap->counts;
      g_usleep (1000);
    }
  g_atomic_int_set (&d.stop, 1);
  g_thread_join (thread);
  g_assert_cmpuint (prev.triplets, >, 0);
  g_test_message ("%u snapshots while drawing: mean %.1f µs, worst %" G_GINT64_FORMAT
                  " µs; %" G_GUINT64_FORMAT " triplets drawn meanwhile",
                  n_snaps, (double) total_us / n_snaps, worst, d.batches * 64);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/sampler/reservoir-inclusion", test_reservoir_inclusion);
  g_test_add_func ("/engine/sampler/every-triplet-obeys-rules", test_every_triplet_obeys_rules);
  g_test_add_func ("/engine/sampler/positive-distribution", test_positive_distribution);
  g_test_add_func ("/engine/sampler/out-of-class-share", test_out_of_class_share);
  g_test_add_func ("/engine/sampler/deterministic", test_deterministic);
  g_test_add_func ("/engine/sampler/subset", test_subset);
  g_test_add_func ("/engine/sampler/gives-up", test_gives_up);
  g_test_add_func ("/engine/sampler/snapshot-concurrent", test_snapshot_concurrent);
  return g_test_run ();
}
