#!/usr/bin/env bash
# vm/rust-kernel/build.sh - build the lab's Rust-enabled 6.12 kernel.
#
# Usage: vm/rust-kernel/build.sh           build if needed; the LAST stdout line
#                                          is the kernel directory (see below)
#        vm/rust-kernel/build.sh --path    print that directory and exit 0 if it
#                                          is built, else exit 1 (never builds)
#        vm/rust-kernel/build.sh --key     print the cache key and exit
#        vm/rust-kernel/build.sh --help
#
# Neither of Debian 12's kernels enables CONFIG_RUST.  This script unpacks
# Debian's linux-source-6.12, applies patches/*.patch (bindgen 0.60 support,
# vm/rust-kernel/README.md says why each one), configures `make tinyconfig`
# plus config.fragment (every fragment line is checked afterwards), and builds
# with LLVM=1 and Debian's rustc-web (/usr/bin/rustc) and bindgen.
#
# Everything lives in $KMODLAB_CACHE/rust-kernel/<key>/ (kmodlab.conf):
#   src/                       the built tree (in-tree build: external modules
#                              build with `make -C src M=...`)
#   boot/vmlinuz-<release>     the kernel image (boot/vmlinuz: the same)
#   lib/modules/<release>/     modules_install output (build -> src)
#   build-info.txt             release, toolchain, build time
# <key> = first 12 hex digits of sha256(linux-source version, patches,
# fragment, rustc/bindgen/clang versions): any change gives a new kernel,
# an unchanged one is never rebuilt.  $KMODLAB_CACHE/rust-kernel/current
# points at the last one built or found here: kmodlab.conf's KERNEL_rust
# (a 'path' kernel) names it through that link.  Switched off by
# RUST_KERNEL = 0.
# Progress goes to stderr.  Environment: RUST_KERNEL_JOBS (default: nproc).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/conf.sh
source "$HERE/../../scripts/conf.sh"
CACHE=$(conf_get KMODLAB_CACHE)/rust-kernel
SRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
JOBS=${RUST_KERNEL_JOBS:-$(nproc)}
# Debian's toolchain by absolute path: a rustup rustc earlier on PATH must not
# build the kernel's proc macros (HOSTRUSTC) or its crates (RUSTC).
KMAKE_ARGS=(LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	BINDGEN=/usr/bin/bindgen)

START=$(date +%s)
say() { printf '[rust-kernel +%ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() { printf 'vm/rust-kernel/build.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

MODE=build
RESUMED=0
case ${1:-} in
"") ;;
--path) MODE=path ;;
--key) MODE=key ;;
-h | --help) usage; exit 0 ;;
*) die "unknown argument '$1' (see --help)" ;;
esac

# Versions of everything that changes the built kernel or what modules must
# be compiled with (a module's Rust must come from the kernel's rustc).
toolchain_id() {
	dpkg-query -W -f='${Package} ${Version}\n' linux-source-6.12 2>/dev/null ||
		die "linux-source-6.12 is not installed (make setup installs it; RUST_KERNEL = 0 in kmodlab.conf switches the Rust kernel off)"
	/usr/bin/rustc --version || die "/usr/bin/rustc missing: apt-get install rustc-web"
	/usr/bin/bindgen --version || die "/usr/bin/bindgen missing: apt-get install bindgen"
	clang --version | head -n1
}

cache_key() {
	{ toolchain_id; cat "$HERE"/patches/*.patch "$HERE/config.fragment"; } | sha256sum | cut -c1-12
}

KEY=$(cache_key)
OUT=$CACHE/$KEY
case $MODE in
key) echo "$KEY"; exit 0 ;;
path)
	[ -f "$OUT/build-info.txt" ] && { echo "$OUT"; exit 0; }
	echo "vm/rust-kernel/build.sh: the Rust kernel $KEY is not built yet (run vm/rust-kernel/build.sh or make setup)" >&2
	exit 1 ;;
esac
[ "$(conf_get RUST_KERNEL)" = 1 ] ||
	die "RUST_KERNEL is '$(conf_get RUST_KERNEL)' ($(conf_source RUST_KERNEL)): the Rust kernel is switched off on this machine"
# kmodlab.conf's KERNEL_rust reaches the kernel through $CACHE/current; its
# modules folder must carry this kernel's release (the guest's uname -r).
point_current() {
	local release want
	release=$(sed -n 's/^release=//p' "$OUT/build-info.txt")
	if conf_has KERNEL_rust; then
		want=$(basename "$(awk '{ print $4 }' <<<"$(conf_get KERNEL_rust)")")
		[ "$want" = "$release" ] || die "kmodlab.conf KERNEL_rust names release '$want', but the Rust kernel built from $(dpkg-query -W -f='${Version}' linux-source-6.12) is '$release': write $release as the last path's folder name"
	fi
	ln -sfn "vmlinuz-$release" "$OUT/boot/vmlinuz"
	# How external modules must be built against this tree (kmod/Makefile).
	echo "${KMAKE_ARGS[*]}" >"$OUT/src/kmodlab-make-args"
	ln -sfn "$KEY" "$CACHE/current"
}
if [ -f "$OUT/build-info.txt" ]; then
	say "already built: $OUT"
	point_current
	echo "$OUT"
	exit 0
fi

mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	say "another build holds $CACHE/.lock; waiting"
	flock 9
fi
[ -f "$OUT/build-info.txt" ] && { say "built meanwhile by another process: $OUT"; point_current; echo "$OUT"; exit 0; }
for tool in clang ld.lld llvm-nm pahole flex bison bc xz; do
	command -v "$tool" >/dev/null || die "'$tool' not found (run make setup: scripts/packages.txt)"
done

kmake() { make -C "$OUT/src" "${KMAKE_ARGS[@]}" "$@"; }

# 1. Source: Debian's tarball, unpacked once per version into src-<version>/
# (about 1.5 GB, minutes on a busy machine), then linked into this kernel's
# tree (cp -al: the build only adds files; patch(1) replaces the files it
# changes instead of writing through the links) and patched.
unpack() {
	local ver pristine p
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	pristine=$CACHE/src-$ver
	if [ ! -f "$pristine/Makefile" ]; then
		say "step 1/5: unpacking $SRC_TARBALL ($ver) into $pristine"
		rm -rf "$pristine" "$pristine.tmp"
		mkdir -p "$pristine.tmp"
		tar -C "$pristine.tmp" -xJf "$SRC_TARBALL"
		mv "$pristine.tmp/linux-source-6.12" "$pristine"
		rmdir "$pristine.tmp"
	fi
	say "step 1/5: linking $pristine into $OUT/src"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	cp -al "$pristine" "$OUT/src"
	for p in "$HERE"/patches/*.patch; do
		say "step 1/5: applying ${p##*/}"
		# Own copies of the files it changes: never write through a link
		# into the pristine tree.
		sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p" | while read -r f; do
			cp "$OUT/src/$f" "$OUT/src/$f.own" && mv "$OUT/src/$f.own" "$OUT/src/$f"
		done
		patch -d "$OUT/src" -p1 --forward --quiet <"$p" || die "patch ${p##*/} does not apply to linux-source-6.12 $ver"
	done
}

# 2. Configuration: tinyconfig's base (kernel/configs/tiny-base.config,
# arch/x86/configs/tiny.config) + the fragment in one allnoconfig run (what
# `make tinyconfig` does, with our lines last so they win; one Kconfig pass
# instead of three: each costs minutes of $(cc-option) probes on a busy
# machine), then every fragment line checked.
configure() {
	say "step 2/5: checking the Rust toolchain (make rustavailable)"
	kmake rustavailable >"$OUT/rustavailable.log" 2>&1 ||
		{ cat "$OUT/rustavailable.log" >&2; die "the kernel does not accept this Rust toolchain (log above)"; }
	say "step 2/5: allnoconfig + tiny-base.config + tiny.config + config.fragment"
	cat "$OUT/src/kernel/configs/tiny-base.config" "$OUT/src/kernel/configs/tiny.config" \
		"$OUT/src/arch/x86/configs/tiny.config" "$HERE/config.fragment" >"$OUT/allno.config"
	KCONFIG_ALLCONFIG="$OUT/allno.config" kmake -s allnoconfig >"$OUT/config.log" 2>&1 ||
		{ cat "$OUT/config.log" >&2; die "make allnoconfig failed"; }
	check_config
}

check_config() {
	local line sym want got bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*}; want=$line ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want="" ;;
		*) continue ;;
		esac
		got=$(grep -E "^$sym=" "$OUT/src/.config" || true)
		if [ "$got" != "$want" ]; then
			echo "  $sym: fragment wants '${want:-not set}', Kconfig gave '${got:-not set}'" >&2
			bad=1
		fi
	done <"$HERE/config.fragment"
	[ "$bad" = 0 ] || die "config.fragment values refused by Kconfig (see above; a missing dependency must go into the fragment)"
	say "step 2/5: all $(grep -c '^CONFIG_\|^# CONFIG_' "$HERE/config.fragment") fragment lines present in .config"
}

# 3. Build, one progress line per 250 objects.
build() {
	say "step 3/5: make -j$JOBS ${KMAKE_ARGS[*]} (log: $OUT/build.log)"
	local t0=$SECONDS
	set +e
	kmake -j"$JOBS" all 2>&1 | tee -a "$OUT/build.log" |
		awk -v start="$START" '/^  (CC|RUSTC|LD|AR|BTF)/ { if (++n % 250 == 0) { printf "[rust-kernel +%ds] step 3/5: %d objects built\n", systime() - start, n > "/dev/stderr"; fflush("/dev/stderr") } }'
	local rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" = 0 ] || { tail -n 40 "$OUT/build.log" >&2; die "kernel build failed (full log: $OUT/build.log)"; }
	BUILD_SECONDS=$((SECONDS - t0))
	say "step 3/5: built in ${BUILD_SECONDS}s"
}

# 4. Install: the layout of Debian's unpacked image ($CACHE/kernel/<kver>/).
install_kernel() {
	RELEASE=$(kmake -s kernelrelease)
	say "step 4/5: installing $RELEASE (boot/, lib/modules/)"
	mkdir -p "$OUT/boot"
	cp "$OUT/src/arch/x86/boot/bzImage" "$OUT/boot/vmlinuz-$RELEASE"
	kmake -s INSTALL_MOD_PATH="$OUT" modules_install >/dev/null
	ln -sfn "$OUT/src" "$OUT/lib/modules/$RELEASE/build"
	ln -sfn "$RELEASE" "$OUT/release"
}

# 5. Post-conditions, then the record that marks the kernel as built.
finish() {
	say "step 5/5: checking the result"
	[ -s "$OUT/src/vmlinux" ] && [ -s "$OUT/src/Module.symvers" ] || die "vmlinux or Module.symvers missing after the build"
	[ -f "$OUT/lib/modules/$RELEASE/kernel/samples/rust/rust_minimal.ko" ] || die "samples/rust/rust_minimal.ko was not built"
	[ -s "$OUT/src/rust/kernel.o" ] || die "rust/kernel.o missing: CONFIG_RUST did not take effect"
	{
		echo "release=$RELEASE"
		echo "key=$KEY"
		echo "build_seconds=$BUILD_SECONDS"
		echo "resumed=$RESUMED"
		echo "jobs=$JOBS"
		echo "nice=$(nice)"
		echo "built=$(date -u +%FT%TZ)"
		toolchain_id | sed 's/^/toolchain=/'
	} >"$OUT/build-info.txt.tmp"
	mv "$OUT/build-info.txt.tmp" "$OUT/build-info.txt"
	say "done: $OUT ($RELEASE, build ${BUILD_SECONDS}s)"
}

# A configured tree whose .config still matches the fragment (an earlier run
# stopped during the build) resumes: make builds only what is missing.
if [ -f "$OUT/src/.config" ] && (check_config) 2>/dev/null; then
	say "resuming the build in $OUT/src (configured by an earlier run)"
	RESUMED=1
else
	unpack
	configure
fi
build
install_kernel
finish
point_current
echo "$OUT"
