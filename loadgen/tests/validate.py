#!/usr/bin/python3
"""validate.py - check a kmodlab-load or kmodlab-gbench JSON file.

    validate.py load FILE [--ops N] [--mode closed|open] [--rate R] [--check-ok]
                          [--bpf] [--wakeup] [--driver D] [--variant V] [--bytes-per-op B]
    validate.py gbench FILE --expect NAME_REGEX [--expect ...]
    validate.py fio FILE --jobs N
    validate.py wakeup-trace FILE --threads N   (kmodlab-trace wakeup --json FILE)

Exits 1 with the reason on the first inconsistency: missing fields (see
loadgen/SCHEMA.md), an ops count different from --ops, percentiles out of
order, a histogram that does not add up to the ops, a rate far from --rate.
"""
import argparse
import json
import os
import re
import sys

# Which syscall each kmodlab-load operation issues has one owner: analysis/syscalls.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from analysis.syscalls import op_syscall  # noqa: E402
from analysis.wakeups import read_sleeps, wakeup_problems  # noqa: E402  (the relations' one owner)

LOAD_FIELDS = ["tool", "version", "env", "device", "driver", "variant", "module", "module_params", "op", "mix",
               "threads", "mode", "rate", "size", "duration_s", "warmup_s", "ops", "errors", "bytes", "ops_per_s",
               "bytes_per_s", "cpu_s", "ops_per_cpu_s", "latency_ns", "histogram", "per_op", "check", "bpf"]
PCTS = ["min", "p50", "p90", "p99", "p999", "p9999", "max"]


def fail(msg):
    print("validate: " + msg)
    sys.exit(1)


def check_latency(lat, where):
    seq = [lat[k] for k in PCTS]
    if any(a > b for a, b in zip(seq, seq[1:])):
        fail("%s: percentiles not monotone: %s" % (where, seq))
    if not lat["min"] <= lat["mean"] <= lat["max"]:
        fail("%s: mean outside [min, max]: %s" % (where, lat))


def check_hist(h, count, where):
    if sum(b[2] for b in h) != count:
        fail("%s: histogram counts %d != ops %d" % (where, sum(b[2] for b in h), count))
    for b in h:
        if not b[0] < b[1] or b[2] <= 0:
            fail("%s: bad bucket %s" % (where, b))
        if b[0] >= 128 and (b[1] - b[0]) / b[0] > 0.01:
            fail("%s: bucket %s wider than 1%%" % (where, b))
    for a, b in zip(h, h[1:]):
        if a[1] > b[0]:
            fail("%s: buckets overlap or unordered: %s %s" % (where, a, b))


def check_bpf(d):
    """--bpf: the session's figures, not just their presence.

    Exact counts (the rule of analysis/compare.py bpf_count_mismatches): for
    each syscall the workload issues, 0 <= BPF count - user count <= threads x
    calls per operation; nothing dropped, no recursion miss; every histogram
    adds up to its count; no lock named by a mangled C++ symbol.
    """
    b = d["bpf"]
    if not isinstance(b, dict):
        fail("bpf output missing: %s" % b)
    if not b.get("attach_mode"):
        fail("bpf: no attach_mode")
    if b["dropped"] or any(b["drops"].values()):
        fail("bpf: events dropped: %s" % b["drops"])
    missed = {p["name"]: p["recursion_misses"] for p in b["prog_stats"] if p.get("recursion_misses")}
    if missed:
        fail("bpf: recursion misses (lost runs): %s" % missed)
    want, per = {}, {}
    for op, v in d["per_op"].items():
        sc = op_syscall(d["driver"], op)
        if sc is None:
            fail("bpf: cannot tell which syscall operation %s issues (analysis/syscalls.py)" % op)
        want[sc[0]] = want.get(sc[0], 0) + sc[1] * v["ops"]
        per[sc[0]] = max(per.get(sc[0], 0), sc[1])
    for sc, n in sorted(want.items()):
        got = sum(o["count"] for o in b["opslat"] if o["op"] == sc and o["device"] == d["device"])
        bound = d["threads"] * per[sc]
        if not 0 <= got - n <= bound:
            fail("bpf: %d %s calls counted on %s, kmodlab-load issued %d: difference %+d outside [0, %d]"
                 % (got, sc, d["device"], n, got - n, bound))
    for o in b["opslat"]:
        where = "bpf.opslat %s %s" % (o["device"], o["op"])
        if sum(x[2] for x in o["histogram"]) != o["count"]:
            fail("%s: histogram does not add up to count %d" % (where, o["count"]))
        if o["count"] and not 0 < o["min_ns"] <= o["sum_ns"] / o["count"] <= o["max_ns"]:
            fail("%s: mean outside [min, max]: %s" % (where, {k: o[k] for k in ("min_ns", "sum_ns", "max_ns")}))
    for lk in b["lockstat"]:
        if lk["count"] <= 0 or lk["total_ns"] < 0 or lk["max_ns"] > lk["total_ns"]:
            fail("bpf.lockstat %s: inconsistent count/total/max %s" % (lk["lock"], lk))
        if re.search(r"(^|[^A-Za-z0-9_])_Z", lk["lock"]):
            fail("bpf.lockstat: lock named by a mangled C++ symbol: %s" % lk["lock"])


def check_wakeup(d):
    """--wakeup: a paired scullpipe run's wakeup latency (analysis/wakeups.py says which relations)."""
    problems = wakeup_problems(d)
    if problems:
        fail("; ".join(problems))
    for w in d["bpf"]["wakeup"]:
        print("wakeup %s %s: %d wakeups, %d sleeps, %d woken running, p50 %.0f ns, p99 %.0f ns"
              % (w["device"], w["op"], w["count"], w["sleeps"], w["woke_running"],
                 w["percentiles"]["p50"], w["percentiles"]["p99"]))
    print("blocked reads %d in %d ops" % (read_sleeps(d["bpf"]["wakeup"]), d["ops"]))


def wakeup_trace(a):
    """kmodlab-trace wakeup's JSON (the Session JSON itself): wakeups timed, one per sleep within one per
    thread of the traced program (analysis/wakeups.py; the pingpong bounds need kmodlab-load's op count)."""
    d = json.load(open(a.file))
    if not isinstance(d.get("wakeup"), list):
        fail("wakeup missing: kmodlab-trace wakeup writes it, empty or not")
    problems = wakeup_problems({"op": None, "ops": 0, "threads": a.threads, "bpf": d})
    if problems:
        fail("; ".join(problems))
    for w in d["wakeup"]:
        print("wakeup %s %s: %d wakeups, %d sleeps, %d woken running, p50 %.0f ns"
              % (w["device"], w["op"], w["count"], w["sleeps"], w["woke_running"], w["percentiles"]["p50"]))


def load(a):
    d = json.load(open(a.file))
    for k in LOAD_FIELDS:
        if k not in d:
            fail("missing field " + k)
    for k in ["kernel", "accel", "cpus", "cmdline", "hypervisor", "clock"]:
        if k not in d["env"]:
            fail("env: missing " + k)
    if d["tool"] != "kmodlab-load" or d["version"] != 1:
        fail("tool/version: %s %s" % (d["tool"], d["version"]))
    if a.ops is not None and d["ops"] != a.ops:
        fail("ops %d != --ops %d" % (d["ops"], a.ops))
    if d["ops"] <= 0:
        fail("no operations measured")
    if a.mode and d["mode"] != a.mode:
        fail("mode %s != %s" % (d["mode"], a.mode))
    if a.driver and d["driver"] != a.driver:
        fail("driver %s != %s" % (d["driver"], a.driver))
    if a.variant and d["variant"] != a.variant:
        fail("variant %s != %s" % (d["variant"], a.variant))
    if d["errors"]:
        fail("operation errors: %s" % d["errors"])
    if a.bytes_per_op is not None and d["bytes"] != a.bytes_per_op * d["ops"]:
        fail("moved %d bytes in %d ops (%.1f per op), want %d per op" %
             (d["bytes"], d["ops"], d["bytes"] / d["ops"], a.bytes_per_op))
    check_latency(d["latency_ns"], "latency_ns")
    check_hist(d["histogram"], d["ops"], "histogram")
    per = sum(v["ops"] for v in d["per_op"].values())
    if per != d["ops"]:
        fail("per_op ops %d != ops %d" % (per, d["ops"]))
    for name, v in d["per_op"].items():
        check_latency(v["latency_ns"], "per_op." + name)
        check_hist(v["histogram"], v["ops"], "per_op." + name)
    if d["duration_s"] <= 0 or abs(d["ops_per_s"] * d["duration_s"] - d["ops"]) > 0.01 * d["ops"] + 1:
        fail("ops_per_s %s x duration_s %s != ops %s" % (d["ops_per_s"], d["duration_s"], d["ops"]))
    if a.rate:
        if abs(d["rate"] - a.rate) > 1e-6:
            fail("rate %s != %s" % (d["rate"], a.rate))
        # Open loop never runs ahead of its schedule, and (no skipping) a
        # duration run issues exactly rate x duration operations however
        # late they finish: both hold on a busy machine, unlike the
        # achieved rate, which a stall lowers.
        got = d["ops_per_s"]
        if got > a.rate * (1 + a.rate_tol):
            fail("achieved %.1f ops/s, faster than the asked %.1f (tolerance %.0f%%)" % (got, a.rate, 100 * a.rate_tol))
        dur = d.get("duration_requested_s")
        if d.get("ops_requested") is None and dur:
            want = a.rate * dur
            if abs(d["ops"] - want) > d["threads"] + 1:
                fail("open loop ran %d ops in a %.3f s schedule at %.1f ops/s, want %.0f" % (d["ops"], dur, a.rate, want))
        if "service_latency_ns" not in d:
            fail("open loop without service_latency_ns")
    if a.check_ok:
        c = d["check"]
        if not (c["enabled"] is True and c["ok"] is True):
            fail("check not ok: %s" % c)
    if a.bpf:
        check_bpf(d)
    if a.wakeup:
        check_wakeup(d)
    print("ok: %s %s ops, %.0f ops/s, p50 %.0f ns, p99 %.0f ns" % (d["device"], d["ops"], d["ops_per_s"],
          d["latency_ns"]["p50"], d["latency_ns"]["p99"]))


def gbench(a):
    d = json.load(open(a.file))
    names = [b["name"] for b in d.get("benchmarks", [])]
    if not names:
        fail("no benchmarks in " + a.file)
    for b in d["benchmarks"]:
        if b.get("error_occurred"):
            fail("%s: %s" % (b["name"], b.get("error_message")))
        if b.get("run_type") == "iteration" and not b.get("iterations", 0) > 0:
            fail("%s ran no iterations" % b["name"])
    for e in a.expect or []:
        if not any(re.search(e, n) for n in names):
            fail("no benchmark matches %s (have %s)" % (e, names))
    print("ok: %d benchmarks" % len(names))


def fio(a):
    d = json.load(open(a.file))
    jobs = d.get("jobs", [])
    if len(jobs) != a.jobs:
        fail("%d jobs, want %d" % (len(jobs), a.jobs))
    for j in jobs:
        if j["error"]:
            fail("job %s: error %s" % (j["jobname"], j["error"]))
        moved = j["read"]["io_bytes"] + j["write"]["io_bytes"]
        if moved <= 0:
            fail("job %s moved no data" % j["jobname"])
        for dd in ["read", "write"]:
            if j[dd]["io_bytes"] and j[dd]["total_ios"] and "percentile" not in j[dd]["clat_ns"]:
                fail("job %s: no clat percentiles" % j["jobname"])
    print("ok: %d fio jobs" % len(jobs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["load", "gbench", "fio", "wakeup-trace"])
    p.add_argument("file")
    p.add_argument("--ops", type=int)
    p.add_argument("--mode")
    p.add_argument("--rate", type=float)
    p.add_argument("--rate-tol", type=float, default=0.1)
    p.add_argument("--check-ok", action="store_true")
    p.add_argument("--bpf", action="store_true")
    p.add_argument("--wakeup", action="store_true")
    p.add_argument("--driver")
    p.add_argument("--variant")
    p.add_argument("--bytes-per-op", type=int)
    p.add_argument("--expect", action="append")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    {"load": load, "gbench": gbench, "fio": fio, "wakeup-trace": wakeup_trace}[a.kind](a)


if __name__ == "__main__":
    main()
