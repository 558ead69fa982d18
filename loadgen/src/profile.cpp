// profile.cpp - the per-device profiles: every way kmodlab-load treats
// scull, counter, lkp_enc and any other file differently, one table entry
// per kind (run.hpp, DeviceProfile).  The names and numbers are the uapi
// headers'.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "run.hpp"

extern "C" {
#include "counter.h"
#include "lkp_enc.h"
#include "scull.h"
#include "scullpipe.h"
}

namespace kmodlab {
namespace {

constexpr uint64_t kDefaultLkpLen = 32;
// A pipe's default --size: the largest write that is atomic (never split).
constexpr uint64_t kDefaultPipeSize = SCULLPIPE_ATOMIC_WRITE;

bool mix_has(const Run &run, OpKind kind)
{
	for (const auto &o : run.ops)
		if (o.kind == kind)
			return true;
	return false;
}

// --check counts or compares device state: an ioctl that changes it behind
// the check's back makes the verdict meaningless.
void refuse_mutating_ioctls(const Run &run, const char *why, const char *effect)
{
	for (const auto &o : run.ops)
		if (o.ioctl && o.ioctl->mutates)
			die(why + o.name + effect);
}

void no_params(const Run &) {}
void no_setup(Run &, int) {}
void no_worker_state(const Run &, Worker &) {}

// Regions (scull, regular files): the workers read them back (worker.cpp).
void verify_regions(const Run &run, int, Verdict &v)
{
	v.ok_detail = std::to_string(run.opt.threads) + " region(s) of " + std::to_string(run.span) +
		      " bytes read back intact";
}

// --- generic: /dev/null, /dev/zero, regular files ---------------------------

void generic_refuse_check(const Run &run)
{
	if (!run.is_regular)
		die("--check needs a device that keeps data (scull, counter, lkp_enc or a regular file); " +
		    run.opt.device + " is not one");
}

// --- scull -----------------------------------------------------------------

void scull_refuse_check(const Run &) {}

void scull_check_params(const Run &run)
{
	int64_t max_bytes = SCULL_MAX_BYTES_DEFAULT;
	const auto it = run.params.find("max_bytes");
	if (it != run.params.end())
		max_bytes = std::stoll(it->second);
	if (static_cast<int64_t>(run.span * run.opt.threads) > max_bytes)
		die("--threads x --span = " + std::to_string(run.span * run.opt.threads) +
		    " bytes exceeds the device's max_bytes " + std::to_string(max_bytes));
}

// LDD3's trim: opening the device write-only empties it and makes it adopt
// the module's current geometry.
void scull_trim(const Run &run)
{
	const int fd = ::open(run.opt.device.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(run.opt.device + ": open O_WRONLY to empty it before the prefill: " + std::strerror(errno));
	close(fd);
}

// Under --bpf-trace the prefill starts on an emptied device, so every
// quantum set it stores into is a new one, allocated while BPF counts
// (trace_check.hpp, the set-up).  Then the geometry, which the device has
// from its last trim: setter ioctls get it back, so a run changes nothing,
// and the set-up check computes the prefill's quantum sets from it.
void scull_setup(Run &run, int ctl)
{
	if (run.opt.bpf_trace && run.prefill) {
		scull_trim(run);
		run.emptied = true;
	}
	run.scull_quantum = ioctl(ctl, SCULL_IOCQQUANTUM);
	run.scull_qset = ioctl(ctl, SCULL_IOCQQSET);
}

// --- counter ---------------------------------------------------------------

void counter_refuse_check(const Run &run)
{
	refuse_mutating_ioctls(run, "--check on a counter counts increments; ", " changes the value behind its back");
}

void counter_setup(Run &run, int ctl)
{
	run.counter_set = run.opt.ioctl_arg.value_or(0);
	if (run.opt.check && ioctl(ctl, COUNTER_IOC_RESET) < 0)
		die(run.opt.device + ": COUNTER_IOC_RESET before --check failed: " + std::strerror(errno));
}

// The value must equal the successful increments, through both interfaces.
void counter_verify(const Run &run, int ctl, Verdict &v)
{
	uint64_t incr = 0;
	for (auto &w : run.workers)
		incr += w->incr_ok;
	int64_t val = 0;
	char text[COUNTER_TEXT_MAX + 1] = {};
	if (ioctl(ctl, COUNTER_IOC_GET, &val) < 0)
		v.note(std::string("COUNTER_IOC_GET failed: ") + std::strerror(errno));
	else if (val != static_cast<int64_t>(incr))
		v.note("counter value " + std::to_string(val) + " after " + std::to_string(incr) + " increments");
	else if (pread(ctl, text, COUNTER_TEXT_MAX, 0) < 0 || std::to_string(val) + "\n" != text)
		v.note("counter read \"" + std::string(text) + "\" but COUNTER_IOC_GET says " + std::to_string(val));
	v.ok_detail = "counter value " + std::to_string(val) + " = increments made";
}

// --- lkp_enc ---------------------------------------------------------------

void lkp_refuse_check(const Run &run)
{
	refuse_mutating_ioctls(run, "--check on lkp_enc verifies encrypt cycles; ",
			       " would change the seed or string between their steps");
	if (!mix_has(run, OpKind::encrypt))
		die("--check on lkp_enc verifies encrypt cycles; the mix has none");
}

// The seed setter gets the current seed back unless --ioctl-arg says
// otherwise; the fixed text and seed serve several threads (the device
// holds one of each, see README "--check").
void lkp_setup(Run &run, int ctl)
{
	uint32_t cur = 0;
	if (!run.opt.ioctl_arg && ioctl(ctl, LKP_ENC_IOC_READ_SEED, &cur) == 0)
		run.lkp_seed_arg = cur;
	else
		run.lkp_seed_arg = static_cast<uint32_t>(run.opt.ioctl_arg.value_or(0));
	uint64_t r = run.opt.seed * 7919 + 17;
	run.lkp_fixed_text = random_text(r, run.size);
	run.lkp_fixed_seed = static_cast<uint32_t>(next_rand(r));
}

void lkp_init_worker(const Run &run, Worker &w)
{
	w.text = run.lkp_fixed_text;
	w.seed = run.lkp_fixed_seed;
}

// Every cycle was compared with the Caesar reference as it ran (worker.cpp).
void lkp_verify(const Run &, int, Verdict &v)
{
	v.ok_detail = "every encrypt read-back matched the Caesar reference";
}

// --- scullpipe -------------------------------------------------------------

// The paired loops (worker.cpp): one operation, threads in pairs, closed
// loop; pingpong uses two minors per pair from the node's on.
void scullpipe_check_params(const Run &run)
{
	const unsigned threads = run.opt.threads;
	if (!paired_op(run))
		die("a scullpipe run is one operation, pipe or pingpong, not a mix");
	if (threads % 2)
		die("--threads " + std::to_string(threads) +
		    ": scullpipe runs threads in pairs (writer and reader, or pinger and echoer); give an even number");
	if (run.opt.rate > 0)
		die("--rate: scullpipe runs are closed loops (each call waits for the other thread of its pair)");
	if (run.ops[0].kind != OpKind::pingpong)
		return;
	int nr_devs = SCULLPIPE_NR_DEVS_DEFAULT;
	const auto it = run.params.find("nr_devs");
	if (it != run.params.end())
		nr_devs = std::stoi(it->second);
	if (run.dev.minor_index + static_cast<int>(threads) > nr_devs)
		die("pingpong with --threads " + std::to_string(threads) + " uses minors " +
		    std::to_string(run.dev.minor_index) + ".." + std::to_string(run.dev.minor_index + threads - 1) +
		    " (two pipes per pair); the module has nr_devs=" + std::to_string(nr_devs));
}

// clang-format off
const DeviceProfile kProfiles[] = {
	// kind               default_size    max_size, what it measures              regions value_read
	{DeviceKind::generic, kDefaultSize,   0, "",                                  false,  false,
	 generic_refuse_check, no_params, no_setup, no_worker_state, verify_regions, no_trace_plan, no_setup_plan},
	{DeviceKind::scull,   kDefaultSize,   0, "",                                  true,   false,
	 scull_refuse_check, scull_check_params, scull_setup, no_worker_state, verify_regions, scull_trace_plan,
	 scull_setup_plan},
	{DeviceKind::counter, kDefaultSize,   0, "",                                  false,  true,
	 counter_refuse_check, no_params, counter_setup, no_worker_state, counter_verify, counter_trace_plan,
	 counter_setup_plan},
	{DeviceKind::lkp_enc, kDefaultLkpLen, LKP_ENC_STRING_MAX, "an lkp_enc string", false, false,
	 lkp_refuse_check, no_params, lkp_setup, lkp_init_worker, lkp_verify, lkp_enc_trace_plan,
	 lkp_enc_setup_plan},
	{DeviceKind::scullpipe, kDefaultPipeSize, 0, "",                            false,  false,
	 generic_refuse_check, scullpipe_check_params, no_setup, no_worker_state, verify_regions, no_trace_plan,
	 no_setup_plan},
};
// clang-format on

}  // namespace

const DeviceProfile &profile_of(DeviceKind kind)
{
	for (const auto &p : kProfiles)
		if (p.kind == kind)
			return p;
	die(std::string("internal: no device profile for ") + kind_name(kind));
}

}  // namespace kmodlab
