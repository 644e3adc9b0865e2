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
#   it_keyfile PATH WORD...  a keyphrase file (mode 600)
#   ok NAME; nok NAME [DETAIL]
#                            a check's line; nok counts in FAILS
# Networks of nodes made with magmactl init/join (it_net_*):
#   it_net_node NAME ADDR [PEER_ADDR]
#                            remember NAME's addresses: NFS on ADDR:<random
#                            port>, peers on PEER_ADDR (default ADDR):<random>
#   it_net_peer NAME         its peer address (host:port)
#   it_net_init NAME NETWORK KEYFILE [magmactl init options...]
#                            magmactl init of NAME (after it_net_node)
#   it_net_join NAME ADDR VIA KEYFILE [magmactl join options...]
#                            it_net_node NAME ADDR, then magmactl join
#                            through node VIA; output in $IT_TMP/NAME.join
#   it_net_status NAME       magmactl status;  it_net_json NAME: --json
#   it_net_id NAME           its node_id (from magma.conf)
#   it_net_table NAME        "EPOCH id:state ..." of its table (ids sorted)
#   it_net_converge SECONDS COUNT NODE...
#                            wait until every NODE shows one table of COUNT
#                            members, all up
#   it_net_passes NAME       repair passes done so far
#   it_net_in_sync SECONDS NODE...
#                            wait until a repair pass begun after the call
#                            on each NODE found every range equal
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
# A test's checks: ok NAME, or nok NAME [DETAIL], which counts in
# FAILS; the test ends with [ $FAILS = 0 ] || it_fail ...
FAILS=0
ok() { echo "ok - $1"; }
nok() {
	echo "not ok - $1${2:+: $2}"
	FAILS=$((FAILS + 1))
}

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

# it_keyfile PATH WORD...: a keyphrase file "WORD... keyphrase PID",
# mode 600.
it_keyfile() {
	kf_p=$1
	shift
	printf '%s keyphrase %s\n' "$*" "$$" >"$kf_p"
	chmod 600 "$kf_p"
}

# it_node NAME ADDR [extra magmactl init options]
it_node() {
	it_nm=$1
	it_ad=$2
	shift 2
	it_pt=$(it_random_port)
	it_keyfile "$IT_TMP/$it_nm.key" it "$it_nm"
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

# ---- networks of nodes (it_net_*): magmactl init and join ----

# it_net_node NAME ADDR [PEER_ADDR]: remember NAME's addresses; every
# node named here is stopped by it_cleanup.
it_net_node() {
	echo "$2" >"$IT_TMP/$1.addr"
	it_random_port >"$IT_TMP/$1.port"
	echo "${3:-$2}:$(it_random_port)" >"$IT_TMP/$1.peer"
	IT_NODES="$IT_NODES $1"
}
it_net_peer() { cat "$IT_TMP/$1.peer"; }

# it_net_init NAME NETWORK KEYFILE [options]: the first node (fails the
# test when magmactl init fails).
it_net_init() {
	in_n=$1
	in_net=$2
	in_k=$3
	shift 3
	"$MAGMACTL" init --data "$IT_TMP/$in_n" --network "$in_net" \
		--keyphrase-file "$in_k" \
		--nfs-listen "$(it_addr "$in_n"):$(it_port "$in_n")" \
		--peer-listen "$(it_net_peer "$in_n")" --no-rpcbind "$@" \
		>"$IT_TMP/$in_n.init" 2>&1 ||
		it_fail "init $in_n: $(cat "$IT_TMP/$in_n.init")"
}

# it_net_join NAME ADDR VIA KEYFILE [options]: returns magmactl's status
# (its output is in $IT_TMP/NAME.join).
it_net_join() {
	jn_n=$1
	jn_a=$2
	jn_v=$3
	jn_k=$4
	shift 4
	it_net_node "$jn_n" "$jn_a"
	"$MAGMACTL" join --data "$IT_TMP/$jn_n" --keyphrase-file "$jn_k" \
		--peer "$(it_net_peer "$jn_v")" \
		--nfs-listen "$jn_a:$(it_port "$jn_n")" \
		--peer-listen "$(it_net_peer "$jn_n")" --no-rpcbind "$@" \
		>"$IT_TMP/$jn_n.join" 2>&1
}

# it_net3 NETWORK KEYFILE ADDR_A ADDR_B ADDR_C [TUNE]: nodes a, b and c
# on the three addresses, r = 2: a makes the network, b and c join
# through it; each starts once TUNE (a function, given the node's name),
# when given, has set its configuration.  Fails the test unless all
# three show one same 3-member table within 20 s.
it_net3() {
	n3_k=$2
	n3_t=${6:-}
	it_net_node a "$3"
	it_net_init a "$1" "$n3_k" --redundancy 2
	[ -z "$n3_t" ] || "$n3_t" a
	it_start a
	shift 3
	for n3_x in b c; do
		it_net_join $n3_x "$1" a "$n3_k" ||
			it_fail "join $n3_x: $(cat "$IT_TMP/$n3_x.join")"
		[ -z "$n3_t" ] || "$n3_t" $n3_x
		it_start $n3_x
		shift
	done
	it_net_converge 20 3 a b c ||
		it_fail "no common 3-member table: $(it_net_table a) / $(it_net_table b) / $(it_net_table c)"
	ok "3 members up with one table"
}

it_net_status() { "$MAGMACTL" --data "$IT_TMP/$1" status 2>/dev/null; }
it_net_json() { "$MAGMACTL" --data "$IT_TMP/$1" status --json 2>/dev/null; }
it_net_id() { sed -n 's/^node_id *= *//p' "$IT_TMP/$1/magma.conf"; }

# it_net_table NAME: "EPOCH id:state id:state ..." (ids sorted).
it_net_table() {
	it_net_json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["epoch"], " ".join(sorted("%s:%s" % (m["id"], m["state"])
      for m in j["members"])))' 2>/dev/null
}

# it_net_converge SECONDS COUNT NODE...: every NODE shows one same table
# of COUNT members, all up (polled every 0.1 s, SECONDS * 10 times);
# prints each node's table when it never happens.
it_net_converge() {
	cv_n=$(($1 * 10))
	cv_c=$2
	shift 2
	cv_i=0
	while [ $cv_i -lt $cv_n ]; do
		cv_ref=""
		cv_ok=1
		for cv_x in "$@"; do
			cv_t=$(it_net_table "$cv_x")
			[ -z "$cv_ref" ] && cv_ref=$cv_t
			[ -n "$cv_t" ] && [ "$cv_t" = "$cv_ref" ] || cv_ok=0
		done
		if [ $cv_ok = 1 ] &&
		   [ "$(echo "$cv_ref" | grep -o ':up' | wc -l)" = "$cv_c" ] &&
		   [ "$(echo "$cv_ref" | wc -w)" = $((cv_c + 1)) ]; then
			return 0
		fi
		sleep 0.1
		cv_i=$((cv_i + 1))
	done
	for cv_x in "$@"; do echo "# $cv_x: $(it_net_table "$cv_x")"; done
	return 1
}

# it_net_reachable NAME WHO: 0 when NAME's status shows WHO reachable.
it_net_reachable() {
	it_net_json "$1" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m["id"] == sys.argv[1]:
        sys.exit(0 if m["reachable"] else 1)
sys.exit(2)' "$(it_net_id "$2")"
}
it_net_unreachable() { ! it_net_reachable "$@"; }

# it_net_owners NAME PATH: "PRIMARY BACKUP..." node ids of PATH's last
# component, as NAME locates it.
it_net_owners() {
	"$MAGMACTL" --data "$IT_TMP/$1" locate "$2" 2>/dev/null |
		awk '/^[^ ]/ { ids = "" }
		     $1 == "primary" || $1 == "backup" { ids = ids $2 " " }
		     END { print ids }'
}

# it_wait_until SECONDS COMMAND...: poll every 0.1 s until COMMAND
# succeeds (0) or SECONDS pass (1).
it_wait_until() {
	wu_n=$(($1 * 10))
	shift
	while [ $wu_n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		wu_n=$((wu_n - 1))
	done
	return 1
}

# it_net_passes NAME: the repair passes NAME has done so far.
it_net_passes() {
	it_net_status "$1" |
		sed -n 's/^repair: .*; \([0-9]*\) passes;.*/\1/p'
}

# it_net_in_sync SECONDS NODE...: a repair pass that started after the
# call on each NODE found every range equal with every other owner (and
# none failed); polled every 0.2 s, SECONDS * 5 times.
it_net_in_sync() {
	is_t=$1
	shift
	for is_n in "$@"; do
		eval "is_p_$is_n=\$(it_net_passes $is_n)"
	done
	is_i=0
	while [ $is_i -lt $((is_t * 5)) ]; do
		is_all=1
		for is_n in "$@"; do
			eval "is_p0=\$is_p_$is_n"
			is_s=$(it_net_status "$is_n")
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
		echo "# $is_n: $(it_net_status "$is_n" | grep '^repair')"
	done
	return 1
}
