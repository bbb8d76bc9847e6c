/* cli-export.c — `likeness-cli export`: an embedding as NumPy .npy plus a
 * TSV of paths and categories; the labelled triplets out to a CSV file,
 * generated triplets to a file, or a CSV file in to the collection. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli.h"
#include "embeddings.h"
#include "relevance.h"
#include "triplets.h"

static void
on_progress (guint done, guint total, gpointer user_data)
{
  lk_cli_progress_update (user_data, _("Embedding"), done, total, NULL);
}

static void
print_problems (LkTripletSet *set, const char *path)
{
  guint n;
  const LkTripletProblem *p = lk_triplet_set_get_problems (set, &n);
  g_autofree char *shown = g_filename_display_name (path);
  for (guint i = 0; i < n; i++)
    fprintf (stderr, "%s: %s\n", shown, p[i].message);
}

static int
export_embedding (LkCollection *coll, const char *source, const char *prefix, gboolean quiet)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkEmbedding) emb = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *npy = g_strdup_printf ("%s.npy", prefix);
  g_autofree char *tsv = g_strdup_printf ("%s.tsv", prefix);
  LkCliProgress *bar = lk_cli_progress_new (!quiet);

  lk_cli_cancel_on_sigint (cancellable);
  emb = lk_embedding_source_load (coll, source, on_progress, bar, cancellable, &error);
  lk_cli_progress_free (bar);
  if (emb == NULL || !lk_embedding_export_npy (emb, coll, npy, tsv, &error))
    return lk_cli_fail (error);
  printf (_("%s: %u × %u float32 in %s, paths and categories in %s\n"),
          lk_embedding_get_name (emb), lk_embedding_get_n (emb), lk_embedding_get_dim (emb), npy,
          tsv);
  return LK_EXIT_OK;
}

static LkTripletSet *
generate (LkCollection *coll, const char *kind, guint n, guint64 seed, GError **error)
{
  if (g_str_equal (kind, "class"))
    return lk_triplets_generate_class (lk_collection_get_labels (coll),
                                       lk_collection_get_n_images (coll), NULL, 0, NULL, 0, n,
                                       seed);
  if (g_str_equal (kind, "in-class"))
    {
      g_autoptr(LkFeatures) f = lk_features_load_or_compute_for_collection (coll, 0, NULL, NULL,
                                                                            NULL, error);
      g_autoptr(LkRelevance) rel = NULL;
      LkGoldenWeights w;
      if (f == NULL)
        return NULL;
      lk_golden_weights_init_default (&w);
      rel = lk_relevance_load_or_compute_for_collection (coll, f, &w, NULL, NULL, NULL, NULL,
                                                         error);
      if (rel == NULL)
        return NULL;
      return lk_triplets_generate_in_class (rel, NULL, 0, NULL, 0, n, 0.1f, seed);
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("--generate takes class or in-class"));
  return NULL;
}

int
lk_cli_export (int argc, char **argv)
{
  g_auto(LkCliCollectionArgs) args = { 0 };
  g_autofree char *source = NULL, *output = NULL, *triplets_out = NULL, *triplets_in = NULL;
  g_autofree char *gen = NULL;
  int n = 1000;
  gint64 seed = 1;
  const GOptionEntry entries[] = {
    { "source", 's', 0, G_OPTION_ARG_STRING, &source,
      N_("Embedding source to export (default golden)"), N_("NAME") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Write PREFIX.npy and PREFIX.tsv (default: the source’s name)"), N_("PREFIX") },
    { "triplets-out", 0, 0, G_OPTION_ARG_FILENAME, &triplets_out,
      N_("Write the collection’s labelled triplets (or --generate’d ones) to FILE"), N_("FILE") },
    { "triplets-in", 0, 0, G_OPTION_ARG_FILENAME, &triplets_in,
      N_("Add the valid rows of FILE to the collection’s labelled triplets"), N_("FILE") },
    { "generate", 0, 0, G_OPTION_ARG_STRING, &gen,
      N_("With --triplets-out: generated triplets, class or in-class"), N_("KIND") },
    { "n", 'n', 0, G_OPTION_ARG_INT, &n, N_("Triplets to generate (default 1000)"), N_("N") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Seed of --generate (default 1)"), N_("S") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  g_autofree char *own = NULL;

  if (!lk_cli_parse (&argc, &argv, _("COLLECTION"),
                     _("Exports an embedding for NumPy (numpy.load reads the .npy), or the "
                       "triplet CSV out of or into the collection’s data."),
                     entries, &args))
    return LK_EXIT_USAGE;
  if ((triplets_out != NULL) + (triplets_in != NULL) + (source != NULL || output != NULL) > 1)
    return lk_cli_usage_error (argv[0], _("give one of --source/--output, --triplets-out and "
                                          "--triplets-in"));
  if (gen != NULL && triplets_out == NULL)
    return lk_cli_usage_error (argv[0], _("--generate needs --triplets-out"));
  if (n < 1)
    return lk_cli_usage_error (argv[0], _("-n must be at least 1"));
  coll = lk_cli_open_collection (argc, argv, &args, &error);
  if (coll == NULL)
    return lk_cli_fail (error);
  own = lk_triplets_default_path (coll);

  if (triplets_out != NULL)
    {
      g_autoptr(LkTripletSet) set = NULL;
      guint rows;
      if (gen != NULL)
        set = generate (coll, gen, (guint) n, (guint64) seed, &error);
      else
        {
          set = lk_triplet_set_load (own, coll, &error);
          if (set != NULL)
            print_problems (set, own);
        }
      if (set == NULL || !lk_triplet_set_save (set, coll, triplets_out, &error))
        return lk_cli_fail (error);
      lk_triplet_set_get_rows (set, &rows);
      printf (_("%u rows (%u triplets) written to %s\n"), rows,
              lk_triplet_set_get_triplets (set, NULL, NULL, NULL), triplets_out);
      return LK_EXIT_OK;
    }
  if (triplets_in != NULL)
    {
      g_autoptr(LkTripletSet) set = lk_triplet_set_load (triplets_in, coll, &error);
      const LkTripletRow *rows;
      guint n_rows, n_problems;
      if (set == NULL)
        return lk_cli_fail (error);
      print_problems (set, triplets_in);
      rows = lk_triplet_set_get_rows (set, &n_rows);
      lk_triplet_set_get_problems (set, &n_problems);
      for (guint i = 0; i < n_rows; i++)
        if (!lk_triplets_append (own, coll, rows[i].query, rows[i].a, rows[i].b, rows[i].rating,
                                 rows[i].rater, &error))
          return lk_cli_fail (error);
      printf (_("%u rows added to %s, %u skipped\n"), n_rows, own, n_problems);
      return LK_EXIT_OK;
    }
  if (source == NULL)
    source = g_strdup ("golden");
  if (output == NULL)
    output = g_strdup (source);
  return export_embedding (coll, source, output, args.quiet);
}
