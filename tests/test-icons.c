/* test-icons.c — the application icons: named as the desktop file says,
 * on the grid GNOME expects, and rendering at every size a desktop asks
 * for (with GdkPixbuf's SVG loader, librsvg, as GTK does). The symbolic
 * icon must be one flat colour so that GTK can recolour it. */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "testutil.h"

static char *
icon_path (const char *context, const char *suffix)
{
  g_autofree char *name = g_strconcat (APP_ID, suffix, ".svg", NULL);
  return g_test_build_filename (G_TEST_DIST, "..", "data", "icons", "hicolor", context, "apps",
                                name, NULL);
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* The width, height and viewBox of the root <svg> element. */
static void
assert_canvas (const char *svg, int side)
{
  g_autofree char *size = g_strdup_printf ("width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"",
                                           side, side, side, side);
  const char *root = strstr (svg, "<svg ");

  g_assert_nonnull (root);
  g_assert_nonnull (strstr (root, size));
  g_assert_true (strstr (root, size) < strchr (root, '>'));
}

typedef struct {
  double coverage;   /* share of pixels more than half opaque */
  guint  n_colours;  /* distinct RGB among the opaque pixels, by 1/8 steps */
  guint8 max_spread; /* largest channel distance from the first opaque pixel */
} Rendering;

static GdkPixbuf *
render (const char *path, int size, Rendering *r)
{
  g_autoptr(GError) error = NULL;
  GdkPixbuf *pb = gdk_pixbuf_new_from_file_at_size (path, size, size, &error);
  gboolean seen[512] = { FALSE };
  const guint8 *first = NULL;
  guint opaque = 0;

  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pb), ==, size);
  g_assert_cmpint (gdk_pixbuf_get_height (pb), ==, size);
  g_assert_true (gdk_pixbuf_get_has_alpha (pb));
  g_assert_cmpint (gdk_pixbuf_get_n_channels (pb), ==, 4);

  memset (r, 0, sizeof *r);
  for (int y = 0; y < size; y++)
    {
      const guint8 *row = gdk_pixbuf_read_pixels (pb) + y * gdk_pixbuf_get_rowstride (pb);
      for (int x = 0; x < size; x++)
        {
          const guint8 *p = row + 4 * x;
          if (p[3] <= 128)
            continue;
          opaque++;
          if (first == NULL)
            first = p;
          seen[(p[0] >> 5) << 6 | (p[1] >> 5) << 3 | (p[2] >> 5)] = TRUE;
          for (int c = 0; c < 3; c++)
            r->max_spread = MAX (r->max_spread, (guint8) ABS (p[c] - first[c]));
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
    r->n_colours += seen[i];
  r->coverage = (double) opaque / (size * size);
  return pb;
}

static void
test_app_icon (void)
{
  g_autofree char *path = icon_path ("scalable", "");
  g_autofree char *svg = read_text (path);
  const int sizes[] = { 16, 24, 32, 48, 64, 128, 256, 512 };

  assert_canvas (svg, 128);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      Rendering r;
      g_autoptr(GdkPixbuf) pb = render (path, sizes[i], &r);

      g_test_message ("%d px: %.0f%% covered, %u colours", sizes[i], 100 * r.coverage,
                      r.n_colours);
      /* A shape on a transparent canvas, neither empty nor a full square. */
      g_assert_cmpfloat (r.coverage, >, 0.25);
      g_assert_cmpfloat (r.coverage, <, 0.90);
      /* In colour: the pictures and their frames. */
      g_assert_cmpuint (r.n_colours, >=, 6);
    }
}

static void
test_symbolic_icon (void)
{
  g_autofree char *path = icon_path ("symbolic", "-symbolic");
  g_autofree char *svg = read_text (path);
  g_autoptr(GRegex) colour = g_regex_new ("#[0-9a-fA-F]{3,6}\\b", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *first = NULL;
  const int sizes[] = { 16, 32, 64 };

  assert_canvas (svg, 16);
  /* GTK recolours fills; strokes, gradients, images and text would keep
   * their own look. */
  g_assert_null (strstr (svg, "stroke"));
  g_assert_null (strstr (svg, "Gradient"));
  g_assert_null (strstr (svg, "<image"));
  g_assert_null (strstr (svg, "<text"));
  g_assert_null (strstr (svg, "opacity"));
  for (g_regex_match (colour, svg, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *c = g_match_info_fetch (match, 0);
      if (first == NULL)
        first = g_steal_pointer (&c);
      else
        g_assert_cmpstr (c, ==, first);
    }
  g_assert_nonnull (first);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      Rendering r;
      g_autoptr(GdkPixbuf) pb = render (path, sizes[i], &r);

      g_test_message ("%d px: %.0f%% covered, spread %u", sizes[i], 100 * r.coverage,
                      r.max_spread);
      g_assert_cmpfloat (r.coverage, >, 0.20);
      g_assert_cmpfloat (r.coverage, <, 0.90);
      /* One colour: only rounding differs between opaque pixels. */
      g_assert_cmpuint (r.max_spread, <=, 8);
    }
}

/* The desktop file names the icon by the application id, and both icons
 * carry that name. */
static void
test_desktop_names_icon (void)
{
  g_autofree char *desktop = g_test_build_filename (G_TEST_DIST, "..", "data",
                                                    APP_ID ".desktop.in", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *icon = NULL;
  g_autofree char *scalable = icon_path ("scalable", "");
  g_autofree char *symbolic = icon_path ("symbolic", "-symbolic");

  g_key_file_load_from_file (kf, desktop, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  icon = g_key_file_get_string (kf, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_ICON,
                                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (icon, ==, APP_ID);
  g_assert_true (g_file_test (scalable, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (symbolic, G_FILE_TEST_IS_REGULAR));
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/data/icons/app", test_app_icon);
  g_test_add_func ("/data/icons/symbolic", test_symbolic_icon);
  g_test_add_func ("/data/icons/desktop-name", test_desktop_names_icon);
  return g_test_run ();
}
