/* make-seeds.c — writes the seed corpora of the fuzz harnesses with the
 * engine's own writers, so the seeds are exactly what Likeness writes.
 *
 *   fuzz-make-seeds DIR     (build-aux/fuzz --seeds uses tests/fuzz/corpus)
 *
 * Each seed is the harness's mode byte followed by the file; see the
 * harness for what the mode means. The image seeds include "bombs": small
 * files whose headers claim huge sizes, in every format GdkPixbuf may
 * sniff; tests/test-limits.c feeds those to the decoder too. */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

#include "collection-private.h"
#include "error.h"
#include "embeddings.h"
#include "model-store.h"
#include "nn-model-file.h"
#include "nn-optim.h"
#include "trainer.h"
#include "relevance.h"
#include "triplets.h"
#include "testutil.h"
#include "fuzz.h"

static const char *out_dir;

static void
put (const char *harness, const char *name, guint8 mode, const void *data, gsize len)
{
  g_autofree char *dir = g_build_filename (out_dir, harness, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree guint8 *buf = g_malloc (len + 1);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (dir, 0755);
  buf[0] = mode;
  memcpy (buf + 1, data, len);
  if (!g_file_set_contents (path, (const char *) buf, (gssize) len + 1, &error))
    g_error ("%s", error->message);
}

static void
put_file (const char *harness, const char *name, guint8 mode, const char *path)
{
  g_autofree gchar *data = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &data, &len, &error))
    g_error ("%s", error->message);
  put (harness, name, mode, data, len);
}

/* ---- image cache ---- */

static void
seeds_cache (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "images.cache", NULL);
  g_autoptr(GArray) skips = g_array_new (FALSE, TRUE, sizeof (LkCachedSkip));
  g_autoptr(GError) error = NULL;
  LkCachedSkip skip = { g_strdup ("apples/broken.png"), 9, 1700000000000000000,
                        g_strdup ("not an image (unrecognised format)") };

  g_array_set_clear_func (skips, _lk_cached_skip_clear);
  g_array_append_val (skips, skip);
  {
    g_autoptr(LkCollection) c = lk_fuzz_small_collection (4, 3, 3, FALSE);
    if (!_lk_cache_write (c, path, "", skips, &error))
      g_error ("%s", error->message);
    put_file ("cache", "folder-skips.fixup", 1, path);
    put_file ("cache", "folder-skips", 0, path);
  }
  {
    g_autoptr(LkCollection) c = lk_fuzz_small_collection (2, 1, 4, TRUE);
    if (!_lk_cache_write (c, path, "train-images-idx3-ubyte.gz:123:456;", NULL, &error))
      g_error ("%s", error->message);
    put_file ("cache", "builtin-splits.fixup", 1, path);
    put_file ("cache", "builtin-splits", 0, path);
  }
  {
    g_autoptr(LkCollection) c = lk_fuzz_small_collection (1, 3, 0, FALSE);
    if (!_lk_cache_write (c, path, "", NULL, &error))
      g_error ("%s", error->message);
    put_file ("cache", "empty.fixup", 1, path);
  }
}

/* ---- IDX ---- */

static GBytes *
gzip (const guint8 *data, gsize len)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (z));
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all (out, data, len, NULL, NULL, &error) ||
      !g_output_stream_close (out, NULL, &error))
    g_error ("%s", error->message);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

static void
seeds_idx (void)
{
  guint8 images[16 + 2 * 3 * 3] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3 };
  guint8 labels[8 + 2] = { 0, 0, 8, 1, 0, 0, 0, 2, 7, 9 };
  guint8 zeros[16 + 28 * 28] = { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28 };
  g_autoptr(GBytes) gz_images = NULL, gz_labels = NULL, gz_zeros = NULL;

  for (guint i = 0; i < 18; i++)
    images[16 + i] = (guint8) (i * 13);
  gz_images = gzip (images, sizeof images);
  gz_labels = gzip (labels, sizeof labels);
  gz_zeros = gzip (zeros, sizeof zeros);
  put ("idx", "images", 0, images, sizeof images);
  put ("idx", "labels", 1, labels, sizeof labels);
  put ("idx", "images-file", 2, images, sizeof images);
  put ("idx", "images.gz", 3, g_bytes_get_data (gz_images, NULL), g_bytes_get_size (gz_images));
  put ("idx", "labels.gz", 3, g_bytes_get_data (gz_labels, NULL), g_bytes_get_size (gz_labels));
  put ("idx", "zeros-28x28.gz", 3, g_bytes_get_data (gz_zeros, NULL), g_bytes_get_size (gz_zeros));
}

/* ---- features ---- */

static void
seeds_features (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "features.bin", NULL);
  guint8 pixels[2 * 8 * 8 * 3];

  for (gsize b = 0; b < sizeof pixels; b++)
    pixels[b] = (guint8) (b * 29 + (b >> 4));
  for (guint channels = 1; channels <= 3; channels += 2)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LkFeatures) f = lk_features_compute (pixels, channels == 1 ? 2 : 1, 8, channels,
                                                     1, NULL, NULL, NULL, &error);
      g_autofree char *name = g_strdup_printf ("channels-%u", channels);
      g_autofree char *fixed = g_strdup_printf ("channels-%u.fixup", channels);
      if (f == NULL || !lk_features_save (f, path, &error))
        g_error ("%s", error->message);
      put_file ("features", name, 0, path);
      put_file ("features", fixed, 1, path);
    }
}

/* ---- relevance ---- */

/* The same features and labels fuzz-relevance.c builds for n images. */
static void
seeds_relevance (const char *tmp)
{
  static const guint dims[LK_N_FEATURES] = { 2, 1, 1, 1 };
  g_autofree char *path = g_build_filename (tmp, "relevance.bin", NULL);
  const guint shapes[][3] = { { 12, 2, 4 }, { 9, 3, 2 }, { 5, 1, 32 } };

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      guint n = shapes[s][0], n_cat = shapes[s][1];
      float data[64 * 5];
      guint16 labels[64];
      g_autoptr(LkFeatures) f = NULL;
      g_autoptr(LkRelevance) rel = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("n%u-c%u-m%u", n, n_cat, shapes[s][2]);
      g_autofree char *fixed = g_strdup_printf ("%s.fixup", name);
      LkGoldenWeights w;
      LkRelevanceParams params;

      for (guint i = 0; i < n; i++)
        {
          labels[i] = (guint16) (i % n_cat);
          for (guint c = 0; c < 5; c++)
            data[i * 5 + c] = (float) ((i * 7 + c * 3) % 11) / 11.0f;
        }
      f = lk_features_new_from_data (n, dims, data);
      lk_golden_weights_init_default (&w);
      lk_relevance_params_init (&params);
      params.top_m = shapes[s][2];
      rel = lk_relevance_compute (f, labels, n_cat, &w, &params, NULL, NULL, NULL, &error);
      if (rel == NULL || !lk_relevance_save (rel, path, &error))
        g_error ("%s", error->message);
      put_file ("relevance", name, 0, path);
      put_file ("relevance", fixed, 1, path);
    }
}

/* ---- images ---- */

#define IMAGE_MODE 0x38   /* side 32, 1-megapixel limit, from memory */

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24), p[1] = (guint8) (v >> 16), p[2] = (guint8) (v >> 8), p[3] = (guint8) v;
}

/* A PNG whose IHDR claims w×h, with a deflate stream of zeros that would
 * inflate to far more than its size. */
static void
put_png_bomb (const char *name, guint32 w, guint32 h)
{
  g_autoptr(GByteArray) png = g_byte_array_new ();
  guint8 ihdr[25] = { 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  guint8 chunk[12];
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree guint8 *zeros = g_malloc0 (1 << 20);
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  guint8 idat[8192];
  gsize read, written;
  g_autoptr(GError) error = NULL;

  g_byte_array_append (png, sig, 8);
  put_be32 (ihdr + 8, w);
  put_be32 (ihdr + 12, h);
  ihdr[16] = 8, ihdr[17] = 2;   /* 8-bit RGB */
  put_be32 (ihdr + 21, lk_test_crc32 (ihdr + 4, 17));
  g_byte_array_append (png, ihdr, 25);
  if (g_converter_convert (G_CONVERTER (z), zeros, 1 << 20, idat + 8, sizeof idat - 12,
                           G_CONVERTER_INPUT_AT_END, &read, &written, &error) == G_CONVERTER_ERROR)
    g_error ("%s", error->message);
  put_be32 (idat, (guint32) written);
  memcpy (idat + 4, "IDAT", 4);
  put_be32 (idat + 8 + written, lk_test_crc32 (idat + 4, written + 4));
  g_byte_array_append (png, idat, (guint) written + 12);
  put_be32 (chunk, 0);
  memcpy (chunk + 4, "IEND", 4);
  put_be32 (chunk + 8, lk_test_crc32 (chunk + 4, 4));
  g_byte_array_append (png, chunk, 12);
  put ("image", name, IMAGE_MODE, png->data, png->len);
}

static void
put_saved (const char *type, const char *name, int w, int h, gboolean alpha)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, w, h);
  g_autoptr(GError) error = NULL;
  gchar *buf = NULL;
  gsize len = 0;
  guint8 *px = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb), nch = alpha ? 4 : 3;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < nch; c++)
        px[y * stride + x * nch + c] = (guint8) (c == 3 ? 128 + x * 8 : x * 40 + y * 20 + c * 60);
  if (!gdk_pixbuf_save_to_buffer (pb, &buf, &len, type, &error, NULL))
    {
      g_printerr ("no %s saver: %s\n", type, error->message);
      return;
    }
  put ("image", name, IMAGE_MODE, buf, len);
  g_free (buf);
}

static void
seeds_image (void)
{
  /* A 2×2 GIF (GdkPixbuf has no GIF saver). */
  static const guint8 gif[] = {
    'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0, 0x80, 0, 0,
    0xff, 0, 0, 0, 0, 0xff,
    0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0,
    2, 3, 0x84, 0x1d, 0x05, 0, 0x3b,
  };
  /* Headers claiming 65535×65535 or more, in every sniffable format. */
  static const guint8 gif_bomb[] = {
    'G', 'I', 'F', '8', '9', 'a', 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0,
    0, 0, 0, 0xff, 0xff, 0xff,
    0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0,
    2, 2, 0x44, 0x01, 0, 0x3b,
  };
  static const guint8 jpeg_bomb[] = {
    0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0xff, 0xdc, 0xff, 0xdc, 1, 1, 0x11, 0,
    0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, 0, 0, 0, 0xff, 0xd9,
  };
  static const guint8 bmp_bomb[54] = {
    'B', 'M', 54, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0,
    0x60, 0xea, 0, 0, 0x60, 0xea, 0, 0, 1, 0, 24, 0,
  };
  /* Little-endian TIFF, 60000×60000 8-bit gray, one strip of 16 bytes. */
  static const guint8 tiff_bomb[] = {
    'I', 'I', 42, 0, 8, 0, 0, 0,
    9, 0,
    0x00, 0x01, 4, 0, 1, 0, 0, 0, 0x60, 0xea, 0, 0,    /* ImageWidth 60000 */
    0x01, 0x01, 4, 0, 1, 0, 0, 0, 0x60, 0xea, 0, 0,    /* ImageLength 60000 */
    0x02, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0,          /* BitsPerSample 8 */
    0x03, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,          /* Compression none */
    0x06, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,          /* BlackIsZero */
    0x11, 0x01, 4, 0, 1, 0, 0, 0, 122, 0, 0, 0,        /* StripOffsets */
    0x15, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,          /* SamplesPerPixel 1 */
    0x16, 0x01, 4, 0, 1, 0, 0, 0, 0x60, 0xea, 0, 0,    /* RowsPerStrip */
    0x17, 0x01, 4, 0, 1, 0, 0, 0, 16, 0, 0, 0,         /* StripByteCounts 16 */
    0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  };
  static const char pnm_bomb[] = "P6\n60000 60000\n255\n\x01\x02\x03\x04\x05\x06";
  static const char xbm_bomb[] = "#define b_width 60000\n#define b_height 60000\n"
                                 "static unsigned char b_bits[] = { 0x00, 0x01 };\n";
  static const char xpm_bomb[] = "/* XPM */\nstatic char *b[] = {\n\"60000 60000 1 1\",\n"
                                 "\"a c #ff0000\",\n\"aaaa\"\n};\n";
  static const char svg_bomb[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" "
                                 "height=\"100000\"><rect width=\"100%\" height=\"100%\" "
                                 "fill=\"red\"/></svg>\n";
  static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" "
                            "height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\" fill=\"blue\"/></svg>\n";
  /* TGA: uncompressed true-colour, 65535×65535. */
  static const guint8 tga_bomb[18 + 6] = { 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                           0xff, 0xff, 0xff, 0xff, 24, 0 };
  /* ICO with one 256×256 (0 = 256) entry claiming a huge PNG inside. */
  guint8 ico_bomb[22 + 33];
  g_autoptr(GByteArray) ico = NULL;

  put_saved ("png", "rgba.png", 7, 5, TRUE);
  put_saved ("png", "rgb-wide.png", 40, 3, FALSE);
  put_saved ("jpeg", "rgb.jpg", 9, 13, FALSE);
  put_saved ("bmp", "rgb.bmp", 5, 4, FALSE);
  put_saved ("tiff", "rgba.tiff", 6, 6, TRUE);
  put_saved ("ico", "rgba.ico", 16, 16, TRUE);
  put ("image", "tiny.gif", IMAGE_MODE, gif, sizeof gif);
  put ("image", "tiny.svg", IMAGE_MODE, svg, strlen (svg));
  put ("image", "tiny.png.file", IMAGE_MODE | 0x80, "\x89PNG", 4);

  put_png_bomb ("bomb-30000x30000.png", 30000, 30000);
  put_png_bomb ("bomb-2000x2000.png", 2000, 2000);   /* within 50 MP, over 1 MP */
  put ("image", "bomb-65535x65535.gif", IMAGE_MODE, gif_bomb, sizeof gif_bomb);
  put ("image", "bomb-65500x65500.jpg", IMAGE_MODE, jpeg_bomb, sizeof jpeg_bomb);
  put ("image", "bomb-60000x60000.bmp", IMAGE_MODE, bmp_bomb, sizeof bmp_bomb);
  put ("image", "bomb-60000x60000.tiff", IMAGE_MODE, tiff_bomb, sizeof tiff_bomb);
  put ("image", "bomb-60000x60000.pnm", IMAGE_MODE, pnm_bomb, sizeof pnm_bomb - 1);
  put ("image", "bomb-60000x60000.xbm", IMAGE_MODE, xbm_bomb, strlen (xbm_bomb));
  put ("image", "bomb-60000x60000.xpm", IMAGE_MODE, xpm_bomb, strlen (xpm_bomb));
  put ("image", "bomb-100000x100000.svg", IMAGE_MODE, svg_bomb, strlen (svg_bomb));
  put ("image", "bomb-65535x65535.tga", IMAGE_MODE, tga_bomb, sizeof tga_bomb);

  /* ICONDIR + one entry pointing at a PNG header claiming 30000×30000. */
  memset (ico_bomb, 0, sizeof ico_bomb);
  ico_bomb[2] = 1, ico_bomb[4] = 1;
  ico_bomb[6 + 4] = 1, ico_bomb[6 + 6] = 32;
  ico_bomb[6 + 8] = 33;                  /* bytes in resource */
  ico_bomb[6 + 12] = 22;                 /* offset */
  memcpy (ico_bomb + 22, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  put_be32 (ico_bomb + 22 + 16, 30000);
  put_be32 (ico_bomb + 22 + 20, 30000);
  ico_bomb[22 + 24] = 8, ico_bomb[22 + 25] = 6;
  put_be32 (ico_bomb + 22 + 29, lk_test_crc32 (ico_bomb + 22 + 12, 17));
  ico = g_byte_array_new ();
  g_byte_array_append (ico, ico_bomb, sizeof ico_bomb);
  put ("image", "bomb-30000x30000.ico", IMAGE_MODE, ico->data, ico->len);
}

/* ---- embeddings ---- */

static void
seeds_embedding (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "golden.emb", NULL);
  g_autoptr(GError) error = NULL;
  float *rows = g_new (float, 3 * 4);
  g_autoptr(LkEmbedding) e = NULL;

  for (guint i = 0; i < 12; i++)
    rows[i] = (float) i / 7.0f - 0.5f;
  e = lk_embedding_new_take ("golden", "Golden features", LK_EMBEDDING_BASELINE,
                             "seeds-0123456789ab", 3, 4, 0x1234, 0x5678, rows);
  if (!lk_embedding_save (e, path, &error))
    g_error ("%s", error->message);
  put_file ("embedding", "golden-3x4", 0, path);
  put_file ("embedding", "golden-3x4.fixup", 1, path);
}

/* ---- triplets CSV ---- */

static void
seeds_triplets (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "triplets.csv", NULL);
  g_autoptr(LkCollection) c = lk_fuzz_small_collection (2, 3, 12, FALSE);
  g_autoptr(GError) error = NULL;
  static const char messy[] =
    "query,positive,negative,rating,rater\n"
    "apples/00000.png,apples/00002.png,pears/00001.png\n"
    "\"apples/00004.png\",pears/00003.png,apples/00006.png,B,\"bob, \"\"the\"\" rater\"\n"
    "apples/00000.png,apples/00000.png,pears/00001.png,A\n"
    "apples/00000.png,../outside.png,pears/00001.png\n"
    "apples/00008.png,apples/00010.png,pears/00005.png,both-similar,alice\n"
    "apples/00008.png,apples/00010.png\n"
    "apples/00008.png,apples/00010.png,pears/00007.png,maybe\n"
    "apples/00002.png,apples/00004.png,pears/00009.png,skip";

  for (guint k = 0; k < 3; k++)
    if (!lk_triplets_append (path, c, 2 * k, 2 * k + 2, 2 * k + 1, k == 1 ? LK_RATING_B : LK_RATING_A,
                             k == 2 ? "alice" : NULL, &error))
      g_error ("%s", error->message);
  put_file ("triplets", "appended.csv", 0, path);
  put ("triplets", "messy.csv", 0, messy, sizeof messy - 1);
}

/* ---- NN model files ---- */

static void
seeds_model (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "model.lknn", NULL);
  g_autoptr(LkNnSpec) spec = lk_nn_spec_new ();
  g_autoptr(LkNnNet) net = NULL;
  g_autoptr(GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  static const guint8 opaque[3] = { 1, 2, 3 };
  const LkNnBlob blob = { "sampler", opaque, sizeof opaque };
  LkNnSaveOptions options = { meta, NULL, &blob, 1 };
  int x = lk_nn_spec_add_image (spec, "image", 1, 4, 4);

  x = lk_nn_spec_add_conv (spec, "c1", x, 2, 3, 1, 1);
  x = lk_nn_spec_add_relu (spec, "r1", x);
  x = lk_nn_spec_add_max_pool (spec, "p1", x, 2, 2, 0, FALSE);
  x = lk_nn_spec_add_fc (spec, "f1", x, 3);
  lk_nn_spec_add_output (spec, "embedding", lk_nn_spec_add_l2norm (spec, "n1", x));
  net = lk_nn_net_new (spec, 1, 1, 0, &error);
  if (net == NULL)
    g_error ("%s", error->message);
  lk_nn_net_init_params (net, 7);
  g_hash_table_insert (meta, "preset", "tiny");
  if (!lk_nn_model_save (path, net, &options, &error))
    g_error ("%s", error->message);
  put_file ("model", "tiny", 0, path);
  put_file ("model", "tiny.fixup", 1, path);

  /* The same network as a Likeness model (what lk_model_load() checks). */
  g_hash_table_insert (meta, "likeness.model", "1");
  g_hash_table_insert (meta, "model.name", "tiny");
  g_hash_table_insert (meta, "model.preset", "tiny");
  g_hash_table_insert (meta, "model.ablation", "deep-ranking");
  g_hash_table_insert (meta, "model.input.side", "4");
  g_hash_table_insert (meta, "model.input.channels", "1");
  g_hash_table_insert (meta, "model.input.mean", "0.5");
  g_hash_table_insert (meta, "model.input.std", "0.25");
  g_hash_table_insert (meta, "model.golden.weights", "1,1,1,1");
  if (!lk_nn_model_save (path, net, &options, &error))
    g_error ("%s", error->message);
  {
    g_autoptr(LkModel) m = lk_model_load (path, &error);
    if (m == NULL)
      g_error ("the Likeness model seed does not load: %s", error->message);
  }
  put_file ("model", "likeness", 0, path);
  put_file ("model", "likeness.fixup", 1, path);
}

/* A checkpoint of the harness's collection (lk_fuzz_small_collection (8,
 * 1, 12, FALSE)) for lk_trainer_new_resume(): the metadata and loss
 * history of a real one-step training, saved with the small network and
 * its optimiser so that the file stays a few kilobytes. */
static void
seeds_checkpoint (const char *tmp)
{
  g_autofree char *path = g_build_filename (tmp, "checkpoint.lkm", NULL);
  g_autoptr(LkCollection) c = lk_fuzz_small_collection (8, 1, 12, FALSE);
  g_autoptr(LkTrainer) t = NULL;
  g_autoptr(LkModelInfo) info = NULL;
  g_autoptr(LkNnModel) real = NULL;
  g_autoptr(GBytes) history = NULL;
  g_autoptr(GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(LkNnSpec) spec = lk_nn_spec_new ();
  g_autoptr(LkNnNet) net = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **keys = NULL;
  LkNnSgd *sgd;
  LkNnSgdParams sp;
  LkTrainParams p;
  LkNnBlob blob = { "history", NULL, 0 };
  LkNnSaveOptions options = { meta, NULL, &blob, 1 };
  int x = lk_nn_spec_add_image (spec, "image", 1, 4, 4);

  lk_train_params_init (&p, LK_PRESET_TINY);
  p.ablation = LK_ABLATION_CONVNET;
  p.pretrain_steps = 1;
  p.ranking_steps = 0;
  p.budget_seconds = 0;
  p.pretrain_batch = 4;
  p.n_threads = 1;
  p.checkpoint_steps = 1;
  p.embed_when_done = FALSE;
  t = lk_trainer_new (c, "fz", &p, &error);
  if (t == NULL || !lk_trainer_run (t, NULL, &error))
    g_error ("%s", error->message);
  info = lk_model_store_get (c, "fz", &error);
  if (info == NULL || info->checkpoints->len == 0)
    g_error ("no checkpoint");
  real = lk_nn_model_load (((LkCheckpointInfo *) info->checkpoints->pdata[0])->path, &error);
  if (real == NULL)
    g_error ("%s", error->message);
  keys = lk_nn_model_get_metadata_keys (real);
  for (guint k = 0; keys[k] != NULL; k++)
    g_hash_table_insert (meta, (char *) keys[k], (char *) lk_nn_model_get_metadata (real, keys[k]));
  g_hash_table_insert (meta, "model.input.side", "4");
  history = lk_nn_model_get_blob (real, "history");
  blob.data = g_bytes_get_data (history, &blob.size);

  x = lk_nn_spec_add_fc (spec, "f1", x, 3);
  lk_nn_spec_add_output (spec, "embedding", lk_nn_spec_add_l2norm (spec, "n1", x));
  net = lk_nn_net_new (spec, 1, 1, 0, &error);
  if (net == NULL)
    g_error ("%s", error->message);
  lk_nn_net_init_params (net, 7);
  lk_nn_sgd_params_init (&sp);
  sgd = lk_nn_sgd_new (net, &sp);
  options.sgd = sgd;
  if (!lk_nn_model_save (path, net, &options, &error))
    g_error ("%s", error->message);
  lk_nn_sgd_free (sgd);
  lk_test_rm_rf (info->dir);
  /* Mode bit 1: the harness also resumes it as model "fz". */
  put_file ("model", "checkpoint", 2, path);
  put_file ("model", "checkpoint.fixup", 3, path);
}

int
main (int argc, char **argv)
{
  g_autofree char *tmp = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: fuzz-make-seeds DIR\n");
      return 2;
    }
  out_dir = argv[1];
  tmp = g_dir_make_tmp ("likeness-seeds-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", tmp, TRUE);
  seeds_cache (tmp);
  seeds_idx ();
  seeds_features (tmp);
  seeds_relevance (tmp);
  seeds_image ();
  seeds_embedding (tmp);
  seeds_triplets (tmp);
  seeds_model (tmp);
  seeds_checkpoint (tmp);
  lk_test_rm_rf (tmp);
  return 0;
}
