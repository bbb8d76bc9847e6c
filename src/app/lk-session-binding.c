/* lk-session-binding.c — see lk-session-binding.h. */
#include "config.h"

#include "lk-session-binding.h"

GParamSpec *
lk_session_binding_param_spec (void)
{
  return g_param_spec_object ("session", NULL, NULL, LK_TYPE_SESSION,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static gpointer
part_of (LkSession *session, LkSessionPart part)
{
  switch (part)
    {
    case LK_SESSION_PART_SESSION:
      return session;
    case LK_SESSION_PART_SERVICE:
      return lk_session_get_search_service (session);
    case LK_SESSION_PART_TRAINING:
      return lk_session_get_training (session);
    default:
      g_assert_not_reached ();
    }
}

void
lk_session_binding_release (gpointer view, LkSession *session)
{
  g_return_if_fail (G_IS_OBJECT (view));
  g_return_if_fail (session == NULL || LK_IS_SESSION (session));

  if (session == NULL)
    return;
  /* A session being disposed may have let its parts go already. */
  for (LkSessionPart part = LK_SESSION_PART_SESSION; part <= LK_SESSION_PART_TRAINING; part++)
    {
      gpointer instance = part_of (session, part);
      if (instance != NULL)
        g_signal_handlers_disconnect_by_data (instance, view);
    }
}

void
lk_session_binding_follow (gpointer view, LkSession *session, const LkSessionSignal *signals,
                           guint n_signals)
{
  g_return_if_fail (G_IS_OBJECT (view));
  g_return_if_fail (LK_IS_SESSION (session));
  g_return_if_fail (signals != NULL || n_signals == 0);

  for (guint i = 0; i < n_signals; i++)
    g_signal_connect_swapped (part_of (session, signals[i].part), signals[i].signal,
                              signals[i].callback, view);
}
