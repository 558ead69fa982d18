#!/usr/bin/env bash
# test-classify.sh - the icount plugin's instruction decoding
# (vm/plugin/icount-classify.h, through build/plugin/classify-test, the very
# header the plugin compiles), on real machine code.  Host only, no guest;
# suite "icount-classify".
#   - classes (conditional branch, call, indirect, atomic): every case below
#     is assembled with GNU as, its bytes taken from objdump, classified
#   - instruction length (the plugin drops QEMU 7.2's truncated page-crossing
#     leftovers with it): equal to objdump's for every instruction of libc
#     (SSE, AVX, AVX-512), the built driver modules and icount-op, and every
#     proper prefix of an instruction is reported as too short
#   - vm/plugin/icount_report.py on a synthetic version-3 plugin output: the
#     driver figures come from the driver text ranges, foreign code in the
#     module area (a BPF program) stays out, a disagreement is reported
#
# Usage: tests/icount/test-classify.sh
#
# The expected classes are the x86 semantics of each instruction (SDM), not
# the classifier's output: a LOCK prefix or an XCHG with memory is atomic, a
# CALL/JMP through a register or memory is indirect, so is a direct CALL/JMP/
# Jcc into a retpoline thunk, and nothing inside the thunk counts.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
CHECK_SUITE=icount-classify
# shellcheck source=tests/lib/check.sh
source tests/lib/check.sh
case ${1:-} in -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

# expected classes | instruction (AT&T).  "thunk" is a label placed after the
# cases, marked as a thunk range below.
CASES='
- | mov %rdi,%rax
- | add $1,(%rdi)
- | xchg %eax,%ebx
- | xchg %ecx,%ebx
- | xchg %r8,%r9
- | cmpxchg %rsi,(%rdi)
- | ret
- | jmp 1f
- | nopl 0x4b4d0200(%rax)
- | lfence
branch | jne 1f
branch | je thunk_far
branch | jrcxz 1f
branch | loop 1f
call | call 1f
call,indirect | call *%rax
call,indirect | call *0x10(%rdi)
call,indirect | call *%r11
call,indirect | lcall *(%rax)
indirect | jmp *%rax
indirect | jmp *0x8(%rax,%rcx,8)
indirect | notrack jmp *%rax
atomic | lock incl (%rdi)
atomic | lock cmpxchg %rsi,(%rdi)
atomic | lock xadd %eax,(%rdi)
atomic | lock btsq $3,(%rdi)
atomic | xchg %eax,(%rdi)
atomic | xchg (%rdi),%r8
atomic | xchgb %al,(%rdi)
atomic | lock addl $1,%fs:(%rdi)
call,indirect | call thunk
indirect | jmp thunk
branch,indirect | jne thunk
- | pause
'
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

build() {
	make --no-print-directory -s -C vm/plugin "$ROOT/build/plugin/classify-test"
}

assemble() {
	local exp insn
	{
		echo ".text"
		while IFS='|' read -r exp insn; do
			[ -n "$insn" ] || continue
			echo "	$insn"
		done <<<"$CASES"
		echo "1:	nop"
		# far enough that Jcc to it takes rel32
		echo "	.skip 200, 0x90"
		echo "thunk_far: nop"
		echo "thunk:	call 2f"
		echo "	pause"
		echo "2:	mov %rax,(%rsp)"
		echo "	ret"
		echo "thunk_end:"
	} >"$work/cases.S"
	as --64 -o "$work/cases.o" "$work/cases.S" &&
		objdump -d --insn-width=16 "$work/cases.o" >"$work/dis.txt" &&
		nm "$work/cases.o" >"$work/syms.txt"
}

classify() {
	local lo hi n exp insn got addr
	lo=$(awk '$3 == "thunk" { print $1 }' "$work/syms.txt")
	hi=$(awk '$3 == "thunk_end" { print $1 }' "$work/syms.txt")
	[ -n "$lo" ] && [ -n "$hi" ] || { echo "thunk symbols missing"; return 1; }
	# "addr: bytes<TAB>text" lines -> "addr hexbytes", in order
	sed -nE 's/^ *([0-9a-f]+):\t([0-9a-f ]+)\t.*/\1 \2/p' "$work/dis.txt" |
		awk '{ a = $1; $1 = ""; gsub(/ /, ""); print a, $0 }' >"$work/bytes.txt"
	build/plugin/classify-test --thunk "$lo" "$hi" <"$work/bytes.txt" >"$work/got.txt" || return 1
	n=0 bad=0
	while IFS='|' read -r exp insn; do
		[ -n "$insn" ] || continue
		n=$((n + 1))
		exp=${exp// /}
		got=$(sed -n "${n}p" "$work/got.txt" | awk '{print $2}')
		addr=$(sed -n "${n}p" "$work/got.txt" | awk '{print $1}')
		if [ "$got" != "$exp" ]; then
			echo "WRONG: '${insn# }' at $addr: expected $exp, got $got"
			bad=$((bad + 1))
		fi
	done <<<"$CASES"
	# inside the thunk: call, pause, mov, ret, all unclassified
	local inside=0
	while read -r addr got; do
		[ $((16#$addr)) -ge $((16#$lo)) ] || continue
		inside=$((inside + 1))
		[ "$got" = - ] || { echo "WRONG: instruction at $addr inside the thunk classified $got"; bad=$((bad + 1)); }
	done <"$work/got.txt"
	[ $inside = 4 ] || { echo "WRONG: $inside instructions inside the thunk, expected 4"; bad=$((bad + 1)); }
	echo "$n cases, $bad wrong"
	[ $bad = 0 ]
}

# "addr hexbytes" of every instruction objdump decodes in the given files
insn_bytes() {
	objdump -d --insn-width=16 "$@" 2>/dev/null |
		sed -nE 's/^ *([0-9a-f]+):\t([0-9a-f ]+)\t.*/\1 \2/p' |
		awk '{ a = $1; $1 = ""; gsub(/ /, ""); print a, $0 }'
}

lengths() {
	local files=(/lib/x86_64-linux-gnu/libc.so.6 build/plugin/icount-op) n bad
	mapfile -t -O 2 files < <(scripts/modules.sh list)
	insn_bytes "${files[@]}" >"$work/all.txt"
	n=$(wc -l <"$work/all.txt")
	[ "$n" -gt 100000 ] || { echo "only $n instructions from ${files[*]}"; return 1; }
	build/plugin/classify-test --length <"$work/all.txt" >"$work/len.txt" || return 1
	# objdump's length is the byte count; ours must match, and no truncation may pass
	bad=$(paste -d' ' "$work/all.txt" "$work/len.txt" |
		awk '{ if (length($2) / 2 != $4 || $5 != "") { print; bad++ } } END { exit bad > 0 }' | head -20)
	echo "$n instructions from ${#files[@]} files"
	[ -z "$bad" ] || { echo "WRONG (addr bytes addr length [truncation accepted]):"; echo "$bad"; return 1; }
}

# icount_report.py on a synthetic run: the "driver" scope (plugin output
# version 3) is the driver modules' text ranges, not the module area; code
# of something else in the module area (here a BPF program; on 6.12 such
# code runs inside an operation) counts in the whole syscall only.  A driver scope that counted it (the
# old whole-area range) disagrees with the per-PC attribution: a problem.
# $1: extra driver-scope instructions in op 2 (0: consistent)
report_run() {
	local d=$work/report$1 k=ffffffffc0001000 bpf=ffffffffc0100000 v=ffffffff81000000
	mkdir -p "$d"
	# totals: kernel, driver, user scopes x 10 fields; then irq
	tot() { echo "$1 0 0 0 0 0 0 0 0 0 $2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 irq 0"; }
	{
		printf 'kmodlab-icount 3\nvcpus 1\ndriver_ranges 1\nirq_entries 1\nthunks 0\n'
		printf 'truncated_skipped 0\nlength_errors 0\ncache l1i 32768 8 64 lru\ncache l1d 32768 8 64 lru\n'
		printf 'fields insn loads stores atomics branches indirect calls io l1i_miss l1d_miss\n'
		printf 'scopes kernel driver user\narmed 1\n'
		echo "totals $(tot 20 $((4 + $1)))"
		echo "window 0 ops 2"
		echo "wtotals $(tot 20 $((4 + $1)))"
		echo "op $(tot 5 2)"
		echo "op $(tot 15 $((2 + $1)))"
		echo "pc $k 2 0 0 0 0 0"
		echo "pc $(printf %x $((16#$k + 1))) 2 0 0 0 0 0"
		echo "pc $bpf 10 0 0 0 0 0"
		echo "pc $v 6 0 0 0 0 0"
		echo "endwindow 0"
		for a in $v $k $(printf %x $((16#$k + 1))) $bpf; do echo "insn $a 1 0 90"; done
		echo end
	} >"$d/plugin.txt"
	printf '%s T _stext\n%s t cnt_write\t[counter_c]\n%s t bpf_prog_1_x\t[bpf]\n' $v $k $bpf >"$d/kallsyms.txt"
	printf 'window\tdriver\tvariant\tworkload\tmodule\tops\tstatus\textra_work\tfops\n' >"$d/manifest.tsv"
	printf '0\tcounter\tc\twrite1\tcounter_c\t2\tok\t0\t1\n' >>"$d/manifest.tsv"
	printf '%s %x counter_c .text\n' $k $((16#$k + 0x100)) >"$d/driver-text.txt"
	echo "nokaslr noreplace-smp" >"$d/cmdline"
	/usr/bin/python3 vm/plugin/icount_report.py "$d" >"$d/out.txt" 2>&1
}

report() {
	report_run 0 || { cat "$work/report0/out.txt"; return 1; }
	/usr/bin/python3 - "$work/report0/icount.json" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
w = d["windows"][0]
got = (d["ok"], d["driver_ranges"], w["driver_insn_per_op"], w["driver_insn_per_op_stats"]["min"],
       w["driver_insn_per_op_stats"]["max"], w["modules_insn_total"], w["kernel_insn_per_op"]["all"]["max"])
want = (True, 1, 2.0, 2, 2, 14, 15)
print(f"consistent run: ok, ranges, driver/op, per-op min, max, modules, syscall max = {got}")
sys.exit(0 if got == want else f"expected {want}")
PY
	if report_run 10; then
		echo "a driver scope with 10 instructions the driver does not have passed"
		return 1
	fi
	grep -q "driver-module insn per PC 4 != driver-scope total 14" "$work/report10/out.txt" ||
		{ cat "$work/report10/out.txt"; return 1; }
	echo "driver scope counting foreign code: reported"
	sed -i 's/^kmodlab-icount 3$/kmodlab-icount 2/' "$work/report0/plugin.txt"
	if /usr/bin/python3 vm/plugin/icount_report.py "$work/report0" >"$work/v2.txt" 2>&1; then
		echo "a version-2 plugin output (whole module area) was accepted"
		return 1
	fi
	grep -q "not a version-3" "$work/v2.txt" && echo "version 2 output refused"
}

check "classifier builds" build || exit 0
check "icount_report: driver scope = driver text ranges, not the module area (synthetic run)" report
check "instruction length equals objdump's, truncations reported (libc, drivers)" lengths
if check "cases assemble (GNU as)" assemble; then
	check "every instruction classified as the SDM says" classify
fi
exit 0
