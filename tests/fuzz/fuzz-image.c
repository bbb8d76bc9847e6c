/* fuzz-image.c — decoding one image through the project's loader
 * (decode.c: the header peek, the pixel limit, GdkPixbuf's loaders, the fit
 * on white), as a scan does it.
 *
 * Input: a mode byte, then the file. Mode: bits 0–4 pick the tensor side
 * (8–39), bits 5–6 the pixel limit (64 K, 1 M, 4 M or the default 50 M
 * pixels), bit 7 goes through lk_image_decode_file() on a real file instead
 * of decoding from memory. Whatever the input, the call must return with
 * either a full tensor or a GError, within the limit. */
#include "config.h"

#include "collection-private.h"
#include "error.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const guint64 limits[4] = { 1 << 16, 1000 * 1000, 4000 * 1000, 50 * 1000 * 1000 };
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *out = NULL;
  guint side, w = 0, h = 0;
  guint64 max_pixels;
  gboolean ok;

  if (size < 1)
    return 0;
  lk_fuzz_init ();
  side = 8 + (data[0] & 31);
  max_pixels = limits[(data[0] >> 5) & 3];
  out = g_malloc ((gsize) side * side * 3);
  if (data[0] & 0x80)
    {
      const char *path = lk_fuzz_write_file ("input-image", data + 1, size - 1);
      ok = lk_image_decode_file (path, side, max_pixels, out, &w, &h, &error);
    }
  else
    ok = _lk_image_decode_bytes (data + 1, size - 1, side, max_pixels, out, &w, &h, &error);
  if (ok)
    {
      g_assert_no_error (error);
      g_assert_cmpuint ((guint64) w * h, <=, max_pixels);
      g_assert_cmpuint (w, >, 0);
      lk_fuzz_touch (out, (gsize) side * side * 3);
    }
  else
    g_assert_error (error, LK_ERROR, LK_ERROR_BAD_IMAGE);
  return 0;
}
