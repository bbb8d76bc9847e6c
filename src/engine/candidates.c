/* candidates.c — informative triplets for labelling, and the deck of
 * queries (candidates.h has the rule). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"

/* One candidate of U: its id and both distances from the query. */
typedef struct {
  guint32 id;
  float   d_ref;
  float   d_other;
  guint   rank_ref;
  guint   rank_other;
} Member;

static int
cmp_by_ref (const void *pa, const void *pb)
{
  const Member *a = *(const Member *const *) pa, *b = *(const Member *const *) pb;
  if (a->d_ref != b->d_ref)
    return a->d_ref < b->d_ref ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

static int
cmp_by_other (const void *pa, const void *pb)
{
  const Member *a = *(const Member *const *) pa, *b = *(const Member *const *) pb;
  if (a->d_other != b->d_other)
    return a->d_other < b->d_other ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

static gboolean
contains (const Member *members, guint n, guint32 id)
{
  for (guint i = 0; i < n; i++)
    if (members[i].id == id)
      return TRUE;
  return FALSE;
}

/* U: the ids of both lists, each once, without the query; both
 * distances recomputed from the rows, so neither list's own rounding
 * decides. */
static guint
gather (LkEmbedding *reference, LkEmbedding *other, guint32 query, const LkNeighbour *ref_top,
        guint n_ref, const LkNeighbour *other_top, guint n_other, Member *out)
{
  guint n_images = lk_embedding_get_n (reference), m = 0;

  for (guint list = 0; list < 2; list++)
    {
      const LkNeighbour *top = list == 0 ? ref_top : other_top;
      guint n = list == 0 ? n_ref : n_other;
      for (guint i = 0; i < n; i++)
        {
          guint32 id = top[i].id;
          if (id >= n_images || id == query || contains (out, m, id))
            continue;
          out[m].id = id;
          out[m].d_ref = lk_embedding_distance (reference, query, id);
          out[m].d_other = lk_embedding_distance (other, query, id);
          m++;
        }
    }
  return m;
}

static void
assign_ranks (Member *members, guint m)
{
  g_autofree Member **order = g_new (Member *, MAX (m, 1));

  for (guint i = 0; i < m; i++)
    order[i] = &members[i];
  qsort (order, m, sizeof *order, cmp_by_ref);
  for (guint i = 0; i < m; i++)
    order[i]->rank_ref = i;
  qsort (order, m, sizeof *order, cmp_by_other);
  for (guint i = 0; i < m; i++)
    order[i]->rank_other = i;
}

static guint
rank_gap (guint a, guint b)
{
  return a > b ? a - b : b - a;
}

/* Keeps one of the equally good pairs seen so far, each with the same
 * chance (reservoir sampling of size one). */
static gboolean
take_tie (GRand *rand, guint *n_ties)
{
  (*n_ties)++;
  return *n_ties == 1 || g_rand_int_range (rand, 0, (gint32) *n_ties) == 0;
}

gboolean
lk_candidates_choose (LkEmbedding *reference, LkEmbedding *other, guint32 query,
                      const LkNeighbour *ref_top, guint n_ref, const LkNeighbour *other_top,
                      guint n_other, GRand *rand, LkCandidate *out)
{
  g_autofree Member *u = NULL;
  guint m, best_x = 0, best_y = 0, n_ties = 0, best_strength = 0;
  double best_margin = INFINITY;
  gboolean found = FALSE;
  LkCandidateReason reason = LK_CANDIDATE_DISAGREE;

  g_return_val_if_fail (reference != NULL && other != NULL, FALSE);
  g_return_val_if_fail (lk_embedding_get_n (reference) == lk_embedding_get_n (other), FALSE);
  g_return_val_if_fail (query < lk_embedding_get_n (reference), FALSE);
  g_return_val_if_fail ((ref_top != NULL || n_ref == 0) && (other_top != NULL || n_other == 0),
                        FALSE);
  g_return_val_if_fail (rand != NULL && out != NULL, FALSE);

  u = g_new (Member, MAX (1, n_ref + n_other));
  m = gather (reference, other, query, ref_top, n_ref, other_top, n_other, u);
  if (m < 2)
    return FALSE;
  assign_ranks (u, m);

  /* 1. the strongest disagreement */
  for (guint x = 0; x < m; x++)
    for (guint y = x + 1; y < m; y++)
      {
        double dr = (double) u[x].d_ref - u[y].d_ref, d_o = (double) u[x].d_other - u[y].d_other;
        guint strength;

        if (dr * d_o >= 0)
          continue;
        strength = MIN (rank_gap (u[x].rank_ref, u[y].rank_ref),
                        rank_gap (u[x].rank_other, u[y].rank_other));
        if (!found || strength > best_strength)
          {
            found = TRUE;
            best_strength = strength;
            n_ties = 0;
          }
        if (strength == best_strength && take_tie (rand, &n_ties))
          {
            best_x = x;
            best_y = y;
          }
      }

  /* 2. no disagreement: the reference's narrowest margin */
  if (!found)
    {
      reason = LK_CANDIDATE_MARGIN;
      best_strength = 0;
      for (guint x = 0; x < m; x++)
        for (guint y = x + 1; y < m; y++)
          {
            double gap = fabs ((double) u[x].d_ref - u[y].d_ref);
            double sum = (double) u[x].d_ref + u[y].d_ref;
            double margin;

            if (gap == 0 || sum <= 0)
              continue;
            margin = gap / sum;
            if (!found || margin < best_margin)
              {
                found = TRUE;
                best_margin = margin;
                n_ties = 0;
              }
            if (margin == best_margin && take_tie (rand, &n_ties))
              {
                best_x = x;
                best_y = y;
              }
          }
      if (!found)
        return FALSE;
    }

  /* Which one is shown as A: a coin toss. */
  if (g_rand_boolean (rand))
    {
      guint t = best_x;
      best_x = best_y;
      best_y = t;
    }
  out->query = query;
  out->a = u[best_x].id;
  out->b = u[best_y].id;
  out->reason = reason;
  out->strength = best_strength;
  out->ref_a = u[best_x].d_ref;
  out->ref_b = u[best_y].d_ref;
  out->other_a = u[best_x].d_other;
  out->other_b = u[best_y].d_other;
  return TRUE;
}

/* ---- the deck of queries ---- */

struct _LkQueryDeck
{
  guint    n_images;
  guint32 *order;       /* (n_pool,) the pool, shuffled */
  guint    n_pool;
  guint    next;        /* first place of @order not yet drawn */
  guint8  *used;        /* (n_images,) 1 = drawn or marked */
  guint8  *in_pool;     /* (n_images,) */
  guint    remaining;
  GArray  *returned;    /* guint32, given back: drawn again first, last on top */
};

LkQueryDeck *
lk_query_deck_new (guint n_images, const guint32 *pool, guint n_pool, guint64 seed)
{
  LkQueryDeck *self;
  g_autoptr(GRand) rand = NULL;
  guint32 seed_words[2] = { (guint32) seed, (guint32) (seed >> 32) };

  if (pool == NULL)
    n_pool = n_images;
  for (guint i = 0; pool != NULL && i < n_pool; i++)
    g_return_val_if_fail (pool[i] < n_images, NULL);
  self = g_new0 (LkQueryDeck, 1);
  self->n_images = n_images;
  self->order = g_new (guint32, MAX (n_pool, 1));
  self->used = g_new0 (guint8, MAX (n_images, 1));
  self->in_pool = g_new0 (guint8, MAX (n_images, 1));
  for (guint i = 0; i < n_pool; i++)
    {
      guint32 id = pool != NULL ? pool[i] : i;
      if (self->in_pool[id])
        continue;  /* a repeated id counts once */
      self->in_pool[id] = 1;
      self->order[self->n_pool++] = id;
    }
  self->remaining = self->n_pool;
  self->returned = g_array_new (FALSE, FALSE, sizeof (guint32));

  /* Fisher–Yates, so every order is equally likely. */
  rand = g_rand_new_with_seed_array (seed_words, 2);
  for (guint i = self->n_pool; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (rand, 0, (gint32) i);
      guint32 t = self->order[i - 1];
      self->order[i - 1] = self->order[j];
      self->order[j] = t;
    }
  return self;
}

void
lk_query_deck_free (LkQueryDeck *self)
{
  if (self == NULL)
    return;
  g_free (self->order);
  g_free (self->used);
  g_free (self->in_pool);
  g_array_unref (self->returned);
  g_free (self);
}

void
lk_query_deck_mark_used (LkQueryDeck *self, guint32 id)
{
  g_return_if_fail (self != NULL);
  if (id >= self->n_images || self->used[id])
    return;
  self->used[id] = 1;
  if (self->in_pool[id])
    self->remaining--;
}

gboolean
lk_query_deck_is_used (LkQueryDeck *self, guint32 id)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return id < self->n_images && self->used[id];
}

gboolean
lk_query_deck_next (LkQueryDeck *self, guint32 *id_out)
{
  g_return_val_if_fail (self != NULL && id_out != NULL, FALSE);
  while (self->returned->len > 0)
    {
      guint32 id = g_array_index (self->returned, guint32, self->returned->len - 1);
      g_array_set_size (self->returned, self->returned->len - 1);
      if (!self->used[id])
        {
          *id_out = id;
          lk_query_deck_mark_used (self, id);
          return TRUE;
        }
    }
  while (self->next < self->n_pool && self->used[self->order[self->next]])
    self->next++;
  if (self->next == self->n_pool)
    return FALSE;
  *id_out = self->order[self->next++];
  lk_query_deck_mark_used (self, *id_out);
  return TRUE;
}

void
lk_query_deck_put_back (LkQueryDeck *self, guint32 id)
{
  g_return_if_fail (self != NULL);
  if (id >= self->n_images || !self->used[id] || !self->in_pool[id])
    return;
  self->used[id] = 0;
  self->remaining++;
  g_array_append_val (self->returned, id);
}

guint
lk_query_deck_remaining (LkQueryDeck *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->remaining;
}
