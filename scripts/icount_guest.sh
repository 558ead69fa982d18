#!/usr/bin/env bash
# icount_guest.sh - the in-guest half of `make icount` (scripts/icount.sh
# boots the guest under the icount TCG plugin and runs this).
#
# Usage: scripts/icount_guest.sh [--extra-work "N [M...]"] [--modparams "DRIVER:P=V ..."]
#                               OUTDIR OPS DRIVER:WORKLOAD...
#
#   --extra-work  load every driver module with extra_work=N (the planted
#                 cost, kmod/include/uapi/kmodlab.h) and measure every
#                 window; then for each further value M set
#                 /sys/module/<module>/parameters/extra_work=M and measure
#                 every window again (one boot, several settings: the
#                 known-answer test).  Default: the modules' own value.
#   --modparams   load every variant's module of DRIVER with parameter P=V
#                 instead of its MODPARAMS_<module> (e.g. counter:sync=atomic:
#                 a load-time mode); each value must read back from
#                 /sys/module/<module>/parameters/P, or the run stops
#
#   1. kptr_restrict=0, load every built module (scripts/modules.sh load)
#   2. write OUTDIR/irq-entries.txt (the asynchronous interrupt entry stubs
#      from /proc/kallsyms), OUTDIR/thunks.txt (the retpoline thunks'
#      address ranges) and OUTDIR/driver-text.txt (the measured driver
#      modules' executable sections: the plugin's "driver" scope) and tell
#      the plugin to read them and start counting (icount-op --arm; the
#      boot runs uninstrumented)
#   3. for each DRIVER:WORKLOAD and each variant whose device node exists,
#      one window of OPS operations (build/plugin/icount-op); the windows'
#      order is recorded in OUTDIR/manifest.tsv
#   (before 2: save /proc/kallsyms (text symbols) and
#      /sys/module/<mod>/sections/* so the host attributes every PC to a
#      function)
# Driver "kernel" runs the reference workloads once (variant "none").
# Variants: KMODLAB_VARIANTS (default "c cxx"; scripts/icount.sh adds Rust where
# counter_rust is built); a driver without one of them skips it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OP=$ROOT/build/plugin/icount-op
# shellcheck source=scripts/conf.sh
source "$ROOT/scripts/conf.sh"
die() { echo "icount_guest: error: $*" >&2; exit 1; }
usage() { sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
EXTRA="" MODPARAMS=""
while [ "${1:-}" = --extra-work ] || [ "${1:-}" = --modparams ]; do
	case $1 in
	--extra-work) EXTRA=${2:?--extra-work needs values} ;;
	--modparams) MODPARAMS=${2:?--modparams needs DRIVER:P=V} ;;
	esac
	shift 2
done
for n in $EXTRA; do
	[[ $n =~ ^[0-9]+$ ]] || die "--extra-work: '$n' is not a non-negative integer"
done
for item in $MODPARAMS; do
	[[ $item =~ ^[a-z_]+:[a-z_]+=[^=]+$ ]] || die "--modparams: '$item' is not DRIVER:PARAM=VALUE"
done
[ -z "$MODPARAMS" ] || [ -z "$EXTRA" ] || die "--modparams and --extra-work together are not supported"
[ $# -ge 3 ] || { usage; exit 2; }
OUT=$1 OPS=$2
shift 2
[ -n "${KMODLAB_IN_GUEST:-}" ] || die "runs inside the icount guest only (scripts/icount.sh boots it)"
[ -x "$OP" ] || die "$OP missing (make -C vm/plugin)"
mkdir -p "$OUT/sections" || die "cannot write $OUT"

echo 0 >/proc/sys/kernel/kptr_restrict
# Same user addresses every run: user-copy paths depend on buffer alignment.
echo 0 >/proc/sys/kernel/randomize_va_space
echo 0 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null
# The driver modules of the windows (base names from DRIVER:WORKLOAD).
driver_modules() {
	local item drv v
	for item in "$@"; do
		drv=${item%%:*}
		[ "$drv" = kernel ] && continue
		for v in ${KMODLAB_VARIANTS:-c cxx}; do echo "${drv}_$v"; done
	done | sort -u
}
if [ -n "$EXTRA" ]; then
	# Loaded with the first value: MODPARAMS_<module> from the environment
	# wins over kmodlab.conf (scripts/conf.sh), so append to the configured one.
	first=${EXTRA%% *}
	for mod in $(driver_modules "$@"); do
		params=""
		conf_has "MODPARAMS_$mod" && params="$(conf_get "MODPARAMS_$mod") "
		export "MODPARAMS_$mod=${params}extra_work=$first"
	done
fi
# --modparams: each variant's module of the driver gets the parameters
# given for its driver in place of MODPARAMS_<module> (scripts/conf.sh: the
# environment wins over kmodlab.conf).
modparams_of() {
	local item out=""
	for item in $MODPARAMS; do
		[ "${item%%:*}" = "$1" ] && out+="${out:+ }${item#*:}"
	done
	printf '%s' "$out"
}
for item in $MODPARAMS; do
	drv=${item%%:*}
	for v in ${KMODLAB_VARIANTS:-c cxx}; do
		export "MODPARAMS_${drv}_$v=$(modparams_of "$drv")"
	done
done
"$ROOT/scripts/modules.sh" load || die "loading the modules failed"
# ... and every one of them is in effect.
for item in $MODPARAMS; do
	drv=${item%%:*} pv=${item#*:}
	for v in ${KMODLAB_VARIANTS:-c cxx}; do
		"$OP" --path "$drv" "$v" >/dev/null 2>&1 || continue  # a variant this driver does not have (Rust)
		p=/sys/module/${drv}_$v/parameters/${pv%%=*}
		[ "$(cat "$p" 2>/dev/null)" = "${pv#*=}" ] ||
			die "--modparams $item: $p reads '$(cat "$p" 2>/dev/null)', not '${pv#*=}'"
	done
done

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
# The plugin's "driver" scope: each measured module's executable sections
# (address from /sys/module/<m>/sections/, size from the .ko's section
# header; init text is freed after loading).  Not the whole module area: on
# 6.12 other code runs there too (see vm/plugin/README.md).
driver_text() {
	local mod ko kos name size addr
	# One listing for all modules: each call walks the build tree over 9p
	# (about a minute per module on a loaded host).
	kos=$("$ROOT/scripts/modules.sh" list) || die "scripts/modules.sh list failed"
	for mod in $(driver_modules "$@"); do
		[ -d "/sys/module/$mod" ] || continue
		ko=$(grep "/$mod\.ko\$" <<<"$kos") || die "no $mod.ko (scripts/modules.sh list)"
		# readelf -SW: "[Nr] Name Type Address Off Size ES Flg ...", "[ 1]" may hold a blank
		readelf -SW "$ko" | sed -n 's/^ *\[ *[0-9]*\] //p' | awk '$7 ~ /X/ { print $1, $5 }' |
			while read -r name size; do
				case $name in .init*) continue ;; esac
				[ $((16#$size)) -gt 0 ] || continue
				addr=$(cat "/sys/module/$mod/sections/$name") || die "$mod: no section $name in sysfs"
				printf '%x %x %s %s\n' "$((addr))" "$((addr + 16#$size))" "$mod" "$name"
			done || return 1
	done
}
driver_text "$@" >"$OUT/driver-text.txt" || die "cannot write the driver text ranges"
for mod in $(driver_modules "$@"); do
	[ ! -d "/sys/module/$mod" ] || grep -q " $mod " "$OUT/driver-text.txt" ||
		die "$mod is loaded but has no text range in driver-text.txt"
done
# Symbols and module sections now, before counting starts: the modules
# are loaded and nothing moves after this; dumping 100k kallsyms lines under
# the plugin would cost more than all windows together.
awk '$2 ~ /^[tTwW]$/' /proc/kallsyms >"$OUT/kallsyms.txt"
for m in /sys/module/*/sections; do
	mod=$(basename "$(dirname "$m")")
	[ -e "/sys/module/$mod/sections/.text" ] || continue
	mkdir -p "$OUT/sections/$mod"
	for s in "$m"/.text* "$m"/.init.text "$m"/.exit.text; do
		[ -e "$s" ] && cat "$s" >"$OUT/sections/$mod/$(basename "$s")"
	done
done
# DRIVER WORKLOAD FOPS of every workload, looked up once
"$OP" --list | cut -f1 >"$OUT/workloads.txt" || die "icount-op --list failed"
sync
"$OP" --arm

# Set (or, with no value, read) every measured module's extra_work: the
# value the windows ran with goes into the manifest.
extra_work_set() {
	local mod p
	for mod in $(driver_modules "$@"); do
		[ -d "/sys/module/$mod" ] || continue
		p=/sys/module/$mod/parameters/extra_work
		[ -e "$p" ] || die "$mod has no extra_work parameter (drivers older than the planted cost?)"
		echo "$EW" >"$p" || die "cannot set $p"
		[ "$(cat "$p")" = "$EW" ] || die "$p reads $(cat "$p"), not $EW"
	done
}

# One window per DRIVER:WORKLOAD x variant, at the current extra_work.
run_windows() {
	local item drv wl vlist v mod dev st status fops
	for item in "$@"; do
		drv=${item%%:*} wl=${item#*:}
		fops=$(awk -v d="$drv" -v w="$wl" '$1 == d && $2 == w { print $3 }' "$OUT/workloads.txt")
		[ -n "$fops" ] || die "unknown workload $drv:$wl (icount-op --list)"
		if [ "$drv" = kernel ]; then
			vlist=none
		else
			vlist=$variants
		fi
		for v in $vlist; do
			mod=-
			if [ "$drv" != kernel ]; then
				mod=${drv}_$v
				"$OP" --path "$drv" c >/dev/null || die "unknown driver $drv"
				# a variant only some drivers have (Rust: counter): the others skip it
				dev=$("$OP" --path "$drv" "$v") || {
					echo "icount_guest: $drv has no variant $v (kmod/include/uapi/kmodlab_dev.h): skipped" >&2
					continue
				}
				if [ ! -e "$dev" ]; then
					echo "icount_guest: $drv $v: $dev not present (module $mod not built or not loaded): skipped" >&2
					continue
				fi
			fi
			# The window exists in the plugin's output once icount-op
			# reached BEGIN; set-up failures (before BEGIN) open no window.
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
				printf -- '-\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$drv" "$v" "$wl" "$mod" "$OPS" "$status" "$EW" "$fops" >>"$OUT/manifest.tsv"
			else
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$win" "$drv" "$v" "$wl" "$mod" "$OPS" "$status" "$EW" "$fops" >>"$OUT/manifest.tsv"
				win=$((win + 1))
			fi
			echo "icount_guest: $drv $v $wl (extra_work $EW): $OPS ops, $status" >&2
		done
	done
}

variants=${KMODLAB_VARIANTS:-c cxx}
printf 'window\tdriver\tvariant\tworkload\tmodule\tops\tstatus\textra_work\tfops\n' >"$OUT/manifest.tsv"
win=0
rc=0
if [ -z "$EXTRA" ]; then
	# the modules' own value (0 unless kmodlab.conf sets one)
	EW=0
	for mod in $(driver_modules "$@"); do
		p=/sys/module/$mod/parameters/extra_work
		[ -e "$p" ] && [ "$(cat "$p")" != 0 ] && EW=$(cat "$p")
	done
	run_windows "$@"
else
	for EW in $EXTRA; do
		extra_work_set "$@"
		run_windows "$@"
	done
fi

uname -r >"$OUT/kernel-release"
cat /proc/cmdline >"$OUT/cmdline"
sync
exit $rc
