/* cli-eval.c — `likeness-cli eval`: the evaluation table of a collection
 * (evaluate.h) as text or JSON. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli.h"
#include "evaluate.h"

static void
on_progress (const char *source, guint done, guint total, gpointer user_data)
{
  lk_cli_progress_update (user_data, source != NULL ? source : _("Done"), done, total, NULL);
}

static char *
row_name (const LkEvalRow *row)
{
  return g_strdup_printf ("%s (%s)", row->label, row->source);
}

static void
print_text (const LkEvalTable *t)
{
  int w = 36;   /* the name column: as wide as its longest name */

  for (guint r = 0; r < t->n_rows; r++)
    {
      g_autofree char *name = row_name (&t->rows[r]);
      w = MAX (w, lk_cli_width (name));
    }
  printf (_("Evaluation of %s: %s; score-at-%u ranks %s.\n"), t->collection, t->queries, t->k,
          t->pool == LK_EVAL_POOL_CATEGORY ? _("the query’s category of the pool")
                                           : _("the whole pool"));
  printf (_("Triplet sets:\n"));
  for (guint s = 0; s < t->n_sets; s++)
    {
      printf ("  %-12s %u %s", t->sets[s].name, t->sets[s].n_triplets, _("triplets"));
      if (t->sets[s].n_rows > 0)
        printf (_(" (from %u answers, %u rows skipped)"), t->sets[s].n_rows, t->sets[s].n_problems);
      printf (": %s\n", t->sets[s].description);
    }
  if (t->note != NULL)
    printf ("%s\n", t->note);
  {
    const char *source = _("source"), *dim = _("dim");
    const char *recall = _("Recall@1"), *map = _("mAP@R"), *prec = _("prec.");
    printf ("\n%-*s %*s", lk_cli_pad (source, w), source, lk_cli_pad (dim, 6), dim);
    for (guint s = 0; s < t->n_sets; s++)
      printf ("  %-19s", t->sets[s].name);
    printf ("  %*s  %*s\n%-*s %6s", lk_cli_pad (recall, 8), recall, lk_cli_pad (map, 7), map,
            w, "", "");
    for (guint s = 0; s < t->n_sets; s++)
      {
        g_autofree char *score = g_strdup_printf ("score@%u", t->k);
        printf ("  %*s %11s", lk_cli_pad (prec, 7), prec, score);
      }
  }
  printf ("\n");
  for (guint r = 0; r < t->n_rows; r++)
    {
      const LkEvalRow *row = &t->rows[r];
      g_autofree char *name = row_name (row);
      if (row->error != NULL)
        {
          printf ("%-*s %s\n", lk_cli_pad (name, w), name, row->error);
          continue;
        }
      printf ("%-*s %6u", lk_cli_pad (name, w), name, row->dim);
      for (guint s = 0; s < t->n_sets; s++)
        printf ("  %6.1f%% %11" G_GINT64_FORMAT, 100 * row->precision[s], row->score[s]);
      printf ("  %8.4f  %7.4f\n", row->recall_at_1, row->map_at_r);
    }
  /* The sample is the same for every row; a row that failed has none. */
  for (guint r = 0; r < t->n_rows; r++)
    if (t->rows[r].error == NULL)
      {
        if (t->rows[r].map_queries < t->n_queries)
          printf (_("mAP@R over %u of the queries (a seeded sample, to bound memory).\n"),
                  t->rows[r].map_queries);
        break;
      }
}

static void
print_json (const LkEvalTable *t)
{
  g_autoptr(GString) s = g_string_new ("{\n  \"collection\": ");

  lk_cli_json_string (s, t->collection);
  g_string_append (s, ",\n  \"queries\": ");
  lk_cli_json_string (s, t->queries);
  g_string_append_printf (s, ",\n  \"n_queries\": %u,\n  \"n_pool\": %u,\n  \"k\": %u,"
                          "\n  \"pool\": \"%s\",\n  \"note\": ", t->n_queries, t->n_pool, t->k,
                          t->pool == LK_EVAL_POOL_CATEGORY ? "category" : "all");
  if (t->note != NULL)
    lk_cli_json_string (s, t->note);
  else
    g_string_append (s, "null");
  g_string_append (s, ",\n  \"sets\": [");
  for (guint i = 0; i < t->n_sets; i++)
    {
      g_string_append (s, i > 0 ? ",\n    {\"name\": " : "\n    {\"name\": ");
      lk_cli_json_string (s, t->sets[i].name);
      g_string_append (s, ", \"description\": ");
      lk_cli_json_string (s, t->sets[i].description);
      g_string_append_printf (s, ", \"triplets\": %u, \"rows\": %u, \"skipped\": %u}",
                              t->sets[i].n_triplets, t->sets[i].n_rows, t->sets[i].n_problems);
    }
  g_string_append (s, "\n  ],\n  \"rows\": [");
  for (guint r = 0; r < t->n_rows; r++)
    {
      const LkEvalRow *row = &t->rows[r];
      g_string_append (s, r > 0 ? ",\n    {\"source\": " : "\n    {\"source\": ");
      lk_cli_json_string (s, row->source);
      g_string_append (s, ", \"label\": ");
      lk_cli_json_string (s, row->label);
      if (row->error != NULL)
        {
          g_string_append (s, ", \"error\": ");
          lk_cli_json_string (s, row->error);
          g_string_append (s, "}");
          continue;
        }
      g_string_append_printf (s, ", \"kind\": \"%s\", \"dim\": %u",
                              row->kind == LK_EMBEDDING_MODEL ? "model" : "baseline", row->dim);
      for (guint i = 0; i < t->n_sets; i++)
        {
          g_string_append (s, ", ");
          lk_cli_json_string (s, t->sets[i].name);
          g_string_append_printf (s, ": {\"precision\": %.6f, \"score\": %" G_GINT64_FORMAT
                                  ", \"counted\": %u}", row->precision[i], row->score[i],
                                  row->score_counted[i]);
        }
      g_string_append_printf (s, ", \"recall_at_1\": %.6f, \"map_at_r\": %.6f, "
                              "\"map_queries\": %u, \"seconds\": %.3f}",
                              row->recall_at_1, row->map_at_r, row->map_queries, row->seconds);
    }
  g_string_append (s, "\n  ]\n}\n");
  fputs (s->str, stdout);
}

int
lk_cli_eval (int argc, char **argv)
{
  g_auto(LkCliCollectionArgs) args = { 0 };
  g_autofree char *triplets = NULL, *sources = NULL, *pool = NULL;
  int k = 30, n_triplets = 5000;
  gint64 seed = 1;
  const GOptionEntry entries[] = {
    { "triplets", 't', 0, G_OPTION_ARG_FILENAME, &triplets,
      N_("Labelled triplets (default: the collection’s own, else generated sets)"), N_("FILE") },
    { "sources", 's', 0, G_OPTION_ARG_STRING, &sources,
      N_("Comma-separated sources (default: every source)"), N_("LIST") },
    { "k", 'k', 0, G_OPTION_ARG_INT, &k, N_("K of score-at-K (default 30)"), N_("K") },
    { "pool", 0, 0, G_OPTION_ARG_STRING, &pool,
      N_("What score-at-K ranks: category (default) or all"), N_("POOL") },
    { "n-triplets", 'n', 0, G_OPTION_ARG_INT, &n_triplets,
      N_("Triplets per generated set (default 5000)"), N_("N") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Seed of generated sets (default 1)"), N_("S") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(LkEvalTable) table = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(GStrv) names = NULL;
  LkEvalOptions options;
  LkCliProgress *bar;

  if (!lk_cli_parse (&argc, &argv, _("COLLECTION"),
                     _("Prints the paper’s evaluation table for the collection: every baseline "
                       "and model, similarity precision and score-at-K on each triplet set, "
                       "Recall@1 and mAP@R. Fashion-MNIST: test queries against the train split."),
                     entries, &args))
    return LK_EXIT_USAGE;
  if (k < 1 || n_triplets < 1)
    return lk_cli_usage_error (argv[0], _("-k and --n-triplets must be at least 1"));
  lk_eval_options_init (&options);
  if (pool != NULL && g_str_equal (pool, "all"))
    options.pool = LK_EVAL_POOL_ALL;
  else if (pool != NULL && !g_str_equal (pool, "category"))
    return lk_cli_usage_error (argv[0], _("--pool takes category or all"));
  coll = lk_cli_open_collection (argc, argv, &args, &error);
  if (coll == NULL)
    return lk_cli_fail (error);

  options.triplets_path = triplets;
  options.k = (guint) k;
  options.n_generated = (guint) n_triplets;
  options.seed = (guint64) seed;
  options.n_threads = args.threads > 0 ? (guint) args.threads : 0;
  if (sources != NULL)
    {
      names = g_strsplit (sources, ",", -1);
      options.sources = (const char *const *) names;
    }
  lk_cli_cancel_on_sigint (cancellable);
  bar = lk_cli_progress_new (!args.quiet);
  table = lk_evaluate (coll, &options, on_progress, bar, cancellable, &error);
  lk_cli_progress_free (bar);
  if (table == NULL)
    return lk_cli_fail (error);
  if (args.json)
    print_json (table);
  else
    print_text (table);
  return LK_EXIT_OK;
}
