/* lk-buffers-view.h — the Buffers page: the online sampler of the
 * session's training (sampler.h) seen live, ~8 times a second while the
 * page is shown and the ranking stage runs: every category's reservoir
 * (fill and thumbnails in key order, lk-buffer-grid.h), the last
 * triplets drawn (query, positive, negative with their relevance) and
 * the sampler's counts; an empty state before the ranking stage and when
 * nothing trains. */
#pragma once

#include <gtk/gtk.h>

#include "lk-session.h"

G_BEGIN_DECLS

#define LK_TYPE_BUFFERS_VIEW (lk_buffers_view_get_type ())
G_DECLARE_FINAL_TYPE (LkBuffersView, lk_buffers_view, LK, BUFFERS_VIEW, GtkWidget)

#define LK_BUFFERS_VIEW_INTERVAL_MS 125
#define LK_BUFFERS_VIEW_TRIPLETS 8

GtkWidget *lk_buffers_view_new         (LkSession     *session);
void       lk_buffers_view_set_session (LkBuffersView *self,
                                        LkSession     *session);
LkSession *lk_buffers_view_get_session (LkBuffersView *self);

G_END_DECLS
