/* tsan-glib.c — tells ThreadSanitizer about GLib's locks (TSan builds only).
 *
 * GLib's GMutex, GRecMutex and GCond are built directly on futexes, not on
 * pthread mutexes, and libglib is not instrumented, so TSan sees no
 * happens-before edge across g_mutex_lock()/g_mutex_unlock() and reports
 * every correctly locked access as a race (GNOME/glib#1672). Linked into a
 * test executable, these definitions take the place of GLib's for every
 * call from our code (the executable's symbols come first), call GLib's own
 * implementation through dlsym(RTLD_NEXT) and publish the edge with
 * __tsan_acquire()/__tsan_release(), keyed on the lock itself. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>

void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

static void     (*real_mutex_lock) (GMutex *);
static void     (*real_mutex_unlock) (GMutex *);
static gboolean (*real_mutex_trylock) (GMutex *);
static void     (*real_rec_mutex_lock) (GRecMutex *);
static void     (*real_rec_mutex_unlock) (GRecMutex *);
static gboolean (*real_rec_mutex_trylock) (GRecMutex *);
static void     (*real_cond_wait) (GCond *, GMutex *);
static gboolean (*real_cond_wait_until) (GCond *, GMutex *, gint64);

static int resolved;   /* atomic */

/* Resolved on first use: library constructors lock mutexes before any
 * constructor of ours would run. Two threads may both resolve; they store
 * the same values, and the flag is published with release/acquire. */
static void
resolve_now (void)
{
#define RESOLVE(var, name) \
  if ((var = dlsym (RTLD_NEXT, name)) == NULL) g_error ("tsan-glib: no %s", name)
  RESOLVE (real_mutex_lock, "g_mutex_lock");
  RESOLVE (real_mutex_unlock, "g_mutex_unlock");
  RESOLVE (real_mutex_trylock, "g_mutex_trylock");
  RESOLVE (real_rec_mutex_lock, "g_rec_mutex_lock");
  RESOLVE (real_rec_mutex_unlock, "g_rec_mutex_unlock");
  RESOLVE (real_rec_mutex_trylock, "g_rec_mutex_trylock");
  RESOLVE (real_cond_wait, "g_cond_wait");
  RESOLVE (real_cond_wait_until, "g_cond_wait_until");
#undef RESOLVE
  __atomic_store_n (&resolved, 1, __ATOMIC_RELEASE);
}

static inline void
resolve (void)
{
  if (!__atomic_load_n (&resolved, __ATOMIC_ACQUIRE))
    resolve_now ();
}

void
g_mutex_lock (GMutex *mutex)
{
  resolve ();
  real_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

void
g_mutex_unlock (GMutex *mutex)
{
  resolve ();
  __tsan_release (mutex);
  real_mutex_unlock (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  resolve ();
  if (!real_mutex_trylock (mutex))
    return FALSE;
  __tsan_acquire (mutex);
  return TRUE;
}

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  resolve ();
  real_rec_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  resolve ();
  __tsan_release (mutex);
  real_rec_mutex_unlock (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  resolve ();
  if (!real_rec_mutex_trylock (mutex))
    return FALSE;
  __tsan_acquire (mutex);
  return TRUE;
}

/* Waiting releases the mutex and takes it back. */
void
g_cond_wait (GCond *cond, GMutex *mutex)
{
  resolve ();
  __tsan_release (mutex);
  real_cond_wait (cond, mutex);
  __tsan_acquire (mutex);
}

gboolean
g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time)
{
  resolve ();
  gboolean signalled;

  __tsan_release (mutex);
  signalled = real_cond_wait_until (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return signalled;
}
