/* lk-thumbnail.c — LkThumbnail: one image, drawn in snapshot from a
 * texture that the thumbnailer makes in a worker. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-thumbnail.h"

#define DEFAULT_SIZE 112
#define CORNER_RADIUS 4.f

struct _LkThumbnail
{
  GtkWidget      parent_instance;

  /* Owned */
  LkThumbnailer *thumbnailer;
  LkImageItem   *item;
  GdkTexture    *texture;
  GCancellable  *cancellable;    /* of the request in flight */
  guint          size;
  gboolean       needs_load;     /* the item is set, nothing asked for it yet */
};

G_DEFINE_FINAL_TYPE (LkThumbnail, lk_thumbnail, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_THUMBNAILER,
  PROP_ITEM,
  PROP_SIZE,
  PROP_TEXTURE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void request (LkThumbnail *self, LkThumbnailQuality quality);

static void
set_texture (LkThumbnail *self, GdkTexture *texture)
{
  if (g_set_object (&self->texture, texture))
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
    }
}

/* From snapshot: no queue_draw, the widget is being drawn right now. */
static void
set_texture_while_drawing (LkThumbnail *self, GdkTexture *texture)
{
  if (g_set_object (&self->texture, texture))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}

static void
cancel_request (LkThumbnail *self)
{
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
}

static guint
device_size (LkThumbnail *self)
{
  return self->size * (guint) gtk_widget_get_scale_factor (GTK_WIDGET (self));
}

/* The result of one request: stale when the widget went away or was
 * given another item since (its cancellable is no longer ours). */
typedef struct {
  GWeakRef            widget;
  GCancellable       *cancellable;
  LkThumbnailQuality  quality;
} Request;

static void
request_free (Request *req)
{
  g_weak_ref_clear (&req->widget);
  g_object_unref (req->cancellable);
  g_free (req);
}

static void
request_done (GObject *unused, GAsyncResult *result, gpointer user_data)
{
  Request *req = user_data;
  g_autoptr(LkThumbnail) self = g_weak_ref_get (&req->widget);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  if (self == NULL || self->cancellable != req->cancellable)
    {
      request_free (req);
      return;
    }
  texture = lk_thumbnailer_load_finish (self->thumbnailer, result, &error);
  g_clear_object (&self->cancellable);
  if (texture != NULL)
    set_texture (self, texture);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("No thumbnail: %s", error->message);

  if (texture != NULL && req->quality == LK_THUMBNAIL_FAST &&
      lk_thumbnailer_has_sharp (self->thumbnailer, lk_image_item_get_collection (self->item)))
    request (self, LK_THUMBNAIL_SHARP);
  request_free (req);
}

static void
request (LkThumbnail *self, LkThumbnailQuality quality)
{
  Request *req = g_new0 (Request, 1);

  cancel_request (self);
  self->cancellable = g_cancellable_new ();
  g_weak_ref_init (&req->widget, self);
  req->cancellable = g_object_ref (self->cancellable);
  req->quality = quality;
  lk_thumbnailer_load_async (self->thumbnailer, lk_image_item_get_collection (self->item),
                             lk_image_item_get_index (self->item), device_size (self),
                             quality, self->cancellable, request_done, req);
}

/* Forgets the picture; the next snapshot asks for the new one. A grid
 * binds a few hundred cells around the visible ones on every long
 * scroll, but draws only those on screen: loading on first draw makes
 * only the visible cells cost anything. */
static void
reset (LkThumbnail *self)
{
  cancel_request (self);
  set_texture (self, NULL);
  self->needs_load = self->item != NULL && self->thumbnailer != NULL;
  if (self->needs_load)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Shows what the cache has at once, asks for the rest. Called from
 * snapshot. */
static void
load (LkThumbnail *self)
{
  LkCollection *coll = lk_image_item_get_collection (self->item);
  guint index = lk_image_item_get_index (self->item);
  guint size = device_size (self);
  g_autoptr(GdkTexture) sharp = NULL;
  g_autoptr(GdkTexture) fast = NULL;

  self->needs_load = FALSE;
  sharp = lk_thumbnailer_lookup (self->thumbnailer, coll, index, size, LK_THUMBNAIL_SHARP);
  if (sharp != NULL)
    {
      set_texture_while_drawing (self, sharp);
      return;
    }
  fast = lk_thumbnailer_lookup (self->thumbnailer, coll, index, size, LK_THUMBNAIL_FAST);
  if (fast == NULL)
    request (self, LK_THUMBNAIL_FAST);
  else
    {
      set_texture_while_drawing (self, fast);
      request (self, LK_THUMBNAIL_SHARP);
    }
}

static char *
dup_description (LkThumbnail *self)
{
  g_autofree char *name = lk_image_item_dup_display_name (self->item);

  /* TRANSLATORS: an image's tooltip and accessible name: file name, category */
  return g_strdup_printf (_("%s, in %s"), name, lk_image_item_get_category_name (self->item));
}

static void
update_description (LkThumbnail *self)
{
  g_autofree char *label = NULL;

  if (self->item == NULL)
    {
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL);
      return;
    }
  label = dup_description (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

/* The tooltip is made when asked for, not on every bind. */
static gboolean
on_query_tooltip (LkThumbnail *self, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  g_autofree char *label = NULL;

  if (self->item == NULL)
    return FALSE;
  label = dup_description (self);
  gtk_tooltip_set_text (tooltip, label);
  return TRUE;
}

static void
lk_thumbnail_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  *minimum = *natural = (int) LK_THUMBNAIL (widget)->size;
}

static void
lk_thumbnail_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LkThumbnail *self = LK_THUMBNAIL (widget);
  double w, h, width, height, fit;
  int scale;
  graphene_rect_t bounds;
  GskRoundedRect clip;

  if (self->needs_load)
    load (self);
  if (self->texture == NULL)
    return;

  /* Drawn at its own pixel size when it fits (no resampling), else
   * scaled down to fit; centred on whole pixels. */
  scale = gtk_widget_get_scale_factor (widget);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  w = (double) gdk_texture_get_width (self->texture) / scale;
  h = (double) gdk_texture_get_height (self->texture) / scale;
  fit = MIN (1.0, MIN (width / w, height / h));
  w *= fit;
  h *= fit;
  graphene_rect_init (&bounds, (float) floor ((width - w) / 2), (float) floor ((height - h) / 2),
                      (float) w, (float) h);
  gsk_rounded_rect_init_from_rect (&clip, &bounds, CORNER_RADIUS);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);
  gtk_snapshot_append_texture (snapshot, self->texture, &bounds);
  gtk_snapshot_pop (snapshot);
}

static void
on_scale_factor (LkThumbnail *self)
{
  reset (self);
}

static void
lk_thumbnail_dispose (GObject *object)
{
  LkThumbnail *self = LK_THUMBNAIL (object);

  cancel_request (self);
  g_clear_object (&self->item);
  g_clear_object (&self->texture);
  g_clear_object (&self->thumbnailer);
  G_OBJECT_CLASS (lk_thumbnail_parent_class)->dispose (object);
}

static void
lk_thumbnail_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkThumbnail *self = LK_THUMBNAIL (object);

  switch (prop_id)
    {
    case PROP_THUMBNAILER:
      g_value_set_object (value, self->thumbnailer);
      break;
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    case PROP_SIZE:
      g_value_set_uint (value, self->size);
      break;
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_thumbnail_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkThumbnail *self = LK_THUMBNAIL (object);

  switch (prop_id)
    {
    case PROP_THUMBNAILER:
      lk_thumbnail_set_thumbnailer (self, g_value_get_object (value));
      break;
    case PROP_ITEM:
      lk_thumbnail_set_item (self, g_value_get_object (value));
      break;
    case PROP_SIZE:
      self->size = g_value_get_uint (value);
      gtk_widget_queue_resize (GTK_WIDGET (self));
      reset (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_thumbnail_class_init (LkThumbnailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_thumbnail_dispose;
  object_class->get_property = lk_thumbnail_get_property;
  object_class->set_property = lk_thumbnail_set_property;
  widget_class->measure = lk_thumbnail_measure;
  widget_class->snapshot = lk_thumbnail_snapshot;

  properties[PROP_THUMBNAILER] =
    g_param_spec_object ("thumbnailer", NULL, NULL, LK_TYPE_THUMBNAILER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL, LK_TYPE_IMAGE_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIZE] =
    g_param_spec_uint ("size", NULL, NULL, 16, 1024, DEFAULT_SIZE,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "thumbnail");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lk_thumbnail_init (LkThumbnail *self)
{
  self->size = DEFAULT_SIZE;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "notify::scale-factor", G_CALLBACK (on_scale_factor), NULL);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
}

GtkWidget *
lk_thumbnail_new (LkThumbnailer *thumbnailer, guint size)
{
  return g_object_new (LK_TYPE_THUMBNAIL, "thumbnailer", thumbnailer, "size", size, NULL);
}

void
lk_thumbnail_set_thumbnailer (LkThumbnail *self, LkThumbnailer *thumbnailer)
{
  g_return_if_fail (LK_IS_THUMBNAIL (self));
  g_return_if_fail (thumbnailer == NULL || LK_IS_THUMBNAILER (thumbnailer));

  if (!g_set_object (&self->thumbnailer, thumbnailer))
    return;
  reset (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAILER]);
}

void
lk_thumbnail_set_item (LkThumbnail *self, LkImageItem *item)
{
  g_return_if_fail (LK_IS_THUMBNAIL (self));
  g_return_if_fail (item == NULL || LK_IS_IMAGE_ITEM (item));

  if (!g_set_object (&self->item, item))
    return;
  update_description (self);
  reset (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}

LkImageItem *
lk_thumbnail_get_item (LkThumbnail *self)
{
  g_return_val_if_fail (LK_IS_THUMBNAIL (self), NULL);
  return self->item;
}

guint
lk_thumbnail_get_size (LkThumbnail *self)
{
  g_return_val_if_fail (LK_IS_THUMBNAIL (self), 0);
  return self->size;
}

GdkTexture *
lk_thumbnail_get_texture (LkThumbnail *self)
{
  g_return_val_if_fail (LK_IS_THUMBNAIL (self), NULL);
  return self->texture;
}
