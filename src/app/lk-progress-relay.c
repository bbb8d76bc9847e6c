/* lk-progress-relay.c — see lk-progress-relay.h. */
#include "config.h"

#include "lk-progress-relay.h"

struct _LkProgressRelay
{
  gint          ref_count;
  GMutex        lock;
  GMainContext *context;
  LkProgressFunc func;
  gpointer      user_data;

  /* Under @lock. */
  gboolean      closed;
  gboolean      scheduled;
  char         *phase;
  guint         done;
  guint         total;
  gint64        last_delivery;
};

LkProgressRelay *
lk_progress_relay_new (LkProgressFunc func, gpointer user_data)
{
  LkProgressRelay *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_new0 (LkProgressRelay, 1);
  self->ref_count = 1;
  g_mutex_init (&self->lock);
  self->context = g_main_context_ref_thread_default ();
  self->func = func;
  self->user_data = user_data;
  return self;
}

LkProgressRelay *
lk_progress_relay_ref (LkProgressRelay *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_progress_relay_unref (LkProgressRelay *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_free (self->phase);
  g_free (self);
}

static gboolean
deliver (gpointer data)
{
  LkProgressRelay *self = data;
  g_autofree char *phase = NULL;
  guint done, total;
  gboolean closed;

  g_mutex_lock (&self->lock);
  self->scheduled = FALSE;
  self->last_delivery = g_get_monotonic_time ();
  closed = self->closed;
  phase = g_strdup (self->phase);
  done = self->done;
  total = self->total;
  g_mutex_unlock (&self->lock);

  /* close() runs on this same context, so once it has returned this
   * check cannot pass: the owner's data is never used after close. */
  if (!closed)
    self->func (phase, done, total, self->user_data);
  return G_SOURCE_REMOVE;
}

void
lk_progress_relay_post (LkProgressRelay *self,
                        const char      *phase,
                        guint            done,
                        guint            total)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      if (phase != NULL && g_strcmp0 (phase, self->phase) != 0)
        {
          g_free (self->phase);
          self->phase = g_strdup (phase);
        }
      self->done = done;
      self->total = total;
      if (!self->scheduled)
        {
          gint64 since = (g_get_monotonic_time () - self->last_delivery) / 1000;
          guint delay = since >= LK_PROGRESS_RELAY_INTERVAL_MS ? 0
                        : LK_PROGRESS_RELAY_INTERVAL_MS - (guint) since;
          GSource *source = g_timeout_source_new (delay);

          g_source_set_static_name (source, "[likeness] progress relay");
          g_source_set_callback (source, deliver, lk_progress_relay_ref (self),
                                 (GDestroyNotify) lk_progress_relay_unref);
          g_source_attach (source, self->context);
          g_source_unref (source);
          self->scheduled = TRUE;
        }
    }
  g_mutex_unlock (&self->lock);
}

void
lk_progress_relay_close (LkProgressRelay *self)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  self->closed = TRUE;
  g_mutex_unlock (&self->lock);
}

void
lk_progress_relay_post_cb (const char *phase, guint done, guint total, gpointer relay)
{
  lk_progress_relay_post (relay, phase, done, total);
}
