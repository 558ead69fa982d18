// errno_out_of_range.cpp - must NOT compile: an Error made from a constant
// that is not a negative errno (tests/unit/CMakeLists.txt checks that the
// compiler stops at kcxx's range check, not at anything else).
#include <kcxx/error.h>

#ifdef KCXX_CONSTEXPR_CASE
// in a constant expression: constant evaluation fails in not_an_errno()
constexpr kcxx::Error bad = kcxx::Error::from_errno(5);
#else
// in ordinary code, the argument known after inlining: the kernel build's
// error attribute (this case compiles with -D__KERNEL__ -O2)
kcxx::Error make_bad()
{
	return kcxx::Error::from_errno(0);
}
#endif
