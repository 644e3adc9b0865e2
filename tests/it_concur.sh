#!/bin/sh
# it_concur.sh - two front ends mutating one directory at once (DESIGN 4):
# three magmad nodes (127.0.0.41-.43, r = 2); front ends A and C each
# create (guarded), write, rename, remove, mkdir, rmdir and rename
# directories under unique names in one directory at the same time.  No
# call may fail (no false EEXIST or ENOENT from the other front end's
# change of the directory), and afterwards the listing through every front
# end has exactly the expected names, every file its content and the
# directory its link count (2 + subdirectories).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
it_need_server
CONCURIT=$top_builddir/tests/concurit
[ -x "$CONCURIT" ] || it_skip "tests/concurit not built (libnfs-dev missing)"
command -v python3 >/dev/null 2>&1 || it_skip "python3 missing"

NET=it-concur
KEY=$IT_TMP/net.key
it_keyfile "$KEY" concur
N=${CONCUR_N:-40}

cit() { timeout 120 "$CONCURIT" "$@"; }

it_net3 "$NET" "$KEY" 127.0.0.41 127.0.0.42 127.0.0.43

# the shared directory, made through A
DIR=/shared
cit mkdir "$(it_addr a)" "$(it_port a)" $DIR >"$IT_TMP/setup" 2>&1 ||
	it_fail "mkdir: $(cat "$IT_TMP/setup")"

cit load "$(it_addr a)" "$(it_port a)" $DIR A "$N" >"$IT_TMP/loadA" 2>&1 &
pa=$!
cit load "$(it_addr c)" "$(it_port c)" $DIR C "$N" >"$IT_TMP/loadC" 2>&1 &
pc=$!
wait $pa && ok "load through A: $(grep " errors in " "$IT_TMP/loadA")" ||
	nok "load through A" "$(head -5 "$IT_TMP/loadA")"
wait $pc && ok "load through C: $(grep " errors in " "$IT_TMP/loadC")" ||
	nok "load through C" "$(head -5 "$IT_TMP/loadC")"
for n in a b c; do
	cit check "$(it_addr $n)" "$(it_port $n)" $DIR "$N" A C \
		>"$IT_TMP/chk" 2>&1 &&
		ok "names, contents and nlink through $n: $(grep "names expected" "$IT_TMP/chk")" ||
		nok "names, contents and nlink through $n" "$(head -8 "$IT_TMP/chk")"
done
if grep -h "gave up" "$IT_TMP"/a.err "$IT_TMP"/c.err >"$IT_TMP/gaveup"; then
	nok "no operation gave up" "$(head -3 "$IT_TMP/gaveup")"
else
	ok "no operation gave up"
fi

[ $FAILS -eq 0 ] || it_fail "$FAILS checks failed"
echo "PASS: $IT_NAME"
