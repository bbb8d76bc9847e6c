/* nn-reference.c — naive double-precision forward and backward of every
 * layer, per image in NCHW, and the graph walk around them. See
 * nn-reference.h. Written for obviousness, not speed: each backward is
 * the chain rule applied to the forward formula term by term. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn-kernels.h"
#include "nn-reference.h"

struct _LkNnRef
{
  LkNnSpec *spec;
  guint batch;
  gsize n_params;
  double *params, *grads;
  double *out[LK_NN_MAX_NODES];
  double *grad[LK_NN_MAX_NODES];
  double *mask[LK_NN_MAX_NODES];      /* dropout */
  double *output_grads[LK_NN_MAX_OUTPUTS];
  gboolean needed[LK_NN_MAX_NODES];
  LkNnMode mode;
  guint64 output_mask;
};

static gsize
node_size (const LkNnNode *n)
{
  return (gsize) n->c * n->h * n->w;
}

LkNnRef *
lk_nn_ref_new (const LkNnSpec *spec, guint batch)
{
  LkNnRef *ref = g_new0 (LkNnRef, 1);

  ref->spec = lk_nn_spec_copy (spec);
  ref->batch = batch;
  ref->n_params = lk_nn_spec_get_n_params (spec);
  ref->params = g_new0 (double, ref->n_params + 1);
  ref->grads = g_new0 (double, ref->n_params + 1);
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (spec); i++)
    {
      gsize n = node_size (lk_nn_spec_get_node (spec, i)) * batch;
      ref->out[i] = g_new0 (double, n);
      ref->grad[i] = g_new0 (double, n);
      ref->mask[i] = g_new0 (double, n);
    }
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (spec); o++)
    ref->output_grads[o] = g_new0 (double, (gsize) lk_nn_spec_get_output_dim (spec, o) * batch);
  return ref;
}

void
lk_nn_ref_free (LkNnRef *ref)
{
  if (ref == NULL)
    return;
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (ref->spec); i++)
    {
      g_free (ref->out[i]);
      g_free (ref->grad[i]);
      g_free (ref->mask[i]);
    }
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (ref->spec); o++)
    g_free (ref->output_grads[o]);
  g_free (ref->params);
  g_free (ref->grads);
  lk_nn_spec_free (ref->spec);
  g_free (ref);
}

double *
lk_nn_ref_get_params (LkNnRef *ref)
{
  return ref->params;
}

double *
lk_nn_ref_get_grads (LkNnRef *ref)
{
  return ref->grads;
}

const double *
lk_nn_ref_get_output (LkNnRef *ref, guint output)
{
  return ref->out[lk_nn_spec_get_output_node (ref->spec, output)];
}

double *
lk_nn_ref_get_output_grad (LkNnRef *ref, guint output)
{
  return ref->output_grads[output];
}

const double *
lk_nn_ref_get_input_grad (LkNnRef *ref, guint input)
{
  return ref->grad[lk_nn_spec_get_input_node (ref->spec, input)];
}

const double *
lk_nn_ref_get_node_output (LkNnRef *ref, guint node)
{
  return ref->out[node];
}

static double *
weight_of (LkNnRef *ref, double *arena, guint node, const char *what)
{
  char name[2 * LK_NN_NAME_MAX + 8];
  int t;
  g_snprintf (name, sizeof name, "%s.%s", lk_nn_spec_get_node (ref->spec, node)->name, what);
  t = lk_nn_spec_find_tensor (ref->spec, name);
  g_assert (t >= 0);
  return arena + lk_nn_spec_get_tensor (ref->spec, t)->offset;
}

/* ---- conv, per image ---- */

static void
conv (const LkNnNode *n, const LkNnNode *in, const double *x, const double *w, const double *b,
      double *y, const double *dy, double *dx, double *dw, double *db)
{
  for (guint o = 0; o < n->c; o++)
    for (guint oh = 0; oh < n->h; oh++)
      for (guint ow = 0; ow < n->w; ow++)
        {
          gsize yi = ((gsize) o * n->h + oh) * n->w + ow;
          double s = b != NULL ? b[o] : 0, g = dy != NULL ? dy[yi] : 0;
          if (dy != NULL)
            db[o] += g;
          for (guint c = 0; c < in->c; c++)
            for (guint ki = 0; ki < n->kernel_h; ki++)
              for (guint kj = 0; kj < n->kernel_w; kj++)
                {
                  int ih = (int) (oh * n->stride_h + ki) - (int) n->pad_h;
                  int iw = (int) (ow * n->stride_w + kj) - (int) n->pad_w;
                  gsize wi = (((gsize) o * in->c + c) * n->kernel_h + ki) * n->kernel_w + kj;
                  gsize xi;
                  if (ih < 0 || iw < 0 || ih >= (int) in->h || iw >= (int) in->w)
                    continue;
                  xi = ((gsize) c * in->h + ih) * in->w + iw;
                  if (dy == NULL)
                    s += w[wi] * x[xi];
                  else
                    {
                      dw[wi] += g * x[xi];
                      if (dx != NULL)
                        dx[xi] += g * w[wi];
                    }
                }
          if (dy == NULL)
            y[yi] = s;
        }
}

/* ---- pools, per image ---- */

static void
window (guint o, guint s, guint p, guint k, guint in, guint *lo, guint *hi)
{
  int a = (int) (o * s) - (int) p;
  *lo = (guint) MAX (a, 0);
  *hi = (guint) MIN (a + (int) k, (int) in);
}

static void
pool (const LkNnNode *n, const LkNnNode *in, const double *x, double *y, const double *dy,
      double *dx)
{
  for (guint c = 0; c < n->c; c++)
    for (guint oh = 0; oh < n->h; oh++)
      for (guint ow = 0; ow < n->w; ow++)
        {
          guint h0, h1, w0, w1;
          gsize yi = ((gsize) c * n->h + oh) * n->w + ow, best = 0;
          double m = -INFINITY, s = 0;
          window (oh, n->stride_h, n->pad_h, n->kernel_h, in->h, &h0, &h1);
          window (ow, n->stride_w, n->pad_w, n->kernel_w, in->w, &w0, &w1);
          for (guint ih = h0; ih < h1; ih++)
            for (guint iw = w0; iw < w1; iw++)
              {
                gsize xi = ((gsize) c * in->h + ih) * in->w + iw;
                if (x[xi] > m)
                  m = x[xi], best = xi;
                s += x[xi];
              }
          if (n->op == LK_NN_OP_MAX_POOL)
            {
              if (dy == NULL)
                y[yi] = m;
              else
                dx[best] += dy[yi];
            }
          else
            {
              double cnt = (double) (h1 - h0) * (w1 - w0);
              if (dy == NULL)
                y[yi] = s / cnt;
              else
                for (guint ih = h0; ih < h1; ih++)
                  for (guint iw = w0; iw < w1; iw++)
                    dx[((gsize) c * in->h + ih) * in->w + iw] += dy[yi] / cnt;
            }
        }
}

/* ---- LRN, per image: b_c = a_c s_c^−β, s_c = k + α/n Σ_{j ∈ W(c)} a_j² ---- */

static void
lrn (const LkNnNode *n, const double *x, double *y, const double *dy, double *dx)
{
  gsize P = (gsize) n->h * n->w;
  double an = n->lrn_alpha / n->lrn_size;

  for (gsize p = 0; p < P; p++)
    for (guint c = 0; c < n->c; c++)
      {
        int lo = MAX ((int) c - (int) (n->lrn_size / 2), 0);
        int hi = MIN ((int) c + (int) ((n->lrn_size - 1) / 2), (int) n->c - 1);
        double s = n->lrn_k;
        for (int j = lo; j <= hi; j++)
          s += an * x[j * P + p] * x[j * P + p];
        if (dy == NULL)
          {
            y[c * P + p] = x[c * P + p] * pow (s, -n->lrn_beta);
            continue;
          }
        /* ∂b_c/∂a_j = [j = c] s^−β − β a_c s^(−β−1) · 2 (α/n) a_j for j ∈ W(c). */
        dx[c * P + p] += dy[c * P + p] * pow (s, -n->lrn_beta);
        for (int j = lo; j <= hi; j++)
          dx[j * P + p] -= dy[c * P + p] * n->lrn_beta * x[c * P + p] *
                           pow (s, -n->lrn_beta - 1) * 2 * an * x[j * P + p];
      }
}

/* ---- l2 normalisation, per image ---- */

static void
l2norm (guint d, const double *x, double *y, const double *dy, double *dx)
{
  double s = 0, nr;
  for (guint i = 0; i < d; i++)
    s += x[i] * x[i];
  nr = sqrt (s);
  if (dy == NULL)
    {
      for (guint i = 0; i < d; i++)
        y[i] = x[i] / MAX (nr, 1e-12);
      return;
    }
  /* ∂y_i/∂x_j = δ_ij/‖x‖ − x_i x_j/‖x‖³. */
  for (guint j = 0; j < d; j++)
    {
      double g = dy[j] / nr;
      for (guint i = 0; i < d; i++)
        g -= dy[i] * x[i] * x[j] / (nr * nr * nr);
      dx[j] += g;
    }
}

/* ---- the graph ---- */

void
lk_nn_ref_forward (LkNnRef *ref, const double *const *inputs, LkNnMode mode, guint64 rng_seed,
                   guint64 rng_counter, guint64 output_mask)
{
  const LkNnSpec *spec = ref->spec;
  guint k = 0;

  ref->mode = mode;
  ref->output_mask = output_mask;
  lk_nn_spec_get_needed (spec, output_mask, ref->needed);
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (spec); i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (spec, i);
      const LkNnNode *in = n->n_inputs > 0 ? lk_nn_spec_get_node (spec, n->inputs[0]) : NULL;
      gsize ys = node_size (n), xs = in != NULL ? node_size (in) : 0;
      guint64 key = lk_nn_dropout_key (rng_seed, rng_counter, i);

      if (n->op == LK_NN_OP_IMAGE || n->op == LK_NN_OP_VECTOR)
        {
          if (ref->needed[i])
            memcpy (ref->out[i], inputs[k], ys * ref->batch * sizeof (double));
          k++;
          continue;
        }
      if (!ref->needed[i])
        continue;
      for (guint b = 0; b < ref->batch; b++)
        {
          const double *x = in != NULL ? ref->out[n->inputs[0]] + b * xs : NULL;
          double *y = ref->out[i] + b * ys;
          switch (n->op)
            {
            case LK_NN_OP_CONV:
              conv (n, in, x, weight_of (ref, ref->params, i, "weight"),
                    weight_of (ref, ref->params, i, "bias"), y, NULL, NULL, NULL, NULL);
              break;
            case LK_NN_OP_FC:
              {
                const double *w = weight_of (ref, ref->params, i, "weight");
                const double *bias = weight_of (ref, ref->params, i, "bias");
                for (guint o = 0; o < n->c; o++)
                  {
                    double s = bias[o];
                    for (guint j = 0; j < in->c; j++)
                      s += w[(gsize) o * in->c + j] * x[j];
                    y[o] = s;
                  }
              }
              break;
            case LK_NN_OP_RELU:
              for (gsize j = 0; j < ys; j++)
                y[j] = x[j] > 0 ? x[j] : 0;
              break;
            case LK_NN_OP_MAX_POOL:
            case LK_NN_OP_AVG_POOL:
              pool (n, in, x, y, NULL, NULL);
              break;
            case LK_NN_OP_LRN:
              lrn (n, x, y, NULL, NULL);
              break;
            case LK_NN_OP_DROPOUT:
              for (gsize j = 0; j < ys; j++)
                {
                  double m = 1;
                  if (mode == LK_NN_TRAIN)
                    m = lk_nn_dropout_uniform (key, b, j) < n->keep ? 1.0 / (float) n->keep : 0;
                  ref->mask[i][b * ys + j] = m;
                  y[j] = x[j] * m;
                }
              break;
            case LK_NN_OP_L2NORM:
              l2norm (n->c, x, y, NULL, NULL);
              break;
            case LK_NN_OP_FLATTEN:
              memcpy (y, x, ys * sizeof *y);
              break;
            case LK_NN_OP_CONCAT:
              {
                gsize off = 0, hw = (gsize) n->h * n->w;
                for (guint q = 0; q < n->n_inputs; q++)
                  {
                    const LkNnNode *iq = lk_nn_spec_get_node (spec, n->inputs[q]);
                    memcpy (y + off * hw, ref->out[n->inputs[q]] + b * node_size (iq),
                            node_size (iq) * sizeof *y);
                    off += iq->c;
                  }
              }
              break;
            default:
              g_assert_not_reached ();
            }
        }
    }
}

void
lk_nn_ref_backward (LkNnRef *ref)
{
  const LkNnSpec *spec = ref->spec;

  memset (ref->grads, 0, ref->n_params * sizeof (double));
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (spec); i++)
    memset (ref->grad[i], 0, node_size (lk_nn_spec_get_node (spec, i)) * ref->batch * sizeof (double));
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (spec); o++)
    if (ref->output_mask == 0 || (ref->output_mask & ((guint64) 1 << o)))
      {
        guint node = lk_nn_spec_get_output_node (spec, o);
        gsize len = (gsize) lk_nn_spec_get_output_dim (spec, o) * ref->batch;
        for (gsize j = 0; j < len; j++)
          ref->grad[node][j] += ref->output_grads[o][j];
      }
  for (guint i = lk_nn_spec_get_n_nodes (spec); i-- > 0;)
    {
      const LkNnNode *n = lk_nn_spec_get_node (spec, i);
      const LkNnNode *in = n->n_inputs > 0 ? lk_nn_spec_get_node (spec, n->inputs[0]) : NULL;
      gsize ys = node_size (n), xs = in != NULL ? node_size (in) : 0;

      if (!ref->needed[i] || in == NULL)
        continue;
      for (guint b = 0; b < ref->batch; b++)
        {
          const double *x = ref->out[n->inputs[0]] + b * xs, *y = ref->out[i] + b * ys;
          const double *dy = ref->grad[i] + b * ys;
          double *dx = ref->grad[n->inputs[0]] + b * xs;
          switch (n->op)
            {
            case LK_NN_OP_CONV:
              conv (n, in, x, weight_of (ref, ref->params, i, "weight"), NULL, NULL, dy, dx,
                    weight_of (ref, ref->grads, i, "weight"), weight_of (ref, ref->grads, i, "bias"));
              break;
            case LK_NN_OP_FC:
              {
                const double *w = weight_of (ref, ref->params, i, "weight");
                double *dw = weight_of (ref, ref->grads, i, "weight");
                double *db = weight_of (ref, ref->grads, i, "bias");
                for (guint o = 0; o < n->c; o++)
                  {
                    db[o] += dy[o];
                    for (guint j = 0; j < in->c; j++)
                      {
                        dw[(gsize) o * in->c + j] += dy[o] * x[j];
                        dx[j] += dy[o] * w[(gsize) o * in->c + j];
                      }
                  }
              }
              break;
            case LK_NN_OP_RELU:
              for (gsize j = 0; j < ys; j++)
                dx[j] += x[j] > 0 ? dy[j] : 0;
              break;
            case LK_NN_OP_MAX_POOL:
            case LK_NN_OP_AVG_POOL:
              pool (n, in, x, NULL, dy, dx);
              break;
            case LK_NN_OP_LRN:
              lrn (n, x, NULL, dy, dx);
              break;
            case LK_NN_OP_DROPOUT:
              for (gsize j = 0; j < ys; j++)
                dx[j] += dy[j] * ref->mask[i][b * ys + j];
              break;
            case LK_NN_OP_L2NORM:
              l2norm (n->c, x, NULL, dy, dx);
              break;
            case LK_NN_OP_FLATTEN:
              for (gsize j = 0; j < ys; j++)
                dx[j] += dy[j];
              break;
            case LK_NN_OP_CONCAT:
              {
                gsize off = 0, hw = (gsize) n->h * n->w;
                for (guint q = 0; q < n->n_inputs; q++)
                  {
                    const LkNnNode *iq = lk_nn_spec_get_node (spec, n->inputs[q]);
                    double *d = ref->grad[n->inputs[q]] + b * node_size (iq);
                    for (gsize j = 0; j < node_size (iq); j++)
                      d[j] += dy[off * hw + j];
                    off += iq->c;
                  }
              }
              break;
            default:
              g_assert_not_reached ();
            }
          (void) y;
        }
    }
}

double
lk_nn_ref_triplet_loss (const double *emb, guint dim, guint n, double gap, double *grad)
{
  double total = 0;

  if (grad != NULL)
    memset (grad, 0, (gsize) 3 * n * dim * sizeof *grad);
  for (guint i = 0; i < n; i++)
    {
      const double *q = emb + (gsize) i * dim, *p = emb + (gsize) (n + i) * dim;
      const double *m = emb + (gsize) (2 * n + i) * dim;
      double dp = 0, dn = 0, h;
      for (guint k = 0; k < dim; k++)
        {
          dp += (q[k] - p[k]) * (q[k] - p[k]);
          dn += (q[k] - m[k]) * (q[k] - m[k]);
        }
      h = gap + dp - dn;
      if (h <= 0)
        continue;
      total += h;
      if (grad != NULL)
        for (guint k = 0; k < dim; k++)
          {
            grad[(gsize) i * dim + k] = 2 * (q[k] - p[k]) - 2 * (q[k] - m[k]);
            grad[(gsize) (n + i) * dim + k] = -2 * (q[k] - p[k]);
            grad[(gsize) (2 * n + i) * dim + k] = 2 * (q[k] - m[k]);
          }
    }
  return total;
}

double
lk_nn_ref_softmax_xent (const double *logits, guint n, guint k, const guint *labels,
                        double *grad)
{
  double total = 0;

  for (guint i = 0; i < n; i++)
    {
      const double *z = logits + (gsize) i * k;
      double sum = 0;
      for (guint c = 0; c < k; c++)
        sum += exp (z[c]);
      total += log (sum) - z[labels[i]];
      if (grad != NULL)
        for (guint c = 0; c < k; c++)
          grad[(gsize) i * k + c] = exp (z[c]) / sum - (c == labels[i]);
    }
  return total;
}
