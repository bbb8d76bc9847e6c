/* lk-source-slot.h — one source a view ranks with: its name, its index
 * once the search service has it ready, or why it could not have it.
 *
 * A view keeps a slot per source it shows (the Query view's two sides,
 * the Label view's pair) and calls lk_source_slot_update() whenever it
 * may need the index: the slot takes a ready index from the service,
 * drops one whose rows changed since (lk_search_service_is_current()),
 * and asks for one when allowed to (a view asks only while shown). It
 * emits "changed" when a requested index is ready or its preparation
 * failed or was stopped. */
#pragma once

#include <glib-object.h>

#include "lk-search-service.h"

G_BEGIN_DECLS

#define LK_TYPE_SOURCE_SLOT (lk_source_slot_get_type ())
G_DECLARE_FINAL_TYPE (LkSourceSlot, lk_source_slot, LK, SOURCE_SLOT, GObject)

LkSourceSlot  *lk_source_slot_new           (void);
/* Forgets everything of the previous service or collection. */
void           lk_source_slot_set_service   (LkSourceSlot    *self,
                                             LkSearchService *service);
/* Returns TRUE if the name changed (and the index with it). */
gboolean       lk_source_slot_set_name      (LkSourceSlot    *self,
                                             const char      *name);
const char    *lk_source_slot_get_name      (LkSourceSlot    *self);
/* The source's label as the service lists it (the name until listed). */
const char    *lk_source_slot_get_label     (LkSourceSlot    *self);
/* Returns whether the index is ready. With @may_prepare, asks the
 * service for it if it is not and nothing is asked yet. */
gboolean       lk_source_slot_update        (LkSourceSlot    *self,
                                             gboolean         may_prepare);
/* Ready and current, or NULL. */
LkSourceIndex *lk_source_slot_get_index     (LkSourceSlot    *self);
/* Neither ready nor failed. */
gboolean       lk_source_slot_get_waiting   (LkSourceSlot    *self);
/* Asked for and not answered yet. */
gboolean       lk_source_slot_get_pending   (LkSourceSlot    *self);
/* Why the last preparation failed ("stopped" when it was cancelled:
 * see lk_source_slot_get_stopped()), or NULL. */
const char    *lk_source_slot_get_error     (LkSourceSlot    *self);
gboolean       lk_source_slot_get_stopped   (LkSourceSlot    *self);
/* Forgets a failure, so the next update asks again. */
void           lk_source_slot_retry         (LkSourceSlot    *self);
/* The progress of the service's preparation of @name, as a line for a
 * banner, if this slot waits for it; else NULL. */
char          *lk_source_slot_dup_progress  (LkSourceSlot    *self,
                                             const char      *name,
                                             guint            done,
                                             guint            total);

G_END_DECLS
