/* cache.c — the decoded-image cache of a collection.
 *
 * One file per collection and tensor side:
 *   $XDG_CACHE_HOME/likeness/<collection id>/images-<side>.cache
 *
 * Layout (little-endian), version 1:
 *   header   128 bytes: magic "LKIMGCH\0", u32 version, u32 header size,
 *            u32 side, u32 channels, u32 n_images, u32 n_categories,
 *            u32 n_skips, u32 flags (1 = built-in), u64 meta offset,
 *            u64 meta size, u64 pixels offset, u64 pixels size,
 *            u64 file size, u64 checksum, zero padding
 *   meta     strings are u32 length (with the NUL) + bytes ending in NUL:
 *            id, name, source, then n_categories names, then per image
 *            u16 category, u8 split, u8 0, u32 width, u32 height,
 *            u64 file size, i64 mtime (ns), path; then per skip u64 size,
 *            i64 mtime, path, reason
 *   pixels   at a 4096-byte boundary: (N, side, side, channels) uint8
 *
 * The checksum (lk_hash64) covers the header (with the checksum field
 * zero) and the meta block. The pixels are not hashed so that reopening
 * maps them without reading 50–100 MB; the file is written to a temporary
 * and renamed, so it is whole or absent, and its length is checked. A
 * file that fails any check is rebuilt. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "collection-private.h"
#include "error.h"

#define CACHE_MAGIC "LKIMGCH"
#define CACHE_VERSION 1
#define HEADER_SIZE 128
#define PIXEL_ALIGN 4096

typedef struct {
  char     magic[8];
  guint32  version;
  guint32  header_size;
  guint32  side;
  guint32  channels;
  guint32  n_images;
  guint32  n_categories;
  guint32  n_skips;
  guint32  flags;
  guint64  meta_offset;
  guint64  meta_size;
  guint64  pixels_offset;
  guint64  pixels_size;
  guint64  file_size;
  guint64  checksum;
  guint8   reserved[HEADER_SIZE - 88];
} CacheHeader;

G_STATIC_ASSERT (sizeof (CacheHeader) == HEADER_SIZE);
G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);

struct _LkCache
{
  LkCollection *coll;
  char *source;
  GArray *skips;            /* LkCachedSkip */
  GHashTable *skip_index;   /* relpath -> LkCachedSkip*, built on first use */
};

void
_lk_cached_skip_clear (gpointer data)
{
  LkCachedSkip *s = data;
  g_clear_pointer (&s->relpath, g_free);
  g_clear_pointer (&s->reason, g_free);
}

char *
_lk_cache_path_for (const char *collection_id, guint side)
{
  g_autofree char *dir = lk_cache_dir_for (collection_id);
  g_autofree char *name = g_strdup_printf ("images-%u.cache", side);
  return g_build_filename (dir, name, NULL);
}

/* Writing ----------------------------------------------------------------- */

static void
put_u32 (GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 4);
}

static void
put_u64 (GByteArray *b, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 8);
}

static void
put_str (GByteArray *b, const char *s)
{
  gsize len = strlen (s) + 1;
  put_u32 (b, (guint32) len);
  g_byte_array_append (b, (const guint8 *) s, (guint) len);
}

gboolean
_lk_cache_write (LkCollection *self,
                 const char   *path,
                 const char   *source,
                 GArray       *decode_skips,
                 GError      **error)
{
  g_autoptr(GByteArray) meta = g_byte_array_new ();
  static const guint8 zeros[PIXEL_ALIGN] = { 0 };
  CacheHeader h;
  LkAtomicFile *file;
  guint64 meta_end, pixels_size;
  guint n_skips = decode_skips != NULL ? decode_skips->len : 0;
  guint64 hash;

  put_str (meta, self->id);
  put_str (meta, self->name);
  put_str (meta, source);
  for (guint c = 0; c < self->n_categories; c++)
    put_str (meta, self->category_names[c]);
  for (guint i = 0; i < self->n_images; i++)
    {
      guint8 small[4] = { 0 };
      guint16 cat = GUINT16_TO_LE (self->labels[i]);
      memcpy (small, &cat, 2);
      small[2] = self->splits != NULL ? self->splits[i] : 0;
      g_byte_array_append (meta, small, 4);
      put_u32 (meta, self->widths != NULL ? self->widths[i] : self->side);
      put_u32 (meta, self->heights != NULL ? self->heights[i] : self->side);
      put_u64 (meta, self->file_sizes != NULL ? self->file_sizes[i] : 0);
      put_u64 (meta, self->mtimes != NULL ? (guint64) self->mtimes[i] : 0);
      put_str (meta, self->paths[i]);
    }
  for (guint s = 0; s < n_skips; s++)
    {
      const LkCachedSkip *skip = &g_array_index (decode_skips, LkCachedSkip, s);
      put_u64 (meta, skip->size);
      put_u64 (meta, (guint64) skip->mtime_ns);
      put_str (meta, skip->relpath);
      put_str (meta, skip->reason);
    }

  pixels_size = (guint64) self->n_images * self->side * self->side * self->channels;
  meta_end = HEADER_SIZE + meta->len;
  memset (&h, 0, sizeof h);
  memcpy (h.magic, CACHE_MAGIC, 8);
  h.version = CACHE_VERSION;
  h.header_size = HEADER_SIZE;
  h.side = self->side;
  h.channels = self->channels;
  h.n_images = self->n_images;
  h.n_categories = self->n_categories;
  h.n_skips = n_skips;
  h.flags = self->builtin ? 1 : 0;
  h.meta_offset = HEADER_SIZE;
  h.meta_size = meta->len;
  h.pixels_offset = (meta_end + PIXEL_ALIGN - 1) / PIXEL_ALIGN * PIXEL_ALIGN;
  h.pixels_size = pixels_size;
  h.file_size = h.pixels_offset + pixels_size;
  hash = lk_hash64 (&h, sizeof h, 0);
  h.checksum = lk_hash64 (meta->data, meta->len, hash);

  file = lk_atomic_file_open (path, error);
  if (file == NULL)
    return FALSE;
  if (!lk_atomic_file_write (file, &h, sizeof h, error) ||
      !lk_atomic_file_write (file, meta->data, meta->len, error) ||
      !lk_atomic_file_write (file, zeros, h.pixels_offset - meta_end, error) ||
      !lk_atomic_file_write (file, self->pixels, pixels_size, error))
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
  return lk_atomic_file_commit (file, error);
}

/* Reading ----------------------------------------------------------------- */

typedef struct {
  const guint8 *p;
  gsize left;
  gboolean ok;
} Reader;

static const guint8 *
take (Reader *r, gsize n)
{
  const guint8 *p = r->p;
  if (!r->ok || r->left < n)
    {
      r->ok = FALSE;
      return NULL;
    }
  r->p += n;
  r->left -= n;
  return p;
}

static guint32
get_u32 (Reader *r)
{
  const guint8 *p = take (r, 4);
  guint32 v = 0;
  if (p != NULL)
    memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint64
get_u64 (Reader *r)
{
  const guint8 *p = take (r, 8);
  guint64 v = 0;
  if (p != NULL)
    memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

/* A NUL-terminated string inside the mapping, or NULL. */
static const char *
get_str (Reader *r)
{
  guint32 len = get_u32 (r);
  const char *s;

  if (len == 0 || len > r->left)
    {
      r->ok = FALSE;
      return NULL;
    }
  s = (const char *) take (r, len);
  if (s == NULL || s[len - 1] != '\0' || strlen (s) != len - 1)
    {
      r->ok = FALSE;
      return NULL;
    }
  return s;
}

static gboolean
corrupt (GError **error, const char *path, const char *why)
{
  g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("%s: damaged cache file (%s)"), path, why);
  return FALSE;
}

static gboolean
check_header (const CacheHeader *h, gsize len, const char *path,
              guint side, guint channels, GError **error)
{
  if (len < HEADER_SIZE || memcmp (h->magic, CACHE_MAGIC, 8) != 0)
    return corrupt (error, path, _("not a Likeness image cache"));
  if (h->version != CACHE_VERSION || h->header_size != HEADER_SIZE)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION,
                   _("%s: image cache of version %u, this version reads %u"),
                   path, h->version, CACHE_VERSION);
      return FALSE;
    }
  if (h->side != side || h->channels != channels)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("%s: cache of %u×%u×%u images, expected %u×%u×%u"), path,
                   h->side, h->side, h->channels, side, side, channels);
      return FALSE;
    }
  if (h->file_size != len)
    return corrupt (error, path, _("wrong length"));
  if (h->meta_offset != HEADER_SIZE || h->meta_size > len - HEADER_SIZE ||
      h->pixels_offset < HEADER_SIZE + h->meta_size || h->pixels_offset % PIXEL_ALIGN != 0 ||
      h->pixels_offset > len ||
      h->pixels_size != (guint64) h->n_images * side * side * channels ||
      h->pixels_size != len - h->pixels_offset)
    return corrupt (error, path, _("inconsistent sizes"));
  if (h->n_categories == 0 || h->n_categories > G_MAXUINT16)
    return corrupt (error, path, _("bad category count"));
  return TRUE;
}

static gboolean
parse_meta (LkCache *cache, const CacheHeader *h, const guint8 *data,
            const char *path, GError **error)
{
  LkCollection *self = cache->coll;
  Reader r = { data + HEADER_SIZE, h->meta_size, TRUE };
  const char *id = get_str (&r), *name = get_str (&r), *source = get_str (&r);
  guint n = h->n_images;

  /* Every image takes at least 30 bytes of meta: bound n before allocating. */
  if (!r.ok || (guint64) n * 30 > h->meta_size)
    return corrupt (error, path, _("bad header strings"));
  self->id = g_strdup (id);
  self->name = g_strdup (name);
  cache->source = g_strdup (source);
  self->n_categories = h->n_categories;
  self->category_names = g_new0 (char *, self->n_categories + 1);
  for (guint c = 0; c < self->n_categories; c++)
    {
      const char *cn = get_str (&r);
      self->category_names[c] = g_strdup (cn != NULL ? cn : "");
    }
  self->n_images = n;
  self->labels = g_new (guint16, MAX (n, 1));
  self->splits = g_new (guint8, MAX (n, 1));
  self->paths = g_new (char *, MAX (n, 1));
  self->file_sizes = g_new (guint64, MAX (n, 1));
  self->mtimes = g_new (gint64, MAX (n, 1));
  self->widths = g_new (guint32, MAX (n, 1));
  self->heights = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n && r.ok; i++)
    {
      const guint8 *small = take (&r, 4);
      guint16 cat = 0;
      if (small == NULL)
        break;
      memcpy (&cat, small, 2);
      self->labels[i] = GUINT16_FROM_LE (cat);
      self->splits[i] = small[2];
      self->widths[i] = get_u32 (&r);
      self->heights[i] = get_u32 (&r);
      self->file_sizes[i] = get_u64 (&r);
      self->mtimes[i] = (gint64) get_u64 (&r);
      self->paths[i] = (char *) get_str (&r);
      if (self->labels[i] >= self->n_categories || self->splits[i] > LK_SPLIT_TEST)
        r.ok = FALSE;
    }
  for (guint s = 0; s < h->n_skips && r.ok; s++)
    {
      LkCachedSkip skip;
      skip.size = get_u64 (&r);
      skip.mtime_ns = (gint64) get_u64 (&r);
      skip.relpath = g_strdup (get_str (&r));
      skip.reason = g_strdup (get_str (&r));
      g_array_append_val (cache->skips, skip);
    }
  if (!r.ok || r.left != 0)
    {
      self->n_images = 0;  /* the arrays are only partly filled */
      return corrupt (error, path, _("bad image table"));
    }
  _lk_collection_count_categories (self);
  return TRUE;
}

LkCache *
_lk_cache_open (const char *path, guint side, guint channels, GError **error)
{
  g_autoptr(LkMapped) mapped = NULL;
  g_autoptr(LkCache) cache = NULL;
  const guint8 *data;
  CacheHeader h;
  gsize len;
  guint64 expected, hash;

  mapped = lk_mapped_open (path, error);
  if (mapped == NULL)
    return NULL;
  data = lk_mapped_data (mapped);
  len = lk_mapped_size (mapped);
  if (len < HEADER_SIZE)
    {
      corrupt (error, path, _("truncated"));
      return NULL;
    }
  memcpy (&h, data, sizeof h);
  if (!check_header (&h, len, path, side, channels, error))
    return NULL;
  expected = h.checksum;
  h.checksum = 0;
  hash = lk_hash64 (&h, sizeof h, 0);
  if (lk_hash64 (data + HEADER_SIZE, h.meta_size, hash) != expected)
    {
      corrupt (error, path, _("checksum mismatch"));
      return NULL;
    }

  cache = g_new0 (LkCache, 1);
  cache->skips = g_array_new (FALSE, TRUE, sizeof (LkCachedSkip));
  g_array_set_clear_func (cache->skips, _lk_cached_skip_clear);
  cache->coll = _lk_collection_new ();
  cache->coll->side = side;
  cache->coll->channels = channels;
  cache->coll->builtin = (h.flags & 1) != 0;
  if (!parse_meta (cache, &h, data, path, error))
    return NULL;
  cache->coll->pixels = data + h.pixels_offset;
  cache->coll->mapped = g_steal_pointer (&mapped);
  return g_steal_pointer (&cache);
}

void
_lk_cache_free (LkCache *cache)
{
  if (cache == NULL)
    return;
  lk_collection_unref (cache->coll);
  g_free (cache->source);
  g_array_unref (cache->skips);
  if (cache->skip_index != NULL)
    g_hash_table_unref (cache->skip_index);
  g_free (cache);
}

const char *
_lk_cache_get_source (LkCache *cache)
{
  return cache->source;
}

LkCollection *
_lk_cache_get_collection (LkCache *cache)
{
  return lk_collection_ref (cache->coll);
}

gboolean
_lk_cache_lookup (LkCache *cache, const char *relpath, guint64 size, gint64 mtime_ns,
                  guint *index_out)
{
  guint i;

  if (!lk_collection_find_path (cache->coll, relpath, &i))
    return FALSE;
  if (cache->coll->file_sizes[i] != size || cache->coll->mtimes[i] != mtime_ns)
    return FALSE;
  *index_out = i;
  return TRUE;
}

const char *
_lk_cache_lookup_skip (LkCache *cache, const char *relpath, guint64 size, gint64 mtime_ns)
{
  const LkCachedSkip *skip;

  if (cache->skips->len == 0)
    return NULL;
  if (cache->skip_index == NULL)
    {
      cache->skip_index = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint s = 0; s < cache->skips->len; s++)
        {
          LkCachedSkip *k = &g_array_index (cache->skips, LkCachedSkip, s);
          g_hash_table_insert (cache->skip_index, k->relpath, k);
        }
    }
  skip = g_hash_table_lookup (cache->skip_index, relpath);
  if (skip == NULL || skip->size != size || skip->mtime_ns != mtime_ns)
    return NULL;
  return skip->reason;
}
