/* workflow.h — the user workflow, step by step, for the reliability tests
 * (issue 9): the kill test (test-kill.c) kills each step at random moments
 * and checks what the next run reads; the read-only test
 * (test-read-only.c) runs every step and checks the collection is
 * untouched.
 *
 * A step is a command line: "@CLI@" stands for likeness-cli, "@HELPER@"
 * for tests/workflow-helper (engine entry points no CLI verb has yet),
 * "@COLLECTION@" for the collection folder, a leading "@OUT@" for a
 * folder of the test's own (outside the collection). Adding a step (train, embed,
 * label, eval, export…) is one entry in lk_workflow_steps[] (workflow.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_WORKFLOW_MAX_ARGS 24

typedef struct {
  const char *name;
  /* What the user runs. */
  const char *argv[LK_WORKFLOW_MAX_ARGS];
  /* Files this step writes, "NAME" in the collection's cache folder or
   * "@DATA@/NAME" in its data folder (a folder when it ends with "/"); the
   * kill test removes them before a run, so the kill lands while they are
   * being computed and written. */
  const char *outputs[8];
  /* Run to completion after a kill; its standard output must be what it
   * prints after a clean run (a digest of what it read). Empty: the step
   * is not killed (read-only test only). */
  const char *check[LK_WORKFLOW_MAX_ARGS];
} LkWorkflowStep;

extern const LkWorkflowStep lk_workflow_steps[];
extern const guint lk_workflow_n_steps;

typedef struct {
  int status;      /* exit status, or -signal when killed */
  char *out;
  char *err;
  double seconds;
} LkRun;

void lk_run_clear (LkRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LkRun, lk_run_clear)

/* @argv with the placeholders replaced, as a new NULL-terminated vector. */
char **lk_workflow_expand (const char *const *argv, const char *collection);

/* Runs @argv to completion (placeholders expanded). */
void   lk_workflow_run (const char *const *argv, const char *collection, LkRun *run);

/* Starts @argv, sends it SIGKILL after @delay_us (unless it ends first) and
 * reaps it; returns TRUE if the kill landed before the command ended. */
gboolean lk_workflow_run_killed (const char *const *argv, const char *collection,
                                 gint64 delay_us);

/* A line per file and folder below @root (sorted): path, type, mode, size,
 * mtime in ns, and a hash of the contents or of the sorted entry names. */
GString *lk_tree_snapshot (const char *root);

/* Temporaries (NAME.tmp-XXXXXX) below @dir, in every sub-folder. */
guint  lk_workflow_count_temporaries (const char *dir);

/* A folder collection of @n small PNGs in 3 categories, nested a level. */
char  *lk_workflow_make_collection (const char *name, guint n, guint size);

G_END_DECLS
