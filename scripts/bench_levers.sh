#!/usr/bin/env bash
# bench_levers.sh - measure what buys precision: the noise levers of the bench
# (loadgen/README.md "Bench method" quotes the figures), on a few cells.
#
# Usage: scripts/bench_levers.sh [--rounds N] [--pairs N] [--cells LIST] [--configs "a b ..."] [--out DIR]
#
# Every config is one guest boot running scripts/bench_matrix.py on the cells
# (timing pass only); configs alternate over --rounds rounds so that a change
# of the host's load hits all of them.  Configs:
#   base     0.3 s runs, 0.1 s warm-up, nothing pinned
#   long     1.5 s runs, a quarter of the pairs (about the same time)
#   gpin     1-thread runs pinned to guest CPU 1 (taskset in the guest)
#   hpin     QEMU's vCPU threads pinned to host CPUs (vm/run --pin)
#   nice     QEMU's vCPU threads at nice -10 (vm/run --nice -10)
#   warm     0.5 s warm-up per run
# Then scripts/bench_levers.py prints per config and cell: pairs, per-pair SD
# of the log ratio, MDE (and the same without each cell's first pair).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export KMODLAB_ROOT=$ROOT
PYTHON=${PYTHON:-/usr/bin/python3}
ROUNDS=2 PAIRS=12 CELLS=counter/incr-t1-mutex,scull/pread4096 CONFIGS="base long gpin hpin nice"
OUT=results/levers-$(date -u +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift ;;
	--pairs) PAIRS=$2; shift ;;
	--cells) CELLS=$2; shift ;;
	--configs) CONFIGS=$2; shift ;;
	--out) OUT=$2; shift ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_levers: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$OUT"
for ((r = 0; r < ROUNDS; r++)); do
	list=$CONFIGS
	[ $((r % 2)) = 1 ] && list=$(echo "$CONFIGS" | tr ' ' '\n' | tac | tr '\n' ' ')
	for cfg in $list; do
		vm_args=(--bench --timeout 1800 -q) args=(--pairs "$PAIRS" --duration 0.3 --warmup 0.1)
		case $cfg in
		base) ;;
		long) args=(--pairs $(((PAIRS + 3) / 4)) --duration 1.5 --warmup 0.1) ;;
		gpin) args+=(--pin-guest-cpu 1) ;;
		hpin) vm_args+=(--pin) ;;
		nice) vm_args+=(--nice -10) ;;
		warm) args=(--pairs "$PAIRS" --duration 0.3 --warmup 0.5) ;;
		*) echo "bench_levers: unknown config '$cfg'" >&2; exit 2 ;;
		esac
		echo "bench_levers: round $((r + 1))/$ROUNDS config $cfg $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)" >&2
		echo "$cfg r$r $(date -u +%FT%TZ) loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/log.txt"
		vm/run "${vm_args[@]}" -- "$PYTHON" scripts/bench_matrix.py --out "$ROOT/$OUT/$cfg-r$r" \
			--quick --cells "$CELLS" --bpf-pairs 0 --discard-first 0 "${args[@]}" 2>>"$OUT/stderr.txt"
	done
done
"$PYTHON" scripts/bench_levers.py "$OUT"
