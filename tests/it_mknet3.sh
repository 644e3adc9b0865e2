#!/bin/sh
# it_mknet3.sh - the example script contrib/mknet3.sh: it builds a 3-node
# network on 127.0.0.2..4 (on random ports here), every member is up in
# every node's status, locate answers through a joined node, and stop
# ends every magmad it started.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

BASE=$IT_TMP/net
mknet3() {
	NFS_PORT=$NP PEER_PORT=$PP MAGMACTL=$MAGMACTL MAGMAD=$MAGMAD \
		sh "$top_srcdir/contrib/mknet3.sh" "$@"
}

try=0
while :; do
	NP=$(it_random_port)
	PP=$(it_random_port)
	rm -rf "$BASE"
	mknet3 start "$BASE" >"$IT_TMP/start.out" 2>&1 && break
	# Whatever started is stopped by PID before another try.
	mknet3 stop "$BASE" >/dev/null 2>&1
	try=$((try + 1))
	if [ $try -ge 3 ] || ! grep -q "in use" "$IT_TMP/start.out" "$BASE"/*.log 2>/dev/null; then
		cat "$IT_TMP/start.out"
		it_fail "contrib/mknet3.sh start failed"
	fi
done
# Let lib.sh stop them by PID should the test fail from here on.
for n in 1 2 3; do
	cp "$BASE/n$n.mpid" "$IT_TMP/n$n.pid"
	IT_NODES="$IT_NODES n$n"
done
cat "$IT_TMP/start.out"
grep -q "mount node 1 with: mount -t nfs" "$IT_TMP/start.out" ||
	it_fail "mknet3.sh printed no mount line"

# Node 1 has them all up; the others converge on its table (pushed, or
# fetched on the next message): give them up to 10 s.
all_up() {
	"$MAGMACTL" --data "$BASE/n$1" status --json >"$IT_TMP/s$1.json" ||
		return 1
	python3 - "$IT_TMP/s$1.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m = s["members"]
states = sorted(x["state"] for x in m)
print("# node %s: epoch %d, members %s" % (s["node_id"], s["epoch"], states))
sys.exit(0 if len(m) == 3 and states == ["up"] * 3 else 1)
PY
}
for n in 1 2 3; do
	i=0
	until all_up "$n" >"$IT_TMP/up$n.out"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$IT_TMP/up$n.out"; it_fail "node $n does not see 3 members up"; }
		sleep 0.1
	done
	cat "$IT_TMP/up$n.out"
done
echo "ok - every node sees three members up"

"$MAGMACTL" --data "$BASE/n2" locate / >"$IT_TMP/locate.out" 2>&1 ||
	{ cat "$IT_TMP/locate.out"; it_fail "locate / through node 2 failed"; }
grep -q "primary" "$IT_TMP/locate.out" && grep -q "backup" "$IT_TMP/locate.out" ||
	{ cat "$IT_TMP/locate.out"; it_fail "locate names no primary and backup"; }
echo "ok - locate / through a joined node names a primary and a backup"

mknet3 stop "$BASE" || it_fail "contrib/mknet3.sh stop failed"
for n in 1 2 3; do
	p=$(cat "$IT_TMP/n$n.pid")
	if kill -0 "$p" 2>/dev/null; then
		it_fail "magmad of node $n (pid $p) still runs after stop"
	fi
done
echo "ok - stop ended the three magmad processes"
it_log "contrib/mknet3.sh works"
exit 0
