/* lk-window-private.h — the window's struct, shared by lk-window.c and
 * lk-window-actions.c, and its parts for the UI tests and the screenshot
 * tool. */
#pragma once

#include "lk-browse-view.h"
#include "lk-frame-monitor.h"
#include "lk-status-page.h"
#include "lk-window.h"

G_BEGIN_DECLS

LkBrowseView  *_lk_window_get_browse_view     (LkWindow *self);
GtkStack      *_lk_window_get_views           (LkWindow *self);
GtkDropTarget *_lk_window_get_drop_target     (LkWindow *self);
/* "views", "loading" or "empty". */
const char    *_lk_window_get_main_page       (LkWindow *self);
gboolean       _lk_window_get_progress_shown  (LkWindow *self);
const char    *_lk_window_get_progress_text   (LkWindow *self);
/* The error or warning banner, title and detail in one: NULL when hidden. */
const char    *_lk_window_get_message         (LkWindow *self);
GtkMessageType _lk_window_get_message_type    (LkWindow *self);
/* The "N files skipped" banner: NULL when hidden. */
const char    *_lk_window_get_skipped_text    (LkWindow *self);
/* The skipped-files dialog last opened, if still open. */
GtkWindow     *_lk_window_get_skipped_dialog  (LkWindow *self);

/* Shared by lk-window.c and lk-window-actions.c. */
struct _LkWindow
{
  GtkApplicationWindow  parent_instance;

  /* Template widgets */
  GtkRevealer          *progress_revealer;
  GtkLabel             *progress_label;
  GtkProgressBar       *progress_bar;
  GtkInfoBar           *message_bar;
  GtkLabel             *message_title;
  GtkLabel             *message_detail;
  GtkInfoBar           *skipped_bar;
  GtkLabel             *skipped_label;
  GtkStack             *main_stack;
  GtkStack             *views;
  GtkWidget            *view_switcher;
  LkBrowseView         *browse_view;
  LkStatusPage         *loading_page;

  /* Owned */
  LkSession            *session;
  GSettings            *settings;       /* NULL if the schema is not installed */
  GtkDropTarget        *drop_target;
  GtkNativeDialog      *chooser;
  guint                 pulse_source;
  char                 *message_text;   /* title and detail, for the tests */
  LkFrameMonitor       *open_frames;    /* LIKENESS_DEBUG_FRAMES: while opening */

  /* Borrowed: closes itself */
  GtkWindow            *skipped_dialog;
};

/* A regular file whose content type is an image's. */
gboolean _lk_window_is_image_file  (const char     *path);

void _lk_window_class_init_actions (GtkWidgetClass *widget_class);
void _lk_window_init_actions       (LkWindow       *self);
void _lk_window_update_actions     (LkWindow       *self);
void _lk_window_show_message       (LkWindow       *self,
                                    GtkMessageType  type,
                                    const char     *title,
                                    const char     *detail);

G_END_DECLS
