/* trainer-private.h — pieces of trainer.c exposed to the tests. */
#pragma once

#include <glib.h>

#include "trainer.h"

G_BEGIN_DECLS

/* The ranking stage's loss on a net's embedding output (rows [0, n)
 * queries, [n, 2n) positives, [2n, 3n) negatives): the mean over the
 * triplets of max{0, gap + ‖q − p‖² − ‖q − n‖²}, and into @grad its
 * gradient with respect to @emb. *violating receives the share of
 * triplets with a positive hinge. */
double _lk_trainer_ranking_loss (const float *emb,
                                 guint        dim,
                                 guint        n_triplets,
                                 float        gap,
                                 float       *grad,
                                 double      *violating);

/* Tests: every pre-training step of the run (not those timed for its
 * plan) takes @factor times as long, as on a machine that got busier. */
void _lk_trainer_set_pretrain_slowdown (LkTrainer *self, double factor);

G_END_DECLS
