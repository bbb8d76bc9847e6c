/* lk-precision-plot.h — similarity precision as horizontal bars: one
 * group of bars per item (a source now; the trainer's checkpoints can
 * be items too), one bar per series (a triplet set), on an axis from 0
 * to 100% with the 50% of chance marked. Drawn in snapshot from the
 * values given, nothing else; hovering a bar reads it out. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LK_TYPE_PRECISION_PLOT (lk_precision_plot_get_type ())
G_DECLARE_FINAL_TYPE (LkPrecisionPlot, lk_precision_plot, LK, PRECISION_PLOT, GtkWidget)

GtkWidget *lk_precision_plot_new       (void);
/* @series (n_series names), @items (n_items labels), @values
 * (n_items, n_series) precisions in [0, 1], NaN where there is none
 * (that bar is not drawn). Copied. */
void       lk_precision_plot_set_data  (LkPrecisionPlot   *self,
                                        const char *const *series,
                                        guint              n_series,
                                        const char *const *items,
                                        guint              n_items,
                                        const double      *values);
guint      lk_precision_plot_get_n_items  (LkPrecisionPlot *self);
guint      lk_precision_plot_get_n_series (LkPrecisionPlot *self);
double     lk_precision_plot_get_value    (LkPrecisionPlot *self,
                                           guint            item,
                                           guint            series);
/* The bar under (x, y) in widget coordinates; FALSE if none. */
gboolean   lk_precision_plot_bar_at       (LkPrecisionPlot *self,
                                           double           x,
                                           double           y,
                                           guint           *item,
                                           guint           *series);
/* "Golden features, in-class: 100.0%", the read-out of one bar. */
char      *lk_precision_plot_dup_readout  (LkPrecisionPlot *self,
                                           guint            item,
                                           guint            series);

G_END_DECLS
