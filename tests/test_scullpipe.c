// SPDX-License-Identifier: GPL-2.0
/*
 * test_scullpipe.c - an independent user-space client of a scullpipe
 * device, in plain C with processes (not the GoogleTest suite's threads):
 * every rule of uapi/scullpipe.h it can see, printed as it goes.
 *
 * Usage: test_scullpipe DEVICE       e.g. test_scullpipe /dev/scullpipe-c1
 * Exit status: 0 if every check passed, 1 if any failed, 2 on bad usage or
 * when DEVICE cannot be opened.  Leaves the pipe empty.
 *
 * Checks: EAGAIN on empty and on full with O_NONBLOCK; poll readiness;
 * a blocked read woken by a delayed writer (another process); fill to
 * EAGAIN and read back in order; EINTR from alarm() without SA_RESTART;
 * two writer processes of 64-byte records into one reader (none torn,
 * lost, duplicated or out of order).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uapi/scullpipe.h>

#define REC 64
#define RECORDS 2000
#define FULL_READS 8

static const char *dev;
static int failures, checks;

static void check(int ok, const char *what)
{
	checks++;
	if (!ok)
		failures++;
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

static int open_dev(int flags)
{
	int fd = open(dev, flags);

	if (fd < 0) {
		fprintf(stderr, "test_scullpipe: %s: %s\n", dev, strerror(errno));
		exit(2);
	}
	return fd;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void drain(void)
{
	char buf[4096];
	int fd = open_dev(O_RDONLY | O_NONBLOCK);

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* A child that sleeps ms milliseconds, then writes len bytes of c. */
static pid_t delayed_writer(int ms, char c, size_t len)
{
	pid_t pid = fork();
	char buf[SCULLPIPE_ATOMIC_WRITE];

	if (pid != 0)
		return pid;
	usleep(ms * 1000);
	memset(buf, c, sizeof(buf));
	_exit(write(open_dev(O_WRONLY), buf, len) == (ssize_t)len ? 0 : 1);
}

static int reap(pid_t pid)
{
	int st = 0;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_nonblocking_and_fill(void)
{
	int fd = open_dev(O_RDWR | O_NONBLOCK);
	char buf[100], back[100];
	size_t written = 0, i, readback = 0;
	int in_order = 1;
	ssize_t n;
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };

	errno = 0;
	check(read(fd, buf, 1) == -1 && errno == EAGAIN, "O_NONBLOCK read of an empty pipe -> EAGAIN");
	check(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "empty pipe polls POLLOUT only");
	for (;;) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (char)((written + i) % 251);
		n = write(fd, buf, sizeof(buf));
		if (n < 0)
			break;
		written += n;
	}
	check(errno == EAGAIN, "filling with O_NONBLOCK ends with EAGAIN");
	p.revents = 0;
	check(poll(&p, 1, 0) == 1 && p.revents == POLLIN, "full pipe polls POLLIN only");
	while ((n = read(fd, back, 37)) > 0) {
		for (i = 0; i < (size_t)n; i++)
			in_order &= back[i] == (char)((readback + i) % 251);
		readback += n;
	}
	check(readback == written && in_order, "everything written reads back, in order");
	close(fd);
}

static void test_delayed_writer(void)
{
	int fd = open_dev(O_RDONLY);
	char buf[64];
	double t0 = now();
	pid_t w = delayed_writer(300, 'd', 10);
	ssize_t n = read(fd, buf, sizeof(buf));

	check(n == 10 && now() - t0 > 0.2, "blocking read sleeps until a delayed writer writes");
	check(reap(w), "the delayed writer's write succeeded");
	close(fd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_eintr(void)
{
	struct sigaction sa, old;
	struct itimerval it = { { 0, 0 }, { 0, 300000 } };
	int fd = open_dev(O_RDONLY);
	char c;
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &it, NULL);
	errno = 0;
	n = read(fd, &c, 1);
	check(n == -1 && errno == EINTR, "a signal without SA_RESTART ends a blocked read with EINTR");
	sigaction(SIGALRM, &old, NULL);
	close(fd);
}

static void write_records(int id)
{
	int fd = open_dev(O_WRONLY);
	char rec[REC];
	int seq;

	for (seq = 0; seq < RECORDS; seq++) {
		memset(rec, 'a' + id, sizeof(rec));
		snprintf(rec, sizeof(rec), "%d:%07d", id, seq);
		if (write(fd, rec, REC) != REC)
			_exit(1);
	}
	_exit(0);
}

/* Wait (at most 10 s) until fd's pipe has no room for an atomic write;
 * whether it got there. */
static int wait_until_full(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int ms;

	for (ms = 0; ms < 10000; ms++) {
		if (poll(&p, 1, 0) == 0)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void test_two_writers(void)
{
	static char stream[2 * RECORDS * REC];
	size_t got = 0, off;
	int fd = open_dev(O_RDONLY), next[2] = { 0, 0 }, bad = 0, id, seq, reads;
	struct pollfd p = { fd, POLLIN, 0 };
	pid_t w[2];
	ssize_t n;
	char want[REC];

	for (id = 0; id < 2; id++) {
		w[id] = fork();
		if (w[id] == 0)
			write_records(id);
	}
	/* The first FULL_READS reads wait until the writers have filled the
	 * pipe (no room for an atomic write: no POLLOUT): each 1000-byte read
	 * then frees room that is not a multiple of REC, so a driver that
	 * splits a small write tears a record whatever the timing (a reader
	 * that keeps up never lets the pipe fill).  Then poll first: writers
	 * that stopped early must not leave this blocked (nor the waits for a
	 * full pipe: the first that times out ends them). */
	for (reads = 0; got < sizeof(stream); reads++) {
		/* never past the end: a driver that duplicates bytes must fail
		 * the check below, not overrun the buffer */
		size_t room = sizeof(stream) - got;

		if (reads < FULL_READS && !wait_until_full(fd))
			reads = FULL_READS; /* a writer stopped: no more waits */
		if (poll(&p, 1, 10000) != 1 || (n = read(fd, stream + got, room < 1000 ? room : 1000)) <= 0)
			break;
		got += n;
	}
	for (off = 0; off + REC <= got; off += REC) {
		if (sscanf(stream + off, "%d:%7d", &id, &seq) != 2 || id < 0 || id > 1) {
			bad++;
			continue;
		}
		memset(want, 'a' + id, sizeof(want));
		snprintf(want, sizeof(want), "%d:%07d", id, next[id]);
		if (memcmp(stream + off, want, REC)) {
			bad++;
			continue;
		}
		next[id]++;
	}
	check(reap(w[0]) && reap(w[1]), "two writer processes wrote every record");
	check(got == sizeof(stream) && bad == 0 && next[0] == RECORDS && next[1] == RECORDS,
	      "64-byte records of two writers arrive whole, once, in each writer's order");
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_scullpipe DEVICE\n");
		return 2;
	}
	dev = argv[1];
	/* line by line: a run killed at its time limit still shows the checks
	 * it finished */
	setvbuf(stdout, NULL, _IOLBF, 0);
	drain();
	test_nonblocking_and_fill();
	test_delayed_writer();
	test_eintr();
	test_two_writers();
	drain();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
