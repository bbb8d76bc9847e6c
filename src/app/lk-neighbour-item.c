/* lk-neighbour-item.c — see lk-neighbour-item.h. */
#include "config.h"

#include "lk-neighbour-item.h"

struct _LkNeighbourItem
{
  GObject      parent_instance;

  LkImageItem *image;
  guint        rank;
  float        distance;
};

G_DEFINE_FINAL_TYPE (LkNeighbourItem, lk_neighbour_item, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
lk_neighbour_item_finalize (GObject *object)
{
  LkNeighbourItem *self = LK_NEIGHBOUR_ITEM (object);

  g_clear_object (&self->image);
  G_OBJECT_CLASS (lk_neighbour_item_parent_class)->finalize (object);
}

static void
lk_neighbour_item_class_init (LkNeighbourItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lk_neighbour_item_finalize;
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
lk_neighbour_item_init (LkNeighbourItem *self)
{
}

LkNeighbourItem *
lk_neighbour_item_new (LkCollection *collection, guint index, guint rank, float distance)
{
  LkNeighbourItem *self;

  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (index < lk_collection_get_n_images (collection), NULL);

  self = g_object_new (LK_TYPE_NEIGHBOUR_ITEM, NULL);
  self->image = lk_image_item_new (collection, index);
  self->rank = rank;
  self->distance = distance;
  return self;
}

void
lk_neighbour_item_set (LkNeighbourItem *self, LkCollection *collection, guint index, guint rank,
                       float distance)
{
  g_return_if_fail (LK_IS_NEIGHBOUR_ITEM (self));
  g_return_if_fail (collection != NULL);
  g_return_if_fail (index < lk_collection_get_n_images (collection));

  /* The same image keeps its item, so its cell keeps its thumbnail. */
  if (lk_image_item_get_collection (self->image) != collection ||
      lk_image_item_get_index (self->image) != index)
    {
      g_object_unref (self->image);
      self->image = lk_image_item_new (collection, index);
    }
  self->rank = rank;
  self->distance = distance;
  g_signal_emit (self, signals[CHANGED], 0);
}

LkImageItem *
lk_neighbour_item_get_image (LkNeighbourItem *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_ITEM (self), NULL);
  return self->image;
}

guint
lk_neighbour_item_get_index (LkNeighbourItem *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_ITEM (self), 0);
  return lk_image_item_get_index (self->image);
}

guint
lk_neighbour_item_get_rank (LkNeighbourItem *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_ITEM (self), 0);
  return self->rank;
}

float
lk_neighbour_item_get_distance (LkNeighbourItem *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_ITEM (self), 0);
  return self->distance;
}

char *
lk_neighbour_item_dup_caption (LkNeighbourItem *self)
{
  g_return_val_if_fail (LK_IS_NEIGHBOUR_ITEM (self), NULL);
  /* Four significant digits tell neighbours apart at any scale; '#'
   * keeps trailing zeros, so 1.100 does not read as the coarser 1.1
   * beside 1.123. */
  return g_strdup_printf ("%u · %#.4g", self->rank, self->distance);
}
