"""Which syscall each kmodlab-load operation issues (the one owner of that mapping).

Pure Python without numpy: loadgen/tests/validate.py imports it in the guest,
where every import costs seconds under TCG.
"""
from __future__ import annotations


def op_syscall(driver: str, op: str) -> tuple[str, int] | None:
    """The syscall (BPF opslat op name) one kmodlab-load operation issues, and how many times.

    As loadgen/src/main.cpp issues them: counter's read is a pread at offset
    0, incr a write of "1", lkp_enc's encrypt three ioctls, on the run's own
    node (pingpong's return pipe is another node).  None when the
    operation is not known here (callers then say they cannot check, rather
    than guess).
    """
    if op == "read":
        return ("pread64" if driver == "counter" else "read"), 1
    if op in ("write", "incr"):
        return "write", 1
    if op in ("pread", "pwrite"):
        return op + "64", 1
    if op == "encrypt":
        return "ioctl", 3
    # scullpipe's paired workloads, on the run's own node: pipe measures the
    # reads (its writer thread is not measured); pingpong's measuring thread
    # writes into the node and reads the echo from the next minor.
    if op == "pipe":
        return "read", 1
    if op == "pingpong":
        return "write", 1
    if op.startswith("ioctl:"):
        return "ioctl", 1
    return None
