/* lk-eval-row-item.h — one row of the evaluation table (one source) as
 * a list-model item, with the text of each of its columns, as
 * `likeness-cli eval` prints them. */
#pragma once

#include <glib-object.h>

#include "evaluate.h"

G_BEGIN_DECLS

/* Columns: source, dim, then precision and score for each triplet set,
 * then Recall@1 and mAP@R. */
#define LK_EVAL_COLUMN_SOURCE 0
#define LK_EVAL_COLUMN_DIM 1
#define LK_EVAL_COLUMN_PRECISION(set) (2 + 2 * (set))
#define LK_EVAL_COLUMN_SCORE(set) (3 + 2 * (set))
#define LK_EVAL_COLUMN_RECALL(n_sets) (2 + 2 * (n_sets))
#define LK_EVAL_COLUMN_MAP(n_sets) (3 + 2 * (n_sets))
#define LK_EVAL_N_COLUMNS(n_sets) (4 + 2 * (n_sets))

#define LK_TYPE_EVAL_ROW_ITEM (lk_eval_row_item_get_type ())
G_DECLARE_FINAL_TYPE (LkEvalRowItem, lk_eval_row_item, LK, EVAL_ROW_ITEM, GObject)

/* Copies @row of a table with @n_sets triplet sets. */
LkEvalRowItem   *lk_eval_row_item_new      (const LkEvalRow *row,
                                            guint            n_sets);
const LkEvalRow *lk_eval_row_item_get_row  (LkEvalRowItem   *self);
/* The text of column @column ("86.2%", "0.8586", "—" where the source
 * could not be evaluated). */
char            *lk_eval_row_item_dup_text (LkEvalRowItem   *self,
                                            guint            column);

G_END_DECLS
