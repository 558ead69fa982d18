#!/usr/bin/env bash
# uapi-value.sh - print the value of a macro from kmod/include/uapi/*.h, so
# that shell scripts read ABI numbers and names instead of repeating them.
#   scripts/uapi-value.sh LKP_ENC_PCI_DEVICE     -> 0xcafe evaluated: 51966
#   scripts/uapi-value.sh --raw COUNTER_NAME     -> counter (string, unquoted)
set -euo pipefail
UAPI=$(cd "$(dirname "${BASH_SOURCE[0]}")/../kmod/include/uapi" && pwd)
raw=0
[ "${1:-}" = --raw ] && { raw=1; shift; }
[ $# = 1 ] || { echo "usage: $0 [--raw] MACRO" >&2; exit 2; }
val=$({ for h in "$UAPI"/*.h; do echo "#include \"$h\""; done; echo "KMODLAB_VALUE_OF $1"; } |
	cpp -P -I"$UAPI" - 2>/dev/null | sed -n 's/^KMODLAB_VALUE_OF //p')
[ -n "$val" ] && [ "$val" != "$1" ] || { echo "uapi-value: no macro $1 in $UAPI" >&2; exit 1; }
if [ $raw = 1 ]; then
	val=${val#\"}; echo "${val%\"}"
	exit 0
fi
# Numbers (ioctl codes use sizeof and casts): let the C compiler evaluate.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{ for h in "$UAPI"/*.h; do echo "#include \"$h\""; done
  echo '#include <stdio.h>'
  echo "int main(void) { printf(\"%llu\\n\", (unsigned long long)($1)); return 0; }"; } >"$tmp/v.c"
cc -o "$tmp/v" "$tmp/v.c" && "$tmp/v"
