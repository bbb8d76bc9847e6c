/* lk-image-list.h — a lazy GListModel of a collection's images, all of
 * them or one category's.
 *
 * No item exists until a view asks for it: 70,000 images cost one
 * index array, and a grid creates items only for the cells it shows. */
#pragma once

#include <gio/gio.h>

#include "collection.h"

G_BEGIN_DECLS

#define LK_TYPE_IMAGE_LIST (lk_image_list_get_type ())
G_DECLARE_FINAL_TYPE (LkImageList, lk_image_list, LK, IMAGE_LIST, GObject)

#define LK_IMAGE_LIST_ALL (-1)

LkImageList  *lk_image_list_new            (void);
void          lk_image_list_set_collection (LkImageList  *self,
                                            LkCollection *collection);
LkCollection *lk_image_list_get_collection (LkImageList  *self);
/* A category index, or LK_IMAGE_LIST_ALL. */
void          lk_image_list_set_category   (LkImageList  *self,
                                            int           category);
int           lk_image_list_get_category   (LkImageList  *self);
/* The collection index of the image at @position. */
guint         lk_image_list_get_image      (LkImageList  *self,
                                            guint         position);
/* The position of image @index, FALSE if it is not in the list. */
gboolean      lk_image_list_find           (LkImageList  *self,
                                            guint         index,
                                            guint        *position);

G_END_DECLS
