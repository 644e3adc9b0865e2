/* fuzz_rpc.c - fuzz target for the RPC decoders of rpc/rpcmsg.c: record
 * marking, the call header with its credentials, the reply encoders and
 * the MOUNT path argument.
 *
 * Built with -DMAGMA_LIBFUZZER and -fsanitize=fuzzer it is a libFuzzer
 * target.  Otherwise main() runs it over seed calls and bounded
 * deterministic mutations of them (for `make check`):
 *   tests/fuzz_rpc [-n COUNT] [-s SEED] [FILE...]
 * FILEs (a corpus or crash reproducers) are run once each instead. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc/rpc.h>

#include "merr.h"
#include "rpc/rpcmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_call(const uint8_t *rec, size_t len)
{
	static uint8_t out[512];
	rpcmsg_call c;
	size_t n;
	char *path = NULL;
	XDR x;

	if (rpcmsg_decode_call(rec, len, &c) < 0)
		return;
	if (c.deny != RPCMSG_SERVE) {
		if (rpcmsg_encode_denied(out, sizeof(out), &c, &n) != 0)
			abort();
		return;
	}
	if (c.args_off > len || c.cred.ngids > FS_NGROUPS ||
	    strlen(c.machine) > RPC_MAX_MACHINE)
		abort();
	if (rpcmsg_encode_error(out, sizeof(out), c.xid, GARBAGE_ARGS, &n) !=
	            0 ||
	    rpcmsg_encode_prog_mismatch(out, sizeof(out), c.xid, c.vers, c.vers,
	                                &n) != 0)
		abort();
	/* The arguments as a MOUNT path, as mount3.c decodes them. */
	xdrmem_create(&x, (char *)rec + c.args_off, (u_int)(len - c.args_off),
	              XDR_DECODE);
	(void)xdr_string(&x, &path, 8192);
	xdr_destroy(&x);
	xdr_free((xdrproc_t)xdr_wrapstring, (char *)&path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rpcmsg_buf b = { 0 };
	size_t off = 0, used;
	int i;

	/* As a bare record ... */
	fuzz_call(data, size);
	/* ... and as a stream of marked records. */
	for (i = 0; i < 16 && off < size; i++) {
		int rc = rpcmsg_read_record_mem(data + off, size - off, &b,
		                                RPC_MAX_RECORD, &used);

		if (rc != 0)
			break;
		if (b.len > RPC_MAX_RECORD || used > size - off)
			abort();
		fuzz_call(b.data, b.len);
		off += used;
	}
	rpcmsg_buf_free(&b);
	return 0;
}

#ifndef MAGMA_LIBFUZZER

#define FUZZ_MAX 2048

static uint64_t fuzz_state;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic for a given seed. */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return (uint32_t)((fuzz_state * 2685821657736338717ull) >> 32);
}

static size_t put32(uint8_t *p, size_t n, uint32_t v)
{
	p[n] = (uint8_t)(v >> 24);
	p[n + 1] = (uint8_t)(v >> 16);
	p[n + 2] = (uint8_t)(v >> 8);
	p[n + 3] = (uint8_t)v;
	return n + 4;
}

/* A marked MNT call with an AUTH_SYS credential. */
static size_t seed_call(uint8_t *p, uint32_t flavor, uint32_t ngids)
{
	size_t n = 4, credlen_at;
	uint32_t i;

	n = put32(p, n, rnd());
	n = put32(p, n, CALL);
	n = put32(p, n, 2);
	n = put32(p, n, 100005);
	n = put32(p, n, 3);
	n = put32(p, n, 1);
	n = put32(p, n, flavor);
	credlen_at = n;
	n += 4;
	if (flavor == AUTH_SYS) {
		n = put32(p, n, 1);
		n = put32(p, n, 8);
		memcpy(p + n, "hostname", 8);
		n += 8;
		n = put32(p, n, 1000);
		n = put32(p, n, 100);
		n = put32(p, n, ngids);
		for (i = 0; i < ngids; i++)
			n = put32(p, n, i);
	}
	put32(p, credlen_at, (uint32_t)(n - credlen_at - 4));
	n = put32(p, n, AUTH_NONE);
	n = put32(p, n, 0);
	n = put32(p, n, 1);
	memcpy(p + n, "/\0\0\0", 4);
	n += 4;
	put32(p, 0, RPC_LAST_FRAG | (uint32_t)(n - 4));
	return n;
}

static void mutate(uint8_t *p, size_t *n)
{
	static const uint32_t interesting[] = {
		0,          1,          2,          3,          16,        17,
		255,        256,        400,        401,        1024,      1025,
		0x7fffffff, 0x80000000, 0x80000004, 0xfffffffc, 0xffffffff
	};
	uint32_t k = rnd() % 5, pos;

	if (*n == 0)
		return;
	pos = rnd() % (uint32_t)*n;
	switch (k) {
	case 0: /* flip bits */ p[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
	case 1: /* an interesting word at an aligned place */
		pos &= ~3u;
		if (pos + 4 <= *n)
			put32(p, pos,
			      interesting[rnd() % (sizeof(interesting) /
			                           sizeof(interesting[0]))]);
		break;
	case 2: /* truncate */ *n = pos; break;
	case 3: /* random byte */ p[pos] = (uint8_t)rnd(); break;
	default: /* append junk */
		while (*n < FUZZ_MAX && (rnd() % 8) != 0)
			p[(*n)++] = (uint8_t)rnd();
		break;
	}
}

static int run_file(const char *path)
{
	static uint8_t buf[RPC_MAX_RECORD + 1024];
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
	static const uint32_t flavors[] = { AUTH_NONE, AUTH_SYS, AUTH_SYS,
		                            RPCSEC_GSS };
	uint8_t buf[FUZZ_MAX];
	unsigned long count = 200000, i;
	unsigned long seed = 1;
	int a, rc = 0;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
			count = strtoul(argv[++a], NULL, 0);
		else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
			seed = strtoul(argv[++a], NULL, 0);
		else
			break;
	}
	if (a < argc) {
		for (; a < argc; a++)
			rc |= run_file(argv[a]);
		return rc;
	}
	fuzz_state = seed * 0x9e3779b97f4a7c15ull + 1;
	for (i = 0; i < count; i++) {
		size_t n;
		uint32_t m, j;

		if (i % 16 == 15) { /* pure noise now and then */
			n = rnd() % 256;
			for (j = 0; j < n; j++)
				buf[j] = (uint8_t)rnd();
		} else {
			n = seed_call(buf, flavors[rnd() % 4], rnd() % 18);
			/* Sometimes two records, the second split in two. */
			if (rnd() % 4 == 0 && 2 * n + 8 <= FUZZ_MAX) {
				memcpy(buf + n, buf, n);
				put32(buf, n, 8);
				n *= 2;
			}
			m = 1 + rnd() % 4;
			for (j = 0; j < m; j++)
				mutate(buf, &n);
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_rpc: %lu inputs (seed %lu), no crash\n", count, seed);
	return 0;
}

#endif
