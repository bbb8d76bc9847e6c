/* lk-browse-view.c — LkBrowseView: categories, the thumbnail grid and
 * the details pane, all following the session.
 *
 * The grid is a GtkGridView over LkImageList (items made on demand) with
 * recycled LkThumbnail cells; selecting an image, by click or by arrow
 * key, activates it in the session, and the details pane follows the
 * session's activated image, wherever it was activated. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-browse-view-private.h"
#include "lk-category-item.h"
#include "lk-focus.h"
#include "lk-image-details.h"
#include "lk-image-item.h"
#include "lk-image-list.h"
#include "lk-session-binding.h"
#include "lk-status-page.h"
#include "lk-thumbnail.h"

#define THUMBNAIL_SIZE 112

struct _LkBrowseView
{
  GtkWidget           parent_instance;

  /* Template widgets */
  GtkPaned           *paned;
  GtkLabel           *collection_label;
  GtkLabel           *summary_label;
  GtkListView        *sidebar;
  GtkSingleSelection *sidebar_selection;
  GtkStack           *content_stack;
  GtkGridView        *grid;
  LkStatusPage       *empty_page;
  GtkRevealer        *details_revealer;
  LkImageDetails     *details;

  /* Owned */
  LkSession          *session;
  GListStore         *categories;
  LkImageList        *images;
  GtkSingleSelection *grid_selection;
  gboolean            syncing;     /* selection changes made by us, not the user */
};

G_DEFINE_FINAL_TYPE (LkBrowseView, lk_browse_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Selects the activated image in the grid if the grid shows it. */
static void
sync_grid_selection (LkBrowseView *self)
{
  int active = self->session != NULL ? lk_session_get_activated_image (self->session) : -1;
  guint position = GTK_INVALID_LIST_POSITION;

  if (active >= 0 && !lk_image_list_find (self->images, (guint) active, &position))
    position = GTK_INVALID_LIST_POSITION;
  if (gtk_single_selection_get_selected (self->grid_selection) == position)
    return;
  self->syncing = TRUE;
  gtk_single_selection_set_selected (self->grid_selection, position);
  self->syncing = FALSE;
}

static void
update_content_page (LkBrowseView *self)
{
  LkCollection *coll = lk_image_list_get_collection (self->images);
  int category = lk_image_list_get_category (self->images);
  g_autofree char *title = NULL;

  if (coll == NULL || g_list_model_get_n_items (G_LIST_MODEL (self->images)) > 0)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "grid");
      return;
    }
  /* TRANSLATORS: the empty state of a category, with its name */
  title = g_strdup_printf (_("No Images in “%s”"),
                           category >= 0 ? lk_collection_get_category_name (coll, (guint) category)
                                         : lk_collection_get_name (coll));
  lk_status_page_set_title (self->empty_page, title);
  gtk_stack_set_visible_child_name (self->content_stack, "empty");
}

static void
update_header (LkBrowseView *self, LkCollection *coll)
{
  g_autofree char *images = NULL;
  g_autofree char *summary = NULL;
  guint n, n_categories;

  if (coll == NULL)
    {
      gtk_label_set_label (self->collection_label, "");
      gtk_label_set_label (self->summary_label, "");
      return;
    }
  n = lk_collection_get_n_images (coll);
  n_categories = lk_collection_get_n_categories (coll);
  images = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u image", "%'u images", n), n);
  /* TRANSLATORS: "70,000 images in 10 categories" */
  summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s in %u category",
                                          "%s in %u categories", n_categories),
                             images, n_categories);
  gtk_label_set_label (self->collection_label, lk_collection_get_name (coll));
  gtk_label_set_label (self->summary_label, summary);
}

static void
hide_details (LkBrowseView *self)
{
  gtk_revealer_set_reveal_child (self->details_revealer, FALSE);
}

static void
on_collection_changed (LkBrowseView *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);

  update_header (self, coll);
  hide_details (self);
  lk_image_details_set_image (self->details, NULL, 0);

  if (coll != NULL)
    {
      g_ptr_array_add (rows, lk_category_item_new (LK_IMAGE_LIST_ALL, _("All images"),
                                                   lk_collection_get_n_images (coll)));
      for (guint c = 0; c < lk_collection_get_n_categories (coll); c++)
        g_ptr_array_add (rows, lk_category_item_new ((int) c,
                                                     lk_collection_get_category_name (coll, c),
                                                     lk_collection_get_category_count (coll, c)));
    }
  /* The list first, so the sidebar's selection (which sets the category)
   * meets a list of the new collection. */
  lk_image_list_set_collection (self->images, coll);
  g_list_store_splice (self->categories, 0, g_list_model_get_n_items (G_LIST_MODEL (self->categories)),
                       rows->pdata, rows->len);
  gtk_single_selection_set_selected (self->sidebar_selection, coll != NULL ? 0 : GTK_INVALID_LIST_POSITION);
  update_content_page (self);
}

static void
on_sidebar_selected (LkBrowseView *self)
{
  LkCategoryItem *item = gtk_single_selection_get_selected_item (self->sidebar_selection);

  if (item == NULL || lk_image_list_get_collection (self->images) == NULL)
    return;
  lk_image_list_set_category (self->images, lk_category_item_get_category (item));
  update_content_page (self);
  sync_grid_selection (self);
}

static void
activate_position (LkBrowseView *self, guint position)
{
  if (self->session == NULL || position >= g_list_model_get_n_items (G_LIST_MODEL (self->images)))
    return;
  lk_session_activate_image (self->session, lk_image_list_get_image (self->images, position));
}

static void
on_grid_selected (LkBrowseView *self)
{
  guint position = gtk_single_selection_get_selected (self->grid_selection);

  if (!self->syncing && position != GTK_INVALID_LIST_POSITION)
    activate_position (self, position);
}

static void
on_grid_activate (LkBrowseView *self, guint position)
{
  activate_position (self, position);
}

static void
on_image_activated (LkBrowseView *self, guint index)
{
  lk_image_details_set_image (self->details, lk_session_get_collection (self->session), index);
  gtk_revealer_set_reveal_child (self->details_revealer, TRUE);
  sync_grid_selection (self);
}

static void
on_activated_image_changed (LkBrowseView *self)
{
  if (lk_session_get_activated_image (self->session) < 0)
    hide_details (self);
  sync_grid_selection (self);
}

static void
close_details (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  LkBrowseView *self = LK_BROWSE_VIEW (widget);

  hide_details (self);
  self->syncing = TRUE;
  gtk_single_selection_set_selected (self->grid_selection, GTK_INVALID_LIST_POSITION);
  self->syncing = FALSE;
  gtk_widget_grab_focus (GTK_WIDGET (self->grid));
}

/* Grid cells ------------------------------------------------------------- */

static void
cell_setup (GtkSignalListItemFactory *factory, GtkListItem *list_item, LkBrowseView *self)
{
  GtkWidget *thumbnail = lk_thumbnail_new (lk_session_get_thumbnailer (self->session),
                                           THUMBNAIL_SIZE);

  gtk_widget_set_halign (thumbnail, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (thumbnail, GTK_ALIGN_CENTER);
  gtk_list_item_set_child (list_item, thumbnail);
}

static void
cell_bind (GtkSignalListItemFactory *factory, GtkListItem *list_item, LkBrowseView *self)
{
  lk_thumbnail_set_item (LK_THUMBNAIL (gtk_list_item_get_child (list_item)),
                         gtk_list_item_get_item (list_item));
}

static void
cell_unbind (GtkSignalListItemFactory *factory, GtkListItem *list_item, LkBrowseView *self)
{
  /* Cancels the cell's request: a cell scrolled away costs nothing more. */
  lk_thumbnail_set_item (LK_THUMBNAIL (gtk_list_item_get_child (list_item)), NULL);
}

static void
set_grid_factory (LkBrowseView *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;

  if (self->session == NULL)
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

/* Object ------------------------------------------------------------------ */

static void
lk_browse_view_dispose (GObject *object)
{
  LkBrowseView *self = LK_BROWSE_VIEW (object);

  lk_browse_view_set_session (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_BROWSE_VIEW);
  g_clear_object (&self->categories);
  g_clear_object (&self->images);
  g_clear_object (&self->grid_selection);
  G_OBJECT_CLASS (lk_browse_view_parent_class)->dispose (object);
}

static void
lk_browse_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkBrowseView *self = LK_BROWSE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_browse_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkBrowseView *self = LK_BROWSE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      lk_browse_view_set_session (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_browse_view_class_init (LkBrowseViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_browse_view_dispose;
  object_class->get_property = lk_browse_view_get_property;
  object_class->set_property = lk_browse_view_set_property;

  properties[PROP_SESSION] = lk_session_binding_param_spec ();
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LK_TYPE_CATEGORY_ITEM);
  g_type_ensure (LK_TYPE_IMAGE_DETAILS);
  g_type_ensure (LK_TYPE_STATUS_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-browse-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, paned);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, collection_label);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, summary_label);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, sidebar);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, sidebar_selection);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, content_stack);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, grid);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, details_revealer);
  gtk_widget_class_bind_template_child (widget_class, LkBrowseView, details);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_grid_activate);

  gtk_widget_class_install_action (widget_class, "browse.close-details", NULL, close_details);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "browse.close-details", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "browseview");
}

static void
lk_browse_view_init (LkBrowseView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  lk_focus_tab_leaves (GTK_WIDGET (self->sidebar));
  lk_focus_tab_leaves (GTK_WIDGET (self->grid));

  self->categories = g_list_store_new (LK_TYPE_CATEGORY_ITEM);
  gtk_single_selection_set_model (self->sidebar_selection, G_LIST_MODEL (self->categories));

  self->images = lk_image_list_new ();
  self->grid_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->images)));
  gtk_single_selection_set_autoselect (self->grid_selection, FALSE);
  gtk_single_selection_set_can_unselect (self->grid_selection, TRUE);
  g_signal_connect_swapped (self->grid_selection, "notify::selected",
                            G_CALLBACK (on_grid_selected), self);
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->grid_selection));
}

GtkWidget *
lk_browse_view_new (LkSession *session)
{
  return g_object_new (LK_TYPE_BROWSE_VIEW, "session", session, NULL);
}

void
lk_browse_view_set_session (LkBrowseView *self, LkSession *session)
{
  g_return_if_fail (LK_IS_BROWSE_VIEW (self));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  static const LkSessionSignal follow[] = {
    { LK_SESSION_PART_SESSION, "notify::collection", G_CALLBACK (on_collection_changed) },
    { LK_SESSION_PART_SESSION, "notify::activated-image",
      G_CALLBACK (on_activated_image_changed) },
    { LK_SESSION_PART_SESSION, "image-activated", G_CALLBACK (on_image_activated) },
  };

  if (self->session == session)
    return;
  lk_session_binding_release (self, self->session);
  g_set_object (&self->session, session);

  set_grid_factory (self);
  lk_image_details_set_thumbnailer (self->details,
                                    session != NULL ? lk_session_get_thumbnailer (session) : NULL);
  if (session != NULL)
    {
      lk_session_binding_follow (self, session, follow, G_N_ELEMENTS (follow));
      on_collection_changed (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

LkSession *
lk_browse_view_get_session (LkBrowseView *self)
{
  g_return_val_if_fail (LK_IS_BROWSE_VIEW (self), NULL);
  return self->session;
}

GtkListView *
_lk_browse_view_get_sidebar (LkBrowseView *self)
{
  return self->sidebar;
}

GtkGridView *
_lk_browse_view_get_grid (LkBrowseView *self)
{
  return self->grid;
}

LkImageDetails *
_lk_browse_view_get_details (LkBrowseView *self)
{
  return self->details;
}

gboolean
_lk_browse_view_get_details_visible (LkBrowseView *self)
{
  return gtk_revealer_get_reveal_child (self->details_revealer);
}

LkStatusPage *
_lk_browse_view_get_empty_page (LkBrowseView *self)
{
  return self->empty_page;
}

const char *
_lk_browse_view_get_page (LkBrowseView *self)
{
  return gtk_stack_get_visible_child_name (self->content_stack);
}
