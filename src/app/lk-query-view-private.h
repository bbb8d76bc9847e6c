/* lk-query-view-private.h — the Query view's parts, for the UI tests. */
#pragma once

#include "lk-neighbour-grid.h"
#include "lk-query-view.h"

G_BEGIN_DECLS

/* Side 0 (the first source) or 1 (the second, when comparing). */
LkNeighbourGrid *_lk_query_view_get_grid            (LkQueryView *self,
                                                     guint        side);
GtkDropDown     *_lk_query_view_get_source_dropdown (LkQueryView *self,
                                                     guint        side);
GtkCheckButton  *_lk_query_view_get_compare_check   (LkQueryView *self);
GtkCheckButton  *_lk_query_view_get_category_check  (LkQueryView *self);
GtkSpinButton   *_lk_query_view_get_k_spin          (LkQueryView *self);
const char      *_lk_query_view_get_query_name      (LkQueryView *self);
/* "empty" or "results". */
const char      *_lk_query_view_get_page            (LkQueryView *self);
/* From the request (an activated image, a changed control) to the
 * results in the grid, for the last query answered. */
double           _lk_query_view_get_latency_ms      (LkQueryView *self);
/* Of that, the time the worker took (embedding a file, searching). */
double           _lk_query_view_get_search_ms       (LkQueryView *self);
/* From the request to the first frame drawn with the results (0 until
 * it is drawn, or when the view is hidden). */
double           _lk_query_view_get_paint_latency_ms (LkQueryView *self);
/* Queries answered so far. */
guint            _lk_query_view_get_n_answered      (LkQueryView *self);
gboolean         _lk_query_view_get_progress_shown  (LkQueryView *self);

G_END_DECLS
