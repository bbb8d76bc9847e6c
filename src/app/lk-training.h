/* lk-training.h — the one training a session runs (LkTrainer, trainer.h),
 * kept by the session so that leaving the Training view or opening
 * another collection does not lose it.
 *
 * The trainer is made (a new model, or one resumed from its latest
 * checkpoint) and started in a thread of its own below the window's
 * priority, so its worker and the network's threads inherit that
 * priority and the window draws first. The trainer reports from its
 * worker after every step; LkTraining copies the report and the loss
 * point into a mailbox and delivers the latest on the main context at
 * most every LK_TRAINING_INTERVAL_MS ("progress"), so GTK is touched on
 * the main thread only and the main loop wakes ~20 times a second
 * whatever the step rate.
 *
 * Signals (main thread):
 *   progress        a new report (lk_training_get_progress) and points
 *   notify::active  a trainer was made, or it ended (stopped, finished
 *                   or failed: lk_training_get_error)
 *   ended (state)   the trainer ended, its checkpoint and model written */
#pragma once

#include <gio/gio.h>

#include "trainer.h"

G_BEGIN_DECLS

#define LK_TRAINING_INTERVAL_MS 50

#define LK_TYPE_TRAINING (lk_training_get_type ())
G_DECLARE_FINAL_TYPE (LkTraining, lk_training, LK, TRAINING, GObject)

LkTraining     *lk_training_new           (void);

/* Makes a trainer for model @name of @collection with @params and
 * starts it, in a worker; FALSE (LK_ERROR_INVALID) if one is active.
 * An error making it (a name in use, bad parameters) ends it at once
 * ("ended" with LK_TRAINER_FAILED). */
gboolean        lk_training_start         (LkTraining           *self,
                                           LkCollection         *collection,
                                           const char           *name,
                                           const LkTrainParams  *params,
                                           GError              **error);
/* The same for model @name continued from its latest checkpoint. */
gboolean        lk_training_resume_model  (LkTraining           *self,
                                           LkCollection         *collection,
                                           const char           *name,
                                           GError              **error);
void            lk_training_pause         (LkTraining *self);
void            lk_training_resume        (LkTraining *self);
/* Stops after the current batch; a checkpoint and the model file are
 * written, then "ended". */
void            lk_training_stop          (LkTraining *self);
/* Stops, and keeps @app running until the checkpoint is written (for a
 * window closing while training runs). */
void            lk_training_stop_holding  (LkTraining *self, GApplication *app);

/* Made or being made, and not ended. */
gboolean        lk_training_get_active    (LkTraining *self);
/* The trainer of the current or last run, or NULL (before the worker
 * made it). */
LkTrainer      *lk_training_get_trainer   (LkTraining *self);
/* The collection and model of the current or last run, or NULL. */
LkCollection   *lk_training_get_collection (LkTraining *self);
const char     *lk_training_get_name      (LkTraining *self);
/* The latest report delivered (zeros before the first). */
const LkTrainProgress *lk_training_get_progress (LkTraining *self);
/* Every loss point delivered so far (LkTrainPoint, by step; earlier
 * sessions' too when resumed; replaced by the trainer's own when it
 * ends). The same array for the session's life. Borrowed. */
GArray         *lk_training_get_history   (LkTraining *self);
/* What resuming the current or last run set aside (a damaged
 * checkpoint: lk_trainer_get_notice()), or NULL. */
const char     *lk_training_get_notice    (LkTraining *self);
/* Why the last run failed, or NULL. */
const GError   *lk_training_get_error     (LkTraining *self);
/* Reports delivered, for tests. */
guint           lk_training_get_n_reports (LkTraining *self);

G_END_DECLS
