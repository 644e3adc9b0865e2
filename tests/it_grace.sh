#!/bin/sh
# it_grace.sh - the grace rule (magma.conf(5) down_grace): three real
# magmad nodes (127.0.0.21, .22, .23; r = 2), down_grace 3s.  After kill -9
# of C the coordinator A marks C down in the table (a new epoch, pushed
# to B); A and B re-replicate C's ranges (their repair passes then find
# every range equal); after kill -9 of B too every file reads back with
# its checksum through A alone, which proves the second copies were made.
# With B and C silent the rule must NOT mark B down (no majority
# answers).  B and C restarted: C is set joining, catches up and is up
# again (rebal.c), and the writes made meanwhile are on every node
# (digests equal everywhere, read back through B and C).  C stopped
# (SIGSTOP) is down in the table after the grace, and joining then up
# again once it answers (SIGCONT).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
REPLIT=$top_builddir/tests/replit
[ -x "$REPLIT" ] || it_skip "tests/replit not built (libnfs-dev missing)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-grace
KEY=$IT_TMP/net.key
it_keyfile "$KEY" grace
N=24
SIZE=70000 # two chunks and a bit

tune() {
	it_conf_set "$1" repair_interval 1s
	it_conf_set "$1" down_after 1500ms
	it_conf_set "$1" down_grace 3s
}
join() {
	it_net_join "$1" "$2" "$3" "$KEY" --network "$NET" || return 1
	tune "$1"
}
# member_of NODE WHO: "table_state reachable" of WHO in NODE's status
member_of() {
	it_net_json "$1" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m["id"] == sys.argv[1]:
        print(m["table_state"], "reachable" if m["reachable"] else "unreachable")
' "$(it_net_id "$2")" 2>/dev/null
}
epoch_of() { it_net_table "$1" | cut -d' ' -f1; }
# state_in NODE WHO: WHO's state in NODE's status
state_in() { it_net_table "$1" | tr ' ' '\n' | sed -n "s/^$(it_net_id "$2"):*//p"; }
replit() { timeout 300 "$REPLIT" "$@"; }
on() { replit "$1" "$(it_addr "$2")" "$(it_port "$2")" "$3" "$N" "$4" "$5"; }

# ---- three nodes, r = 2 ----
it_net_node a 127.0.0.21
it_net_init a "$NET" "$KEY" --redundancy 2
tune a
it_start a
join b 127.0.0.22 a || it_fail "join b: $(cat "$IT_TMP/b.join")"
it_start b
join c 127.0.0.23 a || it_fail "join c: $(cat "$IT_TMP/c.join")"
it_start c
it_net_converge 20 3 a b c ||
	it_fail "no common 3-member table: $(it_net_table a) / $(it_net_table b) / $(it_net_table c)"
ok "3 members up with one table"

on put a /d1 $SIZE 1 >"$IT_TMP/put1" 2>&1 &&
	ok "$N files written through A" || nok "write through A" "$(cat "$IT_TMP/put1")"
on check b /d1 $SIZE 1 >"$IT_TMP/chk" 2>&1 &&
	ok "they read back through B" || nok "/d1 through B" "$(head -5 "$IT_TMP/chk")"

# ---- kill -9 C: down in the table after the grace, copies restored ----
e0=$(epoch_of a)
it_kill9 c
t0=$(date +%s)
c_down() { [ "$(state_in a c)" = down ] && [ "$(state_in b c)" = down ] &&
	[ "$(epoch_of a)" -gt "$e0" ] && [ "$(epoch_of b)" = "$(epoch_of a)" ]; }
if it_wait_until 20 c_down; then
	ok "C down in the table of A and B after $(($(date +%s) - t0)) s (epoch $e0 -> $(epoch_of a))"
else
	nok "C down in the table" "$(it_net_table a) / $(it_net_table b)"
fi
# The coordinator logs a change after making it: the table can show
# it a moment before the log does.
it_wait_until 5 grep -q "down in the table" "$IT_TMP/a.err" &&
	ok "the coordinator logged it" ||
	nok "down in the table logged" "$(grep -i down "$IT_TMP/a.err" | tail -3)"
it_net_status a | grep "$(it_net_id c)" | grep -q down &&
	ok "magmactl status on A shows C down" ||
	nok "status shows C down" "$(it_net_status a | grep "$(it_net_id c)")"
[ "$(member_of a c)" = "down unreachable" ] &&
	ok "status --json on A: C down in the table, unreachable" ||
	nok "C's table_state and reachable" "$(member_of a c)"
on put a /d2 $SIZE 2 >"$IT_TMP/put2" 2>&1 &&
	ok "C down: new files written through A" ||
	nok "C down: write through A" "$(head -5 "$IT_TMP/put2")"
if it_net_in_sync 30 a b; then
	ok "re-replicated: A's and B's passes find every range equal ($(it_net_status b | sed -n 's/^records: *//p') records on B)"
else
	nok "re-replication between A and B"
fi

# ---- kill -9 B too: everything through A alone ----
it_kill9 b
on check a /d1 $SIZE 1 >"$IT_TMP/chk" 2>&1 &&
	on check a /d2 $SIZE 2 >>"$IT_TMP/chk" 2>&1 &&
	ok "B and C down: every file reads back with its checksum through A" ||
	nok "B and C down: files through A" "$(head -5 "$IT_TMP/chk")"
on put a /d3 $SIZE 3 >"$IT_TMP/put3" 2>&1 &&
	ok "B and C down: new files written through A alone" ||
	nok "B and C down: write through A" "$(head -5 "$IT_TMP/put3")"
# The grace rule must leave B's table state alone (only A of three
# answers): no new epoch.  (status --json's state shows B down all the
# same: it is the view's; table_state is the table's.)
eb=$(epoch_of a)
sleep 5
if [ "$(epoch_of a)" = "$eb" ] &&
   grep -q "$(it_net_id b).*left in the table" "$IT_TMP/a.err"; then
	ok "B left up in the table (only A of three answers), refusal logged"
else
	nok "B left in the table" "$(it_net_table a); $(grep 'left in' "$IT_TMP/a.err")"
fi
# status tells the two apart: B still an owner, C's ranges moved on.
if [ "$(member_of a b)" = "up unreachable" ] &&
   [ "$(member_of a c)" = "down unreachable" ] &&
   it_net_status a | grep "$(it_net_id b)" | grep -q " up .*unreachable"; then
	ok "status on A: B up but unreachable, C down in the table"
else
	nok "status: B up unreachable, C down" "$(member_of a b) / $(member_of a c)"
fi

# ---- restart B and C: C catches up as joining ----
e1=$(epoch_of a)
it_start b
it_start c
c_back() {
	s=$(state_in a c)
	[ "$s" = joining ] || [ "$s" = up ]
}
if it_wait_until 20 c_back; then
	ok "C back in the table as $(state_in a c) (epoch $e1 -> $(epoch_of a))"
else
	nok "C back as joining" "$(it_net_table a)"
fi
it_wait_until 5 grep -q "is back (JOIN): joining, to catch up" "$IT_TMP/a.err" &&
	ok "A set C joining when it called in" ||
	nok "C set joining" "$(grep -i 'joining' "$IT_TMP/a.err" | tail -3)"
it_net_converge 30 3 a b c && ok "C up after its catch-up: $(grep -c 'ranges pulled; up' "$IT_TMP/c.err") catch-up(s) logged" ||
	nok "C up again" "$(it_net_table a) / $(it_net_table c)"
if it_net_in_sync 40 a b c; then
	ok "every node's next pass: all range digests equal"
else
	nok "range digests equal after the restart"
fi
for n in b c; do
	on check $n /d1 $SIZE 1 >"$IT_TMP/chk" 2>&1 &&
		on check $n /d2 $SIZE 2 >>"$IT_TMP/chk" 2>&1 &&
		on check $n /d3 $SIZE 3 >>"$IT_TMP/chk" 2>&1 &&
		ok "every file through $n" ||
		nok "files through $n" "$(head -5 "$IT_TMP/chk")"
done

# ---- C silent without a restart (SIGSTOP), then answering again ----
e2=$(epoch_of a)
kill -STOP "$(it_pid c)"
c_down2() { [ "$(state_in a c)" = down ] && [ "$(epoch_of a)" -gt "$e2" ]; }
it_wait_until 20 c_down2 && ok "C stopped: down in the table again ($(state_in b c) on B)" ||
	nok "stopped C down in the table" "$(it_net_table a)"
kill -CONT "$(it_pid c)"
it_wait_until 20 c_back &&
	it_wait_until 5 grep -q "answers again: joining" "$IT_TMP/a.err" &&
	ok "C answers again: set joining" ||
	nok "C answers again: joining" "$(it_net_table a)"
it_net_converge 30 3 a b c && ok "C up again after its catch-up (epoch $(epoch_of a))" ||
	nok "C up again" "$(it_net_table a) / $(it_net_table c)"
for n in a b c; do
	it_alive $n
done

[ $FAILS = 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
