/* test-triplets.c — the triplet CSV: malformed rows reported with their
 * line numbers and skipped, ratings, quoting, a torn last line, durable
 * append and undo; and the generators' rules. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "error.h"
#include "triplets.h"
#include "testutil.h"

/* apples/{a,b,"c,d"}.png, pears/{e,f}.png */
static LkCollection *
small_collection (void)
{
  g_autofree char *root = lk_test_make_tmpdir ("triplet-col");
  const char *files[] = { "apples/a.png", "apples/b.png", "apples/c,d.png", "pears/e.png",
                          "pears/f.png" };
  g_autoptr(GError) error = NULL;
  LkCollection *coll;
  LkScanOptions o;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (root, files[i], NULL);
      g_autofree char *dir = g_path_get_dirname (path);
      g_mkdir_with_parents (dir, 0755);
      lk_test_write_png (path, 12, 12, i + 1);
    }
  lk_scan_options_init (&o);
  o.side = 16;
  coll = lk_collection_open_folder (root, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lk_collection_get_n_images (coll), ==, 5);
  return coll;
}

static guint
idx (LkCollection *c, const char *path)
{
  guint i;
  g_assert_true (lk_collection_find_path (c, path, &i));
  return i;
}

static gboolean
has_problem (LkTripletSet *set, guint line, const char *fragment)
{
  guint n;
  const LkTripletProblem *p = lk_triplet_set_get_problems (set, &n);
  for (guint i = 0; i < n; i++)
    if (p[i].line == line && strstr (p[i].message, fragment) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_malformed (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autofree char *dir = lk_test_make_tmpdir ("csv");
  g_autofree char *path = g_build_filename (dir, "t.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTripletSet) set = NULL;
  const char *csv =
    "# a comment\n"                                             /* 1 */
    "query,positive,negative,rating,rater\n"                    /* 2 */
    "apples/a.png,apples/b.png,pears/e.png\n"                   /* 3: A by default */
    "apples/a.png,pears/f.png,\"apples/c,d.png\",B,ann\n"       /* 4: B, quoted comma */
    "apples/a.png,apples/b.png\n"                               /* 5: 2 columns */
    "apples/a.png,apples/b.png,pears/e.png,A,x,extra\n"         /* 6: 6 columns */
    "apples/a.png,apples/zzz.png,pears/e.png\n"                 /* 7: missing file */
    "apples/a.png,../apples/b.png,pears/e.png\n"                /* 8: escapes */
    "/etc/passwd,apples/b.png,pears/e.png\n"                    /* 9: absolute */
    "apples/./a.png,apples/b.png,pears/e.png\n"                 /* 10: dot component */
    "apples/a.png,apples/b.png,pears/e.png,maybe\n"             /* 11: unknown rating */
    "apples/a.png,apples/a.png,pears/e.png\n"                   /* 12: twice */
    "\n"                                                        /* 13: blank */
    "pears/e.png,pears/f.png,apples/b.png,both-similar,bob\r\n" /* 14: kept, no triplet */
    "pears/e.png,pears/f.png,apples/b.png,skip\n"               /* 15 */
    "pears/f.png,pears/e.png,apples/a.png,B";                   /* 16: torn */
  const LkTripletRow *rows;
  const guint32 *q, *p, *n;
  guint n_rows, n_problems;

  g_assert_true (g_file_set_contents (path, csv, -1, NULL));
  set = lk_triplet_set_load (path, c, &error);
  g_assert_no_error (error);
  rows = lk_triplet_set_get_rows (set, &n_rows);
  lk_triplet_set_get_problems (set, &n_problems);
  g_assert_cmpuint (n_rows, ==, 4);
  g_assert_cmpuint (n_problems, ==, 9);
  g_assert_true (has_problem (set, 5, "found 2"));
  g_assert_true (has_problem (set, 6, "found 6"));
  g_assert_true (has_problem (set, 7, "missing file"));
  g_assert_true (has_problem (set, 8, "not inside"));
  g_assert_true (has_problem (set, 9, "not inside"));
  g_assert_true (has_problem (set, 10, "not inside"));
  g_assert_true (has_problem (set, 11, "unknown rating"));
  g_assert_true (has_problem (set, 12, "twice"));
  g_assert_true (has_problem (set, 16, "incomplete last line"));

  g_assert_cmpuint (rows[0].line, ==, 3);
  g_assert_cmpint (rows[0].rating, ==, LK_RATING_A);
  g_assert_cmpuint (rows[1].line, ==, 4);
  g_assert_cmpuint (rows[1].b, ==, idx (c, "apples/c,d.png"));
  g_assert_cmpstr (rows[1].rater, ==, "ann");
  g_assert_cmpint (rows[2].rating, ==, LK_RATING_BOTH_SIMILAR);
  g_assert_cmpstr (rows[2].rater, ==, "bob");
  g_assert_cmpint (rows[3].rating, ==, LK_RATING_SKIP);

  /* A keeps the order, B swaps it, the other ratings make no triplet. */
  g_assert_cmpuint (lk_triplet_set_get_triplets (set, &q, &p, &n), ==, 2);
  g_assert_cmpuint (p[0], ==, idx (c, "apples/b.png"));
  g_assert_cmpuint (n[0], ==, idx (c, "pears/e.png"));
  g_assert_cmpuint (p[1], ==, idx (c, "apples/c,d.png"));
  g_assert_cmpuint (n[1], ==, idx (c, "pears/f.png"));

  g_assert_null (lk_triplet_set_load ("/nonexistent/t.csv", c, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
}

static guint
count_rows (const char *path, LkCollection *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTripletSet) set = lk_triplet_set_load (path, c, &error);
  guint n;
  g_assert_no_error (error);
  lk_triplet_set_get_rows (set, &n);
  return n;
}

static void
test_append_and_undo (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autofree char *path = lk_triplets_default_path (c);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  guint a = idx (c, "apples/a.png"), b = idx (c, "apples/b.png"), cd = idx (c, "apples/c,d.png");
  guint e = idx (c, "pears/e.png");

  g_assert_true (g_str_has_prefix (path, g_get_user_data_dir ()));
  g_assert_false (lk_triplets_remove_last (path, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (lk_triplets_append (path, c, a, b, e, LK_RATING_A, "ann", &error));
  g_assert_true (lk_triplets_append (path, c, a, cd, e, LK_RATING_B, NULL, &error));
  g_assert_true (lk_triplets_append (path, c, e, a, b, LK_RATING_SKIP, "ann", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_rows (path, c), ==, 3);

  /* A crash in the middle of an append leaves a torn tail: the reader
   * ignores it, the next append cuts it off, earlier rows stay. */
  {
    FILE *f = fopen (path, "a");
    fputs ("apples/a.png,pe", f);
    fclose (f);
  }
  g_assert_cmpuint (count_rows (path, c), ==, 3);
  g_assert_true (lk_triplets_append (path, c, b, a, e, LK_RATING_A, NULL, &error));
  g_assert_cmpuint (count_rows (path, c), ==, 4);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, ",pe\n"));
  g_assert_nonnull (strstr (contents, "\"apples/c,d.png\""));

  /* Undo removes the last answer only, then the one before. */
  g_assert_true (lk_triplets_remove_last (path, &error));
  g_assert_cmpuint (count_rows (path, c), ==, 3);
  g_assert_true (lk_triplets_remove_last (path, &error));
  g_assert_true (lk_triplets_remove_last (path, &error));
  g_assert_true (lk_triplets_remove_last (path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_rows (path, c), ==, 0);
  g_assert_false (lk_triplets_remove_last (path, &error));
  g_assert_error (error, LK_ERROR, LK_ERROR_NOT_FOUND);
}

static void
test_save_round_trip (void)
{
  g_autoptr(LkCollection) c = small_collection ();
  g_autofree char *dir = lk_test_make_tmpdir ("csv-save");
  g_autofree char *path = g_build_filename (dir, "out.csv", NULL);
  g_autoptr(LkTripletSet) set = lk_triplet_set_new ("test");
  g_autoptr(LkTripletSet) back = NULL;
  g_autoptr(GError) error = NULL;
  const LkTripletRow *rows;
  guint n, n_problems;

  lk_triplet_set_add (set, 0, 2, 3, LK_RATING_B, "a \"quoted\", rater");
  lk_triplet_set_add (set, 4, 3, 1, LK_RATING_BOTH_DISSIMILAR, NULL);
  g_assert_true (lk_triplet_set_save (set, c, path, &error));
  back = lk_triplet_set_load (path, c, &error);
  g_assert_no_error (error);
  rows = lk_triplet_set_get_rows (back, &n);
  lk_triplet_set_get_problems (back, &n_problems);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (n_problems, ==, 0);
  g_assert_cmpuint (rows[0].query, ==, 0);
  g_assert_cmpuint (rows[0].a, ==, 2);
  g_assert_cmpint (rows[0].rating, ==, LK_RATING_B);
  g_assert_cmpstr (rows[0].rater, ==, "a \"quoted\", rater");
  g_assert_cmpint (rows[1].rating, ==, LK_RATING_BOTH_DISSIMILAR);
  g_assert_null (rows[1].rater);
}

static void
test_generate_class (void)
{
  guint16 labels[200];
  guint32 queries[50], base[150];
  g_autoptr(LkTripletSet) s1 = NULL, s2 = NULL, s3 = NULL;
  const guint32 *q, *p, *n, *q2, *p2, *n2;
  guint count;

  for (guint i = 0; i < 200; i++)
    labels[i] = (guint16) (i % 4);
  for (guint i = 0; i < 50; i++)
    queries[i] = 150 + i;
  for (guint i = 0; i < 150; i++)
    base[i] = i;
  s1 = lk_triplets_generate_class (labels, 200, queries, 50, base, 150, 500, 7);
  s2 = lk_triplets_generate_class (labels, 200, queries, 50, base, 150, 500, 7);
  s3 = lk_triplets_generate_class (labels, 200, queries, 50, base, 150, 500, 8);
  count = lk_triplet_set_get_triplets (s1, &q, &p, &n);
  g_assert_cmpuint (count, ==, 500);
  g_assert_cmpuint (lk_triplet_set_get_triplets (s2, &q2, &p2, &n2), ==, 500);
  g_assert_cmpmem (q, 500 * 4, q2, 500 * 4);
  g_assert_cmpmem (n, 500 * 4, n2, 500 * 4);
  lk_triplet_set_get_triplets (s3, &q2, &p2, &n2);
  g_assert_true (memcmp (q, q2, 500 * 4) != 0);
  for (guint t = 0; t < count; t++)
    {
      g_assert_cmpuint (q[t], >=, 150);
      g_assert_cmpuint (p[t], <, 150);
      g_assert_cmpuint (n[t], <, 150);
      g_assert_cmpuint (labels[p[t]], ==, labels[q[t]]);
      g_assert_cmpuint (labels[n[t]], !=, labels[q[t]]);
    }
  /* One category only: no negative exists, no triplet, no endless loop. */
  memset (labels, 0, sizeof labels);
  g_autoptr(LkTripletSet) none = lk_triplets_generate_class (labels, 200, NULL, 0, NULL, 0, 10, 1);
  g_assert_cmpuint (lk_triplet_set_get_triplets (none, NULL, NULL, NULL), ==, 0);
}

static void
test_generate_in_class (void)
{
  const guint n = 60;
  guint16 labels[60];
  g_autofree float *dense = g_new0 (float, n * n);
  g_autoptr(LkRelevance) rel = NULL;
  g_autoptr(LkTripletSet) set = NULL;
  guint32 base[40];
  const guint32 *q, *p, *ng;
  guint count;

  /* Relevance falling with the distance of indices within a category. */
  for (guint i = 0; i < n; i++)
    labels[i] = (guint16) (i / 20);
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      dense[i * n + j] = 1.0f / (1.0f + (float) ABS ((int) i - (int) j));
  rel = lk_relevance_new_dense (n, labels, 3, dense, 8);
  for (guint i = 0; i < 40; i++)
    base[i] = i + (i / 20) * 0;  /* categories 0 and 1 */
  set = lk_triplets_generate_in_class (rel, NULL, 0, base, 40, 300, 0.1f, 3);
  count = lk_triplet_set_get_triplets (set, &q, &p, &ng);
  g_assert_cmpuint (count, ==, 300);
  for (guint t = 0; t < count; t++)
    {
      g_assert_cmpuint (labels[p[t]], ==, labels[q[t]]);
      g_assert_cmpuint (labels[ng[t]], ==, labels[q[t]]);
      g_assert_cmpuint (p[t], <, 40);
      g_assert_cmpuint (ng[t], <, 40);
      g_assert_cmpuint (p[t], !=, q[t]);
      g_assert_cmpfloat (lk_relevance_pair (rel, q[t], p[t]) - lk_relevance_pair (rel, q[t], ng[t]),
                         >=, 0.1f);
    }
}

int
main (int argc, char **argv)
{
  lk_test_init (&argc, &argv);
  g_test_add_func ("/engine/triplets/malformed", test_malformed);
  g_test_add_func ("/engine/triplets/append-undo", test_append_and_undo);
  g_test_add_func ("/engine/triplets/save", test_save_round_trip);
  g_test_add_func ("/engine/triplets/generate-class", test_generate_class);
  g_test_add_func ("/engine/triplets/generate-in-class", test_generate_in_class);
  return g_test_run ();
}
