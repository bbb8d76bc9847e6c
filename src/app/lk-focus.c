/* lk-focus.c — Tab leaves a list (see lk-focus.h). */
#include "lk-focus.h"

static gboolean
tab_out (GtkWidget *list, GVariant *args, gpointer data)
{
  GtkDirectionType dir = (GtkDirectionType) GPOINTER_TO_INT (data);
  GtkRoot *root = gtk_widget_get_root (list);

  if (root == NULL)
    return FALSE;
  /* A container that cannot take the focus is passed over: the window
   * moves it to the next widget outside @list (wrapping at the end). */
  gtk_widget_set_can_focus (list, FALSE);
  if (!gtk_widget_child_focus (GTK_WIDGET (root), dir))
    gtk_widget_child_focus (GTK_WIDGET (root), dir);
  gtk_widget_set_can_focus (list, TRUE);
  return TRUE;
}

/* One shortcut per key, so that a test finds the one it presses. */
static void
add_shortcuts (GtkEventController *controller, const char *const *keys, GtkDirectionType dir)
{
  for (; *keys != NULL; keys++)
    gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (controller),
      gtk_shortcut_new (gtk_shortcut_trigger_parse_string (*keys),
                        gtk_callback_action_new (tab_out, GINT_TO_POINTER (dir), NULL)));
}

void
lk_focus_tab_leaves (GtkWidget *list)
{
  static const char *const forward[] = { "Tab", "KP_Tab", NULL };
  static const char *const backward[] = { "<Shift>Tab", "<Shift>ISO_Left_Tab", "<Shift>KP_Tab",
                                          NULL };
  GtkEventController *controller;

  g_return_if_fail (GTK_IS_WIDGET (list));
  controller = gtk_shortcut_controller_new ();
  /* Before the items and the list's own bindings see the key. */
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  add_shortcuts (controller, forward, GTK_DIR_TAB_FORWARD);
  add_shortcuts (controller, backward, GTK_DIR_TAB_BACKWARD);
  gtk_widget_add_controller (list, controller);
}
