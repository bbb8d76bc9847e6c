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
  int status;

  lk_blas_select_kernels (argv);
  lk_i18n_init ();
  /* Trained models and their checkpoints become sources of every view. */
  lk_model_register_embedder ();

  app = lk_application_new ();
  /* A screenshot run must not hand its work to a Likeness already open. */
  if (lk_screenshot_requested ())
    g_application_set_flags (G_APPLICATION (app),
                             g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  status = g_application_run (G_APPLICATION (app), argc, argv);
  g_clear_object (&app);
  /* A worker cancelled as its window closed may still be in a network's
   * last batch: OpenBLAS is not torn down under it (blas-kernels.h). */
  lk_blas_close ();
  return status;
}
