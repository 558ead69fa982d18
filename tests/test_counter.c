// SPDX-License-Identifier: GPL-2.0
/*
 * test_counter.c - the classic user-space exercise of a counter device:
 * every operation of /dev/counter-<variant>, printed as it goes.
 *
 * Usage: test_counter DEVICE        e.g. test_counter /dev/counter-c
 * Exit status: 0 if every check passed, 1 if any failed, 2 on bad usage or
 * when DEVICE cannot be opened.  Leaves the counter at 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/counter.h>

static int failures;
static int checks;

static void check(int ok, const char *what)
{
	checks++;
	if (!ok)
		failures++;
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

/* The call returned -1 with errno == want. */
static void check_errno(long ret, int want, const char *what)
{
	char msg[200];
	int ok = ret == -1 && errno == want;

	snprintf(msg, sizeof(msg), "%s -> %s (got %ld, %s)", what, strerror(want), ret,
		 ret == -1 ? strerror(errno) : "success");
	check(ok, msg);
}

static int64_t get(int fd)
{
	int64_t v = INT64_MIN + 12345;

	if (ioctl(fd, COUNTER_IOC_GET, &v) != 0)
		printf("     COUNTER_IOC_GET failed: %s\n", strerror(errno));
	return v;
}

static void check_value(int fd, int64_t want, const char *after)
{
	char msg[200];
	int64_t v = get(fd);

	snprintf(msg, sizeof(msg), "after %s: GET = %" PRId64 " (want %" PRId64 ")", after, v,
		 want);
	check(v == want, msg);
}

/* read() from offset 0 up to EOF must give exactly want. */
static void check_text(int fd, const char *want)
{
	char buf[COUNTER_TEXT_MAX + 16], msg[200];
	ssize_t n = 0, r;

	if (lseek(fd, 0, SEEK_SET) != 0) {
		check(0, "lseek to 0");
		return;
	}
	while ((r = read(fd, buf + n, 1)) == 1 && n < (ssize_t)sizeof(buf) - 1)
		n++;
	buf[n] = '\0';
	snprintf(msg, sizeof(msg), "read byte by byte to EOF: \"%.*s\\n\" (want \"%.*s\\n\")",
		 (int)(n ? n - 1 : 0), buf, (int)strlen(want) - 1, want);
	check(r == 0 && strcmp(buf, want) == 0, msg);
}

static void check_write(int fd, const char *text, int64_t want)
{
	char msg[200];
	ssize_t n = write(fd, text, strlen(text));

	snprintf(msg, sizeof(msg), "write \"%s\" returns %zu (got %zd%s%s)", text, strlen(text), n,
		 n < 0 ? ", " : "", n < 0 ? strerror(errno) : "");
	check(n == (ssize_t)strlen(text), msg);
	check_value(fd, want, "the write");
}

int main(int argc, char **argv)
{
	int64_t v;
	int fd;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"Usage: %s DEVICE   (e.g. /dev/counter-c)\n"
			"Exercises every operation of a counter device; exit 0 if all are right.\n",
			argv[0]);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "test_counter: cannot open %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	printf("testing %s\n", argv[1]);

	check(ioctl(fd, COUNTER_IOC_RESET) == 0, "COUNTER_IOC_RESET");
	check_value(fd, 0, "reset");
	check_text(fd, "0\n");

	check_write(fd, "5", 5);
	check_write(fd, " -12\n", -7);
	check_write(fd, "+2", -5);
	check_text(fd, "-5\n");

	v = 1000000;
	check(ioctl(fd, COUNTER_IOC_SET, &v) == 0, "COUNTER_IOC_SET 1000000");
	check_value(fd, 1000000, "SET");
	check_text(fd, "1000000\n");

	check_errno(write(fd, "abc", 3), EINVAL, "write \"abc\"");
	check_errno(write(fd, "12x", 3), EINVAL, "write \"12x\"");
	check_value(fd, 1000000, "rejected writes");

	check_errno(write(fd, "99999999999999999999", 20), ERANGE, "write 99999999999999999999");
	v = INT64_MAX;
	check(ioctl(fd, COUNTER_IOC_SET, &v) == 0, "COUNTER_IOC_SET INT64_MAX");
	check_errno(write(fd, "1", 1), ERANGE, "write \"1\" at INT64_MAX");
	check_value(fd, INT64_MAX, "the overflowing write");
	check_text(fd, "9223372036854775807\n");

	check_errno(ioctl(fd, COUNTER_IOC_GET, NULL), EFAULT, "COUNTER_IOC_GET NULL");
	check_errno(ioctl(fd, COUNTER_IOC_SET, NULL), EFAULT, "COUNTER_IOC_SET NULL");
	check_errno(ioctl(fd, _IO(COUNTER_IOC_MAGIC, COUNTER_IOC_MAXNR + 1)), ENOTTY,
		    "unknown ioctl");
	check_value(fd, INT64_MAX, "the failed ioctls");

	check(ioctl(fd, COUNTER_IOC_RESET) == 0, "COUNTER_IOC_RESET");
	check_value(fd, 0, "reset");
	close(fd);

	printf("%d checks, %d failed: %s\n", checks, failures, failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
