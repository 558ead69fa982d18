#!/usr/bin/env bash
# gen-vmlinux-h.sh - vmlinux.h (every kernel type, from BTF) for the guest
# kernel, without booting it.
#
# Usage: bpf/gen-vmlinux-h.sh KVER OUT
#
# Kernel image: $KMODLAB_CACHE/kernel/KVER/boot/vmlinuz-KVER (make setup
# unpacks it there); otherwise `apt-get download linux-image-KVER` into a
# temporary directory.  The image is decompressed to an ELF
# (extract-vmlinux.sh) and `bpftool btf dump ... format c` writes the header.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# = 2 ] || { echo "usage: $0 KVER OUT" >&2; exit 2; }
kver=$1 out=$2
# shellcheck source=../scripts/conf.sh
source "$HERE/../scripts/conf.sh"
cache=$(conf_get KMODLAB_CACHE)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$cache/kernel/$kver/boot/vmlinuz-$kver
if [ ! -r "$img" ]; then
	echo "gen-vmlinux-h: $img missing; fetching linux-image-$kver" >&2
	(cd "$tmp" && apt-get download "linux-image-$kver" >/dev/null) || {
		echo "gen-vmlinux-h: apt-get download linux-image-$kver failed (run make setup, or apt-get update)" >&2
		exit 1
	}
	dpkg -x "$tmp"/linux-image-"$kver"_*.deb "$tmp/root"
	img=$tmp/root/boot/vmlinuz-$kver
fi
"$HERE/extract-vmlinux.sh" "$img" "$tmp/vmlinux"
bpftool btf dump file "$tmp/vmlinux" format c >"$tmp/vmlinux.h"
grep -q "struct task_struct {" "$tmp/vmlinux.h" || { echo "gen-vmlinux-h: no BTF types in $img" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
mv "$tmp/vmlinux.h" "$out"
