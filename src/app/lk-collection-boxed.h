/* lk-collection-boxed.h — the engine's LkCollection as a boxed GType, so
 * it can be a GObject property, a signal argument or a GValue. */
#pragma once

#include <glib-object.h>

#include "collection.h"

G_BEGIN_DECLS

#define LK_TYPE_COLLECTION (lk_collection_boxed_get_type ())
GType lk_collection_boxed_get_type (void) G_GNUC_CONST;

G_END_DECLS
