// session_impl.hpp - SessionImpl, the one implementation of Session, and the
// helpers its source files share.  Split by what each part does:
//   session.cpp   Session::open, init (devices, attach mode), device_number
//   load.cpp      opening and loading the BPF objects of one attach mode
//   attach.cpp    attach/detach in exit-first order, program statistics base
//   maps.cpp      reading the maps back into a Report, clear()
//   drvtrace.cpp  the drivers' own tracepoints (drvevents, encphase)
//   kallsyms.cpp  /proc/kallsyms: lock names, module functions
//   histogram.cpp percentiles of a decoded histogram
//   render.cpp    Report -> JSON (nlohmann) and text
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include <linux/types.h>
#include "opslat.h"
#include "lockstat.h"
#include "funclat.h"
#include "drvevents.h"
#include "encphase.h"
#include "wakelat.h"
#include "opslat.skel.h"
#include "lockstat.skel.h"
#include "funclat.skel.h"
#include "drvevents.skel.h"
#include "encphase.skel.h"
#include "wakelat.skel.h"
#include "session_internal.hpp"

namespace kmodlab::bpf {

// Attach modes of opslat (bpf/opslat.bpf.c says what each sees).
enum Mode { M_TP_BTF, M_RAW_TP, M_TRACEPOINT, M_FENTRY, M_KPROBE, M_COUNT };
extern const char *const kModes[M_COUNT];
extern const char *const kOpNames[KOP_COUNT];

class SessionImpl final : public Session {
public:
	~SessionImpl() override;

	bool init(const Options &opts, std::string *error);
	bool attach(std::string *error) override;
	void detach() override;
	std::string json() const override { return render_json(report()); }
	std::string text() const override { return render_text(report()); }
	Report report() const override;
	void clear() override;

private:
	struct Dev {
		dev_t rdev;
		std::string name;
	};
	struct Func {
		std::string name, module;
	};
	struct TraceMod {
		std::string module, driver, variant;
		// lkp_enc: the variant's index (encphase's cookie); others: the
		// module's number among the counted ones (drvevents' slots)
		unsigned slot;
	};
	struct Prog {
		bpf_program *prog;
		uint64_t base_cnt = 0, base_ns = 0, base_miss = 0;
	};

	// session.cpp
	bool add_devices(const std::vector<dev_t> &devices, std::string *error);
	void name_devices();
	bool load_first_mode(const std::vector<int> &modes, std::string *error);
	// load.cpp
	bool load_opslat(int mode, std::string *error);
	opslat_bpf *open_opslat(int mode);
	bool driver_functions(std::string *error);
	void destroy_opslat();
	bool load_lockstat(int mode, std::string *error);
	void choose_spin_probe(int mode);
	bool load_funclat(std::string *error);
	bool load_wakelat(int mode, std::string *error);
	// drvtrace.cpp
	bool trace_module_list(std::string *error);
	bool load_trace_events(std::string *error);
	bool attach_event(bpf_program *p, const TraceMod &t, const char *event, uint64_t cookie, std::string *error);
	bool attach_trace_events(std::string *error);
	bpf_program *event_program(const std::string &driver, size_t e, const char *ev) const;
	Histogram read_phase(int fd, uint32_t key) const;
	void read_encphase(const TraceMod &t, TraceModule *m) const;
	void read_drvevents(const TraceMod &t, TraceModule *m) const;
	void read_trace_events(Report *r) const;
	void clear_trace_events();
	// attach.cpp
	bool add_link(bpf_program *p, bpf_link *l, const std::string &what, std::string *error);
	void wipe_per_thread_maps();
	bool attach_objects(std::string *error);
	bool attach_driver_kprobes(bpf_program *p, bool is_exit, const std::string &name, std::string *error);
	bool attach_funclat(std::string *error);
	void snapshot_prog_base();
	// maps.cpp
	void read_opslat(Report *r) const;
	void read_lockstat(Report *r) const;
	void read_funclat(Report *r) const;
	void read_wakelat(Report *r) const;
	void read_drops(Report *r) const;
	void read_prog_stats(Report *r) const;

	Options opts_;
	opslat_bpf *ops_ = nullptr;
	// fentry mode: one more copy of opslat per driver function after the
	// first (a tracing program is bound to one target at load), sharing
	// ops_'s maps.
	std::vector<opslat_bpf *> ops_extra_;
	std::vector<Func> drv_funcs_;  // fentry/kprobe mode: the traced driver functions
	lockstat_bpf *lk_ = nullptr;
	funclat_bpf *fn_ = nullptr;
	wakelat_bpf *wk_ = nullptr;  // Options::wakelat
	drvevents_bpf *ev_ = nullptr;
	encphase_bpf *enc_ = nullptr;
	std::vector<TraceMod> trace_mods_;
	int mode_ = -1;
	int stats_fd_ = -1;
	int ncpu_ = 0;
	std::vector<Dev> devs_;
	std::vector<Func> funcs_;
	std::vector<bpf_link *> links_;
	std::vector<Prog> progs_;
	Kallsyms ksyms_;
	uint64_t salt_ = 0;
	uint64_t attach_ns_ = 0, detach_ns_ = 0;
	std::vector<std::string> notes_;
};

}  // namespace kmodlab::bpf
