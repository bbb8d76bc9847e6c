/* golden.c — weighted block distances and their max-margin learning. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "golden.h"

void
lk_golden_weights_init_default (LkGoldenWeights *weights)
{
  g_return_if_fail (weights != NULL);
  for (guint b = 0; b < LK_N_FEATURES; b++)
    weights->w[b] = 1.0f;
}

float
lk_golden_distance (LkFeatures *features, const LkGoldenWeights *weights, guint i, guint j)
{
  float d[LK_N_FEATURES], s = 0;

  g_return_val_if_fail (features != NULL && weights != NULL, 0);
  lk_features_block_distances (features, i, j, d);
  for (guint b = 0; b < LK_N_FEATURES; b++)
    s += weights->w[b] * d[b];
  return s;
}

float *
lk_golden_dup_embedding (LkFeatures *features, const LkGoldenWeights *weights)
{
  guint n, dim;
  float scale[LK_N_FEATURES];
  const float *data;
  float *out;

  g_return_val_if_fail (features != NULL && weights != NULL, NULL);
  n = lk_features_get_n_images (features);
  dim = lk_features_get_dim (features);
  data = lk_features_get_data (features);
  for (guint b = 0; b < LK_N_FEATURES; b++)
    scale[b] = sqrtf (MAX (0.0f, weights->w[b]));
  out = g_new (float, (gsize) n * dim + 1);
  for (guint b = 0; b < LK_N_FEATURES; b++)
    {
      guint off, d = lk_features_get_block (features, b, &off);
      for (guint i = 0; i < n; i++)
        for (guint c = off; c < off + d; c++)
          out[(gsize) i * dim + c] = data[(gsize) i * dim + c] * scale[b];
    }
  return out;
}

void
lk_golden_learn_params_init (LkGoldenLearnParams *params)
{
  g_return_if_fail (params != NULL);
  params->lambda = 1e-3f;
  params->n_iterations = 2000;
}

gboolean
lk_golden_learn (LkFeatures *features, const guint32 *queries, const guint32 *positives,
                 const guint32 *negatives, guint n_triplets, const LkGoldenLearnParams *params,
                 LkGoldenWeights *weights_out, GError **error)
{
  LkGoldenLearnParams defaults;
  g_autofree double *phi = NULL;    /* (T, B): d(q,n) − d(q,p) per block */
  double w[LK_N_FEATURES] = { 0 }, avg[LK_N_FEATURES] = { 0 }, sum = 0;
  guint n_images;

  g_return_val_if_fail (features != NULL, FALSE);
  g_return_val_if_fail (n_triplets == 0 || (queries && positives && negatives), FALSE);
  g_return_val_if_fail (weights_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (params == NULL)
    {
      lk_golden_learn_params_init (&defaults);
      params = &defaults;
    }
  if (n_triplets == 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Cannot learn feature weights without labelled triplets"));
      return FALSE;
    }
  n_images = lk_features_get_n_images (features);
  phi = g_new (double, (gsize) n_triplets * LK_N_FEATURES);
  for (guint t = 0; t < n_triplets; t++)
    {
      float dp[LK_N_FEATURES], dn[LK_N_FEATURES];
      if (queries[t] >= n_images || positives[t] >= n_images || negatives[t] >= n_images)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("Triplet %u names an image beyond the %u of the collection"),
                       t, n_images);
          return FALSE;
        }
      lk_features_block_distances (features, queries[t], positives[t], dp);
      lk_features_block_distances (features, queries[t], negatives[t], dn);
      for (guint b = 0; b < LK_N_FEATURES; b++)
        phi[(gsize) t * LK_N_FEATURES + b] = (double) dn[b] - dp[b];
    }

  /* Pegasos on the whole batch: with 4 weights every step is cheap, and a
   * deterministic full-batch step makes the result reproducible. The
   * average of the later half of the iterates is returned. */
  for (guint it = 1; it <= params->n_iterations; it++)
    {
      double grad[LK_N_FEATURES] = { 0 }, eta = 1.0 / (params->lambda * it);
      for (guint t = 0; t < n_triplets; t++)
        {
          const double *x = phi + (gsize) t * LK_N_FEATURES;
          double margin = 0;
          for (guint b = 0; b < LK_N_FEATURES; b++)
            margin += w[b] * x[b];
          if (margin < 1)
            for (guint b = 0; b < LK_N_FEATURES; b++)
              grad[b] -= x[b] / n_triplets;
        }
      for (guint b = 0; b < LK_N_FEATURES; b++)
        {
          grad[b] += params->lambda * w[b];
          w[b] = MAX (0.0, w[b] - eta * grad[b]);
        }
      if (it > params->n_iterations / 2)
        for (guint b = 0; b < LK_N_FEATURES; b++)
          avg[b] += w[b];
    }

  for (guint b = 0; b < LK_N_FEATURES; b++)
    sum += avg[b];
  if (!(sum > 0) || !isfinite (sum))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("The labelled triplets do not favour any feature"));
      return FALSE;
    }
  for (guint b = 0; b < LK_N_FEATURES; b++)
    weights_out->w[b] = (float) (avg[b] / sum * LK_N_FEATURES);
  return TRUE;
}

double
lk_golden_precision (LkFeatures *features, const LkGoldenWeights *weights,
                     const guint32 *queries, const guint32 *positives,
                     const guint32 *negatives, guint n_triplets)
{
  double correct = 0;

  g_return_val_if_fail (features != NULL && weights != NULL, 0);
  if (n_triplets == 0)
    return 0;
  for (guint t = 0; t < n_triplets; t++)
    {
      float dp = lk_golden_distance (features, weights, queries[t], positives[t]);
      float dn = lk_golden_distance (features, weights, queries[t], negatives[t]);
      correct += dp < dn ? 1.0 : dp == dn ? 0.5 : 0.0;
    }
  return correct / n_triplets;
}
