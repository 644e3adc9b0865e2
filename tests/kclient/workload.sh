#!/bin/sh
# workload.sh [DIR] -- guest side of tests/it_kclient.sh.
#
# Runs inside the run-guest VM (busybox ash, root, cwd /mnt = the NFSv3 mount
# of the server under test, made by the stock Linux kernel client).  Works in
# /mnt/DIR (default kclient), prints one "ok N - what" line per check and
# stops at the first failure with "not ok N - what: detail" and exit 1.
# Leaves DIR/big.bin (64 MiB) and prints "big.md5 HASH" so that the host can
# check through its own client that the data reached the server.
T=/mnt/${1:-kclient}
n=0
now() { cut -d' ' -f1 /proc/uptime; }
last=$(now)
# "ok N - what"; a "# slow" note when the step since the last check took > 2 s
ok() {
    n=$((n + 1))
    echo "ok $n - $*"
    t=$(now)
    awk -v a="$last" -v b="$t" -v w="$*" 'BEGIN{if (b - a > 2) printf "# slow: %.1f s up to \"%s\"\n", b - a, w}'
    last=$t
}
die() {
    n=$((n + 1))
    echo "not ok $n - $*"
    echo "workload: FAILED at check $n: $*" >&2
    exit 1
}
# check DESC CMD...: CMD must succeed
check() { d=$1; shift; if "$@"; then ok "$d"; else die "$d (command failed: $*)"; fi; }
# refuse DESC CMD...: CMD must fail
refuse() { d=$1; shift; if "$@" 2>/dev/null; then die "$d (succeeded: $*)"; else ok "$d"; fi; }
# expect DESC GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else die "$1: got '$2', want '$3'"; fi; }
# force the next reads and lookups to go to the server
dropcaches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# as UID: run a shell command as another user (AUTH_SYS carries its uid)
as() { u=$1; shift; su "$u" -c "$*"; }

t0=$(now)
rm -rf "$T" 2>/dev/null
check "mkdir $T" mkdir "$T"
cd "$T" || die "cd $T"
check "df (FSSTAT)" df -k /mnt

# ---- create, write, read back from the server ----
echo "hello magma" >f1 || die "create f1"
dropcaches
expect "read back after drop_caches" "$(cat f1)" "hello magma"
echo "line two" >>f1 || die "append"
dropcaches
expect "append" "$(sed -n 2p f1)" "line two"
expect "size" "$(stat -c %s f1)" 21
expect "type regular" "$(stat -c %F f1)" "regular file"
printf X | dd of=sparse bs=1 seek=1048575 2>/dev/null || die "sparse write"
dropcaches
expect "sparse size" "$(stat -c %s sparse)" 1048576
expect "hole reads zeros" "$(od -An -tx1 -N4 sparse | tr -d ' ')" 00000000
expect "byte after hole" "$(dd if=sparse bs=1 skip=1048575 2>/dev/null)" X
check "exclusive create (O_EXCL)" sh -c 'set -C; echo excl >excl'
refuse "O_EXCL create of existing file" sh -c 'set -C; echo again >excl'
dropcaches
expect "mode after exclusive create" "$(stat -c %a excl)" 644
expect "content after exclusive create" "$(cat excl)" excl
touch -d "2001-02-03 04:05:06" f1 || die "touch -d"
expect "mtime set (SETATTR)" "$(stat -c %Y f1)" "$(date -d "2001-02-03 04:05:06" +%s)"

# ---- directories ----
check "mkdir -p a/b/c" mkdir -p a/b/c
dropcaches
expect "type directory" "$(stat -c %F a/b/c)" directory
refuse "mkdir of existing dir fails" mkdir a/b
refuse "rmdir of non-empty dir fails" rmdir a/b

# ---- rename of an open file ----
echo "open data" >a/open
exec 3<a/open
check "mv open file" mv a/open a/b/c/moved
[ ! -e a/open ] || die "old name still exists after mv"
read -r line <&3
expect "read through fd opened before mv" "$line" "open data"
exec 3<&-
echo first >a/w
exec 4>>a/w
check "mv file open for writing" mv a/w a/w2
echo second >&4 || die "write through fd opened before mv"
exec 4>&-
dropcaches
expect "write through fd reached new name" "$(cat a/w2 | tr '\n' ' ')" "first second "
check "rename directory" mv a/b a/b2
expect "child of renamed dir" "$(cat a/b2/c/moved)" "open data"
echo over >a/over
check "mv over existing file" mv a/over a/w2
dropcaches
expect "target replaced" "$(cat a/w2)" over

# ---- unlink of an open file (client silly-rename) ----
echo "still here" >a/gone
exec 5<a/gone
check "rm open file" rm a/gone
read -r line <&5
expect "read through fd after rm" "$line" "still here"
exec 5<&-
i=0
while ls -A a | grep -q '^\.nfs' && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "silly-renamed file removed on close" "$(ls -A a | grep -c '^\.nfs')" 0

# ---- hard links ----
echo "linked" >a/h1
check "ln (hard link)" ln a/h1 a/b2/h2
dropcaches
expect "nlink 2" "$(stat -c %h a/h1)" 2
expect "same inode" "$(stat -c %i a/b2/h2)" "$(stat -c %i a/h1)"
echo "via h2" >>a/b2/h2
dropcaches
expect "write via one name seen via the other" "$(sed -n 2p a/h1)" "via h2"
check "rm one link" rm a/h1
dropcaches
expect "nlink back to 1" "$(stat -c %h a/b2/h2)" 1
expect "other name intact" "$(head -n1 a/b2/h2)" linked

# ---- symbolic links ----
check "ln -s" ln -s ../h2 a/b2/c/sl
dropcaches
expect "readlink" "$(readlink a/b2/c/sl)" ../h2
expect "type symlink" "$(stat -c %F a/b2/c/sl)" "symbolic link"
expect "read through symlink" "$(head -n1 a/b2/c/sl)" linked
ln -s /nonexistent/target a/dangling || die "ln -s dangling"
expect "dangling symlink" "$(readlink a/dangling)" /nonexistent/target

# ---- special files (MKNOD) ----
check "mkfifo" mkfifo a/fifo
check "mknod c 1 3" mknod a/cdev c 1 3
dropcaches
expect "type fifo" "$(stat -c %F a/fifo)" fifo
expect "type char device" "$(stat -c '%F %t %T' a/cdev)" "character special file 1 3"

# ---- modes, owners, other uids ----
echo root >r644
chmod 644 r644 || die "chmod"
dropcaches
expect "chmod 644" "$(stat -c %a r644)" 644
check "chown as root" chown 1000:1000 r644
dropcaches
expect "owner after chown" "$(stat -c %u:%g r644)" 1000:1000
check "chown back" chown 0:0 r644
expect "owner back" "$(stat -c %u:%g r644)" 0:0
mkdir u && chmod 1777 u || die "mkdir u"
check "user creates a file" as user "echo mine >$T/u/ufile"
dropcaches
expect "new file owned by user" "$(stat -c %u:%g u/ufile)" 1000:1000
expect "user reads own file" "$(as user "cat $T/u/ufile")" mine
refuse "user cannot write root's 0644 file" as user "echo x >>$T/r644"
expect "root's file unchanged" "$(cat r644)" root
refuse "user cannot chmod root's file" as user "chmod 666 $T/r644"
check "user chmods own file" as user "chmod 600 $T/u/ufile"
dropcaches
expect "mode after user chmod" "$(stat -c %a u/ufile)" 600
refuse "user2 cannot read user's 0600 file" as user2 "cat $T/u/ufile"
refuse "user cannot give file away" as user "chown 1001 $T/u/ufile"
refuse "user2 cannot remove user's file in sticky dir" as user2 "rm -f $T/u/ufile"
expect "root reads user's 0600 file" "$(cat u/ufile)" mine
refuse "user cannot create in root's 0755 dir" as user "echo x >$T/a/userfile"

# ---- truncate ----
seq 1 1000 >tr || die "write tr"
check "truncate -s 3" truncate -s 3 tr
dropcaches
expect "size after truncate" "$(stat -c %s tr)" 3
expect "content after truncate" "$(cat tr)" "$(printf '1\n2')"
check "truncate -s 100000 (extend)" truncate -s 100000 tr
dropcaches
expect "size after extend" "$(stat -c %s tr)" 100000
expect "extension reads zeros" "$(dd if=tr bs=1 skip=3 count=4 2>/dev/null | od -An -tx1 | tr -d ' ')" 00000000
: >tr || die "O_TRUNC"
dropcaches
expect "O_TRUNC size" "$(stat -c %s tr)" 0

# ---- rm -r of a tree ----
mkdir -p tree/x/y tree/z || die "mkdir tree"
for d in tree tree/x tree/x/y tree/z; do
    for i in 1 2 3; do echo $i >$d/f$i; done
    ln -s f1 $d/l
done
check "rm -r tree" rm -r tree
dropcaches
[ ! -e tree ] || die "tree still exists after rm -r"
ok "tree gone"
expect "top directory listing" "$(ls | sort | tr '\n' ' ')" "a excl f1 r644 sparse tr u "

# ---- 2,000 files in one directory ----
ts=$(now)
mkdir many || die "mkdir many"
i=1
while [ $i -le 2000 ]; do
    : >many/file-$i || die "create many/file-$i"
    i=$((i + 1))
done
echo "# created 2000 files in $(awk -v a="$ts" -v b="$(now)" 'BEGIN{print b-a}') s"
dropcaches
expect "ls -l of 2000 files" "$(ls -l many | grep -c '^-')" 2000
expect "2000 distinct names" "$(ls many | sort -u | wc -l)" 2000
expect "readdir order-independent content" "$(ls many | grep -c '^file-[0-9]*$')" 2000
check "rm -r 2000 files" rm -r many
dropcaches
[ ! -e many ] || die "many still exists"
ok "many gone"

# ---- 64 MiB round trip ----
dd if=/dev/urandom of=/tmp/big bs=1M count=64 2>/dev/null || die "stage /tmp/big"
want=$(md5sum </tmp/big | cut -d' ' -f1)
ts=$(now)
check "dd 64 MiB to server" dd if=/tmp/big of=big.bin bs=1M conv=fsync 2>/dev/null
tw=$(now)
dropcaches
got=$(md5sum <big.bin | cut -d' ' -f1)
tr_=$(now)
echo "# 64 MiB write+fsync $(awk -v a="$ts" -v b="$tw" 'BEGIN{printf "%.1f", b-a}') s, cold read $(awk -v a="$tw" -v b="$tr_" 'BEGIN{printf "%.1f", b-a}') s"
expect "64 MiB read back md5" "$got" "$want"
expect "64 MiB size" "$(stat -c %s big.bin)" 67108864
rm -f /tmp/big
echo "big.md5 $want"

sync
ls -la "$T"
echo "# workload took $(awk -v a="$t0" -v b="$(now)" 'BEGIN{print b-a}') s"
echo "ALL OK ($n checks)"
