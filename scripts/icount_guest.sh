#!/usr/bin/env bash
# icount_guest.sh - the in-guest half of `make icount` (scripts/icount.sh
# boots the guest under the icount TCG plugin and runs this).
#
# Usage: scripts/icount_guest.sh OUTDIR OPS DRIVER:WORKLOAD...
#
#   1. kptr_restrict=0, load every built module (scripts/modules.sh load)
#   2. write OUTDIR/irq-entries.txt (the asynchronous interrupt entry stubs
#      from /proc/kallsyms) and OUTDIR/thunks.txt (the retpoline thunks'
#      address ranges) and tell the plugin to read them and start
#      counting (icount-op --arm; the boot runs uninstrumented)
#   3. for each DRIVER:WORKLOAD and each variant whose device node exists,
#      one window of OPS operations (build/plugin/icount-op); the windows'
#      order is recorded in OUTDIR/manifest.tsv
#   4. save /proc/kallsyms (text symbols) and /sys/module/<mod>/sections/*
#      so the host attributes every PC to a function
# Driver "kernel" runs the reference workloads once (variant "none").
# Variants: KMODLAB_VARIANTS (default "c cxx").
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OP=$ROOT/build/plugin/icount-op
die() { echo "icount_guest: error: $*" >&2; exit 1; }
[ $# -ge 3 ] || { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
OUT=$1 OPS=$2
shift 2
[ -n "${KMODLAB_IN_GUEST:-}" ] || die "runs inside the icount guest only (scripts/icount.sh boots it)"
[ -x "$OP" ] || die "$OP missing (make -C vm/plugin)"
mkdir -p "$OUT/sections" || die "cannot write $OUT"

echo 0 >/proc/sys/kernel/kptr_restrict
# Same user addresses every run: user-copy paths depend on buffer alignment.
echo 0 >/proc/sys/kernel/randomize_va_space
echo 0 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null
"$ROOT/scripts/modules.sh" load || die "loading the modules failed"

# Asynchronous interrupts enter through asm_common_interrupt (device IRQs,
# via irq_entries_start), asm_spurious_interrupt and the asm_sysvec_* system
# vectors (timer, IPIs, ...).  Exceptions (asm_exc_*) are not listed: a page
# fault inside a syscall is part of that syscall.
awk '$2 ~ /^[tT]$/ && ($3 ~ /^asm_sysvec_/ || $3 == "asm_common_interrupt" || $3 == "asm_spurious_interrupt") { print $1 }' \
	/proc/kallsyms >"$OUT/irq-entries.txt"
[ -s "$OUT/irq-entries.txt" ] || die "no interrupt entry symbols in /proc/kallsyms"
grep -q '^0000000000000000$' "$OUT/irq-entries.txt" && die "kallsyms shows zero addresses (kptr_restrict?)"
# Retpoline thunks (CONFIG_RETPOLINE): a direct call or jump into one is an
# indirect branch.  Each thunk runs from its symbol to the next text symbol.
sort "/proc/kallsyms" | awk '$2 ~ /^[tT]$/ {
	if (lo != "" && $1 != lo) { print lo, $1; lo = "" }
	if ($3 ~ /^__x86_indirect_(call_|jump_)?thunk_/) lo = $1
}' >"$OUT/thunks.txt"
sync
"$OP" --arm

variants=${KMODLAB_VARIANTS:-c cxx}
printf 'window\tdriver\tvariant\tworkload\tmodule\tops\tstatus\n' >"$OUT/manifest.tsv"
win=0
rc=0
for item in "$@"; do
	drv=${item%%:*} wl=${item#*:}
	if [ "$drv" = kernel ]; then
		vlist=none
	else
		vlist=$variants
	fi
	for v in $vlist; do
		mod=-
		if [ "$drv" != kernel ]; then
			mod=${drv}_$v
			dev=$("$OP" --path "$drv" "$v") || die "unknown driver $drv"
			if [ ! -e "$dev" ]; then
				echo "icount_guest: $drv $v: $dev not present (module $mod not built or not loaded): skipped" >&2
				continue
			fi
		fi
		# The window exists in the plugin's output once icount-op reached
		# BEGIN; set-up failures (before BEGIN) open no window.
		"$OP" "$drv" "$v" "$wl" "$OPS"
		st=$?
		case $st in
		0) status=ok ;;
		1) status=failed; rc=1 ;;
		3) status=setup-failed; rc=1 ;;
		*) die "icount-op $drv $v $wl: usage error" ;;
		esac
		if [ "$status" = setup-failed ]; then
			# no window was opened: listed (window "-") so the report says so
			printf -- '-\t%s\t%s\t%s\t%s\t%s\t%s\n' "$drv" "$v" "$wl" "$mod" "$OPS" "$status" >>"$OUT/manifest.tsv"
		else
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$win" "$drv" "$v" "$wl" "$mod" "$OPS" "$status" >>"$OUT/manifest.tsv"
			win=$((win + 1))
		fi
		echo "icount_guest: $drv $v $wl: $OPS ops, $status" >&2
	done
done

awk '$2 ~ /^[tTwW]$/' /proc/kallsyms >"$OUT/kallsyms.txt"
for m in /sys/module/*/sections; do
	mod=$(basename "$(dirname "$m")")
	[ -e "/sys/module/$mod/sections/.text" ] || continue
	mkdir -p "$OUT/sections/$mod"
	for s in "$m"/.text* "$m"/.init.text "$m"/.exit.text; do
		[ -e "$s" ] && cat "$s" >"$OUT/sections/$mod/$(basename "$s")"
	done
done
uname -r >"$OUT/kernel-release"
cat /proc/cmdline >"$OUT/cmdline"
sync
exit $rc
