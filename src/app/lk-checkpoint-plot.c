/* lk-checkpoint-plot.c — LkCheckpointPlot: the values are kept as given;
 * one geometry, from the widget's size and the values, serves drawing
 * and hit-testing. A model has a handful of checkpoints, so every
 * marker is drawn and searched. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lk-checkpoint-plot.h"
#include "lk-plot-util.h"

#define PAD 10.0
#define LEFT_W 50.0
#define RIGHT_W 18.0
#define TOP_H 34.0
#define BOTTOM_H 34.0
#define MARKER_R 3.5
#define HIT_R 12.0

struct _LkCheckpointPlot
{
  GtkWidget  parent_instance;

  GStrv      series;
  GStrv      names;
  guint64   *steps;       /* (n_points,) */
  double    *values;      /* (n_points, n_series) */
  double    *baseline;    /* (n_series,) */
  char      *baseline_name;
  guint      n_series;
  guint      n_points;
  int        final_point;
  int        hover_point; /* -1: none */
  int        hover_series;
};

G_DEFINE_FINAL_TYPE (LkCheckpointPlot, lk_checkpoint_plot, GTK_TYPE_WIDGET)

typedef struct {
  double x, y, w, h;      /* the plot area */
  double step_max;        /* x from step 0 */
  double lo, hi, tick;    /* y: precision, and its tick step */
} Geometry;

static double
value_at (LkCheckpointPlot *self, guint point, guint series)
{
  return self->values[(gsize) point * self->n_series + series];
}

/* y covers every value and baseline with a margin, in whole ticks,
 * within 0–100%: precisions of one model differ by a few per cent, which
 * a fixed 0–100% axis would flatten. */
static void
y_range (LkCheckpointPlot *self, Geometry *g)
{
  double lo = INFINITY, hi = -INFINITY, span;

  for (gsize i = 0; i < (gsize) self->n_points * self->n_series; i++)
    if (!isnan (self->values[i]))
      {
        lo = MIN (lo, self->values[i]);
        hi = MAX (hi, self->values[i]);
      }
  for (guint s = 0; s < self->n_series; s++)
    if (!isnan (self->baseline[s]))
      {
        lo = MIN (lo, self->baseline[s]);
        hi = MAX (hi, self->baseline[s]);
      }
  if (lo > hi)
    {
      lo = 0.5;
      hi = 1;
    }
  span = MAX (hi - lo, 0.02);
  lo -= 0.12 * span;
  hi += 0.12 * span;
  g->tick = lk_plot_nice_step (100 * (hi - lo), 5) / 100;
  g->lo = MAX (0, floor (lo / g->tick + 1e-9) * g->tick);
  g->hi = MIN (1, ceil (hi / g->tick - 1e-9) * g->tick);
  if (g->hi <= g->lo)
    g->hi = MIN (1, g->lo + g->tick);
  if (g->hi <= g->lo)
    g->lo = g->hi - g->tick;
}

static void
geometry (LkCheckpointPlot *self, Geometry *g)
{
  guint64 last = 0;

  g->x = PAD + LEFT_W;
  g->y = TOP_H;
  g->w = MAX (gtk_widget_get_width (GTK_WIDGET (self)) - g->x - RIGHT_W - PAD, 10);
  g->h = MAX (gtk_widget_get_height (GTK_WIDGET (self)) - g->y - BOTTOM_H, 10);
  for (guint i = 0; i < self->n_points; i++)
    last = MAX (last, self->steps[i]);
  /* A little room right of the last point, for its marker. */
  g->step_max = MAX (1.0, last * 1.04);
  y_range (self, g);
}

static double
x_of (const Geometry *g, double step)
{
  return g->x + step / g->step_max * g->w;
}

static double
y_of (const Geometry *g, double v)
{
  return g->y + g->h - (CLAMP (v, g->lo, g->hi) - g->lo) / (g->hi - g->lo) * g->h;
}

/* Drawing -------------------------------------------------------------------------- */

static void
draw_axes (LkCheckpointPlot *self, GtkSnapshot *snapshot, const Geometry *g, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA grid = *fg, dim = *fg;
  double step;

  grid.alpha = 0.12f;
  dim.alpha = 0.7f;
  for (double v = g->lo; v <= g->hi + g->tick / 2; v += g->tick)
    {
      g_autofree char *t = lk_plot_format_tick (100 * v, 100 * g->tick);
      g_autofree char *label = g_strdup_printf ("%s%%", t);
      double y = y_of (g, v);

      lk_plot_append_rect (snapshot, &grid, g->x, y, g->w, 1);
      lk_plot_append_text (snapshot, widget, label, g->x - 6, y, 1, 0.5, 0, &dim);
    }
  step = MAX (1, lk_plot_nice_step (g->step_max, 6));
  for (double s = 0; s <= g->step_max; s += step)
    {
      g_autofree char *t = lk_plot_format_tick (s, 1);
      double x = x_of (g, s);

      lk_plot_append_rect (snapshot, &grid, x, g->y, 1, g->h);
      lk_plot_append_text (snapshot, widget, t, x, g->y + g->h + 10, 0.5, 0.5, 0, &dim);
    }
  /* TRANSLATORS: the x axis of the plot of precision over checkpoints */
  lk_plot_append_text (snapshot, widget, _("training step"), g->x + g->w, g->y + g->h + 25, 1,
                       0.5, 0, &dim);
  lk_plot_append_rect (snapshot, &dim, g->x, g->y + g->h, g->w, 1);
}

static void
draw_legend (LkCheckpointPlot *self, GtkSnapshot *snapshot, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA dim = *fg;
  double x = PAD + LEFT_W, y = PAD + 6;
  g_autofree char *note = NULL;

  dim.alpha = 0.7f;
  for (guint s = 0; s < self->n_series; s++)
    {
      lk_plot_append_rect (snapshot, lk_plot_color (s), x, y - 1.5, 16, 3);
      lk_plot_append_text (snapshot, widget, self->series[s], x + 22, y, 0, 0.5, 0, fg);
      x += 22 + lk_plot_text_width (widget, self->series[s]) + 16;
    }
  if (self->baseline_name != NULL)
    /* TRANSLATORS: the legend of the plot over checkpoints: what the
     * dashed lines and the square marker are */
    note = g_strdup_printf (_("dashed: %s; square: the final model"), self->baseline_name);
  else
    note = g_strdup (_("square: the final model"));
  lk_plot_append_text (snapshot, widget, note, x, y, 0, 0.5, 0, &dim);
}

static void
draw_baselines (LkCheckpointPlot *self, GtkSnapshot *snapshot, const Geometry *g)
{
  for (guint s = 0; s < self->n_series; s++)
    {
      GdkRGBA color = *lk_plot_color (s);

      if (isnan (self->baseline[s]))
        continue;
      color.alpha = 0.8f;
      lk_plot_append_dashes (snapshot, &color, g->x, y_of (g, self->baseline[s]), g->w, TRUE,
                             1.5);
    }
}

static void
draw_series (LkCheckpointPlot *self, cairo_t *cr, const Geometry *g, guint s)
{
  const GdkRGBA *c = lk_plot_color (s);
  gboolean started = FALSE;

  cairo_set_source_rgba (cr, c->red, c->green, c->blue, 1);
  cairo_set_line_width (cr, 2);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  /* Through the measured points, in step order (a point not measured
   * yet is bridged). */
  for (guint i = 0; i < self->n_points; i++)
    {
      double v = value_at (self, i, s);
      if (isnan (v))
        continue;
      if (started)
        cairo_line_to (cr, x_of (g, (double) self->steps[i]), y_of (g, v));
      else
        cairo_move_to (cr, x_of (g, (double) self->steps[i]), y_of (g, v));
      started = TRUE;
    }
  cairo_stroke (cr);
  for (guint i = 0; i < self->n_points; i++)
    {
      double v = value_at (self, i, s), x, y;
      gboolean hover = (int) i == self->hover_point && (int) s == self->hover_series;
      double r = hover ? MARKER_R + 2 : MARKER_R;

      if (isnan (v))
        continue;
      x = x_of (g, (double) self->steps[i]);
      y = y_of (g, v);
      if ((int) i == self->final_point)
        cairo_rectangle (cr, x - r - 0.5, y - r - 0.5, 2 * r + 1, 2 * r + 1);
      else
        cairo_arc (cr, x, y, r, 0, 2 * G_PI);
      cairo_fill (cr);
      if (hover)
        {
          cairo_set_line_width (cr, 1.5);
          cairo_arc (cr, x, y, r + 3, 0, 2 * G_PI);
          cairo_stroke (cr);
        }
    }
}

static void
lk_checkpoint_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LkCheckpointPlot *self = LK_CHECKPOINT_PLOT (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  GdkRGBA fg;
  Geometry g;
  cairo_t *cr;

  gtk_style_context_get_color (style, &fg);
  geometry (self, &g);
  draw_legend (self, snapshot, &fg);
  draw_axes (self, snapshot, &g, &fg);
  draw_baselines (self, snapshot, &g);
  if (lk_checkpoint_plot_get_n_markers (self) == 0)
    {
      GdkRGBA dim = fg;
      dim.alpha = 0.6f;
      lk_plot_append_text (snapshot, widget, _("The checkpoints appear here as they are measured."),
                           g.x + g.w / 2, g.y + g.h / 2, 0.5, 0.5, 0, &dim);
      return;
    }
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT ((float) g.x - 12,
                                                                 (float) g.y - 12,
                                                                 (float) g.w + 24,
                                                                 (float) g.h + 24));
  for (guint s = 0; s < self->n_series; s++)
    draw_series (self, cr, &g, s);
  cairo_destroy (cr);
  if (self->hover_point >= 0)
    {
      g_autofree char *text = lk_checkpoint_plot_dup_readout (self, (guint) self->hover_point,
                                                              (guint) self->hover_series);
      double x = x_of (&g, (double) self->steps[self->hover_point]);
      lk_plot_append_readout (snapshot, widget, text, x, g.y + 6, g.x + g.w, &fg);
    }
}

static void
lk_checkpoint_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline,
                            int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (PAD + LEFT_W + RIGHT_W + PAD + 200);
      *natural = 560;
    }
  else
    {
      *minimum = (int) (TOP_H + BOTTOM_H + 120);
      *natural = 300;
    }
}

/* Reading out ------------------------------------------------------------------------- */

gboolean
lk_checkpoint_plot_get_marker_position (LkCheckpointPlot *self, guint point, guint series,
                                        double *x, double *y)
{
  Geometry g;

  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), FALSE);
  g_return_val_if_fail (point < self->n_points && series < self->n_series, FALSE);
  if (isnan (value_at (self, point, series)))
    return FALSE;
  geometry (self, &g);
  *x = x_of (&g, (double) self->steps[point]);
  *y = y_of (&g, value_at (self, point, series));
  return TRUE;
}

gboolean
lk_checkpoint_plot_marker_at (LkCheckpointPlot *self, double x, double y, guint *point,
                              guint *series)
{
  double best = HIT_R * HIT_R;
  gboolean found = FALSE;

  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), FALSE);
  for (guint i = 0; i < self->n_points; i++)
    for (guint s = 0; s < self->n_series; s++)
      {
        double mx, my, d;
        if (!lk_checkpoint_plot_get_marker_position (self, i, s, &mx, &my))
          continue;
        d = (mx - x) * (mx - x) + (my - y) * (my - y);
        if (d < best)
          {
            best = d;
            *point = i;
            *series = s;
            found = TRUE;
          }
      }
  return found;
}

char *
lk_checkpoint_plot_dup_readout (LkCheckpointPlot *self, guint point, guint series)
{
  double v;

  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), NULL);
  g_return_val_if_fail (point < self->n_points && series < self->n_series, NULL);
  v = value_at (self, point, series);
  if (isnan (v))
    /* TRANSLATORS: a point of the plot over checkpoints not measured yet: point, series */
    return g_strdup_printf (_("%s, %s: not measured yet"), self->names[point],
                            self->series[series]);
  /* TRANSLATORS: a point of the plot over checkpoints: the point ("Checkpoint at step
   * 600"), the series (a triplet set), the precision */
  return g_strdup_printf (_("%s, %s: %.1f%%"), self->names[point], self->series[series],
                          100 * v);
}

gboolean
lk_checkpoint_plot_get_hover (LkCheckpointPlot *self, guint *point, guint *series)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), FALSE);
  if (self->hover_point < 0)
    return FALSE;
  *point = (guint) self->hover_point;
  *series = (guint) self->hover_series;
  return TRUE;
}

static void
set_hover (LkCheckpointPlot *self, int point, int series)
{
  if (self->hover_point == point && self->hover_series == series)
    return;
  self->hover_point = point;
  self->hover_series = series;
  if (point >= 0)
    {
      g_autofree char *text = lk_checkpoint_plot_dup_readout (self, (guint) point, (guint) series);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      text, -1);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, LkCheckpointPlot *self)
{
  guint point, series;

  if (lk_checkpoint_plot_marker_at (self, x, y, &point, &series))
    set_hover (self, (int) point, (int) series);
  else
    set_hover (self, -1, -1);
}

static void
on_leave (GtkEventControllerMotion *motion, LkCheckpointPlot *self)
{
  set_hover (self, -1, -1);
}

/* The next measured point from @i in direction @dir (of series @s), or
 * @i itself if there is none. */
static int
next_measured (LkCheckpointPlot *self, int i, int dir, guint s)
{
  for (int j = i + dir; j >= 0 && j < (int) self->n_points; j += dir)
    if (!isnan (value_at (self, (guint) j, s)))
      return j;
  return i;
}

static gboolean
on_key (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LkCheckpointPlot *self)
{
  int n = (int) self->n_points;
  int s = self->hover_series >= 0 ? self->hover_series : 0;
  int i = self->hover_point;

  if (lk_checkpoint_plot_get_n_markers (self) == 0)
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_Left: case GDK_KEY_KP_Left:
      i = i < 0 ? next_measured (self, n, -1, (guint) s) : next_measured (self, i, -1, (guint) s);
      break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right:
      i = next_measured (self, i, 1, (guint) s);
      break;
    case GDK_KEY_Home:
      i = next_measured (self, -1, 1, (guint) s);
      break;
    case GDK_KEY_End:
      i = next_measured (self, n, -1, (guint) s);
      break;
    case GDK_KEY_Up: case GDK_KEY_KP_Up:
    case GDK_KEY_Down: case GDK_KEY_KP_Down:
      {
        int dir = keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up ? -1 : 1;
        int t = s;
        if (i < 0)
          i = next_measured (self, n, -1, (guint) s);
        /* The next series measured at this point. */
        for (int k = 1; k < (int) self->n_series; k++)
          {
            int c = ((s + dir * k) % (int) self->n_series + (int) self->n_series) %
                    (int) self->n_series;
            if (i >= 0 && i < n && !isnan (value_at (self, (guint) i, (guint) c)))
              {
                t = c;
                break;
              }
          }
        s = t;
      }
      break;
    case GDK_KEY_Escape:
      set_hover (self, -1, -1);
      return TRUE;
    default:
      return FALSE;
    }
  if (i < 0 || i >= n || isnan (value_at (self, (guint) i, (guint) s)))
    return TRUE;
  set_hover (self, i, s);
  return TRUE;
}

static gboolean
on_query_tooltip (LkCheckpointPlot *self, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  g_autofree char *text = NULL;
  guint point, series;

  if (keyboard || !lk_checkpoint_plot_marker_at (self, x, y, &point, &series))
    return FALSE;
  text = lk_checkpoint_plot_dup_readout (self, point, series);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* What a screen reader says: every value and the baselines, since
 * without a pointer the keys are the only other way to them. */
static void
update_label (LkCheckpointPlot *self)
{
  g_autoptr(GString) text = g_string_new (_("Similarity precision over checkpoints"));

  for (guint s = 0; s < self->n_series; s++)
    if (!isnan (self->baseline[s]) && self->baseline_name != NULL)
      /* TRANSLATORS: the baseline of the plot over checkpoints: its name, a set, the precision */
      g_string_append_printf (text, _("; %s, %s: %.1f%%"), self->baseline_name, self->series[s],
                              100 * self->baseline[s]);
  for (guint i = 0; i < self->n_points; i++)
    for (guint s = 0; s < self->n_series; s++)
      if (!isnan (value_at (self, i, s)))
        {
          g_autofree char *one = lk_checkpoint_plot_dup_readout (self, i, s);
          g_string_append (text, "; ");
          g_string_append (text, one);
        }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text->str,
                                  -1);
}

/* Object ---------------------------------------------------------------------------------- */

static void
lk_checkpoint_plot_finalize (GObject *object)
{
  LkCheckpointPlot *self = LK_CHECKPOINT_PLOT (object);

  g_strfreev (self->series);
  g_strfreev (self->names);
  g_free (self->steps);
  g_free (self->values);
  g_free (self->baseline);
  g_free (self->baseline_name);
  G_OBJECT_CLASS (lk_checkpoint_plot_parent_class)->finalize (object);
}

static void
lk_checkpoint_plot_class_init (LkCheckpointPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lk_checkpoint_plot_finalize;
  widget_class->snapshot = lk_checkpoint_plot_snapshot;
  widget_class->measure = lk_checkpoint_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "checkpointplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lk_checkpoint_plot_init (LkCheckpointPlot *self)
{
  self->hover_point = self->hover_series = -1;
  self->final_point = -1;
  self->series = g_new0 (char *, 1);
  self->names = g_new0 (char *, 1);
  self->steps = g_new0 (guint64, 1);
  self->values = g_new0 (double, 1);
  self->baseline = g_new0 (double, 1);
  lk_plot_follow_pointer (GTK_WIDGET (self), G_CALLBACK (on_motion), G_CALLBACK (on_leave),
                          G_CALLBACK (on_key), G_CALLBACK (on_query_tooltip));
  update_label (self);
}

GtkWidget *
lk_checkpoint_plot_new (void)
{
  return g_object_new (LK_TYPE_CHECKPOINT_PLOT, NULL);
}

void
lk_checkpoint_plot_set_data (LkCheckpointPlot  *self,
                             const char *const *series,
                             guint              n_series,
                             const guint64     *steps,
                             const char *const *names,
                             guint              n_points,
                             int                final_point,
                             const double      *values,
                             const char        *baseline_name,
                             const double      *baseline)
{
  g_return_if_fail (LK_IS_CHECKPOINT_PLOT (self));
  g_return_if_fail (series != NULL || n_series == 0);
  g_return_if_fail ((steps != NULL && names != NULL) || n_points == 0);
  g_return_if_fail (values != NULL || n_points * n_series == 0);
  g_return_if_fail (baseline != NULL || n_series == 0);
  g_return_if_fail (final_point < (int) n_points);

  g_strfreev (self->series);
  g_strfreev (self->names);
  g_free (self->steps);
  g_free (self->values);
  g_free (self->baseline);
  g_free (self->baseline_name);
  self->series = g_new0 (char *, n_series + 1);
  self->names = g_new0 (char *, n_points + 1);
  for (guint s = 0; s < n_series; s++)
    self->series[s] = g_strdup (series[s]);
  for (guint i = 0; i < n_points; i++)
    self->names[i] = g_strdup (names[i]);
  self->steps = g_memdup2 (steps, MAX (1, n_points) * sizeof (guint64));
  self->values = g_memdup2 (values, MAX (1, (gsize) n_points * n_series) * sizeof (double));
  self->baseline = g_memdup2 (baseline, MAX (1, n_series) * sizeof (double));
  self->baseline_name = g_strdup (baseline_name);
  self->n_series = n_series;
  self->n_points = n_points;
  self->final_point = final_point;
  /* Keep the read-out on the same marker while points arrive. */
  if (self->hover_point >= (int) n_points || self->hover_series >= (int) n_series ||
      (self->hover_point >= 0 &&
       isnan (value_at (self, (guint) self->hover_point, (guint) self->hover_series))))
    self->hover_point = self->hover_series = -1;
  update_label (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
lk_checkpoint_plot_get_n_points (LkCheckpointPlot *self)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), 0);
  return self->n_points;
}

int
lk_checkpoint_plot_get_final_point (LkCheckpointPlot *self)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), -1);
  return self->final_point;
}

guint
lk_checkpoint_plot_get_n_series (LkCheckpointPlot *self)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), 0);
  return self->n_series;
}

guint
lk_checkpoint_plot_get_n_markers (LkCheckpointPlot *self)
{
  guint n = 0;

  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), 0);
  for (gsize i = 0; i < (gsize) self->n_points * self->n_series; i++)
    n += !isnan (self->values[i]);
  return n;
}

guint64
lk_checkpoint_plot_get_step (LkCheckpointPlot *self, guint point)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), 0);
  g_return_val_if_fail (point < self->n_points, 0);
  return self->steps[point];
}

double
lk_checkpoint_plot_get_value (LkCheckpointPlot *self, guint point, guint series)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), NAN);
  g_return_val_if_fail (point < self->n_points && series < self->n_series, NAN);
  return value_at (self, point, series);
}

double
lk_checkpoint_plot_get_baseline (LkCheckpointPlot *self, guint series)
{
  g_return_val_if_fail (LK_IS_CHECKPOINT_PLOT (self), NAN);
  g_return_val_if_fail (series < self->n_series, NAN);
  return self->baseline[series];
}
