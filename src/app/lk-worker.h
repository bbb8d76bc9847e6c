/* lk-worker.h — long background work (scanning, computing
 * embeddings, evaluating) runs below the window's priority, so on a
 * busy machine the window still draws first. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Lowers the calling thread's scheduling priority (nice +5, Linux; a
 * no-op elsewhere). Only for threads of our own: raising it again needs
 * privileges, so never call it from a thread of a shared pool. Threads
 * the caller starts afterwards inherit it. */
void lk_thread_lower_priority (void);

/* Runs @func for @task in a thread of its own, at the lower priority,
 * like g_task_run_in_thread() (which uses a shared pool, whose threads
 * must keep their priority). Takes a reference on @task. */
void lk_task_run_in_low_priority_thread (GTask           *task,
                                         GTaskThreadFunc  func);

/* Any thread: @func(@data) on @context, in an idle of default priority,
 * never at once. (g_main_context_invoke() runs it at once, in the
 * calling worker, whenever the context is free — GTK then runs off the
 * main thread.) @notify frees @data after. */
void lk_worker_post (GMainContext   *context,
                     GSourceFunc     func,
                     gpointer        data,
                     GDestroyNotify  notify);

G_END_DECLS
