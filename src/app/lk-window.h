/* lk-window.h — the main window. */
#pragma once

#include <gtk/gtk.h>
#include "lk-application.h"

G_BEGIN_DECLS

#define LK_TYPE_WINDOW (lk_window_get_type ())
G_DECLARE_FINAL_TYPE (LkWindow, lk_window, LK, WINDOW, GtkApplicationWindow)

LkWindow *lk_window_new (LkApplication *app);

G_END_DECLS
