/* replay.c — runs a fuzz harness over its stored inputs, as a normal test.
 *
 * Built once per harness with LK_FUZZ_NAME defined (e.g. "cache"); feeds
 * every file of tests/fuzz/corpus/NAME/ (the seeds and the corpus the
 * fuzzer grew) and tests/fuzz/crashers/NAME/ (inputs that once crashed,
 * kept as regression tests) to LLVMFuzzerTestOneInput(). A crash, a
 * sanitizer report or a failed assertion in the harness fails the test. */
#include "config.h"

#include <string.h>

#include "fuzz.h"

static void
replay_dir (gconstpointer data)
{
  const char *sub = data;
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fuzz", sub, LK_FUZZ_NAME, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    {
      g_test_skip ("no stored inputs");
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && !g_str_equal (name, "README"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree gchar *contents = NULL;
      gsize len;
      g_autoptr(GError) error = NULL;

      g_file_get_contents (path, &contents, &len, &error);
      g_assert_no_error (error);
      LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
    }
  g_test_message ("%u inputs of %s", names->len, dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lk_fuzz_init ();
  g_test_add_data_func ("/fuzz/" LK_FUZZ_NAME "/corpus", "corpus", replay_dir);
  g_test_add_data_func ("/fuzz/" LK_FUZZ_NAME "/crashers", "crashers", replay_dir);
  return g_test_run ();
}
