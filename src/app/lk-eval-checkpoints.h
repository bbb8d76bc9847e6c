/* lk-eval-checkpoints.h — the Evaluate view's "Precision over
 * checkpoints" part: for one model of the collection (a dropdown of those
 * with checkpoints), the similarity precision of each checkpoint and of
 * its latest weights against the training step, on the class-level and
 * in-class generated sets and, once there are some, the labelled
 * triplets, with golden features as the reference (LkCheckpointPlot).
 *
 * Measuring runs in a thread of its own below the window's priority:
 * each checkpoint without stored rows is embedded first (the slow part,
 * with progress and Cancel; the rows are stored like any embedding, so
 * the next time they are reused, and the checkpoint becomes a source of
 * every view), then evaluated with lk_evaluate() on the sets; each point
 * is plotted as it comes. Measured again when the model's checkpoints
 * (the session's training writes one, or ends) or the labels change, when
 * someone looks.
 *
 * It runs beside the Evaluate view's table (both in low-priority
 * threads; neither shares an object with the other's worker), except while
 * the table prepares what both measure on — the golden features, their
 * relevance, the generated triplet sets —, which the part would otherwise
 * compute a second time: the view holds the part then, and the part says
 * it is waiting. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_EVAL_CHECKPOINTS (lk_eval_checkpoints_get_type ())
G_DECLARE_FINAL_TYPE (LkEvalCheckpoints, lk_eval_checkpoints, LK, EVAL_CHECKPOINTS, GtkWidget)

GtkWidget *lk_eval_checkpoints_new         (void);
void       lk_eval_checkpoints_set_session (LkEvalCheckpoints *self,
                                            LkSession         *session);
/* Plots model @name (when it has checkpoints; else once it has). */
void       lk_eval_checkpoints_set_model   (LkEvalCheckpoints *self,
                                            const char        *name);
/* The model plotted, or NULL. */
const char *lk_eval_checkpoints_get_model  (LkEvalCheckpoints *self);
/* Measuring, or about to. */
gboolean   lk_eval_checkpoints_get_busy    (LkEvalCheckpoints *self);
/* While held, measuring does not start by itself: the part shows @why
 * (translated) in its progress area, with Cancel, instead. A job already
 * running goes on; Measure starts one at once. Holding again replaces
 * the text. */
void       lk_eval_checkpoints_hold        (LkEvalCheckpoints *self,
                                            const char        *why);
/* Ends the hold: what waited starts, from the main loop (not inside the
 * caller). */
void       lk_eval_checkpoints_release     (LkEvalCheckpoints *self);

G_END_DECLS
