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
#   check_gtest "name" XML BIN [ARG...]  # run a GoogleTest program, time-limited
#   check_bounded CMD [ARG...]         # CMD, killed after TEST_BINARY_TIMEOUT_S
#   check_bounded_quick CMD [ARG...]   # the same after TEST_QUICK_TIMEOUT_S
#   check_conf KEY                     # a kmodlab.conf value (TEST_*_TIMEOUT_S)
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

check_conf() {	# KEY: its kmodlab.conf value (an environment variable wins)
	"$_check_root/scripts/conf.sh" get "$1"
}

# check_bounded CMD [ARG...]: CMD, stopped after kmodlab.conf
# TEST_BINARY_TIMEOUT_S seconds (SIGTERM, SIGKILL 10 s later), so a test
# program that blocks cannot hang its guest suite: status 124 then, and a
# line on stderr that names CMD.  CMD is a program, not a shell function
# (timeout(1) runs it).  In a check: check NAME check_bounded CMD...
# check_bounded_quick: the same with TEST_QUICK_TIMEOUT_S, for programs that
# take seconds when the driver is right.
check_bounded() { _check_bounded_by TEST_BINARY_TIMEOUT_S "$@"; }
check_bounded_quick() { _check_bounded_by TEST_QUICK_TIMEOUT_S "$@"; }

_check_bounded_by() {
	local key=$1 limit rc
	shift
	limit=$(check_conf "$key") || return 2
	timeout --kill-after=10 "$limit" "$@"
	rc=$?
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "TIMEOUT: $* did not finish in $limit s ($key): killed" >&2
		return 124
	fi
	return $rc
}

# check_gtest NAME XML BIN [ARG...]: one GoogleTest program (linked with
# tests/lib/gtest_main.cpp), its results into XML.  Each test may run
# TEST_CASE_TIMEOUT_S seconds (the program's watchdog fails it by name, in
# the XML), the program TEST_BINARY_TIMEOUT_S (check_bounded).  Prints the
# summary, or all but the RUN/OK lines when something failed; then
# check_gtest_xml, or, when the program was killed, one failure naming the
# test that was running.
check_gtest() {
	local name=$1 xml=$2 bin=$3 log rc last limit
	shift 3
	rm -f "$xml"
	echo "--- $name"
	limit=${KMODLAB_TEST_TIMEOUT:-$(check_conf TEST_CASE_TIMEOUT_S)} || return 2
	log=$(mktemp)
	KMODLAB_TEST_TIMEOUT=$limit check_bounded "$bin" --gtest_output=xml:"$xml" "$@" >"$log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		grep -E '^\[(==========|  PASSED  )\]' "$log"
	else
		grep -vE '^\[ (RUN      |      OK) \]' "$log" | tail -n 200
	fi
	last=$(grep -E '^\[ RUN      \]' "$log" | tail -n 1)
	last=${last#"[ RUN      ] "}
	rm -f "$log"
	if [ $rc = 124 ] && [ ! -s "$xml" ]; then
		check_fail "$name finished in time" "killed after TEST_BINARY_TIMEOUT_S = $(check_conf \
			TEST_BINARY_TIMEOUT_S) s, in test ${last:-(none started)}"
		return 1
	fi
	check_gtest_xml "$name" "$xml" "$rc"
}
