// condvar_misuse.cpp - must NOT compile: a CondVar made for one lock type
// waited on with the Guard of another (tests/unit/CMakeLists.txt checks
// that the compiler rejects the wait() call).
#include <kcxx/condvar.h>

struct NoWait {
	struct head_type {};
	struct entry_type {};
	static void init(head_type *, kcxx::LockClass) {}
	static void init_entry(entry_type *) {}
	static long prepare(head_type *, entry_type *, bool) { return 0; }
	static void sleep() {}
	static bool signal_pending() { return false; }
	static void finish(head_type *, entry_type *) {}
	static void wake(head_type *, int) {}
};
struct NoLock {
	struct raw_type {};
	static void init(raw_type *, kcxx::LockClass) {}
	static void lock(raw_type *) {}
	static void unlock(raw_type *) {}
};

void misuse()
{
	kcxx::Lock<NoLock, long> a{ KCXX_LOCK_CLASS(a) };
	kcxx::Lock<NoLock, int> b{ KCXX_LOCK_CLASS(b) };
	kcxx::BasicCondVar<kcxx::Lock<NoLock, long>, NoWait> cv{ a, KCXX_LOCK_CLASS(cv) };
	auto g = b.lock();
	cv.wait(g); // the Guard of b: must not compile
}
