/* lk-eval-checkpoints.c — LkEvalCheckpoints: the models listed from the
 * store (lk_model_store_list, a directory listing, as the Training view
 * does), one job at a time in a low-priority thread, its results posted
 * back point by point and dropped when a newer job replaced it.
 *
 * What a job measures is keyed by a signature of its inputs — the
 * model's checkpoint and model files (step, time, size) and a count of
 * label changes — so the "sources-changed" that the job's own new
 * embeddings cause does not start it again.
 *
 * The Evaluate view holds the part while its table prepares the inputs
 * both measure on: a job that would start waits, says so, and starts from
 * an idle once released (the release comes from inside the view's own
 * handlers, e.g. of the collection changing, before this part has seen
 * the change). */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>

#include "evaluate.h"
#include "lk-eval-checkpoints-private.h"
#include "lk-progress-relay.h"
#include "lk-worker.h"
#include "model-store.h"
#include "triplets.h"

#define REFRESH_DELAY_MS 1500
#define MAX_SERIES (LK_EVAL_MAX_SETS + 1)   /* class-level, in-class, labelled */
#define PROGRESS_SCALE 1000                 /* progress units per point */

struct _LkEvalCheckpoints
{
  GtkWidget         parent_instance;

  /* Template widgets */
  GtkWidget        *box;
  GtkDropDown      *model_dropdown;
  GtkRevealer      *progress_revealer;
  GtkLabel         *progress_label;
  GtkProgressBar   *progress_bar;
  GtkLabel         *status_label;
  GtkStack         *stack;
  LkCheckpointPlot *plot;

  /* Owned */
  LkSession        *session;
  LkSearchService  *service;
  LkTraining       *training;
  LkCollection     *collection;
  GtkStringList    *model_names;       /* the dropdown's: models with checkpoints */
  char             *model;             /* the one plotted, or NULL */
  char             *wanted;            /* asked for by name (set_model), or NULL */
  char             *signature;         /* of the selected model's inputs now */
  char             *measured;          /* … of the last job started, or NULL */
  guint             labels_changes;
  guint64           training_checkpoint;  /* the session's training's last, seen */
  GCancellable     *cancellable;       /* of the job running */
  LkProgressRelay  *relay;
  gboolean          running;
  gboolean          stopped;           /* the last job was cancelled */
  gboolean          updating_list;
  guint             refresh_source;
  char             *hold;              /* why measuring waits (lk_eval_checkpoints_hold), or NULL */
  guint             release_source;    /* the idle that starts what waited */
  gboolean          showing_wait;      /* the progress area shows @hold */
  gint64            started_at;
  double            last_seconds;

  /* What is plotted: n_points by step, (n_points, n_series) values. */
  GPtrArray        *sources;
  GPtrArray        *names;
  GArray           *steps;
  GArray           *values;
  char             *series[MAX_SERIES];
  guint             n_series;
  double            baseline[MAX_SERIES];
  int               final_point;
  guint             n_failed;
  char             *point_error;       /* the first point's that failed */
  char             *error;             /* the job's, or NULL */

  guint             n_runs;
  guint             n_embedded;
  LkEvalCheckpointsHook hook;
  gpointer          hook_data;
};

G_DEFINE_FINAL_TYPE (LkEvalCheckpoints, lk_eval_checkpoints, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void start (LkEvalCheckpoints *self);

/* Held, with a job that would start now: the first measuring (unless
 * the person stopped it), or the model's inputs changed since. */
static gboolean
waiting (LkEvalCheckpoints *self)
{
  return self->hold != NULL && self->model != NULL && !self->running &&
         gtk_widget_get_mapped (GTK_WIDGET (self)) &&
         g_strcmp0 (self->signature, self->measured) != 0 &&
         !(self->stopped && self->measured == NULL);
}

gboolean
lk_eval_checkpoints_get_busy (LkEvalCheckpoints *self)
{
  g_return_val_if_fail (LK_IS_EVAL_CHECKPOINTS (self), FALSE);
  return self->running || self->refresh_source != 0 || self->release_source != 0 ||
         waiting (self) ||
         (self->model != NULL && self->measured == NULL && !self->stopped &&
          gtk_widget_get_mapped (GTK_WIDGET (self)));
}

static void
notify_busy (LkEvalCheckpoints *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* The job running, if any, is dropped: cancelled, and its answer and
 * messages, which carry its cancellable, go nowhere. (Merely cancelled,
 * its "stopped" would land on whatever the part shows next — which, held,
 * would then never be measured.) */
static void
drop_job (LkEvalCheckpoints *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->running = FALSE;
}

/* While it waits, the progress area says why, with Cancel. */
static void
update_waiting (LkEvalCheckpoints *self)
{
  if (waiting (self))
    {
      gtk_label_set_label (self->progress_label, self->hold);
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
      self->showing_wait = TRUE;
    }
  else if (self->showing_wait)
    {
      self->showing_wait = FALSE;
      if (!self->running)
        gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
    }
}

/* The plot ------------------------------------------------------------------------------ */

static void
clear_points (LkEvalCheckpoints *self)
{
  g_ptr_array_set_size (self->sources, 0);
  g_ptr_array_set_size (self->names, 0);
  g_array_set_size (self->steps, 0);
  g_array_set_size (self->values, 0);
  for (guint s = 0; s < MAX_SERIES; s++)
    {
      g_clear_pointer (&self->series[s], g_free);
      self->baseline[s] = NAN;
    }
  self->n_series = 0;
  self->final_point = -1;
  self->n_failed = 0;
  g_clear_pointer (&self->point_error, g_free);
}

static void
show_points (LkEvalCheckpoints *self)
{
  lk_checkpoint_plot_set_data (self->plot, (const char *const *) self->series, self->n_series,
                               (const guint64 *) (gpointer) self->steps->data,
                               (const char *const *) self->names->pdata, self->names->len,
                               self->final_point, (const double *) (gpointer) self->values->data,
                               _("golden features"), self->baseline);
}

static guint
n_measured (LkEvalCheckpoints *self)
{
  guint n = 0;

  for (guint i = 0; i < self->steps->len; i++)
    n += !isnan (g_array_index (self->values, double, (gsize) i * self->n_series));
  return n;
}

static void
update_status (LkEvalCheckpoints *self)
{
  g_autofree char *text = NULL;
  guint n = self->steps->len, done = n_measured (self);

  if (self->model == NULL)
    text = NULL;
  else if (self->error != NULL)
    /* TRANSLATORS: the checkpoints could not be measured: the reason */
    text = g_strdup_printf (_("Could not measure the checkpoints: %s"), self->error);
  else if (self->running)
    text = NULL;
  else if (self->stopped && n == 0)
    /* TRANSLATORS: cancelled while waiting for the table; "Measure" is the button */
    text = g_strdup (_("Cancelled before measuring; Measure starts it."));
  else if (self->stopped)
    /* TRANSLATORS: measuring checkpoints was cancelled: measured, in all */
    text = g_strdup_printf (_("Stopped with %u of %u points measured; Measure goes on from "
                              "there (embeddings already made are kept)."), done, n);
  else if (self->refresh_source != 0)
    text = g_strdup (_("The checkpoints or the labels changed: measuring again shortly."));
  else if (self->measured != NULL)
    /* TRANSLATORS: the checkpoints plot is current: points, seconds it took */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u point, measured in %.1f\u00a0s.",
                                         "%u points, measured in %.1f\u00a0s.", n),
                            n, self->last_seconds);
  if (text != NULL && self->n_failed > 0)
    {
      /* TRANSLATORS: appended to the status: points that could not be measured, why */
      g_autofree char *more = g_strdup_printf (_(" %u could not be measured: %s"), self->n_failed,
                                               self->point_error);
      char *both = g_strconcat (text, more, NULL);
      g_free (text);
      text = both;
    }
  gtk_label_set_label (self->status_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL);
  update_waiting (self);
}

/* The models ------------------------------------------------------------------------------ */

static gint64
mtime_of (const LkModelInfo *info)
{
  gint64 t = 0;

  for (guint i = 0; i < info->checkpoints->len; i++)
    t = MAX (t, ((LkCheckpointInfo *) info->checkpoints->pdata[i])->mtime);
  return t;
}

static char *
signature_of (LkEvalCheckpoints *self, const LkModelInfo *info)
{
  GString *sig = g_string_new (info->name);
  GStatBuf st;

  for (guint i = 0; i < info->checkpoints->len; i++)
    {
      const LkCheckpointInfo *c = info->checkpoints->pdata[i];
      g_string_append_printf (sig, ";%" PRIu64 ":%" G_GINT64_FORMAT ":%" PRIu64, c->step,
                              c->mtime, c->size);
    }
  if (info->model_path != NULL && g_stat (info->model_path, &st) == 0)
    g_string_append_printf (sig, ";model:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                            (gint64) st.st_mtime, (gint64) st.st_size);
  g_string_append_printf (sig, ";labels:%u", self->labels_changes);
  return g_string_free (sig, FALSE);
}

static void
schedule (LkEvalCheckpoints *self, guint delay_ms);

/* The inputs of the model shown may have changed: measure again when
 * they did (at once the first time, a moment later otherwise, so a burst
 * of changes makes one job), if someone looks. */
static void
follow_signature (LkEvalCheckpoints *self, gboolean at_once)
{
  if (self->model == NULL || g_strcmp0 (self->signature, self->measured) == 0)
    return;
  if (self->running)
    return;          /* on_measured() looks again */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;          /* lk_eval_checkpoints_map() does */
  if (self->hold != NULL)
    {
      update_status (self);   /* says it waits; the release looks again */
      return;
    }
  if (at_once || self->measured == NULL)
    {
      if (!self->stopped || self->measured != NULL)
        start (self);
    }
  else
    schedule (self, REFRESH_DELAY_MS);
}

/* Whether @list holds @names (NULL-terminated), in order. */
static gboolean
same_names (GtkStringList *list, GPtrArray *names)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));

  if (n + 1 != names->len)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (list, i), names->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

/* Lists the models with checkpoints, keeps the choice (else the one
 * asked for, else the newest) and the signature of the one chosen. */
static void
refresh_models (LkEvalCheckpoints *self, gboolean at_once)
{
  g_autoptr(GPtrArray) models = self->collection != NULL ? lk_model_store_list (self->collection)
                                                         : g_ptr_array_new ();
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const LkModelInfo *chosen = NULL, *newest = NULL;
  guint position = GTK_INVALID_LIST_POSITION;
  g_autofree char *old = g_strdup (self->model);

  for (guint i = 0; i < models->len; i++)
    {
      const LkModelInfo *info = models->pdata[i];

      if (info->checkpoints->len == 0)
        continue;
      if (g_strcmp0 (info->name, self->wanted) == 0 ||
          (self->wanted == NULL && g_strcmp0 (info->name, self->model) == 0))
        chosen = info;
      if (newest == NULL || mtime_of (info) >= mtime_of (newest))
        newest = info;
      g_ptr_array_add (names, info->name);
    }
  if (chosen == NULL)
    chosen = newest;
  for (guint i = 0; chosen != NULL && i < names->len; i++)
    if (names->pdata[i] == chosen->name)
      position = i;
  g_ptr_array_add (names, NULL);

  self->updating_list = TRUE;
  if (!same_names (self->model_names, names))
    gtk_string_list_splice (self->model_names, 0,
                            g_list_model_get_n_items (G_LIST_MODEL (self->model_names)),
                            (const char *const *) names->pdata);
  gtk_drop_down_set_selected (self->model_dropdown, position);
  self->updating_list = FALSE;

  g_free (self->model);
  self->model = chosen != NULL ? g_strdup (chosen->name) : NULL;
  g_free (self->signature);
  self->signature = chosen != NULL ? signature_of (self, chosen) : NULL;
  gtk_stack_set_visible_child_name (self->stack, chosen != NULL ? "plot" : "empty");
  gtk_widget_set_sensitive (GTK_WIDGET (self->model_dropdown), chosen != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "checkpoints.measure", chosen != NULL);
  if (g_strcmp0 (old, self->model) != 0)
    {
      /* Another model: its own points, from scratch. */
      drop_job (self);
      self->stopped = FALSE;
      g_clear_pointer (&self->measured, g_free);
      g_clear_pointer (&self->error, g_free);
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
      clear_points (self);
      show_points (self);
    }
  follow_signature (self, at_once);
  update_status (self);
  notify_busy (self);
}

static void
on_selected (LkEvalCheckpoints *self)
{
  guint position = gtk_drop_down_get_selected (self->model_dropdown);
  const char *name;

  if (self->updating_list || position == GTK_INVALID_LIST_POSITION)
    return;
  name = gtk_string_list_get_string (self->model_names, position);
  if (g_strcmp0 (name, self->model) == 0)
    return;
  lk_eval_checkpoints_set_model (self, name);
}

/* Measuring in a worker ------------------------------------------------------------------- */

/* The view, for the worker's messages: cleared from any thread, read on
 * the main thread only (the worker must not hold a widget). */
typedef struct {
  GWeakRef view;
} Link;

static void
link_clear (gpointer data)
{
  g_weak_ref_clear (&((Link *) data)->view);
}

static Link *
link_ref (Link *link)
{
  return g_atomic_rc_box_acquire (link);
}

static void
link_unref (Link *link)
{
  g_atomic_rc_box_release_full (link, link_clear);
}

typedef struct {
  guint64  step;
  char    *source;
  char    *name;
  gboolean final;
} Point;

static void
point_free (Point *p)
{
  g_free (p->source);
  g_free (p->name);
  g_free (p);
}

typedef struct {
  LkCollection    *collection;
  char            *model;
  GStrv            stored;       /* sources with stored rows, as the worker found them */
  LkProgressRelay *relay;
  Link            *link;
  GMainContext    *context;
  LkEvalCheckpointsHook hook;
  gpointer         hook_data;
  guint            n_embedded;   /* by the worker */
} Job;

static void
job_free (Job *j)
{
  lk_collection_unref (j->collection);
  g_free (j->model);
  g_strfreev (j->stored);
  lk_progress_relay_unref (j->relay);
  link_unref (j->link);
  g_main_context_unref (j->context);
  g_free (j);
}

typedef enum {
  MSG_PLAN,
  MSG_BASELINE,
  MSG_POINT,
} MsgKind;

typedef struct {
  Link         *link;
  GCancellable *cancellable;     /* the job's: a message of an older job is dropped */
  MsgKind       kind;
  /* plan */
  GPtrArray    *points;          /* Point, by step */
  GStrv         series;
  /* baseline, point */
  guint         index;
  double        values[MAX_SERIES];
  char         *error;
} Msg;

static void
msg_free (Msg *m)
{
  link_unref (m->link);
  g_object_unref (m->cancellable);
  g_clear_pointer (&m->points, g_ptr_array_unref);
  g_strfreev (m->series);
  g_free (m->error);
  g_free (m);
}

static Msg *
msg_new (Job *j, GCancellable *cancellable, MsgKind kind)
{
  Msg *m = g_new0 (Msg, 1);

  m->link = link_ref (j->link);
  m->cancellable = g_object_ref (cancellable);
  m->kind = kind;
  for (guint s = 0; s < MAX_SERIES; s++)
    m->values[s] = NAN;
  return m;
}

static gboolean on_msg (gpointer data);

static void
post (Job *j, Msg *m)
{
  lk_worker_post (j->context, on_msg, m, (GDestroyNotify) msg_free);
}

static int
cmp_points (gconstpointer a, gconstpointer b)
{
  const Point *x = *(Point *const *) a, *y = *(Point *const *) b;
  return x->step < y->step ? -1 : x->step > y->step;
}

/* The checkpoints by step and the model file, at the step its
 * metadata give; a checkpoint at that step holds the same weights and is
 * left out. */
static GPtrArray *
plan_points (Job *j, GError **error)
{
  g_autoptr(LkModelInfo) info = lk_model_store_get (j->collection, j->model, error);
  GPtrArray *points;
  guint64 final_step = 0;
  gboolean has_final = FALSE, finished = FALSE;

  if (info == NULL)
    return NULL;
  points = g_ptr_array_new_with_free_func ((GDestroyNotify) point_free);
  if (info->model_path != NULL)
    {
      g_autoptr(LkModel) m = lk_model_load (info->model_path, NULL);
      const char *step = m != NULL ? lk_model_get_metadata (m, "train.step") : NULL;

      has_final = step != NULL && g_ascii_string_to_unsigned (step, 10, 0, G_MAXUINT64,
                                                              &final_step, NULL);
      finished = m != NULL && g_strcmp0 (lk_model_get_metadata (m, "train.state"),
                                         "finished") == 0;
    }
  for (guint i = 0; i < info->checkpoints->len; i++)
    {
      const LkCheckpointInfo *c = info->checkpoints->pdata[i];
      Point *p;

      if (has_final && c->step == final_step)
        continue;
      p = g_new0 (Point, 1);
      p->step = c->step;
      p->source = lk_model_source_name (j->model, c->step);
      /* TRANSLATORS: a point of the plot over checkpoints */
      p->name = g_strdup_printf (_("Checkpoint at step %'" PRIu64), c->step);
      g_ptr_array_add (points, p);
    }
  if (has_final)
    {
      Point *p = g_new0 (Point, 1);

      p->step = final_step;
      p->source = lk_model_source_name (j->model, 0);
      /* Only a finished model's is the final model, the square the
       * legend names; a stopped one's latest weights are a point. */
      p->final = finished;
      p->name = finished
        /* TRANSLATORS: the point of a finished model in the plot over checkpoints */
        ? g_strdup_printf (_("Final model, step %'" PRIu64), final_step)
        /* TRANSLATORS: the point of a stopped model's latest weights in the plot */
        : g_strdup_printf (_("Latest weights, step %'" PRIu64), final_step);
      g_ptr_array_add (points, p);
    }
  g_ptr_array_sort (points, cmp_points);
  return points;
}

/* The labelled triplets, when the collection has any: their file. */
static char *
labels_path (LkCollection *collection)
{
  g_autofree char *path = lk_triplets_default_path (collection);
  g_autoptr(LkTripletSet) set = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  set = lk_triplet_set_load (path, collection, NULL);
  if (set == NULL || lk_triplet_set_get_triplets (set, NULL, NULL, NULL) == 0)
    return NULL;
  return g_steal_pointer (&path);
}

/* @source's precision on the generated sets (and the labelled one),
 * as the table computes it. FALSE when the evaluation itself failed
 * (cancelled, too few images); a source that could not be evaluated
 * sets *row_error instead. */
static gboolean
measure (Job *j, const char *source, const char *labels, double out[MAX_SERIES],
         char **row_error, GCancellable *cancellable, GError **error)
{
  const char *sources[] = { source, NULL };
  g_autoptr(LkEvalTable) generated = NULL;
  g_autoptr(LkEvalTable) labelled = NULL;
  LkEvalOptions o;

  lk_eval_options_init (&o);
  o.sources = sources;
  o.triplets_only = TRUE;
  o.generated_sets = TRUE;
  generated = lk_evaluate (j->collection, &o, NULL, NULL, cancellable, error);
  if (generated == NULL)
    return FALSE;
  if (generated->rows[0].error != NULL)
    {
      *row_error = g_strdup (generated->rows[0].error);
      return TRUE;
    }
  for (guint s = 0; s < generated->n_sets; s++)
    out[s] = generated->rows[0].precision[s];
  if (labels == NULL)
    return TRUE;
  o.generated_sets = FALSE;
  o.triplets_path = labels;
  labelled = lk_evaluate (j->collection, &o, NULL, NULL, cancellable, error);
  if (labelled == NULL)
    return FALSE;
  if (labelled->rows[0].error != NULL)
    *row_error = g_strdup (labelled->rows[0].error);
  else
    out[generated->n_sets] = labelled->rows[0].precision[0];
  return TRUE;
}

typedef struct {
  LkProgressRelay *relay;
  const char      *text;
  guint            k, n;
} EmbedProgress;

static void
on_embed_progress (guint done, guint total, gpointer data)
{
  EmbedProgress *p = data;
  guint part = total > 0 ? (guint) ((guint64) done * PROGRESS_SCALE / total) : 0;

  lk_progress_relay_post (p->relay, p->text, p->k * PROGRESS_SCALE + part,
                          p->n * PROGRESS_SCALE);
}

/* The rows of @p's source: stored ones loaded, others computed and
 * stored. FALSE only when cancelled; another failure is the point's. */
static gboolean
embed_point (Job *j, const Point *p, EmbedProgress *progress, char **point_error,
             GCancellable *cancellable, GError **error)
{
  g_autoptr(LkEmbedder) embedder = NULL;
  g_autoptr(LkEmbedding) rows = NULL;
  g_autoptr(GError) local = NULL;

  lk_model_register_embedder ();
  embedder = lk_embedder_new_for_source (j->collection, p->source, &local);
  if (embedder != NULL)
    rows = lk_embedding_load_or_compute (embedder, j->collection, on_embed_progress, progress,
                                         cancellable, &local);
  if (rows != NULL)
    return TRUE;
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *point_error = g_strdup (local->message);
  return TRUE;
}

static gboolean
measure_points (Job *j, GPtrArray *points, const char *labels, GCancellable *cancellable,
                GError **error)
{
  g_autofree guint *order = g_new (guint, MAX (points->len, 1));
  guint n = 0;

  /* The stored ones first: they take seconds, so the plot fills at once. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < points->len; i++)
      {
        const Point *p = points->pdata[i];
        if (g_strv_contains ((const char *const *) j->stored, p->source) == (pass == 0))
          order[n++] = i;
      }
  for (guint k = 0; k < n; k++)
    {
      const Point *p = points->pdata[order[k]];
      gboolean stored = g_strv_contains ((const char *const *) j->stored, p->source);
      g_autofree char *step = g_strdup_printf ("%'" PRIu64, p->step);
      g_autofree char *text = stored
        /* TRANSLATORS: progress: point k of n (a checkpoint), its step */
        ? g_strdup_printf (_("Measuring checkpoint %u of %u (step %s)…"), k + 1, n, step)
        /* TRANSLATORS: progress: point k of n (a checkpoint), its step */
        : g_strdup_printf (_("Embedding checkpoint %u of %u (step %s)…"), k + 1, n, step);
      EmbedProgress progress = { j->relay, text, k, n };
      Msg *m;

      if (j->hook != NULL)
        j->hook (k, cancellable, j->hook_data);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      lk_progress_relay_post (j->relay, text, k * PROGRESS_SCALE, n * PROGRESS_SCALE);
      m = msg_new (j, cancellable, MSG_POINT);
      m->index = order[k];
      if (!embed_point (j, p, &progress, &m->error, cancellable, error))
        {
          msg_free (m);
          return FALSE;
        }
      if (m->error == NULL)
        {
          j->n_embedded += !stored;
          if (!measure (j, p->source, labels, m->values, &m->error, cancellable, error))
            {
              msg_free (m);
              return FALSE;
            }
        }
      post (j, m);
    }
  return TRUE;
}

/* The sources whose rows are stored for these images: listed in the
 * worker, not taken from the search service, whose list may not have
 * caught up with the last job's embeddings yet. */
static GStrv
stored_sources (LkCollection *collection)
{
  g_autoptr(GPtrArray) sources = lk_embedding_list_sources (collection);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; i < sources->len; i++)
    {
      const LkEmbeddingSource *s = sources->pdata[i];
      if (s->stored && !s->stale)
        g_strv_builder_add (b, s->name);
    }
  return g_strv_builder_end (b);
}

static void
measure_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *j = task_data;
  g_autoptr(GPtrArray) points = NULL;
  g_autofree char *labels = NULL;
  g_autoptr(GStrvBuilder) series = g_strv_builder_new ();
  GError *error = NULL;
  Msg *m;

  points = plan_points (j, &error);
  if (points == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  labels = labels_path (j->collection);
  j->stored = stored_sources (j->collection);
  /* The names the table's columns use. */
  g_strv_builder_add (series, "class-level");
  g_strv_builder_add (series, "in-class");
  if (labels != NULL)
    g_strv_builder_add (series, "labelled");
  m = msg_new (j, cancellable, MSG_PLAN);
  m->points = g_ptr_array_ref (points);
  m->series = g_strv_builder_end (series);
  post (j, m);

  lk_progress_relay_post (j->relay, _("Measuring golden features…"), 0, PROGRESS_SCALE);
  m = msg_new (j, cancellable, MSG_BASELINE);
  if (!measure (j, "golden", labels, m->values, &m->error, cancellable, &error))
    {
      msg_free (m);
      g_task_return_error (task, error);
      return;
    }
  post (j, m);
  if (!measure_points (j, points, labels, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
apply_plan (LkEvalCheckpoints *self, Msg *m)
{
  GPtrArray *points = m->points;

  clear_points (self);
  self->n_series = MIN (g_strv_length (m->series), MAX_SERIES);
  for (guint s = 0; s < self->n_series; s++)
    self->series[s] = g_strdup (m->series[s]);
  for (guint i = 0; i < points->len; i++)
    {
      const Point *p = points->pdata[i];
      double nan = NAN;

      g_ptr_array_add (self->sources, g_strdup (p->source));
      g_ptr_array_add (self->names, g_strdup (p->name));
      g_array_append_val (self->steps, p->step);
      for (guint s = 0; s < self->n_series; s++)
        g_array_append_val (self->values, nan);
      if (p->final)
        self->final_point = (int) i;
    }
}

static gboolean
on_msg (gpointer data)
{
  Msg *m = data;
  g_autoptr(LkEvalCheckpoints) self = g_weak_ref_get (&m->link->view);

  if (self == NULL || m->cancellable != self->cancellable || !self->running)
    return G_SOURCE_REMOVE;
  switch (m->kind)
    {
    case MSG_PLAN:
      apply_plan (self, m);
      break;
    case MSG_BASELINE:
      for (guint s = 0; s < self->n_series; s++)
        self->baseline[s] = m->values[s];
      break;
    case MSG_POINT:
      if (m->index >= self->steps->len)
        break;
      if (m->error != NULL)
        {
          self->n_failed++;
          if (self->point_error == NULL)
            self->point_error = g_strdup (m->error);
          break;
        }
      for (guint s = 0; s < self->n_series; s++)
        g_array_index (self->values, double, (gsize) m->index * self->n_series + s) = m->values[s];
      break;
    }
  show_points (self);
  return G_SOURCE_REMOVE;
}

static void
on_measured (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;
  g_autoptr(LkEvalCheckpoints) self = g_weak_ref_get (&link->view);
  g_autoptr(GError) error = NULL;
  GTask *task = G_TASK (result);
  Job *j = g_task_get_task_data (task);
  gboolean ok = g_task_propagate_boolean (task, &error);

  link_unref (link);
  if (self == NULL || g_task_get_cancellable (task) != self->cancellable)
    return;
  /* The messages are idles posted before the task returned: they have
   * run. */
  self->running = FALSE;
  self->n_runs++;
  self->last_seconds = (g_get_monotonic_time () - self->started_at) / 1e6;
  self->n_embedded = j->n_embedded;
  self->stopped = !ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_pointer (&self->error, g_free);
  if (!ok && !self->stopped)
    self->error = g_strdup (error->message);
  if (self->stopped)
    g_clear_pointer (&self->measured, g_free);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  /* New embeddings are sources of every view: list them now rather
   * than when the folder monitor gets to it. */
  if (self->n_embedded > 0 && self->service != NULL)
    lk_search_service_refresh_sources (self->service);
  update_status (self);
  notify_busy (self);
  /* Something changed while it ran. */
  if (!self->stopped)
    follow_signature (self, FALSE);
}

static void
on_relay (const char *phase, guint done, guint total, gpointer user_data)
{
  LkEvalCheckpoints *self = user_data;

  if (!self->running)
    return;
  gtk_label_set_label (self->progress_label, phase);
  gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / total : 0);
}

static void
start (LkEvalCheckpoints *self)
{
  g_autoptr(GTask) task = NULL;
  Job *j;

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->collection == NULL || self->model == NULL)
    return;
  drop_job (self);

  j = g_new0 (Job, 1);
  j->collection = lk_collection_ref (self->collection);
  j->model = g_strdup (self->model);
  j->relay = lk_progress_relay_ref (self->relay);
  j->link = g_atomic_rc_box_new0 (Link);
  g_weak_ref_init (&j->link->view, self);
  j->context = g_main_context_ref_thread_default ();
  j->hook = self->hook;
  j->hook_data = self->hook_data;

  g_free (self->measured);
  self->measured = g_strdup (self->signature);
  self->running = TRUE;
  self->stopped = FALSE;
  self->showing_wait = FALSE;
  self->n_embedded = 0;
  self->started_at = g_get_monotonic_time ();
  g_clear_pointer (&self->error, g_free);
  gtk_label_set_label (self->progress_label, _("Listing the checkpoints…"));
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  task = g_task_new (NULL, self->cancellable, on_measured, link_ref (j->link));
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  lk_task_run_in_low_priority_thread (task, measure_thread);
  update_status (self);
  notify_busy (self);
}

static gboolean
refresh_timeout (gpointer data)
{
  LkEvalCheckpoints *self = data;

  self->refresh_source = 0;
  if (!self->running && self->hold == NULL)
    start (self);     /* (held: the release starts it) */
  update_status (self);
  notify_busy (self);
  return G_SOURCE_REMOVE;
}

static void
schedule (LkEvalCheckpoints *self, guint delay_ms)
{
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  self->refresh_source = g_timeout_add (delay_ms, refresh_timeout, self);
  update_status (self);
  notify_busy (self);
}

/* Following the session -------------------------------------------------------------------- */

/* Listing the models reads folders: only while the part is shown (it
 * lists them again when it is mapped). */
static void
on_models_may_have_changed (LkEvalCheckpoints *self)
{
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    refresh_models (self, FALSE);
}

/* The session's training wrote a checkpoint of the model shown: a new
 * point. (Reports come 20 times a second; a checkpoint every few
 * minutes.) */
static void
on_training_progress (LkEvalCheckpoints *self)
{
  guint64 step = lk_training_get_progress (self->training)->checkpoint_step;

  if (step == self->training_checkpoint)
    return;
  self->training_checkpoint = step;
  if (lk_training_get_collection (self->training) == self->collection &&
      g_strcmp0 (lk_training_get_name (self->training), self->model) == 0)
    on_models_may_have_changed (self);
}

static void
on_labels_changed (LkEvalCheckpoints *self)
{
  self->labels_changes++;
  on_models_may_have_changed (self);
}

static void
on_collection_changed (LkEvalCheckpoints *self)
{
  LkCollection *coll = self->session != NULL ? lk_session_get_collection (self->session) : NULL;

  drop_job (self);
  self->stopped = FALSE;
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_pointer (&self->collection, lk_collection_unref);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->measured, g_free);
  g_clear_pointer (&self->error, g_free);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  clear_points (self);
  show_points (self);
  if (coll != NULL)
    self->collection = lk_collection_ref (coll);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    refresh_models (self, TRUE);
  else
    gtk_stack_set_visible_child_name (self->stack, "empty");
}

void
lk_eval_checkpoints_set_session (LkEvalCheckpoints *self, LkSession *session)
{
  g_return_if_fail (LK_IS_EVAL_CHECKPOINTS (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  if (self->session == session)
    return;
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_signal_handlers_disconnect_by_data (self->training, self);
    }
  g_set_object (&self->session, session);
  g_clear_object (&self->service);
  g_clear_object (&self->training);
  if (session != NULL)
    {
      self->service = g_object_ref (lk_session_get_search_service (session));
      self->training = g_object_ref (lk_session_get_training (session));
      g_signal_connect_swapped (session, "notify::collection",
                                G_CALLBACK (on_collection_changed), self);
      g_signal_connect_swapped (self->service, "sources-changed",
                                G_CALLBACK (on_models_may_have_changed), self);
      g_signal_connect_swapped (self->service, "triplets-changed",
                                G_CALLBACK (on_labels_changed), self);
      g_signal_connect_swapped (self->training, "ended",
                                G_CALLBACK (on_models_may_have_changed), self);
      g_signal_connect_swapped (self->training, "progress",
                                G_CALLBACK (on_training_progress), self);
    }
  on_collection_changed (self);
}

void
lk_eval_checkpoints_set_model (LkEvalCheckpoints *self, const char *name)
{
  g_return_if_fail (LK_IS_EVAL_CHECKPOINTS (self));

  g_free (self->wanted);
  self->wanted = g_strdup (name);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    refresh_models (self, TRUE);
}

const char *
lk_eval_checkpoints_get_model (LkEvalCheckpoints *self)
{
  g_return_val_if_fail (LK_IS_EVAL_CHECKPOINTS (self), NULL);
  return self->model;
}

void
lk_eval_checkpoints_hold (LkEvalCheckpoints *self, const char *why)
{
  g_return_if_fail (LK_IS_EVAL_CHECKPOINTS (self));
  g_return_if_fail (why != NULL);

  if (g_strcmp0 (self->hold, why) == 0)
    return;
  g_free (self->hold);
  self->hold = g_strdup (why);
  update_status (self);
  notify_busy (self);
}

static gboolean
release_idle (gpointer data)
{
  LkEvalCheckpoints *self = data;

  self->release_source = 0;
  follow_signature (self, TRUE);
  update_status (self);
  notify_busy (self);
  return G_SOURCE_REMOVE;
}

void
lk_eval_checkpoints_release (LkEvalCheckpoints *self)
{
  g_return_if_fail (LK_IS_EVAL_CHECKPOINTS (self));

  if (self->hold == NULL)
    return;
  g_clear_pointer (&self->hold, g_free);
  /* At the default priority, as the workers' results: a default idle
   * waits behind every frame, and a window that keeps drawing (the
   * table's spinner, on a slow renderer) would keep the part waiting. */
  if (self->release_source == 0)
    self->release_source = g_idle_add_full (G_PRIORITY_DEFAULT, release_idle, self, NULL);
  update_status (self);
  notify_busy (self);
}

/* Actions -------------------------------------------------------------------------------- */

static void
measure_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkEvalCheckpoints *self = LK_EVAL_CHECKPOINTS (widget);

  refresh_models (self, TRUE);
  if (!self->running || g_strcmp0 (self->signature, self->measured) != 0)
    start (self);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkEvalCheckpoints *self = LK_EVAL_CHECKPOINTS (widget);

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->running)
    g_cancellable_cancel (self->cancellable);
  else if (waiting (self))
    {
      /* Not to start when the hold ends: stopped, as a job cancelled
       * before its first point. */
      self->stopped = TRUE;
      g_clear_pointer (&self->measured, g_free);
    }
  update_status (self);
  notify_busy (self);
}

/* Object --------------------------------------------------------------------------------- */

static void
lk_eval_checkpoints_map (GtkWidget *widget)
{
  LkEvalCheckpoints *self = LK_EVAL_CHECKPOINTS (widget);

  GTK_WIDGET_CLASS (lk_eval_checkpoints_parent_class)->map (widget);
  /* Measuring is for when someone looks. */
  refresh_models (self, TRUE);
}

static void
lk_eval_checkpoints_dispose (GObject *object)
{
  LkEvalCheckpoints *self = LK_EVAL_CHECKPOINTS (object);

  lk_eval_checkpoints_set_session (self, NULL);
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->release_source, g_source_remove);
  if (self->relay != NULL)
    lk_progress_relay_close (self->relay);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_EVAL_CHECKPOINTS);
  G_OBJECT_CLASS (lk_eval_checkpoints_parent_class)->dispose (object);
}

static void
lk_eval_checkpoints_finalize (GObject *object)
{
  LkEvalCheckpoints *self = LK_EVAL_CHECKPOINTS (object);

  clear_points (self);
  g_ptr_array_unref (self->sources);
  g_ptr_array_unref (self->names);
  g_array_unref (self->steps);
  g_array_unref (self->values);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->model_names);
  g_clear_pointer (&self->relay, lk_progress_relay_unref);
  g_free (self->model);
  g_free (self->wanted);
  g_free (self->signature);
  g_free (self->measured);
  g_free (self->error);
  g_free (self->hold);
  G_OBJECT_CLASS (lk_eval_checkpoints_parent_class)->finalize (object);
}

static void
lk_eval_checkpoints_get_property (GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  LkEvalCheckpoints *self = LK_EVAL_CHECKPOINTS (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, lk_eval_checkpoints_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_eval_checkpoints_class_init (LkEvalCheckpointsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_eval_checkpoints_dispose;
  object_class->finalize = lk_eval_checkpoints_finalize;
  object_class->get_property = lk_eval_checkpoints_get_property;
  widget_class->map = lk_eval_checkpoints_map;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_CHECKPOINT_PLOT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-eval-checkpoints.ui");
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, box);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, model_dropdown);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, progress_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, status_label);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, stack);
  gtk_widget_class_bind_template_child (widget_class, LkEvalCheckpoints, plot);

  gtk_widget_class_install_action (widget_class, "checkpoints.measure", NULL, measure_action);
  gtk_widget_class_install_action (widget_class, "checkpoints.cancel", NULL, cancel_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "evalcheckpoints");
}

static void
lk_eval_checkpoints_init (LkEvalCheckpoints *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->model_names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->model_dropdown, G_LIST_MODEL (self->model_names));
  g_signal_connect_swapped (self->model_dropdown, "notify::selected", G_CALLBACK (on_selected),
                            self);
  self->sources = g_ptr_array_new_with_free_func (g_free);
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->steps = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->values = g_array_new (FALSE, FALSE, sizeof (double));
  self->cancellable = g_cancellable_new ();
  self->relay = lk_progress_relay_new (on_relay, self);
  clear_points (self);
  gtk_stack_set_visible_child_name (self->stack, "empty");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "checkpoints.measure", FALSE);
  update_status (self);
}

GtkWidget *
lk_eval_checkpoints_new (void)
{
  return g_object_new (LK_TYPE_EVAL_CHECKPOINTS, NULL);
}

/* Test API ------------------------------------------------------------------------------------ */

LkCheckpointPlot *
_lk_eval_checkpoints_get_plot (LkEvalCheckpoints *self)
{
  return self->plot;
}

GtkDropDown *
_lk_eval_checkpoints_get_dropdown (LkEvalCheckpoints *self)
{
  return self->model_dropdown;
}

const char *
_lk_eval_checkpoints_get_source (LkEvalCheckpoints *self, guint point)
{
  g_return_val_if_fail (point < self->sources->len, NULL);
  return self->sources->pdata[point];
}

const char *
_lk_eval_checkpoints_get_status (LkEvalCheckpoints *self)
{
  return gtk_label_get_label (self->status_label);
}

gboolean
_lk_eval_checkpoints_get_progress_shown (LkEvalCheckpoints *self)
{
  return gtk_revealer_get_reveal_child (self->progress_revealer);
}

guint
_lk_eval_checkpoints_get_n_runs (LkEvalCheckpoints *self)
{
  return self->n_runs;
}

guint
_lk_eval_checkpoints_get_n_embedded (LkEvalCheckpoints *self)
{
  return self->n_embedded;
}

gboolean
_lk_eval_checkpoints_get_stopped (LkEvalCheckpoints *self)
{
  return self->stopped;
}

gboolean
_lk_eval_checkpoints_get_waiting (LkEvalCheckpoints *self)
{
  return waiting (self);
}

const char *
_lk_eval_checkpoints_get_progress_text (LkEvalCheckpoints *self)
{
  return gtk_label_get_label (self->progress_label);
}

void
_lk_eval_checkpoints_set_hook (LkEvalCheckpoints *self, LkEvalCheckpointsHook hook, gpointer data)
{
  self->hook = hook;
  self->hook_data = data;
}
