/* lk-source-slot.c — see lk-source-slot.h. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-source-slot.h"

struct _LkSourceSlot
{
  GObject          parent_instance;

  LkSearchService *service;
  char            *name;
  LkSourceIndex   *index;
  GCancellable    *cancellable;    /* of the request in flight */
  char            *error;
  gboolean         stopped;
};

G_DEFINE_FINAL_TYPE (LkSourceSlot, lk_source_slot, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
forget (LkSourceSlot *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->index, lk_source_index_unref);
  g_clear_pointer (&self->error, g_free);
  self->stopped = FALSE;
}

static void
lk_source_slot_dispose (GObject *object)
{
  LkSourceSlot *self = LK_SOURCE_SLOT (object);

  forget (self);
  g_clear_object (&self->service);
  G_OBJECT_CLASS (lk_source_slot_parent_class)->dispose (object);
}

static void
lk_source_slot_finalize (GObject *object)
{
  g_free (LK_SOURCE_SLOT (object)->name);
  G_OBJECT_CLASS (lk_source_slot_parent_class)->finalize (object);
}

static void
lk_source_slot_class_init (LkSourceSlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lk_source_slot_dispose;
  object_class->finalize = lk_source_slot_finalize;
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
lk_source_slot_init (LkSourceSlot *self)
{
}

LkSourceSlot *
lk_source_slot_new (void)
{
  return g_object_new (LK_TYPE_SOURCE_SLOT, NULL);
}

void
lk_source_slot_set_service (LkSourceSlot *self, LkSearchService *service)
{
  g_return_if_fail (LK_IS_SOURCE_SLOT (self));
  forget (self);
  g_set_object (&self->service, service);
}

gboolean
lk_source_slot_set_name (LkSourceSlot *self, const char *name)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), FALSE);
  if (g_strcmp0 (self->name, name) == 0)
    return FALSE;
  forget (self);
  g_free (self->name);
  self->name = g_strdup (name);
  return TRUE;
}

const char *
lk_source_slot_get_name (LkSourceSlot *self)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), NULL);
  return self->name;
}

const char *
lk_source_slot_get_label (LkSourceSlot *self)
{
  const LkEmbeddingSource *s;

  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), NULL);
  s = self->service != NULL ? lk_search_service_find_source (self->service, self->name) : NULL;
  return s != NULL ? s->label : self->name;
}

/* The answer to a request, if the slot still wants it. */
static void
on_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(LkSourceSlot) self = g_weak_ref_get (user_data);
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(LkSourceIndex) index = lk_search_service_prepare_finish (LK_SEARCH_SERVICE (source),
                                                                     result, &error);

  g_weak_ref_clear (user_data);
  g_free (user_data);
  if (self == NULL || cancellable != self->cancellable || g_cancellable_is_cancelled (cancellable))
    return;
  g_clear_object (&self->cancellable);
  if (index != NULL)
    self->index = g_steal_pointer (&index);
  else
    {
      self->stopped = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      self->error = g_strdup (error->message);
    }
  g_signal_emit (self, signals[CHANGED], 0);
}

gboolean
lk_source_slot_update (LkSourceSlot *self, gboolean may_prepare)
{
  GWeakRef *ref;
  LkSourceIndex *ready;

  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), FALSE);
  if (self->service == NULL || self->name == NULL)
    return FALSE;
  if (self->index != NULL && !lk_search_service_is_current (self->service, self->index))
    g_clear_pointer (&self->index, lk_source_index_unref);
  if (self->index == NULL)
    {
      ready = lk_search_service_lookup (self->service, self->name);
      if (ready != NULL && lk_search_service_is_current (self->service, ready))
        {
          g_cancellable_cancel (self->cancellable);
          g_clear_object (&self->cancellable);
          self->index = lk_source_index_ref (ready);
        }
    }
  if (self->index != NULL)
    return TRUE;
  if (!may_prepare || self->error != NULL || self->cancellable != NULL)
    return FALSE;
  self->cancellable = g_cancellable_new ();
  ref = g_new (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  lk_search_service_prepare_async (self->service, self->name, self->cancellable, on_prepared, ref);
  return FALSE;
}

LkSourceIndex *
lk_source_slot_get_index (LkSourceSlot *self)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), NULL);
  return self->index;
}

gboolean
lk_source_slot_get_waiting (LkSourceSlot *self)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), FALSE);
  return self->name != NULL && self->index == NULL && self->error == NULL;
}

gboolean
lk_source_slot_get_pending (LkSourceSlot *self)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), FALSE);
  return self->cancellable != NULL;
}

const char *
lk_source_slot_get_error (LkSourceSlot *self)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), NULL);
  return self->error;
}

gboolean
lk_source_slot_get_stopped (LkSourceSlot *self)
{
  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), FALSE);
  return self->stopped;
}

void
lk_source_slot_retry (LkSourceSlot *self)
{
  g_return_if_fail (LK_IS_SOURCE_SLOT (self));
  g_clear_pointer (&self->error, g_free);
  self->stopped = FALSE;
}

char *
lk_source_slot_dup_progress (LkSourceSlot *self, const char *name, guint done, guint total)
{
  const char *label;

  g_return_val_if_fail (LK_IS_SOURCE_SLOT (self), NULL);
  if (self->cancellable == NULL || g_strcmp0 (self->name, name) != 0)
    return NULL;
  label = lk_source_slot_get_label (self);
  if (total == 0)
    /* TRANSLATORS: getting a source's rows ready, with its label */
    return g_strdup_printf (_("Loading %s…"), label);
  if (done < total)
    /* TRANSLATORS: computing a source's rows: label, images done, images in all */
    return g_strdup_printf (_("Computing %s: %'u of %'u images…"), label, done, total);
  /* TRANSLATORS: building the search index of a source, with its label */
  return g_strdup_printf (_("Indexing %s…"), label);
}
