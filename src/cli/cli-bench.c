/* cli-bench.c — `likeness-cli bench WHAT`: dispatches to one benchmark.
 * Benchmarks measure and print; they never assert (speed targets are not
 * tests on these shared machines). */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Bench;

static const Bench benches[] = {
  { "scan", lk_cli_bench_scan, N_("Scanning, decoding and reopening collections") },
  { "sampler", lk_cli_bench_sampler, N_("Features, relevance and triplet sampling") },
  { "search", lk_cli_bench_search, N_("Exact nearest-neighbour search against FAISS") },
  { "nn", lk_cli_bench_nn, N_("Neural-network engine: training and inference throughput") },
  { NULL, NULL, NULL }
};

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: likeness-cli bench WHAT [OPTION…]"));
  fprintf (out, "%s\n", _("Benchmarks:"));
  for (gsize i = 0; benches[i].name != NULL; i++)
    fprintf (out, "  %-10s %s\n", benches[i].name, _(benches[i].summary));
  fprintf (out, "\n%s\n", _("Run “likeness-cli bench WHAT --help” for a benchmark’s options."));
}

int
lk_cli_bench (int argc, char **argv)
{
  if (argc < 2)
    {
      print_usage (stderr);
      return LK_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (stdout);
      return LK_EXIT_OK;
    }
  for (gsize i = 0; benches[i].name != NULL; i++)
    if (g_str_equal (argv[1], benches[i].name))
      {
        /* The benchmark's argv[0] names it in usage lines and errors:
         * "likeness-cli bench scan", not "likeness-cli scan". */
        g_autofree char *command = g_strconcat ("bench ", argv[1], NULL);
        char *name = argv[1];
        int status;

        argv[1] = command;
        status = benches[i].run (argc - 1, argv + 1);
        argv[1] = name;
        return status;
      }
  fprintf (stderr, _("likeness-cli: unknown benchmark “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return LK_EXIT_USAGE;
}
