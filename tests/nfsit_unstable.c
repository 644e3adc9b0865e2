/* nfsit_unstable.c - UNSTABLE writes in a network (tests/it_unstable.sh):
 *
 *   nfsit uwrite HOST PORT STATE
 *       create a file and write it UNSTABLE in 64 KiB pieces, without
 *       COMMIT: every WRITE must be answered UNSTABLE with one verifier.
 *       STATE gets "name NAME", "fh HEX" and "verf HEX".
 *   nfsit ucommit HOST PORT STATE same|changed
 *       COMMIT that file through the same front end: OK, with the
 *       writes' verifier (same) or another one (changed: the client
 *       must send its writes again).  With "same", the file then reads
 *       back whole through HOST.
 * Exit 0 when every check passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfsit.h"

#define UW_SIZE (4 * 65536 + 777)
#define UW_SEED 4242

static void verf_hex(const char v[8], char out[17])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", (unsigned char)v[i]);
}

static int verf_unhex(const char *hex, char v[8])
{
	for (int i = 0; i < 8; i++) {
		unsigned x;
		if (sscanf(hex + 2 * i, "%2x", &x) != 1)
			return -1;
		v[i] = (char)x;
	}
	return 0;
}

int nit_cmd_uwrite(const char *host, int port, const char *state)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	char *buf = malloc(UW_SIZE), name[64], hex[2 * NIT_FHMAX + 1];
	char verf[8] = { 0 }, v[8] = { 0 }, vhex[17];
	nit_fh root, fh;
	int st, cm, unstable = 1, same = 1;
	FILE *out;

	if (!c || !buf) {
		nit_check(0, "connect", "failed");
		free(buf);
		return nit_summary();
	}
	if (!CHECK(nit_mnt(c, "/", &root) == MNT3_OK, "MNT", "failed"))
		goto out;
	snprintf(name, sizeof(name), "uw.%d", (int)getpid());
	st = nit_create(c, &root, name, GUARDED, 0644, NULL, &fh, NULL);
	if (!nit_check_st(st, NFS3_OK, "CREATE"))
		goto out;
	nit_fill(buf, UW_SIZE, UW_SEED, 0);
	for (uint32_t off = 0; off < UW_SIZE && st == NFS3_OK; off += 65536) {
		uint32_t len = UW_SIZE - off < 65536 ? UW_SIZE - off : 65536;
		st = nit_write(c, &fh, off, buf + off, len, UNSTABLE,
		               off ? v : verf, &cm);
		if (st == NFS3_OK && cm != UNSTABLE)
			unstable = 0;
		if (st == NFS3_OK && off && memcmp(v, verf, 8) != 0)
			same = 0;
	}
	nit_check_st(st, NFS3_OK, "UNSTABLE WRITEs");
	CHECK(unstable, "in a network, UNSTABLE writes are answered UNSTABLE",
	      "some were answered stable");
	CHECK(same, "one verifier for every WRITE", "it changed");
	out = fopen(state, "w");
	if (!CHECK(out != NULL, "state file", "%s", state))
		goto out;
	nit_fh_hex(&fh, hex);
	verf_hex(verf, vhex);
	fprintf(out, "name %s\nfh %s\nverf %s\n", name, hex, vhex);
	fclose(out);
	nit_note("wrote /%s UNSTABLE, verifier %s", name, vhex);
out:
	free(buf);
	nit_close(c);
	return nit_summary();
}

int nit_cmd_ucommit(const char *host, int port, const char *state,
                    const char *want)
{
	nit_conn *c = nit_connect(host, port, 0, 0);
	char line[512], hex[2 * NIT_FHMAX + 8] = "", vhex[32] = "";
	char verf[8], v[8], nhex[17];
	char *buf = malloc(UW_SIZE), *got = malloc(UW_SIZE);
	int changed = strcmp(want, "changed") == 0, st, eof = 0;
	uint32_t off = 0, n;
	nit_fh fh;
	FILE *in;

	if (!c || !buf || !got) {
		nit_check(0, "connect", "failed");
		goto out;
	}
	in = fopen(state, "r");
	if (!CHECK(in != NULL, "state file", "%s", state))
		goto out;
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "fh %130s", hex) == 1)
			continue;
		sscanf(line, "verf %16s", vhex);
	}
	fclose(in);
	if (!CHECK(nit_fh_unhex(&fh, hex) == 0 && verf_unhex(vhex, verf) == 0,
	           "state file read", "%s", state))
		goto out;
	st = nit_commit(c, &fh, v);
	nit_check_st(st, NFS3_OK, "COMMIT");
	verf_hex(v, nhex);
	if (changed)
		CHECK(st == NFS3_OK && memcmp(v, verf, 8) != 0,
		      "COMMIT answers another verifier: the client resends",
		      "writes %s commit %s", vhex, nhex);
	else
		CHECK(st == NFS3_OK && memcmp(v, verf, 8) == 0,
		      "COMMIT answers the writes' verifier",
		      "writes %s commit %s", vhex, nhex);
	if (changed)
		goto out;
	nit_fill(buf, UW_SIZE, UW_SEED, 0);
	while (off < UW_SIZE && !eof) {
		st = nit_read(c, &fh, off, 65536, got + off, &n, &eof);
		if (st != NFS3_OK || n == 0)
			break;
		off += n;
	}
	CHECK(off == UW_SIZE && memcmp(buf, got, UW_SIZE) == 0,
	      "the committed file reads back whole", "read %u of %u", off,
	      (unsigned)UW_SIZE);
out:
	free(buf);
	free(got);
	if (c)
		nit_close(c);
	return nit_summary();
}
