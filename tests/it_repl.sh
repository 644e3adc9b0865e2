#!/bin/sh
# it_repl.sh - replication between three real magmad nodes (127.0.0.2,
# .3, .4; r = 2): files written through A read back through B and C;
# after kill -9 of C everything is readable and writable through A and
# B; C restarted catches up (it serves as primary only after its first
# repair pass, and every node's next pass then finds all digests equal)
# and serves the writes it missed; with B and C down, every op through A
# either works or fails with EIO within the op bound, never hangs.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
REPLIT=$top_builddir/tests/replit
[ -x "$REPLIT" ] || it_skip "tests/replit not built (libnfs-dev missing)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-repl
KEY=$IT_TMP/net.key
it_keyfile "$KEY" repl
N=24
SIZE=70000 # two chunks and a bit

tune() {
	it_conf_set "$1" repair_interval 2s
}
join() {
	it_net_join "$1" "$2" "$3" "$KEY" || return 1
	tune "$1"
}
replit() { timeout 300 "$REPLIT" "$@"; }
on() { replit "$1" "$(it_addr "$2")" "$(it_port "$2")" "$3" "$N" "$4" "$5"; }

# ---- three nodes, r = 2 ----
it_net_node a 127.0.0.2
it_net_init a "$NET" "$KEY" --redundancy 2
tune a
it_start a
join b 127.0.0.3 a || it_fail "join b: $(cat "$IT_TMP/b.join")"
it_start b
join c 127.0.0.4 a || it_fail "join c: $(cat "$IT_TMP/c.join")"
it_start c
it_net_converge 20 3 a b c || it_fail "no common 3-member table: $(it_net_table a) / $(it_net_table b) / $(it_net_table c)"
ok "3 members up with one table"

# ---- write through A, read through B and C ----
on put a /d1 $SIZE 1 >"$IT_TMP/put1" 2>&1 &&
	ok "$N files written through A" || nok "write through A" "$(cat "$IT_TMP/put1")"
for n in b c a; do
	on check $n /d1 $SIZE 1 >"$IT_TMP/chk" 2>&1 &&
		ok "same namespace and contents through $n" ||
		nok "contents through $n" "$(head -5 "$IT_TMP/chk")"
done
recs=$(for n in a b c; do it_net_status $n | sed -n 's/^records: *//p'; done | tr '\n' ' ')
ok "records per node: $recs"

# ---- kill -9 C: everything through A and B ----
it_kill9 c
for n in a b; do
	on check $n /d1 $SIZE 1 >"$IT_TMP/chk" 2>&1 &&
		ok "C down: all of /d1 readable through $n" ||
		nok "C down: /d1 through $n" "$(head -5 "$IT_TMP/chk")"
done
on put b /d2 $SIZE 2 >"$IT_TMP/put2" 2>&1 &&
	ok "C down: new files written through B" ||
	nok "C down: write through B" "$(head -5 "$IT_TMP/put2")"
on put a /d1 $SIZE 3 >"$IT_TMP/put3" 2>&1 &&
	ok "C down: /d1 rewritten through A" ||
	nok "C down: rewrite through A" "$(head -5 "$IT_TMP/put3")"
on check a /d2 $SIZE 2 >"$IT_TMP/chk" 2>&1 && on check b /d1 $SIZE 3 \
	>>"$IT_TMP/chk" 2>&1 && ok "C down: the new writes read back" ||
	nok "C down: new writes" "$(head -5 "$IT_TMP/chk")"

# ---- restart C: it catches up before serving as primary ----
it_start c
i=0
while ! grep -q "caught up: serving as primary" "$IT_TMP/c.err" &&
      [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
line=$(grep -n "catching up with the other owners" "$IT_TMP/c.err" | tail -1)
if grep -q "caught up: serving as primary" "$IT_TMP/c.err" && [ -n "$line" ]; then
	ok "C caught up before serving as primary ($(grep 'repair pass:' "$IT_TMP/c.err" | tail -1 | sed 's/.*repair pass: //'))"
else
	nok "C caught up" "$(grep -i 'repair\|catch' "$IT_TMP/c.err" | tail -3)"
fi
it_net_converge 20 3 a b c || nok "C back up in every table" "$(it_net_table a) / $(it_net_table c)"
if it_net_in_sync 80 a b c; then
	ok "every node's next pass: all range digests equal"
else
	nok "range digests equal after the catch-up"
fi
it_kill9 a
on check c /d1 $SIZE 3 >"$IT_TMP/chk" 2>&1 && on check c /d2 $SIZE 2 \
	>>"$IT_TMP/chk" 2>&1 && on check b /d2 $SIZE 2 >>"$IT_TMP/chk" 2>&1 &&
	ok "A down: C and B serve the writes C missed" ||
	nok "A down: writes C missed" "$(head -5 "$IT_TMP/chk")"
it_start a
it_net_converge 20 3 a b c || nok "A back up" "$(it_net_table a)"

# ---- every owner of some keys down: EIO in bounded time ----
# Mounted through A first (the root's keys may be B's and C's), then B
# and C die: each op through A works or fails with EIO within the bound.
replit eio "$(it_addr a)" "$(it_port a)" /d2 $N 12000 "$IT_TMP/go" \
	>"$IT_TMP/eio" 2>&1 &
ep=$!
i=0
while ! grep -q mounted "$IT_TMP/eio" && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
it_kill9 b
it_kill9 c
t0=$(date +%s)
touch "$IT_TMP/go"
wait $ep
rc=$?
t1=$(date +%s)
if [ $rc = 0 ] && grep -q "^eio [1-9]" "$IT_TMP/eio"; then
	ok "B and C down: $(grep '^eio' "$IT_TMP/eio") (EIO within the bound, $((t1 - t0)) s in all)"
else
	nok "B and C down: EIO in bounded time" "rc $rc: $(head -5 "$IT_TMP/eio")"
fi
grep -q "resource unavailable" "$IT_TMP/a.err" &&
	ok "logged as resource unavailable" || nok "resource unavailable logged"
it_alive a
it_stop a || nok "A stops cleanly"

[ $FAILS = 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
