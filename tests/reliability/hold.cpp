// kmodlab-hold - hold a device open across something the caller does
// (PCI unbind, rmmod attempt), then check what the operations return.
//
//   kmodlab-hold DEVICE EXPECT
//
// Opens DEVICE, prints "ready" and waits for a line on stdin (or EOF).  Then
// runs every operation of the device and checks each one: EXPECT "ok" means
// all succeed, an errno name (e.g. ENODEV) means all fail with exactly it.
// For lkp_enc: write, read, and the four ioctls; for scull and counter:
// write, read and a GET ioctl; for scullpipe (a FIFO without ioctls, opened
// O_NONBLOCK so that nothing blocks): write 2 bytes, read 2.
// Exit 0 when all matched, 1 otherwise.
#include <fcntl.h>
#include <iostream>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common.hpp"

using namespace rel;

int main(int argc, char **argv)
{
	if (argc != 3 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
		fprintf(argc == 2 ? stdout : stderr,
			"Usage: kmodlab-hold DEVICE ok|ERRNO-NAME\n"
			"Open DEVICE, print 'ready', wait for a line on stdin, then check that every\n"
			"operation succeeds (ok) or fails with that errno (e.g. ENODEV).\n");
		return argc == 2 ? 0 : 2;
	}
	std::string dev = argv[1], expect = argv[2];
	const bool fifo = dev.find(SCULLPIPE_NAME) != std::string::npos;
	int fd = open(dev.c_str(), O_RDWR | (fifo ? O_NONBLOCK : 0));
	if (fd < 0) {
		fprintf(stderr, "kmodlab-hold: %s: %s\n", dev.c_str(), strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	std::string line;
	std::getline(std::cin, line);

	int bad = 0;
	auto judge = [&](const char *what, long r) {
		int e = r < 0 ? errno : 0;
		std::string got = errno_name(e);
		bool ok = expect == "ok" ? e == 0 : got == expect;
		printf("%s %s: %s\n", ok ? "ok  " : "BAD ", what, r < 0 ? got.c_str() : "success");
		bad += !ok;
	};
	char buf[LKP_ENC_STRING_SIZE] = {};
	// a text every driver accepts (counter: a number)
	judge("write", write(fd, "5\n", 2));
	if (fifo)
		judge("read", read(fd, buf, 2));
	else
		judge("pread", pread(fd, buf, sizeof(buf) - 1, 0));
	if (fifo) {
		// no ioctls
	} else if (dev.find(LKP_ENC_NAME) != std::string::npos) {
		uint32_t seed = 3;
		judge("ioctl WRITE_SEED", ioctl(fd, LKP_ENC_IOC_WRITE_SEED, &seed));
		judge("ioctl READ_SEED", ioctl(fd, LKP_ENC_IOC_READ_SEED, &seed));
		judge("ioctl WRITE_STRING", ioctl(fd, LKP_ENC_IOC_WRITE_STRING, "abc"));
		judge("ioctl READ_STRING", ioctl(fd, LKP_ENC_IOC_READ_STRING, buf));
	} else if (dev.find(COUNTER_NAME) != std::string::npos) {
		long long v;
		judge("ioctl GET", ioctl(fd, COUNTER_IOC_GET, &v));
	} else {
		int q;
		judge("ioctl GQUANTUM", ioctl(fd, SCULL_IOCGQUANTUM, &q));
	}
	close(fd);
	return bad ? 1 : 0;
}
