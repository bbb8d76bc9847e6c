/* lk-window.h — the main window: header bar with the view switcher and
 * the primary menu, the opening progress and message banners, and one
 * stack page per view, all sharing the window's LkSession. */
#pragma once

#include <gtk/gtk.h>

#include "lk-application.h"
#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_WINDOW (lk_window_get_type ())
G_DECLARE_FINAL_TYPE (LkWindow, lk_window, LK, WINDOW, GtkApplicationWindow)

LkWindow  *lk_window_new          (LkApplication *app);
LkSession *lk_window_get_session  (LkWindow      *self);
/* Opens @folder as the collection, or the built-in one if NULL; progress,
 * errors and skipped files are shown in the window; on success the folder
 * is remembered as the last collection. */
void       lk_window_open_folder  (LkWindow      *self,
                                   const char    *folder);
/* Reopens the last collection (GSettings), or the built-in one; if the
 * last is gone or fails, the built-in one with a message saying why. */
void       lk_window_open_initial (LkWindow      *self);
/* Shows the view page named @name ("browse", …). */
void       lk_window_show_view    (LkWindow      *self,
                                   const char    *name);

G_END_DECLS
