/* lk-label-view-private.h — the Label view's parts, for the UI tests. */
#pragma once

#include "lk-label-view.h"

G_BEGIN_DECLS

/* The triplet shown; FALSE when none is. */
gboolean     _lk_label_view_get_triplet            (LkLabelView *self,
                                                    guint32     *query,
                                                    guint32     *a,
                                                    guint32     *b);
/* Answers in the file (as far as the view knows: written or queued). */
guint        _lk_label_view_get_n_answers          (LkLabelView *self);
const char  *_lk_label_view_get_tally              (LkLabelView *self);
/* Why the triplet shown was chosen. */
const char  *_lk_label_view_get_reason             (LkLabelView *self);
const char  *_lk_label_view_get_agreement_source   (LkLabelView *self);
/* The source compared with golden features to choose triplets. */
const char  *_lk_label_view_get_other_source       (LkLabelView *self);
GtkDropDown *_lk_label_view_get_agreement_dropdown (LkLabelView *self);
/* The error shown in the view's bar, or NULL when the bar is hidden. */
const char  *_lk_label_view_get_error              (LkLabelView *self);

G_END_DECLS
