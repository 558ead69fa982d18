#!/usr/bin/env bash
# bench.sh - `make bench`: the C-versus-C++ comparison, end to end, on
# every configured kernel (KERNEL= picks one).
#
#   1. a new bench set results/<date>-<git short id>/ (manifest.json of kind
#      "bench-set": kernels, shard, machine, commit) and per kernel a run
#      directory results/<id>/<series>/ (e.g. 6.1/) in the format
#      analysis/README.md describes; then per kernel:
#   2. BENCH_BOOTS guest boots (bench kernel command line), each running
#      scripts/bench_matrix.py for its share of the pairs (fresh module loads
#      every boot): per cell a timing pass (kmodlab-load without BPF) and a
#      BPF pass (--bpf --check), C and C++ in ABBA pairs (on the Rust kernel
#      the counter cells also C/Rust pairs), all appended to one
#      manifest.json; the last boot also runs Google Benchmark and fio
#   3. on the host: module sizes and stack frames (scripts/kmod-report.sh),
#      exact instructions per op (scripts/icount.sh; QUICK runs its --quick
#      mode; ICOUNT=0 skips it, and the gate then says so); both take Rust
#      too where counter_rust is built
#   4. the newest reliability summary (results/reliability/, scripts/reliability.sh)
#   5. the report: per kernel results/<id>/<series>/report.html and report.md,
#      and results/<id>/report.md with C++/C per kernel and each variant
#      across kernels (analysis/)
#
# SHARD=i/N runs shard i of N: a deterministic 1/N of the cells on every
# kernel (analysis/shard.py; C and C++ of a cell, and its kernels, stay
# together); `python3 -m analysis merge` joins the shards' sets.  Only shard
# 1 counts instructions (icount is deterministic: one count per kernel).
#
# Environment: QUICK=1 (small matrix, about 4-5 minutes), TARGET=vm|host,
# PYTHON (Debian's python3), BENCH_* settings of kmodlab.conf (the
# environment wins, e.g. BENCH_BOOTS=1), ICOUNT=0|1, BENCH_OUT=DIR (the run
# directory instead of results/<id>), KERNEL=<series or ABI>, SHARD=i/N,
# CELLS=DRIVER/WORKLOAD,... (only these cells of the matrix: experiments;
# Google Benchmark and fio then cover only those).
# Builds are the Makefile's job.
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

vm_args=(--bench --timeout 2400)
[ "$PIN" = 1 ] && vm_args+=(--pin)
KMODLAB_PIN=""
[ "$PIN" = 1 ] && KMODLAB_PIN="vCPU i on host CPU i"
export KMODLAB_PIN
# One kernel's run directory: BOOTS guest boots of bench_matrix.py, then the
# host-side figures; `finished` is written last.
bench_one_kernel() {	# name release dir
	local series=$1 release=$2 kout=$3 b matrix
	# The host-side tools (kmod-report, icount) take this kernel's modules and boot it.
	export KERNEL=$series
	mkdir -p "$kout"
	echo "bench: kernel $series ($release) -> $kout" >&2
	for ((b = 0; b < BOOTS; b++)); do
		# The host's load goes into the manifest: on a shared 2-core host other
		# work, not the drivers, sets the noise (loadgen/README.md "Noise levers").
		export KMODLAB_HOST_LOAD
		KMODLAB_HOST_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
		awk -v n="$(nproc)" '{ exit !($1 > n) }' /proc/loadavg &&
			echo "bench: host load average ${KMODLAB_HOST_LOAD%% *} on $(nproc) CPUs: other work competes with the guest; expect far larger noise and MDEs than on a quiet host" >&2
		matrix=(scripts/bench_matrix.py --out "$ROOT/$kout" --boot "$b" --boots "$BOOTS" ${QUICK:+--quick}
			${SHARD:+--shard "$SHARD"} ${CELLS:+--cells "$CELLS"} --machine "$KMODLAB_MACHINE" --commit "$KMODLAB_COMMIT"
			--kernel-name "$series" --run-id "$id/$series")
		[ $((b + 1)) = "$BOOTS" ] && matrix+=(--extras)
		if [ "$TARGET" = vm ]; then
			KMODLAB_HOST=$(hostname) vm/run "${vm_args[@]}" --kernel "$series" -- "$PYTHON" "${matrix[@]}"
		else
			KMODLAB_IN_GUEST= TARGET=host KMODLAB_HOST=$(hostname) "$PYTHON" "${matrix[@]}"
		fi
	done
	[ "$(jq -r .kernel "$kout/manifest.json")" = "$release" ] || {
		echo "bench: $kout ran on kernel $(jq -r .kernel "$kout/manifest.json"), not $release" >&2
		exit 1
	}

	echo "bench: module sizes and stack frames ($series)" >&2
	scripts/kmod-report.sh --json "$kout/modules.json" >"$kout/modules.txt"
	local extra='{modules: "modules.json"}'
	# icount is exact and deterministic: one count per kernel, made by shard 1.
	local shard=${SHARD:-1/1}
	if [ "$ICOUNT" = 1 ] && [ "$TARGET" = vm ] && [ "$shard" = "1/${shard#*/}" ]; then
		echo "bench: instructions per operation (QEMU TCG plugin, $series)" >&2
		scripts/icount.sh --quick --out "$kout" >"$kout/icount.txt"
		extra='{modules: "modules.json", icount: "icount.json"}'
	fi
	# The newest long-mode reliability summary (scripts/reliability.sh) goes
	# into the report; without one, say how to make it.
	if ls results/reliability/*.json >/dev/null 2>&1; then
		scripts/reliability.sh --attach "$kout" >&2
	else
		echo "bench: no reliability summary in results/reliability/ (scripts/reliability.sh makes one); the report leaves it out" >&2
	fi
	jq --argjson extra "$(jq -n "$extra")" --arg fin "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		'. + $extra + {finished: $fin}' "$kout/manifest.json" >"$kout/manifest.json.tmp"
	mv "$kout/manifest.json.tmp" "$kout/manifest.json"
}

# A bad setting stops here, before a guest boots, naming key, value and origin.
"$PYTHON" scripts/bench_matrix.py ${QUICK:+--quick} ${SHARD:+--shard "$SHARD"} --check-config
"$PYTHON" scripts/bench_matrix.py ${QUICK:+--quick} ${SHARD:+--shard "$SHARD"} ${CELLS:+--cells "$CELLS"} --list >/dev/null

# The kernels this bench runs on: "name release" lines (scripts/bench-kernels.sh).
if [ "$TARGET" = vm ]; then
	mapfile -t kernels < <(scripts/bench-kernels.sh ${KERNEL:+--kernel "$KERNEL"})
else	# this machine's own kernel, named by its series
	kernels=("$("$PYTHON" -c 'import sys; from analysis.shard import kernel_label; print(kernel_label(sys.argv[1]))' "$(uname -r)") $(uname -r)")
fi
[ "${#kernels[@]}" -gt 0 ] || { echo "bench: no kernel to run on (scripts/bench-kernels.sh printed none)" >&2; exit 2; }

id=$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)
out=${BENCH_OUT:-results/$id}
mkdir -p "$out"
start=$(date +%s)
# Who ran it, on which commit: analysis merge refuses shards that disagree.
KMODLAB_MACHINE=$("$PYTHON" -m analysis.shard machine)
KMODLAB_COMMIT=$(git rev-parse HEAD 2>/dev/null || echo nogit)
git diff --quiet HEAD 2>/dev/null || KMODLAB_COMMIT+="-dirty"
shard_json=$(jq -n --arg s "${SHARD:-1/1}" '$s | split("/") | {index: (.[0] | tonumber), count: (.[1] | tonumber)}')
jq -n --arg id "$id" --arg started "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson quick "$([ -n "$QUICK" ] && echo true || echo false)" \
	--arg commit "$KMODLAB_COMMIT" --argjson machine "$KMODLAB_MACHINE" --argjson shard "$shard_json" \
	--arg only "${KERNEL:-}" --args '{kind: "bench-set", version: 1, id: $id, started: $started, quick: $quick,
	  commit: $commit, machine: $machine, shard: $shard, kernel_selected: $only,
	  kernels: [$ARGS.positional[] | split(" ") | {series: .[0], release: .[1], dir: .[0]}]}' \
	"${kernels[@]}" >"$out/manifest.json"
echo "bench: run $id${QUICK:+ (QUICK)}${SHARD:+ shard $SHARD}, $BOOTS boots on kernel(s) ${kernels[*]} -> $out" >&2

for k in "${kernels[@]}"; do
	bench_one_kernel "${k%% *}" "${k#* }" "$out/${k%% *}"
done
jq --arg fin "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '. + {finished: $fin}' "$out/manifest.json" >"$out/manifest.json.tmp"
mv "$out/manifest.json.tmp" "$out/manifest.json"

"$PYTHON" -m analysis report "$out"
echo "bench: done in $(($(date +%s) - start)) s: $out/report.md (per kernel: $out/<series>/report.html)" >&2
