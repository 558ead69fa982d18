/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcxx/bindings.h - the exported kernel functions kcxx calls, declared for
 * C++ (Rust-for-Linux: the bindings crate).
 *
 * Only out-of-line, EXPORT_SYMBOL'd functions appear here, so a C++ call is
 * the same single direct call the C driver makes.  Kernel inline functions
 * are either re-expressed in kcxx at generated offsets (field accessors,
 * the get_user/put_user asm calls, copy_{to,from}_user's size checks) or
 * wrapped in kcxx/glue/kcxx_helpers.c; kmod-report.sh counts the latter.
 *
 * Prototypes follow Linux 6.1; struct pointers are opaque (kcxx/kabi.h).
 * Types differ only where C++ cannot spell the C one (struct class).
 */
#ifndef KCXX_BINDINGS_H
#define KCXX_BINDINGS_H

#include <kcxx/kabi.h>

extern "C" {
using kcxx::usize;
using kcxx::kabi::dev_t;
using kcxx::kabi::gfp_t;
using kcxx::kabi::slab_flags_t;

extern struct module __this_module;

/* printk */
int _printk(const char *fmt, ...) __attribute__((format(printf, 1, 2), cold));

/* slab */
void *__kmalloc(usize size, gfp_t flags) __attribute__((alloc_size(1), malloc));
void kfree(const void *p);
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     slab_flags_t flags, void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *c);
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t flags) __attribute__((malloc));
void kmem_cache_free(struct kmem_cache *c, void *p);

/* locks */
void __mutex_init(kcxx::kabi::mutex *m, const char *name, kcxx::kabi::lock_class_key *key);
void mutex_lock(kcxx::kabi::mutex *m);
int mutex_lock_interruptible(kcxx::kabi::mutex *m);
void mutex_unlock(kcxx::kabi::mutex *m);
void _raw_spin_lock(kcxx::kabi::spinlock *l);
void _raw_spin_unlock(kcxx::kabi::spinlock *l);

/* user memory (x86: the out-of-line halves of copy_{to,from}_user) */
unsigned long _copy_to_user(void *to, const void *from, unsigned long n);
unsigned long _copy_from_user(void *to, const void *from, unsigned long n);
void __check_object_size(const void *ptr, unsigned long n, bool to_user);
long strncpy_from_user(char *dst, const char *src, long count);

/* refcount_t's out-of-line error path */
void refcount_warn_saturate(void *r, int type);

/* library functions file operations use (the same ones C drivers call) */
long simple_read_from_buffer(void *to, usize count, kcxx::loff_t *ppos, const void *from,
			     usize available);
int scnprintf(char *buf, usize size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kstrtoll(const char *s, unsigned int base, long long *res);
char *strim(char *s);
void *memchr(const void *s, int c, usize n);
int match_string(const char *const *array, usize n, const char *string);
kcxx::loff_t default_llseek(struct file *f, kcxx::loff_t off, int whence);
long compat_ptr_ioctl(struct file *f, unsigned int cmd, unsigned long arg);
int noop_fsync(struct file *f, kcxx::loff_t start, kcxx::loff_t end, int datasync);
struct kmem_cache *kmem_cache_create_usercopy(const char *name, unsigned int size,
					      unsigned int align, slab_flags_t flags,
					      unsigned int useroffset, unsigned int usersize,
					      void (*ctor)(void *));

/* capabilities */
bool capable(int cap);

/* char devices, classes, misc */
int alloc_chrdev_region(dev_t *dev, unsigned baseminor, unsigned count, const char *name);
void unregister_chrdev_region(dev_t from, unsigned count);
void cdev_init(kcxx::kabi::cdev *c, const kcxx::kabi::file_operations *fops);
int cdev_add(kcxx::kabi::cdev *c, dev_t dev, unsigned count);
void cdev_del(kcxx::kabi::cdev *c);
struct class_ *__class_create(struct module *owner, const char *name,
			      kcxx::kabi::lock_class_key *key);
void class_destroy(struct class_ *cls);
struct device *device_create(struct class_ *cls, struct device *parent, dev_t devt,
			     void *drvdata, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void device_destroy(struct class_ *cls, dev_t devt);
int misc_register(kcxx::kabi::miscdevice *misc);
void misc_deregister(kcxx::kabi::miscdevice *misc);

/* PCI and MMIO */
int __pci_register_driver(kcxx::kabi::pci_driver *drv, struct module *owner, const char *mod_name);
void pci_unregister_driver(kcxx::kabi::pci_driver *drv);
int pci_enable_device(struct pci_dev *dev);
void pci_disable_device(struct pci_dev *dev);
int pci_request_region(struct pci_dev *dev, int bar, const char *name);
void pci_release_region(struct pci_dev *dev, int bar);
struct pci_dev *pci_dev_get(struct pci_dev *dev);
void pci_dev_put(struct pci_dev *dev);
void *pci_iomap(struct pci_dev *dev, int bar, unsigned long maxlen);
void pci_iounmap(struct pci_dev *dev, void *addr);
unsigned int ioread8(const void *addr);
unsigned int ioread32(const void *addr);
void iowrite8(kcxx::u8 v, void *addr);
void iowrite32(kcxx::u32 v, void *addr);

void _dev_info(const struct device *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3), cold));
void _dev_err(const struct device *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3), cold));

/* the kcxx C glue (kcxx/glue/kcxx_helpers.c): kernel inlines C++ cannot call */
void kcxx_spin_lock_init(kcxx::kabi::spinlock *l, const char *name, kcxx::kabi::lock_class_key *key);
unsigned long kcxx_clear_user(void *to, unsigned long n);
unsigned long kcxx_copy_from_user_nozero(void *to, const void *from, unsigned long n);
int kcxx_devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data);
}

#endif
