/* test-ui-evaluate.c — the Evaluate view on a generated collection: a
 * row per source with the figures lk_evaluate() gives, the generated
 * sets named as such while nothing is labelled, the plot drawn from the
 * same precisions; after two answers in the Label view the table
 * follows on its own — the labelled set, golden-learned added, only the
 * triplet columns computed again for the others (their Recall@1 and
 * mAP@R kept, and equal to a full run); a model's embedding file
 * appearing in the collection's folder gets its row (and becomes the
 * source the Query and Label views compare with); Stop keeps the last
 * table.
 *
 * The plot over checkpoints: on made-up points (markers where measured,
 * hit-testing, keys, read-outs); and in the view on a tiny model trained
 * with three checkpoints: a point per checkpoint and the final model,
 * each equal to what lk_evaluate() gives for that checkpoint, golden
 * features as the baseline; cancelled after the first point it keeps a
 * consistent state (the measured point, no half-written embedding) and
 * goes on from there; labels add a series; a stopped model's latest
 * weights are a plain point, not the final model's square. The part measures while
 * the first table is computed, waiting (and saying so) only while the
 * table makes the triplet sets; another collection cancels both. */
#include "config.h"

#include <math.h>

#include "evaluate.h"
#include "lk-eval-checkpoints-private.h"
#include "lk-eval-row-item.h"
#include "lk-evaluate-view-private.h"
#include "lk-label-view-private.h"
#include "lk-query-view-private.h"
#include "lk-source-dropdown.h"
#include "lk-window-private.h"
#include "model-store.h"
#include "trainer.h"
#include "triplets.h"
#include "testutil-gtk.h"
#include "testutil.h"

static const char *const categories[] = { "apples", "pears", "plums", NULL };

static LkEvaluateView *
evaluate_view (LkWindow *window)
{
  GtkWidget *page = gtk_stack_get_child_by_name (_lk_window_get_views (window), "evaluate");
  g_assert_true (LK_IS_EVALUATE_VIEW (page));
  return LK_EVALUATE_VIEW (page);
}

static LkLabelView *
label_view (LkWindow *window)
{
  return LK_LABEL_VIEW (gtk_stack_get_child_by_name (_lk_window_get_views (window), "label"));
}

typedef struct {
  LkEvaluateView *view;
  guint           since;
} Done;

static gboolean
evaluated (gpointer data)
{
  Done *d = data;
  return _lk_evaluate_view_get_n_done (d->view) > d->since && !lk_evaluate_view_get_busy (d->view);
}

static void
wait_evaluated (LkEvaluateView *view, guint since)
{
  Done d = { view, since };
  lk_test_wait_until (evaluated, &d, "the evaluation");
  lk_test_flush_main_loop ();
}

static gboolean
label_ready (gpointer view)
{
  guint32 q, a, b;
  return !lk_label_view_get_busy (view) && _lk_label_view_get_triplet (view, &q, &a, &b);
}

static LkQueryView *
query_view (LkWindow *window)
{
  return LK_QUERY_VIEW (gtk_stack_get_child_by_name (_lk_window_get_views (window), "query"));
}

/* What a trained model leaves for the views: its rows of every image,
 * stored under the collection's embeddings folder (here HOG's rows,
 * scaled, under another name). */
static void
write_model (LkCollection *coll, const char *name, const char *label)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkEmbedding) hog = lk_embedding_source_load (coll, "hog", NULL, NULL, NULL, &error);
  guint n = lk_embedding_get_n (hog), dim = lk_embedding_get_dim (hog);
  float *rows = g_new (float, (gsize) n * dim);
  g_autoptr(LkEmbedding) model = NULL;
  g_autofree char *path = lk_embedding_path_for (coll, name);

  g_assert_no_error (error);
  for (gsize i = 0; i < (gsize) n * dim; i++)
    rows[i] = 2 * lk_embedding_get_data (hog)[i];
  model = lk_embedding_new_take (name, label, LK_EMBEDDING_MODEL, lk_collection_get_id (coll), n,
                                 dim, 42, lk_collection_pixels_key (coll), rows);
  g_assert_true (lk_embedding_save (model, path, &error));
  g_assert_no_error (error);
}

static LkEvalTable *
evaluate_directly (LkCollection *coll)
{
  g_autoptr(GError) error = NULL;
  LkEvalTable *t = lk_evaluate (coll, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return t;
}

/* The view's table has every row and figure of @want, in its order. */
static void
check_table (LkEvaluateView *view, const LkEvalTable *want)
{
  const LkEvalTable *t = _lk_evaluate_view_get_table (view);
  LkPrecisionPlot *plot = _lk_evaluate_view_get_plot (view);
  GListModel *rows = _lk_evaluate_view_get_rows (view);
  guint bars = 0;

  g_assert_nonnull (t);
  g_assert_cmpuint (t->n_sets, ==, want->n_sets);
  g_assert_cmpuint (t->n_rows, ==, want->n_rows);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, want->n_rows);
  g_assert_cmpuint (lk_precision_plot_get_n_series (plot), ==, want->n_sets);
  for (guint s = 0; s < want->n_sets; s++)
    {
      g_assert_cmpstr (t->sets[s].name, ==, want->sets[s].name);
      g_assert_cmpuint (t->sets[s].n_triplets, ==, want->sets[s].n_triplets);
    }
  for (guint r = 0; r < want->n_rows; r++)
    {
      const LkEvalRow *a = &t->rows[r], *b = &want->rows[r];
      g_autoptr(LkEvalRowItem) item = g_list_model_get_item (rows, r);
      g_autofree char *cell = NULL;

      g_assert_cmpstr (a->source, ==, b->source);
      /* golden-learned cannot learn from two triplets that carry no
       * signal: then both say so, and it has no bar. */
      g_assert_cmpstr (a->error, ==, b->error);
      if (b->error != NULL)
        {
          g_autofree char *dash = lk_eval_row_item_dup_text (item, LK_EVAL_COLUMN_PRECISION (0));
          g_assert_cmpstr (dash, ==, "—");
          continue;
        }
      g_assert_cmpuint (a->dim, ==, b->dim);
      for (guint s = 0; s < want->n_sets; s++)
        {
          g_assert_cmpfloat (a->precision[s], ==, b->precision[s]);
          g_assert_cmpint (a->score[s], ==, b->score[s]);
          g_assert_cmpfloat (lk_precision_plot_get_value (plot, bars, s), ==, b->precision[s]);
        }
      bars++;
      g_assert_cmpfloat_with_epsilon (a->recall_at_1, b->recall_at_1, 1e-12);
      g_assert_cmpfloat_with_epsilon (a->map_at_r, b->map_at_r, 1e-12);
      /* The cells read as the CLI prints them. */
      cell = lk_eval_row_item_dup_text (item, LK_EVAL_COLUMN_PRECISION (0));
      {
        g_autofree char *expected = g_strdup_printf ("%.1f%%", 100 * b->precision[0]);
        g_assert_cmpstr (cell, ==, expected);
      }
    }
  g_assert_cmpuint (lk_precision_plot_get_n_items (plot), ==, bars);
}

static void
check_columns (LkEvaluateView *view, const char *set_name, guint n_sets)
{
  GListModel *columns = gtk_column_view_get_columns (_lk_evaluate_view_get_column_view (view));
  g_autoptr(GtkColumnViewColumn) precision = g_list_model_get_item (columns, 2);
  g_autofree char *title = g_strdup_printf ("Precision, %s", set_name);

  g_assert_cmpuint (g_list_model_get_n_items (columns), ==, LK_EVAL_N_COLUMNS (n_sets));
  g_assert_cmpstr (gtk_column_view_column_get_title (precision), ==, title);
}

static void
test_evaluate (void)
{
  g_autofree char *root = lk_test_make_image_tree ("evaluate", categories, 6, 20, 20, 5);
  LkWindow *window = lk_test_window_new (32);
  LkEvaluateView *view = evaluate_view (window);
  LkSearchService *service = lk_session_get_search_service (lk_window_get_session (window));
  g_autoptr(LkEvalTable) generated = NULL;
  g_autoptr(LkEvalTable) labelled = NULL;
  g_autoptr(LkEvalTable) with_model = NULL;
  LkCollection *coll;
  guint n_full, n_partial;

  lk_test_window_open (window, root);
  coll = lk_session_get_collection (lk_window_get_session (window));
  lk_window_show_view (window, "evaluate");
  wait_evaluated (view, 0);

  /* Nothing labelled: every source on the two generated sets, as the
   * view says. */
  generated = evaluate_directly (coll);
  g_assert_cmpuint (generated->n_rows, ==, lk_search_service_get_sources (service)->len);
  g_assert_cmpuint (generated->n_rows, ==, 6);
  check_table (view, generated);
  check_columns (view, "class-level", 2);
  g_assert_nonnull (strstr (_lk_evaluate_view_get_sets_text (view), "generated"));
  gtk_test_accessible_assert_role (GTK_ACCESSIBLE (_lk_evaluate_view_get_plot (view)),
                                   GTK_ACCESSIBLE_ROLE_IMG);
  _lk_evaluate_view_get_last_run (view, &n_full, &n_partial);
  g_assert_cmpuint (n_full, ==, 6);
  g_assert_cmpuint (n_partial, ==, 0);

  /* Two answers in the Label view; the table follows by itself. */
  {
    LkLabelView *label = label_view (window);
    guint n = _lk_evaluate_view_get_n_done (view);

    lk_window_show_view (window, "label");
    lk_test_wait_until (label_ready, label, "a triplet to label");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (label), "label.answer", "s", "A"));
    lk_test_wait_until (label_ready, label, "a triplet to label");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (label), "label.answer", "s", "B"));
    lk_test_wait_until (label_ready, label, "the answers written");
    lk_window_show_view (window, "evaluate");
    wait_evaluated (view, n);
  }
  labelled = evaluate_directly (coll);
  g_assert_cmpuint (labelled->n_sets, ==, 1);
  g_assert_cmpstr (labelled->sets[0].name, ==, "labelled");
  g_assert_cmpuint (labelled->sets[0].n_triplets, ==, 2);
  g_assert_cmpuint (labelled->n_rows, ==, 7);
  g_assert_cmpstr (labelled->rows[6].source, ==, "golden-learned");
  check_table (view, labelled);
  check_columns (view, "labelled", 1);
  g_assert_nonnull (strstr (_lk_evaluate_view_get_sets_text (view), "labelled triplets: 2"));
  /* Only golden-learned (new, and learned from the labels) was
   * evaluated fully; the baselines kept their Recall@1 and mAP@R. */
  _lk_evaluate_view_get_last_run (view, &n_full, &n_partial);
  g_assert_cmpuint (n_full, ==, 1);
  g_assert_cmpuint (n_partial, ==, 6);
  for (guint r = 0; r < 6; r++)
    g_assert_cmpfloat (labelled->rows[r].map_at_r, ==, generated->rows[r].map_at_r);

  /* A model appears as the trainer leaves it: an embedding file in the
   * collection's folder. Every view lists it, the Query view offers it
   * to compare with, and the table gets its row, evaluated alone. */
  {
    guint n = _lk_evaluate_view_get_n_done (view);

    write_model (coll, "model-test", "Test model");
    wait_evaluated (view, n);
    with_model = evaluate_directly (coll);
    g_assert_cmpuint (with_model->n_rows, ==, 8);
    g_assert_cmpstr (with_model->rows[7].source, ==, "model-test");
    g_assert_cmpint (with_model->rows[7].kind, ==, LK_EMBEDDING_MODEL);
    check_table (view, with_model);
    /* (golden-learned again too if it had no figures to keep) */
    _lk_evaluate_view_get_last_run (view, &n_full, &n_partial);
    g_assert_cmpuint (n_full, ==, 1 + (labelled->rows[6].error != NULL));
    g_assert_cmpuint (n_full + n_partial, ==, 8);
    g_assert_cmpstr (lk_source_dropdown_get_name (_lk_query_view_get_source_dropdown (
                       query_view (window), 1)), ==, "model-test");
    g_assert_cmpstr (_lk_label_view_get_agreement_source (label_view (window)), ==, "model-test");
    g_assert_cmpstr (_lk_label_view_get_other_source (label_view (window)), ==, "model-test");
  }

  /* Stop: the last table stays, and it says so. */
  {
    guint n = _lk_evaluate_view_get_n_done (view);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "eval.recompute", NULL));
    g_assert_true (lk_evaluate_view_get_busy (view));
    g_assert_true (_lk_evaluate_view_get_progress_shown (view));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "eval.cancel", NULL));
    while (lk_evaluate_view_get_busy (view))
      g_main_context_iteration (NULL, TRUE);
    g_assert_cmpuint (_lk_evaluate_view_get_n_done (view), ==, n);
    g_assert_false (_lk_evaluate_view_get_progress_shown (view));
    check_table (view, with_model);
  }
  lk_test_window_close (window);
}

/* The plot over checkpoints ------------------------------------------------------------- */

static gboolean
press_key (GtkWidget *widget, guint keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  gboolean handled = FALSE;

  for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, c);
      if (GTK_IS_EVENT_CONTROLLER_KEY (controller))
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, (GdkModifierType) 0,
                               &handled);
    }
  return handled;
}

static void
test_checkpoint_plot (void)
{
  GtkWidget *window = gtk_window_new ();
  LkCheckpointPlot *plot = LK_CHECKPOINT_PLOT (lk_checkpoint_plot_new ());
  const char *series[] = { "class-level", "in-class" };
  const guint64 steps[] = { 100, 200, 300, 450 };
  const char *names[] = { "Checkpoint at step 100", "Checkpoint at step 200",
                          "Checkpoint at step 300", "Final model, step 450" };
  /* (4, 2); point 2 of in-class not measured yet */
  const double values[] = { 0.70, 0.90, 0.78, 0.93, 0.81, NAN, 0.84, 0.95 };
  const double baseline[] = { 0.80, 1.0 };
  double last_x = -1, x, y, x2, y2;
  guint point, series_i;

  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (plot));
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 360);
  gtk_window_present (GTK_WINDOW (window));
  lk_checkpoint_plot_set_data (plot, series, 2, steps, names, 4, 3, values, "golden features",
                               baseline);
  lk_test_flush_main_loop ();

  g_assert_cmpuint (lk_checkpoint_plot_get_n_points (plot), ==, 4);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 7);
  g_assert_cmpfloat (lk_checkpoint_plot_get_baseline (plot, 0), ==, 0.80);
  g_assert_false (lk_checkpoint_plot_get_marker_position (plot, 2, 1, &x, &y));
  for (guint i = 0; i < 4; i++)
    {
      /* Later steps further right; each marker inside the widget and
       * found where it is drawn. */
      g_assert_true (lk_checkpoint_plot_get_marker_position (plot, i, 0, &x, &y));
      g_assert_cmpfloat (x, >, last_x);
      last_x = x;
      g_assert_cmpfloat (x, >, 0);
      g_assert_cmpfloat (x, <, 640);
      g_assert_cmpfloat (y, >, 0);
      g_assert_cmpfloat (y, <, 360);
      g_assert_true (lk_checkpoint_plot_marker_at (plot, x + 1, y - 1, &point, &series_i));
      g_assert_cmpuint (point, ==, i);
      g_assert_cmpuint (series_i, ==, 0);
    }
  /* Higher precision, higher up; the autoscaled axis keeps the values
   * apart: 14 points of precision take well over the 14% of the plot's
   * 292 px height a fixed 0–100% axis would give them. */
  g_assert_true (lk_checkpoint_plot_get_marker_position (plot, 0, 0, &x, &y));
  g_assert_true (lk_checkpoint_plot_get_marker_position (plot, 3, 0, &x2, &y2));
  g_assert_cmpfloat (y - y2, >, 1.5 * 0.14 * (360 - 34 - 34));
  g_assert_false (lk_checkpoint_plot_marker_at (plot, 1, 1, &point, &series_i));
  {
    g_autofree char *text = lk_checkpoint_plot_dup_readout (plot, 3, 1);
    g_assert_cmpstr (text, ==, "Final model, step 450, in-class: 95.0%");
  }
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (plot)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);

  /* Keys: End reads out the last point, Left steps back, Down goes to
   * the next series — skipping the point not measured on it. */
  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (plot)));
  g_assert_true (press_key (GTK_WIDGET (plot), GDK_KEY_End));
  g_assert_true (lk_checkpoint_plot_get_hover (plot, &point, &series_i));
  g_assert_cmpuint (point, ==, 3);
  g_assert_cmpuint (series_i, ==, 0);
  g_assert_true (press_key (GTK_WIDGET (plot), GDK_KEY_Down));
  g_assert_true (lk_checkpoint_plot_get_hover (plot, &point, &series_i));
  g_assert_cmpuint (series_i, ==, 1);
  g_assert_true (press_key (GTK_WIDGET (plot), GDK_KEY_Left));
  g_assert_true (lk_checkpoint_plot_get_hover (plot, &point, &series_i));
  g_assert_cmpuint (point, ==, 1);
  g_assert_true (press_key (GTK_WIDGET (plot), GDK_KEY_Escape));
  g_assert_false (lk_checkpoint_plot_get_hover (plot, &point, &series_i));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The checkpoints part ---------------------------------------------------------------- */

static void
stop_at (const LkTrainProgress *p, gpointer trainer)
{
  if (p->step >= 9)
    lk_trainer_stop (trainer);
}

/* A tiny model of @coll: 6 softmax and 12 ranking steps, a checkpoint
 * every 6, not embedded at the end (the view embeds it); @stopped: the
 * run stopped at step 9 instead. */
static void
train_tiny_run (LkCollection *coll, const char *name, gboolean stopped)
{
  g_autoptr(LkTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  LkTrainParams p;

  lk_train_params_init (&p, LK_PRESET_TINY);
  p.pretrain_steps = 6;
  p.ranking_steps = 12;
  p.pretrain_batch = 12;
  p.ranking_batch = 8;
  p.sampler.buffer_size = 8;
  p.checkpoint_steps = 6;
  p.keep_checkpoints = 3;
  p.n_threads = 1;
  p.seed = 5;
  p.embed_when_done = FALSE;
  trainer = lk_trainer_new (coll, name, &p, &error);
  g_assert_no_error (error);
  if (stopped)
    lk_trainer_set_progress_func (trainer, stop_at, trainer, NULL);
  g_assert_true (lk_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lk_trainer_get_state (trainer), ==,
                   stopped ? LK_TRAINER_STOPPED : LK_TRAINER_FINISHED);
}

static void
train_tiny (LkCollection *coll, const char *name)
{
  train_tiny_run (coll, name, FALSE);
}

/* The precision of @source on the plot's sets, as the table computes
 * it: the generated sets, then the labelled one if @labels. */
static void
evaluate_source (LkCollection *coll, const char *source, const char *labels, double *out)
{
  const char *sources[] = { source, NULL };
  g_autoptr(LkEvalTable) t = NULL;
  g_autoptr(GError) error = NULL;
  LkEvalOptions o;

  lk_eval_options_init (&o);
  o.sources = sources;
  o.generated_sets = TRUE;
  t = lk_evaluate (coll, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (t->n_sets, ==, 2);
  g_assert_null (t->rows[0].error);
  out[0] = t->rows[0].precision[0];
  out[1] = t->rows[0].precision[1];
  if (labels != NULL)
    {
      g_autoptr(LkEvalTable) l = NULL;
      o.generated_sets = FALSE;
      o.triplets_path = labels;
      l = lk_evaluate (coll, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (l->sets[0].name, ==, "labelled");
      out[2] = l->rows[0].precision[0];
    }
}

static void
check_points (LkEvalCheckpoints *part, LkCollection *coll, const char *labels)
{
  LkCheckpointPlot *plot = _lk_eval_checkpoints_get_plot (part);
  guint n_series = labels != NULL ? 3 : 2;
  double want[3];

  g_assert_cmpuint (lk_checkpoint_plot_get_n_series (plot), ==, n_series);
  evaluate_source (coll, "golden", labels, want);
  for (guint s = 0; s < n_series; s++)
    g_assert_cmpfloat (lk_checkpoint_plot_get_baseline (plot, s), ==, want[s]);
  for (guint i = 0; i < lk_checkpoint_plot_get_n_points (plot); i++)
    {
      if (isnan (lk_checkpoint_plot_get_value (plot, i, 0)))
        continue;
      evaluate_source (coll, _lk_eval_checkpoints_get_source (part, i), labels, want);
      for (guint s = 0; s < n_series; s++)
        g_assert_cmpfloat (lk_checkpoint_plot_get_value (plot, i, s), ==, want[s]);
    }
}

typedef struct {
  LkEvalCheckpoints *part;
  LkEvaluateView    *view;
  guint              runs;
} PartWatch;

static gboolean
part_ran (gpointer data)
{
  PartWatch *w = data;
  return _lk_eval_checkpoints_get_n_runs (w->part) >= w->runs &&
         !lk_eval_checkpoints_get_busy (w->part) && !lk_evaluate_view_get_busy (w->view);
}

static gboolean
first_point (gpointer data)
{
  PartWatch *w = data;
  return lk_checkpoint_plot_get_n_markers (_lk_eval_checkpoints_get_plot (w->part)) > 0;
}

/* The first run: every point after the first waits for the cancel. */
static void
hold_after_first (guint point, GCancellable *cancellable, gpointer data)
{
  while (point > 0 && !g_cancellable_is_cancelled (cancellable))
    g_usleep (2000);
}

static gboolean
embedding_exists (LkCollection *coll, const char *source)
{
  g_autofree char *path = lk_embedding_path_for (coll, source);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
source_listed (gpointer service)
{
  return lk_search_service_find_source (service, "model-tiny@12") != NULL;
}

static gboolean
stopped_measured (gpointer data)
{
  PartWatch *w = data;

  return g_strcmp0 (lk_eval_checkpoints_get_model (w->part), "stopped") == 0 &&
         !lk_eval_checkpoints_get_busy (w->part) &&
         lk_checkpoint_plot_get_n_markers (_lk_eval_checkpoints_get_plot (w->part)) >= 6;
}

static void
test_checkpoints (void)
{
  g_autofree char *root = lk_test_make_image_tree ("checkpoints", categories, 12, 28, 28, 3);
  LkWindow *window = lk_test_window_new (28);
  LkEvaluateView *view = evaluate_view (window);
  LkEvalCheckpoints *part = _lk_evaluate_view_get_checkpoints (view);
  LkCheckpointPlot *plot = _lk_eval_checkpoints_get_plot (part);
  LkSearchService *service = lk_session_get_search_service (lk_window_get_session (window));
  PartWatch w = { part, view, 1 };
  g_autofree char *labels = NULL;
  LkCollection *coll;

  lk_test_window_open (window, root);
  coll = lk_session_get_collection (lk_window_get_session (window));
  train_tiny (coll, "tiny");
  {
    g_autoptr(LkModelInfo) info = lk_model_store_get (coll, "tiny", NULL);
    g_assert_nonnull (info->model_path);
    g_assert_cmpuint (info->checkpoints->len, ==, 3);
  }
  _lk_eval_checkpoints_set_hook (part, hold_after_first, NULL);
  lk_window_show_view (window, "evaluate");

  /* The first point comes; cancel while the second is held. */
  lk_test_wait_until (first_point, &w, "the first checkpoint plotted");
  g_assert_cmpstr (lk_eval_checkpoints_get_model (part), ==, "tiny");
  g_assert_true (lk_eval_checkpoints_get_busy (part));
  g_assert_true (_lk_eval_checkpoints_get_progress_shown (part));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (part), "checkpoints.cancel", NULL));
  lk_test_wait_until (part_ran, &w, "the cancelled run");
  /* What was measured stays, and is right; nothing half done. */
  g_assert_true (_lk_eval_checkpoints_get_stopped (part));
  g_assert_false (_lk_eval_checkpoints_get_progress_shown (part));
  g_assert_cmpuint (_lk_eval_checkpoints_get_n_runs (part), ==, 1);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_points (plot), ==, 3);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 2);
  g_assert_false (isnan (lk_checkpoint_plot_get_value (plot, 0, 0)));
  g_assert_nonnull (strstr (_lk_eval_checkpoints_get_status (part), "Stopped with 1 of 3"));
  g_assert_true (embedding_exists (coll, _lk_eval_checkpoints_get_source (part, 0)));
  g_assert_false (embedding_exists (coll, _lk_eval_checkpoints_get_source (part, 1)));
  g_assert_false (embedding_exists (coll, _lk_eval_checkpoints_get_source (part, 2)));
  check_points (part, coll, NULL);

  /* Measure goes on: the first checkpoint's rows are reused, the other
   * two embedded. One point per checkpoint and the final model, by step;
   * a checkpoint at the final model's step is the same weights, left
   * out. */
  _lk_eval_checkpoints_set_hook (part, NULL, NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (part), "checkpoints.measure", NULL));
  w.runs = 2;
  lk_test_wait_until (part_ran, &w, "the measured checkpoints");
  g_assert_false (_lk_eval_checkpoints_get_stopped (part));
  g_assert_cmpuint (_lk_eval_checkpoints_get_n_embedded (part), ==, 2);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_points (plot), ==, 3);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 6);
  g_assert_cmpuint (lk_checkpoint_plot_get_step (plot, 0), ==, 6);
  g_assert_cmpuint (lk_checkpoint_plot_get_step (plot, 1), ==, 12);
  g_assert_cmpuint (lk_checkpoint_plot_get_step (plot, 2), ==, 18);
  g_assert_cmpstr (_lk_eval_checkpoints_get_source (part, 0), ==, "model-tiny@6");
  g_assert_cmpstr (_lk_eval_checkpoints_get_source (part, 2), ==, "model-tiny");
  check_points (part, coll, NULL);
  g_assert_nonnull (strstr (_lk_eval_checkpoints_get_status (part), "3 points"));
  /* The embeddings are sources of every view now (listed in the
   * background, once the part is done). */
  lk_test_wait_until (source_listed, service, "model-tiny@12 listed");
  {
    g_autofree char *text = lk_checkpoint_plot_dup_readout (plot, 2, 0);
    g_assert_true (g_str_has_prefix (text, "Final model, step 18, class-level: "));
  }

  /* Two labels: a third series, nothing embedded again. */
  labels = lk_triplets_default_path (coll);
  {
    g_autoptr(GError) error = NULL;
    g_assert_true (lk_triplets_append (labels, coll, 0, 1, 20, LK_RATING_A, NULL, &error));
    g_assert_true (lk_triplets_append (labels, coll, 13, 30, 14, LK_RATING_B, NULL, &error));
    g_assert_no_error (error);
  }
  lk_search_service_triplets_changed (service);
  w.runs = 3;
  lk_test_wait_until (part_ran, &w, "the checkpoints measured on the labels");
  g_assert_cmpuint (_lk_eval_checkpoints_get_n_embedded (part), ==, 0);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 9);
  check_points (part, coll, labels);
  g_assert_cmpint (lk_checkpoint_plot_get_final_point (plot), ==, 2);

  /* A stopped model: its latest weights are a point, not the final
   * model's square. */
  train_tiny_run (coll, "stopped", TRUE);
  lk_eval_checkpoints_set_model (part, "stopped");
  lk_test_wait_until (stopped_measured, &w, "the stopped model's points");
  g_assert_cmpuint (lk_checkpoint_plot_get_n_points (plot), ==, 2);
  g_assert_cmpint (lk_checkpoint_plot_get_final_point (plot), ==, -1);
  {
    g_autofree char *text = lk_checkpoint_plot_dup_readout (plot, 1, 0);
    g_assert_true (g_str_has_prefix (text, "Latest weights, step 9, class-level: "));
  }
  lk_test_window_close (window);
}

/* The checkpoints part beside the table ------------------------------------------------- */

/* Where the table's worker is held: before its triplet sets, and before
 * its first source, each until the test lets it go or the run is
 * cancelled. */
typedef struct {
  gint prep_seen, prep_go;
  gint source_seen, source_go;
  gint part_seen;
  gint cancelled;     /* hooks that returned because their run was cancelled */
} Gates;

static void
hold (Gates *g, gint *go, GCancellable *cancellable)
{
  while (!g_atomic_int_get (go) && !g_cancellable_is_cancelled (cancellable))
    g_usleep (2000);
  if (!g_atomic_int_get (go))
    g_atomic_int_inc (&g->cancelled);
}

static void
table_hook (const char *source, GCancellable *cancellable, gpointer data)
{
  Gates *g = data;

  if (source == NULL)
    {
      g_atomic_int_inc (&g->prep_seen);
      hold (g, &g->prep_go, cancellable);
    }
  else
    {
      g_atomic_int_inc (&g->source_seen);
      hold (g, &g->source_go, cancellable);
    }
}

/* The part's worker, held at its first point until cancelled. */
static void
part_hook (guint point, GCancellable *cancellable, gpointer data)
{
  Gates *g = data;

  gint never = 0;

  g_atomic_int_inc (&g->part_seen);
  hold (g, &never, cancellable);
}

static gboolean
int_set (gpointer p)
{
  return g_atomic_int_get ((gint *) p) > 0;
}

static gboolean
both_cancelled (gpointer data)
{
  return g_atomic_int_get (&((Gates *) data)->cancelled) == 2;
}

static gboolean
part_done (gpointer data)
{
  PartWatch *w = data;
  return _lk_eval_checkpoints_get_n_runs (w->part) >= w->runs &&
         !lk_eval_checkpoints_get_busy (w->part);
}

static gboolean
model_measured (gpointer data)
{
  PartWatch *w = data;
  return g_strcmp0 (lk_eval_checkpoints_get_model (w->part), "other") == 0 &&
         part_done (w);
}

/* The part is shown and measures while the first table is computed (it
 * used to sit inside the table's page, so it did nothing until the table
 * was there); it waits, saying so, only while the table makes the
 * triplet sets both measure on. Switching the collection while both run
 * cancels both, and nothing of theirs lands on the new collection. */
static void
test_checkpoints_beside_table (void)
{
  g_autofree char *root = lk_test_make_image_tree ("beside", categories, 12, 28, 28, 3);
  g_autofree char *other = lk_test_make_image_tree ("beside-other", categories, 12, 28, 28, 4);
  LkWindow *window = lk_test_window_new (28);
  LkEvaluateView *view = evaluate_view (window);
  LkEvalCheckpoints *part = _lk_evaluate_view_get_checkpoints (view);
  LkCheckpointPlot *plot = _lk_eval_checkpoints_get_plot (part);
  Gates g = { 0 };
  PartWatch w = { part, view, 1 };
  LkCollection *coll;
  const LkEvalTable *table;

  /* A model with checkpoints in both collections. */
  lk_test_window_open (window, other);
  train_tiny (lk_session_get_collection (lk_window_get_session (window)), "other");
  lk_test_window_open (window, root);
  coll = lk_session_get_collection (lk_window_get_session (window));
  train_tiny (coll, "tiny");

  _lk_evaluate_view_set_hook (view, table_hook, &g);
  lk_window_show_view (window, "evaluate");

  /* The table makes its triplet sets: the part is on screen and says it
   * waits for them, with Cancel; nothing measured yet. */
  lk_test_wait_until (int_set, &g.prep_seen, "the table preparing its triplet sets");
  lk_test_flush_main_loop ();
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (part)));
  g_assert_cmpstr (lk_eval_checkpoints_get_model (part), ==, "tiny");
  g_assert_true (_lk_eval_checkpoints_get_waiting (part));
  g_assert_true (lk_eval_checkpoints_get_busy (part));
  g_assert_true (_lk_eval_checkpoints_get_progress_shown (part));
  g_assert_nonnull (strstr (_lk_eval_checkpoints_get_progress_text (part), "Waiting for the table"));
  g_assert_cmpuint (_lk_eval_checkpoints_get_n_runs (part), ==, 0);
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 0);
  g_assert_false (_lk_evaluate_view_get_inputs_ready (view));

  /* The sets are made; the table is held at its first source. The part
   * measures every point meanwhile, each right. */
  g_atomic_int_set (&g.prep_go, 1);
  lk_test_wait_until (part_done, &w, "the checkpoints measured beside the table");
  g_assert_cmpint (g_atomic_int_get (&g.source_seen), ==, 1);
  g_assert_true (_lk_evaluate_view_get_inputs_ready (view));
  g_assert_true (lk_evaluate_view_get_busy (view));
  g_assert_null (_lk_evaluate_view_get_table (view));
  g_assert_cmpuint (_lk_evaluate_view_get_n_done (view), ==, 0);
  g_assert_false (_lk_eval_checkpoints_get_stopped (part));
  g_assert_false (_lk_eval_checkpoints_get_waiting (part));
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 6);
  check_points (part, coll, NULL);

  /* Both at work: the table at its first source, the part at its first
   * point (Measure starts it, the rows stored now). Another collection:
   * both are cancelled (the hooks return), and the new one's model is
   * measured from scratch, not left "stopped" by the old job. */
  _lk_eval_checkpoints_set_hook (part, part_hook, &g);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (part), "checkpoints.measure", NULL));
  lk_test_wait_until (int_set, &g.part_seen, "the part at its first point");
  g_assert_true (lk_eval_checkpoints_get_busy (part));
  g_assert_true (lk_evaluate_view_get_busy (view));
  g_assert_cmpint (g_atomic_int_get (&g.cancelled), ==, 0);
  _lk_eval_checkpoints_set_hook (part, NULL, NULL);
  _lk_evaluate_view_set_hook (view, NULL, NULL);     /* for the runs to come */
  lk_test_window_open (window, other);
  lk_test_wait_until (both_cancelled, &g, "both workers cancelled");
  /* The new collection's table may be done already (its run starts at
   * once, and a loaded machine may be slow to run the old workers to
   * their hooks' return); the old one's must never be shown. */
  coll = lk_session_get_collection (lk_window_get_session (window));
  table = _lk_evaluate_view_get_table (view);
  g_assert_true (table == NULL ||
                 g_strcmp0 (table->collection, lk_collection_get_name (coll)) == 0);
  w.runs = 2;
  lk_test_wait_until (model_measured, &w, "the other collection's model measured");
  /* One run for each collection: the cancelled one was not counted. */
  g_assert_cmpuint (_lk_eval_checkpoints_get_n_runs (part), ==, 2);
  g_assert_false (_lk_eval_checkpoints_get_stopped (part));
  g_assert_cmpuint (lk_checkpoint_plot_get_n_markers (plot), ==, 6);
  check_points (part, coll, NULL);
  wait_evaluated (view, 0);
  g_assert_nonnull (_lk_evaluate_view_get_table (view));
  g_assert_cmpstr (_lk_evaluate_view_get_table (view)->collection, ==,
                   lk_collection_get_name (coll));
  lk_test_window_close (window);
}

int
main (int argc, char **argv)
{
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/evaluate/table-follows-labels", test_evaluate);
  g_test_add_func ("/ui/evaluate/checkpoint-plot", test_checkpoint_plot);
  g_test_add_func ("/ui/evaluate/checkpoints", test_checkpoints);
  g_test_add_func ("/ui/evaluate/checkpoints-beside-table", test_checkpoints_beside_table);
  return g_test_run ();
}
