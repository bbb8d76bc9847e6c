/* lk-image-item.h — one image of a collection as a list-model item.
 *
 * Items are small and made on demand by LkImageList; they hold a
 * reference to the collection, so an item outlives a collection change. */
#pragma once

#include <glib-object.h>

#include "collection.h"

G_BEGIN_DECLS

#define LK_TYPE_IMAGE_ITEM (lk_image_item_get_type ())
G_DECLARE_FINAL_TYPE (LkImageItem, lk_image_item, LK, IMAGE_ITEM, GObject)

LkImageItem  *lk_image_item_new               (LkCollection *collection,
                                               guint         index);
LkCollection *lk_image_item_get_collection    (LkImageItem  *self);
guint         lk_image_item_get_index         (LkImageItem  *self);
/* The file name, for display ("cat.png", or "train/00042" in Fashion-MNIST). */
char         *lk_image_item_dup_display_name  (LkImageItem  *self);
const char   *lk_image_item_get_category_name (LkImageItem  *self);

G_END_DECLS
