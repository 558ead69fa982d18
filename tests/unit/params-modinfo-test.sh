#!/usr/bin/env bash
# params-modinfo-test.sh ROOT - the C++ drivers' module parameters (declared
# in C++ with KCXX_PARAM) are the C drivers': the same names, kernel types
# and descriptions in .modinfo, and the same number of struct kernel_param
# records in __param.  (Permissions and values in sysfs are checked in the
# guest: tests/guest/suites/20-conformance.)  A module that is not built is
# a failure: run 'make modules'.  Checked for every kernel in KERNELS, in
# the modules directory set-up gives it (scripts/conf.sh kernel NAME kmod):
# never kmod/c/ in the source tree, where a stale .ko of an old build lies.
set -uo pipefail
root=$1
fails=0
check_kernel() {	# kernel-name
	local kmod drv c cxx ko field nc sc sx
	kmod=$("$root/scripts/conf.sh" kernel "$1" kmod) || { echo "FAIL: kernel $1: no modules directory (run 'make setup modules')"; fails=$((fails + 1)); return; }
	echo "kernel $1: $kmod"
	for drv in scull counter scullpipe; do
		c=$kmod/c/${drv}_c.ko cxx=$kmod/cxx/${drv}_cxx.ko
		check_driver
	done
}
check_driver() {
	for ko in "$c" "$cxx"; do
		[ -f "$ko" ] || { echo "FAIL: $ko not built (run 'make modules')"; fails=$((fails + 1)); return; }
	done
	for field in parm parmtype; do
		if diff <(modinfo -F "$field" "$c" | sort) <(modinfo -F "$field" "$cxx" | sort) >/dev/null; then
			echo "ok: $drv $field: $(modinfo -F "$field" "$c" | wc -l) entries identical"
		else
			echo "FAIL: $drv $field differs (C < > C++):"
			diff <(modinfo -F "$field" "$c" | sort) <(modinfo -F "$field" "$cxx" | sort)
			fails=$((fails + 1))
		fi
	done
	# one struct kernel_param per parameter (its size from the section / count)
	nc=$(modinfo -F parmtype "$c" | wc -l)
	sc=$(objdump -h "$c" | awk '$2 == "__param" { print $3 }')
	sx=$(objdump -h "$cxx" | awk '$2 == "__param" { print $3 }')
	if [ -n "$sc" ] && [ "$sc" = "$sx" ] && [ "$nc" -gt 0 ]; then
		echo "ok: $drv __param: $sc bytes in both ($nc parameters)"
	else
		echo "FAIL: $drv __param size C=$sc C++=$sx"; fails=$((fails + 1))
	fi
}
kernels=$("$root/scripts/conf.sh" kernels) || exit 2
for k in $kernels; do check_kernel "$k"; done
[ "$fails" = 0 ] && echo "all ok" || { echo "$fails failure(s)"; exit 1; }
