/* test-cli-conventions.c — what every likeness-cli command promises, run
 * as a user would: --help on each command and benchmark, exit codes 0, 1
 * and 2, a progress line on standard error only when it is a terminal,
 * and translated messages under a Korean locale from the build tree's
 * catalogues. The commands are read from `likeness-cli --help`, so a
 * command added later is held to the same rules. */
/* posix_openpt() and friends. */
#define _GNU_SOURCE
#include "config.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* How a run is set up: the locale and catalogue variables, and whether
 * standard error is a terminal (a pseudo-terminal we read back). */
typedef struct {
  const char *lc_all;       /* NULL: C */
  const char *language;     /* NULL: unset */
  const char *localedir;    /* LIKENESS_LOCALEDIR; NULL: unset */
  gboolean    stderr_tty;
} RunEnv;

static const RunEnv english = { NULL, NULL, NULL, FALSE };

static int
open_pty (int *slave)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY);

  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  *slave = open (ptsname (master), O_RDWR | O_NOCTTY);
  g_assert_cmpint (*slave, >=, 0);
  return master;
}

/* Everything the child wrote to the terminal; it has exited and the
 * last slave is closed, so the read ends with EIO (or 0) once drained. */
static char *
drain_pty (int master)
{
  GString *s = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  while ((n = read (master, buf, sizeof buf)) > 0)
    g_string_append_len (s, buf, n);
  return g_string_free (s, FALSE);
}

static void
run_env (Run *r, const RunEnv *env, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  int master = -1, slave = -1;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) lk_test_cli_path ());
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        (env->stderr_tty ? 0 : G_SUBPROCESS_FLAGS_STDERR_PIPE));
  g_subprocess_launcher_setenv (launcher, "LC_ALL", env->lc_all ? env->lc_all : "C", TRUE);
  if (env->language != NULL)
    g_subprocess_launcher_setenv (launcher, "LANGUAGE", env->language, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  if (env->localedir != NULL)
    g_subprocess_launcher_setenv (launcher, "LIKENESS_LOCALEDIR", env->localedir, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "LIKENESS_LOCALEDIR");
  if (env->stderr_tty)
    {
      master = open_pty (&slave);
      g_subprocess_launcher_take_stderr_fd (launcher, slave);
    }
  child = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  /* Drop our copy of the slave, so the master sees the end when the
   * child exits. */
  g_clear_object (&launcher);

  g_subprocess_communicate_utf8 (child, NULL, NULL, &r->out, env->stderr_tty ? NULL : &r->err,
                                 &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (child));
  r->status = g_subprocess_get_exit_status (child);
  if (env->stderr_tty)
    {
      r->err = drain_pty (master);
      close (master);
    }
}

#define run_cli(r, ...) run_env ((r), &english, __VA_ARGS__)

/* The names listed under @heading ("Commands:", "Benchmarks:") in a
 * usage text: the first word of each indented line after it. */
static GPtrArray *
listed_names (const char *usage, const char *heading)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = g_strsplit (usage, "\n", -1);
  gboolean in_list = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_equal (lines[i], heading))
        in_list = TRUE;
      else if (in_list && g_str_has_prefix (lines[i], "  ") && lines[i][2] != ' ')
        {
          g_auto(GStrv) words = g_strsplit (g_strstrip (lines[i]), " ", 2);
          g_ptr_array_add (names, g_strdup (words[0]));
        }
      else if (in_list)
        break;
    }
  return g_steal_pointer (&names);
}

static GPtrArray *
cli_commands (void)
{
  g_auto(Run) r = { 0 };
  GPtrArray *commands;

  run_cli (&r, "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  commands = listed_names (r.out, "Commands:");
  /* scan, info and bench exist today; others come on top. */
  g_assert_cmpuint (commands->len, >=, 3);
  return commands;
}

static GPtrArray *
cli_benchmarks (void)
{
  g_auto(Run) r = { 0 };
  GPtrArray *benches;

  run_cli (&r, "bench", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  benches = listed_names (r.out, "Benchmarks:");
  g_assert_cmpuint (benches->len, >=, 2);
  return benches;
}

/* `likeness-cli CMD --help`: usage on standard output naming the
 * command, exit 0, nothing on standard error. */
static void
assert_help (const char *command, const char *bench)
{
  g_auto(Run) r = { 0 };
  g_autofree char *name = bench != NULL ? g_strdup_printf ("likeness-cli %s %s", command, bench)
                                        : g_strdup_printf ("likeness-cli %s", command);

  if (bench != NULL)
    run_cli (&r, command, bench, "--help", NULL);
  else
    run_cli (&r, command, "--help", NULL);
  g_test_message ("%s --help", name);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, name));
  g_assert_nonnull (strstr (r.out, "--help"));
  g_assert_cmpstr (r.err, ==, "");
}

static void
test_help_everywhere (void)
{
  g_autoptr(GPtrArray) commands = cli_commands ();
  g_autoptr(GPtrArray) benches = cli_benchmarks ();
  g_auto(Run) top = { 0 };
  g_auto(Run) version = { 0 };

  run_cli (&top, "--help", NULL);
  g_assert_cmpstr (top.err, ==, "");
  for (guint i = 0; i < commands->len; i++)
    assert_help (commands->pdata[i], NULL);
  for (guint i = 0; i < benches->len; i++)
    assert_help ("bench", benches->pdata[i]);

  run_cli (&version, "--version", NULL);
  g_assert_cmpint (version.status, ==, 0);
  g_assert_cmpstr (version.out, ==, "likeness-cli " PACKAGE_VERSION "\n");
}

/* A usage error: exit 2, nothing on standard output, a message on
 * standard error that says where the help is. */
static void
assert_usage_error (const Run *r, const char *what)
{
  g_test_message ("usage error: %s", what);
  g_assert_cmpint (r->status, ==, 2);
  g_assert_cmpstr (r->out, ==, "");
  g_assert_nonnull (strstr (r->err, "--help"));
}

static void
test_exit_codes (void)
{
  g_autoptr(GPtrArray) commands = cli_commands ();
  g_autoptr(GPtrArray) benches = cli_benchmarks ();
  g_autofree char *root = lk_test_make_tmpdir ("exit-codes");
  g_autofree char *missing = g_build_filename (root, "no-such-folder", NULL);
  g_auto(Run) none = { 0 };
  g_auto(Run) unknown = { 0 };
  g_auto(Run) extra = { 0 };
  g_auto(Run) bad_value = { 0 };
  g_auto(Run) scan_missing = { 0 };
  g_auto(Run) info_missing = { 0 };

  for (guint i = 0; i < commands->len; i++)
    {
      g_auto(Run) r = { 0 };
      run_cli (&r, commands->pdata[i], "--no-such-option", NULL);
      assert_usage_error (&r, commands->pdata[i]);
      g_assert_nonnull (strstr (r.err, commands->pdata[i]));
    }
  for (guint i = 0; i < benches->len; i++)
    {
      g_auto(Run) r = { 0 };
      g_autofree char *name = g_strdup_printf ("likeness-cli bench %s",
                                               (char *) benches->pdata[i]);
      run_cli (&r, "bench", benches->pdata[i], "--no-such-option", NULL);
      assert_usage_error (&r, name);
      g_assert_nonnull (strstr (r.err, name));
    }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "bench", "no-such-benchmark", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_cmpstr (r.out, ==, "");
  }

  run_cli (&none, NULL);
  g_assert_cmpint (none.status, ==, 2);
  g_assert_cmpstr (none.out, ==, "");
  g_assert_nonnull (strstr (none.err, "Usage:"));

  run_cli (&unknown, "frobnicate", NULL);
  assert_usage_error (&unknown, "unknown command");

  run_cli (&extra, "scan", root, root, NULL);
  assert_usage_error (&extra, "two folders");

  run_cli (&bad_value, "scan", "--side", "many", root, NULL);
  assert_usage_error (&bad_value, "--side many");

  /* train's schedule options: each mistake its own message. */
  {
    g_auto(Run) minutes = { 0 };
    g_auto(Run) both = { 0 };

    run_cli (&minutes, "train", "--minutes", "-1", root, NULL);
    assert_usage_error (&minutes, "--minutes -1");
    g_assert_nonnull (strstr (minutes.err, "--minutes must be positive"));
    run_cli (&both, "train", "--steps", "10", "--ranking-steps", "5", root, NULL);
    assert_usage_error (&both, "--steps with --ranking-steps");
    g_assert_nonnull (strstr (both.err, "not both"));
  }

  /* Run-time errors: exit 1 and a message naming the folder. */
  run_cli (&scan_missing, "scan", missing, NULL);
  g_assert_cmpint (scan_missing.status, ==, 1);
  g_assert_cmpstr (scan_missing.out, ==, "");
  g_assert_nonnull (strstr (scan_missing.err, missing));

  run_cli (&info_missing, "info", "--json", missing, NULL);
  g_assert_cmpint (info_missing.status, ==, 1);
  g_assert_cmpstr (info_missing.out, ==, "");
  g_assert_nonnull (strstr (info_missing.err, missing));
}

static char *
make_collection (const char *name)
{
  char *root = lk_test_make_tmpdir (name);
  const char *files[] = { "apples/a.png", "apples/b.png", "pears/c.png" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (root, files[i], NULL);
      g_autofree char *dir = g_path_get_dirname (path);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
      lk_test_write_png (path, 12, 12, i + 1);
    }
  return root;
}

static void
test_progress_only_on_a_terminal (void)
{
  g_autofree char *root = make_collection ("progress");
  const RunEnv tty = { NULL, NULL, NULL, TRUE };
  g_auto(Run) piped = { 0 };
  g_auto(Run) shown = { 0 };
  g_auto(Run) quiet = { 0 };
  g_auto(Run) json = { 0 };

  /* --no-cache: every run decodes, so every run has progress to show. */
  run_cli (&piped, "scan", "--no-cache", root, NULL);
  g_assert_cmpint (piped.status, ==, 0);
  g_assert_cmpstr (piped.err, ==, "");

  run_env (&shown, &tty, "scan", "--no-cache", root, NULL);
  g_assert_cmpint (shown.status, ==, 0);
  g_assert_nonnull (strstr (shown.err, "\r\033[K"));
  g_assert_nonnull (strstr (shown.err, "Decoding"));
  /* The bar never leaks into the results. */
  g_assert_null (strchr (shown.out, '\033'));
  g_assert_null (strchr (shown.out, '\r'));
  /* The same results as without a terminal, but for the scan time. */
  g_assert_nonnull (strstr (shown.out, "\nScan:"));
  g_assert_cmpint (strstr (shown.out, "\nScan:") - shown.out, ==,
                   strstr (piped.out, "\nScan:") - piped.out);
  g_assert_cmpint (strncmp (shown.out, piped.out, strstr (shown.out, "\nScan:") - shown.out),
                   ==, 0);

  run_env (&quiet, &tty, "scan", "--no-cache", "--quiet", root, NULL);
  g_assert_cmpint (quiet.status, ==, 0);
  g_assert_cmpstr (quiet.err, ==, "");

  run_env (&json, &tty, "scan", "--no-cache", "--json", root, NULL);
  g_assert_cmpint (json.status, ==, 0);
  g_assert_true (g_str_has_prefix (json.out, "{\n"));
  g_assert_true (g_str_has_suffix (json.out, "}\n"));
  g_assert_null (strchr (json.out, '\033'));
  g_assert_nonnull (strstr (json.err, "\r\033[K"));
}

/* The build tree's catalogues: po/ beside tests/ in the build folder,
 * where meson compiles LANG/LC_MESSAGES/likeness.mo. */
static char *
build_localedir (void)
{
  char *dir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  g_autofree char *mo = g_build_filename (dir, "ko", "LC_MESSAGES", "likeness.mo", NULL);

  g_assert_true (g_file_test (mo, G_FILE_TEST_IS_REGULAR));
  return dir;
}

/* Korean output of `--help` and of a run-time error. The strings are
 * ko.po's translations of "Commands:", of the scan command's summary and
 * of "Cannot open the collection %s: %s". */
static void
assert_korean (const RunEnv *env, const char *missing)
{
  g_auto(Run) help = { 0 };
  g_auto(Run) error = { 0 };

  run_env (&help, env, "--help", NULL);
  g_assert_cmpint (help.status, ==, 0);
  g_assert_nonnull (strstr (help.out, "명령:"));
  g_assert_nonnull (strstr (help.out, "컬렉션을 스캔하고 이미지 캐시를 갱신합니다"));
  g_assert_null (strstr (help.out, "Commands:"));

  run_env (&error, env, "scan", missing, NULL);
  g_assert_cmpint (error.status, ==, 1);
  g_assert_nonnull (strstr (error.err, missing));
  g_assert_nonnull (strstr (error.err, "컬렉션을 열 수 없습니다"));
}

static void
test_korean_locale (void)
{
  g_autofree char *localedir = build_localedir ();
  g_autofree char *root = lk_test_make_tmpdir ("korean");
  g_autofree char *missing = g_build_filename (root, "없는-폴더", NULL);
  const RunEnv korean = { "ko_KR.UTF-8", NULL, localedir, FALSE };
  locale_t probe = newlocale (LC_ALL_MASK, "ko_KR.UTF-8", (locale_t) 0);

  if (probe == (locale_t) 0)
    {
      g_test_skip ("the ko_KR.UTF-8 locale is not generated (build-aux/dev generates it)");
      return;
    }
  freelocale (probe);
  assert_korean (&korean, missing);
}

static void
test_korean_language (void)
{
  g_autofree char *localedir = build_localedir ();
  g_autofree char *root = lk_test_make_tmpdir ("korean-language");
  g_autofree char *missing = g_build_filename (root, "no-such-folder", NULL);
  /* LANGUAGE picks the catalogue under any locale but C, so this needs
   * no generated locale: C.UTF-8 is built into glibc. */
  const RunEnv korean = { "C.UTF-8", "ko", localedir, FALSE };

  assert_korean (&korean, missing);
}

/* Terminal columns of @s, @len bytes: a Hangul syllable takes two. */
static glong
columns_of (const char *s, gssize len)
{
  glong width = 0;

  for (const char *p = s; p < s + len; p = g_utf8_next_char (p))
    width += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;
  return width;
}

/* The query table keeps its columns in Korean, where the header and the
 * category names are Hangul (three bytes, two columns a syllable): the
 * path, the last field, starts at column 4 + 2 + 12 + 2 + 20 + 2 on
 * every line. */
static void
test_korean_columns (void)
{
  static const char *const cats[] = { "셔츠", "bag", NULL };
  g_autofree char *localedir = build_localedir ();
  g_autofree char *root = lk_test_make_image_tree ("korean-columns", cats, 3, 12, 12, 0);
  const RunEnv korean = { "C.UTF-8", "ko", localedir, FALSE };
  g_auto(Run) r = { 0 };
  g_auto(GStrv) lines = NULL;

  run_env (&r, &korean, "query", "--source", "pixels", "-k", "4", root, "0", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "카테고리"));
  g_assert_nonnull (strstr (r.out, "셔츠/"));
  lines = g_strsplit (r.out, "\n", -1);
  /* A title line, the header, the 4 neighbours and the final "". */
  g_assert_cmpuint (g_strv_length (lines), ==, 7);
  for (guint i = 1; i < 6; i++)
    {
      const char *last = g_strrstr (lines[i], "  ");
      g_assert_nonnull (last);
      g_assert_cmpint (columns_of (lines[i], last - lines[i] + 2), ==, 42);
    }
}

static void
test_localedir_unset_when_empty (void)
{
  g_autofree char *installed = g_build_filename (LOCALEDIR, "ko", "LC_MESSAGES",
                                                 "likeness.mo", NULL);
  const RunEnv empty = { "C.UTF-8", "ko", "", FALSE };
  g_auto(Run) r = { 0 };

  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("a Korean catalogue is installed in LOCALEDIR");
      return;
    }
  /* An empty LIKENESS_LOCALEDIR means the installed catalogues, and
   * there are none: English. */
  run_env (&r, &empty, "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Commands:"));
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/cli/conventions/help", test_help_everywhere);
  g_test_add_func ("/cli/conventions/exit-codes", test_exit_codes);
  g_test_add_func ("/cli/conventions/progress-tty", test_progress_only_on_a_terminal);
  g_test_add_func ("/cli/i18n/korean-locale", test_korean_locale);
  g_test_add_func ("/cli/i18n/korean-language", test_korean_language);
  g_test_add_func ("/cli/i18n/korean-columns", test_korean_columns);
  g_test_add_func ("/cli/i18n/empty-localedir", test_localedir_unset_when_empty);
  return g_test_run ();
}
