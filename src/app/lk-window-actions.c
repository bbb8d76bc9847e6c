/* lk-window-actions.c — the window's actions (win.open, win.open-builtin,
 * win.cancel-open, win.show-skipped, win.show-view), opening a folder
 * dropped on the window, and querying with an image file dropped on it. Their accelerators are set by LkApplication. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-skipped-dialog.h"
#include "lk-window-private.h"

/* Open Collection… ------------------------------------------------------------ */

static void
on_chooser_response (LkWindow *self, int response, GtkNativeDialog *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        lk_window_open_folder (self, path);
      else
        _lk_window_show_message (self, GTK_MESSAGE_ERROR, _("Could not open the collection"),
                                 _("Only folders on this computer can be opened."));
    }
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

static void
open_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkWindow *self = LK_WINDOW (widget);
  LkCollection *coll = lk_session_get_collection (self->session);
  GtkFileChooserNative *chooser;

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (self->chooser);
      return;
    }
  /* GtkFileChooserNative: GtkFileDialog needs GTK 4.10. */
  chooser = gtk_file_chooser_native_new (_("Open Collection"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (coll != NULL && lk_collection_get_root (coll) != NULL)
    {
      g_autoptr(GFile) current = g_file_new_for_path (lk_collection_get_root (coll));
      g_autoptr(GFile) parent = g_file_get_parent (current);
      if (parent != NULL)
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), parent, NULL);
    }
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_swapped (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (self->chooser);
}

static void
open_builtin_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  lk_window_open_folder (LK_WINDOW (widget), NULL);
}

static void
cancel_open_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  lk_session_cancel_open (LK_WINDOW (widget)->session);
}

static void
show_skipped_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkWindow *self = LK_WINDOW (widget);
  LkCollection *coll = lk_session_get_collection (self->session);

  if (coll == NULL)
    return;
  if (self->skipped_dialog != NULL)
    gtk_window_destroy (self->skipped_dialog);
  self->skipped_dialog = GTK_WINDOW (lk_skipped_dialog_new (GTK_WINDOW (self), coll));
  g_object_add_weak_pointer (G_OBJECT (self->skipped_dialog), (gpointer *) &self->skipped_dialog);
  gtk_window_present (self->skipped_dialog);
}

static void
show_view_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  lk_window_show_view (LK_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

void
_lk_window_update_actions (LkWindow *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);
  guint n_skipped = 0;

  if (coll != NULL)
    lk_collection_get_skipped (coll, &n_skipped);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-open",
                                 lk_session_get_opening (self->session));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-skipped", n_skipped > 0);
}

/* Dropping a folder or an image ----------------------------------------------- */

/* By its name and first bytes: whether GdkPixbuf can decode it is only
 * known when the query decodes it (and says so if it cannot). */
gboolean
_lk_window_is_image_file (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE ","
                                                 G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                                 G_FILE_QUERY_INFO_NONE, NULL, NULL);
  const char *type;
  g_autofree char *mime = NULL;

  if (info == NULL || g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    return FALSE;
  type = g_file_info_get_content_type (info);
  mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;
  return mime != NULL && g_str_has_prefix (mime, "image/");
}

static gboolean
on_drop (LkWindow *self, const GValue *value, double x, double y, GtkDropTarget *target)
{
  GSList *files;
  GFile *file;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autofree char *detail = NULL;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = gdk_file_list_get_files (g_value_get_boxed (value));
  if (files == NULL)
    return FALSE;
  /* The files belong to the list, which outlives this handler. */
  file = files->data;
  g_slist_free (files);
  path = g_file_get_path (file);

  if (path != NULL && g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      lk_window_open_folder (self, path);
      return TRUE;
    }
  /* An image file: the query of the Query view (issue 7). */
  if (path != NULL && lk_session_get_collection (self->session) != NULL &&
      _lk_window_is_image_file (path))
    {
      lk_session_activate_file (self->session, path);
      lk_window_show_view (self, "query");
      return TRUE;
    }
  name = path != NULL ? g_filename_display_basename (path) : g_file_get_uri (file);
  /* TRANSLATORS: something other than a local folder or image was dropped on the window */
  detail = g_strdup_printf (_("“%s” is neither a folder nor an image. Drop a folder whose "
                              "sub-folders are categories of images to open it as a "
                              "collection, or an image to find the images most like it."),
                            name);
  _lk_window_show_message (self, GTK_MESSAGE_WARNING, _("Only folders and images can be dropped"),
                           detail);
  return FALSE;
}

/* Set-up ------------------------------------------------------------------------ */

void
_lk_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.open-builtin", NULL, open_builtin_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-open", NULL, cancel_open_action);
  gtk_widget_class_install_action (widget_class, "win.show-skipped", NULL, show_skipped_action);
  gtk_widget_class_install_action (widget_class, "win.show-view", "s", show_view_action);
}

void
_lk_window_init_actions (LkWindow *self)
{
  self->drop_target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_swapped (self->drop_target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (g_object_ref (self->drop_target)));
}
