/* cli.h — the subcommands of likeness-cli and what they share.
 *
 * Each subcommand is `int lk_cli_NAME (int argc, char **argv)` with argv[0]
 * the subcommand's name; it parses its own options with GOptionContext
 * (so `--help` works everywhere) and returns an exit code. */
#pragma once

#include <gio/gio.h>
#include "collection.h"

G_BEGIN_DECLS

enum {
  LK_EXIT_OK = 0,
  LK_EXIT_ERROR = 1,
  LK_EXIT_USAGE = 2,
};

/* Subcommands. */
int lk_cli_scan (int argc, char **argv);
int lk_cli_info (int argc, char **argv);
int lk_cli_bench (int argc, char **argv);
/* Embeddings, search, triplets, evaluation (issue 6) */
int lk_cli_embed (int argc, char **argv);
int lk_cli_query (int argc, char **argv);
int lk_cli_eval (int argc, char **argv);
int lk_cli_export (int argc, char **argv);
/* Model and trainer (issue 4) */
int lk_cli_train (int argc, char **argv);

/* Benchmarks (likeness-cli bench NAME). */
int lk_cli_bench_scan (int argc, char **argv);
int lk_cli_bench_sampler (int argc, char **argv);
int lk_cli_bench_search (int argc, char **argv);
int lk_cli_bench_nn (int argc, char **argv);

/* Parses @entries (plus the collection options below when
 * @collection_options is TRUE) for subcommand argv[0]; prints usage and
 * returns FALSE on a usage error (the caller then returns LK_EXIT_USAGE). */
typedef struct {
  char    *builtin;      /* --builtin NAME */
  int      side;         /* --side N (0 = preset default) */
  int      max_mp;       /* --max-megapixels N */
  int      threads;      /* --threads N */
  gboolean no_cache;     /* --no-cache */
  gboolean json;         /* --json */
  gboolean quiet;        /* --quiet: no progress */
} LkCliCollectionArgs;

/* Frees the strings lk_cli_parse() stored in @args (--builtin). */
void lk_cli_collection_args_clear (LkCliCollectionArgs *args);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LkCliCollectionArgs, lk_cli_collection_args_clear)

gboolean lk_cli_parse (int                  *argc,
                       char               ***argv,
                       const char           *parameter_string,
                       const char           *summary,
                       const GOptionEntry   *entries,
                       LkCliCollectionArgs  *collection_args);

/* Opens the collection named by the remaining argument (a folder) or by
 * --builtin, with a progress bar on stderr when it is a terminal. */
LkCollection *lk_cli_open_collection (int                   argc,
                                      char                **argv,
                                      LkCliCollectionArgs  *args,
                                      GError              **error);

/* Prints "likeness-cli: MESSAGE" on stderr and returns LK_EXIT_ERROR. */
int  lk_cli_fail (const GError *error);
int  lk_cli_usage_error (const char *command, const char *message);

/* A one-line progress bar on stderr, drawn only when stderr is a
 * terminal and at most 10 times a second. */
typedef struct _LkCliProgress LkCliProgress;
LkCliProgress *lk_cli_progress_new    (gboolean enabled);
void           lk_cli_progress_update (LkCliProgress *progress,
                                       const char    *phase,
                                       guint64        done,
                                       guint64        total,
                                       const char    *extra);
void           lk_cli_progress_free   (LkCliProgress *progress);

/* JSON output helpers: a string escaped as a JSON string literal (paths
 * that are not UTF-8 get their invalid bytes as \uFFFD). */
void lk_cli_json_string (GString *out, const char *s);

/* Cancels @cancellable on SIGINT, so a run stops cleanly at the next batch. */
void lk_cli_cancel_on_sigint (GCancellable *cancellable);

/* Translations in columns (issue 8): the field width to give printf's
 * "%*s" or "%-*s" so that @s fills @columns columns of a terminal.
 * printf pads by bytes, and a Hangul syllable is 3 bytes but 2 columns. */
/* Terminal columns @s takes (wide characters 2, zero-width 0). */
int lk_cli_width (const char *s);
int lk_cli_pad (const char *s, int columns);

G_END_DECLS
