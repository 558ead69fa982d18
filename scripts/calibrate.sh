#!/usr/bin/env bash
# calibrate.sh - `make calibrate`: does the bench's statistics find what is there,
# and only that?  A/A pairs (the same module on both sides) and pairs with a
# planted cost (extra_work sized for +2%, +5%, +10% of the op on one side).
#
#   1. a run directory results/calibrate-<date>-<git short id>/
#   2. CALIB_BOOTS guest boots of scripts/calibrate_guest.py (boot 0 first
#      sizes extra_work per cell: sizing.json)
#   3. scripts/calibrate.py: calibration.json / calibration.md (false-positive
#      rate, detection rate, CI coverage per planted level) and one
#      bench-format run per replicate and condition under runs/
#
# Environment: QUICK=1 (one cell, one boot, A/A and +10% only: about 2
# minutes, part of make test), CALIB_* / BENCH_* settings of kmodlab.conf
# (the environment wins), CALIB_OUT=DIR (the run directory), PYTHON.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export KMODLAB_ROOT=$ROOT
# shellcheck source=scripts/conf.sh
source scripts/conf.sh
PYTHON=${PYTHON:-/usr/bin/python3}
QUICK=${QUICK:-}
[ "${TARGET:-vm}" = vm ] || { echo "calibrate: TARGET=host is not supported (the guest runs the pairs)" >&2; exit 2; }
BOOTS=$(conf_get "CALIB_BOOTS${QUICK:+_QUICK}")
[[ $BOOTS =~ ^[1-9][0-9]*$ ]] || { echo "calibrate: CALIB_BOOTS must be a positive integer, not '$BOOTS'" >&2; exit 2; }
id=$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
out=${CALIB_OUT:-results/calibrate-$id}
mkdir -p "$out"
start=$(date +%s)
echo "calibrate: run $id${QUICK:+ (QUICK)}, $BOOTS boot(s) -> $out" >&2
vm_args=(--bench --timeout 3600)
[ "$(conf_get BENCH_PIN_VCPUS)" = 1 ] && vm_args+=(--pin)
for ((b = 0; b < BOOTS; b++)); do
	vm/run "${vm_args[@]}" -- "$PYTHON" scripts/calibrate_guest.py --out "$ROOT/$out" \
		--boot "$b" --boots "$BOOTS" ${QUICK:+--quick}
done
jq --arg fin "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '. + {finished: $fin}' "$out/manifest.json" >"$out/manifest.json.tmp"
mv "$out/manifest.json.tmp" "$out/manifest.json"
"$PYTHON" scripts/calibrate.py "$out"
echo "calibrate: done in $(($(date +%s) - start)) s: $out/calibration.json, $out/calibration.md" >&2
