/* lk-plot-util.c — see lk-plot-util.h. */
#include "config.h"

#include <math.h>

#include "lk-plot-util.h"

#define DASH 4.0

const GdkRGBA lk_plot_palette[LK_PLOT_N_COLORS] = {
  { 0.208f, 0.518f, 0.894f, 1.f },
  { 0.902f, 0.380f, 0.000f, 1.f },
  { 0.180f, 0.761f, 0.494f, 1.f },
  { 0.569f, 0.255f, 0.675f, 1.f },
};

const GdkRGBA *
lk_plot_color (guint i)
{
  return &lk_plot_palette[i % LK_PLOT_N_COLORS];
}

double
lk_plot_nice_step (double range, int target)
{
  double raw = range / MAX (target, 1), mag, f;

  if (!(raw > 0) || !isfinite (raw))
    return 1;
  mag = pow (10, floor (log10 (raw)));
  f = raw / mag;
  if (f <= 1)
    return mag;
  if (f <= 2)
    return 2 * mag;
  if (f <= 5)
    return 5 * mag;
  return 10 * mag;
}

char *
lk_plot_format_tick (double v, double step)
{
  if (step >= 1)
    return g_strdup_printf ("%'.0f", v);
  return g_strdup_printf ("%.*f", (int) ceil (-log10 (step)), v);
}

double
lk_plot_text_width (GtkWidget *widget, const char *text)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

void
lk_plot_append_text (GtkSnapshot *snapshot, GtkWidget *widget, const char *text, double x,
                     double y, double xalign, double yalign, double max_w, const GdkRGBA *color)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  int w, h;

  if (max_w > 0)
    {
      pango_layout_set_width (layout, (int) (max_w * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  pango_layout_get_pixel_size (layout, &w, &h);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) (x - xalign * w),
                                                          (float) (y - yalign * h)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

void
lk_plot_append_rect (GtkSnapshot *snapshot, const GdkRGBA *color, double x, double y, double w,
                     double h)
{
  gtk_snapshot_append_color (snapshot, color,
                             &GRAPHENE_RECT_INIT ((float) x, (float) y, (float) w, (float) h));
}

void
lk_plot_append_dashes (GtkSnapshot *snapshot, const GdkRGBA *color, double x, double y,
                       double length, gboolean horizontal, double width)
{
  for (double t = 0; t < length; t += 2 * DASH)
    {
      double d = MIN (DASH, length - t);
      if (horizontal)
        lk_plot_append_rect (snapshot, color, x + t, y - width / 2, d, width);
      else
        lk_plot_append_rect (snapshot, color, x - width / 2, y + t, width, d);
    }
}

void
lk_plot_append_readout (GtkSnapshot *snapshot, GtkWidget *widget, const char *text, double x,
                        double y, double right, const GdkRGBA *fg)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  GdkRGBA box = *fg;
  int w, h;
  double bx;

  pango_layout_get_pixel_size (layout, &w, &h);
  bx = x + 10 + w < right ? x + 10 : x - 10 - w;
  box.alpha = 0.08f;
  lk_plot_append_rect (snapshot, &box, bx - 4, y - 2, w + 8, h + 4);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) bx, (float) y));
  gtk_snapshot_append_layout (snapshot, layout, fg);
  gtk_snapshot_restore (snapshot);
}

void
lk_plot_follow_pointer (GtkWidget *plot,
                        GCallback  on_motion,
                        GCallback  on_leave,
                        GCallback  on_key,
                        GCallback  on_query_tooltip)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  g_signal_connect (motion, "motion", on_motion, plot);
  g_signal_connect (motion, "leave", on_leave, plot);
  gtk_widget_add_controller (plot, motion);
  if (on_key != NULL)
    {
      GtkEventController *key = gtk_event_controller_key_new ();
      g_signal_connect (key, "key-pressed", on_key, plot);
      gtk_widget_add_controller (plot, key);
      gtk_widget_set_focusable (plot, TRUE);
    }
  gtk_widget_set_has_tooltip (plot, TRUE);
  g_signal_connect_swapped (plot, "query-tooltip", on_query_tooltip, plot);
}
