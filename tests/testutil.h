/* testutil.h — helpers shared by the test programs: a private XDG home per
 * test run, temporary folders, and small generated images. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* g_test_init() plus: XDG_CACHE_HOME, XDG_DATA_HOME and XDG_CONFIG_HOME
 * point into a fresh temporary folder that is removed at exit, so tests
 * never touch the user's state and never see each other's. */
void   lk_test_init (int *argc, char ***argv);

/* A new empty temporary folder, removed at exit. */
char  *lk_test_make_tmpdir (const char *name);

/* Writes a w×h RGBA PNG whose content depends on @seed. */
void   lk_test_write_png (const char *path, int w, int h, guint seed);

/* CRC-32 as PNG chunks carry it, for tests that forge PNG headers. */
guint32 lk_test_crc32 (const guint8 *data, gsize len);

/* A folder collection under the test home: for each of @categories
 * (NULL-terminated) a sub-folder with @per_category PNGs "NAME-I.png" of
 * @w×@h pixels, each different (seeded from @seed and its place). Returns
 * the folder. */
char  *lk_test_make_image_tree (const char        *name,
                                const char *const *categories,
                                guint              per_category,
                                int                w,
                                int                h,
                                guint              seed);

/* Removes a tree (no symlink is followed). */
void   lk_test_rm_rf (const char *path);

/* Debian's Fashion-MNIST folder, or NULL (and the test is skipped) if the
 * package is not installed. */
const char *lk_test_fashion_mnist_dir (void);

/* The likeness-cli built with the tests. */
const char *lk_test_cli_path (void);

/* One run of likeness-cli: its exit status (-1 if it did not exit) and
 * what it printed. */
typedef struct {
  int   status;
  char *out;
  char *err;
} LkTestRun;

void lk_test_run_clear (LkTestRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LkTestRun, lk_test_run_clear)
/* Runs likeness-cli with the arguments, NULL-terminated. */
void lk_test_run_cli (LkTestRun *run, const char *first, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
