/* fuzz-triplets.c — the labelled-triplets CSV (lk_triplet_set_load,
 * triplets.c), read against a small in-memory collection whose paths are
 * "apples/00000.png" … "pears/00011.png".
 *
 * Input: a mode byte (unused, kept so every harness reads the same way),
 * then the file. Rows, problems and derived triplets are read back, and
 * every index must name an image of the collection. */
#include "config.h"

#include <string.h>

#include "collection.h"
#include "fuzz.h"
#include "triplets.h"

#define N_IMAGES 12

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static LkCollection *collection;
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTripletSet) set = NULL;
  const LkTripletRow *rows;
  const LkTripletProblem *problems;
  const guint32 *q, *p, *n;
  guint n_rows, n_problems, n_triplets;
  guint8 mode;
  gsize len;

  if (!lk_fuzz_split_input (data, size, &mode, &buf, &len))
    return 0;
  if (collection == NULL)
    collection = lk_fuzz_small_collection (2, 3, N_IMAGES, FALSE);
  set = lk_triplet_set_load (lk_fuzz_write_file ("triplets.csv", buf, len), collection, &error);
  if (set == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  rows = lk_triplet_set_get_rows (set, &n_rows);
  for (guint i = 0; i < n_rows; i++)
    {
      g_assert_true (rows[i].query < N_IMAGES && rows[i].a < N_IMAGES && rows[i].b < N_IMAGES);
      g_assert_cmpint (rows[i].rating, <, LK_N_RATINGS);
      if (rows[i].rater != NULL)
        lk_fuzz_touch (rows[i].rater, strlen (rows[i].rater));
    }
  problems = lk_triplet_set_get_problems (set, &n_problems);
  for (guint i = 0; i < n_problems; i++)
    lk_fuzz_touch (problems[i].message, strlen (problems[i].message));
  n_triplets = lk_triplet_set_get_triplets (set, &q, &p, &n);
  for (guint i = 0; i < n_triplets; i++)
    g_assert_true (q[i] < N_IMAGES && p[i] < N_IMAGES && n[i] < N_IMAGES);
  return 0;
}
