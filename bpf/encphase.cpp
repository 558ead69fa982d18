// SPDX-License-Identifier: GPL-2.0
// encphase.cpp - kmodlab-encphase: lkp_enc per-phase latency from the
// driver's own tracepoints (encphase.bpf.c, encphase.h).
//
//   kmodlab-encphase [--json FILE] -- COMMAND [ARG...]
//
// A kmodlab::bpf::Session with Options::trace_events on every loaded
// lkp_enc variant (bpf/drvtrace.cpp attaches encphase.bpf.c to
// events/lkp_enc_<variant>/<event>), runs COMMAND, then prints per variant the event
// counts, the encryptions seen (seed -> string write -> readback on one
// thread), the events out of order, and the latency of the two phases
// (seed to string write, string write to readback).  --json writes the same
// as JSON.  Exit 0, or 1 when nothing could be attached or COMMAND failed.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kmodlab_bpf.hpp"
#include "uapi/kmodlab_dev.h"
#include "uapi/lkp_enc.h"

namespace {

using kmodlab::bpf::Histogram;
using kmodlab::bpf::TraceModule;

nlohmann::json hist_json(const Histogram &h)
{
	return {{"count", h.count},
		{"avg_ns", h.count ? (double)h.sum_ns / h.count : 0.0},
		{"min_ns", h.min_ns},
		{"p50_ns", h.count ? h.percentile(0.5) : 0.0},
		{"p99_ns", h.count ? h.percentile(0.99) : 0.0},
		{"max_ns", h.max_ns}};
}

// One variant as this tool has always printed it (tests/guest/tracepoints.py).
nlohmann::json variant_json(const TraceModule &m)
{
	nlohmann::json j = {{"module", m.module}};
	for (const auto &[name, n] : m.sequence)
		j[name] = n;
	for (const auto &[name, n] : m.events)
		j["events"][name] = n;
	for (const auto &[name, h] : m.phases)
		j["phases"][name] = hist_json(h);
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

// Every lkp_enc module whose events are in tracefs.
std::vector<std::string> loaded_variants()
{
	std::vector<std::string> mods;
	const char *const *names = kmodlab_variants();
	for (unsigned v = 0; v < KMODLAB_NR_VARIANTS; v++) {
		char mod[64];
		if (kmodlab_module_name(mod, sizeof(mod), LKP_ENC_NAME, names[v]) > 0 &&
		    access(("/sys/kernel/tracing/events/" + std::string(mod)).c_str(), F_OK) == 0)
			mods.push_back(mod);
	}
	return mods;
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
	kmodlab::bpf::Options o;
	o.opslat = o.lockstat = false;
	o.prog_stats = false;
	o.trace_events = true;
	o.trace_modules = loaded_variants();
	if (o.trace_modules.empty()) {
		fprintf(stderr, "kmodlab-encphase: no lkp_enc module with tracepoints is loaded\n");
		return 1;
	}
	std::string err;
	auto session = kmodlab::bpf::Session::open(o, &err);
	if (!session || !session->attach(&err)) {
		fprintf(stderr, "kmodlab-encphase: %s\n", err.c_str());
		return 1;
	}
	int cmd = kmodlab::bpf::run_command(argv + i + 1);
	session->detach();
	nlohmann::json out = {{"command_status", cmd}};
	out["variants"] = nlohmann::json::object();
	for (const auto &m : session->report().trace_events)
		out["variants"][m.variant] = variant_json(m);
	print_text(out);
	if (json_path) {
		FILE *f = fopen(json_path, "w");
		if (f) {
			fputs(out.dump(2).c_str(), f);
			fputc('\n', f);
			fclose(f);
		}
	}
	return cmd == 0 ? 0 : 1;
}
