/* cli-bench-sampler.c — `likeness-cli bench sampler`: the golden-feature
 * pipeline on real collections.
 *
 * Per data set, each in its own child process so that the peak resident
 * memory (getrusage ru_maxrss) belongs to that data set alone:
 *  - openclipart-png (folder, side 64, RGB; the collection's image cache
 *    is used as `likeness-cli scan` leaves it);
 *  - the 60,000-image Fashion-MNIST train split (28×28 gray);
 *  - synthetic: random feature rows of the RGB layout, 100,000 images in
 *    20 categories, to show the relevance scales (no images behind it).
 * It times the features (all threads), the relevance (cblas_sgemm; OpenBLAS
 * set to the same thread count), and the sampler alone: triplets per
 * second over a few seconds of batches, after the first batch (which
 * streams a whole epoch) is timed on its own. Feature and relevance caches
 * are neither read nor written.
 *
 * On openclipart it then times what the sampler feeds: ranking steps of
 * the trainer on the photo preset (deep-ranking, all threads), as
 * `likeness-cli train` runs them (with the collection's feature cache),
 * its model written to a temporary data folder that is removed after, and
 * prints how many times faster the sampler draws than the trainer
 * consumes. */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "sampler.h"
#include "trainer.h"

typedef struct {
  char *only;
  char *folder;
  int side;
  int threads;
  int synthetic_images;
  int synthetic_categories;
  double seconds;
  int batch;
} Options;

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static double
peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

/* The sampler's rate in the last bench_sampler() of this process. */
static double sampler_rate;

static void
bench_sampler (LkRelevance *rel, const Options *o)
{
  g_autoptr(LkSampler) s = NULL;
  g_autoptr(LkSamplerSnapshot) snap = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree LkTriplet *batch = g_new (LkTriplet, o->batch);
  LkSamplerParams params;
  guint64 n = 0;
  double t0, t1, first;

  lk_sampler_params_init (&params);
  s = lk_sampler_new (rel, &params);
  t0 = now_s ();
  if (!lk_sampler_next_batch (s, batch, o->batch, &error))
    {
      printf ("  sampler: %s\n", error->message);
      return;
    }
  first = now_s () - t0;
  t0 = now_s ();
  do
    {
      for (guint k = 0; k < 16; k++)
        if (!lk_sampler_next_batch (s, batch, o->batch, &error))
          {
            printf ("  sampler: %s\n", error->message);
            return;
          }
      n += 16 * (guint64) o->batch;
      t1 = now_s ();
    }
  while (t1 - t0 < o->seconds);
  lk_sampler_publish (s);
  snap = lk_sampler_snapshot (s);
  printf ("  sampler (buffers %u, T_r %.2f, T_p %.2f, out-of-class %.2f, batch %d, 1 thread):\n",
          params.buffer_size, params.t_r, params.t_p, params.out_of_class_share, o->batch);
  printf ("    first batch (streams one epoch): %.3f s\n", first);
  sampler_rate = n / (t1 - t0);
  printf ("    %.0f triplets/s (%" G_GUINT64_FORMAT " in %.2f s)\n", sampler_rate, n, t1 - t0);
  printf ("    positives accepted %" G_GUINT64_FORMAT ", rejected %" G_GUINT64_FORMAT
          "; in-class negatives accepted %" G_GUINT64_FORMAT ", rejected by draw %"
          G_GUINT64_FORMAT ", by T_r %" G_GUINT64_FORMAT "; out-of-class %" G_GUINT64_FORMAT
          " of %" G_GUINT64_FORMAT "\n",
          snap->counts.positives_accepted, snap->counts.positives_rejected,
          snap->counts.negatives_accepted, snap->counts.negatives_rejected_draw,
          snap->counts.negatives_rejected_margin, snap->counts.out_of_class,
          snap->counts.triplets);
  {
    double t = now_s ();
    for (guint k = 0; k < 100; k++)
      lk_sampler_snapshot_free (lk_sampler_snapshot (s));
    printf ("    snapshot: %.1f µs each\n", (now_s () - t) / 100 * 1e6);
  }
}

/* A sanity figure, not the paper's metric: the share of random triplets
 * (q, p same category, n another) each block and the golden distance
 * order correctly. */
static void
class_precision (LkFeatures *f, const guint16 *labels, guint n_categories)
{
  const guint count = 20000;
  guint n = lk_features_get_n_images (f);
  g_autofree guint32 *q = g_new (guint32, count), *p = g_new (guint32, count);
  g_autofree guint32 *ng = g_new (guint32, count);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  LkGoldenWeights w;
  guint t = 0, tries = 0;

  if (n_categories < 2)
    return;
  while (t < count && tries++ < 100 * count)
    {
      q[t] = g_rand_int_range (rand, 0, n);
      p[t] = g_rand_int_range (rand, 0, n);
      ng[t] = g_rand_int_range (rand, 0, n);
      if (p[t] != q[t] && labels[p[t]] == labels[q[t]] && labels[ng[t]] != labels[q[t]])
        t++;
    }
  printf ("  same-vs-other-category precision of %u random triplets:", t);
  for (guint b = 0; b < LK_N_FEATURES; b++)
    {
      memset (&w, 0, sizeof w);
      w.w[b] = 1;
      printf (" %s %.3f", lk_feature_kind_name (b), lk_golden_precision (f, &w, q, p, ng, t));
    }
  lk_golden_weights_init_default (&w);
  printf (" golden %.3f\n", lk_golden_precision (f, &w, q, p, ng, t));
  /* Weights learned on the first half, measured on the second. */
  if (lk_golden_learn (f, q, p, ng, t / 2, NULL, &w, NULL))
    printf ("  golden weights learned on %u of them: %.2f %.2f %.2f %.2f; held-out precision "
            "%.3f (default weights %.3f)\n", t / 2, w.w[0], w.w[1], w.w[2], w.w[3],
            lk_golden_precision (f, &w, q + t / 2, p + t / 2, ng + t / 2, t - t / 2),
            lk_golden_precision (f, &(LkGoldenWeights) { { 1, 1, 1, 1 } },
                                 q + t / 2, p + t / 2, ng + t / 2, t - t / 2));
}

static int
bench_relevance (LkFeatures *features, const guint16 *labels, guint n_categories,
                 const Options *o)
{
  g_autoptr(LkRelevance) rel = NULL;
  g_autoptr(GError) error = NULL;
  LkGoldenWeights w;
  double t0, dt;
  guint n = lk_features_get_n_images (features);
  double pairs = 0;
  g_autofree guint *count = g_new0 (guint, n_categories);

  for (guint i = 0; i < n; i++)
    count[labels[i]]++;
  for (guint c = 0; c < n_categories; c++)
    pairs += (double) count[c] * count[c];

  lk_golden_weights_init_default (&w);
  t0 = now_s ();
  rel = lk_relevance_compute (features, labels, n_categories, &w, NULL, NULL, NULL, NULL, &error);
  if (rel == NULL)
    return lk_cli_fail (error);
  dt = now_s () - t0;
  printf ("  relevance (top-%u, dim %u): %.2f s, %.0f M same-category pairs/s, %.1f GFLOP/s "
          "in sgemm terms; peak RSS now %.0f MB\n",
          lk_relevance_get_top_m (rel), lk_features_get_dim (features), dt, pairs / dt / 1e6,
          2.0 * pairs * lk_features_get_dim (features) / dt / 1e9, peak_rss_mb ());
  bench_sampler (rel, o);
  return LK_EXIT_OK;
}

static int
bench_pixels (const char *what, const guint8 *pixels, guint n, guint side, guint channels,
              const guint16 *labels, guint n_categories, const Options *o)
{
  g_autoptr(LkFeatures) f = NULL;
  g_autoptr(GError) error = NULL;
  double t0 = now_s (), dt;

  printf ("%s: %u images, %u categories, %u×%u×%u; peak RSS before features %.0f MB\n",
          what, n, n_categories, side, side, channels, peak_rss_mb ());
  f = lk_features_compute (pixels, n, side, channels, (guint) o->threads, NULL, NULL, NULL, &error);
  if (f == NULL)
    return lk_cli_fail (error);
  dt = now_s () - t0;
  printf ("  features (%d threads): %.2f s, %.0f images/s; peak RSS now %.0f MB\n",
          o->threads, dt, n / dt, peak_rss_mb ());
  class_precision (f, labels, n_categories);
  return bench_relevance (f, labels, n_categories, o);
}

typedef struct {
  double triplets_per_s;
  guint64 ranking_steps;
} TrainerRate;

static void
on_train_progress (const LkTrainProgress *p, gpointer user_data)
{
  TrainerRate *rate = user_data;

  if (p->stage == LK_TRAIN_STAGE_RANKING && p->triplets_per_s > 0)
    {
      rate->triplets_per_s = p->triplets_per_s;
      rate->ranking_steps = p->stage_step;
    }
}

static void
remove_tree (GFile *dir)
{
  g_autoptr(GFileEnumerator) e = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                                            G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                                            G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                            NULL, NULL);
  GFileInfo *info;
  GFile *child;

  while (e != NULL && g_file_enumerator_iterate (e, &info, &child, NULL, NULL) && info != NULL)
    if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
      remove_tree (child);
    else
      g_file_delete (child, NULL, NULL);
  g_file_delete (dir, NULL, NULL);
}

/* Ranking steps of the photo preset on @c: the rate the sampler feeds. */
static int
bench_trainer (LkCollection *c, const char *data_dir, const Options *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  LkTrainParams p;
  TrainerRate rate = { 0, 0 };
  double t0 = now_s ();

  lk_train_params_init (&p, LK_PRESET_PHOTO);
  p.pretrain_steps = 1;
  p.ranking_steps = 24;
  p.budget_seconds = 0;
  p.checkpoint_minutes = 0;
  p.embed_when_done = FALSE;
  p.n_threads = (guint) o->threads;
  t = lk_trainer_new (c, "bench-sampler", &p, &error);
  if (t == NULL)
    return lk_cli_fail (error);
  if (!g_str_has_prefix (lk_trainer_get_dir (t), data_dir))
    {
      printf ("  trainer: not measured (its model would go to %s)\n", lk_trainer_get_dir (t));
      return LK_EXIT_ERROR;
    }
  lk_trainer_set_progress_func (t, on_train_progress, &rate, NULL);
  if (!lk_trainer_run (t, NULL, &error))
    return lk_cli_fail (error);
  printf ("  trainer (photo preset, deep-ranking, %u triplets a step, %d threads): "
          "%.1f triplets/s over %" G_GUINT64_FORMAT " ranking steps (%.0f s in all)\n",
          p.ranking_batch, o->threads, rate.triplets_per_s, rate.ranking_steps, now_s () - t0);
  if (rate.triplets_per_s > 0 && sampler_rate > 0)
    printf ("  the sampler draws %.0f× faster than the trainer consumes (target ≥ 20×)\n",
            sampler_rate / rate.triplets_per_s);
  return LK_EXIT_OK;
}

static int
run_openclipart (const Options *o)
{
  g_autoptr(LkCollection) c = NULL;
  g_autoptr(GError) error = NULL;
  LkScanOptions options;
  double t0 = now_s ();
  /* The trainer's model goes to a folder of its own, not the user's data. */
  g_autofree char *data_dir = g_dir_make_tmp ("likeness-bench-XXXXXX", &error);
  g_autoptr(GFile) data = NULL;
  int status;

  if (data_dir == NULL)
    return lk_cli_fail (error);
  data = g_file_new_for_path (data_dir);
  g_setenv ("XDG_DATA_HOME", data_dir, TRUE);
  lk_scan_options_init (&options);
  options.side = (guint) o->side;
  options.n_threads = (guint) o->threads;
  c = lk_collection_open_folder (o->folder, &options, NULL, NULL, NULL, &error);
  if (c == NULL)
    {
      remove_tree (data);
      return lk_cli_fail (error);
    }
  printf ("(collection opened in %.2f s)\n", now_s () - t0);
  status = bench_pixels (o->folder, lk_collection_get_pixels (c), lk_collection_get_n_images (c),
                         lk_collection_get_side (c), lk_collection_get_channels (c),
                         lk_collection_get_labels (c), lk_collection_get_n_categories (c), o);
  if (status == LK_EXIT_OK)
    status = bench_trainer (c, data_dir, o);
  remove_tree (data);
  return status;
}

static int
run_fashion_mnist (const Options *o)
{
  g_autoptr(LkCollection) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *train = NULL;
  g_autofree guint8 *pixels = NULL;
  g_autofree guint16 *labels = NULL;
  guint n, side, bytes;

  c = lk_collection_open_fashion_mnist (NULL, NULL, &error);
  if (c == NULL)
    return lk_cli_fail (error);
  train = lk_collection_get_split_indices (c, LK_SPLIT_TRAIN, &n);
  side = lk_collection_get_side (c);
  bytes = side * side * lk_collection_get_channels (c);
  pixels = g_new (guint8, (gsize) n * bytes);
  labels = g_new (guint16, n);
  for (guint k = 0; k < n; k++)
    {
      memcpy (pixels + (gsize) k * bytes, lk_collection_get_image (c, train[k]), bytes);
      labels[k] = (guint16) lk_collection_get_label (c, train[k]);
    }
  return bench_pixels ("fashion-mnist train split", pixels, n, side,
                       lk_collection_get_channels (c), labels,
                       lk_collection_get_n_categories (c), o);
}

/* Unit-norm random blocks around a few centres per category, so relevance
 * has structure as it would on images. */
static int
run_synthetic (const Options *o)
{
  guint n = (guint) o->synthetic_images, n_cat = (guint) o->synthetic_categories;
  guint dims[LK_N_FEATURES], dim = 0;
  g_autofree float *data = NULL;
  g_autofree guint16 *labels = g_new (guint16, n);
  g_autoptr(LkFeatures) f = NULL;
  guint64 x = 88172645463325252ull;

  for (guint k = 0; k < LK_N_FEATURES; k++)
    dim += dims[k] = lk_feature_kind_dim (k, 3);
  data = g_new (float, (gsize) n * dim);
  for (guint i = 0; i < n; i++)
    {
      labels[i] = (guint16) (i % n_cat);
      for (guint c = 0; c < dim; c++)
        {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          data[(gsize) i * dim + c] = (float) ((x >> 40) / 16777216.0) + ((c + i / n_cat % 7) % 9 == 0);
        }
    }
  printf ("synthetic feature rows (no images): %u rows, %u categories, dim %u; "
          "peak RSS with the rows %.0f MB\n", n, n_cat, dim, peak_rss_mb ());
  f = lk_features_new_take_data (n, dims, g_steal_pointer (&data));
  return bench_relevance (f, labels, n_cat, o);
}

/* Runs one data set in a child process (for its own peak memory). */
static int
run_child (const char *argv0_path, const char *only, const Options *o)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *side = g_strdup_printf ("--side=%d", o->side);
  g_autofree char *threads = g_strdup_printf ("--threads=%d", o->threads);
  g_autofree char *seconds = g_strdup_printf ("--seconds=%g", o->seconds);
  g_autofree char *batch = g_strdup_printf ("--batch=%d", o->batch);
  g_autofree char *syn = g_strdup_printf ("--synthetic-images=%d", o->synthetic_images);
  g_autofree char *syn_c = g_strdup_printf ("--synthetic-categories=%d", o->synthetic_categories);
  g_autofree char *folder = g_strdup_printf ("--folder=%s", o->folder);
  g_autofree char *which = g_strdup_printf ("--only=%s", only);
  const char *argv[] = { argv0_path, "bench", "sampler", which, side, threads, seconds, batch,
                         syn, syn_c, folder, NULL };
  int status = 0;

  fflush (stdout);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                     NULL, NULL, &status, &error))
    return lk_cli_fail (error);
  return g_spawn_check_wait_status (status, NULL) ? LK_EXIT_OK : LK_EXIT_ERROR;
}

int
lk_cli_bench_sampler (int argc, char **argv)
{
  Options o = { NULL, NULL, 64, 0, 100000, 20, 3.0, 64 };
  g_autofree char *self_path = NULL;
  int status = LK_EXIT_OK;
  const GOptionEntry entries[] = {
    { "only", 0, 0, G_OPTION_ARG_STRING, &o.only,
      N_("One data set: openclipart, fashion-mnist or synthetic"), N_("NAME") },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &o.folder,
      N_("Folder collection (default /usr/share/openclipart/png)"), N_("DIR") },
    { "side", 0, 0, G_OPTION_ARG_INT, &o.side,
      N_("Tensor side for the folder (default 64)"), N_("N") },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &o.threads, N_("Threads (default: cores)"), N_("N") },
    { "synthetic-images", 0, 0, G_OPTION_ARG_INT, &o.synthetic_images,
      N_("Rows of the synthetic set (default 100000)"), N_("N") },
    { "synthetic-categories", 0, 0, G_OPTION_ARG_INT, &o.synthetic_categories,
      N_("Categories of the synthetic set (default 20)"), N_("N") },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o.seconds,
      N_("Sampler run time (default 3)"), N_("S") },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o.batch, N_("Triplets per batch (default 64)"), N_("N") },
    { NULL }
  };

  if (!lk_cli_parse (&argc, &argv, NULL,
                     _("Measures features, relevance (time, peak memory) and sampler throughput."),
                     entries, NULL))
    return LK_EXIT_USAGE;
  if (o.folder == NULL)
    o.folder = g_strdup ("/usr/share/openclipart/png");
  if (o.threads <= 0)
    o.threads = (int) g_get_num_processors ();
  if (o.batch <= 0 || o.side < 8 || o.synthetic_images < 2 || o.synthetic_categories < 1
      || o.synthetic_categories > 65535)
    return lk_cli_usage_error (argv[0], _("invalid --batch, --side or --synthetic-*"));
  openblas_set_num_threads (o.threads);

  if (o.only != NULL)
    {
      if (g_str_equal (o.only, "openclipart"))
        status = run_openclipart (&o);
      else if (g_str_equal (o.only, "fashion-mnist"))
        status = run_fashion_mnist (&o);
      else if (g_str_equal (o.only, "synthetic"))
        status = run_synthetic (&o);
      else
        status = lk_cli_usage_error (argv[0],
                                     _("--only takes openclipart, fashion-mnist or synthetic"));
    }
  else
    {
      const char *sets[] = { "openclipart", "fashion-mnist", "synthetic" };
      self_path = g_file_read_link ("/proc/self/exe", NULL);
      if (self_path == NULL)
        self_path = g_strdup ("likeness-cli");
      for (guint k = 0; k < G_N_ELEMENTS (sets); k++)
        {
          int s = run_child (self_path, sets[k], &o);
          if (s != LK_EXIT_OK)
            status = s;
        }
    }
  g_free (o.only);
  g_free (o.folder);
  return status;
}
