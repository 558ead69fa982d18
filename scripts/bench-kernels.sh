#!/usr/bin/env bash
# bench-kernels.sh - the kernels `make bench` runs on, one "SERIES RELEASE" line each
# (series = MAJOR.MINOR, analysis/shard.py kernel_label: baselines and the
# cross-kernel report are keyed by it; release = the ABI the guest boots).
#
#   scripts/bench-kernels.sh [--kernel SERIES|RELEASE]
#
# --kernel (make bench KERNEL=...) keeps the one configured kernel whose
# series or release matches, and is an error naming the configured ones
# otherwise.  The configured kernels: what set-up resolved (build/env.json).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
want=
case "${1:-}" in
--kernel) want=${2:?--kernel needs a series or release}; shift 2 ;;
-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
"") ;;
*) echo "bench-kernels: unknown argument '$1' (--kernel SERIES|RELEASE)" >&2; exit 2 ;;
esac
env_json=$ROOT/build/env.json
[ -f "$env_json" ] || { echo "bench-kernels: $env_json missing: run 'make setup'" >&2; exit 2; }
releases=$(jq -r '.kernel' "$env_json")
lines=()
for rel in $releases; do
	series=$(cd "$ROOT" && "$PYTHON" -c 'import sys; from analysis.shard import kernel_label; print(kernel_label(sys.argv[1]))' "$rel")
	lines+=("$series $rel")
done
if [ -n "$want" ]; then
	for l in "${lines[@]}"; do
		if [ "${l%% *}" = "$want" ] || [ "${l#* }" = "$want" ]; then
			echo "$l"
			exit 0
		fi
	done
	echo "bench-kernels: KERNEL=$want is not a configured kernel; configured: ${lines[*]}" >&2
	exit 2
fi
printf '%s\n' "${lines[@]}"
