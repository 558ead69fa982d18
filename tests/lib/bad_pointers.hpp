// bad_pointers.hpp - the one catalog of user pointers a driver must survive,
// shared by the conformance suites (every pointer no byte of which the
// kernel may touch must give EFAULT) and kmodlab-fuzz (which also needs the
// partly readable ones, with exactly how many bytes are usable).
//
// x86-64 addresses: user space ends below 0x0000800000000000; from there to
// 0xffff7fffffffffff addresses are non-canonical (a #GP, not a page fault,
// if dereferenced); the kernel's direct map starts at 0xffff888000000000
// and its text at 0xffffffff81000000 (without KASLR; with it, still kernel
// space).  access_ok() refuses all three before any copy is tried.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kmodlab::badptr {

constexpr uintptr_t kKernelDirectMap = 0xffff888000000000UL;  // valid kernel memory
constexpr uintptr_t kKernelText = 0xffffffff81000000UL;
constexpr uintptr_t kNonCanonical = 0x0000800000000000UL;  // first address past user space

inline long page_size()
{
	static const long page = sysconf(_SC_PAGESIZE);
	return page;
}

// Maps or dies: a test without its pages cannot say anything.
inline char *map_pages(size_t bytes)
{
	void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("bad_pointers: mmap");
		exit(2);
	}
	return static_cast<char *>(p);
}

// map_pages(bytes) followed by one PROT_NONE page: a call given a count
// larger than the buffer faults at its end instead of reaching whatever
// mapping lies next (mmap places new mappings against older ones; once
// scull moved whole requests, a long read ran past the fuzzer's buffer and
// the fuzzer died in libc).
inline char *map_guarded(size_t bytes)
{
	char *p = map_pages(bytes + page_size());
	if (mprotect(p + bytes, page_size(), PROT_NONE) != 0) {
		perror("bad_pointers: mprotect");
		exit(2);
	}
	return p;
}

// A page that was mapped and is no longer.  Nothing reuses it while the
// process runs: the page is taken once, and the tests that use it do not
// mmap afterwards except through this catalog.
inline char *unmapped_page()
{
	static char *addr = [] {
		char *p = map_pages(page_size());
		munmap(p, page_size());
		return p;
	}();
	return addr;
}

// A pointer no byte of which the kernel may access: the call must fail
// with EFAULT (or the VFS's own EFAULT/EINVAL before the driver runs).
struct BadPointer {
	const char *what;
	void *ptr;
};

inline std::vector<BadPointer> faulting()
{
	return {
		{ "NULL", nullptr },
		{ "unmapped", unmapped_page() },
		{ "kernel", reinterpret_cast<void *>(kKernelDirectMap) },
		{ "kernel-text", reinterpret_cast<void *>(kKernelText) },
		{ "non-canonical", reinterpret_cast<void *>(kNonCanonical) },
	};
}

// The partly usable ones.  Each page pair is two pages of which the second
// is inaccessible, so what the kernel can read or write from a pointer into
// the first is exact (a replayed call faults at the same byte).
struct EdgePages {
	// Read-only page followed by an inaccessible one; holds `text` then
	// spaces (so text-parsing devices can accept a write from it).
	char *readonly;
	// Writable page followed by an inaccessible one: a buffer of k bytes
	// ending at tail + page is usable for exactly k bytes.
	char *tail;

	explicit EdgePages(const std::string &text)
	{
		const long page = page_size();
		readonly = map_pages(2 * page);
		tail = map_pages(2 * page);
		memset(readonly, ' ', page);
		memcpy(readonly, text.data(), std::min<size_t>(text.size(), page));
		mprotect(readonly, page, PROT_READ);
		mprotect(readonly + page, page, PROT_NONE);
		mprotect(tail + page, page, PROT_NONE);
	}
	~EdgePages()
	{
		munmap(readonly, 2 * page_size());
		munmap(tail, 2 * page_size());
	}
	EdgePages(const EdgePages &) = delete;
	EdgePages &operator=(const EdgePages &) = delete;
};

}  // namespace kmodlab::badptr
