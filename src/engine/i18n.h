/* i18n.h — setting up translations for a Likeness program (the CLI, the
 * app, the tools), so they all find their catalogue the same way. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sets the locale from the environment and binds the "likeness" text
 * domain. The catalogues are looked up in $LIKENESS_LOCALEDIR when it is
 * set and not empty (the build tree's po/ folder, for tests and
 * `meson devenv`), else in the installed locale folder. */
void lk_i18n_init (void);

G_END_DECLS
