#!/usr/bin/env bash
# test-config.sh - set-up and configuration do what they say (make test runs it).
#
#   * scripts/lib/packages.sh tells installed, missing and unknown packages
#     apart (the first version reported "all present" on a fresh machine);
#   * kmodlab.conf precedence under make: the file's value is used, a
#     non-empty environment variable wins, for make itself (make config),
#     for Python behind make (make regress), for setup and kmod/Makefile
#     behind make (make modules with KERNEL_<name>, KERNEL=), for vm/run
#     --kernel, and for modules.sh (MODPARAMS_*);
#   * a bad value stops the command naming the key, the value and its origin.
# Each check is reported through tests/lib/check.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
CHECK_SUITE=setup-config
source tests/lib/check.sh
source scripts/lib/packages.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ABI_612=$(scripts/conf.sh kernel 6.12 abi)

# Check bodies: CMD's output contains TEXT (out_has), and CMD also fails
# (fails_with).  The output is printed for the check's log.
out_has() { _output_check any "$@"; }
fails_with() { _output_check fail "$@"; }
_output_check() {	# any|fail TEXT CMD...
	local mode=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n(exit %d)\n' "$out" "$rc"
	{ [ "$mode" = any ] || [ "$rc" != 0 ]; } && grep -qF -- "$want" <<<"$out"
}

# --- package states -------------------------------------------------------
# bash is always installed; "sl" is a real Debian package the lab never
# installs; the third name does not exist.
pkg_states_ok() {
	local got want
	got=$(package_states bash sl kmodlab-no-such-package-x)
	want=$'bash installed\nsl missing\nkmodlab-no-such-package-x unknown'
	printf 'got:\n%s\n' "$got"
	[ "$got" = "$want" ]
}
if dpkg-query -W -f='${db:Status-Status}' sl 2>/dev/null | grep -qx installed; then
	check_fail "package states: installed, missing, unknown" "the probe package 'sl' is installed here: apt-get remove sl, then re-run"
else
	check "package states: installed, missing, unknown" pkg_states_ok
fi
# In a process substitution, as the first setup.sh used it: there errexit
# is inherited, and a failing dpkg-query killed the check silently.
check "package states survive set -euo pipefail" bash -c \
	'set -euo pipefail; source scripts/lib/packages.sh; mapfile -t s < <(package_states sl bash); echo "${s[*]}"; [ "${s[*]}" = "sl missing bash installed" ]'

# --- precedence under make --------------------------------------------------
conf=$tmp/kmodlab.conf
{ cat kmodlab.conf; echo "REGRESS_RATIO_THRESHOLD = 0.33"; echo "KERNEL_6_12 = debian linux-image-0.0.0-nope-amd64"; } >"$conf"
line_thr=$(grep -n '^REGRESS_RATIO_THRESHOLD = 0.33' "$conf" | cut -d: -f1)
line_kver=$(grep -n '^KERNEL_6_12 = debian linux-image-0.0.0-nope-amd64' "$conf" | cut -d: -f1)

check "make config: the file's value, with its line" \
	out_has "0.33" env KMODLAB_CONF="$conf" make -s config
check "make config: the origin is file:line" \
	out_has "($conf:$line_thr)" env KMODLAB_CONF="$conf" make -s config
config_line() {	# KEY VALUE ORIGIN [VAR=value...]: make config shows exactly that
	local key=$1 val=$2 origin=$3 out
	shift 3
	out=$(env "$@" make -s config 2>&1)
	printf '%s\n' "$out"
	awk -v k="$key" -v v="$val" -v o="($origin)" '$1 == k && $3 == v && $NF == o { f = 1 } END { exit !f }' <<<"$out"
}
check "make config: the environment wins" \
	config_line REGRESS_RATIO_THRESHOLD 0.2 environment KMODLAB_CONF="$conf" REGRESS_RATIO_THRESHOLD=0.2

# Python behind make: the value reaches analysis/ (regress loads its settings first).
check "make regress: a bad file value names key, value and file:line" \
	fails_with "REGRESS_RATIO_THRESHOLD = 'ten' (from $tmp/bad.conf:" \
	bash -c "{ cat kmodlab.conf; echo 'REGRESS_RATIO_THRESHOLD = ten'; } >$tmp/bad.conf; KMODLAB_CONF=$tmp/bad.conf make -s regress"
check "make regress: the environment wins over the file" \
	fails_with "REGRESS_RATIO_THRESHOLD = 'ten' (from environment) is not a number" \
	env REGRESS_RATIO_THRESHOLD=ten make -s regress
# regress.json records the threshold it gated with (fixture run + baseline).
regress_threshold() {	# [VAR=value...]: the ratio_threshold regress used
	rm -rf "$tmp/run" && cp -r analysis/tests/data/run-small "$tmp/run" &&
		env "$@" make -s regress RESULTS="$tmp/run" BASELINE=analysis/tests/data/baseline-small >/dev/null 2>&1
	jq -r .settings.ratio_threshold "$tmp/run/regress.json"
}
threshold_is() {	# WANT [VAR=value...]
	local want=$1 got
	shift
	got=$(regress_threshold "$@")
	echo "regress gated with ratio_threshold $got (want $want)"
	[ "$got" = "$want" ]
}
check "make regress: the file's threshold is used" threshold_is 0.33 KMODLAB_CONF="$conf"
check "make regress: the environment's threshold wins" threshold_is 0.2 KMODLAB_CONF="$conf" REGRESS_RATIO_THRESHOLD=0.2

# setup and kmod/Makefile behind make: the file's kernel, then the environment's.
check "make modules: a kernel package Debian lacks names key, value and file:line" \
	fails_with "KERNEL_6_12 = 'debian linux-image-0.0.0-nope-amd64' (from $conf:$line_kver): Debian has no package linux-image-0.0.0-nope-amd64" \
	env KMODLAB_CONF="$conf" make -s modules
check "make modules: a kernel from the environment wins over the file and reaches kmod/" \
	out_has "kmod: kernel 6.12 = $ABI_612," env KMODLAB_CONF="$conf" KERNEL_6_12="debian linux-image-6.12-amd64" KERNEL=6.12 make modules
check "make modules: KERNEL= a kernel not in KERNELS is an error naming the choices" \
	fails_with "no kernel 'nope': KERNELS = '6.1 6.12'" env KERNEL=nope make -s modules
check "vm/run --kernel: a kernel not in KERNELS is an error naming the choices" \
	fails_with "no kernel '5.10': KERNELS = '6.1 6.12'" vm/run --kernel 5.10 -- true
check "kernels: a name without its KERNEL_<name> key is an error naming the key" \
	fails_with "KERNELS names 'extra' but there is no KERNEL_extra" env KERNELS="6.1 extra" scripts/setup.sh --no-qemu --quiet

# modules.sh: MODPARAMS_<module> from the environment, checked before insmod.
check "modules.sh: MODPARAMS from the environment wins" \
	out_has "counter_c: sync=spinlock" env MODPARAMS_counter_c=sync=spinlock scripts/modules.sh check counter_c
check "modules.sh: an unknown sync mode names key, value, origin and the modes" \
	fails_with "MODPARAMS_counter_c = 'sync=bogus' (from environment): sync mode 'bogus' is not one of: mutex spinlock atomic" \
	env MODPARAMS_counter_c=sync=bogus scripts/modules.sh check counter_c
check "modules.sh: an unknown parameter is an error" \
	fails_with "counter_c has no parameter 'nosuch'" \
	env MODPARAMS_counter_c="sync=mutex nosuch=1" scripts/modules.sh check counter_c

# bench settings: checked on the host before a guest boots.
check "bench: an unknown sync mode names key, value and origin" \
	fails_with "BENCH_SYNC_MODES_QUICK = 'mutex bogus' (from environment): 'bogus' is not one of" \
	env BENCH_SYNC_MODES_QUICK="mutex bogus" /usr/bin/python3 scripts/bench_matrix.py --out "$tmp/x" --quick --check-config
check "conf.sh: a missing key is an error, not an empty default" \
	fails_with "no NO_SUCH_KEY in" scripts/conf.sh get NO_SUCH_KEY
exit 0
