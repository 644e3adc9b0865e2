#!/bin/sh
# it_cli.sh - magmactl and magmad command-line behaviour: init refuses an
# existing node or a public keyphrase, magmad fails clearly (non-zero,
# message on stderr) without a node, with a bad config, on a taken port
# or an unwritable data dir; status and locate; SIGTERM exits 0.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1: $2"; }
# check NAME CMD...: passes when CMD succeeds
check() { it_cn=$1; shift; if "$@"; then ok "$it_cn"; else nok "$it_cn" "failed"; fi; }

# Run magmad in the foreground with a 15 s limit; sets $out $err $rc.
run_magmad() {
	timeout 15 "$MAGMAD" "$@" >"$IT_TMP/run.out" 2>"$IT_TMP/run.err"
	rc=$?
	out=$(cat "$IT_TMP/run.out")
	err=$(cat "$IT_TMP/run.err")
}
run_ctl() {
	timeout 15 "$MAGMACTL" "$@" >"$IT_TMP/run.out" 2>"$IT_TMP/run.err"
	rc=$?
	out=$(cat "$IT_TMP/run.out")
	err=$(cat "$IT_TMP/run.err")
}
# expect_fail NAME PATTERN: last run failed (not by timeout) and stderr
# matches PATTERN (grep -Ei)
expect_fail() {
	if [ $rc -eq 0 ]; then
		nok "$1" "exit status 0 (want non-zero)"
	elif [ $rc -eq 124 ]; then
		nok "$1" "still running after 15 s"
	elif ! printf '%s\n' "$err" | grep -Eqi -- "$2"; then
		nok "$1" "message does not match /$2/: '$err'"
	else
		ok "$1"
		printf '%s\n' "$err" | head -n 2 | sed 's/^/#   /'
	fi
}

# --- init
it_node a 127.0.0.7
ok "magmactl init creates a node"
check "magma.conf has rpcbind = no" grep -Eq '^rpcbind *= *no' "$(it_dir a)/magma.conf"
run_ctl init --data "$(it_dir a)" --network it-a \
	--keyphrase-file "$IT_TMP/a.key" --nfs-listen 127.0.0.7:1 --no-rpcbind
expect_fail "init refuses a directory that holds a node" "exist|already"
check "the refused init left magma.conf alone" \
	grep -q "$(it_port a)" "$(it_dir a)/magma.conf"

printf 'public\n' >"$IT_TMP/public.key"
chmod 644 "$IT_TMP/public.key"
run_ctl init --data "$IT_TMP/pub" --network it-pub \
	--keyphrase-file "$IT_TMP/public.key" --nfs-listen 127.0.0.7:1
expect_fail "init refuses a keyphrase file readable by others" "0600|private|mode|permission"
run_ctl init --data "$IT_TMP/nokey" --network it-nokey \
	--keyphrase-file "$IT_TMP/missing.key" --nfs-listen 127.0.0.7:1
expect_fail "init refuses a missing keyphrase file" "exist|no such|not found|keyphrase"
run_ctl init --data "$IT_TMP/badnet" --network "bad name!" \
	--keyphrase-file "$IT_TMP/a.key" --nfs-listen 127.0.0.7:1
expect_fail "init refuses an invalid network name" "network|name"
run_ctl init --data "$IT_TMP/badaddr" --network it-x \
	--keyphrase-file "$IT_TMP/a.key" --nfs-listen localhost-ish
expect_fail "init refuses a malformed --nfs-listen" "listen|address|port"
run_ctl frobnicate
expect_fail "unknown magmactl command" "unknown|usage|command"

# --- magmad failures
mkdir "$IT_TMP/empty"
run_magmad --data "$IT_TMP/empty"
expect_fail "magmad without a node fails clearly" "no magma node|magma.conf|init"
run_magmad --data "$IT_TMP/does-not-exist"
expect_fail "magmad with a missing data dir fails clearly" "no magma node|exist|no such"
run_magmad --bogus-option
expect_fail "magmad with an unknown option" "usage|unknown|unrecognized|option"

it_node b 127.0.0.7
cp "$(it_dir b)/magma.conf" "$IT_TMP/b.conf.good"
echo "bogus_key = 1" >>"$(it_dir b)/magma.conf"
run_magmad --data "$(it_dir b)"
expect_fail "magmad with an unknown config key" "bogus_key|unknown"
cp "$IT_TMP/b.conf.good" "$(it_dir b)/magma.conf"
it_conf_set b nfs_listen "127.0.0.7:99999"
run_magmad --data "$(it_dir b)"
expect_fail "magmad with a bad nfs_listen port" "nfs_listen|port|address"
cp "$IT_TMP/b.conf.good" "$(it_dir b)/magma.conf"
it_conf_set b store_size "lots"
run_magmad --data "$(it_dir b)"
expect_fail "magmad with a bad store_size" "store_size|size"
cp "$IT_TMP/b.conf.good" "$(it_dir b)/magma.conf"
printf 'this is not a config line\n' >>"$(it_dir b)/magma.conf"
run_magmad --data "$(it_dir b)"
expect_fail "magmad with a garbage config line" "magma.conf"
cp "$IT_TMP/b.conf.good" "$(it_dir b)/magma.conf"
chmod 644 "$IT_TMP/b.key"
run_magmad --data "$(it_dir b)"
expect_fail "magmad refuses a keyphrase file readable by others" "0600|private|mode|permission"
chmod 600 "$IT_TMP/b.key"

# --- a running node
it_start a
addr="$(it_addr a):$(it_port a)"
check "serving line names the address" grep -q "$addr" "$IT_TMP/a.out"
run_magmad --data "$(it_dir a)"
expect_fail "a second magmad on the same data dir fails clearly" "another|running|lock|in use"
it_conf_set b nfs_listen "$addr"
run_magmad --data "$(it_dir b)"
expect_fail "magmad on a taken port fails clearly" "in use|address"

# unwritable data dir: as root, drop to nobody with setpriv
it_node c 127.0.0.7
if [ "$(id -u)" -ne 0 ]; then
	chmod 500 "$(it_dir c)"
	run_magmad --data "$(it_dir c)"
	chmod 700 "$(it_dir c)"
	expect_fail "magmad with an unwritable data dir fails clearly" "writable|permission|read-only"
elif command -v setpriv >/dev/null 2>&1; then
	chown -R 65534:65534 "$(it_dir c)" "$IT_TMP/c.key"
	chmod 711 "$IT_TMP"
	chmod 500 "$(it_dir c)"
	timeout 15 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MAGMAD" --data "$(it_dir c)" >"$IT_TMP/run.out" 2>"$IT_TMP/run.err"
	rc=$?
	err=$(cat "$IT_TMP/run.err")
	chmod 700 "$(it_dir c)"
	chmod 700 "$IT_TMP"
	expect_fail "magmad with an unwritable data dir fails clearly" "writable|permission|read-only"
else
	echo "# setpriv missing: unwritable-dir case not run"
fi

run_ctl --data "$(it_dir a)" status
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "it-a" &&
   printf '%s' "$out" | grep -q "$addr"; then
	ok "status shows network name and NFS address"
else
	nok "status shows network name and NFS address" "rc $rc out '$out' err '$err'"
fi
run_ctl status --data "$(it_dir a)"
[ $rc -eq 0 ] && ok "--data after the command" || nok "--data after the command" "rc $rc $err"
run_ctl --data "$(it_dir a)" status --json
if [ $rc -eq 0 ] && command -v python3 >/dev/null 2>&1; then
	if printf '%s' "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["network"] == "it-a", j["network"]
assert "write_verifier" in j and "store" in j and "members" in j
assert j["pid"] > 0
' 2>"$IT_TMP/json.err"; then
		ok "status --json parses and has the documented keys"
	else
		nok "status --json parses and has the documented keys" "$(cat "$IT_TMP/json.err") in '$out'"
	fi
elif [ $rc -ne 0 ]; then
	nok "status --json" "rc $rc $err"
fi
run_ctl --data "$(it_dir a)" locate /
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -Eq '[0-9a-fA-F]{40}'; then
	ok "locate / prints a 160-bit key"
else
	nok "locate / prints a 160-bit key" "rc $rc out '$out' err '$err'"
fi
run_ctl --data "$(it_dir a)" locate /no/such/file
expect_fail "locate of a missing path fails clearly" "no such|not found|exist|noent"
run_ctl --data "$(it_dir a)" locate relative/path
expect_fail "locate of a relative path fails" "absolute|path|invalid"

pid=$(it_pid a)
it_stop a
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: magmad exits 0" || nok "SIGTERM: magmad exits 0" "exit $rc"
check "socket removed at exit" test ! -e "$(it_dir a)/magmad.sock"
run_ctl --data "$(it_dir a)" status
expect_fail "status of a stopped node fails clearly" "not running|running|connect|unavailable"
it_start a
ok "restart after SIGTERM"
kill -INT "$(it_pid a)"
wait "$(it_pid a)"
rc=$?
[ $rc -eq 0 ] && ok "SIGINT: magmad exits 0" || nok "SIGINT: magmad exits 0" "exit $rc"

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
