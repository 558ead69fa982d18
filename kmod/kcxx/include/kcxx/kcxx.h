/* SPDX-License-Identifier: GPL-2.0 */
/* kcxx/kcxx.h - everything a kcxx driver uses (the "prelude"). */
#ifndef KCXX_KCXX_H
#define KCXX_KCXX_H
#include <kcxx/types.h>
#include <kcxx/error.h>
#include <kcxx/alloc.h>
#include <kcxx/sync.h>
#include <kcxx/condvar.h>
#include <kcxx/poll.h>
#include <kcxx/uaccess.h>
#include <kcxx/ioctl.h>
#include <kcxx/print.h>
#include <kcxx/str.h>
#include <kcxx/cred.h>
#include <kcxx/param.h>
#include <kcxx/io.h>
#include <kcxx/fs.h>
#include <kcxx/device.h>
#include <kcxx/module.h>
#endif
