/* blas-kernels.h — making sure OpenBLAS runs the kernels this CPU can,
 * and that a program's exit does not pull it from under a thread.
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

/* OpenBLAS frees its buffers in a library destructor when the process
 * exits. A thread still inside sgemm then crashes the process or leaves
 * it spinning at full load without end (OpenBLAS 0.3.21: both seen when
 * the explorer quit while a model was training or embedding in a
 * worker). Every sgemm of the engine runs between lk_blas_enter() and
 * lk_blas_leave() (two atomic operations). A program whose threads may
 * still be computing calls lk_blas_close() before it returns from
 * main(): it waits for the threads inside sgemm to leave (one call
 * each, well under a second) and parks every later caller for good in
 * lk_blas_enter(), so the destructor runs alone. After it, no thread of
 * the process can use the engine's networks. */
void        lk_blas_enter (void);
void        lk_blas_leave (void);
void        lk_blas_close (void);

G_END_DECLS
