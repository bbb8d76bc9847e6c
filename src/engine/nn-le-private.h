/* nn-le-private.h — little-endian byte helpers shared by the NN engine's
 * two encoders (nn-spec.c, nn-model-file.c). Internal. */
#pragma once

#include <glib.h>
#include <string.h>

static inline void
_lk_nn_put_u32 (GByteArray *b, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &le, 4);
}

static inline void
_lk_nn_put_u64 (GByteArray *b, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &le, 8);
}

static inline void
_lk_nn_put_f32 (GByteArray *b, float f)
{
  guint32 u;
  memcpy (&u, &f, 4);
  _lk_nn_put_u32 (b, u);
}

static inline guint32
_lk_nn_get_u32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static inline guint64
_lk_nn_get_u64 (const guint8 *p)
{
  guint64 v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

static inline float
_lk_nn_get_f32 (const guint8 *p)
{
  guint32 u = _lk_nn_get_u32 (p);
  float f;
  memcpy (&f, &u, 4);
  return f;
}
