/* relevance.c — blocked computation of the sparse relevance, its on-demand
 * pairs and its cache file. See relevance.h. */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas-kernels.h"
#include "error.h"
#include "fileutil.h"
#include "relevance.h"

/* Tiles of rows × category are kept under this many floats. */
#define TILE_FLOATS (8u << 20)

struct _LkRelevance
{
  gint ref_count;
  guint n_images;
  guint n_categories;
  guint top_m;
  guint16 *labels;            /* (N,) */
  float *sigma;               /* (n_categories,) */
  float *total;               /* (N,) */
  float *max;                 /* (N,) */
  guint32 *nb_count;          /* (N,) */
  guint32 *nb_index;          /* (N, top_m), most relevant first */
  float *nb_rel;              /* (N, top_m) */

  /* What a pair is computed from: features and weights, or a dense matrix. */
  LkFeatures *features;
  LkGoldenWeights weights;
  float *dense;               /* (N, N) or NULL */

  /* Cache key. */
  guint64 features_checksum;
  guint64 labels_hash;
  LkRelevanceParams params;
};

void
lk_relevance_params_init (LkRelevanceParams *params)
{
  g_return_if_fail (params != NULL);
  params->top_m = 32;
  params->sigma_quantile = 0.05f;
  params->n_sigma_pairs = 20000;
  params->block_rows = 0;
  params->seed = 1404;
}

static LkRelevance *
relevance_alloc (guint n_images, const guint16 *labels, guint n_categories, guint top_m)
{
  LkRelevance *self = g_new0 (LkRelevance, 1);
  self->ref_count = 1;
  self->n_images = n_images;
  self->n_categories = n_categories;
  self->top_m = top_m;
  self->labels = g_new (guint16, n_images + 1);
  if (n_images > 0)
    memcpy (self->labels, labels, (gsize) n_images * sizeof (guint16));
  self->sigma = g_new0 (float, n_categories + 1);
  self->total = g_new0 (float, n_images + 1);
  self->max = g_new0 (float, n_images + 1);
  self->nb_count = g_new0 (guint32, n_images + 1);
  self->nb_index = g_new0 (guint32, (gsize) n_images * top_m + 1);
  self->nb_rel = g_new0 (float, (gsize) n_images * top_m + 1);
  self->labels_hash = lk_hash64 (labels, (gsize) n_images * sizeof (guint16), n_categories);
  return self;
}

/* ---- top-M selection: a min-heap on relevance per row ---- */

typedef struct {
  float rel;
  guint32 index;
} Neighbour;

static inline gboolean
nb_less (const Neighbour *a, const Neighbour *b)
{
  /* Ties broken by index so the result does not depend on scan order. */
  return a->rel < b->rel || (a->rel == b->rel && a->index > b->index);
}

static void
heap_sift_down (Neighbour *h, guint n, guint i)
{
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && nb_less (&h[l], &h[m]))
        m = l;
      if (r < n && nb_less (&h[r], &h[m]))
        m = r;
      if (m == i)
        return;
      Neighbour t = h[i];
      h[i] = h[m];
      h[m] = t;
      i = m;
    }
}

static void
heap_push (Neighbour *h, guint *n, guint cap, Neighbour x)
{
  if (*n < cap)
    {
      guint i = (*n)++;
      h[i] = x;
      while (i > 0 && nb_less (&h[i], &h[(i - 1) / 2]))
        {
          Neighbour t = h[i];
          h[i] = h[(i - 1) / 2];
          h[(i - 1) / 2] = t;
          i = (i - 1) / 2;
        }
    }
  else if (cap > 0 && nb_less (&h[0], &x))
    {
      h[0] = x;
      heap_sift_down (h, *n, 0);
    }
}

static int
cmp_neighbour_desc (const void *a, const void *b)
{
  return nb_less (b, a) ? -1 : nb_less (a, b) ? 1 : 0;
}

/* Stores a row's heap, sorted most relevant first. */
static void
store_row (LkRelevance *self, guint i, Neighbour *heap, guint n, double total)
{
  qsort (heap, n, sizeof (Neighbour), cmp_neighbour_desc);
  self->nb_count[i] = n;
  for (guint k = 0; k < n; k++)
    {
      self->nb_index[(gsize) i * self->top_m + k] = heap[k].index;
      self->nb_rel[(gsize) i * self->top_m + k] = heap[k].rel;
    }
  self->max[i] = n > 0 ? heap[0].rel : 0.0f;
  self->total[i] = (float) total;
}

/* ---- pairs ---- */

/* Squared distance of two rows already scaled per block, four partial
 * sums so the compiler can keep it in vector registers. */
static float
weighted_distance (LkRelevance *self, guint i, guint j)
{
  float d = 0;
  for (guint b = 0; b < LK_N_FEATURES; b++)
    {
      guint off, dim = lk_features_get_block (self->features, b, &off);
      const float *x = lk_features_get_row (self->features, i) + off;
      const float *y = lk_features_get_row (self->features, j) + off;
      float s[4] = { 0, 0, 0, 0 };
      guint c = 0;
      if (self->weights.w[b] == 0)
        continue;
      for (; c + 4 <= dim; c += 4)
        for (guint k = 0; k < 4; k++)
          {
            float t = x[c + k] - y[c + k];
            s[k] += t * t;
          }
      for (; c < dim; c++)
        s[0] += (x[c] - y[c]) * (x[c] - y[c]);
      d += self->weights.w[b] * (s[0] + s[1] + s[2] + s[3]);
    }
  return d;
}

float
lk_relevance_pair (LkRelevance *self, guint i, guint j)
{
  guint c;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (i < self->n_images && j < self->n_images, 0);
  c = self->labels[i];
  if (i == j || c != self->labels[j])
    return 0;
  if (self->dense != NULL)
    return self->dense[(gsize) i * self->n_images + j];
  return expf (-weighted_distance (self, i, j) / self->sigma[c]);
}

/* ---- computation ---- */

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* σ_c: a quantile of the category's pair distances, over every pair when
 * there are few, else over a seeded sample of pairs. */
static float
estimate_sigma (LkRelevance *self, const guint32 *members, guint n_c, GRand *rand)
{
  guint64 all_pairs = (guint64) n_c * (n_c - 1) / 2;
  guint m = (guint) MIN (all_pairs, (guint64) self->params.n_sigma_pairs), k = 0;
  g_autofree float *d = g_new (float, m + 1);
  float q;

  if (m == all_pairs)
    {
      for (guint a = 0; a < n_c; a++)
        for (guint b = a + 1; b < n_c; b++)
          d[k++] = weighted_distance (self, members[a], members[b]);
    }
  else
    for (; k < m; k++)
      {
        guint a = g_rand_int_range (rand, 0, n_c), b;
        do
          b = g_rand_int_range (rand, 0, n_c);
        while (b == a);
        d[k] = weighted_distance (self, members[a], members[b]);
      }
  qsort (d, m, sizeof (float), cmp_float);
  q = d[(guint) floor (self->params.sigma_quantile * (m - 1))];
  /* Identical images would give σ = 0: any positive σ then ranks them all
   * equally relevant (r = 1). */
  return MAX (q, 1e-6f);
}

static gboolean
compute_category (LkRelevance *self, const guint32 *members, guint n_c, guint c,
                  float *x, float *norms, float *tile, Neighbour *heap,
                  guint *rows_done, LkRelevanceProgress progress, gpointer progress_data,
                  GCancellable *cancellable, GError **error)
{
  guint dim = lk_features_get_dim (self->features), rows;
  float scale[LK_N_FEATURES], inv_sigma = 1.0f / self->sigma[c];

  for (guint b = 0; b < LK_N_FEATURES; b++)
    scale[b] = sqrtf (MAX (0.0f, self->weights.w[b]));
  /* X: the category's rows with block b scaled by √w_b, (n_c, dim). */
  for (guint a = 0; a < n_c; a++)
    {
      const float *row = lk_features_get_row (self->features, members[a]);
      double s = 0;
      for (guint b = 0; b < LK_N_FEATURES; b++)
        {
          guint off, bd = lk_features_get_block (self->features, b, &off);
          for (guint k = off; k < off + bd; k++)
            {
              float v = row[k] * scale[b];
              x[(gsize) a * dim + k] = v;
              s += (double) v * v;
            }
        }
      norms[a] = (float) s;
    }

  rows = self->params.block_rows ? self->params.block_rows : MAX (16u, TILE_FLOATS / MAX (n_c, 1u));
  for (guint r0 = 0; r0 < n_c; r0 += rows)
    {
      guint nr = MIN (rows, n_c - r0);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* tile = X[r0:r0+nr] · Xᵀ, (nr, n_c) */
      lk_blas_enter ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) nr, (int) n_c, (int) dim,
                   1.0f, x + (gsize) r0 * dim, (int) dim, x, (int) dim,
                   0.0f, tile, (int) n_c);
      lk_blas_leave ();
      for (guint a = r0; a < r0 + nr; a++)
        {
          const float *g = tile + (gsize) (a - r0) * n_c;
          double total = 0;
          guint n_heap = 0;
          for (guint b = 0; b < n_c; b++)
            {
              float d, r;
              if (b == a)
                continue;
              d = MAX (0.0f, norms[a] + norms[b] - 2 * g[b]);
              r = expf (-d * inv_sigma);
              total += r;
              if (n_heap < self->top_m || r >= heap[0].rel)
                heap_push (heap, &n_heap, self->top_m, (Neighbour) { r, members[b] });
            }
          store_row (self, members[a], heap, n_heap, total);
        }
      *rows_done += nr;
      if (progress != NULL)
        progress (*rows_done, self->n_images, progress_data);
    }
  return TRUE;
}

LkRelevance *
lk_relevance_compute (LkFeatures *features, const guint16 *labels, guint n_categories,
                      const LkGoldenWeights *weights, const LkRelevanceParams *params,
                      LkRelevanceProgress progress, gpointer progress_data,
                      GCancellable *cancellable, GError **error)
{
  g_autoptr(LkRelevance) self = NULL;
  LkRelevanceParams defaults;
  g_autofree guint32 *order = NULL, *start = NULL;
  g_autofree float *x = NULL, *norms = NULL, *tile = NULL;
  g_autofree Neighbour *heap = NULL;
  g_autoptr(GRand) rand = NULL;
  guint n, dim, largest = 0, rows_done = 0;
  gsize tile_size = 0;

  g_return_val_if_fail (features != NULL, NULL);
  g_return_val_if_fail (weights != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  n = lk_features_get_n_images (features);
  g_return_val_if_fail (labels != NULL || n == 0, NULL);

  if (params == NULL)
    {
      lk_relevance_params_init (&defaults);
      params = &defaults;
    }
  for (guint i = 0; i < n; i++)
    if (labels[i] >= n_categories)
      {
        g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                     _("Image %u has category %u, but there are only %u"),
                     i, labels[i], n_categories);
        return NULL;
      }
  for (guint b = 0; b < LK_N_FEATURES; b++)
    if (!(weights->w[b] >= 0) || !isfinite (weights->w[b]))
      {
        g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                     _("Feature weights must be finite and non-negative"));
        return NULL;
      }

  self = relevance_alloc (n, labels, n_categories, params->top_m);
  self->features = lk_features_ref (features);
  self->weights = *weights;
  self->params = *params;
  self->features_checksum = lk_features_get_checksum (features);
  dim = lk_features_get_dim (features);

  /* Members of each category, by a counting sort on the labels. */
  start = g_new0 (guint32, n_categories + 1);
  order = g_new (guint32, n + 1);
  for (guint i = 0; i < n; i++)
    start[labels[i] + 1]++;
  for (guint c = 0; c < n_categories; c++)
    {
      largest = MAX (largest, start[c + 1]);
      start[c + 1] += start[c];
    }
  {
    g_autofree guint32 *fill = g_memdup2 (start, (n_categories + 1) * sizeof (guint32));
    for (guint i = 0; i < n; i++)
      order[fill[labels[i]]++] = i;
  }

  for (guint c = 0; c < n_categories; c++)
    {
      guint n_c = start[c + 1] - start[c];
      gsize rows = params->block_rows ? params->block_rows : MAX (16u, TILE_FLOATS / MAX (n_c, 1u));
      tile_size = MAX (tile_size, MIN (rows, n_c) * (gsize) n_c);
    }
  x = g_new (float, (gsize) largest * dim + 1);
  norms = g_new (float, largest + 1);
  tile = g_new (float, tile_size + 1);
  heap = g_new (Neighbour, params->top_m + 1);
  rand = g_rand_new_with_seed ((guint32) (params->seed ^ (params->seed >> 32)));

  for (guint c = 0; c < n_categories; c++)
    {
      guint n_c = start[c + 1] - start[c];
      if (n_c < 2)
        {
          self->sigma[c] = 1.0f;
          rows_done += n_c;
          continue;
        }
      self->sigma[c] = estimate_sigma (self, order + start[c], n_c, rand);
      if (!compute_category (self, order + start[c], n_c, c, x, norms, tile, heap, &rows_done,
                             progress, progress_data, cancellable, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

LkRelevance *
lk_relevance_new_dense (guint n_images, const guint16 *labels, guint n_categories,
                        const float *matrix, guint top_m)
{
  LkRelevance *self;
  g_autofree Neighbour *heap = NULL;

  g_return_val_if_fail (labels != NULL && matrix != NULL, NULL);
  for (guint i = 0; i < n_images; i++)
    g_return_val_if_fail (labels[i] < n_categories, NULL);

  self = relevance_alloc (n_images, labels, n_categories, top_m);
  lk_relevance_params_init (&self->params);
  self->params.top_m = top_m;
  self->dense = g_new (float, (gsize) n_images * n_images + 1);
  heap = g_new (Neighbour, top_m + 1);
  for (guint i = 0; i < n_images; i++)
    {
      double total = 0;
      guint n_heap = 0;
      for (guint j = 0; j < n_images; j++)
        {
          float r = matrix[(gsize) i * n_images + j];
          if (i == j || labels[i] != labels[j] || !(r > 0))
            r = 0;
          self->dense[(gsize) i * n_images + j] = r;
          if (i != j && labels[i] == labels[j])
            {
              total += r;
              heap_push (heap, &n_heap, top_m, (Neighbour) { r, j });
            }
        }
      store_row (self, i, heap, n_heap, total);
    }
  return self;
}

LkRelevance *
lk_relevance_ref (LkRelevance *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_relevance_unref (LkRelevance *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->labels);
  g_free (self->sigma);
  g_free (self->total);
  g_free (self->max);
  g_free (self->nb_count);
  g_free (self->nb_index);
  g_free (self->nb_rel);
  g_free (self->dense);
  g_clear_pointer (&self->features, lk_features_unref);
  g_free (self);
}

guint
lk_relevance_get_n_images (LkRelevance *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_images;
}

guint
lk_relevance_get_n_categories (LkRelevance *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_categories;
}

const guint16 *
lk_relevance_get_labels (LkRelevance *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->labels;
}

guint
lk_relevance_get_top_m (LkRelevance *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->top_m;
}

float
lk_relevance_get_sigma (LkRelevance *self, guint category)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (category < self->n_categories, 0);
  return self->dense != NULL ? 0.0f : self->sigma[category];
}

float
lk_relevance_total (LkRelevance *self, guint i)
{
  g_return_val_if_fail (self != NULL && i < self->n_images, 0);
  return self->total[i];
}

float
lk_relevance_max (LkRelevance *self, guint i)
{
  g_return_val_if_fail (self != NULL && i < self->n_images, 0);
  return self->max[i];
}

guint
lk_relevance_neighbours (LkRelevance *self, guint i, const guint32 **indices_out,
                         const float **relevances_out)
{
  g_return_val_if_fail (self != NULL && i < self->n_images, 0);
  if (indices_out != NULL)
    *indices_out = self->nb_index + (gsize) i * self->top_m;
  if (relevances_out != NULL)
    *relevances_out = self->nb_rel + (gsize) i * self->top_m;
  return self->nb_count[i];
}

/* ---- cache file ---- */

#define RELEVANCE_MAGIC "LKRELEV"
#define RELEVANCE_VERSION 1
#define BYTE_ORDER_MARK 0x01020304u

typedef struct {
  char magic[8];
  guint32 version;
  guint32 byte_order;
  guint32 n_images;
  guint32 n_categories;
  guint32 top_m;
  guint32 n_sigma_pairs;
  float sigma_quantile;
  float weights[LK_N_FEATURES];
  guint32 reserved;
  guint64 seed;
  guint64 features_checksum;
  guint64 labels_hash;
  guint64 data_checksum;
  guint64 header_checksum;      /* of every byte before it */
} RelevanceHeader;

G_STATIC_ASSERT (sizeof (RelevanceHeader) == 96);

/* The arrays after the header, in file order. */
typedef struct {
  void *ptr;
  gsize size;
} Section;

static guint
sections_of (LkRelevance *self, Section s[6])
{
  gsize n = self->n_images, nm = (gsize) self->n_images * self->top_m;
  s[0] = (Section) { self->sigma, self->n_categories * sizeof (float) };
  s[1] = (Section) { self->total, n * sizeof (float) };
  s[2] = (Section) { self->max, n * sizeof (float) };
  s[3] = (Section) { self->nb_count, n * sizeof (guint32) };
  s[4] = (Section) { self->nb_index, nm * sizeof (guint32) };
  s[5] = (Section) { self->nb_rel, nm * sizeof (float) };
  return 6;
}

static guint64
sections_checksum (Section *s, guint n)
{
  guint64 h = 0x52454c;
  for (guint k = 0; k < n; k++)
    h = lk_hash64 (s[k].ptr, s[k].size, h);
  return h;
}

static void
fill_key (RelevanceHeader *h, guint n_images, guint n_categories, guint64 features_checksum,
          guint64 labels_hash, const LkGoldenWeights *weights, const LkRelevanceParams *params)
{
  memcpy (h->magic, RELEVANCE_MAGIC, sizeof h->magic);
  h->version = RELEVANCE_VERSION;
  h->byte_order = BYTE_ORDER_MARK;
  h->n_images = n_images;
  h->n_categories = n_categories;
  h->top_m = params->top_m;
  h->n_sigma_pairs = params->n_sigma_pairs;
  h->sigma_quantile = params->sigma_quantile;
  memcpy (h->weights, weights->w, sizeof h->weights);
  h->seed = params->seed;
  h->features_checksum = features_checksum;
  h->labels_hash = labels_hash;
}

gboolean
lk_relevance_save (LkRelevance *self, const char *path, GError **error)
{
  RelevanceHeader h = { { 0 } };
  Section s[6];
  guint ns;
  LkAtomicFile *file;

  g_return_val_if_fail (self != NULL && path != NULL, FALSE);
  if (self->dense != NULL)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("A relevance given as a matrix is not cached (%s)"), path);
      return FALSE;
    }
  fill_key (&h, self->n_images, self->n_categories, self->features_checksum, self->labels_hash,
            &self->weights, &self->params);
  ns = sections_of (self, s);
  h.data_checksum = sections_checksum (s, ns);
  h.header_checksum = lk_hash64 (&h, G_STRUCT_OFFSET (RelevanceHeader, header_checksum), 0);

  file = lk_atomic_file_open (path, error);
  if (file == NULL)
    return FALSE;
  if (!lk_atomic_file_write (file, &h, sizeof h, error))
    goto fail;
  for (guint k = 0; k < ns; k++)
    if (!lk_atomic_file_write (file, s[k].ptr, s[k].size, error))
      goto fail;
  return lk_atomic_file_commit (file, error);
fail:
  lk_atomic_file_abort (file);
  return FALSE;
}

LkRelevance *
lk_relevance_load (const char *path, LkFeatures *features, const guint16 *labels,
                   guint n_categories, const LkGoldenWeights *weights,
                   const LkRelevanceParams *params, GError **error)
{
  g_autoptr(LkMapped) mapped = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(LkRelevance) self = NULL;
  LkRelevanceParams defaults;
  RelevanceHeader h, want = { { 0 } };
  Section s[6];
  guint ns, n;
  const guint8 *bytes;
  gsize size, expected = sizeof h, at = sizeof h;

  g_return_val_if_fail (path != NULL && features != NULL && weights != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  n = lk_features_get_n_images (features);
  g_return_val_if_fail (labels != NULL || n == 0, NULL);
  if (params == NULL)
    {
      lk_relevance_params_init (&defaults);
      params = &defaults;
    }

  mapped = lk_mapped_open (path, &local);
  if (mapped == NULL)
    {
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND,
                     _("Relevance cache %s does not exist"), path);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  bytes = lk_mapped_data (mapped);
  size = lk_mapped_size (mapped);
  if (size < sizeof h)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Relevance cache %s is truncated"), path);
      return NULL;
    }
  memcpy (&h, bytes, sizeof h);
  if (memcmp (h.magic, RELEVANCE_MAGIC, sizeof h.magic) != 0
      || h.header_checksum != lk_hash64 (&h, G_STRUCT_OFFSET (RelevanceHeader, header_checksum), 0))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Relevance cache %s is not a relevance file or is damaged"), path);
      return NULL;
    }
  if (h.version != RELEVANCE_VERSION || h.byte_order != BYTE_ORDER_MARK)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION,
                   _("Relevance cache %s has format version %u, expected %u"),
                   path, h.version, RELEVANCE_VERSION);
      return NULL;
    }
  fill_key (&want, n, n_categories, lk_features_get_checksum (features),
            lk_hash64 (labels, (gsize) n * sizeof (guint16), n_categories), weights, params);
  if (memcmp (&h, &want, G_STRUCT_OFFSET (RelevanceHeader, data_checksum)) != 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Relevance cache %s was computed from other features, categories, "
                     "weights or settings"), path);
      return NULL;
    }

  self = relevance_alloc (n, labels, n_categories, params->top_m);
  ns = sections_of (self, s);
  for (guint k = 0; k < ns; k++)
    expected += s[k].size;
  if (size != expected)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Relevance cache %s has %zu bytes, expected %zu"),
                   path, size, expected);
      return NULL;
    }
  for (guint k = 0; k < ns; k++)
    {
      memcpy (s[k].ptr, bytes + at, s[k].size);
      at += s[k].size;
    }
  if (sections_checksum (s, ns) != h.data_checksum)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Relevance cache %s is damaged (checksum mismatch)"), path);
      return NULL;
    }
  /* Never trust an index read from disk. */
  for (guint i = 0; i < n; i++)
    {
      if (self->nb_count[i] > self->top_m)
        goto bad_index;
      for (guint k = 0; k < self->nb_count[i]; k++)
        if (self->nb_index[(gsize) i * self->top_m + k] >= n)
          goto bad_index;
    }
  for (guint c = 0; c < n_categories; c++)
    if (!(self->sigma[c] > 0))
      goto bad_index;

  self->features = lk_features_ref (features);
  self->weights = *weights;
  self->params = *params;
  self->features_checksum = lk_features_get_checksum (features);
  return g_steal_pointer (&self);

bad_index:
  g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
               _("Relevance cache %s holds values out of range"), path);
  return NULL;
}

LkRelevance *
lk_relevance_load_or_compute (const char *path, LkFeatures *features, const guint16 *labels,
                              guint n_categories, const LkGoldenWeights *weights,
                              const LkRelevanceParams *params, LkRelevanceProgress progress,
                              gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) local = NULL;
  LkRelevance *self;

  g_return_val_if_fail (path != NULL, NULL);
  self = lk_relevance_load (path, features, labels, n_categories, weights, params, &local);
  if (self != NULL)
    return self;
  if (!g_error_matches (local, LK_ERROR, LK_ERROR_NOT_FOUND))
    g_info ("Recomputing relevance: %s", local->message);
  g_clear_error (&local);
  self = lk_relevance_compute (features, labels, n_categories, weights, params,
                               progress, progress_data, cancellable, error);
  if (self != NULL && !lk_relevance_save (self, path, &local))
    g_warning ("Could not write the relevance cache: %s", local->message);
  return self;
}

LkRelevance *
lk_relevance_load_or_compute_for_collection (LkCollection *collection, LkFeatures *features,
                                             const LkGoldenWeights *weights,
                                             const LkRelevanceParams *params,
                                             LkRelevanceProgress progress, gpointer progress_data,
                                             GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = NULL, *name = NULL, *path = NULL;

  g_return_val_if_fail (collection != NULL && features != NULL, NULL);
  g_return_val_if_fail (lk_features_get_n_images (features)
                        == lk_collection_get_n_images (collection), NULL);
  dir = lk_cache_dir_for (lk_collection_get_id (collection));
  name = g_strdup_printf ("relevance-%u.bin", lk_collection_get_side (collection));
  path = g_build_filename (dir, name, NULL);
  return lk_relevance_load_or_compute (path, features, lk_collection_get_labels (collection),
                                       lk_collection_get_n_categories (collection), weights,
                                       params, progress, progress_data, cancellable, error);
}
