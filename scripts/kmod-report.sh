#!/usr/bin/env bash
# kmod-report.sh - C against C++: module sizes, stack frames, dispatch parity.
#
# Usage: scripts/kmod-report.sh [--json FILE] [--check] [--no-build] [MODULE_DIR...]
#
# For every .ko in kmod/c and kmod/cxx as built for the default kernel
# (KERNEL= another; build/kernels/<abi>/kmod/, kmod/Makefile), and kmod/rust
# where it built one (the Rust kernel's counter_rust), or in the given module
# output folders:
#   sizes    text / rodata / data / bss in bytes, from `size -A` (text: .text*,
#            .init.text, .exit.text; rodata: .rodata*; data: .data*; bss: .bss*)
#   stack    the largest stack frame of the module's objects, from the
#            -fstack-usage .su files (function, bytes, static/dynamic);
#            null for a Rust module: rustc writes no .su files
#   dispatch every file_operations table in the module (an object of
#            sizeof(struct file_operations) whose owner slot points at
#            __this_module), each slot's target, where it is defined (C++
#            object, C object, or the kernel), and for each entry point the
#            calls on its path inside the module (followed through local
#            functions): indirect calls (call *reg or a retpoline thunk),
#            direct call sites to code outside the module (kernel functions
#            and kcxx C helpers), the kcxx C helpers (kcxx_*) among them, and
#            the static instruction count of the entry and the module-local
#            functions it reaches.
# Then per driver C against C++: size deltas and, per operation, the extra
# indirect calls and the extra helper calls of the C++ entry point.
#
# Stack sizes need .su files for every object.  kcxx.mk builds C++ with
# -fstack-usage; for a module without them the script builds a private copy
# of kmod/ in build/kmod-report/ with KCFLAGS=-fstack-usage (same code:
# -fstack-usage does not change code generation) unless --no-build.
#
#   --json FILE  also write the report as JSON (fields: see README of kmod/kcxx)
#   --check      exit 1 if a C++ table slot points at a C-compiled function or
#                a C++ operation makes more indirect calls than its C twin
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
json="" check=0 build=1 dirs=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--json) json=$2; shift ;;
	--check) check=1 ;;
	--no-build) build=0 ;;
	-*) echo "kmod-report: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) dirs+=("$1") ;;
	esac
	shift
done
# The modules as built for one kernel (KERNEL=, else the default one).
KMOD_OUT=$("$ROOT/scripts/conf.sh" kernel "${KERNEL:-}" kmod) || exit 1
if [ ${#dirs[@]} = 0 ]; then
	dirs=("$KMOD_OUT/c" "$KMOD_OUT/cxx")
	# kmod/rust builds only for a kernel with CONFIG_RUST: there it joins, elsewhere it has no .ko
	ls "$KMOD_OUT/rust"/*.ko >/dev/null 2>&1 && dirs+=("$KMOD_OUT/rust")
fi
for d in "${dirs[@]}"; do
	ls "$d"/*.ko >/dev/null 2>&1 || { echo "kmod-report: no .ko in $d: build first (make modules)" >&2; exit 1; }
done
KABI=$KMOD_OUT/cxx/kcxx_kabi.h
[ -f "$KABI" ] || { echo "kmod-report: $KABI missing: build kmod/cxx first" >&2; exit 1; }

# Directories whose modules lack .su files get a private -fstack-usage build.
su_dirs=()
for d in "${dirs[@]}"; do
	missing=0
	for mod in "$d"/*.mod; do
		for o in $(cat "$mod"); do
			# a Rust object (its .rs beside it) never has one: rustc has no -fstack-usage
			[ -f "${o%.o}.su" ] || [ -e "${o%.o}.rs" ] || missing=1
		done
	done
	if [ $missing = 0 ]; then
		su_dirs+=("$d")
	elif [ $build = 1 ]; then
		kdir=$("$ROOT/scripts/conf.sh" kernel "${KERNEL:-}" build) || exit 1
		priv=$ROOT/build/kmod-report
		rm -rf "$priv" && mkdir -p "$priv/kmod" "$priv/scripts"
		(cd "$ROOT/kmod" && find . -name '*.[ch]' -o -name '*.cpp' -o -name Kbuild -o -name '*.mk' |
			grep -v '\.mod\.c$' | cpio -pdm --quiet "$priv/kmod")
		cp "$ROOT/scripts/check-cxx-objects.sh" "$priv/scripts/"
		rel=kmod/${d##*/}
		echo "kmod-report: $rel has no .su files: building a private copy with -fstack-usage" >&2
		# A self-built kernel's make arguments (the Rust kernel: LLVM=1, as kmod/Makefile passes them).
		# shellcheck disable=SC2046
		make -s -C "$kdir" $(cat "$kdir/kmodlab-make-args" 2>/dev/null) M="$priv/$rel" KCFLAGS=-fstack-usage modules \
			>"$priv/build.log" 2>&1 || { echo "kmod-report: private build failed, see $priv/build.log" >&2; exit 1; }
		su_dirs+=("$priv/$rel")
	else
		su_dirs+=("")
	fi
done

args=()
for i in "${!dirs[@]}"; do args+=("${dirs[$i]}=${su_dirs[$i]}"); done
# The analysis itself (parsers of size/readelf/objdump/nm output, the C
# against C++ comparison, the text and JSON report): analysis/kmod_report.py,
# with its tests in analysis/tests/test_kmod_report.py.
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m analysis.kmod_report "$KABI" "$json" "$check" "${args[@]}"
