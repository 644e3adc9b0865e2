#!/bin/bash
# check.sh - what CI runs (.ci/run): install the build and test
# dependencies, build, run the whole test suite, then build again with
# AddressSanitizer and UndefinedBehaviorSanitizer and run it again.
# Exits non-zero on any failure, after printing the failed tests' logs.
#   bash contrib/check.sh
# Builds out of tree, in build-check/ and build-check-san/ at the top of
# the source tree (MAGMA_CHECK_DIR changes where).  Run as root for the
# dependencies and the kernel-client tests.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
base=${MAGMA_CHECK_DIR:-$top}
jobs=${MAGMA_JOBS:-2}

step() { printf '\n==== check.sh: %s\n' "$*"; }

step "dependencies"
if [ "$(id -u)" = 0 ]; then
	sh contrib/install-deps.sh --test
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo -n sh contrib/install-deps.sh --test
else
	echo "check.sh: not root: skipping contrib/install-deps.sh --test" >&2
fi

step "autoreconf"
if [ -f config.status ]; then
	# Automake refuses out-of-tree builds of a tree configured in place.
	echo "check.sh: the source tree is configured in place: make distclean"
	make distclean >/dev/null
fi
autoreconf -fi

# build DIR [CONFIGURE-ARGS...]: configure, make, make check in DIR.
# Called in an || list, where set -e does not apply: every step says
# what happens when it fails.
build() {
	local dir=$1 log
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	cd "$dir" || return 1
	step "configure $* (in $dir)"
	"$top/configure" "$@" || { cd "$top"; return 1; }
	step "make -j$jobs (in $dir)"
	make -j"$jobs" || { cd "$top"; return 1; }
	step "make check (in $dir)"
	if ! make -j"$jobs" check VERBOSE=1; then
		step "FAILED: make check in $dir; logs:"
		for log in test-suite.log $(find . -name '*.log' \
			! -name test-suite.log ! -name config.log | sort); do
			[ -f "$log" ] || continue
			printf '\n---- %s\n' "$log"
			tail -n 200 "$log"
		done
		cd "$top"
		return 1
	fi
	cd "$top"
}

# Formatting is mechanical (.clang-format): a diff is a failure.
failed=""
step "clang-format"
if command -v clang-format >/dev/null; then
	unformatted=$(git ls-files '*.c' '*.h' 2>/dev/null | while read -r f; do
		clang-format "$f" | cmp -s - "$f" || echo "$f"
	done)
	if [ -n "$unformatted" ]; then
		echo "check.sh: not formatted (run clang-format -i):" $unformatted
		failed="$failed clang-format"
	fi
else
	echo "check.sh: clang-format not installed: formatting not checked" >&2
fi

# Both builds run even when the first fails, so one CI run shows all.
build "$base/build-check" || failed="$failed build-check"
build "$base/build-check-san" --enable-sanitizers ||
	failed="$failed build-check-san"

# One closing line over both builds' test suites.
pass=0 fail=0 skip=0
for d in "$base/build-check" "$base/build-check-san"; do
	log="$d/test-suite.log"
	[ -f "$log" ] || continue
	pass=$((pass + $(sed -n 's/^# PASS: *//p' "$log")))
	fail=$((fail + $(sed -n 's/^# FAIL: *//p' "$log") + \
		$(sed -n 's/^# ERROR: *//p' "$log")))
	skip=$((skip + $(sed -n 's/^# SKIP: *//p' "$log")))
done

if [ -n "$failed" ]; then
	step "FAILED in:$failed"
	echo "check: $pass passed, $fail failed, $skip skipped"
	exit 1
fi
step "all checks passed"
echo "check: $pass passed, $fail failed, $skip skipped"
