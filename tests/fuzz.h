/* fuzz.h - what a fuzz target (tests/fuzz_*.c) and the shared driver
 * (tests/fuzz_main.c) owe each other.
 *
 * Every target defines LLVMFuzzerTestOneInput, and may define
 * LLVMFuzzerInitialize (called once before the first input).  Built with
 * -DMAGMA_LIBFUZZER and -fsanitize=fuzzer, that is all libFuzzer needs.
 * Otherwise fuzz_main.c supplies main(), which runs the target over seed
 * inputs the target builds with fuzz_seed() and bounded deterministic
 * mutations of them (for `make check`):
 *   tests/fuzz_X [-n COUNT] [-s SEED] [-w DIR] [FILE...]
 * FILEs (a corpus or crash reproducers) are run once each instead; with
 * -w the COUNT inputs are written to DIR instead of run (a seed corpus).
 * MAGMA_FUZZ_COUNT in the environment replaces the default count.
 *
 * A libFuzzer build, with clang (libclang-rt-dev), from a build tree
 * configured with CC=clang CFLAGS='-g -O1 -fsanitize=fuzzer-no-link,
 * address,undefined' --disable-werror, after `make libmagma.a librpcgen.a`:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DMAGMA_LIBFUZZER
 *     -std=gnu11 -I$srcdir -I. -Irpc -I$srcdir/{common,server,store}
 *     $(pkg-config --cflags libtirpc gnutls) -pthread
 *     -o fuzz_X $srcdir/tests/fuzz_X.c libmagma.a librpcgen.a
 *     $(pkg-config --libs libtirpc gnutls) -llmdb
 *   ./fuzz_X -max_len=8192 CORPUS_DIR   (seed it with tests/fuzz_X -w) */
#ifndef MAGMA_FUZZ_H
#define MAGMA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#ifndef MAGMA_LIBFUZZER
/* Inputs the driver makes per run without -n; keep a `make check` run of
 * the target under ~20 s with sanitizers. */
extern const unsigned long fuzz_count;

/* Write one well-formed input into buf (cap bytes) and return its
 * length; the driver then mutates it. */
size_t fuzz_seed(uint8_t *buf, size_t cap);

/* Deterministic random numbers (seeded by -s), for fuzz_seed. */
uint32_t fuzz_rnd(void);

/* Store v big-endian at p + n; returns n + 4. */
size_t fuzz_put32(uint8_t *p, size_t n, uint32_t v);
#endif

#endif
