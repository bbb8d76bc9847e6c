/* test-nn-file.c — model files and checkpoints:
 *  - save → load is bit-exact (parameters, momentum, RNG state, optimiser
 *    step and settings, metadata, blobs), and a net rebuilt from the file
 *    alone computes bit-identical outputs;
 *  - a checkpoint resumes exactly: k steps, save, k more steps gives the
 *    same parameters as k steps, load into a fresh net, k steps (dropout
 *    masks included);
 *  - every truncation, a flipped byte in every region, a wrong version and
 *    a wrong magic are rejected with LK_ERROR_CORRUPT / LK_ERROR_VERSION,
 *    and a file of another architecture (or without optimiser state when
 *    one is asked for) with LK_ERROR_MISMATCH, leaving the net unchanged;
 *  - the architecture decoder never accepts garbage silently: thousands of
 *    mutated encodings either fail with a GError or decode to a spec that
 *    re-encodes identically. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "error.h"
#include "nn-loss.h"
#include "nn-model-file.h"
#include "testutil.h"

static LkNnSpec *
small_spec (guint fc)
{
  LkNnSpec *s = lk_nn_spec_new ();
  int img = lk_nn_spec_add_image (s, "image", 3, 12, 12);
  int x = lk_nn_spec_add_conv (s, "c1", img, 4, 3, 1, 1);
  int sub, parts[2];
  x = lk_nn_spec_add_relu (s, "r1", x);
  x = lk_nn_spec_add_max_pool (s, "p1", x, 2, 2, 0, FALSE);
  x = lk_nn_spec_add_fc (s, "f1", x, fc);
  x = lk_nn_spec_add_dropout (s, "d1", x, 0.6f);
  parts[0] = lk_nn_spec_add_l2norm (s, "n1", x);
  sub = lk_nn_spec_add_avg_pool (s, "sub", img, 4, 4, 0, FALSE);
  parts[1] = lk_nn_spec_add_l2norm (s, "n2", lk_nn_spec_add_fc (s, "f2", sub, 4));
  x = lk_nn_spec_add_concat (s, "cat", 2, parts);
  x = lk_nn_spec_add_l2norm (s, "emb", lk_nn_spec_add_fc (s, "f3", x, 6));
  lk_nn_spec_add_output (s, "embedding", x);
  lk_nn_spec_add_output (s, "classes", lk_nn_spec_add_fc (s, "cls", parts[0], 3));
  return s;
}

static float *
random_images (guint n, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, (gsize) n * 3 * 12 * 12);
  for (gsize i = 0; i < (gsize) n * 3 * 12 * 12; i++)
    x[i] = (float) g_rand_double (rand);
  return x;
}

/* One SGD step on the triplet loss of the embedding. */
static double
step (LkNnNet *net, LkNnSgd *sgd, const float *images)
{
  const float *in[1] = { images };
  double loss;

  lk_nn_net_forward (net, in, 9, LK_NN_TRAIN, 1);
  loss = lk_nn_triplet_loss (lk_nn_net_get_output (net, 0), 6, 3, 1.0f,
                             lk_nn_net_get_output_grad (net, 0), 1.0f / 3, NULL);
  lk_nn_net_zero_grad (net);
  lk_nn_net_backward (net);
  lk_nn_sgd_step (sgd, NULL);
  return loss;
}

static LkNnSgdParams
sgd_params (void)
{
  LkNnSgdParams p;
  lk_nn_sgd_params_init (&p);
  p.lr = 0.05f;
  p.nesterov = TRUE;
  p.schedule = LK_NN_LR_COSINE;
  p.total_steps = 20;
  p.warmup_steps = 3;
  p.clip_norm = 5;
  return p;
}

static char *
checkpoint_path (const char *name)
{
  g_autofree char *dir = lk_test_make_tmpdir ("nn-file");
  return g_build_filename (dir, name, NULL);
}

static void
test_round_trip (void)
{
  g_autoptr(LkNnSpec) spec = small_spec (5);
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 9, 2, 0, NULL);
  g_autoptr(LkNnSgd) sgd = NULL;
  g_autoptr(LkNnModel) model = NULL;
  g_autoptr(LkNnNet) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GBytes) blob = NULL;
  g_autofree float *images = random_images (9, 3);
  g_autofree char *path = checkpoint_path ("model.lknn");
  g_autofree const char **keys = NULL;
  const guint8 opaque[5] = { 0, 1, 2, 255, 7 };
  const LkNnBlob blobs[2] = { { "sampler", opaque, sizeof opaque }, { "empty", opaque, 0 } };
  LkNnSgdParams p = sgd_params ();
  LkNnSaveOptions options = { meta, NULL, blobs, 2 };
  guint64 seed, counter;
  gsize n;

  lk_nn_net_init_params (net, 9);
  lk_nn_net_set_rng_state (net, 1234, 0);
  sgd = lk_nn_sgd_new (net, &p);
  options.sgd = sgd;
  for (guint k = 0; k < 4; k++)
    step (net, sgd, images);
  g_hash_table_insert (meta, "preset", "tiny");
  g_hash_table_insert (meta, "note", "ünïcode ✓");
  g_assert_true (lk_nn_model_save (path, net, &options, &error));
  g_assert_no_error (error);

  model = lk_nn_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (lk_nn_spec_equal (lk_nn_model_get_spec (model), spec));
  n = lk_nn_spec_get_n_params (spec);
  g_assert_cmpmem (lk_nn_model_get_params (model), n * 4, lk_nn_net_get_params (net), n * 4);
  g_assert_true (lk_nn_model_has_optimizer (model));
  g_assert_cmpstr (lk_nn_model_get_metadata (model, "preset"), ==, "tiny");
  g_assert_cmpstr (lk_nn_model_get_metadata (model, "note"), ==, "ünïcode ✓");
  g_assert_null (lk_nn_model_get_metadata (model, "missing"));
  keys = lk_nn_model_get_metadata_keys (model);
  g_assert_cmpstr (keys[0], ==, "note");
  g_assert_cmpstr (keys[1], ==, "preset");
  g_assert_null (keys[2]);
  blob = lk_nn_model_get_blob (model, "sampler");
  g_assert_nonnull (blob);
  g_assert_cmpmem (g_bytes_get_data (blob, NULL), g_bytes_get_size (blob), opaque, sizeof opaque);
  g_clear_pointer (&blob, g_bytes_unref);
  blob = lk_nn_model_get_blob (model, "empty");
  g_assert_cmpuint (g_bytes_get_size (blob), ==, 0);
  g_assert_null (lk_nn_model_get_blob (model, "nope"));

  /* A net from the file alone: same parameters, momentum, RNG state, and
     bit-identical outputs (same thread count). */
  copy = lk_nn_model_new_net (model, 9, 2, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (lk_nn_net_get_momentum (copy), n * 4, lk_nn_net_get_momentum (net), n * 4);
  lk_nn_net_get_rng_state (copy, &seed, &counter);
  g_assert_cmpuint (seed, ==, 1234);
  g_assert_cmpuint (counter, ==, 4);
  {
    const float *in[1] = { images };
    g_autofree float *a = g_new (float, 9 * 6);
    lk_nn_net_forward (net, in, 9, LK_NN_TRAIN, 0);
    memcpy (a, lk_nn_net_get_output (net, 0), 9 * 6 * 4);
    lk_nn_net_forward (copy, in, 9, LK_NN_TRAIN, 0);
    g_assert_cmpmem (lk_nn_net_get_output (copy, 0), 9 * 6 * 4, a, 9 * 6 * 4);
  }
  /* The optimiser's step and settings. */
  {
    LkNnSgdParams q;
    g_autoptr(LkNnSgd) sgd2 = NULL;
    lk_nn_sgd_params_init (&q);
    sgd2 = lk_nn_sgd_new (copy, &q);
    g_assert_true (lk_nn_model_restore (model, copy, sgd2, &error));
    g_assert_cmpuint (lk_nn_sgd_get_step (sgd2), ==, 4);
    const LkNnSgdParams *r = lk_nn_sgd_get_params (sgd2);
    g_assert_true (r->lr == p.lr && r->momentum == p.momentum && r->nesterov == p.nesterov &&
                   r->weight_decay == p.weight_decay && r->schedule == p.schedule &&
                   r->step_size == p.step_size && r->gamma == p.gamma &&
                   r->total_steps == p.total_steps && r->min_lr == p.min_lr &&
                   r->warmup_steps == p.warmup_steps && r->clip_norm == p.clip_norm);
  }
}

static void
test_resume_exact (void)
{
  g_autoptr(LkNnSpec) spec = small_spec (5);
  g_autoptr(LkNnNet) a = lk_nn_net_new (spec, 9, 2, 0, NULL);
  g_autoptr(LkNnNet) b = lk_nn_net_new (spec, 9, 2, 0, NULL);
  g_autoptr(LkNnSgd) sa = NULL;
  g_autoptr(LkNnSgd) sb = NULL;
  g_autoptr(LkNnModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *images = random_images (9, 4);
  g_autofree char *path = checkpoint_path ("checkpoint.lknn");
  LkNnSgdParams p = sgd_params (), other;
  LkNnSaveOptions options = { NULL, NULL, NULL, 0 };
  gsize n = lk_nn_spec_get_n_params (spec);
  double la = 0, lb = 0;

  lk_nn_net_init_params (a, 5);
  lk_nn_net_set_rng_state (a, 99, 0);
  sa = lk_nn_sgd_new (a, &p);
  for (guint k = 0; k < 3; k++)
    step (a, sa, images);
  options.sgd = sa;
  g_assert_true (lk_nn_model_save (path, a, &options, &error));
  for (guint k = 0; k < 3; k++)
    la = step (a, sa, images);

  /* A fresh net with other parameters, seed and optimiser settings. */
  lk_nn_net_init_params (b, 6);
  lk_nn_net_set_rng_state (b, 1, 0);
  lk_nn_sgd_params_init (&other);
  sb = lk_nn_sgd_new (b, &other);
  model = lk_nn_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (lk_nn_model_restore (model, b, sb, &error));
  for (guint k = 0; k < 3; k++)
    lb = step (b, sb, images);
  g_assert_cmpfloat (la, ==, lb);
  g_assert_cmpmem (lk_nn_net_get_params (a), n * 4, lk_nn_net_get_params (b), n * 4);
  g_assert_cmpmem (lk_nn_net_get_momentum (a), n * 4, lk_nn_net_get_momentum (b), n * 4);
  g_assert_cmpuint (lk_nn_sgd_get_step (sb), ==, 6);
}

static GBytes *
read_file (const char *path)
{
  char *data;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

static void
assert_rejected (const char *path, const guint8 *data, gsize len, int code, const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkNnModel) model = NULL;

  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) len, NULL));
  model = lk_nn_model_load (path, &error);
  if (model != NULL || error == NULL || error->domain != LK_ERROR || error->code != code)
    g_error ("%s: expected LK_ERROR code %d, got %s", what, code,
             error != NULL ? error->message : "success");
  /* The message names the file. */
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_damaged_files (void)
{
  g_autoptr(LkNnSpec) spec = small_spec (5);
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 3, 1, 0, NULL);
  g_autoptr(LkNnSgd) sgd = NULL;
  g_autoptr(GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GBytes) good = NULL;
  g_autofree char *path = checkpoint_path ("good.lknn");
  g_autofree char *bad = checkpoint_path ("bad.lknn");
  const guint8 opaque[3] = { 1, 2, 3 };
  const LkNnBlob blob = { "x", opaque, 3 };
  LkNnSgdParams p = sgd_params ();
  LkNnSaveOptions options = { meta, NULL, &blob, 1 };
  const guint8 *data;
  gsize len;
  g_autofree guint8 *copy = NULL;

  lk_nn_net_init_params (net, 1);
  sgd = lk_nn_sgd_new (net, &p);
  options.sgd = sgd;
  g_hash_table_insert (meta, "k", "v");
  g_assert_true (lk_nn_model_save (path, net, &options, NULL));
  good = read_file (path);
  data = g_bytes_get_data (good, &len);
  copy = g_memdup2 (data, len);

  /* Every truncation up to 600 bytes, then every 97th. */
  for (gsize cut = 0; cut < len; cut += cut < 600 ? 1 : 97)
    {
      g_autofree char *what = g_strdup_printf ("truncated to %" G_GSIZE_FORMAT, cut);
      assert_rejected (bad, data, cut, LK_ERROR_CORRUPT, what);
    }
  /* A flipped bit anywhere but in the version field. */
  for (gsize at = 0; at < len; at += at < 600 ? 1 : 89)
    {
      g_autofree char *what = g_strdup_printf ("bit flipped at %" G_GSIZE_FORMAT, at);
      if (at >= 8 && at < 12)
        continue;
      memcpy (copy, data, len);
      copy[at] ^= 0x10;
      assert_rejected (bad, copy, len, LK_ERROR_CORRUPT, what);
    }
  /* Trailing garbage. */
  {
    g_autofree guint8 *longer = g_malloc0 (len + 16);
    memcpy (longer, data, len);
    assert_rejected (bad, longer, len + 16, LK_ERROR_CORRUPT, "trailing bytes");
  }
  memcpy (copy, data, len);
  copy[8] = 2;
  assert_rejected (bad, copy, len, LK_ERROR_VERSION, "version 2");
  {
    g_autoptr(GError) error = NULL;
    g_assert_null (lk_nn_model_load ("/nonexistent/model.lknn", &error));
    g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  }
  /* The good file still loads. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkNnModel) m = lk_nn_model_load (path, &error);
    g_assert_no_error (error);
  }
}

static void
test_mismatch (void)
{
  g_autoptr(LkNnSpec) spec = small_spec (5);
  g_autoptr(LkNnSpec) other = small_spec (7);
  g_autoptr(LkNnNet) net = lk_nn_net_new (spec, 3, 1, 0, NULL);
  g_autoptr(LkNnNet) net2 = lk_nn_net_new (other, 3, 1, 0, NULL);
  g_autoptr(LkNnSgd) sgd = NULL;
  g_autoptr(LkNnModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = checkpoint_path ("export.lknn");
  g_autofree float *before = NULL;
  LkNnSgdParams p = sgd_params ();
  gsize n2 = lk_nn_spec_get_n_params (other);

  lk_nn_net_init_params (net, 1);
  lk_nn_net_init_params (net2, 2);
  g_assert_true (lk_nn_model_save (path, net, NULL, &error));
  model = lk_nn_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_false (lk_nn_model_has_optimizer (model));
  before = g_memdup2 (lk_nn_net_get_params (net2), n2 * 4);
  g_assert_false (lk_nn_model_restore (model, net2, NULL, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
  g_assert_cmpmem (lk_nn_net_get_params (net2), n2 * 4, before, n2 * 4);
  g_clear_error (&error);
  /* An export has no optimiser state to resume from. */
  sgd = lk_nn_sgd_new (net, &p);
  g_assert_false (lk_nn_model_restore (model, net, sgd, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_true (lk_nn_model_restore (model, net, NULL, &error));
}

static void
test_spec_decoder_fuzz (void)
{
  g_autoptr(LkNnSpec) spec = small_spec (5);
  g_autoptr(GBytes) enc = lk_nn_spec_serialize (spec);
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  gsize len;
  const guint8 *data = g_bytes_get_data (enc, &len);
  g_autofree guint8 *copy = g_malloc (len);
  guint accepted = 0;

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkNnSpec) back = lk_nn_spec_deserialize (data, len, &error);
    g_assert_no_error (error);
    g_assert_true (lk_nn_spec_equal (back, spec));
  }
  for (guint trial = 0; trial < 4000; trial++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LkNnSpec) back = NULL;
      gsize cut = trial % 4 == 0 ? (gsize) g_rand_int_range (rand, 0, (gint32) len) : len;
      memcpy (copy, data, len);
      for (guint k = 0; k < 1 + trial % 3; k++)
        copy[g_rand_int_range (rand, 0, (gint32) len)] ^= (guint8) g_rand_int_range (rand, 1, 256);
      back = lk_nn_spec_deserialize (copy, cut, &error);
      if (back == NULL)
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == LK_ERROR);
          continue;
        }
      /* Accepted: a valid spec whose encoding is what was read. */
      {
        g_autoptr(GBytes) again = lk_nn_spec_serialize (back);
        g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again), copy, cut);
      }
      accepted++;
    }
  g_test_message ("%u of 4000 mutated encodings decoded to valid specs", accepted);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/nn/file/round-trip", test_round_trip);
  g_test_add_func ("/engine/nn/file/resume-exact", test_resume_exact);
  g_test_add_func ("/engine/nn/file/damaged", test_damaged_files);
  g_test_add_func ("/engine/nn/file/mismatch", test_mismatch);
  g_test_add_func ("/engine/nn/file/spec-decoder-fuzz", test_spec_decoder_fuzz);
  return g_test_run ();
}
