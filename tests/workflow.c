/* workflow.c — see workflow.h. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileutil.h"
#include "testutil.h"
#include "workflow.h"

/* The workflow: scan, features, embed, query, eval, export, train, embed
 * and query with the model, label, eval with the labels, export the
 * model's embedding. The kill test and the read-only test pick up any
 * step appended here. */
const LkWorkflowStep lk_workflow_steps[] = {
  { "scan",
    { "@CLI@", "scan", "--quiet", "@COLLECTION@" },
    { "images-64.cache" },
    { "@HELPER@", "scan", "@COLLECTION@" } },
  { "scan-json",
    { "@CLI@", "scan", "--json", "--threads", "1", "@COLLECTION@" } },
  { "info",
    { "@CLI@", "info", "@COLLECTION@" } },
  { "features",
    { "@HELPER@", "features", "@COLLECTION@" },
    { "features-64.bin" },
    { "@HELPER@", "features", "@COLLECTION@" } },
  { "relevance",
    { "@HELPER@", "relevance", "@COLLECTION@" },
    { "relevance-64.bin" },
    { "@HELPER@", "relevance", "@COLLECTION@" } },
  { "bench-sampler",
    { "@CLI@", "bench", "sampler", "--only", "openclipart", "--folder", "@COLLECTION@",
      "--seconds", "0.05", "--threads", "1" } },
  { "embed",
    { "@CLI@", "embed", "--quiet", "@COLLECTION@" },
    { "@DATA@/embeddings/golden.emb", "@DATA@/embeddings/hog.emb",
      "@DATA@/embeddings/lbp.emb", "@DATA@/embeddings/pixels.emb" },
    { "@CLI@", "query", "@COLLECTION@", "boats/img-0000.png" } },
  { "query",
    { "@CLI@", "query", "-k", "5", "@COLLECTION@", "boats/img-0000.png" } },
  { "eval",
    { "@CLI@", "eval", "@COLLECTION@" } },
  { "export",
    { "@CLI@", "export", "--source", "golden", "-o", "@OUT@/golden", "@COLLECTION@" } },
  /* Training with checkpoints every 4 steps, small batches, one thread (so
   * a resumed run can be compared to the bit with an uninterrupted one);
   * the check resumes from the last checkpoint and prints the final
   * weights' digest. workflow-helper.c knows these batches. */
  { "train",
    { "@CLI@", "train", "--quiet", "--preset", "tiny", "--threads", "1", "--no-embed",
      "--pretrain-steps", "12", "--ranking-steps", "12", "--pretrain-batch", "16",
      "--ranking-batch", "8", "--checkpoint-steps", "4", "@COLLECTION@" },
    { "@DATA@/models/tiny/" },
    { "@HELPER@", "train-check", "@COLLECTION@", "tiny", "12", "12", "4" } },
  { "embed-model",
    { "@CLI@", "embed", "--quiet", "--source", "model-tiny", "@COLLECTION@" } },
  { "query-model",
    { "@CLI@", "query", "--source", "model-tiny", "-k", "5", "@COLLECTION@",
      "boats/img-0000.png" } },
  /* Labelling as the Label view does; the check finds every acknowledged
   * answer and undo in the file, then answers the rest. */
  { "label",
    { "@HELPER@", "label", "@COLLECTION@", "600" },
    { "@DATA@/triplets.csv", "@DATA@/workflow-label.acks" },
    { "@HELPER@", "label-check", "@COLLECTION@", "600" } },
  { "eval-labelled",
    { "@CLI@", "eval", "@COLLECTION@" } },
  { "export-model",
    { "@CLI@", "export", "--source", "model-tiny", "-o", "@OUT@/model-tiny", "@COLLECTION@" } },
};
const guint lk_workflow_n_steps = G_N_ELEMENTS (lk_workflow_steps);

void
lk_run_clear (LkRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

static const char *
helper_path (void)
{
  const char *helper = g_getenv ("LK_WORKFLOW_HELPER");
  g_assert_nonnull (helper);
  return helper;
}

char **
lk_workflow_expand (const char *const *argv, const char *collection)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < LK_WORKFLOW_MAX_ARGS && argv[i] != NULL; i++)
    {
      if (g_str_equal (argv[i], "@CLI@"))
        g_ptr_array_add (out, g_strdup (lk_test_cli_path ()));
      else if (g_str_equal (argv[i], "@HELPER@"))
        g_ptr_array_add (out, g_strdup (helper_path ()));
      else if (g_str_equal (argv[i], "@COLLECTION@"))
        g_ptr_array_add (out, g_strdup (collection));
      else if (g_str_has_prefix (argv[i], "@OUT@"))
        g_ptr_array_add (out, g_strconcat (g_get_user_data_dir (), argv[i] + 5, NULL));
      else
        g_ptr_array_add (out, g_strdup (argv[i]));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

void
lk_workflow_run (const char *const *argv, const char *collection, LkRun *run)
{
  g_auto(GStrv) args = lk_workflow_expand (argv, collection);
  g_autoptr(GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  int wait_status;

  g_spawn_sync (NULL, args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run->out, &run->err,
                &wait_status, &error);
  g_assert_no_error (error);
  run->seconds = (g_get_monotonic_time () - t0) / 1e6;
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status)
                : WIFSIGNALED (wait_status) ? -WTERMSIG (wait_status) : -1000;
}

gboolean
lk_workflow_run_killed (const char *const *argv, const char *collection, gint64 delay_us)
{
  g_auto(GStrv) args = lk_workflow_expand (argv, collection);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + delay_us;
  GPid pid;
  int wait_status;
  pid_t r;

  g_spawn_async (NULL, args, NULL,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                 G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  /* Poll, so a command that ends early is reaped at once. */
  while ((r = waitpid (pid, &wait_status, WNOHANG)) == 0 &&
         g_get_monotonic_time () < deadline)
    g_usleep (500);
  if (r == 0)
    {
      kill (pid, SIGKILL);
      while ((r = waitpid (pid, &wait_status, 0)) < 0 && errno == EINTR)
        ;
    }
  g_assert_cmpint (r, ==, pid);
  g_spawn_close_pid (pid);
  return WIFSIGNALED (wait_status) && WTERMSIG (wait_status) == SIGKILL;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
snapshot_dir (const char *abs, const char *rel, GString *out)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = g_dir_open (abs, 0, NULL);
  g_autoptr(GString) joined = g_string_new (NULL);
  const char *name;
  struct stat st;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (joined, "%s/", (char *) names->pdata[i]);
  g_assert_cmpint (lstat (abs, &st), ==, 0);
  g_string_append_printf (out, "%s dir %o %ld.%09ld entries %016" G_GINT64_MODIFIER "x\n",
                          rel, st.st_mode, (long) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec,
                          lk_hash64 (joined->str, joined->len, 0));
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child_abs = g_build_filename (abs, names->pdata[i], NULL);
      g_autofree char *child_rel = g_build_filename (rel, names->pdata[i], NULL);

      g_assert_cmpint (lstat (child_abs, &st), ==, 0);
      if (S_ISDIR (st.st_mode))
        snapshot_dir (child_abs, child_rel, out);
      else
        {
          g_autofree gchar *contents = NULL;
          gsize len = 0;
          guint64 hash = 0;
          if (S_ISLNK (st.st_mode))
            {
              contents = g_file_read_link (child_abs, NULL);
              len = contents != NULL ? strlen (contents) : 0;
            }
          else if (S_ISREG (st.st_mode))
            g_file_get_contents (child_abs, &contents, &len, NULL);
          if (contents != NULL)
            hash = lk_hash64 (contents, len, 0);
          g_string_append_printf (out, "%s %o %ld %ld.%09ld %016" G_GINT64_MODIFIER "x\n",
                                  child_rel, st.st_mode, (long) st.st_size,
                                  (long) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec, hash);
        }
    }
}

GString *
lk_tree_snapshot (const char *root)
{
  GString *out = g_string_new (NULL);
  snapshot_dir (root, ".", out);
  return out;
}

guint
lk_workflow_count_temporaries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (strstr (name, ".tmp-") != NULL)
        n++;
      else if (g_file_test (path, G_FILE_TEST_IS_DIR))
        n += lk_workflow_count_temporaries (path);
    }
  return n;
}

char *
lk_workflow_make_collection (const char *name, guint n, guint size)
{
  static const char *const categories[] = { "boats", "cars", "trees" };
  char *root = lk_test_make_tmpdir (name);

  for (guint i = 0; i < n; i++)
    {
      const char *cat = categories[i % G_N_ELEMENTS (categories)];
      g_autofree char *dir = g_build_filename (root, cat, i % 2 ? "more" : "", NULL);
      g_autofree char *file = g_strdup_printf ("%s/img-%04u.png", dir, i);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
      lk_test_write_png (file, (int) size, (int) (size - i % 7), i);
    }
  return root;
}
