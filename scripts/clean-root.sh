#!/usr/bin/env bash
# clean-root.sh - the README's two commands on a really fresh Debian 12, for
# maintainers: a green CI on a machine where everything is installed can hide
# a missing install step (it did once: "packages: all present" on a machine
# that had none of them).
#
# Builds a throwaway Debian 12 root with debootstrap (from the mirror this
# machine's apt uses), clones the repository's committed HEAD into it, and
# runs there, as a newcomer would, `make test` and then `make bench` (QUICK=1
# with --quick), printing the time of each phase and keeping the logs.
# Nothing of this machine's installed packages, kernel cache or QEMU build is
# visible inside: the root has its own /var/cache/kmodlab.
#
# Usage: scripts/clean-root.sh [--quick] [--keep] [--dir DIR] [--only-setup]
#   --quick       make bench QUICK=1 instead of the full bench
#   --only-setup  stop after `make setup` (the install logic alone, ~10 min)
#   --keep        keep the root afterwards (default: removed on success)
#   --dir DIR     where to build the root (default: /var/tmp/kmodlab-clean-root)
# Needs root (debootstrap, chroot, bind mounts) and about 6 GiB of disk.
# Takes about 45 minutes on 2 cores (debootstrap 3, packages 3, QEMU 4,
# make test 10-15, make bench 4 quick / 20 full). Not part of make test.
# Logs and a summary: build/clean-root/ (phases.txt, <phase>.log).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=/var/tmp/kmodlab-clean-root
QUICK=0
KEEP=0
ONLY_SETUP=0
LOGS=$ROOT/build/clean-root

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "clean-root: error: $*" >&2; exit 1; }
say() { echo "clean-root: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--only-setup) ONLY_SETUP=1 ;;
	--dir) DIR=${2:?--dir needs a directory}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option '$1' (try --help)" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts): sudo $0 $*"

mkdir -p "$LOGS"
: >"$LOGS/phases.txt"
T0=$(date +%s)

# phase NAME CMD...: run CMD with its output in LOGS/NAME.log, time it.
phase() {
	local name=$1 t rc=0
	shift
	t=$(date +%s)
	say "phase $name (log: $LOGS/$name.log)"
	"$@" >"$LOGS/$name.log" 2>&1 || rc=$?
	printf '%-14s %5d s  exit %d\n' "$name" "$(($(date +%s) - t))" "$rc" | tee -a "$LOGS/phases.txt" >&2
	if [ $rc != 0 ]; then
		tail -n 30 "$LOGS/$name.log" >&2
		die "phase $name failed (exit $rc); the root stays in $DIR for a look (chroot $DIR)"
	fi
}

# The mirror this machine's apt uses (deb822 or one-line format).
mirror() {
	local m
	m=$(sed -n 's/^URIs: *\(.*debian\/\?\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
	[ -n "$m" ] || m=$(sed -n 's/^deb \(http[^ ]*\) bookworm .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)
	echo "${m:-http://deb.debian.org/debian}"
}

MOUNTS=()
cleanup_mounts() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -l "${MOUNTS[i]}" 2>/dev/null || true
	done
	MOUNTS=()
}
trap cleanup_mounts EXIT

bind() {	# host path -> same path in the root
	mkdir -p "$DIR$1"
	mount --bind "$1" "$DIR$1"
	MOUNTS+=("$DIR$1")
}

make_root() {
	command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap
	rm -rf "$DIR"
	debootstrap --variant=minbase bookworm "$DIR" "$(mirror)"
	# The same archive suites as this machine (bookworm-updates and
	# -security carry the current kernel ABI).
	rm -f "$DIR/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/*.sources "$DIR/etc/apt/sources.list.d/" 2>/dev/null || true
	[ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$DIR/etc/apt/"
	cp /etc/resolv.conf "$DIR/etc/resolv.conf"
	# A newcomer has git and make; everything else is the lab's job.
	chroot "$DIR" apt-get update
	chroot "$DIR" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		git make ca-certificates
}

clone() {
	git -C "$ROOT" diff --quiet HEAD || say "note: uncommitted changes are not in the clone (HEAD only)"
	rm -rf "$DIR/root/kmodlab"
	git clone -q --no-hardlinks "$ROOT" "$DIR/root/kmodlab"
	git -C "$DIR/root/kmodlab" log --oneline -1
}

in_root() {	# CMD: run in the clone inside the root, as a login shell would
	chroot "$DIR" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		bash -c "cd /root/kmodlab && $*"
}

phase debootstrap make_root
bind /proc
bind /sys
bind /dev
bind /dev/pts
phase clone clone
phase setup in_root make setup
if [ "$ONLY_SETUP" = 0 ]; then
	phase make-test in_root make test
	grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/make-test.log" | tail -n1 | tee -a "$LOGS/phases.txt" >&2
	phase make-bench in_root make bench "$([ "$QUICK" = 1 ] && echo QUICK=1)"
fi
cleanup_mounts
printf '%-14s %5d s\n' total "$(($(date +%s) - T0))" | tee -a "$LOGS/phases.txt" >&2
if [ "$KEEP" = 0 ]; then
	rm -rf "$DIR"
else
	say "root kept in $DIR"
fi
say "done: $LOGS/phases.txt"
