/* lk-browse-view.h — the Browse page: a sidebar of categories with their
 * counts, a grid of thumbnails of the chosen category, and the details of
 * the activated image. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_BROWSE_VIEW (lk_browse_view_get_type ())
G_DECLARE_FINAL_TYPE (LkBrowseView, lk_browse_view, LK, BROWSE_VIEW, GtkWidget)

GtkWidget *lk_browse_view_new         (LkSession    *session);
void       lk_browse_view_set_session (LkBrowseView *self,
                                       LkSession    *session);
LkSession *lk_browse_view_get_session (LkBrowseView *self);

G_END_DECLS
