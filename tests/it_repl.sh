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
printf 'repl keyphrase %s\n' "$$" >"$KEY"
chmod 600 "$KEY"
FAILS=0
N=24
SIZE=70000 # two chunks and a bit

ok() { echo "ok - $1"; }
nok() {
	echo "not ok - $1${2:+: $2}"
	FAILS=$((FAILS + 1))
}

node_files() {
	echo "$2" >"$IT_TMP/$1.addr"
	it_random_port >"$IT_TMP/$1.port"
	echo "$2:$(it_random_port)" >"$IT_TMP/$1.peer"
	IT_NODES="$IT_NODES $1"
}
peer_of() { cat "$IT_TMP/$1.peer"; }
tune() {
	it_conf_set "$1" repair_interval 2s
}
join() {
	node_files "$1" "$2"
	"$MAGMACTL" join --data "$IT_TMP/$1" --keyphrase-file "$KEY" \
		--peer "$(peer_of "$3")" \
		--nfs-listen "$2:$(it_port "$1")" --peer-listen "$(peer_of "$1")" \
		--no-rpcbind >"$IT_TMP/$1.join" 2>&1 || return 1
	tune "$1"
}
status_of() { "$MAGMACTL" --data "$IT_TMP/$1" status 2>/dev/null; }
table_of() {
	"$MAGMACTL" --data "$IT_TMP/$1" status --json 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["epoch"], " ".join(sorted("%s:%s" % (m["id"], m["state"])
      for m in j["members"])))' 2>/dev/null
}
converge() {
	cv_i=0
	while [ $cv_i -lt $(($1 * 10)) ]; do
		cv_a=$(table_of a)
		if [ -n "$cv_a" ] && [ "$(table_of b)" = "$cv_a" ] &&
		   [ "$(table_of c)" = "$cv_a" ] &&
		   [ "$(echo "$cv_a" | grep -o ':up' | wc -l)" = 3 ]; then
			return 0
		fi
		sleep 0.1
		cv_i=$((cv_i + 1))
	done
	return 1
}
replit() { timeout 300 "$REPLIT" "$@"; }
on() { replit "$1" "$(it_addr "$2")" "$(it_port "$2")" "$3" "$N" "$4" "$5"; }

# passes NODE: the repair passes done so far.
passes() { status_of "$1" | sed -n 's/^repair: .*; \([0-9]*\) passes;.*/\1/p'; }
# in_sync SECONDS NODE...: a pass that started after now on each node
# found every range equal with every other owner (and none failed).
in_sync() {
	is_t=$1
	shift
	for is_n in "$@"; do
		eval "is_p_$is_n=\$(passes $is_n)"
	done
	is_i=0
	while [ $is_i -lt $((is_t * 10)) ]; do
		is_all=1
		for is_n in "$@"; do
			eval "is_p0=\$is_p_$is_n"
			is_s=$(status_of "$is_n")
			is_p=$(echo "$is_s" | sed -n 's/^repair: .*; \([0-9]*\) passes;.*/\1/p')
			is_l=$(echo "$is_s" | sed -n 's/^repair: .*last: //p')
			if [ "${is_p:-0}" -le $((${is_p0:-0} + 1)) ] ||
			   ! echo "$is_l" | grep -q "differing 0 .*failed 0"; then
				is_all=0
			fi
		done
		[ $is_all = 1 ] && return 0
		sleep 0.2
		is_i=$((is_i + 1))
	done
	for is_n in "$@"; do
		echo "# $is_n: $(status_of "$is_n" | grep '^repair')"
	done
	return 1
}

# ---- three nodes, r = 2 ----
node_files a 127.0.0.2
"$MAGMACTL" init --data "$IT_TMP/a" --network "$NET" --keyphrase-file "$KEY" \
	--nfs-listen "127.0.0.2:$(it_port a)" --peer-listen "$(peer_of a)" \
	--redundancy 2 --no-rpcbind >"$IT_TMP/a.init" 2>&1 ||
	it_fail "init a: $(cat "$IT_TMP/a.init")"
tune a
it_start a
join b 127.0.0.3 a || it_fail "join b: $(cat "$IT_TMP/b.join")"
it_start b
join c 127.0.0.4 a || it_fail "join c: $(cat "$IT_TMP/c.join")"
it_start c
converge 20 || it_fail "no common 3-member table: $(table_of a) / $(table_of b) / $(table_of c)"
ok "3 members up with one table"

# ---- write through A, read through B and C ----
on put a /d1 $SIZE 1 >"$IT_TMP/put1" 2>&1 &&
	ok "$N files written through A" || nok "write through A" "$(cat "$IT_TMP/put1")"
for n in b c a; do
	on check $n /d1 $SIZE 1 >"$IT_TMP/chk" 2>&1 &&
		ok "same namespace and contents through $n" ||
		nok "contents through $n" "$(head -5 "$IT_TMP/chk")"
done
recs=$(for n in a b c; do status_of $n | sed -n 's/^records: *//p'; done | tr '\n' ' ')
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
converge 20 || nok "C back up in every table" "$(table_of a) / $(table_of c)"
if in_sync 40 a b c; then
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
converge 20 || nok "A back up" "$(table_of a)"

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
