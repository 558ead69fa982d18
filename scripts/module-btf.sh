#!/usr/bin/env bash
# module-btf.sh - give our kernel modules BTF (.BTF section), so that BPF
# fentry/fexit can attach to the drivers' own entry points and BPF tools can
# read their types.
#
# Usage: scripts/module-btf.sh [--check] KO...
#
# Kbuild's own step (scripts/Makefile.modfinal, cmd_btf_ko) needs the
# kernel's vmlinux and resolve_btfids in the build tree; Debian's headers
# package has neither, so Kbuild prints "Skipping BTF generation".  This
# does the same thing with what we have:
#   * the base: vmlinux recovered from the guest kernel image
#     (bpf/extract-vmlinux.sh), cached in build/vmlinux/KVER/;
#   * C modules: pahole -J --btf_base vmlinux KO, with the kernel's own
#     pahole flags (scripts/pahole-flags.sh of the headers);
#   * C++ modules: pahole cannot encode C++ DWARF (reference types,
#     templates), so the module's extern "C" entry points (file operations
#     <module>_<op>[_suffix], PCI probe/remove, devnode) are declared with
#     their kernel prototypes in a generated C stub, built by Kbuild
#     against the same headers, encoded by pahole, and its .BTF section
#     copied into the real module: the names and C prototypes are those of
#     the real functions, whose addresses the kernel takes from kallsyms.
#   * resolve_btfids: only needed for a .BTF_ids section (BTF_ID_LIST in the
#     module); our modules have none, and the script fails if one appears.
# A module that already has a .BTF section is left alone (Kbuild relinks
# without it whenever the module changes).  --check only reports which
# modules lack BTF (exit 1 if any).
#
# Check in the guest: insmod accepts the module and /sys/kernel/btf/<module>
# exists (tests/guest/suites/60-bpf).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=scripts/conf.sh
source "$HERE/conf.sh"

die() { echo "module-btf: error: $*" >&2; exit 1; }
check_only=false
[ "${1:-}" = --check ] && { check_only=true; shift; }
[ $# -gt 0 ] || die "usage: $0 [--check] KO..."
KVER=${KVER:-$(cat "$ROOT/build/kver" 2>/dev/null || true)}
[ -n "$KVER" ] || die "KVER unknown: run 'make setup' first (or pass KVER=)"
KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
PAHOLE=${PAHOLE:-pahole}
command -v "$PAHOLE" >/dev/null || die "pahole not found: install dwarves (make setup installs scripts/packages.txt)"

has_section() {	# file section (no grep -q on a pipe: see is_cxx)
	local secs
	secs=$(readelf -SW "$1" 2>/dev/null) || return 1
	[[ $secs == *" $2 "* ]]
}

need=()
for ko in "$@"; do
	[ -f "$ko" ] || die "$ko: no such module"
	has_section "$ko" .BTF || need+=("$ko")
done
if $check_only; then
	for ko in "${need[@]}"; do echo "module-btf: $ko has no .BTF"; done
	[ ${#need[@]} = 0 ]
	exit
fi
[ ${#need[@]} -gt 0 ] || exit 0

# The base BTF: the guest kernel's vmlinux, recovered once per KVER.
vmlinux=$ROOT/build/vmlinux/$KVER/vmlinux
if [ ! -s "$vmlinux" ]; then
	img=${KIMAGE:-$(conf_get KMODLAB_CACHE)/kernel/$KVER/boot/vmlinuz-$KVER}
	[ -r "$img" ] || die "$img missing: run 'make setup' (it unpacks linux-image-$KVER there)"
	mkdir -p "$(dirname "$vmlinux")"
	"$ROOT/bpf/extract-vmlinux.sh" "$img" "$vmlinux.tmp"
	mv "$vmlinux.tmp" "$vmlinux"
fi
has_section "$vmlinux" .BTF || die "$vmlinux has no .BTF: the kernel was built without CONFIG_DEBUG_INFO_BTF"
flags=$(PAHOLE=$PAHOLE sh "$KDIR/scripts/pahole-flags.sh" 2>/dev/null || true)
# A kernel with Rust (the lab's Rust kernel) encodes only the C parts, as its
# own scripts/Makefile.btf does: pahole 1.24 cannot encode Rust DWARF.
grep -qx CONFIG_PAHOLE_HAS_LANG_EXCLUDE=y "$KDIR/.config" 2>/dev/null && flags+=" --lang_exclude=rust"
# How this kernel's external modules are built (its compiler: the Rust
# kernel is clang-built, LLVM=1; kmod/Makefile reads the same file).
read -r -a kmake_args <"$KDIR/kmodlab-make-args" 2>/dev/null || kmake_args=()

encode() {	# file: pahole's BTF of its DWARF into its .BTF section
	LLVM_OBJCOPY=objcopy "$PAHOLE" -J $flags --btf_base "$vmlinux" "$1" >/dev/null ||
		die "pahole -J failed on $1"
	has_section "$1" .BTF || die "pahole wrote no .BTF into $1"
}

# Kernel prototype of an extern "C" entry point, from its name; empty if
# the name is not an entry point kcxx generates.
proto() {	# module symbol
	local rest=${2#"$1"_}
	case $rest in
	read | read_*) echo "ssize_t $2(struct file *f, char __user *b, size_t n, loff_t *p)" ;;
	write | write_*) echo "ssize_t $2(struct file *f, const char __user *b, size_t n, loff_t *p)" ;;
	llseek | llseek_*) echo "loff_t $2(struct file *f, loff_t off, int whence)" ;;
	poll | poll_*) echo "__poll_t $2(struct file *f, struct poll_table_struct *p)" ;;
	unlocked_ioctl | unlocked_ioctl_* | compat_ioctl | compat_ioctl_*)
		echo "long $2(struct file *f, unsigned int cmd, unsigned long arg)" ;;
	open | open_* | release | release_*) echo "int $2(struct inode *i, struct file *f)" ;;
	fsync | fsync_*) echo "int $2(struct file *f, loff_t start, loff_t end, int datasync)" ;;
	probe) echo "int $2(struct pci_dev *pdev, const struct pci_device_id *id)" ;;
	remove) echo "void $2(struct pci_dev *pdev)" ;;
	devnode) echo "char *$2(struct device *dev, umode_t *mode)" ;;
	esac
}

# C++ when it has mangled symbols.  Read into a variable, not piped into
# grep -q: grep quitting at the first match makes nm die of SIGPIPE, and
# under pipefail that read as "not C++" whenever the output was long.
is_cxx() {
	local syms
	syms=$(nm "$1" 2>/dev/null) || return 1
	[[ $syms == *" _Z"* ]]
}

stubs=$ROOT/build/module-btf/$KVER
cxx=()
for ko in "${need[@]}"; do
	if is_cxx "$ko"; then
		cxx+=("$ko")
	else
		[ -z "$(readelf -SW "$ko" | grep ' .BTF_ids ')" ] ||
			die "$ko has a .BTF_ids section: it needs resolve_btfids, which Debian's headers do not ship"
		encode "$ko"
		echo "  BTF     $ko"
	fi
done
[ ${#cxx[@]} -gt 0 ] || exit 0

# C++: one stub per module, built together by one Kbuild run.
rm -rf "$stubs"
mkdir -p "$stubs"
: >"$stubs/Kbuild"
for ko in "${cxx[@]}"; do
	mod=$(basename "$ko" .ko)
	{
		echo "// Generated by scripts/module-btf.sh: the C prototypes of $mod's entry points, for BTF only."
		echo "#include <linux/fs.h>"
		echo "#include <linux/module.h>"
		echo "#include <linux/pci.h>"
		n=0
		for sym in $(nm -g --defined-only "$ko" | awk '$2 == "T" { print $3 }'); do
			p=$(proto "$mod" "$sym")
			[ -n "$p" ] || continue
			echo "$p;"
			echo "$p { return 0; }" | sed 's/^void \(.*\) { return 0; }$/void \1 { }/'
			n=$((n + 1))
		done
		echo 'MODULE_LICENSE("GPL");'
	} >"$stubs/${mod}_btf.c"
	grep -q "{ " "$stubs/${mod}_btf.c" || die "$ko: no extern \"C\" entry point found (nm)"
	echo "obj-m += ${mod}_btf.o" >>"$stubs/Kbuild"
done
make -s -C "$KDIR" "${kmake_args[@]}" M="$stubs" CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$stubs/build.log" 2>&1 || {
	cat "$stubs/build.log" >&2
	die "building the BTF stubs failed (log: $stubs/build.log)"
}
for ko in "${cxx[@]}"; do
	mod=$(basename "$ko" .ko)
	stub=$stubs/${mod}_btf.ko
	encode "$stub"
	objcopy --dump-section .BTF="$stubs/$mod.btf" "$stub" /dev/null
	objcopy --add-section .BTF="$stubs/$mod.btf" "$ko"
	echo "  BTF     $ko (entry points: $(grep -c '{ ' "$stubs/${mod}_btf.c"))"
done
