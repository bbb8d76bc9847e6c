/* lk-neighbour-grid.h — one ranked list of neighbours as a grid of
 * thumbnails, each with its rank, distance and category, under a title
 * (the source that ranked them) and a detail line (how long it took).
 * Activating a cell (a click, or Enter) emits "neighbour-activated"
 * with the image's index. While there is no list, a message is shown in
 * its place. */
#pragma once

#include <gtk/gtk.h>

#include "lk-thumbnailer.h"
#include "search.h"

G_BEGIN_DECLS

#define LK_TYPE_NEIGHBOUR_GRID (lk_neighbour_grid_get_type ())
G_DECLARE_FINAL_TYPE (LkNeighbourGrid, lk_neighbour_grid, LK, NEIGHBOUR_GRID, GtkWidget)

GtkWidget   *lk_neighbour_grid_new             (void);
void         lk_neighbour_grid_set_thumbnailer (LkNeighbourGrid   *self,
                                                LkThumbnailer     *thumbnailer);
void         lk_neighbour_grid_set_title       (LkNeighbourGrid   *self,
                                                const char        *title);
const char  *lk_neighbour_grid_get_title       (LkNeighbourGrid   *self);
void         lk_neighbour_grid_set_detail      (LkNeighbourGrid   *self,
                                                const char        *detail);
/* Shows @neighbours (n, best first) of @collection. */
void         lk_neighbour_grid_set_neighbours  (LkNeighbourGrid   *self,
                                                LkCollection      *collection,
                                                const LkNeighbour *neighbours,
                                                guint              n);
/* Empties the grid and shows @message instead. */
void         lk_neighbour_grid_show_message    (LkNeighbourGrid   *self,
                                                const char        *message);
/* The message shown, or NULL while the grid is. */
const char  *lk_neighbour_grid_get_message     (LkNeighbourGrid   *self);
/* LkNeighbourItem, best first. */
GListModel  *lk_neighbour_grid_get_model       (LkNeighbourGrid   *self);
GtkGridView *lk_neighbour_grid_get_grid        (LkNeighbourGrid   *self);

G_END_DECLS
