/* test-cli-eval.c — likeness-cli embed, query, eval and export run as a
 * user would, on a small generated collection: output, JSON, files,
 * messages and exit codes. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "testutil.h"


static char *root;

/* Three categories of five images; "red" images are nearly alike. */
static const char *
collection (void)
{
  if (root == NULL)
    {
      const char *cats[] = { "red", "green", "blue", NULL };
      root = lk_test_make_image_tree ("cli-eval-col", cats, 5, 16, 16, 0);
    }
  return root;
}

static void
test_embed (void)
{
  g_auto(LkTestRun) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };

  lk_test_run_cli (&r1, "embed", "--side", "16", "-s", "golden", "-s", "pixels", collection (), NULL);
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_nonnull (strstr (r1.out, "golden"));
  g_assert_nonnull (strstr (r1.out, "15 × 768"));   /* 16×16×3 pixels */
  g_assert_nonnull (strstr (r1.out, g_get_user_data_dir ()));
  g_assert_cmpstr (r1.err, ==, "");

  lk_test_run_cli (&r2, "embed", "--side", "16", "--list", "--json", collection (), NULL);
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_nonnull (strstr (r2.out, "\"name\": \"golden\""));
  g_assert_nonnull (strstr (r2.out, "\"stored\": true"));
  g_assert_nonnull (strstr (r2.out, "\"name\": \"hog\""));
  g_assert_nonnull (strstr (r2.out, "\"stored\": false"));

  lk_test_run_cli (&r3, "embed", "--side", "16", "-s", "no-such-source", collection (), NULL);
  g_assert_cmpint (r3.status, ==, 1);
  g_assert_nonnull (strstr (r3.err, "no-such-source"));

  lk_test_run_cli (&r4, "embed", "--help", NULL);
  g_assert_cmpint (r4.status, ==, 0);
  g_assert_nonnull (strstr (r4.out, "--source"));
}

static void
test_query (void)
{
  g_auto(LkTestRun) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 }, r5 = { 0 }, r6 = { 0 }, r7 = { 0 };
  g_autofree char *outside = g_build_filename (collection (), "blue", "blue-2.png", NULL);

  lk_test_run_cli (&r1, "query", "--side", "16", "-k", "3", collection (), "red/red-1.png", NULL);
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_nonnull (strstr (r1.out, "rank"));
  g_assert_nonnull (strstr (r1.out, "   3  "));
  g_assert_null (strstr (r1.out, "   4  "));
  /* The query itself is left out. */
  g_assert_null (strstr (r1.out, "  red/red-1.png\n"));
  g_assert_nonnull (strstr (r1.out, "Neighbours of red/red-1.png"));

  lk_test_run_cli (&r2, "query", "--side", "16", "-k", "20", "--json", "--category", "green",
           collection (), "0", NULL);
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_nonnull (strstr (r2.out, "\"rank\": 5"));
  g_assert_null (strstr (r2.out, "\"rank\": 6"));
  g_assert_null (strstr (r2.out, "\"category\": \"red\""));

  /* An outside file: its own copy in the collection is at distance 0. */
  lk_test_run_cli (&r3, "query", "--side", "16", "-k", "1", "--json", "--file", outside, collection (),
           NULL);
  g_assert_cmpint (r3.status, ==, 0);
  g_assert_nonnull (strstr (r3.out, "\"distance\": 0,"));
  g_assert_nonnull (strstr (r3.out, "blue/blue-2.png"));

  lk_test_run_cli (&r4, "query", "--side", "16", collection (), "red/none.png", NULL);
  g_assert_cmpint (r4.status, ==, 2);
  g_assert_nonnull (strstr (r4.err, "red/none.png"));

  lk_test_run_cli (&r5, "query", "--side", "16", "--category", "purple", collection (), "0", NULL);
  g_assert_cmpint (r5.status, ==, 2);

  lk_test_run_cli (&r6, "query", "--side", "16", "--source", "hog", "-k", "2", collection (), "14", NULL);
  g_assert_cmpint (r6.status, ==, 0);
  g_assert_nonnull (strstr (r6.out, "HOG"));

  lk_test_run_cli (&r7, "query", "--side", "16", collection (), NULL);
  g_assert_cmpint (r7.status, ==, 2);
}

static void
test_eval (void)
{
  g_auto(LkTestRun) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
  g_autofree char *dir = lk_test_make_tmpdir ("cli-eval-triplets");
  g_autofree char *csv = g_build_filename (dir, "t.csv", NULL);

  lk_test_run_cli (&r1, "eval", "--side", "16", "-n", "200", "-k", "5", collection (), NULL);
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_nonnull (strstr (r1.out, "each of the 15 images against all the others"));
  g_assert_nonnull (strstr (r1.out, "class-level  200 triplets"));
  g_assert_nonnull (strstr (r1.out, "in-class"));
  g_assert_nonnull (strstr (r1.out, "score@5"));
  g_assert_nonnull (strstr (r1.out, "(golden)"));
  g_assert_nonnull (strstr (r1.out, "(lbp)"));
  g_assert_nonnull (strstr (r1.out, "by construction"));

  lk_test_run_cli (&r2, "eval", "--side", "16", "-n", "100", "--json", "--sources", "golden,color",
           collection (), NULL);
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_nonnull (strstr (r2.out, "\"source\": \"golden\""));
  g_assert_nonnull (strstr (r2.out, "\"source\": \"color\""));
  g_assert_null (strstr (r2.out, "\"source\": \"hog\""));
  g_assert_nonnull (strstr (r2.out, "\"recall_at_1\": "));
  /* Golden features order their own in-class triplets perfectly. */
  g_assert_nonnull (strstr (r2.out, "\"in-class\": {\"precision\": 1.000000"));

  /* A labelled file, with one bad row reported and skipped. */
  g_assert_true (g_file_set_contents (csv,
    "query,positive,negative,rating\n"
    "red/red-0.png,red/red-1.png,blue/blue-0.png,A\n"
    "red/red-0.png,green/green-1.png,red/red-2.png,B\n"
    "red/red-0.png,nowhere.png,red/red-2.png\n", -1, NULL));
  lk_test_run_cli (&r3, "eval", "--side", "16", "--triplets", csv, "--sources", "golden", collection (),
           NULL);
  g_assert_cmpint (r3.status, ==, 0);
  g_assert_nonnull (strstr (r3.out, "labelled     2 triplets (from 2 answers, 1 rows skipped)"));
  g_assert_nonnull (strstr (r3.out, csv));

  lk_test_run_cli (&r4, "eval", "--side", "16", "--triplets", "/nonexistent.csv", collection (), NULL);
  g_assert_cmpint (r4.status, ==, 1);
  g_assert_nonnull (strstr (r4.err, "/nonexistent.csv"));
}

static void
test_export (void)
{
  g_auto(LkTestRun) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 }, r5 = { 0 }, r6 = { 0 };
  g_autofree char *dir = lk_test_make_tmpdir ("cli-export");
  g_autofree char *prefix = g_build_filename (dir, "lbp", NULL);
  g_autofree char *npy = g_strdup_printf ("%s.npy", prefix);
  g_autofree char *tsv = g_strdup_printf ("%s.tsv", prefix);
  g_autofree char *in = g_build_filename (dir, "in.csv", NULL);
  g_autofree char *out = g_build_filename (dir, "out.csv", NULL);
  g_autofree char *gen = g_build_filename (dir, "gen.csv", NULL);
  g_autofree char *contents = NULL;

  lk_test_run_cli (&r1, "export", "--side", "16", "--source", "lbp", "-o", prefix, collection (), NULL);
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_true (g_file_test (npy, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (tsv, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "index\tpath\tcategory\n0\tblue/blue-0.png\tblue\n"));

  g_assert_true (g_file_set_contents (in,
    "red/red-0.png,red/red-1.png,blue/blue-0.png,A,tester\n"
    "red/red-0.png,red/red-1.png\n"
    "red/red-3.png,green/green-1.png,red/red-2.png,B\n", -1, NULL));
  lk_test_run_cli (&r2, "export", "--side", "16", "--triplets-in", in, collection (), NULL);
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_nonnull (strstr (r2.out, "2 rows added"));
  g_assert_nonnull (strstr (r2.err, "line 2: expected 3 to 5 columns, found 2"));

  lk_test_run_cli (&r3, "export", "--side", "16", "--triplets-out", out, collection (), NULL);
  g_assert_cmpint (r3.status, ==, 0);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (out, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "red/red-0.png,red/red-1.png,blue/blue-0.png,A,tester\n"));
  g_assert_nonnull (strstr (contents, "red/red-3.png,green/green-1.png,red/red-2.png,B\n"));

  /* The collection now has labelled triplets: eval uses them and lists
   * golden features with learned weights. */
  lk_test_run_cli (&r4, "eval", "--side", "16", collection (), NULL);
  g_assert_cmpint (r4.status, ==, 0);
  g_assert_nonnull (strstr (r4.out, "labelled     2 triplets"));
  g_assert_nonnull (strstr (r4.out, "(golden-learned)"));

  lk_test_run_cli (&r5, "export", "--side", "16", "--triplets-out", gen, "--generate", "class", "-n", "7",
           collection (), NULL);
  g_assert_cmpint (r5.status, ==, 0);
  g_assert_nonnull (strstr (r5.out, "7 rows (7 triplets)"));

  lk_test_run_cli (&r6, "export", "--side", "16", "--triplets-out", gen, "--triplets-in", in,
           collection (), NULL);
  g_assert_cmpint (r6.status, ==, 2);
}

static void
test_help (void)
{
  const char *commands[] = { "embed", "query", "eval", "export" };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto(LkTestRun) help = { 0 }, bad = { 0 };
      lk_test_run_cli (&help, commands[i], "--help", NULL);
      g_assert_cmpint (help.status, ==, 0);
      g_assert_nonnull (strstr (help.out, commands[i]));
      g_assert_nonnull (strstr (help.out, "--builtin"));
      lk_test_run_cli (&bad, commands[i], "--no-such-option", NULL);
      g_assert_cmpint (bad.status, ==, 2);
    }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/cli/embed", test_embed);
  g_test_add_func ("/cli/query", test_query);
  g_test_add_func ("/cli/eval", test_eval);
  g_test_add_func ("/cli/export", test_export);
  g_test_add_func ("/cli/help", test_help);
  return g_test_run ();
}
