/* lk-buffer-grid.c — LkBufferGrid: one widget draws every buffer (a few
 * thousand tiles as texture nodes), height-for-width, each category's
 * block sized for a full buffer so the layout does not jump as it fills. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-buffer-grid.h"
#include "lk-thumbnailer-private.h"

#define PAD 18.0          /* as the view's margins */
#define GAP 2.0
#define HEADER_H 26.0
#define BLOCK_GAP 10.0
#define BAR_W 160.0
#define MAKE_PER_UPDATE 400      /* new thumbnails per snapshot, at most */
#define A11Y_INTERVAL_US (1000 * 1000)

struct _LkBufferGrid
{
  GtkWidget          parent_instance;

  LkCollection      *collection;
  LkSamplerSnapshot *snapshot;
  GHashTable        *textures;    /* image index → GdkTexture */
  int                scale;       /* of the textures cached */
  guint              n_drawn;
  gint64             a11y_time;
};

G_DEFINE_FINAL_TYPE (LkBufferGrid, lk_buffer_grid, GTK_TYPE_WIDGET)

static guint
columns_for (double width)
{
  return MAX (1, (guint) ((width - 2 * PAD + GAP) / (LK_BUFFER_GRID_TILE + GAP)));
}

static double
block_height (LkBufferGrid *self, guint cols)
{
  guint rows = (self->snapshot->buffer_size + cols - 1) / cols;
  return HEADER_H + rows * (LK_BUFFER_GRID_TILE + GAP) + BLOCK_GAP;
}

GdkTexture *
lk_buffer_grid_get_texture (LkBufferGrid *self, guint index, gboolean make)
{
  GdkTexture *t;
  int scale;

  g_return_val_if_fail (LK_IS_BUFFER_GRID (self), NULL);
  if (self->collection == NULL || index >= lk_collection_get_n_images (self->collection))
    return NULL;
  scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  if (scale != self->scale)
    {
      g_hash_table_remove_all (self->textures);
      self->scale = scale;
    }
  t = g_hash_table_lookup (self->textures, GUINT_TO_POINTER (index));
  if (t != NULL || !make)
    return t;
  /* Microseconds: the decoded image, scaled (Fashion-MNIST stays crisp). */
  t = _lk_thumbnail_from_tensor (lk_collection_get_image (self->collection, index),
                                 lk_collection_get_side (self->collection),
                                 lk_collection_get_channels (self->collection),
                                 (guint) (LK_BUFFER_GRID_TILE * 2 * scale));
  g_hash_table_insert (self->textures, GUINT_TO_POINTER (index), t);
  return t;
}

/* Drops the thumbnails of images no longer buffered, once there are
 * many more than the buffers hold. */
static void
trim_cache (LkBufferGrid *self)
{
  const LkSamplerSnapshot *s = self->snapshot;
  g_autoptr(GHashTable) keep = NULL;
  GHashTableIter iter;
  gpointer key;
  guint capacity = s->n_categories * s->buffer_size + 3 * LK_SAMPLER_RECENT;

  if (g_hash_table_size (self->textures) < 2 * capacity + 256)
    return;
  keep = g_hash_table_new (NULL, NULL);
  for (guint c = 0; c < s->n_categories; c++)
    for (guint i = 0; i < s->fill[c]; i++)
      g_hash_table_add (keep, GUINT_TO_POINTER (s->entries[(gsize) c * s->buffer_size + i].image));
  for (guint r = 0; r < s->n_recent; r++)
    {
      g_hash_table_add (keep, GUINT_TO_POINTER (s->recent[r].triplet.query));
      g_hash_table_add (keep, GUINT_TO_POINTER (s->recent[r].triplet.positive));
      g_hash_table_add (keep, GUINT_TO_POINTER (s->recent[r].triplet.negative));
    }
  g_hash_table_iter_init (&iter, self->textures);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (keep, key))
      g_hash_table_iter_remove (&iter);
}

static void
make_some (LkBufferGrid *self)
{
  const LkSamplerSnapshot *s = self->snapshot;
  guint made = 0;

  /* The recent triplets first (the view shows them), then the buffers
   * in key order. */
  for (guint r = 0; r < s->n_recent && made < MAKE_PER_UPDATE; r++)
    {
      const LkTriplet *t = &s->recent[r].triplet;
      guint32 ids[3] = { t->query, t->positive, t->negative };
      for (guint k = 0; k < 3; k++)
        if (lk_buffer_grid_get_texture (self, ids[k], FALSE) == NULL)
          {
            lk_buffer_grid_get_texture (self, ids[k], TRUE);
            made++;
          }
    }
  for (guint i = 0; i < s->buffer_size && made < MAKE_PER_UPDATE; i++)
    for (guint c = 0; c < s->n_categories && made < MAKE_PER_UPDATE; c++)
      if (i < s->fill[c])
        {
          guint32 image = s->entries[(gsize) c * s->buffer_size + i].image;
          if (lk_buffer_grid_get_texture (self, image, FALSE) == NULL)
            {
              lk_buffer_grid_get_texture (self, image, TRUE);
              made++;
            }
        }
}

/* Drawing ----------------------------------------------------------------------------- */

static void
append_text (GtkSnapshot *snapshot, GtkWidget *widget, const char *text, double x, double y,
             const GdkRGBA *color)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) x, (float) (y - h / 2.0)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

/* The rows a scrolled window shows (in the grid's coordinates), so a
 * frame draws only those tiles: with the cairo renderer each texture
 * drawn is a copy of its pixels. */
static void
visible_range (LkBufferGrid *self, double *top, double *bottom)
{
  GtkWidget *parent = gtk_widget_get_parent (GTK_WIDGET (self));
  GtkAdjustment *adj = parent != NULL && GTK_IS_SCROLLABLE (parent)
                       ? gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (parent)) : NULL;

  *top = 0;
  *bottom = gtk_widget_get_height (GTK_WIDGET (self));
  if (adj != NULL && gtk_adjustment_get_page_size (adj) > 0)
    {
      *top = gtk_adjustment_get_value (adj);
      *bottom = *top + gtk_adjustment_get_page_size (adj);
    }
}

static void
lk_buffer_grid_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  LkBufferGrid *self = LK_BUFFER_GRID (widget);
  const LkSamplerSnapshot *s = self->snapshot;
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  double width = gtk_widget_get_width (widget), y = PAD;
  guint cols = columns_for (width);
  GdkRGBA fg, trough, fill = { 0.208f, 0.518f, 0.894f, 1.f }, empty;
  const double T = LK_BUFFER_GRID_TILE;
  double top, bottom;

  self->n_drawn = 0;
  if (s == NULL || self->collection == NULL)
    return;
  visible_range (self, &top, &bottom);
  gtk_style_context_get_color (style, &fg);
  trough = fg;
  trough.alpha = 0.12f;
  empty = fg;
  empty.alpha = 0.06f;
  for (guint c = 0; c < s->n_categories; c++)
    {
      const char *name = c < lk_collection_get_n_categories (self->collection)
                         ? lk_collection_get_category_name (self->collection, c) : "?";
      /* TRANSLATORS: a buffer's fill: images in it, its size */
      g_autofree char *count = NULL;
      double bar_x = width - PAD - BAR_W, frac = (double) s->fill[c] / MAX (1, s->buffer_size);
      double block_h = block_height (self, cols);

      if (y + block_h < top || y > bottom)
        {
          y += block_h;
          continue;
        }
      count = g_strdup_printf (_("%u of %u"), s->fill[c], s->buffer_size);

      append_text (snapshot, widget, name, PAD, y + HEADER_H / 2 - 2, &fg);
      append_text (snapshot, widget, count, bar_x - 80, y + HEADER_H / 2 - 2, &fg);
      gtk_snapshot_append_color (snapshot, &trough,
                                 &GRAPHENE_RECT_INIT ((float) bar_x, (float) (y + 8), BAR_W, 6));
      gtk_snapshot_append_color (snapshot, &fill,
                                 &GRAPHENE_RECT_INIT ((float) bar_x, (float) (y + 8),
                                                      (float) (BAR_W * frac), 6));
      for (guint i = 0; i < s->buffer_size; i++)
        {
          double tx = PAD + (i % cols) * (T + GAP), ty = y + HEADER_H + (i / cols) * (T + GAP);
          graphene_rect_t r = GRAPHENE_RECT_INIT ((float) tx, (float) ty, (float) T, (float) T);
          GdkTexture *tex = NULL;

          if (ty + T < top || ty > bottom)
            continue;
          if (i < s->fill[c])
            tex = lk_buffer_grid_get_texture (self,
                                              s->entries[(gsize) c * s->buffer_size + i].image,
                                              FALSE);
          if (tex != NULL)
            {
              gtk_snapshot_append_texture (snapshot, tex, &r);
              self->n_drawn++;
            }
          else
            gtk_snapshot_append_color (snapshot, i < s->fill[c] ? &trough : &empty, &r);
        }
      y += block_h;
    }
}

/* Only the visible tiles are drawn: scrolling shows others. */
static void
lk_buffer_grid_map (GtkWidget *widget)
{
  GtkWidget *parent = gtk_widget_get_parent (widget);

  GTK_WIDGET_CLASS (lk_buffer_grid_parent_class)->map (widget);
  if (parent != NULL && GTK_IS_SCROLLABLE (parent))
    {
      GtkAdjustment *adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (parent));
      if (adj != NULL)
        g_signal_connect_object (adj, "value-changed", G_CALLBACK (gtk_widget_queue_draw), widget,
                                 G_CONNECT_SWAPPED);
    }
}

static void
lk_buffer_grid_unmap (GtkWidget *widget)
{
  GtkWidget *parent = gtk_widget_get_parent (widget);

  if (parent != NULL && GTK_IS_SCROLLABLE (parent))
    {
      GtkAdjustment *adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (parent));
      if (adj != NULL)
        g_signal_handlers_disconnect_by_data (adj, widget);
    }
  GTK_WIDGET_CLASS (lk_buffer_grid_parent_class)->unmap (widget);
}

static GtkSizeRequestMode
lk_buffer_grid_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
lk_buffer_grid_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  LkBufferGrid *self = LK_BUFFER_GRID (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (2 * PAD + BAR_W + 200);
      *natural = 900;
      return;
    }
  if (self->snapshot == NULL)
    {
      *minimum = *natural = 0;
      return;
    }
  {
    guint cols = columns_for (for_size > 0 ? for_size : 900);
    *minimum = *natural = (int) (2 * PAD + self->snapshot->n_categories * block_height (self, cols));
  }
}

/* What a screen reader says: each buffer's fill. */
static void
update_label (LkBufferGrid *self, gboolean force)
{
  const LkSamplerSnapshot *s = self->snapshot;
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GString) text = g_string_new (_("Category buffers"));

  if (!force && now - self->a11y_time < A11Y_INTERVAL_US)
    return;
  self->a11y_time = now;
  for (guint c = 0; s != NULL && self->collection != NULL && c < s->n_categories; c++)
    /* TRANSLATORS: one buffer in the accessible name: category, fill, size */
    g_string_append_printf (text, _("; %s: %u of %u"),
                            c < lk_collection_get_n_categories (self->collection)
                            ? lk_collection_get_category_name (self->collection, c) : "?",
                            s->fill[c], s->buffer_size);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text->str,
                                  -1);
}

/* Object ------------------------------------------------------------------------------------- */

static void
lk_buffer_grid_finalize (GObject *object)
{
  LkBufferGrid *self = LK_BUFFER_GRID (object);

  g_clear_pointer (&self->snapshot, lk_sampler_snapshot_free);
  g_clear_pointer (&self->collection, lk_collection_unref);
  g_hash_table_unref (self->textures);
  G_OBJECT_CLASS (lk_buffer_grid_parent_class)->finalize (object);
}

static void
lk_buffer_grid_class_init (LkBufferGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lk_buffer_grid_finalize;
  widget_class->snapshot = lk_buffer_grid_snapshot;
  widget_class->measure = lk_buffer_grid_measure;
  widget_class->get_request_mode = lk_buffer_grid_get_request_mode;
  widget_class->map = lk_buffer_grid_map;
  widget_class->unmap = lk_buffer_grid_unmap;
  gtk_widget_class_set_css_name (widget_class, "buffergrid");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lk_buffer_grid_init (LkBufferGrid *self)
{
  self->textures = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  update_label (self, TRUE);
}

GtkWidget *
lk_buffer_grid_new (void)
{
  return g_object_new (LK_TYPE_BUFFER_GRID, NULL);
}

void
lk_buffer_grid_set_snapshot (LkBufferGrid *self, LkCollection *collection,
                             LkSamplerSnapshot *snapshot)
{
  gboolean resize;

  g_return_if_fail (LK_IS_BUFFER_GRID (self));
  resize = snapshot == NULL || self->snapshot == NULL ||
           snapshot->n_categories != self->snapshot->n_categories ||
           snapshot->buffer_size != self->snapshot->buffer_size;
  if (collection != self->collection)
    {
      g_hash_table_remove_all (self->textures);
      g_clear_pointer (&self->collection, lk_collection_unref);
      self->collection = collection != NULL ? lk_collection_ref (collection) : NULL;
    }
  g_clear_pointer (&self->snapshot, lk_sampler_snapshot_free);
  self->snapshot = snapshot;
  if (snapshot != NULL && self->collection != NULL)
    {
      trim_cache (self);
      make_some (self);
    }
  update_label (self, resize);
  if (resize)
    gtk_widget_queue_resize (GTK_WIDGET (self));
  else
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

const LkSamplerSnapshot *
lk_buffer_grid_get_snapshot (LkBufferGrid *self)
{
  g_return_val_if_fail (LK_IS_BUFFER_GRID (self), NULL);
  return self->snapshot;
}

guint
lk_buffer_grid_get_n_drawn (LkBufferGrid *self)
{
  g_return_val_if_fail (LK_IS_BUFFER_GRID (self), 0);
  return self->n_drawn;
}
