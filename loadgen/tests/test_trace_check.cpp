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

}  // namespace
}  // namespace kmodlab
