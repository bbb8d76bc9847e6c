/* lk-category-item.c — see lk-category-item.h. */
#include "config.h"

#include "lk-category-item.h"

struct _LkCategoryItem
{
  GObject  parent_instance;

  int      category;
  char    *name;
  guint    count;
  char    *count_text;
};

G_DEFINE_FINAL_TYPE (LkCategoryItem, lk_category_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CATEGORY,
  PROP_NAME,
  PROP_COUNT,
  PROP_COUNT_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lk_category_item_finalize (GObject *object)
{
  LkCategoryItem *self = LK_CATEGORY_ITEM (object);

  g_free (self->name);
  g_free (self->count_text);
  G_OBJECT_CLASS (lk_category_item_parent_class)->finalize (object);
}

static void
lk_category_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkCategoryItem *self = LK_CATEGORY_ITEM (object);

  switch (prop_id)
    {
    case PROP_CATEGORY:
      g_value_set_int (value, self->category);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_COUNT:
      g_value_set_uint (value, self->count);
      break;
    case PROP_COUNT_TEXT:
      g_value_set_string (value, self->count_text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_category_item_class_init (LkCategoryItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_category_item_finalize;
  object_class->get_property = lk_category_item_get_property;

  properties[PROP_CATEGORY] =
    g_param_spec_int ("category", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_COUNT] =
    g_param_spec_uint ("count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* The count with the locale's digit grouping, for the row's label. */
  properties[PROP_COUNT_TEXT] =
    g_param_spec_string ("count-text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lk_category_item_init (LkCategoryItem *self)
{
}

LkCategoryItem *
lk_category_item_new (int category, const char *name, guint count)
{
  LkCategoryItem *self;

  g_return_val_if_fail (name != NULL, NULL);

  self = g_object_new (LK_TYPE_CATEGORY_ITEM, NULL);
  self->category = category;
  self->name = g_strdup (name);
  self->count = count;
  self->count_text = g_strdup_printf ("%'u", count);
  return self;
}

int
lk_category_item_get_category (LkCategoryItem *self)
{
  g_return_val_if_fail (LK_IS_CATEGORY_ITEM (self), -1);
  return self->category;
}

const char *
lk_category_item_get_name (LkCategoryItem *self)
{
  g_return_val_if_fail (LK_IS_CATEGORY_ITEM (self), NULL);
  return self->name;
}

guint
lk_category_item_get_count (LkCategoryItem *self)
{
  g_return_val_if_fail (LK_IS_CATEGORY_ITEM (self), 0);
  return self->count;
}
