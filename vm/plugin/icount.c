// SPDX-License-Identifier: GPL-2.0
/*
 * icount.c - QEMU TCG plugin: exact guest instruction counts, instruction
 * classes, memory accesses and simulated L1 cache misses per kernel PC, in
 * measurement windows marked by the guest program.
 *
 * Per executed guest instruction (after ARM):
 *   - inline adds (no callback, no lock): the instruction's own per-PC
 *     counter (kernel PCs), and the per-scope totals of "insn" and of the
 *     instruction's classes (icount-classify.h: conditional branch, call,
 *     indirect call/jump, atomic), scopes "kernel" (every vaddr in the upper
 *     half), "driver" (the text sections of the measured driver modules,
 *     read at ARM) and "user"; the first instruction of
 *     each asynchronous interrupt entry stub (addresses from the guest's
 *     /proc/kallsyms, see ARM) adds to an "irq" total, so that an operation
 *     hit by an interrupt can be told apart;
 *   - kernel instructions only: an instruction-fetch callback feeding the
 *     simulated L1 i-cache, only where the fetch could miss: an instruction
 *     that lies entirely in the line the previous instruction of the same
 *     translation block ended in is a certain hit that changes no LRU
 *     state, so it gets no callback;
 *   - kernel instructions only: a memory callback per data access (loads,
 *     stores, also to user buffers; MMIO accesses
 *     counted as "io" and kept out of the cache) feeding the simulated L1
 *     d-cache with the physical address.  One callback for reads and writes
 *     (QEMU_PLUGIN_MEM_RW, the kind told by qemu_plugin_mem_is_store): in
 *     QEMU 7.2 the helper path stops at the first callback whose R/W filter
 *     does not match (plugins/core.c qemu_plugin_vcpu_mem_cb), so separate R
 *     and W registrations would lose accesses.
 * Caches: one i- and one d-cache per vCPU (L1 is private to a core), each
 * SIZE bytes, WAYS-way set associative, LINE-byte lines, true LRU, no
 * prefetch, no L2, fed by kernel-mode accesses only (user code, the
 * workload's loop and everything between windows, runs without callbacks:
 * it would multiply the run time); emptied at DETAIL ON.
 *
 * The guest marks windows with a 7-byte NOP that no compiler emits:
 *     nopl 0x4b4dCCAA(%rax)   = 0f 1f 80 AA CC 4d 4b
 * "KM" in the high half of the displacement, CC a command, AA unused (0).
 * Commands (the marker's exec callback runs only when the marker executes):
 *   1 BEGIN    open a window: remember every per-PC counter and the totals
 *   2 OP       one operation done: log the totals' increase since the last
 *              BEGIN/OP (one record per operation)
 *   3 END      close the window: keep the per-PC increase of every PC
 *   5 DETAIL ON / 6 DETAIL OFF   the fetch and memory callbacks act or
 *              return at once (set_detail(): the guest program turns them
 *              on for its own lifetime only; caches emptied at ON)
 *   4 ARM      read the interrupt entry addresses (irqs=PATH), the
 *              retpoline thunk ranges (thunks=PATH) the guest wrote from
 *              /proc/kallsyms and the driver modules' text ranges
 *              (drivers=PATH), start counting, and flush the translation
 *              cache (qemu_plugin_reset) so that everything is translated
 *              again with the instrumentation.  Until ARM nothing is
 *              counted: the boot and the module loading run at full speed.
 *
 * Arguments (-plugin file=libicount.so,out=PATH[,irqs=PATH][,thunks=PATH]
 *            [,drivers=PATH][,l1size=B,l1ways=N,l1line=B]):
 *   out     where the result goes at QEMU exit (text, format below)
 *   irqs    file of hexadecimal addresses, one per line (read on ARM)
 *   thunks  file of "LO HI" hexadecimal ranges, one per line (read on ARM)
 *   drivers file of "LO HI" hexadecimal ranges [LO, HI), one per line (read
 *           on ARM): the executable sections of the driver modules, the
 *           "driver" scope.  Not the whole module area: other code lives
 *           there too (other modules, BPF JIT images, ftrace and static-call
 *           trampolines, 6.12's execmem thunk pages)
 *   l1size, l1ways, l1line  cache geometry (default 32768, 8, 64)
 *
 * Output (line based, version 3; vm/plugin/README.md documents it):
 *   kmodlab-icount 3
 *   vcpus N
 *   driver_ranges N                       (text ranges of the "driver" scope read at ARM)
 *   irq_entries N
 *   thunks N
 *   truncated_skipped N                   (page-crossing leftovers, never run, not recorded)
 *   length_errors N                       (decoded length != QEMU's; also as error lines)
 *   cache l1i SIZE WAYS LINE lru          (and the same for l1d)
 *   fields F...                           (per-scope fields, in order)
 *   scopes kernel driver user
 *   armed 0|1
 *   error TEXT                            (zero or more)
 *   totals V... irq I                     (from ARM to exit: scopes x fields)
 *   window IDX ops N
 *   wtotals V... irq I                    (the window's increase)
 *   op V... irq I                         (N lines: one per operation)
 *   pc ADDR COUNT LOADS STORES IO L1I_MISS L1D_MISS   (non-zero PCs; all but
 *                                         COUNT over the ops no interrupt hit)
 *   endwindow IDX
 *   insn ADDR SIZE CLASSES HEXBYTES                  (every PC of a window)
 *   end
 *
 * Inline ops and the callbacks' counters are not atomic: with more than one
 * vCPU the counts would race.  The plugin records the vCPU count and the
 * host tools refuse runs with more than one.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "icount-classify.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define KERNEL_START 0xffff800000000000ULL
#define MARK_MAGIC 0x4b4dU
#define MARK_BEGIN 1
#define MARK_OP 2
#define MARK_END 3
#define MARK_ARM 4
#define MARK_DETAIL_ON 5
#define MARK_DETAIL_OFF 6
#define MAX_INSN 16

enum field { F_INSN, F_LOADS, F_STORES, F_ATOMICS, F_BRANCHES, F_INDIRECT, F_CALLS, F_IO,
	     F_L1I_MISS, F_L1D_MISS, NFIELD };
static const char *const field_names[NFIELD] = { "insn",     "loads", "stores",   "atomics",
						 "branches", "indirect", "calls", "io",
						 "l1i_miss", "l1d_miss" };
enum scope { S_KERNEL, S_DRIVER, S_USER, NSCOPE };

/* per-PC counters */
enum pcfield { P_COUNT, P_LOADS, P_STORES, P_IO, P_L1I, P_L1D, NPCF };

struct totals {
	uint64_t v[NSCOPE][NFIELD];
	uint64_t irq;
};

struct pc_info {
	uint64_t n[NPCF];
	uint64_t start[NPCF]; /* n at the open window's BEGIN */
	uint64_t pend[NPCF]; /* callback events of the current operation, see pend_add() */
	uint64_t pc, line0, line1; /* i-cache lines of the first and last byte */
	unsigned int cls;
	uint8_t size, kernel, driver, in_window, changed, pending;
	uint8_t bytes[MAX_INSN];
};

struct window {
	struct totals begin, last, end;
	GArray *ops; /* struct totals: increase per operation */
	GArray *pcs; /* struct pc_delta, sorted by address */
	gboolean closed;
};

struct pc_delta {
	uint64_t pc, n[NPCF];
};

struct cache {
	unsigned int sets, ways, line_shift;
	uint64_t *lines; /* sets x ways line numbers, way 0 most recently used */
};

struct range {
	uint64_t lo, hi;
};

static qemu_plugin_id_t plugin_id;
static struct totals counters;
static GHashTable *pcs;	       /* kernel vaddr -> struct pc_info* */
static GPtrArray *pending;     /* struct pc_info* with callback events not yet committed */
static GHashTable *irq_entries; /* vaddr set */
static GArray *thunks;	       /* struct range */
static GArray *drivers;	       /* struct range: the driver modules' text */
static GPtrArray *windows;
static struct window *open_window;
static GPtrArray *errors;
static char *out_path, *irqs_path, *thunks_path, *drivers_path;
static unsigned int l1_size = 32768, l1_ways = 8, l1_line = 64;
static struct cache *icache, *dcache; /* one per vCPU */
static int n_vcpus, max_vcpus;
static bool armed;
static bool detail; /* between DETAIL ON and OFF: fetch and memory callbacks act */
static uint64_t truncated_skipped, length_errors; /* translations, see insn_complete() */

static void error_note(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void error_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(errors, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* ---- the simulated caches ---------------------------------------------- */

static void cache_clear(struct cache *c)
{
	memset(c->lines, 0xff, sizeof(uint64_t) * c->sets * c->ways); /* all invalid */
}

static void cache_init(struct cache *c)
{
	c->ways = l1_ways;
	c->sets = l1_size / (l1_ways * l1_line);
	c->line_shift = __builtin_ctz(l1_line);
	c->lines = g_new(uint64_t, (size_t)c->sets * c->ways);
	cache_clear(c);
}

/* Access one line (address >> line_shift); 1 on a miss.  True LRU by keeping
 * each set ordered from most to least recently used. */
static unsigned int cache_line(struct cache *c, uint64_t line)
{
	uint64_t *set = c->lines + (size_t)(line & (c->sets - 1)) * c->ways;
	unsigned int w;

	for (w = 0; w < c->ways; w++) {
		if (set[w] == line) {
			memmove(set + 1, set, w * sizeof(*set));
			set[0] = line;
			return 0;
		}
	}
	memmove(set + 1, set, (c->ways - 1) * sizeof(*set));
	set[0] = line;
	return 1;
}

static unsigned int cache_access(struct cache *c, uint64_t addr, unsigned int size)
{
	uint64_t first = addr >> c->line_shift, last = (addr + size - 1) >> c->line_shift;
	unsigned int miss = cache_line(c, first);

	if (last != first)
		miss += cache_line(c, last);
	return miss;
}

/* ---- callbacks at execution --------------------------------------------- */

static inline void bump(const struct pc_info *p, enum field f, uint64_t n)
{
	if (p->kernel) {
		counters.v[S_KERNEL][f] += n;
		if (p->driver)
			counters.v[S_DRIVER][f] += n;
	} else {
		counters.v[S_USER][f] += n;
	}
}

/*
 * Per-PC callback events (loads, stores, MMIO, misses) wait for the end of
 * the operation: an operation an interrupt hit gets them dropped.  QEMU 7.2
 * makes an interrupt's frame pushes and its iret's pops through the
 * memory-callback array of whatever instruction set it last (a helper
 * instruction leaves it set when it exits early), so they would be
 * attributed to that instruction, e.g. five loads and stores more on the
 * driver's "call ioread8" in the one operation a timer tick hit.  The
 * per-op scope totals keep every event (the report uses their undisturbed
 * operations).  Outside windows everything is kept.
 */
static inline void pend_add(struct pc_info *p, enum pcfield f, uint64_t n)
{
	if (!p->pending) {
		p->pending = 1;
		g_ptr_array_add(pending, p);
	}
	p->pend[f] += n;
}

static void pend_commit(bool keep)
{
	guint i;
	int f;

	for (i = 0; i < pending->len; i++) {
		struct pc_info *p = g_ptr_array_index(pending, i);

		for (f = 0; f < NPCF; f++) {
			if (keep)
				p->n[f] += p->pend[f];
			p->pend[f] = 0;
		}
		p->pending = 0;
	}
	g_ptr_array_set_size(pending, 0);
}

static void on_fetch(unsigned int vcpu, void *udata)
{
	struct pc_info *p = udata;
	unsigned int miss;

	if (!detail)
		return;
	miss = cache_line(&icache[vcpu], p->line0);
	if (p->line1 != p->line0)
		miss += cache_line(&icache[vcpu], p->line1);
	if (miss) {
		pend_add(p, P_L1I, miss);
		bump(p, F_L1I_MISS, miss);
	}
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	struct pc_info *p = udata;
	struct qemu_plugin_hwaddr *hw;
	bool store;
	unsigned int miss;

	if (!detail)
		return;
	hw = qemu_plugin_get_hwaddr(info, vaddr);
	store = qemu_plugin_mem_is_store(info);
	pend_add(p, store ? P_STORES : P_LOADS, 1);
	bump(p, store ? F_STORES : F_LOADS, 1);
	if (hw && qemu_plugin_hwaddr_is_io(hw)) {
		/* MMIO is uncacheable: counted, never cached */
		pend_add(p, P_IO, 1);
		bump(p, F_IO, 1);
		return;
	}
	miss = cache_access(&dcache[vcpu], hw ? qemu_plugin_hwaddr_phys_addr(hw) : vaddr,
			    1u << qemu_plugin_mem_size_shift(info));
	if (miss) {
		pend_add(p, P_L1D, miss);
		bump(p, F_L1D_MISS, miss);
	}
}

/* ---- windows ------------------------------------------------------------ */

static struct totals totals_sub(const struct totals *a, const struct totals *b)
{
	struct totals d;
	int s, f;

	for (s = 0; s < NSCOPE; s++)
		for (f = 0; f < NFIELD; f++)
			d.v[s][f] = a->v[s][f] - b->v[s][f];
	d.irq = a->irq - b->irq;
	return d;
}

static gint pc_delta_cmp(gconstpointer a, gconstpointer b)
{
	const struct pc_delta *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static void window_begin(void)
{
	GHashTableIter it;
	gpointer key, val;

	if (open_window) {
		error_note("BEGIN inside open window %u", windows->len - 1);
		return;
	}
	if (!detail)
		error_note("window %u opened without DETAIL ON: no memory or cache figures",
			   windows->len);
	pend_commit(true); /* set-up and warm-up: before the window */
	open_window = g_new0(struct window, 1);
	open_window->ops = g_array_new(FALSE, FALSE, sizeof(struct totals));
	open_window->pcs = g_array_new(FALSE, FALSE, sizeof(struct pc_delta));
	g_ptr_array_add(windows, open_window);
	g_hash_table_iter_init(&it, pcs);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct pc_info *p = val;

		memcpy(p->start, p->n, sizeof(p->start));
	}
	open_window->begin = open_window->last = counters;
}

static void window_end(void)
{
	GHashTableIter it;
	gpointer key, val;
	int f;

	if (!open_window) {
		error_note("END outside a window");
		return;
	}
	open_window->end = counters;
	pend_commit(true); /* nothing runs between the last OP and END */
	g_hash_table_iter_init(&it, pcs);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct pc_info *p = val;
		struct pc_delta d = { .pc = p->pc };
		uint64_t any = 0;

		/* start is 0 for PCs created inside the window */
		for (f = 0; f < NPCF; f++)
			any |= d.n[f] = p->n[f] - p->start[f];
		if (any) {
			g_array_append_val(open_window->pcs, d);
			p->in_window = 1;
		}
	}
	g_array_sort(open_window->pcs, pc_delta_cmp);
	open_window->closed = TRUE;
	open_window = NULL;
}

static void arm(void);
static void set_detail(bool on);

static void on_marker(unsigned int vcpu, void *udata)
{
	unsigned int cmd = (unsigned int)(uintptr_t)udata;
	struct totals d;

	switch (cmd) {
	case MARK_BEGIN:
		window_begin();
		break;
	case MARK_OP:
		if (!open_window) {
			error_note("OP outside a window");
			return;
		}
		d = totals_sub(&counters, &open_window->last);
		g_array_append_val(open_window->ops, d);
		open_window->last = counters;
		pend_commit(d.irq == 0);
		break;
	case MARK_END:
		window_end();
		break;
	case MARK_ARM:
		arm();
		break;
	case MARK_DETAIL_ON:
	case MARK_DETAIL_OFF:
		set_detail(cmd == MARK_DETAIL_ON);
		break;
	default:
		error_note("unknown marker command %u", cmd);
	}
}

/* ---- translation -------------------------------------------------------- */

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

static int in_ranges(const GArray *ranges, uint64_t addr)
{
	guint i;

	for (i = 0; i < ranges->len; i++) {
		const struct range *r = &g_array_index(ranges, struct range, i);

		if (addr >= r->lo && addr < r->hi)
			return 1;
	}
	return 0;
}

static int in_thunk(uint64_t addr)
{
	return in_ranges(thunks, addr);
}

/* The instruction's bytes, classes and lines.  A kernel PC keeps what it had
 * at its first translation; different bytes later (code patched while
 * counting) would make its classes wrong, so that is reported. */
static void pc_info_fill(struct pc_info *p, struct qemu_plugin_insn *insn)
{
	size_t n = qemu_plugin_insn_size(insn);
	const uint8_t *b = qemu_plugin_insn_data(insn);

	if (n > MAX_INSN)
		n = MAX_INSN;
	if (p->size) {
		if ((p->size != n || memcmp(p->bytes, b, n)) && !p->changed) {
			GString *g = g_string_new(NULL);
			size_t k;

			for (k = 0; k < p->size; k++)
				g_string_append_printf(g, "%02x", p->bytes[k]);
			g_string_append(g, " now ");
			for (k = 0; k < n; k++)
				g_string_append_printf(g, "%02x", b[k]);
			p->changed = 1;
			error_note("code at %" PRIx64 " changed while counting: %s", p->pc, g->str);
			g_string_free(g, TRUE);
		}
		return;
	}
	p->size = n;
	memcpy(p->bytes, b, n);
	p->cls = icls_classify(b, n, p->pc, p->kernel ? in_thunk : NULL);
	p->line0 = p->pc >> __builtin_ctz(l1_line);
	p->line1 = (p->pc + n - 1) >> __builtin_ctz(l1_line);
}

/* Kernel PCs: one record per address, for the whole run. */
static struct pc_info *pc_info_get(uint64_t pc)
{
	struct pc_info *p = g_hash_table_lookup(pcs, (gpointer)(uintptr_t)pc);

	if (!p) {
		p = g_new0(struct pc_info, 1);
		p->pc = pc;
		p->kernel = 1;
		p->driver = in_ranges(drivers, pc);
		g_hash_table_insert(pcs, (gpointer)(uintptr_t)pc, p);
	}
	return p;
}

static void add_inline(struct qemu_plugin_insn *insn, uint64_t *ctr)
{
	qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, ctr, 1);
}

/* Inline adds for the instruction and its classes, in each scope it counts in. */
static void instrument_counts(struct qemu_plugin_insn *insn, const struct pc_info *p)
{
	static const unsigned int cls_field[][2] = { { ICLS_BRANCH, F_BRANCHES },
						   { ICLS_CALL, F_CALLS },
						   { ICLS_INDIRECT, F_INDIRECT },
						   { ICLS_ATOMIC, F_ATOMICS } };
	int scope[2], ns = 0, s, c;

	if (p->kernel) {
		add_inline(insn, (uint64_t *)&p->n[P_COUNT]);
		scope[ns++] = S_KERNEL;
		if (p->driver)
			scope[ns++] = S_DRIVER;
		if (g_hash_table_contains(irq_entries, (gpointer)(uintptr_t)p->pc))
			add_inline(insn, &counters.irq);
	} else {
		scope[ns++] = S_USER;
	}
	for (s = 0; s < ns; s++) {
		add_inline(insn, &counters.v[scope[s]][F_INSN]);
		for (c = 0; c < (int)G_N_ELEMENTS(cls_field); c++)
			if (p->cls & cls_field[c][0])
				add_inline(insn, &counters.v[scope[s]][cls_field[c][1]]);
	}
}

/* False for the truncated instruction QEMU 7.2 shows at the end of a block
 * whose next instruction crosses a page (icls_length() explains): it never
 * runs there (QEMU removed its code) but whole at the start of the next
 * block, where it is recorded and counted.  A length that disagrees
 * anywhere else is the decoder's gap: reported. */
static bool insn_complete(struct qemu_plugin_insn *insn, size_t idx, size_t n)
{
	size_t size = qemu_plugin_insn_size(insn);
	int len = icls_length(qemu_plugin_insn_data(insn), size);

	if (len == (int)size)
		return true;
	if (len < 0 && idx == n - 1 && n > 1) {
		truncated_skipped++;
		return false;
	}
	if (length_errors++ < 10)
		error_note("instruction at %" PRIx64 ": decoded length %d, QEMU says %zu",
			   qemu_plugin_insn_vaddr(insn), len, size);
	return true;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	uint64_t prev_line = UINT64_MAX;

	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t pc = qemu_plugin_insn_vaddr(insn);
		struct pc_info *p = NULL;
		unsigned int cmd;

		if (armed && !insn_complete(insn, i, n))
			continue;
		if (armed && pc < KERNEL_START) {
			/* user code: inline counts and classes only (processes
			 * reuse addresses: no per-PC record) */
			struct pc_info u = { .pc = pc };

			pc_info_fill(&u, insn);
			instrument_counts(insn, &u);
		} else if (armed) {
			p = pc_info_get(pc);
			pc_info_fill(p, insn);
			instrument_counts(insn, p);
			/* Within a block instructions run in order: one that lies
			 * wholly in the line the previous one ended in is a
			 * certain hit. */
			if (!(p->line0 == p->line1 && p->line0 == prev_line))
				qemu_plugin_register_vcpu_insn_exec_cb(insn, on_fetch,
								       QEMU_PLUGIN_CB_NO_REGS, p);
			prev_line = p->line1;
			qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, p);
		}
		/* after the counters: the marker's own instruction belongs to the
		 * operation it closes */
		if (pc < KERNEL_START && is_marker(insn, &cmd))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)cmd);
	}
}

/* ---- output ------------------------------------------------------------- */

static void print_totals(FILE *f, const char *tag, const struct totals *t)
{
	int s, k;

	fputs(tag, f);
	for (s = 0; s < NSCOPE; s++)
		for (k = 0; k < NFIELD; k++)
			fprintf(f, " %" PRIu64, t->v[s][k]);
	fprintf(f, " irq %" PRIu64 "\n", t->irq);
}

static void print_window(FILE *f, guint idx, const struct window *w)
{
	struct totals t = totals_sub(&w->end, &w->begin);
	guint j;
	int k;

	fprintf(f, "window %u ops %u\n", idx, w->ops->len);
	print_totals(f, "wtotals", &t);
	for (j = 0; j < w->ops->len; j++)
		print_totals(f, "op", &g_array_index(w->ops, struct totals, j));
	for (j = 0; j < w->pcs->len; j++) {
		const struct pc_delta *d = &g_array_index(w->pcs, struct pc_delta, j);

		fprintf(f, "pc %" PRIx64, d->pc);
		for (k = 0; k < NPCF; k++)
			fprintf(f, " %" PRIu64, d->n[k]);
		fputc('\n', f);
	}
	fprintf(f, "endwindow %u\n", idx);
}

static gint pc_info_cmp(gconstpointer a, gconstpointer b)
{
	const struct pc_info *x = *(struct pc_info *const *)a, *y = *(struct pc_info *const *)b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* The static facts of every PC a window counted: size, classes, bytes (the
 * host disassembles them: our QEMU is built without capstone, and
 * qemu_plugin_insn_disas returns nothing there). */
static void print_insns(FILE *f)
{
	GPtrArray *seen = g_ptr_array_new();
	GHashTableIter it;
	gpointer key, val;
	guint i, k;

	g_hash_table_iter_init(&it, pcs);
	while (g_hash_table_iter_next(&it, &key, &val))
		if (((struct pc_info *)val)->in_window)
			g_ptr_array_add(seen, val);
	g_ptr_array_sort(seen, pc_info_cmp);
	for (i = 0; i < seen->len; i++) {
		const struct pc_info *p = g_ptr_array_index(seen, i);

		fprintf(f, "insn %" PRIx64 " %u %u ", p->pc, p->size, p->cls);
		for (k = 0; k < p->size; k++)
			fprintf(f, "%02x", p->bytes[k]);
		fputc('\n', f);
	}
	g_ptr_array_free(seen, TRUE);
}

static void write_header(FILE *f)
{
	int k;

	fprintf(f, "kmodlab-icount 3\nvcpus %d\ndriver_ranges %u\n", n_vcpus, drivers->len);
	fprintf(f, "irq_entries %u\nthunks %u\n", g_hash_table_size(irq_entries), thunks->len);
	fprintf(f, "truncated_skipped %" PRIu64 "\nlength_errors %" PRIu64 "\n", truncated_skipped,
		length_errors);
	fprintf(f, "cache l1i %u %u %u lru\ncache l1d %u %u %u lru\n", l1_size, l1_ways, l1_line,
		l1_size, l1_ways, l1_line);
	fputs("fields", f);
	for (k = 0; k < NFIELD; k++)
		fprintf(f, " %s", field_names[k]);
	fputs("\nscopes kernel driver user\n", f);
	fprintf(f, "armed %d\n", armed);
}

static void write_output(qemu_plugin_id_t id, void *unused)
{
	FILE *f;
	guint i;
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
	write_header(f);
	for (i = 0; i < errors->len; i++)
		fprintf(f, "error %s\n", (char *)g_ptr_array_index(errors, i));
	print_totals(f, "totals", &counters);
	for (i = 0; i < windows->len; i++) {
		struct window *w = g_ptr_array_index(windows, i);

		if (w->closed)
			print_window(f, i, w);
	}
	print_insns(f);
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

/* ---- ARM: start counting ------------------------------------------------ */

/* Lines of one or two hexadecimal numbers; NULL (and an error noted) when the
 * file cannot be read. */
static gchar **read_hex_lines(const char *what, const char *path)
{
	gchar *text = NULL, **lines;
	GError *err = NULL;

	if (!path) {
		error_note("ARM: no %s= argument", what);
		return NULL;
	}
	if (!g_file_get_contents(path, &text, NULL, &err)) {
		error_note("ARM: %s", err->message);
		g_error_free(err);
		return NULL;
	}
	lines = g_strsplit(text, "\n", -1);
	g_free(text);
	return lines;
}

/* A file of "LO HI" kernel ranges into a; a malformed line is an error. */
static void read_ranges(const char *what, const char *path, GArray *a)
{
	gchar **lines = read_hex_lines(what, path);
	int i;

	for (i = 0; lines && lines[i]; i++) {
		char *end, *end2;
		struct range r;

		if (!*g_strstrip(lines[i]))
			continue;
		r.lo = g_ascii_strtoull(lines[i], &end, 16);
		r.hi = g_ascii_strtoull(end, &end2, 16);
		if (end != lines[i] && end2 != end && r.lo >= KERNEL_START && r.hi > r.lo)
			g_array_append_val(a, r);
		else
			error_note("ARM: %s line %d is not a kernel range 'LO HI': %s", what, i + 1,
				   lines[i]);
	}
	g_strfreev(lines);
}

static void arm(void)
{
	gchar **lines;
	int i;

	if (armed) {
		error_note("ARM marker executed twice");
		return;
	}
	armed = true;
	lines = read_hex_lines("irqs", irqs_path);
	for (i = 0; lines && lines[i]; i++) {
		char *end;
		uint64_t a = g_ascii_strtoull(lines[i], &end, 16);

		if (end != lines[i] && a >= KERNEL_START)
			g_hash_table_add(irq_entries, (gpointer)(uintptr_t)a);
	}
	g_strfreev(lines);
	read_ranges("thunks", thunks_path, thunks);
	read_ranges("drivers", drivers_path, drivers);
	/* Everything so far was translated without instrumentation: flush every
	 * translation (reset unregisters our callbacks; we add them again).
	 * Counters live in our memory and are unaffected. */
	qemu_plugin_reset(plugin_id, register_callbacks);
}

/* DETAIL ON: the fetch and memory callbacks act from now on, caches
 * emptied, so that each window's cache state comes from its own process's
 * set-up and warm-up alone.  DETAIL OFF: they return at once (between
 * windows: shells, exec).  Only a flag, never a translation flush: QEMU 7.2
 * frees its memory-callback arrays on every flush while a vCPU may still
 * point at one (cpu->plugin_mem_cbs stays set when an instruction leaves
 * through an exception), and the next helper access then reads freed
 * memory (seen: "qemu_plugin_vcpu_mem_cb: code should not be reached"). */
static void set_detail(bool on)
{
	int i;

	if (!armed) {
		error_note("DETAIL marker before ARM");
		return;
	}
	if (on == detail) {
		error_note("DETAIL %s twice", on ? "ON" : "OFF");
		return;
	}
	detail = on;
	if (on)
		for (i = 0; i < max_vcpus; i++) {
			cache_clear(&icache[i]);
			cache_clear(&dcache[i]);
		}
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		char **kv = g_strsplit(argv[i], "=", 2);
		int bad = !kv[0] || !kv[1];

		if (bad)
			fprintf(stderr, "icount plugin: argument '%s' is not key=value\n", argv[i]);
		else if (!strcmp(kv[0], "out"))
			out_path = g_strdup(kv[1]);
		else if (!strcmp(kv[0], "irqs"))
			irqs_path = g_strdup(kv[1]);
		else if (!strcmp(kv[0], "thunks"))
			thunks_path = g_strdup(kv[1]);
		else if (!strcmp(kv[0], "drivers"))
			drivers_path = g_strdup(kv[1]);
		else if (!strcmp(kv[0], "l1size"))
			l1_size = strtoul(kv[1], NULL, 0);
		else if (!strcmp(kv[0], "l1ways"))
			l1_ways = strtoul(kv[1], NULL, 0);
		else if (!strcmp(kv[0], "l1line"))
			l1_line = strtoul(kv[1], NULL, 0);
		else {
			fprintf(stderr, "icount plugin: unknown argument '%s' (out, irqs, thunks, drivers, l1size, l1ways, l1line)\n",
				kv[0]);
			bad = 1;
		}
		g_strfreev(kv);
		if (bad)
			return -1;
	}
	return 0;
}

static int check_geometry(void)
{
	unsigned int sets;

	if (!l1_line || (l1_line & (l1_line - 1)) || !l1_ways || l1_size % (l1_ways * l1_line)) {
		fprintf(stderr, "icount plugin: l1line must be a power of two and l1size a multiple of l1ways*l1line\n");
		return -1;
	}
	sets = l1_size / (l1_ways * l1_line);
	if (sets & (sets - 1)) {
		fprintf(stderr, "icount plugin: l1size/(l1ways*l1line) = %u sets: must be a power of two\n", sets);
		return -1;
	}
	return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	int i;

	plugin_id = id;
	if (parse_args(argc, argv) || check_geometry())
		return -1;
	if (!out_path) {
		fprintf(stderr, "icount plugin: out=PATH is required\n");
		return -1;
	}
	if (!info->system_emulation) {
		fprintf(stderr, "icount plugin: needs system emulation (kernel addresses)\n");
		return -1;
	}
	n_vcpus = info->system.smp_vcpus;
	max_vcpus = info->system.max_vcpus > n_vcpus ? info->system.max_vcpus : n_vcpus;
	if (n_vcpus != 1)
		fprintf(stderr, "icount plugin: warning: %d vCPUs; inline counters are exact only with one (-smp 1)\n",
			n_vcpus);
	icache = g_new0(struct cache, max_vcpus);
	dcache = g_new0(struct cache, max_vcpus);
	for (i = 0; i < max_vcpus; i++) {
		cache_init(&icache[i]);
		cache_init(&dcache[i]);
	}
	pcs = g_hash_table_new(g_direct_hash, g_direct_equal);
	pending = g_ptr_array_new();
	irq_entries = g_hash_table_new(g_direct_hash, g_direct_equal);
	thunks = g_array_new(FALSE, FALSE, sizeof(struct range));
	drivers = g_array_new(FALSE, FALSE, sizeof(struct range));
	windows = g_ptr_array_new();
	errors = g_ptr_array_new();
	register_callbacks(id);
	return 0;
}
