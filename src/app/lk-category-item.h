/* lk-category-item.h — one row of the Browse sidebar: a category, or
 * "All images", with its image count. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define LK_TYPE_CATEGORY_ITEM (lk_category_item_get_type ())
G_DECLARE_FINAL_TYPE (LkCategoryItem, lk_category_item, LK, CATEGORY_ITEM, GObject)

/* @category is a category index, or -1 for all images. */
LkCategoryItem *lk_category_item_new          (int             category,
                                               const char     *name,
                                               guint           count);
int             lk_category_item_get_category (LkCategoryItem *self);
const char     *lk_category_item_get_name     (LkCategoryItem *self);
guint           lk_category_item_get_count    (LkCategoryItem *self);

G_END_DECLS
