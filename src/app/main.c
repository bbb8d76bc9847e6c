/* main.c — the Likeness explorer. */
#include "config.h"

#include <glib/gi18n.h>

#include "i18n.h"
#include "lk-application.h"

int
main (int argc, char **argv)
{
  g_autoptr(LkApplication) app = NULL;

  lk_i18n_init ();

  app = lk_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
