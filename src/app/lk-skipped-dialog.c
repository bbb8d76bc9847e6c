/* lk-skipped-dialog.c — LkSkippedDialog, and LkSkippedRow, the small item
 * type its column view lists. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-skipped-dialog.h"
#include "lk-focus.h"

/* One row ------------------------------------------------------------------ */

#define LK_TYPE_SKIPPED_ROW (lk_skipped_row_get_type ())
G_DECLARE_FINAL_TYPE (LkSkippedRow, lk_skipped_row, LK, SKIPPED_ROW, GObject)

struct _LkSkippedRow
{
  GObject  parent_instance;
  char    *path;      /* for display (valid UTF-8) */
  char    *reason;
};

G_DEFINE_FINAL_TYPE (LkSkippedRow, lk_skipped_row, G_TYPE_OBJECT)

enum { ROW_PROP_0, ROW_PROP_PATH, ROW_PROP_REASON, ROW_N_PROPS };
static GParamSpec *row_properties[ROW_N_PROPS];

static void
lk_skipped_row_finalize (GObject *object)
{
  LkSkippedRow *self = LK_SKIPPED_ROW (object);

  g_free (self->path);
  g_free (self->reason);
  G_OBJECT_CLASS (lk_skipped_row_parent_class)->finalize (object);
}

static void
lk_skipped_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkSkippedRow *self = LK_SKIPPED_ROW (object);

  switch (prop_id)
    {
    case ROW_PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case ROW_PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_skipped_row_class_init (LkSkippedRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_skipped_row_finalize;
  object_class->get_property = lk_skipped_row_get_property;
  row_properties[ROW_PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  row_properties[ROW_PROP_REASON] =
    g_param_spec_string ("reason", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ROW_N_PROPS, row_properties);
}

static void
lk_skipped_row_init (LkSkippedRow *self)
{
}

/* The dialog ---------------------------------------------------------------- */

struct _LkSkippedDialog
{
  GtkWindow     parent_instance;

  /* Template widgets */
  GtkLabel     *summary_label;
  GtkColumnView *column_view;

  /* Owned */
  GListStore   *rows;
  char         *text;        /* the whole list, for the clipboard */
};

G_DEFINE_FINAL_TYPE (LkSkippedDialog, lk_skipped_dialog, GTK_TYPE_WINDOW)

static void
copy_list (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkSkippedDialog *self = LK_SKIPPED_DIALOG (widget);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->text);
}

static void
lk_skipped_dialog_dispose (GObject *object)
{
  LkSkippedDialog *self = LK_SKIPPED_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_SKIPPED_DIALOG);
  g_clear_object (&self->rows);
  g_clear_pointer (&self->text, g_free);
  G_OBJECT_CLASS (lk_skipped_dialog_parent_class)->dispose (object);
}

static void
lk_skipped_dialog_class_init (LkSkippedDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_skipped_dialog_dispose;

  g_type_ensure (LK_TYPE_SKIPPED_ROW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-skipped-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, LkSkippedDialog, summary_label);
  gtk_widget_class_bind_template_child (widget_class, LkSkippedDialog, column_view);
  gtk_widget_class_install_action (widget_class, "skipped.copy", NULL, copy_list);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
lk_skipped_dialog_init (LkSkippedDialog *self)
{
  g_autoptr(GtkSingleSelection) selection = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  lk_focus_tab_leaves (GTK_WIDGET (self->column_view));
  self->rows = g_list_store_new (LK_TYPE_SKIPPED_ROW);
  selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->rows)));
  gtk_single_selection_set_autoselect (selection, FALSE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (selection));
}

static void
fill (LkSkippedDialog *self, LkCollection *collection)
{
  g_autoptr(GError) error = lk_collection_dup_skipped_error (collection);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *summary = NULL;
  const LkSkipped *skipped;
  guint n;

  skipped = lk_collection_get_skipped (collection, &n);
  for (guint i = 0; i < n; i++)
    {
      LkSkippedRow *row = g_object_new (LK_TYPE_SKIPPED_ROW, NULL);
      row->path = g_filename_display_name (skipped[i].path);
      row->reason = g_strdup (skipped[i].reason);
      g_ptr_array_add (rows, row);
    }
  g_list_store_splice (self->rows, 0, 0, rows->pdata, rows->len);
  self->text = g_strdup (error != NULL ? error->message : "");

  summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u entry of “%s” could not be used and was left out.",
                                          "%u entries of “%s” could not be used and were left out.",
                                          n),
                             n, lk_collection_get_name (collection));
  gtk_label_set_label (self->summary_label, summary);
}

GtkWidget *
lk_skipped_dialog_new (GtkWindow *parent, LkCollection *collection)
{
  LkSkippedDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (collection != NULL, NULL);

  self = g_object_new (LK_TYPE_SKIPPED_DIALOG,
                       "transient-for", parent,
                       "modal", TRUE,
                       NULL);
  fill (self, collection);
  return GTK_WIDGET (self);
}

GListModel *
lk_skipped_dialog_get_model (LkSkippedDialog *self)
{
  g_return_val_if_fail (LK_IS_SKIPPED_DIALOG (self), NULL);
  return G_LIST_MODEL (self->rows);
}
