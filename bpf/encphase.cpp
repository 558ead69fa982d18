// SPDX-License-Identifier: GPL-2.0
// encphase.cpp - kmodlab-encphase: lkp_enc per-phase latency from the
// driver's own tracepoints (encphase.bpf.c, encphase.h).
//
//   kmodlab-encphase [--json FILE] -- COMMAND [ARG...]
//
// Attaches to events/lkp_enc_<variant>/lkp_enc_{seed_write,string_write,
// string_read} of every loaded variant (cookie = the variant's index in
// uapi KMODLAB_VARIANTS), runs COMMAND, then prints per variant the event
// counts, the encryptions seen (seed -> string write -> readback on one
// thread), the events out of order, and the latency of the two phases
// (seed to string write, string write to readback).  --json writes the same
// as JSON.  Exit 0, or 1 when nothing could be attached or COMMAND failed.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <nlohmann/json.hpp>

#include "encphase.h"
#include "encphase.skel.h"
#include "kmodlab_bpf.hpp"
#include "uapi/kmodlab_dev.h"
#include "uapi/lkp_enc.h"

namespace {

using kmodlab::bpf::Histogram;
using kmodlab::bpf::make_hist;

const char *const kEvents[ENCPHASE_NR_EVENTS] = {"lkp_enc_seed_write", "lkp_enc_string_write",
						 "lkp_enc_string_read"};
const char *const kPhases[ENCPHASE_NR_PHASES] = {"seed_to_write", "write_to_read"};

struct Variant {
	std::string name, module;
	unsigned index;
};

// Attach the three programs to one variant's events; false if absent.
bool attach_variant(encphase_bpf *skel, const Variant &v, std::vector<bpf_link *> &links)
{
	bpf_program *progs[ENCPHASE_NR_EVENTS] = {skel->progs.encphase_seed, skel->progs.encphase_write,
						  skel->progs.encphase_read};
	std::string dir = "/sys/kernel/tracing/events/" + v.module;
	if (access(dir.c_str(), F_OK) != 0)
		return false;
	for (int e = 0; e < ENCPHASE_NR_EVENTS; e++) {
		LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = v.index);
		bpf_link *l = bpf_program__attach_tracepoint_opts(progs[e], v.module.c_str(), kEvents[e], &opts);
		if (!l) {
			fprintf(stderr, "kmodlab-encphase: cannot attach to %s/%s: %s\n", v.module.c_str(),
				kEvents[e], strerror(errno));
			return false;
		}
		links.push_back(l);
	}
	return true;
}

int run(char **argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "kmodlab-encphase: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

nlohmann::json hist_json(const Histogram &h)
{
	return {{"count", h.count},
		{"avg_ns", h.count ? (double)h.sum_ns / h.count : 0.0},
		{"min_ns", h.min_ns},
		{"p50_ns", h.count ? h.percentile(0.5) : 0.0},
		{"p99_ns", h.count ? h.percentile(0.99) : 0.0},
		{"max_ns", h.max_ns}};
}

// One variant's counters and phases, summed over the CPUs.
nlohmann::json read_variant(encphase_bpf *skel, const Variant &v)
{
	int ncpu = libbpf_num_possible_cpus();
	std::vector<encphase_counts> c(ncpu);
	encphase_counts sum{};
	__u32 key = v.index;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.counts), &key, c.data()) == 0)
		for (auto &x : c) {
			for (int e = 0; e < ENCPHASE_NR_EVENTS; e++)
				sum.events[e] += x.events[e];
			sum.encrypts += x.encrypts;
			sum.out_of_order += x.out_of_order;
			sum.no_slot += x.no_slot;
		}
	nlohmann::json j = {{"module", v.module},
			    {"encrypts", sum.encrypts},
			    {"out_of_order", sum.out_of_order},
			    {"no_slot", sum.no_slot}};
	for (int e = 0; e < ENCPHASE_NR_EVENTS; e++)
		j["events"][kEvents[e]] = sum.events[e];
	std::vector<encphase_hist> h(ncpu);
	for (unsigned p = 0; p < ENCPHASE_NR_PHASES; p++) {
		key = v.index * ENCPHASE_NR_PHASES + p;
		encphase_hist all{};
		bool any = false;
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.hists), &key, h.data()) == 0)
			for (auto &x : h) {
				if (!x.count)
					continue;
				all.min_ns = any ? std::min(all.min_ns, x.min_ns) : x.min_ns;
				all.max_ns = std::max(all.max_ns, x.max_ns);
				all.count += x.count;
				all.sum_ns += x.sum_ns;
				for (unsigned i = 0; i < HIST_NBUCKETS; i++)
					all.slots[i] += x.slots[i];
				any = true;
			}
		j["phases"][kPhases[p]] =
			hist_json(make_hist(all.slots, all.count, all.sum_ns, all.min_ns, all.max_ns));
	}
	return j;
}

void print_text(const nlohmann::json &out)
{
	for (auto &[name, v] : out["variants"].items()) {
		printf("%s: seed_write %llu string_write %llu string_read %llu encrypts %llu out_of_order %llu\n",
		       v["module"].get<std::string>().c_str(),
		       v["events"]["lkp_enc_seed_write"].get<unsigned long long>(),
		       v["events"]["lkp_enc_string_write"].get<unsigned long long>(),
		       v["events"]["lkp_enc_string_read"].get<unsigned long long>(),
		       v["encrypts"].get<unsigned long long>(), v["out_of_order"].get<unsigned long long>());
		for (auto &[p, h] : v["phases"].items())
			printf("  %-14s count %llu avg %.0f ns p50 %.0f ns p99 %.0f ns max %llu ns\n", p.c_str(),
			       h["count"].get<unsigned long long>(), h["avg_ns"].get<double>(),
			       h["p50_ns"].get<double>(), h["p99_ns"].get<double>(),
			       h["max_ns"].get<unsigned long long>());
	}
}

} // namespace

int main(int argc, char **argv)
{
	const char *json_path = nullptr;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			json_path = argv[++i];
		else {
			fprintf(stderr, "usage: kmodlab-encphase [--json FILE] -- COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: kmodlab-encphase [--json FILE] -- COMMAND [ARG...]\n");
		return 2;
	}
	encphase_bpf *skel = encphase_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "kmodlab-encphase: loading the BPF object failed: %s\n", strerror(errno));
		return 1;
	}
	std::vector<Variant> variants;
	std::vector<bpf_link *> links;
	const char *const *names = kmodlab_variants();
	for (unsigned v = 0; v < KMODLAB_NR_VARIANTS && v < ENCPHASE_MAX_VARIANTS; v++) {
		char mod[64];
		if (kmodlab_module_name(mod, sizeof(mod), LKP_ENC_NAME, names[v]) < 0)
			continue;
		Variant var{names[v], mod, v};
		if (attach_variant(skel, var, links))
			variants.push_back(var);
	}
	int rc = 1;
	if (variants.empty()) {
		fprintf(stderr, "kmodlab-encphase: no lkp_enc module with tracepoints is loaded\n");
	} else {
		int cmd = run(argv + i + 1);
		nlohmann::json out = {{"command_status", cmd}};
		out["variants"] = nlohmann::json::object();
		for (auto &v : variants)
			out["variants"][v.name] = read_variant(skel, v);
		print_text(out);
		if (json_path) {
			FILE *f = fopen(json_path, "w");
			if (f) {
				fputs(out.dump(2).c_str(), f);
				fputc('\n', f);
				fclose(f);
			}
		}
		rc = cmd == 0 ? 0 : 1;
	}
	for (auto *l : links)
		bpf_link__destroy(l);
	encphase_bpf__destroy(skel);
	return rc;
}
