/* lk-image-details.c — LkImageDetails: the Browse view's side pane. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-image-details-private.h"
#include "lk-image-item.h"

struct _LkImageDetails
{
  GtkWidget    parent_instance;

  /* Template widgets */
  GtkWidget   *scroller;
  LkThumbnail *preview;
  GtkLabel    *name_label;
  GtkLabel    *category_label;
  GtkLabel    *split_label_caption;
  GtkLabel    *split_label;
  GtkLabel    *path_label;
  GtkLabel    *file_size_label;
  GtkLabel    *pixel_size_label;
};

G_DEFINE_FINAL_TYPE (LkImageDetails, lk_image_details, GTK_TYPE_WIDGET)

static void
lk_image_details_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), LK_TYPE_IMAGE_DETAILS);
  G_OBJECT_CLASS (lk_image_details_parent_class)->dispose (object);
}

static void
lk_image_details_class_init (LkImageDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_image_details_dispose;

  g_type_ensure (LK_TYPE_THUMBNAIL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-image-details.ui");
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, scroller);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, preview);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, name_label);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, category_label);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, split_label_caption);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, split_label);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, path_label);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, file_size_label);
  gtk_widget_class_bind_template_child (widget_class, LkImageDetails, pixel_size_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "imagedetails");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lk_image_details_init (LkImageDetails *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
lk_image_details_new (void)
{
  return g_object_new (LK_TYPE_IMAGE_DETAILS, NULL);
}

void
lk_image_details_set_thumbnailer (LkImageDetails *self, LkThumbnailer *thumbnailer)
{
  g_return_if_fail (LK_IS_IMAGE_DETAILS (self));
  lk_thumbnail_set_thumbnailer (self->preview, thumbnailer);
}

static const char *
split_name (LkSplit split)
{
  switch (split)
    {
    case LK_SPLIT_TRAIN:
      return _("Training");
    case LK_SPLIT_TEST:
      return _("Test");
    case LK_SPLIT_ALL:
    default:
      return NULL;
    }
}

static void
clear (LkImageDetails *self)
{
  lk_thumbnail_set_item (self->preview, NULL);
  gtk_label_set_label (self->name_label, "");
  gtk_label_set_label (self->category_label, "");
  gtk_label_set_label (self->split_label, "");
  gtk_label_set_label (self->path_label, "");
  gtk_label_set_label (self->file_size_label, "");
  gtk_label_set_label (self->pixel_size_label, "");
}

void
lk_image_details_set_image (LkImageDetails *self, LkCollection *collection, guint index)
{
  g_autoptr(LkImageItem) item = NULL;
  g_autofree char *name = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  g_autofree char *size_text = NULL;
  g_autofree char *pixels_text = NULL;
  const char *split;
  guint64 file_size;
  guint width, height;

  g_return_if_fail (LK_IS_IMAGE_DETAILS (self));

  if (collection == NULL || index >= lk_collection_get_n_images (collection))
    {
      clear (self);
      return;
    }

  item = lk_image_item_new (collection, index);
  lk_thumbnail_set_item (self->preview, item);
  name = lk_image_item_dup_display_name (item);
  gtk_label_set_label (self->name_label, name);
  gtk_label_set_label (self->category_label, lk_image_item_get_category_name (item));
  split = split_name (lk_collection_get_split (collection, index));
  /* A folder collection has no split: its row is left out, not filled with "None". */
  gtk_label_set_label (self->split_label, split != NULL ? split : "");
  gtk_widget_set_visible (GTK_WIDGET (self->split_label_caption), split != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->split_label), split != NULL);

  file = lk_collection_dup_file (collection, index);
  if (file != NULL)
    path = g_filename_display_name (file);
  else
    /* TRANSLATORS: where an image of a built-in collection is: its place, then the collection */
    path = g_strdup_printf (_("%s in %s"), lk_collection_get_path (collection, index),
                            lk_collection_get_name (collection));
  gtk_label_set_label (self->path_label, path);

  lk_collection_get_file_info (collection, index, &file_size, &width, &height);
  size_text = file_size > 0 ? g_format_size (file_size)
                            : g_strdup (_("Not a separate file"));
  gtk_label_set_label (self->file_size_label, size_text);
  if (width > 0 && height > 0)
    /* TRANSLATORS: pixel size of an image, width × height */
    pixels_text = g_strdup_printf (_("%u × %u pixels"), width, height);
  else
    pixels_text = g_strdup (_("Unknown"));
  gtk_label_set_label (self->pixel_size_label, pixels_text);
}

const char *
_lk_image_details_get_text (LkImageDetails *self, LkDetailsField field)
{
  GtkLabel *labels[] = {
    self->name_label, self->category_label, self->split_label,
    self->path_label, self->file_size_label, self->pixel_size_label,
  };

  g_return_val_if_fail (LK_IS_IMAGE_DETAILS (self), NULL);
  g_return_val_if_fail ((guint) field < G_N_ELEMENTS (labels), NULL);
  return gtk_label_get_label (labels[field]);
}

gboolean
_lk_image_details_get_shown (LkImageDetails *self, LkDetailsField field)
{
  g_return_val_if_fail (LK_IS_IMAGE_DETAILS (self), FALSE);
  if (field == LK_DETAILS_SPLIT)
    return gtk_widget_get_visible (GTK_WIDGET (self->split_label));
  return TRUE;
}

LkThumbnail *
_lk_image_details_get_preview (LkImageDetails *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_DETAILS (self), NULL);
  return self->preview;
}
