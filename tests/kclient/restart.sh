#!/bin/sh
# restart.sh [DIR] -- guest side of the restart part of tests/it_kclient.sh.
#
# Runs inside the run-guest VM (busybox ash, root, cwd /mnt, default "hard"
# mount).  Protocol with the host (the guest can reach it only through the
# NFS mount, and the host sees the guest's stdout live):
#   phase 1  write and verify files p1-*, then print "KC_PHASE1_DONE";
#   host     on that line: kill -9 the server, wait, restart it, then create
#            DIR/host-restarted through its own NFS client;
#   phase 2  meanwhile loop: write p2-N unstable + sync (this blocks while the
#            server is down and must resume), a directory and a small file,
#            verify with a cold cache; stop two rounds after the marker
#            appears (fail after 120 s without it);
#            p1-open stays open (fd 6) throughout and gets a line per round;
#   end      re-read every file with a cold cache and compare md5s with the
#            list kept in the guest's /tmp.
# Each file written prints "# wrote NAME" (the host counts them).
T=/mnt/${1:-kclient-restart}
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
die() {
    n=$((n + 1))
    echo "not ok $n - $*"
    echo "restart: FAILED at check $n: $*" >&2
    exit 1
}
dropcaches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { cut -d' ' -f1 /proc/uptime; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
SUMS=/tmp/sums
: >$SUMS

# put NAME KIB [fsync]: write KIB KiB of fresh random data to NAME, remember its md5
put() {
    dd if=/dev/urandom of=/tmp/blk bs=1k count="$2" 2>/dev/null || die "stage $1"
    if [ "${3:-}" = fsync ]; then
        dd if=/tmp/blk of="$T/$1" bs=64k conv=fsync 2>/dev/null || die "write $1 (fsync)"
    else
        dd if=/tmp/blk of="$T/$1" bs=64k 2>/dev/null || die "write $1"
    fi
    echo "$(md5sum </tmp/blk | cut -d' ' -f1)  $T/$1" >>$SUMS
    echo "# wrote $1"
}
verify() {
    want=$(grep "  $T/$1\$" $SUMS | cut -d' ' -f1)
    got=$(md5sum <"$T/$1" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "$1 reads back wrong: md5 $got, want $want"
}

rm -rf "$T" 2>/dev/null
mkdir "$T" && chmod 777 "$T" || die "mkdir $T" # 777: the host's marker may come squashed
cd "$T" || die "cd $T"

# ---- phase 1 ----
i=1
while [ $i -le 6 ]; do put p1-$i 512 fsync; i=$((i + 1)); done
put p1-unstable 1024
dropcaches
for f in p1-1 p1-2 p1-3 p1-4 p1-5 p1-6 p1-unstable; do verify $f; done
ok "phase 1: 7 files written and verified"
# a file held open across the restart: its handle must stay valid
echo "line 0" >p1-open || die "create p1-open"
echo "# wrote p1-open"
exec 6>>p1-open
echo KC_PHASE1_DONE

# ---- phase 2: keep working while the host kills and restarts the server ----
start=$(now)
longest=0
after=0
i=1
while :; do
    ts=$(now)
    put p2-$i 256
    echo "line $i" >&6 || die "write to p1-open through the open fd"
    mkdir d$i || die "mkdir d$i"
    echo "small $i" >d$i/s || die "create d$i/s"
    dropcaches
    verify p2-$i
    [ "$(cat d$i/s)" = "small $i" ] || die "d$i/s reads back '$(cat d$i/s)'"
    te=$(now)
    d=$(secs "$ts" "$te")
    longest=$(awk -v a="$longest" -v b="$d" 'BEGIN{print (b > a) ? b : a}')
    echo "# round $i took $d s"
    if [ -e host-restarted ]; then
        after=$((after + 1))
        [ $after -ge 2 ] && break
    fi
    [ "$(secs "$start" "$te" | cut -d. -f1)" -lt 120 ] ||
        die "no host-restarted marker after 120 s (host never restarted the server?)"
    i=$((i + 1))
done
ok "phase 2: $i rounds, longest $longest s (the outage), marker seen"
[ "$(cat host-restarted)" = restarted ] || die "marker content '$(cat host-restarted)'"
ok "marker written by the host reads back"
exec 6>&-
dropcaches
want=$(j=0; while [ $j -le $i ]; do echo "line $j"; j=$((j + 1)); done)
[ "$(cat p1-open)" = "$want" ] || die "p1-open (open across the restart) reads back: $(cat p1-open | tr '\n' ' ')"
ok "file written through an fd held open across the restart"

# ---- end: everything acknowledged before, during and after the restart ----
dropcaches
while read -r want path; do
    got=$(md5sum <"$path" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "${path##*/} after restart: md5 $got, want $want"
done <$SUMS
ok "all $(wc -l <$SUMS) files intact after the restart"
j=1
while [ $j -le $i ]; do
    [ "$(cat d$j/s)" = "small $j" ] || die "d$j/s after restart: '$(cat d$j/s)'"
    j=$((j + 1))
done
ok "all $i directories intact"
echo "ALL OK ($n checks)"
