/* cli-embed.c — `likeness-cli embed`: compute and store a collection's
 * embeddings, or list the sources it has. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli.h"
#include "embeddings.h"

static void
on_progress (guint done, guint total, gpointer user_data)
{
  lk_cli_progress_update (user_data, _("Embedding"), done, total, NULL);
}

static int
list_sources (LkCollection *coll, gboolean json)
{
  g_autoptr(GPtrArray) sources = lk_embedding_list_sources (coll);
  g_autoptr(GString) out = g_string_new (json ? "[" : "");

  for (guint i = 0; i < sources->len; i++)
    {
      LkEmbeddingSource *s = sources->pdata[i];
      const char *state = s->stored ? _("stored") : s->stale ? _("stale") : _("not computed yet");
      if (json)
        {
          g_string_append (out, i > 0 ? ",\n  {\"name\": " : "\n  {\"name\": ");
          lk_cli_json_string (out, s->name);
          g_string_append (out, ", \"label\": ");
          lk_cli_json_string (out, s->label);
          g_string_append_printf (out, ", \"kind\": \"%s\", \"dim\": %u, \"stored\": %s, "
                                  "\"stale\": %s, \"path\": ",
                                  s->kind == LK_EMBEDDING_MODEL ? "model" : "baseline", s->dim,
                                  s->stored ? "true" : "false", s->stale ? "true" : "false");
          if (s->path != NULL)
            lk_cli_json_string (out, s->path);
          else
            g_string_append (out, "null");
          g_string_append (out, "}");
        }
      else
        {
          const char *kind = s->kind == LK_EMBEDDING_MODEL ? _("model") : _("baseline");
          g_string_append_printf (out, "%-16s %-*s %6u  %-*s %s\n", s->name,
                                  lk_cli_pad (kind, 8), kind, s->dim, lk_cli_pad (state, 16),
                                  state, s->label);
        }
    }
  if (json)
    g_string_append (out, "\n]\n");
  fputs (out->str, stdout);
  return LK_EXIT_OK;
}

int
lk_cli_embed (int argc, char **argv)
{
  g_auto(LkCliCollectionArgs) args = { 0 };
  g_auto(GStrv) names = NULL;
  gboolean list = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GString) json = g_string_new ("[");
  const GOptionEntry entries[] = {
    { "source", 's', 0, G_OPTION_ARG_STRING_ARRAY, &names,
      N_("Source to compute (repeatable; default: every baseline)"), N_("NAME") },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list,
      N_("List the collection’s embedding sources and whether they are stored"), NULL },
    { NULL }
  };
  const char *const *todo;

  if (!lk_cli_parse (&argc, &argv, _("COLLECTION"),
                     _("Computes embeddings of every image and stores them under the "
                       "collection’s data folder (baselines: pixels, wavelet, color, hog, lbp, "
                       "golden; golden-learned when it has labelled triplets)."),
                     entries, &args))
    return LK_EXIT_USAGE;
  coll = lk_cli_open_collection (argc, argv, &args, &error);
  if (coll == NULL)
    return lk_cli_fail (error);
  if (list)
    return list_sources (coll, args.json);

  lk_cli_cancel_on_sigint (cancellable);
  todo = names != NULL ? (const char *const *) names : lk_embedder_baseline_names ();
  for (guint i = 0; todo[i] != NULL; i++)
    {
      g_autoptr(LkEmbedder) embedder = lk_embedder_new_for_source (coll, todo[i], &error);
      g_autoptr(LkEmbedding) emb = NULL;
      LkCliProgress *bar;
      gint64 t0 = g_get_monotonic_time ();
      double seconds;

      if (embedder == NULL)
        return lk_cli_fail (error);
      bar = lk_cli_progress_new (!args.quiet);
      emb = lk_embedding_load_or_compute (embedder, coll, on_progress, bar, cancellable, &error);
      lk_cli_progress_free (bar);
      if (emb == NULL)
        return lk_cli_fail (error);
      seconds = (g_get_monotonic_time () - t0) / 1e6;
      if (args.json)
        {
          g_string_append (json, i > 0 ? ",\n  {\"name\": " : "\n  {\"name\": ");
          lk_cli_json_string (json, lk_embedding_get_name (emb));
          g_string_append_printf (json, ", \"n\": %u, \"dim\": %u, \"seconds\": %.3f, \"path\": ",
                                  lk_embedding_get_n (emb), lk_embedding_get_dim (emb), seconds);
          if (lk_embedding_get_path (emb) != NULL)
            lk_cli_json_string (json, lk_embedding_get_path (emb));
          else
            g_string_append (json, "null");
          g_string_append (json, "}");
        }
      else
        printf (_("%-16s %u × %u, %.2f s, %s\n"), lk_embedding_get_name (emb),
                lk_embedding_get_n (emb), lk_embedding_get_dim (emb), seconds,
                lk_embedding_get_path (emb) != NULL ? lk_embedding_get_path (emb)
                                                    : _("(not stored)"));
    }
  if (args.json)
    {
      g_string_append (json, "\n]\n");
      fputs (json->str, stdout);
    }
  return LK_EXIT_OK;
}
