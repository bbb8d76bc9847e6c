/* lk-focus.h — Tab leaves a list. GTK 4.8's GtkListView, GtkGridView
 * and GtkColumnView move the focus from item to item on Tab (the
 * "tab-behavior" property that changes this came in 4.12), so a person
 * on the keyboard had to press Tab once per category to reach the
 * images. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Tab and Shift+Tab anywhere in @list move the focus to the widget
 * after or before @list in the window's focus chain; the arrow keys
 * still move within it. */
void lk_focus_tab_leaves (GtkWidget *list);

G_END_DECLS
