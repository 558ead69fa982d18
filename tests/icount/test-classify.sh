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
case ${1:-} in -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

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

check "classifier builds" build || exit 0
check "instruction length equals objdump's, truncations reported (libc, drivers)" lengths
if check "cases assemble (GNU as)" assemble; then
	check "every instruction classified as the SDM says" classify
fi
exit 0
