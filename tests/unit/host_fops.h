// host_fops.h - a user-space stand-in for the kernel's struct file_operations
// and a test Adapter, so that kcxx/vtable.h's table builder and the
// KCXX_FILE_OPERATIONS entry-point generator run on the host.
#pragma once
#include <kcxx/vtable.h>

struct file;
struct inode;
struct poll_table_struct;

namespace host {
using kcxx::loff_t;
using kcxx::ssize_t;
using kcxx::usize;
struct file_operations {
	void *owner;
	loff_t (*llseek)(file *, loff_t, int);
	ssize_t (*read)(file *, char *, usize, loff_t *);
	ssize_t (*write)(file *, const char *, usize, loff_t *);
	unsigned int (*poll)(file *, struct poll_table_struct *);
	long (*unlocked_ioctl)(file *, unsigned int, unsigned long);
	long (*compat_ioctl)(file *, unsigned int, unsigned long);
	int (*open)(inode *, file *);
	int (*release)(inode *, file *);
	int (*fsync)(file *, loff_t, loff_t, int);
};
} // namespace host

// In a module this is kcxx/fs.h's Adapter (File, UserSlice ...); here the
// entry points forward their raw arguments so the tests can see them.
namespace kcxx::fs {
template <class T> struct Adapter {
	static loff_t llseek(file *f, loff_t off, int whence) { return T::llseek(f, off, whence); }
	static ssize_t read(file *f, char *b, usize n, loff_t *p) { return T::read(f, b, n, p); }
	static ssize_t write(file *f, const char *b, usize n, loff_t *p) { return T::write(f, b, n, p); }
	static unsigned int poll(file *f, struct poll_table_struct *p) { return T::poll(f, p); }
	static long ioctl(file *f, unsigned c, unsigned long a) { return T::ioctl(f, c, a); }
	static long compat_ioctl(file *f, unsigned c, unsigned long a) { return T::compat_ioctl(f, c, a); }
	static int open(inode *i, file *f) { return T::open(i, f); }
	static int release(inode *i, file *f) { return T::release(i, f); }
	static int fsync(file *f, loff_t s, loff_t e, int d) { return T::fsync(f, s, e, d); }
};
} // namespace kcxx::fs
