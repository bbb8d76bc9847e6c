/* evaluate.h — the paper's Tables 1 and 2 rebuilt on a collection: one
 * row per embedding source (each baseline, golden features, every model),
 * columns similarity precision and score-at-top-K on each triplet set,
 * Recall@1 and mAP@R with the category labels.
 *
 * Queries and pool: for a collection with a test split (Fashion-MNIST)
 * the test images are the queries and the train images the pool; for a
 * folder every image is a query against all the others (itself left out).
 *
 * Triplet sets: the labelled file (the one given, or the collection's own
 * triplets.csv when it has triplets), otherwise two generated sets — class
 * level, and in-class ordered by golden relevance (default weights, so
 * golden features order every one of them correctly by construction);
 * queries from the query images, positives and negatives from the pool.
 *
 * Score-at-K ranks each triplet query's pool (its category of the pool by
 * default, or the whole pool) with the source's own distances. */
#pragma once

#include "embeddings.h"

G_BEGIN_DECLS

typedef enum {
  LK_EVAL_POOL_CATEGORY = 0,
  LK_EVAL_POOL_ALL,
} LkEvalPool;

typedef struct {
  const char  *triplets_path;   /* NULL: the collection's file, else generated sets */
  guint        n_generated;     /* triplets per generated set (default 5000) */
  float        in_class_margin; /* relevance margin of in-class triplets (default 0.1) */
  guint64      seed;            /* generators and samples (default 1) */
  guint        k;               /* score-at-K (default 30) */
  LkEvalPool   pool;
  guint        n_threads;       /* 0 = every core */
  const char  *const *sources;  /* NULL-terminated names, NULL for every source */
  guint        map_budget;      /* mAP@R: queries × R kept at most (default 8,000,000;
                                 * queries are sampled down to fit, seeded) */
  gboolean     triplets_only;   /* only the triplet columns: Recall@1 and mAP@R are
                                 * left 0 (map_queries 0). They do not depend on the
                                 * labels, so the app keeps them from a full run and
                                 * refreshes the rest in seconds after new answers. */
  gboolean     generated_sets;  /* the two generated sets even when the collection has
                                 * labelled triplets (with triplets_path NULL): the app
                                 * plots a model's checkpoints on both kinds */
} LkEvalOptions;

void lk_eval_options_init (LkEvalOptions *options);

#define LK_EVAL_MAX_SETS 2

typedef struct {
  char  *name;           /* "labelled", "class-level", "in-class" */
  char  *description;    /* the file, or how it was generated */
  guint  n_triplets;
  guint  n_rows;         /* labelled: answers read (all ratings) */
  guint  n_problems;     /* labelled: rows skipped */
} LkEvalSet;

typedef struct {
  char           *source;
  char           *label;
  LkEmbeddingKind kind;
  guint           dim;
  double          precision[LK_EVAL_MAX_SETS];
  gint64          score[LK_EVAL_MAX_SETS];
  guint           score_counted[LK_EVAL_MAX_SETS];
  double          recall_at_1;
  double          map_at_r;
  guint           map_queries;     /* queries mAP@R was averaged over */
  double          seconds;
  char           *error;           /* set when the source could not be evaluated */
} LkEvalRow;

typedef struct {
  char       *collection;     /* display name */
  char       *queries;        /* e.g. "10000 test images against 60000 train images" */
  guint       n_queries;
  guint       n_pool;
  guint       k;
  LkEvalPool  pool;
  guint       n_sets;
  LkEvalSet   sets[LK_EVAL_MAX_SETS];
  guint       n_rows;
  LkEvalRow  *rows;
  char       *note;           /* what to keep in mind reading it, or NULL */
} LkEvalTable;

void lk_eval_table_free (LkEvalTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkEvalTable, lk_eval_table_free)

/* Progress: the source being evaluated (@done of @total sources). */
typedef void (*LkEvalProgress) (const char *source,
                                guint       done,
                                guint       total,
                                gpointer    user_data);

/* Builds the table. Fails when the triplets file cannot be read, there
 * are no triplets at all, or on cancellation; a source that cannot be
 * evaluated gets a row with its error instead. */
LkEvalTable *lk_evaluate (LkCollection         *collection,
                          const LkEvalOptions  *options,
                          LkEvalProgress        progress,
                          gpointer              progress_data,
                          GCancellable         *cancellable,
                          GError              **error);

/* The same in a worker thread (GTask); @options is copied. */
void         lk_evaluate_async  (LkCollection         *collection,
                                 const LkEvalOptions  *options,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data);
LkEvalTable *lk_evaluate_finish (GAsyncResult         *result,
                                 GError              **error);

G_END_DECLS
