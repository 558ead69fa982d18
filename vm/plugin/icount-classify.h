/* SPDX-License-Identifier: GPL-2.0 */
/*
 * icount-classify.h - classify one x86-64 instruction from its raw bytes
 * (qemu_plugin_insn_data), for the icount TCG plugin (icount.c) and its host
 * unit test (tests/icount/test-classify.sh through classify-test.c).
 *
 * Bytes, not disassembly text: the opcode map is stable, text formats are
 * not (capstone and QEMU's own disassembler spell mnemonics differently).
 *
 * Classes (an instruction may have several):
 *   ICLS_BRANCH    conditional branch: Jcc rel8/rel32, JrCXZ, LOOP/LOOPcc
 *   ICLS_CALL      any call: CALL rel32, CALL r/m (FF /2), far CALL (FF /3)
 *   ICLS_INDIRECT  indirect call or jump: FF /2 /3 /4 /5, and a direct
 *                  CALL/JMP/Jcc whose target is a retpoline thunk
 *                  (__x86_indirect_thunk_*: the compiler's spelling of an
 *                  indirect branch under CONFIG_RETPOLINE)
 *   ICLS_ATOMIC    locked read-modify-write: any LOCK (F0) prefixed
 *                  instruction, and XCHG with a memory operand (86/87 with
 *                  ModRM.mod != 3), which the CPU locks implicitly
 * Instructions inside a thunk get no class: the call site already counted
 * the indirect branch (the thunk's own call/ret are its mechanism).
 */
#ifndef ICOUNT_CLASSIFY_H
#define ICOUNT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

enum {
	ICLS_BRANCH = 1u << 0,
	ICLS_CALL = 1u << 1,
	ICLS_INDIRECT = 1u << 2,
	ICLS_ATOMIC = 1u << 3,
};

/* Is ADDR the entry of (or inside) a retpoline thunk?  Supplied by the
 * caller: the plugin knows the thunk ranges from the guest's kallsyms. */
typedef int (*icls_thunk_fn)(uint64_t addr);

static inline int icls_is_legacy_prefix(uint8_t c)
{
	switch (c) {
	case 0xf0: case 0xf2: case 0xf3: /* lock, repne, rep */
	case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65: /* segments */
	case 0x66: case 0x67: /* operand, address size */
		return 1;
	}
	return 0;
}

static inline int32_t icls_rel32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

/* Classes of the instruction of N bytes B at virtual address PC. */
static inline unsigned int icls_classify(const uint8_t *b, size_t n, uint64_t pc,
					 icls_thunk_fn in_thunk)
{
	size_t i = 0;
	unsigned int cls = 0;
	uint64_t next = pc + n;
	uint8_t op, modrm;

	if (in_thunk && in_thunk(pc))
		return 0;
	for (; i < n && icls_is_legacy_prefix(b[i]); i++)
		if (b[i] == 0xf0)
			cls |= ICLS_ATOMIC;
	if (i < n && (b[i] & 0xf0) == 0x40) /* REX (64-bit mode) */
		i++;
	if (i >= n)
		return cls;
	op = b[i];
	modrm = i + 1 < n ? b[i + 1] : 0;
	if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3))
		return cls | ICLS_BRANCH;
	if (op == 0x0f && modrm >= 0x80 && modrm <= 0x8f) { /* Jcc rel32 */
		cls |= ICLS_BRANCH;
		if (i + 6 <= n && in_thunk && in_thunk(next + icls_rel32(b + i + 2)))
			cls |= ICLS_INDIRECT;
		return cls;
	}
	if (op == 0xe8 || op == 0xe9) { /* CALL / JMP rel32 */
		if (op == 0xe8)
			cls |= ICLS_CALL;
		if (i + 5 <= n && in_thunk && in_thunk(next + icls_rel32(b + i + 1)))
			cls |= ICLS_INDIRECT;
		return cls;
	}
	if (op == 0xff && i + 1 < n) {
		switch ((modrm >> 3) & 7) {
		case 2: case 3: /* CALL near/far r/m */
			return cls | ICLS_CALL | ICLS_INDIRECT;
		case 4: case 5: /* JMP near/far r/m */
			return cls | ICLS_INDIRECT;
		}
		return cls;
	}
	if ((op == 0x86 || op == 0x87) && i + 1 < n && (modrm >> 6) != 3)
		cls |= ICLS_ATOMIC;
	return cls;
}

#endif
