/* lk-loss-plot.c — LkLossPlot: one geometry, from the widget's size and
 * the points, serves drawing and hit-testing. The averages are kept
 * beside the history and extended as points arrive, so a frame costs
 * O(width) whatever the number of steps: with more points than pixel
 * columns the raw curve is drawn as each column's min–max band. */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>

#include "lk-loss-plot.h"
#include "lk-plot-util.h"

#define PAD 10.0
#define LEFT_W 52.0
#define RIGHT_W 48.0
#define TOP_H 44.0
#define BOTTOM_H 30.0
#define SMOOTH 0.98         /* as the trainer's loss_smooth: ~50 steps */
#define A11Y_INTERVAL_US (1000 * 1000)

/* Blue for the loss, orange for the violation, as the other plots'
 * first two series. */
#define loss_color (lk_plot_palette[0])
#define viol_color (lk_plot_palette[1])

struct _LkLossPlot
{
  GtkWidget  parent_instance;

  GArray    *history;       /* LkTrainPoint, borrowed reference */
  GArray    *smooth;        /* float pairs (loss, violation), one per point */
  GArray    *raw_sum;       /* double triples: the uncorrected sums and SMOOTH^k */
  int        hover;         /* point index, -1: none */
  gint64     a11y_time;
};

G_DEFINE_FINAL_TYPE (LkLossPlot, lk_loss_plot, GTK_TYPE_WIDGET)

typedef struct {
  double x, y, w, h;        /* the plot area */
  double step_min, step_max;
  double loss_max;
} Geometry;

static guint
n_points (LkLossPlot *self)
{
  return self->history != NULL ? self->history->len : 0;
}

static const LkTrainPoint *
point (LkLossPlot *self, guint i)
{
  return &g_array_index (self->history, LkTrainPoint, i);
}

/* The average of a stage's first k points is the exponential average
 * from zero divided by 1 − SMOOTH^k (bias-corrected, as in Adam), so it
 * follows the first steps instead of lingering at the first value. The
 * uncorrected sums are kept in raw_sum. */
static void
extend_smooth (LkLossPlot *self)
{
  guint n = n_points (self);

  if (self->smooth->len > 2 * n)
    {
      g_array_set_size (self->smooth, 0);
      g_array_set_size (self->raw_sum, 0);
    }
  for (guint i = self->smooth->len / 2; i < n; i++)
    {
      const LkTrainPoint *p = point (self, i);
      gboolean first = i == 0 || point (self, i - 1)->stage != p->stage;
      double sl = first ? 0 : g_array_index (self->raw_sum, double, 3 * i - 3);
      double sv = first ? 0 : g_array_index (self->raw_sum, double, 3 * i - 2);
      double w = first ? 1 : g_array_index (self->raw_sum, double, 3 * i - 1);
      float l, v;

      sl = SMOOTH * sl + (1 - SMOOTH) * p->loss;
      sv = SMOOTH * sv + (1 - SMOOTH) * p->violation;
      w *= SMOOTH;                            /* SMOOTH^k */
      g_array_append_val (self->raw_sum, sl);
      g_array_append_val (self->raw_sum, sv);
      g_array_append_val (self->raw_sum, w);
      l = (float) (sl / (1 - w));
      v = (float) (sv / (1 - w));
      g_array_append_val (self->smooth, l);
      g_array_append_val (self->smooth, v);
    }
}

static void
geometry (LkLossPlot *self, Geometry *g)
{
  guint n = n_points (self);
  double top = 0;

  g->x = PAD + LEFT_W;
  g->y = TOP_H;
  g->w = MAX (gtk_widget_get_width (GTK_WIDGET (self)) - g->x - RIGHT_W - PAD, 10);
  g->h = MAX (gtk_widget_get_height (GTK_WIDGET (self)) - g->y - BOTTOM_H, 10);
  g->step_min = n > 0 ? (double) point (self, 0)->step - 1 : 0;
  g->step_max = n > 0 ? MAX ((double) point (self, n - 1)->step, g->step_min + 10) : 100;
  /* The averages set the scale (a first step's loss would flatten the
   * rest); raw spikes above it are clipped. */
  extend_smooth (self);
  for (guint i = 0; i < n; i++)
    top = MAX (top, g_array_index (self->smooth, float, 2 * i));
  if (n > 0)
    top = MAX (top, point (self, n - 1)->loss);
  top = top > 0 ? top * 1.15 : 1;
  g->loss_max = ceil (top / lk_plot_nice_step (top, 4)) * lk_plot_nice_step (top, 4);
}

static double
x_of (const Geometry *g, double step)
{
  return g->x + (step - g->step_min) / (g->step_max - g->step_min) * g->w;
}

static double
y_loss (const Geometry *g, double loss)
{
  return g->y + g->h - CLAMP (loss / g->loss_max, 0, 1) * g->h;
}

static double
y_viol (const Geometry *g, double v)
{
  return g->y + g->h - CLAMP (v, 0, 1) * g->h;
}

/* Drawing -------------------------------------------------------------------------- */

static void
draw_axes (LkLossPlot *self, GtkSnapshot *snapshot, const Geometry *g, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA grid = *fg, dim = *fg;
  double step;

  grid.alpha = 0.12f;
  dim.alpha = 0.7f;
  /* Loss, left; the grid follows its ticks. */
  step = lk_plot_nice_step (g->loss_max, 4);
  for (double v = 0; v <= g->loss_max + step / 2; v += step)
    {
      g_autofree char *t = lk_plot_format_tick (v, step);
      double y = y_loss (g, v);
      lk_plot_append_rect (snapshot, &grid, g->x, y, g->w, 1);
      lk_plot_append_text (snapshot, widget, t, g->x - 6, y, 1, 0.5, 0, &loss_color);
    }
  /* Violation, right: 0–100%. */
  for (guint t = 0; t <= 4; t++)
    {
      g_autofree char *text = g_strdup_printf ("%u%%", t * 25);
      lk_plot_append_text (snapshot, widget, text, g->x + g->w + 6, y_viol (g, t / 4.0), 0, 0.5,
                           0, &viol_color);
    }
  /* Steps, below. */
  step = MAX (1, lk_plot_nice_step (g->step_max - g->step_min, 6));
  for (double s = ceil (MAX (g->step_min, 0) / step) * step; s <= g->step_max; s += step)
    {
      g_autofree char *t = lk_plot_format_tick (s, 1);
      double x = x_of (g, s);
      lk_plot_append_rect (snapshot, &grid, x, g->y, 1, g->h);
      lk_plot_append_text (snapshot, widget, t, x, g->y + g->h + 10, 0.5, 0.5, 0, &dim);
    }
  /* TRANSLATORS: the loss plot's x axis */
  lk_plot_append_text (snapshot, widget, _("step"), g->x + g->w, g->y + g->h + 24, 1, 0.5, 0, &dim);
  lk_plot_append_rect (snapshot, &dim, g->x, g->y + g->h, g->w, 1);
}

static void
draw_legend (LkLossPlot *self, GtkSnapshot *snapshot, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  const char *loss = _("loss");
  const char *viol = _("violation rate");
  const char *note = _("faint: every step; solid: average");
  double x = PAD + LEFT_W;
  GdkRGBA dim = *fg;
  g_autoptr(PangoLayout) l1 = gtk_widget_create_pango_layout (widget, loss);
  g_autoptr(PangoLayout) l2 = gtk_widget_create_pango_layout (widget, viol);
  int w1, w2, h;

  dim.alpha = 0.7f;
  pango_layout_get_pixel_size (l1, &w1, &h);
  pango_layout_get_pixel_size (l2, &w2, &h);
  lk_plot_append_rect (snapshot, &loss_color, x, 9, 14, 3);
  lk_plot_append_text (snapshot, widget, loss, x + 20, 10, 0, 0.5, 0, fg);
  x += 20 + w1 + 18;
  lk_plot_append_rect (snapshot, &viol_color, x, 9, 14, 3);
  lk_plot_append_text (snapshot, widget, viol, x + 20, 10, 0, 0.5, 0, fg);
  x += 20 + w2 + 18;
  lk_plot_append_text (snapshot, widget, note, x, 10, 0, 0.5, 0, &dim);
}

static void
stroke_curve (LkLossPlot *self, cairo_t *cr, const Geometry *g, gboolean smooth, gboolean viol,
              const GdkRGBA *color, double alpha, double width)
{
  guint n = n_points (self);
  double last_col = -1e9;
  gboolean started = FALSE;
  guint prev_stage = G_MAXUINT;

  cairo_set_source_rgba (cr, color->red, color->green, color->blue, alpha);
  cairo_set_line_width (cr, width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; i < n; i++)
    {
      const LkTrainPoint *p = point (self, i);
      double v = smooth ? g_array_index (self->smooth, float, 2 * i + (viol ? 1 : 0))
                        : (viol ? p->violation : p->loss);
      double x = x_of (g, (double) p->step), y = viol ? y_viol (g, v) : y_loss (g, v);

      /* A new stage starts a new line: its loss is another quantity. */
      if (p->stage != prev_stage)
        {
          prev_stage = p->stage;
          cairo_move_to (cr, x, y);
          started = TRUE;
          last_col = floor (x);
          continue;
        }
      /* One vertex per pixel column, at most, for the averages; the raw
       * values keep every vertex up to twice the columns, then thin. */
      if (floor (x) == last_col && (smooth || n > 2 * g->w) && i + 1 < n &&
          point (self, i + 1)->stage == p->stage)
        continue;
      last_col = floor (x);
      if (started)
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
}

/* More points than columns: each column's range of raw values, as a
 * band, so spikes stay visible without drawing every vertex. */
static void
fill_band (LkLossPlot *self, cairo_t *cr, const Geometry *g, gboolean viol, const GdkRGBA *color,
           double alpha)
{
  guint n = n_points (self);
  double col = -1, lo = 0, hi = 0;

  cairo_set_source_rgba (cr, color->red, color->green, color->blue, alpha);
  for (guint i = 0; i <= n; i++)
    {
      const LkTrainPoint *p = i < n ? point (self, i) : NULL;
      double x = p != NULL ? floor (x_of (g, (double) p->step)) : -2;
      double v = p == NULL ? 0 : viol ? y_viol (g, p->violation) : y_loss (g, p->loss);

      if (x != col)
        {
          if (col >= 0)
            cairo_rectangle (cr, col, lo, 1, MAX (hi - lo, 1));
          col = x;
          lo = hi = v;
        }
      lo = MIN (lo, v);
      hi = MAX (hi, v);
    }
  cairo_fill (cr);
}

static void
draw_curves (LkLossPlot *self, GtkSnapshot *snapshot, const Geometry *g)
{
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT ((float) g->x,
                                                                          (float) g->y - 1,
                                                                          (float) g->w,
                                                                          (float) g->h + 2));
  gboolean dense = n_points (self) > 2 * g->w;

  cairo_rectangle (cr, g->x, g->y - 1, g->w, g->h + 2);
  cairo_clip (cr);
  if (dense)
    {
      fill_band (self, cr, g, TRUE, &viol_color, 0.18);
      fill_band (self, cr, g, FALSE, &loss_color, 0.25);
    }
  else
    {
      stroke_curve (self, cr, g, FALSE, TRUE, &viol_color, 0.25, 1);
      stroke_curve (self, cr, g, FALSE, FALSE, &loss_color, 0.3, 1);
    }
  stroke_curve (self, cr, g, TRUE, TRUE, &viol_color, 1, 2);
  stroke_curve (self, cr, g, TRUE, FALSE, &loss_color, 1, 2.5);
  cairo_destroy (cr);
}

static const char *
stage_label (gboolean ranking)
{
  return ranking
    /* TRANSLATORS: right of the stage boundary in the loss plot */
    ? _("ranking (hinge) →")
    /* TRANSLATORS: left of the stage boundary in the loss plot */
    : _("← pre-training (cross-entropy)");
}

/* Where the two stage labels go: pre-training's ending 6 px left of the
 * boundary, ranking's starting 6 px right of it; near an edge of the
 * widget (ranking is often the last fifth of the steps) the label that
 * would run past it is moved in, and the other moved along so they keep
 * 12 px apart, rather than one being cut. */
static void
stage_labels (LkLossPlot *self, const Geometry *g, double *left_end, double *right_start)
{
  GtkWidget *widget = GTK_WIDGET (self);
  double x = x_of (g, (double) point (self, (guint) lk_loss_plot_get_boundary (self))->step - 0.5);
  double wl = lk_plot_text_width (widget, stage_label (FALSE));
  double wr = lk_plot_text_width (widget, stage_label (TRUE));
  double right = gtk_widget_get_width (widget) - 2;

  *left_end = x - 6;
  *right_start = x + 6;
  if (*right_start + wr > right)
    {
      *right_start = right - wr;
      *left_end = MIN (*left_end, *right_start - 12);
    }
  if (*left_end - wl < 2)
    {
      *left_end = 2 + wl;
      *right_start = MAX (*right_start, *left_end + 12);
    }
}

static void
draw_boundary (LkLossPlot *self, GtkSnapshot *snapshot, const Geometry *g, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  int b = lk_loss_plot_get_boundary (self);
  GdkRGBA mark = *fg, dim = *fg;
  double x, left_end, right_start;

  mark.alpha = 0.6f;
  dim.alpha = 0.75f;
  if (n_points (self) == 0)
    return;
  if (b < 0)
    {
      /* One stage so far: say which. */
      const char *stage = point (self, 0)->stage == LK_TRAIN_STAGE_RANKING
                          ? _("ranking: triplet hinge loss")
                          : _("pre-training: cross-entropy, share misclassified");
      lk_plot_append_text (snapshot, widget, stage, g->x + 6, g->y - 12, 0, 0.5, 0, &dim);
      return;
    }
  x = x_of (g, (double) point (self, (guint) b)->step - 0.5);
  lk_plot_append_dashes (snapshot, &mark, x, g->y, g->h, FALSE, 1.5);
  stage_labels (self, g, &left_end, &right_start);
  lk_plot_append_text (snapshot, widget, stage_label (FALSE), left_end, g->y - 12, 1, 0.5, 0, &dim);
  lk_plot_append_text (snapshot, widget, stage_label (TRUE), right_start, g->y - 12, 0, 0.5, 0, &dim);
}

static void
draw_hover (LkLossPlot *self, GtkSnapshot *snapshot, const Geometry *g, const GdkRGBA *fg)
{
  GtkWidget *widget = GTK_WIDGET (self);
  const LkTrainPoint *p;
  g_autofree char *text = NULL;
  GdkRGBA line = *fg;
  double x, sl, sv;

  if (self->hover < 0 || (guint) self->hover >= n_points (self))
    return;
  p = point (self, (guint) self->hover);
  x = x_of (g, (double) p->step);
  line.alpha = 0.5f;
  lk_plot_append_rect (snapshot, &line, x - 0.5, g->y, 1, g->h);
  lk_loss_plot_get_smoothed (self, (guint) self->hover, &sl, &sv);
  lk_plot_append_rect (snapshot, &loss_color, x - 3, y_loss (g, sl) - 3, 6, 6);
  lk_plot_append_rect (snapshot, &viol_color, x - 3, y_viol (g, sv) - 3, 6, 6);
  text = lk_loss_plot_dup_readout (self, (guint) self->hover);
  lk_plot_append_readout (snapshot, widget, text, x, g->y + 6, g->x + g->w, fg);
}

static void
lk_loss_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LkLossPlot *self = LK_LOSS_PLOT (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  GdkRGBA fg;
  Geometry g;

  gtk_style_context_get_color (style, &fg);
  geometry (self, &g);
  draw_legend (self, snapshot, &fg);
  draw_axes (self, snapshot, &g, &fg);
  if (n_points (self) == 0)
    {
      GdkRGBA dim = fg;
      dim.alpha = 0.6f;
      lk_plot_append_text (snapshot, widget, _("The loss appears here once training runs."),
                           g.x + g.w / 2, g.y + g.h / 2, 0.5, 0.5, 0, &dim);
      return;
    }
  draw_boundary (self, snapshot, &g, &fg);
  draw_curves (self, snapshot, &g);
  draw_hover (self, snapshot, &g, &fg);
}

static void
lk_loss_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (PAD + LEFT_W + RIGHT_W + PAD + 200);
      *natural = 640;
    }
  else
    {
      *minimum = (int) (TOP_H + BOTTOM_H + 120);
      *natural = 320;
    }
}

/* Reading out ------------------------------------------------------------------------- */

gboolean
lk_loss_plot_point_at (LkLossPlot *self, double x, guint *index)
{
  Geometry g;
  double step;
  guint lo = 0, hi;

  g_return_val_if_fail (LK_IS_LOSS_PLOT (self), FALSE);
  if (n_points (self) == 0)
    return FALSE;
  geometry (self, &g);
  if (x < g.x - 4 || x > g.x + g.w + 4)
    return FALSE;
  step = g.step_min + (x - g.x) / g.w * (g.step_max - g.step_min);
  /* The first point at or after @step, or the one before it. */
  hi = n_points (self);
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if ((double) point (self, mid)->step < step)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == n_points (self) ||
      (lo > 0 && step - point (self, lo - 1)->step < point (self, lo)->step - step))
    lo = lo > 0 ? lo - 1 : 0;
  *index = lo;
  return TRUE;
}

void
lk_loss_plot_get_smoothed (LkLossPlot *self, guint index, double *loss, double *violation)
{
  g_return_if_fail (LK_IS_LOSS_PLOT (self));
  g_return_if_fail (index < n_points (self));
  extend_smooth (self);
  *loss = g_array_index (self->smooth, float, 2 * index);
  *violation = g_array_index (self->smooth, float, 2 * index + 1);
}

char *
lk_loss_plot_dup_readout (LkLossPlot *self, guint index)
{
  const LkTrainPoint *p;
  double sl, sv;

  g_return_val_if_fail (LK_IS_LOSS_PLOT (self), NULL);
  g_return_val_if_fail (index < n_points (self), NULL);
  p = point (self, index);
  lk_loss_plot_get_smoothed (self, index, &sl, &sv);
  /* TRANSLATORS: the loss plot's read-out: step, stage, loss and violation
   * of that step, then their averages */
  return g_strdup_printf (_("Step %'" PRIu64 " (%s): loss %.3f, violation %.0f%% "
                            "(average %.3f, %.0f%%)"),
                          p->step, lk_train_stage_label (p->stage), p->loss, 100 * p->violation,
                          sl, 100 * sv);
}

static void
set_hover (LkLossPlot *self, int index)
{
  if (self->hover == index)
    return;
  self->hover = index;
  if (index >= 0)
    {
      g_autofree char *text = lk_loss_plot_dup_readout (self, (guint) index);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      text, -1);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, LkLossPlot *self)
{
  guint index;
  set_hover (self, lk_loss_plot_point_at (self, x, &index) ? (int) index : -1);
}

static void
on_leave (GtkEventControllerMotion *motion, LkLossPlot *self)
{
  set_hover (self, -1);
}

static gboolean
on_key (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
        LkLossPlot *self)
{
  int n = (int) n_points (self), i = self->hover >= 0 ? self->hover : n - 1;
  int page = MAX (1, n / 20);

  if (n == 0)
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_Left: case GDK_KEY_KP_Left: i -= (state & GDK_CONTROL_MASK) ? page : 1; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: i += (state & GDK_CONTROL_MASK) ? page : 1; break;
    case GDK_KEY_Home: i = 0; break;
    case GDK_KEY_End: i = n - 1; break;
    case GDK_KEY_Escape: set_hover (self, -1); return TRUE;
    default: return FALSE;
    }
  set_hover (self, CLAMP (i, 0, n - 1));
  return TRUE;
}

static gboolean
on_query_tooltip (LkLossPlot *self, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  g_autofree char *text = NULL;
  guint index;

  if (keyboard || !lk_loss_plot_point_at (self, x, &index))
    return FALSE;
  text = lk_loss_plot_dup_readout (self, index);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* What a screen reader says: the latest step, refreshed once a second. */
static void
update_label (LkLossPlot *self, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  guint n = n_points (self);
  g_autofree char *text = NULL;

  if (!force && now - self->a11y_time < A11Y_INTERVAL_US)
    return;
  self->a11y_time = now;
  if (n == 0)
    text = g_strdup (_("Training loss and violation rate: no steps yet"));
  else
    {
      g_autofree char *last = lk_loss_plot_dup_readout (self, n - 1);
      /* TRANSLATORS: the loss plot's accessible name: steps so far, the last step's read-out */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Training loss and violation rate, "
                                           "%u step; latest: %s", "Training loss and violation "
                                           "rate, %u steps; latest: %s", n),
                              n, last);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

/* Object ---------------------------------------------------------------------------------- */

static void
lk_loss_plot_finalize (GObject *object)
{
  LkLossPlot *self = LK_LOSS_PLOT (object);

  g_clear_pointer (&self->history, g_array_unref);
  g_array_unref (self->smooth);
  g_array_unref (self->raw_sum);
  G_OBJECT_CLASS (lk_loss_plot_parent_class)->finalize (object);
}

static void
lk_loss_plot_class_init (LkLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lk_loss_plot_finalize;
  widget_class->snapshot = lk_loss_plot_snapshot;
  widget_class->measure = lk_loss_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "lossplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lk_loss_plot_init (LkLossPlot *self)
{
  self->hover = -1;
  self->smooth = g_array_new (FALSE, FALSE, sizeof (float));
  self->raw_sum = g_array_new (FALSE, FALSE, sizeof (double));
  lk_plot_follow_pointer (GTK_WIDGET (self), G_CALLBACK (on_motion), G_CALLBACK (on_leave),
                          G_CALLBACK (on_key), G_CALLBACK (on_query_tooltip));
  update_label (self, TRUE);
}

GtkWidget *
lk_loss_plot_new (void)
{
  return g_object_new (LK_TYPE_LOSS_PLOT, NULL);
}

void
lk_loss_plot_set_history (LkLossPlot *self, GArray *history)
{
  g_return_if_fail (LK_IS_LOSS_PLOT (self));
  g_return_if_fail (history == NULL ||
                    g_array_get_element_size (history) == sizeof (LkTrainPoint));

  if (history != NULL)
    g_array_ref (history);
  g_clear_pointer (&self->history, g_array_unref);
  self->history = history;
  g_array_set_size (self->smooth, 0);
  g_array_set_size (self->raw_sum, 0);
  self->hover = -1;
  update_label (self, TRUE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lk_loss_plot_changed (LkLossPlot *self)
{
  g_return_if_fail (LK_IS_LOSS_PLOT (self));
  update_label (self, FALSE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
lk_loss_plot_get_n_points (LkLossPlot *self)
{
  g_return_val_if_fail (LK_IS_LOSS_PLOT (self), 0);
  return n_points (self);
}

int
lk_loss_plot_get_boundary (LkLossPlot *self)
{
  guint n;

  g_return_val_if_fail (LK_IS_LOSS_PLOT (self), -1);
  n = n_points (self);
  for (guint i = 1; i < n; i++)
    if (point (self, i)->stage == LK_TRAIN_STAGE_RANKING &&
        point (self, i - 1)->stage == LK_TRAIN_STAGE_PRETRAIN)
      return (int) i;
  return -1;
}

gboolean
lk_loss_plot_get_stage_labels (LkLossPlot *self, double *left_start, double *left_end,
                               double *right_start, double *right_end)
{
  GtkWidget *widget = GTK_WIDGET (self);
  Geometry g;

  g_return_val_if_fail (LK_IS_LOSS_PLOT (self), FALSE);
  if (lk_loss_plot_get_boundary (self) < 0)
    return FALSE;
  geometry (self, &g);
  stage_labels (self, &g, left_end, right_start);
  *left_start = *left_end - lk_plot_text_width (widget, stage_label (FALSE));
  *right_end = *right_start + lk_plot_text_width (widget, stage_label (TRUE));
  return TRUE;
}

double
lk_loss_plot_get_loss_max (LkLossPlot *self)
{
  Geometry g;

  g_return_val_if_fail (LK_IS_LOSS_PLOT (self), 0);
  geometry (self, &g);
  return g.loss_max;
}
