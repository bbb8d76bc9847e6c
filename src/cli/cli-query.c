/* cli-query.c — `likeness-cli query`: the nearest neighbours of one image
 * of the collection, or of an image file from outside, by one source. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "embeddings.h"
#include "search.h"

static void
on_progress (guint done, guint total, gpointer user_data)
{
  lk_cli_progress_update (user_data, _("Embedding"), done, total, NULL);
}

/* An image of the collection by its relative path, or by its index. */
static gboolean
find_image (LkCollection *coll, const char *arg, guint *index, GError **error)
{
  char *end = NULL;
  guint64 v;

  if (lk_collection_find_path (coll, arg, index))
    return TRUE;
  v = g_ascii_strtoull (arg, &end, 10);
  if (end != arg && *end == '\0' && v < lk_collection_get_n_images (coll))
    {
      *index = (guint) v;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("“%s” is neither a path nor an index of an image of the collection"), arg);
  return FALSE;
}

static gboolean
find_category (LkCollection *coll, const char *name, gint *out, GError **error)
{
  for (guint c = 0; c < lk_collection_get_n_categories (coll); c++)
    if (g_str_equal (lk_collection_get_category_name (coll, c), name))
      {
        *out = (gint) c;
        return TRUE;
      }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("the collection has no category “%s”"), name);
  return FALSE;
}

int
lk_cli_query (int argc, char **argv)
{
  g_auto(LkCliCollectionArgs) args = { 0 };
  g_autofree char *source = NULL, *file = NULL, *category = NULL, *split = NULL;
  int k = 10;
  const GOptionEntry entries[] = {
    { "source", 's', 0, G_OPTION_ARG_STRING, &source,
      N_("Embedding source that ranks (default golden)"), N_("NAME") },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
      N_("Query with an image file from outside the collection"), N_("PATH") },
    { "k", 'k', 0, G_OPTION_ARG_INT, &k, N_("Neighbours to show (default 10)"), N_("K") },
    { "category", 'c', 0, G_OPTION_ARG_STRING, &category,
      N_("Only neighbours of this category"), N_("NAME") },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split,
      N_("Only neighbours of this split: all, train or test (default all)"), N_("SPLIT") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(LkEmbedding) emb = NULL;
  g_autoptr(LkSearchIndex) index = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree float *query = NULL;
  g_autofree LkNeighbour *out = NULL;
  g_autofree guint *pool = NULL;
  const char *image_arg = NULL;
  guint n_pool = 0, image = 0, n;
  gint cat = LK_SEARCH_ANY_CATEGORY;
  LkCliProgress *bar;

  if (!lk_cli_parse (&argc, &argv, _("COLLECTION IMAGE"),
                     _("Prints the nearest neighbours of IMAGE (a path relative to the collection "
                       "or an index), or of --file, with their squared distances."),
                     entries, &args))
    return LK_EXIT_USAGE;
  if (k < 1)
    return lk_cli_usage_error (argv[0], _("-k must be at least 1"));
  if (file == NULL)
    {
      if (argc < 2)
        return lk_cli_usage_error (argv[0], _("give an image of the collection, or --file"));
      image_arg = argv[--argc];
    }
  coll = lk_cli_open_collection (argc, argv, &args, &error);
  if (coll == NULL)
    return lk_cli_fail (error);
  if ((image_arg != NULL && !find_image (coll, image_arg, &image, &error))
      || (category != NULL && !find_category (coll, category, &cat, &error)))
    return lk_cli_fail (error);
  if (split == NULL || g_str_equal (split, "all"))
    pool = NULL;
  else if (g_str_equal (split, "train") || g_str_equal (split, "test"))
    {
      pool = lk_collection_get_split_indices (coll, g_str_equal (split, "train") ? LK_SPLIT_TRAIN
                                                                             : LK_SPLIT_TEST,
                                              &n_pool);
      if (n_pool == 0)
        return lk_cli_usage_error (argv[0], _("this collection has no such split"));
    }
  else
    return lk_cli_usage_error (argv[0], _("--split takes all, train or test"));

  lk_cli_cancel_on_sigint (cancellable);
  bar = lk_cli_progress_new (!args.quiet);
  emb = lk_embedding_source_load (coll, source != NULL ? source : "golden", on_progress, bar,
                                  cancellable, &error);
  lk_cli_progress_free (bar);
  if (emb == NULL)
    return lk_cli_fail (error);

  query = g_new (float, lk_embedding_get_dim (emb));
  if (file != NULL)
    {
      g_autoptr(LkEmbedder) embedder = lk_embedder_new_for_source (coll, lk_embedding_get_name (emb),
                                                                   &error);
      if (embedder == NULL || !lk_embedder_embed_file (embedder, coll, file, query, &error))
        return lk_cli_fail (error);
    }
  else
    memcpy (query, lk_embedding_get_row (emb, image), lk_embedding_get_dim (emb) * sizeof (float));

  index = lk_search_index_new (lk_embedding_get_data (emb), lk_embedding_get_n (emb),
                               lk_embedding_get_dim (emb), pool, n_pool,
                               lk_collection_get_labels (coll),
                               lk_collection_get_n_categories (coll), LK_METRIC_L2, &error);
  if (index == NULL)
    return lk_cli_fail (error);
  lk_search_index_set_n_threads (index, args.threads > 0 ? (guint) args.threads : 0);
  out = g_new (LkNeighbour, k);
  n = lk_search_query (index, query, (guint) k, cat,
                       file != NULL ? LK_SEARCH_NO_EXCLUDE : image, out);

  if (args.json)
    {
      g_autoptr(GString) s = g_string_new ("{\n  \"source\": ");
      lk_cli_json_string (s, lk_embedding_get_name (emb));
      g_string_append (s, ",\n  \"query\": ");
      lk_cli_json_string (s, file != NULL ? file : lk_collection_get_path (coll, image));
      g_string_append (s, ",\n  \"neighbours\": [");
      for (guint i = 0; i < n; i++)
        {
          g_string_append_printf (s, "%s\n    {\"rank\": %u, \"index\": %u, \"distance\": %.9g, "
                                  "\"category\": ", i > 0 ? "," : "", i + 1, out[i].id,
                                  out[i].distance);
          lk_cli_json_string (s, lk_collection_get_category_name (
                                   coll, lk_collection_get_label (coll, out[i].id)));
          g_string_append (s, ", \"path\": ");
          lk_cli_json_string (s, lk_collection_get_path (coll, out[i].id));
          g_string_append (s, "}");
        }
      g_string_append (s, "\n  ]\n}\n");
      fputs (s->str, stdout);
      return LK_EXIT_OK;
    }
  {
    g_autofree char *shown = g_filename_display_name (file != NULL ? file
                                                      : lk_collection_get_path (coll, image));
    printf (_("Neighbours of %s by %s:\n"), shown, lk_embedding_get_label (emb));
  }
  {
    const char *rank = _("rank"), *distance = _("distance"), *in = _("category");
    printf ("%*s  %*s  %-*s  %s\n", lk_cli_pad (rank, 4), rank, lk_cli_pad (distance, 12),
            distance, lk_cli_pad (in, 20), in, _("path"));
  }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *shown = g_filename_display_name (lk_collection_get_path (coll, out[i].id));
      const char *in =
        lk_collection_get_category_name (coll, lk_collection_get_label (coll, out[i].id));
      printf ("%4u  %12.6g  %-*s  %s\n", i + 1, out[i].distance, lk_cli_pad (in, 20), in,
              shown);
    }
  return LK_EXIT_OK;
}
