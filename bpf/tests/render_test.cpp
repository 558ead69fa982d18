// render_test.cpp - Session::json()'s writer (render.cpp, nlohmann-json)
// against what the hand-written writer it replaced printed for the same
// Report: the same keys in the same order with the same values, so every
// reader of the schema (bpf/README.md, loadgen/tests/validate.py,
// analysis/) sees no change.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "session_internal.hpp"

namespace {

// A Report with every field set, including names that need escaping.
static kmodlab::bpf::Report sample_report()
{
	using namespace kmodlab::bpf;
	Report r;
	r.attach_mode = "fentry";
	r.duration_ns = 6057270560ull;
	OpStat s;
	s.device = "/dev/scull-c0";
	s.major = 240;
	s.minor = 0;
	s.op = "read";
	s.hist.buckets = {{1000, 1032, 90}, {4992, 5120, 10}};
	s.hist.count = 103;
	s.hist.sum_ns = 140000;
	s.hist.min_ns = 1001;
	s.hist.max_ns = 5050;
	s.errors = {{"EFAULT", 3}, {"EINVAL", 1}};
	r.opslat.push_back(s);
	LockStat l;
	l.lock = "counter_c_mutex [counter_c] \"q\"\t\x01";
	l.kind = "mutex";
	l.context = "task";
	l.device = "/dev/counter-c";
	l.op = "write";
	l.count = 7;
	l.total_ns = 7777;
	l.max_ns = 2000;
	l.hist.buckets = {{992, 1024, 5}, {1984, 2048, 2}};
	l.hist.count = 7;
	l.hist.sum_ns = 7777;
	l.hist.min_ns = 992;
	l.hist.max_ns = 2000;
	r.lockstat.push_back(l);
	FuncStat f;
	f.func = "counter_c_write";
	f.module = "counter_c";
	f.hist.buckets = {{31, 32, 1}};
	f.hist.count = 1;
	f.hist.sum_ns = 31;
	f.hist.min_ns = 31;
	f.hist.max_ns = 31;
	r.funclat.push_back(f);
	r.drops = {{"inflight_full", 0}, {"stale_exit", 2}};
	r.dropped = 2;
	r.prog_stats_enabled = true;
	r.prog_stats.push_back({"opslat_enter_btf", 1000, 123456, 0, 123.456});
	r.prog_stats.push_back({"opslat_exit_btf", 3, 10, 1, 10.0 / 3});
	r.notes = {"kptr_restrict was 1: set to 0\nrestored", "second \\ note"};
	return r;
}

// The old writer's output for sample_report() (bpf/render.cpp before the
// move to nlohmann-json, compiled and run once).
const char kOldWriterOutput[] = R"json({"attach_mode":"fentry","duration_ns":6057270560,"histogram_format":{"sub_buckets_per_power_of_two":32,"max_relative_width":0.03125},"opslat":[{"device":"/dev/scull-c0","rdev":"240:0","op":"read","count":103,"sum_ns":140000,"min_ns":1001,"max_ns":5050,"histogram":[[1000,1032,90],[4992,5120,10]],"percentiles":{"p50":1017.6,"p90":1031.8,"p99":5050.0,"p99.9":5050.0,"p99.99":5050.0},"errors":{"EFAULT":3,"EINVAL":1}}],"lockstat":[{"lock":"counter_c_mutex [counter_c] \"q\"\u0009\u0001","kind":"mutex","context":"task","device":"/dev/counter-c","op":"write","count":7,"total_ns":7777,"max_ns":2000,"histogram":[[992,1024,5],[1984,2048,2]],"percentiles":{"p50":1014.4,"p90":2000.0,"p99":2000.0,"p99.9":2000.0,"p99.99":2000.0}}],"funclat":[{"function":"counter_c_write","module":"counter_c","count":1,"sum_ns":31,"min_ns":31,"max_ns":31,"histogram":[[31,32,1]],"percentiles":{"p50":31.0,"p90":31.0,"p99":31.0,"p99.9":31.0,"p99.99":31.0}}],"dropped":2,"drops":{"inflight_full":0,"stale_exit":2},"prog_stats_enabled":true,"prog_stats":[{"name":"opslat_enter_btf","run_cnt":1000,"run_time_ns":123456,"ns_per_event":123.5,"recursion_misses":0},{"name":"opslat_exit_btf","run_cnt":3,"run_time_ns":10,"ns_per_event":3.3,"recursion_misses":1}],"notes":["kptr_restrict was 1: set to 0\u000arestored","second \\ note"]})json";

} // namespace

TEST(Render, JsonEqualsTheOldWritersKeyForKey)
{
	using Ordered = nlohmann::ordered_json;
	const std::string out = kmodlab::bpf::render_json(sample_report());
	// ordered_json compares objects as ordered lists: key order counts too.
	EXPECT_EQ(Ordered::parse(out), Ordered::parse(kOldWriterOutput)) << out;
}

TEST(Render, JsonIsOneCompactLine)
{
	const std::string out = kmodlab::bpf::render_json(sample_report());
	EXPECT_EQ(out.find('\n'), std::string::npos);
	EXPECT_EQ(out.rfind("{\"attach_mode\":\"fentry\",\"duration_ns\":6057270560,", 0), 0u) << out;
}

TEST(Render, EmptyReportHasEveryKey)
{
	auto j = nlohmann::json::parse(kmodlab::bpf::render_json(kmodlab::bpf::Report{}));
	for (const char *k : {"attach_mode", "duration_ns", "histogram_format", "opslat", "lockstat", "funclat",
			      "dropped", "drops", "prog_stats_enabled", "prog_stats", "notes"})
		EXPECT_TRUE(j.contains(k)) << k;
	EXPECT_TRUE(j["opslat"].is_array());
	EXPECT_TRUE(j["drops"].is_object());
}

// trace_events (Options::trace_events): absent from a report without it (the
// old writer's output above), and with it one object per module whose
// phases carry opslat's figures.
TEST(Render, TraceEventsPerModuleWithPhasesAsOpslat)
{
	using namespace kmodlab::bpf;
	Report r;
	TraceModule m;
	m.module = "lkp_enc_c";
	m.driver = "lkp_enc";
	m.variant = "c";
	m.events = {{"lkp_enc_seed_write", 5}, {"lkp_enc_string_write", 5}, {"lkp_enc_string_read", 5}};
	Histogram h;
	h.buckets = {{1000, 1032, 5}};
	h.count = 5;
	h.sum_ns = 5050;
	h.min_ns = 1001;
	h.max_ns = 1030;
	m.phases = {{"seed_to_write", h}, {"write_to_read", h}};
	m.sequence = {{"encrypts", 5}, {"out_of_order", 0}, {"no_slot", 0}};
	r.trace_events.push_back(m);
	auto j = nlohmann::ordered_json::parse(render_json(r));
	ASSERT_TRUE(j.contains("trace_events"));
	const auto &t = j["trace_events"][0];
	EXPECT_EQ(t["module"], "lkp_enc_c");
	EXPECT_EQ(t["events"]["lkp_enc_string_read"], 5);
	EXPECT_EQ(t["sequence"]["encrypts"], 5);
	ASSERT_TRUE(t["phases"].contains("write_to_read")) << t;
	const auto &p = t["phases"]["write_to_read"];
	for (const char *k : {"count", "sum_ns", "min_ns", "max_ns", "histogram", "percentiles"})
		EXPECT_TRUE(p.contains(k)) << k;
	EXPECT_EQ(p["histogram"][0][2], 5);
	EXPECT_EQ(std::vector<std::string>({"module", "driver", "variant", "events", "phases", "sequence"}),
		  [&] {
			  std::vector<std::string> k;
			  for (auto &it : t.items())
				  k.push_back(it.key());
			  return k;
		  }());
	EXPECT_FALSE(nlohmann::json::parse(render_json(Report{})).contains("trace_events"));
	EXPECT_NE(render_text(r).find("phase write_to_read: count 5"), std::string::npos) << render_text(r);
}
