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

/* Does a one-byte-map opcode (64-bit mode) take a ModRM byte? */
static inline int icls_modrm1(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 4; /* ALU r/m forms 00-03, 08-0b, ... 38-3b */
	switch (op) {
	case 0x62: case 0x63: case 0x69: case 0x6b:
	case 0xc0: case 0xc1: case 0xc4: case 0xc5: case 0xc6: case 0xc7:
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
	case 0xf6: case 0xf7: case 0xfe: case 0xff:
		return 1;
	}
	return (op >= 0x80 && op <= 0x8f) || (op >= 0xd8 && op <= 0xdf);
}

/* Immediate (and relative offset) bytes of a one-byte-map opcode; Z is the
 * operand-size immediate (2 with a 66 prefix, else 4). */
static inline int icls_imm1(uint8_t op, uint8_t modrm, int z, int rex_w, int asize)
{
	if (op < 0x40)
		return (op & 7) == 4 ? 1 : (op & 7) == 5 ? z : 0;
	if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe7) || (op >= 0xb0 && op <= 0xb7))
		return 1;
	if (op >= 0xb8 && op <= 0xbf)
		return rex_w ? 8 : z;
	if (op >= 0xa0 && op <= 0xa3) /* mov moffs */
		return asize ? 4 : 8;
	switch (op) {
	case 0x6a: case 0x6b: case 0x80: case 0x83: case 0xa8: case 0xc0: case 0xc1:
	case 0xc6: case 0xcd: case 0xeb:
		return 1;
	case 0x68: case 0x69: case 0x81: case 0xa9: case 0xc7:
		return z;
	case 0xe8: case 0xe9:
		return 4;
	case 0xc2: case 0xca:
		return 2;
	case 0xc8: /* enter imm16, imm8 */
		return 3;
	case 0xf6:
		return ((modrm >> 3) & 7) < 2 ? 1 : 0;
	case 0xf7:
		return ((modrm >> 3) & 7) < 2 ? z : 0;
	}
	return 0;
}

/* Does a two-byte-map (0F xx) opcode take a ModRM byte? */
static inline int icls_modrm2(uint8_t op)
{
	switch (op) {
	case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0b: case 0x0e:
	case 0x77: case 0xa0: case 0xa1: case 0xa2: case 0xa8: case 0xa9: case 0xaa:
		return 0;
	}
	return !((op >= 0x30 && op <= 0x37) || (op >= 0x80 && op <= 0x8f) || (op >= 0xc8 && op <= 0xcf));
}

static inline int icls_imm2(uint8_t op, int z)
{
	if (op >= 0x80 && op <= 0x8f)
		return z;
	switch (op) {
	case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac: case 0xba:
	case 0xc2: case 0xc4: case 0xc5: case 0xc6:
		return 1;
	}
	return 0;
}

/* Bytes of the ModRM byte, SIB and displacement starting at B (N left);
 * -1 when they do not fit. */
static inline int icls_modrm_len(const uint8_t *b, size_t n)
{
	int mod, rm, len = 1;

	if (n < 1)
		return -1;
	mod = b[0] >> 6;
	rm = b[0] & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (n < 2)
			return -1;
		len++;
		if (mod == 0 && (b[1] & 7) == 5)
			len += 4;
	} else if (mod == 0 && rm == 5) {
		len += 4; /* RIP-relative */
	}
	len += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	return len;
}

/*
 * Length of the x86-64 instruction starting at B, of which N bytes are
 * known; -1 when N bytes are not enough to hold it.  The plugin needs this
 * because QEMU 7.2 hands it a truncated last instruction when a block's
 * next instruction crosses a page: the translator abandons that
 * instruction (and removes its code, the plugin's ops included: it runs at
 * the start of the next block) but the plugin is still shown it, with only
 * the bytes fetched so far; recorded first, those bytes would stand for
 * the instruction (wrong classes: "ff" alone is no indirect call).  Covers
 * the one-, two- and three-byte maps and VEX/EVEX; tested against objdump
 * (tests/icount/test-classify.sh).
 */
static inline int icls_length(const uint8_t *b, size_t n)
{
	size_t i = 0;
	int z = 4, asize = 0, rex_w = 0, m, imm = 0, map;
	uint8_t op;

	for (; i < n && icls_is_legacy_prefix(b[i]); i++) {
		if (b[i] == 0x66)
			z = 2;
		if (b[i] == 0x67)
			asize = 1;
	}
	if (i < n && (b[i] & 0xf0) == 0x40)
		rex_w = b[i++] & 8;
	if (i >= n)
		return -1;
	op = b[i++];
	if (op == 0xc4 || op == 0xc5 || op == 0x62) { /* VEX3, VEX2, EVEX */
		int plen = op == 0xc5 ? 1 : op == 0xc4 ? 2 : 3;

		if (i + plen >= n)
			return -1;
		map = op == 0xc5 ? 1 : b[i] & (op == 0x62 ? 7 : 0x1f);
		i += plen;
		op = b[i++];
		if (map == 1 && op == 0x77) /* vzeroupper/vzeroall */
			return i;
		imm = map == 3 ? 1 : map == 1 ? icls_imm2(op, z) : 0;
		m = icls_modrm_len(b + i, n - i);
		return m < 0 || i + m + imm > n ? -1 : (int)(i + m + imm);
	}
	if (op != 0x0f) {
		if (icls_modrm1(op)) {
			m = icls_modrm_len(b + i, n - i);
			if (m < 0)
				return -1;
			imm = icls_imm1(op, b[i], z, rex_w, asize);
			i += m;
		} else {
			imm = icls_imm1(op, 0, z, rex_w, asize);
		}
		return i + imm > n ? -1 : (int)(i + imm);
	}
	if (i >= n)
		return -1;
	op = b[i++];
	if (op == 0x38 || op == 0x3a) { /* three-byte maps: ModRM, 0F 3A an imm8 */
		if (i >= n)
			return -1;
		imm = op == 0x3a;
		i++;
		m = icls_modrm_len(b + i, n - i);
		return m < 0 || i + m + imm > n ? -1 : (int)(i + m + imm);
	}
	imm = icls_imm2(op, z);
	if (icls_modrm2(op)) {
		m = icls_modrm_len(b + i, n - i);
		if (m < 0)
			return -1;
		i += m;
	}
	return i + imm > n ? -1 : (int)(i + imm);
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
