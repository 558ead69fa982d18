#!/usr/bin/env bash
# tests/guest/rust/run.sh - the checks only the lab's Rust kernel
# (vm/rust-kernel/) has: run in its guest,
#
#   vm/run --test --kernel rust --timeout 1500 -- tests/guest/rust/run.sh
#
#   1. the kernel is the Rust one (CONFIG_RUST, its release) and Rust
#      modules load: samples/rust's rust_minimal loads, logs, unloads
#   2. the lab's C, C++ and Rust modules, built against this kernel's tree,
#      load (scripts/modules.sh load), counter_rust among them, and unload
# counter_rust's conformance (counter_test, test_counter, every sync= mode,
# sync=bogus) is 20-conformance's, which counts the Rust variant wherever
# counter_rust is built (tests/run.sh runs it on this kernel with the other
# kernels' suites).
# JUnit XML in build/test-results/ (suite "rust-kernel"); exits 0 unless it
# cannot run at all: failures are counted from the XML.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
CHECK_SUITE=rust-kernel
# shellcheck source=../../lib/check.sh
source tests/lib/check.sh

RESULTS=$ROOT/build/test-results
mkdir -p "$RESULTS"
uapi() { scripts/uapi-value.sh --raw "$1"; }
RUST=$(uapi KMODLAB_VARIANT_RUST)
COUNTER=$(uapi COUNTER_NAME)
MOD=${COUNTER}_$RUST

logged_since() { dmesg | tail -n +"$(($1 + 1))" | grep -qE "$2"; }

# --- 1. the kernel ---------------------------------------------------------------
check "guest kernel is the Rust one ($(uname -r))" bash -c 'uname -r | grep -q -- -kmodlab-rust$'
check "guest kernel was built with CONFIG_RUST=y" grep -qx CONFIG_RUST=y "$(scripts/conf.sh kernel "$(uname -r)" build)/.config"
mark=$(dmesg | wc -l)
if check "rust_minimal (samples/rust) loads" modprobe rust_minimal; then
	check "rust_minimal logs from Rust" logged_since "$mark" "Rust minimal sample \(init\)"
	check "rust_minimal unloads" rmmod rust_minimal
fi

# --- 2. every module built for this kernel -----------------------------------------
check "C, C++ and Rust modules load (scripts/modules.sh load)" scripts/modules.sh load
for m in counter_c counter_cxx scull_c scull_cxx "$MOD"; do
	check "$m is loaded" test -d "/sys/module/$m"
done

check "$MOD refuses mode=01777" bash -c "rmmod $MOD && ! insmod $(scripts/modules.sh list "$MOD" | head -n1) mode=01777"
check "all modules unload" scripts/modules.sh unload
exit 0
