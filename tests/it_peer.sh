#!/bin/sh
# it_peer.sh - the node-to-node protocol (rpc/magma_peer.x) over TLS
# between real magmad processes on 127.0.0.2 and 127.0.0.3, driven by
# tests/peerit: HELLO and TABLE_GET with the same keyphrase, NFS writes
# read back over KV_GET/READ/SCAN, a wrong keyphrase refused on both
# sides, an RPC in clear and garbage on the peer port, a client that
# reconnects across a restart and times out on a stopped node.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
PEERIT=$top_builddir/tests/peerit
[ -x "$PEERIT" ] || it_skip "tests/peerit not built (libnfs-dev missing)"

NET=it-peer
KEY=$IT_TMP/net.key
BADKEY=$IT_TMP/bad.key
it_keyfile "$KEY" peer
it_keyfile "$BADKEY" another

# peer_node NAME ADDR: a node of network $NET (keyphrase $KEY), NFS on
# ADDR:<random port>, peer port any free one on ADDR (see peer_addr).
peer_node() {
	pn=$1
	pa=$2
	pp=$(it_random_port)
	echo "$pa" >"$IT_TMP/$pn.addr"
	echo "$pp" >"$IT_TMP/$pn.port"
	"$MAGMACTL" init --data "$IT_TMP/$pn" --network "$NET" \
		--keyphrase-file "$KEY" --nfs-listen "$pa:$pp" \
		--peer-listen "$pa:0" --no-rpcbind >"$IT_TMP/$pn.init" 2>&1 ||
		{ cat "$IT_TMP/$pn.init"; it_fail "magmactl init $pn failed"; }
	it_conf_set "$pn" rpcbind no
	IT_NODES="$IT_NODES $pn"
}

# The peer "ip:port" a running node bound, from magmactl status.
peer_addr() {
	"$MAGMACTL" --data "$IT_TMP/$1" status |
		sed -n 's/^peer listen: *//p'
}

peerit() {
	timeout "${IT_TIMEOUT:-300}" "$PEERIT" "$@"
}

rc=0
peer_node a 127.0.0.2
peer_node b 127.0.0.3
it_start a
it_start b
PA=$(peer_addr a)
PB=$(peer_addr b)
it_log "peer ports: a $PA, b $PB"
case "$PA" in *:0 | "") it_fail "node a reports no bound peer port ($PA)" ;; esac
case "$PB" in *:0 | "") it_fail "node b reports no bound peer port ($PB)" ;; esac

it_log "HELLO, TABLE_GET and the KV procedures on both nodes"
peerit hello "$PA" "$KEY" "$NET" || rc=1
peerit hello "$PB" "$KEY" "$NET" || rc=1

it_log "files written through NFS on a, read over the peer protocol"
peerit files "$PA" "$KEY" "$NET" "$(it_addr a)" "$(it_port a)" || rc=1

it_log "another keyphrase: the handshake fails on both sides"
peerit badkey "$PA" "$BADKEY" "$NET" 2>"$IT_TMP/badkey.err" || rc=1
grep -q "failed the TLS handshake" "$IT_TMP/badkey.err" &&
	echo "ok - the client logged the failed handshake" ||
	{ echo "not ok - the client did not log the failed handshake"; rc=1; }
sleep 0.2
grep -q "failed the TLS handshake: wrong keyphrase" "$IT_TMP/a.err" &&
	echo "ok - node a logged the failed handshake" ||
	{ echo "not ok - node a did not log the failed handshake"; rc=1; }
grep -q "HELLO from node" "$IT_TMP/b.err" &&
	echo "ok - node b logged the HELLOs it answered" ||
	{ echo "not ok - node b logged no HELLO"; rc=1; }

it_log "an RPC in clear on the peer port"
peerit plain "$PA" || rc=1
it_log "garbage on the peer port"
peerit garbage "$PA" "$KEY" "$NET" || rc=1
it_alive a
it_alive b

it_log "one client across a restart of b and a stopped b"
mkfifo "$IT_TMP/sess.in"
# The background shell opens sess.out only after the FIFO's open returns
# (when we open it for writing below): make it now, so that steps never
# reads a file not there yet (grep fails, [ "" -lt N ] ends the loop).
: >"$IT_TMP/sess.out"
peerit session "$PB" "$KEY" "$NET" <"$IT_TMP/sess.in" \
	>"$IT_TMP/sess.out" 2>&1 &
spid=$!
exec 3>"$IT_TMP/sess.in"
steps_done() {
	sd=$(grep -c '^step done' "$IT_TMP/sess.out" 2>/dev/null)
	echo "${sd:-0}"
}
steps() {
	si=0
	while [ "$(steps_done)" -lt "$1" ] && [ $si -lt 300 ]; do
		sleep 0.1
		si=$((si + 1))
	done
	[ "$(steps_done)" -ge "$1" ] ||
		it_fail "peerit session stuck before step $1"
}
echo ok >&3
steps 1
it_stop b || it_fail "magmad b exit status $? after SIGTERM (want 0)"
it_conf_set b peer_listen "$PB" # the same port again
it_start b
echo ok >&3 # the broken connection is replaced
steps 2
kill -STOP "$(it_pid b)"
# kill only queues SIGSTOP: until the thread that takes it runs, the
# other threads still serve calls.
it_stopped b || it_fail "magmad b did not stop on SIGSTOP"
echo timeout >&3
steps 3
kill -CONT "$(it_pid b)"
echo ok >&3
steps 4
echo quit >&3
exec 3>&-
wait $spid || rc=1
cat "$IT_TMP/sess.out"

it_alive a
it_alive b
it_stop a || it_fail "magmad a exit status $? after SIGTERM (want 0)"
it_stop b || it_fail "magmad b exit status $? after SIGTERM (want 0)"
[ $rc -eq 0 ] || it_fail "some peer checks failed"
it_log "all peer checks passed"
exit 0
