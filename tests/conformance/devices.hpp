// devices.hpp - what every conformance suite shares: the variant list, device
// paths built from the uapi names (never spelled by hand), and helpers for
// error paths (bad user pointers, dropped capabilities, forked children).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "bad_pointers.hpp"
#include "dev_names.hpp"

extern "C" {
#include <uapi/kmodlab_dev.h>
}

namespace kmodlab {

// Variants under test: both, or the space-separated KMODLAB_VARIANTS.
inline std::vector<std::string> variants()
{
	std::vector<std::string> all = { KMODLAB_VARIANT_C, KMODLAB_VARIANT_CXX };
	const char *env = std::getenv("KMODLAB_VARIANTS");
	if (!env || !*env)
		return all;
	std::vector<std::string> out;
	std::istringstream words(env);
	for (std::string w; words >> w;)
		out.push_back(w);
	return out;
}

inline bool exists(const std::string &path)
{
	struct stat st;
	return stat(path.c_str(), &st) == 0;
}

// The message a missing node fails with (a missing variant is a failure,
// never a skip).
inline std::string missing(const std::string &path, const char *base, const std::string &variant)
{
	return path + " not found: is " + module_name(base, variant) + " loaded?";
}

inline std::string read_text(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// Everything read() returns on a fresh open of the node, from offset 0 to
// EOF, in chunks of `chunk` bytes (short reads are part of what is tested).
inline std::string read_to_eof(const std::string &path, size_t chunk)
{
	int f = open(path.c_str(), O_RDONLY);
	EXPECT_GE(f, 0) << path << ": " << strerror(errno);
	std::string out;
	std::vector<char> buf(chunk);
	ssize_t r;
	while ((r = read(f, buf.data(), buf.size())) > 0)
		out.append(buf.data(), r);
	EXPECT_EQ(r, 0) << strerror(errno);
	close(f);
	return out;
}

inline std::string trim(std::string s)
{
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	return s;
}

inline std::string param(const std::string &module, const char *name)
{
	return trim(read_text("/sys/module/" + module + "/parameters/" + name));
}

// Write text to a sysfs file; errno of the failure, 0 on success.
inline int write_sysfs(const std::string &path, const std::string &text)
{
	int fd = open(path.c_str(), O_WRONLY);
	if (fd < 0)
		return errno;
	ssize_t n = write(fd, text.data(), text.size());
	int err = n < 0 ? errno : 0;
	close(fd);
	return err;
}

// Addresses a driver must refuse with -EFAULT: the catalog's wholly
// faulting pointers (tests/lib/bad_pointers.hpp).
using badptr::BadPointer;
inline std::vector<BadPointer> bad_pointers() { return badptr::faulting(); }

// Run fn in a forked child; returns its exit status (fn's return value),
// or -1 if the child died abnormally.  gtest assertions must not be used
// inside fn: report through the return value.
inline int in_child(const std::function<int()> &fn)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Drop CAP_SYS_ADMIN from the effective set of this (child) process.
inline bool drop_cap_sys_admin()
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) == 0;
}

// Errno as text for failure messages.
inline std::string err_name(int e)
{
	return std::to_string(e) + " (" + strerrordesc_np(e) + ")";
}

// Test-name suffix for a variant ("c", "cxx").
struct VariantName {
	std::string operator()(const testing::TestParamInfo<std::string> &info) const
	{
		return info.param;
	}
};

} // namespace kmodlab

// The call must fail with -1 and errno == err.
#define EXPECT_ERRNO(err, call)                                                              \
	do {                                                                                 \
		errno = 0;                                                                   \
		long r_ = static_cast<long>(call);                                           \
		int e_ = errno;                                                              \
		EXPECT_EQ(r_, -1) << #call << " should fail with " << kmodlab::err_name(err); \
		EXPECT_EQ(e_, (err)) << #call << ": got errno " << kmodlab::err_name(e_)     \
				     << ", want " << kmodlab::err_name(err);                 \
	} while (0)

// The call must succeed (not -1); shows errno otherwise.
#define ASSERT_OK(call)                                                                      \
	do {                                                                                 \
		errno = 0;                                                                   \
		long r_ = static_cast<long>(call);                                           \
		ASSERT_NE(r_, -1) << #call << " failed: " << kmodlab::err_name(errno);       \
	} while (0)
#define EXPECT_OK(call)                                                                      \
	do {                                                                                 \
		errno = 0;                                                                   \
		long r_ = static_cast<long>(call);                                           \
		EXPECT_NE(r_, -1) << #call << " failed: " << kmodlab::err_name(errno);       \
	} while (0)
