#!/usr/bin/env bash
# trace-cost-timing.sh - disabled tracepoints in paired timing (issue 20): the
# timing side of what tests/icount/test-trace-cost.sh shows in exact counts.
#
# Usage: scripts/trace-cost-timing.sh [--help]     (KERNEL= picks the kernel)
#
# 1. builds the modules without tracepoints (KMODLAB_TRACE=0) and keeps a copy
#    of the .ko files (build/trace-cost/<abi>/off), then the normal build
#    (tracepoints compiled in, none enabled; copy in .../on);
# 2. one guest boot (vm/run --bench): per cell of TRACE_COST_CELLS and per
#    variant's module, TRACE_COST_PAIRS pairs of the two builds of that same
#    module, ABBA order, no BPF (scripts/trace_cost_guest.py);
# 3. per cell, module and metric (throughput, p50, p5) the ratio on/off with
#    the bench's paired statistics, Holm over all of them, and the minimum
#    detectable effect (scripts/trace_cost_timing.py).
# Output: results/trace-cost-<UTC stamp>-<commit>/ (TRACE_COST_OUT= to choose):
# manifest.json, raw/, trace-cost.json, trace-cost.md.  About 15 minutes with
# kmodlab.conf's settings.  A benchmark, not a test: it asserts nothing about
# the ratios; the exact check of the same question is test-trace-cost.sh.
# The normal build is restored however the script ends.  TARGET=vm only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export KMODLAB_ROOT=$ROOT
# shellcheck source=scripts/conf.sh
source scripts/conf.sh
PYTHON=${PYTHON:-/usr/bin/python3}
case ${1:-} in
-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "trace-cost-timing: unknown option $1 (try --help)" >&2; exit 2 ;;
esac
[ "${TARGET:-vm}" = vm ] || { echo "trace-cost-timing: TARGET=host is not supported (the guest runs the pairs)" >&2; exit 2; }
name=$(kernel_resolve "${KERNEL:-}")
abi=$(kernel_field "$name" abi)
kmod_out=$(kernel_field "$name" kmod)
keep=$ROOT/build/trace-cost/$abi
build() { nice -n 19 make --no-print-directory -s -C kmod KERNEL="$name" "$@" >/dev/null; }
# Copy the .ko files of the build just made, in modules.sh's layout (<dir>/<module>.ko).
keep_kos() {
	local kbuild dir
	rm -rf "${keep:?}/$1"
	for kbuild in kmod/*/Kbuild; do
		dir=$(basename "$(dirname "$kbuild")")
		[ "$dir" = samples ] && continue
		compgen -G "$kmod_out/$dir/*.ko" >/dev/null || continue  # kmod/rust: only for the Rust kernel
		mkdir -p "$keep/$1/$dir"
		cp "$kmod_out/$dir"/*.ko "$keep/$1/$dir/"
	done
}

trap 'build' EXIT	# the normal build back, whatever happens
echo "trace-cost-timing: building the modules without tracepoints (kernel $name)" >&2
build KMODLAB_TRACE=0
keep_kos off
echo "trace-cost-timing: building them with tracepoints" >&2
build
keep_kos on
trap - EXIT

id=$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
out=${TRACE_COST_OUT:-results/trace-cost-$id}
mkdir -p "$out"
start=$(date +%s)
echo "trace-cost-timing: run $id -> $out" >&2
vm_args=(--bench --kernel "$name" --timeout 3600)
[ "$(conf_get BENCH_PIN_VCPUS)" = 1 ] && vm_args+=(--pin)
vm/run "${vm_args[@]}" -- "$PYTHON" scripts/trace_cost_guest.py --out "$ROOT/$out" --off "$keep/off" --on "$keep/on"
jq --arg fin "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg k "$name" '. + {finished: $fin, kernel_name: $k}' \
	"$out/manifest.json" >"$out/manifest.json.tmp"
mv "$out/manifest.json.tmp" "$out/manifest.json"
"$PYTHON" scripts/trace_cost_timing.py "$out"
echo "trace-cost-timing: done in $(($(date +%s) - start)) s: $out/trace-cost.md" >&2
