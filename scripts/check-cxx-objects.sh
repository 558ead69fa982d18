#!/usr/bin/env bash
# check-cxx-objects.sh - the build gate for C++ kernel objects (kcxx).
#
# Usage: scripts/check-cxx-objects.sh [--quiet] [FILE.o|FILE.ko ...]
#
# Fails (exit 1) if any C++ object or module
#   - has an .init_array/.ctors/.fini_array/.dtors section (global
#     constructors: CONFIG_CONSTRUCTORS is off, they would never run),
#   - has .eh_frame or .gcc_except_table (exception/unwind tables),
#   - leaves __cxa_* (other than __cxa_pure_virtual, which the kcxx runtime
#     of the same module defines), atexit, __dso_handle, _Unwind_* or
#     __gxx_personality_* undefined,
#   - defines or references RTTI (typeinfo _ZTI*, _ZTS*, __cxxabiv1),
#   - (a .ko) leaves any of the above undefined after linking, including
#     __cxa_pure_virtual.
# Kbuild runs it on every C++ object (kmod/kcxx/kcxx.mk), so a violation
# fails `make`.  With no FILE it checks every C++ object and module built
# for one kernel (KERNEL=, else the default; objects whose source is a .cpp,
# *-kcxx_rt.o, and *_cxx.ko).
set -euo pipefail

quiet=0
case ${1:-} in
-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
--quiet) quiet=1; shift ;;
esac

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
	# The modules as built for one kernel (KERNEL=, else the default).
	out=$("$ROOT/scripts/conf.sh" kernel "${KERNEL:-}" kmod) || exit 1
	while IFS= read -r f; do files+=("$f"); done < <(
		for src in "$ROOT"/kmod/*/*.cpp; do
			[ -e "$src" ] || continue
			rel=${src#"$ROOT"/kmod/}
			o=$out/${rel%.cpp}.o
			[ -e "$o" ] && echo "$o"
		done
		ls "$out"/*/*-kcxx_rt.o "$out"/*/*_cxx.ko 2>/dev/null || true
	)
	[ ${#files[@]} -gt 0 ] || { echo "check-cxx-objects: no C++ objects built under $out (run make modules first)" >&2; exit 1; }
fi

NM=${NM:-nm}
READELF=${READELF:-readelf}
bad=0
fail() { echo "check-cxx-objects: $1: $2" >&2; bad=1; }

for f in "${files[@]}"; do
	[ -f "$f" ] || { fail "$f" "no such file"; continue; }
	sections=$($READELF -SW "$f" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\).*/\1/p')
	for s in .init_array .ctors .fini_array .dtors .eh_frame .gcc_except_table; do
		if grep -qx -- "$s" <<<"$sections" || grep -qx -- ".rela$s" <<<"$sections"; then
			fail "$f" "has section $s (global constructors or exception tables)"
		fi
	done
	allow_pure=1
	case $f in *.ko) allow_pure=0 ;; esac
	while read -r sym; do
		case $sym in
		__cxa_pure_virtual) [ $allow_pure = 1 ] || fail "$f" "undefined $sym (link the kcxx runtime)" ;;
		__cxa_* | atexit | __dso_handle | _Unwind_* | __gxx_personality_*)
			fail "$f" "undefined $sym (exceptions, global destructors or thread-safe statics)" ;;
		_ZTI* | _ZTS* | *__cxxabiv1*) fail "$f" "references RTTI symbol $sym" ;;
		esac
	done < <($NM -u "$f" | awk '{print $NF}')
	while read -r sym; do
		case $sym in
		_ZTI* | _ZTS*) fail "$f" "defines RTTI symbol $sym" ;;
		esac
	done < <($NM --defined-only "$f" | awk '{print $NF}')
	[ $quiet = 1 ] || [ $bad = 1 ] || echo "check-cxx-objects: $f: ok"
done
if [ $bad = 1 ]; then
	echo "check-cxx-objects: FAILED (see kmod/kcxx/README.md, 'Build gate')" >&2
	exit 1
fi
[ $quiet = 1 ] || echo "check-cxx-objects: ${#files[@]} file(s) ok"
