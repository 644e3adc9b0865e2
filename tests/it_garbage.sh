#!/bin/sh
# it_garbage.sh - malformed RPC records on the raw TCP port; the server
# answers with RPC errors or closes the connection, and keeps serving.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
it_node n 127.0.0.6
it_start n
it_nfsit garbage "$(it_addr n)" "$(it_port n)"
rc=$?
it_alive n
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
exit $rc
