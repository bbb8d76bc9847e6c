/* cli-bench-search.c — `likeness-cli bench search`: our exact search
 * against FAISS's exact indexes, side by side in one run.
 *
 * Random float32 data (seeded): a base of --n rows, --queries single
 * queries, a batch of --batch queries, and all pairs of the first --pairs
 * base rows; top --k, squared L2 and inner product, on each thread count
 * of --threads. FAISS runs in a child /usr/bin/python3
 * (build-aux/bench-search-faiss.py) on the same files with
 * OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to the same thread count;
 * its neighbour lists are read back and compared with ours (up to ties).
 * A streaming read over our packed rows on the same threads measures the
 * memory bandwidth the single query is held to. Run it as
 *   flock /tmp/likeness-cpu.lock likeness-cli bench search
 * so that no other timed run on the shared machine overlaps it. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "search-private.h"

typedef struct {
  int n, dim, k, queries, batch, pairs, repeats;
  char *threads;
  char *faiss_script;
  char *python;
  gboolean no_faiss;
} Options;

typedef struct {
  double ms;
  gboolean have;
  char *ids;      /* path of FAISS's ids */
  char *dists;
} FaissFigure;

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static void
fill_random (float *x, gsize n, guint64 seed)
{
  guint64 s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (gsize i = 0; i < n; i++)
    {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      x[i] = (float) ((s >> 40) / 16777216.0) * 2.0f - 1.0f;
    }
}

static gboolean
write_f32 (const char *dir, const char *name, const float *x, gsize n, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_set_contents (path, (const char *) x, (gssize) (n * sizeof (float)), error);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Compares our lists with FAISS's: a list "differs" when at some rank
 * the ids differ and the distances are not equal to float rounding (a
 * tie may come in either order). Returns the number of lists that differ,
 * or −1 if FAISS's files cannot be read. */
static int
compare_with_faiss (const LkNeighbour *ours, const guint *found, guint n_lists, guint k,
                    const char *ids_path, const char *dists_path)
{
  g_autofree char *ids_raw = NULL, *dists_raw = NULL;
  gsize ids_len = 0, dists_len = 0;
  const gint64 *ids;
  const float *dists;
  int differ = 0;

  if (!g_file_get_contents (ids_path, &ids_raw, &ids_len, NULL)
      || !g_file_get_contents (dists_path, &dists_raw, &dists_len, NULL)
      || ids_len != (gsize) n_lists * k * sizeof (gint64)
      || dists_len != (gsize) n_lists * k * sizeof (float))
    return -1;
  ids = (const gint64 *) ids_raw;
  dists = (const float *) dists_raw;
  for (guint q = 0; q < n_lists; q++)
    {
      gboolean bad = found[q] != k;
      for (guint i = 0; i < k && !bad; i++)
        {
          const LkNeighbour *a = &ours[(gsize) q * k + i];
          double b = dists[(gsize) q * k + i];
          if (a->id != (guint32) ids[(gsize) q * k + i]
              && fabs (a->distance - b) > 1e-4 * MAX (1.0, fabs (b)))
            bad = TRUE;
        }
      differ += bad;
    }
  return differ;
}

static gboolean
run_faiss (const Options *o, const char *dir, guint threads, GHashTable *figures, char **version,
           GError **error)
{
  g_autofree char *n = g_strdup_printf ("%d", o->n), *dim = g_strdup_printf ("%d", o->dim);
  g_autofree char *k = g_strdup_printf ("%d", o->k), *nq = g_strdup_printf ("%d", o->queries);
  g_autofree char *nb = g_strdup_printf ("%d", o->batch), *np = g_strdup_printf ("%d", o->pairs);
  g_autofree char *t = g_strdup_printf ("%u", threads), *rep = g_strdup_printf ("%d", o->repeats);
  const char *argv[] = { o->python, o->faiss_script, "--dir", dir, "--n", n, "--dim", dim, "--k",
                         k, "--queries", nq, "--batch", nb, "--pairs", np, "--threads", t,
                         "--repeats", rep, NULL };
  g_auto(GStrv) env = g_get_environ ();
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) lines = NULL;
  int status;

  env = g_environ_setenv (env, "OMP_NUM_THREADS", t, TRUE);
  env = g_environ_setenv (env, "OPENBLAS_NUM_THREADS", t, TRUE);
  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s failed: %s",
                   o->faiss_script, err);
      return FALSE;
    }
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", 2);
      if (f[0] == NULL || f[1] == NULL)
        continue;
      if (g_str_equal (f[0], "faiss-version"))
        {
          g_free (*version);
          *version = g_strdup (f[1]);
        }
      else
        g_hash_table_insert (figures, g_strdup_printf ("%s-t%u", f[0], threads),
                             g_memdup2 (&(double) { g_ascii_strtod (f[1], NULL) },
                                        sizeof (double)));
    }
  return TRUE;
}

static double
faiss_ms (GHashTable *figures, const char *what, const char *metric, guint threads)
{
  g_autofree char *key = g_strdup_printf ("%s-%s-t%u", what, metric, threads);
  double *v = g_hash_table_lookup (figures, key);
  return v != NULL ? *v : NAN;
}

static void
print_row (const char *what, guint threads, double ours_ms, const char *extra, double faiss,
           int differ, guint lists)
{
  g_autofree char *ratio = NULL, *cmp = NULL, *fms = NULL;

  if (!isnan (faiss))
    {
      fms = g_strdup_printf ("%9.3f", faiss);
      ratio = g_strdup_printf ("%5.2f×", faiss / ours_ms);
    }
  if (differ >= 0)
    cmp = differ == 0 ? g_strdup_printf ("all %u same", lists)
                      : g_strdup_printf ("%d of %u DIFFER", differ, lists);
  printf ("%-22s %2u %10.3f %-28s %9s %7s  %s\n", what, threads, ours_ms, extra ? extra : "",
          fms ? fms : "-", ratio ? ratio : "-", cmp ? cmp : "");
}

static char *
faiss_file (const char *dir, const char *what, const char *metric, guint threads,
            const char *ext)
{
  g_autofree char *name = g_strdup_printf ("faiss-%s-%s-t%u.%s", what, metric, threads, ext);
  return g_build_filename (dir, name, NULL);
}

/* Removes the files this run wrote and the folder. */
static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static int
run (const Options *o)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL, *faiss_version = NULL;
  g_autofree float *base = NULL, *queries = NULL, *batch = NULL;
  g_autoptr(GHashTable) figures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) thread_list = g_strsplit (o->threads, ",", -1);
  gboolean faiss = !o->no_faiss;
  const char *metrics[] = { "l2", "ip" };
  const char *openblas_env[] = { "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE" };

  dir = g_dir_make_tmp ("likeness-bench-search-XXXXXX", &error);
  if (dir == NULL)
    return lk_cli_fail (error);
  base = g_new (float, (gsize) o->n * o->dim);
  queries = g_new (float, (gsize) o->queries * o->dim);
  batch = g_new (float, (gsize) o->batch * o->dim);
  fill_random (base, (gsize) o->n * o->dim, 1);
  fill_random (queries, (gsize) o->queries * o->dim, 2);
  fill_random (batch, (gsize) o->batch * o->dim, 3);
  if (!write_f32 (dir, "base.f32", base, (gsize) o->n * o->dim, &error)
      || !write_f32 (dir, "queries.f32", queries, (gsize) o->queries * o->dim, &error)
      || !write_f32 (dir, "batch.f32", batch, (gsize) o->batch * o->dim, &error))
    return lk_cli_fail (error);

  if (faiss && !g_file_test (o->faiss_script, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "likeness-cli: %s not found: FAISS side skipped\n", o->faiss_script);
      faiss = FALSE;
    }
  if (faiss && !g_file_test (o->python, G_FILE_TEST_IS_EXECUTABLE))
    {
      fprintf (stderr, "likeness-cli: %s not found: FAISS side skipped\n", o->python);
      faiss = FALSE;
    }
  for (guint ti = 0; faiss && thread_list[ti] != NULL; ti++)
    {
      guint t = (guint) atoi (thread_list[ti]);
      if (!run_faiss (o, dir, t, figures, &faiss_version, &error))
        {
          fprintf (stderr, "likeness-cli: FAISS side failed, skipped: %s\n", error->message);
          g_clear_error (&error);
          faiss = FALSE;
        }
    }

  printf ("Exact top-%d search, float32, random uniform data; base %d × %d (%.1f MB), "
          "%d single queries (median), batch of %d (best of %d), all pairs of %d × %d "
          "(best of %d).\n", o->k, o->n, o->dim, o->n * (double) o->dim * 4 / 1e6, o->queries,
          o->batch, o->repeats, o->pairs, o->dim, o->repeats);
  printf ("likeness: %s kernels; FAISS: %s (IndexFlatL2 / IndexFlatIP, OMP_NUM_THREADS and "
          "OPENBLAS_NUM_THREADS = threads).\n",
          _lk_search_isa_name (_lk_search_best_isa ()),
          faiss ? faiss_version : "not run");
  for (guint i = 0; i < G_N_ELEMENTS (openblas_env); i++)
    printf ("%s=%s (left as it is, for both sides)\n", openblas_env[i],
            g_getenv (openblas_env[i]) ? g_getenv (openblas_env[i]) : "(unset)");
  printf ("\n%-22s %2s %10s %-28s %9s %7s  %s\n", "case", "th", "likeness", "",
          "FAISS", "FAISS/", "neighbour lists");
  printf ("%-22s %2s %10s %-28s %9s %7s\n", "", "", "ms", "", "ms", "ours");

  for (guint ti = 0; thread_list[ti] != NULL; ti++)
    {
      guint t = (guint) atoi (thread_list[ti]);
      for (guint m = 0; m < 2; m++)
        {
          LkMetric metric = m == 0 ? LK_METRIC_L2 : LK_METRIC_IP;
          g_autoptr(LkSearchIndex) index = NULL, pairs_index = NULL;
          g_autofree LkNeighbour *out = NULL;
          g_autofree guint *found = NULL;
          g_autofree double *times = g_new (double, o->queries);
          g_autofree char *what = NULL, *extra = NULL, *fi = NULL, *fd = NULL;
          double bw, ms, best;
          guint max_lists = MAX (MAX (o->queries, o->batch), o->pairs);

          index = lk_search_index_new (base, (guint) o->n, (guint) o->dim, NULL, 0, NULL, 0,
                                       metric, &error);
          if (index == NULL)
            return lk_cli_fail (error);
          lk_search_index_set_n_threads (index, t);
          out = g_new (LkNeighbour, (gsize) max_lists * o->k);
          found = g_new (guint, max_lists);

          if (m == 0)
            {
              bw = _lk_search_index_read_bandwidth (index, 20);
              extra = g_strdup_printf ("%.1f GB/s", bw);
              printf ("%-22s %2u %10s %-28s\n", "streaming read", t, "", extra);
              g_clear_pointer (&extra, g_free);
              g_hash_table_insert (figures, g_strdup_printf ("bw-t%u", t),
                                   g_memdup2 (&bw, sizeof bw));
            }

          /* Single queries, then with the float16 first pass. */
          for (guint half = 0; half < 2; half++)
            {
              g_autofree char *bwkey = g_strdup_printf ("bw-t%u", t);
              double *read = g_hash_table_lookup (figures, bwkey);
              double gbs;

              if (half && !lk_search_index_set_half_first_pass (index, TRUE))
                {
                  printf ("%-22s %2u  (no float16 kernels for this instruction set)\n",
                          "  float16 first pass", t);
                  break;
                }
              for (guint q = 0; q < 5; q++)
                lk_search_query (index, queries, (guint) o->k, LK_SEARCH_ANY_CATEGORY,
                                 LK_SEARCH_NO_EXCLUDE, out);
              for (guint q = 0; q < (guint) o->queries; q++)
                {
                  double t0 = now_s ();
                  found[q] = lk_search_query (index, queries + (gsize) q * o->dim, (guint) o->k,
                                              LK_SEARCH_ANY_CATEGORY, LK_SEARCH_NO_EXCLUDE,
                                              out + (gsize) q * o->k);
                  times[q] = now_s () - t0;
                }
              ms = median (times, (guint) o->queries) * 1e3;
              gbs = _lk_search_index_bytes (index, half) / (ms / 1e3) / 1e9;
              if (half)
                extra = g_strdup_printf ("reads %.1f GB/s, as float32 %.1f",
                                         gbs, _lk_search_index_bytes (index, FALSE) / (ms / 1e3) / 1e9);
              else
                extra = g_strdup_printf ("%.1f GB/s = %.0f%% of read", gbs,
                                         read != NULL ? 100 * gbs / *read : NAN);
              what = g_strdup_printf (half ? "  float16 first pass" : "single query %s",
                                      metrics[m]);
              fi = faiss_file (dir, "single", metrics[m], t, "i64");
              fd = faiss_file (dir, "single", metrics[m], t, "f32");
              print_row (what, t, ms, extra,
                         faiss ? faiss_ms (figures, "single", metrics[m], t) : NAN,
                         faiss ? compare_with_faiss (out, found, (guint) o->queries, (guint) o->k,
                                                     fi, fd) : -1, (guint) o->queries);
              g_clear_pointer (&what, g_free);
              g_clear_pointer (&extra, g_free);
              g_clear_pointer (&fi, g_free);
              g_clear_pointer (&fd, g_free);
            }
          lk_search_index_set_half_first_pass (index, FALSE);

          /* A batch. */
          best = G_MAXDOUBLE;
          for (int r = 0; r < o->repeats + 1; r++)
            {
              double t0 = now_s ();
              lk_search_batch (index, batch, (guint) o->batch, (guint) o->k, NULL, NULL, out,
                               found, NULL, NULL);
              if (r > 0)
                best = MIN (best, now_s () - t0);
            }
          what = g_strdup_printf ("batch of %d %s", o->batch, metrics[m]);
          fi = faiss_file (dir, "batch", metrics[m], t, "i64");
          fd = faiss_file (dir, "batch", metrics[m], t, "f32");
          extra = g_strdup_printf ("%.1f GFLOP/s", 2.0 * o->batch * o->n * o->dim / best / 1e9);
          print_row (what, t, best * 1e3, extra,
                     faiss ? faiss_ms (figures, "batch", metrics[m], t) : NAN,
                     faiss ? compare_with_faiss (out, found, (guint) o->batch, (guint) o->k, fi, fd)
                           : -1, (guint) o->batch);
          g_clear_pointer (&what, g_free);
          g_clear_pointer (&extra, g_free);
          g_clear_pointer (&fi, g_free);
          g_clear_pointer (&fd, g_free);

          /* All pairs. */
          pairs_index = lk_search_index_new (base, (guint) o->pairs, (guint) o->dim, NULL, 0, NULL,
                                             0, metric, &error);
          lk_search_index_set_n_threads (pairs_index, t);
          best = G_MAXDOUBLE;
          for (int r = 0; r < o->repeats + 1; r++)
            {
              double t0 = now_s ();
              lk_search_all_pairs (pairs_index, (guint) o->k, FALSE, out, found, NULL, NULL);
              if (r > 0)
                best = MIN (best, now_s () - t0);
            }
          what = g_strdup_printf ("all pairs %d %s", o->pairs, metrics[m]);
          fi = faiss_file (dir, "pairs", metrics[m], t, "i64");
          fd = faiss_file (dir, "pairs", metrics[m], t, "f32");
          extra = g_strdup_printf ("%.1f GFLOP/s (pairs once)",
                                   1.0 * o->pairs * o->pairs * o->dim / best / 1e9);
          print_row (what, t, best * 1e3, extra,
                     faiss ? faiss_ms (figures, "pairs", metrics[m], t) : NAN,
                     faiss ? compare_with_faiss (out, found, (guint) o->pairs, (guint) o->k, fi, fd)
                           : -1, (guint) o->pairs);
        }
    }
  remove_dir (dir);
  return LK_EXIT_OK;
}

int
lk_cli_bench_search (int argc, char **argv)
{
  Options o = { 100000, 128, 30, 200, 1000, 10000, 3, NULL, NULL, NULL, FALSE };
  const GOptionEntry entries[] = {
    { "n", 0, 0, G_OPTION_ARG_INT, &o.n, "Base rows (default 100000)", "N" },
    { "dim", 0, 0, G_OPTION_ARG_INT, &o.dim, "Dimension (default 128)", "D" },
    { "k", 'k', 0, G_OPTION_ARG_INT, &o.k, "Neighbours (default 30)", "K" },
    { "queries", 0, 0, G_OPTION_ARG_INT, &o.queries, "Single queries timed (default 200)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o.batch, "Queries in the batch (default 1000)", "N" },
    { "pairs", 0, 0, G_OPTION_ARG_INT, &o.pairs, "Rows of the all-pairs case (default 10000)", "N" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &o.repeats, "Runs of batch and pairs (default 3)", "N" },
    { "threads", 'j', 0, G_OPTION_ARG_STRING, &o.threads, "Thread counts (default 1,2)", "LIST" },
    { "no-faiss", 0, 0, G_OPTION_ARG_NONE, &o.no_faiss, "Only our side", NULL },
    { "faiss-script", 0, 0, G_OPTION_ARG_FILENAME, &o.faiss_script,
      "FAISS side (default: build-aux/bench-search-faiss.py of the source tree)", "PATH" },
    { "python", 0, 0, G_OPTION_ARG_FILENAME, &o.python,
      "Interpreter with faiss and numpy (default /usr/bin/python3)", "PATH" },
    { NULL }
  };
  int status;

  if (!lk_cli_parse (&argc, &argv, NULL,
                     "Times exact top-k search (single, batch, all pairs; L2 and inner product) "
                     "against FAISS's IndexFlatL2/IndexFlatIP on the same data and threads.",
                     entries, NULL))
    return LK_EXIT_USAGE;
  if (o.n < 1 || o.dim < 1 || o.k < 1 || o.queries < 1 || o.batch < 1 || o.pairs < 2
      || o.pairs > o.n || o.k >= o.pairs || o.repeats < 1)
    return lk_cli_usage_error (argv[0], "invalid sizes");
  if (o.threads == NULL)
    o.threads = g_strdup ("1,2");
  if (o.faiss_script == NULL)
    o.faiss_script = g_strdup (LK_SOURCE_DIR "/build-aux/bench-search-faiss.py");
  if (o.python == NULL)
    o.python = g_strdup ("/usr/bin/python3");

  status = run (&o);
  g_free (o.threads);
  g_free (o.faiss_script);
  g_free (o.python);
  return status;
}
