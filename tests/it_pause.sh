#!/bin/sh
# it_pause.sh - a node that was paused longer than down_after (but not
# down_grace) may have missed writes: it must not serve as primary
# until it has caught up.  Three real magmad nodes (127.0.0.51, .52,
# .53; r = 2).  Files whose PRIMARY is C are written through A; C is
# stopped (SIGSTOP) until A and B see it unreachable; the files are
# overwritten through A (the backup coordinates them, nothing reaches
# C); C resumes and, at once, the files are read through C and through
# B: every one must be the new contents, although C's copies are stale
# and C is still up in the table.  Repair's periodic pass is held off
# (1 hour) so that only the catch-up after a pause can help.  Then C
# must serve as primary again within a bounded time, and read right.
# Last, A and B are stopped together: C, cut off from both, must stop
# serving as primary, and all three serve again once A and B resume.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
REPLIT=$top_builddir/tests/replit
[ -x "$REPLIT" ] || it_skip "tests/replit not built (libnfs-dev missing)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-pause
KEY=$IT_TMP/net.key
it_keyfile "$KEY" pause
DIRS=24
SIZE=100000 # two chunks and a bit

tune() {
	it_conf_set "$1" repair_interval 3600s
	it_conf_set "$1" down_after 1500ms
	it_conf_set "$1" down_grace off
}
replit() { timeout 120 "$REPLIT" "$@"; }
# put|check NODE DIR SEED: one file DIR/f0 through NODE's front end
put() { replit put "$(it_addr "$1")" "$(it_port "$1")" "$2" 1 $SIZE "$3"; }
check() { replit check "$(it_addr "$1")" "$(it_port "$1")" "$2" 1 $SIZE "$3"; }
# primary PATH: the node id of PATH's primary, as A locates it
primary() { set -- $(it_net_owners a "$1"); echo "${1:-}"; }
# serving NODE: 0 when NODE's status says it serves as primary
serving() { it_net_status "$1" | grep -q '^repair: *serving as primary'; }
# check_sel NODE SEED: every selected file through NODE; 0 when all match
check_sel() {
	cs_bad=0
	for cs_d in $SEL; do
		check "$1" "$cs_d" "$2" >"$IT_TMP/chk" 2>&1 ||
			{ cs_bad=1; nok "$cs_d (seed $2) through $1" "$(cat "$IT_TMP/chk")"; }
	done
	return $cs_bad
}

it_net3 "$NET" "$KEY" 127.0.0.51 127.0.0.52 127.0.0.53 tune
it_wait_until 20 serving c || it_fail "C never served as primary"

# ---- files, and which of them have C as their primary ----
C=$(it_net_id c)
SEL=""
i=0
while [ $i -lt $DIRS ]; do
	put a /s$i 1 >"$IT_TMP/put" 2>&1 || nok "write /s$i through A" "$(cat "$IT_TMP/put")"
	[ "$(primary /s$i/f0)" = "$C" ] && SEL="$SEL /s$i"
	i=$((i + 1))
done
[ -n "$SEL" ] || it_fail "no file of $DIRS has C as its primary"
nsel=$(echo $SEL | wc -w)
ok "$DIRS files written through A; C is the primary of $nsel:$SEL"
check_sel c 1 && ok "read through C before the pause"

# ---- C misses the overwrites ----
kill -STOP "$(it_pid c)"
it_stopped c || it_fail "c did not stop"
it_wait_until 20 it_net_unreachable a c && it_wait_until 20 it_net_unreachable b c ||
	{ kill -CONT "$(it_pid c)"; it_fail "A and B never saw C unreachable"; }
ok "C stopped; A and B see it unreachable"
for d in $SEL; do
	put a "$d" 2 >"$IT_TMP/put" 2>&1 || nok "overwrite $d through A" "$(cat "$IT_TMP/put")"
done
ok "files of C's overwritten through A while C was stopped"

# ---- C resumes: no stale reads, not even at once ----
kill -CONT "$(it_pid c)"
if it_net_status c | grep -q '^repair: *catching up (not serving as primary)'; then
	ok "C's status: catching up (not serving as primary)"
else
	nok "C's status right after SIGCONT" "$(it_net_status c | grep '^repair')"
fi
check_sel c 2 && ok "every overwritten file reads back new through C at once"
check_sel b 2 && ok "and through B"
if it_wait_until 20 serving c; then
	ok "C serves as primary again"
else
	nok "C serves as primary again" "$(it_net_status c | grep '^repair')"
fi
grep -q 'not serving until caught up' "$IT_TMP/c.err" 2>/dev/null &&
	ok "C logged the missed heartbeats" ||
	nok "C logged the missed heartbeats" "no such line in its log"
check_sel c 2 && ok "every overwritten file reads back new through C, serving"
check_sel a 2 && ok "and through A"

# ---- C cut off: A and B both stopped, C alone answers nothing ----
n0=$(grep -c 'not serving until caught up' "$IT_TMP/c.err")
kill -STOP "$(it_pid a)" "$(it_pid b)"
it_stopped a && it_stopped b || it_fail "a and b did not stop"
it_wait_until 20 it_net_unreachable c a && it_wait_until 20 it_net_unreachable c b ||
	{ kill -CONT "$(it_pid a)" "$(it_pid b)"; it_fail "C never saw A and B unreachable"; }
if it_wait_until 10 sh -c "[ \$(grep -c 'not serving until caught up' '$IT_TMP/c.err') -gt $n0 ]" &&
	! serving c; then
	ok "C, cut off from A and B, stops serving as primary"
else
	nok "C, cut off, stops serving" "$(it_net_status c | grep '^repair')"
fi
kill -CONT "$(it_pid a)" "$(it_pid b)"
if it_wait_until 20 serving a && it_wait_until 20 serving b && it_wait_until 20 serving c; then
	ok "all three serve as primary again"
else
	nok "all three serve again" "$(for n in a b c; do it_net_status $n | grep '^repair'; done)"
fi
check_sel c 2 && check_sel b 2 && check_sel a 2 &&
	ok "every file reads back new through C, B and A"
it_alive a
it_alive b
it_alive c

[ $FAILS -eq 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
