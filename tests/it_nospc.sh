#!/bin/sh
# it_nospc.sh - a node with an 8 MiB store: write until NFS3ERR_NOSPC,
# then earlier files still read back and the server still serves.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
it_node n 127.0.0.9 --store-size 8M
it_conf_set n store_size 8M
it_start n
it_nfsit nospc "$(it_addr n)" "$(it_port n)"
rc=$?
it_alive n
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
exit $rc
