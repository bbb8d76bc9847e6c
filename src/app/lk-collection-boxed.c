/* lk-collection-boxed.c — see lk-collection-boxed.h. */
#include "config.h"

#include "lk-collection-boxed.h"

G_DEFINE_BOXED_TYPE (LkCollection, lk_collection_boxed, lk_collection_ref, lk_collection_unref)
