/* lk-image-details.h — the details of one image: a large preview, its
 * name, category, split, path, file size and pixel size. */
#pragma once

#include <gtk/gtk.h>

#include "collection.h"
#include "lk-thumbnailer.h"

G_BEGIN_DECLS

#define LK_TYPE_IMAGE_DETAILS (lk_image_details_get_type ())
G_DECLARE_FINAL_TYPE (LkImageDetails, lk_image_details, LK, IMAGE_DETAILS, GtkWidget)

GtkWidget *lk_image_details_new             (void);
void       lk_image_details_set_thumbnailer (LkImageDetails *self,
                                             LkThumbnailer  *thumbnailer);
/* @collection NULL (or @index out of range) shows nothing. */
void       lk_image_details_set_image       (LkImageDetails *self,
                                             LkCollection   *collection,
                                             guint           index);

G_END_DECLS
