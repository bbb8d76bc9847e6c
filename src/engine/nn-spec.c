/* nn-spec.c — building, checking and (de)serialising network specs, and
 * the parameter layout they imply. See nn-spec.h. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "error.h"
#include "nn-le-private.h"
#include "nn-spec.h"

/* Biggest tensor a spec may describe, per image, so that sizes × batch
 * stay far from overflow. */
#define MAX_ELEMENTS_PER_IMAGE (1u << 26)
#define ARENA_ALIGN 16

struct _LkNnSpec
{
  guint n_nodes;
  LkNnNode nodes[LK_NN_MAX_NODES];
  guint n_outputs;
  guint outputs[LK_NN_MAX_OUTPUTS];
  char output_names[LK_NN_MAX_OUTPUTS][LK_NN_NAME_MAX];

  /* Derived. */
  guint n_tensors;
  LkNnTensorInfo tensors[2 * LK_NN_MAX_NODES];
  gsize n_params;
  char error[256];            /* first building problem, or "" */
};

static const char *const op_names[LK_NN_N_OPS] = {
  [LK_NN_OP_IMAGE] = "image", [LK_NN_OP_VECTOR] = "vector", [LK_NN_OP_CONV] = "conv",
  [LK_NN_OP_RELU] = "relu", [LK_NN_OP_MAX_POOL] = "maxpool", [LK_NN_OP_AVG_POOL] = "avgpool",
  [LK_NN_OP_LRN] = "lrn", [LK_NN_OP_FC] = "fc", [LK_NN_OP_DROPOUT] = "dropout",
  [LK_NN_OP_L2NORM] = "l2norm", [LK_NN_OP_CONCAT] = "concat", [LK_NN_OP_FLATTEN] = "flatten",
};

LkNnSpec *
lk_nn_spec_new (void)
{
  return g_new0 (LkNnSpec, 1);
}

LkNnSpec *
lk_nn_spec_copy (const LkNnSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  return g_memdup2 (spec, sizeof *spec);
}

void
lk_nn_spec_free (LkNnSpec *spec)
{
  g_free (spec);
}

/* ---- shape inference ---- */

static guint
pool_out (guint in, guint k, guint s, guint p, gboolean ceil_mode)
{
  guint span = in + 2 * p - k, out;
  out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  /* The last window must start inside the input or the left padding. */
  if (ceil_mode && (out - 1) * s >= in + p)
    out--;
  return out;
}

static gboolean
check_window (const LkNnNode *in, const LkNnNode *n, GError **error)
{
  if (n->kernel_h == 0 || n->kernel_w == 0 || n->stride_h == 0 || n->stride_w == 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Node “%s”: kernel and stride must be positive"),
                   n->name);
      return FALSE;
    }
  if (in->h + 2 * n->pad_h < n->kernel_h || in->w + 2 * n->pad_w < n->kernel_w)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Node “%s”: a %u×%u window does not fit a padded %u×%u input"), n->name,
                   n->kernel_h, n->kernel_w, in->h + 2 * n->pad_h, in->w + 2 * n->pad_w);
      return FALSE;
    }
  /* Padding wider than the window would make windows of padding alone. */
  if (n->pad_h >= n->kernel_h || n->pad_w >= n->kernel_w)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Node “%s”: padding must be smaller than the kernel"), n->name);
      return FALSE;
    }
  return TRUE;
}

/* Fills the inferred fields of @n (the last node of @spec) from its
 * inputs, or fails naming the node. */
static gboolean
infer (LkNnSpec *spec, LkNnNode *n, GError **error)
{
  const LkNnNode *in;
  guint needs_inputs = (n->op == LK_NN_OP_IMAGE || n->op == LK_NN_OP_VECTOR) ? 0 : 1;

  if (n->op == LK_NN_OP_CONCAT ? (n->n_inputs < 1) : (n->n_inputs != needs_inputs))
    goto bad_inputs;
  for (guint i = 0; i < n->n_inputs; i++)
    if (n->inputs[i] >= spec->n_nodes)
      goto bad_inputs;
  /* Only once the index is known to be in range (UBSan: an index read
   * from a model file, taken before the check, is out of bounds). */
  in = n->n_inputs > 0 ? &spec->nodes[n->inputs[0]] : NULL;

  switch (n->op)
    {
    case LK_NN_OP_IMAGE:
      n->spatial = TRUE;
      n->c = n->channels, n->h = n->height, n->w = n->width;
      if (n->c == 0 || n->h == 0 || n->w == 0)
        goto bad_size;
      break;
    case LK_NN_OP_VECTOR:
      n->spatial = FALSE;
      n->c = n->channels, n->h = n->w = 1;
      if (n->c == 0)
        goto bad_size;
      break;
    case LK_NN_OP_CONV:
      if (!in->spatial)
        goto need_spatial;
      if (n->channels == 0)
        goto bad_size;
      if (!check_window (in, n, error))
        return FALSE;
      n->spatial = TRUE;
      n->c = n->channels;
      n->h = pool_out (in->h, n->kernel_h, n->stride_h, n->pad_h, FALSE);
      n->w = pool_out (in->w, n->kernel_w, n->stride_w, n->pad_w, FALSE);
      if ((guint64) in->c * n->kernel_h * n->kernel_w * n->h * n->w > MAX_ELEMENTS_PER_IMAGE)
        goto bad_size;
      break;
    case LK_NN_OP_MAX_POOL:
    case LK_NN_OP_AVG_POOL:
      if (!in->spatial)
        goto need_spatial;
      if (!check_window (in, n, error))
        return FALSE;
      n->spatial = TRUE;
      n->c = in->c;
      n->h = pool_out (in->h, n->kernel_h, n->stride_h, n->pad_h, n->ceil_mode);
      n->w = pool_out (in->w, n->kernel_w, n->stride_w, n->pad_w, n->ceil_mode);
      break;
    case LK_NN_OP_LRN:
      if (!in->spatial)
        goto need_spatial;
      if (n->lrn_size == 0 || !(n->lrn_k > 0) || !(n->lrn_alpha >= 0) || !(n->lrn_beta >= 0))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Node “%s”: LRN needs size > 0, k > 0, α ≥ 0 and β ≥ 0"), n->name);
          return FALSE;
        }
      n->spatial = TRUE;
      n->c = in->c, n->h = in->h, n->w = in->w;
      break;
    case LK_NN_OP_FC:
      if (in->spatial)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Node “%s”: a fully connected layer needs a vector input (flatten first)"),
                       n->name);
          return FALSE;
        }
      if (n->channels == 0 || (guint64) n->channels * in->c > MAX_ELEMENTS_PER_IMAGE)
        goto bad_size;
      n->spatial = FALSE;
      n->c = n->channels, n->h = n->w = 1;
      break;
    case LK_NN_OP_DROPOUT:
      if (!(n->keep > 0 && n->keep <= 1))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Node “%s”: the keep probability must be in (0, 1]"), n->name);
          return FALSE;
        }
      /* fall through */
    case LK_NN_OP_RELU:
      n->spatial = in->spatial;
      n->c = in->c, n->h = in->h, n->w = in->w;
      break;
    case LK_NN_OP_L2NORM:
      if (in->spatial)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Node “%s”: l2 normalisation needs a vector input (flatten first)"),
                       n->name);
          return FALSE;
        }
      n->spatial = FALSE;
      n->c = in->c, n->h = n->w = 1;
      break;
    case LK_NN_OP_FLATTEN:
      n->spatial = FALSE;
      n->c = in->c * in->h * in->w, n->h = n->w = 1;
      break;
    case LK_NN_OP_CONCAT:
      n->spatial = in->spatial;
      n->c = 0, n->h = in->h, n->w = in->w;
      for (guint i = 0; i < n->n_inputs; i++)
        {
          const LkNnNode *x = &spec->nodes[n->inputs[i]];
          if (x->spatial != in->spatial || x->h != in->h || x->w != in->w)
            {
              g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                           _("Node “%s”: concatenated inputs must all be vectors, or spatial "
                             "of one height and width"), n->name);
              return FALSE;
            }
          n->c += x->c;
        }
      break;
    default:
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Node %u: unknown operation %u"),
                   spec->n_nodes, (guint) n->op);
      return FALSE;
    }
  if ((guint64) n->c * n->h * n->w > MAX_ELEMENTS_PER_IMAGE)
    goto bad_size;
  return TRUE;

bad_inputs:
  g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Node “%s”: missing or invalid inputs"),
               n->name);
  return FALSE;
bad_size:
  g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Node “%s”: invalid or too large size"),
               n->name);
  return FALSE;
need_spatial:
  g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Node “%s”: %s needs a spatial input"),
               n->name, op_names[n->op]);
  return FALSE;
}

static void
add_tensor (LkNnSpec *spec, guint node, const char *suffix, gboolean decay, guint rank,
            guint d0, guint d1, guint d2, guint d3)
{
  LkNnTensorInfo *t = &spec->tensors[spec->n_tensors++];
  const guint dims[4] = { d0, d1, d2, d3 };

  g_snprintf (t->name, sizeof t->name, "%s.%s", spec->nodes[node].name, suffix);
  t->node = node;
  t->rank = rank;
  t->size = 1;
  for (guint i = 0; i < 4; i++)
    {
      t->shape[i] = i < rank ? dims[i] : 1;
      t->size *= t->shape[i];
    }
  t->decay = decay;
  t->offset = spec->n_params;
  spec->n_params += (t->size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

/* Appends @n (a node with its arguments and inputs set) after checking it. */
static gboolean
append_node (LkNnSpec *spec, const LkNnNode *node, GError **error)
{
  LkNnNode *n;

  if (spec->n_nodes >= LK_NN_MAX_NODES)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("A network has at most %u nodes"),
                   LK_NN_MAX_NODES);
      return FALSE;
    }
  n = &spec->nodes[spec->n_nodes];
  *n = *node;
  if (n->name[0] == '\0' || memchr (n->name, '\0', LK_NN_NAME_MAX) == NULL ||
      !g_utf8_validate (n->name, -1, NULL))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Node %u: missing or invalid name"),
                   spec->n_nodes);
      return FALSE;
    }
  for (guint i = 0; i < spec->n_nodes; i++)
    if (strcmp (spec->nodes[i].name, n->name) == 0)
      {
        g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Two nodes are called “%s”"), n->name);
        return FALSE;
      }
  if (!infer (spec, n, error))
    return FALSE;
  spec->n_nodes++;
  if (n->op == LK_NN_OP_CONV)
    {
      const LkNnNode *in = &spec->nodes[n->inputs[0]];
      add_tensor (spec, spec->n_nodes - 1, "weight", TRUE, 4, n->c, in->c, n->kernel_h,
                  n->kernel_w);
      add_tensor (spec, spec->n_nodes - 1, "bias", FALSE, 1, n->c, 0, 0, 0);
    }
  else if (n->op == LK_NN_OP_FC)
    {
      add_tensor (spec, spec->n_nodes - 1, "weight", TRUE, 2, n->c,
                  spec->nodes[n->inputs[0]].c, 0, 0);
      add_tensor (spec, spec->n_nodes - 1, "bias", FALSE, 1, n->c, 0, 0, 0);
    }
  return TRUE;
}

static gboolean
append_output (LkNnSpec *spec, const char *name, guint node, GError **error)
{
  if (spec->n_outputs >= LK_NN_MAX_OUTPUTS || node >= spec->n_nodes)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Output “%s”: invalid node or too many outputs"),
                   name);
      return FALSE;
    }
  if (name[0] == '\0' || strlen (name) >= LK_NN_NAME_MAX || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Output %u: missing or invalid name"),
                   spec->n_outputs);
      return FALSE;
    }
  for (guint i = 0; i < spec->n_outputs; i++)
    if (strcmp (spec->output_names[i], name) == 0)
      {
        g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Two outputs are called “%s”"), name);
        return FALSE;
      }
  if (spec->nodes[node].spatial)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Output “%s” must be a vector (flatten it first)"), name);
      return FALSE;
    }
  g_strlcpy (spec->output_names[spec->n_outputs], name, LK_NN_NAME_MAX);
  spec->outputs[spec->n_outputs++] = node;
  return TRUE;
}

/* ---- the builder ---- */

static int
builder_add (LkNnSpec *spec, LkNnNode *n, const char *name, guint n_inputs, const int *inputs)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (spec != NULL, -1);
  if (spec->error[0] != '\0')
    return -1;
  if (name != NULL)
    {
      if (strlen (name) >= LK_NN_NAME_MAX)
        {
          g_snprintf (spec->error, sizeof spec->error, _("Node name “%s” is too long"), name);
          return -1;
        }
      g_strlcpy (n->name, name, LK_NN_NAME_MAX);
    }
  else
    g_snprintf (n->name, LK_NN_NAME_MAX, "%s%u", op_names[n->op], spec->n_nodes);
  if (n_inputs > LK_NN_MAX_INPUTS)
    {
      g_snprintf (spec->error, sizeof spec->error, _("Node “%s”: at most %u inputs"), n->name,
                  LK_NN_MAX_INPUTS);
      return -1;
    }
  n->n_inputs = n_inputs;
  for (guint i = 0; i < n_inputs; i++)
    {
      if (inputs[i] < 0 || (guint) inputs[i] >= spec->n_nodes)
        {
          g_snprintf (spec->error, sizeof spec->error, _("Node “%s”: invalid input %d"), n->name,
                      inputs[i]);
          return -1;
        }
      n->inputs[i] = (guint) inputs[i];
    }
  if (!append_node (spec, n, &error))
    {
      g_strlcpy (spec->error, error->message, sizeof spec->error);
      return -1;
    }
  return (int) spec->n_nodes - 1;
}

int
lk_nn_spec_add_image (LkNnSpec *spec, const char *name, guint channels, guint height, guint width)
{
  LkNnNode n = { .op = LK_NN_OP_IMAGE, .channels = channels, .height = height, .width = width };
  return builder_add (spec, &n, name, 0, NULL);
}

int
lk_nn_spec_add_vector (LkNnSpec *spec, const char *name, guint dim)
{
  LkNnNode n = { .op = LK_NN_OP_VECTOR, .channels = dim };
  return builder_add (spec, &n, name, 0, NULL);
}

int
lk_nn_spec_add_conv_full (LkNnSpec *spec, const char *name, int input, guint filters,
                          guint kernel_h, guint kernel_w, guint stride_h, guint stride_w,
                          guint pad_h, guint pad_w)
{
  LkNnNode n = { .op = LK_NN_OP_CONV, .channels = filters, .kernel_h = kernel_h,
                 .kernel_w = kernel_w, .stride_h = stride_h, .stride_w = stride_w,
                 .pad_h = pad_h, .pad_w = pad_w };
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_conv (LkNnSpec *spec, const char *name, int input, guint filters, guint kernel,
                     guint stride, guint pad)
{
  return lk_nn_spec_add_conv_full (spec, name, input, filters, kernel, kernel, stride, stride,
                                   pad, pad);
}

int
lk_nn_spec_add_relu (LkNnSpec *spec, const char *name, int input)
{
  LkNnNode n = { .op = LK_NN_OP_RELU };
  return builder_add (spec, &n, name, 1, &input);
}

static int
add_pool (LkNnSpec *spec, LkNnOp op, const char *name, int input, guint kernel, guint stride,
          guint pad, gboolean ceil_mode)
{
  LkNnNode n = { .op = op, .kernel_h = kernel, .kernel_w = kernel, .stride_h = stride,
                 .stride_w = stride, .pad_h = pad, .pad_w = pad, .ceil_mode = !!ceil_mode };
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_max_pool (LkNnSpec *spec, const char *name, int input, guint kernel, guint stride,
                         guint pad, gboolean ceil_mode)
{
  return add_pool (spec, LK_NN_OP_MAX_POOL, name, input, kernel, stride, pad, ceil_mode);
}

int
lk_nn_spec_add_avg_pool (LkNnSpec *spec, const char *name, int input, guint kernel, guint stride,
                         guint pad, gboolean ceil_mode)
{
  return add_pool (spec, LK_NN_OP_AVG_POOL, name, input, kernel, stride, pad, ceil_mode);
}

int
lk_nn_spec_add_lrn (LkNnSpec *spec, const char *name, int input, guint size, float alpha,
                    float beta, float k)
{
  LkNnNode n = { .op = LK_NN_OP_LRN, .lrn_size = size, .lrn_alpha = alpha, .lrn_beta = beta,
                 .lrn_k = k };
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_fc (LkNnSpec *spec, const char *name, int input, guint outputs)
{
  LkNnNode n = { .op = LK_NN_OP_FC, .channels = outputs };

  g_return_val_if_fail (spec != NULL, -1);
  if (input >= 0 && (guint) input < spec->n_nodes && spec->nodes[input].spatial)
    {
      char flat[LK_NN_NAME_MAX + 8];
      g_snprintf (flat, sizeof flat, "%s.flat", name != NULL ? name : "fc");
      if (name == NULL)
        g_snprintf (flat, sizeof flat, "fc%u.flat", spec->n_nodes + 1);
      input = lk_nn_spec_add_flatten (spec, flat, input);
    }
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_dropout (LkNnSpec *spec, const char *name, int input, float keep)
{
  LkNnNode n = { .op = LK_NN_OP_DROPOUT, .keep = keep };
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_l2norm (LkNnSpec *spec, const char *name, int input)
{
  LkNnNode n = { .op = LK_NN_OP_L2NORM };
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_concat (LkNnSpec *spec, const char *name, guint n_inputs, const int *inputs)
{
  LkNnNode n = { .op = LK_NN_OP_CONCAT };
  return builder_add (spec, &n, name, n_inputs, inputs);
}

int
lk_nn_spec_add_flatten (LkNnSpec *spec, const char *name, int input)
{
  LkNnNode n = { .op = LK_NN_OP_FLATTEN };
  return builder_add (spec, &n, name, 1, &input);
}

int
lk_nn_spec_add_output (LkNnSpec *spec, const char *name, int node)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (spec != NULL && name != NULL, -1);
  if (spec->error[0] != '\0')
    return -1;
  if (node < 0 || !append_output (spec, name, (guint) node, &error))
    {
      g_snprintf (spec->error, sizeof spec->error, "%s",
                  error != NULL ? error->message : _("Output with an invalid node"));
      return -1;
    }
  return (int) spec->n_outputs - 1;
}

gboolean
lk_nn_spec_check (const LkNnSpec *spec, GError **error)
{
  g_return_val_if_fail (spec != NULL, FALSE);
  if (spec->error[0] != '\0')
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, "%s", spec->error);
      return FALSE;
    }
  if (spec->n_outputs == 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("The network has no output"));
      return FALSE;
    }
  return TRUE;
}

/* ---- accessors ---- */

guint
lk_nn_spec_get_n_nodes (const LkNnSpec *spec)
{
  return spec->n_nodes;
}

const LkNnNode *
lk_nn_spec_get_node (const LkNnSpec *spec, guint node)
{
  g_return_val_if_fail (node < spec->n_nodes, NULL);
  return &spec->nodes[node];
}

int
lk_nn_spec_find_node (const LkNnSpec *spec, const char *name)
{
  for (guint i = 0; i < spec->n_nodes; i++)
    if (strcmp (spec->nodes[i].name, name) == 0)
      return (int) i;
  return -1;
}

guint
lk_nn_spec_get_n_inputs (const LkNnSpec *spec)
{
  guint n = 0;
  for (guint i = 0; i < spec->n_nodes; i++)
    n += spec->nodes[i].op == LK_NN_OP_IMAGE || spec->nodes[i].op == LK_NN_OP_VECTOR;
  return n;
}

guint
lk_nn_spec_get_input_node (const LkNnSpec *spec, guint input)
{
  for (guint i = 0; i < spec->n_nodes; i++)
    if (spec->nodes[i].op == LK_NN_OP_IMAGE || spec->nodes[i].op == LK_NN_OP_VECTOR)
      if (input-- == 0)
        return i;
  g_return_val_if_reached (0);
}

guint
lk_nn_spec_get_n_outputs (const LkNnSpec *spec)
{
  return spec->n_outputs;
}

guint
lk_nn_spec_get_output_node (const LkNnSpec *spec, guint output)
{
  g_return_val_if_fail (output < spec->n_outputs, 0);
  return spec->outputs[output];
}

const char *
lk_nn_spec_get_output_name (const LkNnSpec *spec, guint output)
{
  g_return_val_if_fail (output < spec->n_outputs, NULL);
  return spec->output_names[output];
}

int
lk_nn_spec_find_output (const LkNnSpec *spec, const char *name)
{
  for (guint i = 0; i < spec->n_outputs; i++)
    if (strcmp (spec->output_names[i], name) == 0)
      return (int) i;
  return -1;
}

guint
lk_nn_spec_get_output_dim (const LkNnSpec *spec, guint output)
{
  g_return_val_if_fail (output < spec->n_outputs, 0);
  return spec->nodes[spec->outputs[output]].c;
}

guint
lk_nn_spec_get_n_tensors (const LkNnSpec *spec)
{
  return spec->n_tensors;
}

const LkNnTensorInfo *
lk_nn_spec_get_tensor (const LkNnSpec *spec, guint tensor)
{
  g_return_val_if_fail (tensor < spec->n_tensors, NULL);
  return &spec->tensors[tensor];
}

int
lk_nn_spec_find_tensor (const LkNnSpec *spec, const char *name)
{
  for (guint i = 0; i < spec->n_tensors; i++)
    if (strcmp (spec->tensors[i].name, name) == 0)
      return (int) i;
  return -1;
}

gsize
lk_nn_spec_get_n_params (const LkNnSpec *spec)
{
  return spec->n_params;
}

void
lk_nn_spec_get_needed (const LkNnSpec *spec, guint64 output_mask, gboolean *needed)
{
  memset (needed, 0, spec->n_nodes * sizeof *needed);
  for (guint o = 0; o < spec->n_outputs; o++)
    if (output_mask == 0 || (output_mask & ((guint64) 1 << o)))
      needed[spec->outputs[o]] = TRUE;
  /* Topological order: a node's inputs come before it. */
  for (guint i = spec->n_nodes; i-- > 0;)
    if (needed[i])
      for (guint k = 0; k < spec->nodes[i].n_inputs; k++)
        needed[spec->nodes[i].inputs[k]] = TRUE;
}

guint64
lk_nn_spec_get_flops (const LkNnSpec *spec, guint64 output_mask)
{
  gboolean needed[LK_NN_MAX_NODES];
  guint64 flops = 0;

  lk_nn_spec_get_needed (spec, output_mask, needed);
  for (guint i = 0; i < spec->n_nodes; i++)
    {
      const LkNnNode *n = &spec->nodes[i];
      const LkNnNode *in = n->n_inputs > 0 ? &spec->nodes[n->inputs[0]] : NULL;
      if (!needed[i])
        continue;
      if (n->op == LK_NN_OP_CONV)
        flops += 2ull * n->c * n->h * n->w * in->c * n->kernel_h * n->kernel_w;
      else if (n->op == LK_NN_OP_FC)
        flops += 2ull * n->c * in->c;
    }
  return flops;
}

/* ---- serialisation ----
 *
 * u32 n_nodes, u32 n_outputs, then per node:
 *   u32 op, u32 n_inputs, u32 inputs[n_inputs], char name[32] (NUL-padded),
 *   u32 channels, height, width, kernel_h, kernel_w, stride_h, stride_w,
 *       pad_h, pad_w, ceil_mode, lrn_size,
 *   f32 lrn_alpha, lrn_beta, lrn_k, keep
 * then per output: u32 node, char name[32].
 * All little-endian. Inferred fields are recomputed on reading. */

#define N_UINT_ARGS 11
#define N_FLOAT_ARGS 4

static void
put_name (GByteArray *b, const char *name)
{
  char buf[LK_NN_NAME_MAX] = { 0 };
  g_strlcpy (buf, name, sizeof buf);
  g_byte_array_append (b, (const guint8 *) buf, sizeof buf);
}

GBytes *
lk_nn_spec_serialize (const LkNnSpec *spec)
{
  GByteArray *b = g_byte_array_new ();

  g_return_val_if_fail (spec != NULL, NULL);
  _lk_nn_put_u32 (b, spec->n_nodes);
  _lk_nn_put_u32 (b, spec->n_outputs);
  for (guint i = 0; i < spec->n_nodes; i++)
    {
      const LkNnNode *n = &spec->nodes[i];
      const guint32 u[N_UINT_ARGS] = { n->channels, n->height, n->width, n->kernel_h,
                                       n->kernel_w, n->stride_h, n->stride_w, n->pad_h,
                                       n->pad_w, (guint32) n->ceil_mode, n->lrn_size };
      const float f[N_FLOAT_ARGS] = { n->lrn_alpha, n->lrn_beta, n->lrn_k, n->keep };
      _lk_nn_put_u32 (b, n->op);
      _lk_nn_put_u32 (b, n->n_inputs);
      for (guint k = 0; k < n->n_inputs; k++)
        _lk_nn_put_u32 (b, n->inputs[k]);
      put_name (b, n->name);
      for (guint k = 0; k < N_UINT_ARGS; k++)
        _lk_nn_put_u32 (b, u[k]);
      for (guint k = 0; k < N_FLOAT_ARGS; k++)
        _lk_nn_put_f32 (b, f[k]);
    }
  for (guint o = 0; o < spec->n_outputs; o++)
    {
      _lk_nn_put_u32 (b, spec->outputs[o]);
      put_name (b, spec->output_names[o]);
    }
  return g_byte_array_free_to_bytes (b);
}

typedef struct {
  const guint8 *p;
  gsize left;
} Reader;

static gboolean
get_u32 (Reader *r, guint32 *v)
{
  guint32 le;
  if (r->left < 4)
    return FALSE;
  memcpy (&le, r->p, 4);
  *v = GUINT32_FROM_LE (le);
  r->p += 4, r->left -= 4;
  return TRUE;
}

static gboolean
get_f32 (Reader *r, float *f)
{
  guint32 u;
  if (!get_u32 (r, &u))
    return FALSE;
  memcpy (f, &u, 4);
  return TRUE;
}

static gboolean
get_name (Reader *r, char *name)
{
  if (r->left < LK_NN_NAME_MAX)
    return FALSE;
  const char *end;
  memcpy (name, r->p, LK_NN_NAME_MAX);
  r->p += LK_NN_NAME_MAX, r->left -= LK_NN_NAME_MAX;
  end = memchr (name, '\0', LK_NN_NAME_MAX);
  if (end == NULL)
    return FALSE;
  /* NUL-padded: one encoding per spec. */
  for (; end < name + LK_NN_NAME_MAX; end++)
    if (*end != '\0')
      return FALSE;
  return TRUE;
}

LkNnSpec *
lk_nn_spec_deserialize (const guint8 *data, gsize len, GError **error)
{
  g_autoptr(LkNnSpec) spec = lk_nn_spec_new ();
  Reader r = { data, len };
  guint32 n_nodes, n_outputs;

  if (!get_u32 (&r, &n_nodes) || !get_u32 (&r, &n_outputs))
    goto corrupt;
  if (n_nodes > LK_NN_MAX_NODES || n_outputs > LK_NN_MAX_OUTPUTS)
    goto corrupt;
  for (guint i = 0; i < n_nodes; i++)
    {
      LkNnNode n = { 0 };
      guint32 op, n_inputs, u[N_UINT_ARGS];
      float f[N_FLOAT_ARGS];

      if (!get_u32 (&r, &op) || !get_u32 (&r, &n_inputs) || n_inputs > LK_NN_MAX_INPUTS)
        goto corrupt;
      n.op = op;
      n.n_inputs = n_inputs;
      for (guint k = 0; k < n_inputs; k++)
        if (!get_u32 (&r, &n.inputs[k]))
          goto corrupt;
      if (!get_name (&r, n.name))
        goto corrupt;
      for (guint k = 0; k < N_UINT_ARGS; k++)
        if (!get_u32 (&r, &u[k]))
          goto corrupt;
      for (guint k = 0; k < N_FLOAT_ARGS; k++)
        if (!get_f32 (&r, &f[k]))
          goto corrupt;
      if (op == 0 || op >= LK_NN_N_OPS || u[9] > 1)
        goto corrupt;
      n.channels = u[0], n.height = u[1], n.width = u[2], n.kernel_h = u[3], n.kernel_w = u[4];
      n.stride_h = u[5], n.stride_w = u[6], n.pad_h = u[7], n.pad_w = u[8];
      n.ceil_mode = (gboolean) u[9], n.lrn_size = u[10];
      n.lrn_alpha = f[0], n.lrn_beta = f[1], n.lrn_k = f[2], n.keep = f[3];
      if (!append_node (spec, &n, error))
        return NULL;
    }
  for (guint o = 0; o < n_outputs; o++)
    {
      guint32 node;
      char name[LK_NN_NAME_MAX];
      if (!get_u32 (&r, &node) || !get_name (&r, name))
        goto corrupt;
      if (!append_output (spec, name, node, error))
        return NULL;
    }
  if (r.left != 0)
    goto corrupt;
  if (!lk_nn_spec_check (spec, error))
    return NULL;
  return g_steal_pointer (&spec);

corrupt:
  g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Malformed network description"));
  return NULL;
}

gboolean
lk_nn_spec_equal (const LkNnSpec *a, const LkNnSpec *b)
{
  g_autoptr(GBytes) ea = lk_nn_spec_serialize (a);
  g_autoptr(GBytes) eb = lk_nn_spec_serialize (b);
  return g_bytes_equal (ea, eb);
}
