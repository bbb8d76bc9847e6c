/* lk-screenshot.c — see lk-screenshot.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "lk-screenshot.h"
#include "lk-session.h"
#include "lk-training.h"
#include "lk-window-private.h"

#define POLL_MS 100
#define QUIET_POLLS 5          /* 0.5 s with nothing pending: animations are over */
#define TIMEOUT_POLLS 12000    /* 20 minutes: the first evaluation of Fashion-MNIST takes 3,
                                * a training shot trains for a few */

typedef struct {
  LkWindow *window;
  char     *path;
  char     *view;
  char     *action;           /* activated on the view once shown, or NULL */
  int       image;            /* -1: none */
  double    wait_s;           /* at least this long after preparing */
  double    ranking_s;        /* and this long into a training's ranking stage (< 0: no) */
  gint64    ranking_at;       /* when the ranking stage was first seen, or 0 */
  gboolean  busy_ok;          /* then shoot, at work or not */
  gint64    prepared_at;
  gboolean  prepared;
  guint     quiet;
  guint     polls;
} Shot;

gboolean
lk_screenshot_requested (void)
{
  return g_getenv ("LIKENESS_SCREENSHOT") != NULL;
}

static void
shot_free (Shot *shot)
{
  g_object_unref (shot->window);
  g_free (shot->path);
  g_free (shot->view);
  g_free (shot->action);
  g_free (shot);
}

static gboolean
save (LkWindow *window, const char *path)
{
  GtkWidget *widget = GTK_WIDGET (window);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return FALSE;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  return gdk_texture_save_to_png (texture, path);
}

static GtkWidget *
visible_page (Shot *shot)
{
  return gtk_stack_get_visible_child (_lk_window_get_views (shot->window));
}

/* The view and the image, once the collection is there. */
static void
prepare (Shot *shot, LkSession *session)
{
  LkCollection *coll = lk_session_get_collection (session);

  lk_window_show_view (shot->window, shot->view);
  if (shot->image >= 0)
    {
      if ((guint) shot->image < lk_collection_get_n_images (coll))
        lk_session_activate_image (session, (guint) shot->image);
      else
        g_printerr ("screenshot: there is no image %d in %s\n", shot->image,
                    lk_collection_get_name (coll));
    }
  if (shot->action != NULL)
    {
      g_auto(GStrv) actions = g_strsplit (shot->action, " ", -1);

      for (guint i = 0; actions[i] != NULL; i++)
        {
          g_autofree char *name = NULL;
          g_autoptr(GVariant) target = NULL;
          g_autoptr(GError) error = NULL;
          gboolean done = FALSE;

          if (*actions[i] == '\0')
            continue;
          if (g_action_parse_detailed_name (actions[i], &name, &target, &error))
            {
              done = gtk_widget_activate_action_variant (visible_page (shot), name, target);
              /* Another view's action (start a training, then show Buffers). */
              for (GtkWidget *page = gtk_widget_get_first_child (GTK_WIDGET (
                     _lk_window_get_views (shot->window)));
                   !done && page != NULL; page = gtk_widget_get_next_sibling (page))
                done = gtk_widget_activate_action_variant (page, name, target);
            }
          if (!done)
            g_printerr ("screenshot: no view has the action %s%s%s\n", actions[i],
                        error != NULL ? ": " : "", error != NULL ? error->message : "");
        }
    }
  shot->prepared = TRUE;
  shot->prepared_at = g_get_monotonic_time ();
}

/* The views say when they are still at work (a "busy" property:
 * preparing a source, evaluating). */
static gboolean
view_busy (Shot *shot)
{
  GtkWidget *page = visible_page (shot);
  gboolean busy = FALSE;

  if (page != NULL && g_object_class_find_property (G_OBJECT_GET_CLASS (page), "busy") != NULL)
    g_object_get (page, "busy", &busy, NULL);
  return busy;
}

/* Closed as a person would close it: a training still running stops with
 * a checkpoint and the application waits for it (lk_window_close_request),
 * where quitting outright would leave its worker mid-batch. */
static void
finish (Shot *shot)
{
  gtk_window_close (GTK_WINDOW (shot->window));
}

/* Whether the training started for the shot has ranked for ranking_s
 * (the Buffers fill then; a fixed wait lands in pre-training on a slower
 * machine). Gives up, saying why, when it ended without ranking. */
static gboolean
ranked_long_enough (Shot *shot, LkSession *session, gboolean *give_up)
{
  LkTraining *training = lk_session_get_training (session);
  const LkTrainProgress *p = training != NULL ? lk_training_get_progress (training) : NULL;

  if (shot->ranking_at == 0)
    {
      if (p != NULL && p->stage == LK_TRAIN_STAGE_RANKING)
        shot->ranking_at = g_get_monotonic_time ();
      else
        {
          *give_up = training == NULL || !lk_training_get_active (training);
          return FALSE;
        }
    }
  return g_get_monotonic_time () - shot->ranking_at >= shot->ranking_s * G_USEC_PER_SEC;
}

static gboolean
poll_settled (gpointer data)
{
  Shot *shot = data;
  LkSession *session = lk_window_get_session (shot->window);
  gboolean busy;

  if (++shot->polls > TIMEOUT_POLLS)
    {
      g_printerr ("screenshot: the window did not settle in time; nothing written\n");
      finish (shot);
      return G_SOURCE_REMOVE;
    }
  if (lk_session_get_collection (session) == NULL || lk_session_get_opening (session))
    return G_SOURCE_CONTINUE;
  if (!shot->prepared)
    prepare (shot, session);

  if (g_get_monotonic_time () - shot->prepared_at < shot->wait_s * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  if (shot->ranking_s >= 0)
    {
      gboolean give_up = FALSE;

      if (!ranked_long_enough (shot, session, &give_up))
        {
          if (!give_up)
            return G_SOURCE_CONTINUE;
          g_printerr ("screenshot: no training reached its ranking stage; nothing written\n");
          finish (shot);
          return G_SOURCE_REMOVE;
        }
    }
  busy = lk_thumbnailer_get_n_pending (lk_session_get_thumbnailer (session)) > 0 ||
         (!shot->busy_ok && view_busy (shot));
  shot->quiet = busy ? 0 : shot->quiet + 1;
  if (shot->quiet < QUIET_POLLS)
    return G_SOURCE_CONTINUE;

  if (save (shot->window, shot->path))
    g_printerr ("screenshot: wrote %s (%d×%d)\n", shot->path,
                gtk_widget_get_width (GTK_WIDGET (shot->window)),
                gtk_widget_get_height (GTK_WIDGET (shot->window)));
  else
    g_printerr ("screenshot: could not write %s\n", shot->path);
  finish (shot);
  return G_SOURCE_REMOVE;
}

void
lk_screenshot_start (LkWindow *window)
{
  Shot *shot = g_new0 (Shot, 1);
  const char *view = g_getenv ("LIKENESS_SCREENSHOT_VIEW");
  const char *image = g_getenv ("LIKENESS_SCREENSHOT_IMAGE");
  const char *size = g_getenv ("LIKENESS_SCREENSHOT_SIZE");
  const char *action = g_getenv ("LIKENESS_SCREENSHOT_ACTION");
  const char *wait = g_getenv ("LIKENESS_SCREENSHOT_WAIT");
  const char *ranking = g_getenv ("LIKENESS_SCREENSHOT_RANKING");
  int width, height;

  g_return_if_fail (LK_IS_WINDOW (window));

  shot->window = g_object_ref (window);
  shot->path = g_strdup (g_getenv ("LIKENESS_SCREENSHOT"));
  shot->view = g_strdup (view != NULL && *view != '\0' ? view : "browse");
  shot->image = image != NULL && *image != '\0' ? atoi (image) : -1;
  shot->action = action != NULL && *action != '\0' ? g_strdup (action) : NULL;
  shot->wait_s = wait != NULL && *wait != '\0' ? g_ascii_strtod (wait, NULL) : 0;
  shot->ranking_s = ranking != NULL && *ranking != '\0' ? g_ascii_strtod (ranking, NULL) : -1;
  shot->busy_ok = g_strcmp0 (g_getenv ("LIKENESS_SCREENSHOT_BUSY"), "1") == 0;
  if (size != NULL && sscanf (size, "%dx%d", &width, &height) == 2 && width > 0 && height > 0)
    gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  g_timeout_add_full (G_PRIORITY_LOW, POLL_MS, poll_settled, shot, (GDestroyNotify) shot_free);
}
