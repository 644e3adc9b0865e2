#!/bin/sh
# it_replread.sh - reads served by a backup's own copy (kv.h witness):
# three real magmad nodes (127.0.0.31, .32, .33; r = 2).  Files whose
# backup is C (and primary not C) read through C's front end come from
# C's own store: C's "data reads" show them all as from this node's
# copies, none from other owners.  Then C is stopped (SIGSTOP) until A
# and B see it unreachable, the files are overwritten through A (the
# forward skips C: its copies go stale), C resumes, and the same files
# read through C must be the new contents: C's copies fail the witness
# (their flare record is older than the primary's), so every one of
# those reads goes to another owner.  Repair is held off (1 hour) so
# that nothing but the witness stands between C and its stale copies.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
REPLIT=$top_builddir/tests/replit
[ -x "$REPLIT" ] || it_skip "tests/replit not built (libnfs-dev missing)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-replread
KEY=$IT_TMP/net.key
it_keyfile "$KEY" replread
DIRS=24
SIZE=200000 # four chunks and a bit

tune() {
	it_conf_set "$1" repair_interval 3600s
	it_conf_set "$1" down_after 1500ms
}
replit() { timeout 120 "$REPLIT" "$@"; }
# put|check NODE DIR SEED: one file DIR/f0 through NODE's front end
put() { replit put "$(it_addr "$1")" "$(it_port "$1")" "$2" 1 $SIZE "$3"; }
check() { replit check "$(it_addr "$1")" "$(it_port "$1")" "$2" 1 $SIZE "$3"; }
# reads NODE: "HERE AWAY", its data reads so far
reads() {
	it_net_json "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data_reads"]
print(r["here"], r["other_owners"])'
}
# check_sel NODE SEED: every selected file through NODE; 0 when all match
check_sel() {
	cs_bad=0
	for cs_d in $SEL; do
		check "$1" "$cs_d" "$2" >"$IT_TMP/chk" 2>&1 ||
			{ cs_bad=1; nok "$cs_d (seed $2) through $1" "$(cat "$IT_TMP/chk")"; }
	done
	return $cs_bad
}

it_net3 "$NET" "$KEY" 127.0.0.31 127.0.0.32 127.0.0.33 tune

# ---- files, and which of them have C as their backup ----
C=$(it_net_id c)
SEL=""
i=0
while [ $i -lt $DIRS ]; do
	put a /s$i 1 >"$IT_TMP/put" 2>&1 || nok "write /s$i through A" "$(cat "$IT_TMP/put")"
	set -- $(it_net_owners a /s$i/f0)
	[ "${2:-}" = "$C" ] && [ "$1" != "$C" ] && SEL="$SEL /s$i"
	i=$((i + 1))
done
[ -n "$SEL" ] || it_fail "no file of $DIRS has C as its backup"
nsel=$(echo $SEL | wc -w)
ok "$DIRS files written through A; C is the backup of $nsel:$SEL"

# ---- C's current copies serve C's front end ----
set -- $(reads c)
h0=$1 a0=$2
check_sel c 1
bad=$?
set -- $(reads c)
if [ $bad = 0 ] && [ "$1" -gt "$h0" ] && [ "$2" = "$a0" ]; then
	ok "read through C from C's own copies: data reads here $h0 -> $1, from other owners $a0 -> $2"
else
	nok "reads through C, the backup" "here $h0 -> $1, from other owners $a0 -> $2"
fi

# ---- C's copies go stale; C must not serve them ----
kill -STOP "$(it_pid c)"
it_stopped c || it_fail "c did not stop"
it_wait_until 20 it_net_unreachable a c &&
	it_wait_until 20 it_net_unreachable b c ||
	{ kill -CONT "$(it_pid c)"; it_fail "A and B never saw C unreachable"; }
ok "C stopped; A and B see it unreachable"
for d in $SEL; do
	put a "$d" 2 >"$IT_TMP/put" 2>&1 || nok "overwrite $d through A" "$(cat "$IT_TMP/put")"
done
ok "files of C's overwritten through A while C was stopped"
caught() { grep -c "caught up after missed writes" "$IT_TMP/c.err"; }
c0=$(caught)
kill -CONT "$(it_pid c)"
it_wait_until 20 it_net_reachable c a &&
	it_wait_until 20 it_net_reachable c b ||
	it_fail "C never saw A and B again"
# C catches up after the pause (a repair pass) and may then serve its
# copies again, rightly: they are current.  Each file read while C had
# not yet logged that (it logs before it serves again) must have come
# whole from other owners.
behind=0 bad=0
for d in $SEL; do
	set -- $(reads c)
	h0=$1 a0=$2
	check c "$d" 2 >"$IT_TMP/chk" 2>&1 ||
		{ bad=1; nok "$d (seed 2) through c" "$(cat "$IT_TMP/chk")"; }
	[ "$(caught)" = "$c0" ] || continue
	set -- $(reads c)
	behind=$((behind + 1))
	[ "${1:-}" = "$h0" ] && [ "${2:-0}" -gt "$a0" ] ||
		{ bad=1; nok "C's stale copy of $d refused" "here $h0 -> ${1:-?}, from other owners $a0 -> ${2:-?}"; }
done
[ $bad = 0 ] &&
	ok "every overwritten file reads back new through C; the $behind of $nsel read before C caught up came from other owners only"
check_sel b 2 && ok "and through B"

# A skipped C while C was down in its view: A's next forward to C says
# so, and C stops serving until it caught up (its copies may lack writes).
n0=$(grep -c "missed some forwarded writes" "$IT_TMP/c.err")
set -- $SEL
put a "$1" 3 >"$IT_TMP/put" 2>&1 || nok "overwrite $1 through A" "$(cat "$IT_TMP/put")"
if it_wait_until 10 sh -c "[ \$(grep -c 'missed some forwarded writes' '$IT_TMP/c.err') -gt $n0 ]"; then
	ok "C told by A's forward that it missed writes"
else
	nok "C told by A's forward that it missed writes" "no such line in its log"
fi
check c "$1" 3 >"$IT_TMP/chk" 2>&1 && ok "$1 reads back new through C" ||
	nok "$1 (seed 3) through C" "$(cat "$IT_TMP/chk")"
it_alive a
it_alive b
it_alive c

[ $FAILS -eq 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
