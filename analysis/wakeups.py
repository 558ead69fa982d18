"""Wakeup latency of a kmodlab-load --bpf run (bpf/wakelat.bpf.c): the relations its figures must keep.

Pure Python without numpy: loadgen/tests/validate.py imports it in the guest.

What the BPF session counts per (device, operation of the sleeping call):
``count`` wakeups timed from sched_wakeup to the thread running again,
``sleeps`` the times the thread switched away asleep inside the call, and
``woke_running`` wakeups that found the thread still running (no sleep to
end).  The relations, each with one slack per thread (an operation in flight
when the figures were cleared after the warm-up, and one when they were read
at the end: a sleep counted without its wakeup or the reverse):

- every sleep ends in exactly one timed wakeup: |count - sleeps| <= threads;
- pingpong: a read waits for data once (wait_event sleeps until the
  condition holds, and the pipe's writer has released the device's lock
  before it wakes the reader), so a device's read sleeps are at most its
  reads (opslat) + threads.  Not in pipe runs: there the reader may also
  sleep on the lock the writer holds;
- pingpong: a round trip is two reads, the echoer's on the outgoing pipe and
  the pinger's on the return pipe, and at least one of them finds its pipe
  empty and sleeps: the other thread cannot have written yet unless a
  thread lost its CPU between its write and its next read.  That needs a
  preemption inside a window of a few microseconds out of a round trip of
  tens, so the pair's read sleeps are at least PINGPONG_MIN_SLEEPS_PER_OP
  of the round trips (less the slack); in the usual case, each thread on its
  own vCPU, both reads sleep: 2 per round trip.
"""
from __future__ import annotations

# At least this many blocked reads per pingpong round trip (see above).
PINGPONG_MIN_SLEEPS_PER_OP = 0.9
# At most: two reads per round trip, each sleeping once.
PINGPONG_MAX_SLEEPS_PER_OP = 2.0


def _hist_problems(w: dict, where: str) -> list[str]:
    out = []
    if sum(b[2] for b in w["histogram"]) != w["count"]:
        out.append(f"{where}: histogram does not add up to count {w['count']}")
    if w["count"] and not 0 < w["min_ns"] <= w["sum_ns"] / w["count"] <= w["max_ns"]:
        out.append(f"{where}: mean outside [min, max]: "
                   f"{ {k: w[k] for k in ('min_ns', 'sum_ns', 'max_ns')} }")
    return out


def read_sleeps(wakes: list[dict]) -> int:
    """Sleeps inside reads, over every traced device (wakes: bpf.wakeup entries)."""
    return sum(w["sleeps"] for w in wakes if w["op"] == "read")


def relation_problems(op: str | None, ops: int, threads: int, reads: dict[str, int], wakes: list[dict]) -> list[str]:
    """The relations above, for a run of kmodlab-load operation op (pipe, pingpong) with ops measured
    operations on threads threads; reads: opslat's read count per device; wakes: bpf.wakeup entries
    (device, op, count, sleeps).  Empty: they hold."""
    pingpong = op == "pingpong"
    out = []
    if sum(w["count"] for w in wakes) <= 0:
        out.append("no wakeup timed: a paired run's threads sleep in the driver")
    for w in wakes:
        where = f"bpf.wakeup {w['device']} {w['op']}"
        if abs(w["count"] - w["sleeps"]) > threads:
            out.append(f"{where}: {w['count']} wakeups for {w['sleeps']} sleeps, "
                       f"difference outside +-{threads} (one per thread)")
        if pingpong and w["op"] == "read" and w["sleeps"] > reads.get(w["device"], 0) + threads:
            out.append(f"{where}: {w['sleeps']} sleeps in {reads.get(w['device'], 0)} reads: "
                       f"more than one per read (+{threads})")
    if pingpong:
        s = read_sleeps(wakes)
        lo, hi = PINGPONG_MIN_SLEEPS_PER_OP * ops - threads, PINGPONG_MAX_SLEEPS_PER_OP * ops + threads
        if not lo <= s <= hi:
            out.append(f"pingpong: {s} blocked reads in {ops} round trips, outside [{lo:.0f}, {hi:.0f}] "
                       f"({PINGPONG_MIN_SLEEPS_PER_OP}-{PINGPONG_MAX_SLEEPS_PER_OP} per round trip)")
    return out


def wakeup_problems(doc: dict) -> list[str]:
    """What is wrong with the "wakeup" figures of kmodlab-load JSON doc (empty: nothing)."""
    bpf = doc.get("bpf")
    if not isinstance(bpf, dict) or not isinstance(bpf.get("wakeup"), list):
        return ["bpf.wakeup missing (a paired run with --bpf traces wakeups)"]
    out = []
    for w in bpf["wakeup"]:
        out += _hist_problems(w, f"bpf.wakeup {w['device']} {w['op']}")
    reads = {o["device"]: o["count"] for o in bpf["opslat"] if o["op"] == "read"}
    return out + relation_problems(doc.get("op"), doc["ops"], doc["threads"], reads, bpf["wakeup"])
