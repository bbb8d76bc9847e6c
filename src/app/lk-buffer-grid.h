/* lk-buffer-grid.h — the online sampler's category buffers as they fill:
 * per category its name, a fill bar and the thumbnails of its buffered
 * images in key order (largest key, the last to be evicted, first),
 * drawn in snapshot from an LkSamplerSnapshot. Thumbnails are made from
 * the collection's decoded images and cached here, a bounded number per
 * update, so a first snapshot of thousands of images never stalls a
 * frame. */
#pragma once

#include <gtk/gtk.h>

#include "collection.h"
#include "sampler.h"

G_BEGIN_DECLS

#define LK_BUFFER_GRID_TILE 24     /* logical pixels */

#define LK_TYPE_BUFFER_GRID (lk_buffer_grid_get_type ())
G_DECLARE_FINAL_TYPE (LkBufferGrid, lk_buffer_grid, LK, BUFFER_GRID, GtkWidget)

GtkWidget         *lk_buffer_grid_new          (void);
/* Takes @snapshot (NULL: empty); @collection gives the images and the
 * category names. */
void               lk_buffer_grid_set_snapshot (LkBufferGrid      *self,
                                                LkCollection      *collection,
                                                LkSamplerSnapshot *snapshot);
const LkSamplerSnapshot *lk_buffer_grid_get_snapshot (LkBufferGrid *self);
/* A thumbnail of image @index, made now (and cached) if @make, else
 * NULL when not cached yet. */
GdkTexture        *lk_buffer_grid_get_texture  (LkBufferGrid      *self,
                                                guint              index,
                                                gboolean           make);
/* Thumbnails drawn as images (not placeholders) in the last frame. */
guint              lk_buffer_grid_get_n_drawn  (LkBufferGrid      *self);

G_END_DECLS
