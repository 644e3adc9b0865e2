/* unit_main.c - runs every CUnit suite of tests/unit.
 *
 * Usage: tests/unit [SUITE...]   (no argument: all suites)
 * Prints CUnit's basic report, then a closing "N passed, N failed" line
 * (tests counted); exits non-zero on any failure.  MAGMA_UNIT_LOG=debug
 * (error, warn, info) sets the log level; the default is error. */
#define _GNU_SOURCE
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "mlog.h"
#include "unit.h"

/* Every suite, one line each. */
static const struct unit_suite {
	const char *name;
	int (*reg)(void);
} unit_suites[] = {
	{ "store", unit_suite_store }, { "keys", unit_suite_keys },
	{ "fh", unit_suite_fh },       { "xdr", unit_suite_xdr },
	{ "nfs3", unit_suite_nfs3 },   { "config", unit_suite_config },
	{ "fs", unit_suite_fs },       { "tls", unit_suite_tls },
	{ "ring", unit_suite_ring },   { "member", unit_suite_member },
	{ "repl", unit_suite_repl },
};

#define UNIT_NSUITES (sizeof(unit_suites) / sizeof(unit_suites[0]))
#define UNIT_TMPMAX 128

static char *unit_tmp[UNIT_TMPMAX];
static int unit_ntmp;
static pid_t unit_pid;
static pthread_mutex_t unit_tmp_lock = PTHREAD_MUTEX_INITIALIZER;

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		perror(path);
	return 0;
}

static void unit_tmp_cleanup(void)
{
	if (getpid() != unit_pid)
		return; /* a forked child: the directories are the parent's */
	for (int i = 0; i < unit_ntmp; i++) {
		nftw(unit_tmp[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(unit_tmp[i]);
	}
	unit_ntmp = 0;
}

const char *unit_tmpdir(void)
{
	char *dir = strdup("/tmp/magma-unit-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		perror("unit_tmpdir: mkdtemp");
		free(dir);
		return NULL;
	}
	pthread_mutex_lock(&unit_tmp_lock);
	if (unit_ntmp == UNIT_TMPMAX) {
		pthread_mutex_unlock(&unit_tmp_lock);
		fprintf(stderr, "unit_tmpdir: more than %d directories\n",
		        UNIT_TMPMAX);
		rmdir(dir);
		free(dir);
		return NULL;
	}
	unit_tmp[unit_ntmp++] = dir;
	pthread_mutex_unlock(&unit_tmp_lock);
	return dir;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

static int register_suites(int argc, char **argv)
{
	for (size_t i = 0; i < UNIT_NSUITES; i++) {
		if (!wanted(unit_suites[i].name, argc, argv))
			continue;
		int rc = unit_suites[i].reg();
		if (rc != CUE_SUCCESS) {
			fprintf(stderr, "suite %s: registration failed: %s\n",
			        unit_suites[i].name, CU_get_error_msg());
			return rc;
		}
	}
	return CUE_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *lvl = getenv("MAGMA_UNIT_LOG");
	unsigned run, failed, bad_suites;
	int level = lvl ? mlog_parse_level(lvl) : MLOG_ERR;

	mlog_init("unit", 0, level < 0 ? MLOG_ERR : level);
	unit_pid = getpid();
	atexit(unit_tmp_cleanup);
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 1;
	}
	if (register_suites(argc, argv) != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	bad_suites = CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	printf("\n%u passed, %u failed\n", run - failed, failed);
	return failed || bad_suites ? 1 : 0;
}
