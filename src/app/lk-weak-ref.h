/* lk-weak-ref.h — a GWeakRef on the heap: the user data of an async
 * call whose owner (a view) may go away before the answer comes. A
 * strong reference there would keep a closed view alive, undisposed,
 * with its work still running, until the answer came. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

static inline GWeakRef *
lk_weak_ref_new (gpointer object)
{
  GWeakRef *ref = g_new (GWeakRef, 1);
  g_weak_ref_init (ref, object);
  return ref;
}

/* The object, or NULL if it is gone; frees @ref. */
static inline gpointer
lk_weak_ref_steal (GWeakRef *ref)
{
  gpointer object = g_weak_ref_get (ref);
  g_weak_ref_clear (ref);
  g_free (ref);
  return object;
}

G_END_DECLS
