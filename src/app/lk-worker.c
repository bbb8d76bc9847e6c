/* lk-worker.c — see lk-worker.h. */
#include "config.h"

#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "lk-worker.h"

void
lk_thread_lower_priority (void)
{
#ifdef __linux__
  /* Per thread on Linux: PRIO_PROCESS with a thread id. */
  if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 5) != 0)
    g_debug ("Could not lower a worker's priority: %s", g_strerror (errno));
#endif
}

typedef struct {
  GTask           *task;
  GTaskThreadFunc  func;
} LowPriority;

static gpointer
low_priority_main (gpointer data)
{
  LowPriority *lp = data;

  lk_thread_lower_priority ();
  lp->func (lp->task, g_task_get_source_object (lp->task), g_task_get_task_data (lp->task),
            g_task_get_cancellable (lp->task));
  g_object_unref (lp->task);
  g_free (lp);
  return NULL;
}

void
lk_task_run_in_low_priority_thread (GTask *task, GTaskThreadFunc func)
{
  LowPriority *lp = g_new (LowPriority, 1);
  g_autoptr(GError) error = NULL;
  GThread *thread;

  g_return_if_fail (G_IS_TASK (task) && func != NULL);
  lp->task = g_object_ref (task);
  lp->func = func;
  thread = g_thread_try_new ("lk-low-priority", low_priority_main, lp, &error);
  if (thread != NULL)
    {
      g_thread_unref (thread);
      return;
    }
  g_task_return_error (task, g_steal_pointer (&error));
  g_object_unref (lp->task);
  g_free (lp);
}

void
lk_worker_post (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[likeness] worker result");
  g_source_attach (source, context);
  g_source_unref (source);
}
