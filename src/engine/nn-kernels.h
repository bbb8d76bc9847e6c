/* nn-kernels.h — the engine's float32 layer kernels (internal to the NN
 * engine; nn-net.c composes them, the tests hold them to nn-reference.c).
 *
 * Layouts. A thread works on a sub-batch of n images. Inside it a spatial
 * tensor of C channels is stored channel-major, (C, n, H, W): channel c of
 * every image, then channel c + 1. So a convolution is one GEMM
 * W (O, C·kh·kw) × col (C·kh·kw, n·OH·OW) whose result is already the next
 * layer's layout, bias and ReLU run along contiguous rows, pools run on
 * C·n independent planes, LRN's channel stride is n·H·W, and a channel
 * concat is a copy of whole blocks. Vectors are row-major (n, D), the
 * layout a caller reads outputs in. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint kh, kw, sh, sw, ph, pw;
} LkNnWindow;

/* Whether the AVX2 versions of the elementwise passes run (the CPU has
 * AVX2, LIKENESS_NN_SIMD is not "0", and they were not switched off);
 * lk_nn_kernels_set_simd (FALSE) forces the portable C, for tests. */
gboolean lk_nn_kernels_get_simd (void);
void     lk_nn_kernels_set_simd (gboolean enabled);

/* col (C·kh·kw, g·OH·OW) ← the patches of images [i0, i0 + g) of
 * x (C, n, H, W); rows ordered (c, ki, kj) like PyTorch's weights. */
void lk_nn_im2col (const float *x, guint C, guint n, guint H, guint W, guint i0, guint g,
                   const LkNnWindow *win, guint OH, guint OW, float *col);
/* dx (C, n, H, W) images [i0, i0 + g) += the patches in dcol. */
void lk_nn_col2im (const float *dcol, guint C, guint n, guint H, guint W, guint i0, guint g,
                   const LkNnWindow *win, guint OH, guint OW, float *dx);

/* y[r, 0..cols) += bias[r], then max(0, ·) when @relu; rows @ld apart. */
void lk_nn_bias_act (float *y, guint rows, guint cols, gsize ld, const float *bias,
                     gboolean relu);
/* bias[r] += Σ_c dy[r, c] for rows @ld apart. */
void lk_nn_bias_grad (const float *dy, guint rows, guint cols, gsize ld, float *dbias);

/* dx = dy·[y > 0] (dx may be dy), or dx += … when @accumulate. */
void lk_nn_relu_forward  (const float *x, gsize n, float *y);
void lk_nn_relu_backward (const float *y, const float *dy, gsize n, float *dx,
                          gboolean accumulate);

/* Max pooling fused after a conv's bias + ReLU: @arg keeps each output's
 * offset inside its window (ki·kw + kj, windows of ≤ 256 elements). The
 * backward pass *adds* dy to the maximum of each window whose output is
 * positive (the ReLU mask, read off the pooled value) into a zeroed dx. */
void lk_nn_max_pool8_forward  (const float *x, guint planes, guint H, guint W,
                               const LkNnWindow *win, guint OH, guint OW, float *y, guint8 *arg);
void lk_nn_max_pool8_backward (const float *dy, const float *y, const guint8 *arg, guint planes,
                               guint H, guint W, const LkNnWindow *win, guint OH, guint OW,
                               float *dx);
/* TRUE when lk_nn_max_pool8_backward() writes every element of dx itself
 * (2×2 tiles, SIMD), so dx need not be zeroed first. */
gboolean lk_nn_max_pool8_backward_tiles (const LkNnWindow *win, guint H, guint W, guint OH,
                                         guint OW);

/* Over @planes independent H×W planes. Max pooling keeps in @arg the
 * index in its plane of each output's maximum (the first on ties); windows
 * are clipped to the input. */
void lk_nn_max_pool_forward  (const float *x, guint planes, guint H, guint W,
                              const LkNnWindow *win, guint OH, guint OW, float *y, guint32 *arg);
void lk_nn_max_pool_backward (const float *dy, const guint32 *arg, guint planes, guint HW,
                              guint OHW, float *dx, gboolean accumulate);
void lk_nn_avg_pool_forward  (const float *x, guint planes, guint H, guint W,
                              const LkNnWindow *win, guint OH, guint OW, float *y);
void lk_nn_avg_pool_backward (const float *dy, guint planes, guint H, guint W,
                              const LkNnWindow *win, guint OH, guint OW, float *dx,
                              gboolean accumulate);

/* LRN over C channels @stride floats apart, P pixels each; @scale keeps
 * k + α/size Σ x² for the backward pass. */
void lk_nn_lrn_forward  (const float *x, guint C, gsize P, guint size, float alpha, float beta,
                         float k, float *y, float *scale);
void lk_nn_lrn_backward (const float *x, const float *y, const float *scale, const float *dy,
                         guint C, gsize P, guint size, float alpha, float beta, float *dx,
                         gboolean accumulate);

/* Rows of @dim: y = x / max(‖x‖, 1e-12); @norm keeps max(‖x‖, 1e-12). */
void lk_nn_l2norm_forward  (const float *x, guint rows, guint dim, float *y, float *norm);
void lk_nn_l2norm_backward (const float *y, const float *norm, const float *dy, guint rows,
                            guint dim, float *dx, gboolean accumulate);

/* Dropout keeps element @index (C, H, W order) of image @image of a
 * batch when this is below @keep: a counter-based hash of (@key, image,
 * index), so masks depend on neither the thread count nor the layout. */
static inline float
lk_nn_dropout_uniform (guint64 key, guint64 image, guint64 index)
{
  guint64 x = key + image * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) +
              index * G_GUINT64_CONSTANT (0xD1B54A32D192ED03);
  x ^= x >> 30;
  x *= G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  x ^= x >> 27;
  x *= G_GUINT64_CONSTANT (0x94D049BB133111EB);
  x ^= x >> 31;
  return (float) (x >> 40) * (1.0f / 16777216.0f);
}
guint64 lk_nn_dropout_key (guint64 seed, guint64 step, guint node);
/* mask (C, n, HW) (@spatial) or (n, C) ← 1/keep or 0 for images
 * [image0, image0 + n) of the batch. */
void lk_nn_dropout_mask (float *mask, gboolean spatial, guint C, guint n, guint HW,
                         guint image0, float keep, guint64 key);

/* y (n, C·HW) ← x (C, n, HW), and its inverse (accumulating if asked). */
void lk_nn_flatten_forward  (const float *x, guint C, guint n, guint HW, float *y);
void lk_nn_flatten_backward (const float *dy, guint C, guint n, guint HW, float *dx,
                             gboolean accumulate);

/* dst = src or dst += src. */
void lk_nn_copy_or_add (float *dst, const float *src, gsize n, gboolean accumulate);

G_END_DECLS
