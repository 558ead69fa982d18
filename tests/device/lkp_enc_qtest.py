#!/usr/bin/python3
"""lkp_enc_qtest.py - host-side test of the lkp_enc device model over qtest.

Starts our QEMU (vm/qemu/build.sh --path) with -accel qtest: no guest, no
firmware run, the test itself plays the CPU, programs BAR0 through PCI config
space and reads/writes the registers.  It covers what the guest test
(lkp_enc_mmio_test) cannot reach: device reset (a system reset through the
PIIX3 reset register 0xcf9) must clear seed and buffer.  It also checks PCI
identity, the BAR size probe and that the binary finds its firmware without
-L options (--firmwarepath was compiled in).

Run by ctest (tests/device/CMakeLists.txt).  Exit 77 (ctest: skipped) when
our QEMU is not built, e.g. TARGET=host set-up without QEMU; exit 1 instead
when KMODLAB_QTEST_REQUIRED=1 (tests/run.sh sets it for TARGET=vm).
Usage: lkp_enc_qtest.py [-v]      KMODLAB_QEMU=PATH overrides the binary.
"""
import os
import re
import subprocess
import sys
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UAPI = os.path.join(ROOT, "kmod", "include", "uapi", "lkp_enc.h")
SLOT = 4                    # -device lkp_enc,addr=04.0
BAR_ADDR = 0xFE000000       # where the test maps BAR0 (free on the pc machine)


def uapi():
    """The #define numbers of lkp_enc.h: the one source of truth."""
    vals = {}
    with open(UAPI) as f:
        for m in re.finditer(r"^#define\s+(LKP_ENC_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", f.read(), re.M):
            vals[m.group(1)] = int(m.group(2), 0)
    return vals


U = uapi()


def find_qemu():
    if os.environ.get("KMODLAB_QEMU"):
        return os.environ["KMODLAB_QEMU"]
    r = subprocess.run([os.path.join(ROOT, "vm", "qemu", "build.sh"), "--path"],
                       capture_output=True, text=True)
    return r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None


class QTest:
    """Minimal qtest protocol client over QEMU's stdin/stdout."""

    def __init__(self, qemu):
        self.p = subprocess.Popen(
            [qemu, "-machine", "pc", "-accel", "qtest", "-qtest", "stdio", "-qtest-log", "/dev/null",
             "-display", "none", "-nodefaults", "-serial", "none", "-monitor", "none",
             "-device", f"lkp_enc,addr={SLOT:02x}.0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        while True:
            resp = self.p.stdout.readline()
            if not resp:
                raise RuntimeError(f"QEMU exited during '{line}': {self.p.stderr.read()}")
            if resp.startswith("IRQ"):      # asynchronous interrupt notices
                continue
            if not resp.startswith("OK"):
                raise RuntimeError(f"qtest '{line}' answered '{resp.strip()}'")
            return resp[2:].strip()

    def close(self):
        # QEMU keeps running after qtest's stdin closes: stop it.
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass

    # Port and memory accesses.
    def outb(self, port, v): self.cmd(f"outb 0x{port:x} 0x{v:x}")
    def outl(self, port, v): self.cmd(f"outl 0x{port:x} 0x{v:x}")
    def inl(self, port): return int(self.cmd(f"inl 0x{port:x}"), 16)
    def readb(self, a): return int(self.cmd(f"readb 0x{a:x}"), 16)
    def readw(self, a): return int(self.cmd(f"readw 0x{a:x}"), 16)
    def readl(self, a): return int(self.cmd(f"readl 0x{a:x}"), 16)
    def writeb(self, a, v): self.cmd(f"writeb 0x{a:x} 0x{v:x}")
    def writew(self, a, v): self.cmd(f"writew 0x{a:x} 0x{v:x}")
    def writel(self, a, v): self.cmd(f"writel 0x{a:x} 0x{v:x}")

    def read(self, a, n):
        return bytes.fromhex(self.cmd(f"read 0x{a:x} 0x{n:x}")[2:])

    # PCI configuration mechanism #1 (ports 0xcf8/0xcfc), bus 0.
    def cfg_read(self, off):
        self.outl(0xCF8, 0x80000000 | (SLOT << 11) | off)
        return self.inl(0xCFC)

    def cfg_write(self, off, v):
        self.outl(0xCF8, 0x80000000 | (SLOT << 11) | off)
        self.outl(0xCFC, v)

    def map_bar0(self):
        self.cfg_write(0x10, BAR_ADDR)
        self.cfg_write(0x04, self.cfg_read(0x04) | 0x2)     # memory space enable


class LkpEncQTest(unittest.TestCase):
    def setUp(self):
        self.q = QTest(QEMU)
        self.addCleanup(self.q.close)

    def test_pci_identity(self):
        q = self.q
        self.assertEqual(q.cfg_read(0x00), U["LKP_ENC_PCI_DEVICE"] << 16 | U["LKP_ENC_PCI_VENDOR"])
        # dword 8: class code (class, subclass, prog-if) << 8 | revision
        self.assertEqual(q.cfg_read(0x08), U["LKP_ENC_PCI_CLASS"] << 16 | U["LKP_ENC_PCI_REVISION"])

    def test_bar0_is_4k_memory_and_bar1_absent(self):
        q = self.q
        q.cfg_write(0x10, 0xFFFFFFFF)
        probe = q.cfg_read(0x10)
        self.assertEqual(probe & 1, 0, "BAR0 is an I/O BAR")
        self.assertEqual((~(probe & 0xFFFFFFF0) + 1) & 0xFFFFFFFF, U["LKP_ENC_BAR_SIZE"])
        q.cfg_write(0x14, 0xFFFFFFFF)
        self.assertEqual(q.cfg_read(0x14), 0, "device has a BAR1")

    def test_registers_over_qtest(self):
        q = self.q
        q.map_bar0()
        seed, s = BAR_ADDR + U["LKP_ENC_REG_SEED"], BAR_ADDR + U["LKP_ENC_REG_STRING"]
        q.writel(seed, 0xCAFEBABE)
        self.assertEqual(q.readl(seed), 0xCAFEBABE)
        q.writew(seed + 2, 0x0002)
        self.assertEqual(q.readl(seed), 0x0002BABE)
        q.writel(seed, 2)
        for i, c in enumerate(b"Hello World"):
            q.writeb(s + i, c)
        self.assertEqual(q.read(s, 11), b"Jgnnq Yqtnf")
        q.writeb(s + U["LKP_ENC_STRING_SIZE"], ord("x"))
        self.assertEqual(q.readb(s + U["LKP_ENC_STRING_SIZE"]), 0)
        self.assertEqual(q.readl(BAR_ADDR + U["LKP_ENC_BAR_SIZE"] - 4), 0)

    def test_reset_clears_seed_and_buffer(self):
        q = self.q
        q.map_bar0()
        seed, s, n = BAR_ADDR + U["LKP_ENC_REG_SEED"], BAR_ADDR + U["LKP_ENC_REG_STRING"], U["LKP_ENC_STRING_SIZE"]
        q.writel(seed, 0x12345679)
        for i in range(n):
            q.writeb(s + i, 0x20 + i % 90)
        before = q.read(s, n)
        self.assertNotEqual(before, bytes(n))
        self.assertEqual(q.readl(seed), 0x12345679)

        q.outb(0xCF9, 0x06)         # PIIX3 reset control: hard system reset
        # The reset runs in QEMU's main loop; it also clears the PCI command
        # register, which is how we see that it happened.
        deadline = time.monotonic() + 10
        while q.cfg_read(0x04) & 0x2:
            self.assertLess(time.monotonic(), deadline, "system reset did not happen")
            time.sleep(0.05)
        q.map_bar0()
        self.assertEqual(q.readl(seed), 0, "seed survived the reset")
        self.assertEqual(q.read(s, n), bytes(n), "buffer survived the reset")


if __name__ == "__main__":
    QEMU = find_qemu()
    if not QEMU:
        # make test with TARGET=vm boots that very QEMU, so there a QEMU the
        # test cannot find is a fault (say, build.sh --path broke), not a skip.
        if os.environ.get("KMODLAB_QTEST_REQUIRED") == "1":
            print("FAIL: vm/qemu/build.sh --path found no QEMU with lkp_enc, but this run "
                  "needs it (KMODLAB_QTEST_REQUIRED=1, set by tests/run.sh for TARGET=vm): run 'make setup'",
                  file=sys.stderr)
            sys.exit(1)
        print("SKIP: our QEMU with lkp_enc is not built (vm/qemu/build.sh)", file=sys.stderr)
        sys.exit(77)
    print(f"using {QEMU}", file=sys.stderr)
    unittest.main()
