/* test-kill.c — crash safety: every workflow step that writes state is
 * killed with SIGKILL at random moments, then run again; what the next run
 * reads must be exactly what a clean run reads (each file whole, or
 * detected as damaged and rebuilt), and no temporary may pile up.
 *
 * The steps come from lk_workflow_steps[] (workflow.c): any step with a
 * check command is killed here: scanning, features, relevance,
 * embedding, training with checkpoints (the check resumes from the last
 * checkpoint, verifies the step it continues at and ends with the weights
 * of an uninterrupted run, to the bit) and labelling (the check finds
 * every acknowledged answer and undo in the file). The kill moments are
 * uniform over the clean run's duration (a little past it, so some runs
 * finish) and runs go on until 20 kills have landed mid-run; the seed is
 * GTest's (--seed to replay). */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "collection.h"
#include "fileutil.h"
#include "testutil.h"
#include "workflow.h"

#define N_KILLS 20     /* kills that must land mid-run, per step */
#define MAX_RUNS 60    /* runs tried for them (some finish before the kill) */
#define N_IMAGES 900

static char *collection;
static char *cache_dir;
static char *data_dir;

static char *
output_path (const char *output)
{
  if (g_str_has_prefix (output, "@DATA@/"))
    return g_build_filename (data_dir, output + 7, NULL);
  return g_build_filename (cache_dir, output, NULL);
}

static void
remove_outputs (const LkWorkflowStep *step)
{
  for (guint k = 0; k < G_N_ELEMENTS (step->outputs) && step->outputs[k] != NULL; k++)
    {
      g_autofree char *path = output_path (step->outputs[k]);
      if (g_str_has_suffix (step->outputs[k], "/"))
        lk_test_rm_rf (path);
      else
        g_unlink (path);
    }
}

/* Temporaries (NAME.tmp-XXXXXX) in the folders the steps write. */
static guint
count_temporaries (void)
{
  return lk_workflow_count_temporaries (cache_dir) + lk_workflow_count_temporaries (data_dir);
}

/* A changed image, so the next scan decodes it again and rewrites the
 * whole cache over the valid one. */
static void
touch_one_image (guint k)
{
  g_autofree char *path = g_strdup_printf ("%s/boats/img-%04u.png", collection, 6 * (k % 50));
  struct utimbuf t = { 1700000000 + k, 1700000000 + k };
  g_assert_cmpint (utime (path, &t), ==, 0);
}

/* Prepares run @k: half the runs write their files anew, half (for the
 * scan) replace valid ones. */
static void
prepare (const LkWorkflowStep *step, guint k)
{
  if (k % 2 == 0 || !g_str_equal (step->name, "scan"))
    remove_outputs (step);
  else
    touch_one_image (k);
}

static void
test_kill_step (gconstpointer data)
{
  const LkWorkflowStep *step = data;
  g_auto(LkRun) reference = { 0 };
  double seconds[2];
  guint landed = 0, finished = 0, left_tmp = 0;

  /* How long a complete run takes, for either kind of preparation, once
   * what earlier steps cache is there (the first run may compute it:
   * training computes the features and relevance it needs). */
  for (guint k = 0; k < 3; k++)
    {
      g_auto(LkRun) clean = { 0 };
      prepare (step, k);
      lk_workflow_run (step->argv, collection, &clean);
      g_assert_cmpint (clean.status, ==, 0);
      seconds[k % 2] = clean.seconds;
    }
  /* The reference: what the check prints after a clean, complete run. */
  lk_workflow_run (step->check, collection, &reference);
  g_assert_cmpint (reference.status, ==, 0);
  g_assert_cmpstr (reference.err, ==, "");

  for (guint k = 0; landed < N_KILLS && k < MAX_RUNS; k++)
    {
      g_auto(LkRun) check = { 0 };
      gint64 delay = (gint64) (g_test_rand_double_range (0, 1.15) * seconds[k % 2] * 1e6);

      gint64 t0;

      prepare (step, k);
      t0 = g_get_monotonic_time ();
      if (lk_workflow_run_killed (step->argv, collection, delay))
        landed++;
      else
        {
          /* It ran this long at most: the timing runs above, on a busier
           * machine, may have been slower (the label step's took 3 s
           * while a build ran beside them, 0.24 s alone, and 48 of 60
           * runs then finished before their kill). */
          seconds[k % 2] = MIN (seconds[k % 2], (g_get_monotonic_time () - t0) / 1e6);
          finished++;
        }
      left_tmp += count_temporaries () > 0;

      lk_workflow_run (step->check, collection, &check);
      if (check.status != 0 || !g_str_equal (check.out, reference.out))
        g_error ("%s killed after %.3f s: the next run printed “%s” (status %d, “%s”), "
                 "a clean run “%s”", step->name, delay / 1e6, check.out, check.status,
                 check.err, reference.out);
    }
  /* A complete run rewrites every file and sweeps what killed runs left
   * (a check that reads one file only rewrites that one). */
  {
    g_auto(LkRun) last = { 0 };
    remove_outputs (step);
    lk_workflow_run (step->argv, collection, &last);
    g_assert_cmpint (last.status, ==, 0);
    g_assert_cmpuint (count_temporaries (), ==, 0);
  }
  g_test_message ("%s: %u kills landed, %u runs finished first (shortest complete runs %.3f s and "
                  "%.3f s); %u kills left a temporary, all swept; every next run read what a "
                  "clean run reads", step->name, landed, finished, seconds[0],
                  seconds[1], left_tmp);
  g_assert_cmpuint (landed, >=, N_KILLS);
}

int
main (int argc, char **argv)
{
  g_autoptr(LkCollection) c = NULL;
  g_autoptr(GError) error = NULL;
  LkScanOptions options;
  int status;

  lk_test_init (&argc, &argv);
  collection = lk_workflow_make_collection ("kill-collection", N_IMAGES, 40);
  lk_scan_options_init (&options);
  options.no_cache = TRUE;
  c = lk_collection_open_folder (collection, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  cache_dir = lk_cache_dir_for (lk_collection_get_id (c));
  data_dir = lk_data_dir_for (lk_collection_get_id (c));
  for (guint s = 0; s < lk_workflow_n_steps; s++)
    if (lk_workflow_steps[s].check[0] != NULL)
      {
        g_autofree char *path = g_strdup_printf ("/slow/kill/%s", lk_workflow_steps[s].name);
        g_test_add_data_func (path, &lk_workflow_steps[s], test_kill_step);
      }
  status = g_test_run ();
  g_free (cache_dir);
  g_free (data_dir);
  g_free (collection);
  return status;
}
