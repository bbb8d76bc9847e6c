/* lk-neighbour-item.h — one neighbour of a query as a list-model item:
 * the image, its rank and its distance from the query. Items are
 * reused from one query to the next (lk_neighbour_item_set(), signal
 * "changed"), so a new result rebinds the grid's cells in place instead
 * of making new ones. */
#pragma once

#include <glib-object.h>

#include "lk-image-item.h"

G_BEGIN_DECLS

#define LK_TYPE_NEIGHBOUR_ITEM (lk_neighbour_item_get_type ())
G_DECLARE_FINAL_TYPE (LkNeighbourItem, lk_neighbour_item, LK, NEIGHBOUR_ITEM, GObject)

/* @rank counts from 1. */
LkNeighbourItem *lk_neighbour_item_new          (LkCollection    *collection,
                                                 guint            index,
                                                 guint            rank,
                                                 float            distance);
/* Makes @self another neighbour and emits "changed" (the image item is
 * kept when it is the same image). */
void             lk_neighbour_item_set          (LkNeighbourItem *self,
                                                 LkCollection    *collection,
                                                 guint            index,
                                                 guint            rank,
                                                 float            distance);
LkImageItem     *lk_neighbour_item_get_image    (LkNeighbourItem *self);
guint            lk_neighbour_item_get_index    (LkNeighbourItem *self);
guint            lk_neighbour_item_get_rank     (LkNeighbourItem *self);
float            lk_neighbour_item_get_distance (LkNeighbourItem *self);
/* "1 · 0.0421": rank and distance, as the cell shows them. */
char            *lk_neighbour_item_dup_caption  (LkNeighbourItem *self);

G_END_DECLS
