/* lk-skipped-dialog.h — the list of entries a scan skipped, each with
 * its reason, and a button that copies the list as text. */
#pragma once

#include <gtk/gtk.h>

#include "collection.h"

G_BEGIN_DECLS

#define LK_TYPE_SKIPPED_DIALOG (lk_skipped_dialog_get_type ())
G_DECLARE_FINAL_TYPE (LkSkippedDialog, lk_skipped_dialog, LK, SKIPPED_DIALOG, GtkWindow)

GtkWidget  *lk_skipped_dialog_new       (GtkWindow       *parent,
                                         LkCollection    *collection);
/* Rows of the list (items with "path" and "reason" string properties). */
GListModel *lk_skipped_dialog_get_model (LkSkippedDialog *self);

G_END_DECLS
