/* testutil-gtk.c — see testutil-gtk.h. */
#include "config.h"

#include "lk-session.h"
#include "testutil-gtk.h"
#include "testutil.h"

#define TIMEOUT_S 60

void
lk_test_gtk_init (int *argc, char ***argv)
{
  lk_test_init (argc, argv);
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
}

void
lk_test_wait_until (LkTestCondition cond, gpointer data, const char *what)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("Timed out waiting for %s", what);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (500);
    }
}

void
lk_test_flush_main_loop (void)
{
  for (int i = 0; i < 20; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
}

LkWindow *
lk_test_window_new (guint side)
{
  LkWindow *window = g_object_new (LK_TYPE_WINDOW, NULL);

  if (side > 0)
    {
      LkScanOptions options;
      lk_scan_options_init (&options);
      options.side = side;
      lk_session_set_scan_options (lk_window_get_session (window), &options);
    }
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static gboolean
not_opening (gpointer window)
{
  return !lk_session_get_opening (lk_window_get_session (window));
}

void
lk_test_window_open (LkWindow *window, const char *folder)
{
  lk_window_open_folder (window, folder);
  lk_test_wait_until (not_opening, window, "the collection to open");
  g_assert_nonnull (lk_session_get_collection (lk_window_get_session (window)));
  lk_test_flush_main_loop ();
}

void
lk_test_window_close (LkWindow *window)
{
  LkSession *session = lk_window_get_session (window);
  LkThumbnailer *thumbnailer = lk_session_get_thumbnailer (session);
  LkSearchService *service = lk_session_get_search_service (session);

  g_object_add_weak_pointer (G_OBJECT (session), (gpointer *) &session);
  g_object_add_weak_pointer (G_OBJECT (thumbnailer), (gpointer *) &thumbnailer);
  g_object_add_weak_pointer (G_OBJECT (service), (gpointer *) &service);
  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  lk_test_flush_main_loop ();
  g_assert_finalize_object (window);

  /* Cancelled work may still be finishing in a worker. */
  for (int i = 0; i < 10000 && (session != NULL || thumbnailer != NULL || service != NULL); i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (session);
  g_assert_null (thumbnailer);
  g_assert_null (service);
}

gboolean
lk_test_press_shortcut (GtkWidget *widget, const char *accel)
{
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  g_assert_nonnull (wanted);
  for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, c);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (controller)); i++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), i);
          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted))
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut),
                                                 GTK_SHORTCUT_ACTION_EXCLUSIVE, widget,
                                                 gtk_shortcut_get_arguments (shortcut));
        }
    }
  return FALSE;
}
