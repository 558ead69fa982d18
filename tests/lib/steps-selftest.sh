#!/usr/bin/env bash
# steps-selftest.sh - the steps of tests/run.sh (tests/lib/steps.sh) break on
# purpose here and must each leave a counted failure: ctest with no tests,
# pytest without an interpreter, without its module, collecting nothing;
# a test script that is missing or exits non-zero.  The working cases must
# pass, and a failing test inside ctest/pytest must be counted once (from
# their XML), not hidden and not doubled.  Registered with ctest; about 5 s.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
problems=0
fail() { echo "steps-selftest: FAIL: $*"; problems=$((problems + 1)); }

# case_ NAME "P F [S]" CMD...: CMD runs with fresh results; the summary of
# what it left must close with "P passed, F failed[, S skipped]" (the line
# that decides make test).
case_() {
	local name=$1 want out d=$tmp/$RANDOM$RANDOM p f sk
	read -r p f sk <<<"$2"
	want="$p passed, $f failed${sk:+, $sk skipped}"
	shift 2
	mkdir -p "$d"
	(
		CHECK_RESULTS=$d/checks CHECK_SUITE=steps RESULTS=$d
		source "$here/check.sh"
		source "$here/steps.sh"
		"$@"
	) >"$d/log" 2>&1
	out=$(/usr/bin/python3 "$here/../summarize.py" "$d" 2>/dev/null | tail -n1)
	if [ "$out" = "$want" ]; then
		echo "ok: $name -> $out"
	else
		fail "$name: summary '$out', want '$want'"
		sed 's/^/    /' "$d/log" | tail -n 30
	fi
}

# --- ctest -------------------------------------------------------------------
mkdir -p "$tmp/proj"
cat >"$tmp/proj/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(selftest NONE)
enable_testing()
if(WITH_TESTS)
  add_test(NAME good COMMAND true)
  if(WITH_FAILING)
    add_test(NAME bad COMMAND false)
  endif()
  if(WITH_MISSING)
    add_test(NAME unbuilt COMMAND ${CMAKE_BINARY_DIR}/never-built)
  endif()
  if(WITH_SKIP)
    add_test(NAME skips COMMAND sh -c "exit 77")
    set_tests_properties(skips PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()
EOF
mk() { cmake -S "$tmp/proj" -B "$tmp/$1" "${@:2}" >/dev/null 2>&1 || fail "cmake $1"; }
mk ct-none
mk ct-good -DWITH_TESTS=1
mk ct-bad -DWITH_TESTS=1 -DWITH_FAILING=1
mk ct-unbuilt -DWITH_TESTS=1 -DWITH_MISSING=1
mk ct-skip -DWITH_TESTS=1 -DWITH_SKIP=1
ctest_in() { run_ctest "$1" "$RESULTS/ctest.xml"; }
case_ "ctest: build folder missing" "0 1" ctest_in "$tmp/nonexistent"
case_ "ctest: no tests registered" "0 1" ctest_in "$tmp/ct-none"
case_ "ctest: one passing test" "2 0" ctest_in "$tmp/ct-good"
case_ "ctest: a failing test counted once" "2 1" ctest_in "$tmp/ct-bad"
case_ "ctest: a test whose executable is missing fails" "2 1" ctest_in "$tmp/ct-unbuilt"
case_ "ctest: a test that skips itself is no failure" "2 0 1" ctest_in "$tmp/ct-skip"

# --- pytest ------------------------------------------------------------------
mkdir -p "$tmp/py-empty" "$tmp/py-good" "$tmp/py-bad"
printf 'def test_ok():\n    assert 1 + 1 == 2\n' >"$tmp/py-good/test_a.py"
printf 'def test_ok():\n    pass\n\ndef test_bad():\n    assert 1 + 1 == 3\n' >"$tmp/py-bad/test_b.py"
# An interpreter without the pytest module (-S: no site-packages).
printf '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' >"$tmp/nopytest"
chmod +x "$tmp/nopytest"
pytest_in() { run_pytest "t" "$1" "$2" "$RESULTS/pytest.xml"; }
case_ "pytest: no interpreter" "0 1" pytest_in "$tmp/no-such-python" "$tmp/py-good"
case_ "pytest: no pytest module" "0 1" pytest_in "$tmp/nopytest" "$tmp/py-good"
case_ "pytest: nothing collected" "0 1" pytest_in /usr/bin/python3 "$tmp/py-empty"
case_ "pytest: test folder missing" "0 1" pytest_in /usr/bin/python3 "$tmp/py-none"
case_ "pytest: one passing test" "1 0" pytest_in /usr/bin/python3 "$tmp/py-good"
case_ "pytest: a failing test counted once" "1 1" pytest_in /usr/bin/python3 "$tmp/py-bad"

# --- scripts -----------------------------------------------------------------
case_ "script missing" "0 1" run_script "s" "$tmp/no-such-script"
case_ "script exits 3" "0 1" run_script "s" /bin/sh -c 'exit 3'
case_ "script exits 0" "1 0" run_script "s" /bin/sh -c 'exit 0'
case_ "script through env (as TARGET=host runs run-all.sh)" "1 0" run_script "s" env X=1 /bin/sh -c 'exit 0'
case_ "script through env, exits 4" "0 1" run_script "s" env X=1 /bin/sh -c 'exit 4'

# --- expectations: run.sh's list and the summary -----------------------------
exp() {	# expected-file lines, then the summary's closing line and status
	local d=$tmp/exp$RANDOM
	mkdir -p "$d/checks"
	(
		CHECK_RESULTS=$d/checks CHECK_SUITE=guest EXPECTED=$d/expected.txt
		source "$here/check.sh"
		source "$here/steps.sh"
		: >"$EXPECTED"
		expect_check guest "suite 00-a ran to the end" "guest suite 00-a"
		expect_check guest "suite 10-b ran to the end" "guest suite 10-b"
		expect_result "skips-*.xml" "a suite whose tests all skipped"
		check_status "suite 00-a ran to the end" 0
		# 10-b never ran (the guest died): no file at all.
	) >/dev/null
	printf '<testsuite><testcase classname="s" name="x"><skipped/></testcase></testsuite>\n' >"$d/skips-1.xml"
	/usr/bin/python3 "$here/../summarize.py" "$d" --expect "$d/expected.txt"
}
out=$(exp 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "expectations: summarize exited $rc with results missing (want 1)"
grep -qx "MISSING guest suite 10-b (checks/guest--suite_10-b_ran_to_the_end.xml: no such file)" <<<"$out" ||
	fail "expectations: no MISSING line for the suite that never ran"
grep -qx "MISSING a suite whose tests all skipped (skips-\*.xml: no test case in it ran)" <<<"$out" ||
	fail "expectations: an all-skipped result must not meet its expectation"
grep -q "guest suite 00-a" <<<"$out" && fail "expectations: the suite that ran is reported missing"
[ "$(tail -n1 <<<"$out")" = "1 passed, 2 failed, 1 skipped" ] && grep -qx "(the failures include 2 expected results missing)" <<<"$out" ||
	fail "expectations: closing line"
[ $problems = 0 ] || { echo "$out"; echo "steps-selftest: $problems problem(s)"; exit 1; }
echo "steps-selftest: ok"
