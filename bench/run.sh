#!/bin/bash
# run.sh - one Magma node against nfs-ganesha on the same machine and disk.
#
# Builds a fresh Magma node (magmactl init in a scratch data dir, NFS on
# 127.0.0.1 and a free port), runs bench/nfsbench against it, stops it;
# then runs nfs-ganesha (VFS FSAL) over a directory next to it, inside a
# private network + mount namespace with its own rpcbind (ganesha insists
# on registering), runs the same workload there, and prints each figure
# for both servers and the ratio magma/ganesha.  The magma3 half is a
# 3-node network (r = 2) on 127.0.0.2..4: init on the first, join on the
# others, the workload through the first node's NFS front end; its
# ratio magma3/ganesha is printed too, and one file written and read
# through each node (seq_write_primary, _backup, _nocopy and the same for
# seq_read: what that node holds of the file decides how its data
# travels), with their harmonic means (_mean3: what many files through
# one node come to, each placement as likely).  Loopback only;
# every process started here is stopped by PID on exit.
#
# Environment (defaults in brackets):
#   BENCH_FILE_MB   size of the sequential file in MiB          [512]
#   BENCH_FILES     number of 4 KiB files                       [5000]
#   BENCH_TREE      fan-out of the 3-level mkdir tree           [10]
#   BENCH_SERVERS   which halves to run                  [magma magma3 ganesha]
#   BENCH_DIR       parent of the scratch directory              [/var/tmp]
#   BENCH_KEEP      1: keep the scratch directory (logs, data)  [0]
#   MAGMA_EXPORT    export path mounted on Magma                 [/]
#   MAGMAD_ARGS, MAGMACTL_INIT_ARGS  extra arguments
#   top_builddir, NFSBENCH, MAGMAD, MAGMACTL  where the programs are
# Needs root for the ganesha half (unshare), and nfs-ganesha,
# nfs-ganesha-vfs, rpcbind.  Exit status 0 when every half ran cleanly.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
B=${top_builddir:-$PWD}
NFSBENCH=${NFSBENCH:-$B/bench/nfsbench}
MAGMAD=${MAGMAD:-$B/magmad}
MAGMACTL=${MAGMACTL:-$B/magmactl}
FILE_MB=${BENCH_FILE_MB:-512}
FILES=${BENCH_FILES:-5000}
TREE=${BENCH_TREE:-10}
SERVERS=${BENCH_SERVERS:-magma magma3 ganesha}
KEEP=${BENCH_KEEP:-0}
MAGMA_EXPORT=${MAGMA_EXPORT:-/}
FIGURES="seq_write seq_read create_4k stat readdirplus remove mkdir_tree rmdir_tree"
# magma3 only: one file written and read through the front end that is
# its primary, the one that is its backup, and the one holding no copy
# (compared with ganesha's seq_write and seq_read), and their means
M3_ROLES="primary backup nocopy"

[ -x "$NFSBENCH" ] || { echo "run.sh: $NFSBENCH not built (make bench)" >&2; exit 2; }
S=$(mktemp -d "${BENCH_DIR:-/var/tmp}/magma-bench.XXXXXX")
PIDS=()
failed=0

# Stop one process we started: TERM, up to 15 s, then KILL.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	if [ "$failed" = 0 ] && [ "$KEEP" = 0 ]; then
		rm -rf "$S"
	else
		# Logs and Magma's store help; ganesha's copy of the data does not.
		[ "$KEEP" = 1 ] || rm -rf "$S/ganesha/export"
		echo "run.sh: scratch directory (logs) kept in $S" >&2
	fi
}
trap cleanup EXIT
trap 'failed=1; exit 130' INT TERM

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# A TCP port on 127.0.0.1 (or HOST) that nothing listens on.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		listening "${1:-127.0.0.1}" "$p" || { echo "$p"; return; }
	done
}

# wait_port HOST PORT PID: until HOST:PORT accepts, PID alive, 30 s.
wait_port() {
	local _
	for _ in $(seq 300); do
		listening "$1" "$2" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

bench_args() {
	echo --file-mb "$FILE_MB" --files "$FILES" --tree "$TREE"
}

run_magma() {
	local M=$S/magma nport pport pid help extra=()
	mkdir -p "$M"
	[ -x "$MAGMAD" ] && [ -x "$MAGMACTL" ] ||
		{ echo "run.sh: magmad/magmactl not built" >&2; return 1; }
	(umask 077; printf 'bench %s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >"$M/keyphrase")
	nport=$(free_port)
	pport=$(free_port)
	# A free peer port, and no registration with a host rpcbind.
	help=$("$MAGMACTL" init --help 2>&1 || true)
	case $help in *--peer-listen*) extra+=(--peer-listen "127.0.0.1:$pport") ;; esac
	case $help in *--no-rpcbind*) extra+=(--no-rpcbind) ;; esac
	# shellcheck disable=SC2086
	if ! "$MAGMACTL" init --data "$M/data" --network bench \
		--keyphrase-file "$M/keyphrase" --nfs-listen "127.0.0.1:$nport" \
		"${extra[@]}" ${MAGMACTL_INIT_ARGS:-} >"$M/init.log" 2>&1; then
		echo "run.sh: magmactl init failed:" >&2
		cat "$M/init.log" >&2
		return 1
	fi
	# shellcheck disable=SC2086
	"$MAGMAD" --data "$M/data" ${MAGMAD_ARGS:-} >"$M/magmad.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_port 127.0.0.1 "$nport" "$pid"; then
		echo "run.sh: magmad did not listen on 127.0.0.1:$nport; log:" >&2
		tail -20 "$M/magmad.log" >&2
		return 1
	fi
	echo "== magma (127.0.0.1:$nport, data $M/data)"
	# shellcheck disable=SC2046
	"$NFSBENCH" --server 127.0.0.1 --nfs-port "$nport" --mount-port "$nport" \
		--export "$MAGMA_EXPORT" $(bench_args) | tee "$S/magma.out"
	local rc=${PIPESTATUS[0]}
	stop_pid "$pid"
	[ "$rc" = 0 ] || { echo "run.sh: nfsbench against magma failed; magmad log: $M/magmad.log" >&2; return 1; }
}

# magma3: node n (1..3) on 127.0.0.$((n + 1)), data in $S/magma3/n$n.
m3_start() {
	local M=$S/magma3 n=$1 pid
	# shellcheck disable=SC2086
	"$MAGMAD" --data "$M/n$n" ${MAGMAD_ARGS:-} >"$M/n$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	M3_PIDS+=("$pid")
	if ! wait_port "127.0.0.$((n + 1))" "${M3_NPORT[$n]}" "$pid"; then
		echo "run.sh: magma3 node $n did not listen; log:" >&2
		tail -20 "$M/n$n.log" >&2
		return 1
	fi
}

# Every node sees 3 members up and serves as primary (caught up), 120 s.
m3_converged() {
	local n st _
	for _ in $(seq 1200); do
		for n in 1 2 3; do
			st=$("$MAGMACTL" --data "$S/magma3/n$n" status 2>/dev/null) || break
			[ "$(echo "$st" | grep -c '  up  ')" = 3 ] || break
			echo "$st" | grep -q 'serving as primary' || break
			[ $n = 3 ] && return 0
		done
		sleep 0.1
	done
	return 1
}

run_magma3() {
	local M=$S/magma3 n a pport pid rc peer1=
	M3_PIDS=()
	M3_NPORT=()
	mkdir -p "$M"
	[ -x "$MAGMAD" ] && [ -x "$MAGMACTL" ] ||
		{ echo "run.sh: magmad/magmactl not built" >&2; return 1; }
	(umask 077; printf 'bench3 %s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >"$M/keyphrase")
	for n in 1 2 3; do
		a=127.0.0.$((n + 1))
		M3_NPORT[n]=$(free_port "$a")
		pport=$(free_port "$a")
		[ -n "$peer1" ] || peer1=$a:$pport
		if [ $n = 1 ]; then
			# shellcheck disable=SC2086
			"$MAGMACTL" init --data "$M/n1" --network bench3 \
				--keyphrase-file "$M/keyphrase" --redundancy 2 \
				--nfs-listen "$a:${M3_NPORT[1]}" --peer-listen "$a:$pport" \
				--no-rpcbind ${MAGMACTL_INIT_ARGS:-} >"$M/n1.init" 2>&1 ||
				{ echo "run.sh: magmactl init failed:" >&2; cat "$M/n1.init" >&2; return 1; }
		else
			"$MAGMACTL" join --data "$M/n$n" --network bench3 \
				--keyphrase-file "$M/keyphrase" --peer "$peer1" \
				--nfs-listen "$a:${M3_NPORT[$n]}" --peer-listen "$a:$pport" \
				--no-rpcbind >"$M/n$n.init" 2>&1 ||
				{ echo "run.sh: magmactl join failed:" >&2; cat "$M/n$n.init" >&2; return 1; }
		fi
		m3_start $n || return 1
	done
	if ! m3_converged; then
		echo "run.sh: magma3 nodes did not converge; status of node 1:" >&2
		"$MAGMACTL" --data "$M/n1" status >&2 || true
		return 1
	fi
	echo "== magma3 (3 nodes r=2 on 127.0.0.2-4, client on 127.0.0.2:${M3_NPORT[1]})"
	# shellcheck disable=SC2046
	"$NFSBENCH" --server 127.0.0.2 --nfs-port "${M3_NPORT[1]}" --mount-port "${M3_NPORT[1]}" \
		--export "$MAGMA_EXPORT" $(bench_args) | tee "$S/magma3.out"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] && { m3_roles || rc=1; }
	for pid in "${M3_PIDS[@]}"; do stop_pid "$pid"; done
	[ "$rc" = 0 ] || { echo "run.sh: nfsbench against magma3 failed; logs in $M" >&2; return 1; }
}

# The seq_write and seq_read above went through node 1, whatever the
# file's placement made it.  Here one file is written, then written
# again and read through each node, labelled by what that node holds of
# it (magmactl locate): primary, backup, or no copy.
m3_roles() {
	local M=$S/magma3 f=/magma3-roles.dat n a loc role port
	port=${M3_NPORT[1]}
	"$NFSBENCH" --server 127.0.0.2 --nfs-port "$port" --mount-port "$port" \
		--export "$MAGMA_EXPORT" --file-mb "$FILE_MB" --seq-write "$f" >/dev/null || return 1
	loc=$("$MAGMACTL" --data "$M/n1" locate "${MAGMA_EXPORT%/}$f" | tail -2) || return 1
	for n in 1 2 3; do
		a=127.0.0.$((n + 1))
		port=${M3_NPORT[$n]}
		role=nocopy
		echo "$loc" | grep -q "primary .* $a:" && role=primary
		echo "$loc" | grep -q "backup .* $a:" && role=backup
		for op in write read; do
			"$NFSBENCH" --server "$a" --nfs-port "$port" --mount-port "$port" \
				--export "$MAGMA_EXPORT" --file-mb "$FILE_MB" --seq-$op "$f" \
				--name "seq_${op}_$role" | tee -a "$S/magma3.out"
			[ "${PIPESTATUS[0]}" = 0 ] || return 1
		done
	done
}

# Runs inside the private namespace: lo, rpcbind, ganesha, the workload.
GANESHA_INNER=$(cat <<'INNER'
set -u
RPCBIND= GANESHA= BENCH=
stop() {
	local p
	for p in $BENCH $GANESHA $RPCBIND; do
		kill -TERM "$p" 2>/dev/null || continue
		for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
trap stop EXIT
trap 'exit 143' INT TERM
ip link set lo up
mount -t tmpfs tmpfs /run      # private /run: rpcbind's socket and lock
rpcbind -f >"$G/rpcbind.log" 2>&1 & RPCBIND=$!
for i in $(seq 50); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
ganesha.nfsd -F -f "$G/ganesha.conf" -L "$G/ganesha.log" -p "$G/run/ganesha.pid" \
	>"$G/ganesha.stdout" 2>&1 & GANESHA=$!
ok=0
for i in $(seq 300); do
	if (exec 3<>/dev/tcp/127.0.0.1/2049) 2>/dev/null &&
	   (exec 3<>/dev/tcp/127.0.0.1/20048) 2>/dev/null; then ok=1; break; fi
	kill -0 $GANESHA 2>/dev/null || break
	sleep 0.1
done
[ $ok = 1 ] || { echo "run.sh: ganesha did not start, see $G/ganesha.log" >&2; exit 2; }
# In the background, so that a TERM from run.sh is handled at once.
"$NFSBENCH" --server 127.0.0.1 --nfs-port 2049 --mount-port 20048 \
	--export "$G/export" --file-mb "$FILE_MB" --files "$FILES" --tree "$TREE" &
BENCH=$!
wait $BENCH
INNER
)

run_ganesha() {
	local c pid rc=0
	for c in ganesha.nfsd rpcbind unshare ip; do
		command -v $c >/dev/null || { echo "run.sh: $c missing (apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind)" >&2; return 1; }
	done
	G=$S/ganesha
	mkdir -p "$G/export" "$G/recov" "$G/run"
	sed -e "s|@DIR@|$G|g" "$HERE/ganesha.conf" >"$G/ganesha.conf"
	export G NFSBENCH FILE_MB FILES TREE
	echo "== nfs-ganesha (VFS over $G/export, private namespace)"
	unshare --net --mount --propagation private bash -c "$GANESHA_INNER" \
		>"$S/ganesha.out" &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	cat "$S/ganesha.out"
	[ "$rc" = 0 ] || { echo "run.sh: ganesha half failed (status $rc); logs in $G" >&2; return 1; }
}

value() { [ -f "$1" ] && awk -v k="$2" '$1 == k { print $2 }' "$1" || true; }
unit() { cat "$S"/*.out 2>/dev/null | awk -v k="$1" '$1 == k { print $3; exit }'; }

echo "nfsbench: ${FILE_MB} MiB file, ${FILES} x 4 KiB files, ${TREE}^3 directory tree"
for s in $SERVERS; do
	# Each half starts with no dirty pages left by the one before, so
	# that its write-back does not slow the next server's writes.
	sync
	case $s in
	magma) run_magma || failed=1 ;;
	magma3) run_magma3 || failed=1 ;;
	ganesha) run_ganesha || failed=1 ;;
	*) echo "run.sh: unknown server $s" >&2; failed=1 ;;
	esac
done

ratio() { awk -v m="$1" -v g="$2" 'BEGIN { if (m != "" && g != "" && g > 0) printf "%.2f", m / g; else print "-" }'; }
echo
printf '%-14s %-10s %10s %10s %10s %8s %8s\n' figure unit magma magma3 ganesha magma/g magma3/g
for f in $FIGURES; do
	m=$(value "$S/magma.out" "$f")
	m3=$(value "$S/magma3.out" "$f")
	g=$(value "$S/ganesha.out" "$f")
	printf '%-14s %-10s %10s %10s %10s %8s %8s\n' "$f" "$(unit "$f")" "${m:--}" \
		"${m3:--}" "${g:--}" "$(ratio "$m" "$g")" "$(ratio "$m3" "$g")"
done
# mean3 FIGURE: the harmonic mean of FIGURE_primary, _backup and
# _nocopy, the rate of moving one file of each (the same bytes each),
# one after the other: what many files through one node come to when
# each placement is as likely.  (Their plain mean would count the fast
# placements for more than their share of the time.)
mean3() {
	awk -v f="$1" '($1 == f "_primary" || $1 == f "_backup" ||
		$1 == f "_nocopy") && $2 > 0 { s += 1 / $2; n++ }
		END { if (n == 3) printf "%.1f", 3 / s }' "$S/magma3.out" 2>/dev/null || true
}
for op in seq_write seq_read; do
	g=$(value "$S/ganesha.out" $op)
	for r in $M3_ROLES mean3; do
		if [ $r = mean3 ]; then m3=$(mean3 $op); else m3=$(value "$S/magma3.out" "${op}_$r"); fi
		[ -n "$m3" ] || continue
		printf '%-17s %-7s %10s %10s %10s %8s %8s\n' "${op}_$r" MB/s - "$m3" "${g:--}" - "$(ratio "$m3" "$g")"
	done
done
exit $failed
