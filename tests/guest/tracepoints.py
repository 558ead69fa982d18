#!/usr/bin/env python3
"""tracepoints.py - the drivers' own tracepoints, checked through tracefs (guest).

    tests/guest/tracepoints.py format DRIVER          C and C++ define the same
                                                      events with the documented fields
    tests/guest/tracepoints.py fire DRIVER VARIANT    enabled: each event fires, once per
                                                      operation, with the expected values
    tests/guest/tracepoints.py off DRIVER VARIANT     disabled: the same operations
                                                      leave no event
    tests/guest/tracepoints.py cycles N               N lkp_enc encryptions per variant
    tests/guest/tracepoints.py bpf-check JSON N       kmodlab-encphase's report of
                                                      `cycles N`: N of each phase per variant
    tests/guest/tracepoints.py dev DRIVER VARIANT     print the driver's first node
    tests/guest/tracepoints.py module DRIVER VARIANT  print the driver's module name
    tests/guest/tracepoints.py scull-empty VARIANT    trim /dev/scull-<v>0 (untraced set-up)
    tests/guest/tracepoints.py scull-sets VARIANT N   write twice into each of N new quantum
                                                      sets of the emptied device (from the
                                                      second set on, the first write starts
                                                      in the set before), then trim
    tests/guest/tracepoints.py sets-check JSON VARIANT N  kmodlab-trace events' report of
                                                      `scull-sets N`: N allocations, each
                                                      followed by its write, 2N writes, N frees
    tests/guest/tracepoints.py load-check JSON        a kmodlab-load --bpf-trace --check
                                                      report: data check and both tracepoint
                                                      checks (run, set-up) ran and passed;
                                                      scull: one allocation per prefilled set

DRIVER is scull, scullpipe, counter or lkp_enc; the event system is the module's name
(kmod/include/kmodlab/trace/common.h).  Run as root with the modules loaded
(tests/guest/suites/25-tracepoints).  Exit 0 when the check holds; otherwise
exit 1 and print what differs.
"""
import fcntl
import os
import re
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from analysis import devnames  # noqa: E402

TRACEFS = Path("/sys/kernel/tracing")

# The documented events and fields (kmod/include/kmodlab/trace/<driver>.h).
FIELDS = {
    "scull": {
        "scull_read": ["pos", "len", "item", "index"],
        "scull_write": ["pos", "len", "item", "index"],
        "scull_qset_alloc": ["item", "qset", "quantum"],
        "scull_qset_free": ["qset", "quantum"],
        "scull_trim": ["size", "quantum", "qset"],
    },
    "scullpipe": {
        "scullpipe_sleep": ["writer", "avail", "need"],
        "scullpipe_wake": ["writer", "avail", "need"],
    },
    "counter": {"counter_change": ["old_value", "new_value", "sync"]},
    "lkp_enc": {
        "lkp_enc_seed_write": ["seed"],
        "lkp_enc_string_write": ["len"],
        "lkp_enc_string_read": ["len"],
    },
}


def uapi(name):
    """An evaluated uapi number (scripts/uapi-value.sh)."""
    out = subprocess.run([str(ROOT / "scripts/uapi-value.sh"), name], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[0], 0)


def event_fields(system, event):
    """The event's own fields, in order, from its tracefs format file."""
    text = (TRACEFS / "events" / system / event / "format").read_text()
    names = re.findall(r"field:[^;]*?(\w+)(?:\[\d*\])?;", text)
    return [n for n in names if not n.startswith("common_")]


def format_lines(system, event):
    """The format file without its system-specific lines (name, ID)."""
    text = (TRACEFS / "events" / system / event / "format").read_text()
    return [ln for ln in text.splitlines() if not ln.startswith(("name:", "ID:"))]


def set_enabled(system, on):
    # record-cmd off first: with it on (the default), enabling any event also
    # attaches tracefs's comm recorder to sched_switch/sched_wakeup, and each
    # toggle live-patches __schedule (text_poke_bp). Under TCG that once left
    # CPU 0 trapping forever on the int3 in __schedule while CPU 1 waited for
    # it in text_poke_bp's IPI (2026-12-01: the guest hung; kmodlab.conf's
    # console settings showed the stacks). Our own events patch only our
    # modules' code, which nothing runs while an event is toggled.
    (TRACEFS / "options" / "record-cmd").write_text("0\n")
    (TRACEFS / "events" / system / "enable").write_text("1\n" if on else "0\n")


def clear_trace():
    (TRACEFS / "trace").write_text("")


def read_events(system):
    """[(event, {field: value})] of the system's events in the trace buffer."""
    events = []
    names = "|".join(FIELDS[system.rsplit("_", 1)[0]])
    for line in (TRACEFS / "trace").read_text().splitlines():
        m = re.search(rf":\s+({names}):\s+(.*)$", line)
        if m:
            events.append((m.group(1), dict(re.findall(r"(\w+)=(\S+)", m.group(2)))))
    return events


def ops_scull(variant):
    """Operations on /dev/scull-<v>0 and the events they must give.  A read or
    write moves the whole request across quanta and quantum sets (issue 18):
    one event per call, len the whole transfer, item and index those of its
    first byte; a write's allocations of the sets it reaches come first."""
    mod = devnames.module_name("scull", variant)
    dev = devnames.dev_path("scull", variant, 0)
    params = Path("/sys/module") / mod / "parameters"
    # empty the device and adopt the module's geometry (untraced: its old
    # content is unknown)
    os.close(os.open(dev, os.O_WRONLY))
    quantum = int((params / "quantum").read_text())
    qset = int((params / "qset").read_text())
    set_bytes = quantum * qset
    far = set_bytes + quantum + 3  # set 1, quantum 1, byte 3
    cross = 2 * set_bytes - 4  # set 1's last 4 bytes, then 6 in the new set 2

    def run():
        fd = os.open(dev, os.O_RDWR)
        try:
            os.pwrite(fd, b"x" * 10, 0)
            os.pwrite(fd, b"y" * 7, far)
            os.pwrite(fd, b"z" * 10, cross)
            os.pread(fd, 4, 2)
            os.pread(fd, 8, set_bytes - 3)  # a hole across the set edge: zeros
        finally:
            os.close(fd)
        os.close(os.open(dev, os.O_WRONLY))  # trim: three sets freed

    geo = {"qset": str(qset), "quantum": str(quantum)}
    last = str(qset - 1)
    want = [
        ("scull_qset_alloc", {"item": "0", **geo}),
        ("scull_write", {"pos": "0", "len": "10", "item": "0", "index": "0"}),
        ("scull_qset_alloc", {"item": "1", **geo}),
        ("scull_write", {"pos": str(far), "len": "7", "item": "1", "index": "1"}),
        ("scull_qset_alloc", {"item": "2", **geo}),
        ("scull_write", {"pos": str(cross), "len": "10", "item": "1", "index": last}),
        ("scull_read", {"pos": "2", "len": "4", "item": "0", "index": "0"}),
        ("scull_read", {"pos": str(set_bytes - 3), "len": "8", "item": "0", "index": last}),
        ("scull_trim", {"size": str(cross + 10), **geo}),
        ("scull_qset_free", geo),
        ("scull_qset_free", geo),
        ("scull_qset_free", geo),
    ]
    return run, want


def ops_counter(variant):
    """Two adds (and a read, a failed add) on /dev/counter-<v>."""
    mod = devnames.module_name("counter", variant)
    dev = devnames.dev_path("counter", variant)
    sync = (Path("/sys/module") / mod / "parameters/sync").read_text().strip()
    with open(dev, "rb", buffering=0) as f:
        value = int(f.read(64))

    def run():
        for text in (b"5", b"-2", b"junk"):
            fd = os.open(dev, os.O_WRONLY)
            try:
                os.write(fd, text)
            except OSError:
                pass  # junk: -EINVAL, no change, no event
            finally:
                os.close(fd)
        with open(dev, "rb", buffering=0) as f:
            f.read(64)

    want = [
        ("counter_change", {"old": str(value), "new": str(value + 5), "sync": sync}),
        ("counter_change", {"old": str(value + 5), "new": str(value + 3), "sync": sync}),
    ]
    return run, want


def blocked_in(tid, syscall_nr, limit_s=20.0):
    """Wait until thread tid sleeps inside syscall syscall_nr (its
    /proc/self/task/<tid>/syscall names it and its state is S); False after
    limit_s (the thread never blocked: the driver did not wait)."""
    task = Path("/proc/self/task") / str(tid)
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        try:
            nr = (task / "syscall").read_text().split()[0]
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False  # the thread is gone: it did not block
        if nr == str(syscall_nr) and state == "S":
            return True
        time.sleep(0.05)
    return False


def blocking_call(fn, syscall_nr):
    """Start fn() in a thread and return (thread, result list) once it sleeps
    in syscall_nr; raises if it does not block."""
    out, ready = [], threading.Event()

    def body():
        out.append(threading.get_native_id())
        ready.set()
        out.append(fn())
    t = threading.Thread(target=body, daemon=True)
    t.start()
    ready.wait(10)
    if not out or not blocked_in(out[0], syscall_nr):
        raise RuntimeError(f"the call (syscall {syscall_nr}) did not block in the driver")
    return t, out


def finish(t, out, what):
    t.join(20)
    if t.is_alive():
        raise RuntimeError(f"{what} still blocked 20 s after it was released (lost wake-up?)")
    return out[1]


def ops_scullpipe(variant):
    """A read that waits for data, then a write that waits for room, on
    /dev/scullpipe-<v>0 (drained first); non-blocking calls that find data or
    room, an EAGAIN and a zero-byte write around them fire nothing."""
    dev = devnames.dev_path("scullpipe", variant, 0)
    params = Path("/sys/module") / devnames.module_name("scullpipe", variant) / "parameters"
    size = int((params / "buffer_size").read_text())
    reader, writer = uapi("SCULLPIPE_WAIT_READER"), uapi("SCULLPIPE_WAIT_WRITER")
    fd = os.open(dev, os.O_RDWR | os.O_NONBLOCK)
    try:
        while True:  # untraced: whatever an earlier suite left
            os.read(fd, 4096)
    except BlockingIOError:
        pass
    finally:
        os.close(fd)

    def run():
        nb = os.open(dev, os.O_RDWR | os.O_NONBLOCK)
        blk = os.open(dev, os.O_RDWR)
        try:
            try:
                os.read(nb, 1)
            except BlockingIOError:
                pass  # empty: EAGAIN, no event
            os.write(nb, b"")
            t, out = blocking_call(lambda: os.read(blk, 100), 0)  # read(2)
            os.write(nb, b"hello")
            if finish(t, out, "the blocked read") != b"hello":
                raise RuntimeError("the blocked read did not get the 5 bytes written")
            os.write(nb, b"f" * size)  # full
            t, out = blocking_call(lambda: os.write(blk, b"w" * 64), 1)  # write(2)
            os.read(nb, 100)
            if finish(t, out, "the blocked write") != 64:
                raise RuntimeError("the blocked write did not write its 64 bytes")
            os.read(nb, size)  # drain: data ready, no event
        finally:
            os.close(blk)
            os.close(nb)

    want = [
        ("scullpipe_sleep", {"writer": str(reader), "avail": "0", "need": "1"}),
        ("scullpipe_wake", {"writer": str(reader), "avail": "5", "need": "1"}),
        ("scullpipe_sleep", {"writer": str(writer), "avail": "0", "need": "64"}),
        ("scullpipe_wake", {"writer": str(writer), "avail": "100", "need": "64"}),
    ]
    return run, want


def lkp_enc_cycle():
    """f(fd, seed, text): one encryption by ioctls (seed, string, readback)."""
    size = uapi("LKP_ENC_STRING_SIZE")
    ioc = {n: uapi("LKP_ENC_IOC_" + n) for n in ("WRITE_SEED", "WRITE_STRING", "READ_STRING")}
    out = bytearray(size)

    # a bytes or bytearray argument is passed as a pointer to its copy (the
    # string itself, as the ABI wants), read back for a bytearray
    def cycle(fd, seed, text):
        fcntl.ioctl(fd, ioc["WRITE_SEED"], struct.pack("I", seed))
        fcntl.ioctl(fd, ioc["WRITE_STRING"], text.ljust(size, b"\0"))
        fcntl.ioctl(fd, ioc["READ_STRING"], out, True)
    return cycle


def ops_lkp_enc(variant):
    """One encryption by ioctls (seed, string, readback), then write() and read()."""
    dev = devnames.dev_path("lkp_enc", variant)
    size = uapi("LKP_ENC_STRING_SIZE")
    cycle = lkp_enc_cycle()

    def run():
        fd = os.open(dev, os.O_RDWR)
        try:
            cycle(fd, 3, b"hello")
            os.write(fd, b"abc")
            os.pread(fd, size, 0)
        finally:
            os.close(fd)

    want = [
        ("lkp_enc_seed_write", {"seed": "3"}),
        ("lkp_enc_string_write", {"len": "5"}),
        ("lkp_enc_string_read", {"len": "5"}),
        ("lkp_enc_string_write", {"len": "3"}),
        ("lkp_enc_string_read", {"len": "3"}),
    ]
    return run, want


OPS = {"scull": ops_scull, "scullpipe": ops_scullpipe, "counter": ops_counter, "lkp_enc": ops_lkp_enc}


def variants():
    return os.environ.get("KMODLAB_VARIANTS", "").split() or devnames.variants()


def cycles(n):
    """n encryption cycles on each variant's lkp_enc device (the BPF check's load)."""
    cycle = lkp_enc_cycle()
    for v in variants():
        fd = os.open(devnames.dev_path("lkp_enc", v), os.O_RDWR)
        try:
            for i in range(n):
                cycle(fd, i % 26, b"the quick brown fox")
        finally:
            os.close(fd)
    return []


def bpf_check(path, n):
    """kmodlab-encphase's JSON after cycles(n): per variant, n of each event,
    n encryptions, nothing out of order, n latencies per phase."""
    import json
    doc = json.loads(Path(path).read_text())
    bad = []
    for v in variants():
        got = doc["variants"].get(v)
        if got is None:
            bad.append(f"{v}: not in the BPF report")
            continue
        figures = dict(got["events"], encrypts=got["encrypts"],
                       **{f"phase {p}": h["count"] for p, h in got["phases"].items()})
        for name, x in figures.items():
            if x != n:
                bad.append(f"{v}: {name} {x}, expected {n}")
        if got["out_of_order"] or got["no_slot"]:
            bad.append(f"{v}: out_of_order {got['out_of_order']}, no_slot {got['no_slot']}")
        for p, h in got["phases"].items():
            if not h["min_ns"] > 0:
                bad.append(f"{v}: phase {p} has no positive latency")
    return bad


def scull_geometry(variant):
    params = Path("/sys/module") / devnames.module_name("scull", variant) / "parameters"
    return int((params / "quantum").read_text()), int((params / "qset").read_text())


def scull_empty(variant):
    os.close(os.open(devnames.dev_path("scull", variant, 0), os.O_WRONLY))  # open for writing trims


def scull_sets(variant, n):
    """Two writes into each of n quantum sets of an empty device, then a trim:
    n allocations (the first write of each set), 2n writes, one trim, n frees.
    From set 1 on the first write starts in the set before and crosses into
    the new one (scull moves the whole request across sets, issue 18): its
    event names the set it started in, the allocation the set it reached."""
    quantum, qset = scull_geometry(variant)
    set_bytes = quantum * qset
    dev = devnames.dev_path("scull", variant, 0)
    fd = os.open(dev, os.O_RDWR)
    try:
        for k in range(n):
            if k == 0:
                os.pwrite(fd, b"a", 0)
            elif os.pwrite(fd, b"za", k * set_bytes - 1) != 2:
                raise RuntimeError(f"a write across the edge of set {k} stopped short")
            os.pwrite(fd, b"b", k * set_bytes + 1)
    finally:
        os.close(fd)
    scull_empty(variant)


def trace_module(doc, module):
    for m in doc.get("trace_events") or []:
        if m["module"] == module:
            return m
    return None


def sets_check(path, variant, n):
    """kmodlab-trace events' JSON after scull-sets n."""
    import json
    module = devnames.module_name("scull", variant)
    m = trace_module(json.loads(Path(path).read_text()), module)
    if m is None:
        return [f"{module}: not in the BPF report's trace_events"]
    want = {"scull_qset_alloc": n, "scull_write": 2 * n, "scull_read": 0, "scull_trim": 1,
            "scull_qset_free": n, "alloc_then_write": n, "alloc_no_write": 0, "no_slot": 0}
    got = dict(m["events"], **m["sequence"])
    return [f"{module}: {k} {got.get(k)}, expected {v}" for k, v in want.items() if got.get(k) != v]


def scull_setup_check(doc):
    """The set-up of a kmodlab-load --bpf-trace run on scull (BPF attached before
    it): one trim, then one allocation per quantum set of the prefilled regions
    [0, threads x span), counted here from the module's sysfs geometry, not
    from kmodlab-load's own computation (which asks the device by ioctl)."""
    quantum, qset = scull_geometry(doc["variant"])
    set_bytes = quantum * qset
    want = {"scull_trim": 1, "scull_qset_alloc": -(-doc["threads"] * doc["span"] // set_bytes),
            "alloc_no_write": 0, "scull_read": 0}
    got = doc["setup"]["trace_events"]
    return [f"set-up: {k} {got.get(k)}, expected {v} (sysfs geometry {quantum} x {qset}, "
            f"{doc['threads']} x {doc['span']} bytes prefilled)" for k, v in want.items() if got.get(k) != v]


def load_check(path):
    """kmodlab-load --bpf-trace --check's JSON: the data check and both
    tracepoint checks (measured phase, set-up) ran and passed, the module's
    tracepoints are in the BPF report; scull's set-up allocated every
    prefilled quantum set once."""
    import json
    if not Path(path).is_file() or not Path(path).stat().st_size:
        return [f"no kmodlab-load report at {path}: the run failed before writing it (see the check above)"]
    doc = json.loads(Path(path).read_text())
    bad = []
    if not doc["check"]["ok"]:
        bad.append(f"check failed: {doc['check']['detail']}")
    for key in ("trace_events", "setup_trace_events"):
        tc = doc["check"].get(key)
        if not tc or not tc["checked"] or not tc["ok"]:
            bad.append(f"tracepoint check {key} did not pass: {tc}")
    if trace_module(doc["bpf"], doc["module"]) is None:
        bad.append(f"{doc['module']}: not in bpf.trace_events")
    if doc["driver"] == "scull":
        bad += scull_setup_check(doc)
    if doc["driver"] == "scullpipe":
        bad += pipe_wait_check(trace_module(doc["bpf"], doc["module"]) or {})
    return bad


def pipe_wait_check(m):
    """scullpipe in a ping-pong (each round trip's reads find the pipe empty
    and wait): waits were timed, every wake is a timed wait or an unpaired
    one, and every timed wait is in one of the two phases with a positive
    latency."""
    ev, seq, ph = m.get("events", {}), m.get("sequence", {}), m.get("phases", {})
    waits = seq.get("waits", 0)
    timed = sum(p.get("count", 0) for p in ph.values())
    bad = []
    if not waits:
        bad.append(f"scullpipe: no wait timed (sleep {ev.get('scullpipe_sleep')}, wake {ev.get('scullpipe_wake')})")
    if ev.get("scullpipe_wake") != waits + seq.get("wake_unpaired", 0):
        bad.append(f"scullpipe: {ev.get('scullpipe_wake')} wakes, {waits} timed + "
                   f"{seq.get('wake_unpaired')} unpaired")
    if timed != waits:
        bad.append(f"scullpipe: phases hold {timed} waits, the pairing counted {waits}")
    if ph.get("read_blocked", {}).get("count", 0) and not ph["read_blocked"].get("min_ns", 0) > 0:
        bad.append("scullpipe: read_blocked has no positive latency")
    return bad


def check_format(driver):
    bad = []
    for event, fields in FIELDS[driver].items():
        base = None
        for v in variants():
            system = devnames.module_name(driver, v)
            path = TRACEFS / "events" / system / event
            if not path.is_dir():
                bad.append(f"{system}/{event}: no such event in tracefs")
                continue
            got = event_fields(system, event)
            if got != fields:
                bad.append(f"{system}/{event}: fields {got}, documented {fields}")
            lines = format_lines(system, event)
            if base is None:
                base = (system, lines)
            elif lines != base[1]:
                bad.append(f"{system}/{event}: format differs from {base[0]}/{event}")
    return bad


def run_ops(driver, variant, on):
    system = devnames.module_name(driver, variant)
    run, want = OPS[driver](variant)
    set_enabled(system, on)
    clear_trace()
    try:
        run()
    finally:
        set_enabled(system, False)
    got = read_events(system)
    if not on:
        want = []
    bad = []
    if len(got) != len(want):
        bad.append(f"{system}: {len(got)} events, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if g[0] != w[0] or any(g[1].get(k) != v for k, v in w[1].items()):
            bad.append(f"{system} event {i}: got {g[0]} {g[1]}, expected {w[0]} {w[1]}")
    if bad:
        bad += [f"  trace: {e} {f}" for e, f in got]
    return bad


def main(argv):
    if argv[:1] == ["cycles"] and len(argv) == 2:
        return 0 if cycles(int(argv[1])) == [] else 1
    if argv[:1] == ["dev"] and len(argv) == 3:
        print(devnames.first_dev_path(argv[1], argv[2]))
        return 0
    if argv[:1] == ["module"] and len(argv) == 3:
        print(devnames.module_name(argv[1], argv[2]))
        return 0
    if argv[:1] == ["scull-empty"] and len(argv) == 2:
        scull_empty(argv[1])
        return 0
    if argv[:1] == ["scull-sets"] and len(argv) == 3:
        scull_sets(argv[1], int(argv[2]))
        return 0
    checks = {"bpf-check": (3, lambda a: bpf_check(a[1], int(a[2]))),
              "sets-check": (4, lambda a: sets_check(a[1], a[2], int(a[3]))),
              "load-check": (2, lambda a: load_check(a[1]))}
    if argv[:1] and argv[0] in checks and len(argv) == checks[argv[0]][0]:
        bad = checks[argv[0]][1](argv)
        print("\n".join(bad))
        return 1 if bad else 0
    if len(argv) < 2 or argv[0] not in ("format", "fire", "off") or argv[1] not in OPS:
        print(__doc__, file=sys.stderr)
        return 2
    if not (TRACEFS / "events").is_dir():
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)], check=False)
    if argv[0] == "format":
        bad = check_format(argv[1])
    else:
        bad = run_ops(argv[1], argv[2], argv[0] == "fire")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
