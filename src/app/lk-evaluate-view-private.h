/* lk-evaluate-view-private.h — the Evaluate view's parts, for the UI
 * tests. */
#pragma once

#include "evaluate.h"
#include "lk-eval-checkpoints.h"
#include "lk-evaluate-view.h"
#include "lk-precision-plot.h"

G_BEGIN_DECLS

/* The table shown (Recall@1 and mAP@R of unchanged sources kept from
 * their last full run), or NULL. */
const LkEvalTable *_lk_evaluate_view_get_table         (LkEvaluateView *self);
/* LkEvalRowItem, one per row of the table. */
GListModel        *_lk_evaluate_view_get_rows          (LkEvaluateView *self);
GtkColumnView     *_lk_evaluate_view_get_column_view   (LkEvaluateView *self);
LkPrecisionPlot   *_lk_evaluate_view_get_plot          (LkEvaluateView *self);
LkEvalCheckpoints *_lk_evaluate_view_get_checkpoints  (LkEvaluateView *self);
/* Which triplets the table is measured on, as the view says it. */
const char        *_lk_evaluate_view_get_sets_text     (LkEvaluateView *self);
/* Evaluations finished so far. */
guint              _lk_evaluate_view_get_n_done        (LkEvaluateView *self);
gboolean           _lk_evaluate_view_get_progress_shown (LkEvaluateView *self);
/* Of the last run's sources: how many were evaluated fully, and how
 * many kept their Recall@1 and mAP@R. */
void               _lk_evaluate_view_get_last_run      (LkEvaluateView *self,
                                                        guint          *n_full,
                                                        guint          *n_partial);
/* Whether the run going on has its triplet sets (and so the golden
 * features and relevance) ready. */
gboolean           _lk_evaluate_view_get_inputs_ready  (LkEvaluateView *self);

/* Called in the worker before the triplet sets are prepared (@source
 * NULL) and before each source is evaluated. */
typedef void (*LkEvaluateViewHook) (const char   *source,
                                    GCancellable *cancellable,
                                    gpointer      data);
void               _lk_evaluate_view_set_hook          (LkEvaluateView    *self,
                                                        LkEvaluateViewHook hook,
                                                        gpointer           data);

G_END_DECLS
