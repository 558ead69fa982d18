// gtest_main_selftest.cpp - the program gtest-timeout-selftest.sh runs
// against gtest_main.cpp's watchdog: a test that passes, one that fails on
// its own, one that blocks forever in a system call (as a test of a driver
// that never wakes its reader), and one after it that must not run.
#include <unistd.h>

#include <gtest/gtest.h>

TEST(Watchdog, Passes)
{
	SUCCEED();
}

TEST(Watchdog, FailsOnItsOwn)
{
	ADD_FAILURE() << "a failure of its own";
}

TEST(Watchdog, BlocksForever)
{
	for (;;)
		pause();
}

TEST(Watchdog, After)
{
	SUCCEED();
}
