/* augment.c — uint8 HWC tensors to normalised float NCHW network input,
 * with resampling, channel conversion and random pixel shifts. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "augment.h"

/* Input sides above this are not a preset of ours; the tables live on the
 * stack so a batch allocates nothing. */
#define MAX_SIDE 1024

guint64
lk_augment_mix (guint64 x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void
lk_augment_draw (guint64 seed, guint64 step, guint slot, guint max_shift, gboolean allow_flip,
                 int *dx, int *dy, gboolean *flip)
{
  guint64 h = lk_augment_mix (lk_augment_mix (lk_augment_mix (seed) ^ step) ^ slot);
  guint span = 2 * max_shift + 1;

  /* Three independent fields of one 64-bit draw; the modulo bias of a
   * 21-bit field over a span of a few pixels is below 1e-5. */
  *dx = (int) ((h & 0x1fffff) % span) - (int) max_shift;
  *dy = (int) (((h >> 21) & 0x1fffff) % span) - (int) max_shift;
  *flip = allow_flip && ((h >> 63) & 1);
}

/* Value of input channel @c at source pixel @p (HWC), in 0–255. */
static inline float
src_value (const guint8 *p, guint src_channels, guint dst_channels, guint c)
{
  if (src_channels == dst_channels)
    return p[c];
  if (src_channels == 1)
    return p[0];
  return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
}

void
lk_input_format_measure (LkInputFormat *format, const guint8 *pixels, guint src_side,
                         guint src_channels, const guint32 *indices, guint n_indices,
                         guint max_images)
{
  double sum[LK_AUGMENT_MAX_CHANNELS] = { 0 }, sq[LK_AUGMENT_MAX_CHANNELS] = { 0 };
  gsize plane = (gsize) src_side * src_side, count = 0;
  guint every;

  g_return_if_fail (format != NULL && pixels != NULL);
  g_return_if_fail (format->channels >= 1 && format->channels <= LK_AUGMENT_MAX_CHANNELS);
  every = max_images > 0 && n_indices > max_images ? n_indices / max_images : 1;
  for (guint k = 0; k < n_indices; k += every)
    {
      const guint8 *img = pixels + (gsize) indices[k] * plane * src_channels;
      for (gsize i = 0; i < plane; i++)
        for (guint c = 0; c < format->channels; c++)
          {
            double v = src_value (img + i * src_channels, src_channels, format->channels, c)
                       / 255.0;
            sum[c] += v;
            sq[c] += v * v;
          }
      count += plane;
    }
  for (guint c = 0; c < format->channels; c++)
    {
      double m = count > 0 ? sum[c] / count : 0.5;
      double var = count > 0 ? sq[c] / count - m * m : 0.0625;
      format->mean[c] = (float) m;
      format->std[c] = (float) MAX (1e-3, sqrt (MAX (0.0, var)));
    }
}

typedef struct {
  guint i0, i1;
  float w1;     /* weight of i1; i0 gets 1 − w1 */
} Tap;

/* Destination column/row @x (after shift and flip) to its source taps.
 * Shifted-out positions clamp to the edge of the destination frame
 * first, so the border repeats the image's edge whatever the scale. */
static void
make_taps (Tap *taps, guint dst, guint src, int shift, gboolean flip)
{
  double scale = (double) src / dst;

  for (guint x = 0; x < dst; x++)
    {
      int u = (int) x - shift;
      double s;
      u = CLAMP (u, 0, (int) dst - 1);
      if (flip)
        u = (int) dst - 1 - u;
      s = (u + 0.5) * scale - 0.5;
      if (s <= 0)
        taps[x] = (Tap) { 0, 0, 0.0f };
      else if (s >= src - 1)
        taps[x] = (Tap) { src - 1, src - 1, 0.0f };
      else
        {
          guint i = (guint) s;
          taps[x] = (Tap) { i, i + 1, (float) (s - i) };
        }
    }
}

void
lk_augment_image (const guint8 *src, guint src_side, guint src_channels,
                  const LkInputFormat *format, int dx, int dy, gboolean flip, float *dst)
{
  guint P, C;
  Tap tx[MAX_SIDE], ty[MAX_SIDE];
  float scale[LK_AUGMENT_MAX_CHANNELS], bias[LK_AUGMENT_MAX_CHANNELS];
  gsize plane;

  g_return_if_fail (src != NULL && format != NULL && dst != NULL);
  g_return_if_fail (format->side > 0 && format->side <= MAX_SIDE && src_side > 0);
  g_return_if_fail (src_channels == 1 || src_channels == 3);
  g_return_if_fail (format->channels == 1 || format->channels == 3);
  P = format->side;
  C = format->channels;
  plane = (gsize) P * P;
  for (guint c = 0; c < C; c++)
    {
      /* (v/255 − mean)/std as one multiply-add. */
      scale[c] = 1.0f / (255.0f * format->std[c]);
      bias[c] = -format->mean[c] / format->std[c];
    }
  make_taps (tx, P, src_side, dx, flip);
  make_taps (ty, P, src_side, dy, FALSE);

  for (guint y = 0; y < P; y++)
    {
      const guint8 *r0 = src + (gsize) ty[y].i0 * src_side * src_channels;
      const guint8 *r1 = src + (gsize) ty[y].i1 * src_side * src_channels;
      float wy = ty[y].w1;
      for (guint x = 0; x < P; x++)
        {
          const Tap *t = &tx[x];
          gsize o0 = (gsize) t->i0 * src_channels, o1 = (gsize) t->i1 * src_channels;
          for (guint c = 0; c < C; c++)
            {
              float a = src_value (r0 + o0, src_channels, C, c);
              float b = src_value (r0 + o1, src_channels, C, c);
              float d = src_value (r1 + o0, src_channels, C, c);
              float e = src_value (r1 + o1, src_channels, C, c);
              float top = a + t->w1 * (b - a), bottom = d + t->w1 * (e - d);
              dst[c * plane + (gsize) y * P + x] = (top + wy * (bottom - top)) * scale[c] + bias[c];
            }
        }
    }
}

void
lk_augment_batch (const guint8 *pixels, guint src_side, guint src_channels,
                  const guint32 *images, guint n, const LkInputFormat *format, guint64 seed,
                  guint64 step, guint max_shift, gboolean allow_flip, float *dst)
{
  gsize src_size = (gsize) src_side * src_side * src_channels;
  gsize dst_size = (gsize) format->side * format->side * format->channels;

  for (guint i = 0; i < n; i++)
    {
      int dx = 0, dy = 0;
      gboolean flip = FALSE;
      if (max_shift > 0 || allow_flip)
        lk_augment_draw (seed, step, i, max_shift, allow_flip, &dx, &dy, &flip);
      lk_augment_image (pixels + images[i] * src_size, src_side, src_channels, format, dx, dy,
                        flip, dst + i * dst_size);
    }
}
