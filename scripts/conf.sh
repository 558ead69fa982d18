# shellcheck shell=bash
# conf.sh - read kmodlab.conf from shell scripts.  Source it, then:
#   conf_get KEY [DEFAULT]   prints the value (environment wins over the file)
KMODLAB_ROOT=${KMODLAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KMODLAB_CONF=${KMODLAB_CONF:-$KMODLAB_ROOT/kmodlab.conf}

conf_get() {
	local key=$1 default=${2-} val
	if [ -n "${!key+x}" ] && [ -n "${!key}" ]; then
		printf '%s\n' "${!key}"
		return
	fi
	val=$(sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*//p" "$KMODLAB_CONF" | tail -n1)
	val=${val%"${val##*[![:space:]]}"}
	printf '%s\n' "${val:-$default}"
}
