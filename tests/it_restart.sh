#!/bin/sh
# it_restart.sh - data written UNSTABLE and COMMITted (and FILE_SYNC)
# survives kill -9; handles from before the restart still work; the write
# verifier changes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
it_node n 127.0.0.5
it_start n
it_nfsit write-commit "$(it_addr n)" "$(it_port n)" "$IT_TMP/state"
rc1=$?
v1=$("$MAGMACTL" --data "$(it_dir n)" status 2>/dev/null | grep -i verifier)
it_log "kill -9 magmad"
it_kill9 n
it_start n
v2=$("$MAGMACTL" --data "$(it_dir n)" status 2>/dev/null | grep -i verifier)
it_nfsit verify "$(it_addr n)" "$(it_port n)" "$IT_TMP/state"
rc2=$?
it_log "status verifier before: $v1"
it_log "status verifier after:  $v2"
if [ -n "$v1" ] && [ "$v1" = "$v2" ]; then
	echo "not ok - magmactl status shows the same write verifier after restart"
	rc2=1
fi
# A clean restart (SIGTERM) keeps everything too.
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
it_start n
it_nfsit verify "$(it_addr n)" "$(it_port n)" "$IT_TMP/state" >"$IT_TMP/verify2" 2>&1
rc3=$?
grep "^not ok" "$IT_TMP/verify2" | grep -v "verifier changed" && rc3=1 || rc3=0
[ $rc3 -eq 0 ] && echo "ok - data and handles intact after a SIGTERM restart"
it_stop n || it_fail "magmad exit status $? after SIGTERM (want 0)"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]
