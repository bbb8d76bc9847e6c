/* embeddings.c — embedders (the baselines, the factory seam for models),
 * the embedding file, the list of a collection's sources, .npy export. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "embeddings.h"
#include "error.h"
#include "fileutil.h"
#include "hand-features-private.h"
#include "triplets.h"

/* ---- LkEmbedder ---- */

struct _LkEmbedder
{
  gint                    ref_count;
  const LkEmbedderVTable *vtable;
  char                   *name;
  char                   *label;
  LkEmbeddingKind         kind;
  guint                   dim;
  guint64                 source_key;
  gpointer                impl;
  GDestroyNotify          impl_free;
};

LkEmbedder *
lk_embedder_new (const LkEmbedderVTable *vtable, const char *name, const char *label,
                 LkEmbeddingKind kind, guint dim, guint64 source_key, gpointer impl,
                 GDestroyNotify impl_free)
{
  LkEmbedder *self;

  g_return_val_if_fail (vtable != NULL && vtable->embed_images != NULL, NULL);
  g_return_val_if_fail (name != NULL && name[0] != '\0' && strchr (name, '/') == NULL, NULL);
  g_return_val_if_fail (dim > 0, NULL);
  self = g_new0 (LkEmbedder, 1);
  self->ref_count = 1;
  self->vtable = vtable;
  self->name = g_strdup (name);
  self->label = g_strdup (label != NULL ? label : name);
  self->kind = kind;
  self->dim = dim;
  self->source_key = source_key;
  self->impl = impl;
  self->impl_free = impl_free;
  return self;
}

LkEmbedder *
lk_embedder_ref (LkEmbedder *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_embedder_unref (LkEmbedder *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  if (self->impl_free != NULL)
    self->impl_free (self->impl);
  g_free (self->name);
  g_free (self->label);
  g_free (self);
}

const char *lk_embedder_get_name (LkEmbedder *self) { return self->name; }
const char *lk_embedder_get_label (LkEmbedder *self) { return self->label; }
LkEmbeddingKind lk_embedder_get_kind (LkEmbedder *self) { return self->kind; }
guint lk_embedder_get_dim (LkEmbedder *self) { return self->dim; }
guint64 lk_embedder_get_source_key (LkEmbedder *self) { return self->source_key; }
gpointer lk_embedder_get_impl (LkEmbedder *self) { return self->impl; }

gboolean
lk_embedder_embed_images (LkEmbedder *self, LkCollection *collection, const guint32 *indices,
                          guint n, float *out, LkEmbedProgress progress, gpointer progress_data,
                          GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL && collection != NULL, FALSE);
  g_return_val_if_fail (indices != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return self->vtable->embed_images (self, collection, indices, n, out, progress, progress_data,
                                     cancellable, error);
}

gboolean
lk_embedder_embed_pixels (LkEmbedder *self, const guint8 *image, guint side, guint channels,
                          float *out, GError **error)
{
  g_return_val_if_fail (self != NULL && image != NULL && out != NULL, FALSE);
  if (self->vtable->embed_pixels == NULL)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("“%s” cannot embed an image from outside the collection"), self->label);
      return FALSE;
    }
  return self->vtable->embed_pixels (self, image, side, channels, out, error);
}

gboolean
lk_embedder_embed_file (LkEmbedder *self, LkCollection *collection, const char *path,
                        float *out, GError **error)
{
  guint side, channels;
  g_autofree guint8 *rgb = NULL;
  LkScanOptions options;

  g_return_val_if_fail (self != NULL && collection != NULL && path != NULL, FALSE);
  side = lk_collection_get_side (collection);
  channels = lk_collection_get_channels (collection);
  lk_scan_options_init (&options);
  rgb = g_new (guint8, (gsize) side * side * 3);
  if (!lk_image_decode_file (path, side, options.max_pixels, rgb, NULL, NULL, error))
    return FALSE;
  if (channels == 1)
    for (gsize i = 0; i < (gsize) side * side; i++)
      rgb[i] = (guint8) ((299 * rgb[3 * i] + 587 * rgb[3 * i + 1] + 114 * rgb[3 * i + 2]
                          + 500) / 1000);
  return lk_embedder_embed_pixels (self, rgb, side, channels, out, error);
}

/* ---- the baselines ---- */

#define BASELINE_VERSION 1
#define PIXELS_MAX_SIDE 32

typedef enum { BASE_PIXELS, BASE_BLOCK, BASE_GOLDEN } BaseKind;

typedef struct {
  LkCollection   *collection;
  BaseKind        kind;
  LkFeatureKind   block;
  LkGoldenWeights weights;
  guint           side, channels;
  GMutex          lock;
  LkFeatures     *features;   /* loaded on first use */
} Baseline;

static void
baseline_free (gpointer p)
{
  Baseline *b = p;
  lk_collection_unref (b->collection);
  g_clear_pointer (&b->features, lk_features_unref);
  g_mutex_clear (&b->lock);
  g_free (b);
}

static guint
pixels_factor (guint side)
{
  return (side + PIXELS_MAX_SIDE - 1) / PIXELS_MAX_SIDE;
}

static guint
pixels_dim (guint side, guint channels)
{
  guint s = side / pixels_factor (side);
  return s * s * channels;
}

/* Area average of f×f blocks, in [0, 1]. */
static void
pixels_row (const guint8 *image, guint side, guint channels, float *out)
{
  guint f = pixels_factor (side), s = side / f;
  float scale = 1.0f / (255.0f * f * f);

  for (guint y = 0; y < s; y++)
    for (guint x = 0; x < s; x++)
      for (guint c = 0; c < channels; c++)
        {
          guint sum = 0;
          for (guint dy = 0; dy < f; dy++)
            for (guint dx = 0; dx < f; dx++)
              sum += image[((gsize) (y * f + dy) * side + x * f + dx) * channels + c];
          out[((gsize) y * s + x) * channels + c] = sum * scale;
        }
}

/* Picks the baseline's part out of a full features row. */
static void
from_features_row (Baseline *b, const guint *dims, const float *row, float *out)
{
  guint off = 0;
  if (b->kind == BASE_BLOCK)
    {
      for (guint k = 0; k < b->block; k++)
        off += dims[k];
      memcpy (out, row + off, dims[b->block] * sizeof (float));
      return;
    }
  for (guint k = 0; k < LK_N_FEATURES; k++)
    {
      float w = sqrtf (MAX (0.0f, b->weights.w[k]));
      for (guint c = 0; c < dims[k]; c++)
        out[off + c] = row[off + c] * w;
      off += dims[k];
    }
}

static gboolean
baseline_embed_images (LkEmbedder *self, LkCollection *collection, const guint32 *indices,
                       guint n, float *out, LkEmbedProgress progress, gpointer progress_data,
                       GCancellable *cancellable, GError **error)
{
  Baseline *b = self->impl;
  guint dims[LK_N_FEATURES];
  LkFeatures *features;

  if (collection != b->collection)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("“%s” was made for another collection"), self->label);
      return FALSE;
    }
  if (b->kind == BASE_PIXELS)
    {
      for (guint i = 0; i < n; i++)
        {
          if (i % 1024 == 0)
            {
              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                return FALSE;
              if (progress != NULL)
                progress (i, n, progress_data);
            }
          pixels_row (lk_collection_get_image (collection, indices[i]), b->side, b->channels,
                      out + (gsize) i * self->dim);
        }
      if (progress != NULL)
        progress (n, n, progress_data);
      return TRUE;
    }

  g_mutex_lock (&b->lock);
  if (b->features == NULL)
    b->features = lk_features_load_or_compute_for_collection (collection, 0, progress,
                                                              progress_data, cancellable, error);
  features = b->features != NULL ? lk_features_ref (b->features) : NULL;
  g_mutex_unlock (&b->lock);
  if (features == NULL)
    return FALSE;
  for (guint k = 0; k < LK_N_FEATURES; k++)
    dims[k] = lk_features_get_block (features, k, NULL);
  for (guint i = 0; i < n; i++)
    from_features_row (b, dims, lk_features_get_row (features, indices[i]),
                       out + (gsize) i * self->dim);
  lk_features_unref (features);
  return TRUE;
}

static gboolean
baseline_embed_pixels (LkEmbedder *self, const guint8 *image, guint side, guint channels,
                       float *out, GError **error)
{
  Baseline *b = self->impl;
  guint dims[LK_N_FEATURES], total = 0;
  g_autofree float *work = NULL, *row = NULL;

  if (side != b->side || channels != b->channels)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("The image is %u×%u×%u, the collection’s are %u×%u×%u"), side, side,
                   channels, b->side, b->side, b->channels);
      return FALSE;
    }
  if (b->kind == BASE_PIXELS)
    {
      pixels_row (image, side, channels, out);
      return TRUE;
    }
  for (guint k = 0; k < LK_N_FEATURES; k++)
    total += dims[k] = lk_feature_kind_dim (k, channels);
  work = g_new (float, 4 * (gsize) side * side);
  row = g_new (float, total);
  _lk_features_compute_one (image, side, channels, work, row);
  from_features_row (b, dims, row, out);
  return TRUE;
}

static const LkEmbedderVTable baseline_vtable = { baseline_embed_images, baseline_embed_pixels };

static const char *const baseline_names[] = {
  "pixels", "wavelet", "color", "hog", "lbp", "golden", NULL
};

const char *const *
lk_embedder_baseline_names (void)
{
  return baseline_names;
}

static LkEmbedder *
baseline_new (LkCollection *collection, const char *name, const char *label, BaseKind kind,
              LkFeatureKind block, const LkGoldenWeights *weights)
{
  Baseline *b = g_new0 (Baseline, 1);
  guint dim = 0;
  guint64 key;
  struct {
    guint32 version, kind, block, side, channels;
    float w[LK_N_FEATURES];
  } id = { 0 };

  b->collection = lk_collection_ref (collection);
  b->kind = kind;
  b->block = block;
  b->side = lk_collection_get_side (collection);
  b->channels = lk_collection_get_channels (collection);
  if (weights != NULL)
    b->weights = *weights;
  g_mutex_init (&b->lock);
  if (kind == BASE_PIXELS)
    dim = pixels_dim (b->side, b->channels);
  else if (kind == BASE_BLOCK)
    dim = lk_feature_kind_dim (block, b->channels);
  else
    for (guint k = 0; k < LK_N_FEATURES; k++)
      dim += lk_feature_kind_dim (k, b->channels);

  id.version = BASELINE_VERSION;
  id.kind = kind;
  id.block = kind == BASE_BLOCK ? block : 0;
  id.side = b->side;
  id.channels = b->channels;
  if (kind == BASE_GOLDEN)
    memcpy (id.w, b->weights.w, sizeof id.w);
  key = lk_hash64 (&id, sizeof id, lk_hash64 (name, strlen (name), 0x454d42));
  return lk_embedder_new (&baseline_vtable, name, label, LK_EMBEDDING_BASELINE, dim, key, b,
                          baseline_free);
}

LkEmbedder *
lk_embedder_new_golden (LkCollection *collection, const char *name, const char *label,
                        const LkGoldenWeights *weights)
{
  g_return_val_if_fail (collection != NULL && name != NULL && weights != NULL, NULL);
  return baseline_new (collection, name, label, BASE_GOLDEN, 0, weights);
}

LkEmbedder *
lk_embedder_new_baseline (LkCollection *collection, const char *name, GError **error)
{
  LkFeatureKind kind;

  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  if (g_str_equal (name, "pixels"))
    {
      guint s = lk_collection_get_side (collection) / pixels_factor (lk_collection_get_side (collection));
      g_autofree char *label = g_strdup_printf (_("Raw pixels (%u×%u)"), s, s);
      return baseline_new (collection, name, label, BASE_PIXELS, 0, NULL);
    }
  if (g_str_equal (name, "golden"))
    {
      LkGoldenWeights w;
      lk_golden_weights_init_default (&w);
      return baseline_new (collection, name, _("Golden features"), BASE_GOLDEN, 0, &w);
    }
  if (lk_feature_kind_from_name (name, &kind))
    return baseline_new (collection, name, lk_feature_kind_label (kind), BASE_BLOCK, kind, NULL);
  g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("No embedding source “%s”"), name);
  return NULL;
}

/* ---- factories (models) ---- */

typedef struct {
  LkEmbedderFactory factory;
  gpointer user_data;
} Factory;

static GMutex factories_lock;
static GArray *factories;

void
lk_embedder_register_factory (LkEmbedderFactory factory, gpointer user_data)
{
  Factory f = { factory, user_data };
  g_return_if_fail (factory != NULL);
  g_mutex_lock (&factories_lock);
  if (factories == NULL)
    factories = g_array_new (FALSE, FALSE, sizeof (Factory));
  g_array_append_val (factories, f);
  g_mutex_unlock (&factories_lock);
}

static LkEmbedder *
golden_learned_new (LkCollection *collection, GError **error)
{
  g_autofree char *path = lk_triplets_default_path (collection);
  g_autoptr(LkTripletSet) set = lk_triplet_set_load (path, collection, error);
  g_autoptr(LkFeatures) features = NULL;
  const guint32 *q, *p, *n;
  LkGoldenWeights w;
  guint count;

  if (set == NULL)
    return NULL;
  count = lk_triplet_set_get_triplets (set, &q, &p, &n);
  features = lk_features_load_or_compute_for_collection (collection, 0, NULL, NULL, NULL, error);
  if (features == NULL || !lk_golden_learn (features, q, p, n, count, NULL, &w, error))
    return NULL;
  return lk_embedder_new_golden (collection, "golden-learned",
                                 _("Golden features (learned weights)"), &w);
}

LkEmbedder *
lk_embedder_new_for_source (LkCollection *collection, const char *name, GError **error)
{
  g_autoptr(GError) local = NULL;
  LkEmbedder *e;

  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (g_str_equal (name, "golden-learned"))
    return golden_learned_new (collection, error);
  e = lk_embedder_new_baseline (collection, name, &local);
  if (e != NULL)
    return e;
  g_mutex_lock (&factories_lock);
  for (guint i = 0; factories != NULL && i < factories->len; i++)
    {
      Factory *f = &g_array_index (factories, Factory, i);
      g_clear_error (&local);
      e = f->factory (collection, name, f->user_data, &local);
      if (e != NULL || local != NULL)
        break;
    }
  g_mutex_unlock (&factories_lock);
  if (e != NULL)
    return e;
  if (local != NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  else
    g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("No embedding source “%s”"), name);
  return NULL;
}

/* ---- LkEmbedding ---- */

struct _LkEmbedding
{
  gint            ref_count;
  char           *name;
  char           *label;
  LkEmbeddingKind kind;
  char           *collection_id;
  guint           n, dim;
  guint64         source_key, data_key;
  const float    *data;
  float          *owned;
  LkMapped       *mapped;
  char           *path;
};

static LkEmbedding *
embedding_alloc (const char *name, const char *label, LkEmbeddingKind kind,
                 const char *collection_id, guint n, guint dim, guint64 source_key,
                 guint64 data_key)
{
  LkEmbedding *self = g_new0 (LkEmbedding, 1);
  self->ref_count = 1;
  self->name = g_strdup (name);
  self->label = g_strdup (label != NULL ? label : name);
  self->kind = kind;
  self->collection_id = g_strdup (collection_id != NULL ? collection_id : "");
  self->n = n;
  self->dim = dim;
  self->source_key = source_key;
  self->data_key = data_key;
  return self;
}

LkEmbedding *
lk_embedding_new_take (const char *name, const char *label, LkEmbeddingKind kind,
                       const char *collection_id, guint n, guint dim, guint64 source_key,
                       guint64 data_key, float *data)
{
  LkEmbedding *self;
  g_return_val_if_fail (name != NULL && dim > 0, NULL);
  g_return_val_if_fail (data != NULL || n == 0, NULL);
  self = embedding_alloc (name, label, kind, collection_id, n, dim, source_key, data_key);
  self->owned = data;
  self->data = data;
  return self;
}

LkEmbedding *
lk_embedding_ref (LkEmbedding *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_embedding_unref (LkEmbedding *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->name);
  g_free (self->label);
  g_free (self->collection_id);
  g_free (self->owned);
  lk_mapped_free (self->mapped);
  g_free (self->path);
  g_free (self);
}

const char *lk_embedding_get_name (LkEmbedding *self) { return self->name; }
const char *lk_embedding_get_label (LkEmbedding *self) { return self->label; }
LkEmbeddingKind lk_embedding_get_kind (LkEmbedding *self) { return self->kind; }
const char *lk_embedding_get_collection_id (LkEmbedding *self) { return self->collection_id; }
guint lk_embedding_get_n (LkEmbedding *self) { return self->n; }
guint lk_embedding_get_dim (LkEmbedding *self) { return self->dim; }
guint64 lk_embedding_get_source_key (LkEmbedding *self) { return self->source_key; }
guint64 lk_embedding_get_data_key (LkEmbedding *self) { return self->data_key; }
const float *lk_embedding_get_data (LkEmbedding *self) { return self->data; }
const char *lk_embedding_get_path (LkEmbedding *self) { return self->path; }

const float *
lk_embedding_get_row (LkEmbedding *self, guint index)
{
  g_return_val_if_fail (self != NULL && index < self->n, NULL);
  return self->data + (gsize) index * self->dim;
}

float
lk_embedding_distance (LkEmbedding *self, guint i, guint j)
{
  const float *a, *b;
  double d = 0;
  g_return_val_if_fail (self != NULL && i < self->n && j < self->n, 0);
  a = self->data + (gsize) i * self->dim;
  b = self->data + (gsize) j * self->dim;
  for (guint k = 0; k < self->dim; k++)
    d += ((double) a[k] - b[k]) * ((double) a[k] - b[k]);
  return (float) d;
}

char *
lk_embedding_path_for (LkCollection *collection, const char *name)
{
  g_autofree char *dir = NULL, *file = NULL;
  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  dir = lk_data_dir_for (lk_collection_get_id (collection));
  file = g_strdup_printf ("%s.emb", name);
  return g_build_filename (dir, "embeddings", file, NULL);
}

guint64
lk_collection_pixels_key (LkCollection *collection)
{
  g_return_val_if_fail (collection != NULL, 0);
  return lk_pixels_hash (lk_collection_get_pixels (collection),
                         lk_collection_get_n_images (collection),
                         lk_collection_get_side (collection),
                         lk_collection_get_channels (collection));
}

/* ---- the file ---- */

#define EMB_MAGIC "LKEMBED"
#define EMB_VERSION 1
#define BYTE_ORDER_MARK 0x01020304u

typedef struct {
  char    magic[8];
  guint32 version;
  guint32 byte_order;
  guint32 kind;
  guint32 n;
  guint32 dim;
  guint32 reserved;
  char    name[64];
  char    label[128];
  char    collection_id[128];
  guint64 source_key;
  guint64 data_key;
  guint64 data_checksum;
  guint64 header_checksum;   /* of every byte before it */
} EmbeddingHeader;

G_STATIC_ASSERT (sizeof (EmbeddingHeader) == 384);

static guint64
data_checksum (const float *data, gsize n_floats)
{
  return lk_hash64 (data, n_floats * sizeof (float), 0x454d4244);
}

static void
copy_string (char *dst, gsize size, const char *src)
{
  /* Truncate on a UTF-8 character boundary so labels stay valid. */
  gsize len = strlen (src);
  if (len >= size)
    {
      len = size - 1;
      while (len > 0 && ((guchar) src[len] & 0xc0) == 0x80)
        len--;
    }
  memset (dst, 0, size);
  memcpy (dst, src, len);
}

gboolean
lk_embedding_save (LkEmbedding *self, const char *path, GError **error)
{
  EmbeddingHeader h = { EMB_MAGIC, EMB_VERSION, BYTE_ORDER_MARK };
  LkAtomicFile *file;

  g_return_val_if_fail (self != NULL && path != NULL, FALSE);
  h.kind = self->kind;
  h.n = self->n;
  h.dim = self->dim;
  copy_string (h.name, sizeof h.name, self->name);
  copy_string (h.label, sizeof h.label, self->label);
  copy_string (h.collection_id, sizeof h.collection_id, self->collection_id);
  h.source_key = self->source_key;
  h.data_key = self->data_key;
  h.data_checksum = data_checksum (self->data, (gsize) self->n * self->dim);
  h.header_checksum = lk_hash64 (&h, G_STRUCT_OFFSET (EmbeddingHeader, header_checksum), 0);

  file = lk_atomic_file_open (path, error);
  if (file == NULL)
    return FALSE;
  if (!lk_atomic_file_write (file, &h, sizeof h, error)
      || !lk_atomic_file_write (file, self->data, (gsize) self->n * self->dim * sizeof (float),
                                error)
      || !lk_atomic_file_commit (file, error))
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
  g_free (self->path);
  self->path = g_strdup (path);
  return TRUE;
}

static gboolean
check_header (const char *path, const guint8 *bytes, gsize size, EmbeddingHeader *h,
              gboolean check_size, GError **error)
{
  if (size < sizeof *h)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Embedding %s is truncated"), path);
      return FALSE;
    }
  memcpy (h, bytes, sizeof *h);
  if (memcmp (h->magic, EMB_MAGIC, sizeof h->magic) != 0
      || h->header_checksum != lk_hash64 (h, G_STRUCT_OFFSET (EmbeddingHeader, header_checksum), 0))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Embedding %s is not an embedding file or is damaged"), path);
      return FALSE;
    }
  if (h->version != EMB_VERSION || h->byte_order != BYTE_ORDER_MARK)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION,
                   _("Embedding %s has format version %u, expected %u"), path, h->version,
                   EMB_VERSION);
      return FALSE;
    }
  h->name[sizeof h->name - 1] = '\0';
  h->label[sizeof h->label - 1] = '\0';
  h->collection_id[sizeof h->collection_id - 1] = '\0';
  if (h->dim == 0 || h->kind > LK_EMBEDDING_MODEL
      || (check_size && size != sizeof *h + (guint64) h->n * h->dim * sizeof (float)))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Embedding %s has %zu bytes, expected %llu"),
                   path, size,
                   (unsigned long long) (sizeof *h + (guint64) h->n * h->dim * sizeof (float)));
      return FALSE;
    }
  return TRUE;
}

LkEmbedding *
lk_embedding_load (const char *path, GError **error)
{
  g_autoptr(LkMapped) mapped = NULL;
  g_autoptr(GError) local = NULL;
  EmbeddingHeader h;
  LkEmbedding *self;
  const guint8 *bytes;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  mapped = lk_mapped_open (path, &local);
  if (mapped == NULL)
    {
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("Embedding %s does not exist"), path);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  bytes = lk_mapped_data (mapped);
  if (!check_header (path, bytes, lk_mapped_size (mapped), &h, TRUE, error))
    return NULL;
  if (data_checksum ((const float *) (bytes + sizeof h), (gsize) h.n * h.dim) != h.data_checksum)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Embedding %s is damaged (checksum mismatch)"), path);
      return NULL;
    }
  self = embedding_alloc (h.name, h.label, h.kind, h.collection_id, h.n, h.dim, h.source_key,
                          h.data_key);
  self->data = (const float *) (bytes + sizeof h);
  self->mapped = g_steal_pointer (&mapped);
  self->path = g_strdup (path);
  return self;
}

/* The header alone, for listing a folder without reading every row. */
static gboolean
read_header (const char *path, EmbeddingHeader *h, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, error);
  guint8 buf[sizeof *h];
  gsize got = 0;
  g_autoptr(GFileInfo) info = NULL;

  if (in == NULL)
    return FALSE;
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), buf, sizeof buf, &got, NULL, error))
    return FALSE;
  info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, error);
  if (info == NULL || !check_header (path, buf, got, h, FALSE, error))
    return FALSE;
  if ((guint64) g_file_info_get_size (info) != sizeof *h + (guint64) h->n * h->dim * sizeof (float))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Embedding %s is truncated"), path);
      return FALSE;
    }
  return TRUE;
}

LkEmbedding *
lk_embedding_compute (LkEmbedder *embedder, LkCollection *collection, LkEmbedProgress progress,
                      gpointer progress_data, GCancellable *cancellable, GError **error)
{
  guint n;
  g_autofree guint32 *all = NULL;
  float *data;

  g_return_val_if_fail (embedder != NULL && collection != NULL, NULL);
  n = lk_collection_get_n_images (collection);
  all = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    all[i] = i;
  data = g_new (float, MAX (1, (gsize) n * embedder->dim));
  if (!lk_embedder_embed_images (embedder, collection, all, n, data, progress, progress_data,
                                 cancellable, error))
    {
      g_free (data);
      return NULL;
    }
  return lk_embedding_new_take (embedder->name, embedder->label, embedder->kind,
                                lk_collection_get_id (collection), n, embedder->dim,
                                embedder->source_key, lk_collection_pixels_key (collection),
                                data);
}

static gboolean
fits (LkEmbedding *e, LkEmbedder *embedder, LkCollection *collection, guint64 data_key)
{
  return e->n == lk_collection_get_n_images (collection) && e->dim == embedder->dim
         && e->source_key == embedder->source_key && e->data_key == data_key;
}

LkEmbedding *
lk_embedding_load_or_compute (LkEmbedder *embedder, LkCollection *collection,
                              LkEmbedProgress progress, gpointer progress_data,
                              GCancellable *cancellable, GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) local = NULL;
  LkEmbedding *e;

  g_return_val_if_fail (embedder != NULL && collection != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  path = lk_embedding_path_for (collection, embedder->name);
  e = lk_embedding_load (path, &local);
  if (e != NULL && fits (e, embedder, collection, lk_collection_pixels_key (collection)))
    {
      /* The file keeps the label in the language that computed it; show
       * the embedder's, in the language of this run. */
      g_free (e->label);
      e->label = g_strdup (embedder->label);
      return e;
    }
  if (e != NULL)
    g_info ("Recomputing %s: made from other images or by another source", path);
  else if (!g_error_matches (local, LK_ERROR, LK_ERROR_NOT_FOUND))
    g_info ("Recomputing %s: %s", path, local->message);
  g_clear_pointer (&e, lk_embedding_unref);
  g_clear_error (&local);

  e = lk_embedding_compute (embedder, collection, progress, progress_data, cancellable, error);
  if (e != NULL && !lk_embedding_save (e, path, &local))
    g_warning ("Could not store the embedding: %s", local->message);
  return e;
}

/* ---- sources ---- */

void
lk_embedding_source_free (LkEmbeddingSource *source)
{
  if (source == NULL)
    return;
  g_free (source->name);
  g_free (source->label);
  g_free (source->path);
  g_free (source);
}

static gboolean
has_labelled_triplets (LkCollection *collection)
{
  g_autofree char *path = lk_triplets_default_path (collection);
  g_autoptr(LkTripletSet) set = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  set = lk_triplet_set_load (path, collection, NULL);
  return set != NULL && lk_triplet_set_get_triplets (set, NULL, NULL, NULL) > 0;
}

static void
add_source (GPtrArray *out, const char *name, const char *label, LkEmbeddingKind kind, guint dim,
            const char *path, gboolean stored, gboolean stale)
{
  LkEmbeddingSource *s = g_new0 (LkEmbeddingSource, 1);
  s->name = g_strdup (name);
  s->label = g_strdup (label);
  s->kind = kind;
  s->dim = dim;
  s->path = stored || stale ? g_strdup (path) : NULL;
  s->stored = stored;
  s->stale = stale;
  g_ptr_array_add (out, s);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
lk_embedding_list_sources (LkCollection *collection)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lk_embedding_source_free);
  g_autofree char *data_dir = NULL, *dir = NULL;
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  guint64 data_key;
  const char *entry;

  g_return_val_if_fail (collection != NULL, out);
  data_key = lk_collection_pixels_key (collection);
  for (guint i = 0; baseline_names[i] != NULL; i++)
    {
      g_autoptr(LkEmbedder) e = lk_embedder_new_baseline (collection, baseline_names[i], NULL);
      g_autofree char *path = lk_embedding_path_for (collection, baseline_names[i]);
      EmbeddingHeader h;
      gboolean stored = FALSE, stale = FALSE;

      if (read_header (path, &h, NULL))
        {
          stored = h.data_key == data_key && h.source_key == e->source_key && h.dim == e->dim;
          stale = !stored;
        }
      add_source (out, e->name, e->label, e->kind, e->dim, path, stored, stale);
    }
  if (has_labelled_triplets (collection))
    {
      /* Its weights come from the labels; whether a stored file still
       * fits is only known once they are learned again. */
      g_autofree char *path = lk_embedding_path_for (collection, "golden-learned");
      guint dim = 0;
      for (guint k = 0; k < LK_N_FEATURES; k++)
        dim += lk_feature_kind_dim (k, lk_collection_get_channels (collection));
      add_source (out, "golden-learned", _("Golden features (learned weights)"),
                  LK_EMBEDDING_BASELINE, dim, path, g_file_test (path, G_FILE_TEST_EXISTS), FALSE);
    }

  data_dir = lk_data_dir_for (lk_collection_get_id (collection));
  dir = g_build_filename (data_dir, "embeddings", NULL);
  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (entry, ".emb"))
      g_ptr_array_add (files, g_strdup (entry));
  g_ptr_array_sort (files, compare_names);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, files->pdata[i], NULL);
      EmbeddingHeader h;
      if (!read_header (path, &h, NULL) || h.kind != LK_EMBEDDING_MODEL)
        continue;
      add_source (out, h.name, h.label, LK_EMBEDDING_MODEL, h.dim, path,
                  h.data_key == data_key && h.n == lk_collection_get_n_images (collection),
                  h.data_key != data_key || h.n != lk_collection_get_n_images (collection));
    }
  return out;
}

LkEmbedding *
lk_embedding_source_load (LkCollection *collection, const char *name, LkEmbedProgress progress,
                          gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(LkEmbedder) embedder = NULL;
  g_autofree char *path = NULL;
  LkEmbedding *e;

  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  embedder = lk_embedder_new_for_source (collection, name, &local);
  if (embedder != NULL)
    return lk_embedding_load_or_compute (embedder, collection, progress, progress_data,
                                         cancellable, error);
  if (!g_error_matches (local, LK_ERROR, LK_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  /* A model's rows, stored by whoever had the model. */
  path = lk_embedding_path_for (collection, name);
  e = lk_embedding_load (path, NULL);
  if (e == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (e->n != lk_collection_get_n_images (collection)
      || e->data_key != lk_collection_pixels_key (collection))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Embedding %s was made from other images of the collection: embed it "
                     "again with its model"), path);
      lk_embedding_unref (e);
      return NULL;
    }
  return e;
}

/* ---- export ---- */

static void
tsv_field (GString *out, const char *s)
{
  for (const char *p = s; *p != '\0'; p++)
    switch (*p)
      {
      case '\t': g_string_append (out, "\\t"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\r': g_string_append (out, "\\r"); break;
      case '\\': g_string_append (out, "\\\\"); break;
      default: g_string_append_c (out, *p);
      }
}

gboolean
lk_embedding_export_npy (LkEmbedding *self, LkCollection *collection, const char *npy_path,
                         const char *tsv_path, GError **error)
{
  g_autoptr(GString) header = g_string_new (NULL);
  LkAtomicFile *file;
  guint16 header_len;
  guint8 preamble[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0 };

  g_return_val_if_fail (self != NULL && npy_path != NULL, FALSE);
  g_return_val_if_fail (tsv_path == NULL || collection != NULL, FALSE);
  if (collection != NULL && lk_collection_get_n_images (collection) != self->n)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Embedding “%s” has %u rows, the collection %u images"), self->name,
                   self->n, lk_collection_get_n_images (collection));
      return FALSE;
    }

  /* Format 1.0: magic, version, a little-endian header length, then a
   * Python dict literal padded with spaces and ended by a newline so the
   * data starts on a multiple of 64 bytes. */
  g_string_printf (header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%u, %u), }",
                   self->n, self->dim);
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  header_len = GUINT16_TO_LE ((guint16) header->len);
  memcpy (preamble + 8, &header_len, 2);

  file = lk_atomic_file_open (npy_path, error);
  if (file == NULL)
    return FALSE;
  if (!lk_atomic_file_write (file, preamble, sizeof preamble, error)
      || !lk_atomic_file_write (file, header->str, header->len, error))
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (!lk_atomic_file_write (file, self->data, (gsize) self->n * self->dim * sizeof (float), error))
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
#else
  for (gsize i = 0; i < (gsize) self->n * self->dim; i++)
    {
      guint32 u;
      memcpy (&u, &self->data[i], 4);
      u = GUINT32_TO_LE (u);
      if (!lk_atomic_file_write (file, &u, 4, error))
        {
          lk_atomic_file_abort (file);
          return FALSE;
        }
    }
#endif
  if (!lk_atomic_file_commit (file, error))
    return FALSE;

  if (tsv_path != NULL)
    {
      g_autoptr(GString) tsv = g_string_new ("index\tpath\tcategory\n");
      for (guint i = 0; i < self->n; i++)
        {
          g_string_append_printf (tsv, "%u\t", i);
          tsv_field (tsv, lk_collection_get_path (collection, i));
          g_string_append_c (tsv, '\t');
          tsv_field (tsv, lk_collection_get_category_name (collection,
                                                           lk_collection_get_label (collection, i)));
          g_string_append_c (tsv, '\n');
        }
      if (!lk_file_write_atomic (tsv_path, tsv->str, tsv->len, error))
        return FALSE;
    }
  return TRUE;
}
