/* nn-spec.h — a network described as a small DAG of layers, independent of
 * the code that runs it.
 *
 * A spec is a list of nodes in topological order (a node's inputs are
 * earlier nodes) plus named outputs. It is all a model file needs to
 * rebuild the network (lk_nn_spec_serialize / lk_nn_spec_deserialize), so
 * loading a model never needs the code that built it.
 *
 * Tensors flow between nodes per image and come in two kinds:
 *  - spatial (C, H, W): inputs made by lk_nn_spec_add_image(), outputs of
 *    conv, pools, LRN, and ReLU/dropout/concat of spatial tensors;
 *  - vector (D): lk_nn_spec_add_vector(), flatten, fc, l2norm, and
 *    ReLU/dropout/concat of vectors.
 * Concat joins vectors along features or spatial tensors (of equal H, W)
 * along channels. Named outputs must be vectors (a net's caller reads them
 * as row-major (N, D)); flatten a spatial tensor to output it.
 *
 * Sizes: conv output floor((H + 2p − k)/s) + 1; pools the same, or with
 * ceil_mode ceil(…) + 1 where the last window must start inside the input
 * or left padding (PyTorch's rule), which gives the paper's 225 → 57 (4:1)
 * and 29 (8:1). Average pooling divides by the number of window elements
 * inside the input (padding is not counted).
 *
 * Building: the lk_nn_spec_add_*() functions return the new node's index;
 * shapes are inferred as nodes are added. A bad argument (a shape that does
 * not fit, an unknown input) is remembered: the call returns -1 and
 * lk_nn_spec_check() (and so lk_nn_net_new()) reports the first such
 * problem as a GError. -1 passed as an input is rejected the same way, so
 * a chain of calls can be checked once at the end.
 *
 * Parameters: each conv and fc node owns a weight ("NAME.weight", conv
 * (O, C, kh, kw), fc (O, I), the PyTorch layouts) and a bias ("NAME.bias",
 * (O,)). All tensors of a spec live in one flat float array (the arena);
 * lk_nn_spec_get_tensor() gives each one's offset. Offsets are multiples of
 * 16 floats (64 bytes); the gaps are zero. Biases are not weight-decayed
 * (LkNnTensorInfo.decay). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_NN_MAX_NODES   256
#define LK_NN_MAX_INPUTS  8     /* fan-in of a concat */
#define LK_NN_MAX_OUTPUTS 8
#define LK_NN_NAME_MAX    32    /* including the terminating NUL */

typedef enum {
  LK_NN_OP_IMAGE = 1,   /* input (N, C, H, W) */
  LK_NN_OP_VECTOR,      /* input (N, D) */
  LK_NN_OP_CONV,
  LK_NN_OP_RELU,
  LK_NN_OP_MAX_POOL,
  LK_NN_OP_AVG_POOL,
  LK_NN_OP_LRN,
  LK_NN_OP_FC,
  LK_NN_OP_DROPOUT,
  LK_NN_OP_L2NORM,
  LK_NN_OP_CONCAT,
  LK_NN_OP_FLATTEN,
  LK_NN_N_OPS
} LkNnOp;

typedef struct {
  LkNnOp   op;
  char     name[LK_NN_NAME_MAX];
  guint    n_inputs;
  guint    inputs[LK_NN_MAX_INPUTS];

  /* Arguments, by op. */
  guint    channels;          /* image C, vector D, conv filters, fc outputs */
  guint    height, width;     /* image input */
  guint    kernel_h, kernel_w;
  guint    stride_h, stride_w;
  guint    pad_h, pad_w;
  gboolean ceil_mode;         /* pools */
  guint    lrn_size;          /* LRN window (channels) */
  float    lrn_alpha, lrn_beta, lrn_k;
  float    keep;              /* dropout keep probability, (0, 1] */

  /* Inferred. */
  gboolean spatial;
  guint    c, h, w;           /* output per image: (C, H, W), or (D, 1, 1) */
} LkNnNode;

typedef struct {
  char     name[2 * LK_NN_NAME_MAX];
  guint    node;
  gsize    offset;            /* in floats, into the arena */
  gsize    size;              /* floats */
  guint    rank;
  guint    shape[4];
  gboolean decay;             /* weights TRUE, biases FALSE */
} LkNnTensorInfo;

typedef struct _LkNnSpec LkNnSpec;

LkNnSpec *lk_nn_spec_new  (void);
LkNnSpec *lk_nn_spec_copy (const LkNnSpec *spec);
void      lk_nn_spec_free (LkNnSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkNnSpec, lk_nn_spec_free)

/* @name may be NULL: the node is then called OPn (e.g. "conv3"). Names
 * must be unique and shorter than LK_NN_NAME_MAX. */
int lk_nn_spec_add_image     (LkNnSpec *spec, const char *name,
                              guint channels, guint height, guint width);
int lk_nn_spec_add_vector    (LkNnSpec *spec, const char *name, guint dim);
int lk_nn_spec_add_conv      (LkNnSpec *spec, const char *name, int input,
                              guint filters, guint kernel, guint stride, guint pad);
int lk_nn_spec_add_conv_full (LkNnSpec *spec, const char *name, int input, guint filters,
                              guint kernel_h, guint kernel_w, guint stride_h,
                              guint stride_w, guint pad_h, guint pad_w);
int lk_nn_spec_add_relu      (LkNnSpec *spec, const char *name, int input);
int lk_nn_spec_add_max_pool  (LkNnSpec *spec, const char *name, int input,
                              guint kernel, guint stride, guint pad, gboolean ceil_mode);
int lk_nn_spec_add_avg_pool  (LkNnSpec *spec, const char *name, int input,
                              guint kernel, guint stride, guint pad, gboolean ceil_mode);
/* AlexNet's LRN as PyTorch defines it: b_c = a_c / (k + α/n Σ a_c'²)^β over
 * channels c' ∈ [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]. */
int lk_nn_spec_add_lrn       (LkNnSpec *spec, const char *name, int input,
                              guint size, float alpha, float beta, float k);
/* A spatial input is flattened first by an extra node "NAME.flat". */
int lk_nn_spec_add_fc        (LkNnSpec *spec, const char *name, int input, guint outputs);
/* Inverted dropout: in training, each element is kept with probability
 * @keep and scaled by 1/@keep; identity at inference. */
int lk_nn_spec_add_dropout   (LkNnSpec *spec, const char *name, int input, float keep);
/* y = x / max(‖x‖₂, 1e-12) per image (PyTorch's F.normalize). Vectors. */
int lk_nn_spec_add_l2norm    (LkNnSpec *spec, const char *name, int input);
int lk_nn_spec_add_concat    (LkNnSpec *spec, const char *name, guint n_inputs,
                              const int *inputs);
/* (C, H, W) → C·H·W features in C, H, W order (PyTorch's flatten). */
int lk_nn_spec_add_flatten   (LkNnSpec *spec, const char *name, int input);
/* Names @node's result as an output; returns the output's index. */
int lk_nn_spec_add_output    (LkNnSpec *spec, const char *name, int node);

/* FALSE with the first problem met while building (LK_ERROR_INVALID). */
gboolean lk_nn_spec_check (const LkNnSpec *spec, GError **error);

guint           lk_nn_spec_get_n_nodes     (const LkNnSpec *spec);
const LkNnNode *lk_nn_spec_get_node        (const LkNnSpec *spec, guint node);
int             lk_nn_spec_find_node       (const LkNnSpec *spec, const char *name);
guint           lk_nn_spec_get_n_inputs    (const LkNnSpec *spec);   /* image + vector nodes */
guint           lk_nn_spec_get_input_node  (const LkNnSpec *spec, guint input);
guint           lk_nn_spec_get_n_outputs   (const LkNnSpec *spec);
guint           lk_nn_spec_get_output_node (const LkNnSpec *spec, guint output);
const char     *lk_nn_spec_get_output_name (const LkNnSpec *spec, guint output);
int             lk_nn_spec_find_output     (const LkNnSpec *spec, const char *name);
/* Features per image of an output. */
guint           lk_nn_spec_get_output_dim  (const LkNnSpec *spec, guint output);

/* Parameter tensors, in arena order. */
guint                 lk_nn_spec_get_n_tensors (const LkNnSpec *spec);
const LkNnTensorInfo *lk_nn_spec_get_tensor    (const LkNnSpec *spec, guint tensor);
int                   lk_nn_spec_find_tensor   (const LkNnSpec *spec, const char *name);
/* Arena length in floats (including alignment gaps). */
gsize                 lk_nn_spec_get_n_params  (const LkNnSpec *spec);

/* Multiply-adds × 2 of one image's forward pass through the nodes that
 * @output_mask's outputs need (bit i = output i; 0 = all outputs), counting
 * conv and fc only. */
guint64 lk_nn_spec_get_flops (const LkNnSpec *spec, guint64 output_mask);

/* The nodes that @output_mask's outputs depend on (bit per node, as a
 * boolean array of lk_nn_spec_get_n_nodes() entries). */
void    lk_nn_spec_get_needed (const LkNnSpec *spec, guint64 output_mask, gboolean *needed);

/* A portable little-endian encoding; deserialising validates every field
 * and every shape (LK_ERROR_CORRUPT for a malformed encoding,
 * LK_ERROR_INVALID for a well-formed but impossible network). */
GBytes   *lk_nn_spec_serialize   (const LkNnSpec *spec);
LkNnSpec *lk_nn_spec_deserialize (const guint8 *data, gsize len, GError **error);
gboolean  lk_nn_spec_equal       (const LkNnSpec *a, const LkNnSpec *b);

G_END_DECLS
