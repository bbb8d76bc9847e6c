/* test-ui-browse.c — the main window and its Browse view on collections
 * the test builds: opening with progress, the sidebar's categories and
 * counts, the grid's items and their thumbnails, filtering by category,
 * the details of an activated image, skipped files, errors that keep the
 * previous collection, cancelling, dropping a folder, the last collection
 * reopened at start (and the fallback when it is gone), and that closing
 * the window frees it, its session and its workers. */
#include "config.h"

#include <glib/gstdio.h>
#include <time.h>
#include <gtk/gtk.h>

#include "lk-browse-view-private.h"
#include "lk-category-item.h"
#include "lk-frame-monitor.h"
#include "lk-image-details-private.h"
#include "lk-image-item.h"
#include "lk-skipped-dialog.h"
#include "lk-thumbnail.h"
#include "lk-window-private.h"
#include "testutil.h"

#define TIMEOUT_S 60

/* Main loop helpers --------------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

static void
wait_until (Condition cond, gpointer data, const char *what)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("Timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
flush_main_loop (void)
{
  for (int i = 0; i < 20; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
}

static gboolean
not_opening (gpointer window)
{
  return !lk_session_get_opening (lk_window_get_session (window));
}

static gboolean
thumbnails_idle (gpointer window)
{
  LkSession *session = lk_window_get_session (window);
  return lk_thumbnailer_get_n_pending (lk_session_get_thumbnailer (session)) == 0;
}

static void
wait_opened (LkWindow *window)
{
  wait_until (not_opening, window, "the collection to open");
  flush_main_loop ();
}

/* The test collection ------------------------------------------------------- */

typedef struct {
  const char *path;
  int w, h;
} Png;

static const Png pngs[] = {
  { "alpha/a1.png", 40, 30 },
  { "alpha/a2.png", 20, 20 },
  { "alpha/a3.png", 64, 48 },
  { "beta/b1.png", 30, 30 },
  { "beta/b2.png", 30, 40 },
  { "beta/sub/b3.png", 16, 16 },
  { "beta/b4.png", 50, 10 },
  { "beta/b5.png", 33, 33 },
  { "gamma/g1.png", 24, 24 },
};

static void
write_text (const char *root, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* alpha (3 images), beta (5, one nested), delta (only a broken file: a
 * category of 0), gamma (1, and a text file); a stray file at the top.
 * Three entries are skipped. */
static char *
make_collection (const char *name)
{
  char *root = lk_test_make_tmpdir (name);
  const char *dirs[] = { "alpha", "beta/sub", "delta", "gamma" };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *d = g_build_filename (root, dirs[i], NULL);
      g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (pngs); i++)
    {
      g_autofree char *p = g_build_filename (root, pngs[i].path, NULL);
      lk_test_write_png (p, pngs[i].w, pngs[i].h, (guint) i);
    }
  write_text (root, "delta/broken.png", "\x89PNG\r\n\x1a\nnot really");
  write_text (root, "gamma/notes.txt", "not an image");
  write_text (root, "stray.png", "outside any category");
  return root;
}

static LkWindow *
new_window (void)
{
  LkWindow *window = g_object_new (LK_TYPE_WINDOW, NULL);

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* Destroys @window and checks that it, its session and its thumbnailer
 * are all freed once the workers have finished. */
static void
close_window (LkWindow *window)
{
  LkSession *session = lk_window_get_session (window);
  LkThumbnailer *thumbnailer = lk_session_get_thumbnailer (session);

  g_object_add_weak_pointer (G_OBJECT (session), (gpointer *) &session);
  g_object_add_weak_pointer (G_OBJECT (thumbnailer), (gpointer *) &thumbnailer);
  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  flush_main_loop ();
  g_assert_finalize_object (window);

  /* A cancelled open or thumbnail request may still be in a worker. */
  for (int i = 0; i < 5000 && (session != NULL || thumbnailer != NULL); i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (session);
  g_assert_null (thumbnailer);
}

/* Finding things ------------------------------------------------------------- */

static LkBrowseView *
browse_view (LkWindow *window)
{
  return _lk_window_get_browse_view (window);
}

static GtkSingleSelection *
sidebar_model (LkWindow *window)
{
  return GTK_SINGLE_SELECTION (gtk_list_view_get_model (_lk_browse_view_get_sidebar (browse_view (window))));
}

static GtkSingleSelection *
grid_model (LkWindow *window)
{
  return GTK_SINGLE_SELECTION (gtk_grid_view_get_model (_lk_browse_view_get_grid (browse_view (window))));
}

static void
select_category (LkWindow *window, guint row)
{
  gtk_single_selection_set_selected (sidebar_model (window), row);
  flush_main_loop ();
}

static void
check_category_row (LkWindow *window, guint row, const char *name, guint count)
{
  g_autoptr(LkCategoryItem) item = g_list_model_get_item (G_LIST_MODEL (sidebar_model (window)), row);

  g_assert_nonnull (item);
  g_assert_cmpstr (lk_category_item_get_name (item), ==, name);
  g_assert_cmpuint (lk_category_item_get_count (item), ==, count);
}

/* The bound thumbnails below @widget (a grid) that are on screen: a grid
 * keeps cells bound well beyond what it shows. */
static void
collect_visible (GtkWidget *grid, GtkWidget *widget, GPtrArray *out)
{
  graphene_rect_t bounds, visible;

  graphene_rect_init (&visible, 0, 0, gtk_widget_get_width (grid), gtk_widget_get_height (grid));
  if (LK_IS_THUMBNAIL (widget) && lk_thumbnail_get_item (LK_THUMBNAIL (widget)) != NULL &&
      gtk_widget_get_mapped (widget) &&
      gtk_widget_compute_bounds (widget, grid, &bounds) &&
      bounds.size.width > 0 && bounds.size.height > 0 &&
      graphene_rect_intersection (&bounds, &visible, NULL))
    g_ptr_array_add (out, widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect_visible (grid, c, out);
}

static void
collect_thumbnails (GtkWidget *grid, GPtrArray *out)
{
  collect_visible (grid, grid, out);
}

/* Thumbnails load when first drawn: wait for every visible cell. */
static gboolean
visible_cells_drawn (gpointer window)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new ();

  collect_thumbnails (GTK_WIDGET (_lk_browse_view_get_grid (_lk_window_get_browse_view (window))), cells);
  if (!thumbnails_idle (window))
    return FALSE;
  for (guint i = 0; i < cells->len; i++)
    if (lk_thumbnail_get_texture (cells->pdata[i]) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
has_texture (gpointer thumbnail)
{
  return lk_thumbnail_get_texture (thumbnail) != NULL;
}

static LkCollection *
collection_of (LkWindow *window)
{
  return lk_session_get_collection (lk_window_get_session (window));
}

/* GTK 4.8's GtkGridView warns "ran out of items" (then "failed to scroll
 * to given position") on some long scroll jumps (its list widgets were
 * rewritten in 4.10); the view is right afterwards, which
 * check_cells_show_their_images() verifies. While scroll_through()
 * runs, those two warnings are printed and counted but not
 * fatal; every other message keeps the test's fatal levels. GTK logs
 * through the structured API, which g_test_log_set_fatal_handler() does
 * not see, so this is a log writer. */
static gboolean tolerating_grid_warnings;
static guint n_gtk_grid_warnings;

static GLogWriterOutput
test_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (tolerating_grid_warnings && (level & G_LOG_LEVEL_WARNING))
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
          (strstr (fields[i].value, "ran out of items") != NULL ||
           strstr (fields[i].value, "GtkGridView failed to scroll to given position") != NULL))
        {
          g_autofree char *line = g_log_writer_format_fields (level, fields, n_fields, FALSE);
          n_gtk_grid_warnings++;
          g_printerr ("%s (known GTK 4.8 warning, tolerated)\n", line);
          return G_LOG_WRITER_HANDLED;
        }
  return g_log_writer_default (level, fields, n_fields, data);
}

/* Scrolls the grid from top to bottom in @steps jumps, one frame each,
 * as dragging the scroll bar through the whole collection would. */
static double
thread_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Returns the main thread's CPU time per step, in ms. */
static double
scroll_through (LkWindow *window, guint steps, LkFrameStats *stats)
{
  double cpu0 = thread_cpu_ms ();
  GtkGridView *grid = _lk_browse_view_get_grid (browse_view (window));
  GtkAdjustment *adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (grid));
  LkFrameMonitor *monitor = lk_frame_monitor_start (GTK_WIDGET (window));

  tolerating_grid_warnings = TRUE;

  for (guint step = 1; step <= steps; step++)
    {
      double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);
      gint64 frame_end = g_get_monotonic_time () + 16000;

      gtk_adjustment_set_value (adj, bottom * step / steps);
      while (g_get_monotonic_time () < frame_end)
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (500);
    }
  lk_frame_monitor_stop (monitor, stats);
  tolerating_grid_warnings = FALSE;
  return (thread_cpu_ms () - cpu0) / steps;
}

/* Every cell on screen shows its own image: each 4×4 block of its
 * texture is the matching pixel of its item's 28×28 tensor. */
static void
check_cells_show_their_images (LkWindow *window)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new ();
  LkCollection *coll = collection_of (window);
  guint8 *px = g_malloc (112 * 112 * 4);

  collect_thumbnails (GTK_WIDGET (_lk_browse_view_get_grid (browse_view (window))), cells);
  g_assert_cmpuint (cells->len, >, 10);
  for (guint i = 0; i < cells->len; i++)
    {
      GdkTexture *texture = lk_thumbnail_get_texture (cells->pdata[i]);
      guint index = lk_image_item_get_index (lk_thumbnail_get_item (cells->pdata[i]));
      const guint8 *tensor = lk_collection_get_image (coll, index);

      g_assert_nonnull (texture);
      g_assert_cmpint (gdk_texture_get_width (texture), ==, 112);
      gdk_texture_download (texture, px, 112 * 4);
      for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
          g_assert_cmpuint (px[((gsize) (4 * y + 1) * 112 + 4 * x + 1) * 4], ==, tensor[y * 28 + x]);
    }
  g_free (px);
}

/* Tests ----------------------------------------------------------------------- */

static gboolean press (GtkWidget *window, const char *accel);

/* Whether the keyboard focus is @widget or inside it. */
static gboolean
focus_within (LkWindow *window, GtkWidget *widget)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

static void
on_image_activated (LkSession *session, guint index, gpointer data)
{
  GArray *seen = data;
  g_array_append_val (seen, index);
}

static void
test_browse_folder (void)
{
  g_autofree char *root = make_collection ("browse");
  g_autofree char *base = g_path_get_basename (root);
  LkWindow *window = new_window ();
  LkSession *session = lk_window_get_session (window);
  LkBrowseView *view = browse_view (window);
  LkImageDetails *details = _lk_browse_view_get_details (view);
  g_autoptr(GArray) activated = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GPtrArray) cells = g_ptr_array_new ();
  g_autoptr(LkImageItem) item = NULL;
  g_autofree char *size_text = NULL;
  LkCollection *coll;
  GStatBuf st;
  guint index;

  g_assert_cmpstr (_lk_window_get_main_page (window), ==, "empty");
  lk_window_open_folder (window, root);
  g_assert_true (lk_session_get_opening (session));
  g_assert_true (_lk_window_get_progress_shown (window));
  g_assert_nonnull (strstr (_lk_window_get_progress_text (window), base));
  wait_opened (window);

  coll = collection_of (window);
  g_assert_nonnull (coll);
  g_assert_false (_lk_window_get_progress_shown (window));
  g_assert_cmpstr (_lk_window_get_main_page (window), ==, "views");
  g_assert_null (_lk_window_get_message (window));
  g_assert_nonnull (strstr (gtk_window_get_title (GTK_WINDOW (window)), base));

  /* The sidebar: all images, then each category with its count. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sidebar_model (window))), ==, 5);
  check_category_row (window, 0, "All images", 9);
  check_category_row (window, 1, "alpha", 3);
  check_category_row (window, 2, "beta", 5);
  check_category_row (window, 3, "delta", 0);
  check_category_row (window, 4, "gamma", 1);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (window)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (grid_model (window))), ==, 9);
  g_assert_cmpstr (_lk_browse_view_get_page (view), ==, "grid");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (_lk_browse_view_get_sidebar (view)),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, "Categories");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (_lk_browse_view_get_grid (view)),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, "Images");

  /* Every cell on screen gets its picture, loaded from the original
   * file: its longer side is the cell's 112 pixels. */
  wait_until (visible_cells_drawn, window, "the thumbnails");
  collect_thumbnails (GTK_WIDGET (_lk_browse_view_get_grid (view)), cells);
  g_assert_cmpuint (cells->len, ==, 9);
  for (guint i = 0; i < cells->len; i++)
    {
      GdkTexture *texture = lk_thumbnail_get_texture (cells->pdata[i]);
      LkImageItem *cell_item = lk_thumbnail_get_item (cells->pdata[i]);
      const char *path = lk_collection_get_path (coll, lk_image_item_get_index (cell_item));
      int w = 0, h = 0;

      g_assert_nonnull (texture);
      for (gsize p = 0; p < G_N_ELEMENTS (pngs); p++)
        if (g_str_equal (pngs[p].path, path))
          {
            w = pngs[p].w;
            h = pngs[p].h;
          }
      g_assert_cmpint (w, >, 0);
      /* What a screen reader says for the cell. */
      gtk_test_accessible_assert_role (GTK_ACCESSIBLE (cells->pdata[i]), GTK_ACCESSIBLE_ROLE_IMG);
      {
        g_autofree char *base_name = g_path_get_basename (path);
        g_autofree char *dir = g_strndup (path, strcspn (path, "/"));
        g_autofree char *label = g_strdup_printf ("%s, in %s", base_name, dir);
        gtk_test_accessible_assert_property (GTK_ACCESSIBLE (cells->pdata[i]),
                                             GTK_ACCESSIBLE_PROPERTY_LABEL, label);
      }
      g_assert_cmpint (MAX (gdk_texture_get_width (texture), gdk_texture_get_height (texture)), ==, 112);
      /* The shape of the original, not the square tensor. */
      g_assert_cmpint (w >= h, ==, gdk_texture_get_width (texture) >= gdk_texture_get_height (texture));
    }

  /* Tab leaves the categories for the images, Shift+Tab comes back:
   * not one row at a time, as GTK 4.8's lists would have it. */
  {
    GtkWidget *sidebar = GTK_WIDGET (_lk_browse_view_get_sidebar (view));
    GtkWidget *grid = GTK_WIDGET (_lk_browse_view_get_grid (view));

    gtk_widget_grab_focus (sidebar);
    g_assert_true (focus_within (window, sidebar));
    g_assert_true (press (sidebar, "Tab"));
    g_assert_true (focus_within (window, grid));
    g_assert_true (press (grid, "<Shift>ISO_Left_Tab"));
    g_assert_true (focus_within (window, sidebar));
  }

  /* Filtering: beta's five images, then delta's empty state. */
  select_category (window, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (grid_model (window))), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(LkImageItem) it = g_list_model_get_item (G_LIST_MODEL (grid_model (window)), i);
      g_assert_cmpstr (lk_image_item_get_category_name (it), ==, "beta");
    }
  select_category (window, 3);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (grid_model (window))), ==, 0);
  g_assert_cmpstr (_lk_browse_view_get_page (view), ==, "empty");
  g_assert_nonnull (strstr (lk_status_page_get_title (_lk_browse_view_get_empty_page (view)), "delta"));

  /* Selecting an image (a click, or an arrow key) activates it. */
  select_category (window, 1);
  g_assert_cmpstr (_lk_browse_view_get_page (view), ==, "grid");
  g_assert_false (_lk_browse_view_get_details_visible (view));
  g_signal_connect (session, "image-activated", G_CALLBACK (on_image_activated), activated);
  gtk_single_selection_set_selected (grid_model (window), 1);
  flush_main_loop ();
  item = gtk_single_selection_get_selected_item (grid_model (window));
  g_object_ref (item);
  index = lk_image_item_get_index (item);
  g_assert_cmpstr (lk_collection_get_path (coll, index), ==, "alpha/a2.png");
  g_assert_cmpint (lk_session_get_activated_image (session), ==, (int) index);
  g_assert_cmpuint (activated->len, ==, 1);
  g_assert_cmpuint (g_array_index (activated, guint, 0), ==, index);

  g_assert_true (_lk_browse_view_get_details_visible (view));
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (details), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Image details");
  g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_NAME), ==, "a2.png");
  g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_CATEGORY), ==, "alpha");
  g_assert_false (_lk_image_details_get_shown (details, LK_DETAILS_SPLIT));
  g_assert_true (_lk_image_details_get_shown (details, LK_DETAILS_CATEGORY));
  g_assert_true (g_str_has_suffix (_lk_image_details_get_text (details, LK_DETAILS_PATH), "/alpha/a2.png"));
  g_assert_true (g_str_has_prefix (_lk_image_details_get_text (details, LK_DETAILS_PATH), root));
  {
    g_autofree char *file = g_build_filename (root, "alpha/a2.png", NULL);
    g_assert_cmpint (g_stat (file, &st), ==, 0);
    size_text = g_format_size ((guint64) st.st_size);
  }
  g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_FILE_SIZE), ==, size_text);
  g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_PIXEL_SIZE), ==, "20 × 20 pixels");
  wait_until (has_texture, _lk_image_details_get_preview (details), "the preview");
  {
    GdkTexture *preview = lk_thumbnail_get_texture (_lk_image_details_get_preview (details));
    g_assert_nonnull (preview);
    g_assert_cmpint (gdk_texture_get_width (preview), ==, 256);
  }

  /* Enter (or a double click) on another image activates it too. */
  g_signal_emit_by_name (_lk_browse_view_get_grid (view), "activate", 2);
  flush_main_loop ();
  g_assert_cmpuint (activated->len, ==, 2);
  g_assert_cmpstr (lk_collection_get_path (coll, g_array_index (activated, guint, 1)), ==, "alpha/a3.png");
  g_assert_cmpuint (gtk_single_selection_get_selected (grid_model (window)), ==, 2);
  g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_NAME), ==, "a3.png");

  /* Escape closes the details; the activated image stays for the other views. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "browse.close-details", NULL));
  flush_main_loop ();
  g_assert_false (_lk_browse_view_get_details_visible (view));
  g_assert_cmpuint (gtk_single_selection_get_selected (grid_model (window)), ==, GTK_INVALID_LIST_POSITION);
  g_assert_cmpint (lk_session_get_activated_image (session), ==, (int) g_array_index (activated, guint, 1));

  /* Back to all images: the activated image is selected there. */
  select_category (window, 0);
  g_assert_cmpuint (gtk_single_selection_get_selected (grid_model (window)), ==,
                    g_array_index (activated, guint, 1));

  /* Three entries were skipped: the banner says so, the dialog lists them. */
  g_assert_nonnull (_lk_window_get_skipped_text (window));
  g_assert_nonnull (strstr (_lk_window_get_skipped_text (window), "3 files"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-skipped", NULL));
  flush_main_loop ();
  {
    GtkWindow *dialog = _lk_window_get_skipped_dialog (window);
    GListModel *rows;
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

    g_assert_nonnull (dialog);
    rows = lk_skipped_dialog_get_model (LK_SKIPPED_DIALOG (dialog));
    g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 3);
    for (guint i = 0; i < 3; i++)
      {
        g_autoptr(GObject) row = g_list_model_get_item (rows, i);
        char *path = NULL, *reason = NULL;
        g_object_get (row, "path", &path, "reason", &reason, NULL);
        g_assert_cmpuint (strlen (reason), >, 0);
        g_free (reason);
        g_ptr_array_add (paths, path);
      }
    g_ptr_array_sort (paths, (GCompareFunc) g_strcmp0);
    g_assert_true (g_ptr_array_find_with_equal_func (paths, "delta/broken.png", g_str_equal, NULL));
    g_assert_true (g_ptr_array_find_with_equal_func (paths, "gamma/notes.txt", g_str_equal, NULL));
    g_assert_true (g_ptr_array_find_with_equal_func (paths, "stray.png", g_str_equal, NULL));
  }

  close_window (window);
}

static void
test_errors_keep_collection (void)
{
  g_autofree char *root = make_collection ("keep");
  g_autofree char *missing = g_build_filename (root, "no-such-folder", NULL);
  g_autofree char *flat = lk_test_make_tmpdir ("flat");
  g_autofree char *flat_file = g_build_filename (flat, "lonely.png", NULL);
  LkWindow *window = new_window ();
  LkCollection *first;

  lk_window_open_folder (window, root);
  wait_opened (window);
  first = collection_of (window);
  g_assert_nonnull (first);

  lk_window_open_folder (window, missing);
  wait_opened (window);
  g_assert_true (collection_of (window) == first);
  g_assert_nonnull (_lk_window_get_message (window));
  g_assert_nonnull (strstr (_lk_window_get_message (window), missing));
  g_assert_cmpint (_lk_window_get_message_type (window), ==, GTK_MESSAGE_ERROR);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (grid_model (window))), ==, 9);

  /* A folder without category folders. */
  lk_test_write_png (flat_file, 8, 8, 1);
  lk_window_open_folder (window, flat);
  wait_opened (window);
  g_assert_true (collection_of (window) == first);
  g_assert_nonnull (strstr (_lk_window_get_message (window), "no category folders"));

  /* The next successful open clears the message. */
  lk_window_open_folder (window, root);
  wait_opened (window);
  g_assert_null (_lk_window_get_message (window));

  close_window (window);
}

static void
test_cancel (void)
{
  g_autofree char *root = make_collection ("first");
  g_autofree char *other = make_collection ("second");
  LkWindow *window = new_window ();
  LkCollection *first;

  lk_window_open_folder (window, root);
  wait_opened (window);
  first = collection_of (window);

  /* Cancelled before the worker can finish: the first collection stays,
   * and a cancel is no error. */
  lk_window_open_folder (window, other);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-open", NULL));
  wait_opened (window);
  g_assert_true (collection_of (window) == first);
  g_assert_null (_lk_window_get_message (window));
  g_assert_false (_lk_window_get_progress_shown (window));

  /* Closing the window in the middle of an open stops it and frees all. */
  lk_window_open_folder (window, other);
  close_window (window);
}

static gboolean
drop_files (LkWindow *window, GFile *file)
{
  g_auto(GValue) value = G_VALUE_INIT;
  GSList *files = g_slist_prepend (NULL, file);
  gboolean accepted = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (files));
  g_slist_free (files);
  g_signal_emit_by_name (_lk_window_get_drop_target (window), "drop", &value, 10.0, 10.0, &accepted);
  return accepted;
}

static void
test_drop (void)
{
  g_autofree char *root = make_collection ("dropped");
  g_autofree char *png = g_build_filename (root, "alpha", "a1.png", NULL);
  g_autofree char *txt = g_build_filename (root, "gamma", "notes.txt", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (root);
  g_autoptr(GFile) file = g_file_new_for_path (png);
  g_autoptr(GFile) text = g_file_new_for_path (txt);
  LkWindow *window = new_window ();

  g_assert_true (drop_files (window, folder));
  wait_opened (window);
  g_assert_nonnull (collection_of (window));
  g_assert_cmpstr (lk_collection_get_root (collection_of (window)), ==, root);

  /* An image file is a query: the Query view shows it. */
  g_assert_true (drop_files (window, file));
  g_assert_false (lk_session_get_opening (lk_window_get_session (window)));
  g_assert_cmpstr (lk_session_get_activated_file (lk_window_get_session (window)), ==, png);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (_lk_window_get_views (window)), ==, "query");
  g_assert_null (_lk_window_get_message (window));

  /* Neither a folder nor an image: refused, with a word why. */
  g_assert_false (drop_files (window, text));
  g_assert_false (lk_session_get_opening (lk_window_get_session (window)));
  g_assert_nonnull (strstr (_lk_window_get_message (window), "notes.txt"));
  g_assert_cmpint (_lk_window_get_message_type (window), ==, GTK_MESSAGE_WARNING);

  close_window (window);
}

static void
test_last_collection (void)
{
  g_autofree char *root = make_collection ("remembered");
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  const char *fmnist;
  LkWindow *window = new_window ();
  LkCollection *coll;
  guint sum = 0;

  lk_window_open_folder (window, root);
  wait_opened (window);
  close_window (window);
  {
    g_autofree char *last = g_settings_get_string (settings, "last-collection");
    g_assert_cmpstr (last, ==, root);
  }

  /* The next start reopens it. */
  window = new_window ();
  lk_window_open_initial (window);
  wait_opened (window);
  g_assert_cmpstr (lk_collection_get_root (collection_of (window)), ==, root);
  g_assert_null (_lk_window_get_message (window));
  close_window (window);

  /* Gone: the built-in collection, and a message saying why. */
  fmnist = lk_test_fashion_mnist_dir ();
  if (fmnist == NULL)
    return;
  lk_test_rm_rf (root);
  window = new_window ();
  lk_session_set_builtin_dir (lk_window_get_session (window), fmnist);
  lk_window_open_initial (window);
  wait_opened (window);
  coll = collection_of (window);
  g_assert_nonnull (coll);
  g_assert_true (lk_collection_is_builtin (coll));
  g_assert_nonnull (_lk_window_get_message (window));
  g_assert_nonnull (strstr (_lk_window_get_message (window), "no longer there"));
  g_assert_cmpint (_lk_window_get_message_type (window), ==, GTK_MESSAGE_WARNING);
  {
    g_autofree char *last = g_settings_get_string (settings, "last-collection");
    g_assert_cmpstr (last, ==, "");
  }

  /* Fashion-MNIST in the Browse view: 70,000 images, 7,000 per category. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sidebar_model (window))), ==, 11);
  check_category_row (window, 0, "All images", 70000);
  check_category_row (window, 1, "T-shirt/top", 7000);
  check_category_row (window, 10, "Ankle boot", 7000);
  for (guint row = 1; row <= 10; row++)
    {
      g_autoptr(LkCategoryItem) item = g_list_model_get_item (G_LIST_MODEL (sidebar_model (window)), row);
      sum += lk_category_item_get_count (item);
    }
  g_assert_cmpuint (sum, ==, 70000);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (grid_model (window))), ==, 70000);
  select_category (window, 8);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (grid_model (window))), ==, 7000);
  {
    g_autoptr(LkImageItem) it = g_list_model_get_item (G_LIST_MODEL (grid_model (window)), 6999);
    g_assert_cmpstr (lk_image_item_get_category_name (it), ==, "Sneaker");
    g_assert_true (lk_collection_get_split (coll, lk_image_item_get_index (it)) == LK_SPLIT_TEST);
  }
  /* The built-in collection's images have a split, and the details say which. */
  gtk_single_selection_set_selected (grid_model (window), 6999);
  flush_main_loop ();
  {
    LkImageDetails *details = _lk_browse_view_get_details (browse_view (window));
    g_assert_true (_lk_image_details_get_shown (details, LK_DETAILS_SPLIT));
    g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_SPLIT), ==, "Test");
    gtk_single_selection_set_selected (grid_model (window), 0);
    flush_main_loop ();
    g_assert_cmpstr (_lk_image_details_get_text (details, LK_DETAILS_SPLIT), ==, "Training");
  }

  /* A flick through all 70,000: cells are recycled, stale requests
   * dropped, and where it stops every cell shows its own image. */
  select_category (window, 0);
  {
    LkFrameStats stats;
    double cpu = scroll_through (window, 100, &stats);
    g_test_message ("Scrolling through 70,000 images in 100 jumps: %u frames, worst interval "
                    "%.1f ms, mean %.1f ms, main-thread CPU %.1f ms per jump (GTK grid "
                    "warnings: %u)", stats.n_frames, stats.worst_ms, stats.mean_ms, cpu,
                    n_gtk_grid_warnings);
  }
  wait_until (visible_cells_drawn, window, "the thumbnails");
  check_cells_show_their_images (window);
  close_window (window);
}

/* The window's size is saved when it closes and used by the next one. */
static void
test_window_state (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  LkWindow *window = g_object_new (LK_TYPE_WINDOW, NULL);
  int width, height;

  gtk_window_set_default_size (GTK_WINDOW (window), 900, 610);
  gtk_window_present (GTK_WINDOW (window));
  flush_main_loop ();
  g_object_ref (window);
  gtk_window_close (GTK_WINDOW (window));
  flush_main_loop ();
  g_assert_finalize_object (window);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 900);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 610);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));

  window = new_window ();
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 610);
  close_window (window);
  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

/* Finds the window's shortcut for @accel and runs its action, as the key
 * press would. */
static gboolean
press (GtkWidget *window, const char *accel)
{
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (window);

  for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, c);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (controller)); i++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), i);
          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted))
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut),
                                                 GTK_SHORTCUT_ACTION_EXCLUSIVE, window,
                                                 gtk_shortcut_get_arguments (shortcut));
        }
    }
  return FALSE;
}

/* The application's accelerators reach the window's actions, and its
 * window has the shortcuts window. */
static void
test_accelerators (void)
{
  g_autoptr(LkApplication) app = lk_application_new ();
  g_autoptr(GError) error = NULL;
  LkWindow *window;
  GtkShortcutsWindow *overlay;

  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = lk_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  flush_main_loop ();

  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  g_assert_true (press (GTK_WIDGET (window), "<Control>question"));
  flush_main_loop ();
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  gtk_widget_set_visible (GTK_WIDGET (overlay), FALSE);

  g_assert_null (window->chooser);
  g_assert_true (press (GTK_WIDGET (window), "<Control>o"));
  g_assert_nonnull (window->chooser);
  gtk_native_dialog_hide (window->chooser);

  g_assert_true (press (GTK_WIDGET (window), "<Alt>1"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (_lk_window_get_views (window)), ==, "browse");

  /* Ctrl+W closes the window (saving its state), and it is freed. */
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  g_assert_true (press (GTK_WIDGET (window), "<Control>w"));
  flush_main_loop ();
  g_assert_null (window);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
}

static void
test_shortcuts_window (void)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/app/likeness/Likeness/gtk/help-overlay.ui");
  GObject *overlay = gtk_builder_get_object (builder, "help_overlay");

  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));
  gtk_window_destroy (GTK_WINDOW (overlay));
}

int
main (int argc, char **argv)
{
  g_log_set_writer_func (test_log_writer, NULL, NULL);
  lk_test_init (&argc, &argv);
  /* GTK's test accessibility backend: no session bus needed, and the
   * accessible names and roles can be checked. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_test_add_func ("/ui/browse/folder", test_browse_folder);
  g_test_add_func ("/ui/browse/errors-keep-collection", test_errors_keep_collection);
  g_test_add_func ("/ui/browse/cancel", test_cancel);
  g_test_add_func ("/ui/window/drop", test_drop);
  g_test_add_func ("/ui/window/last-collection", test_last_collection);
  g_test_add_func ("/ui/window/state", test_window_state);
  g_test_add_func ("/ui/window/accelerators", test_accelerators);
  g_test_add_func ("/ui/window/shortcuts", test_shortcuts_window);
  return g_test_run ();
}
