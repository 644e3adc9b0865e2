#!/bin/sh
# it_join.sh - data movement on join and leave under load (DESIGN 5):
# three magmad nodes (127.0.0.2-.4, r = 2); a write load through A and a
# read load through B run while D then E join (5 members): no client
# error, no stale read, `status --json` shows the movement, every member
# ends up; every acknowledged file then reads back right through every
# front end.  Then C leaves under the same load: the same checks, and C
# is gone from the table.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
JOINIT=$top_builddir/tests/joinit
[ -x "$JOINIT" ] || it_skip "tests/joinit not built (libnfs-dev missing)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-join
KEY=$IT_TMP/net.key
it_keyfile "$KEY" join

join() {
	it_net_join "$1" "$2" "$3" "$KEY" || return 1
	it_conf_set "$1" repair_interval 2s
}

# watch NODE...: log every movement `status --json` shows, until the
# file $IT_TMP/watch.stop exists.
watch() {
	rm -f "$IT_TMP/watch.stop"
	(
		while [ ! -f "$IT_TMP/watch.stop" ]; do
			for w_n in "$@"; do
				it_net_json "$w_n" | python3 -c '
import json, sys
j = json.load(sys.stdin)
m = j["movement"]
if m: print(sys.argv[1], m["what"], m["done"], m["total"])' "$w_n" 2>/dev/null
			done
			sleep 0.2
		done
	) >>"$IT_TMP/movement.log" 2>&1 &
	WATCHER=$!
}
unwatch() {
	touch "$IT_TMP/watch.stop"
	wait "$WATCHER" 2>/dev/null
}

# load NAME: writes through a, reads through b, into /NAME.
load() {
	rm -f "$IT_TMP/$1.stop"
	: >"$IT_TMP/$1.acks"
	timeout 300 "$JOINIT" write "$(it_addr a)" "$(it_port a)" "/$1" \
		"$IT_TMP/$1.stop" "$IT_TMP/$1.acks" >"$IT_TMP/$1.w" 2>&1 &
	LOAD_W=$!
	timeout 300 "$JOINIT" read "$(it_addr b)" "$(it_port b)" "/$1" \
		"$IT_TMP/$1.stop" "$IT_TMP/$1.acks" >"$IT_TMP/$1.r" 2>&1 &
	LOAD_R=$!
}
# unload NAME: stop the load and check what the clients saw.
unload() {
	touch "$IT_TMP/$1.stop"
	wait "$LOAD_W"
	ul_w=$?
	wait "$LOAD_R"
	ul_r=$?
	if [ $ul_w = 0 ] && grep -q "errors 0" "$IT_TMP/$1.w"; then
		ok "$2: writes through a, no error ($(tail -n 1 "$IT_TMP/$1.w"))"
	else
		nok "$2: writes through a" "$(tail -n 5 "$IT_TMP/$1.w" | tr '\n' '|')"
	fi
	if [ $ul_r = 0 ] && grep -q "errors 0 stale 0" "$IT_TMP/$1.r"; then
		ok "$2: reads through b, no error, nothing stale ($(tail -n 1 "$IT_TMP/$1.r"))"
	else
		nok "$2: reads through b" "$(tail -n 5 "$IT_TMP/$1.r" | tr '\n' '|')"
	fi
}
# check NAME NODE...: every acknowledged file of /NAME through each.
check() {
	ck_d=$1
	shift
	for ck_n in "$@"; do
		if timeout 120 "$JOINIT" check "$(it_addr "$ck_n")" \
			"$(it_port "$ck_n")" "/$ck_d" "$IT_TMP/$ck_d.acks" \
			>"$IT_TMP/$ck_d.$ck_n.check" 2>&1; then
			ok "/$ck_d through $ck_n: $(tail -n 1 "$IT_TMP/$ck_d.$ck_n.check")"
		else
			nok "/$ck_d through $ck_n" "$(tail -n 5 "$IT_TMP/$ck_d.$ck_n.check" | tr '\n' '|')"
		fi
	done
}

# ---- three nodes, r = 2 ----
it_net_node a 127.0.0.2
it_net_init a "$NET" "$KEY" --redundancy 2
it_conf_set a repair_interval 2s
it_start a
join b 127.0.0.3 a || it_fail "join b: $(cat "$IT_TMP/b.join")"
it_start b
join c 127.0.0.4 a || it_fail "join c: $(cat "$IT_TMP/c.join")"
it_start c
it_net_converge 30 3 a b c || it_fail "no common table of 3 members up"
ok "3 members up"

# ---- D then E join under load ----
load j1
sleep 2
: >"$IT_TMP/movement.log"
watch a d e
T0=$(date +%s)
join d 127.0.0.5 a || it_fail "join d: $(cat "$IT_TMP/d.join")"
it_start d
it_net_converge 60 4 a b c d || nok "d up"
join e 127.0.0.6 a || it_fail "join e: $(cat "$IT_TMP/e.join")"
# e pulls at most move_rate (plus a second's burst): its join cannot be
# over sooner than its bytes allow (magma.conf(5)); a few seconds here.
RATE=131072
it_conf_set e move_rate 128K
T1=$(date +%s)
it_start e
if it_net_converge 60 5 a b c d e; then
	T2=$(date +%s)
	ok "d and e joined: 5 members up on every node ($((T2 - T0)) s)"
	it_net_json e | python3 -c '
import json, sys
rate, secs = int(sys.argv[1]), int(sys.argv[2])
m = json.load(sys.stdin)["move_rate"]
assert m["limit"] == rate, m
assert m["bytes_paced"] > 0, m
# less the burst (passes after e is up pull next to nothing: writes
# are forwarded to it); seconds are whole: allow one
need = (m["bytes_paced"] - rate) / rate
assert secs + 1 >= need, (m, secs, need)
print("%d bytes at %d B/s in %d s (waited %d ms)" % (m["bytes_paced"],
      rate, secs, m["waited_ms"]))' "$RATE" "$((T2 - T1))" \
		>"$IT_TMP/rate.out" 2>&1 &&
		ok "move_rate honoured on e: $(cat "$IT_TMP/rate.out")" ||
		nok "move_rate on e" "$(tail -n 3 "$IT_TMP/rate.out" | tr '\n' '|')"
else
	nok "5 members up"
fi
sleep 2
unwatch
unload j1 "join"
if grep -q "^[de] joining" "$IT_TMP/movement.log"; then
	ok "status --json showed the movement: $(grep '^[de] joining' "$IT_TMP/movement.log" | tail -n 1)"
else
	nok "status --json showed a movement" "$(head -n 3 "$IT_TMP/movement.log" | tr '\n' '|')"
fi
for n in d e; do
	if grep -q "join: ranges pulled; up" "$IT_TMP/$n.err"; then
		ok "$n logged its join done"
	else
		nok "$n logged its join done"
	fi
done
check j1 a b c d e
records_of() {
	it_net_json "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["store"]["records"])' 2>/dev/null
}
for n in d e; do
	r=$(records_of $n)
	[ "${r:-0}" -gt 100 ] && ok "$n holds its share: $r records" ||
		nok "$n holds its share" "${r:-?} records"
done
# copies no longer placed are dropped once their new holders match
i=0
while [ $i -lt 50 ] && ! grep -qh "dropped .* records of ranges" \
	"$IT_TMP/a.err" "$IT_TMP/b.err" "$IT_TMP/c.err"; do
	sleep 0.2
	i=$((i + 1))
done
if grep -qh "dropped .* records of ranges" "$IT_TMP/a.err" "$IT_TMP/b.err" \
	"$IT_TMP/c.err"; then
	ok "old copies dropped: $(grep -h "dropped .* records" "$IT_TMP/a.err" \
		"$IT_TMP/b.err" "$IT_TMP/c.err" | sed 's/.*dropped/dropped/' |
		head -n 3 | tr '\n' ' ')"
else
	nok "old copies dropped"
fi
check j1 a b c d e

# ---- C leaves under load ----
C_ID=$(it_net_id c)
load j2
sleep 2
: >"$IT_TMP/movement.log"
watch c
T0=$(date +%s)
"$MAGMACTL" --data "$IT_TMP/c" leave >"$IT_TMP/c.leave" 2>&1 ||
	nok "magmactl leave" "$(cat "$IT_TMP/c.leave")"
if it_net_converge 60 4 a b d e; then
	ok "c left: 4 members up on every node ($(($(date +%s) - T0)) s)"
else
	nok "4 members up after the leave"
fi
case "$(it_net_table a)" in
*"$C_ID"*) nok "c is gone from the table" "$(it_net_table a)" ;;
*) ok "c is gone from the table" ;;
esac
sleep 1
unwatch
unload j2 "leave"
if grep -q "^c leaving" "$IT_TMP/movement.log"; then
	ok "status --json showed the hand-off: $(grep '^c leaving' "$IT_TMP/movement.log" | tail -n 1)"
else
	nok "status --json showed the hand-off" "$(head -n 3 "$IT_TMP/movement.log" | tr '\n' '|')"
fi
grep -q "leave: .* handed off; removed" "$IT_TMP/c.err" &&
	ok "c logged its hand-off done" || nok "c logged its hand-off done"
check j2 a b d e
check j1 a b d e
# c keeps running as a non-member front end (magmactl(8)), and drops
# its copies once the members hold them.
it_alive c
check j2 c
i=0
while [ $i -lt 50 ] && [ "$(records_of c)" != 0 ]; do
	sleep 0.2
	i=$((i + 1))
done
[ "$(records_of c)" = 0 ] && ok "c dropped every copy after leaving" ||
	nok "c dropped every copy after leaving" "$(records_of c) records"

for n in a b c d e; do it_alive "$n"; done
[ "$FAILS" = 0 ] || it_fail "$FAILS check(s) failed"
echo "PASS: $IT_NAME"
