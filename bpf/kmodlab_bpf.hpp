// kmodlab_bpf.hpp - the C++ interface between the BPF tools (bpf/) and their
// users (kmodlab-load --bpf, kmodlab-trace).  bpf/ implements it in the
// static library target `kmodlab_bpf`; loadgen/ links that target.
//
// A Session loads and attaches the per-operation latency (opslat) and lock
// contention (lockstat) programs for a set of target devices, and renders
// what they collected as JSON and as text tables.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace kmodlab::bpf {

struct Options {
	// Device numbers (st_rdev) whose file descriptors are traced.
	std::vector<dev_t> devices;
	bool opslat = true;    // per (device, operation) latency histograms
	bool lockstat = true;  // lock:contention_begin/end inside target syscalls
};

class Session {
public:
	// Loads and verifies the programs; nothing is attached yet.  On failure
	// returns nullptr and puts a message that says what to do into *error.
	static std::unique_ptr<Session> open(const Options &opts, std::string *error);
	virtual ~Session() = default;

	// attach() before the measured phase, detach() after it; returns false
	// and fills *error on failure.
	virtual bool attach(std::string *error) = 0;
	virtual void detach() = 0;

	// Everything collected, as one JSON object (see bpf/README.md for the
	// fields), and as human-readable tables.
	virtual std::string json() const = 0;
	virtual std::string text() const = 0;
};

}  // namespace kmodlab::bpf
