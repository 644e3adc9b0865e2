#!/bin/sh
# mknet3.sh - an example: build a 3-node Magma network on one host, on
# 127.0.0.2, 127.0.0.3 and 127.0.0.4 (magmactl init on the first, join
# on the others, start each magmad, print the status), or stop it.
#
# Usage: contrib/mknet3.sh [start|status|stop] [BASEDIR]
#   BASEDIR (default /tmp/magma-net3) holds the keyphrase, one data dir
#   per node (n1, n2, n3) and their logs.  MAGMACTL and MAGMAD name the
#   binaries (default: from PATH, else the build tree's).
#   Nodes listen on NFS port $NFS_PORT (default 20490) and peer port
#   $PEER_PORT (default 27390) of their address.
set -eu

cmd=${1:-start}
base=${2:-/tmp/magma-net3}
net=net3
here=$(cd "$(dirname "$0")/.." && pwd)
MAGMACTL=${MAGMACTL:-$(command -v magmactl || echo "$here/magmactl")}
MAGMAD=${MAGMAD:-$(command -v magmad || echo "$here/magmad")}

nfs_port=${NFS_PORT:-20490}
peer_port=${PEER_PORT:-27390}
addr() { echo "127.0.0.$((1 + $1))"; }

start_node() {
	"$MAGMAD" --data "$base/n$1" >"$base/n$1.out" 2>"$base/n$1.log" &
	echo $! >"$base/n$1.mpid"
	i=0
	until grep -q "magmad: serving" "$base/n$1.out"; do
		kill -0 "$(cat "$base/n$1.mpid")" 2>/dev/null ||
			{ cat "$base/n$1.log" >&2; exit 1; }
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "node $1 not serving" >&2; exit 1; }
		sleep 0.1
	done
	echo "node $1 up on $(addr "$1") (pid $(cat "$base/n$1.mpid"))"
}

case $cmd in
start)
	mkdir -p "$base"
	[ -e "$base/n1" ] && { echo "$base/n1 exists: stop first" >&2; exit 1; }
	"$MAGMACTL" init --data "$base/n1" --network "$net" \
		--keyphrase-file "$base/keyphrase" --generate-keyphrase \
		--nfs-listen "$(addr 1):$nfs_port" --peer-listen "$(addr 1):$peer_port" \
		--no-rpcbind
	start_node 1
	for n in 2 3; do
		"$MAGMACTL" join --data "$base/n$n" \
			--keyphrase-file "$base/keyphrase" \
			--peer "$(addr 1):$peer_port" \
			--nfs-listen "$(addr "$n"):$nfs_port" \
			--peer-listen "$(addr "$n"):$peer_port" --no-rpcbind
		start_node "$n"
	done
	# A joined node is "joining" until it holds its ranges.
	i=0
	while "$MAGMACTL" --data "$base/n1" status | grep -Eq '[[:space:]]joining[[:space:]]'; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "members still joining after 30 s" >&2; exit 1; }
		sleep 0.1
	done
	"$MAGMACTL" --data "$base/n1" status
	echo "mount node 1 with: mount -t nfs -o vers=3,proto=tcp,port=$nfs_port,mountport=$nfs_port,nolock $(addr 1):/ /mnt"
	;;
status)
	for n in 1 2 3; do
		"$MAGMACTL" --data "$base/n$n" status || true
	done
	;;
stop)
	for n in 3 2 1; do
		f=$base/n$n.mpid
		[ -f "$f" ] || continue
		p=$(cat "$f")
		kill -TERM "$p" 2>/dev/null || true
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		rm -f "$f"
	done
	echo "stopped; remove $base to start afresh"
	;;
*)
	echo "usage: $0 [start|status|stop] [BASEDIR]" >&2
	exit 2
	;;
esac
