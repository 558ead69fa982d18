#!/usr/bin/env bash
# vm/qemu/build.sh - build Debian's QEMU 7.2 with our lkp_enc PCI device.
#
# Usage: vm/qemu/build.sh            build if needed; the LAST stdout line is
#                                    the path of qemu-system-x86_64
#        vm/qemu/build.sh --path     print that path and exit 0 if it is already
#                                    built, else exit 1 (never builds)
#        vm/qemu/build.sh --refetch  fetch the QEMU source again (a newer Debian
#                                    upload), then build
#        vm/qemu/build.sh --help
#
# Everything lives in $KMODLAB_CACHE/qemu (kmodlab.conf), outside the clone:
#   apt/                        private apt config and lists (deb-src only)
#   src/qemu-<debver>/          Debian's source tree with our device added
#   build-<debver>/             the meson/ninja build dir (kept: incremental)
#   <debver>-<hash>/            the installed, stripped qemu-system-x86_64 and
#                               build-info.txt
# <hash> is the first 12 hex digits of sha256(lkp_enc.c + build.sh +
# kmod/include/uapi/lkp_enc.h): any edit to the device, its register map or
# this script gives a new binary, and an unchanged tree is never rebuilt.
# Progress goes to stderr.  Environment: QEMU_BUILD_JOBS (default 2).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/conf.sh
source "$HERE/../../scripts/conf.sh"
ROOT=$KMODLAB_ROOT
DEVICE_C=$HERE/lkp_enc.c
UAPI_H=$ROOT/kmod/include/uapi/lkp_enc.h
CACHE=$(conf_get KMODLAB_CACHE)/qemu
JOBS=${QEMU_BUILD_JOBS:-2}
# Debian's python3 and meson, not a pyenv python3 that may come first on
# PATH (configure's --python= works only with QEMU's embedded meson, which
# Debian's source tree drops).
export PATH=/usr/bin:/bin:$PATH

# The configure line.  --without-default-features keeps the build small
# (about 1400 ninja steps); we add back only what the lab uses: KVM where the
# CPU has it, user networking, 9p/virtfs for sharing the host root (needs
# libattr and libcap-ng), and TCG plugins for instruction counting.
# The firmware search path is compiled in so the binary also boots without
# -L options (vm/run passes -L anyway).
CONFIGURE_ARGS=(
	--target-list=x86_64-softmmu
	--without-default-features
	--enable-kvm
	--enable-slirp
	--enable-fdt=system
	--enable-virtfs --enable-attr --enable-cap-ng
	--enable-plugins
	--disable-docs
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
)

START=$(date +%s)
say() { printf '[qemu-build +%ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() { printf 'vm/qemu/build.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

MODE=build
REFETCH=0
while [ $# -gt 0 ]; do
	case $1 in
	--path) MODE=path ;;
	--refetch) REFETCH=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

for f in "$DEVICE_C" "$UAPI_H"; do
	[ -f "$f" ] || die "missing $f"
done
HASH=$(cat "$DEVICE_C" "${BASH_SOURCE[0]}" "$UAPI_H" | sha256sum | cut -c1-12)

# The built binary for this hash, any Debian version (newest wins).
find_built() {
	local b
	b=$(find "$CACHE" -mindepth 2 -maxdepth 2 -path "$CACHE/*-$HASH/qemu-system-x86_64" \
		-type f -executable 2>/dev/null | sort -V | tail -n1 || true)
	[ -n "$b" ] && printf '%s\n' "$b"
}

if [ "$MODE" = path ]; then
	if find_built; then exit 0; fi
	echo "vm/qemu/build.sh: our QEMU for hash $HASH is not built yet (run vm/qemu/build.sh or make setup)" >&2
	exit 1
fi

if [ "$REFETCH" = 0 ] && bin=$(find_built); then
	say "already built: $bin"
	printf '%s\n' "$bin"
	exit 0
fi

mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
# One build at a time per cache (several clones or engineers may share it).
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	say "another build holds $CACHE/.lock; waiting"
	flock 9
fi
if [ "$REFETCH" = 0 ] && bin=$(find_built); then
	say "built meanwhile by another process: $bin"
	printf '%s\n' "$bin"
	exit 0
fi

for tool in apt-get dpkg-source dpkg-parsechangelog meson ninja pkg-config strip flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found (run make setup, or install dpkg-dev meson ninja-build pkg-config)"
done
for pc in glib-2.0 pixman-1 slirp libcap-ng; do
	pkg-config --exists "$pc" || die "pkg-config cannot find '$pc': install the build dependencies from scripts/packages.txt (make setup)"
done
# Debian's libfdt-dev and libattr1-dev ship no .pc file: check the headers.
[ -f /usr/include/libfdt.h ] || die "libfdt headers missing: apt-get install libfdt-dev"
[ -f /usr/include/attr/libattr.h ] || die "libattr headers missing: apt-get install libattr1-dev"

# --- 1. Source: Debian's qemu, fetched with a private deb-src config --------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fetch_source() {
	local apt=$CACHE/apt
	mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
	# deb822 entry for source packages only.  The security suite is there
	# because bookworm's qemu updates are published in it: the source then
	# matches Debian's installed qemu-system-x86 and its firmware packages.
	cat >"$apt/sources.list.d/kmodlab-qemu-src.sources" <<-'EOF'
		Types: deb-src
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb-src
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# Only this config: no system sources.list, own lists and cache, so the
	# system's apt state is never touched.
	APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
	say "step 1/5: apt-get update (deb-src only, private lists in $apt)"
	apt-get "${APT_OPTS[@]}" -q update >"$TMP/apt-update.log" 2>&1 ||
		{ cat "$TMP/apt-update.log" >&2; die "apt-get update against $apt failed (is deb.debian.org reachable?)"; }
	say "step 1/5: apt-get source qemu"
	mkdir -p "$TMP/dl"
	(cd "$TMP/dl" && apt-get "${APT_OPTS[@]}" -q source qemu) >"$TMP/apt-source.log" 2>&1 ||
		{ tail -n 30 "$TMP/apt-source.log" >&2; die "apt-get source qemu failed"; }
	local dir ver
	dir=$(find "$TMP/dl" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -n1)
	[ -n "$dir" ] || die "apt-get source qemu unpacked no qemu-* directory"
	ver=$(dpkg-parsechangelog -l "$dir/debian/changelog" -S Version)
	ver=${ver#*:}	# drop the epoch: it has no place in a directory name
	mkdir -p "$CACHE/src"
	rm -rf "$CACHE/src/qemu-$ver"
	mv "$dir" "$CACHE/src/qemu-$ver"
	say "step 1/5: source $ver in $CACHE/src/qemu-$ver"
}

# The newest source tree already in the cache, unless --refetch.
SRC=""
if [ "$REFETCH" = 0 ]; then
	SRC=$(find "$CACHE/src" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' 2>/dev/null | sort -V | tail -n1 || true)
fi
if [ -z "$SRC" ] || [ ! -f "$SRC/configure" ]; then
	fetch_source
	SRC=$(find "$CACHE/src" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | sort -V | tail -n1)
else
	say "step 1/5: reusing source tree $SRC"
fi
DEBVER=${SRC##*/qemu-}
grep -q '^7\.2' <<<"$DEBVER" || die "expected QEMU 7.2 (the device uses the 7.2 API), got $DEBVER in $SRC"
BUILD=$CACHE/build-$DEBVER
OUT=$CACHE/$DEBVER-$HASH

# --- 2. Add the device ------------------------------------------------------
say "step 2/5: adding lkp_enc to $SRC/hw/misc"
# Copy only on change: ninja rebuilds by mtime, so an unchanged file must keep
# its old one.
install_if_changed() {
	mkdir -p "$(dirname "$2")"
	cmp -s "$1" "$2" || cp "$1" "$2"
}
install_if_changed "$DEVICE_C" "$SRC/hw/misc/lkp_enc.c"
# The register map comes from the one uapi header; the device includes it as
# "lkp_enc.h" through -I kmodlab/include (a copy inside the cached tree, so
# the build dir does not depend on where this clone lives).
install_if_changed "$UAPI_H" "$SRC/kmodlab/include/lkp_enc.h"
if ! grep -q '^config LKP_ENC$' "$SRC/hw/misc/Kconfig"; then
	printf '\nconfig LKP_ENC\n    bool\n    default y\n    depends on PCI\n' >>"$SRC/hw/misc/Kconfig"
fi
if ! grep -q "CONFIG_LKP_ENC" "$SRC/hw/misc/meson.build"; then
	printf "\nsoftmmu_ss.add(when: 'CONFIG_LKP_ENC', if_true: files('lkp_enc.c'))\n" >>"$SRC/hw/misc/meson.build"
fi
CONFIGURE_ARGS+=("--extra-cflags=-I$SRC/kmodlab/include")

# --- 3. Configure (only when the flags changed or never done) ---------------
STAMP=$BUILD/.kmodlab-configure-args
if [ -f "$BUILD/build.ninja" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "${CONFIGURE_ARGS[*]}" ]; then
	say "step 3/5: configure: up to date ($BUILD)"
else
	say "step 3/5: configure ${CONFIGURE_ARGS[*]}"
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	(cd "$BUILD" && "$SRC/configure" "${CONFIGURE_ARGS[@]}") >"$TMP/configure.log" 2>&1 ||
		{ tail -n 40 "$TMP/configure.log" >&2; cp "$TMP/configure.log" "$CACHE/configure-failed.log";
		  die "configure failed (full log: $CACHE/configure-failed.log)"; }
	printf '%s' "${CONFIGURE_ARGS[*]}" >"$STAMP"
	rm -f "$CACHE/configure-failed.log"
fi

# --- 4. Compile ---------------------------------------------------------------
say "step 4/5: ninja -j$JOBS qemu-system-x86_64 (log: $BUILD/kmodlab-ninja.log)"
T0=$(date +%s)
NINJA_STATUS='[%f/%t %es] ' ninja -C "$BUILD" -j"$JOBS" qemu-system-x86_64 >"$BUILD/kmodlab-ninja.log" 2>&1 &
ninja_pid=$!
# A status line every 30 s instead of ninja's 1400 lines.
while kill -0 "$ninja_pid" 2>/dev/null; do
	for _ in $(seq 30); do
		sleep 1
		kill -0 "$ninja_pid" 2>/dev/null || break
	done
	kill -0 "$ninja_pid" 2>/dev/null &&
		say "step 4/5: $(grep -o '^\[[0-9]*/[0-9]* [0-9.]*s\]' "$BUILD/kmodlab-ninja.log" | tail -n1)"
done
if ! wait "$ninja_pid"; then
	grep -B2 -A20 -m3 -E 'error|FAILED' "$BUILD/kmodlab-ninja.log" >&2 || tail -n 40 "$BUILD/kmodlab-ninja.log" >&2
	die "compilation failed (full log: $BUILD/kmodlab-ninja.log)"
fi
COMPILE_S=$(($(date +%s) - T0))
say "step 4/5: compiled in ${COMPILE_S} s"

# --- 5. Check and install ---------------------------------------------------
say "step 5/5: checking the device is registered, installing into $OUT"
"$BUILD/qemu-system-x86_64" -device help 2>&1 | grep -q '"lkp_enc"' ||
	die "the built QEMU does not list the lkp_enc device (-device help)"
mkdir -p "$OUT"
strip -o "$OUT/qemu-system-x86_64.tmp" "$BUILD/qemu-system-x86_64"
{
	echo "debian_version=$DEBVER"
	echo "hash=$HASH"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "compile_seconds=$COMPILE_S"
	echo "total_seconds=$(($(date +%s) - START))"
	echo "jobs=$JOBS"
	echo "configure=${CONFIGURE_ARGS[*]}"
	echo "source=$SRC"
	echo "build_dir=$BUILD"
} >"$OUT/build-info.txt"
# Rename last: --path only ever sees a complete binary.
mv "$OUT/qemu-system-x86_64.tmp" "$OUT/qemu-system-x86_64"
say "done in $(($(date +%s) - START)) s"
printf '%s\n' "$OUT/qemu-system-x86_64"
