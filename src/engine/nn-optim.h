/* nn-optim.h — SGD with momentum (plain or Nesterov), weight decay,
 * learning-rate schedules and gradient-norm clipping, over a net's arenas.
 *
 * One step, with g the gradient arena, w the parameters, v the momentum
 * arena (the net's; same layout), s the step count (updates done so far):
 *   1. clip: if clip_norm > 0 and ‖g‖₂ (all tensors) > clip_norm, use
 *      g · clip_norm / (‖g‖₂ + 1e-6) (as torch.nn.utils.clip_grad_norm_);
 *   2. decay: g ← g + λ·w for weights only — biases are not decayed;
 *   3. v ← μ·v + g; d = g + μ·v (Nesterov) or v (plain);
 *   4. w ← w − lr(s)·d; s ← s + 1.
 * This is torch.optim.SGD (dampening 0) step for step. The gradient arena
 * is left as it was. lr(s) = base schedule × warm-up:
 *   constant: lr;  step: lr · γ^⌊s / step_size⌋;
 *   cosine:   min_lr + (lr − min_lr)(1 + cos(π·min(s, total)/total))/2;
 *   warm-up:  × min(1, (s + 1)/warmup_steps) when warmup_steps > 0.
 * The whole state is (params, momentum arena, step): a checkpoint that
 * saves the three (lk_nn_model_save() with an LkNnSgd) resumes exactly. */
#pragma once

#include "nn-net.h"

G_BEGIN_DECLS

typedef enum {
  LK_NN_LR_CONSTANT,
  LK_NN_LR_STEP,
  LK_NN_LR_COSINE,
} LkNnLrSchedule;

typedef struct {
  float          lr;            /* base learning rate (0.01) */
  float          momentum;      /* μ (0.9) */
  gboolean       nesterov;      /* (FALSE) */
  float          weight_decay;  /* λ (0.001) */
  LkNnLrSchedule schedule;      /* (constant) */
  guint64        step_size;     /* step schedule: steps per decay (1000) */
  float          gamma;         /* step schedule: factor (0.1) */
  guint64        total_steps;   /* cosine schedule: length (10000) */
  float          min_lr;        /* cosine schedule: final rate (0) */
  guint64        warmup_steps;  /* linear warm-up, 0 = none (0) */
  float          clip_norm;     /* 0 = no clipping (0) */
} LkNnSgdParams;

void  lk_nn_sgd_params_init (LkNnSgdParams *params);
/* FALSE with LK_ERROR_INVALID for a negative or non-finite value. */
gboolean lk_nn_sgd_params_check (const LkNnSgdParams *params, GError **error);
float lk_nn_sgd_lr_at       (const LkNnSgdParams *params, guint64 step);

typedef struct _LkNnSgd LkNnSgd;

/* Uses @net's arenas; @net must outlive the optimiser and have been built
 * with backward. Returns NULL on invalid parameters (programmer error). */
LkNnSgd *lk_nn_sgd_new  (LkNnNet *net, const LkNnSgdParams *params);
void     lk_nn_sgd_free (LkNnSgd *sgd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkNnSgd, lk_nn_sgd_free)

/* One update. *grad_norm (may be NULL) receives ‖g‖₂ before clipping;
 * returns the learning rate used. */
float   lk_nn_sgd_step       (LkNnSgd *sgd, double *grad_norm);
guint64 lk_nn_sgd_get_step   (LkNnSgd *sgd);
void    lk_nn_sgd_set_step   (LkNnSgd *sgd, guint64 step);
const LkNnSgdParams *lk_nn_sgd_get_params (LkNnSgd *sgd);
void    lk_nn_sgd_set_params (LkNnSgd *sgd, const LkNnSgdParams *params);
LkNnNet *lk_nn_sgd_get_net   (LkNnSgd *sgd);

G_END_DECLS
