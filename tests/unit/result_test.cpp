// result_test.cpp - kcxx::Error, Result<T> and KCXX_TRY on the host.
#include <gtest/gtest.h>

#include <kcxx/error.h>

using namespace kcxx;

namespace {

Result<int> parse_positive(int v)
{
	if (v <= 0)
		return errc::inval;
	return v;
}

int calls_after_try = 0;

Result<int> doubled(int v)
{
	int x = KCXX_TRY(parse_positive(v));
	calls_after_try++;
	return 2 * x;
}

Result<void> void_chain(int v)
{
	KCXX_TRY(doubled(v));
	return ok();
}

struct MoveOnly {
	int v;
	explicit MoveOnly(int x) : v(x) {}
	MoveOnly(MoveOnly &&o) : v(o.v) { o.v = -1; }
	MoveOnly(const MoveOnly &) = delete;
};

Result<MoveOnly> make_move_only(bool good)
{
	if (!good)
		return errc::nomem;
	return MoveOnly(7);
}

Result<int> take_move_only(bool good)
{
	MoveOnly m = KCXX_TRY(make_move_only(good));
	return m.v;
}

int destroyed = 0;
struct Counted {
	Counted() = default;
	Counted(Counted &&) {}
	~Counted() { destroyed++; }
};

} // namespace

TEST(Error, CodesAreNegativeErrnos)
{
	EXPECT_EQ(errc::inval.to_errno(), -EINVAL);
	EXPECT_EQ(errc::nomem.to_errno(), -ENOMEM);
	EXPECT_EQ(errc::fault.to_errno(), -EFAULT);
	EXPECT_EQ(errc::notty.to_errno(), -ENOTTY);
	EXPECT_EQ(errc::busy.to_errno(), -EBUSY);
	EXPECT_EQ(errc::nodev.to_errno(), -ENODEV);
	EXPECT_EQ(errc::range.to_errno(), -ERANGE);
	EXPECT_EQ(errc::restartsys.to_errno(), -ERESTARTSYS);
	EXPECT_EQ(errc::fault.to_long(), -static_cast<long>(EFAULT));
	EXPECT_TRUE(errc::inval == Error::from_errno(-EINVAL));
	EXPECT_FALSE(errc::inval == errc::fault);
}

TEST(Result, HoldsValueOrError)
{
	Result<int> good = parse_positive(5);
	ASSERT_TRUE(good.ok());
	EXPECT_EQ(good.value(), 5);
	Result<int> bad = parse_positive(-1);
	ASSERT_FALSE(bad.ok());
	EXPECT_TRUE(bad.error() == errc::inval);
	EXPECT_EQ(bad.value_or(42), 42);
}

TEST(Result, TryPropagatesTheErrorAndStopsTheFunction)
{
	calls_after_try = 0;
	Result<int> r = doubled(-3);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().to_errno(), -EINVAL);
	EXPECT_EQ(calls_after_try, 0) << "code after a failed KCXX_TRY ran";
	Result<int> g = doubled(21);
	ASSERT_TRUE(g.ok());
	EXPECT_EQ(g.value(), 42);
	EXPECT_EQ(calls_after_try, 1);
}

TEST(Result, VoidResultsPropagateToo)
{
	EXPECT_TRUE(void_chain(1).ok());
	Result<void> r = void_chain(0);
	ASSERT_FALSE(r.ok());
	EXPECT_TRUE(r.error() == errc::inval);
	EXPECT_EQ(to_errno_long(r), -EINVAL);
	EXPECT_EQ(to_errno_long(void_chain(3)), 0);
}

TEST(Result, MoveOnlyValuesAreMovedOut)
{
	Result<int> r = take_move_only(true);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r.value(), 7);
	Result<int> e = take_move_only(false);
	ASSERT_FALSE(e.ok());
	EXPECT_TRUE(e.error() == errc::nomem);
}

TEST(Result, DestroysItsValueExactlyOnceAndNeverAnError)
{
	destroyed = 0;
	{
		Result<Counted> r{Counted()};
		destroyed = 0; // the temporary
	}
	EXPECT_EQ(destroyed, 1);
	destroyed = 0;
	{
		Result<Counted> r{errc::io};
	}
	EXPECT_EQ(destroyed, 0);
}

TEST(Result, ToErrnoLongIsTheKernelConvention)
{
	EXPECT_EQ(to_errno_long(Result<long>(123L)), 123);
	EXPECT_EQ(to_errno_long(Result<long>(errc::fault)), -EFAULT);
}

// Zero cost: a Result<long> is a value and a flag, nothing hidden.
static_assert(sizeof(Result<long>) == 2 * sizeof(long));
static_assert(sizeof(Result<void>) == sizeof(int)); // 0 or the errno, as C returns it

static_assert(sizeof(Error) == sizeof(int));

// Error::from_errno: an out-of-range value known only at run time becomes
// -EINVAL (Rust-for-Linux's choice), so no Error ever holds 0 or a positive
// number; constants out of range do not compile (errno_out_of_range.cpp).
static int volatile runtime_value;
TEST(Error, FromErrnoOutOfRangeAtRunTimeIsEinval)
{
	runtime_value = 0;
	EXPECT_EQ(Error::from_errno(runtime_value).to_errno(), -EINVAL);
	runtime_value = 5;
	EXPECT_EQ(Error::from_errno(runtime_value).to_errno(), -EINVAL);
	runtime_value = -4096;
	EXPECT_EQ(Error::from_errno(runtime_value).to_errno(), -EINVAL);
	runtime_value = -4095;
	EXPECT_EQ(Error::from_errno(runtime_value).to_errno(), -4095);
	runtime_value = -EIO;
	EXPECT_EQ(Error::from_errno(runtime_value).to_errno(), -EIO);
}
static_assert(Error::from_errno(-1).to_errno() == -1);
static_assert(Error::from_errno(-4095).to_errno() == -4095);

TEST(Result, VoidKeepsItsInvariant)
{
	Result<void> good = ok();
	EXPECT_TRUE(good.ok());
	Result<void> bad = errc::nomem;
	EXPECT_FALSE(bad.ok());
	EXPECT_EQ(bad.error().to_errno(), -ENOMEM);
}

TEST(Result, ToResultIsRustsToResult)
{
	EXPECT_TRUE(to_result(0).ok());
	EXPECT_TRUE(to_result(7).ok()); // positive: success, as in Rust
	runtime_value = -EBUSY;
	Result<void> r = to_result(runtime_value);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().to_errno(), -EBUSY);
}

TEST(Checked, AddSubMulReportOverflow)
{
	constexpr long long max = __LONG_LONG_MAX__;
	EXPECT_EQ(checked_add(max - 1, 1LL, errc::range).value(), max);
	auto o = checked_add(max, 1LL, errc::range);
	ASSERT_FALSE(o.ok());
	EXPECT_EQ(o.error(), errc::range);
	EXPECT_FALSE(checked_sub(-max - 1, 1LL, errc::overflow).ok());
	EXPECT_FALSE(checked_mul(1LL << 62, 2LL, errc::overflow).ok());
	EXPECT_EQ(checked_mul(3, 4, errc::overflow).value(), 12);
	EXPECT_EQ(kcxx::min(3, 4), 3);
	EXPECT_EQ(kcxx::max(3u, 4u), 4u);
}
