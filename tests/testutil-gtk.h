/* testutil-gtk.h — helpers of the UI tests of the Query, Label and
 * Evaluate views: GTK set up for tests, running the main loop until
 * something is true, and a window on a collection that is checked to be
 * freed, with its session and workers, when it closes. */
#pragma once

#include <gtk/gtk.h>

#include "lk-window.h"

G_BEGIN_DECLS

/* lk_test_init(), GTK's test accessibility backend (names and roles can
 * be checked, no bus needed), gtk_init(), no animations. */
void      lk_test_gtk_init          (int *argc, char ***argv);

typedef gboolean (*LkTestCondition) (gpointer data);

/* Runs the main loop until @cond holds; fails the test after a minute,
 * naming @what. */
void      lk_test_wait_until        (LkTestCondition cond, gpointer data, const char *what);
/* Runs what is pending, a few rounds. */
void      lk_test_flush_main_loop   (void);

/* A window shown on screen, with folders scanned at @side pixels (0:
 * the default). */
LkWindow *lk_test_window_new        (guint side);
/* Opens @folder in @window and waits until it is open. */
void      lk_test_window_open       (LkWindow *window, const char *folder);
/* Destroys @window and checks that it, its session, its search service
 * and its thumbnailer are freed once their workers are done. */
void      lk_test_window_close      (LkWindow *window);

/* Activates the shortcut of @widget's own controllers (its class's
 * key bindings, a window's accelerators) whose trigger is @accel
 * ("<Control>Return"), as a key press reaching @widget would; FALSE if
 * none has it or its action is disabled. (The Training view.) */
gboolean  lk_test_press_shortcut    (GtkWidget  *widget,
                                     const char *accel);

G_END_DECLS
