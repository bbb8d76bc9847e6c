/* decode.c — one image file to a fixed-size tensor.
 *
 * Files are read whole into memory first (opened without following the
 * kind of file a path names on faith: FIFOs and devices are refused after
 * open with O_NONBLOCK), then fed to a GdkPixbufLoader in chunks. The
 * loader's size-prepared signal gives the header's dimensions before any
 * pixel is decoded: images claiming more than max_pixels stop there, and
 * the others are decoded straight at the target scale (JPEG decodes at
 * reduced resolution). The result is fitted inside side × side keeping its
 * aspect, centred, and composited on white. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collection-private.h"
#include "error.h"

#define FEED_CHUNK (64 * 1024)

gboolean
_lk_read_regular_file (const char *path, guint8 **data_out, gsize *len_out, GError **error)
{
  struct stat st;
  guint8 *data;
  gsize len = 0;
  int fd;

  fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_IO, g_strerror (errno));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE, _("not a regular file"));
      return FALSE;
    }
  if ((guint64) st.st_size > LK_SCAN_MAX_FILE_SIZE)
    {
      close (fd);
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE, _("file too large"));
      return FALSE;
    }
  if (st.st_size == 0)
    {
      close (fd);
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE, _("empty file"));
      return FALSE;
    }
  data = g_malloc ((gsize) st.st_size);
  while (len < (gsize) st.st_size)
    {
      gssize n = read (fd, data + len, (gsize) st.st_size - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          g_free (data);
          g_set_error_literal (error, LK_ERROR, LK_ERROR_IO, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        break;  /* the file shrank while we read it: decode what is there */
      len += (gsize) n;
    }
  close (fd);
  *data_out = data;
  *len_out = len;
  return TRUE;
}

typedef struct {
  guint side;
  guint64 max_pixels;
  int width, height;
  gboolean too_big;
} SizeCheck;

static void
on_size_prepared (GdkPixbufLoader *loader, int width, int height, gpointer user_data)
{
  SizeCheck *check = user_data;
  double scale;

  check->width = width;
  check->height = height;
  if (width <= 0 || height <= 0 ||
      (guint64) width * (guint64) height > check->max_pixels)
    {
      check->too_big = TRUE;
      /* Ask for a 1×1 result in case the loader goes on regardless. */
      gdk_pixbuf_loader_set_size (loader, 1, 1);
      return;
    }
  scale = (double) check->side / MAX (width, height);
  gdk_pixbuf_loader_set_size (loader,
                              CLAMP ((int) (width * scale + 0.5), 1, (int) check->side),
                              CLAMP ((int) (height * scale + 0.5), 1, (int) check->side));
}

/* Centres @pb in side × side RGB on white, compositing any alpha. */
static void
fit_on_white (GdkPixbuf *pb, guint side, guint8 *out)
{
  int w = MIN (gdk_pixbuf_get_width (pb), (int) side);
  int h = MIN (gdk_pixbuf_get_height (pb), (int) side);
  int nch = gdk_pixbuf_get_n_channels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  int x0 = ((int) side - w) / 2, y0 = ((int) side - h) / 2;

  memset (out, 255, (gsize) side * side * 3);
  for (int y = 0; y < h; y++)
    {
      const guint8 *src = px + (gsize) y * stride;
      guint8 *dst = out + ((gsize) (y + y0) * side + x0) * 3;
      for (int x = 0; x < w; x++, src += nch, dst += 3)
        {
          if (!alpha)
            {
              dst[0] = src[0];
              dst[1] = src[1];
              dst[2] = src[2];
            }
          else
            {
              guint a = src[3];
              for (int c = 0; c < 3; c++)
                dst[c] = (guint8) ((src[c] * a + 255 * (255 - a) + 127) / 255);
            }
        }
    }
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint32
le32 (const guint8 *p)
{
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

/* The pixel size claimed by the header of a PNG, JPEG, GIF, BMP or WebP
 * file, read without decoding anything. Loaders announce the size only
 * once they reach the image data, after allocating a full-size buffer for
 * some formats and after reading large metadata chunks for others, so a
 * 200-megapixel poster costs seconds even when it is then refused; this
 * check refuses it before any loader sees it. FALSE when unknown. */
static gboolean
peek_size (const guint8 *d, gsize len, guint64 *w, guint64 *h)
{
  if (len >= 24 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp (d + 12, "IHDR", 4) == 0)
    {
      *w = be32 (d + 16);
      *h = be32 (d + 20);
      return TRUE;
    }
  if (len >= 10 && (memcmp (d, "GIF87a", 6) == 0 || memcmp (d, "GIF89a", 6) == 0))
    {
      *w = d[6] | (d[7] << 8);
      *h = d[8] | (d[9] << 8);
      return TRUE;
    }
  if (len >= 26 && d[0] == 'B' && d[1] == 'M')
    {
      gint32 bh = (gint32) le32 (d + 22);
      *w = le32 (d + 18);
      *h = (guint64) ABS ((gint64) bh);
      return TRUE;
    }
  if (len >= 30 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP", 4) == 0)
    {
      if (memcmp (d + 12, "VP8X", 4) == 0)
        {
          *w = 1 + (d[24] | (d[25] << 8) | ((guint32) d[26] << 16));
          *h = 1 + (d[27] | (d[28] << 8) | ((guint32) d[29] << 16));
          return TRUE;
        }
      if (memcmp (d + 12, "VP8L", 4) == 0 && len >= 25)
        {
          guint32 bits = le32 (d + 21);
          *w = 1 + (bits & 0x3fff);
          *h = 1 + ((bits >> 14) & 0x3fff);
          return TRUE;
        }
      if (memcmp (d + 12, "VP8 ", 4) == 0)
        {
          *w = (d[26] | (d[27] << 8)) & 0x3fff;
          *h = (d[28] | (d[29] << 8)) & 0x3fff;
          return TRUE;
        }
      return FALSE;
    }
  if (len >= 4 && d[0] == 0xff && d[1] == 0xd8)
    {
      /* Walk the JPEG markers up to the first start-of-frame. */
      gsize pos = 2;
      while (pos + 9 < len)
        {
          guint8 marker;
          guint seg;
          if (d[pos] != 0xff)
            return FALSE;
          marker = d[pos + 1];
          if (marker == 0xff)
            {
              pos++;
              continue;
            }
          if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
            {
              pos += 2;
              continue;
            }
          seg = (guint) (d[pos + 2] << 8 | d[pos + 3]);
          if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
              marker != 0xcc)
            {
              *h = (guint) (d[pos + 5] << 8 | d[pos + 6]);
              *w = (guint) (d[pos + 7] << 8 | d[pos + 8]);
              return TRUE;
            }
          if (seg < 2)
            return FALSE;
          pos += 2 + seg;
        }
    }
  return FALSE;
}

static gboolean
set_too_large (GError **error, guint64 w, guint64 h, guint64 max_pixels)
{
  if (w == 0 || h == 0)
    g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE, _("image has no pixels"));
  else
    g_set_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                 _("image too large (%" PRIu64 "×%" PRIu64
                   " pixels, more than %.3g megapixels)"), w, h, max_pixels / 1e6);
  return FALSE;
}

/* GdkPixbuf's PNG and JPEG loaders return the rows they got from a file cut
 * short without an error, so a truncated file would enter the collection
 * as a half-grey image. Both formats end with a marker: look for it near
 * the end (a little trailing junk is common and harmless). */
static gboolean
looks_truncated (const guint8 *data, gsize len)
{
  static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  gsize tail = MIN (len, (gsize) 4096);
  const guint8 *end = data + len - tail;

  if (len >= 8 && memcmp (data, png_magic, 8) == 0)
    return memmem (end, tail, "IEND", 4) == NULL;
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return memmem (end, tail, "\xff\xd9", 2) == NULL;
  return FALSE;
}

gboolean
_lk_image_decode_bytes (const guint8  *data,
                        gsize          len,
                        guint          side,
                        guint64        max_pixels,
                        guint8        *out,
                        guint         *width_out,
                        guint         *height_out,
                        GError       **error)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  SizeCheck check = { side, max_pixels, 0, 0, FALSE };
  GdkPixbuf *pb;
  gsize pos = 0;
  gboolean ok = TRUE;

  {
    guint64 w, h;
    if (peek_size (data, len, &w, &h) && (w * h > max_pixels || w == 0 || h == 0))
      return set_too_large (error, w, h, max_pixels);
  }
  loader = gdk_pixbuf_loader_new ();
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);
  while (pos < len && ok && !check.too_big)
    {
      gsize n = MIN (len - pos, (gsize) FEED_CHUNK);
      ok = gdk_pixbuf_loader_write (loader, data + pos, n, &local_error);
      pos += n;
    }
  /* Some loaders announce the size only when the stream is closed. */
  if (ok && !check.too_big)
    ok = gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);
  if (check.too_big)
    return set_too_large (error, (guint64) MAX (check.width, 0),
                          (guint64) MAX (check.height, 0), max_pixels);
  if (ok && looks_truncated (data, len))
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                           _("truncated image (the file ends before its end marker)"));
      return FALSE;
    }
  pb = gdk_pixbuf_loader_get_pixbuf (loader);
  if (!ok || pb == NULL)
    {
      if (local_error != NULL &&
          g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE))
        g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                             _("not an image (unrecognised format)"));
      else
        g_set_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE, _("damaged or truncated image: %s"),
                     local_error != NULL ? local_error->message : _("no pixels decoded"));
      return FALSE;
    }
  fit_on_white (pb, side, out);
  if (width_out != NULL)
    *width_out = (guint) check.width;
  if (height_out != NULL)
    *height_out = (guint) check.height;
  return TRUE;
}

gboolean
lk_image_decode_file (const char  *path,
                      guint        side,
                      guint64      max_pixels,
                      guint8      *out,
                      guint       *width_out,
                      guint       *height_out,
                      GError     **error)
{
  g_autofree guint8 *data = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (side > 0, FALSE);

  if (max_pixels == 0)
    max_pixels = (guint64) 50 * 1000 * 1000;
  if (!_lk_read_regular_file (path, &data, &len, &local_error) ||
      !_lk_image_decode_bytes (data, len, side, max_pixels, out, width_out, height_out,
                               &local_error))
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, LK_ERROR, local_error->code, "%s: %s", display, local_error->message);
      return FALSE;
    }
  return TRUE;
}
