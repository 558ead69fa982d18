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
# or run it:  scripts/conf.sh get KEY | source KEY | show
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

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	get) [ $# -eq 2 ] || _conf_die "usage: scripts/conf.sh get KEY"; conf_get "$2" ;;
	source) [ $# -eq 2 ] || _conf_die "usage: scripts/conf.sh source KEY"; conf_source "$2" ;;
	show) conf_show ;;
	*) echo "usage: scripts/conf.sh get KEY | source KEY | show" >&2; exit 2 ;;
	esac
fi
