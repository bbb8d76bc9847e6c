/* main.c — likeness-cli: dispatches to a subcommand. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli.h"
#include "blas-kernels.h"
#include "i18n.h"
#include "model-store.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "scan",  lk_cli_scan,  N_("Scan a collection and update its image cache") },
  { "info",  lk_cli_info,  N_("Describe a collection: categories, cache, data") },
  { "bench", lk_cli_bench, N_("Run a benchmark") },
  /* Embeddings, search, triplets, evaluation (issue 6) */
  { "embed",  lk_cli_embed,  N_("Compute and store a collection’s embeddings") },
  { "query",  lk_cli_query,  N_("Show the nearest neighbours of an image") },
  { "eval",   lk_cli_eval,   N_("Evaluate every baseline and model on triplets") },
  { "export", lk_cli_export, N_("Export an embedding (.npy) or triplets (CSV)") },
  /* Model and trainer (issue 4) */
  { "train",  lk_cli_train,  N_("Train a Deep Ranking model of a collection") },
  { NULL, NULL, NULL }
};

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: likeness-cli COMMAND [OPTION…]"));
  fprintf (out, "%s\n", _("Commands:"));
  for (gsize i = 0; commands[i].name != NULL; i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n", _("Run “likeness-cli COMMAND --help” for a command’s options."));
}

int
main (int argc, char **argv)
{
  lk_blas_select_kernels (argv);
  lk_i18n_init ();
  /* Trained models become embedding sources of embed, query and eval. */
  lk_model_register_embedder ();

  if (argc < 2)
    {
      print_usage (stderr);
      return LK_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return LK_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("likeness-cli %s\n", PACKAGE_VERSION);
      return LK_EXIT_OK;
    }
  for (gsize i = 0; commands[i].name != NULL; i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].run (argc - 1, argv + 1);

  fprintf (stderr, _("likeness-cli: unknown command “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return LK_EXIT_USAGE;
}
