#!/usr/bin/env bash
# setup.sh - everything a fresh Debian 12 machine needs before the lab runs.
#
# Idempotent and fast when already done.  Steps:
#   1. resolve each kernel of kmodlab.conf KERNELS to its ABI (a Debian
#      metapackage such as linux-image-amd64 at set-up time; a self-built
#      kernel from its modules folder)
#   2. install the Debian packages of scripts/packages.txt, plus
#      linux-headers-<abi> of every Debian kernel
#   3. download each Debian linux-image-<abi>, unpack it (dpkg -x) into the
#      cache; check each kernel's image, build tree and modules folder
#   4. build the lab's Rust-enabled kernel (vm/rust-kernel/build.sh, cached;
#      RUST_KERNEL = 0 in kmodlab.conf skips it and its packages), before the
#      kernels are checked: KERNEL_rust is a 'path' kernel pointing at it
#      build our QEMU with the lkp_enc device (vm/qemu/build.sh, cached)
#   5. record each kernel in build/kernels/<abi>/kernel.env (+ by-name/),
#      everything in build/env.json, the default kernel's ABI in build/kver
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
	sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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

# --- 2. kernels (kmodlab.conf KERNELS, KERNEL_<name>) --------------------
# Each configured kernel becomes "NAME KIND ABI IMAGE BUILD MODULES" (one
# line in KERNEL_LINES); a Debian one names what set-up fetches and installs.
die_kernel() {	# name message
	local key
	key=$(kernel_key "$1")
	die "$key = '$(conf_get "$key")' (from $(conf_source "$key")): $2"
}

# The ABI a Debian image package stands for: a metapackage depends on
# linux-image-<abi>; an ABI package (no such dependency) is its own.
debian_abi() {	# name package
	local pkg=$2 abi state
	state=$(package_states_fresh "$pkg" | awk '{ print $2 }')
	[ "$state" != unknown ] ||
		die_kernel "$1" "Debian has no package $pkg (list the choices with: apt-cache search --names-only '^linux-image-.*amd64\$')"
	abi=$(apt-cache depends "$pkg" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' | head -n1)
	[ -n "$abi" ] || abi=${pkg#linux-image-}
	[[ $pkg == linux-image-* && $abi =~ ^[0-9] ]] ||
		die_kernel "$1" "$pkg is not a linux-image-<abi> package or metapackage"
	[ "$(package_states_fresh "linux-headers-$abi" | awk '{ print $2 }')" != unknown ] ||
		die_kernel "$1" "$pkg means ABI $abi, but Debian has no linux-headers-$abi"
	echo "$abi"
}

resolve_kernel() {	# name -> one KERNEL_LINES line
	local name=$1 key spec kind abi
	key=$(kernel_key "$name")
	conf_has "$key" || die "KERNELS names '$name' but there is no $key (add '$key = debian linux-image-...' or '$key = path IMAGE BUILD MODULES' to kmodlab.conf)"
	spec=$(conf_get "$key")
	read -r kind _ <<<"$spec"
	case $kind in
	debian)
		[ "$(wc -w <<<"$spec")" = 2 ] || die_kernel "$name" "write 'debian PACKAGE'"
		abi=$(debian_abi "$name" "$(awk '{ print $2 }' <<<"$spec")") || exit 1
		echo "$name debian $abi $CACHE/kernel/$abi/boot/vmlinuz-$abi /usr/src/linux-headers-$abi $CACHE/kernel/$abi/lib/modules/$abi"
		;;
	path)
		local image build modules
		read -r _ image build modules extra <<<"$spec"
		[ -n "$modules" ] && [ -z "${extra:-}" ] || die_kernel "$name" "write 'path IMAGE BUILD MODULES' (three absolute paths)"
		abi=$(basename "$modules")
		echo "$name path $abi $image $build $modules"
		;;
	*) die_kernel "$name" "the first word must be 'debian' or 'path', not '$kind'" ;;
	esac
}

resolve_kernels() {
	local name seen=" "
	KERNEL_LINES=""
	for name in $(kernel_names); do
		KERNEL_LINES+=$(resolve_kernel "$name")$'\n' || exit 1
	done
	KERNEL_LINES=${KERNEL_LINES%$'\n'}
	# Two names for one ABI would share build/kernels/<abi>/: say so.
	while read -r name _ abi _; do
		[[ $seen == *" $abi "* ]] && die "two kernels of KERNELS resolve to ABI $abi; drop one (build outputs are kept per ABI)"
		seen+="$abi "
	done <<<"$KERNEL_LINES"
}

# --- 1. packages -----------------------------------------------------------

# Lines tagged "# RUST_KERNEL" are needed only by the Rust kernel
# (vm/rust-kernel/build.sh) and skipped when kmodlab.conf says RUST_KERNEL = 0.
lab_packages() {
	awk -v rust="$(conf_get RUST_KERNEL)" '
		/#[[:space:]]*RUST_KERNEL/ && rust != 1 { next }
		{ sub(/#.*/, ""); sub(/[[:space:]]+$/, "") }
		$0 != "" { print }' "$ROOT/scripts/packages.txt"
	awk '$2 == "debian" { print "linux-headers-" $3 }' <<<"$KERNEL_LINES"
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
(scripts/packages.txt, or the linux-headers-<abi> of a kernel of KERNELS; check the name with apt-cache policy NAME)"
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
# dpkg -x leaves out what the package's postinst makes: modules.dep (the
# guest's initramfs list follows it, and modprobe in the guest needs it).
run_depmod() {	# root abi
	[ -s "$1/lib/modules/$2/modules.dep" ] && return
	say "depmod for $2 (modules.dep of the unpacked image)"
	as_root depmod -b "$1" "$2" || die "depmod -b $1 $2 failed"
}

fetch_kernel_image() {	# abi
	local abi=$1 dir=$CACHE/kernel/$1 tmp
	if [ -f "$dir/boot/vmlinuz-$abi" ] && [ -d "$dir/lib/modules/$abi/kernel" ]; then
		say "kernel image $abi: cached in $dir"
		run_depmod "$dir" "$abi"
		return
	fi
	say "downloading linux-image-$abi into $dir"
	as_root mkdir -p "$CACHE/kernel"
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	(cd "$tmp" && apt-get -o APT::Sandbox::User=root download "linux-image-$abi" >/dev/null 2>&1) || {
		apt_update_once
		(cd "$tmp" && apt-get -o APT::Sandbox::User=root download "linux-image-$abi" >/dev/null)
	} || die "cannot download linux-image-$abi"
	as_root rm -rf "$dir.partial"
	as_root dpkg -x "$tmp"/linux-image-*.deb "$dir.partial"
	run_depmod "$dir.partial" "$abi"
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

# Kbuild's tree of a kernel: Debian's headers or a self-built build tree.
check_build_dir() {	# name abi dir
	local fix="apt-get install --reinstall linux-headers-$2"
	[ "$(awk -v n="$1" '$1 == n { print $2 }' <<<"$KERNEL_LINES")" = path ] &&
		fix="build the kernel there (make), or fix $(kernel_key "$1")"
	[ -f "$3/Makefile" ] && [ -f "$3/include/config/auto.conf" ] ||
		die "kernel $1 ($2): build tree $3 is incomplete (Makefile or include/config/auto.conf missing); $fix"
}

# The image boots and its modules folder has what the guest loads from it.
check_kernel_image() {	# name abi image modules
	[ -s "$3" ] || die "kernel $1 ($2): no image $3; remove $CACHE/kernel/$2 and run make setup again (self-built: fix $(kernel_key "$1"))"
	[ -s "$4/modules.dep" ] && [ -s "$4/modules.builtin" ] ||
		die "kernel $1 ($2): $4 has no modules.dep / modules.builtin (Debian: remove $CACHE/kernel/$2 and run make setup again; self-built: run make modules_install and depmod)"
}

# build/kernels/<abi>/kernel.env and by-name/<name>: what scripts/conf.sh
# (kernel_field) and analysis/conf.py (kernels()) read.
record_kernel() {	# name kind abi image build modules
	local out=$BUILD/kernels/$3
	mkdir -p "$out" "$BUILD/kernels/by-name"
	printf 'NAME=%s\nABI=%s\nSOURCE=%s\nIMAGE=%s\nBUILD=%s\nMODULES=%s\n' \
		"$1" "$3" "$(conf_get "$(kernel_key "$1")")" "$4" "$5" "$6" >"$out/kernel.env.tmp"
	mv "$out/kernel.env.tmp" "$out/kernel.env"
	ln -sfn "../$3" "$BUILD/kernels/by-name/$1"
}

set_up_kernels() {
	local name kind abi image build modules
	while read -r name kind abi image build modules; do
		[ "$kind" = debian ] && fetch_kernel_image "$abi"
		check_build_dir "$name" "$abi" "$build"
		check_kernel_image "$name" "$abi" "$image" "$modules"
		record_kernel "$name" "$kind" "$abi" "$image" "$build" "$modules"
		say "kernel $name: $abi ($kind)"
	done <<<"$KERNEL_LINES"
	# Names no longer configured must not resolve to stale outputs.
	for link in "$BUILD"/kernels/by-name/*; do
		[ -L "$link" ] || continue
		grep -q "^$(basename "$link") " <<<"$KERNEL_LINES" || rm -f "$link"
	done
}

# --- the Rust kernel --------------------------------------------------------
# Built unless RUST_KERNEL = 0; then no kernel of KERNELS may point into its
# cache folder (the two settings must agree).
rust_kernel_step() {
	local switch
	switch=$(conf_get RUST_KERNEL)
	case $switch in
	1)
		if ! RUST_KERNEL_DIR=$("$ROOT/vm/rust-kernel/build.sh" --path 2>/dev/null); then
			say "building the Rust kernel (vm/rust-kernel/README.md: about 30-60 minutes on 2 busy cores, once)"
			RUST_KERNEL_DIR=$("$ROOT/vm/rust-kernel/build.sh" | tail -n1)
		fi
		[ -f "$RUST_KERNEL_DIR/build-info.txt" ] || die "vm/rust-kernel/build.sh did not produce a kernel"
		;;
	0)
		! grep -q " $CACHE/rust-kernel/" <<<"$KERNEL_LINES" ||
			die "RUST_KERNEL = 0 ($(conf_source RUST_KERNEL)) but KERNELS still names the Rust kernel: remove it from KERNELS too"
		say "Rust kernel: switched off (RUST_KERNEL = 0, $(conf_source RUST_KERNEL))"
		;;
	*) die "RUST_KERNEL must be 0 or 1, not '$switch' ($(conf_source RUST_KERNEL))" ;;
	esac
}

# --- 5. record -----------------------------------------------------------
record_env() {
	local qemu=$1 qemu_version="" cc_version kernels
	[ -n "$qemu" ] && qemu_version=$("$qemu" --version | head -n1)
	cc_version=$(gcc --version | head -n1)
	mkdir -p "$BUILD"
	# build/kver: the default (first) kernel's ABI, for the tools that build
	# once (the host CMake tree: BPF objects are CO-RE, built against it).
	echo "$DEFAULT_ABI" >"$BUILD/kver.tmp" && mv "$BUILD/kver.tmp" "$BUILD/kver"
	kernels=$(awk '{ printf "{\"name\":\"%s\",\"kind\":\"%s\",\"abi\":\"%s\",\"image\":\"%s\",\"build\":\"%s\",\"modules\":\"%s\"}\n", $1, $2, $3, $4, $5, $6 }' <<<"$KERNEL_LINES" | jq -s .)
	jq -n --arg kver "$DEFAULT_ABI" --arg qemu "$qemu" --arg qemu_version "$qemu_version" \
		--arg cc "$cc_version" --arg cache "$CACHE" --argjson kernels "$kernels" \
		'{kernel: $kver, vmlinuz: $kernels[0].image, headers: $kernels[0].build, kernels: $kernels,
		  qemu: $qemu, qemu_version: $qemu_version, compiler: $cc, cache: $cache}' \
		>"$BUILD/env.json.tmp"
	mv "$BUILD/env.json.tmp" "$BUILD/env.json"
}

start=$(date +%s)
resolve_kernels
DEFAULT_ABI=$(head -n1 <<<"$KERNEL_LINES" | awk '{ print $3 }')
say "kernels: $(awk '{ printf "%s=%s ", $1, $3 }' <<<"$KERNEL_LINES")"
mkdir -p "$BUILD"
install_packages
check_tools
RUST_KERNEL_DIR=""
rust_kernel_step
set_up_kernels
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
record_env "$qemu_bin"
say "done in $(($(date +%s) - start)) s (kernels $(awk '{ print $3 }' <<<"$KERNEL_LINES" | paste -sd, -)${qemu_bin:+, qemu $qemu_bin}${RUST_KERNEL_DIR:+, Rust kernel $RUST_KERNEL_DIR})"
