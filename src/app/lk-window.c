/* lk-window.c — LkWindow: its life cycle, the window state and last
 * collection in GSettings, opening collections, and the banners that
 * report progress, errors and skipped files. Actions and drag-and-drop
 * are in lk-window-actions.c. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-browse-view.h"
#include "lk-buffers-view.h"
#include "lk-evaluate-view.h"
#include "lk-label-view.h"
#include "lk-query-view.h"
#include "lk-status-page.h"
#include "lk-training-view.h"
#include "lk-window-private.h"

G_DEFINE_FINAL_TYPE (LkWindow, lk_window, GTK_TYPE_APPLICATION_WINDOW)

/* Settings ------------------------------------------------------------------ */

/* NULL, with a warning, when the schema is not installed (running the
 * binary from the build tree without GSETTINGS_SCHEMA_DIR): the window
 * then works but remembers nothing. */
static GSettings *
settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    {
      g_warning ("The GSettings schema %s is not installed; nothing will be remembered "
                 "(from the build tree, set GSETTINGS_SCHEMA_DIR=build/data)", APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
restore_state (LkWindow *self)
{
  LkScanOptions options;

  if (self->settings == NULL)
    return;
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  lk_scan_options_init (&options);
  options.max_pixels = (guint64) g_settings_get_uint (self->settings, "max-megapixels") * 1000000;
  lk_session_set_scan_options (self->session, &options);
}

static gboolean
lk_window_close_request (GtkWindow *window)
{
  LkWindow *self = LK_WINDOW (window);
  LkTraining *training = self->session != NULL ? lk_session_get_training (self->session) : NULL;
  GApplication *app = G_APPLICATION (gtk_window_get_application (window));
  int width, height;

  /* Closing while a model trains stops it with a checkpoint (it can be
   * continued from the Training view); the application stays until the
   * checkpoint is written. */
  if (training != NULL && lk_training_get_active (training))
    {
      if (app != NULL)
        lk_training_stop_holding (training, app);
      else
        lk_training_stop (training);
    }

  if (self->settings != NULL)
    {
      gboolean maximized = gtk_window_is_maximized (window);

      g_settings_set_boolean (self->settings, "window-maximized", maximized);
      /* The size to come back to from maximized, not the screen's. */
      if (!maximized)
        {
          gtk_window_get_default_size (window, &width, &height);
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
    }
  return GTK_WINDOW_CLASS (lk_window_parent_class)->close_request (window);
}

/* Banners --------------------------------------------------------------------- */

void
_lk_window_show_message (LkWindow       *self,
                         GtkMessageType  type,
                         const char     *title,
                         const char     *detail)
{
  /* Two labels, not one with markup and a line break: GTK 4.8 measures a
   * wrapped two-line label in an info bar inconsistently. */
  gtk_label_set_label (self->message_title, title);
  gtk_label_set_label (self->message_detail, detail);
  gtk_widget_set_visible (GTK_WIDGET (self->message_detail), detail != NULL);
  g_free (self->message_text);
  self->message_text = detail != NULL ? g_strconcat (title, "\n", detail, NULL) : g_strdup (title);
  gtk_info_bar_set_message_type (self->message_bar, type);
  gtk_info_bar_set_revealed (self->message_bar, TRUE);
}

static void
hide_message (LkWindow *self)
{
  gtk_info_bar_set_revealed (self->message_bar, FALSE);
}

static void
on_message_response (LkWindow *self, int response)
{
  if (response == GTK_RESPONSE_CLOSE)
    hide_message (self);
}

static void
on_skipped_response (LkWindow *self, int response)
{
  if (response == GTK_RESPONSE_CLOSE)
    gtk_info_bar_set_revealed (self->skipped_bar, FALSE);
}

static void
update_skipped_bar (LkWindow *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);
  g_autofree char *text = NULL;
  guint n = 0;

  if (coll != NULL)
    lk_collection_get_skipped (coll, &n);
  if (n == 0)
    {
      gtk_info_bar_set_revealed (self->skipped_bar, FALSE);
      return;
    }
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "%u file in “%s” was skipped: it cannot be used as an image.",
                                       "%u files in “%s” were skipped: they cannot be used as images.",
                                       n),
                          n, lk_collection_get_name (coll));
  gtk_label_set_label (self->skipped_label, text);
  gtk_info_bar_set_revealed (self->skipped_bar, TRUE);
}

static void
update_main_page (LkWindow *self)
{
  const char *page;

  if (lk_session_get_collection (self->session) != NULL)
    page = "views";
  else if (lk_session_get_opening (self->session))
    page = "loading";
  else
    page = "empty";
  gtk_stack_set_visible_child_name (self->main_stack, page);
}

static void
update_title (LkWindow *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);
  g_autofree char *title = NULL;

  if (coll == NULL)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Likeness"));
      return;
    }
  /* TRANSLATORS: the window title: the collection's name, then the program's */
  title = g_strdup_printf (_("%s — Likeness"), lk_collection_get_name (coll));
  gtk_window_set_title (GTK_WINDOW (self), title);
}

/* Progress ------------------------------------------------------------------ */

static gboolean
pulse (gpointer data)
{
  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (data));
  return G_SOURCE_CONTINUE;
}

static void
set_pulsing (LkWindow *self, gboolean pulsing)
{
  if (pulsing && self->pulse_source == 0)
    self->pulse_source = g_timeout_add_full (G_PRIORITY_DEFAULT, 100, pulse,
                                             g_object_ref (self->progress_bar), g_object_unref);
  else if (!pulsing)
    g_clear_handle_id (&self->pulse_source, g_source_remove);
}

/* LIKENESS_DEBUG_FRAMES=1: how smoothly the window drew while it opened. */
static void
log_open_frames (LkWindow *self, gboolean opening)
{
  LkFrameStats stats;

  if (g_getenv ("LIKENESS_DEBUG_FRAMES") == NULL)
    return;
  if (opening && self->open_frames == NULL)
    self->open_frames = lk_frame_monitor_start (GTK_WIDGET (self));
  else if (!opening && self->open_frames != NULL)
    {
      lk_frame_monitor_stop (g_steal_pointer (&self->open_frames), &stats);
      g_printerr ("likeness: while opening: %u frames, worst interval %.1f ms, mean %.1f ms\n",
                  stats.n_frames, stats.worst_ms, stats.mean_ms);
    }
}

static void
on_opening_changed (LkWindow *self)
{
  gboolean opening = lk_session_get_opening (self->session);

  if (opening)
    {
      g_autofree char *text = NULL;

      /* TRANSLATORS: shown while a collection opens, with its name */
      text = g_strdup_printf (_("Opening “%s”…"), lk_session_get_opening_name (self->session));
      gtk_label_set_label (self->progress_label, text);
      lk_status_page_set_title (self->loading_page, text);
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
    }
  set_pulsing (self, opening);
  log_open_frames (self, opening);
  gtk_revealer_set_reveal_child (self->progress_revealer, opening);
  _lk_window_update_actions (self);
  update_main_page (self);
}

static void
on_open_progress (LkWindow *self, const char *phase, guint done, guint total)
{
  g_autofree char *text = NULL;

  if (total == 0)
    {
      /* TRANSLATORS: progress of an open: the collection, then the phase ("Listing") */
      text = g_strdup_printf (_("Opening “%s”: %s…"),
                              lk_session_get_opening_name (self->session), phase);
      set_pulsing (self, TRUE);
    }
  else
    {
      /* TRANSLATORS: progress of an open: collection, phase ("Decoding"), done, total */
      text = g_strdup_printf (_("Opening “%s”: %s %'u of %'u images…"),
                              lk_session_get_opening_name (self->session), phase, done, total);
      set_pulsing (self, FALSE);
      gtk_progress_bar_set_fraction (self->progress_bar, (double) done / total);
    }
  gtk_label_set_label (self->progress_label, text);
}

static void
on_collection_changed (LkWindow *self)
{
  update_title (self);
  update_skipped_bar (self);
  update_main_page (self);
  _lk_window_update_actions (self);
}

/* Opening --------------------------------------------------------------------- */

typedef struct {
  GWeakRef  window;       /* the open must not keep a closed window alive */
  char     *folder;       /* NULL: the built-in collection */
  gboolean  initial;      /* at start: fall back to the built-in one */
  char     *notice;       /* shown after success (why we fell back) */
} OpenRequest;

static void
open_request_free (OpenRequest *req)
{
  g_weak_ref_clear (&req->window);
  g_free (req->folder);
  g_free (req->notice);
  g_free (req);
}

static void start_open (LkWindow *self, const char *folder, gboolean initial, const char *notice);

static void
remember (LkWindow *self)
{
  LkCollection *coll = lk_session_get_collection (self->session);
  const char *root;

  if (self->settings == NULL || coll == NULL)
    return;
  root = lk_collection_get_root (coll);
  g_settings_set_string (self->settings, "last-collection", root != NULL ? root : "");
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OpenRequest *req = user_data;
  g_autoptr(LkWindow) self = g_weak_ref_get (&req->window);
  g_autoptr(GError) error = NULL;

  /* A window closed meanwhile: nothing to show the result in. */
  if (self == NULL || self->session == NULL)
    {
      open_request_free (req);
      return;
    }
  if (lk_session_open_finish (LK_SESSION (source), result, &error))
    {
      remember (self);
      if (req->notice != NULL)
        _lk_window_show_message (self, GTK_MESSAGE_WARNING, req->notice, NULL);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ;  /* the user's choice, or a newer open: the current collection stays */
  else if (req->initial && req->folder != NULL)
    {
      g_autofree char *display = g_filename_display_name (req->folder);
      g_autofree char *notice = NULL;

      /* TRANSLATORS: at start, the last collection could not be reopened: its folder, the reason */
      notice = g_strdup_printf (_("The last collection, %s, could not be opened (%s). "
                                  "The built-in collection is shown instead."),
                                display, error->message);
      start_open (self, NULL, FALSE, notice);
    }
  else
    _lk_window_show_message (self, GTK_MESSAGE_ERROR, _("Could not open the collection"),
                             error->message);
  update_main_page (self);
  open_request_free (req);
}

static void
start_open (LkWindow *self, const char *folder, gboolean initial, const char *notice)
{
  OpenRequest *req = g_new0 (OpenRequest, 1);

  g_weak_ref_init (&req->window, self);
  req->folder = g_strdup (folder);
  req->initial = initial;
  req->notice = g_strdup (notice);
  hide_message (self);
  lk_session_open_async (self->session, folder, NULL, open_done, req);
}

void
lk_window_open_folder (LkWindow *self, const char *folder)
{
  g_return_if_fail (LK_IS_WINDOW (self));
  start_open (self, folder, FALSE, NULL);
}

void
lk_window_open_initial (LkWindow *self)
{
  g_autofree char *last = NULL;

  g_return_if_fail (LK_IS_WINDOW (self));

  if (self->settings != NULL)
    last = g_settings_get_string (self->settings, "last-collection");
  if (last == NULL || *last == '\0')
    start_open (self, NULL, TRUE, NULL);
  else if (!g_file_test (last, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *display = g_filename_display_name (last);
      g_autofree char *notice = NULL;

      /* TRANSLATORS: at start, the folder of the last collection is gone */
      notice = g_strdup_printf (_("The last collection, %s, is no longer there. "
                                  "The built-in collection is shown instead."), display);
      start_open (self, NULL, FALSE, notice);
    }
  else
    start_open (self, last, TRUE, NULL);
}

void
lk_window_show_view (LkWindow *self, const char *name)
{
  g_return_if_fail (LK_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  if (gtk_stack_get_child_by_name (self->views, name) == NULL)
    {
      g_warning ("No view named “%s”", name);
      return;
    }
  gtk_stack_set_visible_child_name (self->views, name);
}

/* Object ---------------------------------------------------------------------- */

/* Six views (issue 7): the theme gives each switcher button 100 px at
 * least, which with the header bar's other buttons made the window's
 * minimum over 1,000 px; as wide as its title instead, it fits a
 * 1024-pixel screen and the 900-pixel default. (Each button's own
 * style context: the application's style sheet is not loaded where no
 * application runs, as in the tests.) */
static void
compact_view_switcher (LkWindow *self)
{
  static GtkCssProvider *provider;

  if (provider == NULL)
    {
      provider = gtk_css_provider_new ();
      gtk_css_provider_load_from_data (provider, "button { min-width: 40px; }", -1);
    }
  for (GtkWidget *button = gtk_widget_get_first_child (self->view_switcher); button != NULL;
       button = gtk_widget_get_next_sibling (button))
    gtk_style_context_add_provider (gtk_widget_get_style_context (button),
                                    GTK_STYLE_PROVIDER (provider),
                                    GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

/* Every view page gets the window's session through its "session" property. */
static void
give_session_to_views (LkWindow *self)
{
  for (GtkWidget *page = gtk_widget_get_first_child (GTK_WIDGET (self->views));
       page != NULL; page = gtk_widget_get_next_sibling (page))
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (page), "session") != NULL)
      g_object_set (page, "session", self->session, NULL);
}

static void
lk_window_dispose (GObject *object)
{
  LkWindow *self = LK_WINDOW (object);

  set_pulsing (self, FALSE);
  if (self->open_frames != NULL)
    lk_frame_monitor_stop (g_steal_pointer (&self->open_frames), NULL);
  if (self->skipped_dialog != NULL)
    gtk_window_destroy (self->skipped_dialog);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  g_clear_object (&self->drop_target);
  if (self->session != NULL)
    {
      /* The worker stops at its next check; its result is then dropped. */
      lk_session_cancel_open (self->session);
      g_signal_handlers_disconnect_by_data (self->session, self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), LK_TYPE_WINDOW);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->message_text, g_free);
  G_OBJECT_CLASS (lk_window_parent_class)->dispose (object);
}

static void
lk_window_class_init (LkWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = lk_window_dispose;
  window_class->close_request = lk_window_close_request;

  g_type_ensure (LK_TYPE_BROWSE_VIEW);
  g_type_ensure (LK_TYPE_QUERY_VIEW);
  g_type_ensure (LK_TYPE_LABEL_VIEW);
  g_type_ensure (LK_TYPE_EVALUATE_VIEW);
  g_type_ensure (LK_TYPE_TRAINING_VIEW);
  g_type_ensure (LK_TYPE_BUFFERS_VIEW);
  g_type_ensure (LK_TYPE_STATUS_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LkWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, message_bar);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, message_title);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, message_detail);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, skipped_bar);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, skipped_label);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, views);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, view_switcher);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, browse_view);
  gtk_widget_class_bind_template_child (widget_class, LkWindow, loading_page);
  gtk_widget_class_bind_template_callback (widget_class, on_message_response);
  gtk_widget_class_bind_template_callback (widget_class, on_skipped_response);

  _lk_window_class_init_actions (widget_class);
}

static void
lk_window_init (LkWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  compact_view_switcher (self);

  self->session = lk_session_new ();
  self->settings = settings_new ();
  restore_state (self);
  g_signal_connect_swapped (self->session, "notify::collection",
                            G_CALLBACK (on_collection_changed), self);
  g_signal_connect_swapped (self->session, "notify::opening",
                            G_CALLBACK (on_opening_changed), self);
  g_signal_connect_swapped (self->session, "open-progress",
                            G_CALLBACK (on_open_progress), self);
  give_session_to_views (self);
  _lk_window_init_actions (self);
  on_collection_changed (self);
}

LkWindow *
lk_window_new (LkApplication *app)
{
  return g_object_new (LK_TYPE_WINDOW, "application", app, NULL);
}

LkSession *
lk_window_get_session (LkWindow *self)
{
  g_return_val_if_fail (LK_IS_WINDOW (self), NULL);
  return self->session;
}

/* Test API -------------------------------------------------------------------- */

LkBrowseView *
_lk_window_get_browse_view (LkWindow *self)
{
  return self->browse_view;
}

GtkStack *
_lk_window_get_views (LkWindow *self)
{
  return self->views;
}

GtkDropTarget *
_lk_window_get_drop_target (LkWindow *self)
{
  return self->drop_target;
}

const char *
_lk_window_get_main_page (LkWindow *self)
{
  return gtk_stack_get_visible_child_name (self->main_stack);
}

gboolean
_lk_window_get_progress_shown (LkWindow *self)
{
  return gtk_revealer_get_reveal_child (self->progress_revealer);
}

const char *
_lk_window_get_progress_text (LkWindow *self)
{
  return gtk_label_get_label (self->progress_label);
}

const char *
_lk_window_get_message (LkWindow *self)
{
  if (!gtk_info_bar_get_revealed (self->message_bar))
    return NULL;
  return self->message_text;
}

GtkMessageType
_lk_window_get_message_type (LkWindow *self)
{
  return gtk_info_bar_get_message_type (self->message_bar);
}

const char *
_lk_window_get_skipped_text (LkWindow *self)
{
  if (!gtk_info_bar_get_revealed (self->skipped_bar))
    return NULL;
  return gtk_label_get_text (self->skipped_label);
}

GtkWindow *
_lk_window_get_skipped_dialog (LkWindow *self)
{
  return self->skipped_dialog;
}
