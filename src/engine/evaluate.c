/* evaluate.c — the evaluation table: triplet sets, one search index per
 * source, the metrics. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "error.h"
#include "evaluate.h"
#include "metrics.h"
#include "relevance.h"
#include "triplets.h"

void
lk_eval_options_init (LkEvalOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  options->n_generated = 5000;
  options->in_class_margin = 0.1f;
  options->seed = 1;
  options->k = 30;
  options->pool = LK_EVAL_POOL_CATEGORY;
  options->map_budget = 8000000;
}

void
lk_eval_table_free (LkEvalTable *table)
{
  if (table == NULL)
    return;
  g_free (table->collection);
  g_free (table->queries);
  for (guint s = 0; s < table->n_sets; s++)
    {
      g_free (table->sets[s].name);
      g_free (table->sets[s].description);
    }
  for (guint r = 0; r < table->n_rows; r++)
    {
      g_free (table->rows[r].source);
      g_free (table->rows[r].label);
      g_free (table->rows[r].error);
    }
  g_free (table->rows);
  g_free (table->note);
  g_free (table);
}

/* What every source is measured on. */
typedef struct {
  LkCollection  *collection;
  const LkEvalOptions *o;
  const guint16 *labels;
  guint32       *queries;       /* (n_queries,) ascending */
  guint          n_queries;
  guint32       *pool;          /* (n_pool,) ascending */
  guint          n_pool;
  gboolean       same;          /* queries and pool are the same images */
  guint16       *query_labels;
  LkTripletSet  *sets[LK_EVAL_MAX_SETS];
  guint          n_sets;
  /* distinct triplet queries of each set, ascending */
  guint32       *tq[LK_EVAL_MAX_SETS];
  guint          n_tq[LK_EVAL_MAX_SETS];
  /* mAP@R sample */
  guint32       *map_queries;
  guint          n_map;
  guint         *map_r;
  guint16       *map_labels;
  guint          map_k;
} Plan;

static void
plan_clear (Plan *p)
{
  g_free (p->queries);
  g_free (p->pool);
  g_free (p->query_labels);
  for (guint s = 0; s < p->n_sets; s++)
    {
      lk_triplet_set_free (p->sets[s]);
      g_free (p->tq[s]);
    }
  g_free (p->map_queries);
  g_free (p->map_r);
  g_free (p->map_labels);
}

static int
cmp_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static guint32 *
distinct_queries (LkTripletSet *set, guint *n_out)
{
  const guint32 *q;
  guint n = lk_triplet_set_get_triplets (set, &q, NULL, NULL), m = 0;
  guint32 *out = g_memdup2 (q, MAX (n, 1) * sizeof (guint32));

  qsort (out, n, sizeof (guint32), cmp_u32);
  for (guint i = 0; i < n; i++)
    if (m == 0 || out[m - 1] != out[i])
      out[m++] = out[i];
  *n_out = m;
  return out;
}

static gboolean
plan_triplets (Plan *p, GCancellable *cancellable, GError **error)
{
  const LkEvalOptions *o = p->o;
  g_autofree char *own = lk_triplets_default_path (p->collection);
  const char *path = o->triplets_path;
  gboolean own_has = FALSE;

  if (path == NULL && !o->generated_sets && g_file_test (own, G_FILE_TEST_EXISTS))
    {
      g_autoptr(LkTripletSet) s = lk_triplet_set_load (own, p->collection, NULL);
      own_has = s != NULL && lk_triplet_set_get_triplets (s, NULL, NULL, NULL) > 0;
      if (own_has)
        path = own;
    }
  if (path != NULL)
    {
      p->sets[0] = lk_triplet_set_load (path, p->collection, error);
      if (p->sets[0] == NULL)
        return FALSE;
      p->n_sets = 1;
      if (lk_triplet_set_get_triplets (p->sets[0], NULL, NULL, NULL) == 0)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("%s holds no usable triplet (only A or B answers make triplets)"), path);
          return FALSE;
        }
      return TRUE;
    }

  p->sets[0] = lk_triplets_generate_class (p->labels, lk_collection_get_n_images (p->collection),
                                           p->queries, p->n_queries, p->pool, p->n_pool,
                                           o->n_generated, o->seed);
  {
    g_autoptr(LkFeatures) features = NULL;
    g_autoptr(LkRelevance) rel = NULL;
    LkGoldenWeights w;

    features = lk_features_load_or_compute_for_collection (p->collection, o->n_threads, NULL,
                                                           NULL, cancellable, error);
    if (features == NULL)
      return FALSE;
    lk_golden_weights_init_default (&w);
    rel = lk_relevance_load_or_compute_for_collection (p->collection, features, &w, NULL, NULL,
                                                       NULL, cancellable, error);
    if (rel == NULL)
      return FALSE;
    p->sets[1] = lk_triplets_generate_in_class (rel, p->queries, p->n_queries, p->pool,
                                                p->n_pool, o->n_generated, o->in_class_margin,
                                                o->seed);
  }
  p->n_sets = 2;
  return TRUE;
}

/* Queries for mAP@R: all of them when queries × R fits the budget, else a
 * seeded sample that fits. */
static void
plan_map (Plan *p)
{
  guint n_cat = lk_collection_get_n_categories (p->collection);
  g_autofree guint *pool_count = g_new0 (guint, n_cat);
  g_autofree guint32 *order = g_memdup2 (p->queries, MAX (p->n_queries, 1) * sizeof (guint32));
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) p->o->seed + 99);
  guint max_r = 0, n;

  for (guint i = 0; i < p->n_pool; i++)
    pool_count[p->labels[p->pool[i]]]++;
  for (guint c = 0; c < n_cat; c++)
    max_r = MAX (max_r, pool_count[c]);
  p->map_k = MAX (1, max_r);
  n = MIN (p->n_queries, MAX (1, p->o->map_budget / p->map_k));
  for (guint i = 0; i < n; i++)
    {
      guint j = i + g_rand_int_range (rand, 0, (gint32) (p->n_queries - i));
      guint32 t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  qsort (order, n, sizeof (guint32), cmp_u32);
  p->n_map = n;
  p->map_queries = g_memdup2 (order, MAX (n, 1) * sizeof (guint32));
  p->map_r = g_new (guint, MAX (n, 1));
  p->map_labels = g_new (guint16, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      guint16 c = p->labels[p->map_queries[i]];
      p->map_labels[i] = c;
      p->map_r[i] = pool_count[c] - (p->same ? 1 : 0);
    }
}

static gboolean
plan_init (Plan *p, LkCollection *collection, const LkEvalOptions *o, GCancellable *cancellable,
           GError **error)
{
  guint n = lk_collection_get_n_images (collection);
  guint n_test = 0;
  g_autofree guint *test = lk_collection_get_split_indices (collection, LK_SPLIT_TEST, &n_test);

  p->collection = collection;
  p->o = o;
  p->labels = lk_collection_get_labels (collection);
  if (n_test > 0)
    {
      guint n_train;
      g_autofree guint *train = lk_collection_get_split_indices (collection, LK_SPLIT_TRAIN,
                                                                 &n_train);
      p->queries = g_new (guint32, n_test);
      p->pool = g_new (guint32, MAX (n_train, 1));
      for (guint i = 0; i < n_test; i++)
        p->queries[i] = test[i];
      for (guint i = 0; i < n_train; i++)
        p->pool[i] = train[i];
      p->n_queries = n_test;
      p->n_pool = n_train;
    }
  else
    {
      p->queries = g_new (guint32, MAX (n, 1));
      p->pool = g_new (guint32, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        p->queries[i] = p->pool[i] = i;
      p->n_queries = p->n_pool = n;
      p->same = TRUE;
    }
  p->query_labels = g_new (guint16, MAX (p->n_queries, 1));
  for (guint i = 0; i < p->n_queries; i++)
    p->query_labels[i] = p->labels[p->queries[i]];
  if (p->n_pool < 2)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("The collection has too few images to evaluate"));
      return FALSE;
    }
  if (!plan_triplets (p, cancellable, error))
    return FALSE;
  for (guint s = 0; s < p->n_sets; s++)
    p->tq[s] = distinct_queries (p->sets[s], &p->n_tq[s]);
  if (!o->triplets_only)
    plan_map (p);
  return TRUE;
}

/* Runs @n queries (ids of the collection) against @index. */
static gboolean
search_ids (LkSearchIndex *index, LkEmbedding *emb, const guint32 *ids, guint n, guint k,
            const guint16 *labels, gboolean by_category, LkNeighbour *out, guint *found,
            GCancellable *cancellable, GError **error)
{
  guint dim = lk_embedding_get_dim (emb);
  g_autofree float *q = g_new (float, MAX (1, (gsize) n * dim));
  g_autofree gint32 *cats = g_new (gint32, MAX (n, 1));
  g_autofree guint32 *ex = g_new (guint32, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    {
      memcpy (q + (gsize) i * dim, lk_embedding_get_row (emb, ids[i]), dim * sizeof (float));
      cats[i] = by_category ? labels[ids[i]] : LK_SEARCH_ANY_CATEGORY;
      ex[i] = ids[i];
    }
  return lk_search_batch (index, q, n, k, cats, ex, out, found, cancellable, error);
}

static gboolean
eval_source (Plan *p, const char *name, LkEvalRow *row, GCancellable *cancellable,
             GError **error)
{
  const LkEvalOptions *o = p->o;
  g_autoptr(LkEmbedding) emb = NULL;
  g_autoptr(LkSearchIndex) index = NULL;
  guint n_cat = lk_collection_get_n_categories (p->collection);
  gint64 t0 = g_get_monotonic_time ();

  emb = lk_embedding_source_load (p->collection, name, NULL, NULL, cancellable, error);
  if (emb == NULL)
    return FALSE;
  row->label = g_strdup (lk_embedding_get_label (emb));
  row->kind = lk_embedding_get_kind (emb);
  row->dim = lk_embedding_get_dim (emb);
  index = lk_search_index_new (lk_embedding_get_data (emb), lk_embedding_get_n (emb),
                               lk_embedding_get_dim (emb), p->pool, p->n_pool, p->labels, n_cat,
                               LK_METRIC_L2, error);
  if (index == NULL)
    return FALSE;
  lk_search_index_set_n_threads (index, o->n_threads);

  for (guint s = 0; s < p->n_sets; s++)
    {
      const guint32 *q, *pp, *nn;
      guint nt = lk_triplet_set_get_triplets (p->sets[s], &q, &pp, &nn);
      g_autofree float *dp = g_new (float, MAX (nt, 1)), *dn = g_new (float, MAX (nt, 1));
      g_autofree LkNeighbour *top = g_new (LkNeighbour, MAX (1, (gsize) p->n_tq[s] * o->k));
      g_autofree guint *found = g_new (guint, MAX (p->n_tq[s], 1));
      LkScoreAtK score;

      for (guint t = 0; t < nt; t++)
        {
          dp[t] = lk_embedding_distance (emb, q[t], pp[t]);
          dn[t] = lk_embedding_distance (emb, q[t], nn[t]);
        }
      row->precision[s] = lk_metric_similarity_precision (dp, dn, nt);
      if (!search_ids (index, emb, p->tq[s], p->n_tq[s], o->k, p->labels,
                       o->pool == LK_EVAL_POOL_CATEGORY, top, found, cancellable, error))
        return FALSE;
      lk_metric_score_at_k (q, pp, nn, dp, dn, nt, p->tq[s], p->n_tq[s], top, found, o->k, o->k,
                            &score);
      row->score[s] = score.score;
      row->score_counted[s] = score.counted;
    }

  if (o->triplets_only)
    {
      row->seconds = (g_get_monotonic_time () - t0) / 1e6;
      return TRUE;
    }

  /* Recall@1 over every query. */
  {
    g_autofree LkNeighbour *top = g_new (LkNeighbour, MAX (p->n_queries, 1));
    g_autofree guint *found = g_new (guint, MAX (p->n_queries, 1));
    gboolean ok;
    if (p->same)
      ok = lk_search_all_pairs (index, 1, FALSE, top, found, cancellable, error);
    else
      ok = search_ids (index, emb, p->queries, p->n_queries, 1, p->labels, FALSE, top, found,
                       cancellable, error);
    if (!ok)
      return FALSE;
    /* all_pairs reports in the index order, which is p->pool = p->queries. */
    row->recall_at_1 = lk_metric_recall_at_k (p->labels, p->query_labels, top, found,
                                              p->n_queries, 1, 1);
  }

  /* mAP@R over the sampled queries. */
  {
    g_autofree LkNeighbour *top = g_new (LkNeighbour, MAX (1, (gsize) p->n_map * p->map_k));
    g_autofree guint *found = g_new (guint, MAX (p->n_map, 1));
    if (!search_ids (index, emb, p->map_queries, p->n_map, p->map_k, p->labels, FALSE, top, found,
                     cancellable, error))
      return FALSE;
    row->map_at_r = lk_metric_map_at_r (p->labels, p->map_labels, p->map_r, top, found, p->n_map,
                                        p->map_k, &row->map_queries);
  }
  row->seconds = (g_get_monotonic_time () - t0) / 1e6;
  return TRUE;
}

LkEvalTable *
lk_evaluate (LkCollection *collection, const LkEvalOptions *options, LkEvalProgress progress,
             gpointer progress_data, GCancellable *cancellable, GError **error)
{
  LkEvalOptions defaults;
  Plan plan = { 0 };
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  LkEvalTable *table;

  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (options == NULL)
    {
      lk_eval_options_init (&defaults);
      options = &defaults;
    }
  g_return_val_if_fail (options->k > 0, NULL);

  if (!plan_init (&plan, collection, options, cancellable, error))
    {
      plan_clear (&plan);
      return NULL;
    }
  if (options->sources != NULL)
    for (guint i = 0; options->sources[i] != NULL; i++)
      g_ptr_array_add (names, g_strdup (options->sources[i]));
  else
    {
      g_autoptr(GPtrArray) sources = lk_embedding_list_sources (collection);
      for (guint i = 0; i < sources->len; i++)
        {
          LkEmbeddingSource *s = sources->pdata[i];
          g_ptr_array_add (names, g_strdup (s->name));
        }
    }

  table = g_new0 (LkEvalTable, 1);
  table->collection = g_strdup (lk_collection_get_name (collection));
  table->queries = plan.same
    ? g_strdup_printf (_("each of the %u images against all the others"), plan.n_queries)
    : g_strdup_printf (_("%u test images against %u train images"), plan.n_queries, plan.n_pool);
  table->n_queries = plan.n_queries;
  table->n_pool = plan.n_pool;
  table->k = options->k;
  table->pool = options->pool;
  table->n_sets = plan.n_sets;
  for (guint s = 0; s < plan.n_sets; s++)
    {
      LkEvalSet *set = &table->sets[s];
      guint n_rows, n_problems;
      lk_triplet_set_get_rows (plan.sets[s], &n_rows);
      lk_triplet_set_get_problems (plan.sets[s], &n_problems);
      set->n_triplets = lk_triplet_set_get_triplets (plan.sets[s], NULL, NULL, NULL);
      /* Rows and problems mean something for a file only. */
      set->n_rows = plan.n_sets == 1 ? n_rows : 0;
      set->n_problems = plan.n_sets == 1 ? n_problems : 0;
      if (plan.n_sets == 1)
        {
          set->name = g_strdup ("labelled");
          set->description = g_strdup (lk_triplet_set_get_description (plan.sets[s]));
        }
      else if (s == 0)
        {
          set->name = g_strdup ("class-level");
          set->description = g_strdup_printf (
            _("generated, seed %llu: positive of the query’s category, negative of another"),
            (unsigned long long) options->seed);
        }
      else
        {
          set->name = g_strdup ("in-class");
          set->description = g_strdup_printf (
            _("generated, seed %llu: both of the query’s category, ordered by golden relevance "
              "with margin %.2f"), (unsigned long long) options->seed, options->in_class_margin);
        }
    }
  if (plan.n_sets == 2)
    /* Not a format: without this, xgettext reads "% o" in "100% on" as a
     * printf directive that every translation would have to keep.
     * xgettext:no-c-format */
    table->note = g_strdup (_("In-class triplets are ordered by golden features (default "
                              "weights), so golden features score 100% on them by construction."));
  else if (g_ptr_array_find_with_equal_func (names, "golden-learned", g_str_equal, NULL))
    table->note = g_strdup (_("Golden features (learned weights) learn their weights from the "
                              "same labelled triplets they are measured on."));

  table->rows = g_new0 (LkEvalRow, MAX (names->len, 1));
  table->n_rows = names->len;
  for (guint i = 0; i < names->len; i++)
    {
      LkEvalRow *row = &table->rows[i];
      g_autoptr(GError) local = NULL;

      if (progress != NULL)
        progress (names->pdata[i], i, names->len, progress_data);
      row->source = g_strdup (names->pdata[i]);
      if (!eval_source (&plan, names->pdata[i], row, cancellable, &local))
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              lk_eval_table_free (table);
              plan_clear (&plan);
              return NULL;
            }
          row->error = g_strdup (local->message);
          if (row->label == NULL)
            row->label = g_strdup (row->source);
        }
    }
  if (progress != NULL)
    progress (NULL, names->len, names->len, progress_data);
  plan_clear (&plan);
  return table;
}

/* ---- in a worker ---- */

typedef struct {
  LkCollection  *collection;
  LkEvalOptions  options;
  char          *triplets_path;
  GStrv          sources;
} AsyncData;

static void
async_data_free (gpointer p)
{
  AsyncData *d = p;
  lk_collection_unref (d->collection);
  g_free (d->triplets_path);
  g_strfreev (d->sources);
  g_free (d);
}

static void
evaluate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  AsyncData *d = task_data;
  GError *error = NULL;
  LkEvalTable *table = lk_evaluate (d->collection, &d->options, NULL, NULL, cancellable, &error);

  if (table == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, table, (GDestroyNotify) lk_eval_table_free);
}

void
lk_evaluate_async (LkCollection *collection, const LkEvalOptions *options,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  AsyncData *d = g_new0 (AsyncData, 1);

  g_return_if_fail (collection != NULL);
  d->collection = lk_collection_ref (collection);
  if (options != NULL)
    d->options = *options;
  else
    lk_eval_options_init (&d->options);
  d->triplets_path = g_strdup (d->options.triplets_path);
  d->options.triplets_path = d->triplets_path;
  d->sources = g_strdupv ((char **) d->options.sources);
  d->options.sources = (const char *const *) d->sources;
  g_task_set_source_tag (task, lk_evaluate_async);
  g_task_set_task_data (task, d, async_data_free);
  g_task_run_in_thread (task, evaluate_thread);
}

LkEvalTable *
lk_evaluate_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
