/* lk-source-dropdown.h — a GtkDropDown listing the embedding sources of
 * a collection by their labels (every source the search service lists:
 * the baselines, golden-learned, each model), for the views that let
 * people choose which source ranks. */
#pragma once

#include <gtk/gtk.h>

#include "lk-search-service.h"

G_BEGIN_DECLS

/* Fills @dropdown with @service's sources and selects @name, or
 * @fallback when @name is not (or no longer) there, or the first.
 * notify::selected may come even when the same source stays selected:
 * compare names. */
void        lk_source_dropdown_fill     (GtkDropDown     *dropdown,
                                         LkSearchService *service,
                                         const char      *name,
                                         const char      *fallback);
/* The name of the selected source, or NULL. */
const char *lk_source_dropdown_get_name (GtkDropDown     *dropdown);
/* Selects @name if listed; returns whether it is. */
gboolean    lk_source_dropdown_select   (GtkDropDown     *dropdown,
                                         const char      *name);

G_END_DECLS
