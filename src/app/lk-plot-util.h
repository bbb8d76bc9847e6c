/* lk-plot-util.h — what the custom plots (LkLossPlot, LkPrecisionPlot,
 * LkCheckpointPlot) draw alike: the series colours, "nice" tick steps
 * for autoscaled axes, tick labels, and text, rectangles and dashed
 * lines appended to a GtkSnapshot. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Blue, orange, green, purple: told apart in light and dark themes and
 * by most colour-blind eyes (the GNOME palette's 3s). */
#define LK_PLOT_N_COLORS 4
extern const GdkRGBA lk_plot_palette[LK_PLOT_N_COLORS];

/* Colour @i of the palette, cycling. */
const GdkRGBA *lk_plot_color        (guint i);

/* A step of 1, 2 or 5 × 10^k that cuts @range into about @target
 * intervals (at most @target). */
double         lk_plot_nice_step    (double range,
                                     int    target);
/* A tick's label: integers with thousands separators for steps ≥ 1,
 * else as many decimals as the step needs. */
char          *lk_plot_format_tick  (double v,
                                     double step);

double         lk_plot_text_width   (GtkWidget   *widget,
                                     const char  *text);
/* @text with its (xalign, yalign) point at (x, y): 0 left/top, 0.5
 * centre, 1 right/bottom; ellipsized to @max_w when > 0. */
void           lk_plot_append_text  (GtkSnapshot   *snapshot,
                                     GtkWidget     *widget,
                                     const char    *text,
                                     double         x,
                                     double         y,
                                     double         xalign,
                                     double         yalign,
                                     double         max_w,
                                     const GdkRGBA *color);
void           lk_plot_append_rect  (GtkSnapshot   *snapshot,
                                     const GdkRGBA *color,
                                     double         x,
                                     double         y,
                                     double         w,
                                     double         h);
/* A dashed line @width thick, centred on y (horizontal, from x to
 * x + length) or on x (vertical, from y to y + length): 4 px dashes, 4
 * px apart. */
void           lk_plot_append_dashes (GtkSnapshot   *snapshot,
                                      const GdkRGBA *color,
                                      double         x,
                                      double         y,
                                      double         length,
                                      gboolean       horizontal,
                                      double         width);
/* A hover read-out: @text on a faint box, its top at @y, right of @x
 * if it fits before @right, else left of it. */
void           lk_plot_append_readout (GtkSnapshot   *snapshot,
                                       GtkWidget     *widget,
                                       const char    *text,
                                       double         x,
                                       double         y,
                                       double         right,
                                       const GdkRGBA *fg);
/* The hover read-out's input, the same for every plot: @on_motion and
 * @on_leave on a motion controller, @on_key (or NULL: not focusable) on
 * a key controller, and @on_query_tooltip swapped; each gets @plot as its
 * user data. */
void           lk_plot_follow_pointer (GtkWidget *plot,
                                       GCallback  on_motion,
                                       GCallback  on_leave,
                                       GCallback  on_key,
                                       GCallback  on_query_tooltip);

G_END_DECLS
