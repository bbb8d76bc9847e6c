/* lk-eval-checkpoints-private.h — the checkpoints part's insides, for
 * the UI tests. */
#pragma once

#include "lk-checkpoint-plot.h"
#include "lk-eval-checkpoints.h"

G_BEGIN_DECLS

LkCheckpointPlot *_lk_eval_checkpoints_get_plot    (LkEvalCheckpoints *self);
GtkDropDown      *_lk_eval_checkpoints_get_dropdown (LkEvalCheckpoints *self);
/* The source of each point ("model-NAME@STEP", the last "model-NAME"). */
const char       *_lk_eval_checkpoints_get_source  (LkEvalCheckpoints *self,
                                                    guint              point);
const char       *_lk_eval_checkpoints_get_status  (LkEvalCheckpoints *self);
gboolean          _lk_eval_checkpoints_get_progress_shown (LkEvalCheckpoints *self);
/* Runs finished (to the end, stopped or failed), and of the last one:
 * points embedded, and whether it was stopped. */
guint             _lk_eval_checkpoints_get_n_runs  (LkEvalCheckpoints *self);
guint             _lk_eval_checkpoints_get_n_embedded (LkEvalCheckpoints *self);
gboolean          _lk_eval_checkpoints_get_stopped (LkEvalCheckpoints *self);
/* Held, with something to measure that waits for the release. */
gboolean          _lk_eval_checkpoints_get_waiting (LkEvalCheckpoints *self);
const char       *_lk_eval_checkpoints_get_progress_text (LkEvalCheckpoints *self);

/* Called in the worker before each point (@point of the job's order,
 * by step) is embedded and measured. */
typedef void (*LkEvalCheckpointsHook) (guint         point,
                                       GCancellable *cancellable,
                                       gpointer      data);
void              _lk_eval_checkpoints_set_hook    (LkEvalCheckpoints    *self,
                                                    LkEvalCheckpointsHook hook,
                                                    gpointer              data);

G_END_DECLS
