#!/bin/sh
# it_bigdir.sh - 100,000 entries in one directory: pipelined CREATE,
# READDIR and READDIRPLUS in many small pages (each name exactly once),
# pipelined REMOVE.  IT_BIGDIR_N overrides the count.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
it_node n 127.0.0.4
it_start n
start=$(date +%s)
IT_TIMEOUT=1200 it_nfsit bigdir "$(it_addr n)" "$(it_port n)" "${IT_BIGDIR_N:-100000}"
rc=$?
it_log "bigdir took $(($(date +%s) - start)) s"
it_alive n
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
exit $rc
