/* lk-query-view.h — the Query page: the activated image (or an image
 * file from outside the collection) and its nearest neighbours ranked by
 * one source, or by two side by side. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_QUERY_VIEW (lk_query_view_get_type ())
G_DECLARE_FINAL_TYPE (LkQueryView, lk_query_view, LK, QUERY_VIEW, GtkWidget)

GtkWidget *lk_query_view_new         (LkSession   *session);
void       lk_query_view_set_session (LkQueryView *self,
                                      LkSession   *session);
LkSession *lk_query_view_get_session (LkQueryView *self);
/* Preparing a source or answering a query. */
gboolean   lk_query_view_get_busy    (LkQueryView *self);

G_END_DECLS
