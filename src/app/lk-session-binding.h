/* lk-session-binding.h — what every view repeated to follow an
 * LkSession: its "session" property, and the signals of the session, its
 * search service and its training connected to the view and disconnected
 * when the view moves to another session (or none).
 *
 * A view lists what it follows once, as a table:
 *
 *   static const LkSessionSignal follow[] = {
 *     { LK_SESSION_PART_SESSION, "notify::collection", G_CALLBACK (on_collection_changed) },
 *     { LK_SESSION_PART_SERVICE, "sources-changed",   G_CALLBACK (on_sources_changed) },
 *   };
 *
 * and its set_session() calls lk_session_binding_release() on the old
 * session, does its own part, and lk_session_binding_follow() on the new
 * one. Every callback is connected swapped: called with the view first. */
#pragma once

#include "lk-session.h"

G_BEGIN_DECLS

typedef enum {
  LK_SESSION_PART_SESSION,     /* the LkSession itself */
  LK_SESSION_PART_SERVICE,     /* lk_session_get_search_service() */
  LK_SESSION_PART_TRAINING,    /* lk_session_get_training() */
} LkSessionPart;

typedef struct {
  LkSessionPart  part;
  const char    *signal;       /* "notify::collection", "sources-changed", … */
  GCallback      callback;     /* (view, …signal arguments) */
} LkSessionSignal;

/* The views' "session" property: an LkSession, read-write, notified
 * explicitly. */
GParamSpec *lk_session_binding_param_spec (void);

/* Disconnects every handler of @view from @session, its search service
 * and its training. @session may be NULL. */
void        lk_session_binding_release    (gpointer               view,
                                           LkSession             *session);
/* Connects @signals (@n_signals of them) of @session's parts to @view. */
void        lk_session_binding_follow     (gpointer               view,
                                           LkSession             *session,
                                           const LkSessionSignal *signals,
                                           guint                  n_signals);

G_END_DECLS
