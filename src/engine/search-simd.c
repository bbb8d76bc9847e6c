/* search-simd.c — the search kernels: AVX-512, AVX2+FMA and portable C.
 *
 * Each instruction set gets its own functions compiled with
 * __attribute__((target)), chosen at run time by _lk_search_kernels(), so
 * the library runs on any x86-64 (and any other CPU through the C
 * versions). See search-private.h for the layout and the score.
 *
 * Register tiles: AVX-512 computes 8 query rows × 2 panels (16 zmm
 * accumulators, 2 loads and 8 broadcasts per 16 FMAs, so the FMA units
 * and not the loads set the pace); AVX2 computes 4 rows × 1 panel (8 ymm
 * accumulators). A single query reads 4 panels at a time with one
 * accumulator each and one broadcast of the query element shared by all
 * four, which is far below what the loads cost: the scan runs at the
 * speed memory delivers the rows. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "search-private.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define LK_X86 1
#endif

/* ---- portable C ---- */

static void
scan_scalar (const LkKernelArgs *a, const float *q, guint p0, guint p1, guint slot)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  LkHeaps *h = a->heaps;

  for (guint p = p0; p < p1; p++)
    {
      const float *b = a->panels + p * ps;
      float acc[LK_PANEL] = { 0 };
      for (guint k = 0; k < dim; k++)
        for (guint j = 0; j < LK_PANEL; j++)
          acc[j] += q[k] * b[k * LK_PANEL + j];
      for (guint j = 0; j < LK_PANEL; j++)
        {
          float s = a->bias[p * LK_PANEL + j] + a->alpha * acc[j];
          if (s <= h->thr[slot])
            _lk_heaps_push (h, slot, s, p * LK_PANEL + j);
        }
    }
}

static void
group_scalar (const LkKernelArgs *a, const float *q, guint qs, guint nq, guint slot0,
              guint p0, guint p1, gboolean symmetric)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  LkHeaps *h = a->heaps;

  for (guint p = p0; p < p1; p++)
    {
      const float *b = a->panels + p * ps;
      for (guint r = 0; r < nq; r++)
        {
          float acc[LK_PANEL] = { 0 };
          for (guint k = 0; k < dim; k++)
            {
              float y = q[k * qs + r];
              for (guint j = 0; j < LK_PANEL; j++)
                acc[j] += y * b[k * LK_PANEL + j];
            }
          for (guint j = 0; j < LK_PANEL; j++)
            {
              guint32 col = p * LK_PANEL + j;
              float s = a->bias[col] + a->alpha * acc[j];
              if (s <= h->thr[slot0 + r])
                _lk_heaps_push (h, slot0 + r, s, col);
              if (symmetric)
                {
                  float sc = a->bias[slot0 + r] + a->alpha * acc[j];
                  if (sc <= h->thr[col])
                    _lk_heaps_push (h, col, sc, slot0 + r);
                }
            }
        }
    }
}

static double
stream_sum_scalar (const float *data, gsize n)
{
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (gsize i = 0; i < n; i += 4)
    {
      s0 += data[i];
      s1 += data[i + 1];
      s2 += data[i + 2];
      s3 += data[i + 3];
    }
  return (double) s0 + s1 + s2 + s3;
}

/* One step of chain @acc of the exact distance, and the reduction of the
 * sixteen chains: every instruction set's exact kernel does exactly these
 * operations (search-private.h). fma() is one rounding by definition,
 * so neither the compiler (contracting or not) nor the CPU changes it. */
static inline double
exact_step (gboolean l2, float q, float x, double acc)
{
  if (l2)
    {
      double t = (double) q - x;
      return fma (t, t, acc);
    }
  return fma (-(double) q, x, acc);
}

/* Chain u + 8 onto chain u, then a pairwise tree over the eight. */
static inline double
exact_reduce (const double acc[16])
{
  double s[8];
  for (guint u = 0; u < 8; u++)
    s[u] = acc[u] + acc[u + 8];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* In double, element j on chain j mod 16 (the chains do not wait on each
 * other) for the whole blocks of 16, the last dim mod 16 on chain 0. */
double
_lk_search_exact_distance (gboolean l2, const float *q, const float *x, guint dim)
{
  double acc[16] = { 0 };
  guint j = 0;

  for (; j + 16 <= dim; j += 16)
    for (guint u = 0; u < 16; u++)
      acc[u] = exact_step (l2, q[j + u], x[j + u], acc[u]);
  for (; j < dim; j++)
    acc[0] = exact_step (l2, q[j], x[j], acc[0]);
  return exact_reduce (acc);
}

static const LkSearchKernels kernels_scalar = {
  scan_scalar, group_scalar, stream_sum_scalar, _lk_search_exact_distance, NULL, NULL
};

#ifdef LK_X86

/* The lanes of @mask, scores in @buf, into heap @slot (rows from @row0)
 * or, with @columns, each into its own column's heap with @row as the
 * neighbour. Shared by both instruction sets: only the compare differs. */
static void
push_lanes (LkHeaps *h, const float *buf, guint mask, guint slot, guint32 row0, gboolean columns,
            guint32 row)
{
  while (mask != 0)
    {
      guint j = (guint) __builtin_ctz (mask);
      mask &= mask - 1;
      if (columns)
        _lk_heaps_push (h, row0 + j, buf[j], row);
      else
        _lk_heaps_push (h, slot, buf[j], row0 + j);
    }
}

/* The lanes of @mask, lower bounds in @buf, as candidates of @slot. */
static void
push_cands (LkCands *cands, const float *buf, guint mask, guint32 row0)
{
  while (mask != 0)
    {
      guint j = (guint) __builtin_ctz (mask);
      mask &= mask - 1;
      _lk_cands_push (cands, row0 + j, buf[j]);
    }
}

/* ---- AVX2 + FMA ---- */

#define TARGET_AVX2 __attribute__ ((target ("avx2,fma")))

/* Scores of 8 columns starting at internal row @row0, filtered against
 * the heap's threshold; the rare survivors are pushed one by one. */
TARGET_AVX2 static inline void
select8_avx2 (LkHeaps *h, guint slot, __m256 s, guint32 row0)
{
  int m = _mm256_movemask_ps (_mm256_cmp_ps (s, _mm256_set1_ps (h->thr[slot]), _CMP_LE_OQ));
  if (G_UNLIKELY (m != 0))
    {
      float buf[8];
      _mm256_storeu_ps (buf, s);
      push_lanes (h, buf, (guint) m, slot, row0, FALSE, 0);
    }
}

/* The same for the column side of a symmetric tile: 8 columns, each
 * against its own threshold, the query row @row as the neighbour. */
TARGET_AVX2 static inline void
select8_columns_avx2 (LkHeaps *h, __m256 s, guint32 col0, guint32 row)
{
  int m = _mm256_movemask_ps (_mm256_cmp_ps (s, _mm256_loadu_ps (h->thr + col0), _CMP_LE_OQ));
  if (G_UNLIKELY (m != 0))
    {
      float buf[8];
      _mm256_storeu_ps (buf, s);
      push_lanes (h, buf, (guint) m, 0, col0, TRUE, row);
    }
}

TARGET_AVX2 static void
scan_avx2 (const LkKernelArgs *a, const float *q, guint p0, guint p1, guint slot)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  LkHeaps *h = a->heaps;
  guint p = p0;

  for (; p + 4 <= p1; p += 4)
    {
      const float *b0 = a->panels + p * ps, *b1 = b0 + ps, *b2 = b1 + ps, *b3 = b2 + ps;
      __m256 c[8];
#pragma GCC unroll 8
      for (guint i = 0; i < 8; i++)
        c[i] = _mm256_setzero_ps ();
      for (guint k = 0; k < dim; k++)
        {
          __m256 y = _mm256_broadcast_ss (q + k);
          gsize o = (gsize) k * LK_PANEL;
          c[0] = _mm256_fmadd_ps (y, _mm256_load_ps (b0 + o), c[0]);
          c[1] = _mm256_fmadd_ps (y, _mm256_load_ps (b0 + o + 8), c[1]);
          c[2] = _mm256_fmadd_ps (y, _mm256_load_ps (b1 + o), c[2]);
          c[3] = _mm256_fmadd_ps (y, _mm256_load_ps (b1 + o + 8), c[3]);
          c[4] = _mm256_fmadd_ps (y, _mm256_load_ps (b2 + o), c[4]);
          c[5] = _mm256_fmadd_ps (y, _mm256_load_ps (b2 + o + 8), c[5]);
          c[6] = _mm256_fmadd_ps (y, _mm256_load_ps (b3 + o), c[6]);
          c[7] = _mm256_fmadd_ps (y, _mm256_load_ps (b3 + o + 8), c[7]);
        }
#pragma GCC unroll 8
      for (guint i = 0; i < 8; i++)
        {
          guint32 row0 = p * LK_PANEL + i * 8;
          select8_avx2 (h, slot, _mm256_fmadd_ps (alpha, c[i], _mm256_load_ps (a->bias + row0)),
                        row0);
        }
    }
  for (; p < p1; p++)
    {
      const float *b0 = a->panels + p * ps;
      __m256 c0 = _mm256_setzero_ps (), c1 = _mm256_setzero_ps ();
      for (guint k = 0; k < dim; k++)
        {
          __m256 y = _mm256_broadcast_ss (q + k);
          c0 = _mm256_fmadd_ps (y, _mm256_load_ps (b0 + k * LK_PANEL), c0);
          c1 = _mm256_fmadd_ps (y, _mm256_load_ps (b0 + k * LK_PANEL + 8), c1);
        }
      select8_avx2 (h, slot, _mm256_fmadd_ps (alpha, c0, _mm256_load_ps (a->bias + p * LK_PANEL)),
                    p * LK_PANEL);
      select8_avx2 (h, slot, _mm256_fmadd_ps (alpha, c1, _mm256_load_ps (a->bias + p * LK_PANEL + 8)),
                    p * LK_PANEL + 8);
    }
}

/* Four query rows (@nq ≤ 4 of them real) against one panel. */
TARGET_AVX2 static inline void
group4_avx2 (const LkKernelArgs *a, const float *q, guint qs, guint nq, guint slot0,
             guint p, gboolean symmetric)
{
  const guint dim = a->dim;
  const float *b = a->panels + p * (gsize) dim * LK_PANEL;
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const guint32 col0 = p * LK_PANEL;
  LkHeaps *h = a->heaps;
  __m256 c[4][2];

#pragma GCC unroll 4
  for (guint r = 0; r < 4; r++)
    c[r][0] = c[r][1] = _mm256_setzero_ps ();
  /* Two steps of k per iteration: the loop's own instructions would
   * otherwise compete with the FMAs for the front end. */
  guint k = 0;
  for (; k + 2 <= dim; k += 2)
    {
      const float *bk = b + (gsize) k * LK_PANEL;
      const float *qk = q + (gsize) k * qs;
      __m256 x0 = _mm256_load_ps (bk), x1 = _mm256_load_ps (bk + 8);
      __m256 x2 = _mm256_load_ps (bk + LK_PANEL), x3 = _mm256_load_ps (bk + LK_PANEL + 8);
#pragma GCC unroll 4
      for (guint r = 0; r < 4; r++)
        {
          __m256 y = _mm256_broadcast_ss (qk + r), z = _mm256_broadcast_ss (qk + qs + r);
          c[r][0] = _mm256_fmadd_ps (y, x0, c[r][0]);
          c[r][1] = _mm256_fmadd_ps (y, x1, c[r][1]);
          c[r][0] = _mm256_fmadd_ps (z, x2, c[r][0]);
          c[r][1] = _mm256_fmadd_ps (z, x3, c[r][1]);
        }
    }
  for (; k < dim; k++)
    {
      __m256 x0 = _mm256_load_ps (b + k * LK_PANEL), x1 = _mm256_load_ps (b + k * LK_PANEL + 8);
      const float *qk = q + (gsize) k * qs;
#pragma GCC unroll 4
      for (guint r = 0; r < 4; r++)
        {
          __m256 y = _mm256_broadcast_ss (qk + r);
          c[r][0] = _mm256_fmadd_ps (y, x0, c[r][0]);
          c[r][1] = _mm256_fmadd_ps (y, x1, c[r][1]);
        }
    }
#pragma GCC unroll 4
  for (guint r = 0; r < 4; r++)
    if (r < nq)
      {
        select8_avx2 (h, slot0 + r,
                      _mm256_fmadd_ps (alpha, c[r][0], _mm256_load_ps (a->bias + col0)), col0);
        select8_avx2 (h, slot0 + r,
                      _mm256_fmadd_ps (alpha, c[r][1], _mm256_load_ps (a->bias + col0 + 8)),
                      col0 + 8);
        if (symmetric)
          {
            __m256 br = _mm256_broadcast_ss (a->bias + slot0 + r);
            select8_columns_avx2 (h, _mm256_fmadd_ps (alpha, c[r][0], br), col0, slot0 + r);
            select8_columns_avx2 (h, _mm256_fmadd_ps (alpha, c[r][1], br), col0 + 8, slot0 + r);
          }
      }
}

TARGET_AVX2 static void
group_avx2 (const LkKernelArgs *a, const float *q, guint qs, guint nq, guint slot0,
            guint p0, guint p1, gboolean symmetric)
{
  for (guint p = p0; p < p1; p++)
    {
      group4_avx2 (a, q, qs, MIN (nq, 4), slot0, p, symmetric);
      if (nq > 4)
        group4_avx2 (a, q + 4, qs, nq - 4, slot0 + 4, p, symmetric);
    }
}

TARGET_AVX2 static double
stream_sum_avx2 (const float *data, gsize n)
{
  __m256 s0 = _mm256_setzero_ps (), s1 = s0, s2 = s0, s3 = s0;
  float buf[8];
  double total = 0;

  for (gsize i = 0; i < n; i += 32)
    {
      s0 = _mm256_add_ps (s0, _mm256_load_ps (data + i));
      s1 = _mm256_add_ps (s1, _mm256_load_ps (data + i + 8));
      s2 = _mm256_add_ps (s2, _mm256_load_ps (data + i + 16));
      s3 = _mm256_add_ps (s3, _mm256_load_ps (data + i + 24));
    }
  _mm256_storeu_ps (buf, _mm256_add_ps (_mm256_add_ps (s0, s1), _mm256_add_ps (s2, s3)));
  for (guint j = 0; j < 8; j++)
    total += buf[j];
  return total;
}

/* _lk_search_exact_distance() with the sixteen chains in four registers. */
TARGET_AVX2 static double
exact_avx2 (gboolean l2, const float *q, const float *x, guint dim)
{
  __m256d a[4] = { _mm256_setzero_pd (), _mm256_setzero_pd (), _mm256_setzero_pd (),
                   _mm256_setzero_pd () };
  double acc[16];
  guint j = 0;

  for (; j + 16 <= dim; j += 16)
#pragma GCC unroll 4
    for (guint r = 0; r < 4; r++)
      {
        __m256d qv = _mm256_cvtps_pd (_mm_loadu_ps (q + j + 4 * r));
        __m256d xv = _mm256_cvtps_pd (_mm_loadu_ps (x + j + 4 * r));
        if (l2)
          {
            __m256d d = _mm256_sub_pd (qv, xv);
            a[r] = _mm256_fmadd_pd (d, d, a[r]);
          }
        else
          a[r] = _mm256_fnmadd_pd (qv, xv, a[r]);
      }
  for (guint r = 0; r < 4; r++)
    _mm256_storeu_pd (acc + 4 * r, a[r]);
  for (; j < dim; j++)
    acc[0] = exact_step (l2, q[j], x[j], acc[0]);
  return exact_reduce (acc);
}

#define TARGET_AVX2_F16C __attribute__ ((target ("avx2,fma,f16c")))

/* Upper bounds into the heap, then lower bounds against its (updated)
 * threshold into the candidates. */
TARGET_AVX2_F16C static inline void
select_half8_avx2 (const LkHalfArgs *a, guint slot, __m256 c, guint32 row0)
{
  const __m256 sign = _mm256_set1_ps (-0.0f);
  __m256 bias = _mm256_load_ps (a->bias + row0);
  __m256 s = _mm256_fmadd_ps (_mm256_set1_ps (a->alpha), c, bias);
  __m256 e = _mm256_fmadd_ps (_mm256_set1_ps (a->c_norm), _mm256_load_ps (a->rownorm + row0),
                              _mm256_set1_ps (a->c_abs));
  __m256 hi, lo;
  int m;

  e = _mm256_fmadd_ps (_mm256_set1_ps (a->c_rel), _mm256_add_ps (bias, _mm256_andnot_ps (sign, s)),
                       e);
  hi = _mm256_add_ps (s, e);
  lo = _mm256_sub_ps (s, e);
  m = _mm256_movemask_ps (_mm256_cmp_ps (hi, _mm256_set1_ps (a->heaps->thr[slot]), _CMP_LE_OQ));
  if (G_UNLIKELY (m != 0))
    {
      float buf[8];
      _mm256_storeu_ps (buf, hi);
      push_lanes (a->heaps, buf, (guint) m, slot, row0, FALSE, 0);
    }
  m = _mm256_movemask_ps (_mm256_cmp_ps (lo, _mm256_set1_ps (a->heaps->thr[slot]), _CMP_LE_OQ));
  if (G_UNLIKELY (m != 0))
    {
      float buf[8];
      _mm256_storeu_ps (buf, lo);
      push_cands (&a->cands[slot], buf, (guint) m, row0);
    }
}

TARGET_AVX2_F16C static void
scan_half_avx2 (const LkHalfArgs *a, const float *q, guint p0, guint p1, guint slot)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  guint p = p0;

  for (; p + 2 <= p1; p += 2)
    {
      const guint16 *b0 = a->panels + p * ps, *b1 = b0 + ps;
      __m256 c[4] = { _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps (),
                      _mm256_setzero_ps () };
      for (guint k = 0; k < dim; k++)
        {
          __m256 y = _mm256_broadcast_ss (q + k);
          gsize o = (gsize) k * LK_PANEL;
          c[0] = _mm256_fmadd_ps (y, _mm256_cvtph_ps (_mm_load_si128 ((const __m128i *) (b0 + o))), c[0]);
          c[1] = _mm256_fmadd_ps (y, _mm256_cvtph_ps (_mm_load_si128 ((const __m128i *) (b0 + o + 8))), c[1]);
          c[2] = _mm256_fmadd_ps (y, _mm256_cvtph_ps (_mm_load_si128 ((const __m128i *) (b1 + o))), c[2]);
          c[3] = _mm256_fmadd_ps (y, _mm256_cvtph_ps (_mm_load_si128 ((const __m128i *) (b1 + o + 8))), c[3]);
        }
      for (guint i = 0; i < 4; i++)
        select_half8_avx2 (a, slot, c[i], p * LK_PANEL + i * 8);
    }
  for (; p < p1; p++)
    {
      const guint16 *b0 = a->panels + p * ps;
      __m256 c0 = _mm256_setzero_ps (), c1 = _mm256_setzero_ps ();
      for (guint k = 0; k < dim; k++)
        {
          __m256 y = _mm256_broadcast_ss (q + k);
          c0 = _mm256_fmadd_ps (y, _mm256_cvtph_ps (_mm_load_si128 ((const __m128i *) (b0 + k * LK_PANEL))), c0);
          c1 = _mm256_fmadd_ps (y, _mm256_cvtph_ps (_mm_load_si128 ((const __m128i *) (b0 + k * LK_PANEL + 8))), c1);
        }
      select_half8_avx2 (a, slot, c0, p * LK_PANEL);
      select_half8_avx2 (a, slot, c1, p * LK_PANEL + 8);
    }
}

TARGET_AVX2_F16C static void
to_half_f16c (const float *src, guint16 *dst, gsize n)
{
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (dst + i),
                      _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++)
    dst[i] = _cvtss_sh (src[i], _MM_FROUND_TO_NEAREST_INT);
}

static const LkSearchKernels kernels_avx2 = {
  scan_avx2, group_avx2, stream_sum_avx2, exact_avx2, scan_half_avx2, to_half_f16c
};
static const LkSearchKernels kernels_avx2_no_f16c = {
  scan_avx2, group_avx2, stream_sum_avx2, exact_avx2, NULL, NULL
};

/* ---- AVX-512 ---- */

/* GCC 12's own conversion intrinsics (_mm512_cvtps_pd, _mm512_cvtph_ps)
 * trip -Wmaybe-uninitialized on the "undefined" vector they pass through;
 * the warning is about the header, not this code. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define TARGET_AVX512 __attribute__ ((target ("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))

TARGET_AVX512 static inline void
select16_avx512 (LkHeaps *h, guint slot, __m512 s, guint32 row0)
{
  __mmask16 m = _mm512_cmp_ps_mask (s, _mm512_set1_ps (h->thr[slot]), _CMP_LE_OQ);
  if (G_UNLIKELY (m != 0))
    {
      float buf[16];
      _mm512_storeu_ps (buf, s);
      push_lanes (h, buf, m, slot, row0, FALSE, 0);
    }
}

TARGET_AVX512 static inline void
select16_columns_avx512 (LkHeaps *h, __m512 s, guint32 col0, guint32 row)
{
  __mmask16 m = _mm512_cmp_ps_mask (s, _mm512_loadu_ps (h->thr + col0), _CMP_LE_OQ);
  if (G_UNLIKELY (m != 0))
    {
      float buf[16];
      _mm512_storeu_ps (buf, s);
      push_lanes (h, buf, m, 0, col0, TRUE, row);
    }
}

TARGET_AVX512 static void
scan_avx512 (const LkKernelArgs *a, const float *q, guint p0, guint p1, guint slot)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  LkHeaps *h = a->heaps;
  guint p = p0;

  for (; p + 4 <= p1; p += 4)
    {
      const float *b0 = a->panels + p * ps, *b1 = b0 + ps, *b2 = b1 + ps, *b3 = b2 + ps;
      __m512 c0 = _mm512_setzero_ps (), c1 = c0, c2 = c0, c3 = c0;
      for (guint k = 0; k < dim; k++)
        {
          __m512 y = _mm512_set1_ps (q[k]);
          gsize o = (gsize) k * LK_PANEL;
          c0 = _mm512_fmadd_ps (y, _mm512_load_ps (b0 + o), c0);
          c1 = _mm512_fmadd_ps (y, _mm512_load_ps (b1 + o), c1);
          c2 = _mm512_fmadd_ps (y, _mm512_load_ps (b2 + o), c2);
          c3 = _mm512_fmadd_ps (y, _mm512_load_ps (b3 + o), c3);
        }
      {
        const float *bias = a->bias + p * LK_PANEL;
        guint32 row0 = p * LK_PANEL;
        select16_avx512 (h, slot, _mm512_fmadd_ps (alpha, c0, _mm512_load_ps (bias)), row0);
        select16_avx512 (h, slot, _mm512_fmadd_ps (alpha, c1, _mm512_load_ps (bias + 16)), row0 + 16);
        select16_avx512 (h, slot, _mm512_fmadd_ps (alpha, c2, _mm512_load_ps (bias + 32)), row0 + 32);
        select16_avx512 (h, slot, _mm512_fmadd_ps (alpha, c3, _mm512_load_ps (bias + 48)), row0 + 48);
      }
    }
  for (; p < p1; p++)
    {
      const float *b0 = a->panels + p * ps;
      __m512 c0 = _mm512_setzero_ps ();
      for (guint k = 0; k < dim; k++)
        c0 = _mm512_fmadd_ps (_mm512_set1_ps (q[k]), _mm512_load_ps (b0 + k * LK_PANEL), c0);
      select16_avx512 (h, slot,
                       _mm512_fmadd_ps (alpha, c0, _mm512_load_ps (a->bias + p * LK_PANEL)),
                       p * LK_PANEL);
    }
}

TARGET_AVX512 static void
group_avx512 (const LkKernelArgs *a, const float *q, guint qs, guint nq, guint slot0,
              guint p0, guint p1, gboolean symmetric)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512 inf = _mm512_set1_ps (INFINITY);
  LkHeaps *h = a->heaps;

  for (guint p = p0; p < p1; p += 2)
    {
      const gboolean two = p + 1 < p1;
      const float *b0 = a->panels + p * ps, *b1 = two ? b0 + ps : b0;
      const guint32 col0 = p * LK_PANEL;
      __m512 c[LK_GROUP][2], bias0, bias1;

#pragma GCC unroll 8
      for (guint r = 0; r < LK_GROUP; r++)
        c[r][0] = c[r][1] = _mm512_setzero_ps ();
      for (guint k = 0; k < dim; k++)
        {
          __m512 x0 = _mm512_load_ps (b0 + k * LK_PANEL), x1 = _mm512_load_ps (b1 + k * LK_PANEL);
          const float *qk = q + (gsize) k * qs;
#pragma GCC unroll 8
          for (guint r = 0; r < LK_GROUP; r++)
            {
              __m512 y = _mm512_set1_ps (qk[r]);
              c[r][0] = _mm512_fmadd_ps (y, x0, c[r][0]);
              c[r][1] = _mm512_fmadd_ps (y, x1, c[r][1]);
            }
        }
      bias0 = _mm512_load_ps (a->bias + col0);
      bias1 = two ? _mm512_load_ps (a->bias + col0 + 16) : inf;
#pragma GCC unroll 8
      for (guint r = 0; r < LK_GROUP; r++)
        if (r < nq)
          {
            select16_avx512 (h, slot0 + r, _mm512_fmadd_ps (alpha, c[r][0], bias0), col0);
            if (two)
              select16_avx512 (h, slot0 + r, _mm512_fmadd_ps (alpha, c[r][1], bias1), col0 + 16);
            if (symmetric)
              {
                __m512 br = _mm512_set1_ps (a->bias[slot0 + r]);
                select16_columns_avx512 (h, _mm512_fmadd_ps (alpha, c[r][0], br), col0, slot0 + r);
                if (two)
                  select16_columns_avx512 (h, _mm512_fmadd_ps (alpha, c[r][1], br), col0 + 16,
                                           slot0 + r);
              }
          }
    }
}

TARGET_AVX512 static double
stream_sum_avx512 (const float *data, gsize n)
{
  __m512 s0 = _mm512_setzero_ps (), s1 = s0, s2 = s0, s3 = s0;

  for (gsize i = 0; i < n; i += 64)
    {
      s0 = _mm512_add_ps (s0, _mm512_load_ps (data + i));
      s1 = _mm512_add_ps (s1, _mm512_load_ps (data + i + 16));
      s2 = _mm512_add_ps (s2, _mm512_load_ps (data + i + 32));
      s3 = _mm512_add_ps (s3, _mm512_load_ps (data + i + 48));
    }
  {
    /* Not _mm512_reduce_add_ps: GCC 12 warns inside it (-Wuninitialized). */
    float buf[16];
    double total = 0;
    _mm512_storeu_ps (buf, _mm512_add_ps (_mm512_add_ps (s0, s1), _mm512_add_ps (s2, s3)));
    for (guint j = 0; j < 16; j++)
      total += buf[j];
    return total;
  }
}

/* _lk_search_exact_distance() with the sixteen chains in two registers. */
TARGET_AVX512 static double
exact_avx512 (gboolean l2, const float *q, const float *x, guint dim)
{
  __m512d a0 = _mm512_setzero_pd (), a1 = a0;
  double acc[16];
  guint j = 0;

  for (; j + 16 <= dim; j += 16)
    {
      __m512d q0 = _mm512_cvtps_pd (_mm256_loadu_ps (q + j));
      __m512d q1 = _mm512_cvtps_pd (_mm256_loadu_ps (q + j + 8));
      __m512d x0 = _mm512_cvtps_pd (_mm256_loadu_ps (x + j));
      __m512d x1 = _mm512_cvtps_pd (_mm256_loadu_ps (x + j + 8));
      if (l2)
        {
          __m512d d0 = _mm512_sub_pd (q0, x0), d1 = _mm512_sub_pd (q1, x1);
          a0 = _mm512_fmadd_pd (d0, d0, a0);
          a1 = _mm512_fmadd_pd (d1, d1, a1);
        }
      else
        {
          a0 = _mm512_fnmadd_pd (q0, x0, a0);
          a1 = _mm512_fnmadd_pd (q1, x1, a1);
        }
    }
  _mm512_storeu_pd (acc, a0);
  _mm512_storeu_pd (acc + 8, a1);
  for (; j < dim; j++)
    acc[0] = exact_step (l2, q[j], x[j], acc[0]);
  return exact_reduce (acc);
}

TARGET_AVX512 static inline void
select_half16_avx512 (const LkHalfArgs *a, guint slot, __m512 c, guint32 row0)
{
  __m512 bias = _mm512_load_ps (a->bias + row0);
  __m512 s = _mm512_fmadd_ps (_mm512_set1_ps (a->alpha), c, bias);
  __m512 e = _mm512_fmadd_ps (_mm512_set1_ps (a->c_norm), _mm512_load_ps (a->rownorm + row0),
                              _mm512_set1_ps (a->c_abs));
  __m512 hi, lo;
  __mmask16 m;

  e = _mm512_fmadd_ps (_mm512_set1_ps (a->c_rel), _mm512_add_ps (bias, _mm512_abs_ps (s)), e);
  hi = _mm512_add_ps (s, e);
  lo = _mm512_sub_ps (s, e);
  m = _mm512_cmp_ps_mask (hi, _mm512_set1_ps (a->heaps->thr[slot]), _CMP_LE_OQ);
  if (G_UNLIKELY (m != 0))
    {
      float buf[16];
      _mm512_storeu_ps (buf, hi);
      push_lanes (a->heaps, buf, m, slot, row0, FALSE, 0);
    }
  m = _mm512_cmp_ps_mask (lo, _mm512_set1_ps (a->heaps->thr[slot]), _CMP_LE_OQ);
  if (G_UNLIKELY (m != 0))
    {
      float buf[16];
      _mm512_storeu_ps (buf, lo);
      push_cands (&a->cands[slot], buf, m, row0);
    }
}

TARGET_AVX512 static void
scan_half_avx512 (const LkHalfArgs *a, const float *q, guint p0, guint p1, guint slot)
{
  const guint dim = a->dim;
  const gsize ps = (gsize) dim * LK_PANEL;
  guint p = p0;

  for (; p + 4 <= p1; p += 4)
    {
      const guint16 *b0 = a->panels + p * ps, *b1 = b0 + ps, *b2 = b1 + ps, *b3 = b2 + ps;
      __m512 c0 = _mm512_setzero_ps (), c1 = c0, c2 = c0, c3 = c0;
      for (guint k = 0; k < dim; k++)
        {
          __m512 y = _mm512_set1_ps (q[k]);
          gsize o = (gsize) k * LK_PANEL;
          c0 = _mm512_fmadd_ps (y, _mm512_cvtph_ps (_mm256_load_si256 ((const __m256i *) (b0 + o))), c0);
          c1 = _mm512_fmadd_ps (y, _mm512_cvtph_ps (_mm256_load_si256 ((const __m256i *) (b1 + o))), c1);
          c2 = _mm512_fmadd_ps (y, _mm512_cvtph_ps (_mm256_load_si256 ((const __m256i *) (b2 + o))), c2);
          c3 = _mm512_fmadd_ps (y, _mm512_cvtph_ps (_mm256_load_si256 ((const __m256i *) (b3 + o))), c3);
        }
      select_half16_avx512 (a, slot, c0, p * LK_PANEL);
      select_half16_avx512 (a, slot, c1, p * LK_PANEL + 16);
      select_half16_avx512 (a, slot, c2, p * LK_PANEL + 32);
      select_half16_avx512 (a, slot, c3, p * LK_PANEL + 48);
    }
  for (; p < p1; p++)
    {
      const guint16 *b0 = a->panels + p * ps;
      __m512 c0 = _mm512_setzero_ps ();
      for (guint k = 0; k < dim; k++)
        c0 = _mm512_fmadd_ps (_mm512_set1_ps (q[k]),
                              _mm512_cvtph_ps (_mm256_load_si256 ((const __m256i *) (b0 + k * LK_PANEL))),
                              c0);
      select_half16_avx512 (a, slot, c0, p * LK_PANEL);
    }
}

#pragma GCC diagnostic pop

static const LkSearchKernels kernels_avx512 = {
  scan_avx512, group_avx512, stream_sum_avx512, exact_avx512, scan_half_avx512, to_half_f16c
};

#endif /* LK_X86 */

#ifdef LK_X86
/* __builtin_cpu_supports ("f16c") is GCC's: clang 14 (which builds the
 * fuzzers) has no such feature name, so ask CPUID (leaf 1, ECX). */
static gboolean
cpu_has_f16c (void)
{
  unsigned int a, b, c, d;
  return __get_cpuid (1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}
#endif

static gboolean
cpu_has (LkSearchIsa isa)
{
#ifdef LK_X86
  __builtin_cpu_init ();
  switch (isa)
    {
    case LK_SEARCH_ISA_SCALAR:
      return TRUE;
    case LK_SEARCH_ISA_AVX2:
      return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    case LK_SEARCH_ISA_AVX512:
      return __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512vl")
             && __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512bw")
             && __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    case LK_SEARCH_N_ISAS:
      break;
    }
  return FALSE;
#else
  return isa == LK_SEARCH_ISA_SCALAR;
#endif
}

const LkSearchKernels *
_lk_search_kernels (LkSearchIsa isa)
{
  if (!cpu_has (isa))
    return NULL;
  switch (isa)
    {
#ifdef LK_X86
    case LK_SEARCH_ISA_AVX2:
      return cpu_has_f16c () ? &kernels_avx2 : &kernels_avx2_no_f16c;
    case LK_SEARCH_ISA_AVX512:
      /* Every AVX-512 CPU has F16C; checked anyway. */
      return cpu_has_f16c () ? &kernels_avx512 : &kernels_avx2_no_f16c;
#endif
    default:
      return &kernels_scalar;
    }
}

const char *
_lk_search_isa_name (LkSearchIsa isa)
{
  static const char *const names[] = { "scalar", "avx2", "avx512" };
  g_return_val_if_fail (isa < LK_SEARCH_N_ISAS, "?");
  return names[isa];
}

LkSearchIsa
_lk_search_best_isa (void)
{
  const char *env = g_getenv ("LK_SEARCH_ISA");
  LkSearchIsa limit = LK_SEARCH_ISA_AVX512;

  if (env != NULL)
    for (guint i = 0; i < LK_SEARCH_N_ISAS; i++)
      if (g_str_equal (env, _lk_search_isa_name (i)))
        limit = i;
  for (gint i = limit; i > LK_SEARCH_ISA_SCALAR; i--)
    if (cpu_has (i))
      return i;
  return LK_SEARCH_ISA_SCALAR;
}
