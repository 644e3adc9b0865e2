#!/bin/sh
# it_kclient_net.sh - the stock Linux NFS client (../shared/kclient/run-guest)
# on node A of a three-node network (r = 2) while node B is killed (-9) and
# restarted.  A serves NFS on 127.0.0.1 (run-guest forwards the guest to the
# host's 127.0.0.1 ports only), its peer port and nodes B and C are on
# 127.0.0.11..13.  op_timeout = 3s on every node, so an op whose owner died
# fails over well within the client's patience.
#   guest  tests/kclient/net.sh: phase 1 (mixed sizes up to 4 MiB, renames,
#          removes, cold-cache md5 checks), then "KC_PHASE1_DONE";
#   host   kill -9 B; B stays down until the guest has finished three more
#          rounds of writes/renames/removes, and at least 8 s (the
#          heartbeats mark it down after 3 s: both the "suspect" and the
#          "down" routing are used); restart B, wait until every node
#          shows it up again (it catches up first), create the marker file
#          DIR.marker/host-restarted through C (libnfs nfs-cp), a directory
#          the guest does not change meanwhile (two front ends creating in
#          one directory at once can get a spurious NFS3ERR_EXIST);
#   guest  two more rounds, then every file re-read against its md5 and the
#          tree compared with the list kept; prints "SUM md5 path";
#   host   every file read back through C and through B (libnfs nfs-cat),
#          the tree listed through them (nfs-ls -R) equals the guest's; the
#          same through C once A is stopped (B's copies alone); A never
#          logged "no owner answered" (an op failed with NFS3ERR_IO); the
#          three nodes stop cleanly (exit 0: no sanitizer report).
# Skips (77) when ../shared/kclient or libnfs-utils is absent.
# Environment: KCLIENT_DIR (run-guest's directory), KCLIENT_TIMEOUT (s),
# IT_KEEP=1 (keep the nodes' directories and logs).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
KDIR=${KCLIENT_DIR:-$top_srcdir/../shared/kclient}
RUN_GUEST=$KDIR/run-guest
GUEST_TIMEOUT=${KCLIENT_TIMEOUT:-240}
[ -x "$RUN_GUEST" ] || it_skip "kernel-client test: ../shared/kclient not found"
for t in nfs-cp nfs-cat nfs-ls; do
	command -v $t >/dev/null 2>&1 ||
		it_skip "kernel-client test: $t (libnfs-utils) missing"
done
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"
"$RUN_GUEST" --fetch >/dev/null 2>&1 ||
	it_skip "run-guest --fetch failed (no cached kernel and no apt access?)"

# One qemu guest at a time: two software-emulated guests on a 2-core
# machine would each run at half speed against their time limits.
KCLIENT_LOCK=$top_builddir/tests/kclient.lock
if command -v flock >/dev/null 2>&1; then
	exec 9>"$KCLIENT_LOCK"
	flock 9
fi

NET=it-kcnet
KEY=$IT_TMP/net.key
it_keyfile "$KEY" kclient net
DIR=kclient-net
T0=$(date +%s)
GPID=

elapsed() { echo $(($(date +%s) - T0)); }

tune() {
	it_conf_set "$1" op_timeout 3s
	it_conf_set "$1" repair_interval 2s
}
join() {
	it_net_join "$1" "$2" a "$KEY" --network "$NET" || return 1
	tune "$1"
}
# url NODE PATH: libnfs URL of DIR/PATH through NODE's front end
url() {
	echo "nfs://$(it_addr "$1")/$DIR/$2?nfsport=$(it_port "$1")&mountport=$(it_port "$1")"
}
# check_files NODE WHAT: every file's md5 and the tree through NODE
check_files() {
	bad=0
	while read -r want path; do
		got=$(nfs-cat "$(url $1 "$path")" 2>"$IT_TMP/nfs-cat.err" |
			md5sum | cut -d' ' -f1)
		if [ "$got" != "$want" ]; then
			bad=$((bad + 1))
			echo "# through $1: $path md5 $got, the guest wrote $want ($(head -1 "$IT_TMP/nfs-cat.err"))"
		fi
	done <"$IT_TMP/sums"
	[ $bad = 0 ] && ok "$2: all $nsum files read back through $1 with the guest's md5s" ||
		nok "$2: files through $1" "$bad of $nsum differ"
	# nfs-ls -R lines end with the path (relative to the URL's directory)
	nfs-ls -R "nfs://$(it_addr $1)/$DIR?nfsport=$(it_port $1)&mountport=$(it_port $1)" \
		>"$IT_TMP/ls" 2>&1
	grep '^-' "$IT_TMP/ls" | awk '{print $NF}' | sed 's|^/||' |
		sort >"$IT_TMP/ls.files"
	if cmp -s "$IT_TMP/ls.files" "$IT_TMP/sums.files"; then
		ok "$2: nfs-ls -R through $1 lists exactly the guest's $nsum files"
	else
		diff "$IT_TMP/sums.files" "$IT_TMP/ls.files" | head -20
		nok "$2: tree through $1" "differs from the guest's (< guest, > $1)"
	fi
}
rounds() { grep -c '^# round [0-9]* done' "$IT_TMP/guest.out"; }
guest_alive() { kill -0 "$GPID" 2>/dev/null; }
stop_guest() {
	if [ -n "$GPID" ] && guest_alive; then
		kill "$GPID" 2>/dev/null
		wait "$GPID" 2>/dev/null
	fi
	GPID=
}
# stop the guest first (by PID), then lib.sh's cleanup with the same status
trap 'kn_rc=$?; stop_guest; (exit $kn_rc); it_cleanup' EXIT

# ---- three nodes, r = 2; A's NFS on 127.0.0.1 for the guest ----
it_net_node a 127.0.0.1 127.0.0.11
it_net_init a "$NET" "$KEY" --redundancy 2
tune a
it_start a
join b 127.0.0.12 || it_fail "join b: $(cat "$IT_TMP/b.join")"
it_start b
join c 127.0.0.13 || it_fail "join c: $(cat "$IT_TMP/c.join")"
it_start c
it_net_converge 40 3 a b c || it_fail "no common 3-member table: $(it_net_table a) / $(it_net_table b) / $(it_net_table c)"
ok "3 members up with one table (A's NFS on 127.0.0.1:$(it_port a)) after $(elapsed) s"

# ---- the guest, in the background; its stdout is read live ----
: >"$IT_TMP/guest.out"
# no_timer_check: see it_kclient.sh (a loaded host, TCG, an IO-APIC panic)
"$RUN_GUEST" --nfs-port "$(it_port a)" --mount-port "$(it_port a)" \
	--append no_timer_check \
	--export / --timeout "$GUEST_TIMEOUT" \
	-- "$top_srcdir/tests/kclient/net.sh" "$DIR" \
	>"$IT_TMP/guest.out" 2>"$IT_TMP/guest.err" &
GPID=$!
i=0
while ! grep -q '^KC_PHASE1_DONE' "$IT_TMP/guest.out"; do
	guest_alive || break
	[ $i -lt $((GUEST_TIMEOUT * 10)) ] || break
	sleep 0.1
	i=$((i + 1))
done
phase1=0
grep -q '^KC_PHASE1_DONE' "$IT_TMP/guest.out" && phase1=1
if [ $phase1 = 1 ]; then
	ok "guest: phase 1 done after $(elapsed) s"
	# ---- kill -9 B while the guest works ----
	r0=$(rounds)
	it_kill9 b
	tk=$(date +%s)
	echo "# B killed (-9) at $(elapsed) s, guest at round $r0"
	i=0
	while :; do
		r=$(rounds)
		dt=$(($(date +%s) - tk))
		[ "$r" -ge $((r0 + 3)) ] && [ $dt -ge 8 ] && break
		guest_alive || break
		[ $dt -lt 90 ] || break
		sleep 0.2
	done
	r1=$(rounds)
	dt=$(($(date +%s) - tk))
	if [ "$r1" -ge $((r0 + 3)) ]; then
		ok "guest: $((r1 - r0)) rounds ended in the $dt s B was down"
	else
		nok "guest kept working with B down" "$((r1 - r0)) rounds in $dt s"
	fi
	echo "# A's view with B down: $(it_net_table a)"
	# ---- restart B: back when every node shows it up again ----
	echo "=== restart at $(elapsed) s ===" >>"$IT_TMP/b.err"
	it_start b
	if it_net_converge 60 3 a b c; then
		ok "B restarted and up again in every table at $(elapsed) s ($(sed -n '/=== restart/,$p' "$IT_TMP/b.err" | grep 'repair pass:' | tail -1 | sed 's/.*repair pass: //'))"
	else
		nok "B up again after its restart" "$(it_net_table a) / $(it_net_table b) / $(it_net_table c)"
	fi
	echo restarted >"$IT_TMP/marker"
	i=0
	until nfs-cp "$IT_TMP/marker" \
		"nfs://$(it_addr c)/$DIR.marker/host-restarted?nfsport=$(it_port c)&mountport=$(it_port c)" \
		>>"$IT_TMP/nfs-cp.err" 2>&1; do
		i=$((i + 1))
		[ $i -lt 20 ] || break
		sleep 1
	done
	[ $i -lt 20 ] && ok "marker written through C" ||
		nok "marker through C (the guest will time out)" "$(cat "$IT_TMP/nfs-cp.err")"
fi
rc=0
wait "$GPID" || rc=$?
GPID=
sed 's/^/    /' "$IT_TMP/guest.out" | grep -v '^    SUM '
sed 's/^/    guest stderr: /' "$IT_TMP/guest.err"
[ $phase1 = 1 ] || it_fail "the guest never finished phase 1 (exit $rc)"
case $rc in
0) ok "guest: exit 0 after $(elapsed) s" ;;
124) nok "guest" "timed out after $GUEST_TIMEOUT s (a stalled hard mount?)" ;;
2) nok "guest" "run-guest failed (exit 2: boot, mount or umount; see run-guest: ERROR above)" ;;
*) nok "guest" "script exited $rc" ;;
esac
grep -q '^ALL OK' "$IT_TMP/guest.out" || nok "guest workload finished (ALL OK)"

# ---- the host's own check through C and B ----
for n in a b c; do it_alive $n; done
sed -n 's/^SUM //p' "$IT_TMP/guest.out" >"$IT_TMP/sums"
nsum=$(wc -l <"$IT_TMP/sums")
[ "$nsum" -gt 20 ] || nok "the guest reported its files" "$nsum SUM lines"
cut -d' ' -f2 "$IT_TMP/sums" | sort >"$IT_TMP/sums.files"
check_files c "all up"
check_files b "all up"
# kv_net's "resource unavailable: ... no owner answered" is an op failed
# (NFS3ERR_IO), whether or not the guest noticed (e.g. during writeback)
if grep -q "no owner answered" "$IT_TMP/a.err"; then
	grep "no owner answered" "$IT_TMP/a.err" | head -5
	nok "A never failed an op for lack of an owner" \
		"$(grep -c "no owner answered" "$IT_TMP/a.err") lines in A's log"
else
	ok "A never failed an op for lack of an owner (no \"no owner answered\")"
fi
# A stopped: a key A shared with B is now served by B's copy alone, so
# this checks what B got by replication and by its catch-up
it_stop a && ok "a stops cleanly" || nok "a stops cleanly" "exit $?"
check_files c "A stopped"
for n in c b; do
	it_stop $n && ok "$n stops cleanly" || nok "$n stops cleanly" "exit $?"
done

echo "# $(elapsed) s in all"
[ $FAILS = 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
