/* lk-thumbnail.h — a widget showing one image of a collection, loaded
 * through the session's LkThumbnailer: the grid's cell and the details
 * pane's preview.
 *
 * Nothing is requested until the widget is first drawn: a grid binds
 * hundreds of cells around the visible ones, but draws only those on
 * screen. Setting another item cancels the request for the previous
 * one, so a recycled grid cell never shows a stale picture; a FAST
 * texture (from the decoded tensor) is shown first, then a SHARP one
 * from the original file when the collection has files. */
#pragma once

#include <gtk/gtk.h>

#include "lk-image-item.h"
#include "lk-thumbnailer.h"

G_BEGIN_DECLS

#define LK_TYPE_THUMBNAIL (lk_thumbnail_get_type ())
G_DECLARE_FINAL_TYPE (LkThumbnail, lk_thumbnail, LK, THUMBNAIL, GtkWidget)

/* @size is the longer side in logical pixels. */
GtkWidget     *lk_thumbnail_new             (LkThumbnailer *thumbnailer,
                                             guint          size);
void           lk_thumbnail_set_thumbnailer (LkThumbnail   *self,
                                             LkThumbnailer *thumbnailer);
void           lk_thumbnail_set_item        (LkThumbnail   *self,
                                             LkImageItem   *item);
LkImageItem   *lk_thumbnail_get_item        (LkThumbnail   *self);
guint          lk_thumbnail_get_size        (LkThumbnail   *self);
/* What is drawn now, NULL while loading. */
GdkTexture    *lk_thumbnail_get_texture     (LkThumbnail   *self);

G_END_DECLS
