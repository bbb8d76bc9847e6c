/* metrics.c — similarity precision, score-at-top-K, Recall@K, mAP@R. */
#include "config.h"

#include "metrics.h"

double
lk_metric_similarity_precision (const float *d_pos, const float *d_neg, guint n_triplets)
{
  double good = 0;

  g_return_val_if_fail (n_triplets == 0 || (d_pos != NULL && d_neg != NULL), 0);
  if (n_triplets == 0)
    return 0;
  for (guint t = 0; t < n_triplets; t++)
    good += d_pos[t] < d_neg[t] ? 1.0 : d_pos[t] == d_neg[t] ? 0.5 : 0.0;
  return good / n_triplets;
}

static gboolean
find_query (const guint32 *ids, guint n, guint32 q, guint *at)
{
  guint lo = 0, hi = n;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (ids[mid] < q)
        lo = mid + 1;
      else
        hi = mid;
    }
  *at = lo;
  return lo < n && ids[lo] == q;
}

void
lk_metric_score_at_k (const guint32 *queries, const guint32 *positives,
                      const guint32 *negatives, const float *d_pos, const float *d_neg,
                      guint n_triplets, const guint32 *query_ids, guint n_queries,
                      const LkNeighbour *top, const guint *n_found, guint stride, guint k,
                      LkScoreAtK *out)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (k <= stride);
  *out = (LkScoreAtK) { 0 };
  for (guint t = 0; t < n_triplets; t++)
    {
      guint at, m;
      gboolean hit = FALSE;
      const LkNeighbour *list;

      if (!find_query (query_ids, n_queries, queries[t], &at))
        continue;
      list = top + (gsize) at * stride;
      m = MIN (k, n_found[at]);
      for (guint i = 0; i < m && !hit; i++)
        hit = list[i].id == positives[t] || list[i].id == negatives[t];
      if (!hit)
        continue;
      out->counted++;
      if (d_pos[t] < d_neg[t])
        out->correct++;
      else if (d_pos[t] > d_neg[t])
        out->incorrect++;
    }
  out->score = (gint64) out->correct - (gint64) out->incorrect;
}

double
lk_metric_recall_at_k (const guint16 *labels, const guint16 *query_labels,
                       const LkNeighbour *top, const guint *n_found, guint n_queries,
                       guint stride, guint k)
{
  guint hits = 0;

  g_return_val_if_fail (k <= stride, 0);
  if (n_queries == 0)
    return 0;
  for (guint q = 0; q < n_queries; q++)
    {
      const LkNeighbour *list = top + (gsize) q * stride;
      guint m = MIN (k, n_found[q]);
      for (guint i = 0; i < m; i++)
        if (labels[list[i].id] == query_labels[q])
          {
            hits++;
            break;
          }
    }
  return (double) hits / n_queries;
}

double
lk_metric_map_at_r (const guint16 *labels, const guint16 *query_labels, const guint *r,
                    const LkNeighbour *top, const guint *n_found, guint n_queries, guint stride,
                    guint *n_used_out)
{
  double sum = 0;
  guint used = 0;

  for (guint q = 0; q < n_queries; q++)
    {
      const LkNeighbour *list = top + (gsize) q * stride;
      guint R = r[q], m, relevant = 0;
      double ap = 0;
      if (R == 0)
        continue;
      m = MIN (MIN (R, stride), n_found[q]);
      for (guint i = 0; i < m; i++)
        if (labels[list[i].id] == query_labels[q])
          {
            relevant++;
            ap += (double) relevant / (i + 1);
          }
      sum += ap / R;
      used++;
    }
  if (n_used_out != NULL)
    *n_used_out = used;
  return used > 0 ? sum / used : 0;
}
