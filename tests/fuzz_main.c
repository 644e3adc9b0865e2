/* fuzz_main.c - the bounded driver shared by every fuzz target (see
 * fuzz.h): seeds from the target, a few mutations each, pure noise now
 * and then, all from one xorshift generator so that a run is repeatable
 * from its seed. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_MAX 8192

/* Targets without set-up do not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Set when built with ASan/UBSan: called before the process dies. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static uint64_t fuzz_state;

/* The input being run, saved as a reproducer when the target dies. */
static struct {
	const uint8_t *p;
	size_t n;
	char path[256];
	int saved;
} cur;

uint32_t fuzz_rnd(void)
{
	/* xorshift64*: deterministic for a given seed. */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return (uint32_t)((fuzz_state * 2685821657736338717ull) >> 32);
}

size_t fuzz_put32(uint8_t *p, size_t n, uint32_t v)
{
	p[n] = (uint8_t)(v >> 24);
	p[n + 1] = (uint8_t)(v >> 16);
	p[n + 2] = (uint8_t)(v >> 8);
	p[n + 3] = (uint8_t)v;
	return n + 4;
}

static void mutate(uint8_t *p, size_t *n)
{
	static const uint32_t interesting[] = {
		0,          1,          2,          3,         16,
		17,         255,        256,        400,       401,
		1024,       1025,       4096,       65536,     0x7fffffff,
		0x80000000, 0x80000004, 0xfffffffc, 0xffffffff
	};
	uint32_t k = fuzz_rnd() % 6, pos;

	if (*n == 0)
		return;
	pos = fuzz_rnd() % (uint32_t)*n;
	switch (k) {
	case 0: /* flip bits */
		p[pos] ^= (uint8_t)(1u << (fuzz_rnd() % 8));
		break;
	case 1: /* an interesting word at an aligned place */
		pos &= ~3u;
		if (pos + 4 <= *n)
			fuzz_put32(p, pos,
			           interesting[fuzz_rnd() %
			                       (sizeof(interesting) /
			                        sizeof(interesting[0]))]);
		break;
	case 2: /* truncate */ *n = pos; break;
	case 3: /* random byte */ p[pos] = (uint8_t)fuzz_rnd(); break;
	case 4: /* copy a slice over another place */ {
		uint32_t from = fuzz_rnd() % (uint32_t)*n;
		uint32_t len = fuzz_rnd() % 16;

		if (from + len <= *n && pos + len <= *n)
			memmove(p + pos, p + from, len);
		break;
	}
	default: /* append junk */
		while (*n < FUZZ_MAX && (fuzz_rnd() % 8) != 0)
			p[(*n)++] = (uint8_t)fuzz_rnd();
		break;
	}
}

/* -w DIR: keep the inputs as files (a seed corpus for libFuzzer). */
static void write_file(const char *dir, unsigned long i, const uint8_t *p,
                       size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%06lu", dir, i);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static void put_hex(int fd, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char line[80];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		line[k++] = hex[p[i] >> 4];
		line[k++] = hex[p[i] & 15];
		if (i % 32 == 31 || i + 1 == n) {
			line[k++] = '\n';
			(void)!write(fd, line, k);
			k = 0;
		}
	}
}

/* Async-signal-safe: only open/write/close. */
static void save_input(void)
{
	static const char msg[] = "fuzz: reproducer (hex) saved to ";
	int fd;

	if (cur.p == NULL || cur.saved)
		return;
	cur.saved = 1;
	fd = open(cur.path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		(void)!write(fd, cur.p, cur.n);
		close(fd);
	}
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, cur.path, strlen(cur.path));
	(void)!write(2, ":\n", 2);
	put_hex(2, cur.p, cur.n < 4096 ? cur.n : 4096);
}

static void on_signal(int sig)
{
	save_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_death(void)
{
	save_input();
}

static int run_file(const char *path)
{
	static uint8_t buf[4u << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[FUZZ_MAX];
	const char *name =
	        strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	unsigned long count = fuzz_count, i;
	unsigned long seed = 1;
	const char *corpus = NULL;
	const char *env = getenv("MAGMA_FUZZ_COUNT");
	int a, rc = 0;

	if (env != NULL && *env != '\0')
		count = strtoul(env, NULL, 0);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
			count = strtoul(argv[++a], NULL, 0);
		else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
			seed = strtoul(argv[++a], NULL, 0);
		else if (strcmp(argv[a], "-w") == 0 && a + 1 < argc)
			corpus = argv[++a];
		else
			break;
	}
	fuzz_state = seed * 0x9e3779b97f4a7c15ull + 1;
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(on_death);
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGFPE, on_signal);
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (a < argc) {
		for (; a < argc; a++)
			rc |= run_file(argv[a]);
		return rc;
	}
	for (i = 0; i < count; i++) {
		size_t n;
		uint32_t m, j;

		if (i % 16 == 15) { /* pure noise now and then */
			n = fuzz_rnd() % 256;
			for (j = 0; j < n; j++)
				buf[j] = (uint8_t)fuzz_rnd();
		} else {
			n = fuzz_seed(buf, sizeof(buf));
			m = fuzz_rnd() % 5; /* some seeds go in whole */
			for (j = 0; j < m; j++)
				mutate(buf, &n);
		}
		if (corpus != NULL) {
			write_file(corpus, i, buf, n);
			continue;
		}
		snprintf(cur.path, sizeof(cur.path), "crash-%s-s%lu-i%lu", name,
		         seed, i);
		cur.p = buf;
		cur.n = n;
		LLVMFuzzerTestOneInput(buf, n);
	}
	if (corpus != NULL)
		return 0;
	printf("%s: %lu inputs (seed %lu), no crash\n", name, count, seed);
	return 0;
}
