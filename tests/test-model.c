/* test-model.c — the Deep Ranking presets and ablations, the data
 * pipeline (augment.h) and the model store:
 *  - every preset × ablation builds, with the shapes DESIGN.md §1 gives
 *    for the paper's net and FLOP counts in each preset's range; the
 *    initial weights damp exactly the shallow part of the embedding;
 *    the last dropout is on the classifier's path, not photo's and
 *    paper's embedding's;
 *  - the pipeline against naive double-precision references: identity,
 *    shifts with edge clamping, bilinear resampling, channel conversion,
 *    mirroring; the shift/flip draws are uniform (χ² test) and
 *    reproducible;
 *  - the store: names, listing, the JSON card (parsed by Python's json
 *    where /usr/bin/python3 exists), models that do not describe
 *    themselves are refused, and the model embedder gives the rows of a
 *    plain forward pass, the same for a collection image and for the
 *    same pixels from outside, through the embeddings.h factory too. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "augment.h"
#include "embeddings.h"
#include "error.h"
#include "model-private.h"
#include "model-store.h"
#include "model.h"
#include "nn-net.h"
#include "testutil.h"
#include "trainer.h"

/* ---- presets ---- */

static const LkNnNode *
node (const LkNnSpec *s, const char *name)
{
  int i = lk_nn_spec_find_node (s, name);
  g_assert_cmpint (i, >=, 0);
  return lk_nn_spec_get_node (s, (guint) i);
}

static void
test_presets_build (void)
{
  /* Forward GFLOP per image of the embedding, per preset: the ranges the
   * brief gives (photo 0.1–0.3) and what the shapes imply. */
  const double lo[LK_N_PRESETS] = { 0.03, 0.10, 2.0 }, hi[LK_N_PRESETS] = { 0.08, 0.30, 2.6 };

  for (guint p = 0; p < LK_N_PRESETS; p++)
    for (guint a = 0; a < LK_N_ABLATIONS; a++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(LkNnSpec) s = NULL;
        LkModelConfig c;
        double gflop;

        lk_model_config_init (&c);
        c.preset = p;
        c.ablation = a;
        c.n_categories = 7;
        c.golden_dim = 832;
        s = lk_model_build_spec (&c, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (lk_nn_spec_get_n_outputs (s), ==, 2);
        g_assert_cmpint (lk_nn_spec_find_output (s, "embedding"), ==, LK_MODEL_OUTPUT_EMBEDDING);
        g_assert_cmpint (lk_nn_spec_find_output (s, "logits"), ==, LK_MODEL_OUTPUT_LOGITS);
        g_assert_cmpuint (lk_nn_spec_get_output_dim (s, LK_MODEL_OUTPUT_LOGITS), ==, 7);
        g_assert_cmpuint (lk_nn_spec_get_output_dim (s, LK_MODEL_OUTPUT_EMBEDDING), ==,
                          a == LK_ABLATION_CONVNET ? node (s, "fc7")->c
                                                   : lk_preset_embedding_dim (p));
        g_assert_cmpuint (lk_nn_spec_get_n_inputs (s), ==,
                          a == LK_ABLATION_SINGLE_SCALE_VISUAL ? 2 : 1);
        g_assert_cmpuint (node (s, "image")->h, ==, lk_preset_side (p));
        g_assert_cmpuint (node (s, "image")->c, ==, lk_preset_default_channels (p));
        g_assert_cmpint (lk_nn_spec_find_node (s, "shallow") >= 0, ==,
                         a == LK_ABLATION_DEEP_RANKING);
        gflop = lk_nn_spec_get_flops (s, 1u << LK_MODEL_OUTPUT_EMBEDDING) / 1e9;
        g_test_message ("%s %s: %.3f GFLOP, %" G_GSIZE_FORMAT " parameters", lk_preset_name (p),
                        lk_ablation_name (a), gflop, lk_nn_spec_get_n_params (s));
        g_assert_cmpfloat (gflop, >=, lo[p]);
        g_assert_cmpfloat (gflop, <=, hi[p]);
        /* Pre-training needs the deep branch only. */
        g_assert_cmpfloat (lk_nn_spec_get_flops (s, 1u << LK_MODEL_OUTPUT_LOGITS), <=,
                           lk_nn_spec_get_flops (s, 1u << LK_MODEL_OUTPUT_EMBEDDING) + 1e6);
      }
}

/* lk_model_init_params() scales exactly the embedding layer's columns
 * that read the shallow branches, and only for deep-ranking. */
static void
test_init_shallow_weight (void)
{
  for (guint a = 0; a < LK_N_ABLATIONS; a++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LkNnSpec) s = NULL;
      LkNnNet *full, *damped;
      const float *pf, *pd;
      gsize n, scaled = 0;
      int emb = -1;
      guint deep = 0, in = 0;
      LkModelConfig c;

      lk_model_config_init (&c);
      c.preset = LK_PRESET_TINY;
      c.ablation = a;
      c.golden_dim = 40;
      s = lk_model_build_spec (&c, &error);
      g_assert_no_error (error);
      full = lk_nn_net_new (s, 1, 1, 0, &error);
      g_assert_no_error (error);
      damped = lk_nn_net_new (s, 1, 1, 0, &error);
      g_assert_no_error (error);
      lk_model_init_params (full, &c, 5, 1.0f);
      lk_model_init_params (damped, &c, 5, 0.25f);
      pf = lk_nn_net_get_params (full);
      pd = lk_nn_net_get_params (damped);
      n = lk_nn_net_get_n_params (full);
      if (a == LK_ABLATION_DEEP_RANKING)
        {
          const LkNnTensorInfo *w;
          emb = lk_nn_spec_find_tensor (s, "emb_fc.weight");
          g_assert_cmpint (emb, >=, 0);
          w = lk_nn_spec_get_tensor (s, emb);
          deep = node (s, "deep_norm")->c;
          in = w->shape[1];
          g_assert_cmpuint (in, ==, deep + node (s, "shallow_norm")->c);
          for (gsize i = 0; i < n; i++)
            {
              gboolean shallow = i >= w->offset && i < w->offset + w->size
                                 && (i - w->offset) % in >= deep;
              if (shallow)
                {
                  g_assert_cmpfloat (pd[i], ==, 0.25f * pf[i]);
                  scaled += pf[i] != 0;
                }
              else
                g_assert_cmpfloat (pd[i], ==, pf[i]);
            }
          g_assert_cmpuint (scaled, >, (gsize) (in - deep) * w->shape[0] * 9 / 10);
        }
      else
        g_assert_cmpint (memcmp (pf, pd, n * sizeof *pf), ==, 0);
      lk_nn_net_free (full);
      lk_nn_net_free (damped);
    }
}

/* For every preset and ablation the classifier reads fc7 through drop7;
 * the deep part of photo's and paper's embedding reads fc7 before it
 * (ranking does not train their embedding on deep features with 40% of
 * their units dropped), tiny's through it. */
static void
test_embedding_before_dropout (void)
{
  for (guint p = 0; p < LK_N_PRESETS; p++)
    for (guint a = 0; a < LK_N_ABLATIONS; a++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(LkNnSpec) s = NULL;
        LkModelConfig c;
        guint relu7, drop7;

        lk_model_config_init (&c);
        c.preset = p;
        c.ablation = a;
        c.golden_dim = 40;
        s = lk_model_build_spec (&c, &error);
        g_assert_no_error (error);
        relu7 = lk_nn_spec_find_node (s, "relu7");
        drop7 = lk_nn_spec_find_node (s, "drop7");
        g_assert_cmpuint (node (s, "drop7")->inputs[0], ==, relu7);
        g_assert_cmpuint (node (s, "classifier")->inputs[0], ==, drop7);
        g_assert_cmpuint (node (s, "deep_norm")->inputs[0], ==,
                          p == LK_PRESET_TINY ? drop7 : relu7);
      }
}

/* The paper's network, shape by shape (DESIGN.md §1, issue 4). */
static void
test_paper_shapes (void)
{
  g_autoptr(LkNnSpec) s = NULL;
  LkModelConfig c;
  const struct { const char *name; guint c, h; } want[] = {
    { "image", 3, 225 }, { "conv1", 96, 55 }, { "pool1", 96, 27 }, { "conv2", 256, 27 },
    { "pool2", 256, 13 }, { "conv3", 384, 13 }, { "conv4", 384, 13 }, { "conv5", 256, 13 },
    { "pool5", 256, 6 }, { "fc6", 4096, 1 }, { "fc7", 4096, 1 }, { "deep_norm", 4096, 1 },
    { "sub4", 3, 57 }, { "sub8", 3, 29 }, { "sub4_pool", 96, 4 }, { "sub8_pool", 96, 4 },
    { "shallow", 192, 4 }, { "shallow_norm", 3072, 1 }, { "multi", 7168, 1 },
    { "emb_fc", 4096, 1 }, { "emb_norm", 4096, 1 },
  };

  lk_model_config_init (&c);
  c.preset = LK_PRESET_PAPER;
  s = lk_model_build_spec (&c, NULL);
  g_assert_nonnull (s);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      const LkNnNode *n = node (s, want[i].name);
      g_assert_cmpuint (n->c, ==, want[i].c);
      g_assert_cmpuint (n->h, ==, want[i].h);
      g_assert_cmpuint (n->w, ==, want[i].h);
    }
  /* 96 kernels 8×8 stride 4 on both shallow branches. */
  g_assert_cmpuint (node (s, "sub4_conv")->kernel_h, ==, 8);
  g_assert_cmpuint (node (s, "sub8_conv")->stride_h, ==, 4);
  g_assert_cmpfloat_with_epsilon (node (s, "drop6")->keep, 0.6, 1e-6);
}

static void
test_bad_config (void)
{
  g_autoptr(GError) error = NULL;
  LkModelConfig c;

  lk_model_config_init (&c);
  c.ablation = LK_ABLATION_SINGLE_SCALE_VISUAL;   /* without golden_dim */
  g_assert_null (lk_model_build_spec (&c, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
  g_clear_error (&error);
  lk_model_config_init (&c);
  c.n_categories = 1;
  g_assert_null (lk_model_build_spec (&c, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_INVALID);
}

static void
test_names (void)
{
  for (guint p = 0; p < LK_N_PRESETS; p++)
    {
      LkPreset q;
      g_assert_true (lk_preset_from_name (lk_preset_name (p), &q));
      g_assert_cmpuint (q, ==, p);
    }
  for (guint a = 0; a < LK_N_ABLATIONS; a++)
    {
      LkAblation b;
      g_assert_true (lk_ablation_from_name (lk_ablation_name (a), &b));
      g_assert_cmpuint (b, ==, a);
    }
  g_assert_false (lk_ablation_has_ranking (LK_ABLATION_CONVNET));
  g_assert_true (lk_ablation_has_ranking (LK_ABLATION_DEEP_RANKING));
  g_assert_true (lk_model_name_is_valid ("tiny-2"));
  g_assert_true (lk_model_name_is_valid ("A.b_c"));
  g_assert_false (lk_model_name_is_valid (""));
  g_assert_false (lk_model_name_is_valid ("../x"));
  g_assert_false (lk_model_name_is_valid ("a/b"));
  g_assert_false (lk_model_name_is_valid (".hidden"));
  g_assert_false (lk_model_name_is_valid ("-opt"));
  g_assert_false (lk_model_name_is_valid ("a@3"));
  g_assert_false (lk_model_name_is_valid ("0123456789012345678901234567890123456789012345678"));
}

/* ---- the pipeline against naive references ---- */

static guint8 *
random_image (guint side, guint channels, guint32 seed)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  guint8 *img = g_new (guint8, (gsize) side * side * channels);
  for (gsize i = 0; i < (gsize) side * side * channels; i++)
    img[i] = (guint8) g_rand_int_range (r, 0, 256);
  return img;
}

/* The documented mapping, in double: destination pixel x reads the
 * scaled, flipped, shifted source with edges clamped. */
static double
reference_value (const guint8 *src, guint S, guint Cs, guint P, guint Cd, guint c, int x, int y,
                 int dx, int dy, gboolean flip)
{
  int u = CLAMP (x - dx, 0, (int) P - 1), v = CLAMP (y - dy, 0, (int) P - 1);
  double sx, sy, fx, fy, acc = 0;
  int x0, y0;

  if (flip)
    u = (int) P - 1 - u;
  sx = CLAMP ((u + 0.5) * S / P - 0.5, 0, S - 1);
  sy = CLAMP ((v + 0.5) * S / P - 0.5, 0, S - 1);
  x0 = (int) floor (sx);
  y0 = (int) floor (sy);
  fx = sx - x0;
  fy = sy - y0;
  for (int j = 0; j < 2; j++)
    for (int i = 0; i < 2; i++)
      {
        int xx = MIN (x0 + i, (int) S - 1), yy = MIN (y0 + j, (int) S - 1);
        const guint8 *p = src + ((gsize) yy * S + xx) * Cs;
        double w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy), val;
        if (Cs == Cd)
          val = p[c];
        else if (Cs == 1)
          val = p[0];
        else
          val = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        acc += w * val;
      }
  return acc;
}

static void
check_against_reference (guint S, guint Cs, guint P, guint Cd, int dx, int dy, gboolean flip)
{
  g_autofree guint8 *src = random_image (S, Cs, S * 7 + Cs + P);
  g_autofree float *dst = g_new (float, (gsize) P * P * Cd);
  LkInputFormat f = { P, Cd, { 0.5f, 0.4f, 0.3f }, { 0.25f, 0.2f, 0.3f } };
  double worst = 0;

  lk_augment_image (src, S, Cs, &f, dx, dy, flip, dst);
  for (guint c = 0; c < Cd; c++)
    for (guint y = 0; y < P; y++)
      for (guint x = 0; x < P; x++)
        {
          double ref = (reference_value (src, S, Cs, P, Cd, c, (int) x, (int) y, dx, dy, flip)
                        / 255.0 - f.mean[c]) / f.std[c];
          worst = MAX (worst, fabs (ref - dst[((gsize) c * P + y) * P + x]));
        }
  g_test_message ("%u×%u×%u → %u×%u×%u shift (%d, %d)%s: worst error %.2g", S, S, Cs, P, P, Cd,
                  dx, dy, flip ? " flipped" : "", worst);
  g_assert_cmpfloat (worst, <, 1e-4);
}

static void
test_augment_reference (void)
{
  check_against_reference (28, 1, 28, 1, 0, 0, FALSE);
  check_against_reference (28, 1, 28, 1, 2, -3, FALSE);
  check_against_reference (28, 1, 28, 1, -1, 2, TRUE);
  check_against_reference (64, 3, 64, 3, 4, 4, FALSE);
  check_against_reference (64, 3, 28, 1, 1, 0, FALSE);   /* down, to gray */
  check_against_reference (28, 1, 64, 3, 0, -2, TRUE);   /* up, to RGB */
  check_against_reference (64, 3, 225, 3, 12, -7, FALSE); /* the paper's input */
}

/* Exact cases that need no reference: identity is (v/255 − mean)/std,
 * and a shift moves every pixel by whole pixels. */
static void
test_augment_exact (void)
{
  g_autofree guint8 *src = random_image (16, 1, 3);
  float a[256], b[256];
  LkInputFormat f = { 16, 1, { 0.25f }, { 0.5f } };

  lk_augment_image (src, 16, 1, &f, 0, 0, FALSE, a);
  for (guint i = 0; i < 256; i++)
    g_assert_cmpfloat_with_epsilon (a[i], (src[i] / 255.0 - 0.25) / 0.5, 1e-5);
  lk_augment_image (src, 16, 1, &f, 3, -2, FALSE, b);
  for (guint y = 0; y < 16; y++)
    for (guint x = 0; x < 16; x++)
      {
        int sx = CLAMP ((int) x - 3, 0, 15), sy = CLAMP ((int) y + 2, 0, 15);
        g_assert_cmpfloat (b[y * 16 + x], ==, a[sy * 16 + sx]);
      }
}

static void
test_augment_draws (void)
{
  const guint s = 3, n = 70000, bins = 2 * s + 1;
  guint count_x[7] = { 0 }, count_y[7] = { 0 }, flips = 0;
  double chi_x = 0, chi_y = 0, expected = (double) n / bins;

  for (guint i = 0; i < n; i++)
    {
      int dx, dy, dx2, dy2;
      gboolean flip, flip2;
      lk_augment_draw (42, i / 64, i % 64, s, TRUE, &dx, &dy, &flip);
      lk_augment_draw (42, i / 64, i % 64, s, TRUE, &dx2, &dy2, &flip2);
      g_assert_cmpint (dx, ==, dx2);
      g_assert_cmpint (dy, ==, dy2);
      g_assert_cmpint (flip, ==, flip2);
      g_assert_cmpint (dx, >=, -(int) s);
      g_assert_cmpint (dx, <=, (int) s);
      count_x[dx + s]++;
      count_y[dy + s]++;
      flips += flip;
    }
  for (guint b = 0; b < bins; b++)
    {
      chi_x += (count_x[b] - expected) * (count_x[b] - expected) / expected;
      chi_y += (count_y[b] - expected) * (count_y[b] - expected) / expected;
    }
  /* χ² with 6 degrees of freedom: P(χ² > 22.46) = 0.001. */
  g_test_message ("χ² of dx %.2f, dy %.2f (6 d.o.f.); flips %u of %u", chi_x, chi_y, flips, n);
  g_assert_cmpfloat (chi_x, <, 22.46);
  g_assert_cmpfloat (chi_y, <, 22.46);
  /* Binomial: 4 standard deviations. */
  g_assert_cmpfloat (fabs (flips - n / 2.0), <, 4 * sqrt (n / 4.0));
}

static void
test_input_format_measure (void)
{
  guint8 pixels[2 * 4 * 3];
  guint32 idx[2] = { 0, 1 };
  LkInputFormat f = { 4, 3, { 0 }, { 0 } };

  /* Image 0 all (0, 51, 255), image 1 all (255, 51, 255). */
  for (guint i = 0; i < 8; i++)
    {
      pixels[3 * i] = i < 4 ? 0 : 255;
      pixels[3 * i + 1] = 51;
      pixels[3 * i + 2] = 255;
    }
  lk_input_format_measure (&f, pixels, 2, 3, idx, 2, 0);
  g_assert_cmpfloat_with_epsilon (f.mean[0], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (f.std[0], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (f.mean[1], 0.2, 1e-6);
  g_assert_cmpfloat_with_epsilon (f.std[1], 1e-3, 1e-9);   /* constant: raised to 1e-3 */
  g_assert_cmpfloat_with_epsilon (f.mean[2], 1.0, 1e-6);
}

/* ---- the store and the embedder ---- */

static LkCollection *
small_collection (void)
{
  static const char *const cats[] = { "ants", "bees", "wasps", NULL };
  g_autofree char *root = lk_test_make_image_tree ("model-store", cats, 8, 40, 30, 11);
  g_autoptr(GError) error = NULL;
  LkScanOptions o;
  LkCollection *c;

  lk_scan_options_init (&o);
  o.side = 32;
  c = lk_collection_open_folder (root, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return c;
}

static void
train_small (LkCollection *c, const char *name, LkAblation ablation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTrainer) t = NULL;
  LkTrainParams p;

  lk_train_params_init (&p, LK_PRESET_TINY);
  p.ablation = ablation;
  p.pretrain_steps = 3;
  p.ranking_steps = 2;
  p.pretrain_batch = 8;
  p.ranking_batch = 4;
  p.sampler.buffer_size = 8;
  p.checkpoint_steps = 2;
  p.n_threads = 2;
  p.gap = 0.75f;     /* not a default: the card must carry what was asked */
  t = lk_trainer_new (c, name, &p, &error);
  g_assert_no_error (error);
  g_assert_true (lk_trainer_run (t, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lk_trainer_get_state (t), ==, LK_TRAINER_FINISHED);
}

static void
check_card (const char *path)
{
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"preset\": \"tiny\""));
  g_assert_nonnull (strstr (text, "\"train.step\": 5"));
  g_assert_nonnull (strstr (text, "\"hyperparameters\": {"));
  g_assert_nonnull (strstr (text, "\"gap\": 0.75"));
  if (g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      const char *argv[] = { "/usr/bin/python3", "-c",
                             "import json,sys; c=json.load(open(sys.argv[1])); "
                             "assert c['format']==1 and c['train.pretrain.done']==3 "
                             "and c['hyperparameters']['keep']==0.6 "
                             "and c['evaluation']['recall_at_1']==0.5, c",
                             path, NULL };
      int status = -1;
      g_autoptr(GError) error = NULL;
      g_autofree char *err = NULL;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, &err, &status, &error));
      g_assert_no_error (error);
      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("card.json does not parse as expected: %s", err);
    }
}

static void
test_store (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkModelInfo) info = NULL;
  g_autoptr(GHashTable) figures = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *name = NULL;
  LkModelInfo *first;

  list = lk_model_store_list (c);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  train_small (c, "small", LK_ABLATION_DEEP_RANKING);
  name = lk_model_store_new_name (c, "small");
  g_assert_cmpstr (name, ==, "small-2");

  list = lk_model_store_list (c);
  g_assert_cmpuint (list->len, ==, 1);
  first = list->pdata[0];
  g_assert_cmpstr (first->name, ==, "small");
  g_assert_nonnull (first->model_path);
  g_assert_nonnull (first->card_path);
  /* Checkpoints at steps 2 and 4 and at the end (5), all kept (3). */
  g_assert_cmpuint (first->checkpoints->len, ==, 3);
  g_assert_cmpuint (((LkCheckpointInfo *) first->checkpoints->pdata[0])->step, ==, 2);
  g_assert_cmpuint (((LkCheckpointInfo *) first->checkpoints->pdata[2])->step, ==, 5);

  g_hash_table_insert (figures, "recall_at_1", "0.5");
  g_assert_true (lk_model_store_set_evaluation (c, "small", figures, &error));
  g_assert_no_error (error);
  check_card (first->card_path);

  g_assert_null (lk_model_store_get (c, "nothing", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  info = lk_model_store_get (c, "small", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->dir, ==, first->dir);
}

/* A net saved without our metadata is not a model. */
static void
test_not_a_model (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LkNnSpec) spec = NULL;
  g_autoptr(LkNnNet) net = NULL;
  g_autofree char *dir = lk_test_make_tmpdir ("not-a-model");
  g_autofree char *path = g_build_filename (dir, "x.lkm", NULL);
  LkModelConfig mc;

  lk_model_config_init (&mc);
  spec = lk_model_build_spec (&mc, NULL);
  net = lk_nn_net_new (spec, 1, 1, LK_NN_NET_NO_BACKWARD, NULL);
  g_assert_true (lk_nn_model_save (path, net, NULL, &error));
  g_assert_null (lk_model_load (path, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (lk_model_open (c, "missing", &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
}

/* The embedder's rows are the net's own forward pass on the pipeline's
 * input; a collection image and its pixels from outside give one row;
 * the factory builds the same embedder for "model-NAME" and checkpoints,
 * labelled LABEL and "LABEL, step 2". */
static void
check_embedder (LkCollection *c, const char *name, const char *label)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkModel) model = lk_model_open (c, name, &error);
  g_autoptr(LkEmbedder) e = NULL, via_factory = NULL, ckpt = NULL;
  g_autoptr(LkNnNet) net = NULL;
  g_autofree char *source = lk_model_source_name (name, 0);
  g_autofree char *ckpt_source = lk_model_source_name (name, 2);
  g_autofree char *ckpt_label = NULL;
  guint32 idx[3] = { 0, 5, 17 };
  guint dim;
  float rows[3 * 256], one[256], ck[3 * 256];
  g_autofree float *input = NULL, *golden = NULL;
  LkInputFormat f = { 28, 3, { 0 }, { 0 } };
  const float *inputs[2] = { NULL, NULL };

  g_assert_no_error (error);
  dim = lk_model_get_dim (model);
  g_assert_cmpuint (dim, <=, 256);
  e = lk_model_new_embedder (model, c, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lk_embedder_get_name (e), ==, source);
  g_assert_cmpstr (lk_embedder_get_label (e), ==, label);
  g_assert_true (lk_embedder_embed_images (e, c, idx, 3, rows, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  /* The same by hand. */
  g_assert_true (_lk_model_parse_floats (lk_model_get_metadata (model, "model.input.mean"),
                                                  f.mean, 3));
  g_assert_true (_lk_model_parse_floats (lk_model_get_metadata (model, "model.input.std"),
                                                  f.std, 3));
  net = lk_nn_model_new_net (lk_model_get_file (model), 3, 1, LK_NN_NET_NO_BACKWARD, &error);
  g_assert_no_error (error);
  input = g_new (float, 3 * 3 * 28 * 28);
  lk_augment_batch (lk_collection_get_pixels (c), lk_collection_get_side (c), 3, idx, 3, &f, 0, 0,
                    0, FALSE, input);
  inputs[0] = input;
  if (lk_nn_spec_get_n_inputs (lk_model_get_spec (model)) == 2)
    {
      g_autoptr(LkFeatures) features = lk_features_load_or_compute_for_collection (c, 1, NULL, NULL,
                                                                                   NULL, &error);
      guint dims[LK_N_FEATURES], gd = 0;
      LkGoldenWeights w;
      g_assert_no_error (error);
      g_assert_true (_lk_model_parse_floats (lk_model_get_metadata (model, "model.golden.weights"),
                                             w.w, LK_N_FEATURES));
      for (guint k = 0; k < LK_N_FEATURES; k++)
        gd += dims[k] = lk_features_get_block (features, k, NULL);
      golden = g_new (float, 3 * gd);
      for (guint i = 0; i < 3; i++)
        _lk_model_golden_row (lk_features_get_row (features, idx[i]), dims, &w, golden + i * gd);
      inputs[1] = golden;
    }
  lk_nn_net_forward (net, inputs, 3, LK_NN_INFERENCE, 1);
  for (guint i = 0; i < 3 * dim; i++)
    g_assert_cmpfloat_with_epsilon (rows[i], lk_nn_net_get_output (net, 0)[i], 1e-6);
  /* l2-normalised rows. */
  for (guint r = 0; r < 3; r++)
    {
      double n2 = 0;
      for (guint k = 0; k < dim; k++)
        n2 += rows[r * dim + k] * rows[r * dim + k];
      g_assert_cmpfloat_with_epsilon (n2, 1.0, 1e-4);
    }

  g_assert_true (lk_embedder_embed_pixels (e, lk_collection_get_image (c, 5),
                                           lk_collection_get_side (c), 3, one, &error));
  g_assert_no_error (error);
  for (guint k = 0; k < dim; k++)
    g_assert_cmpfloat_with_epsilon (one[k], rows[dim + k], 1e-5);

  via_factory = lk_embedder_new_for_source (c, source, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lk_embedder_get_source_key (via_factory), ==, lk_embedder_get_source_key (e));
  ckpt = lk_embedder_new_for_source (c, ckpt_source, &error);
  g_assert_no_error (error);
  ckpt_label = g_strconcat (label, ", step 2", NULL);
  g_assert_cmpstr (lk_embedder_get_label (ckpt), ==, ckpt_label);
  g_assert_true (lk_embedder_embed_images (ckpt, c, idx, 3, ck, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lk_embedder_get_source_key (ckpt), !=, lk_embedder_get_source_key (e));
}

static void
test_embedder (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkEmbedding) emb = NULL;
  gboolean listed = FALSE;

  lk_model_register_embedder ();
  train_small (c, "emb", LK_ABLATION_DEEP_RANKING);
  check_embedder (c, "emb", "DeepRanking (tiny) emb");
  train_small (c, "vis", LK_ABLATION_SINGLE_SCALE_VISUAL);
  check_embedder (c, "vis", "Single-scale + visual features (tiny) vis");
  /* Named after its preset, as DeepRanking is by default: not twice. */
  train_small (c, "tiny", LK_ABLATION_DEEP_RANKING);
  check_embedder (c, "tiny", "DeepRanking (tiny)");

  /* The trainer embedded the collection at the end: eval and query see it. */
  sources = lk_embedding_list_sources (c);
  for (guint i = 0; i < sources->len; i++)
    {
      LkEmbeddingSource *s = sources->pdata[i];
      if (g_str_equal (s->name, "model-emb"))
        {
          listed = TRUE;
          g_assert_true (s->stored);
          g_assert_cmpint (s->kind, ==, LK_EMBEDDING_MODEL);
        }
    }
  g_assert_true (listed);
  emb = lk_embedding_source_load (c, "model-emb@4", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lk_embedding_get_n (emb), ==, lk_collection_get_n_images (c));
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/model/presets", test_presets_build);
  g_test_add_func ("/engine/model/paper-shapes", test_paper_shapes);
  g_test_add_func ("/engine/model/init-shallow-weight", test_init_shallow_weight);
  g_test_add_func ("/engine/model/embedding-before-dropout", test_embedding_before_dropout);
  g_test_add_func ("/engine/model/bad-config", test_bad_config);
  g_test_add_func ("/engine/model/names", test_names);
  g_test_add_func ("/engine/augment/reference", test_augment_reference);
  g_test_add_func ("/engine/augment/exact", test_augment_exact);
  g_test_add_func ("/engine/augment/draws", test_augment_draws);
  g_test_add_func ("/engine/augment/measure", test_input_format_measure);
  g_test_add_func ("/engine/model/store", test_store);
  g_test_add_func ("/engine/model/not-a-model", test_not_a_model);
  g_test_add_func ("/engine/model/embedder", test_embedder);
  return g_test_run ();
}
