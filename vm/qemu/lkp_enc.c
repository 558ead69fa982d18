/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lkp_enc - an emulated MMIO Caesar-cipher PCI device for kmodlab.
 *
 * BAR0 is one 4 KiB memory region (numbers from kmod/include/uapi/lkp_enc.h):
 *   0x000        32-bit seed, little endian; 1-, 2- and 4-byte accesses,
 *                a partial access reads/writes just the bytes it covers
 *   0x004-0x103  256-byte string buffer: a written byte is stored
 *                Caesar-shifted by (seed % 26) if it is an ASCII letter
 *                (case kept), unchanged otherwise; a read returns the
 *                stored byte
 *   else         reads 0, writes are ignored
 * Device reset clears the seed and the buffer.
 *
 * Every access is handled as a run of single-byte operations at consecutive
 * offsets, so any size and alignment decodes the same way and no access can
 * reach past the buffer.
 *
 * Built into our QEMU 7.2 by vm/qemu/build.sh; the driver under test lives
 * in kmod/.
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "hw/pci/pci.h"
#include "migration/vmstate.h"
#include "qom/object.h"

#include "lkp_enc.h"	/* -I kmodlab/include, a copy of kmod/include/uapi */

#define TYPE_LKP_ENC_DEV LKP_ENC_NAME	/* "lkp_enc": -device lkp_enc */
OBJECT_DECLARE_SIMPLE_TYPE(LkpEncState, LKP_ENC_DEV)

/* The register map must fit the BAR, the seed must be 32 bits wide. */
QEMU_BUILD_BUG_ON(LKP_ENC_REG_STRING + LKP_ENC_STRING_SIZE > LKP_ENC_BAR_SIZE);
QEMU_BUILD_BUG_ON(LKP_ENC_REG_SEED + 4 > LKP_ENC_REG_STRING);
QEMU_BUILD_BUG_ON(LKP_ENC_BAR_SIZE & (LKP_ENC_BAR_SIZE - 1));

struct LkpEncState {
	PCIDevice parent_obj;
	MemoryRegion mmio;
	uint32_t seed;
	uint8_t buf[LKP_ENC_STRING_SIZE];
};

static uint8_t lkp_enc_shift(uint8_t c, uint32_t seed)
{
	/* Reduce first: seed up to 2^32-1 must not overflow c - base + seed. */
	unsigned int k = seed % 26;

	if (c >= 'A' && c <= 'Z')
		return 'A' + (c - 'A' + k) % 26;
	if (c >= 'a' && c <= 'z')
		return 'a' + (c - 'a' + k) % 26;
	return c;
}

static uint8_t lkp_enc_read_byte(LkpEncState *s, hwaddr off)
{
	if (off < LKP_ENC_REG_SEED + 4)
		return s->seed >> (8 * (off - LKP_ENC_REG_SEED));
	if (off >= LKP_ENC_REG_STRING &&
	    off < LKP_ENC_REG_STRING + LKP_ENC_STRING_SIZE)
		return s->buf[off - LKP_ENC_REG_STRING];
	return 0;
}

static void lkp_enc_write_byte(LkpEncState *s, hwaddr off, uint8_t b)
{
	if (off < LKP_ENC_REG_SEED + 4) {
		unsigned int sh = 8 * (off - LKP_ENC_REG_SEED);

		s->seed = (s->seed & ~(0xffu << sh)) | ((uint32_t)b << sh);
	} else if (off >= LKP_ENC_REG_STRING &&
		   off < LKP_ENC_REG_STRING + LKP_ENC_STRING_SIZE) {
		s->buf[off - LKP_ENC_REG_STRING] = lkp_enc_shift(b, s->seed);
	}
	/* Anything else: a hole in the BAR, ignored. */
}

static uint64_t lkp_enc_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
	LkpEncState *s = opaque;
	uint64_t val = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		val |= (uint64_t)lkp_enc_read_byte(s, addr + i) << (8 * i);
	return val;
}

static void lkp_enc_mmio_write(void *opaque, hwaddr addr, uint64_t val,
			       unsigned size)
{
	LkpEncState *s = opaque;
	unsigned int i;

	for (i = 0; i < size; i++)
		lkp_enc_write_byte(s, addr + i, val >> (8 * i));
}

static const MemoryRegionOps lkp_enc_mmio_ops = {
	.read = lkp_enc_mmio_read,
	.write = lkp_enc_mmio_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	/*
	 * The core hands us accesses of 1..4 bytes at any alignment in one
	 * call (8-byte guest accesses are split into two); the byte loop above
	 * decodes them, so no access is rejected or widened.
	 */
	.valid = {
		.min_access_size = 1,
		.max_access_size = 8,
		.unaligned = true,
	},
	.impl = {
		.min_access_size = 1,
		.max_access_size = 4,
		.unaligned = true,
	},
};

static void lkp_enc_realize(PCIDevice *pdev, Error **errp)
{
	LkpEncState *s = LKP_ENC_DEV(pdev);

	memory_region_init_io(&s->mmio, OBJECT(s), &lkp_enc_mmio_ops, s,
			      "lkp_enc-mmio", LKP_ENC_BAR_SIZE);
	pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void lkp_enc_reset(DeviceState *dev)
{
	LkpEncState *s = LKP_ENC_DEV(dev);

	s->seed = 0;
	memset(s->buf, 0, sizeof(s->buf));
}

/* Seed and buffer are the whole state: migration and snapshots keep them. */
static const VMStateDescription vmstate_lkp_enc = {
	.name = LKP_ENC_NAME,
	.version_id = 1,
	.minimum_version_id = 1,
	.fields = (VMStateField[]) {
		VMSTATE_PCI_DEVICE(parent_obj, LkpEncState),
		VMSTATE_UINT32(seed, LkpEncState),
		VMSTATE_UINT8_ARRAY(buf, LkpEncState, LKP_ENC_STRING_SIZE),
		VMSTATE_END_OF_LIST()
	},
};

static void lkp_enc_class_init(ObjectClass *klass, void *data)
{
	DeviceClass *dc = DEVICE_CLASS(klass);
	PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

	k->realize = lkp_enc_realize;
	k->vendor_id = LKP_ENC_PCI_VENDOR;
	k->device_id = LKP_ENC_PCI_DEVICE;
	k->revision = LKP_ENC_PCI_REVISION;
	k->class_id = LKP_ENC_PCI_CLASS;
	dc->desc = "kmodlab lkp_enc MMIO Caesar-cipher device";
	dc->reset = lkp_enc_reset;
	dc->vmsd = &vmstate_lkp_enc;
	set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo lkp_enc_info = {
	.name = TYPE_LKP_ENC_DEV,
	.parent = TYPE_PCI_DEVICE,
	.instance_size = sizeof(LkpEncState),
	.class_init = lkp_enc_class_init,
	.interfaces = (InterfaceInfo[]) {
		{ INTERFACE_CONVENTIONAL_PCI_DEVICE },
		{ },
	},
};

static void lkp_enc_register_types(void)
{
	type_register_static(&lkp_enc_info);
}

type_init(lkp_enc_register_types)
