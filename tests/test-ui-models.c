/* test-ui-models.c — the app's parts below the widgets: the lazy image
 * list (filtering, positions, change signals), the progress relay
 * (coalescing, the last value wins, silence after close), the texture
 * makers (exact pixels from the tensor, aspect and limits from files),
 * and the thumbnailer (async results, the cache, cancellation). */
#include "config.h"

#include <gtk/gtk.h>

#include "error.h"
#include "lk-image-item.h"
#include "lk-image-list.h"
#include "lk-progress-relay.h"
#include "lk-session.h"
#include "lk-thumbnailer-private.h"
#include "testutil.h"

/* categories: a (2 images), b (3), c (none: only a broken file) */
static LkCollection *
open_small_collection (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("models");
  const char *files[] = { "a/1.png", "b/1.png", "a/2.png", "b/2.png", "b/3.png" };
  g_autoptr(GError) error = NULL;
  LkCollection *coll;

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (root, files[i], NULL);
      g_autofree char *d = g_path_get_dirname (p);
      g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
      lk_test_write_png (p, 10 + (int) i, 12, (guint) i);
    }
  {
    g_autofree char *d = g_build_filename (root, "c", NULL);
    g_autofree char *p = g_build_filename (d, "x.png", NULL);
    g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
    g_file_set_contents (p, "junk", -1, &error);
    g_assert_no_error (error);
  }
  coll = lk_collection_open_folder (root, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return coll;
}

typedef struct {
  guint calls;
  guint removed;
  guint added;
} Changes;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Changes *c)
{
  g_assert_cmpuint (position, ==, 0);
  c->calls++;
  c->removed = removed;
  c->added = added;
}

static void
test_image_list (void)
{
  g_autoptr(LkCollection) coll = open_small_collection ();
  g_autoptr(LkImageList) list = lk_image_list_new ();
  GListModel *model = G_LIST_MODEL (list);
  Changes changes = { 0 };
  guint n = lk_collection_get_n_images (coll);
  guint position, previous = 0;

  g_assert_cmpuint (n, ==, 5);
  g_assert_true (g_list_model_get_item_type (model) == LK_TYPE_IMAGE_ITEM);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_null (g_list_model_get_item (model, 0));
  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed), &changes);

  lk_image_list_set_collection (list, coll);
  g_assert_cmpuint (changes.calls, ==, 1);
  g_assert_cmpuint (changes.added, ==, 5);
  /* All images: the collection's own order. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LkImageItem) item = g_list_model_get_item (model, i);
      g_assert_cmpuint (lk_image_item_get_index (item), ==, i);
      g_assert_true (lk_image_item_get_collection (item) == coll);
      g_assert_true (lk_image_list_find (list, i, &position));
      g_assert_cmpuint (position, ==, i);
    }
  g_assert_null (g_list_model_get_item (model, n));

  /* One category: its images only, ascending, and positions round-trip. */
  lk_image_list_set_category (list, 1);
  g_assert_cmpuint (changes.calls, ==, 2);
  g_assert_cmpuint (changes.removed, ==, 5);
  g_assert_cmpuint (changes.added, ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  for (guint p = 0; p < 3; p++)
    {
      g_autoptr(LkImageItem) item = g_list_model_get_item (model, p);
      guint index = lk_image_item_get_index (item);
      g_assert_cmpstr (lk_image_item_get_category_name (item), ==, "b");
      g_assert_cmpuint (lk_image_list_get_image (list, p), ==, index);
      g_assert_true (p == 0 || index > previous);
      g_assert_true (lk_image_list_find (list, index, &position));
      g_assert_cmpuint (position, ==, p);
      previous = index;
    }
  for (guint i = 0; i < n; i++)
    if (lk_collection_get_label (coll, i) != 1)
      g_assert_false (lk_image_list_find (list, i, NULL));
  g_assert_false (lk_image_list_find (list, n, NULL));

  /* The empty category. */
  lk_image_list_set_category (list, 2);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_cmpuint (changes.removed, ==, 3);
  g_assert_cmpuint (changes.added, ==, 0);

  /* The same category again changes nothing; a new collection starts at
   * all images; no collection empties the list. */
  lk_image_list_set_category (list, 2);
  g_assert_cmpuint (changes.calls, ==, 3);
  lk_image_list_set_collection (list, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_cmpint (lk_image_list_get_category (list), ==, LK_IMAGE_LIST_ALL);
}

/* Progress relay --------------------------------------------------------------- */

typedef struct {
  guint calls;
  guint last_done;
  guint last_total;
  char *last_phase;
} Seen;

static void
on_progress (const char *phase, guint done, guint total, gpointer data)
{
  Seen *seen = data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  seen->calls++;
  seen->last_done = done;
  seen->last_total = total;
  g_free (seen->last_phase);
  seen->last_phase = g_strdup (phase);
}

static gpointer
post_many (gpointer relay)
{
  for (guint i = 1; i <= 100000; i++)
    lk_progress_relay_post (relay, i <= 50000 ? "Listing" : "Decoding", i, 100000);
  return NULL;
}

static void
test_progress_relay (void)
{
  Seen seen = { 0 };
  g_autoptr(LkProgressRelay) relay = lk_progress_relay_new (on_progress, &seen);
  GThread *thread = g_thread_new ("poster", post_many, relay);
  gint64 end;

  g_thread_join (thread);
  /* Nothing is delivered from the worker's thread: only the main loop does. */
  g_assert_cmpuint (seen.calls, ==, 0);
  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end && seen.last_done != 100000)
    g_main_context_iteration (NULL, TRUE);
  /* 100,000 posts from a fast loop arrive as a handful of deliveries,
   * the last of them the final value. */
  g_assert_cmpuint (seen.calls, >=, 1);
  g_assert_cmpuint (seen.calls, <, 100);
  g_assert_cmpuint (seen.last_done, ==, 100000);
  g_assert_cmpuint (seen.last_total, ==, 100000);
  g_assert_cmpstr (seen.last_phase, ==, "Decoding");

  /* After close: posts are dropped, and one already scheduled is not
   * delivered either. */
  lk_progress_relay_post (relay, NULL, 7, 9);
  lk_progress_relay_close (relay);
  lk_progress_relay_post (relay, NULL, 8, 9);
  end = g_get_monotonic_time () + 200 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (seen.last_done, ==, 100000);
  g_free (seen.last_phase);
}

/* Texture makers ---------------------------------------------------------------- */

static guint8 *
download (GdkTexture *texture, gsize *stride)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  guint8 *data;

  *stride = (gsize) w * 4;
  data = g_malloc (*stride * (gsize) h);
  /* CAIRO_FORMAT_ARGB32 in native order: B, G, R, A on little-endian. */
  gdk_texture_download (texture, data, *stride);
  return data;
}

static void
test_texture_from_tensor (void)
{
  guint8 gray[28 * 28], rgb[64 * 64 * 3];
  g_autoptr(GdkTexture) big = NULL;
  g_autoptr(GdkTexture) soft = NULL;
  g_autoptr(GdkTexture) same = NULL;
  g_autofree guint8 *px = NULL;
  gsize stride;

  for (guint i = 0; i < G_N_ELEMENTS (gray); i++)
    gray[i] = (guint8) ((i * 37) % 251);
  for (guint i = 0; i < G_N_ELEMENTS (rgb); i++)
    rgb[i] = (guint8) ((i * 13) % 256);

  /* 28 → 112: four times, each pixel a 4×4 block of exactly its value. */
  big = _lk_thumbnail_from_tensor (gray, 28, 1, 112);
  g_assert_cmpint (gdk_texture_get_width (big), ==, 112);
  g_assert_cmpint (gdk_texture_get_height (big), ==, 112);
  px = download (big, &stride);
  for (int y = 0; y < 112; y++)
    for (int x = 0; x < 112; x++)
      {
        const guint8 *p = px + (gsize) y * stride + (gsize) x * 4;
        guint8 want = gray[(y / 4) * 28 + x / 4];
        g_assert_cmpuint (p[0], ==, want);
        g_assert_cmpuint (p[1], ==, want);
        g_assert_cmpuint (p[2], ==, want);
        g_assert_cmpuint (p[3], ==, 255);
      }
  g_clear_pointer (&px, g_free);

  /* 28 → 256: the largest whole factor (9 × 28 = 252), still crisp. */
  {
    g_autoptr(GdkTexture) t = _lk_thumbnail_from_tensor (gray, 28, 1, 256);
    g_assert_cmpint (gdk_texture_get_width (t), ==, 252);
  }

  /* 64 → 112 is less than twice: smooth scaling to the exact size. */
  soft = _lk_thumbnail_from_tensor (rgb, 64, 3, 112);
  g_assert_cmpint (gdk_texture_get_width (soft), ==, 112);
  g_assert_cmpint (gdk_texture_get_height (soft), ==, 112);

  /* The same size: the pixels as they are, channels in order. */
  same = _lk_thumbnail_from_tensor (rgb, 64, 3, 64);
  px = download (same, &stride);
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++)
      {
        const guint8 *p = px + (gsize) y * stride + (gsize) x * 4;
        const guint8 *q = rgb + ((gsize) y * 64 + x) * 3;
        g_assert_cmpuint (p[2], ==, q[0]);
        g_assert_cmpuint (p[1], ==, q[1]);
        g_assert_cmpuint (p[0], ==, q[2]);
      }
}

static void
test_texture_from_file (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("files");
  g_autofree char *wide = g_build_filename (dir, "wide.png", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) t = NULL;

  lk_test_write_png (wide, 200, 100, 3);
  t = _lk_thumbnail_from_file (wide, 112, 50000000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (t), ==, 112);
  g_assert_cmpint (gdk_texture_get_height (t), ==, 56);

  /* Over the pixel limit: refused from the header, before decoding. */
  g_assert_null (_lk_thumbnail_from_file (wide, 112, 200 * 100 - 1, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
  g_assert_nonnull (strstr (error->message, "wide.png"));
  g_clear_error (&error);

  g_file_set_contents (junk, "not a png", -1, &error);
  g_assert_no_error (error);
  g_assert_null (_lk_thumbnail_from_file (junk, 112, 50000000, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
  g_clear_error (&error);
  g_assert_null (_lk_thumbnail_from_file (missing, 112, 50000000, &error));
  g_assert_nonnull (error);
}

/* Thumbnailer ----------------------------------------------------------------------- */

typedef struct {
  LkThumbnailer *thumbnailer;
  GdkTexture    *texture;
  GError        *error;
  gboolean       done;
} Load;

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  Load *load = data;

  load->texture = lk_thumbnailer_load_finish (load->thumbnailer, result, &load->error);
  load->done = TRUE;
}

static void
wait_load (Load *load)
{
  while (!load->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_thumbnailer (void)
{
  g_autoptr(LkCollection) coll = open_small_collection ();
  g_autoptr(LkCollection) other = open_small_collection ();
  g_autoptr(LkThumbnailer) thumbnailer = lk_thumbnailer_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GdkTexture) cached = NULL;
  Load fast = { thumbnailer }, sharp = { thumbnailer }, cancelled = { thumbnailer };
  Load foreign = { thumbnailer };

  lk_thumbnailer_set_collection (thumbnailer, coll);
  g_assert_true (lk_thumbnailer_has_sharp (thumbnailer, coll));
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, coll, 0, 64, LK_THUMBNAIL_FAST));

  lk_thumbnailer_load_async (thumbnailer, coll, 0, 64, LK_THUMBNAIL_FAST, NULL, on_loaded, &fast);
  lk_thumbnailer_load_async (thumbnailer, coll, 0, 112, LK_THUMBNAIL_SHARP, NULL, on_loaded, &sharp);
  wait_load (&fast);
  wait_load (&sharp);
  g_assert_no_error (fast.error);
  g_assert_no_error (sharp.error);
  /* FAST: the 64 px tensor; SHARP: the 10×12 original fitted to 112. */
  g_assert_cmpint (gdk_texture_get_width (fast.texture), ==, 64);
  g_assert_cmpint (gdk_texture_get_height (sharp.texture), ==, 112);
  g_assert_cmpint (gdk_texture_get_width (sharp.texture), <, 112);
  g_assert_cmpuint (lk_thumbnailer_get_n_pending (thumbnailer), ==, 0);

  /* Both are cached, under their own size and quality. */
  cached = lk_thumbnailer_lookup (thumbnailer, coll, 0, 64, LK_THUMBNAIL_FAST);
  g_assert_true (cached == fast.texture);
  g_clear_object (&cached);
  cached = lk_thumbnailer_lookup (thumbnailer, coll, 0, 112, LK_THUMBNAIL_SHARP);
  g_assert_true (cached == sharp.texture);
  g_clear_object (&cached);
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, coll, 0, 112, LK_THUMBNAIL_FAST));
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, coll, 1, 64, LK_THUMBNAIL_FAST));

  /* Cancelled before its turn: an error, nothing cached. */
  g_cancellable_cancel (cancellable);
  lk_thumbnailer_load_async (thumbnailer, coll, 2, 64, LK_THUMBNAIL_FAST, cancellable,
                             on_loaded, &cancelled);
  wait_load (&cancelled);
  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (cancelled.texture);
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, coll, 2, 64, LK_THUMBNAIL_FAST));

  /* Another collection's request works but is not cached; switching
   * collections empties the cache. */
  lk_thumbnailer_load_async (thumbnailer, other, 1, 64, LK_THUMBNAIL_FAST, NULL, on_loaded, &foreign);
  wait_load (&foreign);
  g_assert_nonnull (foreign.texture);
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, other, 1, 64, LK_THUMBNAIL_FAST));
  lk_thumbnailer_set_collection (thumbnailer, other);
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, other, 1, 64, LK_THUMBNAIL_FAST));
  g_assert_null (lk_thumbnailer_lookup (thumbnailer, coll, 0, 64, LK_THUMBNAIL_FAST));

  g_clear_object (&fast.texture);
  g_clear_object (&sharp.texture);
  g_clear_object (&foreign.texture);
  g_clear_error (&cancelled.error);
}

/* Session ------------------------------------------------------------------------ */

static void
on_open (GObject *source, GAsyncResult *result, gpointer data)
{
  GError **error = data;
  g_assert_false (lk_session_open_finish (LK_SESSION (source), result, error));
}

static void
test_session_superseded_open (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("session");
  g_autofree char *cat = g_build_filename (root, "only", NULL);
  g_autofree char *png = g_build_filename (cat, "x.png", NULL);
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  LkSession *session = lk_session_new ();
  g_autoptr(GError) first = NULL;
  g_autoptr(GError) second = NULL;

  g_assert_cmpint (g_mkdir_with_parents (cat, 0755), ==, 0);
  lk_test_write_png (png, 8, 8, 0);
  g_object_add_weak_pointer (G_OBJECT (session), (gpointer *) &session);

  /* A second open cancels the first; the first reports CANCELLED, the
   * second its own failure; no collection is set by either. */
  lk_session_open_async (session, root, NULL, on_open, &first);
  lk_session_open_async (session, missing, NULL, on_open, &second);
  g_assert_true (lk_session_get_opening (session));
  while (first == NULL || second == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (first, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_error (second, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_assert_false (lk_session_get_opening (session));
  g_assert_null (lk_session_get_collection (session));
  g_assert_null (lk_session_get_opening_name (session));

  g_object_unref (session);
  g_assert_null (session);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);

  g_test_add_func ("/ui/models/image-list", test_image_list);
  g_test_add_func ("/ui/models/progress-relay", test_progress_relay);
  g_test_add_func ("/ui/thumbnails/from-tensor", test_texture_from_tensor);
  g_test_add_func ("/ui/thumbnails/from-file", test_texture_from_file);
  g_test_add_func ("/ui/thumbnails/thumbnailer", test_thumbnailer);
  g_test_add_func ("/ui/session/superseded-open", test_session_superseded_open);
  return g_test_run ();
}
