/* test-search.c — every fast search path (each instruction set, one and
 * two threads, single, batched and all pairs, with and without category
 * restriction) against the naive reference, on random data and on data
 * full of exact ties; ties that float scores cannot see (duplicates and
 * equidistant rows), where every thread count must give the reference's
 * lists byte for byte; every exact-distance kernel against the portable
 * one, bit for bit. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "search-private.h"
#include "testutil.h"

typedef struct {
  guint n, dim, n_categories;
  float *data;
  guint16 *labels;
} Data;

static void
data_clear (Data *d)
{
  g_free (d->data);
  g_free (d->labels);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Data, data_clear)

/* Gaussian rows; categories of very different sizes (one empty, one of a
 * single row, one smaller than a panel). With @ties the values are small
 * integers from a few distinct rows, so every product is exact in float
 * and many distances are exactly equal. */
static void
make_data (Data *d, guint n, guint dim, guint n_categories, gboolean ties, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  d->n = n;
  d->dim = dim;
  d->n_categories = n_categories;
  d->data = g_new (float, (gsize) n * dim);
  d->labels = g_new (guint16, n);
  for (guint i = 0; i < n; i++)
    {
      guint proto = g_rand_int_range (rand, 0, 5);
      /* Category 0 stays empty, 1 gets one row, 2 gets a few. */
      if (i == 0)
        d->labels[i] = 1;
      else if (i < 6)
        d->labels[i] = 2;
      else
        d->labels[i] = (guint16) g_rand_int_range (rand, 3, n_categories);
      for (guint k = 0; k < dim; k++)
        d->data[(gsize) i * dim + k] = ties ? (float) ((proto * 7 + k * 3) % 5) - 2.0f
                                            : (float) g_rand_double_range (rand, -1, 1)
                                              + (float) ((d->labels[i] * 13 + k) % 7) * 0.1f;
    }
}

/* Fast and reference lists agree up to ties: the same length, the same
 * distance at every rank (to @tol), every id the same except where its
 * distance ties (to @tol) with the reference's at that rank. With @tol
 * 0 the lists must be identical. */
static void
assert_same_list (const LkNeighbour *fast, guint n_fast, const LkNeighbour *ref, guint n_ref,
                  double tol)
{
  g_assert_cmpuint (n_fast, ==, n_ref);
  for (guint i = 0; i < n_ref; i++)
    {
      double scale = MAX (1.0, fabs (ref[i].distance));
      if (tol == 0)
        {
          g_assert_cmpuint (fast[i].id, ==, ref[i].id);
          g_assert_cmpfloat (fast[i].distance, ==, ref[i].distance);
        }
      else
        {
          g_assert_cmpfloat_with_epsilon (fast[i].distance, ref[i].distance, tol * scale);
          if (fast[i].id != ref[i].id)
            {
              /* A swap of near-equal neighbours: the fast id must sit in
               * the reference list at an (almost) equal distance, or just
               * past its end. */
              gboolean found = FALSE;
              for (guint j = 0; j < n_ref; j++)
                if (ref[j].id == fast[i].id)
                  {
                    g_assert_cmpfloat_with_epsilon (ref[j].distance, ref[i].distance, tol * scale);
                    found = TRUE;
                  }
              if (!found)
                g_assert_cmpfloat_with_epsilon (fast[i].distance, ref[n_ref - 1].distance,
                                                tol * scale);
            }
        }
    }
}

/* The same, with a tolerance relative to each distance however small
 * (the float16 pass must not lose neighbours at any scale). */
static void
assert_same_list_relative (const LkNeighbour *fast, guint n_fast, const LkNeighbour *ref,
                           guint n_ref, double rel)
{
  g_assert_cmpuint (n_fast, ==, n_ref);
  for (guint i = 0; i < n_ref; i++)
    {
      double tol = rel * fabs (ref[i].distance);
      g_assert_cmpfloat (fabs (fast[i].distance - ref[i].distance), <=, tol);
      if (fast[i].id != ref[i].id)
        {
          gboolean tie = FALSE;
          for (guint j = 0; j < n_ref; j++)
            if (ref[j].id == fast[i].id)
              tie = fabs (ref[j].distance - ref[i].distance) <= tol;
          if (i + 1 == n_ref)
            tie = TRUE;  /* the last place: checked by its distance above */
          g_assert_true (tie);
        }
    }
}

typedef struct {
  LkSearchIsa isa;
  guint threads;
  LkMetric metric;
  gboolean ties;
  gboolean subset;
} Case;

static LkSearchIndex *
build (const Data *d, const Case *c, guint32 **subset_out, guint *n_subset_out)
{
  g_autoptr(GError) error = NULL;
  LkSearchIndex *index;
  guint32 *subset = NULL;
  guint n_subset = 0;

  if (c->subset)
    {
      /* Every third row, in descending order, so index order, id order
       * and category order all differ. */
      subset = g_new (guint32, d->n);
      for (guint i = d->n; i-- > 0; )
        if (i % 3 != 1)
          subset[n_subset++] = i;
    }
  index = lk_search_index_new (d->data, d->n, d->dim, subset, n_subset, d->labels,
                               d->n_categories, c->metric, &error);
  g_assert_no_error (error);
  g_assert_true (_lk_search_index_set_isa (index, c->isa));
  lk_search_index_set_n_threads (index, c->threads);
  *subset_out = subset;
  *n_subset_out = n_subset;
  return index;
}

static void
run_case (const Case *c, guint n, guint dim)
{
  g_auto(Data) d = { 0 };
  g_autoptr(LkSearchIndex) index = NULL;
  g_autofree guint32 *subset = NULL;
  guint n_subset;
  const guint ks[] = { 1, 7, 30, 200 };
  const double tol = c->ties ? 0 : 2e-4;
  g_autoptr(GRand) rand = g_rand_new_with_seed (n * 31 + dim);

  make_data (&d, n, dim, 9, c->ties, n + dim + c->ties);
  index = build (&d, c, &subset, &n_subset);
  g_assert_cmpuint (lk_search_index_get_size (index), ==, c->subset ? n_subset : n);

  for (guint ki = 0; ki < G_N_ELEMENTS (ks); ki++)
    {
      guint k = ks[ki];
      /* The large case is about panel and block boundaries, not k. */
      if (n > 1000 && k != 30)
        continue;
      g_autofree LkNeighbour *fast = g_new (LkNeighbour, k);
      g_autofree LkNeighbour *ref = g_new (LkNeighbour, k);

      /* Single queries: rows of the data (excluded), outside vectors, each
       * category including the empty one and the one of a single row. */
      for (guint t = 0; t < 12; t++)
        {
          guint32 row = g_rand_int_range (rand, 0, n);
          gint cat = t % 3 == 0 ? LK_SEARCH_ANY_CATEGORY : (gint) (t % d.n_categories);
          const float *q = d.data + (gsize) row * dim;
          guint32 ex = t % 2 == 0 ? row : LK_SEARCH_NO_EXCLUDE;
          guint nf = lk_search_query (index, q, k, cat, ex, fast);
          guint nr = lk_search_naive (d.data, n, dim, subset, n_subset, d.labels, c->metric, q, k,
                                      cat, ex, ref);
          assert_same_list (fast, nf, ref, nr, tol);
        }

      /* A batch with mixed pools and exclusions. */
      {
        const guint nq = 37;
        g_autofree float *queries = g_new (float, (gsize) nq * dim);
        g_autofree gint32 *cats = g_new (gint32, nq);
        g_autofree guint32 *ex = g_new (guint32, nq);
        g_autofree LkNeighbour *out = g_new (LkNeighbour, (gsize) nq * k);
        g_autofree guint *found = g_new (guint, nq);
        g_autoptr(GError) error = NULL;

        for (guint q = 0; q < nq; q++)
          {
            guint32 row = g_rand_int_range (rand, 0, n);
            memcpy (queries + (gsize) q * dim, d.data + (gsize) row * dim, dim * sizeof (float));
            cats[q] = q % 4 == 0 ? LK_SEARCH_ANY_CATEGORY : d.labels[row];
            ex[q] = q % 3 == 0 ? LK_SEARCH_NO_EXCLUDE : row;
          }
        g_assert_true (lk_search_batch (index, queries, nq, k, cats, ex, out, found, NULL, &error));
        g_assert_no_error (error);
        for (guint q = 0; q < nq; q++)
          {
            guint nr = lk_search_naive (d.data, n, dim, subset, n_subset, d.labels, c->metric,
                                        queries + (gsize) q * dim, k, cats[q], ex[q], ref);
            assert_same_list (out + (gsize) q * k, found[q], ref, nr, tol);
          }
      }

      /* All pairs, over the whole index and within categories. */
      for (guint within = 0; within < 2; within++)
        {
          guint size = lk_search_index_get_size (index);
          const guint32 *ids = lk_search_index_get_ids (index);
          g_autofree LkNeighbour *out = g_new (LkNeighbour, (gsize) size * k);
          g_autofree guint *found = g_new (guint, size);
          g_autoptr(GError) error = NULL;

          g_assert_true (lk_search_all_pairs (index, k, within, out, found, NULL, &error));
          g_assert_no_error (error);
          for (guint i = 0; i < size; i++)
            {
              if (i % (n > 1000 ? 37 : 13) != 0 && i >= 20 && i + 20 < size)
                continue;
              guint32 id = ids[i];
              guint nr = lk_search_naive (d.data, n, dim, subset, n_subset, d.labels, c->metric,
                                          d.data + (gsize) id * dim, k,
                                          within ? (gint) d.labels[id] : LK_SEARCH_ANY_CATEGORY,
                                          id, ref);
              assert_same_list (out + (gsize) i * k, found[i], ref, nr, tol);
            }
        }
    }
}

static void
test_paths (gconstpointer user_data)
{
  const Case *c = user_data;

  if (_lk_search_kernels (c->isa) == NULL)
    {
      g_test_skip ("this CPU lacks the instruction set");
      return;
    }
  /* Sizes around panel, group and thread boundaries; dimensions that are
   * odd, small and large. */
  run_case (c, 61, 3);
  run_case (c, 530, 17);
  run_case (c, 1500, 128);
}

/* The float16 first pass: the same lists as the naive reference, on
 * every instruction set that has it, on data of every scale float16 can
 * hold (values down in its subnormal range, values in the thousands) and
 * on exact ties; and it is refused for a value float16 cannot hold. */
static void
test_half_first_pass (void)
{
  const float scales[] = { 1.0f, 1e-6f, 3000.0f };
  guint n_runs = 0;

  for (guint isa = LK_SEARCH_ISA_AVX2; isa < LK_SEARCH_N_ISAS; isa++)
    {
      const LkSearchKernels *kern = _lk_search_kernels (isa);
      if (kern == NULL || kern->scan_half == NULL)
        continue;
      for (guint threads = 1; threads <= 2; threads++)
        for (guint metric = 0; metric < 2; metric++)
          for (guint v = 0; v < G_N_ELEMENTS (scales) + 1; v++)
            {
              g_auto(Data) d = { 0 };
              g_autoptr(LkSearchIndex) index = NULL;
              g_autoptr(GError) error = NULL;
              g_autoptr(GRand) rand = g_rand_new_with_seed (v * 7 + metric);
              gboolean ties = v == G_N_ELEMENTS (scales);
              LkNeighbour fast[40], ref[40];

              make_data (&d, 3000, 24, 6, ties, 11 + v);
              if (!ties)
                for (gsize i = 0; i < (gsize) d.n * d.dim; i++)
                  d.data[i] *= scales[v];
              index = lk_search_index_new (d.data, d.n, d.dim, NULL, 0, d.labels, d.n_categories,
                                           metric, &error);
              g_assert_no_error (error);
              g_assert_true (_lk_search_index_set_isa (index, isa));
              lk_search_index_set_n_threads (index, threads);
              g_assert_true (lk_search_index_set_half_first_pass (index, TRUE));
              for (guint t = 0; t < 20; t++)
                {
                  guint32 row = g_rand_int_range (rand, 0, d.n);
                  guint k = t % 2 ? 40 : 5;
                  gint cat = t % 4 == 3 ? (gint) d.labels[row] : LK_SEARCH_ANY_CATEGORY;
                  guint nf = lk_search_query (index, d.data + (gsize) row * d.dim, k, cat, row, fast);
                  guint nr = lk_search_naive (d.data, d.n, d.dim, NULL, 0, d.labels, metric,
                                              d.data + (gsize) row * d.dim, k, cat, row, ref);
                  if (ties)
                    assert_same_list (fast, nf, ref, nr, 0);
                  else
                    assert_same_list_relative (fast, nf, ref, nr, 1e-6);
                }
              n_runs++;
            }
    }
  if (n_runs == 0)
    {
      g_test_skip ("this CPU has no float16 conversion");
      return;
    }
  {
    float big[4] = { 1, 2, 70000, 3 };
    g_autoptr(LkSearchIndex) index = lk_search_index_new (big, 2, 2, NULL, 0, NULL, 0,
                                                          LK_METRIC_L2, NULL);
    g_assert_false (lk_search_index_set_half_first_pass (index, TRUE));
  }
}

/* ---- exact ties the float first pass cannot see ---- */

/* Rows in groups around prototypes whose values are multiples of 2⁻²⁰ in
 * [0.25, 0.5), so sums below are exact: exact copies (groups of very
 * different sizes), copies with 2⁻¹² or 2⁻¹³ added to one coordinate
 * (from the prototype at exactly δ², from each other at exactly 2δ², but
 * different vectors with different float scores), copies one float ulp
 * off in one coordinate, and distinct rows. All these distances are far
 * below what the float scores ||x||² − 2q·x resolve, so only the exact
 * re-rank can order them, and only if the first pass kept them all. */
static void
make_tie_data (Data *d, guint n, guint dim, guint n_categories, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  const guint n_protos = n / 16;
  g_autofree float *protos = g_new (float, (gsize) n_protos * dim);

  d->n = n;
  d->dim = dim;
  d->n_categories = n_categories;
  d->data = g_new (float, (gsize) n * dim);
  d->labels = g_new (guint16, n);
  for (gsize i = 0; i < (gsize) n_protos * dim; i++)
    protos[i] = (float) g_rand_int_range (rand, 1 << 18, 1 << 19) * 0x1p-20f;
  for (guint i = 0; i < n; i++)
    {
      float *x = d->data + (gsize) i * dim;
      double u = g_rand_double (rand);
      /* Skewed: groups of one row to a couple of hundred. */
      guint p = (guint) (n_protos * u * u);
      guint kind = g_rand_int_range (rand, 0, 20), j = g_rand_int_range (rand, 0, dim);

      d->labels[i] = (guint16) g_rand_int_range (rand, 0, n_categories);
      memcpy (x, protos + (gsize) p * dim, dim * sizeof (float));
      if (kind < 8)
        ;                                               /* exact copy */
      else if (kind < 14)
        x[j] += kind % 2 ? 0x1p-12f : 0x1p-13f;         /* exact distance ties */
      else if (kind < 17)
        x[j] = nextafterf (x[j], 1.0f);                 /* near-duplicate */
      else
        for (guint k = 0; k < dim; k++)                 /* distinct */
          x[k] = (float) g_rand_int_range (rand, 1 << 18, 1 << 19) * 0x1p-20f;
    }
}

static double
exact_of (const Data *d, LkMetric metric, const float *q, guint32 id)
{
  return _lk_search_exact_distance (metric == LK_METRIC_L2, q, d->data + (gsize) id * d->dim,
                                    d->dim);
}

/* Independently of lk_search_naive(): @list is in ascending (distance,
 * id) order (distances in double, as ranked), and no row of the pool
 * outside it comes before its last entry, so among rows tied at the
 * cut-off the smallest ids were kept. */
static void
assert_smallest_kept (const Data *d, LkMetric metric, const float *q, gint category,
                      guint32 exclude, const LkNeighbour *list, guint n_list, guint k)
{
  guint pool = 0, before_last = 0;
  double last = 0;

  for (guint i = 0; i + 1 < n_list; i++)
    {
      double a = exact_of (d, metric, q, list[i].id), b = exact_of (d, metric, q, list[i + 1].id);
      g_assert_true (a < b || (a == b && list[i].id < list[i + 1].id));
    }
  if (n_list > 0)
    last = exact_of (d, metric, q, list[n_list - 1].id);
  for (guint32 id = 0; id < d->n; id++)
    {
      double e;
      if (id == exclude || (category >= 0 && d->labels[id] != (guint) category))
        continue;
      pool++;
      e = exact_of (d, metric, q, id);
      if (n_list > 0 && (e < last || (e == last && id <= list[n_list - 1].id)))
        before_last++;
    }
  g_assert_cmpuint (n_list, ==, MIN (k, pool));
  /* Exactly the listed rows come up to the last one (itself included). */
  g_assert_cmpuint (before_last, ==, n_list);
}

/* Every path, instruction set and thread count on make_tie_data(): each
 * list is the naive reference's to the last bit (ids and distances),
 * the ties at the cut-off went to the smallest ids, and 1, 2 and 3
 * threads (hence different splits of the pool, chunks of queries and
 * row panels) give byte-identical output. Before the first pass kept the
 * rows within its error margin, the k best float scores decided which
 * of these tied rows survived, and all pairs on two threads changed its
 * answer from run to run. */
static void
test_exact_ties (gconstpointer user_data)
{
  const LkMetric metric = GPOINTER_TO_UINT (user_data);
  const guint n = 3200, dim = 12, ks[] = { 1, 30, 100 }, n_queries = 24;
  g_auto(Data) d = { 0 };
  g_autofree guint32 *qrow = g_new (guint32, n_queries);
  g_autoptr(GRand) rand = g_rand_new_with_seed (77);
  guint n_isas = 0;

  make_tie_data (&d, n, dim, 3, 5);
  for (guint q = 0; q < n_queries; q++)
    qrow[q] = g_rand_int_range (rand, 0, n);

  for (guint isa = 0; isa < LK_SEARCH_N_ISAS; isa++)
    for (guint ki = 0; ki < G_N_ELEMENTS (ks); ki++)
      {
        const guint k = ks[ki];
        g_autofree LkNeighbour *ref = g_new (LkNeighbour, k);
        g_autofree LkNeighbour *single1 = g_new0 (LkNeighbour, (gsize) n_queries * 2 * k);
        g_autofree guint *single1_n = g_new0 (guint, n_queries * 2);
        g_autofree LkNeighbour *pairs1 = g_new0 (LkNeighbour, (gsize) 2 * n * k);
        g_autofree guint *pairs1_n = g_new0 (guint, 2 * n);
        g_autofree LkNeighbour *batch1 = g_new0 (LkNeighbour, (gsize) n * k);
        g_autofree guint *batch1_n = g_new0 (guint, n);

        if (_lk_search_kernels (isa) == NULL)
          continue;
        n_isas++;
        for (guint threads = 1; threads <= 3; threads++)
          {
            g_autoptr(GError) error = NULL;
            g_autoptr(LkSearchIndex) index = NULL;
            g_autofree LkNeighbour *out = g_new0 (LkNeighbour, (gsize) 2 * n * k);
            g_autofree guint *found = g_new0 (guint, 2 * n);
            g_autofree guint32 *ex = g_new (guint32, n);

            index = lk_search_index_new (d.data, n, dim, NULL, 0, d.labels, d.n_categories,
                                         metric, &error);
            g_assert_no_error (error);
            g_assert_true (_lk_search_index_set_isa (index, isa));
            lk_search_index_set_n_threads (index, threads);

            /* Single queries (3,200 rows are enough panels to split over
             * three threads), over the whole pool and one category. */
            for (guint q = 0; q < n_queries; q++)
              for (guint c = 0; c < 2; c++)
                {
                  const float *v = d.data + (gsize) qrow[q] * dim;
                  gint cat = c ? (gint) d.labels[qrow[q]] : LK_SEARCH_ANY_CATEGORY;
                  guint32 exq = q % 2 ? qrow[q] : LK_SEARCH_NO_EXCLUDE;
                  LkNeighbour *o = out + (gsize) (2 * q + c) * k;
                  guint nf = lk_search_query (index, v, k, cat, exq, o);
                  if (threads == 1)
                    {
                      guint nr = lk_search_naive (d.data, n, dim, NULL, 0, d.labels, metric, v, k,
                                                  cat, exq, ref);
                      assert_same_list (o, nf, ref, nr, 0);
                      assert_smallest_kept (&d, metric, v, cat, exq, o, nf, k);
                      single1_n[2 * q + c] = nf;
                    }
                  else
                    g_assert_cmpuint (nf, ==, single1_n[2 * q + c]);
                }
            if (threads == 1)
              memcpy (single1, out, (gsize) n_queries * 2 * k * sizeof (LkNeighbour));
            else
              g_assert_cmpmem (out, (gsize) n_queries * 2 * k * sizeof (LkNeighbour), single1,
                               (gsize) n_queries * 2 * k * sizeof (LkNeighbour));
            /* The float16 first pass, where the instruction set has it. */
            if (_lk_search_kernels (isa)->scan_half != NULL
                && lk_search_index_set_half_first_pass (index, TRUE))
              {
                for (guint q = 0; q < n_queries; q++)
                  for (guint c = 0; c < 2; c++)
                    {
                      gint cat = c ? (gint) d.labels[qrow[q]] : LK_SEARCH_ANY_CATEGORY;
                      guint32 exq = q % 2 ? qrow[q] : LK_SEARCH_NO_EXCLUDE;
                      LkNeighbour *o = out + (gsize) (2 * q + c) * k;
                      memset (o, 0, k * sizeof (LkNeighbour));
                      g_assert_cmpuint (lk_search_query (index, d.data + (gsize) qrow[q] * dim, k,
                                                         cat, exq, o),
                                        ==, single1_n[2 * q + c]);
                    }
                g_assert_cmpmem (out, (gsize) n_queries * 2 * k * sizeof (LkNeighbour), single1,
                                 (gsize) n_queries * 2 * k * sizeof (LkNeighbour));
                lk_search_index_set_half_first_pass (index, FALSE);
              }

            /* Every row as a batched query, itself excluded. */
            memset (out, 0, (gsize) n * k * sizeof (LkNeighbour));
            for (guint i = 0; i < n; i++)
              ex[i] = i;
            g_assert_true (lk_search_batch (index, d.data, n, k, NULL, ex, out, found, NULL,
                                            &error));
            g_assert_no_error (error);
            if (threads == 1)
              {
                memcpy (batch1, out, (gsize) n * k * sizeof (LkNeighbour));
                memcpy (batch1_n, found, n * sizeof (guint));
              }
            else
              {
                g_assert_cmpmem (found, n * sizeof (guint), batch1_n, n * sizeof (guint));
                g_assert_cmpmem (out, (gsize) n * k * sizeof (LkNeighbour), batch1,
                                 (gsize) n * k * sizeof (LkNeighbour));
              }

            /* All pairs, whole pool and within categories; the index has
             * no subset, so its order is the ids'. */
            memset (out, 0, (gsize) 2 * n * k * sizeof (LkNeighbour));
            for (guint within = 0; within < 2; within++)
              {
                g_assert_true (lk_search_all_pairs (index, k, within, out + (gsize) within * n * k,
                                                    found + within * n, NULL, &error));
                g_assert_no_error (error);
              }
            if (threads == 1)
              {
                memcpy (pairs1, out, (gsize) 2 * n * k * sizeof (LkNeighbour));
                memcpy (pairs1_n, found, 2 * n * sizeof (guint));
              }
            else
              {
                g_assert_cmpmem (found, 2 * n * sizeof (guint), pairs1_n, 2 * n * sizeof (guint));
                g_assert_cmpmem (out, (gsize) 2 * n * k * sizeof (LkNeighbour), pairs1,
                                 (gsize) 2 * n * k * sizeof (LkNeighbour));
              }
          }

        /* The one-thread batch and all pairs against the reference: a
         * sample of rows (the other thread counts are byte-identical). */
        for (guint i = 0; i < n; i += 19)
          {
            const float *v = d.data + (gsize) i * dim;
            guint nr = lk_search_naive (d.data, n, dim, NULL, 0, d.labels, metric, v, k,
                                        LK_SEARCH_ANY_CATEGORY, i, ref);
            assert_same_list (batch1 + (gsize) i * k, batch1_n[i], ref, nr, 0);
            assert_same_list (pairs1 + (gsize) i * k, pairs1_n[i], ref, nr, 0);
            if (i % 95 == 0)
              assert_smallest_kept (&d, metric, v, LK_SEARCH_ANY_CATEGORY, i,
                                    pairs1 + (gsize) i * k, pairs1_n[i], k);
            nr = lk_search_naive (d.data, n, dim, NULL, 0, d.labels, metric, v, k, d.labels[i], i,
                                  ref);
            assert_same_list (pairs1 + (gsize) (n + i) * k, pairs1_n[n + i], ref, nr, 0);
          }
      }
  g_assert_cmpuint (n_isas, >, 0);
}

/* Every instruction set's exact distance is the portable one to the
 * last bit (the reference and the re-rank of each path use them), on
 * values of mixed scale and sign and every dimension up to 40. */
static void
test_exact_kernels (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  float q[160], x[160];

  for (guint dim = 1; dim <= 160; dim += dim < 40 ? 1 : 40)
    for (guint rep = 0; rep < 50; rep++)
      {
        for (guint j = 0; j < dim; j++)
          {
            q[j] = (float) (g_rand_double_range (rand, -1, 1) * pow (10, g_rand_int_range (rand, -3, 4)));
            x[j] = rep % 3 == 0 ? nextafterf (q[j], 2 * q[j])
                                : (float) (g_rand_double_range (rand, -1, 1) * pow (10, g_rand_int_range (rand, -3, 4)));
          }
        for (guint l2 = 0; l2 < 2; l2++)
          {
            double want = _lk_search_exact_distance (l2, q, x, dim);
            for (guint isa = 0; isa < LK_SEARCH_N_ISAS; isa++)
              {
                const LkSearchKernels *kern = _lk_search_kernels (isa);
                if (kern != NULL)
                  g_assert_cmpmem (&want, sizeof want,
                                   &(double) { kern->exact (l2, q, x, dim) }, sizeof (double));
              }
          }
      }
}

/* A query whose pool is smaller than k, and k = 0. */
static void
test_small_pools (void)
{
  g_auto(Data) d = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(LkSearchIndex) index = NULL;
  LkNeighbour out[50];

  make_data (&d, 40, 5, 4, FALSE, 3);
  index = lk_search_index_new (d.data, d.n, d.dim, NULL, 0, d.labels, d.n_categories,
                               LK_METRIC_L2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lk_search_query (index, d.data, 50, 0, LK_SEARCH_NO_EXCLUDE, out), ==, 0);
  g_assert_cmpuint (lk_search_query (index, d.data, 50, 1, LK_SEARCH_NO_EXCLUDE, out), ==, 1);
  g_assert_cmpuint (out[0].id, ==, 0);
  g_assert_cmpfloat (out[0].distance, ==, 0);
  g_assert_cmpuint (lk_search_query (index, d.data, 50, 1, 0, out), ==, 0);
  g_assert_cmpuint (lk_search_query (index, d.data, 50, LK_SEARCH_ANY_CATEGORY, 0, out), ==, 39);
  g_assert_cmpuint (lk_search_query (index, d.data, 0, LK_SEARCH_ANY_CATEGORY, 0, out), ==, 0);
  {
    g_autofree LkNeighbour *all = g_new (LkNeighbour, 40 * 50);
    g_autofree guint *n_found = g_new (guint, 40);
    g_assert_true (lk_search_all_pairs (index, 50, TRUE, all, n_found, NULL, &error));
    g_assert_cmpuint (n_found[0], ==, 0);               /* alone in category 1 */
    g_assert_cmpuint (n_found[1], ==, 4);               /* five rows in category 2 */
    g_assert_cmpuint (n_found[1], ==, lk_search_index_get_category_size (index, 2) - 1);
  }
}

static void
test_invalid_subset (void)
{
  float data[6] = { 0 };
  guint32 twice[2] = { 1, 1 }, outside[1] = { 3 };
  g_autoptr(GError) error = NULL;

  g_assert_null (lk_search_index_new (data, 3, 2, twice, 2, NULL, 0, LK_METRIC_L2, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (lk_search_index_new (data, 3, 2, outside, 1, NULL, 0, LK_METRIC_L2, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
}

static void
test_cancel (void)
{
  g_auto(Data) d = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(LkSearchIndex) index = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree LkNeighbour *out = g_new (LkNeighbour, 300 * 5);
  guint found[300];

  make_data (&d, 300, 8, 4, FALSE, 5);
  index = lk_search_index_new (d.data, d.n, d.dim, NULL, 0, NULL, 0, LK_METRIC_L2, &error);
  g_cancellable_cancel (cancellable);
  g_assert_false (lk_search_batch (index, d.data, 300, 5, NULL, NULL, out, found, cancellable,
                                   &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (lk_search_all_pairs (index, 5, FALSE, out, found, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  static Case cases[LK_SEARCH_N_ISAS * 2 * 2 * 2 * 2];
  guint n = 0;

  lk_test_init (&argc, &argv);
  for (guint isa = 0; isa < LK_SEARCH_N_ISAS; isa++)
    for (guint threads = 1; threads <= 2; threads++)
      for (guint metric = 0; metric < 2; metric++)
        for (guint ties = 0; ties < 2; ties++)
          for (guint subset = 0; subset < 2; subset++)
            {
              Case *c = &cases[n++];
              g_autofree char *path = NULL;
              c->isa = isa;
              c->threads = threads;
              c->metric = metric;
              c->ties = ties;
              c->subset = subset;
              path = g_strdup_printf ("/engine/search/%s/%u-threads/%s/%s/%s",
                                      _lk_search_isa_name (isa), threads,
                                      metric == LK_METRIC_L2 ? "l2" : "ip",
                                      ties ? "ties" : "random", subset ? "subset" : "all");
              g_test_add_data_func (path, c, test_paths);
            }
  g_test_add_data_func ("/engine/search/exact-ties/l2", GUINT_TO_POINTER (LK_METRIC_L2),
                        test_exact_ties);
  g_test_add_data_func ("/engine/search/exact-ties/ip", GUINT_TO_POINTER (LK_METRIC_IP),
                        test_exact_ties);
  g_test_add_func ("/engine/search/exact-kernels", test_exact_kernels);
  g_test_add_func ("/engine/search/half-first-pass", test_half_first_pass);
  g_test_add_func ("/engine/search/small-pools", test_small_pools);
  g_test_add_func ("/engine/search/invalid-subset", test_invalid_subset);
  g_test_add_func ("/engine/search/cancel", test_cancel);
  return g_test_run ();
}
