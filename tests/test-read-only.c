/* test-read-only.c — Likeness never writes inside a collection: every file
 * and folder of a collection (contents, mode, size, mtime, entries) is the
 * same after the whole workflow (every step of lk_workflow_steps[], run
 * twice: once cold, once from the caches) as before, and nothing was
 * added. The steps (workflow.c) are the whole workflow: scan,
 * features, embed, query, eval, export, train, embed and query with the
 * model, label, eval with the labels, export the model's rows. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "workflow.h"

static void
test_workflow_leaves_collection_alone (void)
{
  g_autofree char *root = lk_workflow_make_collection ("read-only", 60, 24);
  g_autoptr(GString) before = NULL, after = NULL;

  /* The kinds of entry a scan meets: a bad file, a link inside, a hidden
   * file, an empty folder, a folder nobody may write to. */
  {
    g_autofree char *bad = g_build_filename (root, "boats", "broken.png", NULL);
    g_autofree char *link = g_build_filename (root, "cars", "link.png", NULL);
    g_autofree char *hidden = g_build_filename (root, "trees", ".hidden", NULL);
    g_autofree char *empty = g_build_filename (root, "trees", "empty", NULL);
    g_autofree char *locked = g_build_filename (root, "trees", "more", NULL);
    g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
    g_assert_cmpint (symlink ("more/img-0001.png", link), ==, 0);
    g_assert_true (g_file_set_contents (hidden, "x", -1, NULL));
    g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);
    g_assert_cmpint (g_chmod (locked, 0555), ==, 0);
  }
  before = lk_tree_snapshot (root);
  for (guint pass = 0; pass < 2; pass++)
    for (guint s = 0; s < lk_workflow_n_steps; s++)
      {
        g_auto(LkRun) run = { 0 };
        lk_workflow_run (lk_workflow_steps[s].argv, root, &run);
        if (run.status != 0)
          g_error ("step %s failed (%d): %s", lk_workflow_steps[s].name, run.status, run.err);
        g_test_message ("pass %u, %s: %.2f s", pass + 1, lk_workflow_steps[s].name, run.seconds);
      }
  after = lk_tree_snapshot (root);
  g_assert_cmpstr (before->str, ==, after->str);
  {
    guint entries = 0;
    for (const char *p = before->str; *p != '\0'; p++)
      entries += *p == '\n';
    g_test_message ("%u steps, twice; all %u entries unchanged, none added", lk_workflow_n_steps,
                    entries);
  }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/cli/read-only/workflow", test_workflow_leaves_collection_alone);
  return g_test_run ();
}
