#!/usr/bin/env bash
# icount.sh - `make icount`: exact guest instructions per operation, C against
# C++, counted by the QEMU TCG plugin vm/plugin/icount.c.
#
# Usage: scripts/icount.sh [--ops N] [--quick] [--workloads "DRV:WL ..."]
#                          [--variants "c cxx"] [--extra-work "N [M...]"]
#                          [--modparams "DRIVER:PARAM=VALUE ..."]
#                          [--explain DRIVER/WORKLOAD] [--out DIR] [--run-dir DIR]
#
#   --ops N         operations per window (default 1000; --quick: 200)
#   --quick         200 ops, one workload per driver (the mode make bench uses)
#   --workloads     DRIVER:WORKLOAD list (default: all of icount-op --list)
#   --variants      variants to measure (default: "c cxx", and each variant only
#                   some drivers have whose module is built for the kernel: Rust
#                   on the lab's Rust kernel, "c cxx rust"; a driver without a
#                   variant is skipped for it)
#   --extra-work N  load every driver with extra_work=N (the planted cost);
#                   several values: one boot, every window at each value
#                   (make icount EXTRA_WORK=N)
#   --modparams     load each variant's module of DRIVER with PARAM=VALUE
#                   instead of its MODPARAMS_<module>, e.g. counter:sync=atomic
#                   (checked in the guest: the value must read back)
#   --explain D/W   measure only workload W of driver D and print both
#                   variants' instructions side by side with symbol+offset and
#                   disassembly (make icount EXPLAIN=D/W)
#   --out DIR       also copy icount.json and icount.txt into DIR (a results dir)
#   --run-dir DIR   keep the raw run here (default build/icount/runs/<time>)
#
# One guest boot (--smp 1: inline counters are exact on one vCPU; nokaslr:
# the same addresses every boot) under the plugin; in the guest
# scripts/icount_guest.sh loads the modules, arms the plugin and runs one
# window of N operations per driver x variant x workload (build/plugin/icount-op).
# The host then attributes every counted kernel PC to a function
# (vm/plugin/icount_report.py) and writes build/icount/icount.json (format:
# vm/plugin/README.md) and build/icount/icount.txt.  Exit 1 when anything in
# the run is unusable.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
PYTHON=${PYTHON:-/usr/bin/python3}
OPS="" QUICK=0 WORKLOADS="" OUTDIR="" RUNDIR="" EXTRA="" EXPLAIN="" MODPARAMS=""
VARIANTS=${KMODLAB_VARIANTS:-}
die() { echo "icount: error: $*" >&2; exit 1; }
usage() { sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--ops) OPS=${2:?--ops needs a number}; shift ;;
	--quick) QUICK=1 ;;
	--workloads) WORKLOADS=${2:?}; shift ;;
	--variants) VARIANTS=${2:?}; shift ;;
	--extra-work) EXTRA=${2:?--extra-work needs a number}; shift ;;
	--modparams) MODPARAMS=${2:?--modparams needs DRIVER:PARAM=VALUE}; shift ;;
	--explain) EXPLAIN=${2:?--explain needs DRIVER/WORKLOAD}; shift ;;
	--out) OUTDIR=${2:?}; shift ;;
	--run-dir) RUNDIR=${2:?}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option '$1' (try --help)" ;;
	esac
	shift
done
# --quick and --explain: 200 ops (counts are exact; more ops only dilute interrupts)
[ -n "$OPS" ] || { [ "$QUICK" = 1 ] || [ -n "$EXPLAIN" ] && OPS=200 || OPS=1000; }
[[ $OPS =~ ^[1-9][0-9]*$ ]] || die "--ops must be a positive integer"
[ "${TARGET:-vm}" = vm ] || die "icount needs the QEMU guest (TCG plugin); TARGET=host has no instruction counter"

make --no-print-directory -s -C vm/plugin || die "building the plugin failed"
OP=$ROOT/build/plugin/icount-op
if [ -n "$EXPLAIN" ]; then
	[[ $EXPLAIN == */* ]] || die "--explain takes DRIVER/WORKLOAD, e.g. lkp_enc/ioctl_read_seed"
	"$OP" --list | awk -v d="${EXPLAIN%%/*}" -v w="${EXPLAIN#*/}" '$1 == d && $2 == w { f = 1 } END { exit !f }' ||
		die "--explain: no workload $EXPLAIN (build/plugin/icount-op --list)"
	WORKLOADS=${WORKLOADS:-${EXPLAIN%%/*}:${EXPLAIN#*/}}
fi
if [ -z "$WORKLOADS" ]; then
	if [ "$QUICK" = 1 ]; then
		WORKLOADS="kernel:null kernel:getppid scull:read4k scullpipe:rw64 counter:write1 counter:ioctl_get lkp_enc:cycle"
	else
		WORKLOADS=$("$OP" --list | awk '{print $1 ":" $2}' | tr '\n' ' ')
	fi
fi
[ -n "$(scripts/modules.sh list)" ] || die "no modules built: run 'make modules'"
# The variants every driver has, then each partial one (KMODLAB_PARTIAL_VARIANTS,
# analysis/devnames.py) whose module is built for this kernel: counter_rust.ko on
# the Rust kernel gives "c cxx rust", Debian's kernels "c cxx".
if [ -z "$VARIANTS" ]; then
	VARIANTS=$(scripts/modules.sh list | xargs -rn1 basename | sed 's/\.ko$//' | "$PYTHON" -c '
import sys
from analysis.devnames import drivers, module_name, partial_variants, variants, variants_of
built = set(sys.stdin.read().split())
extra = [v for v in partial_variants() if any(v in variants_of(d) and module_name(d, v) in built for d in drivers())]
print(" ".join(variants() + tuple(extra)))') || die "cannot work out the variants (analysis/devnames.py)"
fi

RUNDIR=${RUNDIR:-$ROOT/build/icount/runs/$(date +%Y%m%d-%H%M%S)}
RUNDIR=$(mkdir -p "$RUNDIR" && cd "$RUNDIR" && pwd) || die "cannot create $RUNDIR"
rm -f "$RUNDIR"/plugin.txt "$RUNDIR"/manifest.tsv "$RUNDIR"/kallsyms.txt "$RUNDIR"/driver-text.txt
echo "icount: $OPS ops per window; workloads: $WORKLOADS; variants: $VARIANTS; run dir ${RUNDIR#"$ROOT"/}" >&2

# noreplace-smp: on one CPU the kernel would otherwise rewrite every LOCK
# prefix it recorded (LOCK_PREFIX, .smp_locks) into a DS prefix at boot and
# at module load, and the plugin would count those atomics as plain
# instructions while a compiler's own lock prefix (C++ std::atomic, kcxx)
# stays: the atomic class would differ between C and C++ for no reason.
KMODLAB_VARIANTS=$VARIANTS vm/run --smp 1 --append "nokaslr noreplace-smp" --timeout "${ICOUNT_TIMEOUT_S:-900}" \
	--qemu-arg -plugin \
	--qemu-arg "file=$ROOT/build/plugin/libicount.so,out=$RUNDIR/plugin.txt,irqs=$RUNDIR/irq-entries.txt,thunks=$RUNDIR/thunks.txt,drivers=$RUNDIR/driver-text.txt" \
	-- scripts/icount_guest.sh ${EXTRA:+--extra-work "$EXTRA"} ${MODPARAMS:+--modparams "$MODPARAMS"} \
	"$RUNDIR" "$OPS" $WORKLOADS
rc=$?
[ -s "$RUNDIR/plugin.txt" ] || die "the plugin wrote no output (vm/run exited $rc; see the console log above)"
[ $rc = 0 ] || echo "icount: the guest part exited $rc; the report lists what failed" >&2

"$PYTHON" vm/plugin/icount_report.py "$RUNDIR"
rrc=$?
# the per-function C-beside-C++ profile (analysis/icount_profile.py), in the
# text file and on the terminal
if [ -s "$RUNDIR/icount.json" ]; then
	"$PYTHON" -m analysis.icount_profile profile "$RUNDIR/icount.json" | tee -a "$RUNDIR/icount.txt"
	[ -z "$EXPLAIN" ] || "$PYTHON" -m analysis.icount_profile explain "$RUNDIR/icount.json" "$EXPLAIN"
fi
mkdir -p build/icount
cp "$RUNDIR/icount.json" "$RUNDIR/icount.txt" build/icount/ 2>/dev/null
if [ -n "$OUTDIR" ]; then
	mkdir -p "$OUTDIR" && cp "$RUNDIR/icount.json" "$RUNDIR/icount.txt" "$OUTDIR/" ||
		die "cannot copy the results into $OUTDIR"
fi
echo "icount: build/icount/icount.json${OUTDIR:+ and $OUTDIR/icount.json}" >&2
[ $rc = 0 ] && [ $rrc = 0 ]
