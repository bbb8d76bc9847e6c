/* lk-training-view-private.h — the Training view's parts, for the UI
 * tests and the screenshot tool. */
#pragma once

#include "lk-loss-plot.h"
#include "lk-training-view.h"

G_BEGIN_DECLS

/* Called on the parameters read from the form before a start: tests
 * shorten the run (max_images, checkpoint_steps, …). */
typedef void (*LkTrainParamsHook) (LkTrainParams *params, gpointer data);
void         _lk_training_view_set_params_hook (LkTrainingView    *self,
                                                LkTrainParamsHook  hook,
                                                gpointer           data);
/* The parameters the form gives now (before the hook). */
void         _lk_training_view_read_form       (LkTrainingView *self,
                                                LkTrainParams  *params);
LkLossPlot  *_lk_training_view_get_plot        (LkTrainingView *self);
GtkEditable *_lk_training_view_get_name_entry  (LkTrainingView *self);
GtkDropDown *_lk_training_view_get_preset      (LkTrainingView *self);
GtkDropDown *_lk_training_view_get_schedule    (LkTrainingView *self);
GtkSpinButton *_lk_training_view_get_spin      (LkTrainingView *self,
                                                const char     *name);
/* "start", "pause" or "stop". */
GtkWidget   *_lk_training_view_get_button      (LkTrainingView *self,
                                                const char     *name);
/* A figure's value as shown ("step", "loss", "eta", …). */
const char  *_lk_training_view_get_figure      (LkTrainingView *self,
                                                const char     *name);
/* A figure's caption ("Violation" while ranking, "Misclassified" while
 * pre-training). */
const char  *_lk_training_view_get_caption     (LkTrainingView *self,
                                                const char     *name);
const char  *_lk_training_view_get_state_text  (LkTrainingView *self);
const char  *_lk_training_view_get_error_text  (LkTrainingView *self);
/* The model whose checkpoints are listed, and the steps listed (0: the
 * latest weights, model.lkm). */
const char  *_lk_training_view_get_listed_model (LkTrainingView *self);
GArray      *_lk_training_view_dup_listed_steps (LkTrainingView *self);
/* Embeds checkpoint @step (0: the latest weights) of the listed model,
 * as its row's button does. */
gboolean     _lk_training_view_embed            (LkTrainingView *self,
                                                 guint64         step);

/* Whether Continue (the listed model from its latest checkpoint) can be
 * used now. */
gboolean     _lk_training_view_can_continue     (LkTrainingView *self);

G_END_DECLS
