/* lk-image-list.c — see lk-image-list.h. "All images" is the collection
 * in its own order; a category is a slice of one array that groups the
 * indices by category, built once per collection. */
#include "config.h"

#include <string.h>

#include "lk-collection-boxed.h"
#include "lk-image-item.h"
#include "lk-image-list.h"

struct _LkImageList
{
  GObject       parent_instance;

  LkCollection *collection;
  guint        *order;       /* (n_images) indices, grouped by category */
  guint        *offsets;     /* (n_categories + 1) start of each group */
  int           category;
  guint         start;       /* the visible slice of @order */
  guint         n_items;
};

static void lk_image_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LkImageList, lk_image_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, lk_image_list_model_init))

enum {
  PROP_0,
  PROP_COLLECTION,
  PROP_CATEGORY,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GType
lk_image_list_get_item_type (GListModel *model)
{
  return LK_TYPE_IMAGE_ITEM;
}

static guint
lk_image_list_get_n_items (GListModel *model)
{
  return LK_IMAGE_LIST (model)->n_items;
}

static gpointer
lk_image_list_get_item (GListModel *model, guint position)
{
  LkImageList *self = LK_IMAGE_LIST (model);

  if (position >= self->n_items)
    return NULL;
  return lk_image_item_new (self->collection, lk_image_list_get_image (self, position));
}

static void
lk_image_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = lk_image_list_get_item_type;
  iface->get_n_items = lk_image_list_get_n_items;
  iface->get_item = lk_image_list_get_item;
}

/* Counting sort of the images by category: stable, so each group stays
 * in collection order. */
static void
build_order (LkImageList *self)
{
  guint n = lk_collection_get_n_images (self->collection);
  guint n_categories = lk_collection_get_n_categories (self->collection);
  const guint16 *labels = lk_collection_get_labels (self->collection);
  g_autofree guint *next = g_new0 (guint, n_categories + 1);

  self->order = g_new (guint, MAX (n, 1));
  self->offsets = g_new0 (guint, n_categories + 1);
  for (guint i = 0; i < n; i++)
    self->offsets[labels[i] + 1]++;
  for (guint c = 0; c < n_categories; c++)
    self->offsets[c + 1] += self->offsets[c];
  memcpy (next, self->offsets, (n_categories + 1) * sizeof (guint));
  for (guint i = 0; i < n; i++)
    self->order[next[labels[i]]++] = i;
}

/* Recomputes the slice and tells the views. */
static void
update_slice (LkImageList *self)
{
  guint old_n = self->n_items;

  if (self->collection == NULL)
    self->start = self->n_items = 0;
  else if (self->category == LK_IMAGE_LIST_ALL)
    {
      self->start = 0;
      self->n_items = lk_collection_get_n_images (self->collection);
    }
  else
    {
      self->start = self->offsets[self->category];
      self->n_items = self->offsets[self->category + 1] - self->start;
    }
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->n_items);
  if (old_n != self->n_items)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

static void
lk_image_list_finalize (GObject *object)
{
  LkImageList *self = LK_IMAGE_LIST (object);

  g_clear_pointer (&self->collection, lk_collection_unref);
  g_free (self->order);
  g_free (self->offsets);
  G_OBJECT_CLASS (lk_image_list_parent_class)->finalize (object);
}

static void
lk_image_list_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkImageList *self = LK_IMAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_COLLECTION:
      g_value_set_boxed (value, self->collection);
      break;
    case PROP_CATEGORY:
      g_value_set_int (value, self->category);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->n_items);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_image_list_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkImageList *self = LK_IMAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_COLLECTION:
      lk_image_list_set_collection (self, g_value_get_boxed (value));
      break;
    case PROP_CATEGORY:
      lk_image_list_set_category (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_image_list_class_init (LkImageListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_image_list_finalize;
  object_class->get_property = lk_image_list_get_property;
  object_class->set_property = lk_image_list_set_property;

  properties[PROP_COLLECTION] =
    g_param_spec_boxed ("collection", NULL, NULL, LK_TYPE_COLLECTION,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CATEGORY] =
    g_param_spec_int ("category", NULL, NULL, LK_IMAGE_LIST_ALL, G_MAXUINT16, LK_IMAGE_LIST_ALL,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lk_image_list_init (LkImageList *self)
{
  self->category = LK_IMAGE_LIST_ALL;
}

LkImageList *
lk_image_list_new (void)
{
  return g_object_new (LK_TYPE_IMAGE_LIST, NULL);
}

void
lk_image_list_set_collection (LkImageList *self, LkCollection *collection)
{
  g_return_if_fail (LK_IS_IMAGE_LIST (self));

  if (self->collection == collection)
    return;
  g_clear_pointer (&self->collection, lk_collection_unref);
  g_clear_pointer (&self->order, g_free);
  g_clear_pointer (&self->offsets, g_free);
  if (collection != NULL)
    {
      self->collection = lk_collection_ref (collection);
      build_order (self);
    }
  if (self->category != LK_IMAGE_LIST_ALL)
    {
      self->category = LK_IMAGE_LIST_ALL;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CATEGORY]);
    }
  update_slice (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLLECTION]);
}

LkCollection *
lk_image_list_get_collection (LkImageList *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_LIST (self), NULL);
  return self->collection;
}

void
lk_image_list_set_category (LkImageList *self, int category)
{
  g_return_if_fail (LK_IS_IMAGE_LIST (self));
  g_return_if_fail (category == LK_IMAGE_LIST_ALL ||
                    (self->collection != NULL && category >= 0 &&
                     (guint) category < lk_collection_get_n_categories (self->collection)));

  if (self->category == category)
    return;
  self->category = category;
  update_slice (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CATEGORY]);
}

int
lk_image_list_get_category (LkImageList *self)
{
  g_return_val_if_fail (LK_IS_IMAGE_LIST (self), LK_IMAGE_LIST_ALL);
  return self->category;
}

guint
lk_image_list_get_image (LkImageList *self, guint position)
{
  g_return_val_if_fail (LK_IS_IMAGE_LIST (self), 0);
  g_return_val_if_fail (position < self->n_items, 0);
  if (self->category == LK_IMAGE_LIST_ALL)
    return position;
  return self->order[self->start + position];
}

gboolean
lk_image_list_find (LkImageList *self, guint index, guint *position)
{
  guint lo, hi;

  g_return_val_if_fail (LK_IS_IMAGE_LIST (self), FALSE);

  if (self->collection == NULL || index >= lk_collection_get_n_images (self->collection))
    return FALSE;
  if (self->category == LK_IMAGE_LIST_ALL)
    {
      if (position != NULL)
        *position = index;
      return TRUE;
    }
  if (lk_collection_get_label (self->collection, index) != (guint) self->category)
    return FALSE;
  /* The group is ascending. */
  lo = self->start;
  hi = self->start + self->n_items;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (self->order[mid] < index)
        lo = mid + 1;
      else
        hi = mid;
    }
  g_assert (lo < self->start + self->n_items && self->order[lo] == index);
  if (position != NULL)
    *position = lo - self->start;
  return TRUE;
}
