/* nn-model-file.c — the versioned model/checkpoint file: a header, a
 * table of checksummed sections, their payloads. docs/model-format.md
 * describes the bytes; lk_nn_model_load() checks all of it. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileutil.h"
#include "nn-le-private.h"
#include "nn-model-file.h"

#define MAGIC "LKNNMODL"
#define VERSION 1
#define HEADER_SIZE 24
#define ENTRY_SIZE 32
#define MAX_SECTIONS 4096
#define HASH_SEED G_GUINT64_CONSTANT (0x4C4B4E4E4D4F444C)

#define TAG(a, b, c, d) ((guint32) (a) | (guint32) (b) << 8 | (guint32) (c) << 16 | (guint32) (d) << 24)
#define TAG_ARCH TAG ('A', 'R', 'C', 'H')
#define TAG_PARM TAG ('P', 'A', 'R', 'M')
#define TAG_RNGS TAG ('R', 'N', 'G', 'S')
#define TAG_MOMT TAG ('M', 'O', 'M', 'T')
#define TAG_OPTM TAG ('O', 'P', 'T', 'M')
#define TAG_META TAG ('M', 'E', 'T', 'A')
#define TAG_BLOB TAG ('B', 'L', 'O', 'B')

#define OPTM_SIZE 68

struct _LkNnModel
{
  LkNnSpec *spec;
  float *params;
  float *momentum;            /* or NULL */
  gboolean has_optimizer;
  guint64 sgd_step;
  LkNnSgdParams sgd_params;
  guint64 rng_seed, rng_counter;
  GHashTable *metadata;       /* char* → char* */
  GHashTable *blobs;          /* char* → GBytes* */
};

/* float32 array ↔ little-endian bytes (a copy only on big-endian hosts). */
static GBytes *
floats_to_le (const float *f, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  return g_bytes_new_static (f, n * sizeof *f);
#else
  guint32 *out = g_new (guint32, n);
  for (gsize i = 0; i < n; i++)
    {
      guint32 u;
      memcpy (&u, f + i, 4);
      out[i] = GUINT32_TO_LE (u);
    }
  return g_bytes_new_take (out, n * sizeof *f);
#endif
}

static void
floats_from_le (const guint8 *p, gsize n, float *out)
{
  for (gsize i = 0; i < n; i++)
    out[i] = _lk_nn_get_f32 (p + 4 * i);
}

/* ---- writing ---- */

typedef struct {
  guint32 tag;
  GBytes *payload;
} Section;

static void
add_section (GArray *sections, guint32 tag, GBytes *payload)
{
  Section s = { tag, payload };
  g_array_append_val (sections, s);
}

static GBytes *
optm_payload (LkNnSgd *sgd)
{
  const LkNnSgdParams *p = lk_nn_sgd_get_params (sgd);
  GByteArray *b = g_byte_array_new ();

  _lk_nn_put_u64 (b, lk_nn_sgd_get_step (sgd));
  _lk_nn_put_f32 (b, p->lr);
  _lk_nn_put_f32 (b, p->momentum);
  _lk_nn_put_u32 (b, p->nesterov ? 1 : 0);
  _lk_nn_put_f32 (b, p->weight_decay);
  _lk_nn_put_u32 (b, p->schedule);
  _lk_nn_put_u64 (b, p->step_size);
  _lk_nn_put_f32 (b, p->gamma);
  _lk_nn_put_u64 (b, p->total_steps);
  _lk_nn_put_f32 (b, p->min_lr);
  _lk_nn_put_u64 (b, p->warmup_steps);
  _lk_nn_put_f32 (b, p->clip_norm);
  _lk_nn_put_u32 (b, 0); /* reserved */
  g_assert (b->len == OPTM_SIZE);
  return g_byte_array_free_to_bytes (b);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GBytes *
meta_payload (GHashTable *metadata)
{
  GByteArray *b = g_byte_array_new ();
  guint n = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (metadata, &n);

  qsort (keys, n, sizeof *keys, compare_strings);
  _lk_nn_put_u32 (b, n);
  for (guint i = 0; i < n; i++)
    {
      const char *k = keys[i], *v = g_hash_table_lookup (metadata, k);
      _lk_nn_put_u32 (b, (guint32) strlen (k));
      g_byte_array_append (b, (const guint8 *) k, (guint) strlen (k));
      _lk_nn_put_u32 (b, (guint32) strlen (v));
      g_byte_array_append (b, (const guint8 *) v, (guint) strlen (v));
    }
  return g_byte_array_free_to_bytes (b);
}

static GBytes *
blob_payload (const LkNnBlob *blob)
{
  GByteArray *b = g_byte_array_new ();
  _lk_nn_put_u32 (b, (guint32) strlen (blob->name));
  g_byte_array_append (b, (const guint8 *) blob->name, (guint) strlen (blob->name));
  g_byte_array_append (b, blob->data, (guint) blob->size);
  return g_byte_array_free_to_bytes (b);
}

static gboolean
check_save_options (const LkNnSaveOptions *o, GError **error)
{
  if (o->metadata != NULL)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, o->metadata);
      while (g_hash_table_iter_next (&it, &k, &v))
        if (k == NULL || v == NULL || !g_utf8_validate (k, -1, NULL) ||
            !g_utf8_validate (v, -1, NULL))
          {
            g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                         _("Model metadata must be UTF-8 strings"));
            return FALSE;
          }
    }
  for (guint i = 0; i < o->n_blobs; i++)
    {
      if (o->blobs[i].name == NULL || strlen (o->blobs[i].name) >= 256 ||
          o->blobs[i].size > G_MAXUINT - 512)
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Invalid model blob"));
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        if (strcmp (o->blobs[i].name, o->blobs[j].name) == 0)
          {
            g_set_error (error, LK_ERROR, LK_ERROR_INVALID, _("Two model blobs are called “%s”"),
                         o->blobs[i].name);
            return FALSE;
          }
    }
  return TRUE;
}

gboolean
lk_nn_model_save (const char *path, LkNnNet *net, const LkNnSaveOptions *options,
                  GError **error)
{
  const LkNnSaveOptions none = { 0 };
  const LkNnSpec *spec;
  g_autoptr(GArray) sections = g_array_new (FALSE, FALSE, sizeof (Section));
  g_autoptr(GByteArray) head = g_byte_array_new ();
  GByteArray *rng = g_byte_array_new ();
  LkAtomicFile *file;
  guint64 offset, seed, counter;
  static const guint8 zeros[8] = { 0 };
  gboolean ok = TRUE;

  g_return_val_if_fail (path != NULL && net != NULL, FALSE);
  if (options == NULL)
    options = &none;
  g_return_val_if_fail (options->sgd == NULL || lk_nn_sgd_get_net (options->sgd) == net, FALSE);
  if (!check_save_options (options, error))
    return FALSE;
  spec = lk_nn_net_get_spec (net);

  add_section (sections, TAG_ARCH, lk_nn_spec_serialize (spec));
  add_section (sections, TAG_PARM, floats_to_le (lk_nn_net_get_params (net),
                                                 lk_nn_net_get_n_params (net)));
  lk_nn_net_get_rng_state (net, &seed, &counter);
  _lk_nn_put_u64 (rng, seed);
  _lk_nn_put_u64 (rng, counter);
  add_section (sections, TAG_RNGS, g_byte_array_free_to_bytes (rng));
  if (options->sgd != NULL)
    {
      add_section (sections, TAG_MOMT, floats_to_le (lk_nn_net_get_momentum (net),
                                                     lk_nn_net_get_n_params (net)));
      add_section (sections, TAG_OPTM, optm_payload (options->sgd));
    }
  if (options->metadata != NULL)
    add_section (sections, TAG_META, meta_payload (options->metadata));
  for (guint i = 0; i < options->n_blobs; i++)
    add_section (sections, TAG_BLOB, blob_payload (&options->blobs[i]));

  /* Header and table; payloads follow, each at a multiple of 8. */
  g_byte_array_append (head, (const guint8 *) MAGIC, 8);
  _lk_nn_put_u32 (head, VERSION);
  _lk_nn_put_u32 (head, sections->len);
  offset = HEADER_SIZE + (guint64) ENTRY_SIZE * sections->len;
  {
    g_autoptr(GByteArray) table = g_byte_array_new ();
    guint64 hash;
    for (guint i = 0; i < sections->len; i++)
      {
        Section *s = &g_array_index (sections, Section, i);
        gsize len = g_bytes_get_size (s->payload);
        _lk_nn_put_u32 (table, s->tag);
        _lk_nn_put_u32 (table, 0);
        _lk_nn_put_u64 (table, offset);
        _lk_nn_put_u64 (table, len);
        _lk_nn_put_u64 (table, lk_hash64 (g_bytes_get_data (s->payload, NULL), len, HASH_SEED));
        offset += (len + 7) / 8 * 8;
      }
    g_byte_array_append (table, head->data, 16);
    hash = lk_hash64 (table->data, table->len, HASH_SEED);
    _lk_nn_put_u64 (head, hash);
    g_byte_array_append (head, table->data, table->len - 16);
  }

  file = lk_atomic_file_open (path, error);
  if (file == NULL)
    ok = FALSE;
  if (ok)
    ok = lk_atomic_file_write (file, head->data, head->len, error);
  for (guint i = 0; ok && i < sections->len; i++)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (g_array_index (sections, Section, i).payload, &len);
      ok = lk_atomic_file_write (file, data, len, error) &&
           lk_atomic_file_write (file, zeros, (8 - len % 8) % 8, error);
    }
  for (guint i = 0; i < sections->len; i++)
    g_bytes_unref (g_array_index (sections, Section, i).payload);
  if (!ok)
    {
      lk_atomic_file_abort (file);
      return FALSE;
    }
  return lk_atomic_file_commit (file, error);
}

/* ---- reading ---- */

void
lk_nn_model_free (LkNnModel *model)
{
  if (model == NULL)
    return;
  lk_nn_spec_free (model->spec);
  g_free (model->params);
  g_free (model->momentum);
  g_hash_table_unref (model->metadata);
  g_hash_table_unref (model->blobs);
  g_free (model);
}

static gboolean
corrupt (GError **error, const char *path, const char *why)
{
  g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT,
               /* Translators: "/path/model.lknn: not a model file of Likeness" */
               _("%s: %s"), path, why);
  return FALSE;
}

static gboolean
parse_optm (LkNnModel *m, const guint8 *p, gsize len, const char *path, GError **error)
{
  LkNnSgdParams *s = &m->sgd_params;
  if (len != OPTM_SIZE)
    return corrupt (error, path, _("invalid optimiser state"));
  m->sgd_step = _lk_nn_get_u64 (p);
  s->lr = _lk_nn_get_f32 (p + 8);
  s->momentum = _lk_nn_get_f32 (p + 12);
  s->nesterov = _lk_nn_get_u32 (p + 16) != 0;
  s->weight_decay = _lk_nn_get_f32 (p + 20);
  s->schedule = _lk_nn_get_u32 (p + 24);
  s->step_size = _lk_nn_get_u64 (p + 28);
  s->gamma = _lk_nn_get_f32 (p + 36);
  s->total_steps = _lk_nn_get_u64 (p + 40);
  s->min_lr = _lk_nn_get_f32 (p + 48);
  s->warmup_steps = _lk_nn_get_u64 (p + 52);
  s->clip_norm = _lk_nn_get_f32 (p + 60);
  if (_lk_nn_get_u32 (p + 16) > 1 || !lk_nn_sgd_params_check (s, NULL))
    return corrupt (error, path, _("invalid optimiser state"));
  m->has_optimizer = TRUE;
  return TRUE;
}

/* A length-prefixed UTF-8 string without NULs, advancing *p. */
static char *
take_string (const guint8 **p, const guint8 *end)
{
  guint32 len;
  char *s;
  if (end - *p < 4)
    return NULL;
  len = _lk_nn_get_u32 (*p);
  if ((gsize) (end - *p - 4) < len)
    return NULL;
  if (memchr (*p + 4, '\0', len) != NULL || !g_utf8_validate ((const char *) *p + 4, len, NULL))
    return NULL;
  s = g_strndup ((const char *) *p + 4, len);
  *p += 4 + len;
  return s;
}

static gboolean
parse_meta (LkNnModel *m, const guint8 *p, gsize len, const char *path, GError **error)
{
  const guint8 *end = p + len;
  guint32 n;

  if (len < 4)
    return corrupt (error, path, _("invalid metadata"));
  n = _lk_nn_get_u32 (p);
  p += 4;
  for (guint32 i = 0; i < n; i++)
    {
      char *k = take_string (&p, end), *v = k != NULL ? take_string (&p, end) : NULL;
      if (v == NULL)
        {
          g_free (k);
          return corrupt (error, path, _("invalid metadata"));
        }
      g_hash_table_replace (m->metadata, k, v);
    }
  if (p != end)
    return corrupt (error, path, _("invalid metadata"));
  return TRUE;
}

static gboolean
parse_blob (LkNnModel *m, const guint8 *p, gsize len, const char *path, GError **error)
{
  const guint8 *q = p;
  char *name = take_string (&q, p + len);

  if (name == NULL || g_hash_table_contains (m->blobs, name))
    {
      g_free (name);
      return corrupt (error, path, _("invalid blob"));
    }
  g_hash_table_insert (m->blobs, name, g_bytes_new (q, len - (gsize) (q - p)));
  return TRUE;
}

static gboolean
parse (LkNnModel *m, const guint8 *data, gsize size, const char *path, GError **error)
{
  guint32 version, n;
  guint64 prev_end, hash;
  gboolean seen_parm = FALSE, seen_rngs = FALSE;
  const guint8 *parm = NULL, *momt = NULL;
  gsize parm_len = 0, momt_len = 0, n_params;

  if (size < HEADER_SIZE || memcmp (data, MAGIC, 8) != 0)
    return corrupt (error, path, _("not a model file of Likeness, or truncated"));
  version = _lk_nn_get_u32 (data + 8);
  if (version != VERSION)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION,
                   _("%s: model file version %u, this build reads version %u"), path, version,
                   VERSION);
      return FALSE;
    }
  n = _lk_nn_get_u32 (data + 12);
  if (n > MAX_SECTIONS || size < HEADER_SIZE + (gsize) ENTRY_SIZE * n)
    return corrupt (error, path, _("truncated section table"));
  {
    g_autofree guint8 *buf = g_malloc ((gsize) ENTRY_SIZE * n + 16);
    memcpy (buf, data + HEADER_SIZE, (gsize) ENTRY_SIZE * n);
    memcpy (buf + (gsize) ENTRY_SIZE * n, data, 16);
    hash = lk_hash64 (buf, (gsize) ENTRY_SIZE * n + 16, HASH_SEED);
  }
  if (hash != _lk_nn_get_u64 (data + 16))
    return corrupt (error, path, _("header checksum mismatch"));

  prev_end = HEADER_SIZE + (guint64) ENTRY_SIZE * n;
  for (guint32 i = 0; i < n; i++)
    {
      const guint8 *e = data + HEADER_SIZE + (gsize) ENTRY_SIZE * i;
      guint32 tag = _lk_nn_get_u32 (e);
      guint64 off = _lk_nn_get_u64 (e + 8), len = _lk_nn_get_u64 (e + 16), sum = _lk_nn_get_u64 (e + 24);
      const guint8 *p;

      if (off != (prev_end + 7) / 8 * 8 || off > size || len > size - off)
        return corrupt (error, path, _("truncated, or a section lies outside the file"));
      p = data + off;
      prev_end = off + len;
      if (lk_hash64 (p, len, HASH_SEED) != sum)
        return corrupt (error, path, _("checksum mismatch"));
      if (i == 0 && tag != TAG_ARCH)
        return corrupt (error, path, _("the architecture must come first"));
      switch (tag)
        {
        case TAG_ARCH:
          {
            g_autoptr(GError) local = NULL;
            if (i != 0)
              return corrupt (error, path, _("two architectures"));
            m->spec = lk_nn_spec_deserialize (p, len, &local);
            if (m->spec == NULL)
              {
                g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, "%s: %s", path, local->message);
                return FALSE;
              }
          }
          break;
        case TAG_PARM:
        case TAG_MOMT:
          if ((tag == TAG_PARM ? parm : momt) != NULL)
            return corrupt (error, path, _("a section appears twice"));
          if (tag == TAG_PARM)
            parm = p, parm_len = len, seen_parm = TRUE;
          else
            momt = p, momt_len = len;
          break;
        case TAG_RNGS:
          if (seen_rngs || len != 16)
            return corrupt (error, path, _("invalid RNG state"));
          m->rng_seed = _lk_nn_get_u64 (p);
          m->rng_counter = _lk_nn_get_u64 (p + 8);
          seen_rngs = TRUE;
          break;
        case TAG_OPTM:
          if (m->has_optimizer)
            return corrupt (error, path, _("a section appears twice"));
          if (!parse_optm (m, p, len, path, error))
            return FALSE;
          break;
        case TAG_META:
          if (!parse_meta (m, p, len, path, error))
            return FALSE;
          break;
        case TAG_BLOB:
          if (!parse_blob (m, p, len, path, error))
            return FALSE;
          break;
        default:
          /* Sections a later minor revision may add are skipped. */
          break;
        }
    }
  if (prev_end != size && (prev_end + 7) / 8 * 8 != size)
    return corrupt (error, path, _("unexpected data after the last section"));
  if (m->spec == NULL || !seen_parm || !seen_rngs)
    return corrupt (error, path, _("a required section is missing"));
  n_params = lk_nn_spec_get_n_params (m->spec);
  if (parm_len != n_params * 4 || (momt != NULL && momt_len != n_params * 4))
    return corrupt (error, path, _("the parameters do not fit the architecture"));
  if ((momt != NULL) != m->has_optimizer)
    return corrupt (error, path, _("incomplete optimiser state"));
  m->params = g_new (float, n_params + 1);
  floats_from_le (parm, n_params, m->params);
  if (momt != NULL)
    {
      m->momentum = g_new (float, n_params + 1);
      floats_from_le (momt, n_params, m->momentum);
    }
  return TRUE;
}

LkNnModel *
lk_nn_model_load (const char *path, GError **error)
{
  g_autoptr(LkMapped) mapped = NULL;
  LkNnModel *m;

  g_return_val_if_fail (path != NULL, NULL);
  mapped = lk_mapped_open (path, error);
  if (mapped == NULL)
    return NULL;
  m = g_new0 (LkNnModel, 1);
  m->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->blobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  if (!parse (m, lk_mapped_data (mapped), lk_mapped_size (mapped), path, error))
    {
      lk_nn_model_free (m);
      return NULL;
    }
  return m;
}

const LkNnSpec *
lk_nn_model_get_spec (LkNnModel *model)
{
  return model->spec;
}

const float *
lk_nn_model_get_params (LkNnModel *model)
{
  return model->params;
}

const char *
lk_nn_model_get_metadata (LkNnModel *model, const char *key)
{
  return g_hash_table_lookup (model->metadata, key);
}

const char **
lk_nn_model_get_metadata_keys (LkNnModel *model)
{
  guint n = 0;
  gpointer *keys = g_hash_table_get_keys_as_array (model->metadata, &n);
  qsort (keys, n, sizeof *keys, compare_strings);
  return (const char **) keys;
}

GBytes *
lk_nn_model_get_blob (LkNnModel *model, const char *name)
{
  GBytes *b = g_hash_table_lookup (model->blobs, name);
  return b != NULL ? g_bytes_ref (b) : NULL;
}

gboolean
lk_nn_model_has_optimizer (LkNnModel *model)
{
  return model->has_optimizer;
}

gboolean
lk_nn_model_restore (LkNnModel *model, LkNnNet *net, LkNnSgd *sgd, GError **error)
{
  gsize n;

  g_return_val_if_fail (model != NULL && net != NULL, FALSE);
  g_return_val_if_fail (sgd == NULL || lk_nn_sgd_get_net (sgd) == net, FALSE);
  if (!lk_nn_spec_equal (model->spec, lk_nn_net_get_spec (net)))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("The model file describes another network architecture"));
      return FALSE;
    }
  if (sgd != NULL && !model->has_optimizer)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("The model file has no optimiser state to resume from"));
      return FALSE;
    }
  n = lk_nn_spec_get_n_params (model->spec);
  memcpy (lk_nn_net_get_params (net), model->params, n * sizeof (float));
  if (lk_nn_net_get_momentum (net) != NULL)
    {
      if (model->momentum != NULL)
        memcpy (lk_nn_net_get_momentum (net), model->momentum, n * sizeof (float));
      else
        memset (lk_nn_net_get_momentum (net), 0, n * sizeof (float));
    }
  lk_nn_net_set_rng_state (net, model->rng_seed, model->rng_counter);
  if (sgd != NULL)
    {
      lk_nn_sgd_set_params (sgd, &model->sgd_params);
      lk_nn_sgd_set_step (sgd, model->sgd_step);
    }
  return TRUE;
}

LkNnNet *
lk_nn_model_new_net (LkNnModel *model, guint max_batch, guint n_threads, LkNnNetFlags flags,
                     GError **error)
{
  LkNnNet *net;

  g_return_val_if_fail (model != NULL, NULL);
  net = lk_nn_net_new (model->spec, max_batch, n_threads, flags, error);
  if (net != NULL && !lk_nn_model_restore (model, net, NULL, error))
    g_clear_pointer (&net, lk_nn_net_free);
  return net;
}
