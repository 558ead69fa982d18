#!/usr/bin/env bash
# selftest.sh - the test harness tests itself: check.sh must record passes
# and failures (with awkward names and output) as well-formed JUnit XML, and
# summarize.py must count them and fail the run.  Registered with ctest.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
	CHECK_RESULTS=$tmp CHECK_SUITE='self <&> "test"'
	source "$here/check.sh"
	check 'passes <&>"' printf 'a<b>&c"d\001e'
	check 'fails' sh -c 'echo why; exit 3'
	check_fail 'fails by word' 'because'
	check_status 'passes by status' 0
) >"$tmp/log"
out=$(/usr/bin/python3 "$here/../summarize.py" "$tmp")
rc=$?
fail() { echo "selftest: $*"; echo "$out"; cat "$tmp/log"; exit 1; }
[ "$rc" = 1 ] || fail "summarize exited $rc with failures present (want 1)"
[ "$(tail -n1 <<<"$out")" = "2 passed, 2 failed" ] || fail "wrong closing line"
grep -q '^FAIL self <&> "test": fails (exit 3)' "$tmp/log" || fail "no FAIL line for 'fails'"
empty=$(mktemp -d)
/usr/bin/python3 "$here/../summarize.py" "$empty" >/dev/null 2>&1
rc=$?
rmdir "$empty"
[ "$rc" = 1 ] || fail "an empty results folder must fail (exit $rc)"
# Only skipped tests: nothing was shown to work, so the run fails too.
skipped=$(mktemp -d)
printf '<testsuite><testcase classname="s" name="x"><skipped/></testcase></testsuite>\n' >"$skipped/s.xml"
/usr/bin/python3 "$here/../summarize.py" "$skipped" >/dev/null 2>&1
rc=$?
rm -rf "$skipped"
[ "$rc" = 1 ] || fail "a run whose every test was skipped must fail (exit $rc)"
# check_gtest_xml: what a GoogleTest run must leave (tests/guest/suites/).
g=$(mktemp -d)
(
	CHECK_RESULTS=$g/checks CHECK_SUITE=g
	source "$here/check.sh"
	printf '<testsuites tests="0"></testsuites>\n' >"$g/empty.xml"
	printf '<testsuites><testcase name="a"/></testsuites>\n' >"$g/ok.xml"
	printf '<testsuites><testcase name="a"><failure message="x"/></testcase></testsuites>\n' >"$g/bad.xml"
	check_gtest_xml missing "$g/none.xml" 0 && echo "WRONG missing"
	check_gtest_xml empty "$g/empty.xml" 0 && echo "WRONG empty"
	check_gtest_xml crashed "$g/ok.xml" 139 && echo "WRONG crashed"
	check_gtest_xml passed "$g/ok.xml" 0 || echo "WRONG passed"
	check_gtest_xml failed "$g/bad.xml" 1 || echo "WRONG failed"
) >"$g/log" 2>&1
wrong=$(grep WRONG "$g/log")
nfail=$(ls "$g/checks" 2>/dev/null | wc -l)
rm -rf "$g"
[ -z "$wrong" ] || fail "check_gtest_xml: $wrong"
[ "$nfail" = 3 ] || fail "check_gtest_xml recorded $nfail failures, want 3 (missing, empty, crashed)"
# Another kernel's results (kernels/<name>/, KMODLAB_TEST_RESULTS): check.sh
# writes there, the summary names the kernel on its failures and per kernel.
kr=$(mktemp -d)
(
	unset CHECK_RESULTS
	KMODLAB_TEST_RESULTS=$kr/kernels/6.12 CHECK_SUITE=k
	source "$here/check.sh"
	check_fail 'fails on 6.12' 'because'
	CHECK_RESULTS=$kr/checks check_status 'passes on the default' 0
) >"$kr/log" 2>&1
kout=$(/usr/bin/python3 "$here/../summarize.py" "$kr" --default-kernel 6.1)
rm -rf "$kr"
grep -qxF 'FAILED [6.12] k.fails on 6.12' <<<"$kout" || fail "per-kernel: no '[6.12]' failure line in: $kout"
grep -qxF 'kernel 6.12: 0 passed, 1 failed' <<<"$kout" || fail "per-kernel: no 'kernel 6.12' count line in: $kout"
grep -qxF 'default kernel 6.1 and host: 1 passed, 0 failed' <<<"$kout" || fail "per-kernel: no default-kernel count line in: $kout"
# Step timing (--steps, tests/run.sh's steps.tsv): each step lasts until the
# next starts, the JSON has them; a bad line is said and leaves the exit alone.
st=$(mktemp -d)
printf '<testsuites><testcase name="a"/></testsuites>\n' >"$st/ok.xml"
printf '0\thost unit tests\n40\tguest suites\n640\tsummary (700 s)\n' >"$st/steps.tsv"
sout=$(/usr/bin/python3 "$here/../summarize.py" "$st" --steps "$st/steps.tsv" --json "$st/s.json")
grep -qxF '     600 s  guest suites' <<<"$sout" || fail "steps: no '600 s  guest suites' line in: $sout"
grep -qxF 'time per step (total 640 s):' <<<"$sout" || fail "steps: no total line in: $sout"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["steps"][0] != {"step": "host unit tests", "seconds": 40} or d["total_s"] != 640)' "$st/s.json" ||
	fail "steps: JSON lacks the step times: $(cat "$st/s.json")"
printf '0\thost unit tests\nsoon\tguest suites\n' >"$st/steps.tsv"
serr=$(/usr/bin/python3 "$here/../summarize.py" "$st" --steps "$st/steps.tsv" 2>&1 >/dev/null)
src=$?
grep -q "steps.tsv:2: not 'SECONDS<tab>STEP'" <<<"$serr" || fail "steps: a bad line was not named: $serr"
[ "$src" = 0 ] || fail "steps: a bad timing file changed the exit status to $src"
rm -rf "$st"
echo "selftest: ok"
