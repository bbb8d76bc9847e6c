/* lk-loss-plot.h — the training loss and violation rate against step,
 * drawn in snapshot from the trainer's history (LkTrainPoint):
 * autoscaled axes with ticks (loss on the left, violation 0–100% on the
 * right), the raw values faint and an exponential average over ~50
 * steps (per stage, restarting where the stage changes, bias-corrected
 * so its first steps follow the data) solid, and the boundary between
 * pre-training (softmax cross-entropy; its "violation" is the share
 * misclassified) and ranking (the triplet hinge; the share of triplets
 * violating the margin) marked, since the two stages' losses are not
 * the same quantity. Hovering, or Left/Right/Home/End with the focus on
 * it, reads out one step. */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define LK_TYPE_LOSS_PLOT (lk_loss_plot_get_type ())
G_DECLARE_FINAL_TYPE (LkLossPlot, lk_loss_plot, LK, LOSS_PLOT, GtkWidget)

GtkWidget *lk_loss_plot_new            (void);
/* @history (LkTrainPoint by step) is kept (a reference) and read when
 * drawing: after appending to it, call lk_loss_plot_changed(). NULL
 * empties the plot. */
void       lk_loss_plot_set_history    (LkLossPlot *self,
                                        GArray     *history);
void       lk_loss_plot_changed        (LkLossPlot *self);
guint      lk_loss_plot_get_n_points   (LkLossPlot *self);
/* The index of the first ranking point, or -1 if there is none after
 * pre-training points (no boundary). */
int        lk_loss_plot_get_boundary   (LkLossPlot *self);
/* The point nearest to widget x, FALSE if none (outside the plot). */
gboolean   lk_loss_plot_point_at       (LkLossPlot *self,
                                        double      x,
                                        guint      *index);
/* "Step 120 (ranking): loss 0.412, violation 31%", with the averages. */
char      *lk_loss_plot_dup_readout    (LkLossPlot *self,
                                        guint       index);
/* The smoothed loss and violation at @index. */
void       lk_loss_plot_get_smoothed   (LkLossPlot *self,
                                        guint       index,
                                        double     *loss,
                                        double     *violation);
/* Where the stage labels are drawn, in widget x: FALSE without a
 * boundary. */
gboolean   lk_loss_plot_get_stage_labels (LkLossPlot *self,
                                          double     *left_start,
                                          double     *left_end,
                                          double     *right_start,
                                          double     *right_end);
/* The loss axis' top, as drawn (autoscaled). */
double     lk_loss_plot_get_loss_max   (LkLossPlot *self);

G_END_DECLS
