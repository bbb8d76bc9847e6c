/* lk-browse-view-private.h — the Browse view's parts, for the UI tests. */
#pragma once

#include "lk-browse-view.h"
#include "lk-image-details.h"
#include "lk-status-page.h"

G_BEGIN_DECLS

GtkListView    *_lk_browse_view_get_sidebar         (LkBrowseView *self);
GtkGridView    *_lk_browse_view_get_grid            (LkBrowseView *self);
LkImageDetails *_lk_browse_view_get_details         (LkBrowseView *self);
gboolean        _lk_browse_view_get_details_visible (LkBrowseView *self);
LkStatusPage   *_lk_browse_view_get_empty_page      (LkBrowseView *self);
/* "grid" or "empty". */
const char     *_lk_browse_view_get_page            (LkBrowseView *self);

G_END_DECLS
