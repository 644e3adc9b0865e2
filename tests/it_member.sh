#!/bin/sh
# it_member.sh - membership between real magmad processes on distinct
# loopback addresses (127.0.0.2 .. 127.0.0.6): magmactl init + joins give
# 3 then 5 members with one table on every node; two joins at once get
# two epochs and identical tables; join learns the network's name from
# the peer (an optional --network must match it); a wrong keyphrase, a
# wrong --network and an unreachable peer fail at once and leave nothing; kill -9 of a member shows it down
# on the others, a restart up again; status --json parses; locate names
# a primary and a backup; leave marks leaving, leave --force removes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-member
KEY=$IT_TMP/net.key
BADKEY=$IT_TMP/bad.key
it_keyfile "$KEY" member
it_keyfile "$BADKEY" another

# join NAME ADDR VIA [KEYFILE [ARG...]]: magmactl join through node VIA
# (without --network: the name comes from VIA), with more ARGs.
join() {
	jn=$1 ja=$2 jv=$3 jk=${4:-$KEY}
	shift 3
	[ $# -gt 0 ] && shift
	it_net_join "$jn" "$ja" "$jv" "$jk" "$@"
}

# The table as this node sees it: "epoch id:address:state ..." sorted.
table_of() {
	it_net_json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["epoch"], " ".join(sorted("%s:%s:%s" % (m["id"], m["address"],
      m["state"]) for m in j["members"])))' 2>/dev/null
}

# converge SECONDS NODE...: wait until every node shows the same table;
# prints it.
converge() {
	cv_t=$(($1 * 10))
	shift
	cv_i=0
	while [ $cv_i -lt $cv_t ]; do
		cv_first=$(table_of "$1")
		cv_same=1
		for cv_n in "$@"; do
			[ "$(table_of "$cv_n")" = "$cv_first" ] || cv_same=0
		done
		# a joining member is still pulling its data (rebal.h)
		if [ $cv_same = 1 ] && [ -n "$cv_first" ] &&
		   ! echo "$cv_first" | grep -q ':joining'; then
			echo "$cv_first"
			return 0
		fi
		sleep 0.1
		cv_i=$((cv_i + 1))
	done
	for cv_n in "$@"; do echo "# $cv_n: $(table_of "$cv_n")"; done
	return 1
}

# state_on NODE MEMBER: MEMBER's state as NODE shows it.
state_on() {
	it_net_json "$1" | python3 -c '
import json, sys
want = sys.argv[1]
for m in json.load(sys.stdin)["members"]:
    if m["id"] == want:
        print(m["state"])
        break
else:
    print("absent")' "$2" 2>/dev/null
}

# wait_state SECONDS NODE MEMBER STATE
wait_state() {
	ws_i=0
	while [ $ws_i -lt $(($1 * 10)) ]; do
		[ "$(state_on "$2" "$3")" = "$4" ] && return 0
		sleep 0.1
		ws_i=$((ws_i + 1))
	done
	return 1
}

count_members() { echo "$1" | awk '{ print NF - 1 }'; }
epoch_of() { echo "$1" | awk '{ print $1 }'; }

# ---- init + 2 joins ----
it_net_node a 127.0.0.2
it_net_init a "$NET" "$KEY"
it_start a
join b 127.0.0.3 a || it_fail "join b: $(cat "$IT_TMP/b.join")"
grep -q "^coordinator = $(it_net_peer a)" "$IT_TMP/b/magma.conf" &&
	ok "join writes the coordinator into magma.conf" ||
	nok "join writes the coordinator into magma.conf"
grep -q "^network = $NET\$" "$IT_TMP/b/magma.conf" &&
	ok "join without --network writes the peer's network name" ||
	nok "join writes the network name" "$(grep network "$IT_TMP/b/magma.conf")"
it_start b
join c 127.0.0.4 b "$KEY" --network "$NET" ||
	it_fail "join c via b with --network: $(cat "$IT_TMP/c.join")"
it_start c
if t=$(converge 10 a b c) && [ "$(count_members "$t")" = 3 ]; then
	ok "3 members with one table on every node (epoch $(epoch_of "$t"))"
else
	nok "3 members with one table on every node" "$t"
fi
case "$t" in
*joining* | *down* | *leaving*) nok "every member up" "$t" ;;
*) ok "every member up (each after pulling its ranges as joining)" ;;
esac
E3=$(epoch_of "$t")

# ---- two joins at the same time -> 5 members ----
join d 127.0.0.5 a &
jd=$!
join e 127.0.0.6 c &
je=$!
wait $jd || it_fail "join d: $(cat "$IT_TMP/d.join")"
wait $je || it_fail "join e: $(cat "$IT_TMP/e.join")"
it_start d &
sd=$!
it_start e &
se=$!
wait $sd || it_fail "start d"
wait $se || it_fail "start e"
if t=$(converge 15 a b c d e) && [ "$(count_members "$t")" = 5 ]; then
	ok "two joins at once: 5 members, identical tables on all nodes"
else
	nok "two joins at once: 5 members, identical tables" "$t"
fi
E5=$(epoch_of "$t")
# two epochs per join: joining, then up once its data arrived
[ "$E5" = $((E3 + 4)) ] && ok "two epochs per join ($E3 -> $E5)" ||
	nok "two epochs per join" "$E3 -> $E5"
n=$(grep -c "JOIN of .*table epoch" "$IT_TMP/a.err")
ep=$(sed -n 's/.*JOIN of .*table epoch \([0-9]*\).*/\1/p' "$IT_TMP/a.err" |
	sort | uniq -d)
[ -z "$ep" ] && ok "no epoch assigned twice ($n joins logged)" ||
	nok "no epoch assigned twice" "$ep"

# ---- status --json ----
if it_net_json b | python3 -m json.tool >/dev/null 2>&1; then
	ok "status --json parses (python3 -m json.tool)"
else
	nok "status --json parses"
fi
it_net_json b | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["redundancy"] == 2 and j["movement"] is None, j
assert j["coordinator"]["address"], j
m = j["members"]
assert len(m) == 5 and abs(sum(x["share"] for x in m) - 100) < 0.6, m
assert sum(x["self"] for x in m) == 1, m
assert all(x["table_state"] == "up" and x["reachable"] is True for x in m), m
' 2>"$IT_TMP/json.err" && ok "status --json: shares, coordinator, movement" ||
	nok "status --json content" "$(cat "$IT_TMP/json.err")"

# ---- locate ----
out=$("$MAGMACTL" --data "$IT_TMP/d" locate / 2>&1)
if echo "$out" | grep -q "primary" && echo "$out" | grep -q "backup "; then
	ok "locate / names a primary and a backup"
else
	nok "locate / names a primary and a backup" "$out"
fi

# ---- failures of join ----
join f 127.0.0.7 a "$BADKEY"
rc=$?
if [ $rc -ne 0 ] && grep -qi "keyphrase" "$IT_TMP/f.join" &&
   [ ! -e "$IT_TMP/f" ]; then
	ok "wrong keyphrase: clear message, nothing left"
else
	nok "wrong keyphrase" "rc $rc: $(cat "$IT_TMP/f.join"); $(ls "$IT_TMP/f" 2>&1)"
fi
join i 127.0.0.7 a "$KEY" --network other-net
rc=$?
if [ $rc -ne 0 ] &&
   grep -q "network \"$NET\", not \"other-net\"" "$IT_TMP/i.join" &&
   [ ! -e "$IT_TMP/i" ]; then
	ok "wrong --network: clear message, nothing left"
else
	nok "wrong --network" "rc $rc: $(cat "$IT_TMP/i.join"); $(ls "$IT_TMP/i" 2>&1)"
fi
grep -qi "handshake\|key" "$IT_TMP/a.err" &&
	ok "the peer logged the refused handshake" ||
	nok "the peer logged the refused handshake"
echo "127.0.0.7:$(it_random_port)" >"$IT_TMP/nobody.peer"
t0=$(date +%s)
join g 127.0.0.7 nobody
rc=$?
t1=$(date +%s)
if [ $rc -ne 0 ] && grep -qi "cannot reach" "$IT_TMP/g.join" &&
   [ ! -e "$IT_TMP/g" ] && [ $((t1 - t0)) -le 5 ]; then
	ok "unreachable peer: fails in $((t1 - t0)) s, nothing left"
else
	nok "unreachable peer" "rc $rc in $((t1 - t0)) s: $(cat "$IT_TMP/g.join")"
fi
mkdir "$IT_TMP/h"
join h 127.0.0.7 a "$BADKEY"
[ -d "$IT_TMP/h" ] && [ -z "$(ls -A "$IT_TMP/h")" ] &&
	ok "an existing empty DIR stays empty after a failed join" ||
	nok "existing DIR after a failed join" "$(ls -A "$IT_TMP/h")"

# ---- kill -9 and restart ----
C=$(it_net_id c)
it_kill9 c
if wait_state 8 a "$C" down && wait_state 8 b "$C" down &&
   wait_state 8 e "$C" down; then
	ok "kill -9 of c: shown down on a, b and e within 8 s"
else
	nok "kill -9 of c: shown down" "a: $(state_on a "$C") b: $(state_on b "$C")"
fi
# The table still has c up: down above is the view's (unreachable).
it_net_json a | python3 -c '
import json, sys
want = sys.argv[1]
m = [m for m in json.load(sys.stdin)["members"] if m["id"] == want][0]
assert m["state"] == "down" and m["table_state"] == "up", m
assert m["reachable"] is False, m
' "$C" 2>"$IT_TMP/json.err" &&
	ok "status --json: c up in the table, unreachable" ||
	nok "status --json: table_state and reachable" "$(cat "$IT_TMP/json.err")"
"$MAGMACTL" --data "$IT_TMP/a" status 2>/dev/null | grep "$C" |
	grep -q " up .*unreachable" &&
	ok "status: c shown up in the table, flagged unreachable" ||
	nok "status: c up, unreachable" "$("$MAGMACTL" --data "$IT_TMP/a" status 2>&1 | grep "$C")"
# member_mark() logs after it sets the state status shows: wait for it.
i=0
while [ $i -lt 50 ] && ! grep -q "member $C is down" "$IT_TMP/a.err"; do
	sleep 0.1
	i=$((i + 1))
done
grep -q "member $C is down" "$IT_TMP/a.err" && ok "a logged c down" ||
	nok "a logged c down"
[ "$(grep -c "member $C is down" "$IT_TMP/a.err")" = 1 ] &&
	ok "logged once" || nok "logged once"
t=$(table_of a)
[ "$(epoch_of "$t")" = "$E5" ] &&
	ok "down is the view's: the epoch stays $E5" ||
	nok "down changed the epoch" "$t"
it_start c
if wait_state 8 a "$C" up && wait_state 8 b "$C" up &&
   wait_state 8 d "$C" up; then
	ok "restart of c: up again everywhere"
else
	nok "restart of c: up again" "a: $(state_on a "$C")"
fi
if t=$(converge 10 a b c d e) && [ "$(epoch_of "$t")" = "$E5" ]; then
	ok "the restarted node has the same table"
else
	nok "the restarted node has the same table" "$t"
fi

# ---- leave ----
E=$(it_net_id e)
out=$("$MAGMACTL" --data "$IT_TMP/e" leave 2>&1)
rc=$?
# leaving, or already gone: a node with little data hands it off fast
leaving_or_gone() {
	lg_i=0
	while [ $lg_i -lt 80 ]; do
		case "$(state_on "$1" "$E")" in leaving | absent) return 0 ;; esac
		sleep 0.1
		lg_i=$((lg_i + 1))
	done
	return 1
}
if [ $rc -eq 0 ] && leaving_or_gone a && leaving_or_gone d
then
	ok "leave: e is leaving (or gone) on every node ($out)"
else
	nok "leave" "rc $rc: $out"
fi
A=$(it_net_id a)
out=$("$MAGMACTL" --data "$IT_TMP/a" leave 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "coordinator: it cannot leave" &&
	ok "the coordinator cannot leave: exit 1, clear message ($out)" ||
	nok "the coordinator refuses to leave" "rc $rc: $out"
out=$("$MAGMACTL" --data "$IT_TMP/a" leave --force 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "cannot leave, even with --force" &&
	ok "the coordinator cannot leave with --force either" ||
	nok "the coordinator refuses leave --force" "rc $rc: $out"
# (e's leave may complete meanwhile: the epoch is not compared)
[ "$(state_on a "$A")" = up ] && [ "$(state_on b "$A")" = up ] &&
	ok "the coordinator's refusal changed nothing: a up on a and b" ||
	nok "the coordinator's refusal changed nothing" "$(table_of a)"
"$MAGMACTL" --data "$IT_TMP/e" leave --force >/dev/null 2>&1
if t=$(converge 10 a b c d) && [ "$(count_members "$t")" = 4 ]; then
	ok "leave --force: 4 members on every node"
else
	nok "leave --force" "$t"
fi

# ---- coordinator down: changes fail clearly ----
it_stop a
out=$("$MAGMACTL" --data "$IT_TMP/b" leave 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "unreachable" &&
	ok "coordinator down: leave fails clearly" ||
	nok "coordinator down: leave" "$out"
join i 127.0.0.7 b
rc=$?
[ $rc -ne 0 ] && grep -q "coordinator" "$IT_TMP/i.join" &&
	[ ! -e "$IT_TMP/i" ] &&
	ok "coordinator down: join fails clearly" ||
	nok "coordinator down: join" "rc $rc: $(cat "$IT_TMP/i.join")"

# d and e were started in subshells: not our children, so poll.
stop_bg() {
	sb_p=$(it_pid "$1")
	kill -TERM "$sb_p" 2>/dev/null || return 1
	sb_i=0
	while kill -0 "$sb_p" 2>/dev/null && [ $sb_i -lt 200 ]; do
		sleep 0.1
		sb_i=$((sb_i + 1))
	done
	! kill -0 "$sb_p" 2>/dev/null
}
for n in b c; do
	it_stop "$n" || nok "magmad $n exit status $? after SIGTERM"
done
for n in d e; do
	stop_bg "$n" || nok "magmad $n did not stop on SIGTERM"
done
[ $FAILS -eq 0 ] || it_fail "$FAILS check(s) failed"
echo "PASS: $IT_NAME"
