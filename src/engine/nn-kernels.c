/* nn-kernels.c — float32 layer kernels over the engine's layouts. See
 * nn-kernels.h. Plain C the compiler vectorises; the heavy lifting is in
 * cblas_sgemm, called by nn-net.c. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn-kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86_SIMD 1
#endif

/* ---- run-time SIMD dispatch ----
 * The hot elementwise passes have AVX2 versions, picked when the CPU has
 * AVX2 (checked once); LIKENESS_NN_SIMD=0 or lk_nn_kernels_set_simd()
 * forces the portable C, which the tests run too. */

/* Both read by every network thread, so atomic: the level is found by
 * whichever thread gets there first (several may, with the same answer),
 * and a test may switch the override while another network runs. */
static gint simd_override = -1;

void
lk_nn_kernels_set_simd (gboolean enabled)
{
  g_atomic_int_set (&simd_override, enabled ? -1 : 0);
}

gboolean
lk_nn_kernels_get_simd (void)
{
  return g_atomic_int_get (&simd_override) != 0 &&
#ifdef HAVE_X86_SIMD
         __builtin_cpu_supports ("avx2") && g_strcmp0 (g_getenv ("LIKENESS_NN_SIMD"), "0") != 0;
#else
         FALSE;
#endif
}

static inline int
simd_level (void)
{
  static gint level = -1;
  gint l;

  if (g_atomic_int_get (&simd_override) == 0)
    return 0;
  l = g_atomic_int_get (&level);
  if (G_UNLIKELY (l < 0))
    {
      l = lk_nn_kernels_get_simd () ? 1 : 0;
      g_atomic_int_set (&level, l);
    }
  return l;
}

#ifdef HAVE_X86_SIMD
__attribute__ ((target ("avx2"))) static void
bias_act_avx2 (float *y, guint rows, guint cols, gsize ld, const float *bias, gboolean relu)
{
  const __m256 zero = _mm256_setzero_ps ();
  for (guint r = 0; r < rows; r++)
    {
      float *row = y + r * ld, b = bias[r];
      __m256 vb = _mm256_set1_ps (b);
      guint c = 0;
      if (relu)
        {
          for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps (row + c, _mm256_max_ps (_mm256_add_ps (_mm256_loadu_ps (row + c), vb), zero));
          for (; c < cols; c++)
            {
              float v = row[c] + b;
              row[c] = v > 0 ? v : 0.0f;
            }
        }
      else
        {
          for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps (row + c, _mm256_add_ps (_mm256_loadu_ps (row + c), vb));
          for (; c < cols; c++)
            row[c] += b;
        }
    }
}

/* Even and odd elements of 16 consecutive floats, in order. */
__attribute__ ((target ("avx2"))) static inline void
deinterleave (const float *p, __m256 *even, __m256 *odd)
{
  __m256 lo = _mm256_loadu_ps (p), hi = _mm256_loadu_ps (p + 8);
  __m256 e = _mm256_shuffle_ps (lo, hi, _MM_SHUFFLE (2, 0, 2, 0));
  __m256 o = _mm256_shuffle_ps (lo, hi, _MM_SHUFFLE (3, 1, 3, 1));
  /* Lanes hold (lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6): swap the middle pairs. */
  *even = _mm256_castpd_ps (_mm256_permute4x64_pd (_mm256_castps_pd (e), _MM_SHUFFLE (3, 1, 2, 0)));
  *odd = _mm256_castpd_ps (_mm256_permute4x64_pd (_mm256_castps_pd (o), _MM_SHUFFLE (3, 1, 2, 0)));
}

/* 2×2 stride-2 max-pool with window offsets, as the C version below. */
__attribute__ ((target ("avx2"))) static void
max_pool2_avx2 (const float *x, guint planes, guint H, guint W, guint OH, guint OW, float *y,
                guint8 *arg)
{
  const __m256i one = _mm256_set1_epi32 (1), two = _mm256_set1_epi32 (2);

  for (guint p = 0; p < planes; p++)
    for (guint oh = 0; oh < OH; oh++)
      {
        const float *r0 = x + ((gsize) p * H + 2 * oh) * W, *r1 = r0 + W;
        float *yo = y + ((gsize) p * OH + oh) * OW;
        guint8 *ao = arg + ((gsize) p * OH + oh) * OW;
        guint ow = 0;
        for (; ow + 8 <= OW; ow += 8)
          {
            __m256 a, b, c, d, top, bottom;
            deinterleave (r0 + 2 * ow, &a, &b);
            deinterleave (r1 + 2 * ow, &c, &d);
            __m256 gt = _mm256_cmp_ps (b, a, _CMP_GT_OQ), gb = _mm256_cmp_ps (d, c, _CMP_GT_OQ), gf;
            __m256i k;
            __m128i k16;
            top = _mm256_blendv_ps (a, b, gt);
            bottom = _mm256_blendv_ps (c, d, gb);
            gf = _mm256_cmp_ps (bottom, top, _CMP_GT_OQ);
            _mm256_storeu_ps (yo + ow, _mm256_blendv_ps (top, bottom, gf));
            /* Offsets 0/1 (top row) or 2/3, as bytes. */
            k = _mm256_blendv_epi8 (_mm256_and_si256 (_mm256_castps_si256 (gt), one),
                                    _mm256_add_epi32 (two, _mm256_and_si256 (_mm256_castps_si256 (gb), one)),
                                    _mm256_castps_si256 (gf));
            k16 = _mm_packs_epi32 (_mm256_castsi256_si128 (k), _mm256_extracti128_si256 (k, 1));
            _mm_storel_epi64 ((__m128i *) (ao + ow), _mm_packus_epi16 (k16, k16));
          }
        for (; ow < OW; ow++)
          {
            float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
            float top = b > a ? b : a, bottom = d > c ? d : c;
            guint8 kt = b > a ? 1 : 0, kb = d > c ? 3 : 2;
            yo[ow] = bottom > top ? bottom : top;
            ao[ow] = bottom > top ? kb : kt;
          }
      }
}
/* The backward of the above into an *unzeroed* dx: 2×2 windows tile the
   plane, so every element is written: dy at the window's maximum when the
   pooled value is positive, 0 elsewhere. Rows and columns past 2·OH, 2·OW
   are zeroed. */
__attribute__ ((target ("avx2"))) static void
max_pool2_backward_avx2 (const float *dy, const float *y, const guint8 *arg, guint planes, guint H,
                         guint W, guint OH, guint OW, float *dx)
{
  const __m256 zero = _mm256_setzero_ps ();
  const __m256i k1 = _mm256_set1_epi32 (1), k2 = _mm256_set1_epi32 (2), k3 = _mm256_set1_epi32 (3);

  for (guint p = 0; p < planes; p++)
    {
      float *dxp = dx + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        {
          const float *dyo = dy + ((gsize) p * OH + oh) * OW, *yo = y + ((gsize) p * OH + oh) * OW;
          const guint8 *ao = arg + ((gsize) p * OH + oh) * OW;
          float *r0 = dxp + (gsize) 2 * oh * W, *r1 = r0 + W;
          guint ow = 0;
          for (; ow + 8 <= OW; ow += 8)
            {
              __m256 g = _mm256_and_ps (_mm256_loadu_ps (dyo + ow),
                                        _mm256_cmp_ps (_mm256_loadu_ps (yo + ow), zero, _CMP_GT_OQ));
              __m256i k = _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (ao + ow)));
              __m256 a = _mm256_andnot_ps (_mm256_castsi256_ps (_mm256_cmpgt_epi32 (k, _mm256_setzero_si256 ())), g);
              __m256 b = _mm256_and_ps (_mm256_castsi256_ps (_mm256_cmpeq_epi32 (k, k1)), g);
              __m256 c = _mm256_and_ps (_mm256_castsi256_ps (_mm256_cmpeq_epi32 (k, k2)), g);
              __m256 d = _mm256_and_ps (_mm256_castsi256_ps (_mm256_cmpeq_epi32 (k, k3)), g);
              /* Interleave (a0 b0 a1 b1 …) back into the rows. */
              __m256 lo = _mm256_unpacklo_ps (a, b), hi = _mm256_unpackhi_ps (a, b);
              _mm256_storeu_ps (r0 + 2 * ow, _mm256_permute2f128_ps (lo, hi, 0x20));
              _mm256_storeu_ps (r0 + 2 * ow + 8, _mm256_permute2f128_ps (lo, hi, 0x31));
              lo = _mm256_unpacklo_ps (c, d), hi = _mm256_unpackhi_ps (c, d);
              _mm256_storeu_ps (r1 + 2 * ow, _mm256_permute2f128_ps (lo, hi, 0x20));
              _mm256_storeu_ps (r1 + 2 * ow + 8, _mm256_permute2f128_ps (lo, hi, 0x31));
            }
          for (; ow < OW; ow++)
            {
              float g = yo[ow] > 0 ? dyo[ow] : 0.0f;
              guint k = ao[ow];
              r0[2 * ow] = k == 0 ? g : 0.0f;
              r0[2 * ow + 1] = k == 1 ? g : 0.0f;
              r1[2 * ow] = k == 2 ? g : 0.0f;
              r1[2 * ow + 1] = k == 3 ? g : 0.0f;
            }
          for (guint w = 2 * OW; w < W; w++)
            r0[w] = r1[w] = 0;
        }
      if (2 * OH < H)
        memset (dxp + (gsize) 2 * OH * W, 0, (gsize) (H - 2 * OH) * W * sizeof *dxp);
    }
}
__attribute__ ((target ("avx2"))) static void
add_floats_avx2 (float *dst, const float *src, gsize n)
{
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (dst + i, _mm256_add_ps (_mm256_loadu_ps (dst + i), _mm256_loadu_ps (src + i)));
  for (; i < n; i++)
    dst[i] += src[i];
}
#else
static void
add_floats_avx2 (float *dst, const float *src, gsize n)
{
  g_assert_not_reached ();
}

static void
max_pool2_backward_avx2 (const float *dy, const float *y, const guint8 *arg, guint planes, guint H,
                         guint W, guint OH, guint OW, float *dx)
{
  g_assert_not_reached ();
}

static void
bias_act_avx2 (float *y, guint rows, guint cols, gsize ld, const float *bias, gboolean relu)
{
  g_assert_not_reached ();
}

static void
max_pool2_avx2 (const float *x, guint planes, guint H, guint W, guint OH, guint OW, float *y,
                guint8 *arg)
{
  g_assert_not_reached ();
}
#endif

/* One output row of a patch row: out[ow] = in[ow·s − p + k] or 0. */
static inline void
patch_row (const float *in, guint W, guint OW, guint s, int off, float *out)
{
  if (s == 1)
    {
      /* Valid ow: 0 ≤ ow + off < W. */
      int lo = MAX (0, -off), hi = MIN ((int) OW, (int) W - off);
      if (hi <= lo)
        {
          memset (out, 0, OW * sizeof *out);
          return;
        }
      if (lo > 0)
        memset (out, 0, (gsize) lo * sizeof *out);
      memcpy (out + lo, in + lo + off, (gsize) (hi - lo) * sizeof *out);
      if (hi < (int) OW)
        memset (out + hi, 0, (gsize) (OW - hi) * sizeof *out);
      return;
    }
  for (guint ow = 0; ow < OW; ow++)
    {
      int iw = (int) (ow * s) + off;
      out[ow] = (iw >= 0 && iw < (int) W) ? in[iw] : 0.0f;
    }
}

static inline void
patch_row_add (const float *dout, guint W, guint OW, guint s, int off, float *din)
{
  for (guint ow = 0; ow < OW; ow++)
    {
      int iw = (int) (ow * s) + off;
      if (iw >= 0 && iw < (int) W)
        din[iw] += dout[ow];
    }
}

/* out (H×W) ← in shifted by (dr, dc), zeros where that leaves the
 * plane: the patch row of a stride-1 "same" convolution, as one block copy
 * (rows wrap into each other, and the wrapped columns are zeroed after)
 * instead of one copy per row. */
static void
shifted_plane (const float *in, guint H, guint W, int dr, int dc, float *out)
{
  int r0 = MAX (0, -dr), r1 = MIN ((int) H, (int) H - dr);
  gsize a, len;

  if (r1 <= r0 || abs (dc) >= (int) W)
    {
      memset (out, 0, (gsize) H * W * sizeof *out);
      return;
    }
  if (r0 > 0)
    memset (out, 0, (gsize) r0 * W * sizeof *out);
  if (r1 < (int) H)
    memset (out + (gsize) r1 * W, 0, (gsize) (H - r1) * W * sizeof *out);
  /* Output rows [r0, r1) read input rows [r0 + dr, r1 + dr). */
  a = (gsize) r0 * W;
  len = (gsize) (r1 - r0) * W;
  if (dc >= 0)
    {
      memcpy (out + a, in + a + (gssize) dr * W + dc, (len - dc) * sizeof *out);
      for (int r = r0; r < r1; r++)
        for (int c = (int) W - dc; c < (int) W; c++)
          out[(gsize) r * W + c] = 0;
    }
  else
    {
      memcpy (out + a - dc, in + a + (gssize) dr * W, (len + dc) * sizeof *out);
      for (int r = r0; r < r1; r++)
        for (int c = 0; c < -dc; c++)
          out[(gsize) r * W + c] = 0;
    }
}

void
lk_nn_im2col (const float *x, guint C, guint n, guint H, guint W, guint i0, guint g,
              const LkNnWindow *win, guint OH, guint OW, float *col)
{
  gsize HW = (gsize) H * W, OHW = (gsize) OH * OW, cols = g * OHW;

  if (win->sh == 1 && win->sw == 1 && OH == H && OW == W)
    {
      for (guint c = 0; c < C; c++)
        for (guint ki = 0; ki < win->kh; ki++)
          for (guint kj = 0; kj < win->kw; kj++)
            {
              float *row = col + ((gsize) (c * win->kh + ki) * win->kw + kj) * cols;
              for (guint i = 0; i < g; i++)
                shifted_plane (x + ((gsize) c * n + i0 + i) * HW, H, W, (int) ki - (int) win->ph,
                               (int) kj - (int) win->pw, row + i * OHW);
            }
      return;
    }

  for (guint c = 0; c < C; c++)
    for (guint ki = 0; ki < win->kh; ki++)
      for (guint kj = 0; kj < win->kw; kj++)
        {
          float *row = col + ((gsize) (c * win->kh + ki) * win->kw + kj) * cols;
          for (guint i = 0; i < g; i++)
            {
              const float *plane = x + ((gsize) c * n + i0 + i) * HW;
              for (guint oh = 0; oh < OH; oh++)
                {
                  int ih = (int) (oh * win->sh + ki) - (int) win->ph;
                  float *out = row + i * OHW + (gsize) oh * OW;
                  if (ih < 0 || ih >= (int) H)
                    memset (out, 0, OW * sizeof *out);
                  else
                    patch_row (plane + (gsize) ih * W, W, OW, win->sw, (int) kj - (int) win->pw,
                               out);
                }
            }
        }
}

static inline void
add_floats (float *dst, const float *src, gsize n)
{
  if (simd_level () >= 1)
    add_floats_avx2 (dst, src, n);
  else
    for (gsize i = 0; i < n; i++)
      dst[i] += src[i];
}

void
lk_nn_col2im (const float *dcol, guint C, guint n, guint H, guint W, guint i0, guint g,
              const LkNnWindow *win, guint OH, guint OW, float *dx)
{
  gsize HW = (gsize) H * W, OHW = (gsize) OH * OW, cols = g * OHW;

  if (win->sh == 1 && win->sw == 1 && OH == H && OW == W)
    {
      /* The adjoint of shifted_plane(): row by row over the columns that
         stay inside the plane. */
      for (guint c = 0; c < C; c++)
        for (guint ki = 0; ki < win->kh; ki++)
          for (guint kj = 0; kj < win->kw; kj++)
            {
              const float *row = dcol + ((gsize) (c * win->kh + ki) * win->kw + kj) * cols;
              int dr = (int) ki - (int) win->ph, dc = (int) kj - (int) win->pw;
              int r0 = MAX (0, -dr), r1 = MIN ((int) H, (int) H - dr);
              int c0 = MAX (0, -dc), c1 = MIN ((int) W, (int) W - dc);
              if (c1 <= c0)
                continue;
              for (guint i = 0; i < g; i++)
                {
                  float *plane = dx + ((gsize) c * n + i0 + i) * HW;
                  const float *src = row + i * OHW;
                  for (int r = r0; r < r1; r++)
                    add_floats (plane + (gsize) (r + dr) * W + c0 + dc, src + (gsize) r * W + c0,
                                (gsize) (c1 - c0));
                }
            }
      return;
    }

  for (guint c = 0; c < C; c++)
    for (guint ki = 0; ki < win->kh; ki++)
      for (guint kj = 0; kj < win->kw; kj++)
        {
          const float *row = dcol + ((gsize) (c * win->kh + ki) * win->kw + kj) * cols;
          for (guint i = 0; i < g; i++)
            {
              float *plane = dx + ((gsize) c * n + i0 + i) * HW;
              for (guint oh = 0; oh < OH; oh++)
                {
                  int ih = (int) (oh * win->sh + ki) - (int) win->ph;
                  if (ih >= 0 && ih < (int) H)
                    patch_row_add (row + i * OHW + (gsize) oh * OW, W, OW, win->sw,
                                   (int) kj - (int) win->pw, plane + (gsize) ih * W);
                }
            }
        }
}

static void
bias_act_c (float *y, guint rows, guint cols, gsize ld, const float *bias, gboolean relu)
{
  for (guint r = 0; r < rows; r++)
    {
      float *row = y + r * ld, b = bias[r];
      /* Not fmaxf: its NaN rule keeps the compiler from vectorising. */
      if (relu)
        for (guint c = 0; c < cols; c++)
          {
            float v = row[c] + b;
            row[c] = v > 0 ? v : 0.0f;
          }
      else
        for (guint c = 0; c < cols; c++)
          row[c] += b;
    }
}

void
lk_nn_bias_act (float *y, guint rows, guint cols, gsize ld, const float *bias, gboolean relu)
{
  if (simd_level () >= 1)
    bias_act_avx2 (y, rows, cols, ld, bias, relu);
  else
    bias_act_c (y, rows, cols, ld, bias, relu);
}

void
lk_nn_bias_grad (const float *dy, guint rows, guint cols, gsize ld, float *dbias)
{
  for (guint r = 0; r < rows; r++)
    {
      const float *row = dy + r * ld;
      float s = 0;
      for (guint c = 0; c < cols; c++)
        s += row[c];
      dbias[r] += s;
    }
}

void
lk_nn_relu_forward (const float *x, gsize n, float *y)
{
  for (gsize i = 0; i < n; i++)
    y[i] = x[i] > 0 ? x[i] : 0.0f;
}

void
lk_nn_relu_backward (const float *y, const float *dy, gsize n, float *dx, gboolean accumulate)
{
  if (accumulate)
    for (gsize i = 0; i < n; i++)
      dx[i] += y[i] > 0 ? dy[i] : 0.0f;
  else
    for (gsize i = 0; i < n; i++)
      dx[i] = y[i] > 0 ? dy[i] : 0.0f;
}

/* The rows (or columns) of the input a window covers, clipped. */
static inline void
window_range (guint o, guint s, guint p, guint k, guint in, guint *lo, guint *hi)
{
  int a = (int) (o * s) - (int) p, b = a + (int) k;
  *lo = (guint) MAX (a, 0);
  *hi = (guint) MIN (b, (int) in);
}

/* The common 2×2 stride-2 unpadded case, which every pool of the
 * reference net is, without the general loop's bookkeeping. */
static void
max_pool_2x2 (const float *x, guint planes, guint H, guint W, guint OH, guint OW, float *y,
              guint32 *arg)
{
  for (guint p = 0; p < planes; p++)
    {
      const float *xp = x + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        {
          const float *r0 = xp + (gsize) 2 * oh * W, *r1 = r0 + W;
          float *yo = y + ((gsize) p * OH + oh) * OW;
          guint32 *ao = arg + ((gsize) p * OH + oh) * OW;
          for (guint ow = 0; ow < OW; ow++)
            {
              guint32 i = 2 * oh * W + 2 * ow;
              float m = r0[2 * ow];
              guint32 a = i;
              if (r0[2 * ow + 1] > m)
                m = r0[2 * ow + 1], a = i + 1;
              if (r1[2 * ow] > m)
                m = r1[2 * ow], a = i + W;
              if (r1[2 * ow + 1] > m)
                m = r1[2 * ow + 1], a = i + W + 1;
              yo[ow] = m;
              ao[ow] = a;
            }
        }
    }
}

void
lk_nn_max_pool_forward (const float *x, guint planes, guint H, guint W, const LkNnWindow *win,
                        guint OH, guint OW, float *y, guint32 *arg)
{
  if (win->kh == 2 && win->kw == 2 && win->sh == 2 && win->sw == 2 && win->ph == 0 &&
      win->pw == 0 && 2 * OH <= H && 2 * OW <= W)
    {
      max_pool_2x2 (x, planes, H, W, OH, OW, y, arg);
      return;
    }
  for (guint p = 0; p < planes; p++)
    {
      const float *xp = x + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        {
          guint h0, h1;
          window_range (oh, win->sh, win->ph, win->kh, H, &h0, &h1);
          for (guint ow = 0; ow < OW; ow++)
            {
              guint w0, w1;
              float m = -INFINITY;
              guint32 a;
              window_range (ow, win->sw, win->pw, win->kw, W, &w0, &w1);
              a = h0 * W + w0;
              for (guint ih = h0; ih < h1; ih++)
                for (guint iw = w0; iw < w1; iw++)
                  if (xp[ih * W + iw] > m)
                    m = xp[ih * W + iw], a = ih * W + iw;
              y[((gsize) p * OH + oh) * OW + ow] = m;
              arg[((gsize) p * OH + oh) * OW + ow] = a;
            }
        }
    }
}

void
lk_nn_max_pool_backward (const float *dy, const guint32 *arg, guint planes, guint HW, guint OHW,
                         float *dx, gboolean accumulate)
{
  if (!accumulate)
    memset (dx, 0, (gsize) planes * HW * sizeof *dx);
  for (guint p = 0; p < planes; p++)
    {
      float *dxp = dx + (gsize) p * HW;
      const float *dyp = dy + (gsize) p * OHW;
      const guint32 *ap = arg + (gsize) p * OHW;
      for (guint o = 0; o < OHW; o++)
        dxp[ap[o]] += dyp[o];
    }
}

void
lk_nn_max_pool8_forward (const float *x, guint planes, guint H, guint W, const LkNnWindow *win,
                         guint OH, guint OW, float *y, guint8 *arg)
{
  if (win->kh == 2 && win->kw == 2 && win->sh == 2 && win->sw == 2 && win->ph == 0 &&
      win->pw == 0 && 2 * OH <= H && 2 * OW <= W)
    {
      if (simd_level () >= 1)
        {
          max_pool2_avx2 (x, planes, H, W, OH, OW, y, arg);
          return;
        }
      for (guint p = 0; p < planes; p++)
        for (guint oh = 0; oh < OH; oh++)
          {
            const float *r0 = x + ((gsize) p * H + 2 * oh) * W, *r1 = r0 + W;
            float *yo = y + ((gsize) p * OH + oh) * OW;
            guint8 *ao = arg + ((gsize) p * OH + oh) * OW;
            /* The first maximum in scan order, branch-free: each row's
               first maximum, then the lower row's only if strictly
               larger. */
            for (guint ow = 0; ow < OW; ow++)
              {
                float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
                float top = b > a ? b : a, bottom = d > c ? d : c;
                guint8 kt = b > a ? 1 : 0, kb = d > c ? 3 : 2;
                yo[ow] = bottom > top ? bottom : top;
                ao[ow] = bottom > top ? kb : kt;
              }
          }
      return;
    }
  for (guint p = 0; p < planes; p++)
    {
      const float *xp = x + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        for (guint ow = 0; ow < OW; ow++)
          {
            int ih0 = (int) (oh * win->sh) - (int) win->ph, iw0 = (int) (ow * win->sw) - (int) win->pw;
            float m = -INFINITY;
            guint8 k = 0;
            for (guint ki = 0; ki < win->kh; ki++)
              for (guint kj = 0; kj < win->kw; kj++)
                {
                  int ih = ih0 + (int) ki, iw = iw0 + (int) kj;
                  if (ih < 0 || iw < 0 || ih >= (int) H || iw >= (int) W)
                    continue;
                  if (xp[ih * W + iw] > m)
                    m = xp[ih * W + iw], k = (guint8) (ki * win->kw + kj);
                }
            y[((gsize) p * OH + oh) * OW + ow] = m;
            arg[((gsize) p * OH + oh) * OW + ow] = k;
          }
    }
}

gboolean
lk_nn_max_pool8_backward_tiles (const LkNnWindow *win, guint H, guint W, guint OH, guint OW)
{
  return win->kh == 2 && win->kw == 2 && win->sh == 2 && win->sw == 2 && win->ph == 0 &&
         win->pw == 0 && 2 * OH <= H && 2 * OW <= W && simd_level () >= 1;
}

void
lk_nn_max_pool8_backward (const float *dy, const float *y, const guint8 *arg, guint planes,
                          guint H, guint W, const LkNnWindow *win, guint OH, guint OW, float *dx)
{
  if (lk_nn_max_pool8_backward_tiles (win, H, W, OH, OW))
    {
      max_pool2_backward_avx2 (dy, y, arg, planes, H, W, OH, OW, dx);
      return;
    }
  for (guint p = 0; p < planes; p++)
    {
      float *dxp = dx + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        for (guint ow = 0; ow < OW; ow++)
          {
            gsize o = ((gsize) p * OH + oh) * OW + ow;
            guint k = arg[o];
            int ih = (int) (oh * win->sh + k / win->kw) - (int) win->ph;
            int iw = (int) (ow * win->sw + k % win->kw) - (int) win->pw;
            if (y[o] > 0)
              dxp[ih * W + iw] += dy[o];
          }
    }
}

void
lk_nn_avg_pool_forward (const float *x, guint planes, guint H, guint W, const LkNnWindow *win,
                        guint OH, guint OW, float *y)
{
  for (guint p = 0; p < planes; p++)
    {
      const float *xp = x + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        {
          guint h0, h1;
          window_range (oh, win->sh, win->ph, win->kh, H, &h0, &h1);
          for (guint ow = 0; ow < OW; ow++)
            {
              guint w0, w1;
              float s = 0;
              window_range (ow, win->sw, win->pw, win->kw, W, &w0, &w1);
              for (guint ih = h0; ih < h1; ih++)
                for (guint iw = w0; iw < w1; iw++)
                  s += xp[ih * W + iw];
              y[((gsize) p * OH + oh) * OW + ow] = s / (float) ((h1 - h0) * (w1 - w0));
            }
        }
    }
}

void
lk_nn_avg_pool_backward (const float *dy, guint planes, guint H, guint W, const LkNnWindow *win,
                         guint OH, guint OW, float *dx, gboolean accumulate)
{
  if (!accumulate)
    memset (dx, 0, (gsize) planes * H * W * sizeof *dx);
  for (guint p = 0; p < planes; p++)
    {
      float *dxp = dx + (gsize) p * H * W;
      for (guint oh = 0; oh < OH; oh++)
        {
          guint h0, h1;
          window_range (oh, win->sh, win->ph, win->kh, H, &h0, &h1);
          for (guint ow = 0; ow < OW; ow++)
            {
              guint w0, w1;
              float g;
              window_range (ow, win->sw, win->pw, win->kw, W, &w0, &w1);
              g = dy[((gsize) p * OH + oh) * OW + ow] / (float) ((h1 - h0) * (w1 - w0));
              for (guint ih = h0; ih < h1; ih++)
                for (guint iw = w0; iw < w1; iw++)
                  dxp[ih * W + iw] += g;
            }
        }
    }
}

/* Channels c' of the window around c: [c − size/2, c + (size−1)/2]. */
static inline void
lrn_range (guint c, guint C, guint size, guint *lo, guint *hi)
{
  int a = (int) c - (int) (size / 2), b = (int) c + (int) ((size - 1) / 2) + 1;
  *lo = (guint) MAX (a, 0);
  *hi = (guint) MIN (b, (int) C);
}

void
lk_nn_lrn_forward (const float *x, guint C, gsize P, guint size, float alpha, float beta,
                   float k, float *y, float *scale)
{
  float a = alpha / (float) size;

  for (guint c = 0; c < C; c++)
    {
      guint lo, hi;
      float *s = scale + c * P;
      lrn_range (c, C, size, &lo, &hi);
      for (gsize p = 0; p < P; p++)
        s[p] = 0;
      for (guint q = lo; q < hi; q++)
        {
          const float *xq = x + q * P;
          for (gsize p = 0; p < P; p++)
            s[p] += xq[p] * xq[p];
        }
      for (gsize p = 0; p < P; p++)
        {
          s[p] = k + a * s[p];
          y[c * P + p] = x[c * P + p] * powf (s[p], -beta);
        }
    }
}

/* dx_c = dy_c s_c^−β − (2αβ/size) x_c Σ_{c' : c ∈ window(c')} dy_c' y_c' / s_c'. */
void
lk_nn_lrn_backward (const float *x, const float *y, const float *scale, const float *dy, guint C,
                    gsize P, guint size, float alpha, float beta, float *dx,
                    gboolean accumulate)
{
  float f = 2.0f * alpha * beta / (float) size;

  for (guint c = 0; c < C; c++)
    {
      /* c is in window(c') for c' ∈ [c − (size−1)/2, c + size/2]. */
      int a = (int) c - (int) ((size - 1) / 2), b = (int) c + (int) (size / 2) + 1;
      guint lo = (guint) MAX (a, 0), hi = (guint) MIN (b, (int) C);
      float *d = dx + c * P;
      for (gsize p = 0; p < P; p++)
        {
          float acc = 0, g;
          for (guint q = lo; q < hi; q++)
            acc += dy[q * P + p] * y[q * P + p] / scale[q * P + p];
          g = dy[c * P + p] * powf (scale[c * P + p], -beta) - f * x[c * P + p] * acc;
          d[p] = accumulate ? d[p] + g : g;
        }
    }
}

void
lk_nn_l2norm_forward (const float *x, guint rows, guint dim, float *y, float *norm)
{
  for (guint r = 0; r < rows; r++)
    {
      const float *xr = x + (gsize) r * dim;
      float *yr = y + (gsize) r * dim;
      double s = 0;
      float nr, inv;
      for (guint i = 0; i < dim; i++)
        s += (double) xr[i] * xr[i];
      nr = MAX ((float) sqrt (s), 1e-12f);
      inv = 1.0f / nr;
      for (guint i = 0; i < dim; i++)
        yr[i] = xr[i] * inv;
      norm[r] = nr;
    }
}

/* dx = (dy − y (y·dy)) / ‖x‖; below the 1e-12 floor y = x/1e-12 is linear. */
void
lk_nn_l2norm_backward (const float *y, const float *norm, const float *dy, guint rows, guint dim,
                       float *dx, gboolean accumulate)
{
  for (guint r = 0; r < rows; r++)
    {
      const float *yr = y + (gsize) r * dim, *dyr = dy + (gsize) r * dim;
      float *dxr = dx + (gsize) r * dim;
      float dot = 0, inv = 1.0f / norm[r];
      if (norm[r] > 1e-12f)
        for (guint i = 0; i < dim; i++)
          dot += yr[i] * dyr[i];
      for (guint i = 0; i < dim; i++)
        {
          float g = (dyr[i] - yr[i] * dot) * inv;
          dxr[i] = accumulate ? dxr[i] + g : g;
        }
    }
}

guint64
lk_nn_dropout_key (guint64 seed, guint64 step, guint node)
{
  guint64 x = seed * G_GUINT64_CONSTANT (0xA24BAED4963EE407) ^
              (step + 1) * G_GUINT64_CONSTANT (0x9FB21C651E98DF25) ^ ((guint64) node << 48);
  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xFF51AFD7ED558CCD);
  x ^= x >> 33;
  return x;
}

void
lk_nn_dropout_mask (float *mask, gboolean spatial, guint C, guint n, guint HW, guint image0,
                    float keep, guint64 key)
{
  float scale = 1.0f / keep;

  if (spatial)
    {
      for (guint c = 0; c < C; c++)
        for (guint i = 0; i < n; i++)
          for (guint p = 0; p < HW; p++)
            mask[((gsize) c * n + i) * HW + p] =
              lk_nn_dropout_uniform (key, image0 + i, (guint64) c * HW + p) < keep ? scale : 0.0f;
    }
  else
    {
      for (guint i = 0; i < n; i++)
        for (guint c = 0; c < C; c++)
          mask[(gsize) i * C + c] =
            lk_nn_dropout_uniform (key, image0 + i, c) < keep ? scale : 0.0f;
    }
}

void
lk_nn_flatten_forward (const float *x, guint C, guint n, guint HW, float *y)
{
  for (guint c = 0; c < C; c++)
    for (guint i = 0; i < n; i++)
      memcpy (y + (gsize) i * C * HW + (gsize) c * HW, x + ((gsize) c * n + i) * HW,
              HW * sizeof *y);
}

void
lk_nn_flatten_backward (const float *dy, guint C, guint n, guint HW, float *dx,
                        gboolean accumulate)
{
  for (guint c = 0; c < C; c++)
    for (guint i = 0; i < n; i++)
      lk_nn_copy_or_add (dx + ((gsize) c * n + i) * HW, dy + (gsize) i * C * HW + (gsize) c * HW,
                         HW, accumulate);
}

void
lk_nn_copy_or_add (float *dst, const float *src, gsize n, gboolean accumulate)
{
  if (accumulate)
    for (gsize i = 0; i < n; i++)
      dst[i] += src[i];
  else if (dst != src)
    memcpy (dst, src, n * sizeof *dst);
}
