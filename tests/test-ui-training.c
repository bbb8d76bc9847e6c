/* test-ui-training.c — the Training view and the loss plot:
 *  - the plot on a made-up history: the per-stage averages equal a naive
 *    exponential average, the stage boundary is found, x maps to the
 *    nearest step, the axis covers the averages, the read-out names the
 *    step, the accessible role is an image;
 *  - the form: defaults are the engine's (lk_train_params_init), a
 *    default name not in use, a name in use is refused;
 *  - a short run from the view on a generated collection (tiny preset):
 *    the plot gets points and the step advances; pause (the step stays),
 *    resume (it moves again), all by the view's keys; stop → a checkpoint
 *    is listed; one
 *    checkpoint embedded on request becomes a source; continue the model
 *    to its end → it is listed as a source and the Query view compares
 *    with it; closing the window while it trains stops it with a
 *    checkpoint. Frame intervals are recorded while it trains and the worst
 *    is reported (and bounded: a blocking call would show). */
#include "config.h"

#include <math.h>

#include "lk-frame-monitor.h"
#include "lk-query-view-private.h"
#include "lk-source-dropdown.h"
#include "lk-training-view-private.h"
#include "lk-window-private.h"
#include "model-store.h"
#include "testutil-gtk.h"
#include "testutil.h"

static const char *const categories[] = { "apples", "pears", "plums", NULL };

/* The plot ------------------------------------------------------------------------- */

static void
test_loss_plot (void)
{
  GtkWidget *window = gtk_window_new ();
  LkLossPlot *plot = LK_LOSS_PLOT (lk_loss_plot_new ());
  g_autoptr(GArray) h = g_array_new (FALSE, FALSE, sizeof (LkTrainPoint));
  double want_l = 0, want_v = 0, l, v, top = 0;
  guint index;

  for (guint i = 0; i < 300; i++)
    {
      LkTrainPoint p = { i + 1, i < 120 ? LK_TRAIN_STAGE_PRETRAIN : LK_TRAIN_STAGE_RANKING,
                         (float) (i < 120 ? 2.3 * exp (-(double) i / 40.0) + 0.1 * (i % 3)
                                          : 0.5 * exp (-(double) (i - 120) / 60.0) + 0.05 * (i % 2)),
                         (float) ((i % 7) / 7.0) };
      g_array_append_val (h, p);
    }
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (plot));
  gtk_window_set_default_size (GTK_WINDOW (window), 700, 400);
  gtk_window_present (GTK_WINDOW (window));
  lk_loss_plot_set_history (plot, h);
  lk_test_flush_main_loop ();

  g_assert_cmpuint (lk_loss_plot_get_n_points (plot), ==, 300);
  g_assert_cmpint (lk_loss_plot_get_boundary (plot), ==, 120);
  /* The averages restart at the boundary: a naive reference, the
   * weighted mean Σ 0.98^(k−j) x_j / Σ 0.98^(k−j) over the stage so far. */
  for (guint i = 0; i < 300; i++)
    {
      guint start = i < 120 ? 0 : 120;
      double num_l = 0, num_v = 0, den = 0, f = 1;
      for (guint j = i + 1; j-- > start;)
        {
          const LkTrainPoint *q = &g_array_index (h, LkTrainPoint, j);
          num_l += f * q->loss;
          num_v += f * q->violation;
          den += f;
          f *= 0.98;
        }
      want_l = num_l / den;
      want_v = num_v / den;
      lk_loss_plot_get_smoothed (plot, i, &l, &v);
      g_assert_cmpfloat_with_epsilon (l, want_l, 1e-4);
      g_assert_cmpfloat_with_epsilon (v, want_v, 1e-4);
      top = MAX (top, want_l);
    }
  g_assert_cmpfloat (lk_loss_plot_get_loss_max (plot), >=, top);
  g_assert_cmpfloat (lk_loss_plot_get_loss_max (plot), <=, 3 * top);
  /* Left of the plot area: nothing; its left and right ends: the first
   * and last steps; the middle: a step near the middle. */
  g_assert_false (lk_loss_plot_point_at (plot, 2, &index));
  g_assert_true (lk_loss_plot_point_at (plot, 700 - 10 - 48, &index));
  g_assert_cmpuint (index, ==, 299);
  g_assert_true (lk_loss_plot_point_at (plot, 10 + 52, &index));
  g_assert_cmpuint (index, <=, 1);
  g_assert_true (lk_loss_plot_point_at (plot, (10 + 52 + 700 - 10 - 48) / 2.0, &index));
  g_assert_cmpint (abs ((int) index - 150), <=, 3);
  {
    g_autofree char *text = lk_loss_plot_dup_readout (plot, 130);
    g_assert_nonnull (strstr (text, "131"));
    g_assert_nonnull (strstr (text, lk_train_stage_label (LK_TRAIN_STAGE_RANKING)));
  }
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (plot)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  /* Points appended later are averaged too: the recursion, with the
   * stage's 180 points of weight so far. */
  {
    LkTrainPoint p = { 301, LK_TRAIN_STAGE_RANKING, 0.2f, 0.5f };
    double old_w = (1 - pow (0.98, 180)), new_w = (1 - pow (0.98, 181));
    g_array_append_val (h, p);
    lk_loss_plot_changed (plot);
    lk_loss_plot_get_smoothed (plot, 300, &l, &v);
    g_assert_cmpfloat_with_epsilon (l, (0.98 * want_l * old_w + 0.02 * 0.2) / new_w, 1e-4);
  }
  /* The stage labels: beside the boundary, each on its side, where
   * they fit; with the boundary near an edge (ranking as the last 3% of
   * the steps, or pre-training as the first 1%) inside the widget and
   * apart, not cut. */
  {
    const guint boundaries[] = { 120, 292, 3 };
    double ls, le, rs, re, width = gtk_widget_get_width (GTK_WIDGET (plot));

    for (guint b = 0; b < G_N_ELEMENTS (boundaries); b++)
      {
        g_autoptr(GArray) hb = g_array_copy (h);

        for (guint i = 0; i < hb->len; i++)
          g_array_index (hb, LkTrainPoint, i).stage =
            i < boundaries[b] ? LK_TRAIN_STAGE_PRETRAIN : LK_TRAIN_STAGE_RANKING;
        lk_loss_plot_set_history (plot, hb);
        g_assert_cmpint (lk_loss_plot_get_boundary (plot), ==, boundaries[b]);
        g_assert_true (lk_loss_plot_get_stage_labels (plot, &ls, &le, &rs, &re));
        g_test_message ("boundary at %u: labels %.0f–%.0f and %.0f–%.0f of %.0f px",
                        boundaries[b], ls, le, rs, re, width);
        g_assert_cmpfloat (ls, >=, 0);
        g_assert_cmpfloat (re, <=, width);
        g_assert_cmpfloat (le + 12, <=, rs + 1e-9);
        g_assert_cmpfloat (le, <, re);
        if (b == 0)
          {
            /* Room on both sides: 6 px either side of the boundary. */
            g_assert_cmpfloat_with_epsilon (rs - le, 12, 1);
          }
      }
  }
  lk_loss_plot_set_history (plot, NULL);
  g_assert_cmpuint (lk_loss_plot_get_n_points (plot), ==, 0);
  g_assert_cmpint (lk_loss_plot_get_boundary (plot), ==, -1);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The view ------------------------------------------------------------------------- */

static LkTrainingView *
training_view (LkWindow *window)
{
  GtkWidget *page = gtk_stack_get_child_by_name (_lk_window_get_views (window), "training");
  g_assert_true (LK_IS_TRAINING_VIEW (page));
  return LK_TRAINING_VIEW (page);
}

static LkWindow *
open_window (const char *name)
{
  g_autofree char *root = lk_test_make_image_tree (name, categories, 12, 28, 28, 3);
  LkWindow *window = lk_test_window_new (28);

  lk_test_window_open (window, root);
  return window;
}

/* A short run: few images, small batches and buffers, a checkpoint every
 * 25 steps. */
static void
short_run (LkTrainParams *p, gpointer data)
{
  p->pretrain_batch = 12;
  p->ranking_batch = 8;
  p->sampler.buffer_size = 8;
  p->checkpoint_steps = 25;
  p->n_threads = 1;
  p->seed = 5;
}

static void
test_form (void)
{
  LkWindow *window = open_window ("form");
  LkTrainingView *view = training_view (window);
  LkCollection *coll = lk_session_get_collection (lk_window_get_session (window));
  LkTrainParams want, got;
  g_autofree char *dir = NULL;

  lk_window_show_view (window, "training");
  lk_test_flush_main_loop ();
  /* A folder: the photo preset; the engine's defaults for it. */
  g_assert_cmpuint (gtk_drop_down_get_selected (_lk_training_view_get_preset (view)), ==,
                    LK_PRESET_PHOTO);
  g_assert_cmpstr (gtk_editable_get_text (_lk_training_view_get_name_entry (view)), ==, "photo");
  lk_train_params_init (&want, LK_PRESET_PHOTO);
  _lk_training_view_read_form (view, &got);
  g_assert_cmpint (got.preset, ==, want.preset);
  g_assert_cmpint (got.ablation, ==, want.ablation);
  g_assert_cmpfloat_with_epsilon (got.budget_seconds, want.budget_seconds, 1e-6);
  g_assert_cmpfloat_with_epsilon (got.pretrain_lr, want.pretrain_lr, 1e-7);
  g_assert_cmpfloat_with_epsilon (got.ranking_lr, want.ranking_lr, 1e-7);
  g_assert_cmpfloat_with_epsilon (got.gap, want.gap, 1e-6);
  g_assert_cmpfloat_with_epsilon (got.weight_decay, want.weight_decay, 1e-7);
  g_assert_cmpfloat_with_epsilon (got.keep, want.keep, 1e-6);
  g_assert_cmpuint (got.pretrain_batch, ==, want.pretrain_batch);
  g_assert_cmpuint (got.ranking_batch, ==, want.ranking_batch);
  g_assert_cmpfloat_with_epsilon (got.checkpoint_minutes, want.checkpoint_minutes, 1e-6);
  /* Tiny: its own defaults and name; steps instead of minutes. */
  gtk_drop_down_set_selected (_lk_training_view_get_preset (view), LK_PRESET_TINY);
  lk_train_params_init (&want, LK_PRESET_TINY);
  _lk_training_view_read_form (view, &got);
  g_assert_cmpint (got.preset, ==, LK_PRESET_TINY);
  g_assert_cmpuint (got.pretrain_batch, ==, want.pretrain_batch);
  g_assert_cmpuint (got.max_shift, ==, want.max_shift);
  g_assert_cmpstr (gtk_editable_get_text (_lk_training_view_get_name_entry (view)), ==, "tiny");
  gtk_drop_down_set_selected (_lk_training_view_get_schedule (view), 1);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "pretrain-steps"), 7);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "ranking-steps"), 9);
  _lk_training_view_read_form (view, &got);
  g_assert_cmpuint (got.pretrain_steps, ==, 7);
  g_assert_cmpuint (got.ranking_steps, ==, 9);
  g_assert_cmpfloat (got.budget_seconds, ==, 0);

  /* A name in use (a folder with a model file; an empty one is free,
   * test-ui-training-errors.c) is refused, and nothing starts. */
  dir = lk_model_store_dir_for (coll, "tiny");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  {
    g_autofree char *model = g_build_filename (dir, "model.lkm", NULL);
    g_assert_true (g_file_set_contents (model, "weights", -1, NULL));
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.start", NULL));
  g_assert_nonnull (_lk_training_view_get_error_text (view));
  g_assert_false (lk_training_get_active (lk_session_get_training (lk_window_get_session (window))));
  /* A bad name too. */
  gtk_editable_set_text (_lk_training_view_get_name_entry (view), "../x");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.start", NULL));
  g_assert_nonnull (_lk_training_view_get_error_text (view));
  g_assert_false (lk_training_get_active (lk_session_get_training (lk_window_get_session (window))));
  lk_test_window_close (window);
}

typedef struct {
  LkTrainingView *view;
  LkTraining     *training;
  guint64         step;
  const char     *state;
} Watch;

static guint64
shown_step (LkTrainingView *view)
{
  const char *text = _lk_training_view_get_figure (view, "step");
  g_autofree char *digits = g_strdup (text);
  char *w = digits;

  /* "1,234" → 1234 */
  for (const char *r = text; *r != '\0'; r++)
    if (g_ascii_isdigit (*r))
      *w++ = *r;
  *w = '\0';
  return g_ascii_strtoull (digits, NULL, 10);
}

static gboolean
advanced_past (gpointer data)
{
  Watch *w = data;
  return shown_step (w->view) > w->step &&
         lk_loss_plot_get_n_points (_lk_training_view_get_plot (w->view)) > 0;
}

static gboolean
state_is (gpointer data)
{
  Watch *w = data;
  return g_strcmp0 (_lk_training_view_get_state_text (w->view), w->state) == 0;
}

static gboolean
ended (gpointer data)
{
  Watch *w = data;
  return !lk_training_get_active (w->training);
}

static void
wait_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

typedef struct {
  LkSearchService *service;
  const char      *name;
} SourceWatch;

static gboolean
source_stored (gpointer data)
{
  SourceWatch *s = data;
  const LkEmbeddingSource *src = lk_search_service_find_source (s->service, s->name);
  return src != NULL && src->stored && !src->stale;
}

static gboolean
not_busy (gpointer view)
{
  return !lk_training_view_get_busy (view);
}

typedef struct {
  LkWindow   *window;
  const char *name;
} QueryWatch;

static gboolean
query_compares (gpointer data)
{
  QueryWatch *q = data;
  GtkWidget *page = gtk_stack_get_child_by_name (_lk_window_get_views (q->window), "query");
  return g_strcmp0 (lk_source_dropdown_get_name (
           _lk_query_view_get_source_dropdown (LK_QUERY_VIEW (page), 1)), q->name) == 0;
}

static gboolean
focus_on_pause (gpointer view)
{
  GtkWidget *pause = _lk_training_view_get_button (view, "pause");

  return gtk_root_get_focus (gtk_widget_get_root (pause)) == pause;
}

static void
test_run (void)
{
  LkWindow *window = open_window ("run");
  LkSession *session = lk_window_get_session (window);
  LkTrainingView *view = training_view (window);
  LkTraining *training = lk_session_get_training (session);
  Watch w = { view, training, 0, NULL };
  g_autofree char *name = NULL;
  g_autoptr(GArray) steps = NULL;
  LkFrameMonitor *frames;
  LkFrameStats stats;
  guint64 paused_at, stopped_at;

  lk_window_show_view (window, "training");
  _lk_training_view_set_params_hook (view, short_run, NULL);
  gtk_drop_down_set_selected (_lk_training_view_get_preset (view), LK_PRESET_TINY);
  gtk_drop_down_set_selected (_lk_training_view_get_schedule (view), 1);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "pretrain-steps"), 20);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "ranking-steps"), 70);
  name = g_strdup (gtk_editable_get_text (_lk_training_view_get_name_entry (view)));
  g_assert_cmpstr (name, ==, "tiny");
  lk_test_flush_main_loop ();

  /* For comparison: the same window idle. */
  frames = lk_frame_monitor_start (GTK_WIDGET (window));
  wait_ms (1000);
  lk_frame_monitor_stop (frames, &stats);
  g_test_message ("idle: %u frames, worst interval %.1f ms, mean %.1f ms",
                  stats.n_frames, stats.worst_ms, stats.mean_ms);

  frames = lk_frame_monitor_start (GTK_WIDGET (window));
  /* By keyboard: Ctrl+Return starts, Space pauses and resumes, Ctrl+.
   * stops (the view's key bindings). Ctrl+Return typed in the name: the
   * settings then cannot change, and the focus goes to Pause. */
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (_lk_training_view_get_name_entry (view))));
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>Return"));
  g_assert_null (_lk_training_view_get_error_text (view));
  g_assert_true (lk_training_get_active (training));
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (_lk_training_view_get_name_entry (view))));
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (_lk_training_view_get_preset (view))));
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (_lk_training_view_get_spin (view, "gap"))));
  lk_test_wait_until (focus_on_pause, view, "the focus on Pause");
  /* Steps advance and the plot gets points. */
  w.step = 3;
  lk_test_wait_until (advanced_past, &w, "the first steps");

  /* Pause: the step stops. */
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "space"));
  w.state = "Paused";
  lk_test_wait_until (state_is, &w, "the pause");
  paused_at = shown_step (view);
  /* Pre-training's violation rate is its share misclassified. */
  if (paused_at < 20)
    g_assert_cmpstr (_lk_training_view_get_caption (view, "violation"), ==, "Misclassified");
  wait_ms (400);
  g_assert_cmpuint (shown_step (view), ==, paused_at);
  g_assert_cmpuint (lk_training_get_progress (training)->step, ==, paused_at);
  /* Resume: it moves again. */
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "space"));
  w.step = paused_at;
  lk_test_wait_until (advanced_past, &w, "steps after resuming");
  g_assert_cmpuint (lk_loss_plot_get_n_points (_lk_training_view_get_plot (view)), >, 0);

  /* Into the ranking stage, then stop: a checkpoint is listed. */
  w.step = 30;
  lk_test_wait_until (advanced_past, &w, "ranking steps");
  g_assert_cmpint (lk_loss_plot_get_boundary (_lk_training_view_get_plot (view)), >, 0);
  g_assert_cmpstr (_lk_training_view_get_caption (view, "violation"), ==, "Violation");
  g_assert_true (lk_test_press_shortcut (GTK_WIDGET (view), "<Control>period"));
  lk_test_wait_until (ended, &w, "the stop");
  lk_frame_monitor_stop (frames, &stats);
  g_test_message ("while training: %u frames, worst interval %.1f ms, mean %.1f ms",
                  stats.n_frames, stats.worst_ms, stats.mean_ms);
  g_assert_cmpuint (stats.n_frames, >, 10);
  /* Generous: on this shared machine presenting a frame to Xvfb has
   * taken 300 ms (a gdb backtrace of the stall ends in pixman_blt under
   * gdk_draw_context_end_frame); a blocking call in the app (loading a
   * checkpoint, embedding, waiting for the worker) takes seconds. */
  g_assert_cmpfloat (stats.worst_ms, <, 500);
  lk_test_flush_main_loop ();
  g_assert_cmpstr (_lk_training_view_get_state_text (view), ==, "Stopped");
  /* Stopped: the settings are for the next model again; the focus, on
   * Pause, went to Start. */
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (_lk_training_view_get_name_entry (view))));
  g_assert_true (gtk_root_get_focus (GTK_ROOT (window)) == _lk_training_view_get_button (view, "start"));
  stopped_at = lk_training_get_progress (training)->step;
  g_assert_cmpuint (stopped_at, <, 90);
  g_assert_cmpstr (_lk_training_view_get_listed_model (view), ==, name);
  steps = _lk_training_view_dup_listed_steps (view);
  {
    gboolean has_stop = FALSE, has_latest = FALSE;
    for (guint i = 0; i < steps->len; i++)
      {
        has_stop |= g_array_index (steps, guint64, i) == stopped_at;
        has_latest |= g_array_index (steps, guint64, i) == 0;
      }
    g_assert_true (has_stop);
    g_assert_true (has_latest);
  }
  /* The plot keeps the exact history of the trainer. */
  g_assert_cmpuint (lk_loss_plot_get_n_points (_lk_training_view_get_plot (view)), ==,
                    lk_training_get_history (training)->len);
  g_assert_cmpuint (lk_training_get_history (training)->len, ==, stopped_at);
  /* Numbered as the Step figure and the points plotted while it ran: the
   * last is the step it stopped at, not one before. */
  g_assert_cmpuint (g_array_index (lk_training_get_history (training), LkTrainPoint,
                                   stopped_at - 1).step, ==, stopped_at);
  g_assert_true (_lk_training_view_can_continue (view));

  /* The stop's checkpoint embedded on request: a source for Query. */
  {
    g_autofree char *source = lk_model_source_name (name, stopped_at);
    SourceWatch s = { lk_session_get_search_service (session), source };

    g_assert_true (_lk_training_view_embed (view, stopped_at));
    g_assert_true (lk_training_view_get_busy (view));
    lk_test_wait_until (not_busy, view, "the checkpoint's embedding");
    lk_test_wait_until (source_stored, &s, "the checkpoint as a source");
  }

  /* Continue to the end: the model's own embedding is written and the
   * Query view compares with it. */
  {
    g_autofree char *source = lk_model_source_name (name, 0);
    SourceWatch s = { lk_session_get_search_service (session), source };
    QueryWatch q = { window, source };

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.resume-model", NULL));
    g_assert_true (lk_training_get_active (training));
    lk_test_wait_until (ended, &w, "the end of the run");
    lk_test_flush_main_loop ();
    g_assert_cmpstr (_lk_training_view_get_state_text (view), ==, "Finished");
    g_assert_null (lk_training_get_error (training));
    g_assert_cmpuint (lk_training_get_progress (training)->step, ==, 90);
    g_assert_cmpuint (lk_training_get_history (training)->len, ==, 90);
    lk_test_wait_until (source_stored, &s, "the model as a source");
    lk_window_show_view (window, "query");
    lk_test_wait_until (query_compares, &q, "the Query view to compare with the model");
    /* Finished: nothing to continue. */
    g_assert_false (_lk_training_view_can_continue (view));
  }
  lk_test_window_close (window);
}

typedef struct {
  LkCollection *collection;
  const char   *name;
  LkSession    *session;
} Closed;

static gboolean
checkpoint_written (gpointer data)
{
  Closed *c = data;
  g_autoptr(LkModelInfo) info = lk_model_store_get (c->collection, c->name, NULL);
  return c->session == NULL && info != NULL && info->checkpoints->len > 0 &&
         info->model_path != NULL;
}

/* Closing the window while a model trains stops it with a checkpoint
 * (and frees the window's session once the trainer is done). */
/* Starts a tiny model on @window's collection with pre-training longer
 * than a test waits, and waits for its first steps (@w->step). */
static void
start_long_pretraining (LkWindow *window, Watch *w)
{
  LkTrainingView *view = w->view;

  lk_window_show_view (window, "training");
  _lk_training_view_set_params_hook (view, short_run, NULL);
  gtk_drop_down_set_selected (_lk_training_view_get_preset (view), LK_PRESET_TINY);
  gtk_drop_down_set_selected (_lk_training_view_get_schedule (view), 1);
  gtk_spin_button_set_value (_lk_training_view_get_spin (view, "pretrain-steps"), 2000);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.start", NULL));
  lk_test_wait_until (advanced_past, w, "the first steps");
}

/* Stopped while pre-training, the view still shows that stage's last
 * figures: its violation is still the share misclassified. */
static void
test_stopped_pretraining (void)
{
  LkWindow *window = open_window ("stopped-pretraining");
  LkTrainingView *view = training_view (window);
  Watch w = { view, lk_session_get_training (lk_window_get_session (window)), 3, NULL };

  start_long_pretraining (window, &w);
  g_assert_cmpstr (_lk_training_view_get_caption (view, "violation"), ==, "Misclassified");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "training.stop", NULL));
  lk_test_wait_until (ended, &w, "the stop");
  lk_test_flush_main_loop ();
  g_assert_cmpstr (_lk_training_view_get_state_text (view), ==, "Stopped");
  g_assert_cmpstr (_lk_training_view_get_caption (view, "violation"), ==, "Misclassified");
  lk_test_window_close (window);
}

static void
test_close_stops (void)
{
  LkWindow *window = open_window ("close");
  LkSession *session = lk_window_get_session (window);
  LkTrainingView *view = training_view (window);
  g_autoptr(LkCollection) coll = lk_collection_ref (lk_session_get_collection (session));
  Watch w = { view, lk_session_get_training (session), 3, NULL };
  Closed c = { coll, "tiny", session };
  guint64 closed_at;

  start_long_pretraining (window, &w);

  g_object_add_weak_pointer (G_OBJECT (session), (gpointer *) &c.session);
  closed_at = lk_training_get_progress (w.training)->step;
  gtk_window_close (GTK_WINDOW (window));
  lk_test_wait_until (checkpoint_written, &c, "the checkpoint after closing");
  {
    g_autoptr(LkModelInfo) info = lk_model_store_get (coll, "tiny", NULL);
    const LkCheckpointInfo *last = info->checkpoints->pdata[info->checkpoints->len - 1];
    /* Stopped where it was (the batch running, and the reports not yet
     * delivered), not at a periodic checkpoint (every 25 steps). */
    g_test_message ("closed at step %" G_GUINT64_FORMAT ", checkpoint at %" G_GUINT64_FORMAT,
                    closed_at, last->step);
    g_assert_cmpuint (last->step, >=, closed_at);
    g_assert_cmpuint (last->step, <=, closed_at + 5);
  }
}

int
main (int argc, char **argv)
{
  /* Frame intervals measure the app's main loop: under Xvfb GTK's GL
   * renderer runs on llvmpipe, which JIT-compiles shaders on the main
   * thread (a gdb backtrace of a 450 ms stall ends in
   * llvm::MCJIT::generateCodeForModule under gsk_renderer_render), so
   * these tests draw with the cairo renderer. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/training/loss-plot", test_loss_plot);
  g_test_add_func ("/ui/training/form", test_form);
  g_test_add_func ("/ui/training/run", test_run);
  g_test_add_func ("/ui/training/stopped-pretraining", test_stopped_pretraining);
  g_test_add_func ("/ui/training/close-stops", test_close_stops);
  return g_test_run ();
}
