// kallsyms.cpp - /proc/kallsyms for the session: names for lock addresses
// (data symbols of the kernel image and modules, demangled, never a raw
// pointer) and the functions of loaded modules (fentry/kprobe targets).
#include "session_internal.hpp"

#include <fnmatch.h>

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kmodlab::bpf {

void Kallsyms::load(std::vector<std::string> *notes)
{
	auto read_all = [this]() {
		syms_.clear();
		std::ifstream in("/proc/kallsyms");
		std::string line;
		bool nonzero = false;
		while (std::getline(in, line)) {
			std::istringstream ls(line);
			std::string addr, type, name, mod;
			if (!(ls >> addr >> type >> name))
				continue;
			ls >> mod;
			Sym s;
			s.addr = strtoull(addr.c_str(), nullptr, 16);
			s.type = type[0];
			s.name = name;
			if (mod.size() > 2 && mod.front() == '[')
				s.module = mod.substr(1, mod.size() - 2);
			nonzero |= s.addr != 0;
			syms_.push_back(std::move(s));
		}
		return nonzero;
	};
	if (read_all() || syms_.empty()) {
		sort();
		return;
	}
	// Addresses hidden (kptr_restrict): root may lift that for the read.
	std::string old;
	{
		std::ifstream k("/proc/sys/kernel/kptr_restrict");
		std::getline(k, old);
	}
	std::ofstream w("/proc/sys/kernel/kptr_restrict");
	if (w && (w << "0" << std::flush)) {
		w.close();
		read_all();
		std::ofstream r("/proc/sys/kernel/kptr_restrict");
		r << old << std::flush;
		notes->push_back("kptr_restrict was " + old +
				 ": set to 0 while reading /proc/kallsyms, then restored");
	} else {
		notes->push_back("/proc/kallsyms shows no addresses (kptr_restrict=" + old +
				 ", not root?): locks are not symbolized");
	}
	sort();
}

void Kallsyms::sort()
{
	std::sort(syms_.begin(), syms_.end(), [](const Sym &a, const Sym &b) { return a.addr < b.addr; });
}

namespace {
bool is_mangled(const std::string &n) { return n.compare(0, 2, "_Z") == 0; }

// A C++ symbol without its mangling (a lock in kcxx module storage that has
// no KCXX_LOCK_SYMBOL): a report never shows "_ZL19kcxx_module_storage".
std::string demangled(const std::string &n)
{
	if (!is_mangled(n))
		return n;
	int st = 0;
	char *d = abi::__cxa_demangle(n.c_str(), nullptr, nullptr, &st);
	std::string out = st == 0 && d ? d : "<c++ symbol>";
	free(d);
	return out;
}
} // namespace

// Static locks live in the kernel image or a module's data (addresses in
// the top 2 GiB, where both are mapped on x86-64); anything else (direct
// map, vmalloc) is heap and would only match a far-away symbol by chance.
std::string Kallsyms::lock_name(uint64_t addr, uint64_t salt) const
{
	const uint64_t kTextTop = 0xffffffff80000000ull;
	if (addr >= kTextTop) {
		auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
					   [](uint64_t a, const Sym &s) { return a < s.addr; });
		while (it != syms_.begin()) {
			--it;
			// Data and bss symbols only (a lock is not code).
			char t = char(tolower(it->type));
			if (t != 'd' && t != 'b' && t != 'r')
				continue;
			uint64_t off = addr - it->addr;
			if (off >= 65536)
				break;
			// Several symbols at one address (a kcxx lock's KCXX_LOCK_SYMBOL
			// at offset 0 of the module storage): the C-style name wins.
			for (auto j = it; j != syms_.begin() && (j - 1)->addr == it->addr;) {
				--j;
				if (is_mangled(it->name) && !is_mangled(j->name) && strchr("dbrDBR", j->type))
					it = j;
			}
			std::string s = demangled(it->name);
			if (off)
				s += fmt("+0x%llx", (unsigned long long)off);
			if (!it->module.empty())
				s += " [" + it->module + "]";
			return s;
		}
	}
	// Never print a raw kernel pointer: a salted FNV-1a hash identifies the
	// lock within this session only.
	uint64_t h = 1469598103934665603ull;
	uint64_t v = addr ^ salt;
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ull;
	}
	return fmt("<heap>#%08llx", (unsigned long long)(h & 0xffffffffull));
}

std::vector<std::pair<std::string, std::string>> Kallsyms::module_functions(const std::string &pattern) const
{
	std::vector<std::pair<std::string, std::string>> out;
	for (const auto &s : syms_) {
		char t = char(tolower(s.type));
		if (t != 't' || s.module.empty() || s.name.find('.') != std::string::npos)
			continue;
		if (fnmatch(pattern.c_str(), s.name.c_str(), 0) == 0)
			out.emplace_back(s.name, s.module);
	}
	return out;
}

} // namespace kmodlab::bpf
