/* test-limits.c — bounded resources: decompression bombs and absurd
 * dimensions in every format the decoder may meet, folders nested far
 * deeper than the scan follows (and deeper than PATH_MAX), symbolic-link
 * loops of several shapes, and one huge folder. Each must end quickly,
 * with every bad entry skipped and named, in bounded memory. The bombs
 * are the image seeds of the fuzzer (tests/fuzz/corpus/image/bomb-*,
 * written by make-seeds.c), so both tests check the same files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collection-private.h"
#include "error.h"
#include "testutil.h"

static long
peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
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

#define ASSERT_SKIPPED(coll, path, word) \
  G_STMT_START { \
    const char *r_ = find_reason ((coll), (path)); \
    if (r_ == NULL) g_error ("%s was not reported as skipped", (path)); \
    if (strstr (r_, (word)) == NULL) g_error ("%s: reason “%s” lacks “%s”", (path), r_, (word)); \
  } G_STMT_END

/* Every bomb is refused from its header, at the real 50-megapixel limit,
 * in well under a second and without the memory its header claims. */
static void
test_bombs (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fuzz", "corpus", "image", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  long rss0 = peak_rss_mb ();
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree gchar *data = NULL;
      g_autoptr(GError) error = NULL;
      guint8 out[32 * 32 * 3];
      gsize len;
      gint64 t0;
      gboolean ok;

      if (!g_str_has_prefix (name, "bomb-"))
        continue;
      path = g_build_filename (dir, name, NULL);
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      t0 = g_get_monotonic_time ();
      /* Skip the harness's mode byte. */
      ok = _lk_image_decode_bytes ((const guint8 *) data + 1, len - 1, 32,
                                   (guint64) 50 * 1000 * 1000, out, NULL, NULL, &error);
      g_test_message ("%s: %s in %.3f s", name, ok ? "decoded" : error->message,
                      (g_get_monotonic_time () - t0) / 1e6);
      g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
      if (g_str_has_prefix (name, "bomb-2000x2000"))
        {
          /* Within the limit: decodes (4 MP), and the limit can refuse it. */
          g_assert_true (ok);
          g_assert_false (_lk_image_decode_bytes ((const guint8 *) data + 1, len - 1, 32,
                                                  1000 * 1000, out, NULL, NULL, NULL));
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
          /* Refused from the header (ours or the loader's): never a
           * failed allocation. */
          g_assert_null (strstr (error->message, "emory"));
        }
      n++;
    }
  g_assert_cmpuint (n, >=, 10);
  g_test_message ("%u bombs, peak RSS %ld MB → %ld MB", n, rss0, peak_rss_mb ());
  g_assert_cmpint (peak_rss_mb () - rss0, <, 200);
}

static GBytes *
png_header (guint32 w, guint32 h)
{
  guint8 png[8 + 25 + 12] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                              0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  guint32 v = GUINT32_TO_BE (w);
  memcpy (png + 16, &v, 4);
  v = GUINT32_TO_BE (h);
  memcpy (png + 20, &v, 4);
  png[24] = 8, png[25] = 2;
  v = GUINT32_TO_BE (lk_test_crc32 (png + 12, 17));
  memcpy (png + 29, &v, 4);
  memcpy (png + 33, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
  return g_bytes_new (png, sizeof png);
}

/* Zero, negative and overflowing sizes: refused, never a crash. */
static void
test_absurd_dimensions (void)
{
  static const guint32 sizes[][2] = {
    { 0, 10 }, { 10, 0 }, { 0xffffffff, 0xffffffff }, { 0x80000000, 2 }, { 1, 0x7fffffff },
  };
  /* BMP with a negative height of −2³¹ (top-down), and a TIFF of
   * 2³²−1 × 2³²−1. */
  static const guint8 bmp[54] = { 'B', 'M', 54, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0,
                                  16, 0, 0, 0, 0, 0, 0, 0x80, 1, 0, 24, 0 };
  static const guint8 tiff[8 + 2 + 24 + 4] = { 'I', 'I', 42, 0, 8, 0, 0, 0, 2, 0,
                                               0, 1, 4, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                               1, 1, 4, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
  guint8 out[16 * 16 * 3];

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) png = png_header (sizes[i][0], sizes[i][1]);
      g_autoptr(GError) error = NULL;
      gsize len;
      const guint8 *p = g_bytes_get_data (png, &len);
      g_assert_false (_lk_image_decode_bytes (p, len, 16, 0xffffffffffffffffull, out, NULL,
                                              NULL, &error));
      g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
    }
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (_lk_image_decode_bytes (bmp, sizeof bmp, 16, (guint64) 50000000, out, NULL,
                                            NULL, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
  }
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (_lk_image_decode_bytes (tiff, sizeof tiff, 16, (guint64) 50000000, out, NULL,
                                            NULL, &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
    g_assert_nonnull (strstr (error->message, "too large"));
  }
}

/* Removes a tree too deep for path-based removal. */
static void
rm_deep (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, NULL, &status, NULL));
}

/* One chain of @depth folders named @name below @dirfd, with an image in
 * each level listed in @image_levels (ends with 0). */
static void
make_chain (int dirfd, const char *name, guint depth, const guint *image_levels,
            const char *png, gsize png_len)
{
  int fd = dup (dirfd);

  for (guint level = 1; level <= depth; level++)
    {
      int next;
      g_assert_cmpint (mkdirat (fd, name, 0755), ==, 0);
      next = openat (fd, name, O_RDONLY | O_DIRECTORY);
      g_assert_cmpint (next, >=, 0);
      close (fd);
      fd = next;
      for (const guint *l = image_levels; *l != 0; l++)
        if (*l == level)
          {
            g_autofree char *file = g_strdup_printf ("level-%u.png", level);
            int out = openat (fd, file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            g_assert_cmpint (out, >=, 0);
            g_assert_cmpint (write (out, png, png_len), ==, (gssize) png_len);
            close (out);
          }
    }
  close (fd);
}

/* The scan follows 64 levels below a category and names the first it does
 * not; paths longer than PATH_MAX are skipped with their reason. */
static void
test_deep_nesting (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("deep");
  g_autofree char *seed = g_build_filename (root, "seed.png", NULL);
  g_autofree char *cat = g_build_filename (root, "cat", NULL);
  g_autofree char *cat2 = g_build_filename (root, "long", NULL);
  g_autofree gchar *png = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  g_autoptr(GString) deepest = g_string_new ("cat");
  char long_name[201];
  const guint levels[] = { 1, 30, 63, 64, 65, 80, 0 };
  const guint long_levels[] = { 2, 30, 0 };
  gsize png_len;
  gint64 t0;
  int fd;

  lk_test_write_png (seed, 8, 8, 1);
  g_assert_true (g_file_get_contents (seed, &png, &png_len, NULL));
  g_unlink (seed);
  g_mkdir (cat, 0755);
  g_mkdir (cat2, 0755);
  fd = open (cat, O_RDONLY | O_DIRECTORY);
  make_chain (fd, "d", 100, levels, png, png_len);
  close (fd);
  /* 30 levels of 200-byte names: past PATH_MAX (4096) at level 21. */
  memset (long_name, 'n', 200);
  long_name[200] = '\0';
  fd = open (cat2, O_RDONLY | O_DIRECTORY);
  make_chain (fd, long_name, 30, long_levels, png, png_len);
  close (fd);

  t0 = g_get_monotonic_time ();
  coll = lk_collection_open_folder (root, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 30 * G_USEC_PER_SEC);

  /* "cat" is depth 1, so level-N.png sits at depth N + 1: the files of
   * levels 1–63 are in, the folder at depth 65 (level 64) is not walked. */
  g_assert_cmpuint (lk_collection_get_category_count (coll, 0), ==, 3);
  for (guint l = 1; l <= 64; l++)
    g_string_append (deepest, "/d");
  ASSERT_SKIPPED (coll, deepest->str, "nested too deep");
  /* The long chain: the level-2 image is in; the rest is skipped because
   * the path grows too long, with that reason. */
  g_assert_cmpuint (lk_collection_get_category_count (coll, 1), ==, 1);
  {
    guint n;
    gboolean too_long = FALSE;
    const LkSkipped *s = lk_collection_get_skipped (coll, &n);
    for (guint i = 0; i < n; i++)
      too_long |= strstr (s[i].reason, g_strerror (ENAMETOOLONG)) != NULL;
    g_assert_true (too_long);
  }
  rm_deep (root);
}

/* Loops between categories, back to the root, long chains of links, and
 * a link to a link to a folder already walked: each ends the walk there. */
static void
test_symlink_loops (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("loops");
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  gint64 t0;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *p = g_strdup_printf ("%s/%s/pic.png", root, (const char *[]) { "a", "b", "c" }[i]);
      g_autofree char *d = g_path_get_dirname (p);
      g_mkdir (d, 0755);
      lk_test_write_png (p, 8, 8, i);
    }
#define LINK(target, name) \
  G_STMT_START { \
    g_autofree char *l_ = g_build_filename (root, name, NULL); \
    g_assert_cmpint (symlink (target, l_), ==, 0); \
  } G_STMT_END
  LINK ("../b", "a/to-b");        /* a → b */
  LINK ("../a", "b/to-a");        /* b → a: a cycle through two categories */
  LINK ("..", "c/to-root");       /* back to the root */
  LINK ("to-root", "c/to-to-root");
  /* A chain of 45 links: the kernel gives up at 40 (ELOOP). */
  LINK ("../c", "c/chain-0");
  for (guint i = 1; i < 45; i++)
    {
      g_autofree char *target = g_strdup_printf ("chain-%u", i - 1);
      g_autofree char *name = g_strdup_printf ("c/chain-%u", i);
      LINK (target, name);
    }
  LINK ("x2", "c/x1");            /* a link cycle of two names */
  LINK ("x1", "c/x2");
#undef LINK

  t0 = g_get_monotonic_time ();
  coll = lk_collection_open_folder (root, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (lk_collection_get_n_images (coll), ==, 3);
  ASSERT_SKIPPED (coll, "a/to-b", "already scanned");
  ASSERT_SKIPPED (coll, "b/to-a", "already scanned");
  ASSERT_SKIPPED (coll, "c/to-root", "already scanned");
  ASSERT_SKIPPED (coll, "c/to-to-root", "already scanned");
  ASSERT_SKIPPED (coll, "c/chain-0", "already scanned");
  ASSERT_SKIPPED (coll, "c/chain-44", "loop");
  ASSERT_SKIPPED (coll, "c/x1", "loop");
  ASSERT_SKIPPED (coll, "c/x2", "loop");
}

/* 20,000 entries in one folder: listed, every bad one named, quickly and
 * in bounded memory. A scan reserves a pixel slot per candidate file
 * before decoding (side² × 3 bytes); at side 16 that is 15 MB here, so the
 * bound checks that listing, skip records and decoding add little more. */
static void
test_huge_directory (void)
{
  const guint n = 20000;
  g_autofree char *root = lk_test_make_tmpdir ("huge");
  g_autofree char *dir = g_build_filename (root, "many", NULL);
  g_autofree char *good = g_build_filename (dir, "good.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LkCollection) coll = NULL;
  LkScanOptions options;
  long rss0;
  guint n_skipped;
  gint64 t0;
  int fd;

  g_mkdir (dir, 0755);
  fd = open (dir, O_RDONLY | O_DIRECTORY);
  for (guint i = 0; i < n; i++)
    {
      char name[32];
      int out;
      g_snprintf (name, sizeof name, "f%05u.jpg", i);
      out = openat (fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      g_assert_cmpint (out, >=, 0);
      g_assert_cmpint (write (out, "x", 1), ==, 1);
      close (out);
    }
  close (fd);
  lk_test_write_png (good, 8, 8, 1);

  lk_scan_options_init (&options);
  options.side = 16;
  rss0 = peak_rss_mb ();
  t0 = g_get_monotonic_time ();
  coll = lk_collection_open_folder (root, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%u entries: %.2f s, peak RSS %ld MB → %ld MB", n + 1,
                  (g_get_monotonic_time () - t0) / 1e6, rss0, peak_rss_mb ());
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 60 * G_USEC_PER_SEC);
  g_assert_cmpuint (lk_collection_get_n_images (coll), ==, 1);
  lk_collection_get_skipped (coll, &n_skipped);
  g_assert_cmpuint (n_skipped, ==, n);
  ASSERT_SKIPPED (coll, "many/f12345.jpg", "not an image");
  g_assert_cmpint (peak_rss_mb () - rss0, <, 64);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/limits/bombs", test_bombs);
  g_test_add_func ("/engine/limits/absurd-dimensions", test_absurd_dimensions);
  g_test_add_func ("/engine/limits/deep-nesting", test_deep_nesting);
  g_test_add_func ("/engine/limits/symlink-loops", test_symlink_loops);
  g_test_add_func ("/engine/limits/huge-directory", test_huge_directory);
  return g_test_run ();
}
