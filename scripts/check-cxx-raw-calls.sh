#!/usr/bin/env bash
# check-cxx-raw-calls.sh - fail when a C++ driver calls the kernel directly.
#
# Usage: scripts/check-cxx-raw-calls.sh [--pending] [--quiet] FILE.cpp...
#        scripts/check-cxx-raw-calls.sh --list-names
#
# kcxx's rule: drivers in kmod/cxx/ call kcxx, never the kernel.  A line of
# FILE.cpp (comments and string literals removed) breaks it when it calls
#   - a kernel function or names a kernel object kcxx declares: every name of
#     kmod/kcxx/include/kcxx/bindings.def (the one list of them);
#   - kcxx's raw building blocks that kcxx types wrap: kmalloc, kzalloc,
#     copy_from_user, copy_to_user (use KBox/KVec/KArray/KmemCache/
#     alloc::bytes, UserSlice/UserPtr);
#   - an atomic builtin (__atomic_*, __sync_*): use Atomic<T>, FailNth, ...;
#   - container_of / KCXX_CONTAINER_OF: the registration hands data in.
# A call is NAME( not preceded by '.', '->' or '::' of another scope than
# the global one, so cache.free(...) or str::match(...) are fine.
#
# --pending: report the file's raw calls but do not fail (the files listed
# in kmod/cxx/Kbuild as KCXX_RAW_CALLS_PENDING, printed on every build so
# the list cannot be forgotten).  Exit 1 on any violation otherwise.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEF=$ROOT/kmod/kcxx/include/kcxx/bindings.def
CXX=${KCXX_CXX:-g++}
PENDING=0 QUIET=0
die() { echo "check-cxx-raw-calls: error: $*" >&2; exit 2; }

names() {	# every kernel name bindings.def declares, one per line
	sed -n -E 's/^KCXX_(FN|FN_AS|HELPER)\([^,]+, *([A-Za-z_][A-Za-z0-9_]*),.*/\2/p; s/^KCXX_VAR\([^,]+, *([A-Za-z_][A-Za-z0-9_]*)\).*/\1/p' "$DEF"
	# KCXX_FN_AS(ret, name, symbol, ...): the kernel's symbol is raw too
	sed -n -E 's/^KCXX_FN_AS\([^,]+, *[A-Za-z0-9_]+, *([A-Za-z_][A-Za-z0-9_]*),.*/\1/p' "$DEF"
}

while [ $# -gt 0 ]; do
	case $1 in
	--pending) PENDING=1 ;;
	--quiet) QUIET=1 ;;
	--list-names) names; exit 0 ;;
	-h | --help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (try --help)" ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || die "no FILE.cpp given (try --help)"
[ -r "$DEF" ] || die "$DEF missing"
n=$(names | wc -l)
[ "$n" -gt 20 ] || die "read only $n names from $DEF: its format changed, fix names() here"

alt=$(names | paste -sd'|')
alt="$alt|kmalloc|kzalloc|copy_from_user|copy_to_user|container_of|KCXX_CONTAINER_OF"
# a call of NAME: not a member (. ->) and not in a named scope (x::NAME)
call_re="(^|[^A-Za-z0-9_.>:]|[^A-Za-z0-9_]::)($alt)[[:space:]]*\\(|__atomic_[a-z_0-9]+|__sync_[a-z_0-9]+"

status=0
for f in "$@"; do
	[ -r "$f" ] || die "cannot read $f"
	# comments out (the preprocessor in "preprocessed" mode keeps macros
	# and line numbers), then string and character literals out
	hits=$("$CXX" -x c++ -fpreprocessed -dD -E "$f" 2>/dev/null |
		sed -E 's/"([^"\\]|\\.)*"/""/g; s/'"'"'([^'"'"'\\]|\\.)*'"'"'/0/g' |
		awk '/^# [0-9]+ /{ line = $2 - 1; next } { line++; print line ": " $0 }' |
		grep -E "$call_re")
	if [ -z "$hits" ]; then
		[ "$QUIET" = 1 ] || echo "check-cxx-raw-calls: $f: no raw kernel calls"
		continue
	fi
	count=$(printf '%s\n' "$hits" | wc -l)
	if [ "$PENDING" = 1 ]; then
		echo "check-cxx-raw-calls: PENDING $f: $count line(s) still call the kernel directly (allowed until converted; KCXX_RAW_CALLS_PENDING in kmod/cxx/Kbuild)"
		continue
	fi
	echo "check-cxx-raw-calls: $f: $count line(s) call the kernel directly; drivers must go through kcxx:" >&2
	printf '%s\n' "$hits" | sed "s|^|  $f:|" >&2
	status=1
done
exit $status
