// condvar_test.cpp - kcxx::BasicCondVar (kcxx/condvar.h) over the host lock
// backend of sync_test.cpp's kind and a user-space wait queue: the guard is
// released while asleep and held again on every return, the predicate is
// tested under the lock, a notify after a state change is not lost, a
// signal (before or during the sleep) gives -ERESTARTSYS with the lock
// held, and a Guard of another lock stops before sleeping.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <pthread.h>

#include <kcxx/condvar.h>

using namespace kcxx;

namespace {

// A pthread mutex that counts holders (so a test can see the lock is free
// while a waiter sleeps, and held again after).
struct HostLock {
	struct raw_type {
		pthread_mutex_t m;
		std::atomic<int> held;
	};
	static void init(raw_type *r, LockClass)
	{
		pthread_mutex_init(&r->m, nullptr);
		r->held = 0;
	}
	static void lock(raw_type *r)
	{
		pthread_mutex_lock(&r->m);
		r->held++;
	}
	static int lock_interruptible(raw_type *r)
	{
		lock(r);
		return 0;
	}
	static void unlock(raw_type *r)
	{
		r->held--;
		pthread_mutex_unlock(&r->m);
	}
};
using HostMutex = Lock<HostLock, long>;
HostLock::raw_type &raw(HostMutex &m) { return *reinterpret_cast<HostLock::raw_type *>(&m); }

// The "signal" a test sends: seen by signal_pending() and by prepare().
std::atomic<bool> g_signal{false};

// A wait queue: a generation counter bumped by every wake; a sleeper
// returns once the generation moved past the one it queued at (or a
// signal is pending).  Counts what the CondVar did.
struct HostWait {
	struct head_type {
		pthread_mutex_t m;
		pthread_cond_t c;
		unsigned long gen;
		int queued, prepares, wakes;
	};
	struct entry_type {
		head_type *h;
		unsigned long gen;
		bool interruptible;
	};
	static thread_local entry_type *current;

	static void init(head_type *h, LockClass)
	{
		pthread_mutex_init(&h->m, nullptr);
		pthread_cond_init(&h->c, nullptr);
		h->gen = 0;
		h->queued = h->prepares = h->wakes = 0;
	}
	static void init_entry(entry_type *e) { e->h = nullptr; }
	static long prepare(head_type *h, entry_type *e, bool interruptible)
	{
		pthread_mutex_lock(&h->m);
		h->prepares++;
		long r = 0;
		if (interruptible && g_signal) {
			r = -ERESTARTSYS;
		} else {
			e->h = h;
			e->gen = h->gen;
			e->interruptible = interruptible;
			h->queued++;
			current = e;
		}
		pthread_mutex_unlock(&h->m);
		return r;
	}
	static void sleep()
	{
		head_type *h = current->h;
		pthread_mutex_lock(&h->m);
		while (h->gen == current->gen && !(current->interruptible && g_signal))
			pthread_cond_wait(&h->c, &h->m);
		pthread_mutex_unlock(&h->m);
	}
	static bool signal_pending() { return g_signal; }
	static void finish(head_type *h, entry_type *e)
	{
		pthread_mutex_lock(&h->m);
		if (e->h)
			h->queued--;
		e->h = nullptr;
		pthread_mutex_unlock(&h->m);
	}
	static void wake(head_type *h, int)
	{
		pthread_mutex_lock(&h->m);
		h->gen++;
		h->wakes++;
		pthread_cond_broadcast(&h->c);
		pthread_mutex_unlock(&h->m);
	}
	static int queued(head_type *h)
	{
		pthread_mutex_lock(&h->m);
		int q = h->queued;
		pthread_mutex_unlock(&h->m);
		return q;
	}
	// "Send a signal": pending from now on, sleepers wake up.
	static void kill(head_type *h)
	{
		g_signal = true;
		pthread_mutex_lock(&h->m);
		pthread_cond_broadcast(&h->c);
		pthread_mutex_unlock(&h->m);
	}
};
thread_local HostWait::entry_type *HostWait::current;

using HostCondVar = BasicCondVar<HostMutex, HostWait>;

// The wait queue head is the first member (tests only).
HostWait::head_type &head(HostCondVar &cv) { return *reinterpret_cast<HostWait::head_type *>(&cv); }

// Wait until the condvar has a sleeper queued.
void until_queued(HostCondVar &cv)
{
	while (HostWait::queued(&head(cv)) == 0)
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

struct CondVarTest : testing::Test {
	void SetUp() override { g_signal = false; }
	void TearDown() override { g_signal = false; }
	HostMutex m{KCXX_LOCK_CLASS(cv_test_lock), 0L};
	HostCondVar cv{m, KCXX_LOCK_CLASS(cv_test_queue)};
};

} // namespace

TEST_F(CondVarTest, TruePredicateReturnsAtOnceWithoutQueueing)
{
	auto g = m.lock();
	*g = 1;
	EXPECT_TRUE(cv.wait_interruptible_until(g, [](long v) { return v == 1; }).ok());
	EXPECT_EQ(head(cv).prepares, 0);
	EXPECT_EQ(raw(m).held, 1);
}

TEST_F(CondVarTest, SleeperReleasesTheLockAndSeesTheNotifiedState)
{
	std::atomic<long> seen{-1};
	std::atomic<int> held_after{-1};
	std::thread waiter([&] {
		auto g = m.lock();
		Result<void> r = cv.wait_interruptible_until(g, [](long v) { return v >= 3; });
		held_after = raw(m).held.load();
		seen = r.ok() ? *g : -100;
	});
	until_queued(cv);
	for (long i = 1; i <= 3; i++) { // each step wakes it; only 3 satisfies it
		{
			auto g = m.lock(); // possible only because the sleeper let go
			EXPECT_EQ(raw(m).held, 1);
			*g = i;
		}
		cv.notify_all();
		if (i < 3)
			until_queued(cv);
	}
	waiter.join();
	EXPECT_EQ(seen, 3);
	EXPECT_EQ(held_after, 1) << "the wait returned without the lock";
	EXPECT_EQ(raw(m).held, 0);
	EXPECT_EQ(HostWait::queued(&head(cv)), 0) << "an entry stayed queued";
}

TEST_F(CondVarTest, PendingSignalGivesRestartsysWithTheLockHeld)
{
	g_signal = true;
	auto g = m.lock();
	Result<void> r = cv.wait_interruptible_until(g, [](long v) { return v != 0; });
	ASSERT_FALSE(r.ok());
	EXPECT_TRUE(r.error() == errc::restartsys);
	EXPECT_EQ(raw(m).held, 1);
	EXPECT_EQ(HostWait::queued(&head(cv)), 0);
}

TEST_F(CondVarTest, SignalDuringTheSleepGivesRestartsysWithTheLockHeld)
{
	std::atomic<int> result{0}, held_after{-1};
	std::thread waiter([&] {
		auto g = m.lock();
		Result<void> r = cv.wait_interruptible_until(g, [](long v) { return v != 0; });
		held_after = raw(m).held.load();
		result = r.ok() ? 1 : r.error() == errc::restartsys ? 2 : 3;
	});
	until_queued(cv);
	HostWait::kill(&head(cv));
	waiter.join();
	EXPECT_EQ(result, 2);
	EXPECT_EQ(held_after, 1);
	EXPECT_EQ(raw(m).held, 0);
}

TEST_F(CondVarTest, UninterruptibleWaitIgnoresSignals)
{
	std::atomic<bool> done{false};
	std::thread waiter([&] {
		auto g = m.lock();
		cv.wait(g);
		done = true;
	});
	until_queued(cv);
	g_signal = true; // no wake: wait() must keep sleeping on a signal alone
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	EXPECT_FALSE(done);
	g_signal = false;
	cv.notify_one();
	waiter.join();
	EXPECT_TRUE(done);
}

TEST_F(CondVarTest, GuardOfAnotherLockStopsBeforeSleeping)
{
	HostMutex other{KCXX_LOCK_CLASS(cv_test_other), 0L};
	EXPECT_DEATH(
		{
			auto g = other.lock();
			cv.wait(g);
		},
		"");
	EXPECT_EQ(head(cv).prepares, 0);
}

// One wait_interruptible() (no predicate loop): a signal that ends the
// sleep is reported by that call, not only by the next prepare.
TEST_F(CondVarTest, OneInterruptibleWaitReportsASignalThatEndedItsSleep)
{
	std::atomic<int> result{0};
	std::thread waiter([&] {
		auto g = m.lock();
		Result<void> r = cv.wait_interruptible(g);
		result = r.ok() ? 1 : r.error() == errc::restartsys ? 2 : 3;
	});
	until_queued(cv);
	HostWait::kill(&head(cv));
	waiter.join();
	EXPECT_EQ(result, 2);
}
