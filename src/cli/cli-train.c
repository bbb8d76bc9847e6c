/* cli-train.c — `likeness-cli train`: trains (or resumes) a Deep Ranking
 * model of a collection with a progress line, stops cleanly with a
 * checkpoint on Ctrl+C, and prints where the model is. */
#include "config.h"

#include <inttypes.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "evaluate.h"
#include "model-store.h"
#include "trainer.h"

typedef struct {
  LkCliProgress *bar;
  gboolean       log;          /* plain lines when stderr is not a terminal */
  gint64         last_log;
  LkTrainStage   last_stage;
} Watch;

static void
format_eta (char *buf, gsize size, double s)
{
  if (s < 0)
    g_snprintf (buf, size, "?");
  else if (s >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", (int) (s / 3600), (int) (s / 60) % 60, (int) s % 60);
  else
    g_snprintf (buf, size, "%d:%02d", (int) (s / 60), (int) s % 60);
}

static char *
describe (const LkTrainProgress *p)
{
  char eta[32];
  format_eta (eta, sizeof eta, p->eta_s);
  if (p->stage == LK_TRAIN_STAGE_RANKING)
    return g_strdup_printf (_("loss %.4f  violating %4.1f%%  %.0f triplets/s  lr %.2g  ETA %s"),
                            p->loss_smooth, 100 * p->violation, p->triplets_per_s, p->lr, eta);
  return g_strdup_printf (_("loss %.4f  error %4.1f%%  %.0f images/s  lr %.2g  ETA %s"),
                          p->loss_smooth, 100 * p->violation, p->images_per_s, p->lr, eta);
}

static void
on_progress (const LkTrainProgress *p, gpointer user_data)
{
  Watch *w = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *extra = NULL;

  if (p->stage == LK_TRAIN_STAGE_PRETRAIN || p->stage == LK_TRAIN_STAGE_RANKING)
    {
      extra = describe (p);
      lk_cli_progress_update (w->bar, lk_train_stage_label (p->stage), p->stage_step,
                              p->stage_steps, extra);
    }
  else
    lk_cli_progress_update (w->bar, p->message, p->done, p->total, NULL);
  if (w->log && (now - w->last_log >= 30 * G_USEC_PER_SEC || p->stage != w->last_stage))
    {
      w->last_log = now;
      w->last_stage = p->stage;
      if (extra != NULL)
        fprintf (stderr, "[%7.1fs] %s %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ": %s\n",
                 p->elapsed_s, lk_train_stage_label (p->stage), p->stage_step, p->stage_steps,
                 extra);
      else
        fprintf (stderr, "[%7.1fs] %s\n", p->elapsed_s, p->message);
    }
}

static void
figure (GHashTable *t, const char *key, char *value)
{
  g_hash_table_replace (t, g_strdup (key), value);
}

/* Evaluates the model beside golden features, prints the two rows and
 * keeps the model's figures in its card. */
static gboolean
evaluate_model (LkCollection *coll, const char *name, gboolean json, GError **error)
{
  g_autofree char *source = lk_model_source_name (name, 0);
  const char *sources[] = { "golden", source, NULL };
  g_autoptr(LkEvalTable) t = NULL;
  g_autoptr(GHashTable) figures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  LkEvalOptions o;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  lk_eval_options_init (&o);
  o.sources = sources;
  t = lk_evaluate (coll, &o, NULL, NULL, NULL, error);
  if (t == NULL)
    return FALSE;
  for (guint r = 0; r < t->n_rows; r++)
    {
      const LkEvalRow *row = &t->rows[r];
      if (!json)
        {
          if (row->error != NULL)
            printf ("%-40s %s\n", row->source, row->error);
          else
            {
              printf ("%-*s", lk_cli_pad (row->label, 40), row->label);
              for (guint s = 0; s < t->n_sets; s++)
                printf (_("  %s %.1f%% score@%u %" PRId64), t->sets[s].name,
                        100 * row->precision[s], t->k, row->score[s]);
              printf (_("  Recall@1 %.4f  mAP@R %.4f\n"), row->recall_at_1, row->map_at_r);
            }
        }
      if (r != 1 || row->error != NULL)
        continue;
      for (guint s = 0; s < t->n_sets; s++)
        {
          g_autofree char *pk = g_strdup_printf ("%s.precision", t->sets[s].name);
          g_autofree char *sk = g_strdup_printf ("%s.score_at_%u", t->sets[s].name, t->k);
          g_autofree char *nk = g_strdup_printf ("%s.triplets", t->sets[s].name);
          figure (figures, pk, g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6f",
                                                          row->precision[s])));
          figure (figures, sk, g_strdup_printf ("%" G_GINT64_FORMAT, row->score[s]));
          figure (figures, nk, g_strdup_printf ("%u", t->sets[s].n_triplets));
        }
      figure (figures, "recall_at_1", g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6f",
                                                                 row->recall_at_1)));
      figure (figures, "map_at_r", g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6f",
                                                              row->map_at_r)));
      figure (figures, "queries", g_strdup (t->queries));
    }
  if (g_hash_table_size (figures) == 0)
    return TRUE;
  return lk_model_store_set_evaluation (coll, name, figures, error);
}

typedef struct {
  char    *preset, *ablation, *name, *from;
  double   minutes;
  gint64   steps, pretrain_steps, ranking_steps;
  gboolean resume, no_embed, eval, flip;
  double   pretrain_lr, ranking_lr, gap, weight_decay, keep, pretrain_share, out_of_class;
  double   ranking_softmax, shallow_init;
  double   checkpoint_minutes;
  gint64   checkpoint_steps, seed;
  int      shift, pretrain_batch, ranking_batch, buffer_size, max_images, keep_checkpoints;
} Args;

/* Applies the options given (−1 / NaN = not given) over the defaults. */
static gboolean
apply_args (const Args *a, LkTrainParams *p, GError **error)
{
  if (a->ablation != NULL && !lk_ablation_from_name (a->ablation, &p->ablation))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unknown ablation “%s” (convnet, single-scale, single-scale-visual, "
                     "deep-ranking)"), a->ablation);
      return FALSE;
    }
  if (a->steps > 0)
    {
      double share = a->pretrain_share >= 0 ? a->pretrain_share
                     : p->ablation == LK_ABLATION_CONVNET ? 1 : p->pretrain_share;
      p->pretrain_steps = (guint64) (share * a->steps + 0.5);
      p->ranking_steps = (guint64) a->steps - p->pretrain_steps;
    }
  if (a->pretrain_steps >= 0)
    p->pretrain_steps = (guint64) a->pretrain_steps;
  if (a->ranking_steps >= 0)
    p->ranking_steps = (guint64) a->ranking_steps;
  if (p->pretrain_steps > 0 || p->ranking_steps > 0)
    p->budget_seconds = a->minutes > 0 ? a->minutes * 60 : 0;
  else if (a->minutes > 0)
    p->budget_seconds = a->minutes * 60;
#define SET(field, v, cond) if (cond) p->field = (v)
  SET (pretrain_lr, (float) a->pretrain_lr, a->pretrain_lr > 0);
  SET (ranking_lr, (float) a->ranking_lr, a->ranking_lr > 0);
  SET (gap, (float) a->gap, a->gap >= 0);
  SET (ranking_softmax, (float) a->ranking_softmax, a->ranking_softmax >= 0);
  SET (shallow_init, (float) a->shallow_init, a->shallow_init >= 0);
  SET (weight_decay, (float) a->weight_decay, a->weight_decay >= 0);
  SET (keep, (float) a->keep, a->keep > 0);
  SET (pretrain_share, (float) a->pretrain_share, a->pretrain_share >= 0);
  SET (sampler.out_of_class_share, (float) a->out_of_class, a->out_of_class >= 0);
  SET (checkpoint_minutes, a->checkpoint_minutes, a->checkpoint_minutes >= 0);
  SET (checkpoint_steps, (guint64) a->checkpoint_steps, a->checkpoint_steps >= 0);
  SET (keep_checkpoints, (guint) a->keep_checkpoints, a->keep_checkpoints > 0);
  SET (seed, (guint64) a->seed, a->seed >= 0);
  SET (max_shift, (guint) a->shift, a->shift >= 0);
  SET (pretrain_batch, (guint) a->pretrain_batch, a->pretrain_batch > 0);
  SET (ranking_batch, (guint) a->ranking_batch, a->ranking_batch > 0);
  SET (sampler.buffer_size, (guint) a->buffer_size, a->buffer_size > 0);
  SET (max_images, (guint) a->max_images, a->max_images >= 0);
#undef SET
  p->flip = a->flip;
  p->embed_when_done = !a->no_embed;
  return TRUE;
}

static LkTrainer *
make_trainer (LkCollection *coll, const Args *a, const LkCliCollectionArgs *cargs,
              GError **error)
{
  LkPreset preset = lk_collection_get_channels (coll) == 1 && lk_collection_get_side (coll) <= 32
                    ? LK_PRESET_TINY : LK_PRESET_PHOTO;
  LkTrainParams p;
  g_autofree char *base = NULL, *name = NULL;

  if (a->preset != NULL && !lk_preset_from_name (a->preset, &preset))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unknown preset “%s” (tiny, photo, paper)"), a->preset);
      return NULL;
    }
  lk_train_params_init (&p, preset);
  if (!apply_args (a, &p, error))
    return NULL;
  if (cargs->threads > 0)
    p.n_threads = (guint) cargs->threads;
  base = p.ablation == LK_ABLATION_DEEP_RANKING
         ? g_strdup (lk_preset_name (preset))
         : g_strdup_printf ("%s-%s", lk_preset_name (preset), lk_ablation_name (p.ablation));
  if (a->resume)
    {
      LkTrainer *t = lk_trainer_new_resume (coll, a->name != NULL ? a->name : base, error);
      const LkTrainParams *stored = t != NULL ? lk_trainer_get_params (t) : NULL;
      /* A --preset or --ablation with --resume must be the model's own. */
      if (t != NULL && ((a->preset != NULL && stored->preset != preset)
                        || (a->ablation != NULL && stored->ablation != p.ablation)))
        {
          LkPreset want_preset = a->preset != NULL ? preset : stored->preset;
          LkAblation want_ablation = a->ablation != NULL ? p.ablation : stored->ablation;
          g_autoptr(GArray) history = lk_trainer_dup_history (t);
          g_autofree char *ckpt = lk_model_checkpoint_path (lk_trainer_get_dir (t), history->len);
          g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                       _("%s: model “%s” is a %s %s model, not %s %s: resume it without "
                         "--preset and --ablation, or train a new model"),
                       ckpt, lk_trainer_get_name (t), lk_preset_name (stored->preset),
                       lk_ablation_name (stored->ablation), lk_preset_name (want_preset),
                       lk_ablation_name (want_ablation));
          lk_trainer_unref (t);
          return NULL;
        }
      return t;
    }
  name = a->name != NULL ? g_strdup (a->name) : lk_model_store_new_name (coll, base);
  if (a->from != NULL)
    return lk_trainer_new_from (coll, name, &p, a->from, error);
  return lk_trainer_new (coll, name, &p, error);
}

static void
print_result (LkTrainer *trainer, gboolean json)
{
  LkTrainProgress p;
  g_autofree char *model = g_build_filename (lk_trainer_get_dir (trainer), "model.lkm", NULL);
  g_autofree char *card = g_build_filename (lk_trainer_get_dir (trainer), "card.json", NULL);
  g_autofree char *ckpt = NULL;

  lk_trainer_get_progress (trainer, &p);
  if (p.checkpoint_step > 0)
    ckpt = lk_model_checkpoint_path (lk_trainer_get_dir (trainer), p.checkpoint_step);
  if (json)
    {
      g_autoptr(GString) s = g_string_new ("{\"name\": ");
      lk_cli_json_string (s, lk_trainer_get_name (trainer));
      g_string_append_printf (s, ", \"state\": \"%s\", \"step\": %" G_GUINT64_FORMAT
                              ", \"total_steps\": %" G_GUINT64_FORMAT ", \"seconds\": %.1f"
                              ", \"loss\": %.6f, \"dir\": ",
                              lk_trainer_state_name (lk_trainer_get_state (trainer)), p.step,
                              p.total_steps, p.elapsed_s, p.loss_smooth);
      lk_cli_json_string (s, lk_trainer_get_dir (trainer));
      g_string_append (s, ", \"model\": ");
      lk_cli_json_string (s, model);
      g_string_append (s, ", \"checkpoint\": ");
      if (ckpt != NULL)
        lk_cli_json_string (s, ckpt);
      else
        g_string_append (s, "null");
      g_string_append (s, "}\n");
      fputs (s->str, stdout);
      return;
    }
  if (lk_trainer_get_state (trainer) == LK_TRAINER_FINISHED)
    printf (_("Trained model “%s”: %" PRIu64 " steps in %.1f s, final loss %.4f.\n"),
            lk_trainer_get_name (trainer), p.step, p.elapsed_s, p.loss_smooth);
  else
    printf (_("Stopped model “%s” at step %" PRIu64 " of %" PRIu64
              " after %.1f s; continue with --resume --name %s.\n"),
            lk_trainer_get_name (trainer), p.step, p.total_steps, p.elapsed_s,
            lk_trainer_get_name (trainer));
  printf (_("Model:      %s\n"), model);
  if (ckpt != NULL)
    printf (_("Checkpoint: %s\n"), ckpt);
  printf (_("Card:       %s\n"), card);
}

static int train (int argc, char **argv, Args *a);

int
lk_cli_train (int argc, char **argv)
{
  Args a = {
    .steps = -1, .pretrain_steps = -1, .ranking_steps = -1,
    .pretrain_lr = -1, .ranking_lr = -1, .gap = -1, .weight_decay = -1, .keep = -1,
    .pretrain_share = -1, .out_of_class = -1, .ranking_softmax = -1, .shallow_init = -1, .checkpoint_minutes = -1,
    .checkpoint_steps = -1, .seed = -1,
    .shift = -1, .pretrain_batch = -1, .ranking_batch = -1, .buffer_size = -1, .max_images = -1,
    .keep_checkpoints = -1,
  };
  int status = train (argc, argv, &a);

  /* The strings GOption gave the options. */
  g_free (a.preset);
  g_free (a.ablation);
  g_free (a.name);
  g_free (a.from);
  return status;
}

static int
train (int argc, char **argv, Args *a)
{
  g_auto(LkCliCollectionArgs) cargs = { 0 };
  const GOptionEntry entries[] = {
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &a->preset,
      N_("Network: tiny, photo or paper (default: tiny for 28×28 gray, else photo)"), N_("NAME") },
    { "ablation", 'a', 0, G_OPTION_ARG_STRING, &a->ablation,
      N_("convnet, single-scale, single-scale-visual or deep-ranking (default)"), N_("NAME") },
    { "minutes", 'm', 0, G_OPTION_ARG_DOUBLE, &a->minutes,
      N_("Training time to plan the steps for (default 15)"), N_("M") },
    { "steps", 's', 0, G_OPTION_ARG_INT64, &a->steps,
      N_("Steps of both stages together, split by --pretrain-share"), N_("N") },
    { "pretrain-steps", 0, 0, G_OPTION_ARG_INT64, &a->pretrain_steps,
      N_("Steps of softmax pre-training"), N_("N") },
    { "ranking-steps", 0, 0, G_OPTION_ARG_INT64, &a->ranking_steps,
      N_("Steps of ranking fine-tuning"), N_("N") },
    { "resume", 'r', 0, G_OPTION_ARG_NONE, &a->resume,
      N_("Continue the model from its last checkpoint"), NULL },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &a->name,
      N_("Model name (default: the preset, and the ablation)"), N_("NAME") },
    { "from", 0, 0, G_OPTION_ARG_STRING, &a->from,
      N_("Start from model NAME’s pre-trained network and go straight on to ranking"), N_("NAME") },
    { "pretrain-share", 0, 0, G_OPTION_ARG_DOUBLE, &a->pretrain_share,
      N_("Share of the time or steps for pre-training (default per preset: tiny 0.75, else 0.5)"), N_("X") },
    { "pretrain-lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->pretrain_lr,
      N_("Learning rate of pre-training"), N_("LR") },
    { "ranking-lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->ranking_lr,
      N_("Learning rate of ranking"), N_("LR") },
    { "gap", 0, 0, G_OPTION_ARG_DOUBLE, &a->gap, N_("Hinge gap g (default per preset: tiny 0.2, else 0.5)"), N_("G") },
    { "ranking-softmax", 0, 0, G_OPTION_ARG_DOUBLE, &a->ranking_softmax,
      N_("Weight of the softmax loss kept while ranking (default per preset: photo 1, else 0)"), N_("W") },
    { "shallow-init", 0, 0, G_OPTION_ARG_DOUBLE, &a->shallow_init,
      N_("Initial weight of the shallow branches in the embedding (default per preset: photo 0.25, else 1)"), N_("W") },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &a->weight_decay,
      N_("Weight decay λ (default 0.001)"), N_("L") },
    { "keep", 0, 0, G_OPTION_ARG_DOUBLE, &a->keep,
      N_("Dropout keep probability (default 0.6)"), N_("P") },
    { "shift", 0, 0, G_OPTION_ARG_INT, &a->shift,
      N_("Random shift in input pixels (default per preset)"), N_("PX") },
    { "flip", 0, 0, G_OPTION_ARG_NONE, &a->flip, N_("Also mirror images at random"), NULL },
    { "pretrain-batch", 0, 0, G_OPTION_ARG_INT, &a->pretrain_batch,
      N_("Images per pre-training step"), N_("N") },
    { "ranking-batch", 0, 0, G_OPTION_ARG_INT, &a->ranking_batch,
      N_("Triplets per ranking step"), N_("N") },
    { "out-of-class", 0, 0, G_OPTION_ARG_DOUBLE, &a->out_of_class,
      N_("Share of out-of-class negatives (default per preset: tiny and photo 0.9, paper 0.2)"), N_("X") },
    { "buffer-size", 0, 0, G_OPTION_ARG_INT, &a->buffer_size,
      N_("Images per category buffer of the sampler (default 256)"), N_("N") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &a->seed, N_("Random seed (default 1)"), N_("N") },
    { "max-images", 0, 0, G_OPTION_ARG_INT, &a->max_images,
      N_("Train on a seeded subset of this many images"), N_("N") },
    { "checkpoint-minutes", 0, 0, G_OPTION_ARG_DOUBLE, &a->checkpoint_minutes,
      N_("Minutes between checkpoints (default 10)"), N_("M") },
    { "checkpoint-steps", 0, 0, G_OPTION_ARG_INT64, &a->checkpoint_steps,
      N_("Also a checkpoint every N steps"), N_("N") },
    { "keep-checkpoints", 0, 0, G_OPTION_ARG_INT, &a->keep_checkpoints,
      N_("Periodic checkpoints to keep, the latest (default 3; paper 1)"), N_("N") },
    { "no-embed", 0, 0, G_OPTION_ARG_NONE, &a->no_embed,
      N_("Do not embed the collection when training is done"), NULL },
    { "eval", 'e', 0, G_OPTION_ARG_NONE, &a->eval,
      N_("Evaluate the model beside golden features when done; keep the figures in its card"),
      NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(LkTrainer) trainer = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Watch watch = { 0 };
  int status = LK_EXIT_OK;

  if (!lk_cli_parse (&argc, &argv, _("COLLECTION"),
                     _("Trains a Deep Ranking model of the collection: softmax pre-training of the "
                       "ConvNet, then ranking on triplets from the online sampler (Fashion-MNIST: "
                       "its train split only). Ctrl+C stops after the current step and writes a "
                       "checkpoint; --resume continues from it."),
                     entries, &cargs))
    return LK_EXIT_USAGE;
  if (a->resume && (a->steps > 0 || a->pretrain_steps >= 0 || a->ranking_steps >= 0))
    return lk_cli_usage_error (argv[0], _("--resume continues the stored schedule: give no "
                                          "--steps with it"));
  if (a->minutes < 0)
    return lk_cli_usage_error (argv[0], _("--minutes must be positive"));
  if (a->steps > 0 && (a->pretrain_steps >= 0 || a->ranking_steps >= 0))
    return lk_cli_usage_error (argv[0], _("give --steps or --pretrain-steps/--ranking-steps, "
                                          "not both"));
  coll = lk_cli_open_collection (argc, argv, &cargs, &error);
  if (coll == NULL)
    return lk_cli_fail (error);
  lk_model_register_embedder ();
  trainer = make_trainer (coll, a, &cargs, &error);
  if (trainer == NULL)
    return lk_cli_fail (error);
  if (lk_trainer_get_notice (trainer) != NULL)
    fprintf (stderr, "likeness-cli: %s\n", lk_trainer_get_notice (trainer));
  if (a->resume && a->minutes > 0)
    lk_trainer_set_time_limit (trainer, a->minutes * 60);

  watch.bar = lk_cli_progress_new (!cargs.quiet);
  watch.log = !cargs.quiet && !isatty (STDERR_FILENO);
  watch.last_stage = (LkTrainStage) -1;
  lk_trainer_set_progress_func (trainer, on_progress, &watch, NULL);
  lk_cli_cancel_on_sigint (cancellable);
  if (!lk_trainer_run (trainer, cancellable, &error))
    status = lk_cli_fail (error);
  lk_cli_progress_free (watch.bar);
  if (status != LK_EXIT_OK)
    return status;
  print_result (trainer, cargs.json);
  if (a->eval && !evaluate_model (coll, lk_trainer_get_name (trainer), cargs.json, &error))
    return lk_cli_fail (error);
  return LK_EXIT_OK;
}
