/* lk-application.c — application start-up (style sheet, accelerators),
 * the app-wide actions (app.quit, app.about) and windows: one per
 * activation, reopening the last collection; `likeness FOLDER` opens
 * FOLDER instead. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-application.h"
#include "lk-screenshot.h"
#include "lk-window.h"

struct _LkApplication
{
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (LkApplication, lk_application, GTK_TYPE_APPLICATION)

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkApplication *app = user_data;
  g_autoptr(GList) windows = g_list_copy (gtk_application_get_windows (app));

  /* Closing (not destroying) each window lets it save its state. */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  gtk_show_about_dialog (parent,
                         "program-name", _("Likeness"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Learn fine-grained image similarity from your own "
                                       "collection, after “Learning Fine-grained Image "
                                       "Similarity with Deep Ranking” (Wang et al., CVPR 2014)"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_activated },
  { .name = "about", .activate = about_activated },
};

static void
set_accels (GtkApplication *app)
{
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "window.close", { "<Control>w", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.show-view::browse", { "<Alt>1", NULL } },
    /* The Query, Label and Evaluate views (issue 7); Alt+3 and Alt+4
     * are kept for Training and Buffers, in the order of DESIGN.md. */
    { "win.show-view::query", { "<Alt>2", NULL } },
    /* The Training and Buffers views (issue 7) */
    { "win.show-view::training", { "<Alt>3", NULL } },
    { "win.show-view::buffers", { "<Alt>4", NULL } },
    { "win.show-view::label", { "<Alt>5", NULL } },
    { "win.show-view::evaluate", { "<Alt>6", NULL } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (app, accels[i].action, accels[i].accels);
}

static void
lk_application_startup (GApplication *app)
{
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (lk_application_parent_class)->startup (app);

  gtk_css_provider_load_from_resource (css, "/app/likeness/Likeness/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  set_accels (GTK_APPLICATION (app));
}

static LkWindow *
new_window (LkApplication *self)
{
  LkWindow *window = lk_window_new (self);

  if (lk_screenshot_requested ())
    lk_screenshot_start (window);
  return window;
}

static void
lk_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      window = GTK_WINDOW (new_window (LK_APPLICATION (app)));
      lk_window_open_initial (LK_WINDOW (window));
    }
  gtk_window_present (window);
}

/* `likeness FOLDER`: the folder in the active window, or a new one. */
static void
lk_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_autofree char *path = g_file_get_path (files[0]);

  if (window == NULL)
    window = GTK_WINDOW (new_window (LK_APPLICATION (app)));
  if (path != NULL)
    lk_window_open_folder (LK_WINDOW (window), path);
  else
    lk_window_open_initial (LK_WINDOW (window));
  gtk_window_present (window);
}

static void
lk_application_class_init (LkApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = lk_application_startup;
  app_class->activate = lk_application_activate;
  app_class->open = lk_application_open;
}

static void
lk_application_init (LkApplication *self)
{
}

LkApplication *
lk_application_new (void)
{
  return g_object_new (LK_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/app/likeness/Likeness",
                       NULL);
}
