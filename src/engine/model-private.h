/* model-private.h — what the trainer and the model store share about a
 * model file's metadata (model-store.h lists the keys' meaning). */
#pragma once

#include "golden.h"
#include "nn-model-file.h"

G_BEGIN_DECLS

/* Every model file of ours carries this key; its value is the version of
 * the metadata layout below. */
#define LK_MODEL_META_VERSION       "likeness.model"
#define LK_MODEL_META_VERSION_VALUE "1"

/* Keys (strings; numbers in C-locale decimal):
 *   model.name, model.label, model.preset, model.ablation, model.embedding.dim
 *   model.collection.id, model.collection.name
 *   model.data.split ("train" or "all"), model.data.images, model.data.categories,
 *   model.data.key (hash of the training images' indices and labels, hex)
 *   model.input.side, model.input.channels, model.input.mean, model.input.std
 *     (comma-separated, one per input channel, of pixel/255)
 *   model.golden.weights (four, comma-separated), model.golden.weights_source
 *   train.state, train.stage, train.step, train.pretrain.done, train.pretrain.planned,
 *   train.ranking.done, train.ranking.planned, train.seconds, train.updated (ISO 8601)
 *   param.NAME — every LkTrainParams field */

/* "a,b,c" ↔ floats; parsing fails unless there are exactly @n finite numbers. */
gboolean _lk_model_parse_floats  (const char *s, float *out, guint n);
char    *_lk_model_format_floats (const float *v, guint n);

/* card.json of the model folder @dir from the metadata of @file. */
gboolean _lk_model_write_card_from_file (const char *dir, LkNnModel *file, GError **error);

/* The golden-feature vector of one features row: block k scaled by √w_k
 * (so its squared distances are the golden distance); @dims the blocks'
 * widths. */
void     _lk_model_golden_row (const float           *row,
                               const guint           *dims,
                               const LkGoldenWeights *weights,
                               float                 *out);

G_END_DECLS
