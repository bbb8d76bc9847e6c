/* lk-eval-row-item.c — see lk-eval-row-item.h. */
#include "config.h"

#include "lk-eval-row-item.h"

struct _LkEvalRowItem
{
  GObject   parent_instance;

  LkEvalRow row;      /* strings owned */
  guint     n_sets;
};

G_DEFINE_FINAL_TYPE (LkEvalRowItem, lk_eval_row_item, G_TYPE_OBJECT)

static void
lk_eval_row_item_finalize (GObject *object)
{
  LkEvalRowItem *self = LK_EVAL_ROW_ITEM (object);

  g_free (self->row.source);
  g_free (self->row.label);
  g_free (self->row.error);
  G_OBJECT_CLASS (lk_eval_row_item_parent_class)->finalize (object);
}

static void
lk_eval_row_item_class_init (LkEvalRowItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lk_eval_row_item_finalize;
}

static void
lk_eval_row_item_init (LkEvalRowItem *self)
{
}

LkEvalRowItem *
lk_eval_row_item_new (const LkEvalRow *row, guint n_sets)
{
  LkEvalRowItem *self;

  g_return_val_if_fail (row != NULL && n_sets <= LK_EVAL_MAX_SETS, NULL);
  self = g_object_new (LK_TYPE_EVAL_ROW_ITEM, NULL);
  self->row = *row;
  self->row.source = g_strdup (row->source);
  self->row.label = g_strdup (row->label);
  self->row.error = g_strdup (row->error);
  self->n_sets = n_sets;
  return self;
}

const LkEvalRow *
lk_eval_row_item_get_row (LkEvalRowItem *self)
{
  g_return_val_if_fail (LK_IS_EVAL_ROW_ITEM (self), NULL);
  return &self->row;
}

char *
lk_eval_row_item_dup_text (LkEvalRowItem *self, guint column)
{
  const LkEvalRow *r;

  g_return_val_if_fail (LK_IS_EVAL_ROW_ITEM (self), NULL);
  g_return_val_if_fail (column < LK_EVAL_N_COLUMNS (self->n_sets), NULL);
  r = &self->row;
  if (column == LK_EVAL_COLUMN_SOURCE)
    return g_strdup (r->label != NULL ? r->label : r->source);
  if (r->error != NULL)
    return g_strdup ("—");
  if (column == LK_EVAL_COLUMN_DIM)
    return g_strdup_printf ("%u", r->dim);
  if (column == LK_EVAL_COLUMN_RECALL (self->n_sets))
    return g_strdup_printf ("%.4f", r->recall_at_1);
  if (column == LK_EVAL_COLUMN_MAP (self->n_sets))
    return g_strdup_printf ("%.4f", r->map_at_r);
  if ((column - 2) % 2 == 0)
    return g_strdup_printf ("%.1f%%", 100 * r->precision[(column - 2) / 2]);
  return g_strdup_printf ("%" G_GINT64_FORMAT, r->score[(column - 3) / 2]);
}
