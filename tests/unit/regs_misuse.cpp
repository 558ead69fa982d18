// regs_misuse.cpp - must NOT compile: one misuse of kcxx/regs.h or
// kcxx/bounded.h per KCXX_MISUSE value (tests/unit/CMakeLists.txt checks
// that the compiler reports kcxx's own message for each).
#include <kcxx/regs.h>
#include <uapi/lkp_enc.h>

using namespace kcxx;

#if KCXX_MISUSE == 1 // a register one byte past BAR0
static_assert(io::check_fits<io::Reg<LKP_ENC_BAR_SIZE - 3, u32>, LKP_ENC_BAR_SIZE>());
#elif KCXX_MISUSE == 2 // a 32-bit register at an odd offset
static_assert(io::check_fits<io::Reg<LKP_ENC_REG_STRING + 1, u32>, LKP_ENC_BAR_SIZE>());
#elif KCXX_MISUSE == 3 // the string buffer one element longer than BAR0 allows
static_assert(io::check_fits<io::RegArray<LKP_ENC_REG_STRING, char, LKP_ENC_BAR_SIZE - 3>,
			     LKP_ENC_BAR_SIZE>());
#elif KCXX_MISUSE == 4 // a constant above a Bounded's bound
constexpr auto b = Bounded<LKP_ENC_STRING_MAX>::constant<LKP_ENC_STRING_SIZE>();
#elif KCXX_MISUSE == 5 // a register of a width MMIO has no access for
using Bad = io::Reg<0, int>;
#else
#error "KCXX_MISUSE must be 1..5"
#endif
