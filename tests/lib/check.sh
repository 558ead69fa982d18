# shellcheck shell=bash
# check.sh - shell checks that report as JUnit XML, like every other test here.
#
#   source tests/lib/check.sh
#   CHECK_SUITE=conformance-c          # suite name (default: the script's name)
#   check "name" CMD [ARG...]          # passes when CMD exits 0
#   check_fail "name" "why"            # record a failure found by other means
#   check_status "name" RC "detail"    # record a result from an exit status
#
# Each check writes build/test-results/checks/<suite>--<name>.xml and prints
# "PASS name" or "FAIL name" with CMD's output.  check returns CMD's status,
# so `check ... || something` works; a suite script should still exit 0
# unless it cannot run at all (the summary counts the failures).
_check_root=${KMODLAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CHECK_RESULTS=${CHECK_RESULTS:-$_check_root/build/test-results/checks}
CHECK_SUITE=${CHECK_SUITE:-$(basename "$0")}

_check_xml_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' |
		tr -d '\000-\010\013\014\016-\037'
}

_check_write() {	# name status(0/1) seconds output-file
	local name=$1 ok=$2 secs=$3 out=$4 file
	mkdir -p "$CHECK_RESULTS"
	file=$CHECK_RESULTS/$(printf '%s--%s' "$CHECK_SUITE" "$name" | tr -c 'A-Za-z0-9._-' '_').xml
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuite name="%s" tests="1" failures="%d">\n' \
			"$(printf %s "$CHECK_SUITE" | _check_xml_escape)" "$((ok == 0 ? 0 : 1))"
		printf '  <testcase classname="%s" name="%s" time="%s">\n' \
			"$(printf %s "$CHECK_SUITE" | _check_xml_escape)" "$(printf %s "$name" | _check_xml_escape)" "$secs"
		if [ "$ok" != 0 ]; then
			printf '    <failure message="failed">'
			tail -c 8000 "$out" | _check_xml_escape
			echo '</failure>'
		fi
		printf '    <system-out>'
		tail -c 8000 "$out" | _check_xml_escape
		echo '</system-out>'
		echo '  </testcase>'
		echo '</testsuite>'
	} >"$file"
}

check() {
	local name=$1 out start rc secs
	shift
	out=$(mktemp)
	start=$(date +%s.%N)
	"$@" >"$out" 2>&1
	rc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	if [ $rc = 0 ]; then
		echo "PASS $CHECK_SUITE: $name"
	else
		echo "FAIL $CHECK_SUITE: $name (exit $rc)"
		sed 's/^/    /' "$out" | tail -n 40
	fi
	_check_write "$name" "$rc" "$secs" "$out"
	rm -f "$out"
	return $rc
}

check_status() {
	local name=$1 rc=$2 detail=${3:-} out
	out=$(mktemp)
	printf '%s\n' "$detail" >"$out"
	if [ "$rc" = 0 ]; then
		echo "PASS $CHECK_SUITE: $name"
	else
		echo "FAIL $CHECK_SUITE: $name"
		[ -z "$detail" ] || echo "    $detail"
	fi
	_check_write "$name" "$rc" 0 "$out"
	rm -f "$out"
	return "$rc"
}

check_fail() {
	check_status "$1" 1 "$2"
}
