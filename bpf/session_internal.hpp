// session_internal.hpp - pieces of the kmodlab_bpf library shared between
// its source files (not part of the interface).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kmodlab_bpf.hpp"

namespace kmodlab::bpf {

// /proc/kallsyms, for naming lock addresses and finding module functions.
class Kallsyms {
public:
	// Reads the table; if root sees only zero addresses (kptr_restrict),
	// lifts the restriction for the read and says so in *notes.
	void load(std::vector<std::string> *notes);
	// "sym+0xoff [module]" for a static lock, "<heap>#hash" otherwise.
	std::string lock_name(uint64_t addr, uint64_t salt) const;
	// (function, module) of module text symbols matching a glob.
	std::vector<std::pair<std::string, std::string>> module_functions(const std::string &pattern) const;

private:
	struct Sym {
		uint64_t addr;
		char type;
		std::string name, module;
	};
	void sort();
	std::vector<Sym> syms_;
};

uint64_t now_ns();  // CLOCK_MONOTONIC
// printf into a std::string (messages and names, at most 511 bytes).
std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

// v as printf("%.<decimals>f") shows it, as a number (fractional JSON
// figures keep the precision they always had).
double rounded(double v, int decimals);

// Per-CPU maps whose values are arrays of u64 (maps.cpp): one key's values
// summed over the CPUs (false if the key is missing); min and max, which do
// not add up, combined per CPU from the words count_w, min_w, max_w; every
// key below n set to zero.
bool read_percpu(int fd, const void *key, size_t value_size, int ncpu, std::vector<uint64_t> *sum);
void percpu_minmax(int fd, const void *key, size_t value_size, int ncpu, size_t count_w, size_t min_w,
		   size_t max_w, uint64_t *mn, uint64_t *mx);
void zero_percpu_array(int fd, uint32_t n, size_t value_size, int ncpu);

std::string render_json(const Report &r);
std::string render_text(const Report &r);

}  // namespace kmodlab::bpf
