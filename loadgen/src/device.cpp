// device.cpp - device classification and the operation tables.
#include "device.hpp"

#include <sys/ioctl.h>

#include <cstring>
#include <stdexcept>

extern "C" {
#include "counter.h"
#include "kmodlab_dev.h"
#include "lkp_enc.h"
#include "scull.h"
#include "scullpipe.h"
}

namespace kmodlab {

const char *kind_name(DeviceKind k)
{
	switch (k) {
	case DeviceKind::scull: return SCULL_NAME;
	case DeviceKind::counter: return COUNTER_NAME;
	case DeviceKind::lkp_enc: return LKP_ENC_NAME;
	case DeviceKind::scullpipe: return SCULLPIPE_NAME;
	default: return "generic";
	}
}

// The kinds this tool knows, by the uapi base name.  A driver that
// kmodlab_dev.h lists and this tool lacks is an error, never "generic"
// (ctest loadgen.Device.EveryUapiDriverClassifies catches it first).
static DeviceKind kind_of_driver(const char *base)
{
	for (DeviceKind k : {DeviceKind::scull, DeviceKind::counter, DeviceKind::lkp_enc, DeviceKind::scullpipe})
		if (!std::strcmp(kind_name(k), base))
			return k;
	throw std::logic_error(std::string("kmodlab-load has no operations for driver '") + base +
			       "' (listed in uapi/kmodlab_dev.h): add it to loadgen/src/device.cpp");
}

DeviceInfo classify_device(const std::string &path)
{
	DeviceInfo d;
	d.path = path;
	kmodlab_dev_name n;
	if (kmodlab_dev_parse(path.c_str(), &n) != 0)
		return d;
	d.base = n.driver->name;
	d.kind = kind_of_driver(n.driver->name);
	d.variant = n.variant;
	d.minor_index = n.minor;
	d.module = module_name(d.base.c_str(), n.variant);
	return d;
}

std::string module_name(const char *base, const char *variant)
{
	char buf[128];
	if (kmodlab_module_name(buf, sizeof(buf), base, variant) < 0)
		throw std::invalid_argument(std::string("no kmodlab module for driver '") + base + "', variant '" + variant + "'");
	return buf;
}

std::string node_path(const char *base, const char *variant, int minor)
{
	char buf[128];
	if (kmodlab_dev_path(buf, sizeof(buf), base, variant, minor) < 0)
		throw std::invalid_argument(std::string("no kmodlab node for driver '") + base + "', variant '" + variant +
					    "', minor " + std::to_string(minor));
	return buf;
}

std::string first_node_path(const char *base, const char *variant)
{
	char buf[128];
	if (kmodlab_dev_first_path(buf, sizeof(buf), base, variant) < 0)
		throw std::invalid_argument(std::string("no kmodlab node for driver '") + base + "', variant '" + variant + "'");
	return buf;
}

// #name keeps the table's names identical to the header's macros.
#define KL_IOCTL(kind, name, arg, mutates) { #name, static_cast<unsigned long>(name), DeviceKind::kind, IoctlArg::arg, mutates }

const std::vector<IoctlSpec> &all_ioctls()
{
	static const std::vector<IoctlSpec> table = {
		KL_IOCTL(scull, SCULL_IOCRESET, none, true),
		KL_IOCTL(scull, SCULL_IOCSQUANTUM, int_ptr, true),
		KL_IOCTL(scull, SCULL_IOCSQSET, int_ptr, true),
		KL_IOCTL(scull, SCULL_IOCTQUANTUM, value, true),
		KL_IOCTL(scull, SCULL_IOCTQSET, value, true),
		KL_IOCTL(scull, SCULL_IOCGQUANTUM, int_ptr, false),
		KL_IOCTL(scull, SCULL_IOCGQSET, int_ptr, false),
		KL_IOCTL(scull, SCULL_IOCQQUANTUM, none, false),
		KL_IOCTL(scull, SCULL_IOCQQSET, none, false),
		KL_IOCTL(scull, SCULL_IOCXQUANTUM, int_ptr, true),
		KL_IOCTL(scull, SCULL_IOCXQSET, int_ptr, true),
		KL_IOCTL(scull, SCULL_IOCHQUANTUM, value, true),
		KL_IOCTL(scull, SCULL_IOCHQSET, value, true),
		KL_IOCTL(counter, COUNTER_IOC_RESET, none, true),
		KL_IOCTL(counter, COUNTER_IOC_GET, s64_ptr, false),
		KL_IOCTL(counter, COUNTER_IOC_SET, s64_ptr, true),
		KL_IOCTL(lkp_enc, LKP_ENC_IOC_WRITE_SEED, u32_ptr, true),
		KL_IOCTL(lkp_enc, LKP_ENC_IOC_READ_SEED, u32_ptr, false),
		KL_IOCTL(lkp_enc, LKP_ENC_IOC_WRITE_STRING, str_in, true),
		KL_IOCTL(lkp_enc, LKP_ENC_IOC_READ_STRING, str_out, false),
	};
	return table;
}

static std::vector<std::pair<const char *, OpKind>> plain_ops(DeviceKind kind)
{
	switch (kind) {
	case DeviceKind::generic:
	case DeviceKind::scull:
		return {{"read", OpKind::read}, {"write", OpKind::write},
			{"pread", OpKind::pread}, {"pwrite", OpKind::pwrite}};
	case DeviceKind::counter:
		return {{"read", OpKind::read}, {"incr", OpKind::incr}};
	case DeviceKind::lkp_enc:
		return {{"encrypt", OpKind::encrypt}};
	case DeviceKind::scullpipe:
		// A lone reader or writer of a pipe blocks: both workloads run
		// threads in pairs (one of each).
		return {{"pipe", OpKind::pipe}, {"pingpong", OpKind::pingpong}};
	}
	return {};
}

std::vector<std::string> valid_ops(DeviceKind kind)
{
	std::vector<std::string> out;
	for (const auto &p : plain_ops(kind))
		out.emplace_back(p.first);
	for (const auto &io : all_ioctls())
		if (io.kind == kind)
			out.push_back(std::string("ioctl:") + io.name);
	return out;
}

bool lookup_op(DeviceKind kind, const std::string &name, OpSpec *out, std::string *error)
{
	for (const auto &p : plain_ops(kind)) {
		if (name == p.first) {
			*out = OpSpec{p.second, name, nullptr};
			return true;
		}
	}
	if (name.rfind("ioctl:", 0) == 0) {
		const std::string macro = name.substr(6);
		for (const auto &io : all_ioctls()) {
			if (io.kind == kind && macro == io.name) {
				*out = OpSpec{OpKind::ioctl, name, &io};
				return true;
			}
		}
	}
	std::string list;
	for (const auto &v : valid_ops(kind))
		list += (list.empty() ? "" : ", ") + v;
	*error = "unknown operation '" + name + "' for a " + kind_name(kind) +
		 " device; valid: " + list;
	return false;
}

bool op_uses_size(const OpSpec &op)
{
	switch (op.kind) {
	case OpKind::read:
	case OpKind::write:
	case OpKind::pread:
	case OpKind::pwrite:
	case OpKind::pipe:
	case OpKind::pingpong:
		return true;
	default:
		return false;
	}
}

}  // namespace kmodlab
