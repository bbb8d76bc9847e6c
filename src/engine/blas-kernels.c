/* blas-kernels.c — re-executing with the right OPENBLAS_CORETYPE on CPUs
 * that OpenBLAS 0.3.21 does not recognise, and the gate that keeps
 * threads out of OpenBLAS at exit (see blas-kernels.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas-kernels.h"

char *openblas_get_corename (void);

/* Set in the re-executed process, with the core OpenBLAS detected first. */
#define REEXEC_MARK "LIKENESS_OPENBLAS_DETECTED"

static char chosen_by_us[64];

static gboolean
core_is_generic (const char *core)
{
  static const char *const generic[] = {
    "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai",
    "Coppermine", "Northwood", "Banias", "Atom", "Unknown", NULL
  };
  for (guint i = 0; generic[i] != NULL; i++)
    if (g_ascii_strcasecmp (core, generic[i]) == 0)
      return TRUE;
  return FALSE;
}

static const char *
best_core_for_cpu (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
      __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

void
lk_blas_select_kernels (char **argv)
{
  const char *detected = g_getenv (REEXEC_MARK);

  if (detected != NULL)
    {
      /* We are the re-executed process: OpenBLAS has read the variable at
       * load time; hide both so our children inherit the user's setting. */
      g_snprintf (chosen_by_us, sizeof chosen_by_us, "%s", detected);
      g_unsetenv ("OPENBLAS_CORETYPE");
      g_unsetenv (REEXEC_MARK);
      return;
    }
  if (g_getenv ("OPENBLAS_CORETYPE") != NULL)
    return;

  const char *core = openblas_get_corename ();
  const char *best = best_core_for_cpu ();
  if (core == NULL || best == NULL || !core_is_generic (core))
    return;

  g_setenv ("OPENBLAS_CORETYPE", best, TRUE);
  g_setenv (REEXEC_MARK, core, TRUE);
  execv ("/proc/self/exe", argv);
  /* No /proc, or exec refused: carry on with the slow kernels. */
  g_unsetenv ("OPENBLAS_CORETYPE");
  g_unsetenv (REEXEC_MARK);
}

const char *
lk_blas_describe_kernels (void)
{
  static char text[160];
  const char *core = openblas_get_corename ();

  if (chosen_by_us[0] != '\0')
    g_snprintf (text, sizeof text, "%s (chosen by Likeness: OpenBLAS detected %s)",
                core, chosen_by_us);
  else
    g_snprintf (text, sizeof text, "%s", core);
  return text;
}

/* The gate. A thread counts itself in, then looks at the flag; the closer
 * sets the flag, then waits for the count to fall to zero. Both are full
 * barriers (GLib's atomics are sequentially consistent), so a thread
 * either sees the flag and backs out, or the closer sees it counted. */
static gint blas_inside;
static gint blas_closed;

void
lk_blas_enter (void)
{
  static GMutex park_lock;
  static GCond park;

  g_atomic_int_inc (&blas_inside);
  if (G_LIKELY (!g_atomic_int_get (&blas_closed)))
    return;
  g_atomic_int_add (&blas_inside, -1);
  /* Never signalled: this thread waits here until the process is gone. */
  g_mutex_lock (&park_lock);
  for (;;)
    g_cond_wait (&park, &park_lock);
}

void
lk_blas_leave (void)
{
  g_atomic_int_add (&blas_inside, -1);
}

void
lk_blas_close (void)
{
  g_atomic_int_set (&blas_closed, 1);
  while (g_atomic_int_get (&blas_inside) > 0)
    g_usleep (1000);
}
