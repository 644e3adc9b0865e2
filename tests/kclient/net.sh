#!/bin/sh
# net.sh [DIR] -- guest side of tests/it_kclient_net.sh.
#
# Runs inside the run-guest VM (busybox ash, root, cwd /mnt, default "hard"
# mount of node A of a 3-node network).  Protocol with the host (the guest
# reaches it only through the mount; the host reads the guest's stdout live):
#   phase 1  files of mixed sizes (0 B to 4 MiB), directories, renames and
#            removes; read back with a cold cache; then "KC_PHASE1_DONE";
#   host     on that line: kill -9 node B, keep it down while the guest
#            works, restart it, wait until it is up again, then create
#            DIR.marker/host-restarted through node C (a directory that
#            the guest leaves alone meanwhile);
#   phase 2  rounds of: a file of random size (and every third round one
#            of 3 MiB), mkdir, rename of the last
#            round's file into the new directory, rm of a phase 1 file, a
#            cold-cache check; each round prints "# round N done"; stop two
#            rounds after the marker appears (fail after 150 s without it);
#   end      every file re-read with a cold cache against its md5, removed
#            names absent; then "SUM md5 path" and "FILE path" lines (paths
#            relative to DIR) for the host's own check through other nodes.
# Any failed operation ends the script at once ("not ok", exit 1): with a
# hard mount the node outage must be invisible to the client.
T=/mnt/${1:-kclient-net}
MARK=$T.marker/host-restarted
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
die() {
    n=$((n + 1))
    echo "not ok $n - $*"
    echo "net: FAILED at check $n: $*" >&2
    exit 1
}
dropcaches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { cut -d' ' -f1 /proc/uptime; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
SUMS=/tmp/sums # "md5  relpath" of every file that must exist
GONE=/tmp/gone # relpaths that must not exist
: >$SUMS
: >$GONE

# put PATH BYTES [fsync]: fresh random contents, md5 remembered
put() {
    head -c "$2" /dev/urandom >/tmp/blk || die "stage $1"
    if [ "${3:-}" = fsync ]; then
        dd if=/tmp/blk of="$1" bs=64k conv=fsync 2>/dev/null || die "write $1 (fsync)"
    else
        dd if=/tmp/blk of="$1" bs=64k 2>/dev/null || die "write $1"
    fi
    echo "$(md5sum </tmp/blk | cut -d' ' -f1)  $1" >>$SUMS
}
want_of() { grep "  $1\$" $SUMS | cut -d' ' -f1; }
verify() {
    want=$(want_of "$1")
    [ -n "$want" ] || die "no md5 kept for $1"
    got=$(md5sum <"$1" | cut -d' ' -f1) || die "read $1"
    [ "$got" = "$want" ] || die "$1 reads back wrong: md5 $got, want $want"
}
# mvf FROM TO: rename a file and its md5 entry
mvf() {
    mv "$1" "$2" || die "mv $1 $2"
    sed -i "s|  $1\$|  $2|" $SUMS || die "sums"
    echo "$1" >>$GONE
}
# rmf PATH: remove a file and its md5 entry
rmf() {
    rm "$1" || die "rm $1"
    grep -v "  $1\$" $SUMS >/tmp/sums.new && mv /tmp/sums.new $SUMS
    echo "$1" >>$GONE
}

rm -rf "$T" "$T.marker" 2>/dev/null
mkdir "$T" "$T.marker" || die "mkdir $T $T.marker"
cd "$T" || die "cd $T"
t0=$(now)

# ---- phase 1 ----
mkdir -p sub/x sub/y keep || die "mkdir sub/x sub/y keep"
put big1 4194304 fsync
put big2 3145728
put big3 2097153 fsync
i=1
for b in 0 1 100 4095 4096 4097 8192 32768 65535 65536 65537 100000 \
    131072 131073 200000 262144 300001 333333 400000 500000 524288 600000 \
    700001 777777 900000 1000000 1048575 1048576 1048577 1500000 2000000 \
    2097152 3000000; do
    case $((i % 3)) in
    0) put f$i "$b" fsync ;;
    1) put sub/x/f$i "$b" ;;
    *) put keep/f$i "$b" ;;
    esac
    i=$((i + 1))
done
ok "phase 1: $(wc -l <$SUMS) files written (0 B to 4 MiB)"
mvf sub/x/f1 sub/y/f1
mvf sub/x/f4 f4-renamed
rmf sub/x/f7
rmf f3
mv sub/y sub/y2 || die "mv sub/y sub/y2"
sed -i "s|  sub/y/|  sub/y2/|" $SUMS
echo sub/y >>$GONE
mkdir gone-dir && rmdir gone-dir || die "mkdir+rmdir"
echo gone-dir >>$GONE
ok "phase 1: renames, removes, directory rename"
dropcaches
while read -r want path; do verify "$path"; done <$SUMS
for p in $(cat $GONE); do [ ! -e "$p" ] || die "$p still exists"; done
echo "# phase 1 took $(secs "$t0" "$(now)") s"
ok "phase 1: $(wc -l <$SUMS) files read back with a cold cache"
echo KC_PHASE1_DONE

# ---- phase 2: keep working while the host kills and restarts node B ----
start=$(now)
longest=0
after=0
i=1
while :; do
    ts=$(now)
    mkdir d$i || die "mkdir d$i"
    put r$i $((RANDOM * 32 + RANDOM % 1000))
    [ $((i % 3)) = 1 ] && put big-r$i 3145728
    echo "small $i" >d$i/s || die "create d$i/s"
    echo "small $i" | md5sum | sed "s|-\$|d$i/s|" >>$SUMS
    if [ $i -gt 1 ]; then mvf r$((i - 1)) d$i/r$((i - 1)); fi
    victim=$(grep -v -e '  big' -e '  r' -e '  d' $SUMS | head -n 1 | cut -d' ' -f3)
    [ -n "$victim" ] && rmf "$victim"
    dropcaches
    verify r$i
    verify d$i/s
    [ $i -gt 1 ] && verify d$i/r$((i - 1))
    [ -n "$victim" ] && [ -e "$victim" ] && die "$victim still exists after rm"
    te=$(now)
    d=$(secs "$ts" "$te")
    longest=$(awk -v a="$longest" -v b="$d" 'BEGIN{print (b > a) ? b : a}')
    echo "# round $i done in $d s"
    if [ -e "$MARK" ]; then
        after=$((after + 1))
        [ $after -ge 2 ] && break
    fi
    [ "$(secs "$start" "$te" | cut -d. -f1)" -lt 150 ] ||
        die "no host-restarted marker after 150 s (the host never restarted node B?)"
    i=$((i + 1))
done
ok "phase 2: $i rounds, longest $longest s, marker seen"
[ "$(cat "$MARK")" = restarted ] || die "marker content '$(cat "$MARK")'"
ok "marker written by the host through node C reads back"

# ---- end: everything written before, during and after the outage ----
dropcaches
while read -r want path; do verify "$path"; done <$SUMS
ok "all $(wc -l <$SUMS) files intact after the outage"
for p in $(cat $GONE); do [ ! -e "$p" ] || die "$p exists after its rm/rename"; done
ok "all $(wc -l <$GONE) removed or renamed names absent"
find . -type f | sed 's|^\./||' | sort >/tmp/found
cut -d' ' -f3 $SUMS | sort >/tmp/kept
cmp -s /tmp/found /tmp/kept || { diff /tmp/kept /tmp/found; die "the tree differs from the files kept (diff above)"; }
ok "the tree holds exactly the $(wc -l </tmp/kept) files kept"
while read -r want path; do echo "SUM $want $path"; done <$SUMS
echo "# net workload took $(secs "$t0" "$(now)") s"
echo "ALL OK ($n checks)"
