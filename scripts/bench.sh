#!/usr/bin/env bash
# bench.sh - `make bench`: the C-versus-C++ comparison, end to end.
#
#   1. a new run directory results/<date>-<git short id>/
#   2. BENCH_BOOTS guest boots (bench kernel command line), each running
#      scripts/bench_matrix.py for its share of the pairs (fresh module loads
#      every boot): per cell a timing pass (kmodlab-load without BPF) and a
#      BPF pass (--bpf --check), C and C++ in ABBA pairs, all appended to one
#      manifest.json; the last boot also runs Google Benchmark and fio
#   3. on the host: module sizes and stack frames (scripts/kmod-report.sh),
#      exact instructions per op (scripts/icount.sh; QUICK runs its --quick
#      mode; ICOUNT=0 skips it, and the gate then says so)
#   4. the newest reliability summary (results/reliability/, scripts/reliability.sh)
#   5. the report: results/<id>/report.html and report.md (analysis/)
#
# Environment: QUICK=1 (small matrix, about 4-5 minutes), TARGET=vm|host,
# PYTHON (Debian's python3), BENCH_* settings of kmodlab.conf (the
# environment wins, e.g. BENCH_BOOTS=1), ICOUNT=0|1, BENCH_OUT=DIR (the run
# directory instead of results/<id>).  Builds are the Makefile's job.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export KMODLAB_ROOT=$ROOT
# shellcheck source=scripts/conf.sh
source scripts/conf.sh
PYTHON=${PYTHON:-/usr/bin/python3}
TARGET=${TARGET:-vm}
QUICK=${QUICK:-}
ICOUNT=${ICOUNT:-1}
Q=${QUICK:+_QUICK}
BOOTS=$(conf_get "BENCH_BOOTS$Q")
PIN=$(conf_get BENCH_PIN_VCPUS)
[[ $BOOTS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_BOOTS$Q must be a positive integer, not '$BOOTS'" >&2; exit 2; }

# A bad setting stops here, before a guest boots, naming key, value and origin.
"$PYTHON" scripts/bench_matrix.py --out /nonexistent ${QUICK:+--quick} --check-config

id=$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
out=${BENCH_OUT:-results/$id}
mkdir -p "$out"
start=$(date +%s)
echo "bench: run $id${QUICK:+ (QUICK)}, $BOOTS boots -> $out" >&2

vm_args=(--bench --timeout 2400)
[ "$PIN" = 1 ] && vm_args+=(--pin)
KMODLAB_PIN=""
[ "$PIN" = 1 ] && KMODLAB_PIN="vCPU i on host CPU i"
export KMODLAB_PIN
for ((b = 0; b < BOOTS; b++)); do
	# The host's load goes into the manifest: on a shared 2-core host other
	# work, not the drivers, sets the noise (loadgen/README.md "Noise levers").
	export KMODLAB_HOST_LOAD
	KMODLAB_HOST_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
	awk -v n="$(nproc)" '{ exit !($1 > n) }' /proc/loadavg &&
		echo "bench: host load average ${KMODLAB_HOST_LOAD%% *} on $(nproc) CPUs: other work competes with the guest; expect far larger noise and MDEs than on a quiet host" >&2
	matrix=(scripts/bench_matrix.py --out "$ROOT/$out" --boot "$b" --boots "$BOOTS" ${QUICK:+--quick})
	[ $((b + 1)) = "$BOOTS" ] && matrix+=(--extras)
	if [ "$TARGET" = vm ]; then
		KMODLAB_HOST=$(hostname) vm/run "${vm_args[@]}" -- "$PYTHON" "${matrix[@]}"
	else
		KMODLAB_IN_GUEST= TARGET=host KMODLAB_HOST=$(hostname) "$PYTHON" "${matrix[@]}"
	fi
done

echo "bench: module sizes and stack frames" >&2
scripts/kmod-report.sh --json "$out/modules.json" >"$out/modules.txt"
extra='{modules: "modules.json"}'
if [ "$ICOUNT" = 1 ] && [ "$TARGET" = vm ]; then
	echo "bench: instructions per operation (QEMU TCG plugin)" >&2
	scripts/icount.sh --quick --out "$out" >"$out/icount.txt"
	extra='{modules: "modules.json", icount: "icount.json"}'
fi
# The newest long-mode reliability summary (scripts/reliability.sh) goes
# into the report; without one, say how to make it.
if ls results/reliability/*.json >/dev/null 2>&1; then
	scripts/reliability.sh --attach "$out" >&2
else
	echo "bench: no reliability summary in results/reliability/ (scripts/reliability.sh makes one); the report leaves it out" >&2
fi
jq --argjson extra "$(jq -n "$extra")" --arg fin "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	'. + $extra + {finished: $fin}' "$out/manifest.json" >"$out/manifest.json.tmp"
mv "$out/manifest.json.tmp" "$out/manifest.json"

"$PYTHON" -m analysis report "$out"
echo "bench: done in $(($(date +%s) - start)) s: $out/report.html, $out/report.md" >&2
