/* triplets.h — triplet sets for evaluation: the CSV file the Label view
 * writes, and generators for collections nobody has labelled.
 *
 * The CSV format (one file per collection, lk_triplets_default_path()):
 *
 *     # Likeness triplets                    ← lines starting with # are comments
 *     query,positive,negative,rating,rater   ← optional header
 *     birds/a.jpg,birds/b.jpg,cats/c.png
 *     birds/a.jpg,birds/d.jpg,birds/e.jpg,B,alice
 *     birds/a.jpg,birds/f.jpg,birds/g.jpg,both-similar,alice
 *
 * - columns 1–3: image paths relative to the collection root, as bytes;
 *   fields holding a comma, a double quote or a line break are quoted
 *   "…" with "" for a quote (RFC 4180). Absolute paths and paths with an
 *   empty, "." or ".." component are refused (they could leave the
 *   collection), and so are paths not in the collection.
 * - column 4, rating (optional), the paper's answers to "which of the two
 *   is more like the query?": "A" (the 2nd column; the default when the
 *   column is missing or empty), "B" (the 3rd column), "both-similar",
 *   "both-dissimilar", "skip".
 * - column 5, rater (optional): free text naming who answered.
 *
 * Every answer is kept as a row. The triplets (q, p⁺, p⁻) are derived from
 * the A and B rows: A gives (query, 2nd, 3rd), B gives (query, 3rd, 2nd);
 * the other ratings give none. A row that cannot be used (wrong number of
 * columns, a bad or missing path, an unknown rating, the same image
 * twice) is reported with its line number and skipped, never fatal.
 *
 * Durability: lk_triplets_append() writes one whole record with one write
 * and fsyncs before it returns; records end with a newline, and a last
 * line without one (an append cut short by a crash) is ignored by the
 * reader and cut off by the next append, so earlier answers survive any
 * crash. lk_triplets_remove_last() is the undo. */
#pragma once

#include "collection.h"
#include "relevance.h"

G_BEGIN_DECLS

typedef enum {
  LK_RATING_A = 0,            /* the 2nd column is more like the query */
  LK_RATING_B,                /* the 3rd column is more like the query */
  LK_RATING_BOTH_SIMILAR,
  LK_RATING_BOTH_DISSIMILAR,
  LK_RATING_SKIP,
  LK_N_RATINGS
} LkRating;

/* "A", "B", "both-similar", "both-dissimilar", "skip". */
const char *lk_rating_name      (LkRating rating);
gboolean    lk_rating_from_name (const char *name, LkRating *rating_out);

typedef struct {
  guint32  query;
  guint32  a;          /* 2nd column */
  guint32  b;          /* 3rd column */
  LkRating rating;
  char    *rater;      /* or NULL */
  guint    line;       /* in the file it was read from, 0 otherwise */
} LkTripletRow;

typedef struct {
  guint  line;
  char  *message;      /* translated, names the reason */
} LkTripletProblem;

typedef struct _LkTripletSet LkTripletSet;

/* An empty set; @description says where its triplets come from. */
LkTripletSet *lk_triplet_set_new  (const char *description);
void          lk_triplet_set_free (LkTripletSet *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTripletSet, lk_triplet_set_free)

void          lk_triplet_set_add  (LkTripletSet *self,
                                   guint32       query,
                                   guint32       a,
                                   guint32       b,
                                   LkRating      rating,
                                   const char   *rater);

const char   *lk_triplet_set_get_description (LkTripletSet *self);
void          lk_triplet_set_set_description (LkTripletSet *self, const char *description);
const LkTripletRow     *lk_triplet_set_get_rows     (LkTripletSet *self, guint *n_out);
const LkTripletProblem *lk_triplet_set_get_problems (LkTripletSet *self, guint *n_out);
/* The (q, p⁺, p⁻) triplets of the A and B rows, in row order; the arrays
 * stay valid until the set changes. Returns their number. */
guint         lk_triplet_set_get_triplets (LkTripletSet    *self,
                                           const guint32  **queries,
                                           const guint32  **positives,
                                           const guint32  **negatives);

/* lk_data_dir_for(id)/triplets.csv */
char         *lk_triplets_default_path (LkCollection *collection);

/* Reads a CSV file against @collection. Fails (LK_ERROR_NOT_FOUND,
 * LK_ERROR_IO) only when the file cannot be read; bad rows are listed by
 * lk_triplet_set_get_problems(). */
LkTripletSet *lk_triplet_set_load (const char    *path,
                                   LkCollection  *collection,
                                   GError       **error);
/* Writes the whole set (a header and every row) atomically. */
gboolean      lk_triplet_set_save (LkTripletSet  *self,
                                   LkCollection  *collection,
                                   const char    *path,
                                   GError       **error);

/* Appends one answer to @path (created with a header if missing),
 * durably: the record is on disk when this returns TRUE. */
gboolean      lk_triplets_append (const char    *path,
                                  LkCollection  *collection,
                                  guint32        query,
                                  guint32        a,
                                  guint32        b,
                                  LkRating       rating,
                                  const char    *rater,
                                  GError       **error);
/* Removes the last record (the undo of an append), durably. Fails with
 * LK_ERROR_NOT_FOUND when the file has no record. */
gboolean      lk_triplets_remove_last (const char  *path,
                                       GError     **error);

/* Class-level triplets: q uniform from @queries, p⁺ uniform from the
 * images of @base in q's category (never q), p⁻ uniform from @base in
 * another category. NULL @queries or @base means every image. Seeded. */
LkTripletSet *lk_triplets_generate_class (const guint16  *labels,
                                          guint           n_images,
                                          const guint32  *queries,
                                          guint           n_queries,
                                          const guint32  *base,
                                          guint           n_base,
                                          guint           n_triplets,
                                          guint64         seed);

/* In-class triplets ordered by golden relevance: q uniform from @queries;
 * p⁺ from q's most relevant neighbours (lk_relevance_neighbours) in
 * @base; p⁻ from the same category of @base (half the time from those
 * neighbours, half uniformly), kept when r(q,p⁺) − r(q,p⁻) ≥ @margin.
 * Seeded. Golden features order these correctly by construction. */
LkTripletSet *lk_triplets_generate_in_class (LkRelevance    *relevance,
                                             const guint32  *queries,
                                             guint           n_queries,
                                             const guint32  *base,
                                             guint           n_base,
                                             guint           n_triplets,
                                             float           margin,
                                             guint64         seed);

G_END_DECLS
