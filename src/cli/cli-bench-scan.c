/* cli-bench-scan.c — `likeness-cli bench scan`: how fast collections open.
 *
 * For a folder (openclipart-png by default) it measures, in one run:
 *  1. the reference: GdkPixbuf's gdk_pixbuf_new_from_file_at_scale() on one
 *     thread over every file of the collection, as a plain program would;
 *  2. a cold scan: listing, parallel decoding and writing the cache;
 *  3. a reopen from the cache;
 * and for the built-in Fashion-MNIST a cold open (IDX decompression and
 * cache write) and a reopen. The files are read once beforehand so every
 * measurement sees them in the page cache. A private cache folder is used,
 * so the user's cache is neither read nor replaced. */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "collection-private.h"

static char *cache_home;

static void
fresh_cache (void)
{
  g_autofree char *cmd = NULL;
  if (cache_home != NULL)
    {
      g_autofree char *quoted = g_shell_quote (cache_home);
      cmd = g_strdup_printf ("rm -rf %s", quoted);
      if (system (cmd) != 0)
        g_printerr ("could not remove %s\n", cache_home);
    }
  g_free (cache_home);
  cache_home = g_dir_make_tmp ("likeness-bench-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
}

/* Reads every file once so that all runs see a warm page cache; returns
 * their absolute paths. */
static GPtrArray *
warm_files (const char *root, GError **error)
{
  g_autoptr(LkScanTree) tree = _lk_scan_tree (root, NULL, error);
  GPtrArray *files;

  if (tree == NULL)
    return NULL;
  files = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < tree->entries->len; i++)
    {
      const LkScanEntry *e = &g_array_index (tree->entries, LkScanEntry, i);
      char *path = g_build_filename (tree->root, e->relpath, NULL);
      g_autofree guint8 *data = NULL;
      gsize len;
      if (_lk_read_regular_file (path, &data, &len, NULL))
        g_ptr_array_add (files, path);
      else
        g_free (path);
    }
  return files;
}

/* The reference loads what a scan would decode: files whose header claims
 * more than the pixel limit are left out (it would otherwise spend most of
 * its time on a few 200-megapixel posters the scan never decodes). */
static double
reference_rate (GPtrArray *files, guint side, guint *n_ok)
{
  gint64 t0 = g_get_monotonic_time ();
  guint n = 0;

  *n_ok = 0;
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr(GdkPixbuf) pb = NULL;
      int w = 0, h = 0;
      if (gdk_pixbuf_get_file_info (files->pdata[i], &w, &h) == NULL ||
          (guint64) w * (guint64) h > (guint64) 50 * 1000 * 1000)
        continue;
      n++;
      pb = gdk_pixbuf_new_from_file_at_scale (files->pdata[i], (int) side, (int) side, TRUE, NULL);
      if (pb != NULL)
        (*n_ok)++;
    }
  return n / ((g_get_monotonic_time () - t0) / 1e6);
}

static int
bench_folder (const char *root, guint side, guint threads)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = warm_files (root, &error);
  g_autoptr(LkCollection) cold = NULL, warm = NULL;
  LkScanOptions options;
  LkScanStats cs, ws;
  double ref, ours;
  guint n_ok;

  if (files == NULL)
    return lk_cli_fail (error);
  printf ("folder %s: %u files, side %u, %u threads\n", root, files->len, side, threads);
  ref = reference_rate (files, side, &n_ok);
  printf ("  reference gdk_pixbuf_new_from_file_at_scale, 1 thread: %8.1f images/s\n", ref);

  lk_scan_options_init (&options);
  options.side = side;
  options.n_threads = threads;
  fresh_cache ();
  cold = lk_collection_open_folder (root, &options, NULL, NULL, NULL, &error);
  if (cold == NULL)
    return lk_cli_fail (error);
  lk_collection_get_stats (cold, &cs);
  ours = (cs.n_decoded + cs.n_from_cache) / cs.total_seconds;
  printf ("  cold scan (list + decode + write cache):             %8.1f images/s"
          "  (%.2f s, %.2f× the reference)\n", ours, cs.total_seconds, ours / ref);
  printf ("    of which listing %.2f s, decoding %.2f s, writing the cache %.2f s\n",
          cs.list_seconds, cs.decode_seconds,
          cs.total_seconds - cs.list_seconds - cs.decode_seconds);

  warm = lk_collection_open_folder (root, &options, NULL, NULL, NULL, &error);
  if (warm == NULL)
    return lk_cli_fail (error);
  lk_collection_get_stats (warm, &ws);
  printf ("  reopen from the cache:                               %8.3f s (%u images)\n",
          ws.total_seconds, lk_collection_get_n_images (warm));
  return LK_EXIT_OK;
}

static int
bench_fashion_mnist (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) cold = NULL, warm = NULL;
  gint64 t0;
  double cold_s, warm_s;

  fresh_cache ();
  t0 = g_get_monotonic_time ();
  cold = lk_collection_open_fashion_mnist (NULL, NULL, &error);
  if (cold == NULL)
    return lk_cli_fail (error);
  cold_s = (g_get_monotonic_time () - t0) / 1e6;
  t0 = g_get_monotonic_time ();
  warm = lk_collection_open_fashion_mnist (NULL, NULL, &error);
  if (warm == NULL)
    return lk_cli_fail (error);
  warm_s = (g_get_monotonic_time () - t0) / 1e6;
  printf ("fashion-mnist: %u images\n", lk_collection_get_n_images (cold));
  printf ("  cold open (IDX + write cache): %8.0f images/s (%.3f s)\n",
          lk_collection_get_n_images (cold) / cold_s, cold_s);
  printf ("  reopen from the cache:         %8.3f s\n", warm_s);
  return LK_EXIT_OK;
}

int
lk_cli_bench_scan (int argc, char **argv)
{
  g_autofree char *folder = NULL;
  int side = 64, threads = 0;
  gboolean skip_folder = FALSE, skip_fmnist = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &folder,
      N_("Folder collection to scan (default /usr/share/openclipart/png)"), N_("DIR") },
    { "side", 0, 0, G_OPTION_ARG_INT, &side, N_("Tensor side (default 64)"), N_("N") },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads,
      N_("Decoding threads (default: cores)"), N_("N") },
    { "no-folder", 0, 0, G_OPTION_ARG_NONE, &skip_folder, N_("Skip the folder"), NULL },
    { "no-fashion-mnist", 0, 0, G_OPTION_ARG_NONE, &skip_fmnist, N_("Skip Fashion-MNIST"), NULL },
    { NULL }
  };

  if (!lk_cli_parse (&argc, &argv, NULL, _("Measures scanning, decoding and cache reopening."),
                     entries, NULL))
    return LK_EXIT_USAGE;
  if (threads <= 0)
    threads = (int) g_get_num_processors ();

  status = skip_folder ? LK_EXIT_OK
           : bench_folder (folder != NULL ? folder : "/usr/share/openclipart/png",
                           (guint) side, (guint) threads);
  if (status == LK_EXIT_OK && !skip_fmnist)
    status = bench_fashion_mnist ();
  fresh_cache ();
  g_rmdir (cache_home);
  return status;
}
