#!/bin/sh
# it_unstable.sh - UNSTABLE writes in a 3-node network (r = 2) on
# 127.0.0.61..63.  They are answered UNSTABLE (the primary has them on
# disk; its queue takes them to the backup).  COMMIT through the same
# front end answers the writes' verifier when nothing restarted, and the
# file then reads back whole, also with its primary killed (from the
# backup).  When the file's primary is killed and restarted between the
# writes and the COMMIT, or is still down at the COMMIT, the COMMIT
# answers another verifier, so that the client sends its writes again;
# and so it does (checked first) when the primary was paused past
# down_after (the others served its keys meanwhile) between the writes
# and the COMMIT.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_nfsit
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-unstable
KEY=$IT_TMP/net.key
it_keyfile "$KEY" unstable

it_net3 "$NET" "$KEY" 127.0.0.61 127.0.0.62 127.0.0.63

# name_of ID: the node (a, b or c) with that id.
name_of() {
	for no_n in a b c; do
		[ "$(it_net_id $no_n)" = "$1" ] && echo $no_n
	done
}

# uwrite FE STATE: a file written UNSTABLE through FE whose primary is
# another node (new files until one is; placement is by name); sets
# PRIMARY and BACKUP to node names.
uwrite() {
	uw_i=0
	while [ $uw_i -lt 12 ]; do
		it_nfsit uwrite "$(it_addr "$1")" "$(it_port "$1")" "$2" \
			>"$2.log" 2>&1 || { cat "$2.log"; return 1; }
		set -- "$1" "$2" $(it_net_owners "$1" "/$(sed -n 's/^name //p' "$2")")
		PRIMARY=$(name_of "$3")
		BACKUP=$(name_of "$4")
		[ -n "$PRIMARY" ] && [ -n "$BACKUP" ] && [ "$PRIMARY" != "$1" ] &&
			return 0
		uw_i=$((uw_i + 1))
	done
	echo "no file placed with a primary other than $1"
	return 1
}

# back_up NAME: restarted NAME is up everywhere and serving as primary
# (caught up); a tries a node that failed it last for KV_NET_SUSPECT_MS
# (5 s), so wait that out too: writes then go to each file's primary.
back_up() {
	it_net_converge 30 3 a b c || it_fail "$1 did not come back up"
	it_wait_until 30 sh -c "'$MAGMACTL' --data '$IT_TMP/$1' status 2>/dev/null | grep -q 'serving as primary'" ||
		it_fail "$1 not serving as primary after its restart"
	sleep 6
}

ucommit() { # FE STATE same|changed
	it_nfsit ucommit "$(it_addr "$1")" "$(it_port "$1")" "$2" "$3" \
		>"$2.commit" 2>&1
}

# ---- the primary is paused past down_after before the COMMIT ----
# The others served its keys meanwhile: what it still had queued for
# them is dropped, not sent late, so the COMMIT must not vouch for it.
# First, while all three are fresh: the paused one's files need their
# other owner serving.
uwrite a "$IT_TMP/s0" || nok "UNSTABLE writes through a (0)" "$(head -5 "$IT_TMP/s0.log")"
P0=$PRIMARY
kill -STOP "$(it_pid "$P0")"
it_stopped "$P0" || it_fail "$P0 did not stop"
it_wait_until 20 it_net_unreachable a "$P0" ||
	{ kill -CONT "$(it_pid "$P0")"; it_fail "a never saw $P0 unreachable"; }
kill -CONT "$(it_pid "$P0")"
ucommit a "$IT_TMP/s0" changed && ok "primary $P0 paused past down_after before the COMMIT: another verifier" ||
	nok "COMMIT after $P0 was paused" "$(grep -v '^ok' "$IT_TMP/s0.commit" | head -5)"
it_wait_until 5 grep -q "paused or cut off: forwards queued before are dropped" "$IT_TMP/$P0.err" &&
	ok "$P0 logged that it dropped its queued forwards" ||
	nok "$P0's log" "$(tail -5 "$IT_TMP/$P0.err")"
back_up "$P0"

# ---- nothing restarts: the writes' verifier, and the backup has them ----
uwrite a "$IT_TMP/s1" && ok "UNSTABLE writes through a answered UNSTABLE (primary $PRIMARY, backup $BACKUP)" ||
	nok "UNSTABLE writes through a" "$(grep -v '^ok' "$IT_TMP/s1.log" | head -5)"
ucommit a "$IT_TMP/s1" same && ok "COMMIT through a: the writes' verifier, file whole" ||
	nok "COMMIT through a" "$(grep -v '^ok' "$IT_TMP/s1.commit" | head -5)"
P1=$PRIMARY
it_kill9 "$P1"
FE=a
[ "$P1" = a ] && FE=$BACKUP
# The same file read through another front end, from the backup alone.
cp "$IT_TMP/s1" "$IT_TMP/s1b"
ucommit "$FE" "$IT_TMP/s1b" same && ok "primary $P1 killed: the committed file reads back whole through $FE" ||
	nok "committed file with $P1 killed" "$(grep -v '^ok' "$IT_TMP/s1b.commit" | head -5)"
it_start "$P1"
back_up "$P1"

# ---- the primary restarts between the writes and the COMMIT ----
uwrite a "$IT_TMP/s2" || nok "UNSTABLE writes through a (2)" "$(head -5 "$IT_TMP/s2.log")"
P2=$PRIMARY
it_log "primary $P2 killed and restarted before the COMMIT"
it_kill9 "$P2"
it_start "$P2"
ucommit a "$IT_TMP/s2" changed && ok "primary $P2 restarted before the COMMIT: another verifier" ||
	nok "COMMIT after $P2 restarted" "$(grep -v '^ok' "$IT_TMP/s2.commit" | head -5)"
back_up "$P2"

# ---- the primary is down at the COMMIT ----
uwrite a "$IT_TMP/s3" || nok "UNSTABLE writes through a (3)" "$(head -5 "$IT_TMP/s3.log")"
P3=$PRIMARY
it_kill9 "$P3"
ucommit a "$IT_TMP/s3" changed && ok "primary $P3 down at the COMMIT: another verifier" ||
	nok "COMMIT with $P3 down" "$(grep -v '^ok' "$IT_TMP/s3.commit" | head -5)"
# ... and one more COMMIT, with nothing new written, keeps that verifier.
it_nfsit uwrite "$(it_addr a)" "$(it_port a)" "$IT_TMP/s4" >"$IT_TMP/s4.log" 2>&1
F4=$(sed -n 's/^name //p' "$IT_TMP/s4")
[ -n "$F4" ] && ucommit a "$IT_TMP/s4" same &&
	ok "later writes and COMMIT agree on the new verifier" ||
	nok "writes after the change" "$(grep -v '^ok' "$IT_TMP/s4.log" "$IT_TMP/s4.commit" 2>/dev/null | head -5)"

[ $FAILS = 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
