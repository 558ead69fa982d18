#!/usr/bin/env bash
# setup.sh - everything a fresh Debian 12 machine needs before the lab runs.
#
# Idempotent and fast when already done.  Steps:
#   1. install the Debian packages of scripts/packages.txt (+ linux-headers-$KVER)
#   2. resolve KVER from the linux-image-amd64 metapackage (or kmodlab.conf / KVER=)
#   3. download linux-image-$KVER and unpack it (dpkg -x) into the cache
#   4. build our QEMU with the lkp_enc device (vm/qemu/build.sh, cached)
#   5. build the lab's Rust-enabled kernel (vm/rust-kernel/build.sh, cached;
#      RUST_KERNEL = 0 in kmodlab.conf skips it and its packages)
#   6. record what was resolved in build/env.json (and build/kver)
#
# Usage: scripts/setup.sh [--no-qemu] [--quiet]
set -euo pipefail

# shellcheck source=scripts/conf.sh
source "$(dirname "${BASH_SOURCE[0]}")/conf.sh"
ROOT=$KMODLAB_ROOT
# shellcheck source=scripts/lib/packages.sh
source "$ROOT/scripts/lib/packages.sh"
BUILD=$ROOT/build
CACHE=$(conf_get KMODLAB_CACHE)
WITH_QEMU=1
QUIET=0

usage() {
	sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--no-qemu) WITH_QEMU=0 ;;
	--quiet) QUIET=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "setup: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

say() { [ "$QUIET" = 1 ] || echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# --- privilege: root, or sudo without a password, or tell the user -------
if [ "$(id -u)" = 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	SUDO=(sudo -n)
else
	SUDO=(NEEDS_ROOT)
fi

as_root() {
	if [ "${SUDO[0]:-}" = NEEDS_ROOT ]; then
		die "need root for: $*
run this once as root, then try again:
  sudo $*"
	fi
	"${SUDO[@]}" "$@"
}

APT_OPTS=(-o DPkg::Lock::Timeout=600 -y --no-install-recommends)
apt_updated=0
apt_update_once() {
	[ "$apt_updated" = 1 ] && return
	say "apt-get update"
	as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
	apt_updated=1
}

# package_states (scripts/lib/packages.sh), asked again after one apt-get
# update when a name is unknown: a fresh machine has empty package lists.
package_states_fresh() {
	local states
	states=$(package_states "$@")
	if grep -q ' unknown$' <<<"$states"; then
		apt_update_once
		states=$(package_states "$@")
	fi
	printf '%s\n' "$states"
}

# --- 2. kernel version ---------------------------------------------------
# A KVER that was asked for must be one Debian has, image and headers.
check_kver() {
	local kver=$1 missing
	missing=$(package_states_fresh "linux-image-$kver" "linux-headers-$kver" |
		awk '$2 == "unknown" { printf "%s ", $1 }')
	[ -z "$missing" ] ||
		die "KVER = '$kver' (from $(conf_source KVER)): Debian has no ${missing% }
(leave KVER empty to use linux-image-amd64's; list the choices with: apt-cache search --names-only '^linux-image-[0-9].*-amd64\$')"
}
resolve_kver() {
	local kver
	kver=$(conf_get KVER)
	if [ -n "$kver" ]; then
		check_kver "$kver"
		echo "$kver"
		return
	fi
	kver=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1)
	if [ -z "$kver" ]; then
		apt_update_once
		kver=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1)
	fi
	[ -n "$kver" ] || die "cannot resolve the kernel version from linux-image-amd64; set KVER=<abi> (e.g. KVER=6.1.0-56-amd64)"
	echo "$kver"
}

# --- 1. packages -----------------------------------------------------------

# Lines tagged "# RUST_KERNEL" are needed only by the Rust kernel
# (vm/rust-kernel/build.sh) and skipped when kmodlab.conf says RUST_KERNEL = 0.
lab_packages() {
	awk -v rust="$(conf_get RUST_KERNEL)" '
		/#[[:space:]]*RUST_KERNEL/ && rust != 1 { next }
		{ sub(/#.*/, ""); sub(/[[:space:]]+$/, "") }
		$0 != "" { print }' "$ROOT/scripts/packages.txt"
	echo "linux-headers-$KVER"
}

# "NAME STATE" for every lab package (scripts/lib/packages.sh); an unknown
# name first gets one apt-get update (a fresh machine has empty lists), then
# is an error that names it.
lab_package_states() {
	local pkgs states unknown
	mapfile -t pkgs < <(lab_packages)
	states=$(package_states_fresh "${pkgs[@]}")
	unknown=$(awk '$2 == "unknown" { printf "%s ", $1 }' <<<"$states")
	[ -z "$unknown" ] || die "apt knows no package named: ${unknown% }
(scripts/packages.txt, or linux-headers-\$KVER for KVER=$KVER; check the name with apt-cache policy NAME)"
	printf '%s\n' "$states"
}

install_packages() {
	local states missing
	states=$(lab_package_states)
	mapfile -t missing < <(awk '$2 == "missing" { print $1 }' <<<"$states")
	if [ ${#missing[@]} -eq 0 ]; then
		say "packages: all $(wc -l <<<"$states") present"
		return
	fi
	say "installing ${#missing[@]} packages (apt-get, a few minutes on a fresh machine): ${missing[*]}"
	apt_update_once
	as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install "${missing[@]}" >"$BUILD/apt-install.log" 2>&1 ||
		die "apt-get install failed for: ${missing[*]} (log: $BUILD/apt-install.log)"
	states=$(package_states "${missing[@]}")
	! grep -qv ' installed$' <<<"$states" ||
		die "still not installed after apt-get install: $(awk '$2 != "installed" { printf "%s ", $1 }' <<<"$states")(log: $BUILD/apt-install.log)"
}

# --- 3. kernel image -------------------------------------------------------
fetch_kernel_image() {
	local dir=$CACHE/kernel/$KVER
	if [ -f "$dir/boot/vmlinuz-$KVER" ] && [ -d "$dir/lib/modules/$KVER/kernel" ]; then
		say "kernel image $KVER: cached in $dir"
		return
	fi
	say "downloading linux-image-$KVER into $dir"
	as_root mkdir -p "$CACHE/kernel"
	local tmp
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	(cd "$tmp" && apt-get -o APT::Sandbox::User=root download "linux-image-$KVER" >/dev/null 2>&1) || {
		apt_update_once
		(cd "$tmp" && apt-get -o APT::Sandbox::User=root download "linux-image-$KVER" >/dev/null)
	} || die "cannot download linux-image-$KVER"
	as_root rm -rf "$dir.partial"
	as_root dpkg -x "$tmp"/linux-image-*.deb "$dir.partial"
	as_root rm -rf "$dir"
	as_root mv "$dir.partial" "$dir"
	rm -rf "$tmp"
}

# --- post-conditions: each step checks that what it promised holds --------
# The commands the lab runs, each with the package that provides it, and
# run once: a package can be "installed" and its tool still missing from
# PATH, shadowed, or broken.
REQUIRED_TOOLS=(
	"build-essential:gcc --version" "build-essential:make --version" "clang:clang --version"
	"llvm:llvm-strip --version" "bpftool:bpftool version" "cmake:cmake --version"
	"ninja-build:ninja --version" "meson:meson --version" "pkg-config:pkg-config --version"
	"fio:fio --version" "jq:jq --version" "cpio:cpio --version" "busybox-static:busybox true"
	"clang-format:clang-format --version" "dpkg-dev:dpkg-source --version" "kmod:modinfo --version"
)

check_tools() {
	local entry pkg cmd bad=()
	for entry in "${REQUIRED_TOOLS[@]}"; do
		pkg=${entry%%:*}
		cmd=${entry#*:}
		# shellcheck disable=SC2086  # cmd is "tool args" by design
		$cmd >/dev/null 2>&1 || bad+=("'$cmd' (package $pkg)")
	done
	[ ${#bad[@]} -eq 0 ] || die "installed, yet these do not run: ${bad[*]}
reinstall with: apt-get install --reinstall <package>"
	/usr/bin/python3 -c 'import numpy, scipy, matplotlib, pytest' 2>/dev/null ||
		die "python3 cannot import numpy/scipy/matplotlib/pytest; apt-get install --reinstall python3-numpy python3-scipy python3-matplotlib python3-pytest"
}

check_headers() {
	local dir=/usr/src/linux-headers-$KVER
	[ -f "$dir/Makefile" ] && [ -f "$dir/include/config/auto.conf" ] ||
		die "kernel headers for $KVER are incomplete ($dir/Makefile or include/config/auto.conf missing); apt-get install --reinstall linux-headers-$KVER"
}

check_kernel_image() {
	local dir=$CACHE/kernel/$KVER
	[ -s "$dir/boot/vmlinuz-$KVER" ] && [ -d "$dir/lib/modules/$KVER/kernel/fs/9p" ] ||
		die "kernel image in $dir is incomplete (no boot/vmlinuz-$KVER or lib/modules/$KVER/kernel/fs/9p); remove $dir and run make setup again"
}

# --- 5. record -----------------------------------------------------------
record_env() {
	local qemu=$1 qemu_version="" cc_version
	[ -n "$qemu" ] && qemu_version=$("$qemu" --version | head -n1)
	cc_version=$(gcc --version | head -n1)
	mkdir -p "$BUILD"
	echo "$KVER" >"$BUILD/kver.tmp" && mv "$BUILD/kver.tmp" "$BUILD/kver"
	jq -n --arg kver "$KVER" --arg qemu "$qemu" --arg qemu_version "$qemu_version" \
		--arg cc "$cc_version" --arg cache "$CACHE" \
		--arg vmlinuz "$CACHE/kernel/$KVER/boot/vmlinuz-$KVER" \
		--arg headers "/usr/src/linux-headers-$KVER" \
		'{kernel: $kver, vmlinuz: $vmlinuz, headers: $headers, qemu: $qemu,
		  qemu_version: $qemu_version, compiler: $cc, cache: $cache}' \
		>"$BUILD/env.json.tmp"
	mv "$BUILD/env.json.tmp" "$BUILD/env.json"
}

start=$(date +%s)
# jq and apt-cache are needed to resolve and record; apt-cache is always there.
KVER=$(resolve_kver)
say "kernel ABI version: $KVER"
mkdir -p "$BUILD"
install_packages
check_tools
check_headers
fetch_kernel_image
check_kernel_image
qemu_bin=""
if [ "$WITH_QEMU" = 1 ]; then
	if ! qemu_bin=$("$ROOT/vm/qemu/build.sh" --path 2>/dev/null); then
		say "building QEMU with the lkp_enc device (about 5 minutes on 2 cores, once)"
		qemu_bin=$("$ROOT/vm/qemu/build.sh" | tail -n1)
	fi
	[ -x "$qemu_bin" ] || die "vm/qemu/build.sh did not produce a QEMU binary"
	"$qemu_bin" -device help 2>/dev/null | grep -q '"lkp_enc"' ||
		die "$qemu_bin has no lkp_enc device; remove its folder under $CACHE/qemu and run make setup again"
fi
# The lab's Rust-enabled kernel (vm/rust-kernel/README.md), unless switched off.
rust_kernel=""
case $(conf_get RUST_KERNEL) in
1)
	if ! rust_kernel=$("$ROOT/vm/rust-kernel/build.sh" --path 2>/dev/null); then
		say "building the Rust kernel (vm/rust-kernel; once per source/patches/fragment, see its README for the time)"
		rust_kernel=$("$ROOT/vm/rust-kernel/build.sh" | tail -n1)
	fi
	[ -f "$rust_kernel/build-info.txt" ] || die "vm/rust-kernel/build.sh did not produce a kernel"
	;;
0) say "Rust kernel: switched off (RUST_KERNEL = 0 in $(conf_source RUST_KERNEL))" ;;
*) die "RUST_KERNEL must be 0 or 1, not '$(conf_get RUST_KERNEL)' ($(conf_source RUST_KERNEL))" ;;
esac
record_env "$qemu_bin"
say "done in $(($(date +%s) - start)) s (kernel $KVER${qemu_bin:+, qemu $qemu_bin}${rust_kernel:+, Rust kernel $rust_kernel})"
