#!/usr/bin/env bash
# check-format.sh - kernel coding style of the drivers, checked by clang-format
# against the repository's .clang-format (Linux kernel style, 8-wide tabs,
# 100 columns).  `make format-check` runs it.
#
# Usage: scripts/check-format.sh [--fix] [FILE...]
#   (no FILE)  checks kmod/c/*.[ch], kmod/cxx/*.{c,h,cpp,hpp} (once that
#              exists) and the uapi headers kmod/include/uapi/*.h
#   --fix      rewrite the files in place instead of checking
#   -h|--help  this text
# Exit status: 0 when every file is formatted, 1 when any is not (each
# violation is printed by clang-format), 2 on bad usage or no clang-format.
# Generated Kbuild files (*.mod.c) are never checked.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
fix=0

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--fix) fix=1 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) echo "check-format: unknown option '$1' (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
command -v "$CLANG_FORMAT" >/dev/null ||
	{ echo "check-format: $CLANG_FORMAT not found (apt-get install clang-format)" >&2; exit 2; }

files=("$@")
if [ ${#files[@]} = 0 ]; then
	shopt -s nullglob
	for f in "$ROOT"/kmod/c/*.c "$ROOT"/kmod/c/*.h \
		"$ROOT"/kmod/cxx/*.c "$ROOT"/kmod/cxx/*.h "$ROOT"/kmod/cxx/*.cpp "$ROOT"/kmod/cxx/*.hpp \
		"$ROOT"/kmod/include/uapi/*.h; do
		case $f in *.mod.c) continue ;; esac
		files+=("$f")
	done
fi
[ ${#files[@]} -gt 0 ] || { echo "check-format: no files to check" >&2; exit 2; }

if [ $fix = 1 ]; then
	"$CLANG_FORMAT" --style=file -i "${files[@]}"
	exit $?
fi
bad=0
for f in "${files[@]}"; do
	if ! "$CLANG_FORMAT" --style=file --dry-run --Werror "$f"; then
		echo "check-format: ${f#"$ROOT"/} is not formatted (fix: scripts/check-format.sh --fix ${f#"$ROOT"/})" >&2
		bad=1
	fi
done
[ $bad = 0 ] && echo "check-format: ${#files[@]} files formatted"
exit $bad
