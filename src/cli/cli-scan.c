/* cli-scan.c — `likeness-cli scan` and `likeness-cli info`: open a
 * collection (updating its image cache) and describe it. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli.h"
#include "fileutil.h"

static void
print_text (LkCollection *coll, gboolean details)
{
  guint n_skipped;
  const LkSkipped *skipped = lk_collection_get_skipped (coll, &n_skipped);
  const char *root = lk_collection_get_root (coll);
  const char *cache = lk_collection_get_cache_path (coll);
  LkScanStats stats;

  lk_collection_get_stats (coll, &stats);
  printf (_("Collection: %s\n"), lk_collection_get_name (coll));
  if (root != NULL)
    {
      g_autofree char *display = g_filename_display_name (root);
      printf (_("Folder:     %s\n"), display);
    }
  printf (_("Images:     %u in %u categories (%u×%u, %u channel(s))\n"),
          lk_collection_get_n_images (coll), lk_collection_get_n_categories (coll),
          lk_collection_get_side (coll), lk_collection_get_side (coll),
          lk_collection_get_channels (coll));
  for (guint c = 0; c < lk_collection_get_n_categories (coll); c++)
    printf ("  %7u  %s\n", lk_collection_get_category_count (coll, c),
            lk_collection_get_category_name (coll, c));
  if (details && lk_collection_is_builtin (coll))
    {
      guint n_train, n_test;
      g_free (lk_collection_get_split_indices (coll, LK_SPLIT_TRAIN, &n_train));
      g_free (lk_collection_get_split_indices (coll, LK_SPLIT_TEST, &n_test));
      printf (_("Splits:     %u train, %u test\n"), n_train, n_test);
    }
  printf (_("Cache:      %s\n"), cache != NULL ? cache : _("(none)"));
  if (details)
    {
      g_autofree char *data = lk_data_dir_for (lk_collection_get_id (coll));
      printf (_("Data:       %s\n"), data);
    }
  printf (_("Scan:       %u decoded, %u from the cache, %.2f s\n"),
          stats.n_decoded, stats.n_from_cache, stats.total_seconds);
  if (n_skipped > 0)
    {
      printf (g_dngettext (GETTEXT_PACKAGE, "Skipped:    %u entry\n", "Skipped:    %u entries\n",
                           n_skipped), n_skipped);
      for (guint i = 0; i < n_skipped; i++)
        {
          g_autofree char *display = g_filename_display_name (skipped[i].path);
          printf ("  %s: %s\n", display, skipped[i].reason);
        }
    }
}

static void
print_json (LkCollection *coll)
{
  g_autoptr(GString) out = g_string_new ("{\n  \"name\": ");
  guint n_skipped;
  const LkSkipped *skipped = lk_collection_get_skipped (coll, &n_skipped);
  const char *root = lk_collection_get_root (coll);
  const char *cache = lk_collection_get_cache_path (coll);
  g_autofree char *data = lk_data_dir_for (lk_collection_get_id (coll));
  LkScanStats stats;

  lk_collection_get_stats (coll, &stats);
  lk_cli_json_string (out, lk_collection_get_name (coll));
  g_string_append (out, ",\n  \"id\": ");
  lk_cli_json_string (out, lk_collection_get_id (coll));
  g_string_append (out, ",\n  \"root\": ");
  if (root != NULL)
    lk_cli_json_string (out, root);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\n  \"builtin\": %s,\n  \"images\": %u,\n  \"side\": %u,"
                          "\n  \"channels\": %u,\n  \"categories\": [",
                          lk_collection_is_builtin (coll) ? "true" : "false",
                          lk_collection_get_n_images (coll), lk_collection_get_side (coll),
                          lk_collection_get_channels (coll));
  for (guint c = 0; c < lk_collection_get_n_categories (coll); c++)
    {
      g_string_append (out, c > 0 ? ",\n    {\"name\": " : "\n    {\"name\": ");
      lk_cli_json_string (out, lk_collection_get_category_name (coll, c));
      g_string_append_printf (out, ", \"count\": %u}", lk_collection_get_category_count (coll, c));
    }
  g_string_append (out, "\n  ],\n  \"skipped\": [");
  for (guint i = 0; i < n_skipped; i++)
    {
      g_string_append (out, i > 0 ? ",\n    {\"path\": " : "\n    {\"path\": ");
      lk_cli_json_string (out, skipped[i].path);
      g_string_append (out, ", \"reason\": ");
      lk_cli_json_string (out, skipped[i].reason);
      g_string_append (out, "}");
    }
  g_string_append (out, "\n  ],\n  \"cache\": ");
  if (cache != NULL)
    lk_cli_json_string (out, cache);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\n  \"data\": ");
  lk_cli_json_string (out, data);
  g_string_append_printf (out, ",\n  \"decoded\": %u,\n  \"from_cache\": %u,"
                          "\n  \"seconds\": %.3f\n}\n",
                          stats.n_decoded, stats.n_from_cache, stats.total_seconds);
  fputs (out->str, stdout);
}

static int
scan_or_info (int argc, char **argv, gboolean details, const char *summary)
{
  g_auto(LkCliCollectionArgs) args = { 0 };
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(GError) error = NULL;

  if (!lk_cli_parse (&argc, &argv, _("FOLDER|--builtin fashion-mnist"), summary, NULL, &args))
    return LK_EXIT_USAGE;
  coll = lk_cli_open_collection (argc, argv, &args, &error);
  if (coll == NULL)
    return lk_cli_fail (error);
  if (args.json)
    print_json (coll);
  else
    print_text (coll, details);
  return LK_EXIT_OK;
}

int
lk_cli_scan (int argc, char **argv)
{
  return scan_or_info (argc, argv, FALSE,
                       _("Scans a collection: a folder whose sub-folders are its categories.\n"
                         "Decodes new and changed images into the cache and lists every\n"
                         "entry that was skipped, with the reason."));
}

int
lk_cli_info (int argc, char **argv)
{
  return scan_or_info (argc, argv, TRUE,
                       _("Describes a collection: categories, splits, cache and data folders."));
}
