/* idx.c — the IDX format of MNIST and Fashion-MNIST.
 *
 * An IDX file is a big-endian header — two zero bytes, a type byte (0x08
 * for unsigned bytes), the number of dimensions — then one 32-bit size per
 * dimension, then the data. Debian ships them gzip-compressed. Everything
 * is checked against the real length before it is read. */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "collection-private.h"
#include "error.h"

/* Decompressed IDX files larger than this are refused (gzip bombs). */
#define IDX_MAX_SIZE ((gsize) 1 << 30)

gboolean
_lk_idx_parse (const guint8  *data,
               gsize          len,
               guint          expected_dims,
               guint32       *dims_out,
               const guint8 **payload_out,
               GError       **error)
{
  guint64 count = 1;
  gsize header;

  if (len < 4 || data[0] != 0 || data[1] != 0)
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_CORRUPT, _("not an IDX file"));
      return FALSE;
    }
  if (data[2] != 0x08)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("IDX data of type 0x%02x, expected unsigned bytes (0x08)"), data[2]);
      return FALSE;
    }
  if (data[3] != expected_dims)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("IDX file with %u dimensions, expected %u"), data[3], expected_dims);
      return FALSE;
    }
  header = 4 + 4 * (gsize) expected_dims;
  if (len < header)
    {
      g_set_error_literal (error, LK_ERROR, LK_ERROR_CORRUPT, _("IDX header is truncated"));
      return FALSE;
    }
  for (guint d = 0; d < expected_dims; d++)
    {
      guint32 v;
      memcpy (&v, data + 4 + 4 * d, 4);
      dims_out[d] = GUINT32_FROM_BE (v);
      count *= dims_out[d];
      if (count > IDX_MAX_SIZE)
        {
          g_set_error_literal (error, LK_ERROR, LK_ERROR_CORRUPT, _("IDX sizes are too large"));
          return FALSE;
        }
    }
  if (len - header != count)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                   _("IDX file holds %zu bytes of data, its header says %" PRIu64), len - header, count);
      return FALSE;
    }
  *payload_out = data + header;
  return TRUE;
}

GBytes *
_lk_idx_load_file (const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GInputStream) raw = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) local_error = NULL;
  guint8 buf[1 << 16];

  raw = G_INPUT_STREAM (g_file_read (file, cancellable, &local_error));
  if (raw == NULL)
    goto fail;
  if (g_str_has_suffix (path, ".gz"))
    {
      g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      in = g_converter_input_stream_new (raw, G_CONVERTER (z));
    }
  else
    in = g_object_ref (raw);

  for (;;)
    {
      gssize n = g_input_stream_read (in, buf, sizeof buf, cancellable, &local_error);
      if (n < 0)
        goto fail;
      if (n == 0)
        break;
      if (out->len + (gsize) n > IDX_MAX_SIZE)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
                       _("%s: larger than %u MiB once decompressed"), path,
                       (guint) (IDX_MAX_SIZE >> 20));
          return NULL;
        }
      g_byte_array_append (out, buf, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));

fail:
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    g_set_error (error, LK_ERROR,
                 g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                 ? LK_ERROR_NOT_FOUND : LK_ERROR_CORRUPT,
                 "%s: %s", path, local_error->message);
  return NULL;
}
