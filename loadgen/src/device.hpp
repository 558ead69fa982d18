// device.hpp - what kmodlab-load knows about a target: which driver owns a
// device node (from its name, per uapi/kmodlab.h), and which operations are
// valid for it.  Every name and number comes from kmod/include/uapi/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kmodlab/caesar.hpp"

namespace kmodlab {

enum class DeviceKind { generic, scull, counter, lkp_enc, scullpipe };

const char *kind_name(DeviceKind k);

struct DeviceInfo {
	std::string path;
	DeviceKind kind = DeviceKind::generic;
	std::string base;     // "scull", "counter", "lkp_enc", "scullpipe"; empty for generic
	std::string variant;  // "c", "cxx"; empty for generic
	int minor_index = -1; // N of /dev/scull-cN, -1 if none
	std::string module;   // <base>_<variant>, empty for generic
};

// Parse a node path with the rule of uapi/kmodlab_dev.h: a name the rule
// makes, /dev/<base>-<variant>[N], is a kmodlab device; anything else
// (/dev/null, a regular file, /dev/scull-c without its index) is generic.
DeviceInfo classify_device(const std::string &path);

// The rule the other way (uapi/kmodlab_dev.h): "scull", "c" -> "scull_c";
// "scull", "c", 0 -> "/dev/scull-c0", "counter", "cxx", -1 -> "/dev/counter-cxx".
// std::invalid_argument for a name or minor index the rule does not make.
std::string module_name(const char *base, const char *variant);
std::string node_path(const char *base, const char *variant, int minor);
// The node every driver has: "/dev/scull-c0", "/dev/counter-c".
std::string first_node_path(const char *base, const char *variant);

enum class OpKind {
	read,     // read() at the file position
	write,    // write() at the file position
	pread,    // pread() at sequential or random offsets
	pwrite,   // pwrite() at sequential or random offsets
	incr,     // counter: write "1"
	encrypt,  // lkp_enc: write seed, write string, read string back
	ioctl,    // one ioctl of the device's uapi header
	// scullpipe, threads in pairs (worker.cpp, "paired loops"):
	pipe,      // odd thread writes --size bytes per call, even one reads (measured)
	pingpong,  // even thread: --size bytes out through one pipe and back through
		   // the next minor (measured round trip); odd thread echoes
};

// How an ioctl takes its argument.
enum class IoctlArg {
	none,       // _IO with no argument (RESET)
	value,      // _IO "Tell"/"sHift": the value itself
	int_ptr,    // pointer to int (scull S/G/X)
	s64_ptr,    // pointer to __s64 (counter GET/SET)
	u32_ptr,    // pointer to __u32 (lkp_enc seed)
	str_in,     // pointer to a NUL-terminated string (lkp_enc WRITE_STRING)
	str_out,    // pointer to a 256-byte buffer (lkp_enc READ_STRING)
};

struct IoctlSpec {
	const char *name;  // the uapi macro name, e.g. "SCULL_IOCQQUANTUM"
	unsigned long cmd;
	DeviceKind kind;
	IoctlArg arg;
	bool mutates;      // changes device state (matters for --check)
};

const std::vector<IoctlSpec> &all_ioctls();

struct OpSpec {
	OpKind kind = OpKind::read;
	std::string name;             // as the user wrote it: "read", "ioctl:COUNTER_IOC_GET"
	const IoctlSpec *ioctl = nullptr;
};

// Operation names valid for a kind of device ("read", ..., "ioctl:NAME").
std::vector<std::string> valid_ops(DeviceKind kind);

// Resolve an op name for a device kind; on failure false and a message that
// lists the valid ones.
bool lookup_op(DeviceKind kind, const std::string &name, OpSpec *out, std::string *error);

// Whether an operation moves data through a buffer whose size is --size.
bool op_uses_size(const OpSpec &op);

// The lkp_enc Caesar reference, kmodlab::caesar(), is include/kmodlab/caesar.hpp.

}  // namespace kmodlab
