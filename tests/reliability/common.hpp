// common.hpp - what kmodlab-fuzz, kmodlab-stress and kmodlab-hold share:
// device paths from the uapi names, a seeded PRNG, the Caesar reference,
// sysfs parameter access and a tiny JSON writer.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dev_names.hpp"
#include "kmodlab/caesar.hpp"

extern "C" {
#include <uapi/counter.h>
#include <uapi/kmodlab_dev.h>
#include <uapi/lkp_enc.h>
#include <uapi/scull.h>
#include <uapi/scullpipe.h>
}

namespace rel {

// Node and module names: tests/lib/dev_names.hpp (the uapi rule).
using kmodlab::node;
inline std::string module(const char *base, const std::string &variant)
{
	return kmodlab::module_name(base, variant);
}

inline std::vector<std::string> split_words(const std::string &s, char sep = ',')
{
	std::vector<std::string> out;
	std::string cur;
	for (char c : s) {
		if (c == sep || c == ' ') {
			if (!cur.empty())
				out.push_back(cur);
			cur.clear();
		} else {
			cur += c;
		}
	}
	if (!cur.empty())
		out.push_back(cur);
	return out;
}

// splitmix64: tiny, seedable, identical on every machine, so a printed seed
// replays the same sequence.
struct Rng {
	uint64_t s;
	explicit Rng(uint64_t seed) : s(seed) {}
	uint64_t next()
	{
		uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		return z ^ (z >> 31);
	}
	uint64_t below(uint64_t n) { return n ? next() % n : 0; }
	bool chance(unsigned pct) { return below(100) < pct; }
	template <class T> const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }
};

// The lkp_enc reference (include/kmodlab/caesar.hpp).
using kmodlab::caesar;

inline std::string param_path(const std::string &mod, const char *param)
{
	return "/sys/module/" + mod + "/parameters/" + param;
}

// Write a sysfs file; returns 0 or the errno the write failed with.
inline int sysfs_write(const std::string &path, const std::string &value)
{
	FILE *f = std::fopen(path.c_str(), "w");
	if (!f)
		return errno;
	int err = 0;
	if (std::fputs(value.c_str(), f) < 0)
		err = errno;
	if (std::fclose(f) != 0 && !err)
		err = errno;
	return err;
}

inline bool sysfs_read_long(const std::string &path, long *out)
{
	std::ifstream in(path);
	return static_cast<bool>(in >> *out);
}

inline std::string errno_name(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case ERANGE: return "ERANGE";
	case EOVERFLOW: return "EOVERFLOW";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "E" + std::to_string(e);
	}
}

inline std::string json_str(const std::string &s)
{
	std::string o = "\"";
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			o += '\\';
			o += static_cast<char>(c);
		} else if (c < 0x20) {
			char b[8];
			std::snprintf(b, sizeof(b), "\\u%04x", c);
			o += b;
		} else {
			o += static_cast<char>(c);
		}
	}
	return o + "\"";
}

template <class M> std::string json_counts(const M &m)
{
	std::string o = "{";
	bool first = true;
	for (const auto &[k, v] : m) {
		o += (first ? "" : ", ") + json_str(k) + ": " + std::to_string(v);
		first = false;
	}
	return o + "}";
}

inline std::string json_list(const std::vector<std::string> &v)
{
	std::string o = "[";
	for (size_t i = 0; i < v.size(); i++)
		o += (i ? ", " : "") + json_str(v[i]);
	return o + "]";
}

} // namespace rel
