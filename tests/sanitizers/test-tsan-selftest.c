/* test-tsan-selftest.c — shows that the ThreadSanitizer run can see.
 *
 *   --locked  two threads add to one counter under a GMutex: must be
 *             silent (it is not without tsan-glib.c, since TSan cannot see
 *             GLib's futex-based locks);
 *   --racy    the same without the lock: TSan must report it, so this
 *             test is registered as should_fail (TSan exits with 66). */

#include <glib.h>
#include <string.h>

static GMutex lock;
static guint64 counter;
static gboolean use_lock;

static gpointer
add (gpointer data)
{
  for (guint i = 0; i < 100000; i++)
    {
      if (use_lock)
        g_mutex_lock (&lock);
      counter++;
      if (use_lock)
        g_mutex_unlock (&lock);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  GThread *a, *b;

  use_lock = argc > 1 && strcmp (argv[1], "--locked") == 0;
  a = g_thread_new ("a", add, NULL);
  b = g_thread_new ("b", add, NULL);
  g_thread_join (a);
  g_thread_join (b);
  if (use_lock && counter != 200000)
    return 1;
  return 0;
}
