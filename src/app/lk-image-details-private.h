/* lk-image-details-private.h — what the UI tests read back. */
#pragma once

#include "lk-image-details.h"
#include "lk-thumbnail.h"

G_BEGIN_DECLS

typedef enum {
  LK_DETAILS_NAME,
  LK_DETAILS_CATEGORY,
  LK_DETAILS_SPLIT,
  LK_DETAILS_PATH,
  LK_DETAILS_FILE_SIZE,
  LK_DETAILS_PIXEL_SIZE,
} LkDetailsField;

const char  *_lk_image_details_get_text    (LkImageDetails *self,
                                            LkDetailsField  field);
/* Whether the field's row is shown (a folder collection has no split). */
gboolean     _lk_image_details_get_shown   (LkImageDetails *self,
                                            LkDetailsField  field);
LkThumbnail *_lk_image_details_get_preview (LkImageDetails *self);

G_END_DECLS
