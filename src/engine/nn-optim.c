/* nn-optim.c — SGD with momentum over the parameter, gradient and
 * momentum arenas. See nn-optim.h for the exact update. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "error.h"
#include "nn-optim.h"

struct _LkNnSgd
{
  LkNnNet *net;
  LkNnSgdParams params;
  guint64 step;
};

void
lk_nn_sgd_params_init (LkNnSgdParams *p)
{
  g_return_if_fail (p != NULL);
  *p = (LkNnSgdParams) {
    .lr = 0.01f, .momentum = 0.9f, .nesterov = FALSE, .weight_decay = 0.001f,
    .schedule = LK_NN_LR_CONSTANT, .step_size = 1000, .gamma = 0.1f, .total_steps = 10000,
    .min_lr = 0, .warmup_steps = 0, .clip_norm = 0,
  };
}

gboolean
lk_nn_sgd_params_check (const LkNnSgdParams *p, GError **error)
{
  const float v[] = { p->lr, p->momentum, p->weight_decay, p->gamma, p->min_lr, p->clip_norm };

  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    if (!(isfinite (v[i]) && v[i] >= 0))
      {
        g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                     _("Optimiser settings must be finite and not negative"));
        return FALSE;
      }
  if (p->schedule > LK_NN_LR_COSINE || (p->schedule == LK_NN_LR_STEP && p->step_size == 0) ||
      (p->schedule == LK_NN_LR_COSINE && p->total_steps == 0))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Invalid learning-rate schedule"));
      return FALSE;
    }
  return TRUE;
}

float
lk_nn_sgd_lr_at (const LkNnSgdParams *p, guint64 step)
{
  double lr = p->lr;

  switch (p->schedule)
    {
    case LK_NN_LR_STEP:
      lr = p->lr * pow (p->gamma, (double) (step / p->step_size));
      break;
    case LK_NN_LR_COSINE:
      lr = p->min_lr + (p->lr - p->min_lr) *
           (1 + cos (G_PI * (double) MIN (step, p->total_steps) / (double) p->total_steps)) / 2;
      break;
    case LK_NN_LR_CONSTANT:
    default:
      break;
    }
  if (p->warmup_steps > 0 && step + 1 < p->warmup_steps)
    lr *= (double) (step + 1) / (double) p->warmup_steps;
  return (float) lr;
}

LkNnSgd *
lk_nn_sgd_new (LkNnNet *net, const LkNnSgdParams *params)
{
  LkNnSgd *sgd;

  g_return_val_if_fail (net != NULL && params != NULL, NULL);
  g_return_val_if_fail (lk_nn_net_get_grads (net) != NULL, NULL);
  g_return_val_if_fail (lk_nn_sgd_params_check (params, NULL), NULL);
  sgd = g_new0 (LkNnSgd, 1);
  sgd->net = net;
  sgd->params = *params;
  return sgd;
}

void
lk_nn_sgd_free (LkNnSgd *sgd)
{
  g_free (sgd);
}

float
lk_nn_sgd_step (LkNnSgd *sgd, double *grad_norm)
{
  const LkNnSpec *spec = lk_nn_net_get_spec (sgd->net);
  float *w = lk_nn_net_get_params (sgd->net), *g = lk_nn_net_get_grads (sgd->net);
  float *v = lk_nn_net_get_momentum (sgd->net);
  const LkNnSgdParams *p = &sgd->params;
  float lr = lk_nn_sgd_lr_at (p, sgd->step), mu = p->momentum, clip = 1.0f;
  double norm2 = 0;

  g_return_val_if_fail (sgd != NULL, 0);
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (spec, t);
      for (gsize i = info->offset; i < info->offset + info->size; i++)
        norm2 += (double) g[i] * g[i];
    }
  if (grad_norm != NULL)
    *grad_norm = sqrt (norm2);
  if (p->clip_norm > 0 && sqrt (norm2) > p->clip_norm)
    clip = (float) (p->clip_norm / (sqrt (norm2) + 1e-6));
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (spec, t);
      float lambda = info->decay ? p->weight_decay : 0.0f;
      for (gsize i = info->offset; i < info->offset + info->size; i++)
        {
          float gi = g[i] * clip + lambda * w[i];
          v[i] = mu * v[i] + gi;
          w[i] -= lr * (p->nesterov ? gi + mu * v[i] : v[i]);
        }
    }
  sgd->step++;
  return lr;
}

guint64
lk_nn_sgd_get_step (LkNnSgd *sgd)
{
  return sgd->step;
}

void
lk_nn_sgd_set_step (LkNnSgd *sgd, guint64 step)
{
  sgd->step = step;
}

const LkNnSgdParams *
lk_nn_sgd_get_params (LkNnSgd *sgd)
{
  return &sgd->params;
}

void
lk_nn_sgd_set_params (LkNnSgd *sgd, const LkNnSgdParams *params)
{
  g_return_if_fail (lk_nn_sgd_params_check (params, NULL));
  sgd->params = *params;
}

LkNnNet *
lk_nn_sgd_get_net (LkNnSgd *sgd)
{
  return sgd->net;
}
