/* test-trainer-threads.c — the trainer as the app drives it, from several
 * threads at once (issue 9; run under ThreadSanitizer by build-aux/dev
 * test, suite tsan, and in the engine suite):
 *
 *  - a poller calls lk_sampler_snapshot(), lk_trainer_get_progress(),
 *    lk_trainer_dup_history() and lk_trainer_get_state() every 20 ms
 *    (the Training and Buffers views poll ~10 times a second), and checks
 *    that what it sees only moves forward;
 *  - a controller pauses and resumes the run, then stops it in the
 *    ranking stage;
 *  - the progress function writes to a block the main thread frees as
 *    soon as lk_trainer_wait() returns (so a progress call after that, a
 *    bug there was, is a use after free and a race);
 * then the model is resumed from its checkpoint, polled the same way,
 * and run to the end. A folder of 300 small images, so that the features
 * and relevance the ranking stage needs are quick even under TSan. */
#include "config.h"

#include "model-store.h"
#include "testutil.h"
#include "trainer.h"

typedef struct {
  LkTrainer *trainer;
  gint       done;          /* atomic: the poller stops */
  guint      polls, snapshots;
  gboolean   backwards;     /* something seen went back */
} Poll;

static gpointer
poll_thread (gpointer data)
{
  Poll *poll = data;
  guint64 last_step = 0, last_triplets = 0;
  guint last_history = 0;

  while (!g_atomic_int_get (&poll->done))
    {
      LkTrainProgress p;
      LkSampler *sampler = lk_trainer_get_sampler (poll->trainer);
      g_autoptr(GArray) history = lk_trainer_dup_history (poll->trainer);

      lk_trainer_get_progress (poll->trainer, &p);
      (void) lk_trainer_get_state (poll->trainer);
      if (p.step < last_step || history->len < last_history)
        poll->backwards = TRUE;
      last_step = p.step;
      last_history = history->len;
      if (sampler != NULL)
        {
          g_autoptr(LkSamplerSnapshot) s = lk_sampler_snapshot (sampler);
          guint filled = 0;
          for (guint c = 0; c < s->n_categories; c++)
            filled += s->fill[c];
          g_assert_cmpuint (filled, <=, s->n_categories * s->buffer_size);
          if (s->counts.triplets < last_triplets)
            poll->backwards = TRUE;
          last_triplets = s->counts.triplets;
          poll->snapshots++;
        }
      poll->polls++;
      g_usleep (20000);
    }
  return NULL;
}

typedef struct {
  LkTrainer *trainer;
  guint      pauses;
} Control;

static void
wait_for_step (LkTrainer *t, guint64 step, LkTrainStage stage)
{
  LkTrainProgress p;

  do
    {
      g_usleep (5000);
      lk_trainer_get_progress (t, &p);
    }
  while ((p.step < step || p.stage < stage) && p.state != LK_TRAINER_FINISHED
         && p.state != LK_TRAINER_FAILED);
}

static gpointer
control_thread (gpointer data)
{
  Control *control = data;

  for (guint64 step = 2; step <= 8; step += 3)
    {
      wait_for_step (control->trainer, step, LK_TRAIN_STAGE_PREPARE);
      lk_trainer_pause (control->trainer);
      g_usleep (30000);
      lk_trainer_resume (control->trainer);
      control->pauses++;
    }
  wait_for_step (control->trainer, 14, LK_TRAIN_STAGE_RANKING);
  lk_trainer_stop (control->trainer);
  return NULL;
}

/* What the progress function sees, on the heap. */
typedef struct {
  guint          calls;
  LkTrainerState last_state;
} Seen;

static void
on_progress (const LkTrainProgress *p, gpointer user_data)
{
  Seen *seen = user_data;
  seen->calls++;
  seen->last_state = p->state;
}

static void
params_for_test (LkTrainParams *p)
{
  lk_train_params_init (p, LK_PRESET_TINY);
  p->pretrain_steps = 10;
  p->ranking_steps = 30;
  p->pretrain_batch = 8;
  p->ranking_batch = 4;
  p->sampler.buffer_size = 32;
  p->n_threads = 2;
  p->checkpoint_steps = 5;
  p->embed_when_done = FALSE;
}

/* Runs @t to its end with a poller (and @control, if any) beside it. */
static LkTrainerState
run_polled (LkTrainer *t, Control *control, guint *polls, guint *snapshots)
{
  g_autoptr(GError) error = NULL;
  Seen *seen = g_new0 (Seen, 1);
  Poll poll = { t, 0, 0, 0, FALSE };
  GThread *poller, *controller = NULL;
  LkTrainerState state;
  guint calls;

  lk_trainer_set_progress_func (t, on_progress, seen, NULL);
  poller = g_thread_new ("poll", poll_thread, &poll);
  g_assert_true (lk_trainer_start (t, NULL, &error));
  g_assert_no_error (error);
  if (control != NULL)
    controller = g_thread_new ("control", control_thread, control);
  g_assert_true (lk_trainer_wait (t, &error));
  g_assert_no_error (error);
  /* The progress function made its last call before the wait returned. */
  state = lk_trainer_get_state (t);
  g_assert_cmpint (seen->last_state, ==, state);
  calls = seen->calls;
  g_free (seen);
  g_assert_cmpuint (calls, >, 0);
  if (controller != NULL)
    g_thread_join (controller);
  g_atomic_int_set (&poll.done, 1);
  g_thread_join (poller);
  g_assert_false (poll.backwards);
  *polls = poll.polls;
  *snapshots = poll.snapshots;
  return state;
}

static void
test_polling (void)
{
  static const char *const categories[] = { "boats", "cars", "trees", NULL };
  g_autofree char *dir = lk_test_make_image_tree ("trainer-threads", categories, 100, 32, 32, 5);
  g_autoptr(LkCollection) c = NULL;
  LkScanOptions options;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  g_autoptr(LkTrainer) resumed = NULL;
  LkTrainProgress p;
  LkTrainParams params;
  Control control = { NULL, 0 };
  guint polls[2], snapshots[2];
  guint64 stopped_at;

  lk_scan_options_init (&options);
  c = lk_collection_open_folder (dir, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  params_for_test (&params);
  t = lk_trainer_new (c, "threads", &params, &error);
  g_assert_no_error (error);
  control.trainer = t;
  g_assert_cmpint (run_polled (t, &control, &polls[0], &snapshots[0]), ==, LK_TRAINER_STOPPED);
  g_assert_cmpuint (control.pauses, ==, 3);
  lk_trainer_get_progress (t, &p);
  g_assert_cmpuint (p.step, >=, 14);
  g_assert_cmpuint (p.step, <, 40);
  g_assert_cmpuint (p.checkpoint_step, ==, p.step);
  stopped_at = p.step;

  resumed = lk_trainer_new_resume (c, "threads", &error);
  g_assert_no_error (error);
  g_assert_cmpint (run_polled (resumed, NULL, &polls[1], &snapshots[1]), ==,
                   LK_TRAINER_FINISHED);
  lk_trainer_get_progress (resumed, &p);
  g_assert_cmpuint (p.step, ==, 40);
  g_assert_cmpuint (snapshots[0] + snapshots[1], >, 0);
  g_test_message ("stopped at step %u after 3 pauses, resumed to 40; %u + %u polls, "
                  "%u + %u sampler snapshots", (guint) stopped_at, polls[0], polls[1],
                  snapshots[0], snapshots[1]);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/trainer-threads/polling", test_polling);
  return g_test_run ();
}
