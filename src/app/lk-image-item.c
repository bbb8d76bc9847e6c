/* lk-image-item.c — see lk-image-item.h. */
#include "config.h"

#include "lk-collection-boxed.h"
#include "lk-image-item.h"

struct _LkImageItem
{
  GObject       parent_instance;

  LkCollection *collection;
  guint         index;
};

G_DEFINE_FINAL_TYPE (LkImageItem, lk_image_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_COLLECTION,
  PROP_INDEX,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lk_image_item_finalize (GObject *object)
{
  LkImageItem *self = LK_IMAGE_ITEM (object);

  g_clear_pointer (&self->collection, lk_collection_unref);
  G_OBJECT_CLASS (lk_image_item_parent_class)->finalize (object);
}

static void
lk_image_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkImageItem *self = LK_IMAGE_ITEM (object);

  switch (prop_id)
    {
    case PROP_COLLECTION:
      g_value_set_boxed (value, self->collection);
      break;
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_image_item_class_init (LkImageItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_image_item_finalize;
  object_class->get_property = lk_image_item_get_property;

  properties[PROP_COLLECTION] =
    g_param_spec_boxed ("collection", NULL, NULL, LK_TYPE_COLLECTION,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lk_image_item_init (LkImageItem *self)
{
}

LkImageItem *
lk_image_item_new (LkCollection *collection, guint index)
{
  LkImageItem *self;

  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (index < lk_collection_get_n_images (collection), NULL);

  /* Set directly, not through construct properties: the grid makes one
   * item per visible cell and per scroll step. */
  self = g_object_new (LK_TYPE_IMAGE_ITEM, NULL);
  self->collection = lk_collection_ref (collection);
  self->index = index;
  return self;
}

LkCollection *
lk_image_item_get_collection (LkImageItem *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_ITEM (self), NULL);
  return self->collection;
}

guint
lk_image_item_get_index (LkImageItem *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_ITEM (self), 0);
  return self->index;
}

char *
lk_image_item_dup_display_name (LkImageItem *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_ITEM (self), NULL);
  /* Built-in images have no file name: "train/00042" says which one. */
  if (lk_collection_is_builtin (self->collection))
    return g_strdup (lk_collection_get_path (self->collection, self->index));
  return g_filename_display_basename (lk_collection_get_path (self->collection, self->index));
}

const char *
lk_image_item_get_category_name (LkImageItem *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_ITEM (self), NULL);
  return lk_collection_get_category_name (self->collection,
                                          lk_collection_get_label (self->collection, self->index));
}
