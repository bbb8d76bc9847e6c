/* model-store.c — model folders of a collection, the model card, loading
 * a model for inference, and the model embedder behind "model-…"
 * embedding sources. */
#include "config.h"

#include <inttypes.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "error.h"
#include "fileutil.h"
#include "golden.h"
#include "hand-features-private.h"
#include "model-private.h"
#include "model-store.h"
#include "nn-net.h"

#define MODEL_FILE "model.lkm"
#define CARD_FILE "card.json"
#define EVAL_FILE "evaluation.ini"
#define CHECKPOINT_DIR "checkpoints"

gboolean
lk_model_name_is_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len == 0 || len > 48 || name[0] == '.' || name[0] == '-')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

char *
lk_model_store_dir (LkCollection *collection)
{
  g_autofree char *data = NULL;
  g_return_val_if_fail (collection != NULL, NULL);
  data = lk_data_dir_for (lk_collection_get_id (collection));
  return g_build_filename (data, "models", NULL);
}

char *
lk_model_store_dir_for (LkCollection *collection, const char *name)
{
  g_autofree char *dir = NULL;
  g_return_val_if_fail (collection != NULL && lk_model_name_is_valid (name), NULL);
  dir = lk_model_store_dir (collection);
  return g_build_filename (dir, name, NULL);
}

static LkModelInfo *info_for_dir (const char *name, const char *dir);

gboolean
lk_model_store_has_model (LkCollection *collection, const char *name)
{
  g_autofree char *dir = NULL;
  g_autoptr(LkModelInfo) info = NULL;

  g_return_val_if_fail (collection != NULL && name != NULL, FALSE);
  if (!lk_model_name_is_valid (name))
    return FALSE;
  dir = lk_model_store_dir_for (collection, name);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return FALSE;
  info = info_for_dir (name, dir);
  return info->model_path != NULL || info->checkpoints->len > 0;
}

char *
lk_model_store_new_name (LkCollection *collection, const char *base)
{
  g_return_val_if_fail (collection != NULL && lk_model_name_is_valid (base), NULL);
  for (guint k = 1;; k++)
    {
      g_autofree char *name = k == 1 ? g_strdup (base) : g_strdup_printf ("%s-%u", base, k);
      g_autofree char *dir = lk_model_store_dir_for (collection, name);
      /* An empty leftover folder is reused rather than skipped, so a run
       * that failed before its first checkpoint does not push the next
       * proposal to NAME-2; something else of that name (a file) is
       * skipped. */
      if (!g_file_test (dir, G_FILE_TEST_EXISTS)
          || (g_file_test (dir, G_FILE_TEST_IS_DIR) && !lk_model_store_has_model (collection, name)))
        return g_steal_pointer (&name);
    }
}

char *
lk_model_checkpoint_path (const char *dir, guint64 step)
{
  g_autofree char *file = g_strdup_printf ("step-%010" G_GUINT64_FORMAT ".lkm", step);
  g_return_val_if_fail (dir != NULL, NULL);
  return g_build_filename (dir, CHECKPOINT_DIR, file, NULL);
}

/* ---- listing ---- */

static void
checkpoint_info_free (gpointer p)
{
  LkCheckpointInfo *c = p;
  g_free (c->path);
  g_free (c);
}

void
lk_model_info_free (LkModelInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->dir);
  g_free (info->model_path);
  g_free (info->card_path);
  g_clear_pointer (&info->checkpoints, g_ptr_array_unref);
  g_free (info);
}

static gboolean
parse_checkpoint_name (const char *file, guint64 *step)
{
  gsize len = strlen (file);
  char *end = NULL;

  if (!g_str_has_prefix (file, "step-") || !g_str_has_suffix (file, ".lkm") || len < 10)
    return FALSE;
  for (gsize i = 5; i < len - 4; i++)
    if (!g_ascii_isdigit (file[i]))
      return FALSE;
  *step = g_ascii_strtoull (file + 5, &end, 10);
  return end == file + len - 4;
}

static gint
compare_checkpoints (gconstpointer a, gconstpointer b)
{
  const LkCheckpointInfo *x = *(LkCheckpointInfo *const *) a, *y = *(LkCheckpointInfo *const *) b;
  return x->step < y->step ? -1 : x->step > y->step;
}

static LkModelInfo *
info_for_dir (const char *name, const char *dir)
{
  LkModelInfo *info = g_new0 (LkModelInfo, 1);
  g_autofree char *model = g_build_filename (dir, MODEL_FILE, NULL);
  g_autofree char *card = g_build_filename (dir, CARD_FILE, NULL);
  g_autofree char *cdir = g_build_filename (dir, CHECKPOINT_DIR, NULL);
  g_autoptr(GDir) d = g_dir_open (cdir, 0, NULL);
  const char *entry;

  info->name = g_strdup (name);
  info->dir = g_strdup (dir);
  info->model_path = g_file_test (model, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&model) : NULL;
  info->card_path = g_file_test (card, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&card) : NULL;
  info->checkpoints = g_ptr_array_new_with_free_func (checkpoint_info_free);
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      guint64 step;
      GStatBuf st;
      g_autofree char *path = g_build_filename (cdir, entry, NULL);
      LkCheckpointInfo *c;

      if (!parse_checkpoint_name (entry, &step) || g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      c = g_new0 (LkCheckpointInfo, 1);
      c->step = step;
      c->path = g_steal_pointer (&path);
      c->mtime = st.st_mtime;
      c->size = st.st_size;
      g_ptr_array_add (info->checkpoints, c);
    }
  g_ptr_array_sort (info->checkpoints, compare_checkpoints);
  return info;
}

static gint
compare_infos (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(LkModelInfo *const *) a)->name, (*(LkModelInfo *const *) b)->name);
}

GPtrArray *
lk_model_store_list (LkCollection *collection)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lk_model_info_free);
  g_autofree char *root = NULL;
  g_autoptr(GDir) d = NULL;
  const char *entry;

  g_return_val_if_fail (collection != NULL, out);
  root = lk_model_store_dir (collection);
  d = g_dir_open (root, 0, NULL);
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *dir = g_build_filename (root, entry, NULL);
      if (lk_model_name_is_valid (entry) && g_file_test (dir, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (out, info_for_dir (entry, dir));
    }
  g_ptr_array_sort (out, compare_infos);
  return out;
}

LkModelInfo *
lk_model_store_get (LkCollection *collection, const char *name, GError **error)
{
  g_autofree char *dir = NULL;

  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  if (!lk_model_name_is_valid (name))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                   _("“%s” is not a model name (letters, digits, “.”, “_” and “-”)"), name);
      return NULL;
    }
  dir = lk_model_store_dir_for (collection, name);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND, _("No model “%s” in %s"), name, dir);
      return NULL;
    }
  return info_for_dir (name, dir);
}

/* ---- the card ---- */

static void
json_string (GString *out, const char *s)
{
  const char *p = s;

  g_string_append_c (out, '"');
  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8 (a collection's name need not be). */
          g_string_append (out, "\\ufffd");
          p++;
          continue;
        }
      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", (char) c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append_c (out, '"');
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
is_json_number (const char *p)
{
  if (*p == '-')
    p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (g_ascii_isdigit (*p))
      p++;
  else
    return FALSE;
  if (*p == '.')
    {
      if (!g_ascii_isdigit (*++p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (*p == 'e' || *p == 'E')
    {
      p++;
      if (*p == '+' || *p == '-')
        p++;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  return *p == '\0';
}

/* A value as JSON: numbers and booleans bare, comma lists of numbers as
 * arrays, anything else (and every @text value) a string. */
static void
json_value (GString *out, const char *v, gboolean text)
{
  if (v == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  if (!text && (g_str_equal (v, "true") || g_str_equal (v, "false") || is_json_number (v)))
    {
      g_string_append (out, v);
      return;
    }
  if (!text && strchr (v, ',') != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (v, ",", -1);
      gboolean numbers = TRUE;
      for (guint i = 0; parts[i] != NULL && numbers; i++)
        numbers = is_json_number (parts[i]);
      if (numbers)
        {
          g_string_append_c (out, '[');
          for (guint i = 0; parts[i] != NULL; i++)
            g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", parts[i]);
          g_string_append_c (out, ']');
          return;
        }
    }
  json_string (out, v);
}

static void
json_member (GString *out, const char *indent, gboolean *first, const char *key, const char *value,
             gboolean text)
{
  g_string_append_printf (out, "%s\n%s", *first ? "" : ",", indent);
  json_string (out, key);
  g_string_append (out, ": ");
  json_value (out, value, text);
  *first = FALSE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every metadata key starting with @prefix, the prefix removed, sorted. */
static void
json_group (GString *out, const char *name, GHashTable *table, const char *prefix)
{
  g_autofree gpointer *keys = NULL;
  guint n = 0;
  gboolean first = TRUE;
  g_autoptr(GPtrArray) mine = g_ptr_array_new ();

  if (table != NULL)
    keys = g_hash_table_get_keys_as_array (table, &n);
  for (guint i = 0; i < n; i++)
    if (g_str_has_prefix (keys[i], prefix))
      g_ptr_array_add (mine, keys[i]);
  g_ptr_array_sort (mine, compare_strings);
  g_string_append (out, ",\n  ");
  json_string (out, name);
  g_string_append (out, ": {");
  for (guint i = 0; i < mine->len; i++)
    json_member (out, "    ", &first, (const char *) mine->pdata[i] + strlen (prefix),
                 g_hash_table_lookup (table, mine->pdata[i]), FALSE);
  g_string_append (out, first ? "}" : "\n  }");
}

static GHashTable *
read_evaluation (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, EVAL_FILE, NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) keys = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return out;
  keys = g_key_file_get_keys (kf, "evaluation", NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      char *v = g_key_file_get_string (kf, "evaluation", keys[i], NULL);
      if (v != NULL)
        g_hash_table_replace (out, g_strdup (keys[i]), v);
    }
  return out;
}

gboolean
lk_model_store_write_card (const char *dir, GHashTable *metadata, GError **error)
{
  /* In this order; TRUE for the ones that are always strings. */
  static const struct { const char *key; gboolean text; } top[] = {
    { "model.name", TRUE }, { "model.label", TRUE }, { "model.preset", TRUE },
    { "model.ablation", TRUE }, { "model.embedding.dim", FALSE },
    { "model.collection.id", TRUE }, { "model.collection.name", TRUE },
    { "model.data.split", TRUE }, { "model.data.images", FALSE },
    { "model.data.categories", FALSE }, { "model.input.side", FALSE },
    { "model.input.channels", FALSE }, { "model.input.mean", FALSE },
    { "model.input.std", FALSE }, { "model.golden.weights", FALSE },
    { "model.golden.weights_source", TRUE }, { "train.state", TRUE }, { "train.stage", TRUE },
    { "train.step", FALSE }, { "train.pretrain.done", FALSE },
    { "train.pretrain.planned", FALSE }, { "train.ranking.done", FALSE },
    { "train.ranking.planned", FALSE }, { "train.seconds", FALSE },
    { "train.updated", TRUE },
  };
  g_autoptr(GString) out = g_string_new ("{\n  \"format\": 1");
  g_autoptr(GHashTable) eval = read_evaluation (dir);
  g_autofree char *path = g_build_filename (dir, CARD_FILE, NULL);
  g_autofree char *model = g_build_filename (dir, MODEL_FILE, NULL);
  gboolean first = FALSE;

  g_return_val_if_fail (dir != NULL && metadata != NULL, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (top); i++)
    if (g_hash_table_contains (metadata, top[i].key))
      {
        /* "model.data.images" → "data.images"; "train.step" stays. */
        const char *key = top[i].key;
        json_member (out, "  ", &first, g_str_has_prefix (key, "model.") ? key + 6 : key,
                     g_hash_table_lookup (metadata, key), top[i].text);
      }
  json_member (out, "  ", &first, "files.model",
               g_file_test (model, G_FILE_TEST_EXISTS) ? model : NULL, TRUE);
  json_group (out, "hyperparameters", metadata, "param.");
  json_group (out, "evaluation", eval, "");
  g_string_append (out, "\n}\n");
  return lk_file_write_atomic (path, out->str, out->len, error);
}

gboolean
lk_model_store_set_evaluation (LkCollection *collection, const char *name, GHashTable *figures,
                               GError **error)
{
  g_autoptr(LkModelInfo) info = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(LkModel) model = NULL;
  g_autofree char *path = NULL, *data = NULL;
  GHashTableIter it;
  gpointer k, v;
  gsize len;

  g_return_val_if_fail (collection != NULL && name != NULL && figures != NULL, FALSE);
  info = lk_model_store_get (collection, name, error);
  if (info == NULL)
    return FALSE;
  path = g_build_filename (info->dir, EVAL_FILE, NULL);
  g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL);
  g_hash_table_iter_init (&it, figures);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_key_file_set_string (kf, "evaluation", k, v);
  data = g_key_file_to_data (kf, &len, NULL);
  if (!lk_file_write_atomic (path, data, len, error))
    return FALSE;
  model = lk_model_open (collection, name, error);
  if (model == NULL)
    return FALSE;
  return _lk_model_write_card_from_file (info->dir, lk_model_get_file (model), error);
}

gboolean
_lk_model_write_card_from_file (const char *dir, LkNnModel *file, GError **error)
{
  g_autoptr(GHashTable) metadata = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree const char **keys = lk_nn_model_get_metadata_keys (file);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    g_hash_table_insert (metadata, (gpointer) keys[i],
                         (gpointer) lk_nn_model_get_metadata (file, keys[i]));
  return lk_model_store_write_card (dir, metadata, error);
}

/* ---- LkModel ---- */

struct _LkModel
{
  gint            ref_count;
  char           *path;
  char           *name;
  LkNnModel      *file;
  LkPreset        preset;
  LkAblation      ablation;
  LkInputFormat   format;
  gboolean        visual;
  guint           golden_dim;
  LkGoldenWeights golden;
  guint           dim;
  guint64         key;
};

static gboolean
corrupt (GError **error, const char *path, const char *what)
{
  g_set_error (error, LK_ERROR, LK_ERROR_CORRUPT, _("Model %s: %s"), path, what);
  return FALSE;
}

gboolean
_lk_model_parse_floats (const char *s, float *out, guint n)
{
  g_auto(GStrv) parts = NULL;

  if (s == NULL)
    return FALSE;
  parts = g_strsplit (s, ",", -1);
  if (g_strv_length (parts) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      char *end = NULL;
      double d = g_ascii_strtod (parts[i], &end);
      if (parts[i][0] == '\0' || *end != '\0' || !isfinite (d))
        return FALSE;
      out[i] = (float) d;
    }
  return TRUE;
}

/* The shortest of %.6g … %.9g that reads back as the same float (9
 * digits always do), so 0.6f is "0.6" and still exact. */
char *
_lk_model_format_floats (const float *v, guint n)
{
  static const char *const formats[] = { "%.6g", "%.7g", "%.8g", "%.9g" };
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
        {
          g_ascii_formatd (buf, sizeof buf, formats[f], v[i]);
          if ((float) g_ascii_strtod (buf, NULL) == v[i])
            break;
        }
      g_string_append_printf (s, "%s%s", i > 0 ? "," : "", buf);
    }
  return g_string_free (s, FALSE);
}

static gboolean
parse_uint (const char *s, guint64 *out)
{
  char *end = NULL;
  if (s == NULL || !g_ascii_isdigit (s[0]))
    return FALSE;
  *out = g_ascii_strtoull (s, &end, 10);
  return *end == '\0';
}

static gboolean
model_check (LkModel *m, GError **error)
{
  const LkNnSpec *spec = lk_nn_model_get_spec (m->file);
  const char *version = lk_nn_model_get_metadata (m->file, LK_MODEL_META_VERSION);
  const LkNnNode *image;
  guint64 side, channels;

  if (version == NULL)
    return corrupt (error, m->path, _("not a Likeness model (no model metadata)"));
  if (!g_str_equal (version, LK_MODEL_META_VERSION_VALUE))
    {
      g_set_error (error, LK_ERROR, LK_ERROR_VERSION, _("Model %s has metadata version %s, expected %s"),
                   m->path, version, LK_MODEL_META_VERSION_VALUE);
      return FALSE;
    }
  if (!lk_preset_from_name (lk_nn_model_get_metadata (m->file, "model.preset"), &m->preset)
      || !lk_ablation_from_name (lk_nn_model_get_metadata (m->file, "model.ablation"), &m->ablation))
    return corrupt (error, m->path, _("unknown preset or ablation"));
  if (lk_nn_spec_get_n_outputs (spec) < 1 || lk_nn_spec_get_n_inputs (spec) < 1
      || lk_nn_spec_find_output (spec, "embedding") != LK_MODEL_OUTPUT_EMBEDDING)
    return corrupt (error, m->path, _("the network has no embedding output"));
  image = lk_nn_spec_get_node (spec, lk_nn_spec_get_input_node (spec, LK_MODEL_INPUT_IMAGE));
  if (!parse_uint (lk_nn_model_get_metadata (m->file, "model.input.side"), &side)
      || !parse_uint (lk_nn_model_get_metadata (m->file, "model.input.channels"), &channels)
      || image->op != LK_NN_OP_IMAGE || image->h != side || image->w != side || image->c != channels
      || (channels != 1 && channels != 3))
    return corrupt (error, m->path, _("the input side or channels do not match the network"));
  m->format.side = (guint) side;
  m->format.channels = (guint) channels;
  if (!_lk_model_parse_floats (lk_nn_model_get_metadata (m->file, "model.input.mean"),
                               m->format.mean, m->format.channels)
      || !_lk_model_parse_floats (lk_nn_model_get_metadata (m->file, "model.input.std"),
                                  m->format.std, m->format.channels))
    return corrupt (error, m->path, _("bad input normalisation"));
  for (guint c = 0; c < m->format.channels; c++)
    if (!(m->format.std[c] > 0))
      return corrupt (error, m->path, _("bad input normalisation"));
  m->visual = lk_nn_spec_get_n_inputs (spec) == 2;
  if (m->visual)
    {
      const LkNnNode *g = lk_nn_spec_get_node (spec, lk_nn_spec_get_input_node (spec, 1));
      if (g->op != LK_NN_OP_VECTOR
          || !_lk_model_parse_floats (lk_nn_model_get_metadata (m->file, "model.golden.weights"),
                                      m->golden.w, LK_N_FEATURES))
        return corrupt (error, m->path, _("bad golden-feature input"));
      m->golden_dim = g->c;
    }
  else if (lk_nn_spec_get_n_inputs (spec) != 1)
    return corrupt (error, m->path, _("unexpected network inputs"));
  m->dim = lk_nn_spec_get_output_dim (spec, LK_MODEL_OUTPUT_EMBEDDING);
  return TRUE;
}

static guint64
model_key (LkModel *m)
{
  const LkNnSpec *spec = lk_nn_model_get_spec (m->file);
  guint64 h = lk_hash64 (lk_nn_model_get_params (m->file),
                         lk_nn_spec_get_n_params (spec) * sizeof (float), 0x4c4b4d4f44454cull);
  g_autoptr(GBytes) arch = lk_nn_spec_serialize (spec);
  h = lk_hash64 (g_bytes_get_data (arch, NULL), g_bytes_get_size (arch), h);
  h = lk_hash64 (&m->format, sizeof m->format, h);
  if (m->visual)
    h = lk_hash64 (&m->golden, sizeof m->golden, h);
  return h;
}

LkModel *
lk_model_load (const char *path, GError **error)
{
  g_autoptr(LkModel) m = NULL;
  g_autofree char *base = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  m = g_new0 (LkModel, 1);
  m->ref_count = 1;
  m->path = g_strdup (path);
  m->file = lk_nn_model_load (path, error);
  if (m->file == NULL || !model_check (m, error))
    return NULL;
  m->key = model_key (m);
  base = g_strdup (lk_nn_model_get_metadata (m->file, "model.name"));
  if (base == NULL || !lk_model_name_is_valid (base))
    base = g_strdup ("model");
  if (g_str_has_suffix (path, ".lkm") && strstr (path, "/" CHECKPOINT_DIR "/") != NULL)
    {
      guint64 step = 0;
      g_autofree char *file = g_path_get_basename (path);
      if (parse_checkpoint_name (file, &step))
        m->name = g_strdup_printf ("%s@%" G_GUINT64_FORMAT, base, step);
    }
  if (m->name == NULL)
    m->name = g_steal_pointer (&base);
  return g_steal_pointer (&m);
}

LkModel *
lk_model_open (LkCollection *collection, const char *name, GError **error)
{
  g_autofree char *base = NULL;
  g_autoptr(LkModelInfo) info = NULL;
  const char *at;

  g_return_val_if_fail (collection != NULL && name != NULL, NULL);
  at = strrchr (name, '@');
  base = at != NULL ? g_strndup (name, at - name) : g_strdup (name);
  info = lk_model_store_get (collection, base, error);
  if (info == NULL)
    return NULL;
  if (at != NULL)
    {
      guint64 step;
      g_autofree char *path = NULL;
      if (!parse_uint (at + 1, &step))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_INVALID,
                       _("“%s”: give a checkpoint as NAME@STEP"), name);
          return NULL;
        }
      path = lk_model_checkpoint_path (info->dir, step);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND,
                       _("Model “%s” has no checkpoint at step %" PRIu64 " (%s)"),
                       base, step, path);
          return NULL;
        }
      return lk_model_load (path, error);
    }
  if (info->model_path != NULL)
    return lk_model_load (info->model_path, error);
  if (info->checkpoints->len > 0)
    {
      LkCheckpointInfo *c = info->checkpoints->pdata[info->checkpoints->len - 1];
      return lk_model_load (c->path, error);
    }
  g_set_error (error, LK_ERROR, LK_ERROR_NOT_FOUND,
               _("Model “%s” has no model file or checkpoint yet (%s)"), base, info->dir);
  return NULL;
}

LkModel *
lk_model_ref (LkModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
lk_model_unref (LkModel *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->path);
  g_free (self->name);
  g_clear_pointer (&self->file, lk_nn_model_free);
  g_free (self);
}

const char *lk_model_get_path (LkModel *self) { return self->path; }
const char *lk_model_get_name (LkModel *self) { return self->name; }
LkPreset lk_model_get_preset (LkModel *self) { return self->preset; }
LkAblation lk_model_get_ablation (LkModel *self) { return self->ablation; }
guint lk_model_get_dim (LkModel *self) { return self->dim; }
const LkNnSpec *lk_model_get_spec (LkModel *self) { return lk_nn_model_get_spec (self->file); }
LkNnModel *lk_model_get_file (LkModel *self) { return self->file; }
guint64 lk_model_get_key (LkModel *self) { return self->key; }

const char *
lk_model_get_metadata (LkModel *self, const char *key)
{
  g_return_val_if_fail (self != NULL && key != NULL, NULL);
  return lk_nn_model_get_metadata (self->file, key);
}

char *
lk_model_source_name (const char *name, guint64 step)
{
  g_return_val_if_fail (name != NULL, NULL);
  return step > 0 ? g_strdup_printf ("model-%s@%" G_GUINT64_FORMAT, name, step)
                  : g_strdup_printf ("model-%s", name);
}

/* ---- the embedder ---- */

#define EMBED_BATCH 64

typedef struct {
  LkModel      *model;
  LkCollection *collection;
  guint         n_threads;
  GMutex        lock;         /* an embedder is used by one thread at a time; the
                                 * lock makes a second one wait instead of racing */
  LkNnNet      *net;          /* built on first use */
  float        *images;       /* (EMBED_BATCH, C, side, side) */
  float        *golden;       /* (EMBED_BATCH, golden_dim) */
  LkFeatures   *features;     /* the collection's, for the visual ablation */
} ModelEmbedder;

static void
model_embedder_free (gpointer p)
{
  ModelEmbedder *e = p;
  lk_model_unref (e->model);
  lk_collection_unref (e->collection);
  g_clear_pointer (&e->net, lk_nn_net_free);
  g_clear_pointer (&e->features, lk_features_unref);
  g_free (e->images);
  g_free (e->golden);
  g_mutex_clear (&e->lock);
  g_free (e);
}

static gboolean
ensure_net (ModelEmbedder *e, GError **error)
{
  LkModel *m = e->model;
  if (e->net != NULL)
    return TRUE;
  e->net = lk_nn_model_new_net (m->file, EMBED_BATCH, e->n_threads, LK_NN_NET_NO_BACKWARD, error);
  if (e->net == NULL)
    return FALSE;
  e->images = g_new (float, (gsize) EMBED_BATCH * m->format.channels * m->format.side
                               * m->format.side);
  if (m->visual)
    e->golden = g_new (float, (gsize) EMBED_BATCH * m->golden_dim);
  return TRUE;
}

/* The golden vector of a features row, each block scaled by √w. */
void
_lk_model_golden_row (const float *row, const guint *dims, const LkGoldenWeights *w, float *out)
{
  guint off = 0;
  for (guint k = 0; k < LK_N_FEATURES; k++)
    {
      float s = sqrtf (MAX (0.0f, w->w[k]));
      for (guint c = 0; c < dims[k]; c++)
        out[off + c] = row[off + c] * s;
      off += dims[k];
    }
}

static void
run_batch (ModelEmbedder *e, guint n, float *out)
{
  const float *inputs[2] = { e->images, e->golden };
  guint dim = e->model->dim;

  lk_nn_net_forward (e->net, inputs, n, LK_NN_INFERENCE, 1u << LK_MODEL_OUTPUT_EMBEDDING);
  memcpy (out, lk_nn_net_get_output (e->net, LK_MODEL_OUTPUT_EMBEDDING),
          (gsize) n * dim * sizeof (float));
}

static gboolean
model_embed_images (LkEmbedder *self, LkCollection *collection, const guint32 *indices, guint n,
                    float *out, LkEmbedProgress progress, gpointer progress_data,
                    GCancellable *cancellable, GError **error)
{
  ModelEmbedder *e = lk_embedder_get_impl (self);
  LkModel *m = e->model;
  guint side = lk_collection_get_side (collection), channels = lk_collection_get_channels (collection);
  const guint8 *pixels = lk_collection_get_pixels (collection);
  guint dims[LK_N_FEATURES];
  gboolean ok = TRUE;

  if (channels != m->format.channels)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("%s: model “%s” takes %u-channel images, the collection has %u"),
                   m->path, m->name, m->format.channels, channels);
      return FALSE;
    }
  g_mutex_lock (&e->lock);
  if (!ensure_net (e, error))
    ok = FALSE;
  if (ok && m->visual && e->features == NULL)
    {
      e->features = lk_features_load_or_compute_for_collection (collection, e->n_threads, NULL,
                                                                NULL, cancellable, error);
      ok = e->features != NULL;
    }
  if (ok && m->visual)
    for (guint k = 0; k < LK_N_FEATURES; k++)
      dims[k] = lk_features_get_block (e->features, k, NULL);
  if (ok && m->visual && lk_features_get_dim (e->features) != m->golden_dim)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("Model “%s” takes %u golden features, the collection has %u"), m->name,
                   m->golden_dim, lk_features_get_dim (e->features));
      ok = FALSE;
    }
  for (guint i0 = 0; ok && i0 < n; i0 += EMBED_BATCH)
    {
      guint b = MIN (EMBED_BATCH, n - i0);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      if (progress != NULL)
        progress (i0, n, progress_data);
      lk_augment_batch (pixels, side, channels, indices + i0, b, &m->format, 0, 0, 0, FALSE,
                        e->images);
      if (m->visual)
        for (guint i = 0; i < b; i++)
          _lk_model_golden_row (lk_features_get_row (e->features, indices[i0 + i]), dims,
                                &m->golden, e->golden + (gsize) i * m->golden_dim);
      run_batch (e, b, out + (gsize) i0 * m->dim);
    }
  g_mutex_unlock (&e->lock);
  if (ok && progress != NULL)
    progress (n, n, progress_data);
  return ok;
}

static gboolean
model_embed_pixels (LkEmbedder *self, const guint8 *image, guint side, guint channels, float *out,
                    GError **error)
{
  ModelEmbedder *e = lk_embedder_get_impl (self);
  LkModel *m = e->model;
  gboolean ok = TRUE;

  if (channels != m->format.channels)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("%s: model “%s” takes %u-channel images, not %u"), m->path, m->name,
                   m->format.channels, channels);
      return FALSE;
    }
  g_mutex_lock (&e->lock);
  ok = ensure_net (e, error);
  if (ok)
    {
      lk_augment_image (image, side, channels, &m->format, 0, 0, FALSE, e->images);
      if (m->visual)
        {
          guint dims[LK_N_FEATURES], total = 0;
          g_autofree float *work = g_new (float, 4 * (gsize) side * side);
          g_autofree float *row = NULL;
          for (guint k = 0; k < LK_N_FEATURES; k++)
            total += dims[k] = lk_feature_kind_dim (k, channels);
          if (total != m->golden_dim)
            {
              g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                           _("Model “%s” takes %u golden features, the image has %u"), m->name,
                           m->golden_dim, total);
              ok = FALSE;
            }
          else
            {
              row = g_new (float, total);
              _lk_features_compute_one (image, side, channels, work, row);
              _lk_model_golden_row (row, dims, &m->golden, e->golden);
            }
        }
      if (ok)
        run_batch (e, 1, out);
    }
  g_mutex_unlock (&e->lock);
  return ok;
}

static const LkEmbedderVTable model_vtable = { model_embed_images, model_embed_pixels };

LkEmbedder *
lk_model_new_embedder (LkModel *self, LkCollection *collection, guint n_threads, GError **error)
{
  ModelEmbedder *e;
  g_autofree char *source = NULL, *label = NULL;
  const char *at, *preset;
  int base_len;

  g_return_val_if_fail (self != NULL && collection != NULL, NULL);
  if (lk_collection_get_channels (collection) != self->format.channels)
    {
      g_set_error (error, LK_ERROR, LK_ERROR_MISMATCH,
                   _("%s: model “%s” takes %u-channel images, the collection has %u"),
                   self->path, self->name, self->format.channels,
                   lk_collection_get_channels (collection));
      return NULL;
    }
  e = g_new0 (ModelEmbedder, 1);
  e->model = lk_model_ref (self);
  e->collection = lk_collection_ref (collection);
  e->n_threads = n_threads;
  g_mutex_init (&e->lock);
  source = g_strdup_printf ("model-%s", self->name);
  at = strrchr (self->name, '@');
  base_len = at != NULL ? (int) (at - self->name) : (int) strlen (self->name);
  /* A model named after its preset (the default name of DeepRanking) is
   * not labelled "DeepRanking (photo) photo". */
  preset = lk_preset_name (self->preset);
  if (base_len == (int) strlen (preset) && strncmp (self->name, preset, base_len) == 0)
    base_len = 0;
  /* TRANSLATORS: a model's label: its kind, its preset, the step of the checkpoint */
  if (at != NULL && base_len == 0)
    label = g_strdup_printf (_("%s (%s), step %s"), lk_ablation_label (self->ablation), preset,
                             at + 1);
  else if (at != NULL)
    label = g_strdup_printf (_("%s (%s) %.*s, step %s"), lk_ablation_label (self->ablation),
                             preset, base_len, self->name, at + 1);
  else if (base_len == 0)
    label = g_strdup_printf ("%s (%s)", lk_ablation_label (self->ablation), preset);
  else
    label = g_strdup_printf (_("%s (%s) %s"), lk_ablation_label (self->ablation), preset,
                             self->name);
  return lk_embedder_new (&model_vtable, source, label, LK_EMBEDDING_MODEL, self->dim, self->key,
                          e, model_embedder_free);
}

static LkEmbedder *
model_factory (LkCollection *collection, const char *name, gpointer user_data, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(LkModel) model = NULL;
  const char *rest;
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;

  if (!g_str_has_prefix (name, "model-"))
    return NULL;
  rest = name + strlen ("model-");
  base = strrchr (rest, '@') != NULL ? g_strndup (rest, strrchr (rest, '@') - rest) : g_strdup (rest);
  if (!lk_model_name_is_valid (base))
    return NULL;
  dir = lk_model_store_dir_for (collection, base);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;   /* not ours: perhaps a stored embedding whose model is gone */
  model = lk_model_open (collection, rest, &local);
  if (model == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return lk_model_new_embedder (model, collection, 0, error);
}

void
lk_model_register_embedder (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      lk_embedder_register_factory (model_factory, NULL);
      g_once_init_leave (&once, 1);
    }
}
