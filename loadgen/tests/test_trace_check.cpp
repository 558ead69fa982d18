// test_trace_check.cpp - the tracepoint cross-check rules of kmodlab-load
// --bpf-trace --check (trace_check.hpp): consistent figures pass, each kind
// of inconsistency fails.
#include <gtest/gtest.h>

#include "run.hpp"

namespace kmodlab {
namespace {

OpSpec op(OpKind k, const char *name) { return {k, name, nullptr}; }

uint64_t findings(const std::map<std::string, uint64_t> &fig, const TracePlan &plan)
{
	Verdict v;
	return check_trace(fig, plan, v);
}

TEST(TraceCheck, ScullCountsEventsPerTransfer)
{
	const auto plan = scull_trace_plan({op(OpKind::read, "read"), op(OpKind::pwrite, "pwrite")},
					   {{OpKind::read, 100}, {OpKind::pwrite, 50}}, 2);
	ASSERT_TRUE(plan.applies);
	std::map<std::string, uint64_t> fig = {{"scull_read", 100},   {"scull_write", 51},     {"scull_qset_alloc", 0},
					       {"scull_qset_free", 0}, {"scull_trim", 0},       {"alloc_then_write", 0},
					       {"alloc_no_write", 0},  {"no_slot", 0}};
	EXPECT_EQ(findings(fig, plan), 0u);
	fig["scull_read"] = 99;  // a transfer without its event
	EXPECT_EQ(findings(fig, plan), 1u);
	fig["scull_read"] = 103;  // more than the threads' in-flight operations
	EXPECT_EQ(findings(fig, plan), 1u);
	fig["scull_read"] = 100;
	fig["scull_qset_alloc"] = 1;  // prefilled: no set is new
	EXPECT_EQ(findings(fig, plan), 1u);
	fig.erase("scull_qset_alloc");
	fig.erase("scull_trim");
	EXPECT_EQ(findings(fig, plan), 2u);  // missing figures are findings
}

TEST(TraceCheck, CounterOneChangePerIncrement)
{
	const auto plan = counter_trace_plan({op(OpKind::incr, "incr"), op(OpKind::read, "read")},
					     {{OpKind::incr, 10}, {OpKind::read, 10}}, 1);
	ASSERT_TRUE(plan.applies);
	EXPECT_EQ(findings({{"counter_change", 10}}, plan), 0u);
	EXPECT_EQ(findings({{"counter_change", 20}}, plan), 1u);  // reads fire nothing
}

TEST(TraceCheck, LkpEncOneOfEachPerEncrypt)
{
	const auto plan = lkp_enc_trace_plan({op(OpKind::encrypt, "encrypt")}, {{OpKind::encrypt, 30}}, 1);
	ASSERT_TRUE(plan.applies);
	std::map<std::string, uint64_t> fig = {{"lkp_enc_seed_write", 30},  {"lkp_enc_string_write", 31},
					       {"lkp_enc_string_read", 31}, {"phase:seed_to_write", 30},
					       {"phase:write_to_read", 31}, {"encrypts", 30},
					       {"out_of_order", 0},         {"no_slot", 0}};
	EXPECT_EQ(findings(fig, plan), 0u);
	fig["out_of_order"] = 1;
	EXPECT_EQ(findings(fig, plan), 1u);
	fig["out_of_order"] = 0;
	fig["lkp_enc_seed_write"] = 60;  // two seeds per cycle
	EXPECT_EQ(findings(fig, plan), 1u);
}

TEST(TraceCheck, UnmodelledOperationsAreNotChecked)
{
	const auto plan = lkp_enc_trace_plan({op(OpKind::encrypt, "encrypt"), op(OpKind::read, "read")}, {}, 1);
	EXPECT_FALSE(plan.applies);
	EXPECT_NE(plan.not_checked.find("read"), std::string::npos);
	EXPECT_FALSE(no_trace_plan({}, {}, 1).applies);
}

// The sets a prefill stores into, from the geometry: every set a region
// touches, each counted once however many regions touch it.
TEST(TraceCheck, ScullSetsWrittenFollowTheGeometry)
{
	const uint64_t mib = 1 << 20;
	EXPECT_EQ(scull_sets_written(4000, 1000, {{0, mib}}), 1u);            // 1 MiB in the first 4 MB set
	EXPECT_EQ(scull_sets_written(4000, 1000, {{0, mib}, {mib, mib}}), 1u);  // two threads, one set
	EXPECT_EQ(scull_sets_written(4000, 1000, {{0, 4000000}}), 1u);        // exactly one set
	EXPECT_EQ(scull_sets_written(4000, 1000, {{0, 4000001}}), 2u);        // one byte into the next
	EXPECT_EQ(scull_sets_written(4000, 10, {{0, mib}, {mib, mib}}), 53u);   // 40,000-byte sets: ceil(2 MiB / 40,000)
	EXPECT_EQ(scull_sets_written(4000, 10, {{mib, mib}, {0, mib}}), 53u);   // order does not matter
	EXPECT_EQ(scull_sets_written(4000, 10, {{0, 1}, {400000, 1}}), 2u);     // sets 0 and 10, not the hole between
	EXPECT_EQ(scull_sets_written(100, 10, {{0, 2000}, {500, 1000}}), 2u);   // overlapping regions
	EXPECT_EQ(scull_sets_written(0, 1000, {{0, mib}}), 0u);                // geometry unknown
}

TEST(TraceCheck, ScullSetupAllocatesEveryPrefilledSetOnce)
{
	SetupFacts f;
	f.emptied = true;
	f.quantum = 4000;
	f.qset = 10;
	f.regions = {{0, 100000}};  // sets 0, 1, 2 of 40,000 bytes
	f.writes = 26;
	const auto plan = scull_setup_plan(f);
	ASSERT_TRUE(plan.applies);
	std::map<std::string, uint64_t> fig = {{"scull_trim", 1},       {"scull_qset_alloc", 3}, {"alloc_then_write", 3},
					       {"alloc_no_write", 0},   {"scull_write", 26},     {"scull_read", 0},
					       {"scull_qset_free", 7},  {"no_slot", 0}};
	EXPECT_EQ(findings(fig, plan), 0u);  // qset_free: whatever the device held before the trim
	fig["scull_qset_alloc"] = 2;           // a new set without its allocation event
	EXPECT_EQ(findings(fig, plan), 1u);
	fig["scull_qset_alloc"] = 4;           // exact: no slack in the set-up
	EXPECT_EQ(findings(fig, plan), 1u);
	fig["scull_qset_alloc"] = 3;
	fig["scull_write"] = 27;
	EXPECT_EQ(findings(fig, plan), 1u);
	fig["scull_write"] = 26;
	fig["scull_trim"] = 0;
	EXPECT_EQ(findings(fig, plan), 1u);
}

TEST(TraceCheck, ScullSetupWithoutPrefillStoresNothing)
{
	const auto plan = scull_setup_plan(SetupFacts{});
	ASSERT_TRUE(plan.applies);
	std::map<std::string, uint64_t> fig = {{"scull_trim", 0}, {"scull_qset_alloc", 0}, {"scull_qset_free", 0},
					       {"scull_write", 0}, {"scull_read", 0}};
	EXPECT_EQ(findings(fig, plan), 0u);
	fig["scull_qset_alloc"] = 1;
	EXPECT_EQ(findings(fig, plan), 1u);
	SetupFacts not_emptied;
	not_emptied.regions = {{0, 1000}};  // prefilled over whatever the device held: not modelled
	EXPECT_FALSE(scull_setup_plan(not_emptied).applies);
	SetupFacts unknown;
	unknown.emptied = true;
	unknown.regions = {{0, 1000}};  // geometry query failed
	EXPECT_FALSE(scull_setup_plan(unknown).applies);
}

TEST(TraceCheck, CounterAndLkpEncSetupsFireNothing)
{
	EXPECT_EQ(findings({{"counter_change", 0}}, counter_setup_plan({})), 0u);
	EXPECT_EQ(findings({{"counter_change", 1}}, counter_setup_plan({})), 1u);
	const std::map<std::string, uint64_t> lkp = {
		{"lkp_enc_seed_write", 0}, {"lkp_enc_string_write", 1}, {"lkp_enc_string_read", 0}};
	EXPECT_EQ(findings(lkp, lkp_enc_setup_plan({})), 1u);
	EXPECT_FALSE(no_setup_plan({}).applies);
}

}  // namespace
}  // namespace kmodlab
