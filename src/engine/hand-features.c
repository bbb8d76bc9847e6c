/* hand-features.c — the hand-crafted feature blocks, their parallel computation
 * and their cache file. See hand-features.h for what each block is. */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hand-features-private.h"
#include "fileutil.h"

#define WAVELET_SIDE 16         /* luma signature side */
#define WAVELET_CHROMA_SIDE 8   /* I and Q signature side */
#define HOG_CELLS 4             /* cells per image side */
#define HOG_BLOCKS (HOG_CELLS - 1)
#define HOG_DIM (HOG_BLOCKS * HOG_BLOCKS * 4 * LK_HOG_BINS)
#define LBP_CODES 59
#define LBP_GRID 2
#define LBP_DIM (LBP_GRID * LBP_GRID * LBP_CODES)
#define CHUNK_IMAGES 32

struct _LkFeatures
{
  gint ref_count;
  guint n_images;
  guint side;                 /* 0 when built from raw rows */
  guint channels;
  guint dim;
  guint dims[LK_N_FEATURES];
  guint offsets[LK_N_FEATURES];
  float *owned;               /* rows when computed or copied */
  LkMapped *mapped;           /* rows when loaded from the cache */
  const float *data;          /* (n_images, dim) */
  guint64 checksum;
  guint64 pixel_hash;         /* lk_pixels_hash() of the source, 0 if none */
};

/* ---- kinds ---- */

static const char *const kind_names[LK_N_FEATURES] = { "wavelet", "color", "hog", "lbp" };

const char *
lk_feature_kind_name (LkFeatureKind kind)
{
  g_return_val_if_fail (kind < LK_N_FEATURES, NULL);
  return kind_names[kind];
}

const char *
lk_feature_kind_label (LkFeatureKind kind)
{
  g_return_val_if_fail (kind < LK_N_FEATURES, NULL);
  switch (kind)
    {
    case LK_FEATURE_WAVELET: return _("Haar wavelet");
    case LK_FEATURE_COLOR: return _("Colour (LAB histogram)");
    case LK_FEATURE_HOG: return _("HOG");
    case LK_FEATURE_LBP: return _("Texture (LBP)");
    case LK_N_FEATURES: break;
    }
  return NULL;
}

gboolean
lk_feature_kind_from_name (const char *name, LkFeatureKind *kind_out)
{
  g_return_val_if_fail (name != NULL, FALSE);
  for (guint k = 0; k < LK_N_FEATURES; k++)
    if (g_str_equal (name, kind_names[k]))
      {
        if (kind_out != NULL)
          *kind_out = k;
        return TRUE;
      }
  return FALSE;
}

guint
lk_feature_kind_dim (LkFeatureKind kind, guint channels)
{
  g_return_val_if_fail (channels == 1 || channels == 3, 0);
  switch (kind)
    {
    case LK_FEATURE_WAVELET:
      return WAVELET_SIDE * WAVELET_SIDE
             + (channels == 3 ? 2 * WAVELET_CHROMA_SIDE * WAVELET_CHROMA_SIDE : 0);
    case LK_FEATURE_COLOR:
      return channels == 3 ? LK_COLOR_L_BINS * LK_COLOR_A_BINS * LK_COLOR_B_BINS
                           : LK_COLOR_GRAY_BINS;
    case LK_FEATURE_HOG:
      return HOG_DIM;
    case LK_FEATURE_LBP:
      return LBP_DIM;
    case LK_N_FEATURES:
      break;
    }
  g_return_val_if_reached (0);
}

/* ---- shared helpers ---- */

static void
l2_normalise (float *v, guint n)
{
  double s = 0;
  for (guint i = 0; i < n; i++)
    s += (double) v[i] * v[i];
  if (s > 0)
    {
      float inv = (float) (1.0 / sqrt (s));
      for (guint i = 0; i < n; i++)
        v[i] *= inv;
    }
}

/* Luma plane (side², 0–255) of one image. */
static void
luma_plane (const guint8 *image, guint side, guint channels, float *y)
{
  guint n = side * side;
  if (channels == 1)
    for (guint i = 0; i < n; i++)
      y[i] = image[i];
  else
    for (guint i = 0; i < n; i++)
      y[i] = 0.299f * image[3 * i] + 0.587f * image[3 * i + 1] + 0.114f * image[3 * i + 2];
}

/* ---- Haar wavelet signature ---- */

/* Box-averages a side×side plane down to out_side×out_side. */
static void
downsample (const float *plane, guint side, float *out, guint out_side)
{
  for (guint v = 0; v < out_side; v++)
    {
      guint y0 = v * side / out_side, y1 = (v + 1) * side / out_side;
      if (y1 <= y0)
        y1 = y0 + 1;
      for (guint u = 0; u < out_side; u++)
        {
          guint x0 = u * side / out_side, x1 = (u + 1) * side / out_side;
          double s = 0;
          if (x1 <= x0)
            x1 = x0 + 1;
          for (guint y = y0; y < y1; y++)
            for (guint x = x0; x < x1; x++)
              s += plane[y * side + x];
          out[v * out_side + u] = (float) (s / ((y1 - y0) * (x1 - x0)));
        }
    }
}

/* Orthonormal non-standard 2-D Haar decomposition, in place: at each
 * level, one step on the rows then one on the columns of the top-left
 * h×h corner. */
static void
haar_2d (float *a, guint s)
{
  const float r = (float) M_SQRT1_2;
  float tmp[WAVELET_SIDE];

  for (guint h = s; h > 1; h /= 2)
    {
      guint half = h / 2;
      for (guint row = 0; row < h; row++)
        {
          float *p = a + row * s;
          for (guint k = 0; k < half; k++)
            {
              tmp[k] = (p[2 * k] + p[2 * k + 1]) * r;
              tmp[half + k] = (p[2 * k] - p[2 * k + 1]) * r;
            }
          memcpy (p, tmp, h * sizeof (float));
        }
      for (guint col = 0; col < h; col++)
        {
          for (guint k = 0; k < half; k++)
            {
              float e = a[2 * k * s + col], o = a[(2 * k + 1) * s + col];
              tmp[k] = (e + o) * r;
              tmp[half + k] = (e - o) * r;
            }
          for (guint k = 0; k < h; k++)
            a[k * s + col] = tmp[k];
        }
    }
}

static int
cmp_float_desc (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x < y) - (x > y);
}

/* Turns the decomposition of an s×s plane into its signature: slot 0 the
 * mean (0–255 scale mapped so it weighs like the rest), the s²/8 largest
 * detail coefficients as ±1, everything else 0. Coefficients that are
 * zero (flat images) never count as "largest". */
static void
haar_signature (float *a, guint s)
{
  guint n = s * s, keep = n / 8;
  float mags[WAVELET_SIDE * WAVELET_SIDE];
  float threshold, scale = 0;

  for (guint i = 1; i < n; i++)
    {
      mags[i - 1] = fabsf (a[i]);
      scale = MAX (scale, mags[i - 1]);
    }
  qsort (mags, n - 1, sizeof (float), cmp_float_desc);
  threshold = MAX (mags[keep - 1], scale * 1e-4f + 1e-4f);
  a[0] = a[0] / s / 255.0f * sqrtf ((float) keep);
  for (guint i = 1; i < n; i++)
    a[i] = fabsf (a[i]) >= threshold ? (a[i] > 0 ? 1.0f : -1.0f) : 0.0f;
}

static void
wavelet_block (const guint8 *image, guint side, guint channels,
               const float *luma, float *work, float *out)
{
  const guint s = WAVELET_SIDE, cs = WAVELET_CHROMA_SIDE;
  float *o = out;

  downsample (luma, side, o, s);
  haar_2d (o, s);
  haar_signature (o, s);
  o += s * s;

  if (channels == 3)
    {
      static const float iq[2][3] = { { 0.596f, -0.274f, -0.322f },
                                      { 0.211f, -0.523f, 0.312f } };
      for (guint c = 0; c < 2; c++)
        {
          for (guint i = 0; i < side * side; i++)
            work[i] = iq[c][0] * image[3 * i] + iq[c][1] * image[3 * i + 1]
                      + iq[c][2] * image[3 * i + 2];
          downsample (work, side, o, cs);
          haar_2d (o, cs);
          haar_signature (o, cs);
          o += cs * cs;
        }
    }
  l2_normalise (out, (guint) (o - out));
}

/* ---- CIE-LAB colour histogram ---- */

static float srgb_linear[256];

static gpointer
init_tables (gpointer data)
{
  for (guint i = 0; i < 256; i++)
    {
      double c = i / 255.0;
      srgb_linear[i] = (float) (c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4));
    }
  return NULL;
}

static void
ensure_tables (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, init_tables, NULL);
}

static inline float
lab_f (float t)
{
  const float d = 6.0f / 29.0f;
  return t > d * d * d ? cbrtf (t) : t / (3 * d * d) + 4.0f / 29.0f;
}

void
_lk_rgb_to_lab (guint8 r, guint8 g, guint8 b, float lab[3])
{
  float R, G, B, X, Y, Z, fx, fy, fz;

  ensure_tables ();
  R = srgb_linear[r], G = srgb_linear[g], B = srgb_linear[b];
  X = (0.4124564f * R + 0.3575761f * G + 0.1804375f * B) / 0.95047f;
  Y = 0.2126729f * R + 0.7151522f * G + 0.0721750f * B;
  Z = (0.0193339f * R + 0.1191920f * G + 0.9503041f * B) / 1.08883f;
  fx = lab_f (X), fy = lab_f (Y), fz = lab_f (Z);
  lab[0] = 116 * fy - 16;
  lab[1] = 500 * (fx - fy);
  lab[2] = 200 * (fy - fz);
}

/* Ranges cover the sRGB gamut's bulk; values beyond go to the end bins. */
static const float lab_lo[3] = { 0, -90, -110 };
static const float lab_hi[3] = { 100, 100, 100 };
static const guint lab_bins[3] = { LK_COLOR_L_BINS, LK_COLOR_A_BINS, LK_COLOR_B_BINS };

float
_lk_color_bin_centre (guint ch, guint i)
{
  float w = (lab_hi[ch] - lab_lo[ch]) / lab_bins[ch];
  return lab_lo[ch] + (i + 0.5f) * w;
}

/* Linear interpolation weights between the two nearest bin centres. */
static inline void
soft_bin (float v, float lo, float hi, guint n, guint *i0, float *f)
{
  float pos = (v - lo) / (hi - lo) * n - 0.5f;
  float fl = floorf (pos);
  if (pos <= 0)
    *i0 = 0, *f = 0;
  else if (fl >= n - 1)
    *i0 = n - 1, *f = 0;
  else
    *i0 = (guint) fl, *f = pos - fl;
}

static void
color_block (const guint8 *image, guint side, guint channels, float *out)
{
  guint n = side * side, dim = lk_feature_kind_dim (LK_FEATURE_COLOR, channels);
  memset (out, 0, dim * sizeof (float));

  if (channels == 1)
    {
      float lut[256];
      for (guint v = 0; v < 256; v++)
        {
          float lab[3];
          _lk_rgb_to_lab (v, v, v, lab);
          lut[v] = lab[0];
        }
      for (guint i = 0; i < n; i++)
        {
          guint i0;
          float f;
          soft_bin (lut[image[i]], 0, 100, LK_COLOR_GRAY_BINS, &i0, &f);
          out[i0] += 1 - f;
          if (f > 0)
            out[i0 + 1] += f;
        }
    }
  else
    for (guint i = 0; i < n; i++)
      {
        float lab[3], f[3];
        guint i0[3];
        _lk_rgb_to_lab (image[3 * i], image[3 * i + 1], image[3 * i + 2], lab);
        for (guint c = 0; c < 3; c++)
          soft_bin (lab[c], lab_lo[c], lab_hi[c], lab_bins[c], &i0[c], &f[c]);
        for (guint corner = 0; corner < 8; corner++)
          {
            guint idx[3];
            float w = 1;
            for (guint c = 0; c < 3; c++)
              {
                guint up = (corner >> c) & 1;
                w *= up ? f[c] : 1 - f[c];
                idx[c] = i0[c] + up;
              }
            if (w > 0)
              out[(idx[0] * LK_COLOR_A_BINS + idx[1]) * LK_COLOR_B_BINS + idx[2]] += w;
          }
      }
  /* Shares, square-rooted (Hellinger): the row then has unit norm. */
  for (guint k = 0; k < dim; k++)
    out[k] = sqrtf (out[k] / n);
  l2_normalise (out, dim);
}

/* ---- HOG ---- */

static void
hog_block (const float *y, guint side, float *out)
{
  float cells[HOG_CELLS][HOG_CELLS][LK_HOG_BINS];
  float *o = out;

  memset (cells, 0, sizeof cells);
  for (guint r = 0; r < side; r++)
    {
      guint ru = r > 0 ? r - 1 : r, rd = r + 1 < side ? r + 1 : r;
      guint cy = r * HOG_CELLS / side;
      for (guint c = 0; c < side; c++)
        {
          guint cl = c > 0 ? c - 1 : c, cr = c + 1 < side ? c + 1 : c;
          float gx = y[r * side + cr] - y[r * side + cl];
          float gy = y[rd * side + c] - y[ru * side + c];
          float mag = sqrtf (gx * gx + gy * gy), angle, pos, fl, f;
          guint b0;
          if (mag == 0)
            continue;
          /* Unsigned orientation in [0, 180), bin k centred on k·20°. */
          angle = atan2f (gy, gx) * (float) (180.0 / G_PI);
          if (angle < 0)
            angle += 180;
          if (angle >= 180)
            angle -= 180;
          pos = angle / (180.0f / LK_HOG_BINS);
          fl = floorf (pos);
          f = pos - fl;
          b0 = (guint) fl % LK_HOG_BINS;
          cells[cy][c * HOG_CELLS / side][b0] += mag * (1 - f);
          cells[cy][c * HOG_CELLS / side][(b0 + 1) % LK_HOG_BINS] += mag * f;
        }
    }

  for (guint by = 0; by < HOG_BLOCKS; by++)
    for (guint bx = 0; bx < HOG_BLOCKS; bx++)
      {
        float *blk = o;
        double s = 0;
        for (guint dy = 0; dy < 2; dy++)
          for (guint dx = 0; dx < 2; dx++)
            {
              memcpy (o, cells[by + dy][bx + dx], sizeof cells[0][0]);
              o += LK_HOG_BINS;
            }
        /* L2-Hys: normalise, clip at 0.2, normalise again. */
        for (guint k = 0; k < 4 * LK_HOG_BINS; k++)
          s += (double) blk[k] * blk[k];
        for (guint k = 0; k < 4 * LK_HOG_BINS; k++)
          blk[k] = MIN (0.2f, (float) (blk[k] / sqrt (s + 1e-6)));
        l2_normalise (blk, 4 * LK_HOG_BINS);
      }
  l2_normalise (out, HOG_DIM);
}

/* ---- LBP ---- */

static guint8 lbp_table[256];

static gpointer
init_lbp_table (gpointer data)
{
  guint next = 0;
  for (guint code = 0; code < 256; code++)
    {
      guint transitions = 0;
      for (guint k = 0; k < 8; k++)
        transitions += ((code >> k) & 1) != ((code >> ((k + 1) % 8)) & 1);
      lbp_table[code] = transitions <= 2 ? next++ : LBP_CODES - 1;
    }
  g_assert (next == LBP_CODES - 1);
  return NULL;
}

guint
_lk_lbp_bin (guint8 code)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, init_lbp_table, NULL);
  return lbp_table[code];
}

static void
lbp_block (const float *y, guint side, float *out)
{
  static const int dy[8] = { -1, -1, -1, 0, 1, 1, 1, 0 };
  static const int dx[8] = { -1, 0, 1, 1, 1, 0, -1, -1 };
  float counts[LBP_GRID * LBP_GRID] = { 0 };

  memset (out, 0, LBP_DIM * sizeof (float));
  _lk_lbp_bin (0);
  for (guint r = 1; r + 1 < side; r++)
    for (guint c = 1; c + 1 < side; c++)
      {
        float centre = y[r * side + c];
        guint code = 0, cell = (r * LBP_GRID / side) * LBP_GRID + c * LBP_GRID / side;
        for (guint k = 0; k < 8; k++)
          code |= (guint) (y[(r + dy[k]) * side + c + dx[k]] >= centre) << k;
        out[cell * LBP_CODES + lbp_table[code]] += 1;
        counts[cell] += 1;
      }
  for (guint cell = 0; cell < LBP_GRID * LBP_GRID; cell++)
    for (guint k = 0; k < LBP_CODES; k++)
      if (counts[cell] > 0)
        out[cell * LBP_CODES + k] = sqrtf (out[cell * LBP_CODES + k] / counts[cell]);
  l2_normalise (out, LBP_DIM);
}

/* ---- one image, many images ---- */

void
_lk_features_compute_one (const guint8 *image, guint side, guint channels,
                          float *work, float *out)
{
  float *luma = work, *scratch = work + side * side;

  ensure_tables ();
  luma_plane (image, side, channels, luma);
  wavelet_block (image, side, channels, luma, scratch, out);
  out += lk_feature_kind_dim (LK_FEATURE_WAVELET, channels);
  color_block (image, side, channels, out);
  out += lk_feature_kind_dim (LK_FEATURE_COLOR, channels);
  hog_block (luma, side, out);
  out += HOG_DIM;
  lbp_block (luma, side, out);
}

static LkFeatures *
features_alloc (guint n_images, const guint dims[LK_N_FEATURES])
{
  LkFeatures *self = g_new0 (LkFeatures, 1);
  self->ref_count = 1;
  self->n_images = n_images;
  for (guint k = 0; k < LK_N_FEATURES; k++)
    {
      self->dims[k] = dims[k];
      self->offsets[k] = self->dim;
      self->dim += dims[k];
    }
  return self;
}

static void
dims_for (guint channels, guint dims[LK_N_FEATURES])
{
  for (guint k = 0; k < LK_N_FEATURES; k++)
    dims[k] = lk_feature_kind_dim (k, channels);
}

typedef struct {
  const guint8 *pixels;
  guint n_images, side, channels, dim;
  float *out;
  gint next_chunk;            /* atomic */
  gint done;                  /* atomic */
  GMutex progress_lock;
  LkFeaturesProgress progress;
  gpointer progress_data;
  GCancellable *cancellable;
} ComputeJob;

static gpointer
compute_worker (gpointer data)
{
  ComputeJob *job = data;
  gsize image_bytes = (gsize) job->side * job->side * job->channels;
  float *work = g_new (float, 4 * (gsize) job->side * job->side);

  for (;;)
    {
      guint chunk = (guint) g_atomic_int_add (&job->next_chunk, 1);
      guint start = chunk * CHUNK_IMAGES, end;
      gint done;

      if (start >= job->n_images || g_cancellable_is_cancelled (job->cancellable))
        break;
      end = MIN (job->n_images, start + CHUNK_IMAGES);
      for (guint i = start; i < end; i++)
        _lk_features_compute_one (job->pixels + i * image_bytes, job->side, job->channels,
                                  work, job->out + (gsize) i * job->dim);
      done = g_atomic_int_add (&job->done, (gint) (end - start)) + (gint) (end - start);
      if (job->progress != NULL)
        {
          g_mutex_lock (&job->progress_lock);
          job->progress ((guint) done, job->n_images, job->progress_data);
          g_mutex_unlock (&job->progress_lock);
        }
    }
  g_free (work);
  return NULL;
}

static guint64 features_checksum (const float *data, gsize n_floats);

/* @pixel_hash: lk_pixels_hash() of @pixels, already known to the caller. */
static LkFeatures *
features_compute (const guint8 *pixels, guint n_images, guint side, guint channels,
                  guint64 pixel_hash, guint n_threads, LkFeaturesProgress progress,
                  gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr(LkFeatures) self = NULL;
  guint dims[LK_N_FEATURES];
  ComputeJob job = { 0 };
  GThread **threads;

  g_return_val_if_fail (pixels != NULL || n_images == 0, NULL);
  g_return_val_if_fail (channels == 1 || channels == 3, NULL);
  g_return_val_if_fail (side >= 4, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_tables ();
  _lk_lbp_bin (0);
  dims_for (channels, dims);
  self = features_alloc (n_images, dims);
  self->side = side;
  self->channels = channels;
  self->owned = g_new (float, (gsize) n_images * self->dim);
  self->data = self->owned;

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = MAX (1, MIN (n_threads, (n_images + CHUNK_IMAGES - 1) / CHUNK_IMAGES));
  job.pixels = pixels;
  job.n_images = n_images;
  job.side = side;
  job.channels = channels;
  job.dim = self->dim;
  job.out = self->owned;
  job.progress = progress;
  job.progress_data = progress_data;
  job.cancellable = cancellable;
  g_mutex_init (&job.progress_lock);

  threads = g_new0 (GThread *, n_threads);
  for (guint t = 1; t < n_threads; t++)
    threads[t] = g_thread_new ("lk-features", compute_worker, &job);
  compute_worker (&job);
  for (guint t = 1; t < n_threads; t++)
    g_thread_join (threads[t]);
  g_free (threads);
  g_mutex_clear (&job.progress_lock);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  self->checksum = features_checksum (self->data, (gsize) n_images * self->dim);
  self->pixel_hash = pixel_hash;
  return g_steal_pointer (&self);
}

LkFeatures *
lk_features_compute (const guint8 *pixels, guint n_images, guint side, guint channels,
                     guint n_threads, LkFeaturesProgress progress, gpointer progress_data,
                     GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (pixels != NULL || n_images == 0, NULL);
  g_return_val_if_fail (channels == 1 || channels == 3, NULL);
  g_return_val_if_fail (side >= 4, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return features_compute (pixels, n_images, side, channels,
                           lk_pixels_hash (pixels, n_images, side, channels), n_threads,
                           progress, progress_data, cancellable, error);
}

LkFeatures *
lk_features_new_from_data (guint n_images, const guint dims[LK_N_FEATURES], const float *data)
{
  LkFeatures *self;

  g_return_val_if_fail (dims != NULL, NULL);
  g_return_val_if_fail (data != NULL || n_images == 0, NULL);

  self = features_alloc (n_images, dims);
  self->owned = g_memdup2 (data, (gsize) n_images * self->dim * sizeof (float));
  self->data = self->owned;
  self->checksum = features_checksum (self->data, (gsize) n_images * self->dim);
  return self;
}

LkFeatures *
lk_features_new_take_data (guint n_images, const guint dims[LK_N_FEATURES], float *data)
{
  LkFeatures *self;

  g_return_val_if_fail (dims != NULL, NULL);
  g_return_val_if_fail (data != NULL || n_images == 0, NULL);

  self = features_alloc (n_images, dims);
  self->owned = data;
  self->data = self->owned;
  self->checksum = features_checksum (self->data, (gsize) n_images * self->dim);
  return self;
}

LkFeatures *
lk_features_ref (LkFeatures *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_features_unref (LkFeatures *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->owned);
  if (self->mapped != NULL)
    lk_mapped_free (self->mapped);
  g_free (self);
}

guint
lk_features_get_n_images (LkFeatures *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_images;
}

guint
lk_features_get_dim (LkFeatures *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->dim;
}

guint
lk_features_get_block (LkFeatures *self, LkFeatureKind kind, guint *offset_out)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (kind < LK_N_FEATURES, 0);
  if (offset_out != NULL)
    *offset_out = self->offsets[kind];
  return self->dims[kind];
}

const float *
lk_features_get_data (LkFeatures *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

const float *
lk_features_get_row (LkFeatures *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_images, NULL);
  return self->data + (gsize) index * self->dim;
}

float *
lk_features_dup_block (LkFeatures *self, LkFeatureKind kind)
{
  float *out;
  guint d;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (kind < LK_N_FEATURES, NULL);
  d = self->dims[kind];
  out = g_new (float, (gsize) self->n_images * d + 1);
  for (guint i = 0; i < self->n_images; i++)
    memcpy (out + (gsize) i * d, self->data + (gsize) i * self->dim + self->offsets[kind],
            d * sizeof (float));
  return out;
}

guint64
lk_features_get_checksum (LkFeatures *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->checksum;
}

void
lk_features_block_distances (LkFeatures *self, guint i, guint j, float d_out[LK_N_FEATURES])
{
  const float *a, *b;

  g_return_if_fail (self != NULL);
  g_return_if_fail (i < self->n_images && j < self->n_images);
  a = self->data + (gsize) i * self->dim;
  b = self->data + (gsize) j * self->dim;
  for (guint k = 0; k < LK_N_FEATURES; k++)
    {
      float s = 0;
      for (guint c = self->offsets[k]; c < self->offsets[k] + self->dims[k]; c++)
        {
          float t = a[c] - b[c];
          s += t * t;
        }
      d_out[k] = s;
    }
}

/* ---- cache file ---- */

#define FEATURES_MAGIC "LKFEATS"
#define FEATURES_VERSION 1
#define BYTE_ORDER_MARK 0x01020304u

typedef struct {
  char magic[8];
  guint32 version;
  guint32 byte_order;
  guint32 n_images;
  guint32 side;
  guint32 channels;
  guint32 dims[LK_N_FEATURES];
  guint32 reserved;
  guint64 pixel_hash;
  guint64 data_checksum;
  guint64 header_checksum;    /* of every byte before it */
} FeaturesHeader;

G_STATIC_ASSERT (sizeof (FeaturesHeader) == 72);

static guint64
features_checksum (const float *data, gsize n_floats)
{
  return lk_hash64 (data, n_floats * sizeof (float), 0x46454154);
}

guint64
lk_pixels_hash (const guint8 *pixels, guint n_images, guint side, guint channels)
{
  guint32 shape[3] = { n_images, side, channels };
  guint64 h = lk_hash64 (shape, sizeof shape, 0x504958);
  g_return_val_if_fail (pixels != NULL || n_images == 0, 0);
  return lk_hash64 (pixels, (gsize) n_images * side * side * channels, h);
}

gboolean
lk_features_save (LkFeatures *self, const char *path, GError **error)
{
  FeaturesHeader h = { FEATURES_MAGIC, FEATURES_VERSION, BYTE_ORDER_MARK };
  LkAtomicFile *file;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  h.n_images = self->n_images;
  h.side = self->side;
  h.channels = self->channels;
  for (guint k = 0; k < LK_N_FEATURES; k++)
    h.dims[k] = self->dims[k];
  h.pixel_hash = self->pixel_hash;
  h.data_checksum = self->checksum;
  h.header_checksum = lk_hash64 (&h, G_STRUCT_OFFSET (FeaturesHeader, header_checksum), 0);

  file = lk_atomic_file_open (path, error);
  if (file == NULL)
    return FALSE;
  if (!lk_atomic_file_write (file, &h, sizeof h, error)
      || !lk_atomic_file_write (file, self->data,
                                (gsize) self->n_images * self->dim * sizeof (float), error))
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
  return lk_atomic_file_commit (file, error);
}


LkFeatures *
lk_features_load (const char *path, guint n_images, guint side, guint channels,
                  guint64 pixel_hash, GError **error)
{
  g_autoptr(LkMapped) mapped = NULL;
  g_autoptr(GError) local = NULL;
  FeaturesHeader h;
  guint dims[LK_N_FEATURES];
  guint64 dim = 0, expected;
  LkFeatures *self;
  const guint8 *bytes;
  gsize size;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mapped = lk_mapped_open (path, &local);
  if (mapped == NULL)
    {
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND,
                     _("Features cache %s does not exist"), path);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  bytes = lk_mapped_data (mapped);
  size = lk_mapped_size (mapped);
  if (size < sizeof h)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Features cache %s is truncated"), path);
      return NULL;
    }
  memcpy (&h, bytes, sizeof h);
  if (memcmp (h.magic, FEATURES_MAGIC, sizeof h.magic) != 0
      || h.header_checksum != lk_hash64 (&h, G_STRUCT_OFFSET (FeaturesHeader, header_checksum), 0))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Features cache %s is not a features file or is damaged"), path);
      return NULL;
    }
  if (h.version != FEATURES_VERSION || h.byte_order != BYTE_ORDER_MARK)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION,
                   _("Features cache %s has format version %u, expected %u"),
                   path, h.version, FEATURES_VERSION);
      return NULL;
    }
  dims_for (channels == 1 ? 1 : 3, dims);
  for (guint k = 0; k < LK_N_FEATURES; k++)
    dim += h.dims[k];
  if (h.n_images != n_images || h.side != side || h.channels != channels
      || h.pixel_hash != pixel_hash || memcmp (h.dims, dims, sizeof dims) != 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Features cache %s was computed from other images"), path);
      return NULL;
    }
  expected = sizeof h + (guint64) h.n_images * dim * sizeof (float);
  if (size != expected)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Features cache %s has %zu bytes, expected %" PRIu64),
                   path, size, expected);
      return NULL;
    }
  if (features_checksum ((const float *) (bytes + sizeof h), (gsize) h.n_images * dim)
      != h.data_checksum)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Features cache %s is damaged (checksum mismatch)"), path);
      return NULL;
    }

  self = features_alloc (n_images, dims);
  self->side = side;
  self->channels = channels;
  self->data = (const float *) (bytes + sizeof h);
  self->checksum = h.data_checksum;
  self->pixel_hash = h.pixel_hash;
  self->mapped = g_steal_pointer (&mapped);
  return self;
}

LkFeatures *
lk_features_load_or_compute (const char *path, const guint8 *pixels, guint n_images,
                             guint side, guint channels, guint n_threads,
                             LkFeaturesProgress progress, gpointer progress_data,
                             GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) local = NULL;
  LkFeatures *self;
  guint64 hash;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  hash = lk_pixels_hash (pixels, n_images, side, channels);
  self = lk_features_load (path, n_images, side, channels, hash, &local);
  if (self != NULL)
    return self;
  if (!g_error_matches (local, LK_ERROR, LK_ERROR_NOT_FOUND))
    g_info ("Recomputing features: %s", local->message);
  g_clear_error (&local);

  self = features_compute (pixels, n_images, side, channels, hash, n_threads,
                           progress, progress_data, cancellable, error);
  if (self != NULL && !lk_features_save (self, path, &local))
    g_warning ("Could not write the features cache: %s", local->message);
  return self;
}

LkFeatures *
lk_features_load_or_compute_for_collection (LkCollection *collection, guint n_threads,
                                            LkFeaturesProgress progress, gpointer progress_data,
                                            GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = NULL, *name = NULL, *path = NULL;
  guint side;

  g_return_val_if_fail (collection != NULL, NULL);
  side = lk_collection_get_side (collection);
  dir = lk_cache_dir_for (lk_collection_get_id (collection));
  name = g_strdup_printf ("features-%u.bin", side);
  path = g_build_filename (dir, name, NULL);
  return lk_features_load_or_compute (path, lk_collection_get_pixels (collection),
                                      lk_collection_get_n_images (collection), side,
                                      lk_collection_get_channels (collection), n_threads,
                                      progress, progress_data, cancellable, error);
}
