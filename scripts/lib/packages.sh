# shellcheck shell=bash
# packages.sh - what state each Debian package of a list is in.  Source it.
#
#   package_states NAME...   prints "NAME STATE" per name, in order, where
#                            STATE is installed, missing (apt knows it, dpkg
#                            has not installed it) or unknown (apt has never
#                            heard of it: a typo, or apt-get update not run).
#
# It never dies under `set -euo pipefail`: dpkg-query exits non-zero when any
# name is not installed, which is the normal case on a fresh machine (the
# first version of this check died there silently and reported "all present").

_pkg_installed_set() {	# NAME... -> installed names, one a line
	local out
	out=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null) || true
	awk '$2 == "installed" { print $1 }' <<<"$out"
}

_pkg_known_to_apt() {	# NAME -> status 0 when apt has a candidate for it
	local cand
	cand=$(apt-cache policy -- "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n1) || true
	[ -n "$cand" ] && [ "$cand" != "(none)" ]
}

package_states() {
	[ $# -gt 0 ] || return 0
	local installed p
	installed=$(_pkg_installed_set "$@")
	for p in "$@"; do
		if grep -qxF -- "$p" <<<"$installed"; then
			echo "$p installed"
		elif _pkg_known_to_apt "$p"; then
			echo "$p missing"
		else
			echo "$p unknown"
		fi
	done
}
