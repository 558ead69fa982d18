#!/usr/bin/env bash
# tests/guest/rust/run.sh - the checks that need the lab's Rust kernel
# (vm/rust-kernel/): run in its guest,
#
#   vm/run --test --kernel rust --timeout 1500 -- tests/guest/rust/run.sh
#
#   1. the kernel is the Rust one (CONFIG_RUST, its release) and Rust
#      modules load: samples/rust's rust_minimal loads, logs, unloads
#   2. the lab's C and C++ drivers, built against this kernel's tree, load
#      (scripts/modules.sh load: every module built for it, counter_rust too)
#   3. counter_rust: counter_test (GoogleTest) and test_counter with
#      KMODLAB_VARIANTS=rust; its module parameters (refuses sync=bogus, logs
#      why; every sync= mode loads, shows in sysfs, passes counter_test and
#      test_counter); mode= refuses non-permission bits
# JUnit XML in build/test-results/ (suite "rust-kernel"); exits 0 unless it
# cannot run at all: failures are counted from the XML.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
CHECK_SUITE=rust-kernel
# shellcheck source=../../lib/check.sh
source tests/lib/check.sh

BIN=$ROOT/build/cmake/tests/conformance
RESULTS=$ROOT/build/test-results
mkdir -p "$RESULTS"
uapi() { scripts/uapi-value.sh --raw "$1"; }
RUST=$(uapi KMODLAB_VARIANT_RUST)
SEP=$(uapi KMODLAB_DEV_SEP)
COUNTER=$(uapi COUNTER_NAME)
MOD=${COUNTER}_$RUST
DEV=/dev/$COUNTER$SEP$RUST
SYNC_MODES="$(uapi COUNTER_SYNC_MUTEX) $(uapi COUNTER_SYNC_SPINLOCK) $(uapi COUNTER_SYNC_ATOMIC)"
export KMODLAB_VARIANTS=$RUST

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

# --- 3. counter_rust -------------------------------------------------------------
check_gtest "counter_test $RUST" "$RESULTS/rust-kernel-counter.xml" "$BIN/${COUNTER}_test"
check "$DEV test_counter" check_bounded "$BIN/test_counter" "$DEV"

ko=$(scripts/modules.sh list "$MOD" | head -n1)
if [ -z "$ko" ]; then
	check_fail "$MOD is built" "no $MOD.ko for $(uname -r): make modules"
	exit 0
fi
check "$MOD unloads" rmmod "$MOD"
mark=$(dmesg | wc -l)
check "$MOD refuses sync=bogus" bash -c "! insmod $ko sync=bogus"
check "$MOD logs why sync=bogus was refused" logged_since "$mark" "$MOD: .*bogus"
check "$MOD refuses mode=01777" bash -c "! insmod $ko mode=01777"
for mode in $SYNC_MODES; do
	if check "$MOD loads with sync=$mode" insmod "$ko" "sync=$mode"; then
		check "$MOD sync parameter reads $mode" test "$(cat "/sys/module/$MOD/parameters/sync")" = "$mode"
		check_gtest "counter_test $RUST sync=$mode" "$RESULTS/rust-kernel-counter-$mode.xml" "$BIN/${COUNTER}_test"
		check "$MOD sync=$mode test_counter" check_bounded "$BIN/test_counter" "$DEV"
		check "$MOD sync=$mode unloads" rmmod "$MOD"
	fi
done
check "$MOD reloads with its kmodlab.conf parameters" scripts/modules.sh load "$MOD"
check "all modules unload" scripts/modules.sh unload
exit 0
