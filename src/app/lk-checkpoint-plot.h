/* lk-checkpoint-plot.h — a model's similarity precision against its
 * training step: one line per series (a triplet set), a marker at each
 * point (a checkpoint; the final model's a square), and a dashed
 * horizontal line per series at a baseline's precision (golden
 * features). Both axes autoscale with ticks. Drawn in snapshot from the
 * values given, nothing else; points not measured yet (NaN) are left
 * out, so a partial result draws as it comes. Hovering a marker, or
 * Left/Right (points) and Up/Down (series) with the focus on it, reads
 * it out. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LK_TYPE_CHECKPOINT_PLOT (lk_checkpoint_plot_get_type ())
G_DECLARE_FINAL_TYPE (LkCheckpointPlot, lk_checkpoint_plot, LK, CHECKPOINT_PLOT, GtkWidget)

GtkWidget *lk_checkpoint_plot_new            (void);
/* @series (n_series names); @steps and @names (n_points, by step) the
 * points' training steps and how a read-out names them; @final_point
 * the index of the final model's point, or -1; @values (n_points,
 * n_series) precisions in [0, 1], NaN where not measured; @baseline
 * (n_series), NaN where none, named @baseline_name. Copied. */
void       lk_checkpoint_plot_set_data       (LkCheckpointPlot  *self,
                                              const char *const *series,
                                              guint              n_series,
                                              const guint64     *steps,
                                              const char *const *names,
                                              guint              n_points,
                                              int                final_point,
                                              const double      *values,
                                              const char        *baseline_name,
                                              const double      *baseline);
guint      lk_checkpoint_plot_get_n_points   (LkCheckpointPlot *self);
guint      lk_checkpoint_plot_get_n_series   (LkCheckpointPlot *self);
/* The final model's point (drawn as a square), or -1. */
int        lk_checkpoint_plot_get_final_point (LkCheckpointPlot *self);
/* Markers drawn: measured values. */
guint      lk_checkpoint_plot_get_n_markers  (LkCheckpointPlot *self);
guint64    lk_checkpoint_plot_get_step       (LkCheckpointPlot *self,
                                              guint             point);
double     lk_checkpoint_plot_get_value      (LkCheckpointPlot *self,
                                              guint             point,
                                              guint             series);
double     lk_checkpoint_plot_get_baseline   (LkCheckpointPlot *self,
                                              guint             series);
/* Where the marker of (@point, @series) is drawn, in widget
 * coordinates; FALSE if it is not measured. */
gboolean   lk_checkpoint_plot_get_marker_position (LkCheckpointPlot *self,
                                                   guint             point,
                                                   guint             series,
                                                   double           *x,
                                                   double           *y);
/* The marker nearest to (x, y) within a few pixels; FALSE if none. */
gboolean   lk_checkpoint_plot_marker_at      (LkCheckpointPlot *self,
                                              double            x,
                                              double            y,
                                              guint            *point,
                                              guint            *series);
/* "Checkpoint at step 600, in-class: 93.4%". */
char      *lk_checkpoint_plot_dup_readout    (LkCheckpointPlot *self,
                                              guint             point,
                                              guint             series);
/* The marker read out (hovered or chosen by key), FALSE if none. */
gboolean   lk_checkpoint_plot_get_hover      (LkCheckpointPlot *self,
                                              guint            *point,
                                              guint            *series);

G_END_DECLS
