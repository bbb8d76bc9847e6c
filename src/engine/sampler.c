/* sampler.c — per-category weighted reservoirs and triplet draws.
 *
 * How r_q⁺ is read. The paper accepts a positive p drawn uniformly from
 * q's buffer with probability min(1, r(q,p) / r_q⁺), and elsewhere says
 * positives are drawn with probability ∝ min(T_p, r(q,p)). We read r_q⁺
 * as the largest value the (capped) relevance of any positive can take:
 *
 *     r_q⁺ = min(T_p, max_j r(q, j)),   accept p with min(T_p, r(q,p)) / r_q⁺.
 *
 * That is rejection sampling with the tightest envelope that is valid for
 * every buffer content: the ratio never exceeds 1 (so the min(1, ·) never
 * clips), and an accepted positive is distributed over the buffer exactly
 * ∝ min(T_p, r(q,p)) — both statements of the paper at once, with the
 * highest acceptance rate. (Reading r_q⁺ as the positive's own total
 * relevance Σ_j r(p, j) instead would make the ratio tiny, bias towards
 * images with few neighbours, and is not a probability model.) The max is
 * over the whole category, which the relevance keeps (its top neighbour),
 * not only over the buffer, so it does not change while the buffer does.
 *
 * Keys are compared as (epoch, log k): an arrival of the current epoch
 * beats any key left from an earlier one, so the buffer turns over to
 * this epoch's sample while staying full, and at the end of each epoch it
 * holds exactly the top keys of that epoch (Efraimidis–Spirakis A-Res). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sampler.h"

/* Publish at least this often (µs) even when nobody asked. */
#define PUBLISH_INTERVAL_US 100000

typedef struct {
  LkBufferEntry *heap;      /* (buffer_size,) min-heap on (epoch, log_key) */
  guint fill;
} Buffer;

struct _LkSampler
{
  LkRelevance *relevance;
  LkSamplerParams params;
  guint n_images;           /* of the relevance */
  guint n_stream;           /* images that stream (all, or a subset) */
  guint n_categories;
  const guint16 *labels;

  guint64 rng[4];           /* xoshiro256** */

  Buffer *buffers;          /* (n_categories,) */
  LkBufferEntry *entries;   /* (n_categories, buffer_size), backing the heaps */
  gint32 *position;         /* (N,) heap slot of each image, −1 if not buffered */
  guint32 *order;           /* (N,) this epoch's stream order */
  guint stream_pos;
  gboolean warmed_up;
  double stream_credit;

  LkSamplerCounts counts;
  LkDrawnTriplet recent[LK_SAMPLER_RECENT];   /* ring */
  guint recent_next;
  guint n_recent;

  /* The published copy, read by snapshots. */
  GMutex lock;
  guint *pub_fill;
  LkBufferEntry *pub_entries;
  LkDrawnTriplet pub_recent[LK_SAMPLER_RECENT];
  guint pub_recent_next;
  guint pub_n_recent;
  LkSamplerCounts pub_counts;
  gint64 last_publish;
  gint want_publish;        /* atomic: a snapshot was taken since the last publish */
};

/* ---- random numbers: xoshiro256**, seeded by splitmix64 ---- */

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static guint64
rng_next (LkSampler *self)
{
  guint64 *s = self->rng;
  guint64 result = rotl (s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

static void
rng_seed (LkSampler *self, guint64 seed)
{
  for (guint k = 0; k < 4; k++)
    {
      guint64 z = (seed += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));
      z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
      z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
      self->rng[k] = z ^ (z >> 31);
    }
}

/* Uniform in (0, 1), never 0 (log u must be finite). */
static inline double
rng_open01 (LkSampler *self)
{
  return ((rng_next (self) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply, with rejection so it is
 * exactly uniform). */
static inline guint32
rng_below (LkSampler *self, guint32 n)
{
  guint64 m = (rng_next (self) >> 32) * n;
  guint32 low = (guint32) m;
  if (low < n)
    {
      guint32 threshold = (guint32) (-n) % n;
      while (low < threshold)
        {
          m = (rng_next (self) >> 32) * n;
          low = (guint32) m;
        }
    }
  return (guint32) (m >> 32);
}

/* ---- buffers ---- */

static inline gboolean
key_less (const LkBufferEntry *a, const LkBufferEntry *b)
{
  return a->epoch < b->epoch || (a->epoch == b->epoch && a->log_key < b->log_key);
}

static void
heap_swap (LkSampler *self, Buffer *buf, guint a, guint b)
{
  LkBufferEntry t = buf->heap[a];
  buf->heap[a] = buf->heap[b];
  buf->heap[b] = t;
  self->position[buf->heap[a].image] = (gint32) a;
  self->position[buf->heap[b].image] = (gint32) b;
}

static void
heap_fix (LkSampler *self, Buffer *buf, guint i)
{
  while (i > 0 && key_less (&buf->heap[i], &buf->heap[(i - 1) / 2]))
    {
      heap_swap (self, buf, i, (i - 1) / 2);
      i = (i - 1) / 2;
    }
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < buf->fill && key_less (&buf->heap[l], &buf->heap[m]))
        m = l;
      if (r < buf->fill && key_less (&buf->heap[r], &buf->heap[m]))
        m = r;
      if (m == i)
        return;
      heap_swap (self, buf, i, m);
      i = m;
    }
}

static void
new_epoch (LkSampler *self)
{
  /* Fisher–Yates on the previous order: a fresh seeded permutation. */
  for (guint i = self->n_stream; i > 1; i--)
    {
      guint j = rng_below (self, i);
      guint32 t = self->order[i - 1];
      self->order[i - 1] = self->order[j];
      self->order[j] = t;
    }
  self->stream_pos = 0;
  self->counts.epoch++;
}

static void
arrive (LkSampler *self, guint32 image)
{
  Buffer *buf = &self->buffers[self->labels[image]];
  float r = lk_relevance_total (self->relevance, image);
  LkBufferEntry e = { image, self->counts.epoch, 0 };
  gint32 pos = self->position[image];

  /* k = u^(1/r) kept as log k = log(u)/r; no relevance, no chance. */
  e.log_key = r > 0 ? (float) (log (rng_open01 (self)) / r) : -INFINITY;
  self->counts.images_streamed++;

  if (pos >= 0)
    {
      /* Back again in a later epoch: it competes with its new key. */
      buf->heap[pos] = e;
      heap_fix (self, buf, (guint) pos);
    }
  else if (buf->fill < self->params.buffer_size)
    {
      buf->heap[buf->fill] = e;
      self->position[image] = (gint32) buf->fill;
      buf->fill++;
      heap_fix (self, buf, buf->fill - 1);
      self->counts.images_inserted++;
    }
  else if (key_less (&buf->heap[0], &e))
    {
      self->position[buf->heap[0].image] = -1;
      buf->heap[0] = e;
      self->position[image] = 0;
      heap_fix (self, buf, 0);
      self->counts.images_inserted++;
      self->counts.images_evicted++;
    }
  else
    self->counts.images_dropped++;
}

static void
stream (LkSampler *self, guint n_images)
{
  if (self->n_stream == 0)
    return;
  for (guint k = 0; k < n_images; k++)
    {
      if (self->stream_pos == self->n_stream)
        new_epoch (self);
      arrive (self, self->order[self->stream_pos++]);
    }
}

/* ---- publishing for snapshots ---- */

static void
publish (LkSampler *self)
{
  g_mutex_lock (&self->lock);
  for (guint c = 0; c < self->n_categories; c++)
    self->pub_fill[c] = self->buffers[c].fill;
  memcpy (self->pub_entries, self->entries,
          (gsize) self->n_categories * self->params.buffer_size * sizeof (LkBufferEntry));
  memcpy (self->pub_recent, self->recent, sizeof self->recent);
  self->pub_recent_next = self->recent_next;
  self->pub_n_recent = self->n_recent;
  self->pub_counts = self->counts;
  g_mutex_unlock (&self->lock);
  self->last_publish = g_get_monotonic_time ();
  g_atomic_int_set (&self->want_publish, 0);
}

static void
maybe_publish (LkSampler *self)
{
  if (g_atomic_int_get (&self->want_publish)
      || g_get_monotonic_time () - self->last_publish >= PUBLISH_INTERVAL_US)
    publish (self);
}

/* ---- life cycle ---- */

void
lk_sampler_params_init (LkSamplerParams *params)
{
  g_return_if_fail (params != NULL);
  params->buffer_size = 256;
  params->t_p = 1.0f;
  params->t_r = 0.1f;
  params->out_of_class_share = 0.2f;
  params->seed = 1;
  params->stream_per_triplet = 1.0f;
  params->max_positive_draws = 64;
  params->max_negative_draws = 16;
  params->max_attempts = 100000;
}

LkSampler *
lk_sampler_new (LkRelevance *relevance, const LkSamplerParams *params)
{
  return lk_sampler_new_for_images (relevance, params, NULL, 0);
}

LkSampler *
lk_sampler_new_for_images (LkRelevance *relevance, const LkSamplerParams *params,
                           const guint32 *images, guint n_images)
{
  LkSampler *self;
  LkSamplerParams defaults;
  gsize n_entries;

  g_return_val_if_fail (relevance != NULL, NULL);
  if (params == NULL)
    {
      lk_sampler_params_init (&defaults);
      params = &defaults;
    }
  g_return_val_if_fail (params->buffer_size >= 1, NULL);
  g_return_val_if_fail (params->t_p > 0, NULL);
  g_return_val_if_fail (params->t_r >= 0, NULL);
  g_return_val_if_fail (params->out_of_class_share >= 0 && params->out_of_class_share <= 1, NULL);
  g_return_val_if_fail (params->stream_per_triplet >= 0, NULL);
  g_return_val_if_fail (params->max_positive_draws >= 1 && params->max_negative_draws >= 1
                        && params->max_attempts >= 1, NULL);
  g_return_val_if_fail (images != NULL || n_images == 0, NULL);
  for (guint k = 0; k < n_images; k++)
    g_return_val_if_fail (images[k] < lk_relevance_get_n_images (relevance), NULL);

  self = g_new0 (LkSampler, 1);
  self->relevance = lk_relevance_ref (relevance);
  self->params = *params;
  self->n_images = lk_relevance_get_n_images (relevance);
  self->n_categories = lk_relevance_get_n_categories (relevance);
  self->labels = lk_relevance_get_labels (relevance);
  rng_seed (self, params->seed);

  n_entries = (gsize) self->n_categories * params->buffer_size;
  self->entries = g_new0 (LkBufferEntry, n_entries + 1);
  self->pub_entries = g_new0 (LkBufferEntry, n_entries + 1);
  self->pub_fill = g_new0 (guint, self->n_categories + 1);
  self->buffers = g_new0 (Buffer, self->n_categories + 1);
  for (guint c = 0; c < self->n_categories; c++)
    self->buffers[c].heap = self->entries + (gsize) c * params->buffer_size;
  self->position = g_new (gint32, self->n_images + 1);
  for (guint i = 0; i < self->n_images; i++)
    self->position[i] = -1;
  if (images != NULL)
    {
      self->n_stream = n_images;
      self->order = g_new (guint32, n_images + 1);
      for (guint k = 0; k < n_images; k++)
        self->order[k] = images[k];
    }
  else
    {
      self->n_stream = self->n_images;
      self->order = g_new (guint32, self->n_images + 1);
      for (guint i = 0; i < self->n_images; i++)
        self->order[i] = i;
    }
  self->stream_pos = self->n_stream;   /* the first arrival starts epoch 1 */
  g_mutex_init (&self->lock);
  publish (self);
  /* So the first batch is published too, as every batch after a snapshot. */
  self->want_publish = 1;
  return self;
}

void
lk_sampler_free (LkSampler *self)
{
  if (self == NULL)
    return;
  lk_relevance_unref (self->relevance);
  g_free (self->entries);
  g_free (self->pub_entries);
  g_free (self->pub_fill);
  g_free (self->buffers);
  g_free (self->position);
  g_free (self->order);
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
lk_sampler_stream (LkSampler *self, guint n_images)
{
  g_return_if_fail (self != NULL);
  stream (self, n_images);
  self->warmed_up = TRUE;
  publish (self);
}

/* ---- drawing ---- */

/* A uniform buffered image among categories with at least @min_fill
 * images; returns FALSE if there is none. */
static gboolean
draw_query (LkSampler *self, guint min_fill, guint *category, guint *slot)
{
  guint64 total = 0, k;
  for (guint c = 0; c < self->n_categories; c++)
    if (self->buffers[c].fill >= min_fill)
      total += self->buffers[c].fill;
  if (total == 0)
    return FALSE;
  k = rng_below (self, (guint32) total);
  for (guint c = 0; c < self->n_categories; c++)
    if (self->buffers[c].fill >= min_fill)
      {
        if (k < self->buffers[c].fill)
          {
            *category = c;
            *slot = (guint) k;
            return TRUE;
          }
        k -= self->buffers[c].fill;
      }
  g_assert_not_reached ();
}

/* A uniform slot of @buf other than @skip_a and @skip_b (which may be
 * equal); the buffer must hold another one. */
static guint
draw_other_slot (LkSampler *self, const Buffer *buf, guint skip_a, guint skip_b)
{
  guint lo = MIN (skip_a, skip_b), hi = MAX (skip_a, skip_b);
  guint n_skip = lo == hi ? 1 : 2;
  guint k = rng_below (self, buf->fill - n_skip);
  if (k >= lo)
    k++;
  if (n_skip == 2 && k >= hi)
    k++;
  return k;
}

/* A uniform buffered image outside category @c, or FALSE if none. */
static gboolean
draw_out_of_class (LkSampler *self, guint c, guint32 *image)
{
  guint64 total = 0, k;
  for (guint d = 0; d < self->n_categories; d++)
    if (d != c)
      total += self->buffers[d].fill;
  if (total == 0)
    return FALSE;
  k = rng_below (self, (guint32) total);
  for (guint d = 0; d < self->n_categories; d++)
    if (d != c)
      {
        if (k < self->buffers[d].fill)
          {
            *image = self->buffers[d].heap[k].image;
            return TRUE;
          }
        k -= self->buffers[d].fill;
      }
  g_assert_not_reached ();
}

/* The acceptance draw shared by positives and in-class negatives. */
static inline gboolean
accept_by_relevance (LkSampler *self, float r, float envelope)
{
  float capped = MIN (self->params.t_p, r);
  return capped > 0 && rng_open01 (self) * envelope < capped;
}

static void
remember (LkSampler *self, const LkDrawnTriplet *t)
{
  self->recent[self->recent_next] = *t;
  self->recent_next = (self->recent_next + 1) % LK_SAMPLER_RECENT;
  self->n_recent = MIN (self->n_recent + 1, LK_SAMPLER_RECENT);
}

static gboolean
draw_triplet (LkSampler *self, LkTriplet *out, GError **error)
{
  /* The kind is drawn once per triplet and kept through retries, so that
   * rejections (likelier in-class) do not skew the out-of-class share. */
  gboolean out_of_class = rng_open01 (self) < self->params.out_of_class_share;
  guint attempts = 0;

  if (out_of_class)
    {
      guint n_filled = 0;
      for (guint c = 0; c < self->n_categories && n_filled < 2; c++)
        n_filled += self->buffers[c].fill > 0;
      /* One category only: there is no out-of-class image to draw. */
      if (n_filled < 2)
        out_of_class = FALSE;
    }

  while (attempts < self->params.max_attempts)
    {
      guint c, qs, ps;
      guint32 q, p, n = 0;
      float envelope, r_qp, r_qn = 0;
      const Buffer *buf;
      gboolean found = FALSE;

      if (!draw_query (self, out_of_class ? 2 : 3, &c, &qs))
        break;
      attempts++;
      buf = &self->buffers[c];
      q = buf->heap[qs].image;
      envelope = MIN (self->params.t_p, lk_relevance_max (self->relevance, q));
      if (!(envelope > 0))
        {
          self->counts.queries_abandoned++;
          continue;
        }

      /* Positive. */
      for (guint k = 0; k < self->params.max_positive_draws; k++, attempts++)
        {
          ps = draw_other_slot (self, buf, qs, qs);
          p = buf->heap[ps].image;
          r_qp = lk_relevance_pair (self->relevance, q, p);
          if (accept_by_relevance (self, r_qp, envelope))
            {
              found = TRUE;
              break;
            }
          self->counts.positives_rejected++;
        }
      if (!found)
        {
          self->counts.queries_abandoned++;
          continue;
        }
      self->counts.positives_accepted++;

      /* Negative. */
      if (out_of_class)
        {
          if (!draw_out_of_class (self, c, &n))
            g_assert_not_reached ();
        }
      else
        {
          found = FALSE;
          for (guint k = 0; k < self->params.max_negative_draws; k++, attempts++)
            {
              n = buf->heap[draw_other_slot (self, buf, qs, ps)].image;
              r_qn = lk_relevance_pair (self->relevance, q, n);
              if (!accept_by_relevance (self, r_qn, envelope))
                {
                  self->counts.negatives_rejected_draw++;
                  continue;
                }
              if (r_qp - r_qn < self->params.t_r)
                {
                  self->counts.negatives_rejected_margin++;
                  continue;
                }
              found = TRUE;
              break;
            }
          if (!found)
            {
              self->counts.pairs_abandoned++;
              continue;
            }
          self->counts.negatives_accepted++;
        }

      *out = (LkTriplet) { q, p, n };
      self->counts.triplets++;
      self->counts.out_of_class += out_of_class;
      remember (self, &(LkDrawnTriplet) { *out, r_qp, r_qn, out_of_class });
      return TRUE;
    }

  if (out_of_class)
    g_set_error (error, LK_ERROR, LK_ERROR_FAILED,
                 _("No triplet found in %u draws: no buffered query has a relevant positive"),
                 attempts);
  else
    g_set_error (error, LK_ERROR, LK_ERROR_FAILED,
                 _("No triplet found in %u draws: no buffered query has a relevant positive "
                   "and a negative at least T_r less relevant"), attempts);
  return FALSE;
}

gboolean
lk_sampler_next_batch (LkSampler *self, LkTriplet *out, guint n, GError **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->warmed_up)
    {
      stream (self, self->n_stream);
      self->warmed_up = TRUE;
    }
  else
    {
      guint whole;
      self->stream_credit += (double) self->params.stream_per_triplet * n;
      whole = (guint) MIN (self->stream_credit, (double) G_MAXUINT);
      self->stream_credit -= whole;
      stream (self, whole);
    }
  for (guint t = 0; t < n && ok; t++)
    ok = draw_triplet (self, &out[t], error);
  maybe_publish (self);
  return ok;
}

/* ---- snapshots ---- */

void
lk_sampler_publish (LkSampler *self)
{
  g_return_if_fail (self != NULL);
  publish (self);
}

static int
cmp_entry_desc (const void *a, const void *b)
{
  const LkBufferEntry *x = a, *y = b;
  return key_less (y, x) ? -1 : key_less (x, y) ? 1 : (x->image > y->image) - (x->image < y->image);
}

LkSamplerSnapshot *
lk_sampler_snapshot (LkSampler *self)
{
  LkSamplerSnapshot *snap;
  LkDrawnTriplet ring[LK_SAMPLER_RECENT];
  guint next, K;

  g_return_val_if_fail (self != NULL, NULL);
  K = self->params.buffer_size;
  snap = g_new0 (LkSamplerSnapshot, 1);
  snap->n_categories = self->n_categories;
  snap->buffer_size = K;
  snap->fill = g_new (guint, self->n_categories + 1);
  snap->entries = g_new (LkBufferEntry, (gsize) self->n_categories * K + 1);
  snap->t_p = self->params.t_p;
  snap->t_r = self->params.t_r;
  snap->out_of_class_share = self->params.out_of_class_share;

  g_mutex_lock (&self->lock);
  memcpy (snap->fill, self->pub_fill, self->n_categories * sizeof (guint));
  memcpy (snap->entries, self->pub_entries, (gsize) self->n_categories * K * sizeof (LkBufferEntry));
  memcpy (ring, self->pub_recent, sizeof ring);
  next = self->pub_recent_next;
  snap->n_recent = self->pub_n_recent;
  snap->counts = self->pub_counts;
  g_mutex_unlock (&self->lock);
  g_atomic_int_set (&self->want_publish, 1);

  /* Sorting happens here, in the caller's thread, never under the lock. */
  for (guint c = 0; c < self->n_categories; c++)
    qsort (snap->entries + (gsize) c * K, snap->fill[c], sizeof (LkBufferEntry), cmp_entry_desc);
  for (guint k = 0; k < snap->n_recent; k++)
    snap->recent[k] = ring[(next + LK_SAMPLER_RECENT - 1 - k) % LK_SAMPLER_RECENT];
  return snap;
}

void
lk_sampler_snapshot_free (LkSamplerSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  g_free (snapshot->fill);
  g_free (snapshot->entries);
  g_free (snapshot);
}
