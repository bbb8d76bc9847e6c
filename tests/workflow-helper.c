/* workflow-helper.c — engine entry points for the reliability tests, as
 * small commands a test can run and kill like likeness-cli:
 *
 *   workflow-helper scan DIR        open the collection (its image cache)
 *   workflow-helper features DIR    ... and its features (features cache)
 *   workflow-helper relevance DIR   ... and its relevance (relevance cache)
 *
 * Each prints one line, a digest of everything it read or computed, so a
 * test can tell a run that read a damaged file from one that did not.
 * (No likeness-cli verb computes and caches features yet; when one does,
 * the workflow steps can run it instead.) */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "collection.h"
#include "fileutil.h"
#include "relevance.h"

static guint64
collection_digest (LkCollection *c)
{
  guint n = lk_collection_get_n_images (c);
  guint64 h = lk_pixels_hash (lk_collection_get_pixels (c), n, lk_collection_get_side (c),
                              lk_collection_get_channels (c));

  h = lk_hash64 (lk_collection_get_labels (c), (gsize) n * sizeof (guint16), h);
  for (guint i = 0; i < n; i++)
    {
      const char *path = lk_collection_get_path (c, i);
      h = lk_hash64 (path, strlen (path), h);
    }
  return h;
}

static guint64
relevance_digest (LkRelevance *rel)
{
  guint64 h = 0;

  for (guint i = 0; i < lk_relevance_get_n_images (rel); i++)
    {
      const guint32 *idx;
      const float *r;
      guint m = lk_relevance_neighbours (rel, i, &idx, &r);
      float tm[2] = { lk_relevance_total (rel, i), lk_relevance_max (rel, i) };
      h = lk_hash64 (tm, sizeof tm, h);
      h = lk_hash64 (idx, m * sizeof *idx, h);
      h = lk_hash64 (r, m * sizeof *r, h);
    }
  return h;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) c = NULL;
  g_autoptr(LkFeatures) f = NULL;
  g_autoptr(LkRelevance) rel = NULL;
  LkScanOptions options;
  LkGoldenWeights w;
  const char *what;

  if (argc != 3 || (strcmp (argv[1], "scan") != 0 && strcmp (argv[1], "features") != 0 &&
                    strcmp (argv[1], "relevance") != 0))
    {
      fprintf (stderr, "usage: workflow-helper scan|features|relevance DIR\n");
      return 2;
    }
  what = argv[1];
  lk_scan_options_init (&options);
  options.n_threads = 2;
  c = lk_collection_open_folder (argv[2], &options, NULL, NULL, NULL, &error);
  if (c == NULL)
    goto fail;
  printf ("collection %u images %016" G_GINT64_MODIFIER "x",
          lk_collection_get_n_images (c), collection_digest (c));
  if (strcmp (what, "scan") != 0)
    {
      f = lk_features_load_or_compute_for_collection (c, 2, NULL, NULL, NULL, &error);
      if (f == NULL)
        goto fail;
      printf (" features %016" G_GINT64_MODIFIER "x", lk_features_get_checksum (f));
    }
  if (strcmp (what, "relevance") == 0)
    {
      lk_golden_weights_init_default (&w);
      rel = lk_relevance_load_or_compute_for_collection (c, f, &w, NULL, NULL, NULL, NULL,
                                                         &error);
      if (rel == NULL)
        goto fail;
      printf (" relevance %016" G_GINT64_MODIFIER "x", relevance_digest (rel));
    }
  printf ("\n");
  return 0;

fail:
  fprintf (stderr, "workflow-helper: %s\n", error->message);
  return 1;
}
