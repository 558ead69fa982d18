#!/usr/bin/env bash
# shellcheck shell=bash
# conf.sh - the shell reader of kmodlab.conf (make uses it too).  Source it:
#   conf_get KEY        prints the value; a non-empty environment variable of
#                       the same name wins over the file.  A key that is in
#                       neither is an error: defaults are written once, in
#                       kmodlab.conf, never at the call site.
#   conf_has KEY        status 0 when the key is set anywhere
#   conf_source KEY     where the value comes from: "environment" or
#                       "<file>:<line>"
#   kernel_names        the configured kernels (KERNELS), the default first
#   kernel_resolve [W]  the kernel name W means (name or ABI; empty: $KERNEL,
#                       else the first)
#   kernel_field W F    a fact about set-up kernel W: name abi source image
#                       build modules out kmod
# or run it:  scripts/conf.sh get KEY | source KEY | show | kernels |
#             resolve [W] | kernel W FIELD
# (`make config` = show: every key, its value and where it came from).
KMODLAB_ROOT=${KMODLAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KMODLAB_CONF=${KMODLAB_CONF:-$KMODLAB_ROOT/kmodlab.conf}

_conf_die() {
	echo "kmodlab.conf: error: $*" >&2
	exit 2
}

# "LINE<TAB>VALUE" of the last assignment of KEY in the file (as make and
# analysis/conf.py: the last one wins), nothing when absent.
_conf_file_entry() {
	[ -r "$KMODLAB_CONF" ] || _conf_die "cannot read $KMODLAB_CONF (KMODLAB_CONF)"
	awk -v key="$1" '
		/^[[:space:]]*#/ { next }
		{ line = $0; sub(/^[[:space:]]+/, "", line) }
		index(line, key) == 1 {
			rest = substr(line, length(key) + 1)
			if (rest ~ /^[[:space:]]*=/) {
				sub(/^[[:space:]]*=[[:space:]]*/, "", rest)
				sub(/[[:space:]]+$/, "", rest)
				found = NR "\t" rest
			}
		}
		END { if (found != "") print found }' "$KMODLAB_CONF"
}

conf_source() {
	local key=$1 entry
	if [ -n "${!key+x}" ] && [ -n "${!key}" ]; then
		echo environment
		return
	fi
	entry=$(_conf_file_entry "$key")
	[ -n "$entry" ] || { echo missing; return; }
	echo "$KMODLAB_CONF:${entry%%$'\t'*}"
}

conf_get() {
	local key=$1 entry
	[ $# -eq 1 ] || _conf_die "conf_get takes one key (defaults live in kmodlab.conf), got: $*"
	if [ -n "${!key+x}" ] && [ -n "${!key}" ]; then
		printf '%s\n' "${!key}"
		return
	fi
	entry=$(_conf_file_entry "$key")
	[ -n "$entry" ] || _conf_die "no $key in $KMODLAB_CONF and none in the environment (add '$key = ...' to kmodlab.conf)"
	printf '%s\n' "${entry#*$'\t'}"
}

# Status 0 when KEY is set (environment or file, even to an empty value):
# for keys whose absence means "nothing", such as MODPARAMS_<module>.
conf_has() {
	[ -n "${!1+x}" ] && [ -n "${!1}" ] && return 0
	[ -n "$(_conf_file_entry "$1")" ]
}

# Every key of the file, in order.
conf_keys() {
	sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=.*/\1/p' "$KMODLAB_CONF" | awk '!seen[$0]++'
}

conf_show() {
	local key
	for key in $(conf_keys); do
		printf '%-32s = %-28s (%s)\n' "$key" "$(conf_get "$key")" "$(conf_source "$key")"
	done
}

# --- kernels (kmodlab.conf KERNELS, KERNEL_<name>; kernels-api in README) ---
# The configured kernels, by name, in order (the first is the default).
kernel_names() {
	local names n
	names=$(conf_get KERNELS)
	[ -n "$names" ] || _conf_die "KERNELS = '' (from $(conf_source KERNELS)): name at least one kernel"
	for n in $names; do
		[[ $n =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] ||
			_conf_die "KERNELS = '$names' (from $(conf_source KERNELS)): '$n' is not a kernel name (letters, digits, '.', '-')"
	done
	printf '%s\n' $names
}

# The key that describes kernel NAME: KERNEL_ + the name with '.' and '-' as '_'.
kernel_key() { printf 'KERNEL_%s\n' "$(printf '%s' "$1" | tr '.-' '__')"; }

# Set-up's record of each kernel: build/kernels/<abi>/kernel.env, and
# build/kernels/by-name/<name> -> ../<abi>.
KMODLAB_KERNELS_DIR=$KMODLAB_ROOT/build/kernels

# kernel_resolve [WHAT]: the configured name that WHAT (a name, or the ABI
# of a set-up kernel) means; empty WHAT: $KERNEL, else the first kernel.
kernel_resolve() {
	local what=${1:-${KERNEL:-}} n abi names
	names=$(kernel_names) || exit 2
	[ -n "$what" ] || { head -n1 <<<"$names"; return; }
	for n in $names; do
		[ "$n" = "$what" ] && { echo "$n"; return; }
	done
	for n in $names; do
		abi=$(readlink "$KMODLAB_KERNELS_DIR/by-name/$n" 2>/dev/null) || continue
		[ "${abi##*/}" = "$what" ] && { echo "$n"; return; }
	done
	_conf_die "no kernel '$what': KERNELS = '$(echo $names)' (from $(conf_source KERNELS)); give a name or the ABI of one (after 'make setup': scripts/conf.sh kernels)"
}

# kernel_field WHAT FIELD: one fact about a set-up kernel.  FIELD: name, abi,
# source (its KERNEL_<name> value), image (bzImage), build (Kbuild's tree:
# headers or build dir), modules (its lib/modules/<abi>), out (this clone's
# build outputs for it: build/kernels/<abi>), kmod (out/kmod: the modules).
kernel_field() {
	local name dir env
	name=$(kernel_resolve "$1") || exit 2
	dir=$KMODLAB_KERNELS_DIR/by-name/$name
	env=$dir/kernel.env
	[ -r "$env" ] || _conf_die "kernel $name is not set up ($env missing): run 'make setup'"
	case $2 in
	out) (cd "$dir" && pwd -P) ;;
	kmod) echo "$(cd "$dir" && pwd -P)/kmod" ;;
	name | abi | source | image | build | modules)
		sed -n "s/^$(printf '%s' "$2" | tr a-z A-Z)=//p" "$env" ;;
	*) _conf_die "kernel_field: unknown field '$2' (name abi source image build modules out kmod)" ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	get) [ $# -eq 2 ] || _conf_die "usage: scripts/conf.sh get KEY"; conf_get "$2" ;;
	source) [ $# -eq 2 ] || _conf_die "usage: scripts/conf.sh source KEY"; conf_source "$2" ;;
	show) conf_show ;;
	kernels) [ $# -eq 1 ] || _conf_die "usage: scripts/conf.sh kernels"; kernel_names ;;
	kernel) [ $# -eq 3 ] || _conf_die "usage: scripts/conf.sh kernel NAME|ABI|'' FIELD"; kernel_field "$2" "$3" ;;
	resolve) [ $# -le 2 ] || _conf_die "usage: scripts/conf.sh resolve [NAME|ABI]"; kernel_resolve "${2:-}" ;;
	*) echo "usage: scripts/conf.sh get KEY | source KEY | show | kernels | resolve [NAME|ABI] | kernel NAME|ABI|'' FIELD" >&2; exit 2 ;;
	esac
fi
