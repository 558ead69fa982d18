#!/usr/bin/env bash
# bench-kernels.sh - the kernels `make bench` runs on, one "NAME RELEASE" line each,
# in kmodlab.conf KERNELS order (NAME: 6.1, 6.12, ...; baselines and the
# cross-kernel report are keyed by it; RELEASE: the ABI the guest boots).
#
#   scripts/bench-kernels.sh [--kernel NAME|RELEASE]
#
# --kernel (make bench KERNEL=...) keeps the one configured kernel it names;
# an unknown one is an error naming the configured ones (scripts/conf.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want=
case "${1:-}" in
--kernel) want=${2:?--kernel needs a kernel name or release}; shift 2 ;;
-h | --help) sed -n '2,9p' "$0"; exit 0 ;;
"") ;;
*) echo "bench-kernels: unknown argument '$1' (--kernel NAME|RELEASE)" >&2; exit 2 ;;
esac
if [ -n "$want" ]; then
	names=$("$ROOT/scripts/conf.sh" resolve "$want") ||
		{ echo "bench-kernels: KERNEL=$want is not a configured kernel; configured: $("$ROOT/scripts/conf.sh" kernels | tr '\n' ' ')" >&2; exit 2; }
else
	names=$("$ROOT/scripts/conf.sh" kernels)
fi
for n in $names; do
	abi=$("$ROOT/scripts/conf.sh" kernel "$n" abi) || { echo "bench-kernels: kernel $n is not set up: run 'make setup'" >&2; exit 2; }
	echo "$n $abi"
done
