#!/bin/sh
# it_bigfile.sh - a 256 MiB file written in 1 MiB writes, COMMITted and
# read back through libnfs; the SHA-256 must match.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
it_node n 127.0.0.3
it_start n
start=$(date +%s)
IT_TIMEOUT=900 it_nfsit bigfile "$(it_addr n)" "$(it_port n)" "${IT_BIGFILE_MB:-256}"
rc=$?
it_log "bigfile took $(($(date +%s) - start)) s"
it_alive n
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
exit $rc
