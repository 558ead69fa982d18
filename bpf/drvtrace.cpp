// drvtrace.cpp - the drivers' own tracepoints in a Session
// (Options::trace_events): which modules, loading drvevents (scull, scullpipe and
// counter event counts, scull's allocation check, scullpipe's blocked phases) and encphase (lkp_enc's
// phases), attaching each program to events/<module>/<event> with its
// cookie, reading the maps into Report::trace_events, clearing them.
//
// The event names come from the drivers' event lists
// (kmod/include/kmodlab/trace/<driver>_events.h), the lists kcxx checks
// against the TRACE_EVENT definitions: no name is spelled here.
#include "session_impl.hpp"

#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern "C" {
#include "uapi/kmodlab_dev.h"
#include "uapi/scullpipe.h"
}

namespace kmodlab::bpf {

namespace {

#define KMODLAB_TP(name, params, args) #name,
const char *const kScullEvents[] = {
#include "kmodlab/trace/scull_events.h"
};
const char *const kPipeEvents[] = {
#include "kmodlab/trace/scullpipe_events.h"
};
const char *const kCounterEvents[] = {
#include "kmodlab/trace/counter_events.h"
};
// In encphase.h's enum encphase_event order (seed, string write, readback).
const char *const kLkpEncEvents[] = {
#include "kmodlab/trace/lkp_enc_events.h"
};
#undef KMODLAB_TP
static_assert(std::size(kLkpEncEvents) == ENCPHASE_NR_EVENTS, "lkp_enc's events are encphase's");
static_assert(std::size(kScullEvents) <= DRVEV_PER_MODULE, "a module's events fit its cookie range");
static_assert(std::size(kPipeEvents) == 2, "scullpipe's events are sleep and wake (drvevents.h)");
static_assert(SCULLPIPE_WAIT_READER == DRVEV_PIPE_READ_BLOCKED && SCULLPIPE_WAIT_WRITER == DRVEV_PIPE_WRITE_BLOCKED,
	      "drvevents.bpf.c indexes the phases by the events' writer field");
static_assert(DRVEV_NR_SEQ <= DRVEV_SEQ_STRIDE && DRVEV_PIPE_NR_SEQ <= DRVEV_SEQ_STRIDE, "seq slots per module");

const char *const kPhaseNames[ENCPHASE_NR_PHASES] = {"seed_to_write", "write_to_read"};
const char *const kEncSeq[] = {"encrypts", "out_of_order", "no_slot"};
const char *const kAllocSeq[DRVEV_NR_SEQ] = {"alloc_then_write", "alloc_no_write", "no_slot"};
const char *const kPipeSeq[DRVEV_PIPE_NR_SEQ] = {"waits", "short_wakes", "sleep_unpaired", "wake_unpaired",
						 "no_slot"};
const char *const kPipePhases[DRVEV_PIPE_NR_PHASES] = {"read_blocked", "write_blocked"};

struct DriverEvents {
	const char *driver;
	const char *const *events;
	size_t n;
};
const DriverEvents kDrivers[] = {
	{SCULL_NAME, kScullEvents, std::size(kScullEvents)},
	{SCULLPIPE_NAME, kPipeEvents, std::size(kPipeEvents)},
	{COUNTER_NAME, kCounterEvents, std::size(kCounterEvents)},
	{LKP_ENC_NAME, kLkpEncEvents, std::size(kLkpEncEvents)},
};

const DriverEvents *driver_events(const std::string &driver)
{
	for (const auto &d : kDrivers)
		if (driver == d.driver)
			return &d;
	return nullptr;
}

bool is_lkp_enc(const std::string &driver) { return driver == LKP_ENC_NAME; }

// Index of a variant name in KMODLAB_VARIANTS (encphase's cookie).
unsigned variant_index(const char *v)
{
	const char *const *all = kmodlab_variants();
	for (unsigned i = 0; i < KMODLAB_NR_VARIANTS; i++)
		if (strcmp(all[i], v) == 0)
			return i;
	return KMODLAB_NR_VARIANTS;
}

// "scull_c" -> driver and variant by the lab's module rule (kmodlab_dev.h).
bool parse_module(const std::string &m, std::string *driver, const char **variant)
{
	size_t sep = m.rfind(KMODLAB_MODULE_SEP);
	if (sep == std::string::npos)
		return false;
	const kmodlab_driver *d = kmodlab_driver_find(m.c_str(), sep);
	*variant = kmodlab_variant_find(m.c_str() + sep + 1, m.size() - sep - 1);
	if (!d || !*variant)
		return false;
	*driver = d->name;
	return true;
}

} // namespace

// The modules to trace: Options::trace_modules, or those of the devices.
bool SessionImpl::trace_module_list(std::string *error)
{
	std::vector<std::string> names = opts_.trace_modules;
	if (names.empty())
		for (const auto &d : devs_) {
			kmodlab_dev_name n;
			char mod[64];
			if (kmodlab_dev_parse(d.name.c_str(), &n) == 0 &&
			    kmodlab_module_name(mod, sizeof(mod), n.driver->name, n.variant) > 0)
				names.push_back(mod);
			else
				notes_.push_back(d.name + " is no lab device: no driver tracepoints for it");
		}
	for (const auto &m : names) {
		std::string driver;
		const char *variant;
		if (!parse_module(m, &driver, &variant) || !driver_events(driver)) {
			*error = "trace events: '" + m + "' is not a lab module with tracepoints (scull_c, lkp_enc_cxx, ...)";
			return false;
		}
		if (std::any_of(trace_mods_.begin(), trace_mods_.end(), [&](const TraceMod &t) { return t.module == m; }))
			continue;
		unsigned counted = unsigned(std::count_if(trace_mods_.begin(), trace_mods_.end(),
							  [](const TraceMod &t) { return !is_lkp_enc(t.driver); }));
		trace_mods_.push_back({m, driver, variant, is_lkp_enc(driver) ? variant_index(variant) : counted});
	}
	if (trace_mods_.empty()) {
		*error = "trace events: no module to trace";
		return false;
	}
	return true;
}

bool SessionImpl::load_trace_events(std::string *error)
{
	if (!trace_module_list(error))
		return false;
	bool enc = false, counted = false;
	for (const auto &t : trace_mods_) {
		if (access(("/sys/kernel/tracing/events/" + t.module).c_str(), F_OK) != 0) {
			*error = "trace events: no events/" + t.module + " in tracefs (module not loaded, built with "
				 "KMODLAB_TRACE=0, or tracefs not mounted at /sys/kernel/tracing)";
			return false;
		}
		if (is_lkp_enc(t.driver) ? t.slot >= ENCPHASE_MAX_VARIANTS : t.slot >= DRVEV_MAX_MODULES) {
			*error = "trace events: too many modules (" + t.module + ")";
			return false;
		}
		enc |= is_lkp_enc(t.driver);
		counted |= !is_lkp_enc(t.driver);
	}
	if (counted && (!(ev_ = drvevents_bpf__open()) ||
			(ev_->rodata->target_tgid = uint32_t(opts_.tgid), drvevents_bpf__load(ev_)))) {
		*error = fmt("trace events: loading drvevents failed: %s", strerror(errno));
		return false;
	}
	if (enc && (!(enc_ = encphase_bpf__open()) ||
		    (enc_->rodata->target_tgid = uint32_t(opts_.tgid), encphase_bpf__load(enc_)))) {
		*error = fmt("trace events: loading encphase failed: %s", strerror(errno));
		return false;
	}
	return true;
}

// One program on events/<module>/<event> with its cookie.
bool SessionImpl::attach_event(bpf_program *p, const TraceMod &t, const char *event, uint64_t cookie,
			       std::string *error)
{
	LIBBPF_OPTS(bpf_tracepoint_opts, o, .bpf_cookie = cookie);
	return add_link(p, bpf_program__attach_tracepoint_opts(p, t.module.c_str(), event, &o),
			t.module + "/" + event, error);
}

bool SessionImpl::attach_trace_events(std::string *error)
{
	for (const auto &t : trace_mods_) {
		const DriverEvents *d = driver_events(t.driver);
		for (size_t e = 0; e < d->n; e++) {
			const char *ev = d->events[e];
			bpf_program *p;
			if (is_lkp_enc(t.driver)) {
				bpf_program *enc[ENCPHASE_NR_EVENTS] = {enc_->progs.encphase_seed, enc_->progs.encphase_write,
									enc_->progs.encphase_read};
				p = enc[e];
			} else {
				p = event_program(t.driver, e, ev);
			}
			uint64_t cookie = is_lkp_enc(t.driver) ? t.slot : t.slot * DRVEV_PER_MODULE + e;
			if (!attach_event(p, t, ev, cookie, error))
				return false;
		}
	}
	return true;
}

// The program of a counted driver's event e (drvevents.bpf.c).
bpf_program *SessionImpl::event_program(const std::string &driver, size_t e, const char *ev) const
{
	if (driver == SCULLPIPE_NAME)
		return e == DRVEV_PIPE_SLEEP ? ev_->progs.drvev_pipe_sleep : ev_->progs.drvev_pipe_wake;
	if (strcmp(ev, "scull_qset_alloc") == 0)
		return ev_->progs.drvev_qset_alloc;
	if (strcmp(ev, "scull_write") == 0)
		return ev_->progs.drvev_scull_write;
	return ev_->progs.drvev_count;
}

// One phase's histogram (struct hist_rec at key of a per-CPU map).
Histogram SessionImpl::read_phase(int fd, uint32_t key) const
{
	std::vector<uint64_t> v;
	if (!read_percpu(fd, &key, sizeof(hist_rec), ncpu_, &v))
		return {};
	const auto *s = reinterpret_cast<const hist_rec *>(v.data());
	uint64_t mn, mx;
	percpu_minmax(fd, &key, sizeof(hist_rec), ncpu_, 0, 2, 3, &mn, &mx);
	return make_hist(s->slots, s->count, s->sum_ns, mn, mx);
}

// lkp_enc: events, phases and the cycle counts of one variant.
void SessionImpl::read_encphase(const TraceMod &t, TraceModule *m) const
{
	std::vector<uint64_t> v;
	uint32_t key = t.slot;
	int fd = bpf_map__fd(enc_->maps.counts);
	bool ok = read_percpu(fd, &key, sizeof(encphase_counts), ncpu_, &v);
	const auto *c = ok ? reinterpret_cast<const encphase_counts *>(v.data()) : nullptr;
	for (unsigned e = 0; e < ENCPHASE_NR_EVENTS; e++)
		m->events.push_back({kLkpEncEvents[e], c ? c->events[e] : 0});
	m->sequence = {{kEncSeq[0], c ? c->encrypts : 0}, {kEncSeq[1], c ? c->out_of_order : 0},
		       {kEncSeq[2], c ? c->no_slot : 0}};
	fd = bpf_map__fd(enc_->maps.hists);
	for (uint32_t p = 0; p < ENCPHASE_NR_PHASES; p++)
		m->phases.push_back({kPhaseNames[p], read_phase(fd, t.slot * ENCPHASE_NR_PHASES + p)});
}

// scull, counter: event counts (and scull's allocation check).
void SessionImpl::read_drvevents(const TraceMod &t, TraceModule *m) const
{
	std::vector<uint64_t> v;
	const DriverEvents *d = driver_events(t.driver);
	int fd = bpf_map__fd(ev_->maps.counts);
	for (uint32_t e = 0; e < d->n; e++) {
		uint32_t slot = t.slot * DRVEV_PER_MODULE + e;
		m->events.push_back({d->events[e], read_percpu(fd, &slot, sizeof(uint64_t), ncpu_, &v) ? v[0] : 0});
	}
	const bool pipe = t.driver == SCULLPIPE_NAME;
	if (t.driver != SCULL_NAME && !pipe)
		return;
	const char *const *names = pipe ? kPipeSeq : kAllocSeq;
	fd = bpf_map__fd(ev_->maps.seq);
	const uint32_t n = pipe ? uint32_t(DRVEV_PIPE_NR_SEQ) : uint32_t(DRVEV_NR_SEQ);
	for (uint32_t s = 0; s < n; s++) {
		uint32_t key = t.slot * DRVEV_SEQ_STRIDE + s;
		m->sequence.push_back({names[s], read_percpu(fd, &key, sizeof(uint64_t), ncpu_, &v) ? v[0] : 0});
	}
	if (!pipe)
		return;
	fd = bpf_map__fd(ev_->maps.phases);
	for (uint32_t p = 0; p < DRVEV_PIPE_NR_PHASES; p++)
		m->phases.push_back({kPipePhases[p], read_phase(fd, t.slot * DRVEV_PIPE_NR_PHASES + p)});
}

void SessionImpl::read_trace_events(Report *r) const
{
	for (const auto &t : trace_mods_) {
		TraceModule m;
		m.module = t.module;
		m.driver = t.driver;
		m.variant = t.variant;
		if (is_lkp_enc(t.driver))
			read_encphase(t, &m);
		else
			read_drvevents(t, &m);
		r->trace_events.push_back(std::move(m));
	}
}

void SessionImpl::clear_trace_events()
{
	auto zero = [&](bpf_map *m, uint32_t n, size_t vsize) { zero_percpu_array(bpf_map__fd(m), n, vsize, ncpu_); };
	if (ev_) {
		zero(ev_->maps.counts, DRVEV_NR_SLOTS, sizeof(uint64_t));
		zero(ev_->maps.seq, DRVEV_MAX_MODULES * DRVEV_SEQ_STRIDE, sizeof(uint64_t));
		zero(ev_->maps.phases, DRVEV_MAX_MODULES * DRVEV_PIPE_NR_PHASES, sizeof(hist_rec));
	}
	if (enc_) {
		zero(enc_->maps.counts, ENCPHASE_MAX_VARIANTS, sizeof(encphase_counts));
		zero(enc_->maps.hists, ENCPHASE_MAX_VARIANTS * ENCPHASE_NR_PHASES, sizeof(hist_rec));
	}
}

} // namespace kmodlab::bpf
