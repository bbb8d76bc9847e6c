/* test-ui-evaluate.c — the Evaluate view on a generated collection: a
 * row per source with the figures lk_evaluate() gives, the generated
 * sets named as such while nothing is labelled, the plot drawn from the
 * same precisions; after two answers in the Label view the table
 * follows on its own — the labelled set, golden-learned added, only the
 * triplet columns computed again for the others (their Recall@1 and
 * mAP@R kept, and equal to a full run); a model's embedding file
 * appearing in the collection's folder gets its row (and becomes the
 * source the Query and Label views compare with); Stop keeps the last
 * table. */
#include "config.h"

#include <math.h>

#include "evaluate.h"
#include "lk-eval-row-item.h"
#include "lk-evaluate-view-private.h"
#include "lk-label-view-private.h"
#include "lk-query-view-private.h"
#include "lk-source-dropdown.h"
#include "lk-window-private.h"
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

int
main (int argc, char **argv)
{
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/evaluate/table-follows-labels", test_evaluate);
  return g_test_run ();
}
