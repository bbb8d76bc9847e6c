/* test-candidates.c — the Label view's choice of informative triplets:
 * hand-made cases for each part of the rule, the rule held against a
 * brute-force reading of it on random data, the A/B coin toss and the
 * deck of queries (each once, seeded, uniform). */
#include "config.h"

#include <math.h>

#include "candidates.h"
#include "testutil.h"

/* An (n, 1) embedding: image i at x[i] on a line. */
static LkEmbedding *
line (const float *x, guint n)
{
  return lk_embedding_new_take ("line", "line", LK_EMBEDDING_BASELINE, "test", n, 1, 0, 0,
                                g_memdup2 (x, n * sizeof (float)));
}

static LkEmbedding *
random_embedding (GRand *rand, guint n, guint dim)
{
  float *data = g_new (float, (gsize) n * dim);
  for (gsize i = 0; i < (gsize) n * dim; i++)
    data[i] = (float) g_rand_double_range (rand, -1, 1);
  return lk_embedding_new_take ("random", "random", LK_EMBEDDING_BASELINE, "test", n, dim, 0, 0,
                                data);
}

/* Every image but the query, as a neighbour list (the order does not matter). */
static guint
all_but (guint32 query, guint n, LkNeighbour *out)
{
  guint m = 0;
  for (guint32 i = 0; i < n; i++)
    if (i != query)
      out[m++] = (LkNeighbour) { i, 0 };
  return m;
}

static gboolean
same_pair (const LkCandidate *c, guint32 x, guint32 y)
{
  return (c->a == x && c->b == y) || (c->a == y && c->b == x);
}

/* Query 0 at the origin; the reference has 1..4 at distances 1, 4, 9,
 * 16. The other source swaps 2 and 3 only: (2, 3) is the one pair they
 * disagree on. */
static void
test_disagreement (void)
{
  const float ref_x[] = { 0, 1, 2, 3, 4 };
  const float other_x[] = { 0, 1, 3, 2, 4 };
  g_autoptr(LkEmbedding) ref = line (ref_x, 5);
  g_autoptr(LkEmbedding) other = line (other_x, 5);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  LkNeighbour top[5];
  guint n = all_but (0, 5, top);
  LkCandidate c;

  g_assert_true (lk_candidates_choose (ref, other, 0, top, n, top, n, rand, &c));
  g_assert_cmpuint (c.query, ==, 0);
  g_assert_true (same_pair (&c, 2, 3));
  g_assert_cmpint (c.reason, ==, LK_CANDIDATE_DISAGREE);
  g_assert_cmpuint (c.strength, ==, 1);
  /* The distances reported are the sources' own. */
  g_assert_cmpfloat (c.ref_a, ==, c.a == 2 ? 4.f : 9.f);
  g_assert_cmpfloat (c.other_a, ==, c.a == 2 ? 9.f : 4.f);
  g_assert_true ((c.ref_a - c.ref_b) * (c.other_a - c.other_b) < 0);
}

/* Fully reversed: every pair disagrees; (1, 4) is the one whose ranks
 * are 3 apart in both sources, the strongest. */
static void
test_strongest_disagreement (void)
{
  const float ref_x[] = { 0, 1, 2, 3, 4 };
  const float other_x[] = { 0, 4, 3, 2, 1 };
  g_autoptr(LkEmbedding) ref = line (ref_x, 5);
  g_autoptr(LkEmbedding) other = line (other_x, 5);
  LkNeighbour top[5];
  guint n = all_but (0, 5, top);

  for (guint seed = 0; seed < 20; seed++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
      LkCandidate c;
      g_assert_true (lk_candidates_choose (ref, other, 0, top, n, top, n, rand, &c));
      g_assert_true (same_pair (&c, 1, 4));
      g_assert_cmpuint (c.strength, ==, 3);
    }
}

/* The sources agree everywhere: the reference's narrowest margin,
 * 9 against 10 (1/19), not 1 against 4 (3/5); an exact tie (5 and 6 at
 * the same distance) is never chosen. */
static void
test_margin (void)
{
  const float x[] = { 0, 1, 2, 3, sqrtf (10), -5, 5 };
  g_autoptr(LkEmbedding) ref = line (x, 7);
  g_autoptr(LkEmbedding) other = line (x, 7);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  LkNeighbour top[7];
  guint n = all_but (0, 5, top);  /* 1..4 */
  LkNeighbour tie[2] = { { 5, 25 }, { 6, 25 } };
  LkCandidate c;

  g_assert_true (lk_candidates_choose (ref, other, 0, top, n, top, n, rand, &c));
  g_assert_true (same_pair (&c, 3, 4));
  g_assert_cmpint (c.reason, ==, LK_CANDIDATE_MARGIN);
  g_assert_cmpuint (c.strength, ==, 0);

  /* Only a tie: nothing to ask. */
  g_assert_false (lk_candidates_choose (ref, other, 0, tie, 2, tie, 2, rand, &c));
}

/* An image only the other source lists takes part, with its reference
 * distance computed from the rows; the query itself, out-of-range ids
 * and repeats are ignored; fewer than two candidates give no triplet. */
static void
test_union_of_lists (void)
{
  const float ref_x[] = { 0, 1, 2, 3 };
  const float other_x[] = { 0, 3, 2, 1 };
  g_autoptr(LkEmbedding) ref = line (ref_x, 4);
  g_autoptr(LkEmbedding) other = line (other_x, 4);
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  LkNeighbour r[] = { { 0, 0 }, { 1, 1 }, { 1, 1 }, { 99, 0 } };
  LkNeighbour o[] = { { 3, 1 } };
  LkCandidate c;

  g_assert_true (lk_candidates_choose (ref, other, 0, r, G_N_ELEMENTS (r), o, 1, rand, &c));
  g_assert_true (same_pair (&c, 1, 3));
  g_assert_cmpfloat (c.a == 3 ? c.ref_a : c.ref_b, ==, 9.f);
  g_assert_false (lk_candidates_choose (ref, other, 0, r, G_N_ELEMENTS (r), NULL, 0, rand, &c));
}

/* The rule read literally, over every pair, against the chooser on
 * random data: the chosen pair is one of the best by the rule. */
static void
test_against_brute_force (void)
{
  g_autoptr(GRand) data_rand = g_rand_new_with_seed (42);
  const guint n = 40, dim = 6, m = 12;
  guint n_disagree = 0, n_margin = 0;

  for (guint trial = 0; trial < 200; trial++)
    {
      g_autoptr(LkEmbedding) ref = random_embedding (data_rand, n, dim);
      /* The other source: the reference plus noise, so they mostly agree. */
      g_autoptr(LkEmbedding) other = NULL;
      g_autoptr(GRand) rand = g_rand_new_with_seed (trial);
      g_autofree float *noisy = g_memdup2 (lk_embedding_get_data (ref), n * dim * sizeof (float));
      guint32 q = (guint32) g_rand_int_range (data_rand, 0, (gint32) n);
      double noise = trial % 4 == 0 ? 0 : 0.3;
      LkNeighbour rt[12], ot[12], all[40];
      guint nr, no, na = all_but (q, n, all);
      guint32 u[24];
      guint nu = 0;
      LkCandidate c;

      for (guint i = 0; i < n * dim; i++)
        noisy[i] += (float) (noise * g_rand_double_range (data_rand, -1, 1));
      other = lk_embedding_new_take ("o", "o", LK_EMBEDDING_BASELINE, "test", n, dim, 0, 0,
                                     g_steal_pointer (&noisy));
      nr = lk_search_naive (lk_embedding_get_data (ref), n, dim, NULL, 0, NULL, LK_METRIC_L2,
                            lk_embedding_get_row (ref, q), m, LK_SEARCH_ANY_CATEGORY, q, rt);
      no = lk_search_naive (lk_embedding_get_data (other), n, dim, NULL, 0, NULL, LK_METRIC_L2,
                            lk_embedding_get_row (other, q), m, LK_SEARCH_ANY_CATEGORY, q, ot);
      g_assert_cmpuint (na, ==, n - 1);
      for (guint i = 0; i < nr + no; i++)
        {
          guint32 id = i < nr ? rt[i].id : ot[i - nr].id;
          gboolean seen = FALSE;
          for (guint j = 0; j < nu; j++)
            seen |= u[j] == id;
          if (!seen)
            u[nu++] = id;
        }
      g_assert_true (lk_candidates_choose (ref, other, q, rt, nr, ot, no, rand, &c));

      {
        /* rank of x in U by a source: how many members come before it */
        double dr[24], d_o[24];
        guint rr[24], ro[24], best = 0, chosen = G_MAXUINT;
        double best_margin = INFINITY, chosen_margin = -1;
        gboolean any = FALSE;

        for (guint i = 0; i < nu; i++)
          {
            dr[i] = lk_embedding_distance (ref, q, u[i]);
            d_o[i] = lk_embedding_distance (other, q, u[i]);
          }
        for (guint i = 0; i < nu; i++)
          {
            rr[i] = ro[i] = 0;
            for (guint j = 0; j < nu; j++)
              {
                rr[i] += dr[j] < dr[i] || (dr[j] == dr[i] && u[j] < u[i]);
                ro[i] += d_o[j] < d_o[i] || (d_o[j] == d_o[i] && u[j] < u[i]);
              }
          }
        for (guint i = 0; i < nu; i++)
          for (guint j = 0; j < nu; j++)
            {
              guint s;
              double mg;
              if (i == j)
                continue;
              mg = fabs (dr[i] - dr[j]) / (dr[i] + dr[j]);
              if ((dr[i] - dr[j]) * (d_o[i] - d_o[j]) < 0)
                {
                  s = MIN ((guint) ABS ((int) rr[i] - (int) rr[j]), (guint) ABS ((int) ro[i] - (int) ro[j]));
                  any = TRUE;
                  best = MAX (best, s);
                  if (u[i] == c.a && u[j] == c.b)
                    chosen = s;
                }
              if (dr[i] != dr[j])
                best_margin = MIN (best_margin, mg);
              if (u[i] == c.a && u[j] == c.b)
                chosen_margin = mg;
            }
        if (any)
          {
            g_assert_cmpint (c.reason, ==, LK_CANDIDATE_DISAGREE);
            g_assert_cmpuint (chosen, ==, best);
            g_assert_cmpuint (c.strength, ==, best);
            n_disagree++;
          }
        else
          {
            g_assert_cmpint (c.reason, ==, LK_CANDIDATE_MARGIN);
            g_assert_cmpfloat_with_epsilon (chosen_margin, best_margin, 1e-12);
            n_margin++;
          }
      }
    }
  /* Both branches were exercised: identical sources (every 4th trial)
   * never disagree. */
  g_assert_cmpuint (n_margin, >=, 50);
  g_assert_cmpuint (n_disagree, >, 100);
}

/* A is the first or the second of the pair with probability ½: over
 * 4000 seeds the count is within 5 standard deviations (√1000 ≈ 31.6)
 * of 2000. The same seed gives the same choice. */
static void
test_coin_toss (void)
{
  const float ref_x[] = { 0, 1, 2, 3, 4 };
  const float other_x[] = { 0, 1, 3, 2, 4 };
  g_autoptr(LkEmbedding) ref = line (ref_x, 5);
  g_autoptr(LkEmbedding) other = line (other_x, 5);
  LkNeighbour top[5];
  guint n = all_but (0, 5, top), first = 0;

  for (guint seed = 0; seed < 4000; seed++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
      g_autoptr(GRand) again = g_rand_new_with_seed (seed);
      LkCandidate c, d;
      g_assert_true (lk_candidates_choose (ref, other, 0, top, n, top, n, rand, &c));
      g_assert_true (lk_candidates_choose (ref, other, 0, top, n, top, n, again, &d));
      g_assert_cmpuint (c.a, ==, d.a);
      first += c.a == 2;
    }
  g_assert_cmpuint (first, >, 2000 - 158);
  g_assert_cmpuint (first, <, 2000 + 158);
}

/* Every id of the pool once, none that was marked, then nothing; the
 * same seed gives the same order, another seed another. */
static void
test_deck_order (void)
{
  const guint32 pool[] = { 3, 9, 4, 0, 7, 8, 1 };
  g_autoptr(LkQueryDeck) deck = lk_query_deck_new (10, pool, G_N_ELEMENTS (pool), 5);
  g_autoptr(LkQueryDeck) same = lk_query_deck_new (10, pool, G_N_ELEMENTS (pool), 5);
  g_autoptr(LkQueryDeck) other = lk_query_deck_new (10, pool, G_N_ELEMENTS (pool), 6);
  gboolean seen[10] = { FALSE };
  guint n = 0, n_differ = 0;
  guint32 id, id2, id3;

  lk_query_deck_mark_used (deck, 4);
  lk_query_deck_mark_used (same, 4);
  lk_query_deck_mark_used (deck, 2);  /* not in the pool: no effect on the count */
  g_assert_cmpuint (lk_query_deck_remaining (deck), ==, 6);
  while (lk_query_deck_next (deck, &id))
    {
      g_assert_true (lk_query_deck_next (same, &id2));
      g_assert_cmpuint (id, ==, id2);
      if (lk_query_deck_next (other, &id3) && id3 != id)
        n_differ++;
      g_assert_false (seen[id]);
      g_assert_cmpuint (id, !=, 4);
      seen[id] = TRUE;
      g_assert_true (lk_query_deck_is_used (deck, id));
      n++;
    }
  g_assert_cmpuint (n, ==, 6);
  g_assert_cmpuint (n_differ, >, 0);
  g_assert_cmpuint (lk_query_deck_remaining (deck), ==, 0);
  g_assert_false (lk_query_deck_next (deck, &id));

  /* Given back: drawn again first, the last given back first; an id
   * not in the pool or never drawn is not given back. */
  {
    g_autoptr(LkQueryDeck) d = lk_query_deck_new (10, pool, G_N_ELEMENTS (pool), 9);
    guint32 first, second, got;
    g_assert_true (lk_query_deck_next (d, &first));
    g_assert_true (lk_query_deck_next (d, &second));
    lk_query_deck_put_back (d, first);
    lk_query_deck_put_back (d, second);
    lk_query_deck_put_back (d, 2);
    g_assert_cmpuint (lk_query_deck_remaining (d), ==, G_N_ELEMENTS (pool));
    g_assert_true (lk_query_deck_next (d, &got));
    g_assert_cmpuint (got, ==, second);
    g_assert_true (lk_query_deck_next (d, &got));
    g_assert_cmpuint (got, ==, first);
    n = 2;
    while (lk_query_deck_next (d, &got))
      {
        g_assert_cmpuint (got, !=, first);
        g_assert_cmpuint (got, !=, second);
        n++;
      }
    g_assert_cmpuint (n, ==, G_N_ELEMENTS (pool));
  }

  /* NULL pool: every image. */
  {
    g_autoptr(LkQueryDeck) all = lk_query_deck_new (4, NULL, 0, 1);
    g_assert_cmpuint (lk_query_deck_remaining (all), ==, 4);
  }
}

/* The first draw is uniform over the pool: a χ² test over 10 ids and
 * 5000 seeds, 9 degrees of freedom, failing above 27.88 (p = 0.001). */
static void
test_deck_uniform (void)
{
  guint counts[10] = { 0 };
  const guint runs = 5000;
  double chi2 = 0;

  for (guint seed = 0; seed < runs; seed++)
    {
      g_autoptr(LkQueryDeck) deck = lk_query_deck_new (10, NULL, 0, seed);
      guint32 id;
      g_assert_true (lk_query_deck_next (deck, &id));
      counts[id]++;
    }
  for (guint i = 0; i < 10; i++)
    chi2 += (counts[i] - runs / 10.0) * (counts[i] - runs / 10.0) / (runs / 10.0);
  g_test_message ("χ² of the first draw: %.2f", chi2);
  g_assert_cmpfloat (chi2, <, 27.88);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/candidates/disagreement", test_disagreement);
  g_test_add_func ("/engine/candidates/strongest", test_strongest_disagreement);
  g_test_add_func ("/engine/candidates/margin", test_margin);
  g_test_add_func ("/engine/candidates/union", test_union_of_lists);
  g_test_add_func ("/engine/candidates/brute-force", test_against_brute_force);
  g_test_add_func ("/engine/candidates/coin-toss", test_coin_toss);
  g_test_add_func ("/engine/candidates/deck-order", test_deck_order);
  g_test_add_func ("/engine/candidates/deck-uniform", test_deck_uniform);
  return g_test_run ();
}
