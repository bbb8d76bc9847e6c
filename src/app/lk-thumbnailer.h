/* lk-thumbnailer.h — thumbnails of a collection's images, made off the
 * main thread by a small pool of workers and kept in an LRU cache.
 *
 * A request names a collection, an image, a size in device pixels (the
 * longer side) and a quality. FAST textures come from the collection's
 * decoded tensor (a few microseconds each); SHARP ones load the original
 * file at the requested size (GdkPixbuf), falling back to FAST when the
 * file is gone, too big or unreadable. Built-in collections have no files:
 * for them SHARP is FAST. Newer requests are served first, FAST before
 * SHARP, so the rows on screen fill before rows scrolled past; a request
 * whose GCancellable is cancelled when its turn comes costs nothing. */
#pragma once

#include <gtk/gtk.h>

#include "collection.h"

G_BEGIN_DECLS

typedef enum {
  LK_THUMBNAIL_FAST,
  LK_THUMBNAIL_SHARP,
} LkThumbnailQuality;

#define LK_TYPE_THUMBNAILER (lk_thumbnailer_get_type ())
G_DECLARE_FINAL_TYPE (LkThumbnailer, lk_thumbnailer, LK, THUMBNAILER, GObject)

LkThumbnailer *lk_thumbnailer_new            (void);
/* The collection whose thumbnails are cached; changing it empties the
 * cache. Requests for another collection still work but are not cached. */
void           lk_thumbnailer_set_collection (LkThumbnailer  *self,
                                              LkCollection   *collection);
LkCollection  *lk_thumbnailer_get_collection (LkThumbnailer  *self);
/* Original files bigger than this are not loaded (FAST instead). */
void           lk_thumbnailer_set_max_pixels (LkThumbnailer  *self,
                                              guint64         max_pixels);
/* TRUE when SHARP differs from FAST for @collection (it has files). */
gboolean       lk_thumbnailer_has_sharp      (LkThumbnailer  *self,
                                              LkCollection   *collection);

/* A cached texture, or NULL. Main thread, never blocks. */
GdkTexture    *lk_thumbnailer_lookup         (LkThumbnailer      *self,
                                              LkCollection       *collection,
                                              guint               index,
                                              guint               size,
                                              LkThumbnailQuality  quality);
void           lk_thumbnailer_load_async     (LkThumbnailer      *self,
                                              LkCollection       *collection,
                                              guint               index,
                                              guint               size,
                                              LkThumbnailQuality  quality,
                                              GCancellable       *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
GdkTexture    *lk_thumbnailer_load_finish    (LkThumbnailer      *self,
                                              GAsyncResult       *result,
                                              GError            **error);
/* Requests not yet finished by a worker (tests and screenshots wait for 0). */
guint          lk_thumbnailer_get_n_pending  (LkThumbnailer      *self);

G_END_DECLS
