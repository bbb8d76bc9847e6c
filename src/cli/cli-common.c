/* cli-common.c — what every likeness-cli subcommand shares: option
 * parsing, opening a collection, the progress line, errors, JSON. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

gboolean
lk_cli_parse (int                  *argc,
              char               ***argv,
              const char           *parameter_string,
              const char           *summary,
              const GOptionEntry   *entries,
              LkCliCollectionArgs  *args)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = NULL;
  const char *command = (*argv)[0];
  const GOptionEntry collection_entries[] = {
    { "builtin", 'b', 0, G_OPTION_ARG_STRING, args != NULL ? &args->builtin : NULL,
      N_("Use a built-in collection (fashion-mnist)"), N_("NAME") },
    { "side", 0, 0, G_OPTION_ARG_INT, args != NULL ? &args->side : NULL,
      N_("Decode images to SIDE×SIDE pixels (default 64)"), N_("SIDE") },
    { "max-megapixels", 0, 0, G_OPTION_ARG_INT, args != NULL ? &args->max_mp : NULL,
      N_("Skip images larger than this (default 50)"), N_("MP") },
    { "threads", 'j', 0, G_OPTION_ARG_INT, args != NULL ? &args->threads : NULL,
      N_("Threads to use (default: all cores)"), N_("N") },
    { "no-cache", 0, 0, G_OPTION_ARG_NONE, args != NULL ? &args->no_cache : NULL,
      N_("Neither read nor write the image cache"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, args != NULL ? &args->json : NULL,
      N_("Print JSON on standard output"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, args != NULL ? &args->quiet : NULL,
      N_("Do not show progress"), NULL },
    { NULL }
  };

  /* GOption prints "Usage: PRGNAME [OPTION…] PARAMETERS": naming the
   * program "likeness-cli COMMAND" puts the options after the command,
   * where they go. */
  prgname = g_strdup_printf ("likeness-cli %s", command);
  g_set_prgname (prgname);
  context = g_option_context_new (parameter_string);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (summary != NULL)
    g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Main entries, not a group of their own, so plain --help lists them. */
  if (args != NULL)
    g_option_context_add_main_entries (context, collection_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      lk_cli_usage_error (command, error->message);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  LkCliProgress *bar;
} OpenProgress;

static void
on_scan_progress (const char *phase, guint done, guint total, gpointer user_data)
{
  lk_cli_progress_update (user_data, phase, done, total, NULL);
}

void
lk_cli_collection_args_clear (LkCliCollectionArgs *args)
{
  g_clear_pointer (&args->builtin, g_free);
}

LkCollection *
lk_cli_open_collection (int                   argc,
                        char                **argv,
                        LkCliCollectionArgs  *args,
                        GError              **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  LkCliProgress *bar;
  LkCollection *coll;
  LkScanOptions options;

  lk_cli_cancel_on_sigint (cancellable);
  if (args->builtin != NULL)
    {
      if (argc > 1)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                       _("give either a folder or --builtin, not both"));
          return NULL;
        }
      if (!g_str_equal (args->builtin, "fashion-mnist"))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("unknown built-in collection “%s” (there is: fashion-mnist)"),
                       args->builtin);
          return NULL;
        }
      return lk_collection_open_fashion_mnist (g_getenv ("LK_FASHION_MNIST_DIR"),
                                               cancellable, error);
    }
  if (argc != 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   argc < 2 ? _("give a collection folder or --builtin fashion-mnist")
                            : _("give only one collection folder"));
      return NULL;
    }

  lk_scan_options_init (&options);
  if (args->side > 0)
    options.side = (guint) args->side;
  if (args->max_mp > 0)
    options.max_pixels = (guint64) args->max_mp * 1000000;
  if (args->threads > 0)
    options.n_threads = (guint) args->threads;
  options.no_cache = args->no_cache;

  bar = lk_cli_progress_new (!args->quiet);
  coll = lk_collection_open_folder (argv[1], &options, on_scan_progress, bar,
                                    cancellable, error);
  lk_cli_progress_free (bar);
  return coll;
}

int
lk_cli_fail (const GError *error)
{
  if (error->domain == G_OPTION_ERROR)
    {
      /* A usage error found after parsing (a missing or extra argument):
       * lk_cli_parse() named the program after the command, so point the
       * user at that command's --help. */
      const char *prgname = g_get_prgname ();

      if (prgname != NULL && g_str_has_prefix (prgname, "likeness-cli "))
        return lk_cli_usage_error (prgname + strlen ("likeness-cli "), error->message);
      fprintf (stderr, "likeness-cli: %s\n", error->message);
      return LK_EXIT_USAGE;
    }
  fprintf (stderr, "likeness-cli: %s\n", error->message);
  return LK_EXIT_ERROR;
}

int
lk_cli_usage_error (const char *command, const char *message)
{
  fprintf (stderr, "likeness-cli %s: %s\n", command, message);
  fprintf (stderr, _("Run “likeness-cli %s --help” for its options.\n"), command);
  return LK_EXIT_USAGE;
}

/* Progress line ------------------------------------------------------------ */

struct _LkCliProgress
{
  gboolean enabled;
  gint64 last;
  gint64 start;
  gboolean drawn;
};

LkCliProgress *
lk_cli_progress_new (gboolean enabled)
{
  LkCliProgress *p = g_new0 (LkCliProgress, 1);
  p->enabled = enabled && isatty (STDERR_FILENO);
  p->start = g_get_monotonic_time ();
  return p;
}

void
lk_cli_progress_update (LkCliProgress *p,
                        const char    *phase,
                        guint64        done,
                        guint64        total,
                        const char    *extra)
{
  gint64 now = g_get_monotonic_time ();
  char bar[31];
  int filled;

  if (p == NULL || !p->enabled)
    return;
  if (p->drawn && now - p->last < 100000 && done != total)
    return;
  p->last = now;
  p->drawn = TRUE;
  if (total == 0)
    {
      fprintf (stderr, "\r\033[K%s…%s%s", phase, extra ? "  " : "", extra ? extra : "");
      fflush (stderr);
      return;
    }
  filled = (int) (30 * MIN (done, total) / total);
  memset (bar, '#', (gsize) filled);
  memset (bar + filled, '-', (gsize) (30 - filled));
  bar[30] = '\0';
  fprintf (stderr, "\r\033[K%-10s [%s] %3d%% %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
           " %5.1fs%s%s", phase, bar, (int) (100 * MIN (done, total) / total), done, total,
           (now - p->start) / 1e6, extra ? "  " : "", extra ? extra : "");
  fflush (stderr);
}

void
lk_cli_progress_free (LkCliProgress *p)
{
  if (p == NULL)
    return;
  if (p->enabled && p->drawn)
    {
      fprintf (stderr, "\r\033[K");
      fflush (stderr);
    }
  g_free (p);
}

/* JSON --------------------------------------------------------------------- */

void
lk_cli_json_string (GString *out, const char *s)
{
  const char *p = s;

  g_string_append_c (out, '"');
  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* A byte that is not UTF-8 (file names need not be). */
          g_string_append (out, "\\ufffd");
          p++;
          continue;
        }
      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", (char) c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append_c (out, '"');
}

/* Ctrl+C -------------------------------------------------------------------- */

static gboolean
on_sigint (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

static gpointer
sigint_thread (gpointer user_data)
{
  GMainContext *context = user_data;
  for (;;)
    g_main_context_iteration (context, TRUE);
  return NULL;
}

void
lk_cli_cancel_on_sigint (GCancellable *cancellable)
{
  static GMainContext *context;
  static GSource *source;

  /* Signals are watched from a small thread of their own, since the
   * commands block in engine calls and run no main loop. */
  if (context == NULL)
    {
      context = g_main_context_new ();
      g_thread_unref (g_thread_new ("lk-sigint", sigint_thread, context));
    }
  if (source != NULL)
    {
      g_source_destroy (source);
      g_source_unref (source);
    }
  source = g_unix_signal_source_new (SIGINT);
  g_source_set_callback (source, on_sigint, g_object_ref (cancellable), g_object_unref);
  g_source_attach (source, context);
}

int
lk_cli_width (const char *s)
{
  const char *p = s;
  int width = 0;

  g_return_val_if_fail (s != NULL, 0);
  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* A byte that is not UTF-8 shows as one replacement glyph. */
          width++;
          p++;
          continue;
        }
      width += g_unichar_iszerowidth (c) ? 0 : g_unichar_iswide (c) ? 2 : 1;
      p = g_utf8_next_char (p);
    }
  return width;
}

int
lk_cli_pad (const char *s, int columns)
{
  g_return_val_if_fail (s != NULL, columns);
  return columns + (int) strlen (s) - lk_cli_width (s);
}
