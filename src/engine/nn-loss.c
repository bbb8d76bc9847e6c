/* nn-loss.c — the triplet hinge and softmax cross-entropy. See nn-loss.h.
 * Sums are taken in double: these run once per batch on small arrays. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn-loss.h"

double
lk_nn_triplet_loss (const float *emb, guint dim, guint n, float gap, float *grad, float scale,
                    double *violating)
{
  double total = 0;
  guint violated = 0;

  g_return_val_if_fail (emb != NULL && dim > 0, 0);
  if (grad != NULL)
    memset (grad, 0, (gsize) 3 * n * dim * sizeof *grad);
  for (guint i = 0; i < n; i++)
    {
      const float *q = emb + (gsize) i * dim, *p = emb + (gsize) (n + i) * dim;
      const float *m = emb + (gsize) (2 * n + i) * dim;
      double dp = 0, dn = 0, h;
      for (guint k = 0; k < dim; k++)
        {
          double a = (double) q[k] - p[k], b = (double) q[k] - m[k];
          dp += a * a;
          dn += b * b;
        }
      h = gap + dp - dn;
      if (h <= 0)
        continue;
      total += h;
      violated++;
      if (grad != NULL)
        {
          float *gq = grad + (gsize) i * dim, *gp = grad + (gsize) (n + i) * dim;
          float *gn = grad + (gsize) (2 * n + i) * dim;
          /* ∂h/∂q = 2(q − p) − 2(q − n) = 2(n − p); ∂h/∂p = −2(q − p); ∂h/∂n = 2(q − n). */
          for (guint k = 0; k < dim; k++)
            {
              gq[k] = scale * 2.0f * (m[k] - p[k]);
              gp[k] = scale * -2.0f * (q[k] - p[k]);
              gn[k] = scale * 2.0f * (q[k] - m[k]);
            }
        }
    }
  if (violating != NULL)
    *violating = n > 0 ? (double) violated / n : 0;
  return total;
}

double
lk_nn_softmax_xent (const float *logits, guint n, guint k, const guint *labels, float *grad,
                    float scale, double *accuracy)
{
  double total = 0;
  guint correct = 0;

  g_return_val_if_fail (logits != NULL && labels != NULL && k > 0, 0);
  for (guint i = 0; i < n; i++)
    {
      const float *z = logits + (gsize) i * k;
      double max = z[0], sum = 0;
      guint arg = 0;
      g_return_val_if_fail (labels[i] < k, 0);
      for (guint c = 1; c < k; c++)
        if (z[c] > max)
          max = z[c], arg = c;
      for (guint c = 0; c < k; c++)
        sum += exp (z[c] - max);
      total += log (sum) + max - z[labels[i]];
      correct += arg == labels[i];
      if (grad != NULL)
        for (guint c = 0; c < k; c++)
          grad[(gsize) i * k + c] =
            scale * (float) (exp (z[c] - max) / sum - (c == labels[i] ? 1.0 : 0.0));
    }
  if (accuracy != NULL)
    *accuracy = n > 0 ? (double) correct / n : 0;
  return total;
}
