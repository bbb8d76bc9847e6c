/* test-errors.c — every failure a user can cause today gives a message
 * naming the file and the reason, from likeness-cli as a user runs it:
 * a missing folder, a file instead of a folder, no permission (run as the
 * user "nobody" when the test runs as root, who could read anyway), a
 * missing built-in data set, a full disk under the cache folder (a small
 * tmpfs, mounted when the test may), and a write that fails for a file
 * size limit (RLIMIT_FSIZE, which needs no privilege). */
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

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/cli/errors/missing-folder", test_missing_folder);
  g_test_add_func ("/cli/errors/builtin-missing", test_builtin_missing);
  g_test_add_func ("/cli/errors/no-permission", test_no_permission);
  g_test_add_func ("/cli/errors/disk-full", test_disk_full);
  g_test_add_func ("/cli/errors/write-fails", test_write_fails);
  return g_test_run ();
}
