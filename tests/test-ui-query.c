/* test-ui-query.c — the Query view on a generated collection: an image
 * activated in Browse gets its k nearest neighbours (themselves held to
 * the naive search on the same rows: ascending distances, the query left
 * out), a neighbour clicked becomes the query, another source ranks,
 * two sources side by side, the same category only, an image file from
 * outside the collection; and, in the slow suite, the time from a click
 * to the results on Fashion-MNIST's 70,000 images. */
#include "config.h"

#include <math.h>

#include "embeddings.h"
#include "lk-browse-view-private.h"
#include "lk-frame-monitor.h"
#include "lk-neighbour-item.h"
#include "lk-query-view-private.h"
#include "lk-source-dropdown.h"
#include "lk-window-private.h"
#include "testutil-gtk.h"
#include "testutil.h"

static const char *const categories[] = { "apples", "pears", "plums", NULL };
#define PER_CATEGORY 6
#define N_IMAGES (3 * PER_CATEGORY)

static LkQueryView *
query_view (LkWindow *window)
{
  GtkWidget *page = gtk_stack_get_child_by_name (_lk_window_get_views (window), "query");
  g_assert_true (LK_IS_QUERY_VIEW (page));
  return LK_QUERY_VIEW (page);
}

static LkCollection *
collection_of (LkWindow *window)
{
  return lk_session_get_collection (lk_window_get_session (window));
}

/* The view answered a query after @since answers, and nothing is left to do. */
typedef struct {
  LkQueryView *view;
  guint        since;
} Answer;

static gboolean
answered (gpointer data)
{
  Answer *a = data;
  return _lk_query_view_get_n_answered (a->view) > a->since && !lk_query_view_get_busy (a->view);
}

static void
wait_answer (LkQueryView *view, guint since)
{
  Answer a = { view, since };
  lk_test_wait_until (answered, &a, "the neighbours");
  lk_test_flush_main_loop ();
}

static LkEmbedding *
rows_of (LkCollection *coll, const char *source)
{
  g_autoptr(GError) error = NULL;
  LkEmbedding *emb = lk_embedding_source_load (coll, source, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return emb;
}

/* A neighbour's caption is "RANK · DISTANCE", the distance to four
 * significant digits, trailing zeros kept: every caption in a grid is
 * equally precise. */
static void
check_caption (LkNeighbourItem *item)
{
  g_autofree char *caption = lk_neighbour_item_dup_caption (item);
  g_autofree char *rank = g_strdup_printf ("%u · ", lk_neighbour_item_get_rank (item));
  float d = lk_neighbour_item_get_distance (item);
  const char *num;
  guint digits = 0;

  g_assert_true (g_str_has_prefix (caption, rank));
  num = caption + strlen (rank);
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (num, NULL), d, 5e-4 * d + 1e-30);
  if (d > 0)
    {
      /* The significant digits: after leading zeros, before any exponent. */
      const char *c = num;
      while (*c == '0' || *c == '.')
        c++;
      for (; *c != '\0' && *c != 'e'; c++)
        digits += g_ascii_isdigit (*c);
      g_assert_cmpuint (digits, ==, 4);
    }
}

/* The grid of @side holds the k nearest of @query by @source, nearest
 * first, as the naive search over the stored rows finds them. */
static void
check_neighbours (LkWindow *window, guint side, const char *source, const float *query,
                  int exclude, gint category, guint k)
{
  LkCollection *coll = collection_of (window);
  g_autoptr(LkEmbedding) emb = rows_of (coll, source);
  LkNeighbourGrid *grid = _lk_query_view_get_grid (query_view (window), side);
  GListModel *model = lk_neighbour_grid_get_model (grid);
  g_autofree LkNeighbour *want = g_new (LkNeighbour, k);
  guint n = lk_search_naive (lk_embedding_get_data (emb), lk_embedding_get_n (emb),
                             lk_embedding_get_dim (emb), NULL, 0, lk_collection_get_labels (coll),
                             LK_METRIC_L2, query, k, category,
                             exclude >= 0 ? (guint32) exclude : LK_SEARCH_NO_EXCLUDE, want);

  g_assert_cmpstr (lk_neighbour_grid_get_title (grid), ==, lk_embedding_get_label (emb));
  g_assert_null (lk_neighbour_grid_get_message (grid));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LkNeighbourItem) item = g_list_model_get_item (model, i);
      float d = lk_neighbour_item_get_distance (item);

      g_assert_cmpuint (lk_neighbour_item_get_rank (item), ==, i + 1);
      g_assert_cmpuint (lk_neighbour_item_get_index (item), ==, want[i].id);
      g_assert_cmpfloat_with_epsilon (d, want[i].distance, 1e-5 * (1 + want[i].distance));
      check_caption (item);
      g_assert_cmpint ((int) lk_neighbour_item_get_index (item), !=, exclude);
      if (i > 0)
        {
          g_autoptr(LkNeighbourItem) prev = g_list_model_get_item (model, i - 1);
          g_assert_cmpfloat (lk_neighbour_item_get_distance (prev), <=, d);
        }
      if (category >= 0)
        g_assert_cmpuint (lk_collection_get_label (coll, lk_neighbour_item_get_index (item)), ==,
                          (guint) category);
    }
}

static void
check_image_neighbours (LkWindow *window, guint side, const char *source, guint image,
                        gboolean same_category, guint k)
{
  LkCollection *coll = collection_of (window);
  g_autoptr(LkEmbedding) emb = rows_of (coll, source);

  check_neighbours (window, side, source, lk_embedding_get_row (emb, image), (int) image,
                    same_category ? (gint) lk_collection_get_label (coll, image)
                                  : LK_SEARCH_ANY_CATEGORY, k);
}

static void
select_source (LkQueryView *view, guint side, const char *name)
{
  g_assert_true (lk_source_dropdown_select (_lk_query_view_get_source_dropdown (view, side), name));
}

static gboolean
sources_listed (gpointer window)
{
  LkSession *session = lk_window_get_session (window);
  return lk_search_service_get_sources_listed (lk_session_get_search_service (session));
}

static void
test_query (void)
{
  g_autofree char *root = lk_test_make_image_tree ("query", categories, PER_CATEGORY, 20, 20, 3);
  g_autofree char *outside_dir = lk_test_make_tmpdir ("outside");
  g_autofree char *outside = g_build_filename (outside_dir, "visitor.png", NULL);
  LkWindow *window = lk_test_window_new (32);
  LkSession *session = lk_window_get_session (window);
  LkQueryView *view = query_view (window);
  GtkSingleSelection *browse;
  guint n, image;

  lk_test_window_open (window, root);
  lk_test_wait_until (sources_listed, window, "the sources");
  lk_window_show_view (window, "query");
  lk_test_flush_main_loop ();
  g_assert_cmpstr (_lk_query_view_get_page (view), ==, "empty");
  gtk_spin_button_set_value (_lk_query_view_get_k_spin (view), 5);

  /* An image selected in Browse is the query: its 5 nearest by golden
   * features, the image itself left out. */
  browse = GTK_SINGLE_SELECTION (gtk_grid_view_get_model (
    _lk_browse_view_get_grid (_lk_window_get_browse_view (window))));
  n = _lk_query_view_get_n_answered (view);
  gtk_single_selection_set_selected (browse, 7);
  image = (guint) lk_session_get_activated_image (session);
  wait_answer (view, n);
  g_assert_cmpstr (_lk_query_view_get_page (view), ==, "results");
  check_image_neighbours (window, 0, "golden", image, FALSE, 5);
  g_test_message ("First query (golden rows computed and indexed): %.1f ms",
                  _lk_query_view_get_latency_ms (view));
  {
    g_autoptr(LkImageItem) item = lk_image_item_new (collection_of (window), image);
    g_autofree char *name = lk_image_item_dup_display_name (item);
    g_assert_cmpstr (_lk_query_view_get_query_name (view), ==, name);
  }

  /* A neighbour clicked becomes the query. */
  {
    GListModel *model = lk_neighbour_grid_get_model (_lk_query_view_get_grid (view, 0));
    g_autoptr(LkNeighbourItem) third = g_list_model_get_item (model, 2);
    guint next = lk_neighbour_item_get_index (third);

    n = _lk_query_view_get_n_answered (view);
    g_signal_emit_by_name (lk_neighbour_grid_get_grid (_lk_query_view_get_grid (view, 0)),
                           "activate", 2);
    g_assert_cmpint (lk_session_get_activated_image (session), ==, (int) next);
    wait_answer (view, n);
    check_image_neighbours (window, 0, "golden", next, FALSE, 5);
    g_test_message ("A neighbour clicked, index ready: %.1f ms to the results",
                    _lk_query_view_get_latency_ms (view));
    image = next;
  }

  /* Another source ranks. */
  n = _lk_query_view_get_n_answered (view);
  select_source (view, 0, "pixels");
  wait_answer (view, n);
  check_image_neighbours (window, 0, "pixels", image, FALSE, 5);

  /* Two side by side: pixels and HOG. */
  n = _lk_query_view_get_n_answered (view);
  select_source (view, 1, "hog");
  gtk_check_button_set_active (_lk_query_view_get_compare_check (view), TRUE);
  wait_answer (view, n);
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (
    GTK_WIDGET (_lk_query_view_get_grid (view, 1)))));
  check_image_neighbours (window, 0, "pixels", image, FALSE, 5);
  check_image_neighbours (window, 1, "hog", image, FALSE, 5);

  /* The same category only, with more neighbours than it has. */
  n = _lk_query_view_get_n_answered (view);
  gtk_spin_button_set_value (_lk_query_view_get_k_spin (view), 10);
  gtk_check_button_set_active (_lk_query_view_get_category_check (view), TRUE);
  wait_answer (view, n);
  check_image_neighbours (window, 0, "pixels", image, TRUE, 10);
  check_image_neighbours (window, 1, "hog", image, TRUE, 10);
  g_assert_cmpuint (g_list_model_get_n_items (lk_neighbour_grid_get_model (
                      _lk_query_view_get_grid (view, 0))), ==, PER_CATEGORY - 1);

  /* An image file from outside: each source embeds it; no image is left
   * out and no category applies. */
  gtk_check_button_set_active (_lk_query_view_get_compare_check (view), FALSE);
  lk_test_write_png (outside, 24, 18, 777);
  n = _lk_query_view_get_n_answered (view);
  lk_session_activate_file (session, outside);
  wait_answer (view, n);
  g_assert_cmpstr (_lk_query_view_get_query_name (view), ==, "visitor.png");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (_lk_query_view_get_category_check (view))));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkEmbedder) embedder = lk_embedder_new_for_source (collection_of (window), "pixels",
                                                                 &error);
    g_autofree float *q = g_new (float, lk_embedder_get_dim (embedder));
    g_assert_no_error (error);
    g_assert_true (lk_embedder_embed_file (embedder, collection_of (window), outside, q, &error));
    g_assert_no_error (error);
    check_neighbours (window, 0, "pixels", q, -1, LK_SEARCH_ANY_CATEGORY, 10);
  }

  /* A file that is no image: the list says why. */
  {
    g_autofree char *junk = g_build_filename (outside_dir, "junk.png", NULL);
    g_file_set_contents (junk, "not an image", -1, NULL);
    n = _lk_query_view_get_n_answered (view);
    lk_session_activate_file (session, junk);
    wait_answer (view, n);
    g_assert_nonnull (lk_neighbour_grid_get_message (_lk_query_view_get_grid (view, 0)));
  }

  /* The accessible names of the controls that have no visible label. */
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (_lk_query_view_get_source_dropdown (view, 1)),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, "Second source");
  lk_test_window_close (window);
}

static gboolean
painted (gpointer view)
{
  return _lk_query_view_get_paint_latency_ms (view) > 0;
}

static gboolean
golden_ready (gpointer session)
{
  return lk_search_service_lookup (lk_session_get_search_service (session), "golden") != NULL;
}

static void
check_view_focus (LkWindow *window, const char *name)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
  GtkWidget *view = gtk_stack_get_visible_child (_lk_window_get_views (window));

  if (focus == NULL || !gtk_widget_is_ancestor (focus, view))
    g_error ("Shown with the focus on a Browse image, the %s view does not have it", name);
  if (GTK_IS_LABEL (focus))
    g_error ("Shown with the focus on a Browse image, the %s view gives it to the label “%s”",
             name, gtk_label_get_text (GTK_LABEL (focus)));
}

/* A view switched to with the focus on a Browse image, as after a click
 * there and Alt+2, has the focus on one of its controls: the Query view
 * gave it to the query's selectable name, with all its text selected. */
static void
test_view_focus (void)
{
  static const char *const views[] = { "query", "training", "buffers", "label", "evaluate" };
  g_autofree char *root = lk_test_make_image_tree ("view-focus", categories, PER_CATEGORY, 20, 20, 5);
  LkWindow *window = lk_test_window_new (32);
  LkQueryView *view = query_view (window);
  GtkWidget *grid = GTK_WIDGET (_lk_browse_view_get_grid (_lk_window_get_browse_view (window)));
  guint n;

  lk_test_window_open (window, root);
  lk_test_wait_until (sources_listed, window, "the sources");
  n = _lk_query_view_get_n_answered (view);
  gtk_single_selection_set_selected (GTK_SINGLE_SELECTION (gtk_grid_view_get_model (GTK_GRID_VIEW (grid))), 2);
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      g_assert_true (gtk_widget_child_focus (grid, GTK_DIR_TAB_FORWARD));
      g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)), grid));
      lk_window_show_view (window, views[i]);
      if (i == 0)
        wait_answer (view, n);
      check_view_focus (window, views[i]);
      lk_test_flush_main_loop ();
      check_view_focus (window, views[i]);
      lk_window_show_view (window, "browse");
      lk_test_flush_main_loop ();
    }
  lk_test_window_close (window);
}

/* A window on the built-in collection (@dir) with the Query view shown. */
static LkWindow *
open_fashion_mnist (const char *dir)
{
  LkWindow *window = lk_test_window_new (0);
  LkSession *session = lk_window_get_session (window);

  lk_session_set_builtin_dir (session, dir);
  lk_window_open_folder (window, NULL);
  while (lk_session_get_collection (session) == NULL)
    g_main_context_iteration (NULL, TRUE);
  lk_window_show_view (window, "query");
  return window;
}

/* The time from a click to the results, on the built-in collection:
 * the golden index is built first (seconds, with progress), then clicks
 * on neighbours are timed; then the window is opened again and the
 * first click timed once the stored rows are loaded, which the Query
 * view starts when shown. Drawn with the cairo renderer (see main()). */
static void
test_fashion_mnist_latency (void)
{
  const char *dir;
  LkWindow *window;
  LkSession *session;
  LkQueryView *view;
  double sum = 0, worst = 0, paint_sum = 0, paint_worst = 0, search_sum = 0;
  const guint clicks = 20;
  guint n;

  if (!g_test_slow ())
    {
      g_test_skip ("70,000 images: in the slow suite (-m slow)");
      return;
    }
  dir = lk_test_fashion_mnist_dir ();
  if (dir == NULL)
    return;
  window = open_fashion_mnist (dir);
  session = lk_window_get_session (window);
  view = query_view (window);
  lk_test_flush_main_loop ();

  n = _lk_query_view_get_n_answered (view);
  lk_session_activate_image (session, 60000);
  {
    gint64 t0 = g_get_monotonic_time ();
    gboolean seen_progress = FALSE;
    Answer a = { view, n };
    LkFrameMonitor *frames = lk_frame_monitor_start (GTK_WIDGET (window));
    LkFrameStats stats;

    while (!answered (&a))
      {
        g_main_context_iteration (NULL, TRUE);
        seen_progress |= _lk_query_view_get_progress_shown (view);
      }
    lk_frame_monitor_stop (frames, &stats);
    g_assert_true (seen_progress);
    g_test_message ("Fashion-MNIST: golden features computed, stored and indexed in %.1f s; "
                    "meanwhile the window drew %u frames, the longest interval %.1f ms, mean "
                    "%.1f ms", (g_get_monotonic_time () - t0) / 1e6, stats.n_frames,
                    stats.worst_ms, stats.mean_ms);
  }
  check_image_neighbours (window, 0, "golden", 60000, FALSE, 30);

  for (guint c = 0; c < clicks; c++)
    {
      double ms;
      n = _lk_query_view_get_n_answered (view);
      g_signal_emit_by_name (lk_neighbour_grid_get_grid (_lk_query_view_get_grid (view, 0)),
                             "activate", 1 + c % 5);
      wait_answer (view, n);
      ms = _lk_query_view_get_latency_ms (view);
      search_sum += _lk_query_view_get_search_ms (view);
      sum += ms;
      worst = MAX (worst, ms);
      /* And to the frame that shows them. */
      lk_test_wait_until (painted, view, "the results drawn");
      paint_sum += _lk_query_view_get_paint_latency_ms (view);
      paint_worst = MAX (paint_worst, _lk_query_view_get_paint_latency_ms (view));
    }
  g_test_message ("Fashion-MNIST, golden features (70,000 × 832), top 30, over %u clicks: "
                  "click to results in the grid %.1f ms on average (%.1f ms of it searching in "
                  "the worker), %.1f ms at worst; to the frame drawn with them %.1f ms on "
                  "average, %.1f ms at worst", clicks, sum / clicks, search_sum / clicks, worst,
                  paint_sum / clicks, paint_worst);
  lk_test_window_close (window);

  /* Opened again: shown with no query, the view loads the stored rows,
   * and the first click is one like the others. */
  {
    gint64 t0 = g_get_monotonic_time ();
    double loaded_ms, first_ms;

    window = open_fashion_mnist (dir);
    session = lk_window_get_session (window);
    view = query_view (window);
    lk_test_wait_until (golden_ready, session, "the stored golden features to load");
    loaded_ms = (g_get_monotonic_time () - t0) / 1e3;
    n = _lk_query_view_get_n_answered (view);
    lk_session_activate_image (session, 60000);
    wait_answer (view, n);
    first_ms = _lk_query_view_get_latency_ms (view);
    lk_test_wait_until (painted, view, "the results drawn");
    g_test_message ("Fashion-MNIST opened again: the stored golden features loaded and indexed "
                    "%.0f ms after the window opened on the Query view, with no query; then "
                    "the first click to results %.1f ms, to the frame %.1f ms", loaded_ms,
                    first_ms, _lk_query_view_get_paint_latency_ms (view));
    g_assert_cmpfloat (_lk_query_view_get_search_ms (view), <, 1000);
    lk_test_window_close (window);
  }
}

int
main (int argc, char **argv)
{
  /* Frame and latency figures measure the app's main loop: under Xvfb
   * GTK's GL renderer runs on llvmpipe, whose drawing on the main thread
   * (shader compilation, software rasterising; 50–100 ms a frame here on
   * a loaded machine) delays the results' callback behind the previous
   * frame, so these tests draw with the cairo renderer, as the Training
   * tests do. GSK_RENDERER=gl in the environment measures llvmpipe. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  lk_test_gtk_init (&argc, &argv);
  g_test_add_func ("/ui/query/neighbours", test_query);
  g_test_add_func ("/ui/query/view-focus", test_view_focus);
  g_test_add_func ("/ui/query/fashion-mnist-latency", test_fashion_mnist_latency);
  return g_test_run ();
}
