/* i18n.c — locale and text-domain set-up shared by every program. */
#include "config.h"

#include <libintl.h>
#include <locale.h>

#include "i18n.h"

void
lk_i18n_init (void)
{
  const char *dir = g_getenv ("LIKENESS_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* An empty value counts as unset, so `LIKENESS_LOCALEDIR= cmd` gets the
   * installed catalogues back. */
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
  /* Messages go to GLib and GTK as UTF-8 whatever the locale's charset. */
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
