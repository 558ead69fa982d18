// SPDX-License-Identifier: GPL-2.0
/*
 * icount.c - QEMU TCG plugin: exact guest instruction counts per kernel PC,
 * in measurement windows marked by the guest program.
 *
 * Every executed guest instruction is counted with inline ops (no callback,
 * no lock: a few host instructions per guest instruction):
 *   - kernel instructions (vaddr in the upper half) into a per-PC counter and
 *     into a "kernel" total; those in the module area also into a "module"
 *     total;
 *   - user instructions into a "user" total (not per PC: only the kernel is
 *     attributed to functions);
 *   - the first instruction of each asynchronous interrupt entry stub (the
 *     addresses come from the guest's /proc/kallsyms, see ARM) into an
 *     "irq" total, so that an operation hit by an interrupt can be told apart.
 *
 * The guest marks windows with a 7-byte NOP that no compiler emits:
 *     nopl 0x4b4dCCAA(%rax)   = 0f 1f 80 AA CC 4d 4b
 * "KM" in the high half of the displacement, CC a command, AA unused (0).
 * Commands (the marker's exec callback runs only when the marker executes,
 * so counting itself never takes a callback):
 *   1 BEGIN    open a window: remember every per-PC counter and the totals
 *   2 OP       one operation done: log the totals' increase since the last
 *              BEGIN/OP (one record per operation)
 *   3 END      close the window: keep the per-PC increase of every PC
 *   4 ARM      read the interrupt entry addresses from the file given as
 *              irqs=PATH (the guest wrote it from /proc/kallsyms), start
 *              counting, and flush the translation cache (qemu_plugin_reset)
 *              so that everything translated so far is translated again with
 *              the counters.  Until ARM nothing is counted: the boot and the
 *              module loading run at full TCG speed (the only cost is the
 *              marker check when a user-space block is translated).
 * A window's per-PC increase divided by its operation count is the exact
 * instruction count per operation, per PC: no sampling, no timing.
 *
 * Arguments (-plugin file=libicount.so,out=PATH[,irqs=PATH][,modlo=HEX,modhi=HEX]):
 *   out    where the result goes at QEMU exit (text, format below)
 *   irqs   file of hexadecimal addresses, one per line (read on ARM)
 *   modlo, modhi  the module area [modlo, modhi); default: x86-64 4-level
 *          paging MODULES_VADDR..MODULES_END
 *
 * Output (line based, version 1; vm/plugin/README.md documents it):
 *   kmodlab-icount 1
 *   vcpus N
 *   modrange LO HI
 *   irq_entries N
 *   error TEXT                       (marker misuse; zero or more)
 *   armed 0|1
 *   totals kernel K module M user U irq I        (from ARM to exit)
 *   window IDX ops N kernel K module M user U irq I
 *   op K M U I                       (N lines: one per operation)
 *   pc ADDR COUNT                    (every PC with a non-zero increase)
 *   endwindow IDX
 *   end
 *
 * Inline ops are not atomic: with more than one vCPU the counts would race.
 * The plugin records the vCPU count and the host tools refuse runs with
 * more than one.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define KERNEL_START 0xffff800000000000ULL
#define MARK_MAGIC 0x4b4dU
#define MARK_BEGIN 1
#define MARK_OP 2
#define MARK_END 3
#define MARK_ARM 4

struct pc_counter {
	uint64_t count;
	uint64_t start; /* count at the open window's BEGIN */
};

struct totals {
	uint64_t kernel, module, user, irq;
};

struct window {
	struct totals begin, last, end;
	GArray *ops; /* struct totals: increase per operation */
	GArray *pcs; /* struct pc_delta, sorted by address */
	gboolean closed;
};

struct pc_delta {
	uint64_t pc, count;
};

static qemu_plugin_id_t plugin_id;
static struct totals counters;
static GHashTable *pcs;	       /* vaddr -> struct pc_counter* */
static GHashTable *irq_entries; /* vaddr set */
static GPtrArray *windows;
static struct window *open_window;
static GPtrArray *errors;
static char *out_path, *irqs_path;
static uint64_t mod_lo = 0xffffffffa0000000ULL, mod_hi = 0xffffffffff000000ULL;
static int n_vcpus;
static bool armed;

static void error_note(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void error_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(errors, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static struct pc_counter *pc_counter_get(uint64_t pc)
{
	struct pc_counter *c = g_hash_table_lookup(pcs, (gpointer)(uintptr_t)pc);

	if (!c) {
		c = g_new0(struct pc_counter, 1);
		/* A PC first seen inside an open window starts at zero, which is
		 * what its start would have been. */
		g_hash_table_insert(pcs, (gpointer)(uintptr_t)pc, c);
	}
	return c;
}

static struct totals totals_sub(const struct totals *a, const struct totals *b)
{
	struct totals d = { a->kernel - b->kernel, a->module - b->module, a->user - b->user,
			    a->irq - b->irq };
	return d;
}

static gint pc_delta_cmp(gconstpointer a, gconstpointer b)
{
	const struct pc_delta *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static void arm(void);

static void on_marker(unsigned int vcpu, void *udata)
{
	unsigned int cmd = (unsigned int)(uintptr_t)udata;
	GHashTableIter it;
	gpointer key, val;

	switch (cmd) {
	case MARK_BEGIN:
		if (open_window) {
			error_note("BEGIN inside open window %u", windows->len - 1);
			return;
		}
		open_window = g_new0(struct window, 1);
		open_window->ops = g_array_new(FALSE, FALSE, sizeof(struct totals));
		open_window->pcs = g_array_new(FALSE, FALSE, sizeof(struct pc_delta));
		g_ptr_array_add(windows, open_window);
		g_hash_table_iter_init(&it, pcs);
		while (g_hash_table_iter_next(&it, &key, &val))
			((struct pc_counter *)val)->start = ((struct pc_counter *)val)->count;
		open_window->begin = open_window->last = counters;
		break;
	case MARK_OP: {
		struct totals d;

		if (!open_window) {
			error_note("OP outside a window");
			return;
		}
		d = totals_sub(&counters, &open_window->last);
		g_array_append_val(open_window->ops, d);
		open_window->last = counters;
		break;
	}
	case MARK_END:
		if (!open_window) {
			error_note("END outside a window");
			return;
		}
		open_window->end = counters;
		g_hash_table_iter_init(&it, pcs);
		while (g_hash_table_iter_next(&it, &key, &val)) {
			struct pc_counter *c = val;
			struct pc_delta d = { (uint64_t)(uintptr_t)key, c->count - c->start };

			/* start is 0 for PCs created inside the window */
			if (d.count)
				g_array_append_val(open_window->pcs, d);
		}
		g_array_sort(open_window->pcs, pc_delta_cmp);
		open_window->closed = TRUE;
		open_window = NULL;
		break;
	case MARK_ARM:
		arm();
		break;
	default:
		error_note("unknown marker command %u", cmd);
	}
}

static bool is_marker(struct qemu_plugin_insn *insn, unsigned int *cmd)
{
	const uint8_t *b = qemu_plugin_insn_data(insn);
	uint32_t disp;

	if (qemu_plugin_insn_size(insn) != 7 || b[0] != 0x0f || b[1] != 0x1f || b[2] != 0x80)
		return false;
	disp = (uint32_t)b[3] | (uint32_t)b[4] << 8 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 24;
	if (disp >> 16 != MARK_MAGIC)
		return false;
	*cmd = (disp >> 8) & 0xff;
	return true;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t pc = qemu_plugin_insn_vaddr(insn);
		unsigned int cmd;

		if (pc < KERNEL_START) {
			if (armed)
				qemu_plugin_register_vcpu_insn_exec_inline(
					insn, QEMU_PLUGIN_INLINE_ADD_U64, &counters.user, 1);
			if (is_marker(insn, &cmd))
				qemu_plugin_register_vcpu_insn_exec_cb(
					insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
					(void *)(uintptr_t)cmd);
			continue;
		}
		if (!armed)
			continue;
		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
							   &pc_counter_get(pc)->count, 1);
		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
							   &counters.kernel, 1);
		if (pc >= mod_lo && pc < mod_hi)
			qemu_plugin_register_vcpu_insn_exec_inline(
				insn, QEMU_PLUGIN_INLINE_ADD_U64, &counters.module, 1);
		if (g_hash_table_contains(irq_entries, (gpointer)(uintptr_t)pc))
			qemu_plugin_register_vcpu_insn_exec_inline(
				insn, QEMU_PLUGIN_INLINE_ADD_U64, &counters.irq, 1);
	}
}

static void write_output(qemu_plugin_id_t id, void *p)
{
	FILE *f;
	guint i, j;
	char *tmp;

	if (open_window)
		error_note("window %u was never closed (END missing)", windows->len - 1);
	tmp = g_strdup_printf("%s.tmp", out_path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "icount plugin: cannot write %s\n", tmp);
		g_free(tmp);
		return;
	}
	fprintf(f, "kmodlab-icount 1\nvcpus %d\nmodrange %" PRIx64 " %" PRIx64 "\nirq_entries %u\n",
		n_vcpus, mod_lo, mod_hi, g_hash_table_size(irq_entries));
	fprintf(f, "armed %d\n", armed);
	for (i = 0; i < errors->len; i++)
		fprintf(f, "error %s\n", (char *)g_ptr_array_index(errors, i));
	fprintf(f, "totals kernel %" PRIu64 " module %" PRIu64 " user %" PRIu64 " irq %" PRIu64 "\n",
		counters.kernel, counters.module, counters.user, counters.irq);
	for (i = 0; i < windows->len; i++) {
		struct window *w = g_ptr_array_index(windows, i);
		struct totals t = totals_sub(&w->end, &w->begin);

		if (!w->closed)
			continue;
		fprintf(f,
			"window %u ops %u kernel %" PRIu64 " module %" PRIu64 " user %" PRIu64
			" irq %" PRIu64 "\n",
			i, w->ops->len, t.kernel, t.module, t.user, t.irq);
		for (j = 0; j < w->ops->len; j++) {
			struct totals *o = &g_array_index(w->ops, struct totals, j);

			fprintf(f, "op %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", o->kernel,
				o->module, o->user, o->irq);
		}
		for (j = 0; j < w->pcs->len; j++) {
			struct pc_delta *d = &g_array_index(w->pcs, struct pc_delta, j);

			fprintf(f, "pc %" PRIx64 " %" PRIu64 "\n", d->pc, d->count);
		}
		fprintf(f, "endwindow %u\n", i);
	}
	fprintf(f, "end\n");
	if (fclose(f) == 0)
		rename(tmp, out_path);
	else
		fprintf(stderr, "icount plugin: error writing %s\n", tmp);
	g_free(tmp);
}

static void register_callbacks(qemu_plugin_id_t id)
{
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
	qemu_plugin_register_atexit_cb(id, write_output, NULL);
}

static void arm(void)
{
	gchar *text = NULL, **lines;
	GError *err = NULL;
	int i;

	if (armed) {
		error_note("ARM marker executed twice");
		return;
	}
	armed = true;
	if (!irqs_path) {
		error_note("ARM: no irqs= argument: interrupts cannot be detected");
	} else if (!g_file_get_contents(irqs_path, &text, NULL, &err)) {
		error_note("ARM: %s", err->message);
		g_error_free(err);
	}
	if (!text) {
		qemu_plugin_reset(plugin_id, register_callbacks);
		return;
	}
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		char *end;
		uint64_t a = g_ascii_strtoull(lines[i], &end, 16);

		if (end != lines[i] && a >= KERNEL_START)
			g_hash_table_add(irq_entries, (gpointer)(uintptr_t)a);
	}
	g_strfreev(lines);
	g_free(text);
	/* Everything so far was translated without counters: flush every
	 * translation (reset unregisters our callbacks; we add them again).
	 * Counters live in our memory and are unaffected. */
	qemu_plugin_reset(plugin_id, register_callbacks);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	int i;

	plugin_id = id;
	for (i = 0; i < argc; i++) {
		char **kv = g_strsplit(argv[i], "=", 2);

		if (!kv[0] || !kv[1]) {
			fprintf(stderr, "icount plugin: argument '%s' is not key=value\n", argv[i]);
			g_strfreev(kv);
			return -1;
		}
		if (!strcmp(kv[0], "out"))
			out_path = g_strdup(kv[1]);
		else if (!strcmp(kv[0], "irqs"))
			irqs_path = g_strdup(kv[1]);
		else if (!strcmp(kv[0], "modlo"))
			mod_lo = g_ascii_strtoull(kv[1], NULL, 16);
		else if (!strcmp(kv[0], "modhi"))
			mod_hi = g_ascii_strtoull(kv[1], NULL, 16);
		else {
			fprintf(stderr, "icount plugin: unknown argument '%s' (out, irqs, modlo, modhi)\n",
				kv[0]);
			g_strfreev(kv);
			return -1;
		}
		g_strfreev(kv);
	}
	if (!out_path) {
		fprintf(stderr, "icount plugin: out=PATH is required\n");
		return -1;
	}
	if (!info->system_emulation) {
		fprintf(stderr, "icount plugin: needs system emulation (kernel addresses)\n");
		return -1;
	}
	n_vcpus = info->system.smp_vcpus;
	if (n_vcpus != 1)
		fprintf(stderr, "icount plugin: warning: %d vCPUs; inline counters are exact only with one (-smp 1)\n",
			n_vcpus);
	pcs = g_hash_table_new(g_direct_hash, g_direct_equal);
	irq_entries = g_hash_table_new(g_direct_hash, g_direct_equal);
	windows = g_ptr_array_new();
	errors = g_ptr_array_new();
	register_callbacks(id);
	return 0;
}
