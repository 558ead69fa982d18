// maps.cpp - reading the BPF maps back into a Report (per-CPU values summed,
// min and max combined per CPU, histograms decoded with the layout the
// programs count in), and clearing them.
#include "session_impl.hpp"

#include <sys/sysmacros.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kmodlab/histogram.hpp"

namespace kmodlab::bpf {

namespace {

const char *const kDropNames[KDROP_COUNT] = {"inflight_full", "stale_exit", "lock_wait_full",
					     "lock_table_full", "func_start_full",
					     "spin_depth", "no_preempt_count"};

// The programs' bucket layout (bpf/hist.h) as kmodlab's histogram template
// sees it: decoding with it is decoding with the programs' own arithmetic.
using BpfLayout = kmodlab::LogLinearHistogram<HIST_SUB_BITS, HIST_MAX_POW>;
static_assert(BpfLayout::NBUCKETS == HIST_NBUCKETS, "BPF maps and decoder disagree on the bucket count");


std::string errno_name(unsigned e)
{
	if (e >= ERRNO_SLOTS - 1)
		return fmt("E>=%u", ERRNO_SLOTS - 1);
	const char *n = strerrorname_np(int(e));
	return n ? n : fmt("E%u", e);
}

std::string lock_kind(uint64_t flags)
{
	if (flags & LCB_F_MUTEX)
		return flags & LCB_F_RT ? "rt-mutex" : "mutex";
	if (flags & LCB_F_PERCPU)
		return flags & LCB_F_WRITE ? "percpu-rwsem-write" : "percpu-rwsem-read";
	if (flags & LCB_F_SPIN)
		return flags & LCB_F_READ ? "rwlock-read" : flags & LCB_F_WRITE ? "rwlock-write" : "spinlock";
	if (flags & LCB_F_READ)
		return "rwsem-read";
	if (flags & LCB_F_WRITE)
		return "rwsem-write";
	return flags == 0 ? "semaphore" : fmt("flags-0x%llx", (unsigned long long)flags);
}

} // namespace

bool read_percpu(int fd, const void *key, size_t value_size, int ncpu, std::vector<uint64_t> *sum)
{
	size_t words = (value_size + 7) / 8;
	std::vector<uint64_t> buf(words * ncpu);
	if (bpf_map_lookup_elem(fd, key, buf.data()))
		return false;
	sum->assign(words, 0);
	for (int c = 0; c < ncpu; c++)
		for (size_t w = 0; w < words; w++)
			(*sum)[w] += buf[c * words + w];
	return true;
}

void percpu_minmax(int fd, const void *key, size_t value_size, int ncpu, size_t count_w, size_t min_w,
		   size_t max_w, uint64_t *mn, uint64_t *mx)
{
	size_t words = (value_size + 7) / 8;
	std::vector<uint64_t> buf(words * ncpu);
	*mn = 0;
	*mx = 0;
	if (bpf_map_lookup_elem(fd, key, buf.data()))
		return;
	bool any = false;
	for (int c = 0; c < ncpu; c++) {
		const uint64_t *v = &buf[c * words];
		if (!v[count_w])
			continue;
		if (!any || v[min_w] < *mn)
			*mn = v[min_w];
		*mx = std::max(*mx, v[max_w]);
		any = true;
	}
}
void zero_percpu_array(int fd, uint32_t n, size_t value_size, int ncpu)
{
	std::vector<uint64_t> zero((value_size + 7) / 8 * ncpu, 0);
	for (uint32_t i = 0; i < n; i++)
		bpf_map_update_elem(fd, &i, zero.data(), BPF_ANY);
}

Histogram make_hist(const __u64 *slots, uint64_t count, uint64_t sum, uint64_t min, uint64_t max)
{
	Histogram h;
	h.count = count;
	h.sum_ns = sum;
	h.min_ns = min;
	h.max_ns = max;
	for (uint32_t i = 0; i < HIST_NBUCKETS; i++)
		if (slots[i])
			h.buckets.push_back({BpfLayout::lower(i), BpfLayout::upper(i), slots[i]});
	return h;
}

// The fields an OpStat and a WakeStat share, from one slot of a per-CPU
// histogram map (count, sum_ns, min_ns, max_ns leading, then slots).
template <class Stat, class Raw, class Dev>
Stat slot_stat(int fd, uint32_t slot, int ncpu, const Dev &dev, uint32_t op, const Raw *h)
{
	static_assert(offsetof(Raw, count) == 0 && offsetof(Raw, min_ns) == 16 && offsetof(Raw, max_ns) == 24);
	uint64_t mn, mx;
	percpu_minmax(fd, &slot, sizeof(Raw), ncpu, 0, 2, 3, &mn, &mx);
	Stat s;
	s.device = dev.name;
	s.major = major(dev.rdev);
	s.minor = minor(dev.rdev);
	s.op = kOpNames[op];
	s.hist = make_hist(h->slots, h->count, h->sum_ns, mn, mx);
	return s;
}

// One OpStat per (device, op) that saw a call.
void SessionImpl::read_opslat(Report *r) const
{
	std::vector<uint64_t> v;
	if (ops_ && opts_.opslat) {
		int fd = bpf_map__fd(ops_->maps.hists);
		for (uint32_t d = 0; d < devs_.size(); d++)
			for (uint32_t op = 0; op < KOP_COUNT; op++) {
				uint32_t slot = OPSLAT_SLOT(d, op);
				if (!read_percpu(fd, &slot, sizeof(opslat_hist), ncpu_, &v) || v[0] == 0)
					continue;
				const auto *h = reinterpret_cast<const opslat_hist *>(v.data());
				auto s = slot_stat<OpStat>(fd, slot, ncpu_, devs_[d], op, h);
				for (unsigned e = 1; e < ERRNO_SLOTS; e++)
					if (h->errors[e])
						s.errors[errno_name(e)] += h->errors[e];
				r->opslat.push_back(std::move(s));
			}
	}
}

// One WakeStat per (device, op) that slept or was woken.
void SessionImpl::read_wakelat(Report *r) const
{
	std::vector<uint64_t> v;
	if (!wk_)
		return;
	r->wakeup_traced = true;
	int fd = bpf_map__fd(wk_->maps.wakes);
	for (uint32_t d = 0; d < devs_.size(); d++)
		for (uint32_t op = 0; op < KOP_COUNT; op++) {
			uint32_t slot = OPSLAT_SLOT(d, op);
			if (!read_percpu(fd, &slot, sizeof(wakelat_hist), ncpu_, &v))
				continue;
			const auto *h = reinterpret_cast<const wakelat_hist *>(v.data());
			if (!h->count && !h->sleeps && !h->woke_running)
				continue;
			auto s = slot_stat<WakeStat>(fd, slot, ncpu_, devs_[d], op, h);
			s.sleeps = h->sleeps;
			s.woke_running = h->woke_running;
			r->wakeup.push_back(std::move(s));
		}
}

// One LockStat per (lock, device, op, context), the longest total wait first.
void SessionImpl::read_lockstat(Report *r) const
{
	std::vector<uint64_t> v;
	if (lk_) {
		int fd = bpf_map__fd(lk_->maps.locks);
		lock_key k, next;
		bool first = true;
		while (bpf_map_get_next_key(fd, first ? nullptr : &k, &next) == 0) {
			first = false;
			k = next;
			if (!read_percpu(fd, &k, sizeof(lock_stat), ncpu_, &v))
				continue;
			const auto *s = reinterpret_cast<const lock_stat *>(v.data());
			uint64_t mn, mx;
			percpu_minmax(fd, &k, sizeof(lock_stat), ncpu_, 0, 0, 2, &mn, &mx);
			// Flags were OR-ed per CPU, the sum above mangles them.
			std::vector<uint64_t> raw((sizeof(lock_stat) + 7) / 8 * ncpu_);
			uint64_t flags = 0;
			if (bpf_map_lookup_elem(fd, &k, raw.data()) == 0)
				for (int c = 0; c < ncpu_; c++)
					flags |= raw[c * ((sizeof(lock_stat) + 7) / 8) + 3];
			LockStat l;
			l.lock = ksyms_.lock_name(k.lock, salt_);
			l.kind = lock_kind(flags);
			l.context = k.ctx == LCTX_IRQ ? "irq" : "task";
			l.device = k.dev_idx < devs_.size() ? devs_[k.dev_idx].name : "?";
			l.op = k.op < KOP_COUNT ? kOpNames[k.op] : "?";
			l.count = s->count;
			l.total_ns = s->total_ns;
			l.max_ns = mx;
			// Minimum is not kept per lock; the histogram's first bucket bounds it.
			l.hist = make_hist(s->slots, s->count, s->total_ns, 0, mx);
			if (!l.hist.buckets.empty())
				l.hist.min_ns = l.hist.buckets.front().lo;
			r->lockstat.push_back(std::move(l));
		}
		std::sort(r->lockstat.begin(), r->lockstat.end(),
			  [](const LockStat &a, const LockStat &b) { return a.total_ns > b.total_ns; });
	}
}

// One FuncStat per traced driver function that ran.
void SessionImpl::read_funclat(Report *r) const
{
	std::vector<uint64_t> v;
	if (fn_) {
		int fd = bpf_map__fd(fn_->maps.funcs);
		for (uint32_t i = 0; i < funcs_.size(); i++) {
			if (!read_percpu(fd, &i, sizeof(func_hist), ncpu_, &v) || v[0] == 0)
				continue;
			const auto *h = reinterpret_cast<const func_hist *>(v.data());
			uint64_t mn, mx;
			percpu_minmax(fd, &i, sizeof(func_hist), ncpu_, 0, 2, 3, &mn, &mx);
			r->funclat.push_back({funcs_[i].name, funcs_[i].module,
					     make_hist(h->slots, h->count, h->sum_ns, mn, mx)});
		}
	}
}

// Drops: each object has its own per-CPU counter array.
void SessionImpl::read_drops(Report *r) const
{
	std::vector<uint64_t> v;
	// Drops: each object has its own per-CPU counter array.
	std::vector<bpf_map *> drop_maps;
	if (ops_)
		drop_maps.push_back(ops_->maps.drops);
	if (lk_)
		drop_maps.push_back(lk_->maps.drops);
	if (fn_)
		drop_maps.push_back(fn_->maps.drops);
	for (uint32_t i = 0; i < KDROP_COUNT; i++) {
		uint64_t n = 0;
		for (auto *m : drop_maps)
			if (read_percpu(bpf_map__fd(m), &i, sizeof(uint64_t), ncpu_, &v))
				n += v[0];
		r->drops[kDropNames[i]] = n;
		r->dropped += n;
	}
}

// Each program's run count and time since attach (or clear).
void SessionImpl::read_prog_stats(Report *r) const
{
	r->prog_stats_enabled = stats_fd_ >= 0;
	for (const auto &p : progs_) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p.prog), &info, &len))
			continue;
		ProgStat s;
		s.name = bpf_program__name(p.prog);
		s.run_cnt = info.run_cnt - p.base_cnt;
		s.run_time_ns = info.run_time_ns - p.base_ns;
		s.recursion_misses = info.recursion_misses - p.base_miss;
		s.ns_per_event = s.run_cnt ? double(s.run_time_ns) / double(s.run_cnt) : 0;
		r->prog_stats.push_back(s);
	}
}

Report SessionImpl::report() const
{
	Report r;
	r.attach_mode = mode_ >= 0 ? kModes[mode_] : "";
	if (attach_ns_)
		r.duration_ns = (detach_ns_ ? detach_ns_ : now_ns()) - attach_ns_;
	r.notes = notes_;
	read_opslat(&r);
	read_lockstat(&r);
	read_funclat(&r);
	read_wakelat(&r);
	read_trace_events(&r);
	read_drops(&r);
	read_prog_stats(&r);
	return r;
}

void SessionImpl::clear()
{
	auto zero_array = [&](bpf_map *m, uint32_t n, size_t vsize) { zero_percpu_array(bpf_map__fd(m), n, vsize, ncpu_); };
	if (ops_) {
		zero_array(ops_->maps.hists, OPSLAT_NSLOTS, sizeof(opslat_hist));
		zero_array(ops_->maps.drops, KDROP_COUNT, sizeof(uint64_t));
	}
	if (lk_) {
		int fd = bpf_map__fd(lk_->maps.locks);
		lock_key k;
		while (bpf_map_get_next_key(fd, nullptr, &k) == 0)
			bpf_map_delete_elem(fd, &k);
		zero_array(lk_->maps.drops, KDROP_COUNT, sizeof(uint64_t));
	}
	if (fn_) {
		zero_array(fn_->maps.funcs, FUNCLAT_MAX_FUNCS, sizeof(func_hist));
		zero_array(fn_->maps.drops, KDROP_COUNT, sizeof(uint64_t));
	}
	if (wk_)
		zero_array(wk_->maps.wakes, OPSLAT_NSLOTS, sizeof(wakelat_hist));
	clear_trace_events();
	snapshot_prog_base();
	if (attach_ns_ && !detach_ns_)
		attach_ns_ = now_ns();
}

} // namespace kmodlab::bpf
