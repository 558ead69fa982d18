// regs_test.cpp - kcxx::Bounded and the register-map checks (kcxx/regs.h)
// on the host, against lkp_enc's real register map (uapi/lkp_enc.h).
#include <gtest/gtest.h>
#include <type_traits>

#include <kcxx/regs.h>
#include <uapi/lkp_enc.h>

using namespace kcxx;

namespace {

using Seed = io::Reg<LKP_ENC_REG_SEED, u32>;
using Text = io::RegArray<LKP_ENC_REG_STRING, char, LKP_ENC_STRING_SIZE>;

// lkp_enc's registers fit BAR0 (what kmod/cxx/lkp_enc.cpp relies on).
static_assert(io::check_fits<Seed, LKP_ENC_BAR_SIZE>());
static_assert(io::check_fits<Text, LKP_ENC_BAR_SIZE>());
// The last element of an array is reachable, one past it is not a valid index.
static_assert(Text::Index::max == LKP_ENC_STRING_SIZE - 1);
// A register ending exactly at the window's end fits.
static_assert(io::check_fits<io::Reg<LKP_ENC_BAR_SIZE - 4, u32>, LKP_ENC_BAR_SIZE>());

TEST(Bounded, ClampIsMin)
{
	EXPECT_EQ(Bounded<255>::clamp(0).get(), 0u);
	EXPECT_EQ(Bounded<255>::clamp(254).get(), 254u);
	EXPECT_EQ(Bounded<255>::clamp(255).get(), 255u);
	EXPECT_EQ(Bounded<255>::clamp(256).get(), 255u);
	EXPECT_EQ(Bounded<255>::clamp(~usize(0)).get(), 255u);
}

TEST(Bounded, CheckRejectsAboveTheBoundWithTheCallersError)
{
	auto in = Bounded<255>::check(255, errc::inval);
	ASSERT_TRUE(in.ok());
	EXPECT_EQ(in.value().get(), 255u);
	auto out = Bounded<255>::check(256, errc::range);
	ASSERT_FALSE(out.ok());
	EXPECT_EQ(out.error(), errc::range);
}

TEST(Bounded, ConstantAndWidening)
{
	constexpr auto c = Bounded<255>::constant<200>();
	static_assert(c.get() == 200);
	Bounded<256> wide = c; // a count <= 255 is a count <= 256
	EXPECT_EQ(wide.get(), 200u);
	static_assert(!std::is_convertible_v<Bounded<256>, Bounded<255>>, "narrowing must not compile");
	EXPECT_EQ(Bounded<7>().get(), 0u);
}

} // namespace
