#!/usr/bin/env bash
# run.sh - `make test`: every suite of the lab, then the closing summary.
#
#   1. host unit tests (ctest: GoogleTest suites of kcxx, loadgen, ...)
#   2. analysis tests (pytest), if analysis/ has them
#   3. drivers' coding style (scripts/check-format.sh); the guest runner's own
#      tests (tests/vm/test-runner.sh), the icount classifier (host), the
#      icount determinism and planted-work known-answer tests [TARGET=vm]
#   4. the guest suites: one boot, modules loaded, tests/guest/suites/*
#      (TARGET=host: the same suites on this kernel)
#   5. a QUICK bench and the regression gate, once scripts/bench.sh exists
# Results are JUnit XML in build/test-results/; tests/summarize.py prints
# "N passed, N failed" and decides the exit status.  Every step runs even
# when an earlier one failed, so one run shows everything that is wrong.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
TARGET=${TARGET:-vm}
PYTHON=${PYTHON:-/usr/bin/python3}
RESULTS=$ROOT/build/test-results
CHECK_SUITE=make-test
source tests/lib/check.sh

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
t0=$(date +%s)
step() { echo; echo "=== make test: $* (+$(($(date +%s) - t0)) s)"; }

step "host unit tests (ctest)"
if ctest --test-dir build/cmake -N 2>/dev/null | grep -q 'Total Tests: [1-9]'; then
	ctest --test-dir build/cmake -j2 --output-on-failure --output-junit "$RESULTS/ctest.xml" ||
		echo "(ctest reported failures; counted in the summary)"
else
	echo "no ctest tests registered yet"
fi

step "analysis tests (pytest)"
if [ -d analysis/tests ]; then
	"$PYTHON" -m pytest -q analysis/tests --junitxml="$RESULTS/pytest-analysis.xml" -p no:cacheprovider
	rc=$?
	# pytest exits 5 when it collected nothing: that is a failure here.
	[ $rc = 5 ] && check_fail "analysis tests exist" "pytest collected no tests in analysis/tests"
else
	echo "no analysis/tests yet"
fi

step "set-up and configuration (package states, kmodlab.conf precedence under make)"
tests/setup/test-config.sh

step "coding style of the drivers (clang-format)"
check "drivers follow the kernel coding style" scripts/check-format.sh

step "icount plugin's instruction classifier (host)"
tests/icount/test-classify.sh

if [ "$TARGET" = vm ]; then
	step "guest runner tests"
	tests/vm/test-runner.sh
	step "exact instruction counts are deterministic (TCG plugin)"
	tests/icount/test-determinism.sh
	step "the planted cost shows up exactly (TCG plugin known answer)"
	tests/icount/test-extra-work.sh
	step "guest suites (one boot, slub_debug=FZPU)"
	vm/run --test --timeout 1500 -- tests/guest/run-all.sh
	rc=$?
	check_status "guest suites ran with a clean kernel log" $rc \
		"vm/run exited $rc (70: kernel log problem, 124: timeout, 125: guest died)"
else
	step "suites on this host's kernel"
	TARGET=host tests/guest/run-all.sh
fi

if [ -x scripts/bench.sh ]; then
	step "quick bench and regression gate"
	check "make bench QUICK=1" env QUICK=1 TARGET="$TARGET" scripts/bench.sh
	check "make regress" "$PYTHON" -m analysis regress
fi

step "summary ($(($(date +%s) - t0)) s)"
"$PYTHON" tests/summarize.py "$RESULTS"
