/* screenshot.c — takes the screenshots of the AppStream metainfo
 * (data/screenshots/NAME.png) from the real app, so they are taken again
 * in one command whenever a view changes:
 *
 *   xvfb-run -a -s "-screen 0 1280x1024x24" ninja -C build likeness-screenshots
 *
 * Each shot opens the main window at its default size, optionally
 * activates a window action (to show a view), waits for the work the view
 * starts to settle, and renders the window through GTK's own renderer, so
 * the picture is exactly what the app draws (without window-manager
 * decorations or shadows). Usage: lk-screenshot OUTPUT-DIR [DELAY-MS]. */
#include "config.h"

#include <gtk/gtk.h>
#include <stdlib.h>

#include "i18n.h"
#include "lk-application.h"
#include "lk-resources.h"

typedef struct {
  const char *name;    /* data/screenshots/NAME.png */
  const char *action;  /* a window action that shows the view, or NULL */
} Shot;

/* The first is the metainfo's default screenshot. Add a line per view. */
static const Shot shots[] = {
  { "browse", NULL },
};

typedef struct {
  GtkApplication *app;
  const char *output_dir;
  guint delay_ms;
  guint next;
  int status;
} Session;

static gboolean
save_window (GtkWidget *window, const char *path, GError **error)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int w = gtk_widget_get_width (window);
  int h = gtk_widget_get_height (window);

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "could not write %s", path);
      return FALSE;
    }
  g_print ("%s: %d×%d\n", path, w, h);
  return TRUE;
}

static void take_next (Session *s);

static gboolean
on_settled (gpointer user_data)
{
  Session *s = user_data;
  GtkWindow *window = gtk_application_get_active_window (s->app);
  g_autofree char *name = g_strconcat (shots[s->next].name, ".png", NULL);
  g_autofree char *path = g_build_filename (s->output_dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (window == NULL || !save_window (GTK_WIDGET (window), path, &error))
    {
      g_printerr ("lk-screenshot: %s: %s\n", shots[s->next].name,
                  error != NULL ? error->message : "no window");
      s->status = EXIT_FAILURE;
    }
  s->next++;
  take_next (s);
  return G_SOURCE_REMOVE;
}

static void
take_next (Session *s)
{
  GtkWindow *window = gtk_application_get_active_window (s->app);

  if (s->next == G_N_ELEMENTS (shots) || window == NULL)
    {
      g_application_quit (G_APPLICATION (s->app));
      return;
    }
  if (shots[s->next].action != NULL &&
      !gtk_widget_activate_action (GTK_WIDGET (window), shots[s->next].action, NULL))
    {
      g_printerr ("lk-screenshot: %s: no action %s\n", shots[s->next].name,
                  shots[s->next].action);
      s->status = EXIT_FAILURE;
    }
  g_timeout_add (s->delay_ms, on_settled, s);
}

static void
on_window_mapped (GtkWidget *window, gpointer user_data)
{
  g_signal_handlers_disconnect_by_func (window, on_window_mapped, user_data);
  take_next (user_data);
}

static void
on_window_added (GtkApplication *app, GtkWindow *window, gpointer user_data)
{
  g_signal_connect (window, "map", G_CALLBACK (on_window_mapped), user_data);
}

int
main (int argc, char **argv)
{
  g_autoptr(LkApplication) app = NULL;
  Session s = { 0 };
  char *app_argv[] = { argv[0], NULL };

  if (argc < 2 || argc > 3)
    {
      g_printerr ("usage: lk-screenshot OUTPUT-DIR [DELAY-MS]\n");
      return 2;
    }
  lk_i18n_init ();
  /* Referencing the GResource links its object, and so the constructor
   * that registers it, out of the app's static library. */
  g_assert (lk_get_resource () != NULL);
  app = lk_application_new ();
  /* Not the user's running instance, nor their saved window state. */
  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) |
                           G_APPLICATION_NON_UNIQUE);
  s.app = GTK_APPLICATION (app);
  s.output_dir = argv[1];
  s.delay_ms = argc == 3 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 3000;
  s.status = EXIT_SUCCESS;
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), &s);
  if (g_application_run (G_APPLICATION (app), 1, app_argv) != 0)
    return EXIT_FAILURE;
  return s.next == G_N_ELEMENTS (shots) ? s.status : EXIT_FAILURE;
}
