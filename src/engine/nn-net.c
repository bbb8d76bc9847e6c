/* nn-net.c — the network executor: arenas and activations allocated once,
 * a batch-parallel pool of threads, and the forward and backward passes
 * over the spec's nodes. See nn-net.h; layouts in nn-kernels.h. */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "blas-kernels.h"
#include "error.h"
#include "nn-kernels.h"
#include "nn-net.h"

/* A conv processes this many patch floats per GEMM at most (unless one
 * image alone has more): big enough for efficient GEMM shapes, small enough
 * that the patches are still in cache when the GEMM packs them. */
#define CHUNK_FLOATS (192u * 1024u)
#define HUGE_ALIGN ((gsize) 2 << 20)

typedef struct {
  float   *out;          /* (batch, size) in the thread layout */
  float   *grad;         /* the same shape, or NULL */
  void    *aux;          /* argmax, LRN scale, dropout mask, or l2 norms */
  gsize    size;         /* floats per image */
  guint    chunk;        /* conv: images per im2col GEMM */
  gboolean fused_relu;   /* conv/fc: ReLU applied in the bias pass */
  gboolean alias;        /* ReLU folded into its input: shares its buffers */
  gboolean wants_grad;   /* some parameter lies at or before this node */
  gboolean one_by_one;   /* conv 1×1, stride 1, no padding: no im2col */
  int      pool;         /* conv: the max-pool node fused after its ReLU, or -1 */
  gboolean absorbed;     /* max-pool computed by its conv */
  int      weight, bias; /* tensor indices, or -1 */
} Node;

typedef struct _Pool Pool;

struct _LkNnNet
{
  LkNnSpec *spec;
  guint max_batch;
  guint n_threads;
  LkNnNetFlags flags;

  gsize n_params;
  float *params, *grads, *momentum;
  float *thread_grads;        /* (n_threads − 1, n_params) */

  Node nodes[LK_NN_MAX_NODES];
  float *act_block, *grad_block, *aux_block, *ws_block;
  gsize act_floats, grad_floats, aux_floats, ws_floats_per_thread, ws_col, ws_cout;
  float *output_grads[LK_NN_MAX_OUTPUTS];

  /* Last forward. */
  guint batch;
  LkNnMode mode;
  guint64 output_mask;
  gboolean needed[LK_NN_MAX_NODES];
  const float *const *inputs;
  gboolean forward_done;

  guint64 rng_seed, rng_counter, step_key_counter;

  Pool *pool;
  guint blas_threads;
  gboolean profiling;
  LkNnProfile profile;
};

/* ---- profiling (thread 0 only, so no locking) ---- */

static inline double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

typedef struct {
  LkNnNet *net;
  guint node;
  gboolean on;
} Prof;

static inline void
gemm (const Prof *prof, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, guint M, guint N, guint K,
      const float *A, gsize lda, const float *B, gsize ldb, float beta, float *C, gsize ldc)
{
  double t0 = prof->on ? now_s () : 0;
  lk_blas_enter ();
  cblas_sgemm (CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
  lk_blas_leave ();
  if (prof->on)
    {
      prof->net->profile.gemm_s[prof->node] += now_s () - t0;
      prof->net->profile.gemm_flops[prof->node] += 2ull * M * N * K;
    }
}

void
lk_nn_net_set_profiling (LkNnNet *net, gboolean enabled)
{
  if (enabled && !net->profiling)
    memset (&net->profile, 0, sizeof net->profile);
  net->profiling = enabled;
}

void
lk_nn_net_get_profile (LkNnNet *net, LkNnProfile *profile)
{
  *profile = net->profile;
}

/* ---- memory ---- */

static float *
big_alloc (gsize floats)
{
  gsize bytes = MAX (floats, 16) * sizeof (float);
  void *p = NULL;

  bytes = (bytes + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
  if (posix_memalign (&p, HUGE_ALIGN, bytes) != 0)
    g_error ("out of memory allocating %" G_GSIZE_FORMAT " bytes", bytes);
#ifdef MADV_HUGEPAGE
  madvise (p, bytes, MADV_HUGEPAGE);
#endif
  /* Fault every page in now rather than during the first step. */
  memset (p, 0, bytes);
  return p;
}

/* ---- the pool: n − 1 workers and the calling thread ---- */

typedef void (*PoolFn) (LkNnNet *net, guint thread);

struct _Pool
{
  GMutex lock;
  GCond start, done, barrier;
  guint n;
  GThread **threads;
  guint64 generation;
  guint pending;
  gboolean quit;
  PoolFn fn;
  LkNnNet *net;
  guint barrier_count;
  guint64 barrier_generation;
};

typedef struct {
  Pool *pool;
  guint index;
} Worker;

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  Pool *pool = w->pool;
  guint64 seen = 0;

  for (;;)
    {
      g_mutex_lock (&pool->lock);
      while (pool->generation == seen && !pool->quit)
        g_cond_wait (&pool->start, &pool->lock);
      if (pool->quit)
        {
          g_mutex_unlock (&pool->lock);
          break;
        }
      seen = pool->generation;
      g_mutex_unlock (&pool->lock);
      pool->fn (pool->net, w->index);
      g_mutex_lock (&pool->lock);
      if (--pool->pending == 0)
        g_cond_signal (&pool->done);
      g_mutex_unlock (&pool->lock);
    }
  g_free (w);
  return NULL;
}

static Pool *
pool_new (guint n)
{
  Pool *pool = g_new0 (Pool, 1);

  g_mutex_init (&pool->lock);
  g_cond_init (&pool->start);
  g_cond_init (&pool->done);
  g_cond_init (&pool->barrier);
  pool->n = n;
  pool->threads = g_new0 (GThread *, n);
  for (guint i = 1; i < n; i++)
    {
      Worker *w = g_new (Worker, 1);
      w->pool = pool;
      w->index = i;
      pool->threads[i] = g_thread_new ("lk-nn", worker_main, w);
    }
  return pool;
}

static void
pool_free (Pool *pool)
{
  g_mutex_lock (&pool->lock);
  pool->quit = TRUE;
  g_cond_broadcast (&pool->start);
  g_mutex_unlock (&pool->lock);
  for (guint i = 1; i < pool->n; i++)
    g_thread_join (pool->threads[i]);
  g_free (pool->threads);
  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->start);
  g_cond_clear (&pool->done);
  g_cond_clear (&pool->barrier);
  g_free (pool);
}

static void
pool_run (Pool *pool, LkNnNet *net, PoolFn fn)
{
  if (pool->n == 1)
    {
      fn (net, 0);
      return;
    }
  g_mutex_lock (&pool->lock);
  pool->fn = fn;
  pool->net = net;
  pool->pending = pool->n - 1;
  pool->generation++;
  g_cond_broadcast (&pool->start);
  g_mutex_unlock (&pool->lock);
  fn (net, 0);
  g_mutex_lock (&pool->lock);
  while (pool->pending > 0)
    g_cond_wait (&pool->done, &pool->lock);
  g_mutex_unlock (&pool->lock);
}

static void
pool_barrier (Pool *pool)
{
  guint64 gen;

  if (pool->n == 1)
    return;
  g_mutex_lock (&pool->lock);
  gen = pool->barrier_generation;
  if (++pool->barrier_count == pool->n)
    {
      pool->barrier_count = 0;
      pool->barrier_generation++;
      g_cond_broadcast (&pool->barrier);
    }
  else
    while (gen == pool->barrier_generation)
      g_cond_wait (&pool->barrier, &pool->lock);
  g_mutex_unlock (&pool->lock);
}

/* ---- building ---- */

static gsize
aux_floats (const LkNnNode *n, gsize size)
{
  switch (n->op)
    {
    case LK_NN_OP_MAX_POOL: /* guint32 indices */
    case LK_NN_OP_LRN:
    case LK_NN_OP_DROPOUT:
      return size;
    case LK_NN_OP_L2NORM:
      return 1;
    default:
      return 0;
    }
}

static guint
count_consumers (const LkNnSpec *spec, guint node)
{
  guint n = 0;
  for (guint i = node + 1; i < lk_nn_spec_get_n_nodes (spec); i++)
    {
      const LkNnNode *x = lk_nn_spec_get_node (spec, i);
      for (guint k = 0; k < x->n_inputs; k++)
        n += x->inputs[k] == node;
    }
  for (guint o = 0; o < lk_nn_spec_get_n_outputs (spec); o++)
    n += lk_nn_spec_get_output_node (spec, o) == node;
  return n;
}

/* Decides fusions and sizes, then carves the blocks. */
static void
plan_fusions (LkNnNet *net)
{
  const LkNnSpec *spec = net->spec;

  for (guint i = 0; i < lk_nn_spec_get_n_nodes (spec); i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (spec, i);
      Node *r = &net->nodes[i];
      const LkNnNode *in = n->n_inputs > 0 ? lk_nn_spec_get_node (spec, n->inputs[0]) : NULL;

      r->size = (gsize) n->c * n->h * n->w;
      r->weight = r->bias = -1;
      r->pool = -1;
      if (n->op == LK_NN_OP_CONV || n->op == LK_NN_OP_FC)
        {
          g_autofree char *w = g_strdup_printf ("%s.weight", n->name);
          g_autofree char *b = g_strdup_printf ("%s.bias", n->name);
          r->weight = lk_nn_spec_find_tensor (spec, w);
          r->bias = lk_nn_spec_find_tensor (spec, b);
          g_assert (r->weight >= 0 && r->bias >= 0);
        }
      r->wants_grad = r->weight >= 0;
      for (guint k = 0; k < n->n_inputs; k++)
        r->wants_grad |= net->nodes[n->inputs[k]].wants_grad;
      /* A ReLU that is its input's only consumer runs in that input's
         bias pass and shares its buffers. */
      if (n->op == LK_NN_OP_RELU && (in->op == LK_NN_OP_CONV || in->op == LK_NN_OP_FC) &&
          count_consumers (spec, n->inputs[0]) == 1)
        {
          net->nodes[n->inputs[0]].fused_relu = TRUE;
          r->alias = TRUE;
        }
      /* conv → ReLU → max-pool, each the previous one's only consumer:
         the conv pools each chunk while it is in cache, and its
         full-resolution output never exists. */
      if (n->op == LK_NN_OP_MAX_POOL && in->op == LK_NN_OP_RELU &&
          net->nodes[n->inputs[0]].alias && count_consumers (spec, n->inputs[0]) == 1 &&
          n->kernel_h * n->kernel_w <= 256 &&
          lk_nn_spec_get_node (spec, in->inputs[0])->op == LK_NN_OP_CONV)
        {
          net->nodes[in->inputs[0]].pool = (int) i;
          r->absorbed = TRUE;
        }
    }
}

static void
plan (LkNnNet *net)
{
  const LkNnSpec *spec = net->spec;
  guint n_nodes = lk_nn_spec_get_n_nodes (spec);
  guint per_thread = (net->max_batch + net->n_threads - 1) / net->n_threads;
  gboolean backward = !(net->flags & LK_NN_NET_NO_BACKWARD);
  gsize col = 0, cout = 0, act = 0, grad = 0, aux = 0;

  plan_fusions (net);
  for (guint i = 0; i < n_nodes; i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (spec, i);
      Node *r = &net->nodes[i];
      if (n->op == LK_NN_OP_CONV)
        {
          const LkNnNode *in = lk_nn_spec_get_node (spec, n->inputs[0]);
          gsize per_image = (gsize) in->c * n->kernel_h * n->kernel_w * n->h * n->w;
          r->one_by_one = n->kernel_h == 1 && n->kernel_w == 1 && n->stride_h == 1 &&
                          n->stride_w == 1 && n->pad_h == 0 && n->pad_w == 0;
          r->chunk = (guint) CLAMP (CHUNK_FLOATS / per_image, 1, per_thread);
          if (!r->one_by_one)
            col = MAX (col, r->chunk * per_image);
          if (r->pool >= 0)
            cout = MAX (cout, r->chunk * r->size);
        }
    }

  /* Sizes, then the same walk again to carve. */
  for (guint pass = 0; pass < 2; pass++)
    {
      act = grad = aux = 0;
      for (guint i = 0; i < n_nodes; i++)
        {
          const LkNnNode *n = lk_nn_spec_get_node (spec, i);
          Node *r = &net->nodes[i];
          gsize aux_len = r->absorbed ? (r->size * net->max_batch + 3) / 4
                                      : aux_floats (n, r->size) * net->max_batch;
          if (r->alias)
            {
              Node *in = &net->nodes[n->inputs[0]];
              r->out = in->out, r->grad = in->grad;
              continue;
            }
          if (r->pool >= 0)   /* no full-resolution buffers */
            continue;
          if (pass == 1)
            r->out = net->act_block + act;
          act += r->size * net->max_batch;
          if (backward && r->wants_grad)
            {
              if (pass == 1)
                r->grad = net->grad_block + grad;
              grad += r->size * net->max_batch;
            }
          if (aux_len > 0)
            {
              if (pass == 1)
                r->aux = net->aux_block + aux;
              aux += aux_len;
            }
        }
      for (guint o = 0; o < lk_nn_spec_get_n_outputs (spec); o++)
        {
          if (pass == 1 && backward)
            net->output_grads[o] = net->grad_block + grad;
          grad += (gsize) lk_nn_spec_get_output_dim (spec, o) * net->max_batch;
        }
      if (pass == 0)
        {
          net->act_floats = act, net->grad_floats = grad, net->aux_floats = aux;
          /* Per thread: col | dcol | conv chunk | its gradient. */
          net->ws_col = col;
          net->ws_cout = cout;
          net->ws_floats_per_thread = (backward ? 2 : 1) * (col + cout);
          net->act_block = big_alloc (act);
          net->grad_block = backward ? big_alloc (grad) : NULL;
          net->aux_block = big_alloc (aux);
          net->ws_block = big_alloc (net->ws_floats_per_thread * net->n_threads);
        }
    }
}

LkNnNet *
lk_nn_net_new (const LkNnSpec *spec, guint max_batch, guint n_threads, LkNnNetFlags flags,
               GError **error)
{
  LkNnNet *net;

  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (max_batch > 0, NULL);
  if (!lk_nn_spec_check (spec, error))
    return NULL;
  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = MIN (n_threads, max_batch);

  net = g_new0 (LkNnNet, 1);
  net->spec = lk_nn_spec_copy (spec);
  net->max_batch = max_batch;
  net->blas_threads = (flags & LK_NN_NET_BLAS_THREADS) ? n_threads : 1;
  if (flags & LK_NN_NET_BLAS_THREADS)
    n_threads = 1;
  net->n_threads = n_threads;
  net->flags = flags;
  net->n_params = lk_nn_spec_get_n_params (spec);
  net->params = big_alloc (net->n_params);
  if (!(flags & LK_NN_NET_NO_BACKWARD))
    {
      net->grads = big_alloc (net->n_params);
      net->momentum = big_alloc (net->n_params);
      if (n_threads > 1)
        net->thread_grads = big_alloc (net->n_params * (n_threads - 1));
    }
  net->rng_seed = 1;
  plan (net);
  net->pool = pool_new (n_threads);
  return net;
}

void
lk_nn_net_free (LkNnNet *net)
{
  if (net == NULL)
    return;
  pool_free (net->pool);
  free (net->params);
  free (net->grads);
  free (net->momentum);
  free (net->thread_grads);
  free (net->act_block);
  free (net->grad_block);
  free (net->aux_block);
  free (net->ws_block);
  lk_nn_spec_free (net->spec);
  g_free (net);
}

const LkNnSpec *
lk_nn_net_get_spec (LkNnNet *net)
{
  return net->spec;
}

guint
lk_nn_net_get_max_batch (LkNnNet *net)
{
  return net->max_batch;
}

guint
lk_nn_net_get_n_threads (LkNnNet *net)
{
  return MAX (net->n_threads, net->blas_threads);
}

gsize
lk_nn_net_get_n_params (LkNnNet *net)
{
  return net->n_params;
}

float *
lk_nn_net_get_params (LkNnNet *net)
{
  return net->params;
}

float *
lk_nn_net_get_grads (LkNnNet *net)
{
  return net->grads;
}

float *
lk_nn_net_get_momentum (LkNnNet *net)
{
  return net->momentum;
}

float *
lk_nn_net_get_param (LkNnNet *net, const char *tensor)
{
  int t = lk_nn_spec_find_tensor (net->spec, tensor);
  return t < 0 ? NULL : net->params + lk_nn_spec_get_tensor (net->spec, t)->offset;
}

void
lk_nn_net_init_params (LkNnNet *net, guint64 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed_array ((const guint32[]) { (guint32) seed,
                                                                          (guint32) (seed >> 32) },
                                                      2);
  memset (net->params, 0, net->n_params * sizeof (float));
  if (net->momentum != NULL)
    memset (net->momentum, 0, net->n_params * sizeof (float));
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (net->spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (net->spec, t);
      float *p = net->params + info->offset;
      double sd;
      if (!info->decay)
        continue;
      sd = sqrt (2.0 / (info->size / info->shape[0]));
      for (gsize i = 0; i < info->size; i++)
        {
          /* Box–Muller. */
          double u = 1.0 - g_rand_double (rand), v = g_rand_double (rand);
          p[i] = (float) (sd * sqrt (-2.0 * log (u)) * cos (2 * G_PI * v));
        }
    }
}

void
lk_nn_net_set_rng_state (LkNnNet *net, guint64 seed, guint64 counter)
{
  net->rng_seed = seed;
  net->rng_counter = counter;
}

void
lk_nn_net_get_rng_state (LkNnNet *net, guint64 *seed, guint64 *counter)
{
  if (seed != NULL)
    *seed = net->rng_seed;
  if (counter != NULL)
    *counter = net->rng_counter;
}

guint
lk_nn_net_get_batch (LkNnNet *net)
{
  return net->batch;
}

const float *
lk_nn_net_get_output (LkNnNet *net, guint output)
{
  g_return_val_if_fail (output < lk_nn_spec_get_n_outputs (net->spec), NULL);
  return net->nodes[lk_nn_spec_get_output_node (net->spec, output)].out;
}

float *
lk_nn_net_get_output_grad (LkNnNet *net, guint output)
{
  g_return_val_if_fail (output < lk_nn_spec_get_n_outputs (net->spec), NULL);
  g_return_val_if_fail (!(net->flags & LK_NN_NET_NO_BACKWARD), NULL);
  return net->output_grads[output];
}

void
lk_nn_net_zero_grad (LkNnNet *net)
{
  g_return_if_fail (net->grads != NULL);
  memset (net->grads, 0, net->n_params * sizeof (float));
}

/* ---- forward ---- */

typedef struct {
  guint b0, n;        /* first image of this thread, and how many */
  float *col, *dcol;  /* workspace: patches and their gradient */
  float *cout, *dcout;/* workspace: a fused conv's chunk of output and its gradient */
  float *dparams;     /* this thread's parameter gradients */
} Slice;

static void
slice_of (LkNnNet *net, guint t, Slice *s)
{
  guint b0 = (guint) ((guint64) t * net->batch / net->n_threads);
  guint b1 = (guint) ((guint64) (t + 1) * net->batch / net->n_threads);
  s->b0 = b0;
  s->n = b1 - b0;
  s->col = net->ws_block + net->ws_floats_per_thread * t;
  s->cout = s->col + net->ws_col;
  s->dcol = s->cout + net->ws_cout;
  s->dcout = s->dcol + net->ws_col;
  s->dparams = net->grads == NULL ? NULL : t == 0 ? net->grads
             : net->thread_grads + net->n_params * (t - 1);
}

/* A node's buffer for this slice. */
static inline float *
at (float *buf, const Node *r, const Slice *s)
{
  return buf + r->size * s->b0;
}

static inline const float *
tensor (LkNnNet *net, const float *arena, int t)
{
  return arena + lk_nn_spec_get_tensor (net->spec, t)->offset;
}

static LkNnWindow
window_of (const LkNnNode *n)
{
  return (LkNnWindow) { n->kernel_h, n->kernel_w, n->stride_h, n->stride_w, n->pad_h, n->pad_w };
}

/* The pooling that a conv with a fused pool does per chunk: planes
 * (c, images [i0, i0 + g)) of its chunk buffer into the pool's buffers. */
typedef struct {
  const LkNnNode *n;
  const Node *r;
  LkNnWindow win;
  float *out, *grad;
  guint8 *arg;
} FusedPool;

static void
fused_pool_of (LkNnNet *net, const Node *conv, const Slice *s, FusedPool *fp)
{
  fp->n = lk_nn_spec_get_node (net->spec, (guint) conv->pool);
  fp->r = &net->nodes[conv->pool];
  fp->win = window_of (fp->n);
  fp->out = at (fp->r->out, fp->r, s);
  fp->grad = fp->r->grad != NULL ? at (fp->r->grad, fp->r, s) : NULL;
  fp->arg = (guint8 *) fp->r->aux + fp->r->size * s->b0;
}

static void
conv_forward (LkNnNet *net, const LkNnNode *n, const Node *r, const Slice *s, const Prof *prof)
{
  const LkNnNode *in = lk_nn_spec_get_node (net->spec, n->inputs[0]);
  const Node *ri = &net->nodes[n->inputs[0]];
  const float *x = at (ri->out, ri, s), *w = tensor (net, net->params, r->weight);
  const float *b = tensor (net, net->params, r->bias);
  LkNnWindow win = window_of (n);
  guint K = in->c * n->kernel_h * n->kernel_w, OHW = n->h * n->w;
  gsize ld = (gsize) s->n * OHW;
  FusedPool fp;

  if (r->pool >= 0)
    fused_pool_of (net, r, s, &fp);
  for (guint i0 = 0; i0 < s->n; i0 += r->chunk)
    {
      guint g = MIN (r->chunk, s->n - i0);
      const float *col = s->col;
      gsize ldb = (gsize) g * OHW, ldy = r->pool >= 0 ? (gsize) g * OHW : ld;
      float *y = r->pool >= 0 ? s->cout : at (r->out, r, s) + (gsize) i0 * OHW;
      if (r->one_by_one)
        col = x + (gsize) i0 * OHW, ldb = ld;
      else
        lk_nn_im2col (x, in->c, s->n, in->h, in->w, i0, g, &win, n->h, n->w, s->col);
      gemm (prof, CblasNoTrans, CblasNoTrans, n->c, g * OHW, K, w, K, col, ldb, 0.0f, y, ldy);
      lk_nn_bias_act (y, n->c, g * OHW, ldy, b, r->fused_relu);
      if (r->pool >= 0)
        {
          gsize PHW = (gsize) fp.n->h * fp.n->w;
          for (guint c = 0; c < n->c; c++)
            lk_nn_max_pool8_forward (y + c * ldy, g, n->h, n->w, &fp.win, fp.n->h, fp.n->w,
                                     fp.out + ((gsize) c * s->n + i0) * PHW,
                                     fp.arg + ((gsize) c * s->n + i0) * PHW);
        }
    }
}

static void
fc_forward (LkNnNet *net, const LkNnNode *n, const Node *r, const Slice *s, const Prof *prof)
{
  const Node *ri = &net->nodes[n->inputs[0]];
  const float *x = at (ri->out, ri, s), *w = tensor (net, net->params, r->weight);
  const float *b = tensor (net, net->params, r->bias);
  float *y = at (r->out, r, s);
  guint nin = (guint) ri->size, O = n->c;

  gemm (prof, CblasNoTrans, CblasTrans, s->n, O, nin, x, nin, w, nin, 0.0f, y, O);
  for (guint i = 0; i < s->n; i++)
    {
      float *row = y + (gsize) i * O;
      if (r->fused_relu)
        for (guint o = 0; o < O; o++)
          row[o] = row[o] + b[o] > 0 ? row[o] + b[o] : 0.0f;
      else
        for (guint o = 0; o < O; o++)
          row[o] += b[o];
    }
}

static void
input_forward (LkNnNet *net, guint node, const LkNnNode *n, const Node *r, const Slice *s)
{
  guint k = 0;
  const float *src;
  float *y = at (r->out, r, s);

  for (guint i = 0; i < node; i++)
    {
      LkNnOp op = lk_nn_spec_get_node (net->spec, i)->op;
      k += op == LK_NN_OP_IMAGE || op == LK_NN_OP_VECTOR;
    }
  src = net->inputs[k] + r->size * s->b0;
  if (n->op == LK_NN_OP_VECTOR)
    {
      memcpy (y, src, r->size * s->n * sizeof *y);
      return;
    }
  /* (n, C, HW) → (C, n, HW). */
  for (guint c = 0; c < n->c; c++)
    for (guint i = 0; i < s->n; i++)
      memcpy (y + ((gsize) c * s->n + i) * n->h * n->w, src + (gsize) i * r->size + (gsize) c * n->h * n->w,
              (gsize) n->h * n->w * sizeof *y);
}

static void
concat_forward (LkNnNet *net, const LkNnNode *n, const Node *r, const Slice *s, gboolean backward,
                const gboolean *written)
{
  gsize HW = (gsize) n->h * n->w, off = 0;

  for (guint k = 0; k < n->n_inputs; k++)
    {
      const LkNnNode *in = lk_nn_spec_get_node (net->spec, n->inputs[k]);
      const Node *ri = &net->nodes[n->inputs[k]];
      float *mine = at (backward ? r->grad : r->out, r, s);
      float *theirs = at (backward ? ri->grad : ri->out, ri, s);
      if (backward && !ri->wants_grad)
        {
          off += in->c;
          continue;
        }
      if (n->spatial)
        {
          /* Channel blocks are contiguous in the (C, n, HW) layout. */
          gsize len = (gsize) in->c * s->n * HW;
          if (backward)
            lk_nn_copy_or_add (theirs, mine + off * s->n * HW, len, written[n->inputs[k]]);
          else
            memcpy (mine + off * s->n * HW, theirs, len * sizeof *mine);
        }
      else
        for (guint i = 0; i < s->n; i++)
          {
            if (backward)
              lk_nn_copy_or_add (theirs + (gsize) i * in->c, mine + (gsize) i * n->c + off, in->c,
                                 written[n->inputs[k]]);
            else
              memcpy (mine + (gsize) i * n->c + off, theirs + (gsize) i * in->c,
                      in->c * sizeof *mine);
          }
      off += in->c;
    }
}

static void
forward_thread (LkNnNet *net, guint t)
{
  Slice s;

  slice_of (net, t, &s);
  if (s.n == 0)
    return;
  for (guint i = 0; i < lk_nn_spec_get_n_nodes (net->spec); i++)
    {
      const LkNnNode *n = lk_nn_spec_get_node (net->spec, i);
      const Node *r = &net->nodes[i];
      const Node *ri = n->n_inputs > 0 ? &net->nodes[n->inputs[0]] : NULL;
      const LkNnNode *in = n->n_inputs > 0 ? lk_nn_spec_get_node (net->spec, n->inputs[0]) : NULL;
      LkNnWindow win = window_of (n);
      float *y = at (r->out, r, &s);
      const float *x = ri != NULL ? at (ri->out, ri, &s) : NULL;

      Prof prof = { net, i, net->profiling && t == 0 };
      double t0 = prof.on ? now_s () : 0;

      if (!net->needed[i] || r->alias || r->absorbed)
        continue;
      switch (n->op)
        {
        case LK_NN_OP_IMAGE:
        case LK_NN_OP_VECTOR:
          input_forward (net, i, n, r, &s);
          break;
        case LK_NN_OP_CONV:
          conv_forward (net, n, r, &s, &prof);
          break;
        case LK_NN_OP_FC:
          fc_forward (net, n, r, &s, &prof);
          break;
        case LK_NN_OP_RELU:
          lk_nn_relu_forward (x, r->size * s.n, y);
          break;
        case LK_NN_OP_MAX_POOL:
          lk_nn_max_pool_forward (x, in->c * s.n, in->h, in->w, &win, n->h, n->w, y,
                                  (guint32 *) r->aux + r->size * s.b0);
          break;
        case LK_NN_OP_AVG_POOL:
          lk_nn_avg_pool_forward (x, in->c * s.n, in->h, in->w, &win, n->h, n->w, y);
          break;
        case LK_NN_OP_LRN:
          lk_nn_lrn_forward (x, n->c, (gsize) s.n * n->h * n->w, n->lrn_size, n->lrn_alpha,
                             n->lrn_beta, n->lrn_k, y, (float *) r->aux + r->size * s.b0);
          break;
        case LK_NN_OP_DROPOUT:
          if (net->mode == LK_NN_TRAIN)
            {
              float *mask = (float *) r->aux + r->size * s.b0;
              lk_nn_dropout_mask (mask, n->spatial, n->c, s.n, n->h * n->w, s.b0, n->keep,
                                  lk_nn_dropout_key (net->rng_seed, net->step_key_counter, i));
              for (gsize k = 0; k < r->size * s.n; k++)
                y[k] = x[k] * mask[k];
            }
          else
            memcpy (y, x, r->size * s.n * sizeof *y);
          break;
        case LK_NN_OP_L2NORM:
          lk_nn_l2norm_forward (x, s.n, n->c, y, (float *) r->aux + s.b0);
          break;
        case LK_NN_OP_CONCAT:
          concat_forward (net, n, r, &s, FALSE, NULL);
          break;
        case LK_NN_OP_FLATTEN:
          if (in->spatial)
            lk_nn_flatten_forward (x, in->c, s.n, in->h * in->w, y);
          else
            memcpy (y, x, r->size * s.n * sizeof *y);
          break;
        default:
          g_assert_not_reached ();
        }
      if (prof.on)
        net->profile.forward_s[i] += now_s () - t0;
    }
}

void
lk_nn_net_forward (LkNnNet *net, const float *const *inputs, guint batch, LkNnMode mode,
                   guint64 output_mask)
{
  g_return_if_fail (net != NULL && inputs != NULL);
  g_return_if_fail (batch >= 1 && batch <= net->max_batch);

  net->batch = batch;
  net->mode = mode;
  net->output_mask = output_mask;
  net->inputs = inputs;
  lk_nn_spec_get_needed (net->spec, output_mask, net->needed);
  for (guint k = 0; k < lk_nn_spec_get_n_inputs (net->spec); k++)
    g_return_if_fail (!net->needed[lk_nn_spec_get_input_node (net->spec, k)] || inputs[k] != NULL);
  if (mode == LK_NN_TRAIN)
    net->step_key_counter = net->rng_counter++;
  openblas_set_num_threads ((int) net->blas_threads);
  pool_run (net->pool, net, forward_thread);
  net->inputs = NULL;
  net->forward_done = TRUE;
}

/* ---- backward ---- */

static void
conv_backward (LkNnNet *net, const LkNnNode *n, const Node *r, const Slice *s, gboolean *written,
               const Prof *prof)
{
  const LkNnNode *in = lk_nn_spec_get_node (net->spec, n->inputs[0]);
  const Node *ri = &net->nodes[n->inputs[0]];
  const float *x = at (ri->out, ri, s), *w = tensor (net, net->params, r->weight);
  float *dw = s->dparams + lk_nn_spec_get_tensor (net->spec, r->weight)->offset;
  float *db = s->dparams + lk_nn_spec_get_tensor (net->spec, r->bias)->offset;
  float *dx = ri->grad != NULL ? at (ri->grad, ri, s) : NULL;
  LkNnWindow win = window_of (n);
  guint K = in->c * n->kernel_h * n->kernel_w, OHW = n->h * n->w;
  gsize ld = (gsize) s->n * OHW;
  gboolean want_dx = ri->wants_grad, first = !written[n->inputs[0]];
  FusedPool fp;

  if (r->pool >= 0)
    fused_pool_of (net, r, s, &fp);
  else
    {
      float *dy = at (r->grad, r, s);
      if (r->fused_relu)
        lk_nn_relu_backward (at (r->out, r, s), dy, r->size * s->n, dy, FALSE);
      lk_nn_bias_grad (dy, n->c, s->n * OHW, ld, db);
    }
  if (want_dx && first && !r->one_by_one)
    memset (dx, 0, ri->size * s->n * sizeof *dx);
  for (guint i0 = 0; i0 < s->n; i0 += r->chunk)
    {
      guint g = MIN (r->chunk, s->n - i0);
      const float *col = s->col;
      gsize ldb = (gsize) g * OHW, ldy = ld;
      float *dy = r->pool >= 0 ? NULL : at (r->grad, r, s) + (gsize) i0 * OHW;
      if (r->pool >= 0)
        {
          /* This chunk's conv gradient: pooled gradients routed to each
             window's maximum where the ReLU passed it. */
          gsize PHW = (gsize) fp.n->h * fp.n->w, o;
          dy = s->dcout;
          ldy = (gsize) g * OHW;
          if (!lk_nn_max_pool8_backward_tiles (&fp.win, n->h, n->w, fp.n->h, fp.n->w))
            memset (dy, 0, n->c * ldy * sizeof *dy);
          for (guint c = 0; c < n->c; c++)
            {
              o = ((gsize) c * s->n + i0) * PHW;
              lk_nn_max_pool8_backward (fp.grad + o, fp.out + o, fp.arg + o, g, n->h, n->w,
                                        &fp.win, fp.n->h, fp.n->w, dy + c * ldy);
            }
          lk_nn_bias_grad (dy, n->c, g * OHW, ldy, db);
        }
      if (r->one_by_one)
        col = x + (gsize) i0 * OHW, ldb = ld;
      else
        lk_nn_im2col (x, in->c, s->n, in->h, in->w, i0, g, &win, n->h, n->w, s->col);
      /* dW (O, K) += dY (O, g·OHW) × colᵀ. */
      gemm (prof, CblasNoTrans, CblasTrans, n->c, K, g * OHW, dy, ldy, col, ldb, 1.0f, dw, K);
      if (!want_dx)
        continue;
      /* dcol (K, g·OHW) = Wᵀ × dY. */
      if (r->one_by_one)
        gemm (prof, CblasTrans, CblasNoTrans, K, g * OHW, n->c, w, K, dy, ldy,
              first ? 0.0f : 1.0f, dx + (gsize) i0 * OHW, ld);
      else
        {
          gemm (prof, CblasTrans, CblasNoTrans, K, g * OHW, n->c, w, K, dy, ldy, 0.0f, s->dcol,
                g * OHW);
          lk_nn_col2im (s->dcol, in->c, s->n, in->h, in->w, i0, g, &win, n->h, n->w, dx);
        }
    }
  if (want_dx)
    written[n->inputs[0]] = TRUE;
}

static void
fc_backward (LkNnNet *net, const LkNnNode *n, const Node *r, const Slice *s, gboolean *written,
             const Prof *prof)
{
  const Node *ri = &net->nodes[n->inputs[0]];
  const float *x = at (ri->out, ri, s), *w = tensor (net, net->params, r->weight);
  float *dw = s->dparams + lk_nn_spec_get_tensor (net->spec, r->weight)->offset;
  float *db = s->dparams + lk_nn_spec_get_tensor (net->spec, r->bias)->offset;
  float *dy = at (r->grad, r, s);
  guint nin = (guint) ri->size, O = n->c;

  if (r->fused_relu)
    lk_nn_relu_backward (at (r->out, r, s), dy, r->size * s->n, dy, FALSE);
  for (guint i = 0; i < s->n; i++)
    for (guint o = 0; o < O; o++)
      db[o] += dy[(gsize) i * O + o];
  gemm (prof, CblasTrans, CblasNoTrans, O, nin, s->n, dy, O, x, nin, 1.0f, dw, nin);
  if (ri->wants_grad)
    {
      gemm (prof, CblasNoTrans, CblasNoTrans, s->n, nin, O, dy, O, w, nin,
            written[n->inputs[0]] ? 1.0f : 0.0f, at (ri->grad, ri, s), nin);
      written[n->inputs[0]] = TRUE;
    }
}

static void
backward_node (LkNnNet *net, guint i, const Slice *s, gboolean *written, const Prof *prof)
{
  const LkNnNode *n = lk_nn_spec_get_node (net->spec, i);
  const Node *r = &net->nodes[i];
  guint src = n->n_inputs > 0 ? n->inputs[0] : 0;
  const Node *ri = n->n_inputs > 0 ? &net->nodes[src] : NULL;
  const LkNnNode *in = n->n_inputs > 0 ? lk_nn_spec_get_node (net->spec, src) : NULL;
  LkNnWindow win = window_of (n);
  float *dy, *dx;
  gboolean acc;

  if (n->op == LK_NN_OP_CONV)
    {
      conv_backward (net, n, r, s, written, prof);
      return;
    }
  if (n->op == LK_NN_OP_FC)
    {
      fc_backward (net, n, r, s, written, prof);
      return;
    }
  if (n->op == LK_NN_OP_CONCAT)
    {
      concat_forward (net, n, r, s, TRUE, written);
      for (guint k = 0; k < n->n_inputs; k++)
        if (net->nodes[n->inputs[k]].wants_grad)
          written[n->inputs[k]] = TRUE;
      return;
    }
  if (ri == NULL || !ri->wants_grad)
    return;
  if (r->alias || r->absorbed)
    {
      /* The fused conv does this node's backward from its gradient. */
      written[src] = TRUE;
      return;
    }
  dy = at (r->grad, r, s);
  dx = at (ri->grad, ri, s);
  acc = written[src];
  switch (n->op)
    {
    case LK_NN_OP_RELU:
      lk_nn_relu_backward (at (r->out, r, s), dy, r->size * s->n, dx, acc);
      break;
    case LK_NN_OP_MAX_POOL:
      lk_nn_max_pool_backward (dy, (guint32 *) r->aux + r->size * s->b0, in->c * s->n,
                               in->h * in->w, n->h * n->w, dx, acc);
      break;
    case LK_NN_OP_AVG_POOL:
      lk_nn_avg_pool_backward (dy, in->c * s->n, in->h, in->w, &win, n->h, n->w, dx, acc);
      break;
    case LK_NN_OP_LRN:
      lk_nn_lrn_backward (at (ri->out, ri, s), at (r->out, r, s), (float *) r->aux + r->size * s->b0,
                          dy, n->c, (gsize) s->n * n->h * n->w, n->lrn_size, n->lrn_alpha,
                          n->lrn_beta, dx, acc);
      break;
    case LK_NN_OP_DROPOUT:
      if (net->mode == LK_NN_TRAIN)
        {
          const float *mask = (float *) r->aux + r->size * s->b0;
          for (gsize k = 0; k < r->size * s->n; k++)
            dx[k] = acc ? dx[k] + dy[k] * mask[k] : dy[k] * mask[k];
        }
      else
        lk_nn_copy_or_add (dx, dy, r->size * s->n, acc);
      break;
    case LK_NN_OP_L2NORM:
      lk_nn_l2norm_backward (at (r->out, r, s), (float *) r->aux + s->b0, dy, s->n, n->c, dx, acc);
      break;
    case LK_NN_OP_FLATTEN:
      if (in->spatial)
        lk_nn_flatten_backward (dy, in->c, s->n, in->h * in->w, dx, acc);
      else
        lk_nn_copy_or_add (dx, dy, r->size * s->n, acc);
      break;
    default:
      g_assert_not_reached ();
    }
  written[src] = TRUE;
}

static void
backward_thread (LkNnNet *net, guint t)
{
  gboolean written[LK_NN_MAX_NODES] = { FALSE };
  const LkNnSpec *spec = net->spec;
  double t0;
  Slice s;

  slice_of (net, t, &s);
  if (t > 0)
    memset (s.dparams, 0, net->n_params * sizeof (float));
  if (s.n > 0)
    {
      for (guint o = 0; o < lk_nn_spec_get_n_outputs (spec); o++)
        {
          guint node = lk_nn_spec_get_output_node (spec, o);
          const Node *r = &net->nodes[node];
          if (!(net->output_mask == 0 || (net->output_mask & ((guint64) 1 << o))) ||
              !r->wants_grad)
            continue;
          lk_nn_copy_or_add (at (r->grad, r, &s), net->output_grads[o] + r->size * s.b0,
                             r->size * s.n, written[node]);
          written[node] = TRUE;
        }
      for (guint i = lk_nn_spec_get_n_nodes (spec); i-- > 0;)
        if (net->needed[i] && net->nodes[i].wants_grad && written[i])
          {
            Prof prof = { net, i, net->profiling && t == 0 };
            double start = prof.on ? now_s () : 0;
            backward_node (net, i, &s, written, &prof);
            if (prof.on)
              net->profile.backward_s[i] += now_s () - start;
          }
    }
  /* Sum the threads' parameter gradients, each thread a range. */
  t0 = net->profiling && t == 0 ? now_s () : 0;
  pool_barrier (net->pool);
  if (net->n_threads > 1)
    {
      gsize lo = net->n_params * t / net->n_threads, hi = net->n_params * (t + 1) / net->n_threads;
      for (guint k = 1; k < net->n_threads; k++)
        {
          const float *src = net->thread_grads + net->n_params * (k - 1);
          for (gsize j = lo; j < hi; j++)
            net->grads[j] += src[j];
        }
    }
  if (net->profiling && t == 0)
    net->profile.reduce_s += now_s () - t0;
}

void
lk_nn_net_backward (LkNnNet *net)
{
  g_return_if_fail (net != NULL);
  g_return_if_fail (!(net->flags & LK_NN_NET_NO_BACKWARD));
  g_return_if_fail (net->forward_done);
  openblas_set_num_threads ((int) net->blas_threads);
  pool_run (net->pool, net, backward_thread);
}

void
lk_nn_net_read_node (LkNnNet *net, guint node, float *out)
{
  const LkNnNode *n;
  const Node *r;

  g_return_if_fail (node < lk_nn_spec_get_n_nodes (net->spec) && out != NULL);
  g_return_if_fail (net->forward_done && net->needed[node]);
  n = lk_nn_spec_get_node (net->spec, node);
  r = &net->nodes[node];
  g_return_if_fail (r->out != NULL);
  for (guint t = 0; t < net->n_threads; t++)
    {
      Slice s;
      const float *x;
      slice_of (net, t, &s);
      x = at (r->out, r, &s);
      if (!n->spatial)
        {
          memcpy (out + r->size * s.b0, x, r->size * s.n * sizeof *out);
          continue;
        }
      for (guint c = 0; c < n->c; c++)
        for (guint i = 0; i < s.n; i++)
          memcpy (out + (s.b0 + i) * r->size + (gsize) c * n->h * n->w,
                  x + ((gsize) c * s.n + i) * n->h * n->w, (gsize) n->h * n->w * sizeof *out);
    }
}

void
lk_nn_net_read_argmax (LkNnNet *net, guint node, guint32 *out)
{
  const LkNnNode *n, *in;
  const Node *r;
  gsize PHW;

  g_return_if_fail (node < lk_nn_spec_get_n_nodes (net->spec) && out != NULL);
  n = lk_nn_spec_get_node (net->spec, node);
  g_return_if_fail (n->op == LK_NN_OP_MAX_POOL && net->forward_done && net->needed[node]);
  in = lk_nn_spec_get_node (net->spec, n->inputs[0]);
  r = &net->nodes[node];
  PHW = (gsize) n->h * n->w;
  for (guint t = 0; t < net->n_threads; t++)
    {
      Slice s;
      slice_of (net, t, &s);
      for (guint c = 0; c < n->c; c++)
        for (guint i = 0; i < s.n; i++)
          for (gsize o = 0; o < PHW; o++)
            {
              gsize src = (((gsize) c * s.n + i) * PHW + o) + r->size * s.b0;
              guint32 v;
              if (r->absorbed)
                {
                  guint k = ((const guint8 *) r->aux)[src], oh = (guint) (o / n->w), ow = (guint) (o % n->w);
                  v = (oh * n->stride_h + k / n->kernel_w - n->pad_h) * in->w +
                      ow * n->stride_w + k % n->kernel_w - n->pad_w;
                }
              else
                v = ((const guint32 *) r->aux)[src];
              out[((gsize) (s.b0 + i) * n->c + c) * PHW + o] = v;
            }
    }
}
