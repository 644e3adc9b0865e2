#!/bin/sh
# it_procs.sh - every NFSv3 and MOUNTv3 procedure and their error cases,
# called directly by tests/nfsit against one magmad.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
it_node n 127.0.0.2
it_start n
it_nfsit procs "$(it_addr n)" "$(it_port n)"
rc=$?
it_alive n
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
exit $rc
