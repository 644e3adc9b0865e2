#!/bin/sh
# install-deps.sh - install what Magma needs from Debian's packages.
#   contrib/install-deps.sh          build and run dependencies
#   contrib/install-deps.sh --test   the same plus what the test suite and
#                                    benchmark need (libnfs, CUnit, qemu for
#                                    the kernel-client tests, nfs-ganesha)
# Needs root (apt-get). Safe to run again.
set -eu
BUILD="build-essential autoconf automake pkg-config rpcsvc-proto libtirpc-dev
libgnutls28-dev liblmdb-dev lmdb-utils libxxhash-dev"
TEST="libcunit1-dev libnfs-dev libnfs-utils qemu-system-x86 xz-utils
busybox-static nfs-ganesha nfs-ganesha-vfs rpcbind util-linux procps
iproute2 clang-format git"
pkgs=$BUILD
[ "${1:-}" = "--test" ] && pkgs="$BUILD $TEST"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: needs root for apt-get (try: sudo $0 $*)" >&2
	exit 1
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
