"""Grouping a run's results into the comparisons the report and the gate show.

stats.py knows numbers; this module knows the lab: which repetitions form a
matrix cell, which metrics a cell has, how lock statistics, other tools and
probe-effect runs line up with kmodlab-load's results.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from . import devnames
from .conf import Settings
from .load import VARIANTS, LoadgenRun, Run
from .stats import (Excluded, PairedResult, bootstrap_ratio_ci, cell_disturbed, cv, histogram_percentile,
                    holm, paired_compare, paired_verdict)
from .syscalls import op_syscall

# Percentile of a run's own latency histogram that is the "p5" metric.
P5 = 5.0

# metric -> (unit, higher is better, how to read it from a run).  p5, the
# latency of the run's fast operations, is the cost of the code under test
# with the least of TCG's noise in it: the host's stalls (p999 at 0.1-1 ms)
# move throughput by up to 2x between identical runs and a whole run can sit
# in a 2x slow mode (p50), while p5 spreads 2-5% (loadgen/README.md, "Which
# metric"); the minimum-side estimator of Chen and Revels (2016).
METRICS = {
    "throughput": ("ops/s", True, lambda r: r.ops_per_s),
    "p50": ("ns", False, lambda r: r.latency["p50"]),
    "p5": ("ns", False, lambda r: histogram_percentile(r.histogram, P5)),
    "p99": ("ns", False, lambda r: r.latency["p99"]),
}

# Operations kmodlab-load itself issues around the measured phase; they are
# not the workload's operations when BPF counts are matched against user counts.
SETUP_OPS = ("openat", "close")

NOT_TESTED = "not tested (outside the corrected family)"
# The comparison every run has: C against C++.  Others (C against Rust, where
# a run has C/Rust pairs) are the same analysis of their own pairs.
CXX = VARIANTS[1]


def rivals(run: Run) -> list[str]:
    """The variants C is paired with in this run, in the header's order: C++,
    then Rust where the run has C/Rust pairs (the Rust kernel's counter)."""
    have = {r.rival for r in run.loadgen}
    return [v for v in devnames.variants() + devnames.partial_variants() if v in have]


def cells(run: Run, pass_: str = "timing", rival: str = CXX) -> dict[tuple[str, str], dict[str, list[LoadgenRun]]]:
    """(driver, workload) -> {"c": [runs by rep], rival: [...]} of one pass and
    the pairs of C against rival, in a stable order."""
    out: dict[tuple[str, str], dict[str, list[LoadgenRun]]] = {}
    for r in sorted(run.runs_of(pass_), key=lambda r: (r.driver, r.workload, r.variant, r.rep)):
        if r.rival == rival:
            out.setdefault((r.driver, r.workload), {VARIANTS[0]: [], rival: []})[r.variant].append(r)
    return out


@dataclass
class Pair:
    pair: int
    boot: int
    first: str
    c: LoadgenRun
    x: LoadgenRun             # the other side: C++, or the rival of a C/Rust pair

    def run_of(self, variant: str) -> LoadgenRun:
        """The pair's run of "c", else its other side's."""
        return self.c if variant == VARIANTS[0] else self.x


def cell_pairs(run: Run, rival: str = CXX) -> dict[tuple[str, str], list[Pair]]:
    """The timing pass's pairs of C against rival per cell, by pair number (load.py
    checked that each is one run of each side)."""
    by: dict[tuple, dict[int, dict[str, LoadgenRun]]] = defaultdict(dict)
    for r in run.runs_of("timing"):
        if r.rival == rival:
            by[(r.driver, r.workload)].setdefault(r.pair, {})[r.variant] = r
    c = VARIANTS[0]
    return {cell: [Pair(k, v[c].boot, v[c].first, v[c], v[rival]) for k, v in sorted(ps.items())]
            for cell, ps in sorted(by.items())}


@dataclass
class MetricResult:
    metric: str
    unit: str
    higher_is_better: bool
    res: PairedResult
    c_median: float           # over the pairs used
    x_median: float           # the other side's (C++ or the rival)
    in_family: bool           # part of the Holm family (REGRESS_RATIO_METRICS)
    p_adj: float = float("nan")
    verdict: str = NOT_TESTED


@dataclass
class CellResult:
    driver: str
    workload: str
    primary: bool
    n_pairs: int                         # pairs measured, before exclusion
    boots: int
    excluded: list[Excluded]             # pairs left out by the disturbed-run rule (all metrics)
    bytes_per_op: dict[str, float]       # variant -> median bytes moved per operation
    metrics: dict[str, MetricResult]
    pairs: list[Pair]
    rival: str = CXX                     # what C was paired with: "cxx", or "rust"

    @property
    def name(self) -> str:
        return f"{self.driver}/{self.workload}"


# Operations that wait for another thread by design (a blocking read meets a
# writer): their latency has no floor of its own, it is the wake-up's, which
# spreads 2x and more between clean runs (scullpipe pingpong512 p5 22 µs to
# 2.7 ms within one quick bench, 2026-12-01), so the floor part of the
# disturbed-run rule would exclude clean runs; their cells keep the
# throughput part only.
WAITING_OPS = frozenset({"pipe", "pingpong"})


def has_floor(op: str | None) -> bool:
    """Whether a workload's op has a latency floor the disturbed-run rule may use."""
    return op not in WAITING_OPS


def run_floor(r: LoadgenRun, pct: float) -> float:
    """A run's latency floor: the pct-th percentile of its own histogram (disturbed-run rule)."""
    return histogram_percentile(r.histogram, pct)


def _cell_result(driver: str, workload: str, pairs: list[Pair], s: Settings, family_size: int,
                 rival: str = CXX) -> CellResult:
    labels = [p.pair for p in pairs]
    boots = [p.boot for p in pairs]
    first = [p.first for p in pairs]
    # One exclusion for the whole cell, decided on throughput and latency floor:
    # a pair is either disturbed or not, whatever metric is looked at.
    floors = has_floor(pairs[0].c.op)
    excl = cell_disturbed([p.c.ops_per_s for p in pairs], [p.x.ops_per_s for p in pairs],
                          [run_floor(p.c, s.floor_percentile) for p in pairs] if floors else None,
                          [run_floor(p.x, s.floor_percentile) for p in pairs] if floors else None, labels, s,
                          (devnames.label(VARIANTS[0]), devnames.label(rival)))
    gone = {e.pair for e in excl}
    metrics = {}
    for name, (unit, hib, get) in METRICS.items():
        c = [get(p.c) for p in pairs]
        x = [get(p.x) for p in pairs]
        fam = name in s.ratio_metrics
        res = paired_compare(c, x, boots, hib, s, first=first, exclude=excl, labels=labels,
                             family_size=family_size if fam else 1)
        kept_c = [v for v, lab in zip(c, labels) if lab not in gone]
        kept_x = [v for v, lab in zip(x, labels) if lab not in gone]
        metrics[name] = MetricResult(name, unit, hib, res, float(np.median(kept_c)) if kept_c else float("nan"),
                                     float(np.median(kept_x)) if kept_x else float("nan"), fam)
    # a run without operations (a stalled 0.3 s pingpong) has no bytes per op: the others decide
    bpo = {v: float(np.median(b)) if (b := [x for p in pairs if np.isfinite(x := p.run_of(v).bytes_per_op)])
           else float("nan") for v in (VARIANTS[0], rival)}
    return CellResult(driver, workload, f"{driver}/{workload}" in s.primary_cells, len(pairs),
                      len(set(boots)), excl, bpo, metrics, pairs, rival)


def family_size(run: Run, s: Settings, rival: str = CXX) -> int:
    """Members of one comparison's Holm family: every timing-pass cell with
    pairs of C against rival x every metric of REGRESS_RATIO_METRICS.  C/C++
    and C/Rust are two families, one per question (analysis/README.md)."""
    return len(cell_pairs(run, rival)) * len([m for m in METRICS if m in s.ratio_metrics])


def compare_run(run: Run, settings: Settings, rival: str = CXX) -> list[CellResult]:
    """The summary table of C against rival (C++ by default): every timing-pass
    cell with such pairs, every metric; Holm across the family, then verdicts."""
    s = settings
    m = family_size(run, s, rival)
    out = [_cell_result(d, w, ps, s, m, rival) for (d, w), ps in cell_pairs(run, rival).items()]
    fam = [mr for cr in out for mr in cr.metrics.values() if mr.in_family]
    for mr, adj in zip(fam, holm([mr.res.p for mr in fam])):
        mr.p_adj = adj
        mr.verdict = paired_verdict(mr.res, adj, s.alpha, s.min_pairs)
    return out


def merge_histograms(hists) -> list[tuple[float, float, int]]:
    """Sum [lo, hi, count] histograms bucket by bucket (same bucket edges across repetitions)."""
    acc: dict[tuple[float, float], int] = defaultdict(int)
    for h in hists:
        for lo, hi, n in h:
            acc[(lo, hi)] += n
    return sorted((lo, hi, n) for (lo, hi), n in acc.items())


def expected_syscalls(r: LoadgenRun) -> dict[str, int] | None:
    """Syscalls (BPF opslat op names) the run issued in its measured phase, with counts."""
    out: dict[str, int] = defaultdict(int)
    if not r.per_op:
        return None
    for op, n in r.per_op.items():
        sc = op_syscall(r.driver, op)
        if sc is None:
            return None
        out[sc[0]] += sc[1] * n
    return dict(out)


def own_node_ops(r: LoadgenRun):
    """The run's BPF opslat entries on its own node: a pingpong run traces its return pipes too, whose
    reads and writes are the other thread's half of the round trip (files without device names: all)."""
    own = [o for o in r.bpf.opslat if o.device == r.device]
    return own if own else list(r.bpf.opslat)


def kernel_ops(r: LoadgenRun):
    """The run's BPF opslat entries of its workload's syscalls on its own node.

    BPF traces the device, not the process: open/close around the measured
    phase, and anything another process does to the same node, would
    otherwise be mixed in.
    """
    if r.bpf is None:
        return []
    want = expected_syscalls(r)
    if want is None:
        return [o for o in own_node_ops(r) if o.op not in SETUP_OPS]
    return [o for o in own_node_ops(r) if o.op in want]


# --- lock contention --------------------------------------------------------------
@dataclass
class LockRow:
    driver: str
    workload: str             # the matrix workload (scull pread64 and pread4096 are two)
    sync: str
    threads: int
    variant: str
    n: int
    ops_per_s: float          # median over repetitions
    ops_cv: float
    contentions_per_kop: float  # median of contention events per 1000 ops
    wait_ns_per_op: float     # median of total contention wait / ops
    max_wait_ns: float        # max over repetitions
    top_lock: str
    rival: str = CXX          # which pairs' runs: C's of C/C++ and of C/Rust pairs are apart


def _lock_groups(run: Run) -> dict[tuple, list[LoadgenRun]]:
    """(driver, workload, sync, threads, variant, rival) -> repetitions that carry BPF data.

    Grouped by workload, not by operation: one op at two sizes (scull
    pread64 of 64 B and of 4 KiB) contends differently and must not merge;
    and by the pair's rival: C/Rust pairs hook their calls at the syscall
    (scripts/bench_matrix.py pair_sides), C/C++ pairs at the driver.
    """
    groups: dict[tuple, list[LoadgenRun]] = defaultdict(list)
    for r in run.loadgen:
        if r.bpf is not None:
            groups[(r.driver, r.workload, r.sync or "-", r.threads, r.variant, r.rival)].append(r)
    return groups


def lock_rows(run: Run) -> list[LockRow]:
    """Lock contention per (driver, workload, sync mode, threads, variant) from BPF lockstat.

    The sync mode comes from the manifest entry's params.sync or the file's
    module_params.sync ("-" for drivers without one, such as scull's semaphore).
    """
    rows = []
    for (driver, workload, sync, threads, variant, rival), rs in sorted(_lock_groups(run).items()):
        per_kop, wait, maxw, locks = [], [], 0.0, defaultdict(float)
        for r in rs:
            cnt = sum(lk.count for lk in r.bpf.lockstat)
            tot = sum(lk.total_ns for lk in r.bpf.lockstat)
            per_kop.append(1000.0 * cnt / r.ops if r.ops else float("nan"))
            wait.append(tot / r.ops if r.ops else float("nan"))
            maxw = max([maxw] + [lk.max_ns for lk in r.bpf.lockstat])
            for lk in r.bpf.lockstat:
                locks[lock_label(lk)] += lk.total_ns
        thr = [r.ops_per_s for r in rs]
        top = max(locks, key=locks.get) if locks else "-"
        rows.append(LockRow(driver, workload, sync, threads, variant, len(rs), float(np.median(thr)), cv(thr),
                            float(np.median(per_kop)), float(np.median(wait)), maxw, top, rival))
    return rows


def readable_symbol(name: str) -> str:
    """A lock name with any mangled C++ symbol (_ZL19kcxx_module_storage+0x40) replaced by its
    qualified name (kcxx_module_storage+0x40): older runs, made before kcxx named its locks,
    carry such names, and a report never shows a mangled symbol."""
    def one(m: re.Match) -> str:
        s, i, parts = m.group(0), 2, []
        if s[i:i + 1] == "L":
            i += 1
        nested = s[i:i + 1] == "N"
        i += nested
        while i < len(s) and s[i].isdigit():
            j = i
            while j < len(s) and s[j].isdigit():
                j += 1
            n = int(s[i:j])
            parts.append(s[j:j + n])
            i = j + n
            if not nested:
                break
        return "::".join(parts) if parts else "<c++ symbol>"
    return re.sub(r"_Z[A-Za-z0-9_]+", one, name)


_ANY_VARIANT = "|".join(devnames.variants() + devnames.partial_variants())


def lock_label(lk) -> str:
    """A lock's name with the variant folded out, so C's and C++'s twin locks share a row.

    counter_c_mutex [counter_c] and counter_cxx_mutex [counter_cxx] are both
    counter_<v>_mutex; heap locks (<heap>#hash, salted per session) are one
    row per kind; waits in interrupt context are a row of their own.
    """
    name = readable_symbol(lk.lock)
    if name.startswith("<heap>"):
        name = f"<heap> {lk.kind or 'lock'}"
    else:
        name = re.sub(r" \[[^]]*\]$", "", name)
        name = re.sub(rf"(^|_)({_ANY_VARIANT})(_|$)", r"\1<v>\3", name, count=1)
    return name + (" (in interrupts)" if getattr(lk, "context", "task") == "irq" else "")


@dataclass
class LockPair:
    driver: str
    workload: str
    sync: str
    threads: int
    lock: str                 # lock_label()
    kind: str
    n: dict[str, int]         # variant -> repetitions
    per_kop: dict[str, float]  # variant -> median contentions per 1000 ops (a repetition without it: 0)
    wait_ns_per_op: dict[str, float]  # variant -> median wait per op


def lock_pairs(run: Run, rival: str = CXX) -> list[LockPair]:
    """Per lock and workload: contentions per 1000 ops and wait per op, C beside
    rival (C++; Rust from the C/Rust pairs' runs)."""
    groups = {k[:5]: rs for k, rs in _lock_groups(run).items() if k[5] == rival}
    out: dict[tuple, LockPair] = {}
    for (driver, workload, sync, threads, variant), rs in groups.items():
        labels = {(lock_label(lk), lk.kind or "?") for r in rs for lk in r.bpf.lockstat}
        for lab, kind in labels:
            kop, wait = [], []
            for r in rs:
                mine = [lk for lk in r.bpf.lockstat if (lock_label(lk), lk.kind or "?") == (lab, kind)]
                kop.append(1000.0 * sum(lk.count for lk in mine) / r.ops if r.ops else float("nan"))
                wait.append(sum(lk.total_ns for lk in mine) / r.ops if r.ops else float("nan"))
            key = (driver, workload, sync, threads, lab, kind)
            p = out.setdefault(key, LockPair(driver, workload, sync, threads, lab, kind, {}, {}, {}))
            p.n[variant] = len(rs)
            p.per_kop[variant] = float(np.median(kop))
            p.wait_ns_per_op[variant] = float(np.median(wait))
    # A lock seen in one variant only: the other variant's runs had 0 waits on it.
    for key, p in out.items():
        for v in (VARIANTS[0], rival):
            rs = groups.get((p.driver, p.workload, p.sync, p.threads, v))
            if rs and v not in p.n:
                p.n[v], p.per_kop[v], p.wait_ns_per_op[v] = len(rs), 0.0, 0.0
    return [out[k] for k in sorted(out)]


# --- other tools ---------------------------------------------------------------------
@dataclass
class ToolRow:
    driver: str
    workload: str
    variant: str
    tool: str                 # "fio" or "gbench"
    loadgen_ops: float        # median ops/s
    loadgen_cv: float
    tool_ops: float
    tool_cv: float
    n_tool: int
    diff: float               # tool / loadgen - 1
    agree: bool
    loadgen_p50: float | None
    tool_p50: float | None


def tool_rows(run: Run, settings: Settings) -> list[ToolRow]:
    """fio and Google Benchmark against kmodlab-load, same cell and variant, medians of repetitions."""
    lg: dict[tuple, list[LoadgenRun]] = defaultdict(list)
    for r in run.runs_of("timing"):  # fio and Google Benchmark run without BPF too
        if r.rival == CXX:  # the C/C++ pairs' runs: the tools run C and C++ (kmodlab-gbench, the fio jobs)
            lg[(r.driver, r.workload, r.variant)].append(r)
    other: dict[tuple, list] = defaultdict(list)
    for f in run.fio:
        other[("fio", f.driver, f.workload, f.variant)].append((f.ops_per_s, f.p50_ns))
    for g in run.gbench:
        other[("gbench", g.driver, g.workload, g.variant)].append((g.ops_per_s, None))
    rows = []
    for (tool, driver, workload, variant), samples in sorted(other.items()):
        base = lg.get((driver, workload, variant))
        if not base:
            continue  # reported by the caller as "no kmodlab-load counterpart"
        lops = [r.ops_per_s for r in base]
        tops = [s[0] for s in samples]
        lmed, tmed = float(np.median(lops)), float(np.median(tops))
        diff = tmed / lmed - 1.0 if lmed else float("inf")
        p50s = [s[1] for s in samples if s[1] is not None]
        rows.append(ToolRow(driver, workload, variant, tool, lmed, cv(lops), tmed, cv(tops), len(tops), diff,
                            abs(diff) <= settings.agree_tolerance,
                            float(np.median([r.latency["p50"] for r in base])),
                            float(np.median(p50s)) if p50s else None))
    return rows


def unmatched_tool_cells(run: Run) -> list[str]:
    """fio/gbench cells with no kmodlab-load run of the same driver/workload/variant."""
    lg = {(r.driver, r.workload, r.variant) for r in run.runs_of("timing")}
    out = set()
    for t, items in (("fio", run.fio), ("gbench", run.gbench)):
        for x in items:
            if (x.driver, x.workload, x.variant) not in lg:
                out.add(f"{t} {x.driver}/{x.workload}/{x.variant}")
    return sorted(out)


# --- probe effect ----------------------------------------------------------------------
@dataclass
class ProbeRow:
    driver: str
    workload: str
    variant: str
    n_off: int
    n_on: int
    off_ops: float
    on_ops: float
    off_cv: float
    on_cv: float
    change: float        # on/off - 1 (negative: the probes cost throughput)
    change_lo: float
    change_hi: float
    ns_per_event: dict[str, float]  # BPF program -> median ns per event (kernel bpf_stats)
    source: str = ""                # "timing vs bpf pass" or "manifest probe_effect"
    rival: str = CXX                # which pairs' runs (C's of C/Rust pairs are hooked differently)


def _probe_row(driver, workload, variant, off: list[LoadgenRun], on: list[LoadgenRun], source: str,
               s: Settings, rival: str = CXX) -> ProbeRow:
    offv = [r.ops_per_s for r in off]
    onv = [r.ops_per_s for r in on]
    point, lo, hi = bootstrap_ratio_ci(offv, onv, s.resamples, s.seed, s.confidence)
    nspe: dict[str, list[float]] = defaultdict(list)
    for r in on:
        if r.bpf:
            for ps in r.bpf.prog_stats:
                nspe[ps["name"]].append(ps["ns_per_event"])
    return ProbeRow(driver, workload, variant, len(offv), len(onv), float(np.median(offv)), float(np.median(onv)),
                    cv(offv), cv(onv), point - 1, lo - 1, hi - 1,
                    {k: float(np.median(v)) for k, v in sorted(nspe.items())}, source, rival)


def probe_rows(run: Run, settings: Settings) -> list[ProbeRow]:
    """Throughput with BPF attached against without, per cell and variant.

    The two passes of the same variant (timing: no BPF; bpf: kmodlab-load
    --bpf) ran at different times, so they are not pairs: ratio of medians
    with an unpaired bootstrap.  A manifest "probe_effect" entry (explicit
    off/on file lists) adds its own row.
    """
    rows = []
    passes = {rv: (cells(run, "timing", rv), cells(run, "bpf", rv)) for rv in rivals(run)}
    for rv, (timing, bpf) in passes.items():
        for (driver, workload) in sorted(set(timing) & set(bpf)):
            for v in (VARIANTS[0], rv):
                off, on = timing[(driver, workload)][v], bpf[(driver, workload)][v]
                if off and on:
                    rows.append(_probe_row(driver, workload, v, off, on, "timing vs bpf pass", settings, rv))
    derived = {(r.driver, r.workload, r.variant, r.rival) for r in rows}
    for p in run.probe:
        # scripts/bench_matrix.py lists the two passes' files here too: the same data, shown once.
        timing, bpf = passes.get(p.rival, ({}, {}))
        same = (p.driver, p.workload, p.variant, p.rival) in derived and {r.file for r in p.off} == {
            r.file for r in timing[(p.driver, p.workload)][p.variant]} and {r.file for r in p.on} == {
            r.file for r in bpf[(p.driver, p.workload)][p.variant]}
        if not same:
            rows.append(_probe_row(p.driver, p.workload, p.variant, p.off, p.on, "manifest probe_effect", settings,
                                   p.rival))
    return rows


def syscalls_per_op(r: LoadgenRun) -> dict[str, int] | None:
    """Most calls of each syscall that one operation of this run issues (encrypt: 3 ioctls)."""
    out: dict[str, int] = defaultdict(int)
    if not r.per_op:
        return None
    for op in r.per_op:
        sc = op_syscall(r.driver, op)
        if sc is None:
            return None
        out[sc[0]] = max(out[sc[0]], sc[1])
    return dict(out)


def bpf_count_mismatches(run: Run) -> list[str]:
    """Runs whose BPF count of the workload's syscalls is not exactly explained, or that lost events.

    kmodlab-load lets its workers measure only after it has cleared the BPF
    maps at the end of the warm-up (loadgen/src/main.cpp, measure_go), and
    detaches only after every worker has stopped; BPF counts a call at its
    exit.  So every measured call is counted (BPF never counts fewer), and
    the only extra calls are warm-up calls still inside the kernel at the
    clear: at most one operation per thread, i.e. threads x the calls of that
    syscall one operation issues.  Hence 0 <= BPF - user <= in-flight bound;
    anything else means lost events or wrong windows.  Drops (map full) and
    recursion misses (the kernel skipped a program run, bpf_prog_info) are
    lost events too and fail outright.
    """
    bad = []
    for r in run.loadgen:
        if r.bpf is None:
            continue
        if r.bpf.dropped:
            bad.append(f"{r.file}: BPF dropped {r.bpf.dropped} events")
        missed = sum(int(p.get("recursion_misses", 0)) for p in r.bpf.prog_stats)
        if missed:
            bad.append(f"{r.file}: BPF programs missed {missed} runs (recursion_misses)")
        want, per_op = expected_syscalls(r), syscalls_per_op(r)
        if want is None or per_op is None:
            bad.append(f"{r.file}: cannot tell which syscalls operations {sorted(r.per_op) or [r.op]} issue")
            continue
        for sc, n in sorted(want.items()):
            got = sum(o.count for o in own_node_ops(r) if o.op == sc)
            bound = r.threads * per_op[sc]
            if not 0 <= got - n <= bound:
                bad.append(f"{r.file}: BPF counted {got} {sc} calls, kmodlab-load issued {n}: "
                           f"difference {got - n:+d} outside [0, {bound}] "
                           f"({r.threads} threads x {per_op[sc]} {sc} per operation in flight at the clear)")
    return bad
