#!/usr/bin/env bash
# test-runner.sh - tests of the guest runner vm/run itself (run on the host).
#
# Exit-status propagation, kernel-log verdicts (a WARN_ON fails the run and is
# named), the timeout, a guest that dies, results landing on the host, and the
# boot-to-command time (written to build/vm/boot-time.txt for the README).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
CHECK_SUITE=vm-runner
source tests/lib/check.sh
KVER=$(cat build/kver)

expect_status() {	# expected-status output-pattern -- vm/run args...
	local want=$1 pattern=$2 out rc
	shift 2
	out=$(vm/run --quiet "$@" 2>&1)
	rc=$?
	echo "$out" | tail -n 30
	[ "$rc" = "$want" ] || { echo "exit status $rc, expected $want"; return 1; }
	[ -z "$pattern" ] || echo "$out" | grep -Eq "$pattern" || { echo "output lacks /$pattern/"; return 1; }
}

check "exit status 7 passes through" expect_status 7 "" -- sh -c 'exit 7'
check "exit status 0 passes through" expect_status 0 "" -- true

# Results written in the guest land on the host.
marker="results-$$-$RANDOM"
check "build/ is shared read-write" sh -c "vm/run --quiet -- sh -c 'echo $marker >build/vm/$marker' && grep -qx $marker build/vm/$marker"
rm -f "build/vm/$marker"
# Writes elsewhere go to the guest's tmpfs overlay and never reach the host.
check "host root stays read-only" sh -c "vm/run --quiet -- sh -c 'echo x >$ROOT/$marker && test -f $ROOT/$marker' && test ! -e $ROOT/$marker"

# A kmodlab.conf key set in the caller's environment wins in the guest too
# (scripts/conf.sh's rule; KERNELS=... vm/run --kernel rust depends on it).
check "kmodlab.conf overrides in the environment reach the guest" env MODPARAMS_counter_c="sync=atomic mode=0640" \
	vm/run --quiet -- sh -c 'test "$(scripts/conf.sh get MODPARAMS_counter_c)" = "sync=atomic mode=0640"'

# A WARN_ON in the guest fails the run (status 70) and names the line.
make -s -C "/usr/src/linux-headers-$KVER" M="$ROOT/tests/vm/warn_module" modules >/dev/null 2>&1 ||
	check_fail "warn module builds" "make M=tests/vm/warn_module failed"
check "WARN_ON in the guest fails the run and names the line" \
	expect_status 70 "WARNING:.*kmodlab_warn\.c:[0-9]+" -- insmod tests/vm/warn_module/kmodlab_warn.ko

# A hung guest is killed at --timeout with a clear message.
check "hung guest is killed at --timeout" expect_status 124 "timed out after 20 s" --timeout 20 -- sleep 600

# A guest that dies (kernel panic) is not a success.
check "guest panic is a failure" expect_status 125 "" -- sh -c 'echo c >/proc/sysrq-trigger; sleep 5'

check "bad option is a usage error" expect_status 2 "unknown option" --frobnicate -- true

# Boot-to-command time: median of three boots that run `true`.
boot_time() {
	local i times=() tfile
	tfile=$(mktemp)
	for i in 1 2 3; do
		/usr/bin/time -o "$tfile" -f %e vm/run --quiet -- true >/dev/null 2>&1 || return 1
		times+=("$(cat "$tfile")")
	done
	rm -f "$tfile"
	printf '%s\n' "${times[@]}" | sort -n | sed -n 2p >build/vm/boot-time.txt
	grep -Eqx '[0-9]+\.[0-9]+' build/vm/boot-time.txt || return 1
	echo "boot to command and power-off, median of 3: $(cat build/vm/boot-time.txt) s (${times[*]})"
}
check "boot-to-command time measured" boot_time
exit 0
