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
      /* 0×0 is GdkPixbuf's "stop here" (what gdk_pixbuf_get_file_info()
       * asks for): loaders then neither allocate nor decode the image. */
      gdk_pixbuf_loader_set_size (loader, 0, 0);
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

/* The formats a collection may hold, recognised by their magic bytes
 * here rather than by GdkPixbuf's own sniffing, which would hand any file
 * to any installed loader (TGA, XPM, ICO, ANI, PNM, SVG…). Some of those
 * allocate the full image their header claims before they ask for a size
 * (a 64 KB TGA claiming 65535×65535 costs 12 GB), and none of them is a
 * photo format. NULL when the data is none of these. */
static const char *
sniff_format (const guint8 *d, gsize len)
{
  if (len >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "png";
  if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    return "jpeg";
  if (len >= 6 && (memcmp (d, "GIF87a", 6) == 0 || memcmp (d, "GIF89a", 6) == 0))
    return "gif";
  if (len >= 12 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP", 4) == 0)
    return "webp";
  if (len >= 4 && (memcmp (d, "II*\0", 4) == 0 || memcmp (d, "MM\0*", 4) == 0))
    return "tiff";
  if (len >= 2 && d[0] == 'B' && d[1] == 'M')
    return "bmp";
  return NULL;
}

/* GdkPixbuf's BMP loader sizes its header buffer from the header-size
 * and pixel-offset fields before it looks at anything else, so a 60-byte
 * file claiming a 4 GB header makes it allocate 4 GB. Only the header
 * sizes of real BMP versions, and data inside the file, are let through. */
static gboolean
bmp_header_sane (const guint8 *d, gsize len)
{
  static const guint32 sizes[] = { 12, 16, 40, 52, 56, 64, 108, 124 };
  guint32 header, offset;

  if (len < 26)
    return FALSE;
  offset = le32 (d + 10);
  header = le32 (d + 14);
  if (offset > len || offset < 14 + (guint64) header)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (header == sizes[i])
      return TRUE;
  return FALSE;
}

/* GdkPixbuf's GIF loader trusts each frame's size: a frame of height 0
 * inside a 2×2 image ends in GdkPixbuf criticals (found by fuzz-image).
 * Walks the blocks as the loader does (skipping stray bytes between them)
 * and refuses a frame that is empty or reaches outside the logical
 * screen; a file cut short is left to the loader. */
static gboolean
gif_frames_sane (const guint8 *d, gsize len)
{
  guint screen_w = d[6] | d[7] << 8, screen_h = d[8] | d[9] << 8;
  gsize pos = 13;

  if (d[10] & 0x80)
    pos += 3u << ((d[10] & 7) + 1);
  while (pos < len && d[pos] != 0x3b)
    {
      if (d[pos] == 0x2c)
        {
          guint left, top, w, h;
          if (pos + 10 > len)
            return TRUE;
          left = d[pos + 1] | d[pos + 2] << 8;
          top = d[pos + 3] | d[pos + 4] << 8;
          w = d[pos + 5] | d[pos + 6] << 8;
          h = d[pos + 7] | d[pos + 8] << 8;
          if (w == 0 || h == 0 || left + w > screen_w || top + h > screen_h)
            return FALSE;
          if (d[pos + 9] & 0x80)
            pos += 3u << ((d[pos + 9] & 7) + 1);
          pos += 11;   /* descriptor and LZW code size */
        }
      else if (d[pos] == 0x21)
        pos += 2;      /* extension introducer and label */
      else
        {
          pos++;       /* a stray byte: the loader skips it too */
          continue;
        }
      /* Data sub-blocks up to the empty one. */
      while (pos < len && d[pos] != 0)
        pos += 1 + (gsize) d[pos];
      pos++;
    }
  return TRUE;
}

/* Width and height of the first image of a TIFF file, from the tags of
 * its first directory. */
static gboolean
peek_tiff_size (const guint8 *d, gsize len, guint64 *w, guint64 *h)
{
  gboolean le = d[0] == 'I';
  guint64 ifd, n;
  gboolean have_w = FALSE, have_h = FALSE;

#define TIFF16(p) (le ? (guint) ((p)[0] | (p)[1] << 8) : (guint) ((p)[0] << 8 | (p)[1]))
#define TIFF32(p) (le ? le32 (p) : be32 (p))
  if (len < 8)
    return FALSE;
  ifd = TIFF32 (d + 4);
  if (ifd > len || len - ifd < 2)
    return FALSE;
  n = TIFF16 (d + ifd);
  for (guint64 e = 0; e < n && ifd + 2 + 12 * (e + 1) <= len; e++)
    {
      const guint8 *entry = d + ifd + 2 + 12 * e;
      guint tag = TIFF16 (entry), type = TIFF16 (entry + 2);
      guint64 v;
      if (type == 3)
        v = TIFF16 (entry + 8);
      else if (type == 4)
        v = TIFF32 (entry + 8);
      else
        continue;
      if (tag == 256)
        *w = v, have_w = TRUE;
      else if (tag == 257)
        *h = v, have_h = TRUE;
    }
#undef TIFF16
#undef TIFF32
  return have_w && have_h;
}

/* The pixel size claimed by the header of a PNG, JPEG, GIF, BMP, WebP or
 * TIFF file, read without decoding anything. Loaders announce the size only
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
  if (len >= 8 && (memcmp (d, "II*\0", 4) == 0 || memcmp (d, "MM\0*", 4) == 0))
    return peek_tiff_size (d, len, w, h);
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
  const char *format = sniff_format (data, len);
  GdkPixbuf *pb;
  gsize pos = 0;
  gboolean ok = TRUE;

  if (format == NULL)
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                           _("not an image (unrecognised format)"));
      return FALSE;
    }
  if (g_str_equal (format, "gif") && len >= 13 && !gif_frames_sane (data, len))
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                           _("damaged image (a GIF frame is empty or outside the image)"));
      return FALSE;
    }
  if (g_str_equal (format, "bmp") && !bmp_header_sane (data, len))
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                           _("damaged image (impossible BMP header)"));
      return FALSE;
    }
  {
    guint64 w = 0, h = 0;
    if (peek_size (data, len, &w, &h) && (w * h > max_pixels || w == 0 || h == 0))
      return set_too_large (error, w, h, max_pixels);
  }
  loader = gdk_pixbuf_loader_new_with_type (format, &local_error);
  if (loader == NULL)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE,
                   _("not an image this system can decode (no %s loader: %s)"),
                   format, local_error->message);
      return FALSE;
    }
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
