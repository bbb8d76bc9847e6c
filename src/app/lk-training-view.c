/* lk-training-view.c — LkTrainingView: the form is read into an
 * LkTrainParams at Start; what runs is the session's LkTraining, whose
 * reports (~20 a second, on the main thread) update the figures and the
 * plot. The models and checkpoints are listed from the model store
 * (a directory listing, no model file read) when the collection changes,
 * a checkpoint is written and a run ends; embedding one runs in a thread
 * of its own, below the window's priority, and stores its rows where the
 * search service sees them appear. */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <glib/gstdio.h>
#include <math.h>

#include "embeddings.h"
#include "lk-loss-plot.h"
#include "lk-progress-relay.h"
#include "lk-session-binding.h"
#include "lk-training-view-private.h"
#include "lk-worker.h"
#include "model-store.h"

enum { SCHEDULE_MINUTES, SCHEDULE_STEPS };

static const char *const figure_names[] = {
  "step", "epoch", "loss", "violation", "triplets", "images", "lr", "elapsed", "eta", "checkpoint",
};
#define N_FIGURES G_N_ELEMENTS (figure_names)

static const char *const spin_names[] = {
  "minutes", "pretrain-steps", "ranking-steps", "pretrain-lr", "ranking-lr", "gap", "decay",
  "keep", "pretrain-batch", "ranking-batch", "checkpoint",
};

struct _LkTrainingView
{
  GtkWidget        parent_instance;

  /* Template widgets */
  GtkWidget       *paned;
  GtkEditable     *name_entry;
  GtkDropDown     *preset_dropdown;
  GtkDropDown     *ablation_dropdown;
  GtkDropDown     *schedule_dropdown;
  GtkWidget       *minutes_label;
  GtkSpinButton   *minutes_spin;
  GtkWidget       *pretrain_steps_label;
  GtkSpinButton   *pretrain_steps_spin;
  GtkWidget       *ranking_steps_label;
  GtkSpinButton   *ranking_steps_spin;
  GtkSpinButton   *pretrain_lr_spin;
  GtkSpinButton   *ranking_lr_spin;
  GtkSpinButton   *gap_spin;
  GtkSpinButton   *decay_spin;
  GtkSpinButton   *keep_spin;
  GtkSpinButton   *pretrain_batch_spin;
  GtkSpinButton   *ranking_batch_spin;
  GtkSpinButton   *checkpoint_spin;
  GtkLabel        *form_error_label;
  GtkWidget       *form;
  GtkWidget       *basic_grid;
  GtkWidget       *advanced_grid;
  GtkWidget       *start_button;
  GtkButton       *pause_button;
  GtkWidget       *stop_button;
  gboolean         refocus;      /* the focus left the form: see update_actions() */
  GtkDropDown     *model_dropdown;
  GtkWidget       *resume_model_button;
  GtkLabel        *models_label;
  GtkListBox      *checkpoint_list;
  GtkLabel        *title_label;
  GtkLabel        *state_label;
  GtkLabel        *message_label;
  GtkProgressBar  *progress_bar;
  GtkFlowBox      *figures_box;
  LkLossPlot      *plot;

  GtkLabel        *figures[N_FIGURES];
  GtkLabel        *captions[N_FIGURES];

  /* Owned */
  LkSession       *session;
  LkTraining      *training;
  LkSearchService *service;
  LkCollection    *collection;
  GtkStringList   *model_names;
  GPtrArray       *models;           /* LkModelInfo, by name */
  char            *listed_model;     /* whose checkpoints are listed */
  gboolean         name_edited;      /* the person typed a name: keep it */
  gboolean         setting_name;
  guint64          last_checkpoint;  /* of the reports, to list a new one */
  gboolean         continuing;       /* Continue pressed; its trainer not seen yet */
  LkPreset         form_preset;      /* what the form chose then */
  LkAblation       form_ablation;
  LkTrainParamsHook hook;
  gpointer         hook_data;

  /* Embedding a checkpoint */
  GCancellable    *embed_cancellable;
  char            *embed_source;     /* "model-NAME@STEP", or NULL */
  LkProgressRelay *embed_relay;
  GtkProgressBar  *embed_bar;        /* in its row, borrowed */
  char            *embed_error;
};

G_DEFINE_FINAL_TYPE (LkTrainingView, lk_training_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh_models (LkTrainingView *self);
static void update_actions (LkTrainingView *self);

static GtkSpinButton *
spin_by_name (LkTrainingView *self, const char *name)
{
  GtkSpinButton *spins[] = {
    self->minutes_spin, self->pretrain_steps_spin, self->ranking_steps_spin,
    self->pretrain_lr_spin, self->ranking_lr_spin, self->gap_spin, self->decay_spin,
    self->keep_spin, self->pretrain_batch_spin, self->ranking_batch_spin, self->checkpoint_spin,
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (spins) == G_N_ELEMENTS (spin_names));
  for (guint i = 0; i < G_N_ELEMENTS (spin_names); i++)
    if (g_str_equal (name, spin_names[i]))
      return spins[i];
  return NULL;
}

static char *
format_duration (double s)
{
  guint t = (guint) MAX (0, round (s));

  if (s < 0)
    return g_strdup ("—");
  if (t >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", t / 3600, t / 60 % 60, t % 60);
  return g_strdup_printf ("%u:%02u", t / 60, t % 60);
}

/* The form ------------------------------------------------------------------------- */

static LkPreset
selected_preset (LkTrainingView *self)
{
  guint i = gtk_drop_down_get_selected (self->preset_dropdown);
  return i < LK_N_PRESETS ? (LkPreset) i : LK_PRESET_TINY;
}

static void
fill_form (LkTrainingView *self, const LkTrainParams *p)
{
  gtk_drop_down_set_selected (self->ablation_dropdown, p->ablation);
  gtk_spin_button_set_value (self->minutes_spin, p->budget_seconds / 60);
  gtk_spin_button_set_value (self->pretrain_lr_spin, p->pretrain_lr);
  gtk_spin_button_set_value (self->ranking_lr_spin, p->ranking_lr);
  gtk_spin_button_set_value (self->gap_spin, p->gap);
  gtk_spin_button_set_value (self->decay_spin, p->weight_decay);
  gtk_spin_button_set_value (self->keep_spin, p->keep);
  gtk_spin_button_set_value (self->pretrain_batch_spin, p->pretrain_batch);
  gtk_spin_button_set_value (self->ranking_batch_spin, p->ranking_batch);
  gtk_spin_button_set_value (self->checkpoint_spin, p->checkpoint_minutes);
}

void
_lk_training_view_read_form (LkTrainingView *self, LkTrainParams *p)
{
  guint ablation = gtk_drop_down_get_selected (self->ablation_dropdown);

  lk_train_params_init (p, selected_preset (self));
  p->ablation = ablation < LK_N_ABLATIONS ? (LkAblation) ablation : LK_ABLATION_DEEP_RANKING;
  if (gtk_drop_down_get_selected (self->schedule_dropdown) == SCHEDULE_STEPS)
    {
      p->pretrain_steps = (guint64) gtk_spin_button_get_value (self->pretrain_steps_spin);
      p->ranking_steps = lk_ablation_has_ranking (p->ablation)
                         ? (guint64) gtk_spin_button_get_value (self->ranking_steps_spin) : 0;
      p->budget_seconds = 0;
    }
  else
    p->budget_seconds = gtk_spin_button_get_value (self->minutes_spin) * 60;
  if (!lk_ablation_has_ranking (p->ablation))
    p->pretrain_share = 1;
  p->pretrain_lr = (float) gtk_spin_button_get_value (self->pretrain_lr_spin);
  p->ranking_lr = (float) gtk_spin_button_get_value (self->ranking_lr_spin);
  p->gap = (float) gtk_spin_button_get_value (self->gap_spin);
  p->weight_decay = (float) gtk_spin_button_get_value (self->decay_spin);
  p->keep = (float) gtk_spin_button_get_value (self->keep_spin);
  p->pretrain_batch = (guint) gtk_spin_button_get_value (self->pretrain_batch_spin);
  p->ranking_batch = (guint) gtk_spin_button_get_value (self->ranking_batch_spin);
  p->checkpoint_minutes = gtk_spin_button_get_value (self->checkpoint_spin);
}

static void
update_schedule_rows (LkTrainingView *self)
{
  gboolean steps = gtk_drop_down_get_selected (self->schedule_dropdown) == SCHEDULE_STEPS;
  guint ablation = gtk_drop_down_get_selected (self->ablation_dropdown);
  gboolean ranking = ablation >= LK_N_ABLATIONS || lk_ablation_has_ranking ((LkAblation) ablation);

  gtk_widget_set_visible (self->minutes_label, !steps);
  gtk_widget_set_visible (GTK_WIDGET (self->minutes_spin), !steps);
  gtk_widget_set_visible (self->pretrain_steps_label, steps);
  gtk_widget_set_visible (GTK_WIDGET (self->pretrain_steps_spin), steps);
  gtk_widget_set_visible (self->ranking_steps_label, steps);
  gtk_widget_set_visible (GTK_WIDGET (self->ranking_steps_spin), steps);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ranking_steps_spin), ranking);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ranking_lr_spin), ranking);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ranking_batch_spin), ranking);
  gtk_widget_set_sensitive (GTK_WIDGET (self->gap_spin), ranking);
}

/* A name not in use, from the preset's, unless the person chose one. */
static void
suggest_name (LkTrainingView *self, gboolean force)
{
  g_autofree char *name = NULL;

  if (self->collection == NULL || (self->name_edited && !force))
    return;
  name = lk_model_store_new_name (self->collection, lk_preset_name (selected_preset (self)));
  self->setting_name = TRUE;
  gtk_editable_set_text (self->name_entry, name);
  self->setting_name = FALSE;
  self->name_edited = FALSE;
}

static void
on_name_changed (LkTrainingView *self)
{
  /* The person editing the name answers the error shown; a name the view
   * proposes (after a failed run, say) leaves it. */
  if (self->setting_name)
    return;
  self->name_edited = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->form_error_label), FALSE);
}

static void
on_preset_changed (LkTrainingView *self)
{
  LkTrainParams p;

  lk_train_params_init (&p, selected_preset (self));
  p.ablation = MIN (gtk_drop_down_get_selected (self->ablation_dropdown), LK_N_ABLATIONS - 1);
  fill_form (self, &p);
  suggest_name (self, FALSE);
}

static void
show_form_error (LkTrainingView *self, const char *text)
{
  gtk_label_set_label (self->form_error_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->form_error_label), text != NULL);
}

/* The run ----------------------------------------------------------------------------- */

static gboolean
run_is_here (LkTrainingView *self)
{
  return lk_training_get_collection (self->training) != NULL &&
         (lk_training_get_active (self->training) ||
          lk_training_get_collection (self->training) == self->collection);
}

static const char *
state_text (LkTrainingView *self)
{
  const LkTrainProgress *p = lk_training_get_progress (self->training);

  if (!run_is_here (self))
    return _("Not training");
  switch (p->state)
    {
    case LK_TRAINER_IDLE:
    case LK_TRAINER_RUNNING: return p->stage == LK_TRAIN_STAGE_PREPARE ? _("Preparing")
                                  : p->stage == LK_TRAIN_STAGE_EMBED ? _("Embedding")
                                  : _("Training");
    case LK_TRAINER_PAUSED: return _("Paused");
    case LK_TRAINER_STOPPING: return _("Stopping…");
    case LK_TRAINER_STOPPED: return _("Stopped");
    case LK_TRAINER_FINISHED: return _("Finished");
    case LK_TRAINER_FAILED: return _("Failed");
    default: return "";
    }
}

/* What the last report said, or, once the run ended, how it ended. */
static const char *
final_message (LkTrainingView *self)
{
  const LkTrainProgress *p = lk_training_get_progress (self->training);
  static char text[256];

  switch (lk_training_get_active (self->training) ? LK_TRAINER_RUNNING : p->state)
    {
    case LK_TRAINER_STOPPED:
      /* TRANSLATORS: a run ended before its schedule: its step, then what to do */
      g_snprintf (text, sizeof text, _("Stopped at step %'" PRIu64 " of %'"
                                       PRIu64 ", with a checkpoint: Continue it "
                                       "below, or Embed it to query with it."),
                  p->step, p->total_steps);
      return text;
    case LK_TRAINER_FINISHED:
      return _("Finished: the collection is embedded with the model, which is a source in "
               "Query, Label and Evaluate now.");
    default:
      return p->message;
    }
}

static void
set_figure (LkTrainingView *self, guint i, char *text)
{
  gtk_label_set_label (self->figures[i], text != NULL ? text : "—");
  g_free (text);
}

/* The stage of the last step the figures show. */
static LkTrainStage
last_stage (LkTrainingView *self)
{
  const LkTrainProgress *p = lk_training_get_progress (self->training);
  GArray *history = lk_training_get_history (self->training);

  if (p->stage == LK_TRAIN_STAGE_PRETRAIN || p->stage == LK_TRAIN_STAGE_RANKING
      || history == NULL || history->len == 0)
    return p->stage;
  return (LkTrainStage) g_array_index (history, LkTrainPoint, history->len - 1).stage;
}

static void
show_progress (LkTrainingView *self)
{
  const LkTrainProgress *p = lk_training_get_progress (self->training);
  gboolean here = run_is_here (self);
  gboolean ranking = p->stage == LK_TRAIN_STAGE_RANKING;
  gboolean training = p->stage == LK_TRAIN_STAGE_PRETRAIN || ranking;
  g_autofree char *title = NULL, *bar = NULL;

  if (here)
    /* TRANSLATORS: the Training view's title: the model, its collection */
    title = g_strdup_printf (_("“%s” on %s"), lk_training_get_name (self->training),
                             lk_collection_get_name (lk_training_get_collection (self->training)));
  else if (self->collection != NULL)
    /* TRANSLATORS: the Training view's title before anything trains */
    title = g_strdup_printf (_("Train a model on %s"), lk_collection_get_name (self->collection));
  gtk_label_set_label (self->title_label, title);
  gtk_label_set_label (self->state_label, state_text (self));
  gtk_label_set_label (self->message_label,
                       here ? final_message (self)
                            : _("Choose a preset and a schedule, then Start. The model is "
                                "pre-trained as a classifier on the categories, then trained "
                                "on triplets from the online sampler (watch them in Buffers)."));
  /* Pre-training's "violation" is the share of its batch misclassified
   * (the figure of its last step, also once a run stopped there). */
  gtk_label_set_label (self->captions[3], here && last_stage (self) == LK_TRAIN_STAGE_PRETRAIN
                                          ? _("Misclassified") : _("Violation"));
  if (!here)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      gtk_progress_bar_set_text (self->progress_bar, "");
      for (guint i = 0; i < N_FIGURES; i++)
        set_figure (self, i, NULL);
      return;
    }
  if (p->total_steps > 0 && (training || !lk_training_get_active (self->training)))
    {
      gtk_progress_bar_set_fraction (self->progress_bar, (double) p->step / p->total_steps);
      /* TRANSLATORS: progress of a training: stage, its step of its steps, all steps */
      if (training)
        bar = g_strdup_printf (_("%s: step %'" PRIu64 " of %'" PRIu64
                                 " (%'" PRIu64 " of %'" PRIu64 " in all)"),
                               lk_train_stage_label (p->stage), p->stage_step, p->stage_steps,
                               p->step, p->total_steps);
      else
        /* TRANSLATORS: progress of an ended run: steps done, planned */
        bar = g_strdup_printf (_("Step %'" PRIu64 " of %'" PRIu64),
                               p->step, p->total_steps);
    }
  else if (p->total > 0)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, (double) p->done / p->total);
      bar = g_strdup_printf ("%s: %'u / %'u", lk_train_stage_label (p->stage), p->done, p->total);
    }
  else
    {
      gtk_progress_bar_set_fraction (self->progress_bar,
                                     p->state == LK_TRAINER_FINISHED ? 1 : 0);
      bar = g_strdup (lk_train_stage_label (p->stage));
    }
  gtk_progress_bar_set_text (self->progress_bar, bar);

  set_figure (self, 0, g_strdup_printf ("%'" G_GUINT64_FORMAT, p->step));
  set_figure (self, 1, training ? g_strdup_printf ("%.2f", p->epoch) : NULL);
  set_figure (self, 2, p->step > 0 ? g_strdup_printf ("%.4f", p->loss_smooth) : NULL);
  set_figure (self, 3, p->step > 0 ? g_strdup_printf ("%.1f%%", 100 * p->violation) : NULL);
  set_figure (self, 4, ranking && p->triplets_per_s > 0
                       ? g_strdup_printf ("%.0f", p->triplets_per_s) : NULL);
  set_figure (self, 5, training && p->images_per_s > 0
                       ? g_strdup_printf ("%.0f", p->images_per_s) : NULL);
  set_figure (self, 6, training ? g_strdup_printf ("%.2g", p->lr) : NULL);
  set_figure (self, 7, format_duration (p->elapsed_s));
  set_figure (self, 8, lk_training_get_active (self->training) ? format_duration (p->eta_s) : NULL);
  set_figure (self, 9, p->checkpoint_step > 0
                       ? g_strdup_printf ("%'" G_GUINT64_FORMAT, p->checkpoint_step) : NULL);
}

/* A model continues with its own settings, whatever the form says: the
 * form is set to them, and the person told when they differ from what it
 * chose, naming the checkpoint (and what resuming set aside). */
static void
show_continued (LkTrainingView *self, LkTrainer *trainer)
{
  const LkTrainParams *params = lk_trainer_get_params (trainer);
  const LkTrainProgress *p = lk_training_get_progress (self->training);
  g_autoptr(GString) text = g_string_new (lk_training_get_notice (self->training));

  if (params->preset != self->form_preset || params->ablation != self->form_ablation)
    {
      g_autofree char *ckpt = lk_model_checkpoint_path (lk_trainer_get_dir (trainer),
                                                        p->checkpoint_step);
      if (text->len > 0)
        g_string_append_c (text, '\n');
      /* TRANSLATORS: Continue on a model of other settings than the form's:
       * the model, its checkpoint, its preset and ablation, the form's */
      g_string_append_printf (text, _("“%s” continues from %s as the %s, %s model it is, "
                                      "not %s, %s as chosen above."),
                              lk_trainer_get_name (trainer), ckpt,
                              lk_preset_label (params->preset),
                              lk_ablation_label (params->ablation),
                              lk_preset_label (self->form_preset),
                              lk_ablation_label (self->form_ablation));
    }
  gtk_drop_down_set_selected (self->preset_dropdown, params->preset);
  fill_form (self, params);
  show_form_error (self, text->len > 0 ? text->str : NULL);
}

static void
on_progress (LkTrainingView *self)
{
  const LkTrainProgress *p = lk_training_get_progress (self->training);
  LkTrainer *trainer = lk_training_get_trainer (self->training);

  if (self->continuing && trainer != NULL)
    {
      self->continuing = FALSE;
      show_continued (self, trainer);
    }
  show_progress (self);
  if (run_is_here (self))
    lk_loss_plot_changed (self->plot);
  /* A new checkpoint is a new row, and a model folder appears with the
   * first one. */
  if (p->checkpoint_step != self->last_checkpoint)
    {
      self->last_checkpoint = p->checkpoint_step;
      refresh_models (self);
    }
  update_actions (self);
}

static void
show_history (LkTrainingView *self)
{
  lk_loss_plot_set_history (self->plot, run_is_here (self)
                                        ? lk_training_get_history (self->training) : NULL);
}

static void
on_active_changed (LkTrainingView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  show_history (self);
  show_progress (self);
  update_actions (self);
}

static void
on_ended (LkTrainingView *self, int state)
{
  const GError *error = lk_training_get_error (self->training);

  self->continuing = FALSE;
  /* The exact history replaced the one built from the reports. */
  show_history (self);
  show_progress (self);
  if (error != NULL && state == LK_TRAINER_FAILED)
    show_form_error (self, error->message);
  suggest_name (self, FALSE);
  refresh_models (self);
  /* A finished model's embedding is in the collection's folder now. */
  if (self->service != NULL)
    lk_search_service_refresh_sources (self->service);
  update_actions (self);
}

/* Actions ------------------------------------------------------------------------------- */

static void
start_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkTrainingView *self = LK_TRAINING_VIEW (widget);
  const char *name = gtk_editable_get_text (self->name_entry);
  g_autoptr(GError) error = NULL;
  LkTrainParams p;

  if (self->collection == NULL || lk_training_get_active (self->training))
    return;
  if (!lk_model_name_is_valid (name))
    {
      show_form_error (self, _("A model’s name is 1 to 48 letters, digits, “.”, “_” or “-”, "
                               "not starting with “.” or “-”."));
      return;
    }
  /* A leftover folder without weights (a run that failed before its
   * first checkpoint) is no model: the name is free. */
  if (lk_model_store_has_model (self->collection, name))
    {
      g_autofree char *text = g_strdup_printf (_("There is a model named “%s” already: choose "
                                                 "another name, or Continue it below."), name);
      show_form_error (self, text);
      return;
    }
  _lk_training_view_read_form (self, &p);
  if (self->hook != NULL)
    self->hook (&p, self->hook_data);
  if (!lk_train_params_check (&p, &error) ||
      !lk_training_start (self->training, self->collection, name, &p, &error))
    {
      show_form_error (self, error->message);
      return;
    }
  show_form_error (self, NULL);
  self->last_checkpoint = 0;
  self->continuing = FALSE;
  g_free (self->listed_model);
  self->listed_model = g_strdup (name);
  show_history (self);
  update_actions (self);
}

static void
pause_resume_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkTrainingView *self = LK_TRAINING_VIEW (widget);

  if (!lk_training_get_active (self->training))
    return;
  if (lk_training_get_progress (self->training)->state == LK_TRAINER_PAUSED)
    lk_training_resume (self->training);
  else
    lk_training_pause (self->training);
}

static void
stop_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  lk_training_stop (LK_TRAINING_VIEW (widget)->training);
}

static const LkModelInfo *
listed_info (LkTrainingView *self)
{
  for (guint i = 0; self->models != NULL && i < self->models->len; i++)
    {
      const LkModelInfo *info = self->models->pdata[i];
      if (g_strcmp0 (info->name, self->listed_model) == 0)
        return info;
    }
  return NULL;
}

static void
resume_model_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkTrainingView *self = LK_TRAINING_VIEW (widget);
  const LkModelInfo *info = listed_info (self);
  g_autoptr(GError) error = NULL;

  if (info == NULL || self->collection == NULL || info->checkpoints->len == 0)
    return;
  if (!lk_training_resume_model (self->training, self->collection, info->name, &error))
    {
      show_form_error (self, error->message);
      return;
    }
  show_form_error (self, NULL);
  self->last_checkpoint = 0;
  self->continuing = TRUE;
  self->form_preset = selected_preset (self);
  self->form_ablation = MIN (gtk_drop_down_get_selected (self->ablation_dropdown),
                             LK_N_ABLATIONS - 1);
  show_history (self);
  update_actions (self);
}

/* training.minutes(2.0): a time budget of that many minutes (the
 * screenshot tool sets one). */
static void
minutes_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkTrainingView *self = LK_TRAINING_VIEW (widget);

  gtk_drop_down_set_selected (self->schedule_dropdown, SCHEDULE_MINUTES);
  gtk_spin_button_set_value (self->minutes_spin, g_variant_get_double (parameter));
}

static void
defaults_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  on_preset_changed (LK_TRAINING_VIEW (widget));
}

static void
update_actions (LkTrainingView *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  gboolean active = lk_training_get_active (self->training);
  LkTrainerState state = lk_training_get_progress (self->training)->state;
  const LkModelInfo *info = listed_info (self);
  gboolean paused = active && state == LK_TRAINER_PAUSED;
  /* A finished model has its embedding: its schedule is complete. */
  g_autofree char *source = info != NULL ? lk_model_source_name (info->name, 0) : NULL;
  const LkEmbeddingSource *done = source != NULL && self->service != NULL
                                  ? lk_search_service_find_source (self->service, source) : NULL;

  GtkRoot *root = gtk_widget_get_root (w);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  gboolean focus_in_form = focus != NULL && gtk_widget_is_ancestor (focus, self->form);

  gtk_widget_action_set_enabled (w, "training.start", self->collection != NULL && !active);
  gtk_widget_action_set_enabled (w, "training.pause-resume",
                                 active && lk_training_get_trainer (self->training) != NULL &&
                                 (state == LK_TRAINER_RUNNING || state == LK_TRAINER_PAUSED));
  gtk_widget_action_set_enabled (w, "training.stop", active && state != LK_TRAINER_STOPPING);
  gtk_widget_action_set_enabled (w, "training.resume-model",
                                 !active && self->collection != NULL && info != NULL &&
                                 info->checkpoints->len > 0 && (done == NULL || !done->stored));
  gtk_button_set_label (self->pause_button, paused ? _("_Resume") : _("_Pause"));
  /* The settings are those of the next model: while one trains they
   * cannot change, as Continue sets them to the model it continues. An
   * entry among them gives up the focus first (made insensitive with it,
   * it never gets its focus-out). */
  if (active && focus != NULL && (gtk_widget_is_ancestor (focus, self->basic_grid) ||
                                  gtk_widget_is_ancestor (focus, self->advanced_grid)))
    {
      gtk_root_set_focus (root, NULL);
      self->refocus = TRUE;
    }
  gtk_widget_set_sensitive (self->basic_grid, !active);
  gtk_widget_set_sensitive (self->advanced_grid, !active);
  /* Where that, or Start or Stop turning insensitive, took the focus
   * from the form, it goes to the button that acts next (Pause while
   * training, Start after), not nowhere, where Space does nothing; Pause
   * only once the run is past its preparation. */
  if (focus_in_form && !gtk_widget_is_sensitive (focus))
    self->refocus = TRUE;
  if (self->refocus)
    {
      GtkWidget *now = root != NULL ? gtk_root_get_focus (root) : NULL;
      GtkWidget *next = gtk_widget_is_sensitive (GTK_WIDGET (self->pause_button))
                        ? GTK_WIDGET (self->pause_button)
                        : gtk_widget_is_sensitive (self->start_button) ? self->start_button : NULL;

      if (now != NULL && gtk_widget_is_sensitive (now))
        self->refocus = FALSE;      /* the person put it somewhere */
      else if (next != NULL)
        self->refocus = !gtk_widget_grab_focus (next);
    }
}

/* Models and checkpoints ------------------------------------------------------------------ */

typedef struct {
  LkCollection    *collection;
  char            *source;
  LkProgressRelay *relay;
} EmbedJob;

static void
embed_job_free (EmbedJob *j)
{
  lk_collection_unref (j->collection);
  g_free (j->source);
  lk_progress_relay_unref (j->relay);
  g_free (j);
}

static void
on_embed_progress (guint done, guint total, gpointer relay)
{
  lk_progress_relay_post (relay, NULL, done, total);
}

static void
embed_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EmbedJob *j = task_data;
  g_autoptr(LkEmbedder) embedder = NULL;
  g_autoptr(LkEmbedding) rows = NULL;
  GError *error = NULL;

  lk_model_register_embedder ();
  embedder = lk_embedder_new_for_source (j->collection, j->source, &error);
  if (embedder != NULL)
    rows = lk_embedding_load_or_compute (embedder, j->collection, on_embed_progress, j->relay,
                                         cancellable, &error);
  if (rows == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_embedded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GWeakRef *ref = user_data;
  g_autoptr(LkTrainingView) self = g_weak_ref_get (ref);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  g_weak_ref_clear (ref);
  g_free (ref);
  if (self == NULL || g_task_get_cancellable (G_TASK (result)) != self->embed_cancellable)
    return;
  g_clear_pointer (&self->embed_source, g_free);
  g_clear_object (&self->embed_cancellable);
  g_clear_pointer (&self->embed_error, g_free);
  if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    self->embed_error = g_strdup (error->message);
  if (self->service != NULL)
    lk_search_service_refresh_sources (self->service);
  refresh_models (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
on_embed_relay (const char *phase, guint done, guint total, gpointer user_data)
{
  LkTrainingView *self = user_data;

  if (self->embed_bar != NULL && total > 0)
    gtk_progress_bar_set_fraction (self->embed_bar, (double) done / total);
}

static void
embed (LkTrainingView *self, const char *source)
{
  g_autoptr(GTask) task = NULL;
  GWeakRef *ref = g_new0 (GWeakRef, 1);
  EmbedJob *j = g_new0 (EmbedJob, 1);

  if (self->embed_cancellable != NULL)
    g_cancellable_cancel (self->embed_cancellable);
  g_clear_object (&self->embed_cancellable);
  self->embed_cancellable = g_cancellable_new ();
  g_free (self->embed_source);
  self->embed_source = g_strdup (source);
  g_clear_pointer (&self->embed_error, g_free);
  j->collection = lk_collection_ref (self->collection);
  j->source = g_strdup (source);
  j->relay = lk_progress_relay_ref (self->embed_relay);
  g_weak_ref_init (ref, self);
  task = g_task_new (NULL, self->embed_cancellable, on_embedded, ref);
  g_task_set_task_data (task, j, (GDestroyNotify) embed_job_free);
  lk_task_run_in_low_priority_thread (task, embed_thread);
  refresh_models (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
on_embed_clicked (GtkButton *button, LkTrainingView *self)
{
  embed (self, g_object_get_data (G_OBJECT (button), "source"));
}

static void
on_cancel_embed_clicked (GtkButton *button, LkTrainingView *self)
{
  if (self->embed_cancellable != NULL)
    g_cancellable_cancel (self->embed_cancellable);
}

static GtkWidget *
checkpoint_row (LkTrainingView *self, const char *model, guint64 step, gint64 mtime)
{
  g_autofree char *source = lk_model_source_name (model, step);
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (mtime);
  g_autofree char *when = time != NULL ? g_date_time_format (time, "%x %X") : g_strdup ("");
  g_autofree char *title = NULL;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *label, *sub;
  const LkEmbeddingSource *listed = self->service != NULL
                                    ? lk_search_service_find_source (self->service, source) : NULL;

  if (step > 0)
    /* TRANSLATORS: a checkpoint in the Training view's list */
    title = g_strdup_printf (_("Checkpoint at step %'" PRIu64), step);
  else
    title = g_strdup (_("Latest weights"));
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  sub = gtk_label_new (when);
  gtk_label_set_xalign (GTK_LABEL (sub), 0);
  gtk_widget_add_css_class (sub, "dim-label");
  gtk_widget_add_css_class (sub, "caption");
  gtk_box_append (GTK_BOX (labels), label);
  gtk_box_append (GTK_BOX (labels), sub);
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_box_append (GTK_BOX (box), labels);

  if (g_strcmp0 (self->embed_source, source) == 0)
    {
      GtkWidget *bar = gtk_progress_bar_new ();
      GtkWidget *cancel = gtk_button_new_from_icon_name ("process-stop-symbolic");

      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      gtk_widget_set_size_request (bar, 60, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Embedding the collection"), -1);
      self->embed_bar = GTK_PROGRESS_BAR (bar);
      gtk_widget_set_tooltip_text (cancel, _("Stop embedding"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (cancel), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Stop embedding"), -1);
      gtk_widget_set_valign (cancel, GTK_ALIGN_CENTER);
      g_signal_connect (cancel, "clicked", G_CALLBACK (on_cancel_embed_clicked), self);
      gtk_box_append (GTK_BOX (box), bar);
      gtk_box_append (GTK_BOX (box), cancel);
    }
  else if (listed != NULL && listed->stored && !listed->stale)
    {
      GtkWidget *ready = gtk_label_new (_("In Query"));
      gtk_widget_add_css_class (ready, "dim-label");
      gtk_widget_set_tooltip_text (ready, _("Its embedding of the collection is stored: choose "
                                            "it as a source in Query, Label and Evaluate."));
      gtk_box_append (GTK_BOX (box), ready);
    }
  else
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("_Embed"));
      g_autofree char *name = g_strdup_printf (_("Embed the collection with %s"), title);

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, _("Embed every image with these weights, so Query can "
                                             "compare them with the baselines or another "
                                             "checkpoint"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      name, -1);
      g_object_set_data_full (G_OBJECT (button), "source", g_steal_pointer (&source), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (on_embed_clicked), self);
      gtk_box_append (GTK_BOX (box), button);
    }
  g_object_set_data_full (G_OBJECT (box), "step", g_memdup2 (&step, sizeof step), g_free);
  return box;
}

static void
list_checkpoints (LkTrainingView *self)
{
  const LkModelInfo *info = listed_info (self);
  GtkWidget *child;
  g_autofree char *text = NULL;

  self->embed_bar = NULL;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->checkpoint_list))) != NULL)
    gtk_list_box_remove (self->checkpoint_list, child);
  if (info == NULL)
    {
      gtk_label_set_label (self->models_label, self->models != NULL && self->models->len > 0
                           ? NULL : _("No model of this collection yet."));
      gtk_widget_set_visible (GTK_WIDGET (self->checkpoint_list), FALSE);
      return;
    }
  if (info->model_path != NULL)
    {
      GStatBuf st;
      gint64 mtime = g_stat (info->model_path, &st) == 0 ? (gint64) st.st_mtime : 0;
      gtk_list_box_append (self->checkpoint_list, checkpoint_row (self, info->name, 0, mtime));
    }
  for (guint i = info->checkpoints->len; i > 0; i--)
    {
      const LkCheckpointInfo *c = info->checkpoints->pdata[i - 1];
      gtk_list_box_append (self->checkpoint_list,
                           checkpoint_row (self, info->name, c->step, c->mtime));
    }
  if (self->embed_error != NULL)
    text = g_strdup_printf (_("Could not embed: %s"), self->embed_error);
  else if (info->checkpoints->len == 0 && info->model_path == NULL)
    text = g_strdup (_("No checkpoint yet."));
  gtk_label_set_label (self->models_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->checkpoint_list),
                          info->checkpoints->len > 0 || info->model_path != NULL);
}

static void
on_model_selected (LkTrainingView *self)
{
  guint i = gtk_drop_down_get_selected (self->model_dropdown);
  const char *name = i != GTK_INVALID_LIST_POSITION
                     ? gtk_string_list_get_string (self->model_names, i) : NULL;

  if (name == NULL || self->models == NULL)
    return;
  if (g_strcmp0 (name, self->listed_model) != 0)
    {
      g_free (self->listed_model);
      self->listed_model = g_strdup (name);
    }
  list_checkpoints (self);
  update_actions (self);
}

static void
refresh_models (LkTrainingView *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint selected = GTK_INVALID_LIST_POSITION;

  g_clear_pointer (&self->models, g_ptr_array_unref);
  if (self->collection != NULL)
    self->models = lk_model_store_list (self->collection);
  /* The model of this collection's run, else the one listed, else the last. */
  if (run_is_here (self) && lk_training_get_collection (self->training) == self->collection &&
      lk_training_get_active (self->training))
    {
      g_free (self->listed_model);
      self->listed_model = g_strdup (lk_training_get_name (self->training));
    }
  for (guint i = 0; self->models != NULL && i < self->models->len; i++)
    {
      const LkModelInfo *info = self->models->pdata[i];
      g_ptr_array_add (names, info->name);
      if (g_strcmp0 (info->name, self->listed_model) == 0)
        selected = i;
    }
  if (selected == GTK_INVALID_LIST_POSITION && names->len > 0)
    {
      selected = names->len - 1;
      g_free (self->listed_model);
      self->listed_model = g_strdup (names->pdata[selected]);
    }
  g_ptr_array_add (names, NULL);
  g_signal_handlers_block_by_func (self->model_dropdown, on_model_selected, self);
  gtk_string_list_splice (self->model_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->model_names)),
                          (const char *const *) names->pdata);
  gtk_drop_down_set_selected (self->model_dropdown, selected);
  g_signal_handlers_unblock_by_func (self->model_dropdown, on_model_selected, self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->model_dropdown), names->len > 1);
  list_checkpoints (self);
  update_actions (self);
}

/* Following the session ------------------------------------------------------------------- */

static void
on_collection_changed (LkTrainingView *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);

  g_clear_pointer (&self->collection, lk_collection_unref);
  if (self->embed_cancellable != NULL)
    g_cancellable_cancel (self->embed_cancellable);
  g_clear_pointer (&self->listed_model, g_free);
  if (coll != NULL)
    {
      self->collection = lk_collection_ref (coll);
      /* The built-in set is what tiny is for; photos get photo. */
      gtk_drop_down_set_selected (self->preset_dropdown, lk_collection_is_builtin (coll)
                                                         ? LK_PRESET_TINY : LK_PRESET_PHOTO);
      on_preset_changed (self);
      suggest_name (self, TRUE);
    }
  show_form_error (self, NULL);
  show_history (self);
  show_progress (self);
  refresh_models (self);
}

/* Object ------------------------------------------------------------------------------------ */

static void
lk_training_view_dispose (GObject *object)
{
  LkTrainingView *self = LK_TRAINING_VIEW (object);

  lk_training_view_set_session (self, NULL);
  if (self->embed_cancellable != NULL)
    g_cancellable_cancel (self->embed_cancellable);
  g_clear_object (&self->embed_cancellable);
  if (self->embed_relay != NULL)
    lk_progress_relay_close (self->embed_relay);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_TRAINING_VIEW);
  G_OBJECT_CLASS (lk_training_view_parent_class)->dispose (object);
}

static void
lk_training_view_finalize (GObject *object)
{
  LkTrainingView *self = LK_TRAINING_VIEW (object);

  g_clear_pointer (&self->embed_relay, lk_progress_relay_unref);
  g_clear_pointer (&self->models, g_ptr_array_unref);
  g_clear_object (&self->model_names);
  g_free (self->listed_model);
  g_free (self->embed_source);
  g_free (self->embed_error);
  G_OBJECT_CLASS (lk_training_view_parent_class)->finalize (object);
}

static void
lk_training_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkTrainingView *self = LK_TRAINING_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, lk_training_view_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_training_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  LkTrainingView *self = LK_TRAINING_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      lk_training_view_set_session (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_training_view_class_init (LkTrainingViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_training_view_dispose;
  object_class->finalize = lk_training_view_finalize;
  object_class->get_property = lk_training_view_get_property;
  object_class->set_property = lk_training_view_set_property;

  properties[PROP_SESSION] = lk_session_binding_param_spec ();
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_LOSS_PLOT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-training-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, LkTrainingView, name)
  BIND (paned);
  BIND (name_entry);
  BIND (preset_dropdown);
  BIND (ablation_dropdown);
  BIND (schedule_dropdown);
  BIND (minutes_label);
  BIND (minutes_spin);
  BIND (pretrain_steps_label);
  BIND (pretrain_steps_spin);
  BIND (ranking_steps_label);
  BIND (ranking_steps_spin);
  BIND (pretrain_lr_spin);
  BIND (ranking_lr_spin);
  BIND (gap_spin);
  BIND (decay_spin);
  BIND (keep_spin);
  BIND (pretrain_batch_spin);
  BIND (ranking_batch_spin);
  BIND (checkpoint_spin);
  BIND (form_error_label);
  BIND (form);
  BIND (basic_grid);
  BIND (advanced_grid);
  BIND (start_button);
  BIND (pause_button);
  BIND (stop_button);
  BIND (model_dropdown);
  BIND (resume_model_button);
  BIND (models_label);
  BIND (checkpoint_list);
  BIND (title_label);
  BIND (state_label);
  BIND (message_label);
  BIND (progress_bar);
  BIND (figures_box);
  BIND (plot);
#undef BIND

  gtk_widget_class_install_action (widget_class, "training.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "training.pause-resume", NULL,
                                   pause_resume_action);
  gtk_widget_class_install_action (widget_class, "training.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "training.resume-model", NULL,
                                   resume_model_action);
  gtk_widget_class_install_action (widget_class, "training.defaults", NULL, defaults_action);
  gtk_widget_class_install_action (widget_class, "training.minutes", "d", minutes_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "training.start", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK,
                                       "training.start", NULL);
  /* Space where no focused widget takes it (a button, an entry). */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, 0,
                                       "training.pause-resume", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_period, GDK_CONTROL_MASK,
                                       "training.stop", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "trainingview");
}

static GtkStringList *
string_list (const char *(*label) (guint), guint n)
{
  GtkStringList *list = gtk_string_list_new (NULL);
  for (guint i = 0; i < n; i++)
    gtk_string_list_append (list, label (i));
  return list;
}

static const char *preset_label (guint i) { return lk_preset_label ((LkPreset) i); }
static const char *ablation_label (guint i) { return lk_ablation_label ((LkAblation) i); }

static void
add_figures (LkTrainingView *self)
{
  const char *captions[N_FIGURES] = {
    N_("Step"), N_("Epoch"), N_("Loss (average)"), N_("Violation"), N_("Triplets/s"),
    N_("Images/s"), N_("Learning rate"), N_("Elapsed"), N_("ETA"), N_("Checkpoint"),
  };

  for (guint i = 0; i < N_FIGURES; i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *caption = gtk_label_new (_(captions[i]));
      GtkWidget *value = gtk_label_new ("—");

      gtk_label_set_xalign (GTK_LABEL (caption), 0);
      gtk_widget_add_css_class (caption, "dim-label");
      gtk_widget_add_css_class (caption, "caption");
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_widget_add_css_class (value, "numeric");
      gtk_widget_add_css_class (value, "heading");
      gtk_accessible_update_relation (GTK_ACCESSIBLE (value), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      caption, NULL, -1);
      gtk_box_append (GTK_BOX (box), caption);
      gtk_box_append (GTK_BOX (box), value);
      gtk_flow_box_append (self->figures_box, box);
      self->figures[i] = GTK_LABEL (value);
      self->captions[i] = GTK_LABEL (caption);
    }
}

static void
lk_training_view_init (LkTrainingView *self)
{
  g_autoptr(GtkStringList) presets = string_list (preset_label, LK_N_PRESETS);
  g_autoptr(GtkStringList) ablations = string_list (ablation_label, LK_N_ABLATIONS);
  const char *schedules[] = { N_("Time budget"), N_("Steps"), NULL };
  g_autoptr(GtkStringList) schedule = gtk_string_list_new (NULL);

  gtk_widget_init_template (GTK_WIDGET (self));
  for (guint i = 0; schedules[i] != NULL; i++)
    gtk_string_list_append (schedule, _(schedules[i]));
  gtk_drop_down_set_model (self->preset_dropdown, G_LIST_MODEL (presets));
  gtk_drop_down_set_model (self->ablation_dropdown, G_LIST_MODEL (ablations));
  gtk_drop_down_set_model (self->schedule_dropdown, G_LIST_MODEL (schedule));
  gtk_drop_down_set_selected (self->ablation_dropdown, LK_ABLATION_DEEP_RANKING);
  self->model_names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->model_dropdown, G_LIST_MODEL (self->model_names));
  gtk_spin_button_set_value (self->pretrain_steps_spin, 1000);
  gtk_spin_button_set_value (self->ranking_steps_spin, 1000);
  add_figures (self);
  g_signal_connect_swapped (self->preset_dropdown, "notify::selected",
                            G_CALLBACK (on_preset_changed), self);
  g_signal_connect_swapped (self->ablation_dropdown, "notify::selected",
                            G_CALLBACK (update_schedule_rows), self);
  g_signal_connect_swapped (self->schedule_dropdown, "notify::selected",
                            G_CALLBACK (update_schedule_rows), self);
  g_signal_connect_swapped (self->name_entry, "changed", G_CALLBACK (on_name_changed), self);
  g_signal_connect_swapped (self->model_dropdown, "notify::selected",
                            G_CALLBACK (on_model_selected), self);
  self->embed_relay = lk_progress_relay_new (on_embed_relay, self);
  on_preset_changed (self);
  update_schedule_rows (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.start", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.pause-resume", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.stop", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.resume-model", FALSE);
}

GtkWidget *
lk_training_view_new (LkSession *session)
{
  return g_object_new (LK_TYPE_TRAINING_VIEW, "session", session, NULL);
}

void
lk_training_view_set_session (LkTrainingView *self, LkSession *session)
{
  g_return_if_fail (LK_IS_TRAINING_VIEW (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  static const LkSessionSignal follow[] = {
    { LK_SESSION_PART_SESSION, "notify::collection", G_CALLBACK (on_collection_changed) },
    { LK_SESSION_PART_TRAINING, "progress", G_CALLBACK (on_progress) },
    { LK_SESSION_PART_TRAINING, "notify::active", G_CALLBACK (on_active_changed) },
    { LK_SESSION_PART_TRAINING, "ended", G_CALLBACK (on_ended) },
    { LK_SESSION_PART_SERVICE, "sources-changed", G_CALLBACK (list_checkpoints) },
    { LK_SESSION_PART_SERVICE, "sources-changed", G_CALLBACK (update_actions) },
  };

  if (self->session == session)
    return;
  lk_session_binding_release (self, self->session);
  g_set_object (&self->session, session);
  g_clear_object (&self->training);
  g_clear_object (&self->service);
  g_clear_pointer (&self->collection, lk_collection_unref);
  if (session != NULL)
    {
      self->training = g_object_ref (lk_session_get_training (session));
      self->service = g_object_ref (lk_session_get_search_service (session));
      lk_session_binding_follow (self, session, follow, G_N_ELEMENTS (follow));
      on_collection_changed (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

LkSession *
lk_training_view_get_session (LkTrainingView *self)
{
  g_return_val_if_fail (LK_IS_TRAINING_VIEW (self), NULL);
  return self->session;
}

gboolean
lk_training_view_get_busy (LkTrainingView *self)
{
  g_return_val_if_fail (LK_IS_TRAINING_VIEW (self), FALSE);
  return self->embed_source != NULL;
}

/* Test API ------------------------------------------------------------------------------------- */

void
_lk_training_view_set_params_hook (LkTrainingView *self, LkTrainParamsHook hook, gpointer data)
{
  self->hook = hook;
  self->hook_data = data;
}

LkLossPlot *
_lk_training_view_get_plot (LkTrainingView *self)
{
  return self->plot;
}

GtkEditable *
_lk_training_view_get_name_entry (LkTrainingView *self)
{
  return self->name_entry;
}

GtkDropDown *
_lk_training_view_get_preset (LkTrainingView *self)
{
  return self->preset_dropdown;
}

GtkDropDown *
_lk_training_view_get_schedule (LkTrainingView *self)
{
  return self->schedule_dropdown;
}

GtkSpinButton *
_lk_training_view_get_spin (LkTrainingView *self, const char *name)
{
  return spin_by_name (self, name);
}

/* The label of figure @name in @labels (the values or the captions). */
static const char *
figure_label (GtkLabel *const *labels, const char *name)
{
  for (guint i = 0; i < N_FIGURES; i++)
    if (g_str_equal (name, figure_names[i]))
      return gtk_label_get_label (labels[i]);
  return NULL;
}

GtkWidget *
_lk_training_view_get_button (LkTrainingView *self, const char *name)
{
  if (g_str_equal (name, "start"))
    return self->start_button;
  if (g_str_equal (name, "pause"))
    return GTK_WIDGET (self->pause_button);
  if (g_str_equal (name, "stop"))
    return self->stop_button;
  g_return_val_if_reached (NULL);
}

const char *
_lk_training_view_get_figure (LkTrainingView *self, const char *name)
{
  return figure_label (self->figures, name);
}

const char *
_lk_training_view_get_caption (LkTrainingView *self, const char *name)
{
  return figure_label (self->captions, name);
}

const char *
_lk_training_view_get_state_text (LkTrainingView *self)
{
  return gtk_label_get_label (self->state_label);
}

const char *
_lk_training_view_get_error_text (LkTrainingView *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self->form_error_label)))
    return NULL;
  return gtk_label_get_label (self->form_error_label);
}

const char *
_lk_training_view_get_listed_model (LkTrainingView *self)
{
  return listed_info (self) != NULL ? self->listed_model : NULL;
}

GArray *
_lk_training_view_dup_listed_steps (LkTrainingView *self)
{
  GArray *steps = g_array_new (FALSE, FALSE, sizeof (guint64));

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->checkpoint_list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    {
      GtkWidget *box = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row));
      guint64 *step = g_object_get_data (G_OBJECT (box), "step");
      if (step != NULL)
        g_array_append_val (steps, *step);
    }
  return steps;
}

gboolean
_lk_training_view_embed (LkTrainingView *self, guint64 step)
{
  g_autofree char *source = NULL;

  if (listed_info (self) == NULL)
    return FALSE;
  source = lk_model_source_name (self->listed_model, step);
  embed (self, source);
  return TRUE;
}

gboolean
_lk_training_view_can_continue (LkTrainingView *self)
{
  return gtk_widget_get_sensitive (self->resume_model_button);
}
