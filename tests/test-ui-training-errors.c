/* test-ui-training-errors.c — failures a person can cause, as the
 * Training view shows them (issue 9 item 6; the CLI's are in
 * test-errors.c): each names the file and the reason, leaves the view
 * ready to start again, and leaves nothing behind that breaks the next
 * start.
 *  - the models folder is a file: Start fails at once, naming the folder
 *    and "Not a directory"; once it is a folder again Start works;
 *  - the data folder full (a tmpfs, when the test may mount one): too
 *    small for one checkpoint → refused before training, naming the
 *    folder and the room needed, and the empty model folder removed; room
 *    for one checkpoint but not two → the second fails naming its file
 *    and "No space left on device", no temporary left, the first still
 *    listed and continued once there is room;
 *  - damaged checkpoints: all of them → Continue fails naming one and the
 *    reason (this crashed: a double free), the model list still works;
 *    the latest only → it is set aside, the view says so naming it, and
 *    training continues from the one before;
 *  - Continue on a model of another preset than the form's: it continues
 *    as what it is, the form shows its settings and the view says so
 *    naming the checkpoint; its first report shows the checkpoint's loss
 *    and learning rate (the engine's figures equal those of the run that
 *    stopped), not zeros;
 *  - an empty leftover model folder is reused by the name proposal and by
 *    Start; a file or a model of that name is not. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "lk-training-view-private.h"
#include "lk-window-private.h"
#include "model-store.h"
#include "testutil-gtk.h"
#include "testutil.h"

#define SIDE 28

static const char *const categories[] = { "apples", "pears", "plums", NULL };

#define ASSERT_HAS(haystack, needle) \
  G_STMT_START { \
    const char *h_ = (haystack), *n_ = (needle); \
    if (h_ == NULL || strstr (h_, n_) == NULL) \
      g_error ("“%s” does not contain “%s”", h_ != NULL ? h_ : "(null)", n_); \
  } G_STMT_END

static LkTrainingView *
training_view (LkWindow *window)
{
  GtkWidget *page = gtk_stack_get_child_by_name (_lk_window_get_views (window), "training");
  g_assert_true (LK_IS_TRAINING_VIEW (page));
  return LK_TRAINING_VIEW (page);
}

static LkTraining *
training_of (LkWindow *window)
{
  return lk_session_get_training (lk_window_get_session (window));
}

static LkCollection *
collection_of (LkWindow *window)
{
  return lk_session_get_collection (lk_window_get_session (window));
}

/* A short run: small batches and buffers, a checkpoint every
 * GPOINTER_TO_UINT (data) steps (0: only at the stop). */
static void
short_run (LkTrainParams *p, gpointer data)
{
  p->pretrain_batch = 12;
  p->ranking_batch = 8;
  p->sampler.buffer_size = 8;
  p->checkpoint_steps = GPOINTER_TO_UINT (data);
  p->n_threads = 1;
  p->seed = 5;
  p->embed_when_done = FALSE;
}

/* The Training view of a window on a new image tree, set to train tiny
 * for 20 + 2000 steps. */
static LkWindow *
open_window (const char *name, char **root_out)
{
  g_autofree char *root = lk_test_make_image_tree (name, categories, 12, SIDE, SIDE, 3);
  LkWindow *window = lk_test_window_new (SIDE);
  LkTrainingView *view;

  lk_test_window_open (window, root);
  view = training_view (window);
  lk_window_show_view (window, "training");
  gtk_drop_down_set_selected (_lk_training_view_get_preset (view), LK_PRESET_TINY);
  gtk_drop_down_set_selected (_lk_training_view_get_schedule (view), 1);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "pretrain-steps"), 20);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "ranking-steps"), 2000);
  lk_test_flush_main_loop ();
  if (root_out != NULL)
    *root_out = g_steal_pointer (&root);
  return window;
}

static gboolean
ended (gpointer training)
{
  return !lk_training_get_active (training);
}

typedef struct {
  LkTraining *training;
  guint64     step;
} StepWatch;

static gboolean
reached (gpointer data)
{
  StepWatch *w = data;
  return lk_training_get_progress (w->training)->step >= w->step ||
         !lk_training_get_active (w->training);
}

/* Waits for the run to end, then checks it failed and the view can start
 * again. Returns the error shown. */
static const char *
wait_failed (LkTrainingView *view, LkTraining *training)
{
  lk_test_wait_until (ended, training, "the run to end");
  lk_test_flush_main_loop ();
  g_assert_nonnull (lk_training_get_error (training));
  g_assert_cmpstr (_lk_training_view_get_state_text (view), ==, "Failed");
  g_assert_nonnull (_lk_training_view_get_error_text (view));
  g_assert_cmpstr (_lk_training_view_get_error_text (view), ==,
                   lk_training_get_error (training)->message);
  return _lk_training_view_get_error_text (view);
}

/* Runs until step @step, stops, and checks it stopped with no error. */
static void
run_to_and_stop (LkTrainingView *view, LkTraining *training, guint64 step)
{
  StepWatch w = { training, step };

  g_assert_true (lk_training_get_active (training));
  lk_test_wait_until (reached, &w, "the steps");
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>period"));
  lk_test_wait_until (ended, training, "the stop");
  lk_test_flush_main_loop ();
  g_assert_null (lk_training_get_error (training));
  g_assert_cmpstr (_lk_training_view_get_state_text (view), ==, "Stopped");
}

static guint
count_temporaries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (strstr (name, ".tmp-") != NULL || g_str_has_prefix (name, ".write-test"))
        n++;
      else if (g_file_test (path, G_FILE_TEST_IS_DIR))
        n += count_temporaries (path);
    }
  return n;
}

/* The models folder is a file ----------------------------------------------------------- */

static void
test_models_not_a_folder (void)
{
  LkWindow *window = open_window ("not-a-folder", NULL);
  LkTrainingView *view = training_view (window);
  LkTraining *training = training_of (window);
  g_autofree char *models = lk_model_store_dir (collection_of (window));
  g_autofree char *parent = g_path_get_dirname (models);
  const char *text;

  _lk_training_view_set_params_hook (view, short_run, GUINT_TO_POINTER (0));
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (models, "not a folder", -1, NULL));
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>Return"));
  text = wait_failed (view, training);
  ASSERT_HAS (text, models);
  ASSERT_HAS (text, g_strerror (ENOTDIR));
  /* Failed before a step: no time was spent on training. */
  g_assert_cmpuint (lk_training_get_progress (training)->step, ==, 0);
  g_assert_null (_lk_training_view_get_listed_model (view));

  /* A folder again: the same name starts, from the keyboard. */
  g_assert_cmpint (g_unlink (models), ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (_lk_training_view_get_name_entry (view)), ==, "tiny");
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>Return"));
  g_assert_null (_lk_training_view_get_error_text (view));
  run_to_and_stop (view, training, 3);
  g_assert_cmpstr (_lk_training_view_get_listed_model (view), ==, "tiny");
  lk_test_window_close (window);
}

/* The data folder full -------------------------------------------------------------------- */

static void
test_disk_full (void)
{
  LkWindow *window = open_window ("disk-full", NULL);
  LkTrainingView *view = training_view (window);
  LkTraining *training = training_of (window);
  g_autofree char *models = lk_model_store_dir (collection_of (window));
  g_autofree char *dir = lk_model_store_dir_for (collection_of (window), "tiny");
  g_autofree char *ckpt3 = lk_model_checkpoint_path (dir, 3);
  g_autofree char *ckpt6 = lk_model_checkpoint_path (dir, 6);
  const char *text;

  g_assert_cmpint (g_mkdir_with_parents (models, 0755), ==, 0);
  /* A tiny model's checkpoint is 7.2 MB, the model file 3.6 MB. */
  if (geteuid () != 0 || mount ("tmpfs", models, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0)
    {
      lk_test_window_close (window);
      g_test_skip ("needs root and tmpfs mounts to fill a disk");
      return;
    }
  _lk_training_view_set_params_hook (view, short_run, GUINT_TO_POINTER (3));

  /* Too small for one checkpoint: refused before training. */
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>Return"));
  text = wait_failed (view, training);
  ASSERT_HAS (text, dir);
  ASSERT_HAS (text, "free");
  g_assert_cmpuint (lk_training_get_progress (training)->step, ==, 0);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));

  /* Room for one checkpoint, not two: the second write fails. */
  g_assert_cmpint (mount ("tmpfs", models, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV,
                          "size=13m"), ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (_lk_training_view_get_name_entry (view)), ==, "tiny");
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>Return"));
  text = wait_failed (view, training);
  ASSERT_HAS (text, ckpt6);
  ASSERT_HAS (text, g_strerror (ENOSPC));
  g_assert_cmpuint (count_temporaries (models), ==, 0);
  /* What was written stays, and is listed. */
  g_assert_true (g_file_test (ckpt3, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (_lk_training_view_get_listed_model (view), ==, "tiny");
  {
    g_autoptr(GArray) steps = _lk_training_view_dup_listed_steps (view);
    g_assert_cmpuint (steps->len, ==, 1);
    g_assert_cmpuint (g_array_index (steps, guint64, 0), ==, 3);
  }
  g_assert_true (_lk_training_view_can_continue (view));

  /* With room again it continues from there. */
  g_assert_cmpint (mount ("tmpfs", models, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV,
                          "size=64m"), ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.resume-model", NULL));
  run_to_and_stop (view, training, 5);
  g_assert_cmpuint (lk_training_get_progress (training)->step, >, 3);
  lk_test_window_close (window);
  umount2 (models, MNT_DETACH);
}

/* Models made by the engine ----------------------------------------------------------------- */

typedef struct {
  LkTrainer *trainer;
  guint64    stop_at;
} StopAt;

static void
stop_at_step (const LkTrainProgress *p, gpointer data)
{
  StopAt *s = data;
  if (p->step >= s->stop_at)
    lk_trainer_stop (s->trainer);
}

/* The image tree @root, scanned as the test window scans it. */
static LkCollection *
open_collection (const char *root)
{
  g_autoptr(GError) error = NULL;
  LkScanOptions options;
  LkCollection *coll;

  lk_scan_options_init (&options);
  options.side = SIDE;
  coll = lk_collection_open_folder (root, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return coll;
}

/* Trains model "tiny" of the image tree @root to step 8 of 6 + 1000,
 * checkpoints at 3 and 6 and the stop's; returns its final progress in
 * @out. */
static void
train_stopped (const char *root, LkTrainProgress *out)
{
  g_autoptr(LkCollection) coll = open_collection (root);
  g_autoptr(LkTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  LkTrainParams p;
  StopAt s;

  lk_train_params_init (&p, LK_PRESET_TINY);
  short_run (&p, GUINT_TO_POINTER (3));
  p.pretrain_steps = 6;
  p.ranking_steps = 1000;
  p.budget_seconds = 0;
  trainer = lk_trainer_new (coll, "tiny", &p, &error);
  g_assert_no_error (error);
  s.trainer = trainer;
  s.stop_at = 8;
  lk_trainer_set_progress_func (trainer, stop_at_step, &s, NULL);
  g_assert_true (lk_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lk_trainer_get_state (trainer), ==, LK_TRAINER_STOPPED);
  lk_trainer_get_progress (trainer, out);
  g_assert_cmpuint (out->step, >=, 8);
}

static GPtrArray *
checkpoint_paths (LkCollection *coll)
{
  g_autoptr(LkModelInfo) info = lk_model_store_get (coll, "tiny", NULL);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  g_assert_nonnull (info);
  for (guint i = 0; i < info->checkpoints->len; i++)
    g_ptr_array_add (paths, g_strdup (((LkCheckpointInfo *) info->checkpoints->pdata[i])->path));
  return paths;
}

/* A window on a new image tree @name with a stopped model "tiny" (its
 * final progress in @stopped), the Training view shown. */
static LkWindow *
open_trained (const char *name, LkTrainProgress *stopped)
{
  g_autofree char *root = lk_test_make_image_tree (name, categories, 12, SIDE, SIDE, 3);
  LkWindow *window;

  train_stopped (root, stopped);
  window = lk_test_window_new (SIDE);
  lk_test_window_open (window, root);
  lk_window_show_view (window, "training");
  lk_test_flush_main_loop ();
  return window;
}

static void
damage (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (path, contents, (gssize) (len / 2), NULL));
}

static void
test_damaged_checkpoints (void)
{
  LkTrainProgress stopped;
  LkWindow *window = open_trained ("damaged", &stopped);
  LkTrainingView *view = training_view (window);
  LkTraining *training = training_of (window);
  g_autoptr(GPtrArray) paths = NULL;
  const char *text;

  paths = checkpoint_paths (collection_of (window));
  g_assert_cmpuint (paths->len, ==, 3);

  /* Every checkpoint damaged: a message naming the last one tried. */
  for (guint i = 0; i < paths->len; i++)
    damage (paths->pdata[i]);
  g_assert_cmpstr (_lk_training_view_get_listed_model (view), ==, "tiny");
  g_assert_true (_lk_training_view_can_continue (view));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.resume-model", NULL));
  text = wait_failed (view, training);
  ASSERT_HAS (text, paths->pdata[0]);
  ASSERT_HAS (text, "truncated");
  /* The list still works: the model and what is left of it. */
  g_assert_cmpstr (_lk_training_view_get_listed_model (view), ==, "tiny");
  {
    g_autoptr(GArray) steps = _lk_training_view_dup_listed_steps (view);
    gboolean has_first = FALSE;
    for (guint i = 0; i < steps->len; i++)
      has_first |= g_array_index (steps, guint64, i) == 3;
    g_assert_true (has_first);
  }
  lk_test_window_close (window);
}

static void
test_damaged_latest (void)
{
  g_autofree char *aside = NULL;
  LkTrainProgress stopped;
  LkWindow *window = open_trained ("damaged-latest", &stopped);
  LkTrainingView *view = training_view (window);
  LkTraining *training = training_of (window);
  g_autoptr(GPtrArray) paths = NULL;

  paths = checkpoint_paths (collection_of (window));
  damage (paths->pdata[paths->len - 1]);
  aside = g_strconcat (paths->pdata[paths->len - 1], ".damaged", NULL);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.resume-model", NULL));
  {
    StepWatch w = { training, 7 };
    lk_test_wait_until (reached, &w, "steps after the checkpoint before");
  }
  g_assert_true (lk_training_get_active (training));
  ASSERT_HAS (_lk_training_view_get_error_text (view), paths->pdata[paths->len - 1]);
  ASSERT_HAS (_lk_training_view_get_error_text (view), aside);
  g_assert_true (g_file_test (aside, G_FILE_TEST_IS_REGULAR));
  run_to_and_stop (view, training, 8);
  lk_test_window_close (window);
}

/* Continue on a model of another preset ------------------------------------------------------ */

typedef struct {
  LkTraining     *training;
  LkTrainingView *view;
  char           *lr;      /* the figures of the first report with the trainer */
  char           *loss;
} FirstReport;

static void
on_first_progress (LkTraining *training, FirstReport *f)
{
  if (f->lr != NULL || lk_training_get_trainer (training) == NULL)
    return;
  /* After the view's own handler (connected first) showed it. */
  f->lr = g_strdup (_lk_training_view_get_figure (f->view, "lr"));
  f->loss = g_strdup (_lk_training_view_get_figure (f->view, "loss"));
}

static gboolean
has_first (gpointer data)
{
  return ((FirstReport *) data)->lr != NULL;
}

static void
test_other_preset (void)
{
  LkTrainProgress stopped;
  LkWindow *window = open_trained ("other-preset", &stopped);
  LkTrainingView *view = training_view (window);
  LkTraining *training = training_of (window);
  FirstReport f = { 0 };
  g_autofree char *ckpt = NULL, *want_lr = NULL, *want_loss = NULL;

  /* The engine: a resumed trainer reports the stopped run's figures. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkTrainer) resumed = NULL;
    LkTrainProgress p;

    resumed = lk_trainer_new_resume (collection_of (window), "tiny", &error);
    g_assert_no_error (error);
    lk_trainer_get_progress (resumed, &p);
    g_assert_cmpuint (p.step, ==, stopped.step);
    g_assert_cmpfloat (stopped.lr, >, 0);
    g_assert_cmpfloat_with_epsilon (p.lr, stopped.lr, 1e-6 * stopped.lr);
    g_assert_cmpfloat_with_epsilon (p.loss, stopped.loss, 1e-6 * stopped.loss);
    g_assert_cmpfloat_with_epsilon (p.violation, stopped.violation, 1e-6);
    g_assert_cmpfloat_with_epsilon (p.loss_smooth, stopped.loss_smooth,
                                    1e-5 * stopped.loss_smooth);
    ckpt = lk_model_checkpoint_path (lk_trainer_get_dir (resumed), stopped.step);
  }
  want_lr = g_strdup_printf ("%.2g", stopped.lr);
  want_loss = g_strdup_printf ("%.4f", stopped.loss_smooth);

  /* A folder: the form says photo. */
  g_assert_cmpuint (gtk_drop_down_get_selected (_lk_training_view_get_preset (view)), ==,
                    LK_PRESET_PHOTO);
  f.training = training;
  f.view = view;
  g_signal_connect (training, "progress", G_CALLBACK (on_first_progress), &f);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.resume-model", NULL));
  lk_test_wait_until (has_first, &f, "the resumed trainer's first report");
  /* It continues as the tiny model it is, and says so. */
  g_assert_cmpstr (f.lr, ==, want_lr);
  g_assert_cmpstr (f.loss, ==, want_loss);
  g_assert_cmpuint (gtk_drop_down_get_selected (_lk_training_view_get_preset (view)), ==,
                    LK_PRESET_TINY);
  ASSERT_HAS (_lk_training_view_get_error_text (view), ckpt);
  ASSERT_HAS (_lk_training_view_get_error_text (view), lk_preset_label (LK_PRESET_PHOTO));
  run_to_and_stop (view, training, stopped.step + 2);
  g_signal_handlers_disconnect_by_data (training, &f);
  g_free (f.lr);
  g_free (f.loss);
  lk_test_window_close (window);
}

/* Leftover folders ------------------------------------------------------------------------- */

static void
test_leftover_folder (void)
{
  LkWindow *window = open_window ("leftover", NULL);
  LkTrainingView *view = training_view (window);
  LkTraining *training = training_of (window);
  LkCollection *coll = collection_of (window);
  g_autofree char *dir = lk_model_store_dir_for (coll, "tiny");
  g_autofree char *cdir = g_build_filename (dir, "checkpoints", NULL);
  g_autofree char *file2 = lk_model_store_dir_for (coll, "tiny-2");
  g_autofree char *name = NULL;

  _lk_training_view_set_params_hook (view, short_run, GUINT_TO_POINTER (0));
  /* What a run killed before its first checkpoint leaves: reused. */
  g_assert_cmpint (g_mkdir_with_parents (cdir, 0755), ==, 0);
  g_assert_false (lk_model_store_has_model (coll, "tiny"));
  name = lk_model_store_new_name (coll, "tiny");
  g_assert_cmpstr (name, ==, "tiny");
  g_clear_pointer (&name, g_free);
  /* A file of that name is not a folder to reuse. */
  g_assert_true (g_file_set_contents (file2, "x", -1, NULL));
  gtk_drop_down_set_selected (_lk_training_view_get_preset (view), LK_PRESET_PHOTO);
  gtk_drop_down_set_selected (_lk_training_view_get_preset (view), LK_PRESET_TINY);
  g_assert_cmpstr (gtk_editable_get_text (_lk_training_view_get_name_entry (view)), ==, "tiny");
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>Return"));
  g_assert_null (_lk_training_view_get_error_text (view));
  run_to_and_stop (view, training, 3);
  /* Now a model: the next proposal skips it and the file. */
  g_assert_true (lk_model_store_has_model (coll, "tiny"));
  name = lk_model_store_new_name (coll, "tiny");
  g_assert_cmpstr (name, ==, "tiny-3");
  g_assert_cmpstr (gtk_editable_get_text (_lk_training_view_get_name_entry (view)), ==, "tiny-3");
  lk_test_window_close (window);
}

int
main (int argc, char **argv)
{
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/training-errors/models-not-a-folder", test_models_not_a_folder);
  g_test_add_func ("/ui/training-errors/disk-full", test_disk_full);
  g_test_add_func ("/ui/training-errors/damaged-checkpoints", test_damaged_checkpoints);
  g_test_add_func ("/ui/training-errors/damaged-latest", test_damaged_latest);
  g_test_add_func ("/ui/training-errors/other-preset", test_other_preset);
  g_test_add_func ("/ui/training-errors/leftover-folder", test_leftover_folder);
  return g_test_run ();
}
