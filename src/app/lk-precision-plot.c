/* lk-precision-plot.c — LkPrecisionPlot: the values are kept as given;
 * one geometry, computed from the widget's size and fonts, serves
 * drawing and hit-testing alike. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lk-plot-util.h"
#include "lk-precision-plot.h"

#define PAD 12.0
#define LEGEND_H 26.0
#define BAR_H 14.0
#define BAR_GAP 3.0
#define ROW_GAP 12.0
#define AXIS_H 34.0
#define VALUE_W 56.0      /* room for "100.0%" after a bar */
#define MIN_PLOT_W 160.0
#define MAX_LABEL_FRACTION 0.4

struct _LkPrecisionPlot
{
  GtkWidget  parent_instance;

  GStrv      series;
  GStrv      items;
  guint      n_series;
  guint      n_items;
  double    *values;      /* (n_items, n_series) */
  int        hover_item;  /* -1: none */
  int        hover_series;
};

G_DEFINE_FINAL_TYPE (LkPrecisionPlot, lk_precision_plot, GTK_TYPE_WIDGET)

typedef struct {
  double label_w;
  double plot_x;
  double plot_w;
  double top;
  double row_h;
  double axis_y;
} Geometry;

static double
row_height (LkPrecisionPlot *self)
{
  guint n = MAX (self->n_series, 1);
  return n * BAR_H + (n - 1) * BAR_GAP + ROW_GAP;
}

static void
geometry (LkPrecisionPlot *self, double width, Geometry *g)
{
  GtkWidget *widget = GTK_WIDGET (self);
  double widest = 0;

  for (guint i = 0; i < self->n_items; i++)
    widest = MAX (widest, lk_plot_text_width (widget, self->items[i]));
  g->label_w = MIN (widest, MAX_LABEL_FRACTION * width);
  g->plot_x = PAD + g->label_w + PAD;
  g->plot_w = MAX (width - g->plot_x - VALUE_W - PAD, 1);
  g->top = PAD + LEGEND_H;
  g->row_h = row_height (self);
  g->axis_y = g->top + self->n_items * g->row_h;
}

static double
bar_y (const Geometry *g, guint item, guint series)
{
  return g->top + item * g->row_h + series * (BAR_H + BAR_GAP);
}

static double
value_at (LkPrecisionPlot *self, guint item, guint series)
{
  return self->values[(gsize) item * self->n_series + series];
}

/* Drawing ----------------------------------------------------------------------- */

static void
draw_axis (LkPrecisionPlot *self, GtkSnapshot *snapshot, const Geometry *g, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA grid = *fg, chance = *fg, dim = *fg;

  grid.alpha = 0.12f;
  chance.alpha = 0.55f;
  dim.alpha = 0.7f;
  for (guint t = 0; t <= 4; t++)
    {
      double x = g->plot_x + g->plot_w * t / 4.0;
      g_autofree char *tick = g_strdup_printf ("%u%%", t * 25);

      lk_plot_append_rect (snapshot, &grid, x, g->top - 4, 1, g->axis_y - g->top + 8);
      lk_plot_append_text (snapshot, widget, tick, x, g->axis_y + 6, 0.5, 0, 0, &dim);
    }
  /* Chance: a dashed line at 50%. */
  lk_plot_append_dashes (snapshot, &chance, g->plot_x + g->plot_w / 2 + 0.25, g->top - 4,
                         g->axis_y - g->top + 8, FALSE, 1.5);
}

static void
draw_legend (LkPrecisionPlot *self, GtkSnapshot *snapshot, const Geometry *g, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  double x = g->plot_x;
  /* TRANSLATORS: the plot's legend: the dashed line marks a coin toss */
  const char *chance = _("dashed: chance (50%)");
  GdkRGBA dim = *fg;

  dim.alpha = 0.7f;
  for (guint s = 0; s < self->n_series; s++)
    {
      lk_plot_append_rect (snapshot, lk_plot_color (s), x, PAD + 3, 12, 12);
      lk_plot_append_text (snapshot, widget, self->series[s], x + 18, PAD + 9, 0, 0.5, 0, fg);
      x += 18 + lk_plot_text_width (widget, self->series[s]) + 18;
    }
  lk_plot_append_text (snapshot, widget, chance, x, PAD + 9, 0, 0.5, 0, &dim);
}

static void
lk_precision_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LkPrecisionPlot *self = LK_PRECISION_PLOT (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  GdkRGBA fg;
  Geometry g;

  if (self->n_items == 0)
    return;
  gtk_style_context_get_color (style, &fg);
  geometry (self, gtk_widget_get_width (widget), &g);
  draw_legend (self, snapshot, &g, &fg);
  draw_axis (self, snapshot, &g, &fg);
  for (guint i = 0; i < self->n_items; i++)
    {
      double row_mid = g.top + i * g.row_h + (g.row_h - ROW_GAP) / 2;

      lk_plot_append_text (snapshot, widget, self->items[i], PAD, row_mid, 0, 0.5, g.label_w, &fg);
      for (guint s = 0; s < self->n_series; s++)
        {
          double v = value_at (self, i, s), y = bar_y (&g, i, s), w;
          GdkRGBA color = *lk_plot_color (s);
          g_autofree char *text = NULL;

          if (isnan (v))
            continue;
          v = CLAMP (v, 0, 1);
          w = MAX (v * g.plot_w, 1);
          if ((int) i == self->hover_item && (int) s == self->hover_series)
            color.alpha = 0.7f;
          lk_plot_append_rect (snapshot, &color, g.plot_x, y, w, BAR_H);
          text = g_strdup_printf ("%.1f%%", 100 * v);
          lk_plot_append_text (snapshot, widget, text, g.plot_x + w + 4, y + BAR_H / 2, 0, 0.5, 0,
                               &fg);
        }
    }
}

static void
lk_precision_plot_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  LkPrecisionPlot *self = LK_PRECISION_PLOT (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (2 * PAD + MIN_PLOT_W + VALUE_W + 80);
      *natural = MAX (*minimum, 560);
    }
  else
    *minimum = *natural = self->n_items == 0 ? 0
                        : (int) (PAD + LEGEND_H + self->n_items * row_height (self) + AXIS_H);
}

/* Hovering ------------------------------------------------------------------------ */

gboolean
lk_precision_plot_bar_at (LkPrecisionPlot *self, double x, double y, guint *item, guint *series)
{
  Geometry g;

  g_return_val_if_fail (LK_IS_PRECISION_PLOT (self), FALSE);
  geometry (self, gtk_widget_get_width (GTK_WIDGET (self)), &g);
  for (guint i = 0; i < self->n_items; i++)
    for (guint s = 0; s < self->n_series; s++)
      {
        double v = value_at (self, i, s), by = bar_y (&g, i, s);
        if (isnan (v) || y < by || y >= by + BAR_H || x < PAD || x > g.plot_x + g.plot_w + VALUE_W)
          continue;
        *item = i;
        *series = s;
        return TRUE;
      }
  return FALSE;
}

char *
lk_precision_plot_dup_readout (LkPrecisionPlot *self, guint item, guint series)
{
  g_return_val_if_fail (LK_IS_PRECISION_PLOT (self), NULL);
  g_return_val_if_fail (item < self->n_items && series < self->n_series, NULL);
  /* TRANSLATORS: one bar of the plot: item (a source), series (a triplet set), precision */
  return g_strdup_printf (_("%s, %s: %.1f%%"), self->items[item], self->series[series],
                          100 * value_at (self, item, series));
}

static void
set_hover (LkPrecisionPlot *self, int item, int series)
{
  if (self->hover_item == item && self->hover_series == series)
    return;
  self->hover_item = item;
  self->hover_series = series;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, LkPrecisionPlot *self)
{
  guint item, series;

  if (lk_precision_plot_bar_at (self, x, y, &item, &series))
    set_hover (self, (int) item, (int) series);
  else
    set_hover (self, -1, -1);
}

static void
on_leave (GtkEventControllerMotion *motion, LkPrecisionPlot *self)
{
  set_hover (self, -1, -1);
}

static gboolean
on_query_tooltip (LkPrecisionPlot *self, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  g_autofree char *text = NULL;
  guint item, series;

  if (keyboard || !lk_precision_plot_bar_at (self, x, y, &item, &series))
    return FALSE;
  text = lk_precision_plot_dup_readout (self, item, series);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* Object ---------------------------------------------------------------------------- */

static void
lk_precision_plot_finalize (GObject *object)
{
  LkPrecisionPlot *self = LK_PRECISION_PLOT (object);

  g_strfreev (self->series);
  g_strfreev (self->items);
  g_free (self->values);
  G_OBJECT_CLASS (lk_precision_plot_parent_class)->finalize (object);
}

static void
lk_precision_plot_class_init (LkPrecisionPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lk_precision_plot_finalize;
  widget_class->snapshot = lk_precision_plot_snapshot;
  widget_class->measure = lk_precision_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "precisionplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lk_precision_plot_init (LkPrecisionPlot *self)
{
  self->hover_item = self->hover_series = -1;
  self->series = g_new0 (char *, 1);
  self->items = g_new0 (char *, 1);
  lk_plot_follow_pointer (GTK_WIDGET (self), G_CALLBACK (on_motion), G_CALLBACK (on_leave),
                          NULL, G_CALLBACK (on_query_tooltip));
}

GtkWidget *
lk_precision_plot_new (void)
{
  return g_object_new (LK_TYPE_PRECISION_PLOT, NULL);
}

/* What a screen reader says: every bar, since there is no other way to
 * reach them without a pointer. */
static void
update_description (LkPrecisionPlot *self)
{
  g_autoptr(GString) text = g_string_new (_("Similarity precision"));

  for (guint i = 0; i < self->n_items; i++)
    for (guint s = 0; s < self->n_series; s++)
      if (!isnan (value_at (self, i, s)))
        {
          g_autofree char *bar = lk_precision_plot_dup_readout (self, i, s);
          g_string_append (text, "; ");
          g_string_append (text, bar);
        }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text->str,
                                  -1);
}

void
lk_precision_plot_set_data (LkPrecisionPlot   *self,
                            const char *const *series,
                            guint              n_series,
                            const char *const *items,
                            guint              n_items,
                            const double      *values)
{
  g_return_if_fail (LK_IS_PRECISION_PLOT (self));
  g_return_if_fail ((series != NULL || n_series == 0) && (items != NULL || n_items == 0));
  g_return_if_fail (values != NULL || n_items * n_series == 0);

  g_strfreev (self->series);
  g_strfreev (self->items);
  g_free (self->values);
  self->series = g_new0 (char *, n_series + 1);
  self->items = g_new0 (char *, n_items + 1);
  for (guint s = 0; s < n_series; s++)
    self->series[s] = g_strdup (series[s]);
  for (guint i = 0; i < n_items; i++)
    self->items[i] = g_strdup (items[i]);
  self->values = g_memdup2 (values, MAX (1, (gsize) n_items * n_series) * sizeof (double));
  self->n_series = n_series;
  self->n_items = n_items;
  self->hover_item = self->hover_series = -1;
  update_description (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint
lk_precision_plot_get_n_items (LkPrecisionPlot *self)
{
  g_return_val_if_fail (LK_IS_PRECISION_PLOT (self), 0);
  return self->n_items;
}

guint
lk_precision_plot_get_n_series (LkPrecisionPlot *self)
{
  g_return_val_if_fail (LK_IS_PRECISION_PLOT (self), 0);
  return self->n_series;
}

double
lk_precision_plot_get_value (LkPrecisionPlot *self, guint item, guint series)
{
  g_return_val_if_fail (LK_IS_PRECISION_PLOT (self), NAN);
  g_return_val_if_fail (item < self->n_items && series < self->n_series, NAN);
  return value_at (self, item, series);
}
