// vtable_mismatch.cpp - must NOT compile: the driver implements write but
// the KCXX_FILE_OPERATIONS list omits it (tests/unit/CMakeLists.txt checks
// that the compiler reports kcxx's static_assert about 'write').
#include "host_fops.h"

struct Driver {
	static kcxx::ssize_t read(file *, char *, kcxx::usize, kcxx::loff_t *) { return 0; }
	static kcxx::ssize_t write(file *, const char *, kcxx::usize n, kcxx::loff_t *) { return n; }
};
KCXX_FILE_OPERATIONS(Driver, mismatch, , read)
int owner;
constexpr host::file_operations t = kcxx::fs::make_vtable<host::file_operations, Driver, &owner>;
