/* lk-thumbnailer-private.h — the thumbnailer's texture makers, for tests. */
#pragma once

#include "lk-thumbnailer.h"

G_BEGIN_DECLS

/* Any thread. From a (side, side, channels) uint8 tensor: scaled by a
 * whole factor with nearest-neighbour sampling when that factor is 3 or
 * more (pixel-sized data such as Fashion-MNIST stays crisp), else
 * bilinear to @size. */
GdkTexture    *_lk_thumbnail_from_tensor     (const guint8       *pixels,
                                              guint               side,
                                              guint               channels,
                                              guint               size);
/* Any thread. The original file, fitted into @size × @size, EXIF
 * orientation applied; an error if it cannot be read or is too big. */
GdkTexture    *_lk_thumbnail_from_file       (const char         *path,
                                              guint               size,
                                              guint64             max_pixels,
                                              GError            **error);

G_END_DECLS
