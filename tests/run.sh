#!/usr/bin/env bash
# run.sh - `make test`: every suite of the lab, then the closing summary.
#
#   1. host unit tests (ctest: GoogleTest suites of kcxx, loadgen, ...)
#   2. analysis tests (pytest)
#   3. drivers' coding style (scripts/check-format.sh); the guest runner's own
#      tests (tests/vm/test-runner.sh), the icount classifier (host), the
#      icount determinism and planted-work known-answer tests [TARGET=vm]
#   4. the guest suites: one boot, modules loaded, tests/guest/suites/*
#      (TARGET=host: the same suites on this kernel); then on every other
#      kernel of kmodlab.conf KERNELS the suites of TEST_OTHER_KERNEL_SUITES
#      and the icount determinism test, results in
#      build/test-results/kernels/<name>/ [TARGET=vm]
#   4b. on the lab's Rust kernel, when KERNELS names it (vm/rust-kernel/):
#      one more boot of tests/guest/rust/run.sh (rust_minimal, every module
#      loads, counter_rust's conformance suite and parameters) [TARGET=vm]
#   5. a QUICK bench (two boots, timing and BPF passes, icount) and the
#      regression gate; the quick calibration (tests/bench/test-calibrate.sh:
#      A/A and planted extra_work pairs, the gate against both) [TARGET=vm]
# Results are JUnit XML in build/test-results/; tests/summarize.py prints
# "N passed, N failed" and decides the exit status.  Every step runs even
# when an earlier one failed, so one run shows everything that is wrong.
# A step that cannot run (no tests registered, pytest missing, a script or
# the guest dying) is a counted failure: build/test-results/expected.txt
# lists the results every step must leave, and the summary fails on each
# one missing (tests/lib/steps.sh).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
TARGET=${TARGET:-vm}
PYTHON=${PYTHON:-/usr/bin/python3}
RESULTS=$ROOT/build/test-results
CHECK_SUITE=make-test
source tests/lib/check.sh
source tests/lib/steps.sh

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
t0=$(date +%s)
# Each step's start goes to steps.tsv (seconds since the start, name): the
# summary turns it into the time each step took, so "how long does make test
# take on the guest" is measured on every run, not guessed.
STEPS=$RESULTS/steps.tsv
step() {
	local at=$(($(date +%s) - t0))
	printf '%s\t%s\n' "$at" "$*" >>"$STEPS"
	echo; echo "=== make test: $* (+$at s)"
}

# What this run must leave behind, written before anything runs: a step
# that never starts or a guest that dies shows up as MISSING in the summary.
EXPECTED=$RESULTS/expected.txt
: >"$EXPECTED"
expect_result ctest.xml "host unit tests (ctest)"
expect_result pytest-analysis.xml "analysis tests (pytest)"
expect_result pytest-ci.xml "CI workflow checks (pytest tests/ci)"
expect_result "checks/setup-config--*.xml" "set-up and configuration (tests/setup/test-config.sh)"
expect_result "checks/icount-classify--*.xml" "icount instruction classifier (tests/icount/test-classify.sh)"
if [ "$TARGET" = vm ]; then
	expect_result "checks/vm-runner--*.xml" "guest runner tests (tests/vm/test-runner.sh)"
	expect_result "checks/icount--*.xml" "icount determinism (tests/icount/test-determinism.sh)"
	expect_result "checks/calibrate--*.xml" "quick calibration and the gate (tests/bench/test-calibrate.sh)"
	expect_result "checks/icount--planted_work*.xml" "icount planted-work known answer (tests/icount/test-extra-work.sh)"
	expect_result "checks/icount--trace_cost*.xml" "disabled tracepoints cost only their nop (tests/icount/test-trace-cost.sh)"
fi
for suite in tests/guest/suites/*; do
	expect_check guest "suite $(basename "$suite") ran to the end" "guest suite $(basename "$suite")"
done
# The other kernels (the first of KERNELS is the default, tested above).
OTHER_KERNELS=""
if [ "$TARGET" = vm ]; then
	OTHER_KERNELS=$(scripts/conf.sh kernels | tail -n +2) || exit 2
	OTHER_SUITES=$(scripts/conf.sh get TEST_OTHER_KERNEL_SUITES) || exit 2
fi
for k in $OTHER_KERNELS; do
	for s in $OTHER_SUITES; do
		check_file guest "suite $s ran to the end"
		expect_result "kernels/$k/checks/$REPLY" "guest suite $s on kernel $k"
	done
	expect_result "kernels/$k/checks/icount--*.xml" "icount determinism on kernel $k"
done
RUST_KERNEL_NAME=$(scripts/conf.sh kernels | tr ' ' '\n' | grep -x rust || true)
if [ "$TARGET" = vm ] && [ -n "$RUST_KERNEL_NAME" ]; then
	# 20-conformance counts the Rust counter wherever counter_rust is built:
	# its per-sync-mode results must exist on the Rust kernel.
	rust_res=kernels/$RUST_KERNEL_NAME/
	[ "$RUST_KERNEL_NAME" = "$(scripts/conf.sh kernels | head -n1)" ] && rust_res=""
	rust_counter=$(scripts/uapi-value.sh --raw COUNTER_NAME)-$(scripts/uapi-value.sh --raw KMODLAB_VARIANT_RUST)
	expect_result "${rust_res}conformance-$rust_counter-*.xml" "counter_test on $rust_counter (20-conformance on kernel $RUST_KERNEL_NAME)"
	expect_result "checks/rust-kernel--*.xml" "Rust kernel checks (tests/guest/rust/run.sh)"
fi

step "host unit tests (ctest)"
# TARGET=vm boots our QEMU, so its qtest may not skip for want of it.
[ "$TARGET" = vm ] && export KMODLAB_QTEST_REQUIRED=1
run_ctest build/cmake "$RESULTS/ctest.xml"

step "analysis tests (pytest)"
run_pytest "analysis tests" "$PYTHON" analysis/tests "$RESULTS/pytest-analysis.xml"

step "CI workflow (.github/workflows/bench.yml: YAML shape, the commands it calls exist)"
run_pytest "CI workflow checks" "$PYTHON" tests/ci "$RESULTS/pytest-ci.xml"

step "set-up and configuration (package states, kmodlab.conf precedence under make)"
run_script "tests/setup/test-config.sh" tests/setup/test-config.sh

step "coding style of the drivers (clang-format)"
check "drivers follow the kernel coding style" scripts/check-format.sh

step "icount plugin's instruction classifier (host)"
run_script "tests/icount/test-classify.sh" tests/icount/test-classify.sh

# A guest boot of suites that has not finished by then is hung, not slow: the
# default kernel's suites take 1270-1300 s alone, 1520 s with a second guest
# beside them (2026-12-01, killed at the old 1500 s limit).
SUITES_TIMEOUT=2400
if [ "$TARGET" = vm ]; then
	step "guest runner tests"
	run_script "tests/vm/test-runner.sh" tests/vm/test-runner.sh
	step "exact instruction counts are deterministic (TCG plugin)"
	run_script "tests/icount/test-determinism.sh" tests/icount/test-determinism.sh
	step "the planted cost shows up exactly (TCG plugin known answer)"
	run_script "tests/icount/test-extra-work.sh" tests/icount/test-extra-work.sh
	step "disabled tracepoints cost only their static-key nop (TCG plugin, two builds)"
	run_script "tests/icount/test-trace-cost.sh" tests/icount/test-trace-cost.sh
	step "guest suites (one boot, slub_debug=FZPU)"
	vm/run --test --timeout "$SUITES_TIMEOUT" -- tests/guest/run-all.sh
	rc=$?
	check_status "guest suites ran with a clean kernel log" $rc \
		"vm/run exited $rc (70: kernel log problem, 124: timeout, 125: guest died)"
	for k in $OTHER_KERNELS; do
		step "kernel $k: guest suites $OTHER_SUITES, icount determinism"
		kres=$RESULTS/kernels/$k
		KMODLAB_TEST_RESULTS=$kres vm/run --kernel "$k" --test --timeout "$SUITES_TIMEOUT" -- tests/guest/run-all.sh $OTHER_SUITES
		rc=$?
		CHECK_RESULTS=$kres/checks check_status "guest suites on kernel $k ran with a clean kernel log" $rc \
			"vm/run exited $rc (70: kernel log problem, 124: timeout, 125: guest died)"
		CHECK_RESULTS=$kres/checks KMODLAB_TEST_RESULTS=$kres KERNEL=$k run_script "tests/icount/test-determinism.sh (kernel $k)" \
			tests/icount/test-determinism.sh --ops "$(scripts/conf.sh get TEST_OTHER_KERNEL_ICOUNT_OPS)"
	done
	if [ -n "$RUST_KERNEL_NAME" ]; then
		step "the Rust kernel: rust_minimal, every module, counter_rust (one boot)"
		vm/run --test --kernel "$RUST_KERNEL_NAME" --timeout "$SUITES_TIMEOUT" -- tests/guest/rust/run.sh
		rc=$?
		check_status "Rust kernel checks ran with a clean kernel log" $rc \
			"vm/run --kernel $RUST_KERNEL_NAME exited $rc (70: kernel log problem, 124: timeout, 125: guest died)"
	fi
else
	step "suites on this host's kernel"
	run_script "tests/guest/run-all.sh (TARGET=host)" env TARGET=host tests/guest/run-all.sh
fi

step "quick bench and regression gate"
# The quick bench runs on the default kernel (KERNEL=, else the first of KERNELS);
# make bench without KERNEL= runs every configured kernel.
# The gate judges the run this bench made (BENCH_OUT), never an older one:
# a bench that failed leaves an unfinished run, which regress refuses.
bench_out="results/$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)-test"
check "make bench QUICK=1 (kernel $(scripts/conf.sh resolve ''))" env QUICK=1 TARGET="$TARGET" \
	KERNEL="$(scripts/conf.sh resolve '')" BENCH_OUT="$bench_out" scripts/bench.sh
check "make regress ($bench_out)" "$PYTHON" -m analysis regress --run "$bench_out"
if [ "$TARGET" = vm ]; then
	step "quick calibration: a planted cost is found, the gate fails it and passes A/A"
	run_script "tests/bench/test-calibrate.sh" tests/bench/test-calibrate.sh
fi

step "summary ($(($(date +%s) - t0)) s)"
"$PYTHON" tests/summarize.py "$RESULTS" --expect "$EXPECTED" --json "$RESULTS/summary.json" --steps "$STEPS" \
	--default-kernel "$(scripts/conf.sh resolve "")"
