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

/* Removes a tree (no symlink is followed). */
void   lk_test_rm_rf (const char *path);

/* Debian's Fashion-MNIST folder, or NULL (and the test is skipped) if the
 * package is not installed. */
const char *lk_test_fashion_mnist_dir (void);

/* The likeness-cli built with the tests. */
const char *lk_test_cli_path (void);

G_END_DECLS
