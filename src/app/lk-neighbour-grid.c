/* lk-neighbour-grid.c — LkNeighbourGrid: a GtkGridView over a list of
 * LkNeighbourItem, cells of LkThumbnail and two captions. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-neighbour-grid.h"
#include "lk-focus.h"
#include "lk-neighbour-item.h"
#include "lk-thumbnail.h"

#define THUMBNAIL_SIZE 96

struct _LkNeighbourGrid
{
  GtkWidget      parent_instance;

  /* Template widgets */
  GtkWidget     *box;
  GtkLabel      *title_label;
  GtkLabel      *detail_label;
  GtkStack      *stack;
  GtkLabel      *message_label;
  GtkGridView   *grid;

  /* Owned */
  LkThumbnailer *thumbnailer;
  GListStore    *items;
};

G_DEFINE_FINAL_TYPE (LkNeighbourGrid, lk_neighbour_grid, GTK_TYPE_WIDGET)

enum {
  NEIGHBOUR_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_grid_activate (LkNeighbourGrid *self, guint position)
{
  g_autoptr(LkNeighbourItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), position);

  if (item != NULL)
    g_signal_emit (self, signals[NEIGHBOUR_ACTIVATED], 0, lk_neighbour_item_get_index (item));
}

/* Cells ----------------------------------------------------------------------- */

static void
cell_setup (GtkSignalListItemFactory *factory, GtkListItem *list_item, LkNeighbourGrid *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *thumbnail = lk_thumbnail_new (self->thumbnailer, THUMBNAIL_SIZE);
  GtkWidget *caption = gtk_label_new (NULL);
  GtkWidget *category = gtk_label_new (NULL);

  gtk_widget_set_halign (thumbnail, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (caption, "numeric");
  gtk_widget_add_css_class (caption, "caption");
  gtk_widget_add_css_class (category, "caption");
  gtk_widget_add_css_class (category, "dim-label");
  gtk_label_set_ellipsize (GTK_LABEL (category), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (category), 14);
  gtk_box_append (GTK_BOX (box), thumbnail);
  gtk_box_append (GTK_BOX (box), caption);
  gtk_box_append (GTK_BOX (box), category);
  gtk_list_item_set_child (list_item, box);
}

/* Shows @item in the cell @box (at a bind, and when a new result reuses
 * the item). */
static void
show_item (GtkWidget *box, LkNeighbourItem *item)
{
  GtkWidget *thumbnail = gtk_widget_get_first_child (box);
  GtkWidget *caption = gtk_widget_get_next_sibling (thumbnail);
  GtkWidget *category = gtk_widget_get_next_sibling (caption);
  LkImageItem *image = lk_neighbour_item_get_image (item);
  g_autofree char *text = lk_neighbour_item_dup_caption (item);
  g_autofree char *name = lk_image_item_dup_display_name (image);
  g_autofree char *label = NULL;

  lk_thumbnail_set_item (LK_THUMBNAIL (thumbnail), image);
  gtk_label_set_label (GTK_LABEL (caption), text);
  gtk_label_set_label (GTK_LABEL (category), lk_image_item_get_category_name (image));
  /* TRANSLATORS: a neighbour's accessible name: rank, distance, file name, category */
  label = g_strdup_printf (_("Rank %u, distance %.4g: %s, in %s"),
                           lk_neighbour_item_get_rank (item), lk_neighbour_item_get_distance (item),
                           name, lk_image_item_get_category_name (image));
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_set_tooltip_text (box, label);
}

static void
on_item_changed (LkNeighbourItem *item, GtkListItem *list_item)
{
  show_item (gtk_list_item_get_child (list_item), item);
}

static void
cell_bind (GtkSignalListItemFactory *factory, GtkListItem *list_item, LkNeighbourGrid *self)
{
  LkNeighbourItem *item = gtk_list_item_get_item (list_item);

  show_item (gtk_list_item_get_child (list_item), item);
  g_signal_connect_object (item, "changed", G_CALLBACK (on_item_changed), list_item, 0);
}

static void
cell_unbind (GtkSignalListItemFactory *factory, GtkListItem *list_item, LkNeighbourGrid *self)
{
  GtkWidget *box = gtk_list_item_get_child (list_item);
  lk_thumbnail_set_item (LK_THUMBNAIL (gtk_widget_get_first_child (box)), NULL);
}

static void
set_factory (LkNeighbourGrid *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;

  if (self->thumbnailer == NULL)
    {
      gtk_grid_view_set_factory (self->grid, NULL);
      return;
    }
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (cell_unbind), self);
  gtk_grid_view_set_factory (self->grid, factory);
}

/* Object ------------------------------------------------------------------------- */

static void
lk_neighbour_grid_dispose (GObject *object)
{
  LkNeighbourGrid *self = LK_NEIGHBOUR_GRID (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_NEIGHBOUR_GRID);
  g_clear_object (&self->thumbnailer);
  g_clear_object (&self->items);
  G_OBJECT_CLASS (lk_neighbour_grid_parent_class)->dispose (object);
}

static void
lk_neighbour_grid_class_init (LkNeighbourGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_neighbour_grid_dispose;

  signals[NEIGHBOUR_ACTIVATED] =
    g_signal_new ("neighbour-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-neighbour-grid.ui");
  gtk_widget_class_bind_template_child (widget_class, LkNeighbourGrid, box);
  gtk_widget_class_bind_template_child (widget_class, LkNeighbourGrid, title_label);
  gtk_widget_class_bind_template_child (widget_class, LkNeighbourGrid, detail_label);
  gtk_widget_class_bind_template_child (widget_class, LkNeighbourGrid, stack);
  gtk_widget_class_bind_template_child (widget_class, LkNeighbourGrid, message_label);
  gtk_widget_class_bind_template_child (widget_class, LkNeighbourGrid, grid);
  gtk_widget_class_bind_template_callback (widget_class, on_grid_activate);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "neighbourgrid");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lk_neighbour_grid_init (LkNeighbourGrid *self)
{
  GtkNoSelection *selection;

  gtk_widget_init_template (GTK_WIDGET (self));
  lk_focus_tab_leaves (GTK_WIDGET (self->grid));
  self->items = g_list_store_new (LK_TYPE_NEIGHBOUR_ITEM);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->items)));
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
}

GtkWidget *
lk_neighbour_grid_new (void)
{
  return g_object_new (LK_TYPE_NEIGHBOUR_GRID, NULL);
}

void
lk_neighbour_grid_set_thumbnailer (LkNeighbourGrid *self, LkThumbnailer *thumbnailer)
{
  g_return_if_fail (LK_IS_NEIGHBOUR_GRID (self));
  g_return_if_fail (thumbnailer == NULL || LK_IS_THUMBNAILER (thumbnailer));

  if (g_set_object (&self->thumbnailer, thumbnailer))
    set_factory (self);
}

void
lk_neighbour_grid_set_title (LkNeighbourGrid *self, const char *title)
{
  g_return_if_fail (LK_IS_NEIGHBOUR_GRID (self));
  gtk_label_set_label (self->title_label, title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->grid), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  title != NULL ? title : "", -1);
}

const char *
lk_neighbour_grid_get_title (LkNeighbourGrid *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_GRID (self), NULL);
  return gtk_label_get_label (self->title_label);
}

void
lk_neighbour_grid_set_detail (LkNeighbourGrid *self, const char *detail)
{
  g_return_if_fail (LK_IS_NEIGHBOUR_GRID (self));
  gtk_label_set_label (self->detail_label, detail);
}

void
lk_neighbour_grid_set_neighbours (LkNeighbourGrid   *self,
                                  LkCollection      *collection,
                                  const LkNeighbour *neighbours,
                                  guint              n)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  guint old, kept;

  g_return_if_fail (LK_IS_NEIGHBOUR_GRID (self));
  g_return_if_fail (collection != NULL && (neighbours != NULL || n == 0));

  /* The items there become the new neighbours and their cells rebind in
   * place: replacing them made the grid destroy and build every cell
   * again, ~10 ms of the main thread per click on Fashion-MNIST. */
  old = g_list_model_get_n_items (G_LIST_MODEL (self->items));
  kept = MIN (old, n);
  for (guint i = 0; i < kept; i++)
    {
      g_autoptr(LkNeighbourItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);
      lk_neighbour_item_set (item, collection, neighbours[i].id, i + 1, neighbours[i].distance);
    }
  for (guint i = kept; i < n; i++)
    g_ptr_array_add (items, lk_neighbour_item_new (collection, neighbours[i].id, i + 1,
                                                   neighbours[i].distance));
  if (old != n)
    g_list_store_splice (self->items, kept, old - kept, items->pdata, items->len);
  /* A new list starts at its top, as a new model did. */
  {
    GtkAdjustment *v = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->grid));
    if (v != NULL)
      gtk_adjustment_set_value (v, 0);
  }
  gtk_stack_set_visible_child_name (self->stack, "grid");
}

void
lk_neighbour_grid_show_message (LkNeighbourGrid *self, const char *message)
{
  g_return_if_fail (LK_IS_NEIGHBOUR_GRID (self));
  g_list_store_remove_all (self->items);
  gtk_label_set_label (self->message_label, message);
  gtk_stack_set_visible_child_name (self->stack, "message");
}

const char *
lk_neighbour_grid_get_message (LkNeighbourGrid *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_GRID (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "message") != 0)
    return NULL;
  return gtk_label_get_label (self->message_label);
}

GListModel *
lk_neighbour_grid_get_model (LkNeighbourGrid *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_GRID (self), NULL);
  return G_LIST_MODEL (self->items);
}

GtkGridView *
lk_neighbour_grid_get_grid (LkNeighbourGrid *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_GRID (self), NULL);
  return self->grid;
}
