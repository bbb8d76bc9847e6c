/* test-blas-gate.c — a program may end while its workers are still inside
 * a network's forward pass (the explorer, when its window closes during a
 * training or an embedding). OpenBLAS frees its buffers at exit, and a
 * thread still in sgemm then crashes the process or leaves it spinning
 * for good. lk_blas_close() must wait for the threads inside and keep
 * every later call out:
 *  - in a child process, two threads run forward passes without pause;
 *    after lk_blas_close() neither finishes more than the pass it was in
 *    (the next sgemm parks it), and the child then exits cleanly, status
 *    0, within the time limit (without the gate it hangs or crashes);
 *  - lk_blas_close() returns at once when no thread computes. */
#include "config.h"

#include <stdlib.h>

#include "blas-kernels.h"
#include "nn-net.h"
#include "testutil.h"

#define SIDE 48

typedef struct {
  LkNnNet *net;
  float   *images;
  gint     passes;     /* forward passes finished */
} Worker;

/* Reachable from a global: the child exits while its threads hold them. */
static Worker w[2];

static LkNnSpec *
busy_spec (void)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int x = lk_nn_spec_add_image (s, "image", 3, SIDE, SIDE);
  x = lk_nn_spec_add_relu (s, "r1", lk_nn_spec_add_conv (s, "c1", x, 32, 5, 1, 2));
  x = lk_nn_spec_add_relu (s, "r2", lk_nn_spec_add_conv (s, "c2", x, 32, 3, 1, 1));
  x = lk_nn_spec_add_fc (s, "f1", x, 64);
  lk_nn_spec_add_output (s, "out", x);
  return s;
}

static gpointer
compute (gpointer data)
{
  Worker *w = data;
  const float *in[1] = { w->images };

  for (;;)
    {
      lk_nn_net_forward (w->net, in, 8, LK_NN_INFERENCE, 0);
      g_atomic_int_inc (&w->passes);
    }
  return NULL;
}

static void
test_close_parks_workers (void)
{
  if (g_test_subprocess ())
    {
      LkNnSpec *spec = busy_spec ();
      gint before[2];

      g_assert_true (lk_nn_spec_check (spec, NULL));
      for (guint i = 0; i < 2; i++)
        {
          w[i].net = lk_nn_net_new (spec, 8, 1, LK_NN_NET_NO_BACKWARD, NULL);
          g_assert_nonnull (w[i].net);
          lk_nn_net_init_params (w[i].net, 1 + i);
          w[i].images = g_new0 (float, 8 * 3 * SIDE * SIDE);
          for (gsize k = 0; k < 8 * 3 * SIDE * SIDE; k++)
            w[i].images[k] = (float) (k % 17) / 17.0f;
          w[i].passes = 0;
          g_thread_unref (g_thread_new ("compute", compute, &w[i]));
        }
      lk_nn_spec_free (spec);   /* each net has its copy */
      /* Both at work, well inside their loops. */
      while (g_atomic_int_get (&w[0].passes) < 3 || g_atomic_int_get (&w[1].passes) < 3)
        g_usleep (1000);
      lk_blas_close ();
      for (guint i = 0; i < 2; i++)
        before[i] = g_atomic_int_get (&w[i].passes);
      g_usleep (300000);
      for (guint i = 0; i < 2; i++)
        g_assert_cmpint (g_atomic_int_get (&w[i].passes), <=, before[i] + 1);
      /* The threads are parked; OpenBLAS's destructor runs alone. */
      exit (0);
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_close_idle (void)
{
  if (g_test_subprocess ())
    {
      gint64 t0 = g_get_monotonic_time ();
      lk_blas_close ();
      g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
      exit (0);
    }
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/blas/close-parks-workers", test_close_parks_workers);
  g_test_add_func ("/blas/close-idle", test_close_idle);
  return g_test_run ();
}
