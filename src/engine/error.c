/* error.c — the engine's GError domain. */
#include "error.h"

G_DEFINE_QUARK (lk-error-quark, lk_error)
