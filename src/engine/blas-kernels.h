/* blas-kernels.h — making sure OpenBLAS runs the kernels this CPU can.
 *
 * OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel CPUs
 * (Sapphire Rapids and later; upstream OpenMathLib/OpenBLAS#4267, fixed in
 * 0.3.24) and falls back to its SSE3 "Prescott" kernels, about 3× slower
 * than the AVX-512 ones for our networks. OpenBLAS reads its choice from
 * OPENBLAS_CORETYPE once, when the library is loaded, so the only remedy
 * is to start again with the variable set. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call first thing in main(). When OPENBLAS_CORETYPE is unset and OpenBLAS
 * chose a generic core although the CPU has AVX-512 (or AVX2 and FMA),
 * re-executes the program with OPENBLAS_CORETYPE set to SkylakeX (or
 * Haswell). In the new process the variable is removed again, so child
 * processes see the environment the user gave. Returns (doing nothing)
 * when the variable is set, the choice is fine, or exec fails. */
void        lk_blas_select_kernels (char **argv);

/* The OpenBLAS core in use and how it was chosen, e.g. "SkylakeX (chosen
 * by Likeness: OpenBLAS 0.3.21 detected Prescott)", for benchmarks. */
const char *lk_blas_describe_kernels (void);

G_END_DECLS
