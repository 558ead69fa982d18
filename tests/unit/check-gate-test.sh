#!/usr/bin/env bash
# check-gate-test.sh GATE - the C++ build gate rejects what it must reject.
# Compiles small C++ objects on the host (no kernel needed) and expects
# scripts/check-cxx-objects.sh to accept the clean one and reject a global
# constructor (.init_array), an undefined __cxa_atexit, exceptions and RTTI.
set -uo pipefail
gate=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CXX=${CXX:-g++}
flags="-std=gnu++20 -O2 -fno-asynchronous-unwind-tables -fno-unwind-tables -c"
fails=0

compile() {	# name flags source
	printf '%s\n' "$3" >"$dir/$1.cpp"
	$CXX $flags $2 -o "$dir/$1.o" "$dir/$1.cpp" || { echo "FAIL: cannot compile $1"; fails=$((fails + 1)); }
}
expect() {	# pass|fail name
	[ -f "$dir/$2.o" ] || { echo "FAIL: $2: no object to check"; fails=$((fails + 1)); return; }
	if "$gate" --quiet "$dir/$2.o" >"$dir/$2.log" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$1" ]; then
		echo "ok: $2 -> $got"
	else
		echo "FAIL: $2: gate said $got, expected $1"; cat "$dir/$2.log"; fails=$((fails + 1))
	fi
}

compile clean "-fno-exceptions -fno-rtti -fno-threadsafe-statics" \
	'extern "C" int f(int x) { static constinit int n = 0; return x + n++; }'
compile ctor "-fno-exceptions -fno-rtti" \
	'int g(); int v = g();'
compile atexit "-fno-exceptions -fno-rtti" \
	'struct S { ~S(); }; S s;'
compile throws "-fno-rtti" \
	'void h() { throw 1; }'
compile rtti "-fno-exceptions" \
	'#include <typeinfo>
struct B { virtual ~B(); }; const void *t() { return &typeid(B); }'
compile guard "-fno-exceptions -fno-rtti" \
	'int g(); int f() { static int x = g(); return x; }'
expect pass clean
expect fail ctor
expect fail atexit
expect fail throws
expect fail rtti
expect fail guard
[ $fails = 0 ] && echo "check-gate-test: all cases behave" || echo "check-gate-test: $fails problem(s)"
exit $((fails > 0))
