# shellcheck shell=bash
# steps.sh - the steps of tests/run.sh that start other test runners, written
# so that a step which cannot run is a counted failure, never a silent pass.
# Needs tests/lib/check.sh sourced first.  tests/lib/steps-selftest.sh breaks
# each of them on purpose.
#
#   EXPECTED=FILE                         # where expect_result writes
#   expect_result GLOB DESCRIPTION        # the run must leave a result matching GLOB
#                                         # (relative to the results folder; see
#                                         # tests/summarize.py --expect)
#   expect_check SUITE NAME DESCRIPTION   # ... namely that check.sh check
#   run_ctest BUILD_DIR XML               # every ctest test, JUnit into XML
#   run_pytest NAME PYTHON DIR XML        # pytest on DIR, JUnit into XML
#   run_script NAME CMD [ARG...]          # a test script; exit status != 0 is
#                                         # the failure "NAME ran to the end"

expect_result() {
	printf '%s %s\n' "$1" "$2" >>"${EXPECTED:?EXPECTED is not set}"
}

expect_check() {	# suite name description
	check_file "$1" "$2"
	expect_result "checks/$REPLY" "$3"
}

# The XML has a failing test case (GoogleTest/pytest/ctest spell it
# <failure or <error; ctest writes a test it could not run, such as a missing
# executable, as status="notrun", which tests/summarize.py counts as failed
# unless the test skipped itself).
_xml_has_failure() { [ -s "$1" ] && grep -q -e '<failure' -e '<error' -e 'status="notrun"' "$1"; }

run_ctest() {	# build-dir xml
	local dir=$1 xml=$2 list rc n
	list=$(ctest --test-dir "$dir" -N 2>&1)
	rc=$?
	n=$(sed -n 's/^Total Tests: *\([0-9]*\)$/\1/p' <<<"$list")
	if [ "$rc" != 0 ] || [ -z "$n" ]; then
		check_fail "ctest lists the host tests" "ctest --test-dir $dir -N exited $rc: $list"
		return 1
	fi
	check_status "ctest has tests registered ($n)" "$((n > 0 ? 0 : 1))" \
		"no tests registered in $dir: run 'make build' (cmake -S . -B $dir)"
	[ "$n" -gt 0 ] || return 1
	ctest --test-dir "$dir" -j2 --output-on-failure --output-junit "$xml"
	rc=$?
	# ctest exits non-zero when a test failed; that failure is in the XML and
	# counted there.  Non-zero with no failure in the XML: ctest itself broke.
	if [ "$rc" != 0 ] && ! _xml_has_failure "$xml"; then
		check_fail "ctest ran" "ctest exited $rc but $xml records no failing test"
	fi
	return 0
}

run_pytest() {	# name python dir xml
	local name=$1 python=$2 dir=$3 xml=$4 rc why
	if [ ! -d "$dir" ]; then
		check_fail "$name: pytest ran" "$dir does not exist"
		return 1
	fi
	"$python" -m pytest -q "$dir" --junitxml="$xml" -p no:cacheprovider
	rc=$?
	# pytest: 0 all passed, 1 some failed (in the XML), 2 interrupted (a
	# collection error), 3 internal error, 4 usage error, 5 nothing collected.
	# 1 is also what `python3 -m pytest` says when there is no pytest module,
	# and 126/127 mean no interpreter: so 1 must come with a failure in the XML.
	case $rc in
	0) [ -s "$xml" ] && return 0; why="pytest exited 0 without writing $xml" ;;
	1) _xml_has_failure "$xml" && return 0; why="pytest exited 1 with no failing test in $xml (is pytest installed for $python? apt-get install python3-pytest)" ;;
	5) why="pytest collected no tests in $dir" ;;
	126 | 127) why="cannot run $python (exit $rc)" ;;
	*) why="pytest exited $rc (2: interrupted, e.g. a collection error; 3: internal error; 4: usage error)" ;;
	esac
	check_fail "$name: pytest ran" "$why"
	return 1
}

run_script() {	# name cmd...
	local name=$1 rc
	shift
	if ! command -v "$1" >/dev/null; then
		check_fail "$name ran to the end" "$1 is missing or not executable"
		return 1
	fi
	"$@"
	rc=$?
	check_status "$name ran to the end" "$rc" "$* exited $rc"
}
