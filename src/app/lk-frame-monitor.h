/* lk-frame-monitor.h — how smoothly a window draws while work runs:
 * the intervals between the frames of a widget's frame clock.
 *
 * While a monitor runs, the frame clock ticks every frame (~60 Hz), so a
 * long interval means the main loop was blocked. LkWindow logs one line
 * per open when LIKENESS_DEBUG_FRAMES is set; tests use it to report the
 * worst interval of a run. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _LkFrameMonitor LkFrameMonitor;

typedef struct {
  guint   n_frames;
  double  worst_ms;     /* the longest interval between two frames */
  double  mean_ms;
} LkFrameStats;

LkFrameMonitor *lk_frame_monitor_start (GtkWidget      *widget);
void            lk_frame_monitor_get   (LkFrameMonitor *self,
                                        LkFrameStats   *stats);
/* Stops, fills @stats if not NULL, frees. */
void            lk_frame_monitor_stop  (LkFrameMonitor *self,
                                        LkFrameStats   *stats);

G_END_DECLS
