/* lk-status-page.h — an empty state: a big icon (or a spinner), a title,
 * a description, and whatever buttons are added below them as children.
 * For "no collection", "nothing in this category", and later views'
 * "no model yet". */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LK_TYPE_STATUS_PAGE (lk_status_page_get_type ())
G_DECLARE_FINAL_TYPE (LkStatusPage, lk_status_page, LK, STATUS_PAGE, GtkBox)

GtkWidget  *lk_status_page_new             (void);
void        lk_status_page_set_icon_name   (LkStatusPage *self,
                                            const char   *icon_name);
void        lk_status_page_set_title       (LkStatusPage *self,
                                            const char   *title);
const char *lk_status_page_get_title       (LkStatusPage *self);
void        lk_status_page_set_description (LkStatusPage *self,
                                            const char   *description);
const char *lk_status_page_get_description (LkStatusPage *self);
/* A spinner instead of the icon, while something loads. */
void        lk_status_page_set_spinning    (LkStatusPage *self,
                                            gboolean      spinning);

G_END_DECLS
