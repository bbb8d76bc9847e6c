/* augment.h — the trainer's data pipeline: a collection's uint8 HWC
 * tensors to a network's float NCHW input, resampled to the input side,
 * normalised per channel, with the paper's random pixel shifts.
 *
 * A collection stores its images at its scan side (64 for folders by
 * default, 28 for Fashion-MNIST) while a preset has its own input side
 * (225 for the paper's net). The pipeline resamples bilinearly (pixel
 * centres aligned, edges clamped), so any preset runs on any collection
 * without decoding the files again; rescanning at the preset's side
 * (LkScanOptions.side, `--side`) keeps more detail when the preset is
 * larger than the scan.
 *
 * Channels: a gray collection feeds an RGB input by repeating the plane,
 * an RGB collection a gray input by its luma (ITU-R BT.601).
 *
 * Shifts move the image by whole input pixels (dx, dy) ∈ [−s, s]², the
 * uncovered border repeating the edge pixels, so the fill is the image's
 * own background (black for Fashion-MNIST, white for padded photos). The
 * draws come from a counter-based generator keyed on (seed, step, slot),
 * so a batch is the same whenever it is rebuilt — what makes a resumed run
 * continue exactly. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_AUGMENT_MAX_CHANNELS 3

typedef struct {
  guint side;                            /* network input side */
  guint channels;                        /* network input channels, 1 or 3 */
  float mean[LK_AUGMENT_MAX_CHANNELS];   /* of pixel/255, per input channel */
  float std[LK_AUGMENT_MAX_CHANNELS];
} LkInputFormat;

/* Per-channel mean and standard deviation of pixel/255 over at most
 * @max_images of @indices (every k-th one), as the network sees them
 * (after the channel conversion to @format->channels). Fills
 * @format->mean and ->std (a std below 1e-3 is raised to 1e-3). */
void lk_input_format_measure (LkInputFormat *format,
                              const guint8  *pixels,
                              guint          src_side,
                              guint          src_channels,
                              const guint32 *indices,
                              guint          n_indices,
                              guint          max_images);

/* One image: @src (src_side, src_side, src_channels) uint8 HWC into @dst
 * (format->channels, format->side, format->side) float, shifted by
 * (@dx, @dy) input pixels (positive moves the content right/down) and
 * mirrored left-right when @flip. */
void lk_augment_image (const guint8        *src,
                       guint                src_side,
                       guint                src_channels,
                       const LkInputFormat *format,
                       int                  dx,
                       int                  dy,
                       gboolean             flip,
                       float               *dst);

/* The shift and flip of slot @slot of step @step: dx, dy uniform in
 * [−max_shift, max_shift], flip with probability 1/2 when @allow_flip. */
void lk_augment_draw (guint64   seed,
                      guint64   step,
                      guint     slot,
                      guint     max_shift,
                      gboolean  allow_flip,
                      int      *dx,
                      int      *dy,
                      gboolean *flip);

/* A batch: image @images[i] of @pixels (N, src_side, src_side,
 * src_channels) into row i of @dst (n, C, side, side), with the draws of
 * (seed, step, i) when @max_shift > 0 or @allow_flip, else unchanged. */
void lk_augment_batch (const guint8        *pixels,
                       guint                src_side,
                       guint                src_channels,
                       const guint32       *images,
                       guint                n,
                       const LkInputFormat *format,
                       guint64              seed,
                       guint64              step,
                       guint                max_shift,
                       gboolean             allow_flip,
                       float               *dst);

/* A 64-bit mix (splitmix64's finaliser), for the counter-based draws. */
guint64 lk_augment_mix (guint64 x);

G_END_DECLS
