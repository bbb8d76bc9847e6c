/* test-ui-buffers.c — the Buffers view: with nothing training it says
 * so; while pre-training it says the buffers come with the ranking stage;
 * while ranking runs it polls the sampler: every category's row fills
 * (the grid's snapshot has the collection's categories, fills within the
 * buffer size, entries in key order, of the right category), thumbnails
 * are drawn, and triplet cards show a query, positive and negative with
 * pictures and relevance captions; once the run ends it keeps the last
 * state and stops polling. The worst frame interval while it polls is
 * reported. */
#include "config.h"

#include <math.h>

#include "lk-buffers-view-private.h"
#include "lk-frame-monitor.h"
#include "lk-training-view-private.h"
#include "lk-window-private.h"
#include "testutil-gtk.h"
#include "testutil.h"

static const char *const categories[] = { "apples", "pears", "plums", "figs", NULL };

#define BUFFER 8

static void
short_run (LkTrainParams *p, gpointer data)
{
  p->pretrain_batch = 12;
  p->ranking_batch = 8;
  p->sampler.buffer_size = BUFFER;
  p->n_threads = 1;
  p->seed = 3;
  p->embed_when_done = FALSE;
}

static gboolean
ranking_shown (gpointer data)
{
  LkBuffersView *view = data;
  const LkSamplerSnapshot *s = lk_buffer_grid_get_snapshot (_lk_buffers_view_get_grid (view));

  return g_strcmp0 (_lk_buffers_view_get_page (view), "buffers") == 0 && s != NULL &&
         s->counts.triplets > 0 && _lk_buffers_view_get_n_triplets (view) > 0 &&
         lk_buffer_grid_get_n_drawn (_lk_buffers_view_get_grid (view)) > 0;
}

static gboolean
pretraining (gpointer data)
{
  LkTraining *training = data;
  return lk_training_get_progress (training)->stage == LK_TRAIN_STAGE_PRETRAIN;
}

static gboolean
ended (gpointer training)
{
  return !lk_training_get_active (training);
}

static void
test_buffers (void)
{
  g_autofree char *root = lk_test_make_image_tree ("buffers", categories, 10, 28, 28, 9);
  LkWindow *window = lk_test_window_new (28);
  LkSession *session = lk_window_get_session (window);
  LkTraining *training = lk_session_get_training (session);
  GtkStack *views = _lk_window_get_views (window);
  LkBuffersView *view;
  LkTrainingView *tview;
  LkCollection *coll;
  const LkSamplerSnapshot *s;
  LkFrameMonitor *frames;
  LkFrameStats stats;
  guint polls;

  lk_test_window_open (window, root);
  coll = lk_session_get_collection (session);
  view = LK_BUFFERS_VIEW (gtk_stack_get_child_by_name (views, "buffers"));
  tview = LK_TRAINING_VIEW (gtk_stack_get_child_by_name (views, "training"));

  /* Nothing trains. */
  lk_window_show_view (window, "buffers");
  lk_test_flush_main_loop ();
  g_assert_cmpstr (_lk_buffers_view_get_page (view), ==, "empty");
  g_assert_cmpstr (_lk_buffers_view_get_status_title (view), ==, "Nothing Is Training");

  /* Start from the Training view (tiny, steps). */
  lk_window_show_view (window, "training");
  _lk_training_view_set_params_hook (tview, short_run, NULL);
  gtk_drop_down_set_selected (_lk_training_view_get_preset (tview), LK_PRESET_TINY);
  gtk_drop_down_set_selected (_lk_training_view_get_schedule (tview), 1);
  gtk_spin_button_set_value (_lk_training_view_get_spin (tview, "pretrain-steps"), 20);
  gtk_spin_button_set_value (_lk_training_view_get_spin (tview, "ranking-steps"), 60);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (tview), "training.start", NULL));
  lk_window_show_view (window, "buffers");
  frames = lk_frame_monitor_start (GTK_WIDGET (window));
  lk_test_wait_until (pretraining, training, "pre-training");
  lk_test_flush_main_loop ();
  if (lk_training_get_progress (training)->stage == LK_TRAIN_STAGE_PRETRAIN)
    {
      g_assert_cmpstr (_lk_buffers_view_get_page (view), ==, "empty");
      g_assert_cmpstr (_lk_buffers_view_get_status_title (view), ==,
                       "The Buffers Fill in the Ranking Stage");
    }

  /* Ranking: rows fill, thumbnails and triplets appear. */
  lk_test_wait_until (ranking_shown, view, "the buffers and triplets");
  s = lk_buffer_grid_get_snapshot (_lk_buffers_view_get_grid (view));
  g_assert_cmpuint (s->n_categories, ==, 4);
  g_assert_cmpuint (s->buffer_size, ==, BUFFER);
  for (guint c = 0; c < s->n_categories; c++)
    {
      /* The first batch streams a whole epoch: every buffer is full. */
      g_assert_cmpuint (s->fill[c], ==, BUFFER);
      for (guint i = 0; i < s->fill[c]; i++)
        {
          const LkBufferEntry *e = &s->entries[c * s->buffer_size + i];
          g_assert_cmpuint (lk_collection_get_label (coll, e->image), ==, c);
          if (i > 0)
            {
              const LkBufferEntry *prev = e - 1;
              /* Largest key first: newer epochs, then larger log keys. */
              g_assert_true (prev->epoch > e->epoch ||
                             (prev->epoch == e->epoch && prev->log_key >= e->log_key));
            }
        }
    }
  for (guint t = 0; t < _lk_buffers_view_get_n_triplets (view); t++)
    {
      const LkDrawnTriplet *d = &s->recent[t];
      for (guint k = 0; k < 3; k++)
        g_assert_nonnull (gtk_picture_get_paintable (_lk_buffers_view_get_picture (view, t, k)));
      g_assert_cmpuint (lk_collection_get_label (coll, d->triplet.query), ==,
                        lk_collection_get_label (coll, d->triplet.positive));
      g_assert_true (d->out_of_class == (lk_collection_get_label (coll, d->triplet.query) !=
                                         lk_collection_get_label (coll, d->triplet.negative)));
      g_assert_nonnull (strstr (_lk_buffers_view_get_caption (view, t), "r⁺"));
    }
  g_assert_cmpuint (lk_buffer_grid_get_n_drawn (_lk_buffers_view_get_grid (view)), <=,
                    4 * BUFFER);
  g_assert_cmpint (gtk_accessible_get_accessible_role (
                     GTK_ACCESSIBLE (_lk_buffers_view_get_grid (view))), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);

  /* Live: more polls, more triplets drawn. */
  {
    guint64 drawn = s->counts.triplets;
    polls = _lk_buffers_view_get_n_polls (view);
    lk_test_wait_until (ended, training, "the end of the run");
    lk_frame_monitor_stop (frames, &stats);
    g_test_message ("Buffers shown while training: %u frames, worst interval %.1f ms, "
                    "mean %.1f ms", stats.n_frames, stats.worst_ms, stats.mean_ms);
    /* Generous (see test-ui-training.c), but a blocking call is longer. */
    g_assert_cmpfloat (stats.worst_ms, <, 500);
    g_assert_cmpuint (_lk_buffers_view_get_n_polls (view), >, polls);
    s = lk_buffer_grid_get_snapshot (_lk_buffers_view_get_grid (view));
    g_assert_cmpuint (s->counts.triplets, >=, drawn);
  }
  /* Ended: the last state stays, polling stops. */
  lk_test_flush_main_loop ();
  g_assert_cmpstr (_lk_buffers_view_get_page (view), ==, "buffers");
  polls = _lk_buffers_view_get_n_polls (view);
  {
    gint64 end = g_get_monotonic_time () + 400 * 1000;
    while (g_get_monotonic_time () < end)
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (2000);
      }
  }
  g_assert_cmpuint (_lk_buffers_view_get_n_polls (view), ==, polls);
  lk_test_window_close (window);
}

int
main (int argc, char **argv)
{
  /* Frame intervals measure the app's main loop: under Xvfb GTK's GL
   * renderer runs on llvmpipe, which JIT-compiles shaders on the main
   * thread (a gdb backtrace of a 450 ms stall ends in
   * llvm::MCJIT::generateCodeForModule under gsk_renderer_render), so
   * these tests draw with the cairo renderer. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/buffers/live", test_buffers);
  return g_test_run ();
}
