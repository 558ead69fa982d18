#!/usr/bin/env bash
# bench.sh - `make bench`: the C-versus-C++ comparison, end to end.
#
#   1. a new run directory results/<date>-<git short id>/
#   2. one guest boot (bench kernel command line) running scripts/bench_matrix.py:
#      the driver x workload x variant matrix with kmodlab-load --bpf, C and
#      C++ interleaved, then Google Benchmark and fio
#   3. on the host: module sizes and stack frames (scripts/kmod-report.sh),
#      exact instructions per op (scripts/icount.sh, full bench only; ICOUNT=0
#      skips it, ICOUNT=1 forces it in a QUICK bench)
#   4. the newest reliability summary (results/reliability/, scripts/reliability.sh)
#   5. the report: results/<id>/report.html and report.md (analysis/)
#
# Environment: QUICK=1 (small matrix, about 3 minutes), TARGET=vm|host,
# PYTHON (Debian's python3).  Builds are the Makefile's job (make bench).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export KMODLAB_ROOT=$ROOT
PYTHON=${PYTHON:-/usr/bin/python3}
TARGET=${TARGET:-vm}
QUICK=${QUICK:-}
ICOUNT=${ICOUNT:-}
[ -n "$ICOUNT" ] || { [ -n "$QUICK" ] && ICOUNT=0 || ICOUNT=1; }

# A bad setting stops here, before a guest boots, naming key, value and origin.
"$PYTHON" scripts/bench_matrix.py --out /nonexistent ${QUICK:+--quick} --check-config

id=$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
out=results/$id
mkdir -p "$out"
start=$(date +%s)
echo "bench: run $id${QUICK:+ (QUICK)} -> $out" >&2

matrix=(scripts/bench_matrix.py --out "$ROOT/$out" ${QUICK:+--quick})
if [ "$TARGET" = vm ]; then
	KMODLAB_HOST=$(hostname) vm/run --bench --timeout 2400 -- "$PYTHON" "${matrix[@]}"
else
	KMODLAB_IN_GUEST= TARGET=host KMODLAB_HOST=$(hostname) "$PYTHON" "${matrix[@]}"
fi

echo "bench: module sizes and stack frames" >&2
scripts/kmod-report.sh --json "$out/modules.json" >"$out/modules.txt"
extra='{modules: "modules.json"}'
if [ "$ICOUNT" = 1 ]; then
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
