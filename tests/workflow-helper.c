/* workflow-helper.c — engine entry points for the reliability tests, as
 * small commands a test can run and kill like likeness-cli:
 *
 *   workflow-helper scan DIR        open the collection (its image cache)
 *   workflow-helper features DIR    ... and its features (features cache)
 *   workflow-helper relevance DIR   ... and its relevance (relevance cache)
 *   workflow-helper label DIR N     answers N triplets as the Label view does
 *                                   (lk_triplets_append, one at a time, an
 *                                   undo and a new answer every 4th), writing
 *                                   the number of operations acknowledged so
 *                                   far to DATA/workflow-label.acks (or
 *                                   $LK_WORKFLOW_LABEL_ACKS) after each
 *   workflow-helper label-check DIR N
 *                                   after a kill: every acknowledged
 *                                   operation is in the triplet file (and at
 *                                   most one more), the file parses without
 *                                   a problem; then labels the rest, as a
 *                                   user would, and prints the digest
 *   workflow-helper train-check DIR NAME PRETRAIN RANKING EVERY
 *                                   after a killed `likeness-cli train
 *                                   --preset tiny --threads 1 --no-embed
 *                                   --pretrain-batch 16 --ranking-batch 8
 *                                   --pretrain-steps PRETRAIN --ranking-steps
 *                                   RANKING --checkpoint-steps EVERY`: every model
 *                                   file loads; resumes model NAME from its
 *                                   last checkpoint (or starts it as the CLI
 *                                   does when none was written), checks it
 *                                   continues at that checkpoint's step, and
 *                                   prints the digest of the final weights
 *
 * Each prints one line, a digest of everything it read or computed, so a
 * test can tell a run that read a damaged file from one that did not (and
 * a resumed training from an uninterrupted one).
 * (No likeness-cli verb computes and caches features yet; when one does,
 * the workflow steps can run it instead.) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas-kernels.h"
#include "collection.h"
#include "error.h"
#include "fileutil.h"
#include "model-store.h"
#include "relevance.h"
#include "trainer.h"
#include "triplets.h"

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


/* ---- labelling ---- */

typedef struct {
  gboolean undo;         /* lk_triplets_remove_last, else an append of row */
  LkTripletRow row;
} LabelOp;

/* The operations of a labelling session of @n answers, the same in every
 * process: an answer, and after every 4th an undo and another answer to
 * the same triplet. */
static GArray *
label_ops (LkCollection *c, guint n)
{
  GArray *ops = g_array_new (FALSE, TRUE, sizeof (LabelOp));
  g_autoptr(GRand) rand = g_rand_new_with_seed (20140623);
  guint n_images = lk_collection_get_n_images (c);

  for (guint i = 0; i < n; i++)
    {
      LabelOp op = { FALSE, { 0 } };
      op.row.query = g_rand_int_range (rand, 0, (gint32) n_images);
      do
        op.row.a = g_rand_int_range (rand, 0, (gint32) n_images);
      while (op.row.a == op.row.query);
      do
        op.row.b = g_rand_int_range (rand, 0, (gint32) n_images);
      while (op.row.b == op.row.query || op.row.b == op.row.a);
      op.row.rating = (LkRating) (i % LK_N_RATINGS);
      g_array_append_val (ops, op);
      if (i % 4 == 3)
        {
          LabelOp undo = { TRUE, { 0 } };
          g_array_append_val (ops, undo);
          op.row.rating = (LkRating) ((i + 1) % LK_N_RATINGS);
          g_array_append_val (ops, op);
        }
    }
  return ops;
}

/* The rows in the file after the first @m operations. */
static GArray *
label_rows_after (GArray *ops, guint m)
{
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (LkTripletRow));

  for (guint j = 0; j < m; j++)
    {
      const LabelOp *op = &g_array_index (ops, LabelOp, j);
      if (op->undo)
        g_array_set_size (rows, rows->len - 1);
      else
        g_array_append_val (rows, op->row);
    }
  return rows;
}

static gboolean
rows_equal (GArray *expected, const LkTripletRow *rows, guint n)
{
  if (expected->len != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      const LkTripletRow *e = &g_array_index (expected, LkTripletRow, i);
      if (e->query != rows[i].query || e->a != rows[i].a || e->b != rows[i].b
          || e->rating != rows[i].rating || rows[i].rater != NULL)
        return FALSE;
    }
  return TRUE;
}

static char *
acks_path (LkCollection *c)
{
  g_autofree char *dir = NULL;

  /* Elsewhere, for a test that fills the data folder's disk. */
  if (g_getenv ("LK_WORKFLOW_LABEL_ACKS") != NULL)
    return g_strdup (g_getenv ("LK_WORKFLOW_LABEL_ACKS"));
  dir = lk_data_dir_for (lk_collection_get_id (c));
  return g_build_filename (dir, "workflow-label.acks", NULL);
}

/* Runs operations @from… of @ops on @path; with @acks ≥ 0, writes the
 * count done to it after each (write(2) returns before a kill can take it
 * back: the kernel has the bytes). */
static gboolean
label_run (LkCollection *c, const char *path, GArray *ops, guint from, int acks, GError **error)
{
  for (guint j = from; j < ops->len; j++)
    {
      const LabelOp *op = &g_array_index (ops, LabelOp, j);
      gboolean ok = op->undo ? lk_triplets_remove_last (path, error)
                             : lk_triplets_append (path, c, op->row.query, op->row.a, op->row.b,
                                                   op->row.rating, NULL, error);
      if (!ok)
        return FALSE;
      if (acks >= 0)
        {
          g_autofree char *line = g_strdup_printf ("%u\n", j + 1);
          if (write (acks, line, strlen (line)) != (gssize) strlen (line))
            {
              g_set_error (error, LK_ERROR, LK_ERROR_IO, "acknowledgements: %s",
                           g_strerror (errno));
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
torn_last_line (const char *path, const LkTripletProblem *problem)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  guint lines = 1;

  if (!g_file_get_contents (path, &text, &len, NULL) || len == 0 || text[len - 1] == '\n')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    lines += text[i] == '\n';
  return problem->line == lines;
}

static guint64
label_digest (const LkTripletRow *rows, guint n)
{
  guint64 h = 0;
  for (guint i = 0; i < n; i++)
    {
      guint32 v[4] = { rows[i].query, rows[i].a, rows[i].b, rows[i].rating };
      h = lk_hash64 (v, sizeof v, h);
    }
  return h;
}

static int
label_main (LkCollection *c, guint n, gboolean check, GError **error)
{
  g_autofree char *path = lk_triplets_default_path (c);
  g_autofree char *acks = acks_path (c);
  g_autoptr(GArray) ops = label_ops (c, n);
  g_autoptr(LkTripletSet) set = NULL;
  const LkTripletRow *rows;
  guint n_rows, n_problems;
  guint from = 0;

  if (!check)
    {
      int fd = open (acks, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
      gboolean ok;
      if (fd < 0)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_IO, "%s: %s", acks, g_strerror (errno));
          return 1;
        }
      ok = label_run (c, path, ops, 0, fd, error);
      close (fd);
      if (!ok)
        return 1;
    }
  else
    {
      /* What the killed session acknowledged. */
      g_autofree char *text = NULL;
      guint acked = 0;
      if (g_file_get_contents (acks, &text, NULL, NULL))
        {
          char *last_nl = strrchr (text, '\n');
          if (last_nl != NULL)
            {
              char *start;
              *last_nl = '\0';
              start = strrchr (text, '\n');
              acked = (guint) strtoul (start != NULL ? start + 1 : text, NULL, 10);
            }
        }
      set = lk_triplet_set_load (path, c, error);
      if (set == NULL && !g_error_matches (*error, LK_ERROR, LK_ERROR_NOT_FOUND))
        return 1;
      g_clear_error (error);
      rows = set != NULL ? lk_triplet_set_get_rows (set, &n_rows) : (n_rows = 0, NULL);
      if (set != NULL)
        lk_triplet_set_get_problems (set, &n_problems);
      else
        n_problems = 0;
      /* One problem is what an append cut short leaves: a last line
       * without its newline, which the reader skips and the next append
       * cuts off. */
      if (n_problems == 1 && torn_last_line (path, lk_triplet_set_get_problems (set, &n_problems)))
        n_problems = 0;
      if (n_problems > 0)
        {
          fprintf (stderr, "workflow-helper: %s has %u problem(s), first: %s\n", path,
                   n_problems, lk_triplet_set_get_problems (set, &n_problems)[0].message);
          return 1;
        }
      /* The file holds the acknowledged operations, and maybe the one
       * under way when the kill came (done, not yet acknowledged). */
      for (guint m = acked; m <= MIN (acked + 1, ops->len) && from == 0; m++)
        {
          g_autoptr(GArray) expected = label_rows_after (ops, m);
          if (rows_equal (expected, rows, n_rows))
            from = m;
        }
      if (from == 0 && !(acked == 0 && n_rows == 0))
        {
          fprintf (stderr, "workflow-helper: %u operations acknowledged, but %s holds %u rows "
                   "that match neither them nor one more\n", acked, path, n_rows);
          return 1;
        }
      g_clear_pointer (&set, lk_triplet_set_free);
      if (!label_run (c, path, ops, from, -1, error))
        return 1;
    }
  set = lk_triplet_set_load (path, c, error);
  if (set == NULL)
    return 1;
  rows = lk_triplet_set_get_rows (set, &n_rows);
  lk_triplet_set_get_problems (set, &n_problems);
  printf (" labels %u rows %u problems %016" G_GINT64_MODIFIER "x", n_rows, n_problems,
          label_digest (rows, n_rows));
  return 0;
}

/* ---- training ---- */

/* The batches of the workflow's train step (workflow.c), small so that a
 * run takes a second or two. */
#define TRAIN_PRETRAIN_BATCH 16
#define TRAIN_RANKING_BATCH 8

typedef struct {
  guint64 min_step;      /* smallest step reported while training */
} TrainWatch;

static void
on_train_progress (const LkTrainProgress *p, gpointer user_data)
{
  TrainWatch *w = user_data;
  if ((p->stage == LK_TRAIN_STAGE_PRETRAIN || p->stage == LK_TRAIN_STAGE_RANKING)
      && p->state == LK_TRAINER_RUNNING)
    w->min_step = MIN (w->min_step, p->step);
}

static int
train_main (LkCollection *c, const char *name, guint64 pretrain, guint64 ranking,
            guint64 every, GError **error)
{
  g_autoptr(LkModelInfo) info = lk_model_store_get (c, name, NULL);
  g_autoptr(LkTrainer) trainer = NULL;
  g_autoptr(LkModel) model = NULL;
  g_autofree char *model_path = NULL;
  TrainWatch watch = { G_MAXUINT64 };
  guint64 from = 0;
  LkTrainProgress p;

  lk_model_register_embedder ();
  /* Every model file there is whole: it loads and checks. */
  for (guint i = 0; info != NULL && i < info->checkpoints->len; i++)
    {
      LkCheckpointInfo *ck = info->checkpoints->pdata[i];
      g_autoptr(LkModel) m = lk_model_load (ck->path, error);
      if (m == NULL)
        return 1;
    }
  if (info != NULL && info->model_path != NULL)
    {
      g_autoptr(LkModel) m = lk_model_load (info->model_path, error);
      if (m == NULL)
        return 1;
    }
  if (info != NULL && info->checkpoints->len > 0)
    {
      g_autoptr(GArray) history = NULL;
      from = ((LkCheckpointInfo *) info->checkpoints->pdata[info->checkpoints->len - 1])->step;
      trainer = lk_trainer_new_resume (c, name, error);
      if (trainer == NULL)
        return 1;
      history = lk_trainer_dup_history (trainer);
      if (history->len != from)
        {
          fprintf (stderr, "workflow-helper: checkpoint at step %" G_GUINT64_FORMAT
                   " holds %u history points\n", from, history->len);
          return 1;
        }
    }
  else
    {
      /* Killed before the first checkpoint: start again, as the CLI does. */
      LkTrainParams params;
      lk_train_params_init (&params, LK_PRESET_TINY);
      params.pretrain_steps = pretrain;
      params.ranking_steps = ranking;
      params.budget_seconds = 0;
      params.checkpoint_steps = every;
      params.pretrain_batch = TRAIN_PRETRAIN_BATCH;
      params.ranking_batch = TRAIN_RANKING_BATCH;
      params.n_threads = 1;
      params.embed_when_done = FALSE;
      trainer = lk_trainer_new (c, name, &params, error);
      if (trainer == NULL)
        return 1;
    }
  lk_trainer_set_progress_func (trainer, on_train_progress, &watch, NULL);
  if (!lk_trainer_run (trainer, NULL, error))
    return 1;
  lk_trainer_get_progress (trainer, &p);
  /* It went on where the checkpoint left off: its first step reported is
   * that step (the state change) or the one after. */
  if (p.step > from && watch.min_step != from && watch.min_step != from + 1)
    {
      fprintf (stderr, "workflow-helper: resumed from the checkpoint at step %" G_GUINT64_FORMAT
               " but trained from step %" G_GUINT64_FORMAT "\n", from, watch.min_step);
      return 1;
    }
  model_path = g_build_filename (lk_trainer_get_dir (trainer), "model.lkm", NULL);
  model = lk_model_load (model_path, error);
  if (model == NULL)
    return 1;
  printf (" model %s %s steps %" G_GUINT64_FORMAT " weights %016" G_GINT64_MODIFIER "x",
          name, lk_trainer_state_name (lk_trainer_get_state (trainer)), p.step,
          lk_model_get_key (model));
  return 0;
}

static gboolean
is_verb (const char *what, int argc)
{
  static const struct { const char *name; int argc; } verbs[] = {
    { "scan", 3 }, { "features", 3 }, { "relevance", 3 }, { "label", 4 }, { "label-check", 4 },
    { "train-check", 7 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (what, verbs[i].name) == 0)
      return argc == verbs[i].argc;
  return FALSE;
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
  int status = 0;

  /* As likeness-cli does: the same OpenBLAS kernels, so a training it
   * resumes computes what the CLI's would, to the bit. */
  lk_blas_select_kernels (argv);
  if (argc < 3 || !is_verb (argv[1], argc))
    {
      fprintf (stderr, "usage: workflow-helper scan|features|relevance DIR\n"
                       "       workflow-helper label|label-check DIR N\n"
                       "       workflow-helper train-check DIR NAME PRETRAIN RANKING EVERY\n");
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
  if (strcmp (what, "features") == 0 || strcmp (what, "relevance") == 0)
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
  if (g_str_has_prefix (what, "label"))
    status = label_main (c, (guint) g_ascii_strtoull (argv[3], NULL, 10),
                         strcmp (what, "label-check") == 0, &error);
  else if (strcmp (what, "train-check") == 0)
    status = train_main (c, argv[3], g_ascii_strtoull (argv[4], NULL, 10),
                         g_ascii_strtoull (argv[5], NULL, 10),
                         g_ascii_strtoull (argv[6], NULL, 10), &error);
  if (status != 0 && error != NULL)
    goto fail;
  printf ("\n");
  return status;

fail:
  fflush (stdout);
  fprintf (stderr, "workflow-helper: %s\n", error->message);
  return 1;
}
