// attach.cpp - attaching and detaching a loaded session.  A call whose entry
// was seen but whose exit was not would leave a stale entry: the exit/end
// programs are attached first and detached last (detach() goes in
// reverse), and every attach starts from empty per-thread maps.
#include "session_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kmodlab::bpf {

// Keeps link l of program p (for detach() and the program statistics);
// a null link is an attach failure: everything attached so far goes.
bool SessionImpl::add_link(bpf_program *p, bpf_link *l, const std::string &what, std::string *error)
{
	if (!l) {
		*error = fmt("attaching %s failed: %s", what.c_str(), strerror(errno));
		detach();
		return false;
	}
	links_.push_back(l);
	if (std::none_of(progs_.begin(), progs_.end(), [&](const Prog &x) { return x.prog == p; }))
		progs_.push_back({p});
	return true;
}

void SessionImpl::wipe_per_thread_maps()
{
	auto wipe = [](bpf_map *m, size_t ksize) {
		int fd = bpf_map__fd(m);
		std::vector<char> k(ksize);
		while (bpf_map_get_next_key(fd, nullptr, k.data()) == 0)
			bpf_map_delete_elem(fd, k.data());
	};
	if (ops_) {
		wipe(ops_->maps.inflight, sizeof(__u32));
		// Task storage cannot be iterated from user space: entries
		// written before this attach carry an older generation (every
		// copy of the object counts the same generations).
		ops_->bss->generation++;
		for (auto *o : ops_extra_)
			o->bss->generation++;
	}
	if (lk_)
		wipe(lk_->maps.waits, sizeof(wait_key));
	if (fn_)
		wipe(fn_->maps.starts, sizeof(func_key));
	if (ev_)
		wipe(ev_->maps.pending, sizeof(__u32));
	if (enc_)
		wipe(enc_->maps.threads, sizeof(__u32));
}

// kprobe mode: one program, one kprobe (or kretprobe) per driver function.
bool SessionImpl::attach_driver_kprobes(bpf_program *p, bool is_exit, const std::string &name, std::string *error)
{
	for (const auto &f : drv_funcs_) {
		LIBBPF_OPTS(bpf_kprobe_opts, ko, .retprobe = is_exit);
		if (!add_link(p, bpf_program__attach_kprobe_opts(p, f.name.c_str(), &ko), name + " on " + f.name, error))
			return false;
	}
	return true;
}

// lockstat's, wakelat's and opslat's programs, exit programs in the first pass.
bool SessionImpl::attach_objects(std::string *error)
{
	std::vector<bpf_object *> objs = {lk_ ? lk_->obj : nullptr, wk_ ? wk_->obj : nullptr,
					  ops_ ? ops_->obj : nullptr};
	for (auto *o : ops_extra_)
		objs.push_back(o->obj);
	for (int pass = 0; pass < 2; pass++) {
		for (bpf_object *obj : objs) {
			if (!obj)
				continue;
			bpf_program *p;
			bpf_object__for_each_program(p, obj)
			{
				std::string n = bpf_program__name(p);
				bool is_exit = n.find("_exit") != std::string::npos || n.find("_end") != std::string::npos ||
					       n.find("kretprobe") != std::string::npos;
				if (!bpf_program__autoload(p) || is_exit != (pass == 0))
					continue;
				if (mode_ == M_KPROBE && ops_ && bpf_program__fd(p) >= 0 &&
				    (p == ops_->progs.opsfn_kprobe || p == ops_->progs.opsfn_kretprobe)) {
					if (!attach_driver_kprobes(p, is_exit, n, error))
						return false;
					continue;
				}
				if (!add_link(p, bpf_program__attach(p), n, error))
					return false;
			}
		}
	}
	return true;
}

// funclat's kprobes: a function may refuse one (an __exit function, a
// notrace one); skip it with a note, fail only if none attaches.
bool SessionImpl::attach_funclat(std::string *error)
{
	size_t attached = 0;
	for (uint32_t i = 0; i < funcs_.size(); i++) {
		LIBBPF_OPTS(bpf_kprobe_opts, r, .bpf_cookie = i, .retprobe = true);
		bpf_link *ret = bpf_program__attach_kprobe_opts(fn_->progs.funclat_exit, funcs_[i].name.c_str(), &r);
		if (!ret) {
			notes_.push_back("kprobe on " + funcs_[i].name + " refused (" + strerror(errno) + "), skipped");
			continue;
		}
		LIBBPF_OPTS(bpf_kprobe_opts, o, .bpf_cookie = i, .retprobe = false);
		bpf_link *ent = bpf_program__attach_kprobe_opts(fn_->progs.funclat_entry, funcs_[i].name.c_str(), &o);
		if (!ent) {
			bpf_link__destroy(ret);
			notes_.push_back("kprobe on " + funcs_[i].name + " refused (" + strerror(errno) + "), skipped");
			continue;
		}
		add_link(fn_->progs.funclat_exit, ret, "", error);
		add_link(fn_->progs.funclat_entry, ent, "", error);
		attached++;
	}
	if (!funcs_.empty() && !attached) {
		*error = "no kprobe could be attached:";
		for (const auto &n : notes_)
			*error += " " + n + ";";
		detach();
		return false;
	}
	return true;
}

bool SessionImpl::attach(std::string *error)
{
	if (!links_.empty())
		return true;
	wipe_per_thread_maps();
	if (!attach_objects(error) || !attach_funclat(error) || !attach_trace_events(error))
		return false;
	snapshot_prog_base();
	attach_ns_ = now_ns();
	detach_ns_ = 0;
	return true;
}

void SessionImpl::detach()
{
	if (links_.empty())
		return;
	// Reverse order: entry programs go first, exit programs last.
	for (auto it = links_.rbegin(); it != links_.rend(); ++it)
		bpf_link__destroy(*it);
	links_.clear();
	detach_ns_ = now_ns();
}

void SessionImpl::snapshot_prog_base()
{
	for (auto &p : progs_) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p.prog), &info, &len) == 0) {
			p.base_cnt = info.run_cnt;
			p.base_ns = info.run_time_ns;
			p.base_miss = info.recursion_misses;
		}
	}
}

} // namespace kmodlab::bpf
