/* fuzz_rpc.c - fuzz target for the RPC decoders of rpc/rpcmsg.c: record
 * marking, the call header with its credentials, the reply encoders and
 * the MOUNT path argument.
 *
 * A libFuzzer target, or run by tests/fuzz_main.c over mutations of the
 * seed calls below (see fuzz.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc/rpc.h>

#include "merr.h"
#include "rpc/rpcmsg.h"
#include "tests/fuzz.h"

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

const unsigned long fuzz_count = 200000;

/* A marked MNT call with an AUTH_SYS credential. */
static size_t seed_call(uint8_t *p, uint32_t flavor, uint32_t ngids)
{
	size_t n = 4, credlen_at;
	uint32_t i;

	n = fuzz_put32(p, n, fuzz_rnd());
	n = fuzz_put32(p, n, CALL);
	n = fuzz_put32(p, n, 2);
	n = fuzz_put32(p, n, 100005);
	n = fuzz_put32(p, n, 3);
	n = fuzz_put32(p, n, 1);
	n = fuzz_put32(p, n, flavor);
	credlen_at = n;
	n += 4;
	if (flavor == AUTH_SYS) {
		n = fuzz_put32(p, n, 1);
		n = fuzz_put32(p, n, 8);
		memcpy(p + n, "hostname", 8);
		n += 8;
		n = fuzz_put32(p, n, 1000);
		n = fuzz_put32(p, n, 100);
		n = fuzz_put32(p, n, ngids);
		for (i = 0; i < ngids; i++)
			n = fuzz_put32(p, n, i);
	}
	fuzz_put32(p, credlen_at, (uint32_t)(n - credlen_at - 4));
	n = fuzz_put32(p, n, AUTH_NONE);
	n = fuzz_put32(p, n, 0);
	n = fuzz_put32(p, n, 1);
	memcpy(p + n, "/\0\0\0", 4);
	n += 4;
	fuzz_put32(p, 0, RPC_LAST_FRAG | (uint32_t)(n - 4));
	return n;
}

size_t fuzz_seed(uint8_t *buf, size_t cap)
{
	static const uint32_t flavors[] = { AUTH_NONE, AUTH_SYS, AUTH_SYS,
		                            RPCSEC_GSS };
	size_t n = seed_call(buf, flavors[fuzz_rnd() % 4], fuzz_rnd() % 18);

	/* Sometimes two records, the second split in two. */
	if (fuzz_rnd() % 4 == 0 && 2 * n + 8 <= cap) {
		memcpy(buf + n, buf, n);
		fuzz_put32(buf, n, 8);
		n *= 2;
	}
	return n;
}

#endif
