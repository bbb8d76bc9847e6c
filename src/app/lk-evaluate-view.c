/* lk-evaluate-view.c — LkEvaluateView: lk_evaluate() in a thread of its
 * own below the window's priority, the table in a GtkColumnView, the
 * precision of each source in an LkPrecisionPlot.
 *
 * The first evaluation runs when the view is first shown (on
 * Fashion-MNIST it takes a couple of minutes of both cores). After that
 * the table follows the labels and the sources in the background, a
 * moment after they stop changing; and since Recall@1 and mAP@R depend
 * on neither the labels nor on anything but a source's rows, they are
 * kept per source and only the triplet columns are computed again
 * (triplets_only) for sources whose rows did not change.
 *
 * The checkpoints part (LkEvalCheckpoints) is shown and measures beside
 * the table, in its own thread, with its own progress and Cancel: on two
 * cores both go at about half speed, so a model's few checkpoints are
 * plotted long before a first table of Fashion-MNIST is done, rather than
 * after it. Only while a run prepares its triplet sets — the golden
 * features and their relevance, which the part measures on too and would
 * otherwise compute a second time — the part is held, and says so. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lk-eval-checkpoints.h"
#include "lk-eval-row-item.h"
#include "lk-evaluate-view-private.h"
#include "lk-focus.h"
#include "lk-precision-plot.h"
#include "lk-progress-relay.h"
#include "lk-session-binding.h"
#include "lk-status-page.h"
#include "lk-weak-ref.h"
#include "lk-worker.h"

#define REFRESH_DELAY_MS 1500

/* What a full evaluation found for one source, kept for the refreshes
 * that only compute the triplet columns. */
typedef struct {
  gint64 version;          /* lk_search_service_get_source_version() then */
  guint  dim;
  double recall_at_1;
  double map_at_r;
  guint  map_queries;
} CategoryMetrics;

struct _LkEvaluateView
{
  GtkWidget        parent_instance;

  /* Template widgets */
  GtkWidget       *box;
  GtkLabel        *title_label;
  GtkLabel        *sets_label;
  GtkLabel        *queries_label;
  GtkLabel        *note_label;
  GtkLabel        *status_label;
  GtkRevealer     *progress_revealer;
  GtkLabel        *progress_label;
  GtkProgressBar  *progress_bar;
  GtkInfoBar      *error_bar;
  GtkLabel        *error_label;
  GtkStack        *stack;
  LkStatusPage    *status_page;
  GtkColumnView   *column_view;
  LkPrecisionPlot *plot;
  LkEvalCheckpoints *checkpoints;

  /* Owned */
  LkSession       *session;
  LkSearchService *service;
  LkCollection    *collection;
  LkEvalTable     *table;            /* shown, or NULL */
  GListStore      *rows;             /* LkEvalRowItem */
  GHashTable      *kept;             /* source → CategoryMetrics */
  GCancellable    *cancellable;      /* of the evaluation running */
  LkProgressRelay *relay;
  gboolean         running;
  gboolean         inputs_ready;     /* the run's triplet sets are made */
  gboolean         stale;            /* the labels or sources changed since the table */
  gboolean         stopped;          /* the last run was stopped by the person */
  guint            refresh_source;
  guint            n_done;           /* evaluations finished, for tests */
  guint            last_full;        /* sources of the last run evaluated fully */
  guint            last_partial;     /* … and only for their triplet columns */
  double           last_seconds;
  LkEvaluateViewHook hook;
  gpointer         hook_data;
};

G_DEFINE_FINAL_TYPE (LkEvaluateView, lk_evaluate_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void start (LkEvaluateView *self, gboolean from_scratch);

/* The checkpoints part waits while the table makes what both measure on:
 * the triplet sets of the run going on, or of the first run, which waits
 * for the list of sources. */
static void
update_hold (LkEvaluateView *self)
{
  gboolean preparing = self->running && !self->inputs_ready;
  gboolean first_soon = self->collection != NULL && self->table == NULL && !self->running &&
                        !self->stopped && self->service != NULL &&
                        !lk_search_service_get_sources_listed (self->service);

  if (preparing || first_soon)
    {
      /* TRANSLATORS: the checkpoints part waits while the evaluation table makes the
       * triplet sets both measure on */
      const char *why = _("Waiting for the table to prepare the triplet sets…");
      lk_eval_checkpoints_hold (self->checkpoints, why);
    }
  else
    lk_eval_checkpoints_release (self->checkpoints);
}

/* "message" (the status page) or "table", which shows the table too. */
static void
show_page (LkEvaluateView *self, const char *name)
{
  gtk_stack_set_visible_child_name (self->stack, name);
  gtk_widget_set_visible (GTK_WIDGET (self->column_view), g_str_equal (name, "table"));
}

/* The run in progress, if any, is dropped: its answer goes nowhere. */
static void
drop_run (LkEvaluateView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->running = FALSE;
}

static void
notify_busy (LkEvaluateView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

gboolean
lk_evaluate_view_get_busy (LkEvaluateView *self)
{
  g_return_val_if_fail (LK_IS_EVALUATE_VIEW (self), FALSE);
  return self->running || self->refresh_source != 0 ||
         (self->collection != NULL && self->table == NULL && !self->stopped &&
          gtk_widget_get_mapped (GTK_WIDGET (self))) ||
         lk_eval_checkpoints_get_busy (self->checkpoints);
}

static void
on_error_response (LkEvaluateView *self, int response)
{
  if (response == GTK_RESPONSE_CLOSE)
    gtk_info_bar_set_revealed (self->error_bar, FALSE);
}

/* The table ---------------------------------------------------------------------- */

static void
cell_setup (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer column)
{
  GtkWidget *label = gtk_label_new (NULL);

  if (GPOINTER_TO_UINT (column) != LK_EVAL_COLUMN_SOURCE)
    {
      gtk_label_set_xalign (GTK_LABEL (label), 1);
      gtk_widget_add_css_class (label, "numeric");
    }
  else
    {
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
    }
  gtk_list_item_set_child (list_item, label);
}

static void
cell_bind (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer column)
{
  LkEvalRowItem *item = gtk_list_item_get_item (list_item);
  const LkEvalRow *row = lk_eval_row_item_get_row (item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  g_autofree char *text = lk_eval_row_item_dup_text (item, GPOINTER_TO_UINT (column));

  gtk_label_set_label (GTK_LABEL (label), text);
  /* Why a source has no figures, and which source a label names. */
  if (row->error != NULL)
    gtk_widget_set_tooltip_text (label, row->error);
  else if (GPOINTER_TO_UINT (column) == LK_EVAL_COLUMN_SOURCE)
    gtk_widget_set_tooltip_text (label, row->source);
  else
    gtk_widget_set_tooltip_text (label, NULL);
}

static void
add_column (LkEvaluateView *self, const char *title, guint column, gboolean expand)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr(GtkColumnViewColumn) col = NULL;

  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup), GUINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind), GUINT_TO_POINTER (column));
  col = gtk_column_view_column_new (title, g_steal_pointer (&factory));
  gtk_column_view_column_set_expand (col, expand);
  gtk_column_view_append_column (self->column_view, col);
}

static void
set_columns (LkEvaluateView *self, const LkEvalTable *t)
{
  GListModel *columns = gtk_column_view_get_columns (self->column_view);

  while (g_list_model_get_n_items (columns) > 0)
    {
      g_autoptr(GtkColumnViewColumn) col = g_list_model_get_item (columns, 0);
      gtk_column_view_remove_column (self->column_view, col);
    }
  add_column (self, _("Source"), LK_EVAL_COLUMN_SOURCE, TRUE);
  add_column (self, _("Dim"), LK_EVAL_COLUMN_DIM, FALSE);
  for (guint s = 0; s < t->n_sets; s++)
    {
      /* TRANSLATORS: a column: similarity precision on a triplet set ("labelled", "in-class") */
      g_autofree char *precision = g_strdup_printf (_("Precision, %s"), t->sets[s].name);
      /* TRANSLATORS: a column: score-at-K on a triplet set */
      g_autofree char *score = g_strdup_printf (_("Score@%u, %s"), t->k, t->sets[s].name);
      add_column (self, precision, LK_EVAL_COLUMN_PRECISION (s), FALSE);
      add_column (self, score, LK_EVAL_COLUMN_SCORE (s), FALSE);
    }
  add_column (self, _("Recall@1"), LK_EVAL_COLUMN_RECALL (t->n_sets), FALSE);
  add_column (self, _("mAP@R"), LK_EVAL_COLUMN_MAP (t->n_sets), FALSE);
}

static gboolean
same_columns (const LkEvalTable *a, const LkEvalTable *b)
{
  if (a == NULL || b == NULL || a->n_sets != b->n_sets || a->k != b->k)
    return FALSE;
  for (guint s = 0; s < a->n_sets; s++)
    if (g_strcmp0 (a->sets[s].name, b->sets[s].name) != 0)
      return FALSE;
  return TRUE;
}

static char *
describe_sets (const LkEvalTable *t)
{
  if (t->n_sets == 1)
    /* TRANSLATORS: the triplets measured on: how many, from how many answers, the file */
    return g_strdup_printf (_("Measured on your labelled triplets: %'u, from %'u answers (%s)."),
                            t->sets[0].n_triplets, t->sets[0].n_rows, t->sets[0].description);
  /* TRANSLATORS: no labels yet: the two generated sets and their sizes */
  return g_strdup_printf (_("No labelled triplets yet, so two generated sets stand in: "
                            "class-level (%'u: %s) and in-class (%'u: %s). Label triplets to "
                            "measure on yours."), t->sets[0].n_triplets, t->sets[0].description,
                          t->sets[1].n_triplets, t->sets[1].description);
}

static void
show_plot (LkEvaluateView *self, const LkEvalTable *t)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  g_autofree double *values = g_new (double, MAX (1, (gsize) t->n_rows * t->n_sets));
  const char *series[LK_EVAL_MAX_SETS];

  for (guint s = 0; s < t->n_sets; s++)
    series[s] = t->sets[s].name;
  /* Only what was measured: a source without figures has no bars. */
  for (guint r = 0; r < t->n_rows; r++)
    {
      if (t->rows[r].error != NULL)
        continue;
      for (guint s = 0; s < t->n_sets; s++)
        values[items->len * t->n_sets + s] = t->rows[r].precision[s];
      g_ptr_array_add (items, t->rows[r].label);
    }
  lk_precision_plot_set_data (self->plot, series, t->n_sets, (const char *const *) items->pdata,
                              items->len, values);
}

static void
update_status (LkEvaluateView *self)
{
  g_autofree char *text = NULL;

  if (self->running)
    text = g_strdup (self->table != NULL ? _("Recomputing…") : NULL);
  else if (self->stopped)
    text = g_strdup (self->table != NULL ? _("Stopped: these are the last results.") : NULL);
  else if (self->stale)
    text = g_strdup (_("The labels or sources changed: recomputing shortly."));
  else if (self->table != NULL)
    /* TRANSLATORS: when the table is current: the seconds the last evaluation took */
    text = g_strdup_printf (_("Up to date (computed in %.1f\u00a0s)."), self->last_seconds);
  gtk_label_set_label (self->status_label, text);
}

static void
show_table (LkEvaluateView *self, LkEvalTable *t)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *title = NULL, *sets = NULL, *queries = NULL;
  gboolean columns_change = !same_columns (self->table, t);

  g_clear_pointer (&self->table, lk_eval_table_free);
  self->table = t;
  /* TRANSLATORS: the Evaluate view's title, with the collection's name */
  title = g_strdup_printf (_("Evaluation of %s"), t->collection);
  gtk_label_set_label (self->title_label, title);
  sets = describe_sets (t);
  gtk_label_set_label (self->sets_label, sets);
  /* TRANSLATORS: who is compared with whom, then what score-at-K ranks */
  queries = g_strdup_printf (_("Queries: %s. Score@%u ranks %s. Recall@1 and mAP@R use the "
                               "categories."), t->queries, t->k,
                             t->pool == LK_EVAL_POOL_CATEGORY ? _("the query’s category of the pool")
                                                              : _("the whole pool"));
  gtk_label_set_label (self->queries_label, queries);
  gtk_label_set_label (self->note_label, t->note);
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), t->note != NULL);
  if (columns_change)
    set_columns (self, t);
  for (guint r = 0; r < t->n_rows; r++)
    g_ptr_array_add (items, lk_eval_row_item_new (&t->rows[r], t->n_sets));
  g_list_store_splice (self->rows, 0, g_list_model_get_n_items (G_LIST_MODEL (self->rows)),
                       items->pdata, items->len);
  show_plot (self, t);
  show_page (self, "table");
}

/* Evaluating in a worker ---------------------------------------------------------- */

typedef struct {
  LkCollection    *collection;
  GStrv            full;         /* sources evaluated fully */
  GStrv            partial;      /* sources whose Recall@1 and mAP@R are kept */
  LkProgressRelay *relay;
  guint            offset;       /* progress: sources done before this run */
  guint            total;
  GCancellable    *cancellable;
  LkEvaluateViewHook hook;       /* for the tests */
  gpointer         hook_data;
} EvalJob;

typedef struct {
  LkEvalTable *full;
  LkEvalTable *partial;
  double       seconds;
} EvalResult;

static void
eval_job_free (EvalJob *j)
{
  lk_collection_unref (j->collection);
  g_strfreev (j->full);
  g_strfreev (j->partial);
  lk_progress_relay_unref (j->relay);
  g_object_unref (j->cancellable);
  g_free (j);
}

static void
eval_result_free (EvalResult *r)
{
  g_clear_pointer (&r->full, lk_eval_table_free);
  g_clear_pointer (&r->partial, lk_eval_table_free);
  g_free (r);
}

static void
on_eval_progress (const char *source, guint done, guint total, gpointer data)
{
  EvalJob *j = data;

  lk_progress_relay_post (j->relay, source != NULL ? source : "", j->offset + done, j->total);
  if (j->hook != NULL && source != NULL)
    j->hook (source, j->cancellable, j->hook_data);
}

static LkEvalTable *
run_one (EvalJob *j, GStrv sources, gboolean triplets_only, GCancellable *cancellable,
         GError **error)
{
  LkEvalOptions options;

  lk_eval_options_init (&options);
  options.sources = (const char *const *) sources;
  options.triplets_only = triplets_only;
  return lk_evaluate (j->collection, &options, on_eval_progress, j, cancellable, error);
}

static void
eval_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EvalJob *j = task_data;
  EvalResult *r = g_new0 (EvalResult, 1);
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  j->total = g_strv_length (j->full) + g_strv_length (j->partial);
  if (j->hook != NULL)
    j->hook (NULL, cancellable, j->hook_data);
  if (j->full[0] != NULL)
    r->full = run_one (j, j->full, FALSE, cancellable, &error);
  j->offset = g_strv_length (j->full);
  if (error == NULL && j->partial[0] != NULL)
    r->partial = run_one (j, j->partial, TRUE, cancellable, &error);
  /* Stopped just as it finished: still stopped. */
  if (error == NULL)
    g_cancellable_set_error_if_cancelled (cancellable, &error);
  if (error != NULL)
    {
      eval_result_free (r);
      g_task_return_error (task, error);
      return;
    }
  r->seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_task_return_pointer (task, r, (GDestroyNotify) eval_result_free);
}

static const LkEvalRow *
find_row (const LkEvalTable *t, const char *source)
{
  for (guint r = 0; t != NULL && r < t->n_rows; r++)
    if (g_str_equal (t->rows[r].source, source))
      return &t->rows[r];
  return NULL;
}

static void
keep_category_metrics (LkEvaluateView *self, const LkEvalTable *full)
{
  for (guint r = 0; full != NULL && r < full->n_rows; r++)
    {
      const LkEvalRow *row = &full->rows[r];
      CategoryMetrics *m;

      if (row->error != NULL)
        continue;
      m = g_new (CategoryMetrics, 1);
      m->version = lk_search_service_get_source_version (self->service, row->source);
      m->dim = row->dim;
      m->recall_at_1 = row->recall_at_1;
      m->map_at_r = row->map_at_r;
      m->map_queries = row->map_queries;
      g_hash_table_replace (self->kept, g_strdup (row->source), m);
    }
}

/* One table from the two runs, in the order of the sources, the kept
 * Recall@1 and mAP@R filled in. The triplet sets are the same in both. */
static LkEvalTable *
merge (LkEvaluateView *self, EvalResult *r, GStrv order)
{
  LkEvalTable *base = r->full != NULL ? r->full : r->partial;
  LkEvalTable *t = g_new0 (LkEvalTable, 1);

  t->collection = g_strdup (base->collection);
  t->queries = g_strdup (base->queries);
  t->n_queries = base->n_queries;
  t->n_pool = base->n_pool;
  t->k = base->k;
  t->pool = base->pool;
  t->n_sets = base->n_sets;
  for (guint s = 0; s < base->n_sets; s++)
    {
      t->sets[s] = base->sets[s];
      t->sets[s].name = g_strdup (base->sets[s].name);
      t->sets[s].description = g_strdup (base->sets[s].description);
    }
  t->note = g_strdup (base->note);
  t->rows = g_new0 (LkEvalRow, MAX (1, g_strv_length (order)));
  for (guint i = 0; order[i] != NULL; i++)
    {
      const LkEvalRow *row = find_row (r->full, order[i]);
      gboolean partial = row == NULL;
      LkEvalRow *out;

      if (partial)
        row = find_row (r->partial, order[i]);
      if (row == NULL)
        continue;
      out = &t->rows[t->n_rows++];
      *out = *row;
      out->source = g_strdup (row->source);
      out->label = g_strdup (row->label);
      out->error = g_strdup (row->error);
      if (partial && row->error == NULL)
        {
          CategoryMetrics *m = g_hash_table_lookup (self->kept, row->source);
          out->recall_at_1 = m->recall_at_1;
          out->map_at_r = m->map_at_r;
          out->map_queries = m->map_queries;
        }
    }
  return t;
}

typedef struct {
  GWeakRef  view;
  GStrv     order;
} EvalCall;

static void
eval_call_free (EvalCall *c)
{
  g_weak_ref_clear (&c->view);
  g_strfreev (c->order);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EvalCall, eval_call_free)

static void
on_evaluated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EvalCall) call = user_data;
  g_autoptr(LkEvaluateView) self = g_weak_ref_get (&call->view);
  g_autoptr(GError) error = NULL;
  EvalResult *r = g_task_propagate_pointer (G_TASK (result), &error);
  GCancellable *ours = g_task_get_cancellable (G_TASK (result));

  if (self == NULL || ours != self->cancellable)
    {
      /* A newer run replaced this one, or the view is gone. */
      g_clear_pointer (&r, eval_result_free);
      return;
    }
  self->running = FALSE;
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  update_hold (self);
  if (r == NULL)
    {
      self->stopped = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      if (!self->stopped)
        {
          gtk_label_set_label (self->error_label, error->message);
          gtk_info_bar_set_revealed (self->error_bar, TRUE);
        }
      if (self->table == NULL)
        {
          lk_status_page_set_spinning (self->status_page, FALSE);
          lk_status_page_set_title (self->status_page, self->stopped ? _("Evaluation Stopped")
                                                                     : _("Could Not Evaluate"));
          lk_status_page_set_description (self->status_page, self->stopped ?
                                          _("Recompute to start it again.") : error->message);
        }
    }
  else
    {
      keep_category_metrics (self, r->full);
      self->last_seconds = r->seconds;
      self->stopped = FALSE;
      gtk_info_bar_set_revealed (self->error_bar, FALSE);
      show_table (self, merge (self, r, call->order));
      eval_result_free (r);
      self->n_done++;
    }
  update_status (self);
  notify_busy (self);
  /* Something changed while it ran. */
  if (self->stale && self->refresh_source == 0 && !self->stopped)
    start (self, FALSE);
}

static void
on_relay (const char *source, guint done, guint total, gpointer user_data)
{
  LkEvaluateView *self = user_data;
  const LkEmbeddingSource *s = source != NULL && *source != '\0'
                               ? lk_search_service_find_source (self->service, source) : NULL;
  g_autofree char *text = NULL;

  if (!self->running)
    return;
  /* A source's turn: the triplet sets are made. */
  if (!self->inputs_ready)
    {
      self->inputs_ready = TRUE;
      update_hold (self);
    }
  if (source == NULL || *source == '\0')
    text = g_strdup (_("Finishing the table…"));
  else
    /* TRANSLATORS: progress of the evaluation: a source's label, sources done, in all */
    text = g_strdup_printf (_("Evaluating %s (%u of %u)…"), s != NULL ? s->label : source,
                            MIN (done + 1, total), total);
  gtk_label_set_label (self->progress_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / total : 0);
}

/* Starts an evaluation of every source; with @from_scratch FALSE, the
 * sources whose rows did not change since their last full run get only
 * their triplet columns computed. */
static void
start (LkEvaluateView *self, gboolean from_scratch)
{
  GPtrArray *sources;
  g_autoptr(GStrvBuilder) full = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) partial = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) order = g_strv_builder_new ();
  g_autoptr(GTask) task = NULL;
  EvalCall *call;
  EvalJob *j;

  if (self->collection == NULL || !lk_search_service_get_sources_listed (self->service))
    return;
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (from_scratch)
    g_hash_table_remove_all (self->kept);
  sources = lk_search_service_get_sources (self->service);
  for (guint i = 0; i < sources->len; i++)
    {
      const LkEmbeddingSource *s = sources->pdata[i];
      CategoryMetrics *m = g_hash_table_lookup (self->kept, s->name);

      g_strv_builder_add (order, s->name);
      if (m != NULL && m->version == lk_search_service_get_source_version (self->service, s->name))
        g_strv_builder_add (partial, s->name);
      else
        g_strv_builder_add (full, s->name);
    }

  drop_run (self);
  j = g_new0 (EvalJob, 1);
  j->collection = lk_collection_ref (self->collection);
  j->full = g_strv_builder_end (full);
  j->partial = g_strv_builder_end (partial);
  j->relay = lk_progress_relay_ref (self->relay);
  j->cancellable = g_object_ref (self->cancellable);
  j->hook = self->hook;
  j->hook_data = self->hook_data;
  call = g_new0 (EvalCall, 1);
  g_weak_ref_init (&call->view, self);
  call->order = g_strv_builder_end (order);
  self->last_full = g_strv_length (j->full);
  self->last_partial = g_strv_length (j->partial);

  self->running = TRUE;
  self->inputs_ready = FALSE;
  self->stale = FALSE;
  self->stopped = FALSE;
  update_hold (self);
  gtk_label_set_label (self->progress_label, _("Preparing the triplet sets…"));
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  if (self->table == NULL)
    {
      lk_status_page_set_spinning (self->status_page, TRUE);
      lk_status_page_set_title (self->status_page, _("Evaluating Every Source…"));
      lk_status_page_set_description (self->status_page,
                                      _("Each baseline and model is measured on the triplets "
                                        "and the categories. The first time, features are "
                                        "computed too."));
      show_page (self, "message");
    }
  task = g_task_new (NULL, self->cancellable, on_evaluated, call);
  g_task_set_task_data (task, j, (GDestroyNotify) eval_job_free);
  lk_task_run_in_low_priority_thread (task, eval_thread);
  update_status (self);
  notify_busy (self);
}

static gboolean
refresh_timeout (gpointer data)
{
  LkEvaluateView *self = data;

  self->refresh_source = 0;
  if (!self->running)
    start (self, FALSE);
  notify_busy (self);
  return G_SOURCE_REMOVE;
}

/* The labels or the sources changed: once they settle, the table
 * follows, in the background (if it was ever computed). */
static void
schedule_refresh (LkEvaluateView *self)
{
  if (self->table == NULL && !self->running)
    return;
  self->stale = TRUE;
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  self->refresh_source = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout, self);
  update_status (self);
  notify_busy (self);
}

/* Whether the table no longer matches the sources: one came or went,
 * or a source's rows changed. */
static gboolean
table_outdated (LkEvaluateView *self)
{
  GPtrArray *sources = lk_search_service_get_sources (self->service);

  if (self->table == NULL || sources->len != self->table->n_rows)
    return TRUE;
  for (guint i = 0; i < sources->len; i++)
    {
      const LkEmbeddingSource *s = sources->pdata[i];
      CategoryMetrics *m = g_hash_table_lookup (self->kept, s->name);

      if (!g_str_equal (s->name, self->table->rows[i].source))
        return TRUE;
      if (m != NULL && m->version != lk_search_service_get_source_version (self->service, s->name))
        return TRUE;
    }
  return FALSE;
}

static void
on_sources_changed (LkEvaluateView *self)
{
  if (lk_search_service_get_sources_listed (self->service) && table_outdated (self))
    schedule_refresh (self);
  /* The first evaluation waited for the list. */
  if (self->table == NULL && !self->running && !self->stopped &&
      gtk_widget_get_mapped (GTK_WIDGET (self)))
    start (self, FALSE);
  update_hold (self);
}

/* Following the session ------------------------------------------------------------------ */

static void
on_collection_changed (LkEvaluateView *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);

  drop_run (self);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  self->stale = self->stopped = FALSE;
  g_clear_pointer (&self->table, lk_eval_table_free);
  g_hash_table_remove_all (self->kept);
  g_list_store_remove_all (self->rows);
  g_clear_pointer (&self->collection, lk_collection_unref);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  gtk_info_bar_set_revealed (self->error_bar, FALSE);
  gtk_label_set_label (self->title_label, NULL);
  gtk_label_set_label (self->sets_label, NULL);
  gtk_label_set_label (self->queries_label, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), FALSE);
  lk_status_page_set_spinning (self->status_page, FALSE);
  lk_status_page_set_title (self->status_page, NULL);
  lk_status_page_set_description (self->status_page, NULL);
  show_page (self, "message");
  if (coll != NULL)
    {
      g_autofree char *title = g_strdup_printf (_("Evaluation of %s"), lk_collection_get_name (coll));
      self->collection = lk_collection_ref (coll);
      gtk_label_set_label (self->title_label, title);
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        start (self, FALSE);
    }
  update_hold (self);
  update_status (self);
  notify_busy (self);
}

/* Actions -------------------------------------------------------------------------------- */

static void
recompute_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  start (LK_EVALUATE_VIEW (widget), TRUE);
}

/* Which model's checkpoints are plotted (a name). */
static void
checkpoints_model_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (widget);
  lk_eval_checkpoints_set_model (self->checkpoints, g_variant_get_string (parameter, NULL));
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (widget);

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->running)
    g_cancellable_cancel (self->cancellable);
  notify_busy (self);
}

/* Object ----------------------------------------------------------------------------------- */

static void
lk_evaluate_view_map (GtkWidget *widget)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (widget);

  /* The first evaluation is for when someone looks. Started (or held
   * for) before the children are mapped: the checkpoints part starts
   * measuring when it is mapped, unless the table holds it. */
  if (self->collection != NULL && !self->running && !self->stopped &&
      (self->table == NULL || self->stale))
    start (self, FALSE);
  update_hold (self);
  GTK_WIDGET_CLASS (lk_evaluate_view_parent_class)->map (widget);
}

static void
lk_evaluate_view_dispose (GObject *object)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (object);

  lk_evaluate_view_set_session (self, NULL);
  if (self->relay != NULL)
    lk_progress_relay_close (self->relay);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_EVALUATE_VIEW);
  G_OBJECT_CLASS (lk_evaluate_view_parent_class)->dispose (object);
}

static void
lk_evaluate_view_finalize (GObject *object)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->relay, lk_progress_relay_unref);
  g_clear_pointer (&self->table, lk_eval_table_free);
  g_clear_pointer (&self->kept, g_hash_table_unref);
  g_clear_object (&self->rows);
  G_OBJECT_CLASS (lk_evaluate_view_parent_class)->finalize (object);
}

static void
lk_evaluate_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, lk_evaluate_view_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_evaluate_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkEvaluateView *self = LK_EVALUATE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      lk_evaluate_view_set_session (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_evaluate_view_class_init (LkEvaluateViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_evaluate_view_dispose;
  object_class->finalize = lk_evaluate_view_finalize;
  object_class->get_property = lk_evaluate_view_get_property;
  object_class->set_property = lk_evaluate_view_set_property;
  widget_class->map = lk_evaluate_view_map;

  properties[PROP_SESSION] = lk_session_binding_param_spec ();
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_PRECISION_PLOT);
  g_type_ensure (LK_TYPE_EVAL_CHECKPOINTS);
  g_type_ensure (LK_TYPE_STATUS_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-evaluate-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, box);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, title_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, sets_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, queries_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, note_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, status_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, progress_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, error_bar);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, error_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, stack);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, status_page);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, column_view);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, plot);
  gtk_widget_class_bind_template_child (widget_class, LkEvaluateView, checkpoints);
  gtk_widget_class_bind_template_callback (widget_class, on_error_response);

  gtk_widget_class_install_action (widget_class, "eval.recompute", NULL, recompute_action);
  gtk_widget_class_install_action (widget_class, "eval.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "eval.checkpoints-model", "s",
                                   checkpoints_model_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
                                       "eval.recompute", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "evaluateview");
}

static void
lk_evaluate_view_init (LkEvaluateView *self)
{
  GtkNoSelection *selection;

  gtk_widget_init_template (GTK_WIDGET (self));
  lk_focus_tab_leaves (GTK_WIDGET (self->column_view));
  self->rows = g_list_store_new (LK_TYPE_EVAL_ROW_ITEM);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->rows)));
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  self->kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->cancellable = g_cancellable_new ();
  self->relay = lk_progress_relay_new (on_relay, self);
  g_signal_connect_swapped (self->checkpoints, "notify::busy", G_CALLBACK (notify_busy), self);
}

GtkWidget *
lk_evaluate_view_new (LkSession *session)
{
  return g_object_new (LK_TYPE_EVALUATE_VIEW, "session", session, NULL);
}

void
lk_evaluate_view_set_session (LkEvaluateView *self, LkSession *session)
{
  g_return_if_fail (LK_IS_EVALUATE_VIEW (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  static const LkSessionSignal follow[] = {
    { LK_SESSION_PART_SESSION, "notify::collection", G_CALLBACK (on_collection_changed) },
    { LK_SESSION_PART_SERVICE, "sources-changed", G_CALLBACK (on_sources_changed) },
    { LK_SESSION_PART_SERVICE, "triplets-changed", G_CALLBACK (schedule_refresh) },
  };

  if (self->session == session)
    return;
  if (self->session != NULL)
    {
      lk_session_binding_release (self, self->session);
      drop_run (self);
      g_clear_handle_id (&self->refresh_source, g_source_remove);
    }
  g_set_object (&self->session, session);
  g_clear_object (&self->service);
  g_clear_pointer (&self->collection, lk_collection_unref);
  if (session != NULL)
    {
      self->service = g_object_ref (lk_session_get_search_service (session));
      lk_session_binding_follow (self, session, follow, G_N_ELEMENTS (follow));
      on_collection_changed (self);
    }
  lk_eval_checkpoints_set_session (self->checkpoints, session);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

LkSession *
lk_evaluate_view_get_session (LkEvaluateView *self)
{
  g_return_val_if_fail (LK_IS_EVALUATE_VIEW (self), NULL);
  return self->session;
}

/* Test API -------------------------------------------------------------------------------------- */

const LkEvalTable *
_lk_evaluate_view_get_table (LkEvaluateView *self)
{
  return self->table;
}

GListModel *
_lk_evaluate_view_get_rows (LkEvaluateView *self)
{
  return G_LIST_MODEL (self->rows);
}

GtkColumnView *
_lk_evaluate_view_get_column_view (LkEvaluateView *self)
{
  return self->column_view;
}

LkPrecisionPlot *
_lk_evaluate_view_get_plot (LkEvaluateView *self)
{
  return self->plot;
}

LkEvalCheckpoints *
_lk_evaluate_view_get_checkpoints (LkEvaluateView *self)
{
  return self->checkpoints;
}

const char *
_lk_evaluate_view_get_sets_text (LkEvaluateView *self)
{
  return gtk_label_get_label (self->sets_label);
}

guint
_lk_evaluate_view_get_n_done (LkEvaluateView *self)
{
  return self->n_done;
}

gboolean
_lk_evaluate_view_get_progress_shown (LkEvaluateView *self)
{
  return gtk_revealer_get_reveal_child (self->progress_revealer);
}

gboolean
_lk_evaluate_view_get_inputs_ready (LkEvaluateView *self)
{
  return self->inputs_ready;
}

void
_lk_evaluate_view_set_hook (LkEvaluateView *self, LkEvaluateViewHook hook, gpointer data)
{
  self->hook = hook;
  self->hook_data = data;
}

void
_lk_evaluate_view_get_last_run (LkEvaluateView *self, guint *n_full, guint *n_partial)
{
  *n_full = self->last_full;
  *n_partial = self->last_partial;
}
