/* test-evaluate.c — the evaluation table as the app gets it
 * (lk_evaluate_async), on a generated collection: its sets, rows and
 * the figures that are known in advance. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "evaluate.h"
#include "triplets.h"
#include "testutil.h"

static LkCollection *
collection (void)
{
  const char *cats[] = { "one", "two", "three", "four", NULL };
  g_autofree char *root = lk_test_make_image_tree ("eval-col", cats, 6, 14, 14, 0);
  g_autoptr(GError) error = NULL;
  LkScanOptions o;
  LkCollection *c;

  lk_scan_options_init (&o);
  o.side = 16;
  c = lk_collection_open_folder (root, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return c;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LkEvalTable **out = user_data;
  g_autoptr(GError) error = NULL;
  *out = lk_evaluate_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_async_table (void)
{
  g_autoptr(LkCollection) c = collection ();
  const char *sources[] = { "golden", "pixels", "no-such-source", NULL };
  LkEvalTable *table = NULL;
  LkEvalOptions o;

  lk_eval_options_init (&o);
  o.n_generated = 300;
  o.k = 4;
  o.sources = sources;
  lk_evaluate_async (c, &o, NULL, on_done, &table);
  while (table == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (table->n_queries, ==, 24);
  g_assert_cmpuint (table->n_pool, ==, 24);
  g_assert_cmpuint (table->k, ==, 4);
  g_assert_cmpuint (table->n_sets, ==, 2);
  g_assert_cmpstr (table->sets[0].name, ==, "class-level");
  g_assert_cmpstr (table->sets[1].name, ==, "in-class");
  g_assert_cmpuint (table->sets[0].n_triplets, ==, 300);
  g_assert_cmpuint (table->n_rows, ==, 3);
  g_assert_nonnull (table->note);

  g_assert_cmpstr (table->rows[0].source, ==, "golden");
  g_assert_null (table->rows[0].error);
  /* In-class triplets are ordered by golden relevance: golden gets them
   * all right, and every one whose images are in the top 4 counts +1. */
  g_assert_cmpfloat (table->rows[0].precision[1], ==, 1.0);
  g_assert_cmpint (table->rows[0].score[1], ==, table->rows[0].score_counted[1]);
  g_assert_cmpuint (table->rows[0].score_counted[1], >, 0);
  for (guint r = 0; r < 2; r++)
    {
      const LkEvalRow *row = &table->rows[r];
      g_assert_true (row->precision[0] >= 0 && row->precision[0] <= 1);
      g_assert_true (row->recall_at_1 >= 0 && row->recall_at_1 <= 1);
      g_assert_true (row->map_at_r >= 0 && row->map_at_r <= 1);
      g_assert_cmpuint (row->map_queries, ==, 24);
      g_assert_cmpint (ABS (row->score[0]), <=, row->score_counted[0]);
    }
  g_assert_cmpstr (table->rows[1].source, ==, "pixels");
  g_assert_cmpuint (table->rows[1].dim, ==, 16 * 16 * 3);
  g_assert_nonnull (table->rows[2].error);
  lk_eval_table_free (table);
}

static void
test_cancelled (void)
{
  g_autoptr(LkCollection) c = collection ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  const char *sources[] = { "golden", NULL };
  LkEvalOptions o;

  lk_eval_options_init (&o);
  o.n_generated = 50;
  o.sources = sources;
  g_cancellable_cancel (cancellable);
  g_assert_null (lk_evaluate (c, &o, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Only the triplet columns: the same precision and score as a full run,
 * Recall@1 and mAP@R left out. */
static void
test_triplets_only (void)
{
  g_autoptr(LkCollection) c = collection ();
  const char *sources[] = { "golden", "hog", NULL };
  g_autoptr(LkEvalTable) full = NULL;
  g_autoptr(LkEvalTable) part = NULL;
  g_autoptr(GError) error = NULL;
  LkEvalOptions o;

  lk_eval_options_init (&o);
  o.n_generated = 200;
  o.k = 4;
  o.sources = sources;
  full = lk_evaluate (c, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  o.triplets_only = TRUE;
  part = lk_evaluate (c, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (part->n_rows, ==, 2);
  g_assert_cmpuint (part->n_sets, ==, full->n_sets);
  for (guint r = 0; r < 2; r++)
    {
      g_assert_null (part->rows[r].error);
      g_assert_cmpstr (part->rows[r].source, ==, full->rows[r].source);
      for (guint s = 0; s < full->n_sets; s++)
        {
          g_assert_cmpfloat (part->rows[r].precision[s], ==, full->rows[r].precision[s]);
          g_assert_cmpint (part->rows[r].score[s], ==, full->rows[r].score[s]);
          g_assert_cmpuint (part->rows[r].score_counted[s], ==, full->rows[r].score_counted[s]);
        }
      g_assert_cmpuint (full->rows[r].map_queries, ==, 24);
      g_assert_cmpuint (part->rows[r].map_queries, ==, 0);
      g_assert_cmpfloat (part->rows[r].recall_at_1, ==, 0);
      g_assert_cmpfloat (part->rows[r].map_at_r, ==, 0);
    }
}

/* With labelled triplets the table is measured on them; generated_sets
 * asks for the two generated sets anyway, the very ones a collection
 * without labels gets. */
static void
test_generated_sets (void)
{
  g_autoptr(LkCollection) c = collection ();
  const char *sources[] = { "golden", "pixels", NULL };
  g_autofree char *path = lk_triplets_default_path (c);
  g_autoptr(LkEvalTable) before = NULL;
  g_autoptr(LkEvalTable) labelled = NULL;
  g_autoptr(LkEvalTable) generated = NULL;
  g_autoptr(GError) error = NULL;
  LkEvalOptions o;

  lk_eval_options_init (&o);
  o.n_generated = 200;
  o.k = 4;
  o.sources = sources;
  o.triplets_only = TRUE;
  g_unlink (path);
  before = lk_evaluate (c, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  /* Images 0–5 are one category, 6–11 the next: three answers. */
  g_assert_true (lk_triplets_append (path, c, 0, 1, 6, LK_RATING_A, NULL, &error));
  g_assert_true (lk_triplets_append (path, c, 2, 7, 3, LK_RATING_B, NULL, &error));
  g_assert_true (lk_triplets_append (path, c, 4, 5, 8, LK_RATING_A, NULL, &error));
  g_assert_no_error (error);

  labelled = lk_evaluate (c, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (labelled->n_sets, ==, 1);
  g_assert_cmpstr (labelled->sets[0].name, ==, "labelled");
  g_assert_cmpuint (labelled->sets[0].n_triplets, ==, 3);

  o.generated_sets = TRUE;
  generated = lk_evaluate (c, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (generated->n_sets, ==, 2);
  for (guint s = 0; s < 2; s++)
    {
      g_assert_cmpstr (generated->sets[s].name, ==, before->sets[s].name);
      g_assert_cmpuint (generated->sets[s].n_triplets, ==, before->sets[s].n_triplets);
      for (guint r = 0; r < 2; r++)
        {
          g_assert_cmpfloat (generated->rows[r].precision[s], ==, before->rows[r].precision[s]);
          g_assert_cmpint (generated->rows[r].score[s], ==, before->rows[r].score[s]);
        }
    }
  g_assert_cmpfloat (generated->rows[0].precision[1], ==, 1.0);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/evaluate/async", test_async_table);
  g_test_add_func ("/engine/evaluate/cancelled", test_cancelled);
  g_test_add_func ("/engine/evaluate/triplets-only", test_triplets_only);
  g_test_add_func ("/engine/evaluate/generated-sets", test_generated_sets);
  return g_test_run ();
}
