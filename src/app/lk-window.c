/* lk-window.c — the main window: header bar and views. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-window.h"

struct _LkWindow
{
  GtkApplicationWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (LkWindow, lk_window, GTK_TYPE_APPLICATION_WINDOW)

static void
lk_window_class_init (LkWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-window.ui");
}

static void
lk_window_init (LkWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

LkWindow *
lk_window_new (LkApplication *app)
{
  return g_object_new (LK_TYPE_WINDOW, "application", app, NULL);
}
