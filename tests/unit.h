/* unit.h - the shared CUnit runner (tests/unit).
 *
 * Each module's suite lives in tests/test_<module>.c and exports one
 * registration function, declared here, that adds its suite(s) to the
 * CUnit registry and returns CUE_SUCCESS (0) or a CUnit error code.
 * unit_main.c lists every registration function in one table: to add a
 * suite, declare it here and add one line there. */
#ifndef MAGMA_UNIT_H
#define MAGMA_UNIT_H

#include <CUnit/CUnit.h>

/* Suite registration functions, one per module. */
int unit_suite_store(void);
int unit_suite_keys(void);
int unit_suite_fh(void);
int unit_suite_xdr(void);
int unit_suite_nfs3(void);
int unit_suite_config(void);
int unit_suite_fs(void);
int unit_suite_tls(void);
int unit_suite_ring(void);
int unit_suite_member(void);
int unit_suite_repl(void);

/* A fresh, empty directory under /tmp, made with mkdtemp.  The runner
 * owns the returned string (valid until exit) and removes the directory
 * recursively at exit.  NULL (after a message on stderr) if it cannot be
 * made.  Thread-safe.  A forked child must leave with _exit() so that it
 * does not remove its parent's directories (the runner also checks). */
const char *unit_tmpdir(void);

#endif
