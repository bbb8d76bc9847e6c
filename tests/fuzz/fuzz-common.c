/* fuzz-common.c — see fuzz.h. */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collection-private.h"
#include "fileutil.h"
#include "fuzz.h"

static char *fuzz_home;

static void
remove_home (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (fuzz_home == NULL)
    return;
  dir = g_dir_open (fuzz_home, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fuzz_home, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fuzz_home);
}

/* Messages and debug output are expected on bad input; a warning or a
 * critical (a library's g_return_if_fail) is a bug, as it is under
 * g_test_init() in the replays. abort() rather than GLib's fatal-log
 * breakpoint, which libFuzzer would not catch. */
static void
on_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_printerr ("%s: %s\n", domain != NULL ? domain : "(no domain)", message);
      abort ();
    }
  if (g_getenv ("LK_FUZZ_VERBOSE") != NULL)
    g_printerr ("%s: %s\n", domain != NULL ? domain : "(no domain)", message);
}

static GLogWriterOutput
on_structured_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                   gpointer data)
{
  const char *domain = NULL, *message = "";

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;
  on_log (domain, level, message, NULL);
  return G_LOG_WRITER_HANDLED;
}

void
lk_fuzz_init (void)
{
  if (fuzz_home != NULL)
    return;
  /* Each input is written to a file: on tmpfs when there is one. */
  if (g_getenv ("TMPDIR") == NULL && g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) &&
      access ("/dev/shm", W_OK) == 0)
    {
      fuzz_home = g_strdup ("/dev/shm/likeness-fuzz-XXXXXX");
      if (g_mkdtemp (fuzz_home) == NULL)
        g_clear_pointer (&fuzz_home, g_free);
    }
  if (fuzz_home == NULL)
    fuzz_home = g_dir_make_tmp ("likeness-fuzz-XXXXXX", NULL);
  g_assert_nonnull (fuzz_home);
  g_setenv ("XDG_CACHE_HOME", fuzz_home, TRUE);
  g_setenv ("XDG_DATA_HOME", fuzz_home, TRUE);
  g_log_set_default_handler (on_log, NULL);
  g_log_set_writer_func (on_structured_log, NULL, NULL);
  atexit (remove_home);
}

gboolean
lk_fuzz_split_input (const uint8_t *data, size_t size, guint8 *mode_out, guint8 **buf_out,
                     gsize *len_out)
{
  lk_fuzz_init ();
  if (size < 1)
    return FALSE;
  *mode_out = data[0];
  *len_out = size - 1;
  *buf_out = g_malloc (size);
  memcpy (*buf_out, data + 1, size - 1);
  return TRUE;
}

const char *
lk_fuzz_write_file (const char *name, const void *data, gsize size)
{
  static GHashTable *paths;
  g_autoptr(GError) error = NULL;
  char *path;

  lk_fuzz_init ();
  if (paths == NULL)
    paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  path = g_hash_table_lookup (paths, name);
  if (path == NULL)
    {
      path = g_build_filename (fuzz_home, name, NULL);
      g_hash_table_insert (paths, g_strdup (name), path);
    }
  /* No fsync (g_file_set_contents() syncs when it replaces a file): the
   * inputs are throwaway, and syncing made the disk the bottleneck. */
  if (!g_file_set_contents_full (path, data, (gssize) size, G_FILE_SET_CONTENTS_NONE, 0644,
                                 &error))
    g_error ("cannot write the fuzz input %s: %s", path, error->message);
  return path;
}

guint32
lk_fuzz_get_u32 (const guint8 *buf, gsize len, gsize offset)
{
  guint32 v = 0;
  if (offset + 4 <= len)
    memcpy (&v, buf + offset, 4);
  return GUINT32_FROM_LE (v);
}

guint64
lk_fuzz_get_u64 (const guint8 *buf, gsize len, gsize offset)
{
  guint64 v = 0;
  if (offset + 8 <= len)
    memcpy (&v, buf + offset, 8);
  return GUINT64_FROM_LE (v);
}

void
lk_fuzz_set_u32 (guint8 *buf, gsize len, gsize offset, guint32 v)
{
  v = GUINT32_TO_LE (v);
  if (offset + 4 <= len)
    memcpy (buf + offset, &v, 4);
}

void
lk_fuzz_set_u64 (guint8 *buf, gsize len, gsize offset, guint64 v)
{
  v = GUINT64_TO_LE (v);
  if (offset + 8 <= len)
    memcpy (buf + offset, &v, 8);
}

void
lk_fuzz_fix_float_file (guint8 *buf, gsize len, gsize header_size, guint64 n_floats,
                        guint64 data_seed, gsize data_offset, gsize header_offset)
{
  if (len < header_size)
    return;
  if (n_floats <= (len - header_size) / sizeof (float))
    lk_fuzz_set_u64 (buf, len, data_offset,
                     lk_hash64 (buf + header_size, n_floats * sizeof (float), data_seed));
  lk_fuzz_set_u64 (buf, len, header_offset, lk_hash64 (buf, header_offset, 0));
}

guint8
lk_fuzz_touch (const void *data, gsize len)
{
  const volatile guint8 *p = data;
  guint8 x = 0;
  for (gsize i = 0; i < len; i++)
    x ^= p[i];
  return x;
}

/* A collection built in memory (no folder behind it): @n images in two
 * categories, "apples/00000.png", "pears/00001.png"…, pixels from a fixed
 * pattern. */
LkCollection *
lk_fuzz_small_collection (guint side, guint channels, guint n, gboolean builtin)
{
  LkCollection *c = _lk_collection_new ();
  GString *blob = g_string_new (NULL);
  gsize *offsets = g_new (gsize, n);

  c->id = g_strdup (builtin ? "fashion-mnist" : "seeds-0123456789ab");
  c->name = g_strdup (builtin ? "Fashion-MNIST" : "seeds");
  c->builtin = builtin;
  c->side = side;
  c->channels = channels;
  c->n_images = n;
  c->n_categories = 2;
  c->category_names = g_new0 (char *, 3);
  c->category_names[0] = g_strdup ("apples");
  c->category_names[1] = g_strdup ("pears");
  c->labels = g_new (guint16, n);
  c->splits = builtin ? g_new (guint8, n) : NULL;
  c->paths = g_new (char *, n);
  c->file_sizes = g_new (guint64, n);
  c->mtimes = g_new (gint64, n);
  c->widths = g_new (guint32, n);
  c->heights = g_new (guint32, n);
  c->owned_pixels_size = (gsize) n * side * side * channels;
  c->owned_pixels = g_malloc (c->owned_pixels_size);
  for (gsize b = 0; b < c->owned_pixels_size; b++)
    c->owned_pixels[b] = (guint8) (b * 37);
  c->pixels = c->owned_pixels;
  for (guint i = 0; i < n; i++)
    {
      offsets[i] = blob->len;
      g_string_append_printf (blob, "%s/%05u.png", i % 2 ? "pears" : "apples", i);
      g_string_append_c (blob, '\0');
      c->labels[i] = (guint16) (i % 2);
      if (c->splits != NULL)
        c->splits[i] = i < n / 2 ? LK_SPLIT_TRAIN : LK_SPLIT_TEST;
      c->file_sizes[i] = 100 + i;
      c->mtimes[i] = 1700000000000000000 + i;
      c->widths[i] = 20 + i;
      c->heights[i] = 30;
    }
  c->path_blob = g_string_free (blob, FALSE);
  for (guint i = 0; i < n; i++)
    c->paths[i] = c->path_blob + offsets[i];
  g_free (offsets);
  _lk_collection_count_categories (c);
  return c;
}
