/* lk-evaluate-view.h — the Evaluate page: the paper's Tables 1 and 2
 * rebuilt on the collection (evaluate.h) — every baseline and model,
 * similarity precision and score-at-30 on the labelled triplets (or on
 * generated sets while there are none, as it says), Recall@1 and mAP@R —
 * and the precisions as a plot; recomputed in the background when the
 * labels or the sources change. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_EVALUATE_VIEW (lk_evaluate_view_get_type ())
G_DECLARE_FINAL_TYPE (LkEvaluateView, lk_evaluate_view, LK, EVALUATE_VIEW, GtkWidget)

GtkWidget *lk_evaluate_view_new         (LkSession      *session);
void       lk_evaluate_view_set_session (LkEvaluateView *self,
                                         LkSession      *session);
LkSession *lk_evaluate_view_get_session (LkEvaluateView *self);
/* Evaluating, or about to. */
gboolean   lk_evaluate_view_get_busy    (LkEvaluateView *self);

G_END_DECLS
