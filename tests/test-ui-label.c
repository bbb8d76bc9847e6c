/* test-ui-label.c — the Label view on a generated collection: a triplet
 * of three images of one category; three answers by key and by button,
 * one undone (Ctrl+Z), and the triplet file holds exactly the two that
 * stay, with their ratings; a new window shows those two, never asks
 * about their queries again, lists golden-learned, and reports how often
 * golden features agree with the answers. And when the triplet file
 * cannot be written, the view says so, naming the file and the reason,
 * and counts only the answers the file holds. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "embeddings.h"
#include "lk-label-view-private.h"
#include "lk-window-private.h"
#include "metrics.h"
#include "testutil-gtk.h"
#include "testutil.h"
#include "triplets.h"

static const char *const categories[] = { "apples", "pears", "plums", NULL };

typedef struct {
  guint32 query, a, b;
} Triplet;

static LkLabelView *
label_view (LkWindow *window)
{
  GtkWidget *page = gtk_stack_get_child_by_name (_lk_window_get_views (window), "label");
  g_assert_true (LK_IS_LABEL_VIEW (page));
  return LK_LABEL_VIEW (page);
}

static gboolean
settled (gpointer view)
{
  Triplet t;
  return !lk_label_view_get_busy (view) &&
         _lk_label_view_get_triplet (view, &t.query, &t.a, &t.b);
}

static Triplet
wait_triplet (LkLabelView *view)
{
  Triplet t;

  lk_test_wait_until (settled, view, "a triplet to label");
  lk_test_flush_main_loop ();
  g_assert_true (_lk_label_view_get_triplet (view, &t.query, &t.a, &t.b));
  return t;
}

/* Runs the view's shortcut for @accel, as the key press would. */
static void
press (LkLabelView *view, const char *accel)
{
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (view));

  for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, c);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      g_assert_cmpint (gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (controller)),
                       ==, GTK_PHASE_CAPTURE);
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (controller)); i++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), i);
          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted))
            {
              g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut),
                                                           GTK_SHORTCUT_ACTION_EXCLUSIVE,
                                                           GTK_WIDGET (view),
                                                           gtk_shortcut_get_arguments (shortcut)));
              return;
            }
        }
    }
  g_error ("No shortcut %s in the Label view", accel);
}

static void
check_triplet (LkCollection *coll, Triplet t)
{
  g_assert_cmpuint (t.query, !=, t.a);
  g_assert_cmpuint (t.query, !=, t.b);
  g_assert_cmpuint (t.a, !=, t.b);
  /* Candidates come from the query's own category. */
  g_assert_cmpuint (lk_collection_get_label (coll, t.a), ==, lk_collection_get_label (coll, t.query));
  g_assert_cmpuint (lk_collection_get_label (coll, t.b), ==, lk_collection_get_label (coll, t.query));
}

/* The records of the triplet file, read as the engine reads it. */
static LkTripletSet *
read_file (LkCollection *coll)
{
  g_autofree char *path = lk_triplets_default_path (coll);
  g_autoptr(GError) error = NULL;
  LkTripletSet *set = lk_triplet_set_load (path, coll, &error);

  g_assert_no_error (error);
  return set;
}

static guint
count_records (LkCollection *coll)
{
  g_autofree char *path = lk_triplets_default_path (coll);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && lines[i][0] != '#' && !g_str_has_prefix (lines[i], "query,"))
      n++;
  return n;
}

static void
check_row (const LkTripletRow *row, Triplet t, LkRating rating)
{
  g_assert_cmpuint (row->query, ==, t.query);
  g_assert_cmpuint (row->a, ==, t.a);
  g_assert_cmpuint (row->b, ==, t.b);
  g_assert_cmpint (row->rating, ==, rating);
}

static void
open_label_view (LkWindow *window, const char *root)
{
  lk_test_window_open (window, root);
  lk_window_show_view (window, "label");
  lk_test_flush_main_loop ();
}

static void
test_label (void)
{
  g_autofree char *root = lk_test_make_image_tree ("label", categories, 6, 20, 20, 11);
  LkWindow *window = lk_test_window_new (32);
  LkLabelView *view = label_view (window);
  LkCollection *coll;
  Triplet t1, t2, t3, again;

  open_label_view (window, root);
  coll = lk_session_get_collection (lk_window_get_session (window));
  t1 = wait_triplet (view);
  check_triplet (coll, t1);
  g_assert_cmpstr (_lk_label_view_get_agreement_source (view), ==, "golden");
  g_assert_cmpstr (_lk_label_view_get_other_source (view), ==, "pixels");
  g_assert_nonnull (strstr (_lk_label_view_get_reason (view), "Golden features"));
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "No answers"));

  /* Three answers: A by its key, B by its button, both similar by key. */
  press (view, "1");
  t2 = wait_triplet (view);
  check_triplet (coll, t2);
  g_assert_cmpuint (t2.query, !=, t1.query);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "label.answer", "s", "B"));
  t3 = wait_triplet (view);
  check_triplet (coll, t3);
  press (view, "3");
  wait_triplet (view);
  g_assert_cmpuint (_lk_label_view_get_n_answers (view), ==, 3);
  g_assert_cmpuint (count_records (coll), ==, 3);

  /* Ctrl+Z: the last answer goes, and its triplet is asked again. */
  press (view, "<Control>z");
  again = wait_triplet (view);
  g_assert_cmpuint (again.query, ==, t3.query);
  g_assert_cmpuint (again.a, ==, t3.a);
  g_assert_cmpuint (again.b, ==, t3.b);
  g_assert_nonnull (strstr (_lk_label_view_get_reason (view), "undone"));

  /* The file: exactly the two answers that stay. */
  g_assert_cmpuint (count_records (coll), ==, 2);
  {
    g_autoptr(LkTripletSet) set = read_file (coll);
    guint n;
    const LkTripletRow *rows = lk_triplet_set_get_rows (set, &n);
    g_assert_cmpuint (n, ==, 2);
    check_row (&rows[0], t1, LK_RATING_A);
    check_row (&rows[1], t2, LK_RATING_B);
  }
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "2 answers"));
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "2 triplets"));
  lk_test_window_close (window);

  /* A new window: two answers, the agreement of golden features with
   * them (similarity precision), golden-learned among the sources. */
  window = lk_test_window_new (32);
  view = label_view (window);
  open_label_view (window, root);
  coll = lk_session_get_collection (lk_window_get_session (window));
  again = wait_triplet (view);
  g_assert_cmpuint (_lk_label_view_get_n_answers (view), ==, 2);
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "2 answers"));
  g_assert_cmpuint (again.query, !=, t1.query);
  g_assert_cmpuint (again.query, !=, t2.query);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkEmbedding) golden = lk_embedding_source_load (coll, "golden", NULL, NULL, NULL,
                                                              &error);
    float dp[2], dn[2];
    char expected[64];

    g_assert_no_error (error);
    dp[0] = lk_embedding_distance (golden, t1.query, t1.a);
    dn[0] = lk_embedding_distance (golden, t1.query, t1.b);
    dp[1] = lk_embedding_distance (golden, t2.query, t2.b);
    dn[1] = lk_embedding_distance (golden, t2.query, t2.a);
    g_snprintf (expected, sizeof expected, "Golden features agrees with %.1f%%",
                100 * lk_metric_similarity_precision (dp, dn, 2));
    g_assert_nonnull (strstr (_lk_label_view_get_tally (view), expected));
  }
  g_assert_nonnull (lk_search_service_find_source (
    lk_session_get_search_service (lk_window_get_session (window)), "golden-learned"));

  /* Undo works on answers of an earlier session too. */
  press (view, "<Control>z");
  again = wait_triplet (view);
  g_assert_cmpuint (again.query, ==, t2.query);
  g_assert_cmpuint (count_records (coll), ==, 1);
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "1 answer"));
  lk_test_window_close (window);
}


/* Makes @path unwritable even for root (the immutable flag, where the
 * file system has it; plain modes otherwise) or writable again. FALSE if
 * it cannot be done here. */
static gboolean
set_unwritable (const char *path, gboolean unwritable)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int flags = 0;
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = ioctl (fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok)
    {
      flags = unwritable ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
      ok = ioctl (fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
  close (fd);
  if (!ok && geteuid () != 0)
    ok = g_chmod (path, unwritable ? 0444 : 0644) == 0;
  return ok;
}

static void
test_write_fails (void)
{
  g_autofree char *root = lk_test_make_image_tree ("label-write-fails", categories, 6, 20, 20, 12);
  LkWindow *window = lk_test_window_new (32);
  LkLabelView *view = label_view (window);
  g_autofree char *path = NULL;
  const char *error;
  LkCollection *coll;
  Triplet t1, t2;

  open_label_view (window, root);
  coll = lk_session_get_collection (lk_window_get_session (window));
  path = lk_triplets_default_path (coll);
  t1 = wait_triplet (view);
  press (view, "1");
  wait_triplet (view);
  g_assert_cmpuint (count_records (coll), ==, 1);
  g_assert_null (_lk_label_view_get_error (view));
  if (!set_unwritable (path, TRUE))
    {
      lk_test_window_close (window);
      g_test_skip ("cannot make the triplet file unwritable here");
      return;
    }

  /* The answer cannot be written: the bar names the file and why, and
   * the tally counts what the file holds. */
  press (view, "2");
  t2 = wait_triplet (view);
  error = _lk_label_view_get_error (view);
  g_assert_nonnull (error);
  g_test_message ("the Label view shows: %s", error);
  g_assert_nonnull (strstr (error, path));
  g_assert_true (strstr (error, g_strerror (EPERM)) != NULL
                 || strstr (error, g_strerror (EACCES)) != NULL);
  g_assert_cmpuint (_lk_label_view_get_n_answers (view), ==, 1);
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "1 answer"));

  /* Writable again: the next answer is kept, the first one still there. */
  g_assert_true (set_unwritable (path, FALSE));
  press (view, "2");
  wait_triplet (view);
  g_assert_cmpuint (_lk_label_view_get_n_answers (view), ==, 2);
  g_assert_nonnull (strstr (_lk_label_view_get_tally (view), "2 answers"));
  {
    g_autoptr(LkTripletSet) set = read_file (coll);
    guint n;
    const LkTripletRow *rows = lk_triplet_set_get_rows (set, &n);
    g_assert_cmpuint (n, ==, 2);
    check_row (&rows[0], t1, LK_RATING_A);
    check_row (&rows[1], t2, LK_RATING_B);
  }
  lk_test_window_close (window);
}

int
main (int argc, char **argv)
{
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/label/answer-undo-reopen", test_label);
  g_test_add_func ("/ui/label/write-fails", test_write_fails);
  return g_test_run ();
}
