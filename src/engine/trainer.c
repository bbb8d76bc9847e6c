/* trainer.c — the two-stage Deep Ranking trainer in a worker thread:
 * preparation, planning, the pre-training and ranking steps, pause and
 * stop, checkpoints and exact resumption (see trainer.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "augment.h"
#include "embeddings.h"
#include "error.h"
#include "fileutil.h"
#include "golden.h"
#include "model-private.h"
#include "model-store.h"
#include "nn-loss.h"
#include "nn-model-file.h"
#include "nn-net.h"
#include "nn-optim.h"
#include "relevance.h"
#include "trainer.h"
#include "trainer-private.h"
#include "triplets.h"

#define HISTORY_BLOB "history"
#define HISTORY_MAGIC "LKHIST01"
#define SALT_PRETRAIN 0x5052455452414eull
#define SALT_RANKING  0x52414e4b494e47ull
#define SALT_ORDER    0x4f52444552ull
#define SALT_SUBSET   0x535542534554ull
#define SALT_SAMPLER  0x53414d504c4552ull

const char *
lk_train_stage_name (LkTrainStage stage)
{
  static const char *const names[] = { "prepare", "pretrain", "ranking", "embed", "done" };
  g_return_val_if_fail (stage <= LK_TRAIN_STAGE_DONE, NULL);
  return names[stage];
}

static gboolean
stage_from_name (const char *name, LkTrainStage *out)
{
  for (guint s = 0; name != NULL && s <= LK_TRAIN_STAGE_DONE; s++)
    if (g_str_equal (name, lk_train_stage_name (s)))
      {
        *out = s;
        return TRUE;
      }
  return FALSE;
}

const char *
lk_train_stage_label (LkTrainStage stage)
{
  switch (stage)
    {
    case LK_TRAIN_STAGE_PREPARE: return _("Preparing");
    case LK_TRAIN_STAGE_PRETRAIN: return _("Pre-training");
    case LK_TRAIN_STAGE_RANKING: return _("Ranking");
    case LK_TRAIN_STAGE_EMBED: return _("Embedding");
    case LK_TRAIN_STAGE_DONE: return _("Done");
    default: g_return_val_if_reached (NULL);
    }
}

const char *
lk_trainer_state_name (LkTrainerState state)
{
  static const char *const names[] = {
    "idle", "running", "paused", "stopping", "stopped", "finished", "failed"
  };
  g_return_val_if_fail (state <= LK_TRAINER_FAILED, NULL);
  return names[state];
}

/* ---- parameters ---- */

void
lk_train_params_init (LkTrainParams *p, LkPreset preset)
{
  g_return_if_fail (p != NULL && preset < LK_N_PRESETS);
  memset (p, 0, sizeof *p);
  p->preset = preset;
  p->ablation = LK_ABLATION_DEEP_RANKING;
  p->seed = 1;
  p->budget_seconds = 900;
  p->pretrain_share = 0.5f;
  p->gap = 0.5f;
  p->momentum = 0.9f;
  p->weight_decay = 0.001f;
  p->keep = 0.6f;
  p->flip = FALSE;
  p->warmup_share = 0.02f;
  p->ranking_softmax = 0;
  p->shallow_init = 1.0f;
  lk_sampler_params_init (&p->sampler);
  p->sampler.seed = 0;
  p->n_threads = 0;
  p->checkpoint_minutes = 10;
  p->checkpoint_steps = 0;
  p->keep_checkpoints = 3;
  p->max_images = 0;
  p->embed_when_done = TRUE;
  switch (preset)
    {
    case LK_PRESET_TINY:
      /* Tuned on Fashion-MNIST's train split for a 15-minute budget on 2
       * cores (test-split Recall@1 0.878 with the photo values below, 0.922
       * with these): three quarters of the time for pre-training, a faster
       * start, no shifts (28-pixel items are centred, and 7 epochs are too
       * few to need them), and mostly out-of-class negatives with a
       * smaller gap, since coarse categories are what its users compare.
       * Ranking fine-tunes gently: the pre-trained net is already at its
       * Recall@1 (0.922 at the end of pre-training), and at 0.01 ranking
       * traded it for mAP@R (0.916 / 0.821), at 0.002 still partly (0.919
       * / 0.824); at 0.0005 it keeps it (0.922 / 0.822) and still lifts
       * class-level precision from 97.8% to 98.5%. */
      p->pretrain_batch = 64;
      p->pretrain_lr = 0.03f;
      p->pretrain_share = 0.75f;
      p->ranking_batch = 32;
      p->ranking_lr = 0.0005f;
      p->max_shift = 0;
      p->gap = 0.2f;
      p->sampler.out_of_class_share = 0.9f;
      break;
    case LK_PRESET_PHOTO:
      /* Tuned on openclipart-png (1,200 + 800 steps, each change from the
       * same pre-trained checkpoint; class-level precision / in-class /
       * Recall@1 / mAP@R; the ConvNet alone 81.7% / 88.6% / 0.676 /
       * 0.414): the paper's ranking (20% out-of-class, rate 0.01) 68.4% /
       * 93.5% / 0.659 / 0.243 — golden features order its in-class
       * triplets and are weak on clip art (60.4% class-level), so
       * learning their order undid the pre-trained classes; rate 0.0005
       * 73.7% / 93.9% / 0.673 / 0.337; 90% out-of-class at 0.002 80.4% /
       * 92.1% / 0.675 / 0.380 (50%: 77.2%); the softmax kept while
       * ranking 81.0% / 92.2% / 0.684 / 0.386 (with 20% out-of-class:
       * 75.0%); the shallow branches at a quarter weight at first 82.5% /
       * 89.8% / 0.679 / 0.398 (a 512-d embedding was no better: 81.9% /
       * 0.392). */
      p->pretrain_batch = 64;
      p->pretrain_lr = 0.02f;
      p->ranking_batch = 32;
      p->ranking_lr = 0.002f;
      p->ranking_softmax = 1.0f;
      p->shallow_init = 0.25f;
      p->max_shift = 4;
      p->sampler.out_of_class_share = 0.9f;
      break;
    case LK_PRESET_PAPER:
    default:
      p->pretrain_batch = 16;
      p->pretrain_lr = 0.005f;
      p->ranking_batch = 8;
      p->ranking_lr = 0.002f;
      p->max_shift = 12;
      p->keep_checkpoints = 1;   /* 700 MB each */
      break;
    }
}

typedef enum { F_U64, F_UINT, F_FLOAT, F_DOUBLE, F_BOOL, F_PRESET, F_ABLATION } FieldType;

typedef struct {
  const char *name;
  FieldType   type;
  gsize       offset;
  const char *missing;   /* the value of checkpoints older than the field, or NULL */
} Field;

#define FIELD(n, t, m) { n, t, G_STRUCT_OFFSET (LkTrainParams, m), NULL }
#define FIELD_SINCE(n, t, m, old) { n, t, G_STRUCT_OFFSET (LkTrainParams, m), old }

/* Every field, so the metadata of a checkpoint is the whole set. */
static const Field fields[] = {
  FIELD ("preset", F_PRESET, preset),
  FIELD ("ablation", F_ABLATION, ablation),
  FIELD ("seed", F_U64, seed),
  FIELD ("pretrain_steps", F_U64, pretrain_steps),
  FIELD ("ranking_steps", F_U64, ranking_steps),
  FIELD ("budget_seconds", F_DOUBLE, budget_seconds),
  FIELD ("pretrain_share", F_FLOAT, pretrain_share),
  FIELD ("pretrain_batch", F_UINT, pretrain_batch),
  FIELD ("pretrain_lr", F_FLOAT, pretrain_lr),
  FIELD ("ranking_batch", F_UINT, ranking_batch),
  FIELD ("ranking_lr", F_FLOAT, ranking_lr),
  FIELD ("gap", F_FLOAT, gap),
  FIELD_SINCE ("ranking_softmax", F_FLOAT, ranking_softmax, "0"),
  FIELD_SINCE ("shallow_init", F_FLOAT, shallow_init, "1"),
  FIELD ("momentum", F_FLOAT, momentum),
  FIELD ("weight_decay", F_FLOAT, weight_decay),
  FIELD ("keep", F_FLOAT, keep),
  FIELD ("max_shift", F_UINT, max_shift),
  FIELD ("flip", F_BOOL, flip),
  FIELD ("warmup_share", F_FLOAT, warmup_share),
  FIELD ("sampler.buffer_size", F_UINT, sampler.buffer_size),
  FIELD ("sampler.t_p", F_FLOAT, sampler.t_p),
  FIELD ("sampler.t_r", F_FLOAT, sampler.t_r),
  FIELD ("sampler.out_of_class_share", F_FLOAT, sampler.out_of_class_share),
  FIELD ("sampler.seed", F_U64, sampler.seed),
  FIELD ("sampler.stream_per_triplet", F_FLOAT, sampler.stream_per_triplet),
  FIELD ("sampler.max_positive_draws", F_UINT, sampler.max_positive_draws),
  FIELD ("sampler.max_negative_draws", F_UINT, sampler.max_negative_draws),
  FIELD ("sampler.max_attempts", F_UINT, sampler.max_attempts),
  FIELD ("n_threads", F_UINT, n_threads),
  FIELD ("checkpoint_minutes", F_DOUBLE, checkpoint_minutes),
  FIELD ("checkpoint_steps", F_U64, checkpoint_steps),
  FIELD ("keep_checkpoints", F_UINT, keep_checkpoints),
  FIELD ("max_images", F_UINT, max_images),
  FIELD ("embed_when_done", F_BOOL, embed_when_done),
};

static char *
field_to_string (const LkTrainParams *p, const Field *f)
{
  const guint8 *at = (const guint8 *) p + f->offset;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  switch (f->type)
    {
    case F_U64: return g_strdup_printf ("%" G_GUINT64_FORMAT, *(const guint64 *) at);
    case F_UINT: return g_strdup_printf ("%u", *(const guint *) at);
    case F_FLOAT: return _lk_model_format_floats ((const float *) at, 1);
    case F_DOUBLE: return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.17g", *(const double *) at));
    case F_BOOL: return g_strdup (*(const gboolean *) at ? "true" : "false");
    case F_PRESET: return g_strdup (lk_preset_name (*(const LkPreset *) at));
    case F_ABLATION: return g_strdup (lk_ablation_name (*(const LkAblation *) at));
    default: g_assert_not_reached ();
    }
}

static gboolean
field_from_string (LkTrainParams *p, const Field *f, const char *s)
{
  guint8 *at = (guint8 *) p + f->offset;
  char *end = NULL;
  guint64 u;
  double d;

  if (s == NULL)
    return FALSE;
  switch (f->type)
    {
    case F_U64:
    case F_UINT:
      if (!g_ascii_isdigit (s[0]))
        return FALSE;
      u = g_ascii_strtoull (s, &end, 10);
      if (*end != '\0' || (f->type == F_UINT && u > G_MAXUINT))
        return FALSE;
      if (f->type == F_U64)
        *(guint64 *) at = u;
      else
        *(guint *) at = (guint) u;
      return TRUE;
    case F_FLOAT:
    case F_DOUBLE:
      d = g_ascii_strtod (s, &end);
      if (s[0] == '\0' || *end != '\0' || !isfinite (d))
        return FALSE;
      if (f->type == F_FLOAT)
        *(float *) at = (float) d;
      else
        *(double *) at = d;
      return TRUE;
    case F_BOOL:
      if (!g_str_equal (s, "true") && !g_str_equal (s, "false"))
        return FALSE;
      *(gboolean *) at = g_str_equal (s, "true");
      return TRUE;
    case F_PRESET:
      return lk_preset_from_name (s, (LkPreset *) at);
    case F_ABLATION:
      return lk_ablation_from_name (s, (LkAblation *) at);
    default:
      g_assert_not_reached ();
    }
}

gboolean
lk_train_params_check (const LkTrainParams *p, GError **error)
{
  const char *bad = NULL;

  g_return_val_if_fail (p != NULL, FALSE);
  if (p->preset >= LK_N_PRESETS)
    bad = "preset";
  else if (p->ablation >= LK_N_ABLATIONS)
    bad = "ablation";
  else if (p->pretrain_steps == 0 && p->ranking_steps == 0 && !(p->budget_seconds > 0))
    bad = "budget_seconds";
  else if (!(p->budget_seconds >= 0) || !isfinite (p->budget_seconds))
    bad = "budget_seconds";
  else if (!(p->pretrain_share >= 0 && p->pretrain_share <= 1))
    bad = "pretrain_share";
  else if (p->pretrain_batch == 0 || p->pretrain_batch > 4096)
    bad = "pretrain_batch";
  else if (p->ranking_batch == 0 || p->ranking_batch > 1365)
    bad = "ranking_batch";
  else if (!(p->pretrain_lr > 0) || !isfinite (p->pretrain_lr))
    bad = "pretrain_lr";
  else if (!(p->ranking_lr > 0) || !isfinite (p->ranking_lr))
    bad = "ranking_lr";
  else if (!(p->gap >= 0) || !isfinite (p->gap))
    bad = "gap";
  else if (!(p->ranking_softmax >= 0) || !isfinite (p->ranking_softmax))
    bad = "ranking_softmax";
  else if (!(p->shallow_init >= 0) || !isfinite (p->shallow_init))
    bad = "shallow_init";
  else if (!(p->momentum >= 0 && p->momentum < 1))
    bad = "momentum";
  else if (!(p->weight_decay >= 0) || !isfinite (p->weight_decay))
    bad = "weight_decay";
  else if (!(p->keep > 0 && p->keep <= 1))
    bad = "keep";
  else if (p->max_shift > 64)
    bad = "max_shift";
  else if (!(p->warmup_share >= 0 && p->warmup_share <= 0.5))
    bad = "warmup_share";
  else if (p->sampler.buffer_size < 2 || !(p->sampler.out_of_class_share >= 0
                                           && p->sampler.out_of_class_share <= 1)
           || !(p->sampler.t_p > 0) || !(p->sampler.t_r >= 0)
           || !(p->sampler.stream_per_triplet >= 0) || p->sampler.max_positive_draws == 0
           || p->sampler.max_negative_draws == 0 || p->sampler.max_attempts == 0)
    bad = "sampler";
  else if (p->n_threads > 256)
    bad = "n_threads";
  else if (!(p->checkpoint_minutes >= 0) || !isfinite (p->checkpoint_minutes))
    bad = "checkpoint_minutes";
  if (bad == NULL)
    return TRUE;
  g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Invalid training parameter “%s”"), bad);
  return FALSE;
}

/* ---- the trainer ---- */

typedef struct {
  LkTrainStage stage;
  guint64      pretrain_done, ranking_done;
  guint64      pretrain_planned, ranking_planned;
  gboolean     planned;
  double       elapsed;         /* training seconds of earlier sessions */
} RunState;

struct _LkTrainer
{
  gint              ref_count;
  LkCollection     *collection;
  char             *name;
  char             *dir;
  int               lock_fd;      /* the model folder's .lock, held while running, or -1 */
  gboolean          fresh;        /* a new model that has not locked its folder yet */
  LkTrainParams     params;
  LkNnModel        *resume;       /* the checkpoint to continue from, until restored */
  LkNnModel        *base;         /* lk_trainer_new_from()'s model, until copied */
  char             *base_name;    /* its name, or NULL */

  /* The training set, fixed at creation. */
  guint32          *images;       /* collection indices */
  guint16          *labels;       /* their categories */
  guint             n_images;
  guint             n_categories;
  gboolean          split_train;
  guint64           data_key;

  /* Shared with other threads, under @lock. */
  GMutex            lock;
  GCond             cond;
  LkTrainerState    state;
  gboolean          started, pause_requested, stop_requested;
  gboolean          worker_done;  /* its last progress call has returned */
  char             *notice;       /* what resuming set aside, or NULL */
  LkTrainProgress   progress;
  GArray           *history;      /* LkTrainPoint */
  LkSampler        *sampler;      /* published once made */
  GError           *error;
  GThread          *thread;
  GCancellable     *cancellable;
  gulong            cancel_handler;
  LkTrainProgressFunc func;
  gpointer          func_data;
  GDestroyNotify    func_destroy;
  double            time_limit;

  /* The worker's own. */
  RunState          st;
  LkInputFormat     format;
  LkGoldenWeights   golden;
  char             *golden_source;
  LkFeatures       *features;     /* the collection's (ranking or visual) */
  guint             feature_dims[LK_N_FEATURES];
  LkRelevance      *relevance;
  LkNnSpec         *spec;
  LkNnNet          *net;
  LkNnSgd          *sgd;
  guint             max_batch;
  float            *in_images;    /* (max_batch, C, side, side) */
  float            *in_golden;    /* (max_batch, golden_dim), visual only */
  guint             golden_dim;
  guint32          *batch;        /* collection indices of the batch */
  guint            *batch_labels;
  LkTriplet        *triplets;
  guint32          *perm;         /* pre-training order of one epoch, local indices */
  guint64           perm_epoch;
  double            session_start;
  double            paused;       /* seconds paused in this session */
  double            last_checkpoint;
  double            t_pretrain, t_ranking;   /* seconds per step, smoothed (0 unknown) */
  double            cal_pretrain, cal_ranking; /* the same, as timed for the plan */
  double            pretrain_deadline; /* a budget's end of pre-training (elapsed s), or 0 */
  guint64           pretrain_cut_from; /* the plan pre-training was cut short of, or 0 */
  double            test_pretrain_slowdown; /* _lk_trainer_set_pretrain_slowdown() */
  double            loss_smooth;
  guint64           last_checkpoint_step;
  gboolean          finished;
  gboolean          stopped_by_limit;
};

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static guint64
mix (guint64 a, guint64 b)
{
  return lk_augment_mix (lk_augment_mix (a) ^ b);
}

static guint
n_threads_of (const LkTrainParams *p)
{
  return p->n_threads > 0 ? p->n_threads : MAX (1, g_get_num_processors ());
}

static void
pick_images (LkTrainer *self)
{
  guint n = 0;
  guint32 *all = lk_collection_get_split_indices (self->collection, LK_SPLIT_TRAIN, &n);

  self->split_train = n > 0;
  if (n == 0)
    {
      g_free (all);
      all = lk_collection_get_split_indices (self->collection, LK_SPLIT_ALL, &n);
    }
  if (self->params.max_images > 0 && self->params.max_images < n)
    {
      /* A seeded subset: a partial Fisher–Yates shuffle, then ascending. */
      guint m = self->params.max_images;
      for (guint i = 0; i < m; i++)
        {
          guint j = i + (guint) (mix (self->params.seed ^ SALT_SUBSET, i) % (n - i));
          guint32 t = all[i];
          all[i] = all[j];
          all[j] = t;
        }
      n = m;
    }
  self->images = all;
  self->n_images = n;
}

static int
compare_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static void
init_training_set (LkTrainer *self)
{
  guint64 h;

  pick_images (self);
  qsort (self->images, self->n_images, sizeof *self->images, compare_u32);
  self->labels = g_new (guint16, MAX (self->n_images, 1));
  for (guint i = 0; i < self->n_images; i++)
    self->labels[i] = (guint16) lk_collection_get_label (self->collection, self->images[i]);
  self->n_categories = lk_collection_get_n_categories (self->collection);
  h = lk_hash64 (self->images, (gsize) self->n_images * sizeof *self->images, 0x4c4b5452);
  h = lk_hash64 (self->labels, (gsize) self->n_images * sizeof *self->labels, h);
  self->data_key = mix (h, lk_collection_pixels_key (self->collection));
}

static LkTrainer *
trainer_alloc (LkCollection *collection, const char *name, const LkTrainParams *params)
{
  LkTrainer *self = g_new0 (LkTrainer, 1);

  self->ref_count = 1;
  self->collection = lk_collection_ref (collection);
  self->name = g_strdup (name);
  self->dir = lk_model_store_dir_for (collection, name);
  self->lock_fd = -1;
  self->params = *params;
  if (self->params.sampler.seed == 0)
    self->params.sampler.seed = (mix (params->seed, SALT_SAMPLER) >> 33) | 1;
  if (self->params.ablation == LK_ABLATION_CONVNET)
    self->params.pretrain_share = 1.0f;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->history = g_array_new (FALSE, FALSE, sizeof (LkTrainPoint));
  self->progress.eta_s = -1;
  self->st.stage = LK_TRAIN_STAGE_PRETRAIN;
  self->st.pretrain_planned = params->pretrain_steps;
  self->st.ranking_planned = lk_ablation_has_ranking (params->ablation) ? params->ranking_steps : 0;
  self->st.planned = params->pretrain_steps > 0 || params->ranking_steps > 0;
  init_training_set (self);
  lk_model_register_embedder ();
  return self;
}

LkTrainer *
lk_trainer_new (LkCollection *collection, const char *name, const LkTrainParams *params,
                GError **error)
{
  g_autofree char *dir = NULL;
  LkTrainer *self;

  g_return_val_if_fail (collection != NULL && name != NULL && params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!lk_model_name_is_valid (name))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("“%s” is not a model name (1–48 letters, digits, “.”, “_” and “-”)"), name);
      return NULL;
    }
  if (!lk_train_params_check (params, error))
    return NULL;
  dir = lk_model_store_dir_for (collection, name);
  /* A folder that holds neither a model file nor a checkpoint is what a
   * run killed before its first checkpoint leaves (a temporary at most):
   * nothing to resume, so the name is free again. */
  if (lk_model_store_has_model (collection, name))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("A model “%s” exists already (%s): resume it or choose another name"), name,
                   dir);
      return NULL;
    }
  if (lk_collection_get_n_categories (collection) < 2)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Training needs at least two categories; “%s” has %u"),
                   lk_collection_get_name (collection), lk_collection_get_n_categories (collection));
      return NULL;
    }
  self = trainer_alloc (collection, name, params);
  self->fresh = TRUE;
  return self;
}

static const char *
meta (LkNnModel *m, const char *key)
{
  return lk_nn_model_get_metadata (m, key);
}

static gboolean
meta_u64 (LkNnModel *m, const char *key, guint64 *out)
{
  const char *s = meta (m, key);
  char *end = NULL;
  if (s == NULL || !g_ascii_isdigit (s[0]))
    return FALSE;
  *out = g_ascii_strtoull (s, &end, 10);
  return *end == '\0';
}

static gboolean
read_history (LkTrainer *self, LkNnModel *m, GError **error);
static void restore_figures (LkTrainer *self);
static void fill_progress (LkTrainer *self, LkTrainProgress *p);
static void sgd_params_for (LkTrainer *self, LkTrainStage stage, LkNnSgdParams *p);

static void notice_append (char **notice, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
notice_append (char **notice, const char *format, ...)
{
  va_list args;
  g_autofree char *line = NULL;
  char *joined;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  joined = *notice != NULL ? g_strconcat (*notice, "\n", line, NULL) : g_strdup (line);
  g_free (*notice);
  *notice = joined;
}

LkTrainer *
lk_trainer_new_resume (LkCollection *collection, const char *name, GError **error)
{
  g_autoptr(LkModelInfo) info = NULL;
  g_autoptr(LkNnModel) m = NULL;
  g_autoptr(LkTrainer) self = NULL;
  LkCheckpointInfo *last;
  LkTrainParams params;
  guint64 key = 0;
  const char *path, *s;
  g_autofree char *notice = NULL;

  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  info = lk_model_store_get (collection, name, error);
  if (info == NULL)
    return NULL;
  if (info->checkpoints->len == 0)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND,
                   _("Model “%s” has no checkpoint to resume from (%s)"), name, info->dir);
      return NULL;
    }
  /* The latest checkpoint that loads. One that is damaged (a disk fault:
   * they are written atomically) is set aside as NAME.damaged, with a
   * notice, and the one before it used. */
  for (guint i = info->checkpoints->len; i-- > 0 && m == NULL;)
    {
      g_autoptr(GError) local = NULL;
      g_autofree char *aside = NULL;

      last = info->checkpoints->pdata[i];
      m = lk_nn_model_load (last->path, &local);
      if (m != NULL)
        break;
      aside = g_strconcat (last->path, ".damaged", NULL);
      if (!g_error_matches (local, LK_ERROR, LK_ERROR_CORRUPT) || i == 0
          || g_rename (last->path, aside) != 0)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      notice_append (&notice, _("%s; set aside as %s, resuming from the checkpoint before"),
                     local->message, aside);
    }
  path = last->path;
  if (!lk_nn_model_has_optimizer (m) || meta (m, LK_MODEL_META_VERSION) == NULL)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("Checkpoint %s has no trainer state"), path);
      return NULL;
    }
  if (!g_str_equal (meta (m, LK_MODEL_META_VERSION), LK_MODEL_META_VERSION_VALUE))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION, _("Checkpoint %s has metadata version %s"),
                   path, meta (m, LK_MODEL_META_VERSION));
      return NULL;
    }
  memset (&params, 0, sizeof params);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *key_name = g_strdup_printf ("param.%s", fields[i].name);
      const char *value = meta (m, key_name);
      if (!field_from_string (&params, &fields[i], value != NULL ? value : fields[i].missing))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                       _("Checkpoint %s: bad or missing “%s”"), path, key_name);
          return NULL;
        }
    }
  if (!lk_train_params_check (&params, error))
    return NULL;
  self = trainer_alloc (collection, name, &params);
  self->notice = g_steal_pointer (&notice);
  s = meta (m, "model.data.key");
  if (s != NULL)
    key = g_ascii_strtoull (s, NULL, 16);
  if (s == NULL || key != self->data_key)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("%s: model “%s” was trained on other images than %s has now; train a "
                     "new model"), path, name, lk_collection_get_name (collection));
      return NULL;
    }
  if (!stage_from_name (meta (m, "train.stage"), &self->st.stage)
      || self->st.stage < LK_TRAIN_STAGE_PRETRAIN || self->st.stage > LK_TRAIN_STAGE_DONE
      || !meta_u64 (m, "train.pretrain.done", &self->st.pretrain_done)
      || !meta_u64 (m, "train.ranking.done", &self->st.ranking_done)
      || !meta_u64 (m, "train.pretrain.planned", &self->st.pretrain_planned)
      || !meta_u64 (m, "train.ranking.planned", &self->st.ranking_planned)
      || !_lk_model_parse_floats (meta (m, "model.input.mean"), self->format.mean,
                                  lk_nn_spec_get_node (lk_nn_model_get_spec (m), 0)->c)
      || !_lk_model_parse_floats (meta (m, "model.input.std"), self->format.std,
                                  lk_nn_spec_get_node (lk_nn_model_get_spec (m), 0)->c)
      || !_lk_model_parse_floats (meta (m, "model.golden.weights"), self->golden.w, LK_N_FEATURES))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Checkpoint %s: bad trainer state"), path);
      return NULL;
    }
  {
    char *end = NULL;
    s = meta (m, "train.seconds");
    self->st.elapsed = s != NULL ? g_ascii_strtod (s, &end) : -1;
    if (s == NULL || *end != '\0' || !(self->st.elapsed >= 0))
      {
        g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Checkpoint %s: bad trainer state"),
                     path);
        return NULL;
      }
  }
  {
    float t[2] = { 0, 0 };
    if (_lk_model_parse_floats (meta (m, "train.plan.pretrain_step_s"), t, 1)
        && _lk_model_parse_floats (meta (m, "train.plan.ranking_step_s"), t + 1, 1))
      {
        self->cal_pretrain = t[0];
        self->cal_ranking = t[1];
      }
  }
  /* A budget run resumed keeps its pre-training deadline (in training
   * seconds, which the checkpoint carries on) and the record of a cut. */
  s = meta (m, "train.plan.pretrain_deadline_s");
  self->pretrain_deadline = s != NULL ? MAX (0, g_ascii_strtod (s, NULL)) : 0;
  if (!meta_u64 (m, "train.pretrain.cut_from", &self->pretrain_cut_from))
    self->pretrain_cut_from = 0;
  self->st.planned = TRUE;
  self->golden_source = g_strdup (meta (m, "model.golden.weights_source"));
  self->base_name = g_strdup (meta (m, "train.from"));
  if (!read_history (self, m, error))
    return NULL;
  self->last_checkpoint_step = self->st.pretrain_done + self->st.ranking_done;
  restore_figures (self);
  self->resume = g_steal_pointer (&m);
  return g_steal_pointer (&self);
}

LkTrainer *
lk_trainer_new_from (LkCollection *collection, const char *name, const LkTrainParams *params,
                     const char *base, GError **error)
{
  g_autoptr(LkTrainer) self = NULL;
  g_autoptr(LkNnModel) m = NULL;
  g_autofree char *dir = NULL, *path = NULL;
  LkPreset preset;
  const char *s;
  guint64 key = 0, done = 0;
  guint channels;

  g_return_val_if_fail (base != NULL, NULL);
  self = lk_trainer_new (collection, name, params, error);
  if (self == NULL)
    return NULL;
  if (!lk_model_name_is_valid (base) || !lk_model_store_has_model (collection, base))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("No model “%s” to start from in %s"),
                   base, lk_collection_get_name (collection));
      return NULL;
    }
  dir = lk_model_store_dir_for (collection, base);
  path = g_build_filename (dir, "model.lkm", NULL);
  m = lk_nn_model_load (path, error);
  if (m == NULL)
    return NULL;
  channels = lk_nn_spec_get_node (lk_nn_model_get_spec (m), 0)->c;
  s = meta (m, "model.data.key");
  if (s != NULL)
    key = g_ascii_strtoull (s, NULL, 16);
  if (!lk_preset_from_name (meta (m, "model.preset"), &preset) || preset != params->preset)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Model “%s” is a %s model, not %s: start from a model of the same preset"),
                   base, meta (m, "model.preset") != NULL ? meta (m, "model.preset") : "?",
                   lk_preset_name (params->preset));
      return NULL;
    }
  if (s == NULL || key != self->data_key)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Model “%s” was trained on other images than this training uses "
                     "(split, subset or files changed)"), base);
      return NULL;
    }
  if (!meta_u64 (m, "train.pretrain.done", &done) || done == 0
      || !_lk_model_parse_floats (meta (m, "model.input.mean"), self->format.mean, channels)
      || !_lk_model_parse_floats (meta (m, "model.input.std"), self->format.std, channels))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("Model “%s” has no pre-trained network to start from"), base);
      return NULL;
    }
  /* Its pre-training is this model's: ranking starts at its next step. */
  self->format.side = lk_preset_side (params->preset);
  self->format.channels = channels;
  self->st.pretrain_done = self->st.pretrain_planned = done;
  if (!read_history (self, m, error))
    return NULL;
  for (guint i = 0; i < self->history->len; i++)
    if (g_array_index (self->history, LkTrainPoint, i).stage != LK_TRAIN_STAGE_PRETRAIN)
      {
        g_array_set_size (self->history, i);
        break;
      }
  self->base_name = g_strdup (base);
  self->base = g_steal_pointer (&m);
  return g_steal_pointer (&self);
}

LkTrainer *
lk_trainer_ref (LkTrainer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_trainer_unref (LkTrainer *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  if (self->thread != NULL)
    {
      /* The worker holds a reference while it runs, so it has ended (or
       * is dropping that last reference itself): join it, or let it go. */
      if (g_thread_self () == self->thread)
        g_thread_unref (self->thread);
      else
        g_thread_join (self->thread);
    }
  if (self->cancellable != NULL)
    {
      g_cancellable_disconnect (self->cancellable, self->cancel_handler);
      g_object_unref (self->cancellable);
    }
  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);
  lk_collection_unref (self->collection);
  g_free (self->name);
  g_free (self->dir);
  g_clear_pointer (&self->resume, lk_nn_model_free);
  g_clear_pointer (&self->base, lk_nn_model_free);
  g_free (self->base_name);
  g_free (self->images);
  g_free (self->labels);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_array_unref (self->history);
  g_clear_pointer (&self->sampler, lk_sampler_free);
  g_clear_error (&self->error);
  g_free (self->golden_source);
  g_free (self->notice);
  g_clear_pointer (&self->features, lk_features_unref);
  g_clear_pointer (&self->relevance, lk_relevance_unref);
  g_clear_pointer (&self->sgd, lk_nn_sgd_free);
  g_clear_pointer (&self->net, lk_nn_net_free);
  g_clear_pointer (&self->spec, lk_nn_spec_free);
  g_free (self->in_images);
  g_free (self->in_golden);
  g_free (self->batch);
  g_free (self->batch_labels);
  g_free (self->triplets);
  g_free (self->perm);
  g_free (self);
}

void
lk_trainer_set_progress_func (LkTrainer *self, LkTrainProgressFunc func, gpointer user_data,
                              GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL && !self->started);
  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;
}

void
lk_trainer_set_time_limit (LkTrainer *self, double seconds)
{
  g_return_if_fail (self != NULL && seconds >= 0);
  g_mutex_lock (&self->lock);
  self->time_limit = seconds;
  g_mutex_unlock (&self->lock);
}

LkTrainerState
lk_trainer_get_state (LkTrainer *self)
{
  LkTrainerState s;
  g_return_val_if_fail (self != NULL, LK_TRAINER_FAILED);
  g_mutex_lock (&self->lock);
  s = self->state;
  g_mutex_unlock (&self->lock);
  return s;
}

void
lk_trainer_get_progress (LkTrainer *self, LkTrainProgress *out)
{
  g_return_if_fail (self != NULL && out != NULL);
  g_mutex_lock (&self->lock);
  *out = self->progress;
  g_mutex_unlock (&self->lock);
}

GArray *
lk_trainer_dup_history (LkTrainer *self)
{
  GArray *out;
  g_return_val_if_fail (self != NULL, NULL);
  g_mutex_lock (&self->lock);
  out = g_array_sized_new (FALSE, FALSE, sizeof (LkTrainPoint), self->history->len);
  g_array_append_vals (out, self->history->data, self->history->len);
  g_mutex_unlock (&self->lock);
  return out;
}

const LkTrainParams *lk_trainer_get_params (LkTrainer *self) { return &self->params; }
const char *lk_trainer_get_name (LkTrainer *self) { return self->name; }
const char *lk_trainer_get_dir (LkTrainer *self) { return self->dir; }
const char *lk_trainer_get_notice (LkTrainer *self) { return self->notice; }

LkSampler *
lk_trainer_get_sampler (LkTrainer *self)
{
  LkSampler *s;
  g_return_val_if_fail (self != NULL, NULL);
  g_mutex_lock (&self->lock);
  s = self->sampler;
  g_mutex_unlock (&self->lock);
  return s;
}

const guint32 *
lk_trainer_get_images (LkTrainer *self, guint *n_out)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (n_out != NULL)
    *n_out = self->n_images;
  return self->images;
}

void
lk_trainer_pause (LkTrainer *self)
{
  g_return_if_fail (self != NULL);
  g_mutex_lock (&self->lock);
  self->pause_requested = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
lk_trainer_resume (LkTrainer *self)
{
  g_return_if_fail (self != NULL);
  g_mutex_lock (&self->lock);
  self->pause_requested = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
lk_trainer_stop (LkTrainer *self)
{
  g_return_if_fail (self != NULL);
  g_mutex_lock (&self->lock);
  self->stop_requested = TRUE;
  if (self->state == LK_TRAINER_RUNNING || self->state == LK_TRAINER_PAUSED)
    self->state = self->progress.state = LK_TRAINER_STOPPING;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  lk_trainer_stop (user_data);
}

/* ---- progress ---- */

static double
elapsed_total (LkTrainer *self)
{
  return self->st.elapsed + (now_s () - self->session_start - self->paused);
}

static void
fill_progress (LkTrainer *self, LkTrainProgress *p)
{
  const RunState *st = &self->st;
  double t_pre = self->t_pretrain, t_rank = self->t_ranking;

  p->stage = self->st.stage;
  p->step = st->pretrain_done + st->ranking_done;
  p->total_steps = st->planned ? st->pretrain_planned + st->ranking_planned : 0;
  p->elapsed_s = elapsed_total (self);
  if (st->stage == LK_TRAIN_STAGE_PRETRAIN)
    {
      p->stage_step = st->pretrain_done;
      p->stage_steps = st->pretrain_planned;
      p->epoch = (double) st->pretrain_done * self->params.pretrain_batch / MAX (1, self->n_images);
    }
  else if (st->stage == LK_TRAIN_STAGE_RANKING)
    {
      p->stage_step = st->ranking_done;
      p->stage_steps = st->ranking_planned;
      /* The first batch streams a whole epoch into the buffers. */
      p->epoch = st->ranking_done == 0 ? 0
               : 1 + (double) st->ranking_done * self->params.ranking_batch
                 * self->params.sampler.stream_per_triplet / MAX (1, self->n_images);
    }
  /* Steps given rather than a budget: nothing has timed a ranking step
   * yet while pre-training runs. A ranking step pushes 3 × its batch
   * through the same ConvNet (the shallow branches are cheap), which
   * estimates it within a few percent (tiny: 0.139 s measured against
   * 0.140 s estimated). */
  if (t_rank <= 0 && t_pre > 0 && st->ranking_done < st->ranking_planned)
    t_rank = t_pre * 3.0 * self->params.ranking_batch / MAX (1, self->params.pretrain_batch);
  if (st->planned && (t_pre > 0 || st->pretrain_done >= st->pretrain_planned)
      && (t_rank > 0 || st->ranking_done >= st->ranking_planned))
    p->eta_s = (st->pretrain_planned - MIN (st->pretrain_done, st->pretrain_planned)) * t_pre
             + (st->ranking_planned - MIN (st->ranking_done, st->ranking_planned)) * t_rank;
  else
    p->eta_s = -1;
  p->checkpoint_step = self->last_checkpoint_step;
}

static void
notify (LkTrainer *self)
{
  LkTrainProgress copy;

  g_mutex_lock (&self->lock);
  fill_progress (self, &self->progress);
  self->progress.state = self->state;
  copy = self->progress;
  g_mutex_unlock (&self->lock);
  if (self->func != NULL)
    self->func (&copy, self->func_data);
}

static void
set_message (LkTrainer *self, guint done, guint total, const char *format, ...) G_GNUC_PRINTF (4, 5);

static void
set_message (LkTrainer *self, guint done, guint total, const char *format, ...)
{
  va_list args;
  g_mutex_lock (&self->lock);
  va_start (args, format);
  g_vsnprintf (self->progress.message, sizeof self->progress.message, format, args);
  va_end (args);
  self->progress.done = done;
  self->progress.total = total;
  g_mutex_unlock (&self->lock);
  notify (self);
}

static void
on_features_progress (guint done, guint total, gpointer user_data)
{
  set_message (user_data, done, total, "%s", _("Computing the golden features"));
}

static void
on_relevance_progress (guint done, guint total, gpointer user_data)
{
  set_message (user_data, done, total, "%s", _("Computing the relevance of image pairs"));
}

static void
on_embed_progress (guint done, guint total, gpointer user_data)
{
  set_message (user_data, done, total, "%s", _("Embedding the collection"));
}

/* ---- metadata, checkpoints, history ---- */

static GHashTable *
build_metadata (LkTrainer *self, const char *state)
{
  GHashTable *m = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const LkNnNode *image = lk_nn_spec_get_node (self->spec, 0);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *label = g_strdup_printf ("%s (%s)", lk_ablation_label (self->params.ablation),
                                            lk_preset_name (self->params.preset));

#define PUT(k, v) g_hash_table_replace (m, g_strdup (k), (v))
  PUT (LK_MODEL_META_VERSION, g_strdup (LK_MODEL_META_VERSION_VALUE));
  PUT ("model.name", g_strdup (self->name));
  PUT ("model.label", g_strdup (label));
  PUT ("model.preset", g_strdup (lk_preset_name (self->params.preset)));
  PUT ("model.ablation", g_strdup (lk_ablation_name (self->params.ablation)));
  PUT ("model.embedding.dim",
       g_strdup_printf ("%u", lk_nn_spec_get_output_dim (self->spec, LK_MODEL_OUTPUT_EMBEDDING)));
  PUT ("model.collection.id", g_strdup (lk_collection_get_id (self->collection)));
  PUT ("model.collection.name", g_strdup (lk_collection_get_name (self->collection)));
  PUT ("model.data.split", g_strdup (self->split_train ? "train" : "all"));
  PUT ("model.data.images", g_strdup_printf ("%u", self->n_images));
  PUT ("model.data.categories", g_strdup_printf ("%u", self->n_categories));
  PUT ("model.data.key", g_strdup_printf ("%016" G_GINT64_MODIFIER "x", self->data_key));
  PUT ("model.input.side", g_strdup_printf ("%u", image->h));
  PUT ("model.input.channels", g_strdup_printf ("%u", image->c));
  PUT ("model.input.mean", _lk_model_format_floats (self->format.mean, image->c));
  PUT ("model.input.std", _lk_model_format_floats (self->format.std, image->c));
  PUT ("model.golden.weights", _lk_model_format_floats (self->golden.w, LK_N_FEATURES));
  PUT ("model.golden.weights_source", g_strdup (self->golden_source != NULL ? self->golden_source
                                                                           : "default"));
  PUT ("train.state", g_strdup (state));
  PUT ("train.stage", g_strdup (lk_train_stage_name (self->st.stage)));
  PUT ("train.step", g_strdup_printf ("%" G_GUINT64_FORMAT,
                                      self->st.pretrain_done + self->st.ranking_done));
  PUT ("train.pretrain.done", g_strdup_printf ("%" G_GUINT64_FORMAT, self->st.pretrain_done));
  PUT ("train.pretrain.planned", g_strdup_printf ("%" G_GUINT64_FORMAT, self->st.pretrain_planned));
  PUT ("train.ranking.done", g_strdup_printf ("%" G_GUINT64_FORMAT, self->st.ranking_done));
  PUT ("train.ranking.planned", g_strdup_printf ("%" G_GUINT64_FORMAT, self->st.ranking_planned));
  if (self->pretrain_cut_from > 0)
    PUT ("train.pretrain.cut_from", g_strdup_printf ("%" G_GUINT64_FORMAT, self->pretrain_cut_from));
  if (self->pretrain_deadline > 0)
    PUT ("train.plan.pretrain_deadline_s",
         g_strdup (g_ascii_formatd (buf, sizeof buf, "%.3f", self->pretrain_deadline)));
  PUT ("train.plan.pretrain_step_s", _lk_model_format_floats (&(float) { self->cal_pretrain }, 1));
  PUT ("train.plan.ranking_step_s", _lk_model_format_floats (&(float) { self->cal_ranking }, 1));
  PUT ("train.seconds", g_strdup (g_ascii_formatd (buf, sizeof buf, "%.3f", elapsed_total (self))));
  PUT ("train.updated", g_date_time_format_iso8601 (now));
  if (self->base_name != NULL)
    PUT ("train.from", g_strdup (self->base_name));
#undef PUT
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_hash_table_replace (m, g_strdup_printf ("param.%s", fields[i].name),
                          field_to_string (&self->params, &fields[i]));
  return m;
}

/* Little-endian: magic, u32 count, then per point u64 step, u32 stage,
 * f32 loss, f32 violation. */
static GBytes *
history_bytes (LkTrainer *self)
{
  GByteArray *b;
  guint n;

  g_mutex_lock (&self->lock);
  n = self->history->len;
  b = g_byte_array_sized_new (12 + 20 * n);
  g_byte_array_append (b, (const guint8 *) HISTORY_MAGIC, 8);
  {
    guint32 c = GUINT32_TO_LE (n);
    g_byte_array_append (b, (const guint8 *) &c, 4);
  }
  for (guint i = 0; i < n; i++)
    {
      const LkTrainPoint *p = &g_array_index (self->history, LkTrainPoint, i);
      guint64 step = GUINT64_TO_LE (p->step);
      guint32 stage = GUINT32_TO_LE (p->stage), loss, viol;
      memcpy (&loss, &p->loss, 4);
      memcpy (&viol, &p->violation, 4);
      loss = GUINT32_TO_LE (loss);
      viol = GUINT32_TO_LE (viol);
      g_byte_array_append (b, (const guint8 *) &step, 8);
      g_byte_array_append (b, (const guint8 *) &stage, 4);
      g_byte_array_append (b, (const guint8 *) &loss, 4);
      g_byte_array_append (b, (const guint8 *) &viol, 4);
    }
  g_mutex_unlock (&self->lock);
  return g_byte_array_free_to_bytes (b);
}

/* A resumed trainer reports what the checkpointed run reported last —
 * its last step's loss and violation, the loss averaged as record() does
 * (restarting at each stage) and that step's learning rate — rather than
 * zeros until its first step. */
static void
restore_figures (LkTrainer *self)
{
  const LkTrainPoint *last;
  LkNnSgdParams sp;
  guint64 done;

  /* Where it is, as a started trainer would say (not started: no time
   * of this session yet). */
  self->session_start = now_s ();
  fill_progress (self, &self->progress);
  self->session_start = 0;
  self->progress.state = LK_TRAINER_IDLE;
  if (self->history->len == 0)
    return;
  for (guint i = 0; i < self->history->len; i++)
    {
      const LkTrainPoint *p = &g_array_index (self->history, LkTrainPoint, i);
      if (i == 0 || p[-1].stage != p->stage)
        self->loss_smooth = p->loss;
      else
        self->loss_smooth = 0.98 * self->loss_smooth + 0.02 * p->loss;
    }
  last = &g_array_index (self->history, LkTrainPoint, self->history->len - 1);
  sgd_params_for (self, (LkTrainStage) last->stage, &sp);
  done = last->stage == LK_TRAIN_STAGE_RANKING ? self->st.ranking_done : self->st.pretrain_done;
  self->progress.loss = last->loss;
  self->progress.loss_smooth = self->loss_smooth;
  self->progress.violation = last->violation;
  self->progress.lr = lk_nn_sgd_lr_at (&sp, done > 0 ? done - 1 : 0);
}

static gboolean
read_history (LkTrainer *self, LkNnModel *m, GError **error)
{
  g_autoptr(GBytes) bytes = lk_nn_model_get_blob (m, HISTORY_BLOB);
  const guint8 *p;
  gsize len;
  guint32 n;

  if (bytes == NULL)
    return TRUE;
  p = g_bytes_get_data (bytes, &len);
  if (len < 12 || memcmp (p, HISTORY_MAGIC, 8) != 0)
    goto bad;
  memcpy (&n, p + 8, 4);
  n = GUINT32_FROM_LE (n);
  if ((guint64) n * 20 + 12 != len)
    goto bad;
  g_array_set_size (self->history, 0);
  for (guint i = 0; i < n; i++)
    {
      const guint8 *q = p + 12 + (gsize) 20 * i;
      LkTrainPoint pt;
      guint64 step;
      guint32 stage, loss, viol;
      memcpy (&step, q, 8);
      memcpy (&stage, q + 8, 4);
      memcpy (&loss, q + 12, 4);
      memcpy (&viol, q + 16, 4);
      pt.step = GUINT64_FROM_LE (step);
      pt.stage = GUINT32_FROM_LE (stage);
      loss = GUINT32_FROM_LE (loss);
      viol = GUINT32_FROM_LE (viol);
      memcpy (&pt.loss, &loss, 4);
      memcpy (&pt.violation, &viol, 4);
      g_array_append_val (self->history, pt);
    }
  return TRUE;
bad:
  g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Checkpoint of “%s”: damaged loss history"),
               self->name);
  return FALSE;
}

static void
prune_checkpoints (LkTrainer *self)
{
  g_autoptr(LkModelInfo) info = lk_model_store_get (self->collection, self->name, NULL);
  guint keep = MAX (1, self->params.keep_checkpoints);

  if (info == NULL)
    return;
  for (guint i = 0; i + keep < info->checkpoints->len; i++)
    {
      LkCheckpointInfo *c = info->checkpoints->pdata[i];
      g_unlink (c->path);
    }
}

static gboolean
save_files (LkTrainer *self, gboolean checkpoint, const char *state, GError **error)
{
  g_autoptr(GHashTable) metadata = build_metadata (self, state);
  g_autoptr(GBytes) history = history_bytes (self);
  LkNnBlob blob = { HISTORY_BLOB, g_bytes_get_data (history, NULL), g_bytes_get_size (history) };
  LkNnSaveOptions o = { metadata, checkpoint ? self->sgd : NULL, &blob, 1 };
  guint64 step = self->st.pretrain_done + self->st.ranking_done;
  g_autofree char *path = checkpoint ? lk_model_checkpoint_path (self->dir, step)
                                     : g_build_filename (self->dir, "model.lkm", NULL);

  if (!lk_nn_model_save (path, self->net, &o, error))
    return FALSE;
  if (checkpoint)
    {
      self->last_checkpoint_step = step;
      self->last_checkpoint = now_s ();
      prune_checkpoints (self);
    }
  return lk_model_store_write_card (self->dir, metadata, error);
}

/* ---- preparation ---- */

static gboolean
choose_golden_weights (LkTrainer *self, GError **error)
{
  g_autofree char *path = lk_triplets_default_path (self->collection);
  g_autoptr(LkTripletSet) set = NULL;
  const guint32 *q, *p, *n;
  guint count;
  LkGoldenWeights w;

  lk_golden_weights_init_default (&self->golden);
  g_free (self->golden_source);
  self->golden_source = g_strdup ("default");
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  set = lk_triplet_set_load (path, self->collection, NULL);
  count = set != NULL ? lk_triplet_set_get_triplets (set, &q, &p, &n) : 0;
  if (count == 0)
    return TRUE;
  /* Labelling improves the relevance that drives training (issue 5). */
  if (lk_golden_learn (self->features, q, p, n, count, NULL, &w, NULL))
    {
      self->golden = w;
      g_free (self->golden_source);
      self->golden_source = g_strdup_printf ("learned from %u labelled triplets", count);
    }
  return TRUE;
}

static gboolean
prepare_features (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  guint dim = 0;

  self->features = lk_features_load_or_compute_for_collection (self->collection,
                                                               n_threads_of (&self->params),
                                                               on_features_progress, self,
                                                               cancellable, error);
  if (self->features == NULL)
    return FALSE;
  for (guint k = 0; k < LK_N_FEATURES; k++)
    dim += self->feature_dims[k] = lk_features_get_block (self->features, k, NULL);
  self->golden_dim = dim;
  return TRUE;
}

static gboolean
prepare_sampler (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  guint dim = lk_features_get_dim (self->features);
  g_autofree float *rows = g_new (float, MAX (1, (gsize) self->n_images * dim));
  g_autoptr(LkFeatures) sub = NULL;
  g_autofree char *cache = lk_cache_dir_for (lk_collection_get_id (self->collection));
  g_autofree char *file = g_strdup_printf ("relevance-train-%u-%u.bin",
                                           lk_collection_get_side (self->collection),
                                           self->n_images);
  g_autofree char *path = g_build_filename (cache, file, NULL);
  LkSampler *sampler;

  /* Relevance over the training images only: nothing of a held-out
   * image (not even its share of a total relevance) reaches training. */
  for (guint i = 0; i < self->n_images; i++)
    memcpy (rows + (gsize) i * dim, lk_features_get_row (self->features, self->images[i]),
            dim * sizeof (float));
  sub = lk_features_new_take_data (self->n_images, self->feature_dims, g_steal_pointer (&rows));
  self->relevance = lk_relevance_load_or_compute (path, sub, self->labels, self->n_categories,
                                                  &self->golden, NULL, on_relevance_progress, self,
                                                  cancellable, error);
  if (self->relevance == NULL)
    return FALSE;
  sampler = lk_sampler_new (self->relevance, &self->params.sampler);
  if (sampler == NULL)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Invalid sampler parameters"));
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  self->sampler = sampler;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Replays the sampler's draws up to the checkpoint, so it is where an
 * uninterrupted run's would be. */
static gboolean
replay_sampler (LkTrainer *self, GError **error)
{
  for (guint64 k = 0; k < self->st.ranking_done; k++)
    if (!lk_sampler_next_batch (self->sampler, self->triplets, self->params.ranking_batch, error))
      return FALSE;
  return TRUE;
}

static void
sgd_params_for (LkTrainer *self, LkTrainStage stage, LkNnSgdParams *p)
{
  guint64 steps = stage == LK_TRAIN_STAGE_RANKING ? self->st.ranking_planned
                                                  : self->st.pretrain_planned;
  lk_nn_sgd_params_init (p);
  p->lr = stage == LK_TRAIN_STAGE_RANKING ? self->params.ranking_lr : self->params.pretrain_lr;
  p->momentum = self->params.momentum;
  p->weight_decay = self->params.weight_decay;
  p->schedule = LK_NN_LR_COSINE;
  p->total_steps = MAX (1, steps);
  p->min_lr = 0;
  p->warmup_steps = (guint64) (self->params.warmup_share * steps);
}

/* lk_trainer_new_from(): the base model's pre-trained weights — every
 * tensor of the ConvNet and its classifier — replace the random start. */
static gboolean
copy_base (LkTrainer *self, GError **error)
{
  g_autoptr(LkNnNet) from = lk_nn_model_new_net (self->base, 1, 1, LK_NN_NET_NO_BACKWARD, error);
  gboolean needed[LK_NN_MAX_NODES];

  if (from == NULL || !lk_nn_model_restore (self->base, from, NULL, error))
    return FALSE;
  lk_nn_spec_get_needed (self->spec, 1u << LK_MODEL_OUTPUT_LOGITS, needed);
  for (guint t = 0; t < lk_nn_spec_get_n_tensors (self->spec); t++)
    {
      const LkNnTensorInfo *info = lk_nn_spec_get_tensor (self->spec, t);
      const LkNnSpec *fs = lk_nn_net_get_spec (from);
      int ft = lk_nn_spec_find_tensor (fs, info->name);
      g_autofree char *node = g_strndup (info->name, strcspn (info->name, "."));
      int n = lk_nn_spec_find_node (self->spec, node);
      if (n < 0 || !needed[n])
        continue;
      if (ft < 0 || lk_nn_spec_get_tensor (fs, ft)->size != info->size)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                       _("Model “%s” has no %s like this network’s: start from a model of "
                         "the same preset and categories"), self->base_name, info->name);
          return FALSE;
        }
      memcpy (lk_nn_net_get_params (self->net) + info->offset,
              lk_nn_net_get_params (from) + lk_nn_spec_get_tensor (fs, ft)->offset,
              info->size * sizeof (float));
    }
  g_clear_pointer (&self->base, lk_nn_model_free);
  return TRUE;
}

static gboolean
prepare_net (LkTrainer *self, GError **error)
{
  guint threads = n_threads_of (&self->params);
  LkNnSgdParams sp;
  gsize image_floats;

  self->max_batch = MAX (self->params.pretrain_batch,
                         lk_ablation_has_ranking (self->params.ablation)
                           ? 3 * self->params.ranking_batch : 1);
  if (self->resume != NULL)
    {
      self->spec = lk_nn_spec_copy (lk_nn_model_get_spec (self->resume));
      self->net = lk_nn_model_new_net (self->resume, self->max_batch, threads, 0, error);
    }
  else
    {
      LkModelConfig c;
      lk_model_config_init (&c);
      c.preset = self->params.preset;
      c.ablation = self->params.ablation;
      c.channels = lk_collection_get_channels (self->collection);
      c.n_categories = self->n_categories;
      c.golden_dim = self->golden_dim;
      c.keep = self->params.keep;
      self->spec = lk_model_build_spec (&c, error);
      if (self->spec == NULL)
        return FALSE;
      self->net = lk_nn_net_new (self->spec, self->max_batch, threads, 0, error);
      if (self->net != NULL)
        {
          lk_model_init_params (self->net, &c, self->params.seed, self->params.shallow_init);
          lk_nn_net_set_rng_state (self->net, mix (self->params.seed, 0x44524f50), 0);
        }
    }
  if (self->net == NULL || (self->base != NULL && !copy_base (self, error)))
    return FALSE;
  sgd_params_for (self, self->st.stage == LK_TRAIN_STAGE_RANKING ? LK_TRAIN_STAGE_RANKING
                                                                 : LK_TRAIN_STAGE_PRETRAIN, &sp);
  self->sgd = lk_nn_sgd_new (self->net, &sp);
  if (self->resume != NULL && !lk_nn_model_restore (self->resume, self->net, self->sgd, error))
    return FALSE;
  g_clear_pointer (&self->resume, lk_nn_model_free);

  self->format.side = lk_nn_spec_get_node (self->spec, 0)->h;
  self->format.channels = lk_nn_spec_get_node (self->spec, 0)->c;
  image_floats = (gsize) self->format.channels * self->format.side * self->format.side;
  self->in_images = g_new (float, image_floats * self->max_batch);
  if (lk_nn_spec_get_n_inputs (self->spec) == 2)
    {
      guint gd = lk_nn_spec_get_node (self->spec, lk_nn_spec_get_input_node (self->spec, 1))->c;
      if (gd != self->golden_dim)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                       _("Model “%s” takes %u golden features, the collection has %u"),
                       self->name, gd, self->golden_dim);
          return FALSE;
        }
      self->in_golden = g_new (float, (gsize) self->golden_dim * self->max_batch);
    }
  self->batch = g_new (guint32, self->max_batch);
  self->batch_labels = g_new (guint, self->max_batch);
  self->triplets = g_new (LkTriplet, MAX (1, self->params.ranking_batch));
  self->perm = g_new (guint32, MAX (1, self->n_images));
  self->perm_epoch = G_MAXUINT64;
  return TRUE;
}

/* ---- steps ---- */

static void
fill_golden (LkTrainer *self, guint n)
{
  if (self->in_golden == NULL)
    return;
  for (guint i = 0; i < n; i++)
    _lk_model_golden_row (lk_features_get_row (self->features, self->batch[i]), self->feature_dims,
                          &self->golden, self->in_golden + (gsize) i * self->golden_dim);
}

static void
make_perm (LkTrainer *self, guint64 epoch)
{
  guint n = self->n_images;
  for (guint i = 0; i < n; i++)
    self->perm[i] = i;
  for (guint i = n; i > 1; i--)
    {
      guint j = (guint) (mix (mix (self->params.seed ^ SALT_ORDER, epoch), i) % i);
      guint32 t = self->perm[i - 1];
      self->perm[i - 1] = self->perm[j];
      self->perm[j] = t;
    }
  self->perm_epoch = epoch;
}

/* The images of pre-training step @step: positions step·B … of the
 * stream of seeded epoch permutations. */
static void
pretrain_batch_images (LkTrainer *self, guint64 step, guint B)
{
  for (guint i = 0; i < B; i++)
    {
      guint64 g = step * B + i, epoch = g / self->n_images;
      guint local;
      if (epoch != self->perm_epoch)
        make_perm (self, epoch);
      local = self->perm[g % self->n_images];
      self->batch[i] = self->images[local];
      self->batch_labels[i] = self->labels[local];
    }
}

typedef struct {
  double loss;
  double violation;
  float  lr;
} StepResult;

static void
forward_backward (LkTrainer *self, guint n, guint output, StepResult *r)
{
  const float *inputs[2] = { self->in_images, self->in_golden };
  float softmax = output == LK_MODEL_OUTPUT_EMBEDDING ? self->params.ranking_softmax : 1.0f;
  double metric = 0;
  guint64 mask = (1u << output) | (softmax > 0 ? 1u << LK_MODEL_OUTPUT_LOGITS : 0);

  lk_nn_net_forward (self->net, inputs, n, LK_NN_TRAIN, mask);
  if (output == LK_MODEL_OUTPUT_EMBEDDING)
    {
      guint t = n / 3;
      r->loss = _lk_trainer_ranking_loss (lk_nn_net_get_output (self->net, output),
                                          lk_nn_spec_get_output_dim (self->spec, output), t,
                                          self->params.gap,
                                          lk_nn_net_get_output_grad (self->net, output), &metric);
      r->violation = metric;
    }
  if (softmax > 0)
    {
      /* Pre-training's loss; while ranking, on the triplets' images and
       * weighted, it keeps the ConvNet a classifier as it is fine-tuned. */
      double xent = lk_nn_softmax_xent (lk_nn_net_get_output (self->net, LK_MODEL_OUTPUT_LOGITS), n,
                                        self->n_categories, self->batch_labels,
                                        lk_nn_net_get_output_grad (self->net, LK_MODEL_OUTPUT_LOGITS),
                                        softmax / n, &metric) / n;
      if (output == LK_MODEL_OUTPUT_LOGITS)
        {
          r->loss = xent;
          r->violation = 1.0 - metric;
        }
    }
  lk_nn_net_zero_grad (self->net);
  lk_nn_net_backward (self->net);
  r->lr = lk_nn_sgd_step (self->sgd, NULL);
}

static void
pretrain_step (LkTrainer *self, guint64 step, StepResult *r)
{
  guint B = self->params.pretrain_batch;
  pretrain_batch_images (self, step, B);
  lk_augment_batch (lk_collection_get_pixels (self->collection),
                    lk_collection_get_side (self->collection),
                    lk_collection_get_channels (self->collection), self->batch, B, &self->format,
                    mix (self->params.seed, SALT_PRETRAIN), step, self->params.max_shift,
                    self->params.flip, self->in_images);
  fill_golden (self, B);
  forward_backward (self, B, LK_MODEL_OUTPUT_LOGITS, r);
}

/* Rows [0, n) queries, [n, 2n) positives, [2n, 3n) negatives. */
static void
ranking_images (LkTrainer *self, guint n)
{
  for (guint t = 0; t < n; t++)
    {
      self->batch[t] = self->images[self->triplets[t].query];
      self->batch[n + t] = self->images[self->triplets[t].positive];
      self->batch[2 * n + t] = self->images[self->triplets[t].negative];
      self->batch_labels[t] = self->labels[self->triplets[t].query];
      self->batch_labels[n + t] = self->labels[self->triplets[t].positive];
      self->batch_labels[2 * n + t] = self->labels[self->triplets[t].negative];
    }
}

static void
ranking_step_on (LkTrainer *self, guint64 step, StepResult *r)
{
  guint n = self->params.ranking_batch;
  ranking_images (self, n);
  lk_augment_batch (lk_collection_get_pixels (self->collection),
                    lk_collection_get_side (self->collection),
                    lk_collection_get_channels (self->collection), self->batch, 3 * n,
                    &self->format, mix (self->params.seed, SALT_RANKING), step,
                    self->params.max_shift, self->params.flip, self->in_images);
  fill_golden (self, 3 * n);
  forward_backward (self, 3 * n, LK_MODEL_OUTPUT_EMBEDDING, r);
}

double
_lk_trainer_ranking_loss (const float *emb, guint dim, guint n_triplets, float gap, float *grad,
                          double *violating)
{
  /* The paper's objective is Σᵢ ξᵢ; its gradient is averaged over the
   * batch (like the softmax stage) so the learning rate does not depend
   * on the batch size; weight decay is the optimiser's. */
  return lk_nn_triplet_loss (emb, dim, n_triplets, gap, grad, 1.0f / n_triplets, violating)
         / n_triplets;
}

/* ---- planning ---- */

typedef struct {
  float  *params;
  float  *momentum;
  guint64 seed, counter, step;
} Saved;

static void
save_state (LkTrainer *self, Saved *s)
{
  gsize n = lk_nn_net_get_n_params (self->net);
  s->params = g_memdup2 (lk_nn_net_get_params (self->net), n * sizeof (float));
  s->momentum = g_memdup2 (lk_nn_net_get_momentum (self->net), n * sizeof (float));
  lk_nn_net_get_rng_state (self->net, &s->seed, &s->counter);
  s->step = lk_nn_sgd_get_step (self->sgd);
}

static void
restore_state (LkTrainer *self, Saved *s)
{
  gsize n = lk_nn_net_get_n_params (self->net);
  memcpy (lk_nn_net_get_params (self->net), s->params, n * sizeof (float));
  memcpy (lk_nn_net_get_momentum (self->net), s->momentum, n * sizeof (float));
  lk_nn_net_set_rng_state (self->net, s->seed, s->counter);
  lk_nn_sgd_set_step (self->sgd, s->step);
  g_free (s->params);
  g_free (s->momentum);
}

/* Seconds per step of a stage: one warm-up step, then steps for about
 * two seconds (at least 2, at most 30). Ranking steps use random triplets, so
 * the sampler's sequence is untouched. */
static double
time_steps (LkTrainer *self, LkTrainStage stage)
{
  StepResult r;
  double t0 = 0;
  guint k = 0;
  guint64 x = 0x7469;

  for (;; k++)
    {
      if (k == 1)
        t0 = now_s ();
      if (stage == LK_TRAIN_STAGE_PRETRAIN)
        pretrain_step (self, k, &r);
      else
        {
          for (guint t = 0; t < self->params.ranking_batch; t++)
            {
              x = lk_augment_mix (x);
              self->triplets[t] = (LkTriplet) { x % self->n_images, (x >> 20) % self->n_images,
                                                (x >> 40) % self->n_images };
            }
          ranking_step_on (self, k, &r);
        }
      if (k >= 2 && (now_s () - t0 >= 2.0 || k >= 30))
        break;
    }
  return (now_s () - t0) / k;
}

static void
plan (LkTrainer *self)
{
  Saved saved;
  gboolean ranking = lk_ablation_has_ranking (self->params.ablation);
  double t_pre, t_rank = 0, left, share = ranking ? self->params.pretrain_share : 1.0;

  set_message (self, 0, 0, "%s", _("Timing a few steps to plan the schedule"));
  save_state (self, &saved);
  if (self->base_name != NULL)
    share = 0;   /* pre-trained already (lk_trainer_new_from()) */
  t_pre = share > 0 ? time_steps (self, LK_TRAIN_STAGE_PRETRAIN) : 0;
  if (ranking)
    t_rank = time_steps (self, LK_TRAIN_STAGE_RANKING);
  restore_state (self, &saved);
  self->t_pretrain = self->cal_pretrain = t_pre;
  self->t_ranking = self->cal_ranking = t_rank;
  /* 2% of the budget is kept for checkpoints and the last progress. */
  left = self->params.budget_seconds * 0.98 - elapsed_total (self);
  if (share > 0)
    self->st.pretrain_planned = MAX (1, (guint64) (share * MAX (0, left) / t_pre));
  else if (self->base_name == NULL)
    self->st.pretrain_planned = 0;
  self->st.ranking_planned = ranking && share < 1
                             ? MAX (1, (guint64) ((1 - share) * MAX (0, left) / t_rank)) : 0;
  if (share > 0 && share < 1 && ranking)
    self->pretrain_deadline = elapsed_total (self) + share * MAX (0, left);
  self->st.planned = TRUE;
  {
    LkNnSgdParams p;
    sgd_params_for (self, LK_TRAIN_STAGE_PRETRAIN, &p);
    lk_nn_sgd_set_params (self->sgd, &p);
  }
}

/* ---- the loop ---- */

/* Waits while paused; TRUE when the run should go on. */
static gboolean
wait_if_paused (LkTrainer *self)
{
  gboolean go, was_paused = FALSE;
  double t0 = 0;

  g_mutex_lock (&self->lock);
  while (self->pause_requested && !self->stop_requested)
    {
      if (!was_paused)
        {
          was_paused = TRUE;
          t0 = now_s ();
          self->state = LK_TRAINER_PAUSED;
          g_mutex_unlock (&self->lock);
          if (self->sampler != NULL)
            lk_sampler_publish (self->sampler);
          notify (self);
          g_mutex_lock (&self->lock);
          continue;
        }
      g_cond_wait (&self->cond, &self->lock);
    }
  if (was_paused)
    self->paused += now_s () - t0;
  go = !self->stop_requested;
  if (go && self->state == LK_TRAINER_PAUSED)
    self->state = LK_TRAINER_RUNNING;
  g_mutex_unlock (&self->lock);
  if (was_paused && go)
    notify (self);
  return go;
}

static void
record (LkTrainer *self, const StepResult *r, double seconds, guint images)
{
  LkTrainPoint pt;
  double *t = self->st.stage == LK_TRAIN_STAGE_RANKING ? &self->t_ranking : &self->t_pretrain;

  *t = *t > 0 ? 0.9 * *t + 0.1 * seconds : seconds;
  /* Each stage's loss is smoothed on its own. */
  if (self->history->len == 0
      || g_array_index (self->history, LkTrainPoint, self->history->len - 1).stage != self->st.stage)
    self->loss_smooth = r->loss;
  else
    self->loss_smooth = 0.98 * self->loss_smooth + 0.02 * r->loss;
  /* Numbered from 1, as progress counts it once the step is done: the
   * point the app plots while the run goes, and after it from here. */
  pt.step = self->st.pretrain_done + self->st.ranking_done + 1;
  pt.stage = self->st.stage;
  pt.loss = (float) r->loss;
  pt.violation = (float) r->violation;
  g_mutex_lock (&self->lock);
  g_array_append_val (self->history, pt);
  self->progress.loss = r->loss;
  self->progress.loss_smooth = self->loss_smooth;
  self->progress.violation = r->violation;
  self->progress.lr = r->lr;
  self->progress.images_per_s = images / *t;
  self->progress.triplets_per_s = self->st.stage == LK_TRAIN_STAGE_RANKING
                                  ? self->params.ranking_batch / *t : 0;
  self->progress.done = self->progress.total = 0;
  g_snprintf (self->progress.message, sizeof self->progress.message, "%s",
              lk_train_stage_label (self->st.stage));
  g_mutex_unlock (&self->lock);
}

static gboolean
budget_planned (LkTrainer *self)
{
  return self->params.pretrain_steps == 0 && self->params.ranking_steps == 0
         && self->params.budget_seconds > 0;
}

static void
enter_ranking (LkTrainer *self)
{
  LkNnSgdParams p;

  /* A budget's ranking steps are planned again from the time left, the
   * step time timed for the plan scaled by how much slower pre-training
   * ran than timed (the machine may have got busier since). */
  if (budget_planned (self) && self->cal_ranking > 0)
    {
      double slow = self->cal_pretrain > 0 && self->t_pretrain > 0
                    ? self->t_pretrain / self->cal_pretrain : 1.0;
      double left = self->params.budget_seconds * 0.98 - elapsed_total (self);
      self->st.ranking_planned = MAX (1, (guint64) (MAX (0, left)
                                                    / (self->cal_ranking * CLAMP (slow, 0.5, 4))));
    }
  self->st.stage = LK_TRAIN_STAGE_RANKING;
  sgd_params_for (self, LK_TRAIN_STAGE_RANKING, &p);
  lk_nn_sgd_set_params (self->sgd, &p);
  lk_nn_sgd_set_step (self->sgd, 0);
  memset (lk_nn_net_get_momentum (self->net), 0,
          lk_nn_net_get_n_params (self->net) * sizeof (float));
}

/* Moves on to the next stage when this one's steps are done; TRUE while
 * there are steps left. */
static gboolean
advance_stage (LkTrainer *self)
{
  if (self->st.stage == LK_TRAIN_STAGE_PRETRAIN && self->st.pretrain_done >= self->st.pretrain_planned)
    {
      if (self->st.ranking_planned > 0)
        enter_ranking (self);
      else
        self->st.stage = LK_TRAIN_STAGE_DONE;
    }
  if (self->st.stage == LK_TRAIN_STAGE_RANKING && self->st.ranking_done >= self->st.ranking_planned)
    self->st.stage = LK_TRAIN_STAGE_DONE;
  return self->st.stage == LK_TRAIN_STAGE_PRETRAIN || self->st.stage == LK_TRAIN_STAGE_RANKING;
}

static gboolean
out_of_time (LkTrainer *self)
{
  double limit;
  g_mutex_lock (&self->lock);
  limit = self->time_limit;
  g_mutex_unlock (&self->lock);
  if (limit > 0 && now_s () - self->session_start - self->paused >= limit)
    return TRUE;
  return budget_planned (self) && elapsed_total (self) >= self->params.budget_seconds;
}

/* A budget's pre-training keeps to its share of the time. Its steps were
 * planned from a few timed at the start; when the machine then runs them
 * slower (a busy machine, the explorer drawing beside it), the plan would
 * eat the ranking stage's time, leaving it a step or two: a ConvNet
 * where DeepRanking was asked for. So pre-training ends at its deadline,
 * its rate not annealed to the end, and the ranking stage, planned again
 * from the time left, gets its share. Runs of given steps never cut. */
static gboolean
cut_pretraining_at_deadline (LkTrainer *self)
{
  if (self->pretrain_deadline <= 0 || self->st.stage != LK_TRAIN_STAGE_PRETRAIN
      || self->st.pretrain_done == 0 || self->st.pretrain_done >= self->st.pretrain_planned
      || elapsed_total (self) < self->pretrain_deadline)
    return FALSE;
  self->pretrain_cut_from = self->st.pretrain_planned;
  self->st.pretrain_planned = self->st.pretrain_done;
  g_debug ("pre-training ran slower than timed: cut at step %" G_GUINT64_FORMAT " of %"
           G_GUINT64_FORMAT, self->st.pretrain_done, self->pretrain_cut_from);
  return TRUE;
}

void
_lk_trainer_set_pretrain_slowdown (LkTrainer *self, double factor)
{
  self->test_pretrain_slowdown = factor;
}

static gboolean
train_loop (LkTrainer *self, GError **error)
{
  while (advance_stage (self))
    {
      StepResult r;
      double t0;
      guint images;
      guint64 step = self->st.pretrain_done + self->st.ranking_done;

      if (!wait_if_paused (self))
        return TRUE;
      if (out_of_time (self))
        {
          self->stopped_by_limit = TRUE;
          return TRUE;
        }
      if (cut_pretraining_at_deadline (self))
        continue;   /* advance_stage() enters the ranking stage */
      t0 = now_s ();
      if (self->st.stage == LK_TRAIN_STAGE_PRETRAIN)
        {
          pretrain_step (self, self->st.pretrain_done, &r);
          images = self->params.pretrain_batch;
          if (self->test_pretrain_slowdown > 1)
            g_usleep ((gulong) ((self->test_pretrain_slowdown - 1) * (now_s () - t0)
                                * G_USEC_PER_SEC));
        }
      else
        {
          if (!lk_sampler_next_batch (self->sampler, self->triplets, self->params.ranking_batch,
                                      error))
            return FALSE;
          ranking_step_on (self, self->st.ranking_done, &r);
          images = 3 * self->params.ranking_batch;
        }
      if (!isfinite (r.loss))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_FAILED,
                       _("Training diverged at step %" PRIu64 " (loss %g): lower the "
                         "learning rate"), step + 1, r.loss);
          return FALSE;
        }
      record (self, &r, now_s () - t0, images);
      if (self->st.stage == LK_TRAIN_STAGE_PRETRAIN)
        self->st.pretrain_done++;
      else
        self->st.ranking_done++;
      step++;
      if ((self->params.checkpoint_steps > 0 && step % self->params.checkpoint_steps == 0)
          || (self->params.checkpoint_minutes > 0
              && now_s () - self->last_checkpoint >= self->params.checkpoint_minutes * 60))
        {
          /* The stage a checkpoint records is the one its next step runs in. */
          advance_stage (self);
          if (!save_files (self, TRUE, "running", error))
            return FALSE;
        }
      notify (self);
    }
  self->finished = TRUE;
  return TRUE;
}

static gboolean
embed_collection (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_build_filename (self->dir, "model.lkm", NULL);
  g_autoptr(LkModel) model = NULL;
  g_autoptr(LkEmbedder) embedder = NULL;
  g_autoptr(LkEmbedding) emb = NULL;

  self->st.stage = LK_TRAIN_STAGE_EMBED;
  set_message (self, 0, lk_collection_get_n_images (self->collection), "%s",
               _("Embedding the collection"));
  model = lk_model_load (path, error);
  if (model == NULL)
    return FALSE;
  embedder = lk_model_new_embedder (model, self->collection, n_threads_of (&self->params), error);
  if (embedder == NULL)
    return FALSE;
  emb = lk_embedding_load_or_compute (embedder, self->collection, on_embed_progress, self,
                                      cancellable, error);
  self->st.stage = LK_TRAIN_STAGE_DONE;
  return emb != NULL;
}

/* The model folder is this run's alone: an exclusive flock() on its
 * .lock, which the kernel drops if the process dies, so the CLI and the
 * app (or two CLIs) that pick the same new name at the same moment do not
 * write one folder. A new model also checks again, under the lock, that
 * no run made the name a model since lk_trainer_new() looked. */
static gboolean
lock_model_dir (LkTrainer *self, GError **error)
{
  g_autofree char *path = g_build_filename (self->dir, ".lock", NULL);
  int fd, saved;

  if (self->lock_fd >= 0)
    return TRUE;
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, LK_ERROR, LK_ERROR_IO, _("Could not write in the folder %s: %s"),
                   self->dir, g_strerror (saved));
      return FALSE;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      saved = errno;
      close (fd);
      if (saved == EWOULDBLOCK)
        g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                     _("Model “%s” is being trained by another run (%s): wait for it or "
                       "choose another name"), self->name, self->dir);
      else
        g_set_error (error, LK_ERROR, LK_ERROR_IO, _("Could not lock %s: %s"), path,
                     g_strerror (saved));
      return FALSE;
    }
  self->lock_fd = fd;
  if (self->fresh && lk_model_store_has_model (self->collection, self->name))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("A model “%s” exists already (%s): resume it or choose another name"),
                   self->name, self->dir);
      self->lock_fd = -1;
      close (fd);   /* not ours: its .lock stays */
      return FALSE;
    }
  self->fresh = FALSE;
  return TRUE;
}

/* Ends the run's hold on the folder, and removes the .lock file (an
 * empty folder can then go, and a finished model keeps no trace). */
static void
unlock_model_dir (LkTrainer *self)
{
  g_autofree char *path = NULL;

  if (self->lock_fd < 0)
    return;
  path = g_build_filename (self->dir, ".lock", NULL);
  g_unlink (path);   /* while still held: no other run holds this one */
  close (self->lock_fd);
  self->lock_fd = -1;
}

/* The model's folders, made (and a file created in them) before anything
 * is trained, so that a data folder that cannot be written fails at once
 * rather than at the first checkpoint, ten minutes later. */
static gboolean
make_model_dir (LkTrainer *self, GError **error)
{
  g_autofree char *cdir = g_build_filename (self->dir, "checkpoints", NULL);
  g_autofree char *probe = g_build_filename (cdir, ".write-test-XXXXXX", NULL);
  int fd, saved;

  if (g_mkdir_with_parents (cdir, 0755) != 0)
    {
      saved = errno;
      g_set_error (error, LK_ERROR, LK_ERROR_IO, _("Could not %s %s: %s"),
                   _("create the folder"), cdir, g_strerror (saved));
      return FALSE;
    }
  fd = g_mkstemp_full (probe, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, LK_ERROR, LK_ERROR_IO, _("Could not write in the folder %s: %s"),
                   cdir, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  g_unlink (probe);
  return lock_model_dir (self, error);
}

/* What a failed run made and did not fill goes again (rmdir removes
 * empty folders only), so it leaves no model without weights behind. */
static void
remove_empty_model_dir (LkTrainer *self)
{
  g_autofree char *cdir = g_build_filename (self->dir, "checkpoints", NULL);

  if (g_rmdir (cdir) == 0 || !g_file_test (cdir, G_FILE_TEST_EXISTS))
    g_rmdir (self->dir);
}

/* Room for a checkpoint (parameters and momentum) and the model file
 * (parameters) beside it, known once the network is built: a disk too
 * full for them fails now, not after the time until the first
 * checkpoint is spent. */
static gboolean
check_room (LkTrainer *self, GError **error)
{
  guint64 params = (guint64) lk_nn_net_get_n_params (self->net) * sizeof (float);
  guint64 need = 3 * params + (1 << 20), avail;
  struct statvfs st;
  g_autofree char *need_s = NULL, *avail_s = NULL;

  if (statvfs (self->dir, &st) != 0)
    return TRUE;   /* unknown: the writes will say */
  avail = (guint64) st.f_bavail * st.f_frsize;
  if (avail >= need)
    return TRUE;
  need_s = g_format_size (need);
  avail_s = g_format_size (avail);
  g_set_error (error, LK_ERROR, LK_ERROR_IO,
               _("Not enough room in %s: a checkpoint and the model file of “%s” need %s, "
                 "%s is free"), self->dir, self->name, need_s, avail_s);
  return FALSE;
}

static gboolean
prepare (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  gboolean ranking = lk_ablation_has_ranking (self->params.ablation)
                     && (!self->st.planned || self->st.ranking_planned > 0)
                     && self->st.stage <= LK_TRAIN_STAGE_RANKING;
  gboolean visual = self->params.ablation == LK_ABLATION_SINGLE_SCALE_VISUAL;
  gboolean resuming = self->resume != NULL;

  self->st.stage = resuming ? self->st.stage : LK_TRAIN_STAGE_PREPARE;
  set_message (self, 0, 0, "%s", _("Preparing the training images"));
  if (!make_model_dir (self, error))
    return FALSE;
  if (!resuming && self->base == NULL)
    {
      self->format.side = lk_preset_side (self->params.preset);
      self->format.channels = lk_collection_get_channels (self->collection);
      lk_input_format_measure (&self->format, lk_collection_get_pixels (self->collection),
                               lk_collection_get_side (self->collection),
                               lk_collection_get_channels (self->collection), self->images,
                               self->n_images, 10000);
    }
  if ((ranking || visual) && !prepare_features (self, cancellable, error))
    return FALSE;
  if (!resuming)
    {
      if (self->features != NULL)
        choose_golden_weights (self, error);
      else
        {
          lk_golden_weights_init_default (&self->golden);
          self->golden_source = g_strdup ("default");
        }
    }
  if (ranking && !prepare_sampler (self, cancellable, error))
    return FALSE;
  set_message (self, 0, 0, "%s", _("Building the network"));
  if (!prepare_net (self, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (resuming && self->sampler != NULL && self->st.ranking_done > 0)
    {
      set_message (self, 0, 0, "%s", _("Replaying the sampler to the checkpoint"));
      if (!replay_sampler (self, error))
        return FALSE;
    }
  if (!check_room (self, error))
    return FALSE;
  if (!self->st.planned)
    plan (self);
  if (!resuming)
    {
      self->st.stage = LK_TRAIN_STAGE_PRETRAIN;
      self->loss_smooth = 0;
    }
  return TRUE;
}

static gboolean
run (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) local = NULL;
  const char *state;

  if (!prepare (self, cancellable, error))
    return FALSE;
  self->last_checkpoint = now_s ();
  if (!train_loop (self, error))
    return FALSE;
  state = self->finished ? "finished" : "stopped";
  if (self->sampler != NULL)
    lk_sampler_publish (self->sampler);
  set_message (self, 0, 0, "%s", _("Writing the checkpoint"));
  if (!save_files (self, TRUE, state, error) || !save_files (self, FALSE, state, error))
    return FALSE;
  if (self->finished && self->params.embed_when_done
      && !embed_collection (self, cancellable, &local))
    {
      /* The model is trained and saved; its rows can be computed later. */
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      set_message (self, 0, 0, "%s", _("Embedding cancelled; the model is saved"));
    }
  self->st.stage = LK_TRAIN_STAGE_DONE;
  return TRUE;
}

static gpointer
worker_main (gpointer data)
{
  LkTrainer *self = data;
  GError *error = NULL;
  gboolean ok, held;

  self->session_start = now_s ();
  ok = run (self, self->cancellable, &error);
  /* A run that never held the folder leaves it alone: another run's
   * empty checkpoints folder is not ours to remove. */
  held = self->lock_fd >= 0;
  unlock_model_dir (self);
  g_mutex_lock (&self->lock);
  if (!ok)
    {
      if (held)
        remove_empty_model_dir (self);
      self->state = LK_TRAINER_FAILED;
      self->error = error;
      g_snprintf (self->progress.message, sizeof self->progress.message, "%s", error->message);
    }
  else
    self->state = self->finished ? LK_TRAINER_FINISHED : LK_TRAINER_STOPPED;
  g_mutex_unlock (&self->lock);
  /* The last progress goes out before lk_trainer_wait() returns: once it
   * has, the caller may free what its progress function uses (the CLI
   * frees its progress bar, which this call used to write to after). */
  notify (self);
  g_mutex_lock (&self->lock);
  self->worker_done = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  lk_trainer_unref (self);
  return NULL;
}

gboolean
lk_trainer_start (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_mutex_lock (&self->lock);
  if (self->started)
    {
      g_mutex_unlock (&self->lock);
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("The trainer was started already"));
      return FALSE;
    }
  self->started = TRUE;
  self->state = LK_TRAINER_RUNNING;
  self->progress.state = LK_TRAINER_RUNNING;
  g_mutex_unlock (&self->lock);
  if (cancellable != NULL)
    {
      self->cancellable = g_object_ref (cancellable);
      self->cancel_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), self,
                                                    NULL);
    }
  self->thread = g_thread_new ("lk-trainer", worker_main, lk_trainer_ref (self));
  return TRUE;
}

gboolean
lk_trainer_wait (LkTrainer *self, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_mutex_lock (&self->lock);
  while (self->started && !self->worker_done)
    g_cond_wait (&self->cond, &self->lock);
  ok = self->state != LK_TRAINER_FAILED;
  if (!ok && self->error != NULL)
    g_propagate_error (error, g_error_copy (self->error));
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
lk_trainer_run (LkTrainer *self, GCancellable *cancellable, GError **error)
{
  return lk_trainer_start (self, cancellable, error) && lk_trainer_wait (self, error);
}
