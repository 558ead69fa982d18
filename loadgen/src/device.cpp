// device.cpp - device classification and the operation tables.
#include "device.hpp"

#include <sys/ioctl.h>

#include <cctype>
#include <cstring>

extern "C" {
#include "counter.h"
#include "kmodlab.h"
#include "lkp_enc.h"
#include "scull.h"
}

namespace kmodlab {

const char *kind_name(DeviceKind k)
{
	switch (k) {
	case DeviceKind::scull: return SCULL_NAME;
	case DeviceKind::counter: return COUNTER_NAME;
	case DeviceKind::lkp_enc: return LKP_ENC_NAME;
	default: return "generic";
	}
}

DeviceInfo classify_device(const std::string &path)
{
	DeviceInfo d;
	d.path = path;
	const auto slash = path.rfind('/');
	const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
	// The variant follows the last separator: lkp_enc-cxx has '_' in its
	// base but never the separator.
	const auto sep = name.rfind(KMODLAB_DEV_SEP);
	if (sep == std::string::npos)
		return d;
	const std::string base = name.substr(0, sep);
	std::string rest = name.substr(sep + std::strlen(KMODLAB_DEV_SEP));
	size_t digits = rest.size();
	while (digits > 0 && std::isdigit(static_cast<unsigned char>(rest[digits - 1])))
		digits--;
	const std::string variant = rest.substr(0, digits);
	const std::string index = rest.substr(digits);
	if (variant != KMODLAB_VARIANT_C && variant != KMODLAB_VARIANT_CXX)
		return d;
	DeviceKind kind;
	if (base == SCULL_NAME)
		kind = DeviceKind::scull;
	else if (base == COUNTER_NAME)
		kind = DeviceKind::counter;
	else if (base == LKP_ENC_NAME)
		kind = DeviceKind::lkp_enc;
	else
		return d;
	// Only scull has numbered nodes.
	if (kind != DeviceKind::scull && !index.empty())
		return d;
	d.kind = kind;
	d.base = base;
	d.variant = variant;
	d.minor_index = index.empty() ? -1 : std::stoi(index);
	d.module = base + "_" + variant;
	return d;
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
		return true;
	default:
		return false;
	}
}

}  // namespace kmodlab
