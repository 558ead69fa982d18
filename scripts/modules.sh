#!/usr/bin/env bash
# modules.sh - load, unload and inspect every module the kmod/ build produces.
#
# Usage: scripts/modules.sh load|unload|list|status|dmesg [MODULE...]
#
#   load     insmod each module with its parameters from kmodlab.conf
#            (MODPARAMS_<module>), binding PCI devices first: a module whose
#            modinfo aliases match an unclaimed PCI device gets that device
#            through driver_override (lkp_enc_c the first lkp_enc device,
#            lkp_enc_cxx the second); already loaded modules are left alone
#   unload   rmmod them in reverse order and clear the overrides
#   list     the .ko files, in load order
#   check    the MODPARAMS_<module> of each, checked (no kernel needed)
#   status   which are loaded, and their device bindings
#   dmesg    the kernel log lines of our modules
#
# Modules join by being built: every kmod/<dir>/ with a Kbuild file except
# samples/, as built for this kernel (build/kernels/<abi>/kmod/<dir>/: the
# running kernel's in the guest, KERNEL= or the default kernel for list and
# check; scripts/conf.sh kernel "" kmod), or KMODLAB_KMOD_DIR when set (another
# build of the same kernel's modules: the trace-cost timing loads the build
# without tracepoints from there).  Needs a kernel that loads modules: run it inside the guest
# (vm/run -- make load, or make vm-shell) or on a host with TARGET=host.
set -euo pipefail
# shellcheck source=scripts/conf.sh
source "$(dirname "${BASH_SOURCE[0]}")/conf.sh"
ROOT=$KMODLAB_ROOT

die() { echo "modules: error: $*" >&2; exit 1; }
say() { echo "modules: $*" >&2; }

# The modules built for the kernel acted on (kmod/Makefile keeps them per
# kernel): the running one in the guest or on TARGET=host, else KERNEL= or
# the default kernel (list, check).
module_kernel() {
	if [ -n "${KMODLAB_IN_GUEST:-}" ] || [ "${TARGET:-vm}" = host ]; then
		uname -r
	else
		echo "${KERNEL:-}"
	fi
}

all_kos() {
	local kbuild dir out
	if [ -n "${KMODLAB_KMOD_DIR:-}" ]; then
		[ -d "$KMODLAB_KMOD_DIR" ] || die "KMODLAB_KMOD_DIR=$KMODLAB_KMOD_DIR: no such directory"
		out=$KMODLAB_KMOD_DIR
	else
		out=$(kernel_field "$(module_kernel)" kmod) || exit 1
	fi
	for kbuild in "$ROOT"/kmod/*/Kbuild; do
		dir=$(basename "$(dirname "$kbuild")")
		[ "$dir" = samples ] && continue
		ls "$out/$dir"/*.ko 2>/dev/null || true
	done
}

selected_kos() {
	local ko name want
	while read -r ko; do
		name=$(basename "$ko" .ko)
		if [ $# -eq 0 ]; then
			echo "$ko"
			continue
		fi
		for want in "$@"; do
			[ "$want" = "$name" ] && echo "$ko"
		done
	done < <(all_kos)
}

is_loaded() { [ -d "/sys/module/$1" ]; }

# The words of MODPARAMS_<module> (kmodlab.conf or the environment), checked
# before insmod, which would only say "Invalid argument": each must be a
# parameter the module has (modinfo), and sync= one of the uapi's modes.
# A bad one stops with the key, the value and where it came from.
module_params() {
	local ko=$1 name key params w p known modes
	name=$(basename "$ko" .ko)
	key=MODPARAMS_$name
	conf_has "$key" || return 0
	params=$(conf_get "$key")
	known=$(modinfo -F parm "$ko" | sed 's/:.*//')
	for w in $params; do
		p=${w%%=*}
		grep -qxF -- "$p" <<<"$known" ||
			die "$key = '$params' (from $(conf_source "$key")): $name has no parameter '$p' (it has: $(echo $known))"
		[ "$p" = sync ] || continue
		modes=$("$ROOT/scripts/uapi-value.sh" --raw COUNTER_SYNC_MODES | grep -o '"[^"]*"' | tr -d '"')
		grep -qxF -- "${w#*=}" <<<"$modes" ||
			die "$key = '$params' (from $(conf_source "$key")): sync mode '${w#*=}' is not one of: $(echo $modes) (kmod/include/uapi/counter.h)"
	done
	echo "$params"
}

# check: every selected module's parameters, without loading anything.
cmd_check() {
	local ko params
	while read -r ko; do
		params=$(module_params "$ko")
		echo "$(basename "$ko" .ko): ${params:-(no parameters)}"
	done < <(selected_kos "$@")
}

# A PCI device nobody has claimed: no driver, and no override naming a
# module (UNCLAIMED parks devices so the first driver cannot grab them all).
UNCLAIMED=kmodlab_unclaimed
pci_unclaimed() {
	local override
	[ -e "$1/driver" ] && return 1
	override=$(cat "$1/driver_override")
	[ -z "$override" ] || [ "$override" = "(null)" ] || [ "$override" = "$UNCLAIMED" ]
}

# Give the module the first unclaimed PCI device its aliases match, and park
# the other matching ones so that this driver probes only its own.
bind_pci_device() {
	local ko=$1 name=$2 aliases dev modalias alias
	aliases=$(modinfo -F alias "$ko" | grep '^pci:' || true)
	[ -n "$aliases" ] || return 0
	for dev in /sys/bus/pci/devices/*; do
		pci_unclaimed "$dev" || continue
		modalias=$(cat "$dev/modalias")
		while read -r alias; do
			# shellcheck disable=SC2053  # alias is a glob by design
			[[ $modalias == $alias ]] || continue
			if [ -z "$BOUND_DEV" ]; then
				echo "$name" >"$dev/driver_override"
				say "$name: bound PCI device $(basename "$dev") through driver_override"
				BOUND_DEV=$dev
			else
				echo "$UNCLAIMED" >"$dev/driver_override"
			fi
			break
		done <<<"$aliases"
	done
	[ -n "$BOUND_DEV" ] && return 0
	say "error: $name is a PCI driver but no unclaimed matching PCI device exists (is the guest's QEMU ours, with two lkp_enc devices?)"
	return 1
}

cmd_load() {
	local ko name params n=0 failed=()
	while read -r ko; do
		name=$(basename "$ko" .ko)
		if is_loaded "$name"; then
			say "$name: already loaded"
			continue
		fi
		BOUND_DEV=""
		# One module that cannot load must not keep the others out: go
		# on, and fail at the end naming it.
		if ! bind_pci_device "$ko" "$name"; then
			failed+=("$name")
			continue
		fi
		params=$(module_params "$ko")
		# shellcheck disable=SC2086  # params are separate words by design
		if ! insmod "$ko" $params; then
			say "error: insmod $ko $params failed (see 'make dmesg')"
			failed+=("$name")
			continue
		fi
		if [ -n "$BOUND_DEV" ] && [ ! -e "$BOUND_DEV/driver" ]; then
			say "error: $name loaded but did not bind $(basename "$BOUND_DEV") (see 'make dmesg')"
			failed+=("$name")
		fi
		say "$name: loaded${params:+ ($params)}"
		n=$((n + 1))
	done < <(selected_kos "$@")
	say "$n module(s) loaded"
	[ ${#failed[@]} = 0 ] || die "not loaded: ${failed[*]}"
}

cmd_unload() {
	local ko name dev n=0
	while read -r ko; do
		name=$(basename "$ko" .ko)
		is_loaded "$name" || continue
		rmmod "$name" || die "rmmod $name failed (device still open?)"
		say "$name: unloaded"
		n=$((n + 1))
		for dev in /sys/bus/pci/devices/*; do
			case $(cat "$dev/driver_override" 2>/dev/null) in
			"$name" | "$UNCLAIMED") echo >"$dev/driver_override" ;;
			esac
		done
	done < <(selected_kos "$@" | tac)
	say "$n module(s) unloaded"
}

cmd_status() {
	local ko name dev
	while read -r ko; do
		name=$(basename "$ko" .ko)
		if is_loaded "$name"; then
			printf '%-16s loaded\n' "$name"
		else
			printf '%-16s not loaded\n' "$name"
		fi
		for dev in /sys/bus/pci/devices/*; do
			[ "$(cat "$dev/driver_override" 2>/dev/null)" = "$name" ] &&
				printf '%-16s   pci %s\n' "" "$(basename "$dev")"
		done
	done < <(selected_kos "$@")
}

cmd_dmesg() {
	local names
	names=$(selected_kos "$@" | xargs -rn1 basename | sed 's/\.ko$//' | paste -sd'|')
	[ -n "$names" ] || die "no modules built yet: run 'make modules'"
	dmesg | grep -E "^\[[ 0-9.]+\] ($names)( [^:]*)?: " || true
}

[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2; }
action=$1
shift
case $action in
-h | --help) ;;
# Fail here, not inside a process substitution that would just list nothing.
*) kernel_field "$(module_kernel)" kmod >/dev/null || exit 1 ;;
esac
case $action in
load | unload | status | dmesg)
	if [ -z "${KMODLAB_IN_GUEST:-}" ] && [ "${TARGET:-vm}" != host ]; then
		die "'$action' acts on the running kernel: run it inside the guest (vm/run -- make $action, or make vm-shell), or on a host that loads modules with TARGET=host"
	fi
	"cmd_$action" "$@"
	;;
list) selected_kos "$@" ;;
check) cmd_check "$@" ;;
-h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
*) die "unknown action '$action' (load, unload, list, check, status, dmesg)" ;;
esac
