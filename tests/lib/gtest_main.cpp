// gtest_main.cpp - main() of the GoogleTest programs that run in the guest
// (tests/conformance, tests/device): GoogleTest's own main plus a time limit
// per test.
//
// Why: a test that blocks forever (a driver that never wakes a sleeping
// reader, a lost notify) would hang its guest suite, and with it the whole
// guest run until vm/run's timeout, losing every later suite's results.
//
// KMODLAB_TEST_TIMEOUT=N (seconds; unset or 0: no limit; the guest suites
// set it from kmodlab.conf TEST_CASE_TIMEOUT_S through tests/lib/check.sh's
// check_gtest).  When one test runs longer than N seconds, a watchdog
// thread
//   - prints "[  TIMEOUT ] Suite.Test/param did not finish in N s",
//   - writes the XML that --gtest_output=xml:FILE asked for: every test
//     that finished, with its own result; the timed-out one as a failure
//     whose message names the limit; the tests that never started as
//     skipped ("not run: ... timed out before it"),
//   - ends the program with status 1 (a failing run): a thread blocked
//     in the kernel cannot be unwound, only killed with its process.
// Tests after the timed-out one do not run.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

namespace {

// A failing run, as RUN_ALL_TESTS() returns for one; not timeout(1)'s 124,
// which check.sh's check_bounded keeps for the program killed as a whole.
constexpr int kExitTimeout = 1;

std::string xml_escape(const std::string &s)
{
	std::string out;
	for (char c : s) {
		switch (c) {
		case '&': out += "&amp;"; break;
		case '<': out += "&lt;"; break;
		case '>': out += "&gt;"; break;
		case '"': out += "&quot;"; break;
		default:
			if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t')
				out += c;
		}
	}
	return out;
}

std::string full_name(const testing::TestInfo &t)
{
	return std::string(t.test_suite_name()) + "." + t.name();
}

// One <testcase>: a finished test's own result, the timed-out one, or one
// that never started.
enum class Fate { finished, timed_out, not_run };

void write_case(std::ofstream &x, const testing::TestInfo &t, Fate fate, const std::string &why)
{
	const testing::TestResult &r = *t.result();
	double secs = fate == Fate::finished ? r.elapsed_time() / 1000.0 : 0;
	x << "    <testcase name=\"" << xml_escape(t.name()) << "\" classname=\""
	  << xml_escape(t.test_suite_name()) << "\" time=\"" << secs << "\"";
	if (t.value_param())
		x << " value_param=\"" << xml_escape(t.value_param()) << "\"";
	x << ">\n";
	if (fate == Fate::timed_out) {
		x << "      <failure message=\"" << xml_escape(why) << "\">" << xml_escape(why)
		  << "</failure>\n";
	} else if (fate == Fate::not_run) {
		x << "      <skipped message=\"" << xml_escape(why) << "\"/>\n";
	} else if (r.Skipped()) {
		x << "      <skipped message=\"skipped\"/>\n";
	} else {
		for (int i = 0; i < r.total_part_count(); i++) {
			const testing::TestPartResult &p = r.GetTestPartResult(i);
			if (!p.failed())
				continue;
			std::string where = std::string(p.file_name() ? p.file_name() : "?") + ":" +
					    std::to_string(p.line_number());
			x << "      <failure message=\"" << xml_escape(where) << "\">"
			  << xml_escape(where + "\n" + p.message()) << "</failure>\n";
		}
	}
	x << "    </testcase>\n";
}

// The watchdog's state, shared by the listener (GoogleTest's thread) and
// the watchdog thread.  Never freed: GoogleTest deletes its listeners at
// exit while the detached thread still waits on the condition variable.
struct Watch {
	explicit Watch(int seconds) : limit(seconds) {}
	const int limit;
	std::mutex m;
	std::condition_variable cv;
	const testing::TestInfo *current = nullptr;
	std::chrono::steady_clock::time_point deadline;
	std::set<const testing::TestInfo *> finished;
};

// --gtest_output=xml:FILE (or xml: default test_detail.xml); a folder
// (trailing /) or another format: no XML, the message and status only.
void write_xml(const Watch &w, const testing::TestInfo &stopped, const std::string &why)
{
	std::string out = GTEST_FLAG_GET(output);
	if (out.rfind("xml", 0) != 0)
		return;
	std::string path = out.size() > 4 ? out.substr(4) : "test_detail.xml";
	if (path.back() == '/')
		return;
	std::ofstream x(path);
	const testing::UnitTest &u = *testing::UnitTest::GetInstance();
	x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"AllTests\">\n";
	for (int i = 0; i < u.total_test_suite_count(); i++) {
		const testing::TestSuite &s = *u.GetTestSuite(i);
		x << "  <testsuite name=\"" << xml_escape(s.name()) << "\">\n";
		for (int j = 0; j < s.total_test_count(); j++) {
			const testing::TestInfo &t = *s.GetTestInfo(j);
			if (!t.should_run())
				continue;
			if (&t == &stopped)
				write_case(x, t, Fate::timed_out, why);
			else if (w.finished.count(&t))
				write_case(x, t, Fate::finished, "");
			else
				write_case(x, t, Fate::not_run,
					   "not run: " + full_name(stopped) + " timed out before it");
		}
		x << "  </testsuite>\n";
	}
	x << "</testsuites>\n";
}

[[noreturn]] void expire(const Watch &w, const testing::TestInfo &t)
{
	std::string why = full_name(t) + " did not finish in " + std::to_string(w.limit) +
			  " s (KMODLAB_TEST_TIMEOUT): stopped, blocked or too slow";
	fflush(stdout);
	fprintf(stderr, "[  TIMEOUT ] %s\n", why.c_str());
	write_xml(w, t, why);
	fflush(stderr);
	_exit(kExitTimeout);
}

// The watchdog thread: sleeps until the running test's deadline.
void watch(Watch &w)
{
	std::unique_lock<std::mutex> l(w.m);
	for (;;) {
		if (!w.current)
			w.cv.wait(l);
		else if (std::chrono::steady_clock::now() >= w.deadline)
			expire(w, *w.current);
		else
			w.cv.wait_until(l, w.deadline);
	}
}

class Watchdog : public testing::EmptyTestEventListener {
public:
	explicit Watchdog(int seconds) : w_(new Watch(seconds))
	{
		std::thread([w = w_] { watch(*w); }).detach();
	}

	// From before SetUp() to after TearDown(): the whole test is timed.
	void OnTestStart(const testing::TestInfo &t) override
	{
		std::lock_guard<std::mutex> l(w_->m);
		w_->current = &t;
		w_->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(w_->limit);
		w_->cv.notify_one();
	}
	void OnTestEnd(const testing::TestInfo &t) override
	{
		std::lock_guard<std::mutex> l(w_->m);
		w_->finished.insert(&t);
		w_->current = nullptr;
	}

private:
	Watch *w_;
};

} // namespace

int main(int argc, char **argv)
{
	testing::InitGoogleTest(&argc, argv);
	const char *env = std::getenv("KMODLAB_TEST_TIMEOUT");
	int limit = env ? std::atoi(env) : 0;
	if (limit > 0)
		testing::UnitTest::GetInstance()->listeners().Append(new Watchdog(limit));
	return RUN_ALL_TESTS();
}
