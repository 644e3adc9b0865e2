# lib.sh - helpers for the integration tests (tests/it_*.sh), POSIX sh.
#
# A test sources this file, then:
#   it_need_nfsit            skip (77) when tests/nfsit was not built
#   it_node NAME ADDR [magmactl init options...]
#                            init a node in $IT_TMP/NAME listening on
#                            ADDR:<free port> (NFS) and ADDR:0 (peers),
#                            rpcbind = no
#   it_start NAME            start magmad, wait until it serves
#   it_stop NAME             SIGTERM, wait; returns magmad's exit code
#   it_kill9 NAME            SIGKILL, wait
#   it_nfsit ARGS...         run tests/nfsit with a time limit
# Every magmad started here is stopped by PID when the script exits, even
# on failure; the temporary directory is removed unless IT_KEEP=1.
# Tests use distinct loopback addresses; ports are random free ones.

set -u

if [ -z "${top_builddir:-}" ]; then
	top_builddir=$(cd "$(dirname "$0")/.." && pwd)
fi
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
MAGMAD=$top_builddir/magmad
MAGMACTL=$top_builddir/magmactl
NFSIT=$top_builddir/tests/nfsit
IT_NAME=$(basename "$0" .sh)

it_log() { echo "# $IT_NAME: $*"; }
it_skip() { echo "SKIP: $IT_NAME: $*"; exit 77; }
it_fail() { echo "FAIL: $IT_NAME: $*"; exit 1; }

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/magma-$IT_NAME.XXXXXX") ||
	it_fail "mktemp failed"
IT_NODES=""

it_cleanup() {
	it_rc=$?
	trap - EXIT
	for it_n in $IT_NODES; do
		if [ -f "$IT_TMP/$it_n.pid" ]; then
			it_p=$(cat "$IT_TMP/$it_n.pid")
			if kill -0 "$it_p" 2>/dev/null; then
				kill -TERM "$it_p" 2>/dev/null
				it_i=0
				while kill -0 "$it_p" 2>/dev/null &&
				      [ $it_i -lt 50 ]; do
					sleep 0.1
					it_i=$((it_i + 1))
				done
				kill -KILL "$it_p" 2>/dev/null
			fi
		fi
	done
	if [ $it_rc -ne 0 ] && [ $it_rc -ne 77 ]; then
		for it_n in $IT_NODES; do
			for it_f in "$IT_TMP/$it_n.err" "$IT_TMP/$it_n.out"; do
				[ -s "$it_f" ] || continue
				echo "---- tail of $it_f"
				tail -n 40 "$it_f"
			done
		done
	fi
	if [ "${IT_KEEP:-0}" = 1 ]; then
		echo "# kept $IT_TMP"
	else
		rm -rf "$IT_TMP"
	fi
	exit $it_rc
}
trap it_cleanup EXIT
trap 'exit 130' INT TERM HUP

it_need_server() {
	[ -x "$MAGMAD" ] || it_fail "$MAGMAD not built"
	[ -x "$MAGMACTL" ] || it_fail "$MAGMACTL not built"
}

it_need_nfsit() {
	it_need_server
	[ -x "$NFSIT" ] || it_skip "tests/nfsit not built (libnfs-dev missing)"
}

# A random port in 20000..60999 (dash has no $RANDOM).
it_random_port() {
	it_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((20000 + it_r % 41000))
}

it_addr() { cat "$IT_TMP/$1.addr"; }
it_port() { cat "$IT_TMP/$1.port"; }
it_pid() { cat "$IT_TMP/$1.pid"; }
it_dir() { echo "$IT_TMP/$1"; }

# Set key = value in a node's magma.conf (replace or append).
it_conf_set() {
	it_c="$IT_TMP/$1/magma.conf"
	if grep -q "^[[:space:]]*$2[[:space:]]*=" "$it_c"; then
		sed -i "s|^[[:space:]]*$2[[:space:]]*=.*|$2 = $3|" "$it_c"
	else
		echo "$2 = $3" >>"$it_c"
	fi
}

# it_node NAME ADDR [extra magmactl init options]
it_node() {
	it_nm=$1
	it_ad=$2
	shift 2
	it_pt=$(it_random_port)
	printf 'it keyphrase %s %s\n' "$it_nm" "$$" >"$IT_TMP/$it_nm.key"
	chmod 600 "$IT_TMP/$it_nm.key"
	echo "$it_ad" >"$IT_TMP/$it_nm.addr"
	echo "$it_pt" >"$IT_TMP/$it_nm.port"
	"$MAGMACTL" init --data "$IT_TMP/$it_nm" --network "it-$it_nm" \
		--keyphrase-file "$IT_TMP/$it_nm.key" \
		--nfs-listen "$it_ad:$it_pt" --no-rpcbind "$@" \
		>"$IT_TMP/$it_nm.init" 2>&1 ||
		{ cat "$IT_TMP/$it_nm.init"; it_fail "magmactl init $it_nm failed"; }
	[ -f "$IT_TMP/$it_nm/magma.conf" ] ||
		it_fail "magmactl init wrote no $IT_TMP/$it_nm/magma.conf"
	it_conf_set "$it_nm" rpcbind no
	# magmad also listens on its TLS peer port: any free one on ADDR,
	# so that nodes of parallel tests never meet on the default port.
	it_conf_set "$it_nm" peer_listen "$it_ad:0"
	IT_NODES="$IT_NODES $it_nm"
}

# Start magmad for NAME in the background and wait until it prints its
# "magmad: serving" line and MOUNT answers.  A port that turns out to be
# taken is replaced by another random one (up to 5 times).
it_start() {
	it_nm=$1
	it_try=0
	while :; do
		"$MAGMAD" --data "$IT_TMP/$it_nm" >"$IT_TMP/$it_nm.out" \
			2>>"$IT_TMP/$it_nm.err" &
		echo $! >"$IT_TMP/$it_nm.pid"
		it_p=$!
		it_i=0
		while [ $it_i -lt 300 ]; do
			if grep -q "magmad: serving" "$IT_TMP/$it_nm.out"; then
				it_ready "$it_nm" && return 0
			fi
			kill -0 "$it_p" 2>/dev/null || break
			sleep 0.1
			it_i=$((it_i + 1))
		done
		if kill -0 "$it_p" 2>/dev/null; then
			it_fail "magmad $it_nm not serving after 30 s"
		fi
		wait "$it_p"
		it_rc=$?
		if grep -q "in use" "$IT_TMP/$it_nm.err" && [ $it_try -lt 5 ]; then
			it_try=$((it_try + 1))
			it_pt=$(it_random_port)
			echo "$it_pt" >"$IT_TMP/$it_nm.port"
			it_conf_set "$it_nm" nfs_listen "$(it_addr "$it_nm"):$it_pt"
			: >"$IT_TMP/$it_nm.err"
			continue
		fi
		cat "$IT_TMP/$it_nm.err"
		it_fail "magmad $it_nm exited with $it_rc at start"
	done
}

# MOUNT answers (when nfsit exists; else the serving line is enough).
it_ready() {
	[ -x "$NFSIT" ] || return 0
	it_j=0
	while [ $it_j -lt 50 ]; do
		"$NFSIT" ping "$(it_addr "$1")" "$(it_port "$1")" \
			>/dev/null 2>&1 && return 0
		sleep 0.1
		it_j=$((it_j + 1))
	done
	return 1
}

# SIGTERM and wait (at most 20 s); echo nothing, return magmad's status.
it_stop() {
	it_p=$(it_pid "$1")
	kill -TERM "$it_p" 2>/dev/null || return 255
	it_i=0
	while kill -0 "$it_p" 2>/dev/null && [ $it_i -lt 200 ]; do
		sleep 0.1
		it_i=$((it_i + 1))
	done
	if kill -0 "$it_p" 2>/dev/null; then
		echo "# magmad $1 ignored SIGTERM for 20 s: SIGKILL"
		kill -KILL "$it_p"
	fi
	wait "$it_p"
}

it_kill9() {
	it_p=$(it_pid "$1")
	kill -KILL "$it_p"
	wait "$it_p" 2>/dev/null
	return 0
}

# Run nfsit with a time limit (seconds in IT_TIMEOUT, default 600); its
# output goes to stdout (the test log).
it_nfsit() {
	if command -v timeout >/dev/null 2>&1; then
		timeout "${IT_TIMEOUT:-600}" "$NFSIT" "$@"
	else
		"$NFSIT" "$@"
	fi
}

# Wait (at most 5 s) until every thread of magmad NAME shows state T.
# kill -STOP returns once the signal is queued; the group stop starts
# only when the thread chosen to take it (main, in sigwait) gets a CPU,
# and until then the other threads go on answering calls.
it_stopped() {
	it_p=$(it_pid "$1")
	it_i=0
	while [ $it_i -lt 500 ]; do
		it_run=0
		for it_t in /proc/"$it_p"/task/*/stat; do
			# field 3 is the state ("magmad" has no space)
			case "$(cut -d' ' -f3 "$it_t" 2>/dev/null)" in
			T | t | "") ;;
			*) it_run=1 ;;
			esac
		done
		[ $it_run -eq 0 ] && return 0
		sleep 0.01
		it_i=$((it_i + 1))
	done
	return 1
}

# Fail unless magmad NAME is still running.
it_alive() {
	kill -0 "$(it_pid "$1")" 2>/dev/null ||
		it_fail "magmad $1 died (see its log)"
}
