/* candidates.h — which triplets to ask a person about (the Label view):
 * a query and two candidates A and B, chosen to be informative.
 *
 * The rule, for a query q with its nearest neighbours under a reference
 * source R (golden features) and under another source O (the current
 * model; until there is one, another baseline), both lists within q's
 * category:
 *
 *   U = the ids of both lists, q left out; d_r(x), d_o(x) the two
 *   sources' squared distances from q (recomputed from the rows), and
 *   rank_r(x), rank_o(x) the places of x in U sorted by each (ties by id).
 *
 *   1. Disagreement: a pair x ≠ y of U on which the sources disagree,
 *      (d_r(x) − d_r(y)) · (d_o(x) − d_o(y)) < 0. Its strength is
 *      min(|rank_r(x) − rank_r(y)|, |rank_o(x) − rank_o(y)|): both
 *      sources are sure, in opposite directions. The strongest wins.
 *   2. If no pair disagrees: the reference's narrowest margin, the pair
 *      with the smallest |d_r(x) − d_r(y)| / (d_r(x) + d_r(y)) that is
 *      not an exact tie.
 *
 *   Ties between equally good pairs are broken by the seeded random
 *   generator, and A and B are swapped with probability ½, so a rater's
 *   habit of preferring one side cannot bias the labelled set.
 *
 * LkQueryDeck draws the queries: every image of a pool once, in a seeded
 * random order, leaving out the ones already labelled. */
#pragma once

#include "embeddings.h"
#include "search.h"

G_BEGIN_DECLS

typedef enum {
  LK_CANDIDATE_DISAGREE = 0,  /* the two sources order A and B differently */
  LK_CANDIDATE_MARGIN,        /* they agree; the reference's narrowest margin */
} LkCandidateReason;

typedef struct {
  guint32           query;
  guint32           a;
  guint32           b;
  LkCandidateReason reason;
  guint             strength;    /* DISAGREE: the rank gap above; MARGIN: 0 */
  float             ref_a;       /* d_r(q, a) */
  float             ref_b;
  float             other_a;     /* d_o(q, a) */
  float             other_b;
} LkCandidate;

/* @ref_top (n_ref) and @other_top (n_other) are q's neighbour lists
 * under @reference and @other (lk_search_query() within q's category,
 * q excluded); ids ≥ the embeddings' n or equal to q are ignored. Both
 * embeddings must hold the same images. Returns FALSE when the lists
 * hold fewer than two distinct candidates, or when every pair is an
 * exact tie for both sources. */
gboolean lk_candidates_choose (LkEmbedding       *reference,
                               LkEmbedding       *other,
                               guint32            query,
                               const LkNeighbour *ref_top,
                               guint              n_ref,
                               const LkNeighbour *other_top,
                               guint              n_other,
                               GRand             *rand,
                               LkCandidate       *out);

typedef struct _LkQueryDeck LkQueryDeck;

/* The ids of @pool (n_pool distinct ids < @n_images; NULL: every image)
 * in an order drawn from @seed. */
LkQueryDeck *lk_query_deck_new       (guint           n_images,
                                      const guint32  *pool,
                                      guint           n_pool,
                                      guint64         seed);
void         lk_query_deck_free      (LkQueryDeck    *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkQueryDeck, lk_query_deck_free)

/* @id will not be drawn again (it was labelled, or drawn and shown). */
void         lk_query_deck_mark_used (LkQueryDeck    *self,
                                      guint32         id);
gboolean     lk_query_deck_is_used   (LkQueryDeck    *self,
                                      guint32         id);
/* The next id not yet used, which becomes used; FALSE when none is left. */
gboolean     lk_query_deck_next      (LkQueryDeck    *self,
                                      guint32        *id_out);
/* Gives back @id, drawn but not asked about after all: it is drawn
 * again before the rest (the last given back first). */
void         lk_query_deck_put_back  (LkQueryDeck    *self,
                                      guint32         id);
/* Ids of the pool not yet used. */
guint        lk_query_deck_remaining (LkQueryDeck    *self);

G_END_DECLS
