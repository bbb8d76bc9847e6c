/* lk-training.c — LkTraining: a mailbox between the trainer's worker and
 * the main context (the latest report, the loss points since the last
 * delivery), a low-priority thread that makes and starts the trainer,
 * and the end of a run (its error, the exact history from the trainer). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "error.h"
#include "lk-training.h"
#include "lk-worker.h"

/* Shared by the trainer's worker (through its progress function) and the
 * main thread; the trainer keeps a reference until it is freed. */
typedef struct {
  gatomicrefcount  ref;
  GMutex           lock;
  GMainContext    *context;
  GWeakRef         owner;          /* LkTraining */
  LkTrainProgress  latest;
  gboolean         has_latest;
  GArray          *points;         /* LkTrainPoint, since the last delivery */
  guint64          last_step;      /* of the last point taken */
  gboolean         scheduled;
  GApplication    *held;           /* released once the trainer ended */
} Mailbox;

struct _LkTraining
{
  GObject          parent_instance;

  LkTrainer       *trainer;
  LkCollection    *collection;
  char            *name;
  Mailbox         *mailbox;        /* of the current or last run */
  LkTrainProgress  progress;
  GArray          *history;        /* LkTrainPoint */
  GError          *error;
  char            *notice;
  gboolean         active;
  gboolean         making;         /* the worker is making the trainer */
  gboolean         ended;          /* "ended" emitted for this run */
  gboolean         want_pause;     /* asked before the trainer was made */
  gboolean         want_stop;
  GApplication    *hold_after_made;
  guint            n_reports;
};

G_DEFINE_FINAL_TYPE (LkTraining, lk_training, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACTIVE,
  N_PROPS
};

enum {
  PROGRESS,
  ENDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean
state_is_final (LkTrainerState state)
{
  return state == LK_TRAINER_STOPPED || state == LK_TRAINER_FINISHED || state == LK_TRAINER_FAILED;
}

/* The mailbox ------------------------------------------------------------------------ */

static Mailbox *
mailbox_new (LkTraining *owner)
{
  Mailbox *m = g_new0 (Mailbox, 1);

  g_atomic_ref_count_init (&m->ref);
  g_mutex_init (&m->lock);
  m->context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&m->owner, owner);
  m->points = g_array_new (FALSE, FALSE, sizeof (LkTrainPoint));
  return m;
}

static Mailbox *
mailbox_ref (Mailbox *m)
{
  g_atomic_ref_count_inc (&m->ref);
  return m;
}

static gboolean
release_app (gpointer app)
{
  g_application_release (app);
  return G_SOURCE_REMOVE;
}

static void
mailbox_unref (gpointer data)
{
  Mailbox *m = data;

  if (!g_atomic_ref_count_dec (&m->ref))
    return;
  /* A trainer that never reported its end (it failed to be made) still
   * lets the application go. */
  if (m->held != NULL)
    lk_worker_post (m->context, release_app, m->held, g_object_unref);
  g_main_context_unref (m->context);
  g_weak_ref_clear (&m->owner);
  g_array_unref (m->points);
  g_mutex_clear (&m->lock);
  g_free (m);
}

static void deliver (LkTraining *self, const LkTrainProgress *p, GArray *points);

static gboolean
mailbox_deliver (gpointer data)
{
  Mailbox *m = data;
  g_autoptr(LkTraining) owner = g_weak_ref_get (&m->owner);
  g_autoptr(GArray) points = NULL;
  LkTrainProgress p;
  gboolean has;

  g_mutex_lock (&m->lock);
  m->scheduled = FALSE;
  has = m->has_latest;
  p = m->latest;
  m->has_latest = FALSE;
  points = m->points;
  m->points = g_array_new (FALSE, FALSE, sizeof (LkTrainPoint));
  g_mutex_unlock (&m->lock);
  if (owner != NULL && owner->mailbox == m && has)
    deliver (owner, &p, points);
  return G_SOURCE_REMOVE;
}

/* The trainer's progress function: its worker, after every step. */
static void
on_report (const LkTrainProgress *p, gpointer data)
{
  Mailbox *m = data;
  GApplication *release = NULL;

  g_mutex_lock (&m->lock);
  m->latest = *p;
  m->has_latest = TRUE;
  if ((p->stage == LK_TRAIN_STAGE_PRETRAIN || p->stage == LK_TRAIN_STAGE_RANKING) &&
      p->step > m->last_step)
    {
      LkTrainPoint pt = { p->step, p->stage, (float) p->loss, (float) p->violation };
      g_array_append_val (m->points, pt);
      m->last_step = p->step;
    }
  if (!m->scheduled)
    {
      GSource *source = g_timeout_source_new (LK_TRAINING_INTERVAL_MS);

      m->scheduled = TRUE;
      g_source_set_callback (source, mailbox_deliver, mailbox_ref (m), mailbox_unref);
      g_source_set_name (source, "[likeness] training progress");
      g_source_attach (source, m->context);
      g_source_unref (source);
    }
  if (state_is_final (p->state))
    release = g_steal_pointer (&m->held);
  g_mutex_unlock (&m->lock);
  if (release != NULL)
    lk_worker_post (m->context, release_app, release, g_object_unref);
}

/* Making the trainer ----------------------------------------------------------------- */

typedef struct {
  LkCollection  *collection;
  char          *name;
  gboolean       resume;
  LkTrainParams  params;
  Mailbox       *mailbox;
  GArray        *history;        /* out: the earlier sessions' points */
} MakeJob;

static void
make_job_free (MakeJob *j)
{
  lk_collection_unref (j->collection);
  g_free (j->name);
  mailbox_unref (j->mailbox);
  g_clear_pointer (&j->history, g_array_unref);
  g_free (j);
}

static void
make_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MakeJob *j = task_data;
  g_autoptr(LkTrainer) trainer = NULL;
  GError *error = NULL;

  /* Loading a checkpoint reads the whole file: not on the main thread. */
  if (j->resume)
    trainer = lk_trainer_new_resume (j->collection, j->name, &error);
  else
    trainer = lk_trainer_new (j->collection, j->name, &j->params, &error);
  if (trainer == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  j->history = lk_trainer_dup_history (trainer);
  g_mutex_lock (&j->mailbox->lock);
  if (j->history->len > 0)
    j->mailbox->last_step = g_array_index (j->history, LkTrainPoint, j->history->len - 1).step;
  g_mutex_unlock (&j->mailbox->lock);
  lk_trainer_set_progress_func (trainer, on_report, mailbox_ref (j->mailbox), mailbox_unref);
  /* The worker, and the network threads it starts, inherit this
   * thread's lowered priority. */
  if (!lk_trainer_start (trainer, NULL, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&trainer), (GDestroyNotify) lk_trainer_unref);
}

/* The application held for a trainer that was never made goes. */
static void
drop_hold (LkTraining *self)
{
  if (self->hold_after_made == NULL)
    return;
  g_application_release (self->hold_after_made);
  g_clear_object (&self->hold_after_made);
}

static void
end_run (LkTraining *self)
{
  g_autoptr(GError) error = NULL;

  if (self->ended || !self->active)
    return;
  self->ended = TRUE;
  self->active = FALSE;
  g_clear_error (&self->error);
  if (self->trainer != NULL)
    {
      /* The worker has ended (its last report said so): no wait. */
      if (!lk_trainer_wait (self->trainer, &error))
        self->error = g_steal_pointer (&error);
      g_autoptr(GArray) exact = lk_trainer_dup_history (self->trainer);
      g_array_set_size (self->history, 0);
      g_array_append_vals (self->history, exact->data, exact->len);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
  g_signal_emit (self, signals[ENDED], 0, (int) self->progress.state);
}

static void
deliver (LkTraining *self, const LkTrainProgress *p, GArray *points)
{
  self->progress = *p;
  g_array_append_vals (self->history, points->data, points->len);
  self->n_reports++;
  g_signal_emit (self, signals[PROGRESS], 0);
  if (state_is_final (p->state) && self->trainer != NULL)
    end_run (self);
}

static void
on_made (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(LkTraining) self = user_data;
  MakeJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  LkTrainer *trainer = g_task_propagate_pointer (G_TASK (result), &error);

  self->making = FALSE;
  if (j->mailbox != self->mailbox)
    {
      /* Disposed meanwhile: stop what was made. */
      if (trainer != NULL)
        lk_trainer_stop (trainer);
      g_clear_pointer (&trainer, lk_trainer_unref);
      return;
    }
  if (trainer == NULL)
    {
      self->error = g_steal_pointer (&error);
      self->progress.state = LK_TRAINER_FAILED;
      g_snprintf (self->progress.message, sizeof self->progress.message, "%s",
                  self->error->message);
      self->ended = TRUE;
      self->active = FALSE;
      drop_hold (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
      g_signal_emit (self, signals[ENDED], 0, (int) LK_TRAINER_FAILED);
      return;
    }
  self->trainer = trainer;
  self->notice = g_strdup (lk_trainer_get_notice (trainer));
  /* The same array throughout (the plot keeps it): refilled, not replaced. */
  g_array_set_size (self->history, 0);
  g_array_append_vals (self->history, j->history->data, j->history->len);
  if (self->hold_after_made != NULL)
    {
      g_mutex_lock (&self->mailbox->lock);
      self->mailbox->held = g_steal_pointer (&self->hold_after_made);
      g_mutex_unlock (&self->mailbox->lock);
    }
  if (self->want_pause)
    lk_trainer_pause (trainer);
  if (self->want_stop)
    lk_trainer_stop (trainer);
  lk_trainer_get_progress (trainer, &self->progress);
  g_signal_emit (self, signals[PROGRESS], 0);
  /* It may have ended before this ran (its report is in the mailbox). */
  if (state_is_final (lk_trainer_get_state (trainer)))
    {
      lk_trainer_get_progress (trainer, &self->progress);
      self->progress.state = lk_trainer_get_state (trainer);
      end_run (self);
    }
}

static gboolean
begin (LkTraining *self, LkCollection *collection, const char *name, gboolean resume,
       const LkTrainParams *params, GError **error)
{
  g_autoptr(GTask) task = NULL;
  MakeJob *j;

  if (self->active)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("A model is training already: stop it first"));
      return FALSE;
    }
  g_clear_pointer (&self->trainer, lk_trainer_unref);
  g_clear_pointer (&self->mailbox, mailbox_unref);
  g_clear_pointer (&self->collection, lk_collection_unref);
  g_clear_error (&self->error);
  g_clear_pointer (&self->notice, g_free);
  g_free (self->name);
  self->name = g_strdup (name);
  self->collection = lk_collection_ref (collection);
  self->mailbox = mailbox_new (self);
  g_array_set_size (self->history, 0);
  memset (&self->progress, 0, sizeof self->progress);
  self->progress.state = LK_TRAINER_RUNNING;
  self->progress.stage = LK_TRAIN_STAGE_PREPARE;
  self->progress.eta_s = -1;
  g_snprintf (self->progress.message, sizeof self->progress.message, "%s",
              resume ? _("Loading the checkpoint…") : _("Preparing…"));
  self->active = TRUE;
  self->making = TRUE;
  self->ended = FALSE;
  self->want_pause = self->want_stop = FALSE;

  j = g_new0 (MakeJob, 1);
  j->collection = lk_collection_ref (collection);
  j->name = g_strdup (name);
  j->resume = resume;
  if (params != NULL)
    j->params = *params;
  j->mailbox = mailbox_ref (self->mailbox);
  task = g_task_new (NULL, NULL, on_made, g_object_ref (self));
  g_task_set_task_data (task, j, (GDestroyNotify) make_job_free);
  lk_task_run_in_low_priority_thread (task, make_thread);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
  g_signal_emit (self, signals[PROGRESS], 0);
  return TRUE;
}

/* API -------------------------------------------------------------------------------- */

gboolean
lk_training_start (LkTraining *self, LkCollection *collection, const char *name,
                   const LkTrainParams *params, GError **error)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), FALSE);
  g_return_val_if_fail (collection != NULL && name != NULL && params != NULL, FALSE);
  return begin (self, collection, name, FALSE, params, error);
}

gboolean
lk_training_resume_model (LkTraining *self, LkCollection *collection, const char *name,
                          GError **error)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), FALSE);
  g_return_val_if_fail (collection != NULL && name != NULL, FALSE);
  return begin (self, collection, name, TRUE, NULL, error);
}

void
lk_training_pause (LkTraining *self)
{
  g_return_if_fail (LK_IS_TRAINING (self));
  if (!self->active)
    return;
  if (self->trainer != NULL)
    lk_trainer_pause (self->trainer);
  else
    self->want_pause = TRUE;
}

void
lk_training_resume (LkTraining *self)
{
  g_return_if_fail (LK_IS_TRAINING (self));
  if (!self->active)
    return;
  if (self->trainer != NULL)
    lk_trainer_resume (self->trainer);
  else
    self->want_pause = FALSE;
}

void
lk_training_stop (LkTraining *self)
{
  g_return_if_fail (LK_IS_TRAINING (self));
  if (!self->active)
    return;
  if (self->trainer != NULL)
    lk_trainer_stop (self->trainer);
  else
    self->want_stop = TRUE;
}

void
lk_training_stop_holding (LkTraining *self, GApplication *app)
{
  g_return_if_fail (LK_IS_TRAINING (self));
  g_return_if_fail (G_IS_APPLICATION (app));
  if (!self->active)
    return;
  g_application_hold (app);
  if (self->trainer != NULL)
    {
      g_mutex_lock (&self->mailbox->lock);
      if (self->mailbox->held == NULL)
        self->mailbox->held = g_object_ref (app);
      else
        g_application_release (app);
      g_mutex_unlock (&self->mailbox->lock);
    }
  else if (self->hold_after_made == NULL)
    self->hold_after_made = g_object_ref (app);
  else
    g_application_release (app);
  lk_training_stop (self);
}

gboolean
lk_training_get_active (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), FALSE);
  return self->active;
}

LkTrainer *
lk_training_get_trainer (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return self->trainer;
}

LkCollection *
lk_training_get_collection (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return self->collection;
}

const char *
lk_training_get_name (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return self->name;
}

const LkTrainProgress *
lk_training_get_progress (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return &self->progress;
}

GArray *
lk_training_get_history (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return self->history;
}

const char *
lk_training_get_notice (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return self->notice;
}

const GError *
lk_training_get_error (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), NULL);
  return self->error;
}

guint
lk_training_get_n_reports (LkTraining *self)
{
  g_return_val_if_fail (LK_IS_TRAINING (self), 0);
  return self->n_reports;
}

/* Object ------------------------------------------------------------------------------ */

static void
lk_training_dispose (GObject *object)
{
  LkTraining *self = LK_TRAINING (object);

  /* The worker finishes its batch and writes its checkpoint on its own;
   * nothing more reaches this object. */
  if (self->trainer != NULL && self->active)
    lk_trainer_stop (self->trainer);
  g_clear_pointer (&self->trainer, lk_trainer_unref);
  g_clear_pointer (&self->mailbox, mailbox_unref);
  drop_hold (self);
  G_OBJECT_CLASS (lk_training_parent_class)->dispose (object);
}

static void
lk_training_finalize (GObject *object)
{
  LkTraining *self = LK_TRAINING (object);

  g_clear_pointer (&self->collection, lk_collection_unref);
  g_free (self->name);
  g_array_unref (self->history);
  g_clear_error (&self->error);
  g_free (self->notice);
  G_OBJECT_CLASS (lk_training_parent_class)->finalize (object);
}

static void
lk_training_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkTraining *self = LK_TRAINING (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_training_class_init (LkTrainingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lk_training_dispose;
  object_class->finalize = lk_training_finalize;
  object_class->get_property = lk_training_get_property;

  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
lk_training_init (LkTraining *self)
{
  self->history = g_array_new (FALSE, FALSE, sizeof (LkTrainPoint));
  self->progress.eta_s = -1;
}

LkTraining *
lk_training_new (void)
{
  return g_object_new (LK_TYPE_TRAINING, NULL);
}
