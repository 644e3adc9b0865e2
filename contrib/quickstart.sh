#!/bin/sh
# quickstart.sh - build Magma and run a one-node network in the
# foreground.  Run from anywhere in the source tree, as root (or with
# sudo) so that the build dependencies can be installed:
#   sudo contrib/quickstart.sh
# Steps: contrib/install-deps.sh, autoreconf -fi, configure, make -j2 (in
# build/, or in place when the tree is already configured there); then,
# when no node exists yet in the data dir, magmactl init with a generated
# keyphrase; then magmad in the foreground, which prints the mount
# command.  Stop it with Ctrl-C.  Run it again to restart the same node.
# Environment: MAGMA_DATA (data dir, default
# ${XDG_STATE_HOME:-$HOME/.local/state}/magma/node), MAGMA_NETWORK
# (network name for a new node, default "magma"), MAGMA_NFS_LISTEN
# (default 127.0.0.1:2049).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" = 0 ]; then
	sh contrib/install-deps.sh
else
	echo "quickstart: not root: skipping contrib/install-deps.sh" \
		"(run 'sudo contrib/quickstart.sh' if the build fails)" >&2
fi

autoreconf -fi
if [ -f config.status ]; then
	build=$top # configured in place before: keep using it
else
	build=$top/build
	mkdir -p "$build"
fi
cd "$build"
[ -f config.status ] || "$top/configure"
make -j2

state=${XDG_STATE_HOME:-$HOME/.local/state}/magma
data=${MAGMA_DATA:-$state/node}
if [ ! -f "$data/magma.conf" ]; then
	keyfile=$(dirname "$data")/keyphrase
	./magmactl init --data "$data" --network "${MAGMA_NETWORK:-magma}" \
		--keyphrase-file "$keyfile" --generate-keyphrase \
		--nfs-listen "${MAGMA_NFS_LISTEN:-127.0.0.1:2049}"
fi
echo "quickstart: starting magmad for $data (Ctrl-C stops it;" \
	"'$build/magmactl --data $data status' shows it)"
exec ./magmad --data "$data"
