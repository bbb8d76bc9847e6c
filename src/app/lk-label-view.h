/* lk-label-view.h — the Label page: a query and two candidates A and B,
 * chosen to be informative (candidates.h), and the paper's five answers
 * with their keys; every answer is appended at once to the collection's
 * triplet file, and the last one can be undone. Shows how many answers
 * there are and how often the chosen source agrees with them. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_LABEL_VIEW (lk_label_view_get_type ())
G_DECLARE_FINAL_TYPE (LkLabelView, lk_label_view, LK, LABEL_VIEW, GtkWidget)

GtkWidget *lk_label_view_new         (LkSession   *session);
void       lk_label_view_set_session (LkLabelView *self,
                                      LkSession   *session);
LkSession *lk_label_view_get_session (LkLabelView *self);
/* Loading the answers, getting sources ready, choosing a triplet, or
 * writing an answer. */
gboolean   lk_label_view_get_busy    (LkLabelView *self);

G_END_DECLS
