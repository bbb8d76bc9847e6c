/* test-metrics.c — each metric on small examples computed by hand. */
#include "config.h"

#include "metrics.h"
#include "testutil.h"

static void
test_precision (void)
{
  /* Correct, wrong, a tie (one half), correct: 2.5 of 4. */
  const float dp[] = { 1, 2, 3, 5 }, dn[] = { 2, 1, 3, 6 };
  g_assert_cmpfloat_with_epsilon (lk_metric_similarity_precision (dp, dn, 4), 0.625, 1e-12);
  g_assert_cmpfloat (lk_metric_similarity_precision (dp, dn, 0), ==, 0);
  g_assert_cmpfloat (lk_metric_similarity_precision (dp, dn, 1), ==, 1);
}

static void
test_score_at_k (void)
{
  /* Lists: query 10 → 1, 2, 3; query 20 → 4, 5. */
  const guint32 ids[] = { 10, 20 };
  const LkNeighbour top[] = { { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 }, { 5, 0 }, { 0, 0 } };
  const guint found[] = { 3, 2 };
  /* t0 counted (p=1 in top 2), correct; t1 counted (n=2), incorrect;
   * t2 counted only at k=3 (p=3), correct; t3 counted, a tie;
   * t4 has no list; t5 neither image listed; t6 counted, correct. */
  const guint32 q[] = { 10, 10, 10, 20, 30, 20, 20 };
  const guint32 p[] = { 1, 9, 3, 5, 1, 6, 4 };
  const guint32 n[] = { 9, 2, 9, 4, 2, 7, 8 };
  const float dp[] = { 1, 3, 1, 1, 1, 1, 0.5f };
  const float dn[] = { 2, 1, 2, 1, 2, 2, 2 };
  LkScoreAtK s;

  lk_metric_score_at_k (q, p, n, dp, dn, 7, ids, 2, top, found, 3, 2, &s);
  g_assert_cmpuint (s.counted, ==, 4);
  g_assert_cmpuint (s.correct, ==, 2);
  g_assert_cmpuint (s.incorrect, ==, 1);
  g_assert_cmpint (s.score, ==, 1);

  lk_metric_score_at_k (q, p, n, dp, dn, 7, ids, 2, top, found, 3, 3, &s);
  g_assert_cmpuint (s.counted, ==, 5);
  g_assert_cmpint (s.score, ==, 2);

  lk_metric_score_at_k (q, p, n, dp, dn, 7, ids, 2, top, found, 3, 1, &s);
  /* Only ids 1 and 4 are first: t0 (+1), t3 (tie), t6 (+1). */
  g_assert_cmpuint (s.counted, ==, 3);
  g_assert_cmpint (s.score, ==, 2);
}

static void
test_recall (void)
{
  const guint16 labels[] = { 0, 0, 1, 1, 2 };
  const guint16 qlabels[] = { 0, 1, 2 };
  /* Query 0: 2 (cat 1), 1 (cat 0). Query 1: 3 (cat 1). Query 2: 0, 1. */
  const LkNeighbour top[] = { { 2, 0 }, { 1, 0 }, { 3, 0 }, { 0, 0 }, { 0, 0 }, { 1, 0 } };
  const guint found[] = { 2, 1, 2 };

  g_assert_cmpfloat_with_epsilon (lk_metric_recall_at_k (labels, qlabels, top, found, 3, 2, 1),
                                  1.0 / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon (lk_metric_recall_at_k (labels, qlabels, top, found, 3, 2, 2),
                                  2.0 / 3, 1e-12);
}

static void
test_map_at_r (void)
{
  const guint16 labels[] = { 0, 0, 0, 1, 1, 0, 2 };
  /* Query A (cat 0, R 3): 0, 3, 1 → relevant, not, relevant:
   *   AP = (1/1 + 2/3) / 3 = 5/9.
   * Query B (cat 1, R 2): 0, 4 → AP = (1/2) / 2 = 1/4.
   * Query C (cat 2, R 0): left out.
   * Query D (cat 0, R 4, only 2 found, both relevant): AP = (1 + 1) / 4. */
  const guint16 qlabels[] = { 0, 1, 2, 0 };
  const guint r[] = { 3, 2, 0, 4 };
  const LkNeighbour top[] = {
    { 0, 0 }, { 3, 0 }, { 1, 0 }, { 5, 0 },
    { 0, 0 }, { 4, 0 }, { 0, 0 }, { 0, 0 },
    { 6, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 },
    { 1, 0 }, { 2, 0 }, { 0, 0 }, { 0, 0 },
  };
  const guint found[] = { 4, 2, 1, 2 };
  guint used;
  double expected = (5.0 / 9 + 0.25 + 0.5) / 3;

  g_assert_cmpfloat_with_epsilon (lk_metric_map_at_r (labels, qlabels, r, top, found, 4, 4, &used),
                                  expected, 1e-12);
  g_assert_cmpuint (used, ==, 3);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/metrics/precision", test_precision);
  g_test_add_func ("/engine/metrics/score-at-k", test_score_at_k);
  g_test_add_func ("/engine/metrics/recall-at-k", test_recall);
  g_test_add_func ("/engine/metrics/map-at-r", test_map_at_r);
  return g_test_run ();
}
