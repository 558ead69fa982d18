# shellcheck shell=bash
# check.sh - shell checks that report as JUnit XML, like every other test here.
#
#   source tests/lib/check.sh
#   CHECK_SUITE=conformance-c          # suite name (default: the script's name)
#   check "name" CMD [ARG...]          # passes when CMD exits 0
#   check_fail "name" "why"            # record a failure found by other means
#   check_status "name" RC "detail"    # record a result from an exit status
#   check_file SUITE NAME              # REPLY = that check's XML file name
#   check_gtest_xml "name" XML RC      # a GoogleTest run left trustworthy XML
#
# Each check writes build/test-results/checks/<suite>--<name>.xml (the folder:
# $KMODLAB_TEST_RESULTS/checks when set) and prints
# "PASS name" or "FAIL name" with CMD's output.  check returns CMD's status,
# so `check ... || something` works; a suite script should still exit 0
# unless it cannot run at all (the summary counts the failures).
#
# Written with bash built-ins only (no date/bc/sed/mktemp per check): under
# TCG every process a check starts costs tens of milliseconds.
_check_root=${KMODLAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# KMODLAB_TEST_RESULTS: the results folder of a whole run (tests/run.sh puts
# a second kernel's guest suites in build/test-results/kernels/<name>/).
CHECK_RESULTS=${CHECK_RESULTS:-${KMODLAB_TEST_RESULTS:-$_check_root/build/test-results}/checks}
CHECK_SUITE=${CHECK_SUITE:-$(basename "$0")}
_check_out=${TMPDIR:-/tmp}/kmodlab-check.$$.out

_check_xml_escape() {	# text -> REPLY, XML-safe, control characters dropped
	local s=$1
	# The replacements are quoted: bash 5.2 reads a bare & there as the match.
	s=${s//&/"&amp;"}
	s=${s//</"&lt;"}
	s=${s//>/"&gt;"}
	s=${s//\"/"&quot;"}
	REPLY=${s//[$'\x01'-$'\x08'$'\x0b'$'\x0c'$'\x0e'-$'\x1f']/}
}

_check_usec() {	# $EPOCHREALTIME -> integer microseconds in REPLY
	local t=${1/[.,]/}
	REPLY=$((10#$t))
}

# check_file SUITE NAME: the file name (no folder) a check's XML gets, in
# REPLY; tests/run.sh names the results it expects with it.
check_file() {
	local file=$1--$2
	REPLY=${file//[^A-Za-z0-9._-]/_}.xml
}

_check_write() {	# name rc seconds output-text
	local name=$1 rc=$2 secs=$3 text=$4 file suite esc_name esc_text
	[ -d "$CHECK_RESULTS" ] || mkdir -p "$CHECK_RESULTS"
	check_file "$CHECK_SUITE" "$name"
	file=$CHECK_RESULTS/$REPLY
	[ ${#text} -le 8000 ] || text=${text: -8000}
	_check_xml_escape "$CHECK_SUITE"; suite=$REPLY
	_check_xml_escape "$name"; esc_name=$REPLY
	_check_xml_escape "$text"; esc_text=$REPLY
	{
		printf '<?xml version="1.0" encoding="UTF-8"?>\n'
		printf '<testsuite name="%s" tests="1" failures="%d">\n' "$suite" "$((rc == 0 ? 0 : 1))"
		printf '  <testcase classname="%s" name="%s" time="%s">\n' "$suite" "$esc_name" "$secs"
		[ "$rc" = 0 ] || printf '    <failure message="failed">%s</failure>\n' "$esc_text"
		printf '    <system-out>%s</system-out>\n  </testcase>\n</testsuite>\n' "$esc_text"
	} >"$file"
}

_check_report() {	# name rc text
	if [ "$2" = 0 ]; then
		echo "PASS $CHECK_SUITE: $1"
	else
		echo "FAIL $CHECK_SUITE: $1 (exit $2)"
		[ -z "$3" ] || printf '%s\n' "$3" | tail -n 40 | while IFS= read -r line; do echo "    $line"; done
	fi
}

check() {
	local name=$1 rc t0 t1 text
	shift
	t0=$EPOCHREALTIME
	"$@" >"$_check_out" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	text=$(<"$_check_out")
	rm -f "$_check_out"
	_check_usec "$t0"; t0=$REPLY
	_check_usec "$t1"; t1=$REPLY
	_check_report "$name" "$rc" "$text"
	_check_write "$name" "$rc" "$(((t1 - t0) / 1000000)).$(printf '%06d' $(((t1 - t0) % 1000000)))" "$text"
	return $rc
}

check_status() {
	local name=$1 rc=$2 detail=${3:-}
	_check_report "$name" "$rc" "$detail"
	_check_write "$name" "$rc" 0 "$detail"
	return "$rc"
}

check_fail() {
	check_status "$1" 1 "$2"
}

# check_gtest_xml NAME XML RC: a GoogleTest binary that exited RC left what it
# must: its XML, at least one test case in it, and a failing one if RC is not
# 0 (the summary counts the XML's own cases).  Otherwise records the failure
# "NAME produced its XML" and returns 1.
check_gtest_xml() {
	local name=$1 xml=$2 rc=$3 why
	if [ ! -s "$xml" ]; then
		why="exited $rc without writing $xml (crashed?)"
	elif ! grep -q '<testcase' "$xml"; then
		why="$xml holds no test case (a --gtest_filter or an empty variant list?)"
	elif [ "$rc" != 0 ] && ! grep -q '<failure' "$xml"; then
		why="exited $rc, but $xml records no failing test (crashed after the tests?)"
	else
		return 0
	fi
	check_fail "$name produced its XML" "$why"
}
