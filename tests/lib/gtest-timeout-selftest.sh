#!/usr/bin/env bash
# gtest-timeout-selftest.sh PROGRAM - a test that blocks forever fails in
# bounded time, by name, instead of hanging its guest suite:
#   1. the per-test watchdog (gtest_main.cpp, KMODLAB_TEST_TIMEOUT): exit 1
#      within the limit, "[  TIMEOUT ] Watchdog.BlocksForever" on stderr,
#      the XML holds the finished tests with their own results, the blocked
#      one as a failure naming the limit, the one after it as skipped;
#   2. check.sh's check_gtest with the watchdog off: the program is killed
#      after TEST_BINARY_TIMEOUT_S and one failure names the running test;
#   2b. check_gtest passes the case limit to the program: its watchdog's XML
#      is accepted as the program's result;
#   3. no blocking test: the watchdog changes nothing (exit 0, gtest's XML).
# PROGRAM is gtest_main_selftest (tests/lib/CMakeLists.txt, ctest
# harness.gtest_timeout).
set -u
prog=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "gtest-timeout-selftest: $*"; exit 1; }

# --- 1. the watchdog ---------------------------------------------------------
mkdir "$tmp/1"
start=$SECONDS
KMODLAB_TEST_TIMEOUT=2 timeout 60 "$prog" --gtest_output=xml:"$tmp/1/w.xml" >"$tmp/1.log" 2>&1
rc=$?
took=$((SECONDS - start))
[ $rc = 1 ] || fail "watchdog: exit $rc, want 1 (124: the blocked test was never stopped)"
[ $took -le 10 ] || fail "watchdog: took $took s for a 2 s limit"
grep -qF '[  TIMEOUT ] Watchdog.BlocksForever did not finish in 2 s' "$tmp/1.log" ||
	fail "watchdog: no TIMEOUT line naming the test: $(cat "$tmp/1.log")"
out=$(/usr/bin/python3 "$here/../summarize.py" "$tmp/1")
grep -qxF '1 passed, 2 failed, 1 skipped' <<<"$out" || fail "watchdog XML: want 1 passed, 2 failed, 1 skipped: $out"
grep -qxF 'FAILED Watchdog.BlocksForever' <<<"$out" || fail "watchdog XML: BlocksForever not failed: $out"
grep -qxF 'FAILED Watchdog.FailsOnItsOwn' <<<"$out" || fail "watchdog XML: FailsOnItsOwn lost its failure: $out"
grep -qF 'a failure of its own' "$tmp/1/w.xml" || fail "watchdog XML: FailsOnItsOwn lost its message"
grep -qF 'did not finish in 2 s' "$tmp/1/w.xml" || fail "watchdog XML: the failure does not name the limit"

# --- 2. the program limit (check_gtest, watchdog off) ------------------------
start=$SECONDS
(
	CHECK_RESULTS=$tmp/2 CHECK_SUITE=t
	source "$here/check.sh"
	KMODLAB_TEST_TIMEOUT=0 TEST_BINARY_TIMEOUT_S=2 check_gtest blocked "$tmp/2.xml" "$prog"
) >"$tmp/2.log" 2>&1
took=$((SECONDS - start))
[ $took -le 20 ] || fail "program limit: took $took s for a 2 s limit"
grep -qF 'killed after TEST_BINARY_TIMEOUT_S = 2 s, in test Watchdog.BlocksForever' "$tmp/2"/*.xml 2>/dev/null ||
	fail "program limit: no failure naming the running test: $(cat "$tmp/2.log")"

# --- 2b. check_gtest hands the case limit to the program ---------------------
start=$SECONDS
(
	CHECK_RESULTS=$tmp/2b CHECK_SUITE=t
	source "$here/check.sh"
	KMODLAB_TEST_TIMEOUT=2 TEST_BINARY_TIMEOUT_S=60 check_gtest watched "$tmp/2b.xml" "$prog"
) >"$tmp/2b.log" 2>&1
took=$((SECONDS - start))
[ $took -le 20 ] || fail "check_gtest: took $took s, the program's watchdog did not get the 2 s limit"
grep -qF 'did not finish in 2 s' "$tmp/2b.xml" 2>/dev/null ||
	fail "check_gtest: no XML failure from the watchdog: $(cat "$tmp/2b.log")"
[ ! -e "$tmp/2b" ] || fail "check_gtest: the watchdog's XML was not accepted: $(cat "$tmp/2b"/*.xml)"

# --- 3. nothing blocks -------------------------------------------------------
KMODLAB_TEST_TIMEOUT=2 timeout 60 "$prog" --gtest_filter=Watchdog.Passes:Watchdog.After \
	--gtest_output=xml:"$tmp/3.xml" >"$tmp/3.log" 2>&1 || fail "no blocking test: exit $?: $(cat "$tmp/3.log")"
grep -q 'tests="2"' "$tmp/3.xml" || fail "no blocking test: GoogleTest's XML missing"
echo "gtest-timeout-selftest: ok"
