/* model.h — the Deep Ranking network (DESIGN.md §1, the paper's Fig. 3) as
 * presets and ablations, built into an LkNnSpec.
 *
 * Every network has the same parts:
 *  - a deep ConvNet branch, AlexNet-shaped (5 convolutions, 2 fully
 *    connected layers with ReLU and dropout), whose output is
 *    l2-normalised ("deep"), plus a classifier head on it ("logits") for
 *    the softmax pre-training; the classifier reads the last layer
 *    through its dropout, the embedding (but tiny's) before it (model.c
 *    says why);
 *  - two shallow branches on subsampled copies of the input: one
 *    convolution each, max pooling to 4×4, concatenated along channels,
 *    flattened and l2-normalised;
 *  - deep and shallow concatenated, a linear embedding, l2-normalised
 *    ("embedding").
 *
 * Presets (the input side is stored in the spec, so in the model file):
 *   paper  225×225 RGB, the paper's net: conv1 11×11/4 96 + LRN + pool,
 *          conv2 5×5 256 + LRN + pool, conv3–4 3×3 384, conv5 3×3 256 +
 *          pool, fc6 and fc7 4096; shallow branches on 4:1 (57×57) and
 *          8:1 (29×29) average-pooled input, 96 kernels 8×8 stride 4, max
 *          pooling to 4×4×96; embedding 4096. AlexNet's two-GPU channel
 *          groups are not reproduced (every conv sees all its input
 *          channels), which doubles conv2, conv4 and conv5.
 *   photo  64×64 RGB, the same shape for CPU training (~0.16 GFLOP per
 *          image): conv 5×5 32 + pool, 3×3 64 + pool, 3×3 96, 3×3 96,
 *          3×3 64 + pool, fc 512, fc 512; shallow on 4:1 and 8:1 with 64
 *          kernels; embedding 256. The default for folders.
 *   tiny   28×28 gray (Fashion-MNIST): 3×3 convs 32, 32 + pool, 64, 64 +
 *          pool, 128 + pool, fc 256, fc 256; shallow on 2:1 and 4:1 (the
 *          paper's 4:1 and 8:1 would leave 7 and 3 pixels) with 32
 *          kernels; embedding 128. The default for the built-in set.
 * Channels follow the collection (a preset's channel count is only its
 * default).
 *
 * Ablations (the paper's Table 2):
 *   convnet              the deep branch trained as a classifier only;
 *                        its l2-normalised output is the embedding;
 *   single-scale         the deep branch, then the linear embedding,
 *                        fine-tuned with the ranking loss (no shallow
 *                        branches);
 *   single-scale-visual  the same with the golden features (a vector
 *                        input "golden", l2-normalised) in place of the
 *                        shallow branches, concatenated before the
 *                        linear embedding;
 *   deep-ranking         the full multi-scale network.
 *
 * Inputs: 0 "image" (C, side, side); 1 "golden" (golden_dim) for
 * single-scale-visual only. Outputs: 0 "embedding", 1 "logits"
 * (n_categories). */
#pragma once

#include "nn-net.h"
#include "nn-spec.h"

G_BEGIN_DECLS

typedef enum {
  LK_PRESET_TINY = 0,
  LK_PRESET_PHOTO,
  LK_PRESET_PAPER,
  LK_N_PRESETS
} LkPreset;

typedef enum {
  LK_ABLATION_CONVNET = 0,
  LK_ABLATION_SINGLE_SCALE,
  LK_ABLATION_SINGLE_SCALE_VISUAL,
  LK_ABLATION_DEEP_RANKING,
  LK_N_ABLATIONS
} LkAblation;

#define LK_MODEL_OUTPUT_EMBEDDING 0
#define LK_MODEL_OUTPUT_LOGITS    1
#define LK_MODEL_INPUT_IMAGE      0
#define LK_MODEL_INPUT_GOLDEN     1

/* Stable names for files and command lines ("tiny", "photo", "paper";
 * "convnet", "single-scale", "single-scale-visual", "deep-ranking") and
 * translated labels. */
const char *lk_preset_name        (LkPreset preset);
const char *lk_preset_label       (LkPreset preset);
gboolean    lk_preset_from_name   (const char *name, LkPreset *out);
const char *lk_ablation_name      (LkAblation ablation);
const char *lk_ablation_label     (LkAblation ablation);
gboolean    lk_ablation_from_name (const char *name, LkAblation *out);

guint       lk_preset_side             (LkPreset preset);
guint       lk_preset_default_channels (LkPreset preset);
guint       lk_preset_embedding_dim    (LkPreset preset);

/* Does the ablation have a ranking stage (all but convnet)? */
gboolean    lk_ablation_has_ranking (LkAblation ablation);

typedef struct {
  LkPreset   preset;
  LkAblation ablation;
  guint      channels;       /* 1 or 3 (0 = the preset's default) */
  guint      n_categories;   /* classifier outputs, ≥ 2 */
  guint      golden_dim;     /* single-scale-visual: the golden vector's width */
  float      keep;           /* dropout keep probability on fc layers (0.6) */
} LkModelConfig;

void      lk_model_config_init (LkModelConfig *config);

/* The network; NULL with LK_ERROR_INVALID for a bad configuration. */
LkNnSpec *lk_model_build_spec  (const LkModelConfig *config, GError **error);

/* Seeded initial weights of a net of lk_model_build_spec (@config):
 * lk_nn_net_init_params(), then (deep-ranking) the embedding layer's
 * columns that read the shallow branches scaled by @shallow_weight. */
void      lk_model_init_params (LkNnNet *net, const LkModelConfig *config, guint64 seed,
                                float shallow_weight);

G_END_DECLS
