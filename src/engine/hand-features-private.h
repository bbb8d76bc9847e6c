/* hand-features-private.h — pieces of hand-features.c exposed to the tests. */
#pragma once

#include "hand-features.h"

G_BEGIN_DECLS

/* sRGB (0–255) to CIE-LAB, D65 white. */
void  _lk_rgb_to_lab (guint8 r, guint8 g, guint8 b, float lab_out[3]);

/* Bin layout of the colour histogram. */
#define LK_COLOR_L_BINS 4
#define LK_COLOR_A_BINS 6
#define LK_COLOR_B_BINS 6
#define LK_COLOR_GRAY_BINS 16
/* Centre of bin @i of channel @ch (0 = L, 1 = a, 2 = b) for RGB images. */
float _lk_color_bin_centre (guint ch, guint i);

/* HOG layout: row = 3×3 blocks × 2×2 cells × 9 orientations, orientation
 * fastest, so column % 9 is the orientation bin (bin k centred on k·20°). */
#define LK_HOG_BINS 9

/* Index of an 8-bit LBP code among the 59 uniform-pattern bins. */
guint _lk_lbp_bin (guint8 code);

/* Computes the whole row of one image into @out (lk_features dims);
 * @work has room for 4·side² floats. */
void  _lk_features_compute_one (const guint8 *image,
                                guint         side,
                                guint         channels,
                                float        *work,
                                float        *out);

G_END_DECLS
