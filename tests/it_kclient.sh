#!/bin/bash
# it_kclient.sh -- integration test: the stock Linux NFS client against magmad.
#
# Boots a stock Debian kernel in qemu with ../shared/kclient/run-guest, which
# mounts a fresh one-node magmad (NFSv3 over TCP on 127.0.0.1:PORT, MOUNT on
# the same port) and runs:
#   1. tests/kclient/workload.sh: file, directory, link, special-file,
#      permission, truncate, readdir (2,000 entries) and 64 MiB checks; then
#      the host finds the 64 MiB file with magmactl locate and reads it back
#      through libnfs (nfs-cat) to compare md5s.
#   2. tests/kclient/restart.sh: the guest writes, prints KC_PHASE1_DONE and
#      keeps writing and verifying; on that line the host kill -9s magmad,
#      keeps it down a few seconds, restarts it on the same data directory
#      and drops a marker file (via libnfs) that ends the guest's loop.  The
#      guest's hard mount must resume and every file must read back intact.
# Skips (77) when run-guest is absent or cannot fetch its kernel.
# Environment: KCLIENT_DIR (run-guest's directory), KCLIENT_TIMEOUT (s, per
# guest run), KCLIENT_KEEP=1 (keep the scratch directory).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
KDIR=${KCLIENT_DIR:-$top_srcdir/../shared/kclient}
RUN_GUEST=$KDIR/run-guest
GUEST_TIMEOUT=${KCLIENT_TIMEOUT:-240}
MAGMAD=$top_builddir/magmad
MAGMACTL=$top_builddir/magmactl

say() { echo "it_kclient: $*"; }
skip() { echo "SKIP: kernel-client tests: $*"; exit 77; }
fail() { echo "FAIL: it_kclient: $*"; exit 1; }

[ -x "$RUN_GUEST" ] || skip "../shared/kclient not found"
for p in "$MAGMAD" "$MAGMACTL"; do
    [ -x "$p" ] || fail "$p not built"
done
# needs the network once; later runs use the cache
"$RUN_GUEST" --fetch >/dev/null 2>&1 ||
    skip "run-guest --fetch failed (no cached kernel and no apt access?)"

# One qemu guest at a time: two software-emulated guests on a 2-core
# machine would each run at half speed against their time limits.
KCLIENT_LOCK=$top_builddir/tests/kclient.lock
if command -v flock >/dev/null 2>&1; then
    exec 9>"$KCLIENT_LOCK"
    flock 9
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/it_kclient.XXXXXX") || fail "mktemp"
MPID=
RGPID=
cleanup() {
    [ -n "$RGPID" ] && kill "$RGPID" 2>/dev/null && wait "$RGPID" 2>/dev/null
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
    if [ "${KCLIENT_KEEP:-0}" = 1 ] || [ "${FAILED:-1}" = 1 ]; then
        say "scratch directory kept: $W"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# a free port: not listening now and not 2049 (a system server may own it)
free_port() {
    local p i
    for i in $(seq 200); do
        p=$((20000 + RANDOM % 40000))
        listening "$p" || { echo "$p"; return 0; }
    done
    return 1
}
PORT=$(free_port) || fail "no free port"
DATA=$W/data
KEYFILE=$W/keyphrase
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEYFILE") ||
    fail "keyphrase file"

"$MAGMACTL" init --data "$DATA" --network kc --keyphrase-file "$KEYFILE" \
    --nfs-listen "127.0.0.1:$PORT" >"$W/init.log" 2>&1 ||
    { cat "$W/init.log"; fail "magmactl init failed"; }
CONF=$DATA/magma.conf
[ -f "$CONF" ] || fail "magmactl init made no $CONF"
# no rpcbind here (fixed ports); a free node port so parallel tests cannot clash
set_conf() {
    if grep -q "^[[:space:]]*$1[[:space:]]*=" "$CONF"; then
        sed -i "s|^[[:space:]]*$1[[:space:]]*=.*|$1 = $2|" "$CONF"
    else
        echo "$1 = $2" >>"$CONF"
    fi
}
set_conf rpcbind no
set_conf peer_listen 127.0.0.1:0
set_conf log_level info

start_magmad() {
    local i
    "$MAGMAD" --data "$DATA" >>"$W/magmad.log" 2>&1 &
    MPID=$!
    for i in $(seq 150); do
        listening "$PORT" && return 0
        kill -0 "$MPID" 2>/dev/null || {
            tail -n 30 "$W/magmad.log"; MPID=; fail "magmad exited at start-up"; }
        sleep 0.1
    done
    tail -n 30 "$W/magmad.log"
    fail "magmad not listening on 127.0.0.1:$PORT after 15 s"
}
start_magmad
say "magmad pid $MPID on 127.0.0.1:$PORT, data $DATA"

NFSURL() { echo "nfs://127.0.0.1/$1?nfsport=$PORT&mountport=$PORT"; }
# no_timer_check: under TCG on a loaded host the guest kernel's boot-time
# check of the IO-APIC timer can miss its ticks and panic ("IO-APIC +
# timer doesn't work!") before anything of ours runs.
guest() {
    "$RUN_GUEST" --nfs-port "$PORT" --mount-port "$PORT" --export / \
        --append no_timer_check --timeout "$GUEST_TIMEOUT" -- "$@"
}
status_says() {
    case $1 in
    0) ;;
    124) say "guest timed out after $GUEST_TIMEOUT s (server hung?)" ;;
    2) say "run-guest failed (exit 2: boot, mount or umount, or the script exited 2; see run-guest: ERROR above)" ;;
    *) say "guest script exited $1" ;;
    esac
}
server_tail() { say "last magmad log lines:"; tail -n 40 "$W/magmad.log"; }

# ---- part 1: workload ----
say "part 1: tests/kclient/workload.sh"
rc=0
guest "$top_srcdir/tests/kclient/workload.sh" kclient 2>&1 | tee "$W/workload.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then
    status_says "$rc"; server_tail; fail "workload (exit $rc)"
fi
grep -q '^ALL OK' "$W/workload.out" || fail "workload did not finish (no ALL OK)"
kill -0 "$MPID" 2>/dev/null || { server_tail; fail "magmad died during the workload"; }

# the 64 MiB file, as the server has it: the node knows it, and another
# client (libnfs) reads the same bytes
"$MAGMACTL" --data "$DATA" locate /kclient/big.bin >"$W/locate.out" 2>&1 ||
    { cat "$W/locate.out"; server_tail; fail "host check: magmactl locate /kclient/big.bin failed"; }
say "host check: magmactl locate /kclient/big.bin:"
sed 's/^/    /' "$W/locate.out"
want=$(sed -n 's/^big.md5 //p' "$W/workload.out")
if command -v nfs-cat >/dev/null; then
    got=$(nfs-cat "$(NFSURL kclient/big.bin)" 2>"$W/nfs-cat.err" | md5sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || { cat "$W/nfs-cat.err"; server_tail
        fail "host check: big.bin via libnfs has md5 $got, the guest wrote $want"; }
    say "host check: kclient/big.bin read back through libnfs, md5 $got matches"
else
    say "host check: nfs-cat (libnfs-utils) missing: big.bin content not compared"
fi

# ---- part 2: magmad killed and restarted under a mounted, writing client ----
if ! command -v nfs-cp >/dev/null; then
    say "SKIP part 2 (restart): nfs-cp (libnfs-utils) missing, the host cannot signal the guest"
    FAILED=0
    exit 0
fi
say "part 2: tests/kclient/restart.sh with magmad kill -9 and restart"
guest "$top_srcdir/tests/kclient/restart.sh" kclient-restart \
    >"$W/restart.out" 2>"$W/restart.err" &
RGPID=$!
phase1=0
for i in $(seq $((GUEST_TIMEOUT * 10))); do
    grep -q '^KC_PHASE1_DONE' "$W/restart.out" && { phase1=1; break; }
    kill -0 "$RGPID" 2>/dev/null || break
    sleep 0.1
done
if [ "$phase1" = 1 ]; then
    kill -KILL "$MPID"; wait "$MPID" 2>/dev/null; MPID=
    say "magmad killed (-9) after the guest's phase 1; down for 3 s"
    sleep 3
    echo "=== restart ===" >>"$W/magmad.log"
    start_magmad
    say "magmad restarted, pid $MPID"
    echo restarted >"$W/marker"
    ok=0
    for i in $(seq 20); do
        nfs-cp "$W/marker" "$(NFSURL kclient-restart/host-restarted)" \
            >"$W/nfs-cp.err" 2>&1 && { ok=1; break; }
        sleep 1
    done
    [ "$ok" = 1 ] || { cat "$W/nfs-cp.err"; say "host could not create the marker through libnfs (the guest will time out)"; }
fi
rc=0
wait "$RGPID" || rc=$?
RGPID=
cat "$W/restart.out"
cat "$W/restart.err" >&2
[ "$phase1" = 1 ] || { status_says "$rc"; server_tail; fail "restart: guest never reached phase 1"; }
if [ "$rc" != 0 ]; then
    status_says "$rc"; server_tail; fail "restart workload (exit $rc)"
fi
grep -q '^ALL OK' "$W/restart.out" || fail "restart workload did not finish (no ALL OK)"
kill -0 "$MPID" 2>/dev/null || { server_tail; fail "magmad died after the restart"; }
if command -v nfs-ls >/dev/null; then
    nfs-ls "$(NFSURL kclient-restart)" 2>&1 | sed -n 's/.* \(p[12]-[^ ]*\)$/\1/p' |
        sort >"$W/restart.ls"
    sed -n 's/^# wrote //p' "$W/restart.out" | sort >"$W/restart.wrote"
    cmp -s "$W/restart.ls" "$W/restart.wrote" || {
        diff "$W/restart.wrote" "$W/restart.ls"
        fail "host check: nfs-ls of kclient-restart differs from the files the guest wrote (diff above: < wrote, > listed)"; }
    say "host check: nfs-ls lists exactly the $(wc -l <"$W/restart.ls") files written across the restart"
fi
say "PASS"
FAILED=0
