// stress.hpp - what kmodlab-stress's parts share: the run's failures and
// counts (Shared), and the scullpipe stress (stress_scullpipe.cpp), which
// runs on its own device while stress.cpp's workers run on the others.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"

namespace rel::stress {

struct Shared {
	std::atomic<bool> stop{ false };
	std::atomic<uint64_t> ops{ 0 }, lkp_checks{ 0 }, scull_checks{ 0 };
	std::atomic<uint64_t> lost{ 0 };
	std::mutex mu;
	std::vector<std::string> failures;
	std::map<std::string, uint64_t> errnos;
	void fail(const std::string &m)
	{
		std::lock_guard<std::mutex> g(mu);
		lost++;
		if (failures.size() < 30) {
			fprintf(stderr, "FAIL %s\n", m.c_str());
			failures.push_back(m);
		}
	}
	void err(int e)
	{
		std::lock_guard<std::mutex> g(mu);
		errnos[errno_name(e)]++;
	}
};

// N writers of tagged records and M readers on /dev/scullpipe-<v>1.
// start() starts them; finish() (after Shared::stop) stops the writers,
// ends the stream and runs the oracle: every record read exactly once,
// each writer's in order, none torn, no byte lost or added.
class PipeStress {
public:
	PipeStress(const std::string &variant, unsigned writers, unsigned readers, uint64_t seed, Shared &sh);
	~PipeStress();
	bool start();
	void finish();
	// "records", "bytes" (read, the end marker not counted), "writers",
	// "readers", "lost" (failures of this part)
	std::string json() const;
	uint64_t records() const;
	uint64_t bytes() const;

private:
	struct State;
	std::unique_ptr<State> s;
};

} // namespace rel::stress
