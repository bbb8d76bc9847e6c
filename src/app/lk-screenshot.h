/* lk-screenshot.h — renders a window to a PNG once it has settled, for
 * build-aux/screenshot. Driven by environment variables, so the app
 * under test is the app as shipped:
 *
 *   LIKENESS_SCREENSHOT=OUT.png      where to write (required)
 *   LIKENESS_SCREENSHOT_VIEW=NAME    the view page to show (default: browse)
 *   LIKENESS_SCREENSHOT_IMAGE=N      activate image N of the collection first
 *   LIKENESS_SCREENSHOT_SIZE=WxH     the window's size (default: as remembered)
 *   LIKENESS_SCREENSHOT_ACTION=NAME  then activate this action of the view
 *                                    (e.g. query.compare: two sources); several
 *                                    separated by spaces, each activated on the
 *                                    view or, failing that, on any other view
 *                                    (training.minutes(2.0) training.start)
 *   LIKENESS_SCREENSHOT_WAIT=S       wait at least S seconds after that
 *   LIKENESS_SCREENSHOT_BUSY=1       then shoot even if the view is still at
 *                                    work (a view in progress: Evaluate with
 *                                    the table and the checkpoints both
 *                                    computing); the environment of
 *                                    build-aux/screenshot passes it through
 *
 * "Settled": a collection is open, nothing is opening, the thumbnailer
 * has no request left and the view is not busy (its "busy" property:
 * preparing a source, evaluating), for several polls in a row. The app quits after
 * writing; on failure it prints why and quits with nothing written. */
#pragma once

#include "lk-window.h"

G_BEGIN_DECLS

gboolean lk_screenshot_requested (void);
void     lk_screenshot_start     (LkWindow *window);

G_END_DECLS
