/* lk-training-view.h — the Training page: a new model's preset,
 * ablation, schedule and hyperparameters (the engine's defaults,
 * lk_train_params_init()), start / pause / resume / stop of the session's
 * training (lk-training.h), its figures (stage, step, epoch, loss,
 * violation, triplets/s, images/s, learning rate, ETA) and a live loss
 * plot (lk-loss-plot.h); the collection's models and their checkpoints,
 * any of which can be continued or embedded for the Query view. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_TRAINING_VIEW (lk_training_view_get_type ())
G_DECLARE_FINAL_TYPE (LkTrainingView, lk_training_view, LK, TRAINING_VIEW, GtkWidget)

GtkWidget *lk_training_view_new         (LkSession      *session);
void       lk_training_view_set_session (LkTrainingView *self,
                                         LkSession      *session);
LkSession *lk_training_view_get_session (LkTrainingView *self);
/* Embedding a checkpoint (the screenshot tool waits while busy; a
 * training is not, so it can be photographed while it runs). */
gboolean   lk_training_view_get_busy    (LkTrainingView *self);

G_END_DECLS
