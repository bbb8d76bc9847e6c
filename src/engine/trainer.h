/* trainer.h — training a Deep Ranking model in a worker thread: the two
 * stages of the paper, progress, pause/resume/stop, checkpoints and
 * exact resumption.
 *
 * Stages (DESIGN.md §1):
 *  1. pre-training: the deep ConvNet branch and its classifier head
 *     trained with softmax cross-entropy on the collection's categories
 *     (only the nodes the "logits" output needs run);
 *  2. ranking: the whole network fine-tuned with the triplet hinge
 *     max{0, g + D(q,p) − D(q,n)} on triplets from the paper's online
 *     sampler (sampler.h), relevance from the golden features (default
 *     weights, or weights learned from the collection's labelled
 *     triplets when it has some).
 * Then, when the schedule is complete, every image of the collection is
 * embedded and stored (embeddings.h), so evaluation, queries and the app
 * list the model next to the baselines. The convnet ablation has no
 * ranking stage.
 *
 * Data: a collection with a train split (Fashion-MNIST) trains on its
 * train split only; a folder on all its images. Images go through
 * augment.h (resampled to the preset's side, normalised with the mean and
 * standard deviation of the training images, random pixel shifts).
 * Losses are averaged over a batch; weight decay λ on weights (not
 * biases), SGD with momentum, a cosine learning rate per stage with a
 * short linear warm-up.
 *
 * Schedule: a number of steps per stage, or a time budget, from which
 * the steps are planned once after timing a few steps of each stage (the
 * timing leaves no trace in the run); the plan is stored with the model,
 * so a resumed run follows the same schedule. A budget also caps the run
 * time.
 *
 * Threads: lk_trainer_start() runs the work in a thread of its own; the
 * other calls are made from any thread. The progress function is called
 * from the worker after every step and at every change of state (the app
 * copies the struct and posts it to its main loop). The network uses
 * params.n_threads threads inside each step.
 *
 * Stopping: lk_trainer_stop() or cancelling the GCancellable given to
 * lk_trainer_start() stops the worker after the current batch; it then
 * writes a checkpoint and the model file. Checkpoints are also written
 * every checkpoint_minutes (and every checkpoint_steps, for tests), each
 * atomically, holding the parameters, momentum, optimiser step, dropout
 * RNG state, the trainer's state (stage, steps, plan, parameters) and the
 * loss history; the sampler is rebuilt from its seed and replayed to the
 * same position (it draws ≥ 20× faster than the trainer consumes). So
 * lk_trainer_new_resume() continues exactly as an uninterrupted run
 * would have: the same next step, the same losses.
 *
 * Files: model-store.h (lk_data_dir_for(id)/models/NAME/). */
#pragma once

#include <gio/gio.h>

#include "collection.h"
#include "model.h"
#include "sampler.h"

G_BEGIN_DECLS

typedef enum {
  LK_TRAIN_STAGE_PREPARE = 0,   /* training set, features, relevance, sampler, timing */
  LK_TRAIN_STAGE_PRETRAIN,      /* softmax on the categories */
  LK_TRAIN_STAGE_RANKING,       /* triplet hinge on sampled triplets */
  LK_TRAIN_STAGE_EMBED,         /* embedding the collection with the result */
  LK_TRAIN_STAGE_DONE,
} LkTrainStage;

typedef enum {
  LK_TRAINER_IDLE = 0,      /* not started */
  LK_TRAINER_RUNNING,
  LK_TRAINER_PAUSED,
  LK_TRAINER_STOPPING,      /* stop asked; finishing the batch, writing the checkpoint */
  LK_TRAINER_STOPPED,       /* stopped before the end of the schedule: resumable */
  LK_TRAINER_FINISHED,      /* the schedule is complete */
  LK_TRAINER_FAILED,        /* see lk_trainer_wait() */
} LkTrainerState;

const char *lk_train_stage_name   (LkTrainStage stage);     /* "pretrain", … */
const char *lk_train_stage_label  (LkTrainStage stage);     /* translated */
const char *lk_trainer_state_name (LkTrainerState state);   /* "running", … */

typedef struct {
  LkPreset        preset;
  LkAblation      ablation;
  guint64         seed;              /* initial weights, data order, shifts, dropout (1) */

  /* Schedule: steps per stage, or (when both are 0) planned from
   * budget_seconds. budget_seconds > 0 also caps the run time. */
  guint64         pretrain_steps;
  guint64         ranking_steps;
  double          budget_seconds;    /* (900) */
  float           pretrain_share;    /* of the budget for pre-training (tiny 0.75, else 0.5; 1 for convnet) */

  guint           pretrain_batch;    /* images per step (preset) */
  float           pretrain_lr;       /* (preset) */
  guint           ranking_batch;     /* triplets per step (preset) */
  float           ranking_lr;        /* (preset) */
  float           gap;               /* hinge gap g (tiny 0.2, else 0.5) */
  float           ranking_softmax;   /* weight of the softmax loss kept on the
                                      * triplets' images while ranking (0: the
                                      * paper's ranking loss alone; photo 1, else 0) */
  float           shallow_init;      /* deep-ranking: initial weight of the shallow
                                      * branches in the embedding layer, relative
                                      * to the deep branch (photo 0.25, else 1) */
  float           momentum;          /* (0.9) */
  float           weight_decay;      /* λ (0.001) */
  float           keep;              /* dropout keep probability (0.6) */
  guint           max_shift;         /* random shift, input pixels (preset) */
  gboolean        flip;              /* random left-right mirroring (FALSE: not the paper's) */
  float           warmup_share;      /* of each stage's steps (0.02) */
  LkSamplerParams sampler;           /* seed 0 = derived from seed */

  guint           n_threads;         /* network threads, 0 = one per core */
  double          checkpoint_minutes;/* (10) */
  guint64         checkpoint_steps;  /* also every N steps, 0 = never (0) */
  guint           keep_checkpoints;  /* periodic checkpoints kept (3) */
  guint           max_images;        /* 0 = the whole training set; else a seeded subset */
  gboolean        embed_when_done;   /* embed the collection at the end (TRUE) */
} LkTrainParams;

/* Defaults for @preset (ablation deep-ranking). */
void     lk_train_params_init  (LkTrainParams *params, LkPreset preset);
/* FALSE with LK_ERROR_INVALID naming the first bad field. */
gboolean lk_train_params_check (const LkTrainParams *params, GError **error);

typedef struct {
  LkTrainerState state;
  LkTrainStage   stage;
  guint64        step;             /* steps done, both stages */
  guint64        total_steps;      /* planned, both stages (0 until planned) */
  guint64        stage_step;       /* steps done in this stage */
  guint64        stage_steps;      /* planned in this stage */
  double         epoch;            /* passes over the training set in this stage */
  double         loss;             /* mean loss of the last step */
  double         loss_smooth;      /* exponential average over ~50 steps */
  /* Ranking: share of the last step's triplets violating the margin;
   * pre-training: share of its images misclassified. */
  double         violation;
  double         triplets_per_s;   /* ranking, recent */
  double         images_per_s;     /* network images per second, recent */
  float          lr;
  double         elapsed_s;        /* training time so far, all sessions, pauses excluded */
  double         eta_s;            /* to the end of the schedule, < 0 unknown */
  guint64        checkpoint_step;  /* step of the last checkpoint written (0 none) */
  guint          done, total;      /* prepare/embed: work done of total, 0/0 unknown */
  char           message[160];     /* what is happening, translated, one line */
} LkTrainProgress;

typedef void (*LkTrainProgressFunc) (const LkTrainProgress *progress,
                                     gpointer               user_data);

/* One point of the loss history (one per step). */
typedef struct {
  guint64 step;        /* from 1: the steps done once this one is */
  guint32 stage;       /* LkTrainStage */
  float   loss;
  float   violation;
} LkTrainPoint;

typedef struct _LkTrainer LkTrainer;

/* A new model @name (lk_model_name_is_valid()) of @collection; fails with
 * LK_ERROR_INVALID for bad parameters or a name already in use. Nothing
 * is written before lk_trainer_start(). */
LkTrainer *lk_trainer_new        (LkCollection         *collection,
                                  const char           *name,
                                  const LkTrainParams  *params,
                                  GError              **error);
/* A new model @name that starts where model @base (of the same collection,
 * preset and training images, e.g. a ConvNet) ended pre-training: its
 * deep branch and classifier, its input normalisation, its pre-training
 * steps and loss history; it goes straight on to ranking (the paper's
 * protocol: every ablation fine-tunes one pre-trained ConvNet).
 * LK_ERROR_NOT_FOUND without such a model, LK_ERROR_MISMATCH if it was
 * trained on other images, with another preset or categories. */
LkTrainer *lk_trainer_new_from   (LkCollection         *collection,
                                  const char           *name,
                                  const LkTrainParams  *params,
                                  const char           *base,
                                  GError              **error);
/* Continues model @name from its latest checkpoint: its parameters, plan,
 * position and history. LK_ERROR_NOT_FOUND without a checkpoint,
 * LK_ERROR_MISMATCH when the collection's images changed since. A
 * damaged checkpoint (LK_ERROR_CORRUPT) is renamed NAME.damaged and the
 * one before it used; lk_trainer_get_notice() then says so. */
LkTrainer *lk_trainer_new_resume (LkCollection         *collection,
                                  const char           *name,
                                  GError              **error);
LkTrainer *lk_trainer_ref        (LkTrainer *self);
void       lk_trainer_unref      (LkTrainer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTrainer, lk_trainer_unref)

/* Before lk_trainer_start(). */
void       lk_trainer_set_progress_func (LkTrainer            *self,
                                         LkTrainProgressFunc   func,
                                         gpointer              user_data,
                                         GDestroyNotify        destroy);
/* Caps this session's run time (seconds, 0 = no cap beyond the
 * budget); e.g. to resume for a few more minutes. */
void       lk_trainer_set_time_limit    (LkTrainer *self, double seconds);

/* Starts the worker. FALSE if already started. */
gboolean   lk_trainer_start  (LkTrainer *self, GCancellable *cancellable, GError **error);
void       lk_trainer_pause  (LkTrainer *self);
void       lk_trainer_resume (LkTrainer *self);
void       lk_trainer_stop   (LkTrainer *self);
/* Waits for the worker to end: TRUE when it stopped or finished (the
 * checkpoint and model file written), FALSE with its error. When it
 * returns, the progress function has made its last call. */
gboolean   lk_trainer_wait   (LkTrainer *self, GError **error);
/* lk_trainer_start() + lk_trainer_wait(), in the calling thread's time. */
gboolean   lk_trainer_run    (LkTrainer *self, GCancellable *cancellable, GError **error);

LkTrainerState       lk_trainer_get_state    (LkTrainer *self);
/* The latest progress, copied. Any thread. */
void                 lk_trainer_get_progress (LkTrainer *self, LkTrainProgress *out);
/* Every step so far (including earlier sessions), copied. Any thread. */
GArray              *lk_trainer_dup_history  (LkTrainer *self);   /* of LkTrainPoint */
const LkTrainParams *lk_trainer_get_params   (LkTrainer *self);
const char          *lk_trainer_get_name     (LkTrainer *self);
/* The model's folder (lk_model_store_dir_for()). */
const char          *lk_trainer_get_dir      (LkTrainer *self);
/* What lk_trainer_new_resume() set aside, one line each (translated), or
 * NULL: for the user to see. */
const char          *lk_trainer_get_notice   (LkTrainer *self);
/* The sampler once the ranking stage is prepared, else NULL; it lives as
 * long as the trainer, and lk_sampler_snapshot() may be called on it from
 * any thread (the Buffers view polls it while training runs). */
LkSampler           *lk_trainer_get_sampler  (LkTrainer *self);
/* The collection indices of the training images. */
const guint32       *lk_trainer_get_images   (LkTrainer *self, guint *n_out);

G_END_DECLS
