/* main.c — the Likeness explorer. */
#include "config.h"

#include <glib/gi18n.h>

#include "blas-kernels.h"
#include "i18n.h"
#include "lk-application.h"
#include "lk-screenshot.h"
#include "model-store.h"

int
main (int argc, char **argv)
{
  g_autoptr(LkApplication) app = NULL;

  lk_blas_select_kernels (argv);
  lk_i18n_init ();
  /* Trained models and their checkpoints become sources of every view. */
  lk_model_register_embedder ();

  app = lk_application_new ();
  /* A screenshot run must not hand its work to a Likeness already open. */
  if (lk_screenshot_requested ())
    g_application_set_flags (G_APPLICATION (app),
                             g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
