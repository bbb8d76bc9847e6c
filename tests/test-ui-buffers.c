#include "config.h"
#include "testutil-gtk.h"
int main (int argc, char **argv) { lk_test_gtk_init (&argc, &argv); return g_test_run (); }
