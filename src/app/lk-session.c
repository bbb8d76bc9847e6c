/* lk-session.c — LkSession: the current collection, the thumbnailer, the
 * activated image, and opening collections in a worker thread. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-collection-boxed.h"
#include "lk-progress-relay.h"
#include "lk-search-service.h"
#include "lk-session.h"
#include "lk-training.h"
#include "lk-worker.h"

struct _LkSession
{
  GObject          parent_instance;

  /* Owned */
  LkCollection    *collection;
  LkThumbnailer   *thumbnailer;
  LkSearchService *search_service;
  LkTraining      *training;         /* the Training view's run (issue 7) */
  LkScanOptions    scan_options;
  char            *builtin_dir;
  int              activated_image;
  char            *activated_file;

  /* The open in progress, if any */
  GTask           *current_open;
  GCancellable    *open_cancellable;
  LkProgressRelay *open_relay;
  char            *opening_name;
};

G_DEFINE_FINAL_TYPE (LkSession, lk_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_COLLECTION,
  PROP_THUMBNAILER,
  PROP_ACTIVATED_IMAGE,
  PROP_OPENING,
  PROP_OPENING_NAME,
  N_PROPS
};

enum {
  IMAGE_ACTIVATED,
  FILE_ACTIVATED,
  OPEN_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
lk_session_dispose (GObject *object)
{
  LkSession *self = LK_SESSION (object);

  /* An open in progress holds a reference, so none is running here. */
  g_assert (self->current_open == NULL);
  G_OBJECT_CLASS (lk_session_parent_class)->dispose (object);
}

static void
lk_session_finalize (GObject *object)
{
  LkSession *self = LK_SESSION (object);

  g_clear_pointer (&self->collection, lk_collection_unref);
  g_clear_object (&self->thumbnailer);
  /* Stops its workers now: a view's request may keep it alive a little. */
  lk_search_service_set_collection (self->search_service, NULL);
  g_clear_object (&self->search_service);
  g_clear_object (&self->training);
  g_free (self->builtin_dir);
  g_free (self->activated_file);
  g_free (self->opening_name);
  G_OBJECT_CLASS (lk_session_parent_class)->finalize (object);
}

static void
lk_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkSession *self = LK_SESSION (object);

  switch (prop_id)
    {
    case PROP_COLLECTION:
      g_value_set_boxed (value, self->collection);
      break;
    case PROP_THUMBNAILER:
      g_value_set_object (value, self->thumbnailer);
      break;
    case PROP_ACTIVATED_IMAGE:
      g_value_set_int (value, self->activated_image);
      break;
    case PROP_OPENING:
      g_value_set_boolean (value, self->current_open != NULL);
      break;
    case PROP_OPENING_NAME:
      g_value_set_string (value, self->opening_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkSession *self = LK_SESSION (object);

  switch (prop_id)
    {
    case PROP_COLLECTION:
      lk_session_set_collection (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_session_class_init (LkSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lk_session_dispose;
  object_class->finalize = lk_session_finalize;
  object_class->get_property = lk_session_get_property;
  object_class->set_property = lk_session_set_property;

  properties[PROP_COLLECTION] =
    g_param_spec_boxed ("collection", NULL, NULL, LK_TYPE_COLLECTION,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_THUMBNAILER] =
    g_param_spec_object ("thumbnailer", NULL, NULL, LK_TYPE_THUMBNAILER,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACTIVATED_IMAGE] =
    g_param_spec_int ("activated-image", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OPENING] =
    g_param_spec_boolean ("opening", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OPENING_NAME] =
    g_param_spec_string ("opening-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[IMAGE_ACTIVATED] =
    g_signal_new ("image-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[FILE_ACTIVATED] =
    g_signal_new ("file-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[OPEN_PROGRESS] =
    g_signal_new ("open-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT);
}

static void
lk_session_init (LkSession *self)
{
  self->thumbnailer = lk_thumbnailer_new ();
  self->search_service = lk_search_service_new ();
  self->training = lk_training_new ();
  self->activated_image = -1;
  lk_scan_options_init (&self->scan_options);
}

LkSession *
lk_session_new (void)
{
  return g_object_new (LK_TYPE_SESSION, NULL);
}

LkCollection *
lk_session_get_collection (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), NULL);
  return self->collection;
}

void
lk_session_set_collection (LkSession *self, LkCollection *collection)
{
  g_return_if_fail (LK_IS_SESSION (self));

  if (self->collection == collection)
    return;
  g_clear_pointer (&self->collection, lk_collection_unref);
  if (collection != NULL)
    self->collection = lk_collection_ref (collection);
  lk_thumbnailer_set_collection (self->thumbnailer, collection);
  lk_search_service_set_collection (self->search_service, collection);

  g_clear_pointer (&self->activated_file, g_free);
  g_object_freeze_notify (G_OBJECT (self));
  if (self->activated_image != -1)
    {
      self->activated_image = -1;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVATED_IMAGE]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLLECTION]);
  g_object_thaw_notify (G_OBJECT (self));
}

LkThumbnailer *
lk_session_get_thumbnailer (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), NULL);
  return self->thumbnailer;
}

LkSearchService *
lk_session_get_search_service (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), NULL);
  return self->search_service;
}

LkTraining *
lk_session_get_training (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), NULL);
  return self->training;
}

int
lk_session_get_activated_image (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), -1);
  return self->activated_image;
}

void
lk_session_activate_image (LkSession *self, guint index)
{
  g_return_if_fail (LK_IS_SESSION (self));
  g_return_if_fail (self->collection != NULL);
  g_return_if_fail (index < lk_collection_get_n_images (self->collection));

  g_clear_pointer (&self->activated_file, g_free);
  if (self->activated_image != (int) index)
    {
      self->activated_image = (int) index;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVATED_IMAGE]);
    }
  g_signal_emit (self, signals[IMAGE_ACTIVATED], 0, index);
}

void
lk_session_activate_file (LkSession *self, const char *path)
{
  g_return_if_fail (LK_IS_SESSION (self));
  g_return_if_fail (path != NULL);

  g_free (self->activated_file);
  self->activated_file = g_strdup (path);
  g_signal_emit (self, signals[FILE_ACTIVATED], 0, path);
}

const char *
lk_session_get_activated_file (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), NULL);
  return self->activated_file;
}

void
lk_session_set_scan_options (LkSession *self, const LkScanOptions *options)
{
  g_return_if_fail (LK_IS_SESSION (self));
  g_return_if_fail (options != NULL);

  self->scan_options = *options;
  lk_thumbnailer_set_max_pixels (self->thumbnailer, options->max_pixels);
}

void
lk_session_set_builtin_dir (LkSession *self, const char *dir)
{
  g_return_if_fail (LK_IS_SESSION (self));

  g_free (self->builtin_dir);
  self->builtin_dir = g_strdup (dir);
}

/* Opening ------------------------------------------------------------------ */

/* What the worker needs, copied: it never reads the session. */
typedef struct {
  char            *folder;       /* NULL: the built-in collection */
  char            *builtin_dir;
  LkScanOptions    options;
  LkProgressRelay *relay;
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *d = data;

  g_free (d->folder);
  g_free (d->builtin_dir);
  lk_progress_relay_unref (d->relay);
  g_free (d);
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  OpenData *d = task_data;
  GError *error = NULL;
  LkCollection *coll;

  if (d->folder != NULL)
    coll = lk_collection_open_folder (d->folder, &d->options, lk_progress_relay_post_cb,
                                      d->relay, cancellable, &error);
  else
    {
      lk_progress_relay_post (d->relay, _("Loading"), 0, 0);
      coll = lk_collection_open_fashion_mnist (d->builtin_dir, cancellable, &error);
    }
  if (coll != NULL)
    g_task_return_pointer (task, coll, (GDestroyNotify) lk_collection_unref);
  else
    g_task_return_error (task, error);
}

/* The scan gets a thread of its own, below the main thread's priority:
 * on Linux the decoding threads the engine starts from it inherit that,
 * so on a busy machine the window still draws first. (A thread of GTask's
 * pool could not be given its priority back: raising it again needs
 * privileges.) */
static gpointer
open_thread_main (gpointer data)
{
  GTask *task = data;

  lk_thread_lower_priority ();
  open_thread (task, NULL, g_task_get_task_data (task), g_task_get_cancellable (task));
  g_object_unref (task);
  return NULL;
}

static void
relay_progress (const char *phase, guint done, guint total, gpointer user_data)
{
  g_signal_emit (user_data, signals[OPEN_PROGRESS], 0, phase, done, total);
}

static void
notify_opening (LkSession *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPENING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPENING_NAME]);
  g_object_thaw_notify (G_OBJECT (self));
}

/* Forgets the open in progress; its worker, if still running, finishes
 * on its own and its result goes only to its caller. */
static void
clear_opening (LkSession *self)
{
  g_clear_object (&self->current_open);
  g_clear_object (&self->open_cancellable);
  if (self->open_relay != NULL)
    lk_progress_relay_close (self->open_relay);
  g_clear_pointer (&self->open_relay, lk_progress_relay_unref);
  g_clear_pointer (&self->opening_name, g_free);
}

/* Main thread. The worker's task has no source object, so the last
 * reference to the session is never dropped in the worker: @user_data
 * is the caller's task, which holds the session. */
static void
open_done (GObject *unused, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) outer = user_data;
  LkSession *self = g_task_get_source_object (outer);
  g_autoptr(LkCollection) coll = NULL;
  GError *error = NULL;

  coll = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->current_open == outer)
    {
      clear_opening (self);
      notify_opening (self);
    }
  if (coll == NULL)
    {
      g_task_return_error (outer, error);
      return;
    }
  lk_session_set_collection (self, coll);
  g_task_return_boolean (outer, TRUE);
}

void
lk_session_open_async (LkSession           *self,
                       const char          *folder,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;
  g_autoptr(GError) error = NULL;
  GThread *thread;
  OpenData *d;

  g_return_if_fail (LK_IS_SESSION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  lk_session_cancel_open (self);
  clear_opening (self);

  self->open_cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  outer = g_task_new (self, self->open_cancellable, callback, user_data);
  g_task_set_source_tag (outer, lk_session_open_async);
  self->current_open = g_object_ref (outer);
  self->open_relay = lk_progress_relay_new (relay_progress, self);
  self->opening_name = folder != NULL ? g_filename_display_basename (folder)
                                      : g_strdup (_("Fashion-MNIST"));

  d = g_new0 (OpenData, 1);
  d->folder = g_strdup (folder);
  d->builtin_dir = g_strdup (self->builtin_dir);
  d->options = self->scan_options;
  d->relay = lk_progress_relay_ref (self->open_relay);

  inner = g_task_new (NULL, self->open_cancellable, open_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, open_thread);
  g_task_set_task_data (inner, d, open_data_free);
  thread = g_thread_try_new ("lk-open", open_thread_main, g_object_ref (inner), &error);
  if (thread != NULL)
    g_thread_unref (thread);
  else
    {
      g_object_unref (inner);
      g_task_return_error (inner, g_steal_pointer (&error));
    }
  notify_opening (self);
}

gboolean
lk_session_open_finish (LkSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (LK_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lk_session_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
lk_session_cancel_open (LkSession *self)
{
  g_return_if_fail (LK_IS_SESSION (self));

  if (self->open_cancellable != NULL)
    g_cancellable_cancel (self->open_cancellable);
}

gboolean
lk_session_get_opening (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), FALSE);
  return self->current_open != NULL;
}

const char *
lk_session_get_opening_name (LkSession *self)
{
  g_return_val_if_fail (LK_IS_SESSION (self), NULL);
  return self->opening_name;
}
