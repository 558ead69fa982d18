#!/usr/bin/env bash
# extract-vmlinux.sh - turn a compressed kernel image (bzImage/vmlinuz) into
# the ELF vmlinux inside it, so that bpftool can read its BTF without booting.
#
# Usage: bpf/extract-vmlinux.sh VMLINUZ OUT
#
# Same idea as the kernel's scripts/extract-vmlinux (which the headers
# package does not ship): a bzImage is a small decompressor followed by the
# compressed vmlinux.  Look for each compression format's magic bytes, try
# to decompress from every place it occurs, and keep the first result that
# is an ELF file.  Magic bytes can also occur by chance inside the
# decompressor, hence "every place".
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 VMLINUZ OUT" >&2; exit 2; }
img=$1 out=$2
[ -r "$img" ] || { echo "extract-vmlinux: cannot read '$img'" >&2; exit 1; }

is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# Already an ELF (an uncompressed vmlinux was given)?
if is_elf "$img"; then cp "$img" "$out"; exit 0; fi

tmp=$(mktemp "${out}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# magic (grep -P escape)  decompressor
try() {
	local magic=$1; shift
	local off
	for off in $(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | cut -d: -f1); do
		# Decompressors complain about trailing garbage after the stream;
		# the output is still complete, so judge by the result only.
		tail -c +$((off + 1)) "$img" | "$@" >"$tmp" 2>/dev/null || true
		if is_elf "$tmp"; then
			mv "$tmp" "$out"
			trap - EXIT
			return 0
		fi
	done
	return 1
}
try '\xfd7zXZ\x00' xz -dc && exit 0
try '\x1f\x8b\x08' gzip -dc && exit 0
try '\x28\xb5\x2f\xfd' zstd -dc && exit 0
try 'BZh' bzip2 -dc && exit 0
try '\x5d\x00\x00\x00' xz -dc --format=lzma && exit 0
try '\x02\x21\x4c\x18' lz4 -dc && exit 0
echo "extract-vmlinux: no compressed ELF kernel found in '$img'" >&2
exit 1
