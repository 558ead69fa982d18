// The JSON document of kmodlab-load (loadgen/SCHEMA.md) as report.cpp builds
// it with nlohmann::json: every key in the schema's order, null where a
// field does not apply, non-finite numbers and invalid UTF-8 never breaking
// the output.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "report.hpp"

using namespace kmodlab;
using json = nlohmann::ordered_json;

namespace {

// A finished closed-loop run of two operations on a regular file.
void make_run(kmodlab::Run &run, Results &r)
{
	run.opt.device = "/tmp/some-file";
	run.opt.mix = {{"read", 3}, {"pwrite", 1}};
	run.opt.mix_given = true;
	run.opt.ops = 4;
	run.dev = classify_device(run.opt.device);
	run.profile = &profile_of(run.dev.kind);
	run.is_regular = run.seekable = true;
	run.size = 4096;
	run.span = 1 << 20;
	std::string err;
	for (const auto &m : run.opt.mix) {
		OpSpec op;
		ASSERT_TRUE(lookup_op(run.dev.kind, m.op, &op, &err)) << err;
		run.ops.push_back(op);
	}
	r.per_op.resize(2);
	for (uint64_t v : {100, 200, 300}) {
		r.total.hist.record(v);
		r.per_op[0].hist.record(v);
	}
	r.total.hist.record(5000);
	r.per_op[1].hist.record(5000);
	r.total.ops = 4;
	r.per_op[0].ops = 3;
	r.per_op[1].ops = 1;
	r.total.errors["EIO"] = 1;
	r.per_op[1].errors["EIO"] = 1;
	r.elapsed = 0.5;
	r.ops_s = 8;
	r.cpu_s = 0;
	r.ops_cpu_s = std::nan("");  // no CPU time: JSON has no NaN
}

std::vector<std::string> keys(const json &j)
{
	std::vector<std::string> out;
	for (const auto &it : j.items())
		out.push_back(it.key());
	return out;
}

CheckOutcome failed_check(const char *detail)
{
	CheckOutcome c;
	c.ok = false;
	c.detail = detail;
	return c;
}

}  // namespace

TEST(Report, TopLevelKeysInSchemaOrder)
{
	kmodlab::Run run;
	Results r;
	make_run(run, r);
	const json j = json_document(run, r, CheckOutcome{}, std::nullopt);
	const std::vector<std::string> want = {
		"tool", "version", "env", "device", "driver", "variant", "module", "module_params", "op", "mix",
		"threads", "mode", "rate", "size", "span", "offsets", "duration_s", "warmup_s", "ops_requested",
		"duration_requested_s", "interrupted", "ops", "errors", "bytes", "ops_per_s", "bytes_per_s", "cpu_s",
		"ops_per_cpu_s", "latency_ns", "histogram", "per_op", "check", "bpf", "setup"};
	EXPECT_EQ(keys(j), want);
	EXPECT_EQ(j["tool"], "kmodlab-load");
	EXPECT_EQ(j["driver"], "generic");
	EXPECT_TRUE(j["variant"].is_null());
	EXPECT_TRUE(j["rate"].is_null());
	EXPECT_EQ(j["op"], "mix");
	EXPECT_EQ(j["mix"]["read"], 3);
	EXPECT_EQ(j["span"], 1 << 20);
	EXPECT_EQ(j["offsets"], "seq");
	EXPECT_EQ(j["ops_requested"], 4);
	EXPECT_TRUE(j["duration_requested_s"].is_null());  // --ops without --duration
	EXPECT_EQ(keys(j["per_op"]), (std::vector<std::string>{"read", "pwrite"}));
	EXPECT_EQ(keys(j["per_op"]["pwrite"]),
		  (std::vector<std::string>{"weight", "ops", "bytes", "errors", "latency_ns", "histogram"}));
	EXPECT_EQ(j["per_op"]["pwrite"]["errors"]["EIO"], 1);
	EXPECT_EQ(keys(j["latency_ns"]),
		  (std::vector<std::string>{"min", "mean", "p50", "p90", "p99", "p999", "p9999", "max"}));
	EXPECT_EQ(j["latency_ns"]["min"], 100.0);
	EXPECT_TRUE(j["check"]["ok"].is_null());
	EXPECT_TRUE(j["bpf"].is_null());
	EXPECT_TRUE(j["setup"].is_null());  // only under --bpf-trace
}

TEST(Report, HistogramBucketsSumToTheOps)
{
	kmodlab::Run run;
	Results r;
	make_run(run, r);
	const json j = json_document(run, r, CheckOutcome{}, std::nullopt);
	uint64_t n = 0;
	for (const auto &b : j["histogram"]) {
		ASSERT_EQ(b.size(), 3u);
		EXPECT_LT(b[0].get<uint64_t>(), b[1].get<uint64_t>());
		n += b[2].get<uint64_t>();
	}
	EXPECT_EQ(n, 4u);
}

TEST(Report, OpenLoopCheckAndBpf)
{
	kmodlab::Run run;
	Results r;
	make_run(run, r);
	run.opt.rate = 1000;
	run.opt.check = true;
	const json j = json_document(run, r, failed_check("1 mismatch(es); first: x"),
				     std::string(R"({"programs": [1, 2]})"));
	EXPECT_EQ(j["mode"], "open");
	EXPECT_EQ(j["rate"], 1000.0);
	EXPECT_TRUE(j.contains("service_latency_ns"));
	EXPECT_TRUE(j.contains("service_histogram"));
	EXPECT_EQ(j["check"]["ok"], false);
	EXPECT_EQ(j["bpf"]["programs"][1], 2);  // spliced as JSON, not as a string
}

TEST(Report, NonFiniteAndInvalidUtf8StayValidJson)
{
	kmodlab::Run run;
	Results r;
	make_run(run, r);
	run.opt.check = true;
	const json j = json_document(run, r, failed_check("read back \"\xff\xfe\" want \"ab\"\n"), std::nullopt);
	const std::string text = j.dump(2, ' ', false, json::error_handler_t::replace);
	const json back = json::parse(text);
	EXPECT_TRUE(back["ops_per_cpu_s"].is_null());
	EXPECT_NE(back["check"]["detail"].get<std::string>().find("want \"ab\"\n"), std::string::npos);
}

// --bpf-trace --check: the set-up's figures, what they had to be, and both
// tracepoint checks.
TEST(Report, SetupTraceAndItsCheck)
{
	kmodlab::Run run;
	Results r;
	make_run(run, r);
	run.opt.check = run.opt.bpf_trace = true;
	SetupTrace s;
	s.figures = {{"scull_qset_alloc", 2}, {"scull_trim", 1}};
	s.facts.emptied = true;
	s.facts.quantum = 4000;
	s.facts.qset = 1000;
	s.facts.regions = {{0, 1 << 20}, {1 << 20, 1 << 20}};
	s.facts.writes = 530;
	s.plan.applies = true;
	s.plan.expect = {{"scull_qset_alloc", 1, 1, "one per set"}};
	CheckOutcome c;
	c.ok = false;
	c.trace = {true, true, "7 figures as the operations predict"};
	c.setup = {true, false, "1 finding(s); first: scull_qset_alloc = 2, expected [1, 1]"};
	const json j = json_document(run, r, c, std::nullopt, &s);
	EXPECT_EQ(keys(j["setup"]), (std::vector<std::string>{"emptied", "prefill_bytes", "prefill_writes", "geometry",
								 "trace_events", "expected", "not_modelled"}));
	EXPECT_EQ(j["setup"]["prefill_bytes"], 2 << 20);
	EXPECT_EQ(j["setup"]["prefill_writes"], 530);
	EXPECT_EQ(j["setup"]["geometry"]["qset"], 1000);
	EXPECT_EQ(j["setup"]["trace_events"]["scull_qset_alloc"], 2);
	EXPECT_EQ(j["setup"]["expected"][0]["figure"], "scull_qset_alloc");
	EXPECT_EQ(j["setup"]["expected"][0]["lo"], 1);
	EXPECT_TRUE(j["setup"]["not_modelled"].is_null());
	EXPECT_EQ(j["check"]["trace_events"]["ok"], true);
	EXPECT_EQ(j["check"]["setup_trace_events"]["ok"], false);
	EXPECT_EQ(j["check"]["setup_trace_events"]["checked"], true);
}
