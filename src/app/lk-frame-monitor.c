/* lk-frame-monitor.c — see lk-frame-monitor.h. */
#include "config.h"

#include "lk-frame-monitor.h"

struct _LkFrameMonitor
{
  GtkWidget *widget;
  guint      tick_id;
  gint64     last_us;
  gint64     worst_us;
  gint64     total_us;
  guint      n_intervals;
};

static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  LkFrameMonitor *self = data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);

  if (self->last_us != 0 && now > self->last_us)
    {
      gint64 dt = now - self->last_us;
      self->worst_us = MAX (self->worst_us, dt);
      self->total_us += dt;
      self->n_intervals++;
    }
  self->last_us = now;
  return G_SOURCE_CONTINUE;
}

LkFrameMonitor *
lk_frame_monitor_start (GtkWidget *widget)
{
  LkFrameMonitor *self;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  self = g_new0 (LkFrameMonitor, 1);
  self->widget = g_object_ref (widget);
  self->tick_id = gtk_widget_add_tick_callback (widget, on_tick, self, NULL);
  return self;
}

void
lk_frame_monitor_get (LkFrameMonitor *self, LkFrameStats *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stats != NULL);

  stats->n_frames = self->n_intervals;
  stats->worst_ms = self->worst_us / 1000.0;
  stats->mean_ms = self->n_intervals > 0 ? self->total_us / 1000.0 / self->n_intervals : 0;
}

void
lk_frame_monitor_stop (LkFrameMonitor *self, LkFrameStats *stats)
{
  g_return_if_fail (self != NULL);

  if (stats != NULL)
    lk_frame_monitor_get (self, stats);
  gtk_widget_remove_tick_callback (self->widget, self->tick_id);
  g_object_unref (self->widget);
  g_free (self);
}
