/* test-errors.c — every failure a user can cause today gives a message
 * naming the file and the reason, from likeness-cli as a user runs it:
 * a missing folder, a file instead of a folder, no permission (run as the
 * user "nobody" when the test runs as root, who could read anyway), a
 * missing built-in data set, a full disk under the cache folder (a small
 * tmpfs, mounted when the test may), and a write that fails for a file
 * size limit (RLIMIT_FSIZE, which needs no privilege); the data folder
 * full while training writes a checkpoint and while labelling; resuming a
 * model with another preset; a model or a model's embedding of another
 * collection. Where something was written before the failure, it is
 * checked to be still there and usable. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collection.h"
#include "fileutil.h"
#include "model-store.h"
#include "testutil.h"
#include "workflow.h"

#define NOBODY 65534

typedef struct {
  gboolean as_nobody;
  rlim_t max_file_size;     /* 0 = no limit */
} ChildLimits;

static void
child_setup (gpointer data)
{
  const ChildLimits *limits = data;

  if (limits->max_file_size > 0)
    {
      struct rlimit rl = { limits->max_file_size, limits->max_file_size };
      signal (SIGXFSZ, SIG_IGN);   /* so write() fails with EFBIG instead */
      setrlimit (RLIMIT_FSIZE, &rl);
    }
  if (limits->as_nobody &&
      (setgroups (0, NULL) != 0 || setgid (NOBODY) != 0 || setuid (NOBODY) != 0))
    _exit (127);
}

/* Runs @argv (placeholders as in workflow.h) with @env_extra added. */
static void
run (LkRun *r, const char *const *argv, const char *collection, const char *const *env_extra,
     const ChildLimits *limits)
{
  g_auto(GStrv) args = lk_workflow_expand (argv, collection);
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  ChildLimits none = { FALSE, 0 };
  int wait_status;

  for (guint i = 0; env_extra != NULL && env_extra[i] != NULL; i += 2)
    env = g_environ_setenv (env, env_extra[i], env_extra[i + 1], TRUE);
  g_spawn_sync (NULL, args, env, G_SPAWN_DEFAULT, child_setup, limits ? (gpointer) limits : &none,
                &r->out, &r->err, &wait_status, &error);
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

#define ASSERT_HAS(haystack, needle) \
  G_STMT_START { \
    if (strstr ((haystack), (needle)) == NULL) \
      g_error ("“%s” does not contain “%s”", (haystack), (needle)); \
  } G_STMT_END

static void
test_missing_folder (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("errors-missing");
  g_autofree char *missing = g_build_filename (dir, "Pictures", NULL);
  g_autofree char *file = g_build_filename (dir, "photo.png", NULL);
  const char *scan[] = { "@CLI@", "scan", "@COLLECTION@", NULL };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };

  run (&r1, scan, missing, NULL, NULL);
  g_assert_cmpint (r1.status, ==, 1);
  ASSERT_HAS (r1.err, missing);
  ASSERT_HAS (r1.err, g_strerror (ENOENT));

  lk_test_write_png (file, 4, 4, 1);
  run (&r2, scan, file, NULL, NULL);
  g_assert_cmpint (r2.status, ==, 1);
  ASSERT_HAS (r2.err, file);
  ASSERT_HAS (r2.err, "not a folder");
}

static void
test_builtin_missing (void)
{
  g_autofree char *dir = lk_test_make_tmpdir ("errors-no-dataset");
  const char *info[] = { "@CLI@", "info", "--builtin", "fashion-mnist", NULL };
  const char *env[] = { "LK_FASHION_MNIST_DIR", dir, NULL };
  g_auto(LkRun) r = { 0 };

  run (&r, info, NULL, env, NULL);
  g_assert_cmpint (r.status, ==, 1);
  ASSERT_HAS (r.err, dir);
  ASSERT_HAS (r.err, "train-images-idx3-ubyte.gz");
  ASSERT_HAS (r.err, "dataset-fashion-mnist");
}

/* A private cache and data home the child may write whoever it runs as. */
static char *
open_home (const char *name)
{
  char *home = lk_test_make_tmpdir (name);
  g_autofree char *parent = g_path_get_dirname (home);
  g_chmod (parent, 0755);   /* the test's private folder, for "nobody" */
  g_chmod (home, 0777);
  return home;
}

static void
test_no_permission (void)
{
  g_autofree char *home = open_home ("errors-perm-home");
  g_autofree char *root = lk_workflow_make_collection ("errors-perm", 6, 8);
  g_autofree char *locked_cat = g_build_filename (root, "cars", NULL);
  g_autofree char *locked_file = g_build_filename (root, "boats", "img-0000.png", NULL);
  const char *scan[] = { "@CLI@", "scan", "@COLLECTION@", NULL };
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, NULL };
  ChildLimits limits = { geteuid () == 0, 0 };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };

  /* An unreadable category and an unreadable file are listed, not fatal. */
  g_chmod (locked_cat, 0);
  g_chmod (locked_file, 0);
  run (&r1, scan, root, env, &limits);
  if (r1.status == 127)
    {
      g_test_skip ("cannot run as nobody here");
      return;
    }
  g_assert_cmpint (r1.status, ==, 0);
  ASSERT_HAS (r1.out, "cars: Permission denied");
  ASSERT_HAS (r1.out, "boats/img-0000.png: Permission denied");

  /* An unreadable collection fails, naming it. */
  g_chmod (root, 0);
  run (&r2, scan, root, env, &limits);
  g_chmod (root, 0755);
  g_chmod (locked_cat, 0755);
  g_chmod (locked_file, 0644);
  g_assert_cmpint (r2.status, ==, 1);
  ASSERT_HAS (r2.err, root);
  ASSERT_HAS (r2.err, "Permission denied");
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_disk_full (void)
{
  g_autofree char *mnt = lk_test_make_tmpdir ("errors-full");
  g_autofree char *root = lk_workflow_make_collection ("errors-full-collection", 30, 40);
  const char *scan[] = { "@CLI@", "scan", "@COLLECTION@", NULL };
  const char *features[] = { "@HELPER@", "features", "@COLLECTION@", NULL };
  const char *env[] = { "XDG_CACHE_HOME", mnt, "XDG_DATA_HOME", mnt, NULL };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };

  /* 64 KiB: the folders fit, the 100 KB image cache does not. */
  if (geteuid () != 0 || mount ("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0)
    {
      g_test_skip ("needs root and tmpfs mounts to fill a disk");
      return;
    }
  run (&r1, scan, root, env, NULL);
  run (&r2, features, root, env, NULL);
  {
    g_autofree char *likeness = g_build_filename (mnt, "likeness", NULL);
    g_autoptr(GDir) d = g_dir_open (likeness, 0, NULL);
    const char *id = d != NULL ? g_dir_read_name (d) : NULL;
    g_autofree char *cache_dir = id != NULL ? g_build_filename (likeness, id, NULL) : NULL;
    /* Nothing half-written stays behind on the full disk. */
    guint left = cache_dir != NULL ? count_entries (cache_dir) : 0;
    umount2 (mnt, MNT_DETACH);
    g_assert_cmpuint (left, ==, 0);
  }
  /* The scan itself works; the cache write fails with the file and why. */
  g_assert_cmpint (r1.status, ==, 0);
  ASSERT_HAS (r1.out, "30 in 3 categories");
  ASSERT_HAS (r1.err, "images-64.cache");
  ASSERT_HAS (r1.err, g_strerror (ENOSPC));
  g_assert_cmpint (r2.status, ==, 0);
  ASSERT_HAS (r2.err, "features-64.bin");
  ASSERT_HAS (r2.err, g_strerror (ENOSPC));
}

static void
test_write_fails (void)
{
  g_autofree char *home = open_home ("errors-fsize-home");
  g_autofree char *root = lk_workflow_make_collection ("errors-fsize", 30, 40);
  const char *scan[] = { "@CLI@", "scan", "@COLLECTION@", NULL };
  const char *features[] = { "@HELPER@", "features", "@COLLECTION@", NULL };
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, NULL };
  ChildLimits limits = { FALSE, 32 * 1024 };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };

  run (&r1, scan, root, env, &limits);
  g_assert_cmpint (r1.status, ==, 0);
  ASSERT_HAS (r1.err, "images-64.cache");
  ASSERT_HAS (r1.err, g_strerror (EFBIG));
  run (&r2, features, root, env, &limits);
  g_assert_cmpint (r2.status, ==, 0);
  ASSERT_HAS (r2.err, "features-64.bin");
  ASSERT_HAS (r2.err, g_strerror (EFBIG));
}


/* ---- training, labelling and models ---- */

#define TRAIN_ARGS "--quiet", "--preset", "tiny", "--threads", "1", "--no-embed", \
  "--pretrain-batch", "16", "--ranking-batch", "8"

/* The data folder of @root's collection under @home (as the CLI run with
 * XDG_DATA_HOME=@home finds it). */
static char *
data_dir_under (const char *home, const char *root)
{
  g_autoptr(LkCollection) c = NULL;
  g_autoptr(GError) error = NULL;
  LkScanOptions options;

  lk_scan_options_init (&options);
  options.no_cache = TRUE;
  c = lk_collection_open_folder (root, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return g_build_filename (home, "likeness", lk_collection_get_id (c), NULL);
}

static void
test_train_disk_full (void)
{
  g_autofree char *mnt = lk_test_make_tmpdir ("errors-train-full");
  g_autofree char *cache = open_home ("errors-train-full-cache");
  g_autofree char *root = lk_workflow_make_collection ("errors-train-full-collection", 60, 32);
  g_autofree char *data = data_dir_under (mnt, root);
  g_autofree char *ckpts = g_build_filename (data, "models", "tiny", "checkpoints", NULL);
  g_autofree char *ckpt4 = g_build_filename (ckpts, "step-0000000004.lkm", NULL);
  g_autofree char *ckpt8 = g_build_filename (ckpts, "step-0000000008.lkm", NULL);
  g_autofree char *ckpt12 = g_build_filename (ckpts, "step-0000000012.lkm", NULL);
  const char *train[] = { "@CLI@", "train", TRAIN_ARGS, "--pretrain-steps", "12",
                          "--ranking-steps", "12", "--checkpoint-steps", "4", "@COLLECTION@",
                          NULL };
  const char *resume[] = { "@CLI@", "train", "--quiet", "--resume", "--name", "tiny",
                           "@COLLECTION@", NULL };
  const char *env[] = { "XDG_CACHE_HOME", cache, "XDG_DATA_HOME", mnt, NULL };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };
  guint left;

  /* A checkpoint of this network is 7.2 MB: two fit in 16 MB, not three. */
  if (geteuid () != 0 || mount ("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m") != 0)
    {
      g_test_skip ("needs root and tmpfs mounts to fill a disk");
      return;
    }
  run (&r1, train, root, env, NULL);
  left = lk_workflow_count_temporaries (mnt);
  {
    /* Nothing written before is lost: both checkpoints load, and the
     * model resumes from the later one once there is room. */
    g_autoptr(GError) error = NULL;
    g_autoptr(LkModel) m4 = lk_model_load (ckpt4, &error);
    g_assert_no_error (error);
    g_autoptr(LkModel) m8 = lk_model_load (ckpt8, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpint (mount ("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, "size=64m"),
                   ==, 0);
  run (&r2, resume, root, env, NULL);
  umount2 (mnt, MNT_DETACH);
  g_assert_cmpint (r1.status, ==, 1);
  ASSERT_HAS (r1.err, ckpt12);
  ASSERT_HAS (r1.err, g_strerror (ENOSPC));
  g_assert_cmpuint (left, ==, 0);
  g_assert_cmpint (r2.status, ==, 0);
  ASSERT_HAS (r2.out, "24 steps");
}

static void
test_label_disk_full (void)
{
  g_autofree char *mnt = lk_test_make_tmpdir ("errors-label-full");
  g_autofree char *home = open_home ("errors-label-home");
  g_autofree char *root = lk_workflow_make_collection ("errors-label-collection", 60, 24);
  g_autofree char *data = data_dir_under (mnt, root);
  g_autofree char *csv = g_build_filename (data, "triplets.csv", NULL);
  g_autofree char *acks = g_build_filename (home, "acks", NULL);
  const char *scan[] = { "@CLI@", "scan", "--quiet", "@COLLECTION@", NULL };
  const char *label[] = { "@HELPER@", "label", "@COLLECTION@", "2000", NULL };
  const char *check[] = { "@HELPER@", "label-check", "@COLLECTION@", "2000", NULL };
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", mnt,
                        "LK_WORKFLOW_LABEL_ACKS", acks, NULL };
  const char *env_clean[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, NULL };
  g_auto(LkRun) r0 = { 0 };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };
  g_auto(LkRun) clean = { 0 };

  /* 64 KiB hold about 900 answers of the 2000. */
  if (geteuid () != 0 || mount ("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0)
    {
      g_test_skip ("needs root and tmpfs mounts to fill a disk");
      return;
    }
  run (&r0, scan, root, env, NULL);
  run (&r1, label, root, env, NULL);
  /* Once there is room: every answer acknowledged before the disk was
   * full is in the file (label-check fails otherwise), which parses, and
   * labelling goes on to what a session on a roomy disk ends with. */
  g_assert_cmpint (mount ("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, "size=4m"),
                   ==, 0);
  run (&r2, check, root, env, NULL);
  umount2 (mnt, MNT_DETACH);
  run (&clean, label, root, env_clean, NULL);
  g_assert_cmpint (r0.status, ==, 0);
  g_assert_cmpint (r1.status, ==, 1);
  ASSERT_HAS (r1.err, csv);
  ASSERT_HAS (r1.err, g_strerror (ENOSPC));
  if (r2.status != 0)
    g_error ("label-check after the disk was full (%d): %s", r2.status, r2.err);
  g_assert_cmpint (clean.status, ==, 0);
  g_assert_cmpstr (r2.out, ==, clean.out);
}

/* Trains model "tiny" of @root under @home in a few steps. */
static void
train_small (const char *root, const char *home, const char *const *extra)
{
  const char *argv[LK_WORKFLOW_MAX_ARGS] = { "@CLI@", "train", TRAIN_ARGS, "--pretrain-steps",
                                             "2", "--ranking-steps", "2", "--checkpoint-steps",
                                             "2" };
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, NULL };
  g_auto(LkRun) r = { 0 };
  guint n = 0;

  while (argv[n] != NULL)
    n++;
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    argv[n++] = extra[i];
  argv[n++] = "@COLLECTION@";
  run (&r, argv, root, env, NULL);
  if (r.status != 0)
    g_error ("training failed (%d): %s", r.status, r.err);
}

static void
test_resume_other_preset (void)
{
  g_autofree char *home = open_home ("errors-preset-home");
  g_autofree char *root = lk_workflow_make_collection ("errors-preset", 30, 24);
  g_autofree char *data = data_dir_under (home, root);
  g_autofree char *ckpt = g_build_filename (data, "models", "tiny", "checkpoints",
                                            "step-0000000004.lkm", NULL);
  const char *resume[] = { "@CLI@", "train", "--resume", "--name", "tiny", "--preset", "photo",
                           "@COLLECTION@", NULL };
  const char *resume_ablation[] = { "@CLI@", "train", "--resume", "--name", "tiny",
                                    "--ablation", "convnet", "@COLLECTION@", NULL };
  const char *resume_same[] = { "@CLI@", "train", "--quiet", "--resume", "--name", "tiny",
                                "--preset", "tiny", "@COLLECTION@", NULL };
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, NULL };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };
  g_auto(LkRun) r3 = { 0 };

  train_small (root, home, NULL);
  run (&r1, resume, root, env, NULL);
  g_assert_cmpint (r1.status, ==, 1);
  ASSERT_HAS (r1.err, ckpt);
  ASSERT_HAS (r1.err, "tiny deep-ranking model, not photo deep-ranking");
  run (&r2, resume_ablation, root, env, NULL);
  g_assert_cmpint (r2.status, ==, 1);
  ASSERT_HAS (r2.err, ckpt);
  ASSERT_HAS (r2.err, "not tiny convnet");
  /* The model is untouched and resumes with its own preset. */
  run (&r3, resume_same, root, env, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  ASSERT_HAS (r3.out, "4 steps");
}

/* A damaged last checkpoint (a disk fault) is set aside with a message
 * naming it, and training resumes from the one before. */
static void
test_damaged_checkpoint (void)
{
  g_autofree char *home = open_home ("errors-damaged-home");
  g_autofree char *root = lk_workflow_make_collection ("errors-damaged", 30, 24);
  g_autofree char *data = data_dir_under (home, root);
  g_autofree char *ckpt = g_build_filename (data, "models", "tiny", "checkpoints",
                                            "step-0000000004.lkm", NULL);
  g_autofree char *aside = g_strconcat (ckpt, ".damaged", NULL);
  const char *extra[] = { "--checkpoint-minutes", "0", NULL };
  const char *resume[] = { "@CLI@", "train", "--resume", "--name", "tiny", "@COLLECTION@", NULL };
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, NULL };
  g_auto(LkRun) r = { 0 };
  g_autofree char *contents = NULL;
  gsize len;

  train_small (root, home, extra);
  g_assert_true (g_file_get_contents (ckpt, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (ckpt, contents, (gssize) (len / 2), NULL));
  run (&r, resume, root, env, NULL);
  g_assert_cmpint (r.status, ==, 0);
  ASSERT_HAS (r.err, ckpt);
  ASSERT_HAS (r.err, aside);
  g_assert_true (g_file_test (aside, G_FILE_TEST_IS_REGULAR));
  /* It went on from step 2 to the end, and wrote step 4 again. */
  ASSERT_HAS (r.out, "4 steps");
  g_assert_true (g_file_test (ckpt, G_FILE_TEST_IS_REGULAR));
}

/* A model folder, and a model's rows, copied from another collection. */
static void
test_model_of_other_collection (void)
{
  g_autofree char *home = open_home ("errors-other-home");
  g_autofree char *root = lk_workflow_make_collection ("errors-other", 30, 24);
  g_autofree char *data = data_dir_under (home, root);
  g_autofree char *model_dir = g_build_filename (data, "models", "fmnist", NULL);
  g_autofree char *model = g_build_filename (model_dir, "model.lkm", NULL);
  g_autofree char *emb_dir = g_build_filename (data, "embeddings", NULL);
  g_autofree char *emb = NULL;
  const char *fm = lk_test_fashion_mnist_dir ();
  const char *env[] = { "XDG_CACHE_HOME", home, "XDG_DATA_HOME", home, "LK_FASHION_MNIST_DIR",
                        fm, NULL };
  const char *embed[] = { "@CLI@", "embed", "--quiet", "--source", "model-fmnist",
                          "@COLLECTION@", NULL };
  const char *query[] = { "@CLI@", "query", "--source", "model-tiny", "@COLLECTION@",
                          "boats/img-0000.png", NULL };
  g_auto(LkRun) r0 = { 0 };
  g_auto(LkRun) r1 = { 0 };
  g_auto(LkRun) r2 = { 0 };

  if (fm == NULL)
    return;
  /* A 1-channel model of Fashion-MNIST (ConvNet only: no features to
   * compute), its folder copied into this 3-channel collection's. */
  {
    const char *train[] = { "@CLI@", "train", "--quiet", "--builtin", "fashion-mnist",
                            "--ablation", "convnet", "--threads", "1", "--no-embed",
                            "--pretrain-steps", "2", "--pretrain-batch", "8", "--max-images",
                            "200", "--name", "fmnist", NULL };
    g_autofree char *fm_models = NULL;
    g_autofree char *src = NULL;
    g_autofree char *contents = NULL;
    gsize len;
    run (&r0, train, NULL, env, NULL);
    if (r0.status != 0)
      g_error ("training failed (%d): %s", r0.status, r0.err);
    /* The output names the model file. */
    src = g_strndup (strstr (r0.out, "/"), strcspn (strstr (r0.out, "/"), "\n"));
    g_assert_true (g_str_has_suffix (src, "/fmnist/model.lkm"));
    g_assert_true (g_file_get_contents (src, &contents, &len, NULL));
    g_assert_cmpint (g_mkdir_with_parents (model_dir, 0755), ==, 0);
    g_assert_true (g_file_set_contents (model, contents, (gssize) len, NULL));
    (void) fm_models;
  }
  run (&r1, embed, root, env, NULL);
  g_assert_cmpint (r1.status, ==, 1);
  ASSERT_HAS (r1.err, model);
  ASSERT_HAS (r1.err, "takes 1-channel images, the collection has 3");

  /* A model's rows without the model, made for other images: the query
   * names the file and the reason, and computes nothing in their place. */
  train_small (root, home, NULL);
  {
    const char *embed_tiny[] = { "@CLI@", "embed", "--quiet", "--source", "model-tiny",
                                 "@COLLECTION@", NULL };
    g_auto(LkRun) r = { 0 };
    g_autofree char *tiny_dir = g_build_filename (data, "models", "tiny", NULL);
    g_autoptr(GDir) d = NULL;
    const char *name;
    run (&r, embed_tiny, root, env, NULL);
    g_assert_cmpint (r.status, ==, 0);
    lk_test_rm_rf (tiny_dir);
    d = g_dir_open (emb_dir, 0, NULL);
    g_assert_nonnull (d);
    while ((name = g_dir_read_name (d)) != NULL)
      if (g_str_has_prefix (name, "model-tiny"))
        emb = g_build_filename (emb_dir, name, NULL);
    g_assert_nonnull (emb);
  }
  /* Another collection: the same folder with one image more. */
  {
    g_autofree char *extra = g_build_filename (root, "cars", "new.png", NULL);
    lk_test_write_png (extra, 24, 24, 99);
  }
  run (&r2, query, root, env, NULL);
  g_assert_cmpint (r2.status, ==, 1);
  ASSERT_HAS (r2.err, emb);
  ASSERT_HAS (r2.err, "other images");
  g_assert_true (g_file_test (emb, G_FILE_TEST_IS_REGULAR));
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/cli/errors/missing-folder", test_missing_folder);
  g_test_add_func ("/cli/errors/builtin-missing", test_builtin_missing);
  g_test_add_func ("/cli/errors/no-permission", test_no_permission);
  g_test_add_func ("/cli/errors/disk-full", test_disk_full);
  g_test_add_func ("/cli/errors/write-fails", test_write_fails);
  g_test_add_func ("/cli/errors/train-disk-full", test_train_disk_full);
  g_test_add_func ("/cli/errors/label-disk-full", test_label_disk_full);
  g_test_add_func ("/cli/errors/resume-other-preset", test_resume_other_preset);
  g_test_add_func ("/cli/errors/model-of-other-collection", test_model_of_other_collection);
  g_test_add_func ("/cli/errors/damaged-checkpoint", test_damaged_checkpoint);
  return g_test_run ();
}
