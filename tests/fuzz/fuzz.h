/* fuzz.h — what the fuzz harnesses share.
 *
 * Each harness tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput() for
 * one parser of outside data. The same file builds two ways:
 *  - with clang and -fsanitize=fuzzer (build-aux/fuzz NAME SECONDS), as a
 *    libFuzzer binary;
 *  - with the normal compiler, linked with replay.c, as the test
 *    `fuzz-replay-NAME`, which feeds every file of tests/fuzz/corpus/NAME/
 *    and tests/fuzz/crashers/NAME/ through the harness once.
 *
 * Several of our files carry checksums, which a mutating fuzzer can never
 * forge, so every such harness reads a first "mode" byte: when its low bit
 * is set the harness recomputes the checksums of the rest before the parser
 * sees it (lk_fuzz_fixup()), so the fuzzer reaches the checks behind them. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Once per process: a private XDG home, quiet logging. Idempotent. */
void        lk_fuzz_init (void);

/* Calls lk_fuzz_init(), then splits an input into its mode byte and a
 * writable copy of the rest (*buf_out, g_free() it; *len_out its length).
 * FALSE for an empty input, which has no mode byte. */
gboolean    lk_fuzz_split_input (const uint8_t *data, size_t size, guint8 *mode_out,
                                 guint8 **buf_out, gsize *len_out);

/* Writes @size bytes to a file of this process named @name (e.g.
 * "input.gz") in a private temporary folder, and returns its path (owned
 * by the harness helpers, valid until the next call with that name). */
const char *lk_fuzz_write_file (const char *name, const void *data, gsize size);

/* Little-endian field access inside a buffer, checked against its length
 * (a field past the end reads 0 and is not written). */
guint32     lk_fuzz_get_u32 (const guint8 *buf, gsize len, gsize offset);
guint64     lk_fuzz_get_u64 (const guint8 *buf, gsize len, gsize offset);
void        lk_fuzz_set_u32 (guint8 *buf, gsize len, gsize offset, guint32 v);
void        lk_fuzz_set_u64 (guint8 *buf, gsize len, gsize offset, guint64 v);

/* The checksums of a file laid out as a header of @header_size bytes and
 * then @n_floats floats (features, embeddings): the data checksum
 * (lk_hash64 with @data_seed) at @data_offset when the floats fit in @len,
 * then the header checksum (of every byte before it) at @header_offset. */
void        lk_fuzz_fix_float_file (guint8 *buf, gsize len, gsize header_size,
                                    guint64 n_floats, guint64 data_seed,
                                    gsize data_offset, gsize header_offset);

/* Reads every byte of @data so that AddressSanitizer checks the whole
 * range; returns a value the compiler cannot drop. */
guint8      lk_fuzz_touch (const void *data, gsize len);

typedef struct _LkCollection LkCollection;
/* A collection built in memory, no folder behind it: @n images of
 * side × side × channels in two categories, paths "apples/00000.png",
 * "pears/00001.png"…; Fashion-MNIST-like splits when @builtin. */
LkCollection *lk_fuzz_small_collection (guint side, guint channels, guint n, gboolean builtin);

G_END_DECLS
