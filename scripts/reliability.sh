#!/usr/bin/env bash
# reliability.sh - the long reliability run: the 80-reliability guest suite
# with long-mode figures, in a test guest (slub_debug=FZPU).
#
# Usage: scripts/reliability.sh [--calls N] [--cycles N] [--stress S] [--threads N] [--seed S]
#        scripts/reliability.sh --attach RUN_DIR
#
#   --calls N    fuzz calls per variant/driver (default 1000000)
#   --cycles N   unload/load cycles (default 100)
#   --stress S   stress seconds per variant (default 30)
#   --threads N  stress threads (default 4)
#   --seed S     fuzz/stress seed (default: the time; printed and recorded)
#
# Writes results/reliability/<date>.json (the summary: passed, failed,
# failures, calls_fuzzed, faults_injected, cycles, errors_by_errno, lost)
# and prints it; a run directory's manifest may point its "reliability"
# entry at that file (analysis/README.md): --attach RUN_DIR copies the newest
# summary to RUN_DIR/reliability.json and sets the manifest's "reliability"
# key, so the bench report shows it.  Exits 0 only when nothing failed.
# Inside a guest or with TARGET=host it runs the suite directly.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

calls=1000000 cycles=100 stress=30 threads=4 seed=$(date +%s)
usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

attach() {	# run-dir: newest summary into the run's manifest
	local run=$1 newest tmp
	[ -f "$run/manifest.json" ] || { echo "reliability: $run/manifest.json not found" >&2; exit 2; }
	newest=$(ls results/reliability/*.json 2>/dev/null | sort | tail -n1)
	[ -n "$newest" ] || { echo "reliability: no results/reliability/*.json yet: run scripts/reliability.sh" >&2; exit 2; }
	cp "$newest" "$run/reliability.json"
	tmp=$(mktemp)
	jq '. + {reliability: "reliability.json"}' "$run/manifest.json" >"$tmp" && mv "$tmp" "$run/manifest.json"
	echo "reliability: $newest attached to $run"
	exit 0
}
while [ $# -gt 0 ]; do
	case $1 in
	--calls) calls=$2; shift 2 ;;
	--cycles) cycles=$2; shift 2 ;;
	--stress) stress=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--attach) attach "$2" ;;
	-h | --help) usage; exit 0 ;;
	*) echo "reliability: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=results/reliability/$stamp.json
mkdir -p results/reliability
[ -x build/cmake/tests/reliability/kmodlab-fuzz ] || {
	echo "reliability: build/cmake/tests/reliability/kmodlab-fuzz missing: run 'make build'" >&2
	exit 2
}

envs=(REL_FUZZ_CALLS="$calls" REL_CYCLES="$cycles" REL_STRESS_S="$stress" REL_THREADS="$threads"
	REL_SEED="$seed" REL_SUMMARY="$ROOT/$out")
start=$(date +%s)
if [ -n "${KMODLAB_IN_GUEST:-}" ] || [ "${TARGET:-vm}" = host ]; then
	env "${envs[@]}" tests/guest/run-all.sh 80-reliability
	rc=$?
else
	# 6 x calls fuzz calls at roughly 10-20 us each under TCG, plus cycles
	timeout=$((1800 + calls * 6 / 20000 + cycles * 10 + 2 * stress))
	vm/run --test --timeout "$timeout" -- env "${envs[@]}" tests/guest/run-all.sh 80-reliability
	rc=$?
fi
secs=$(($(date +%s) - start))
if [ ! -s "$out" ]; then
	echo "reliability: no summary written ($out); the guest run exited $rc" >&2
	exit 1
fi
# The wall time and the guest's verdict (70: kernel log showed BUG/WARNING)
# belong to the record too.
tmp=$(mktemp)
jq --argjson secs "$secs" --argjson rc "$rc" '. + {wall_seconds: $secs, guest_exit: $rc}
	| if $rc != 0 and .failed == 0 then .failed = 1 | .failures += ["guest run exited \($rc) (70: kernel log showed BUG/WARNING/Oops)"] else . end' \
	"$out" >"$tmp" && mv "$tmp" "$out"
echo "reliability: $out"
jq . "$out"
[ "$(jq .failed "$out")" = 0 ]
