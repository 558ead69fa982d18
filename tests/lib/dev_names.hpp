// dev_names.hpp - the lab's device node and module names for the C++ test
// clients (conformance, reliability), from the one rule in
// kmod/include/uapi/kmodlab_dev.h; a name the rule refuses is an exception.
#pragma once

#include <stdexcept>
#include <string>

#include <uapi/kmodlab_dev.h>

namespace kmodlab {

// "scull" + "c" -> "/dev/scull-c0" (scull takes a minor, the others none).
inline std::string node(const char *base, const std::string &variant, int minor = -1)
{
	char buf[128];
	if (kmodlab_dev_path(buf, sizeof(buf), base, variant.c_str(), minor) < 0)
		throw std::invalid_argument(std::string("no node ") + base + "/" + variant + "/" + std::to_string(minor) +
					    " in uapi/kmodlab_dev.h's rule");
	return buf;
}

// "scull" + "c" -> "scull_c" (the module).
inline std::string module_name(const char *base, const std::string &variant)
{
	char buf[128];
	if (kmodlab_module_name(buf, sizeof(buf), base, variant.c_str()) < 0)
		throw std::invalid_argument(std::string("no module ") + base + "/" + variant + " in uapi/kmodlab_dev.h's rule");
	return buf;
}

} // namespace kmodlab
