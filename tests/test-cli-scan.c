/* test-cli-scan.c — likeness-cli scan and info, run as a user would:
 * output, JSON, exit codes and messages. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"


static void
test_scan_folder (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("cli-col");
  g_autofree char *a = g_build_filename (root, "apples", "a.png", NULL);
  g_autofree char *b = g_build_filename (root, "apples", "b.png", NULL);
  g_autofree char *c = g_build_filename (root, "pears", "c.png", NULL);
  g_autofree char *bad = g_build_filename (root, "pears", "broken.png", NULL);
  g_auto(LkTestRun) text = { 0 };
  g_auto(LkTestRun) json = { 0 };

  {
    g_autofree char *da = g_path_get_dirname (a), *dc = g_path_get_dirname (c);
    g_mkdir_with_parents (da, 0755);
    g_mkdir_with_parents (dc, 0755);
  }
  lk_test_write_png (a, 10, 10, 1);
  lk_test_write_png (b, 10, 10, 2);
  lk_test_write_png (c, 10, 10, 3);
  g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));

  lk_test_run_cli (&text, "scan", root, NULL);
  g_assert_cmpint (text.status, ==, 0);
  g_assert_nonnull (strstr (text.out, "3 in 2 categories"));
  g_assert_nonnull (strstr (text.out, "2  apples"));
  g_assert_nonnull (strstr (text.out, "1  pears"));
  g_assert_nonnull (strstr (text.out, "pears/broken.png: not an image"));
  g_assert_nonnull (strstr (text.out, g_get_user_cache_dir ()));
  /* Progress goes to a terminal only: none here. */
  g_assert_cmpstr (text.err, ==, "");

  lk_test_run_cli (&json, "scan", "--json", root, NULL);
  g_assert_cmpint (json.status, ==, 0);
  g_assert_nonnull (strstr (json.out, "\"images\": 3"));
  g_assert_nonnull (strstr (json.out, "{\"name\": \"apples\", \"count\": 2}"));
  g_assert_nonnull (strstr (json.out, "\"path\": \"pears/broken.png\""));
  g_assert_nonnull (strstr (json.out, "\"from_cache\": 3"));
}

static void
test_exit_codes (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("cli-missing");
  g_autofree char *missing = g_build_filename (root, "nothing-here", NULL);
  g_auto(LkTestRun) r1 = { 0 };
  g_auto(LkTestRun) r2 = { 0 };
  g_auto(LkTestRun) r3 = { 0 };
  g_auto(LkTestRun) r4 = { 0 };
  g_auto(LkTestRun) r5 = { 0 };

  lk_test_run_cli (&r1, "scan", missing, NULL);
  g_assert_cmpint (r1.status, ==, 1);
  g_assert_nonnull (strstr (r1.err, missing));

  lk_test_run_cli (&r2, "scan", "--no-such-option", NULL);
  g_assert_cmpint (r2.status, ==, 2);

  lk_test_run_cli (&r3, "scan", NULL);
  g_assert_cmpint (r3.status, ==, 2);

  lk_test_run_cli (&r4, "scan", "--help", NULL);
  g_assert_cmpint (r4.status, ==, 0);
  g_assert_nonnull (strstr (r4.out, "--builtin"));

  lk_test_run_cli (&r5, "frobnicate", NULL);
  g_assert_cmpint (r5.status, ==, 2);
}

static void
test_info_builtin (void)
{
  g_auto(LkTestRun) r = { 0 };

  if (lk_test_fashion_mnist_dir () == NULL)
    return;
  lk_test_run_cli (&r, "info", "--builtin", "fashion-mnist", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "70000 in 10 categories"));
  g_assert_nonnull (strstr (r.out, "60000 train, 10000 test"));
  g_assert_nonnull (strstr (r.out, "Ankle boot"));
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/cli/scan/folder", test_scan_folder);
  g_test_add_func ("/cli/scan/exit-codes", test_exit_codes);
  g_test_add_func ("/cli/info/builtin", test_info_builtin);
  return g_test_run ();
}
