/* test-collection.c — scanning folder collections: the category layout,
 * names that are not ASCII or not UTF-8, every kind of bad entry, the
 * fit of non-square images, the cache and its invalidation, and that the
 * collection itself is never written. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "collection.h"
#include "error.h"
#include "fileutil.h"
#include "testutil.h"

static void
write_solid_png (const char *path, int w, int h, guint8 r, guint8 g, guint8 b, guint8 a)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, w, h);
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pb, ((guint32) r << 24) | ((guint32) g << 16) | ((guint32) b << 8) | a);
  gdk_pixbuf_save (pb, path, "png", &error, NULL);
  g_assert_no_error (error);
}

static void
write_file (const char *path, const void *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

static void
mkdirs (const char *root, const char *rel)
{
  g_autofree char *p = g_build_filename (root, rel, NULL);
  g_assert_cmpint (g_mkdir_with_parents (p, 0755), ==, 0);
}

static char *
at (const char *root, const char *rel)
{
  return g_build_filename (root, rel, NULL);
}

static const char *
find_reason (LkCollection *coll, const char *path)
{
  guint n;
  const LkSkipped *s = lk_collection_get_skipped (coll, &n);
  for (guint i = 0; i < n; i++)
    if (g_str_equal (s[i].path, path))
      return s[i].reason;
  return NULL;
}

static LkCollection *
open_ok (const char *root, const LkScanOptions *options)
{
  g_autoptr(GError) error = NULL;
  LkCollection *coll = lk_collection_open_folder (root, options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (coll);
  return coll;
}

/* A tree with nested folders, unicode and invalid-UTF-8 names. */
static char *
make_good_tree (void)
{
  char *root = lk_test_make_tmpdir ("good");
  g_autofree char *p = NULL;
  const char *names[] = {
    "birds/a.png", "birds/deep/er/b.png", "birds/deep/c.png",
    "café/ünïcödé 画像.png",
    "zebras/z.png",
  };

  mkdirs (root, "birds/deep/er");
  mkdirs (root, "café");
  mkdirs (root, "zebras");
  mkdirs (root, "empty-category");
  mkdirs (root, ".hidden-category");
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *f = at (root, names[i]);
      lk_test_write_png (f, 20 + (int) i, 30, (guint) i);
    }
  /* A name that is not UTF-8 (Latin-1 "é"). */
  p = at (root, "zebras/caf\xe9.png");
  lk_test_write_png (p, 16, 16, 9);
  g_free (p);
  p = at (root, "birds/.hidden.png");
  lk_test_write_png (p, 16, 16, 10);
  g_free (p);
  p = at (root, ".hidden-category/x.png");
  lk_test_write_png (p, 16, 16, 11);
  return root;
}

static void
test_layout (void)
{
  g_autofree char *root = make_good_tree ();
  g_autoptr(LkCollection) coll = open_ok (root, NULL);
  guint idx;

  g_assert_cmpuint (lk_collection_get_n_categories (coll), ==, 4);
  g_assert_cmpstr (lk_collection_get_category_name (coll, 0), ==, "birds");
  g_assert_cmpstr (lk_collection_get_category_name (coll, 1), ==, "café");
  g_assert_cmpstr (lk_collection_get_category_name (coll, 2), ==, "empty-category");
  g_assert_cmpstr (lk_collection_get_category_name (coll, 3), ==, "zebras");
  g_assert_cmpuint (lk_collection_get_category_count (coll, 0), ==, 3);
  g_assert_cmpuint (lk_collection_get_category_count (coll, 1), ==, 1);
  g_assert_cmpuint (lk_collection_get_category_count (coll, 2), ==, 0);
  g_assert_cmpuint (lk_collection_get_category_count (coll, 3), ==, 2);
  g_assert_cmpuint (lk_collection_get_n_images (coll), ==, 6);

  /* Hidden entries are neither images nor skipped entries. */
  g_assert_false (lk_collection_find_path (coll, "birds/.hidden.png", NULL));
  g_assert_null (find_reason (coll, "birds/.hidden.png"));
  g_assert_null (find_reason (coll, ".hidden-category"));
  {
    guint n_skipped;
    lk_collection_get_skipped (coll, &n_skipped);
    g_assert_cmpuint (n_skipped, ==, 0);
  }

  g_assert_true (lk_collection_find_path (coll, "birds/deep/er/b.png", &idx));
  g_assert_cmpuint (lk_collection_get_label (coll, idx), ==, 0);
  g_assert_true (lk_collection_find_path (coll, "café/ünïcödé 画像.png", &idx));
  g_assert_cmpuint (lk_collection_get_label (coll, idx), ==, 1);
  g_assert_true (lk_collection_find_path (coll, "zebras/caf\xe9.png", &idx));
  g_assert_cmpuint (lk_collection_get_label (coll, idx), ==, 3);
  {
    g_autofree char *file = lk_collection_dup_file (coll, idx);
    g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_cmpuint (lk_collection_get_side (coll), ==, 64);
  g_assert_cmpuint (lk_collection_get_channels (coll), ==, 3);
  g_assert_false (lk_collection_is_builtin (coll));
}

/* Wide and tall images keep their aspect: fitted and padded on white;
 * transparency is composited on white too. */
static void
test_fit (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("fit");
  g_autofree char *wide = NULL, *tall = NULL, *clear = NULL;
  g_autoptr(LkCollection) coll = NULL;
  LkScanOptions options;
  const guint8 *px;
  guint idx, side = 32, w, h;

  mkdirs (root, "c");
  wide = at (root, "c/wide.png");
  tall = at (root, "c/tall.png");
  clear = at (root, "c/clear.png");
  write_solid_png (wide, 200, 100, 255, 0, 0, 255);
  write_solid_png (tall, 50, 100, 0, 0, 255, 255);
  write_solid_png (clear, 40, 40, 0, 0, 0, 0);
  lk_scan_options_init (&options);
  options.side = side;
  coll = open_ok (root, &options);

  g_assert_true (lk_collection_find_path (coll, "c/wide.png", &idx));
  lk_collection_get_file_info (coll, idx, NULL, &w, &h);
  g_assert_cmpuint (w, ==, 200);
  g_assert_cmpuint (h, ==, 100);
  px = lk_collection_get_image (coll, idx);
  /* Rows 0..7 are padding (white), rows 8..23 the red image. */
  g_assert_cmpuint (px[0], ==, 255);
  g_assert_cmpuint (px[1], ==, 255);
  g_assert_cmpuint (px[2], ==, 255);
  px += (16 * side + 16) * 3;
  g_assert_cmpuint (px[0], ==, 255);
  g_assert_cmpuint (px[1], ==, 0);
  g_assert_cmpuint (px[2], ==, 0);

  g_assert_true (lk_collection_find_path (coll, "c/tall.png", &idx));
  px = lk_collection_get_image (coll, idx);
  g_assert_cmpuint (px[(16 * side + 0) * 3 + 2], ==, 255);  /* left padding: white */
  g_assert_cmpuint (px[(16 * side + 0) * 3 + 0], ==, 255);
  g_assert_cmpuint (px[(16 * side + 16) * 3 + 0], ==, 0);   /* centre: blue */
  g_assert_cmpuint (px[(16 * side + 16) * 3 + 2], ==, 255);

  g_assert_true (lk_collection_find_path (coll, "c/clear.png", &idx));
  px = lk_collection_get_image (coll, idx);
  g_assert_cmpuint (px[(16 * side + 16) * 3 + 0], ==, 255);
}

static guint32
crc32 (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;
  for (gsize i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
  return ~c;
}

/* A valid PNG start whose header claims 30000×30000 pixels, followed by
 * the start of its compressed data: a decoder that trusted it would
 * allocate 3.6 GB. */
static void
write_bomb_header (const char *path)
{
  guint8 png[47] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0,
    0, 0, 0, 0,
    0, 0, 0, 2, 'I', 'D', 'A', 'T', 0x78, 0x9c,
    0, 0, 0, 0,
  };
  guint32 crc = GUINT32_TO_BE (crc32 (png + 12, 17));
  memcpy (png + 29, &crc, 4);
  crc = GUINT32_TO_BE (crc32 (png + 37, 6));
  memcpy (png + 43, &crc, 4);
  write_file (path, png, sizeof png);
}

static void
test_bad_input (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("bad");
  g_autofree char *outside = lk_test_make_tmpdir ("outside");
  g_autofree char *good = NULL, *big = NULL;
  char *p;
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(GError) skipped_error = NULL;
  g_autofree gchar *png = NULL;
  gsize png_len;
  LkScanOptions options;
  guint n_skipped;
  gint64 t0;

  mkdirs (root, "cat/sub");
  good = at (root, "cat/good.png");
  lk_test_write_png (good, 40, 40, 1);
  g_assert_true (g_file_get_contents (good, &png, &png_len, NULL));

  p = at (root, "cat/empty.png");               write_file (p, "", 0);                  g_free (p);
  p = at (root, "cat/truncated.png");           write_file (p, png, png_len / 2);       g_free (p);
  p = at (root, "cat/notes.txt");               write_file (p, "hello, world\n", 13);   g_free (p);
  p = at (root, "cat/fake.png");                write_file (p, "GIF89a\x01\x00", 8);    g_free (p);
  p = at (root, "cat/bomb.png");                write_bomb_header (p);                  g_free (p);
  p = at (root, "cat/fifo");                    g_assert_cmpint (mkfifo (p, 0644), ==, 0); g_free (p);
  p = at (root, "cat/dangling.png");            g_assert_cmpint (symlink ("nowhere.png", p), ==, 0); g_free (p);
  p = at (root, "cat/escape.png");              g_assert_cmpint (symlink ("/etc/hostname", p), ==, 0); g_free (p);
  p = at (root, "cat/sub/loop");                g_assert_cmpint (symlink ("..", p), ==, 0); g_free (p);
  p = at (root, "cat/self");                    g_assert_cmpint (symlink ("self", p), ==, 0); g_free (p);
  p = at (root, "cat/outside-dir");             g_assert_cmpint (symlink (outside, p), ==, 0); g_free (p);
  p = at (root, "cat/null");                    g_assert_cmpint (symlink ("/dev/null", p), ==, 0); g_free (p);
  p = at (root, "cat/inside-link.png");         g_assert_cmpint (symlink ("good.png", p), ==, 0); g_free (p);
  p = at (root, "loose.png");                   lk_test_write_png (p, 8, 8, 3);         g_free (p);
  if (geteuid () == 0)
    {
      p = at (root, "cat/device");
      g_assert_cmpint (mknod (p, S_IFCHR | 0600, makedev (1, 3)), ==, 0);
      g_free (p);
    }
  else
    {
      p = at (root, "cat/unreadable.png");
      lk_test_write_png (p, 8, 8, 4);
      g_chmod (p, 0);
      g_free (p);
    }
  big = at (root, "cat/big.png");
  lk_test_write_png (big, 200, 200, 5);

  lk_scan_options_init (&options);
  options.max_pixels = 100 * 100;
  t0 = g_get_monotonic_time ();
  coll = open_ok (root, &options);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 60 * G_USEC_PER_SEC);

  g_assert_cmpuint (lk_collection_get_n_images (coll), ==, 2);
  g_assert_true (lk_collection_find_path (coll, "cat/good.png", NULL));
  g_assert_true (lk_collection_find_path (coll, "cat/inside-link.png", NULL));

#define SKIPPED_BECAUSE(path, word) \
  G_STMT_START { \
    const char *r = find_reason (coll, path); \
    if (r == NULL) g_error ("%s was not reported as skipped", path); \
    if (strstr (r, word) == NULL) g_error ("%s: reason “%s” lacks “%s”", path, r, word); \
  } G_STMT_END
  SKIPPED_BECAUSE ("cat/empty.png", "empty");
  SKIPPED_BECAUSE ("cat/truncated.png", "truncated");
  SKIPPED_BECAUSE ("cat/notes.txt", "not an image");
  SKIPPED_BECAUSE ("cat/fake.png", "image");
  SKIPPED_BECAUSE ("cat/bomb.png", "too large");
  SKIPPED_BECAUSE ("cat/big.png", "too large");
  SKIPPED_BECAUSE ("cat/fifo", "FIFO");
  SKIPPED_BECAUSE ("cat/dangling.png", "dangling");
  SKIPPED_BECAUSE ("cat/escape.png", "outside");
  SKIPPED_BECAUSE ("cat/outside-dir", "outside");
  SKIPPED_BECAUSE ("cat/null", "outside");
  SKIPPED_BECAUSE ("cat/self", "loop");
  SKIPPED_BECAUSE ("cat/sub/loop", "already scanned");
  SKIPPED_BECAUSE ("loose.png", "category");
  if (geteuid () == 0)
    SKIPPED_BECAUSE ("cat/device", "device");
  else
    SKIPPED_BECAUSE ("cat/unreadable.png", "ermission");
#undef SKIPPED_BECAUSE

  lk_collection_get_skipped (coll, &n_skipped);
  g_assert_cmpuint (n_skipped, ==, 15);
  skipped_error = lk_collection_dup_skipped_error (coll);
  g_assert_error (skipped_error, LK_ERROR, LK_ERROR_SKIPPED);
  g_assert_nonnull (strstr (skipped_error->message, "cat/bomb.png: image too large"));

  /* Reopening from the cache reports the same skips. */
  {
    g_autoptr(LkCollection) again = open_ok (root, &options);
    guint n2;
    LkScanStats stats;
    lk_collection_get_skipped (again, &n2);
    g_assert_cmpuint (n2, ==, n_skipped);
    lk_collection_get_stats (again, &stats);
    g_assert_cmpuint (stats.n_decoded, ==, 0);
  }
}

static void
test_errors (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("flat");
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  g_autofree char *file = at (root, "a.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  LkCollection *coll;

  coll = lk_collection_open_folder (missing, NULL, NULL, NULL, NULL, &error);
  g_assert_null (coll);
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  lk_test_write_png (file, 8, 8, 1);
  coll = lk_collection_open_folder (root, NULL, NULL, NULL, NULL, &error);
  g_assert_null (coll);
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "category"));
  g_clear_error (&error);

  coll = lk_collection_open_folder (file, NULL, NULL, NULL, NULL, &error);
  g_assert_null (coll);
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_clear_error (&error);

  mkdirs (root, "c");
  g_cancellable_cancel (cancellable);
  coll = lk_collection_open_folder (root, NULL, NULL, NULL, cancellable, &error);
  g_assert_null (coll);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

typedef struct {
  guint calls;
  guint last_done, last_total;
} ProgressLog;

static void
on_progress (const char *phase, guint done, guint total, gpointer user_data)
{
  ProgressLog *log = user_data;
  g_assert_nonnull (phase);
  g_assert_cmpuint (done, <=, MAX (total, done));
  log->calls++;
  log->last_done = done;
  log->last_total = total;
}

/* Cache: reused when nothing changed; a changed file alone is decoded
 * again; removed and added files are noticed; a damaged cache file is
 * rebuilt. */
static void
test_cache (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("cached");
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *cache_path = NULL;
  g_autoptr(LkCollection) first = NULL, second = NULL, third = NULL, fourth = NULL;
  LkScanStats stats;
  ProgressLog log = { 0 };
  guint ia;
  guint8 before[3];

  mkdirs (root, "x");
  mkdirs (root, "y");
  a = at (root, "x/a.png");
  b = at (root, "x/b.png");
  c = at (root, "y/c.png");
  write_solid_png (a, 10, 10, 10, 20, 30, 255);
  write_solid_png (b, 10, 10, 40, 50, 60, 255);
  write_solid_png (c, 10, 10, 70, 80, 90, 255);

  first = lk_collection_open_folder (root, NULL, on_progress, &log, NULL, NULL);
  g_assert_nonnull (first);
  g_assert_cmpuint (log.calls, >, 0);
  g_assert_cmpuint (log.last_done, ==, 3);
  lk_collection_get_stats (first, &stats);
  g_assert_cmpuint (stats.n_decoded, ==, 3);
  cache_path = g_strdup (lk_collection_get_cache_path (first));
  g_assert_nonnull (cache_path);
  g_assert_true (g_str_has_prefix (cache_path, g_get_user_cache_dir ()));
  g_assert_true (lk_collection_find_path (first, "x/a.png", &ia));
  memcpy (before, lk_collection_get_image (first, ia), 3);
  g_assert_cmpuint (before[0], ==, 10);

  second = open_ok (root, NULL);
  lk_collection_get_stats (second, &stats);
  g_assert_cmpuint (stats.n_decoded, ==, 0);
  g_assert_cmpuint (stats.n_from_cache, ==, 3);
  g_assert_cmpmem (lk_collection_get_pixels (first), 3 * 64 * 64 * 3,
                   lk_collection_get_pixels (second), 3 * 64 * 64 * 3);
  /* Reopened from the cache, it still knows where its files are. */
  g_assert_nonnull (lk_collection_get_root (second));
  g_assert_cmpstr (lk_collection_get_root (second), ==, lk_collection_get_root (first));
  {
    g_autofree char *file = lk_collection_dup_file (second, ia);
    g_autofree char *real_a = realpath (a, NULL);
    g_assert_cmpstr (file, ==, real_a);
  }

  /* Change one file (new content, new size), remove one, add one. */
  write_solid_png (a, 12, 12, 200, 100, 0, 255);
  g_assert_cmpint (g_unlink (c), ==, 0);
  {
    g_autofree char *d = at (root, "y/d.png");
    write_solid_png (d, 10, 10, 1, 2, 3, 255);
  }
  third = open_ok (root, NULL);
  lk_collection_get_stats (third, &stats);
  g_assert_cmpuint (stats.n_decoded, ==, 2);
  g_assert_cmpuint (stats.n_from_cache, ==, 1);
  g_assert_cmpuint (lk_collection_get_n_images (third), ==, 3);
  g_assert_false (lk_collection_find_path (third, "y/c.png", NULL));
  g_assert_true (lk_collection_find_path (third, "x/a.png", &ia));
  g_assert_cmpuint (lk_collection_get_image (third, ia)[0], ==, 200);

  /* A damaged cache is detected and rebuilt, never trusted. */
  {
    g_autofree gchar *data = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (cache_path, &data, &len, NULL));
    data[200] ^= 0x55;
    write_file (cache_path, data, len);
  }
  fourth = open_ok (root, NULL);
  lk_collection_get_stats (fourth, &stats);
  g_assert_cmpuint (stats.n_decoded, ==, 3);
  {
    g_autofree gchar *data = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (cache_path, &data, &len, NULL));
    write_file (cache_path, data, len / 2);
  }
  g_clear_pointer (&fourth, lk_collection_unref);
  fourth = open_ok (root, NULL);
  lk_collection_get_stats (fourth, &stats);
  g_assert_cmpuint (stats.n_decoded, ==, 3);
  g_assert_true (lk_collection_find_path (fourth, "x/a.png", &ia));
  g_assert_cmpuint (lk_collection_get_image (fourth, ia)[0], ==, 200);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Snapshot of a tree: every entry's path, type, size, mtime and mode. */
static void
snapshot_tree (const char *dir, const char *rel, GString *out)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree char *child = g_build_filename (rel, names->pdata[i], NULL);
      struct stat st;
      g_assert_cmpint (lstat (path, &st), ==, 0);
      g_string_append_printf (out, "%s %o %ld %ld.%09ld\n", child, st.st_mode,
                              (long) st.st_size, (long) st.st_mtim.tv_sec,
                              (long) st.st_mtim.tv_nsec);
      if (S_ISDIR (st.st_mode))
        snapshot_tree (path, child, out);
    }
}

static void
test_read_only (void)
{
  g_autofree char *root = make_good_tree ();
  g_autoptr(GString) before = g_string_new (NULL);
  g_autoptr(GString) after = g_string_new (NULL);
  g_autoptr(LkCollection) one = NULL, two = NULL;

  snapshot_tree (root, "", before);
  one = open_ok (root, NULL);
  two = open_ok (root, NULL);
  snapshot_tree (root, "", after);
  g_assert_cmpstr (before->str, ==, after->str);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/collection/layout", test_layout);
  g_test_add_func ("/engine/collection/fit", test_fit);
  g_test_add_func ("/engine/collection/bad-input", test_bad_input);
  g_test_add_func ("/engine/collection/errors", test_errors);
  g_test_add_func ("/engine/collection/cache", test_cache);
  g_test_add_func ("/engine/collection/read-only", test_read_only);
  return g_test_run ();
}
