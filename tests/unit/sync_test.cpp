// sync_test.cpp - the kcxx lock guard (Lock<Backend, T>) over a counting
// user-space backend, and kcxx::Atomic, on the host.
#include <gtest/gtest.h>

#include <thread>
#include <vector>
#include <pthread.h>

#include <kcxx/sync.h>

using namespace kcxx;

namespace {

// A real lock (pthread) that also counts what the guard did to it.
struct HostBackend {
	struct raw_type {
		pthread_mutex_t m;
		int locks, unlocks, held;
		bool fail_interruptible;
		const char *name;
		lock_key_type *key;
	};
	static void init(raw_type *r, LockClass cls)
	{
		const char *name = cls.name;
		r->key = cls.key;
		pthread_mutex_init(&r->m, nullptr);
		r->locks = r->unlocks = r->held = 0;
		r->fail_interruptible = false;
		r->name = name;
	}
	static void lock(raw_type *r)
	{
		pthread_mutex_lock(&r->m);
		r->locks++;
		r->held++;
	}
	static int lock_interruptible(raw_type *r)
	{
		if (r->fail_interruptible)
			return -ERESTARTSYS;
		lock(r);
		return 0;
	}
	static void unlock(raw_type *r)
	{
		r->unlocks++;
		r->held--;
		pthread_mutex_unlock(&r->m);
	}
};

using HostMutex = Lock<HostBackend, long>;

// Reach the backend state for checking (tests only).
HostBackend::raw_type &raw(HostMutex &m) { return *reinterpret_cast<HostBackend::raw_type *>(&m); }

Result<long> add_or_fail(HostMutex &m, long d)
{
	auto g = KCXX_TRY(m.lock_interruptible());
	if (d < 0)
		return errc::inval; // early return with the guard alive
	*g += d;
	return *g;
}

} // namespace

TEST(Lock, ConstructsDataAndInitialisesTheBackend)
{
	HostMutex m(KCXX_LOCK_CLASS(test_lock), 41L);
	EXPECT_STREQ(raw(m).name, "test_lock");
	auto g = m.lock();
	EXPECT_EQ(*g, 41);
}

// One lock class per declaration, as per mutex_init() call site in C:
// instances of one declaration share its key, two declarations never do.
struct TwoLocks {
	HostMutex a{KCXX_LOCK_CLASS(two_a), 0L};
	HostMutex b{KCXX_LOCK_CLASS(two_b), 0L};
};

TEST(Lock, EachDeclarationHasItsOwnClass)
{
	TwoLocks x, y;
	EXPECT_STREQ(raw(x.a).name, "two_a");
	EXPECT_STREQ(raw(x.b).name, "two_b");
	EXPECT_NE(raw(x.a).key, nullptr);
	EXPECT_NE(raw(x.a).key, raw(x.b).key);
	EXPECT_EQ(raw(x.a).key, raw(y.a).key);
	EXPECT_EQ(raw(x.b).key, raw(y.b).key);
}

TEST(Lock, GuardUnlocksExactlyOnceOnEveryPath)
{
	HostMutex m(KCXX_LOCK_CLASS(m), 0L);
	{
		auto g = m.lock();
		EXPECT_EQ(raw(m).held, 1);
		*g = 5;
	}
	EXPECT_EQ(raw(m).held, 0);
	EXPECT_EQ(raw(m).locks, 1);
	EXPECT_EQ(raw(m).unlocks, 1);

	EXPECT_FALSE(add_or_fail(m, -1).ok());
	EXPECT_EQ(raw(m).held, 0) << "error path left the lock held";
	Result<long> r = add_or_fail(m, 3);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r.value(), 8);
	EXPECT_EQ(raw(m).locks, raw(m).unlocks);
}

TEST(Lock, MovedFromGuardDoesNotUnlock)
{
	HostMutex m(KCXX_LOCK_CLASS(m), 0L);
	{
		auto g1 = m.lock();
		auto g2 = kcxx::move(g1);
		*g2 = 9;
		EXPECT_EQ(raw(m).held, 1);
	}
	EXPECT_EQ(raw(m).unlocks, 1);
	EXPECT_EQ(raw(m).held, 0);
}

TEST(Lock, InterruptedLockGivesERESTARTSYSAndNoGuard)
{
	HostMutex m(KCXX_LOCK_CLASS(m), 1L);
	raw(m).fail_interruptible = true;
	Result<long> r = add_or_fail(m, 1);
	ASSERT_FALSE(r.ok());
	EXPECT_TRUE(r.error() == errc::restartsys);
	EXPECT_EQ(raw(m).locks, 0);
	EXPECT_EQ(raw(m).unlocks, 0) << "unlocked a lock that was never taken";
}

TEST(Lock, SerialisesThreads)
{
	HostMutex m(KCXX_LOCK_CLASS(m), 0L);
	std::vector<std::thread> ts;
	for (int t = 0; t < 4; t++)
		ts.emplace_back([&] {
			for (int i = 0; i < 20000; i++)
				++*m.lock();
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(*m.lock(), 80000);
}

TEST(Atomic, LoadStoreAddExchange)
{
	Atomic<long long> a(5);
	EXPECT_EQ(a.load(), 5);
	a.store(-3);
	EXPECT_EQ(a.fetch_add(10), -3);
	EXPECT_EQ(a.load(), 7);
	long long expected = 6;
	EXPECT_FALSE(a.compare_exchange(expected, 100));
	EXPECT_EQ(expected, 7) << "failed CAS must report the current value";
	EXPECT_TRUE(a.compare_exchange(expected, 100));
	EXPECT_EQ(a.exchange(1), 100);
	EXPECT_EQ(read_once(expected), 7);
}

TEST(Atomic, ConcurrentAddsAreNotLost)
{
	Atomic<long long> a(0);
	std::vector<std::thread> ts;
	for (int t = 0; t < 4; t++)
		ts.emplace_back([&] {
			for (int i = 0; i < 50000; i++) {
				long long old = a.load();
				while (!a.compare_exchange(old, old + 1)) {
				}
			}
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(a.load(), 200000);
}
