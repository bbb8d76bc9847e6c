/* lk-buffers-view-private.h — the Buffers view's parts, for the UI tests. */
#pragma once

#include "lk-buffer-grid.h"
#include "lk-buffers-view.h"

G_BEGIN_DECLS

/* "empty" (the status page) or "buffers". */
const char   *_lk_buffers_view_get_page         (LkBuffersView *self);
const char   *_lk_buffers_view_get_status_title (LkBuffersView *self);
LkBufferGrid *_lk_buffers_view_get_grid         (LkBuffersView *self);
/* Snapshots taken so far. */
guint         _lk_buffers_view_get_n_polls      (LkBuffersView *self);
/* Triplet cards shown, and card @i's pictures (query, positive,
 * negative) and caption. */
guint         _lk_buffers_view_get_n_triplets   (LkBuffersView *self);
GtkPicture   *_lk_buffers_view_get_picture      (LkBuffersView *self,
                                                 guint          card,
                                                 guint          which);
const char   *_lk_buffers_view_get_caption      (LkBuffersView *self,
                                                 guint          card);

G_END_DECLS
