"""Grouping a run's results into the comparisons the report and the gate show.

stats.py knows numbers; this module knows the lab: which repetitions form a
matrix cell, which metrics a cell has, how lock statistics, other tools and
probe-effect runs line up with kmodlab-load's results.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .conf import Settings
from .load import LoadgenRun, Run
from .stats import (Excluded, PairedResult, bootstrap_ratio_ci, cv, disturbed_pairs, histogram_percentile,
                    holm, paired_compare, paired_verdict)

# metric -> (unit, higher is better, how to read it from a run)
METRICS = {
    "throughput": ("ops/s", True, lambda r: r.ops_per_s),
    "p50": ("ns", False, lambda r: r.latency["p50"]),
    "p99": ("ns", False, lambda r: r.latency["p99"]),
}

# Operations kmodlab-load itself issues around the measured phase; they are
# not the workload's operations when BPF counts are matched against user counts.
SETUP_OPS = ("openat", "close")

NOT_TESTED = "not tested (outside the corrected family)"


def cells(run: Run, pass_: str = "timing") -> dict[tuple[str, str], dict[str, list[LoadgenRun]]]:
    """(driver, workload) -> {"c": [runs by rep], "cxx": [...]} of one pass, in a stable order."""
    out: dict[tuple[str, str], dict[str, list[LoadgenRun]]] = {}
    for r in sorted(run.runs_of(pass_), key=lambda r: (r.driver, r.workload, r.variant, r.rep)):
        out.setdefault((r.driver, r.workload), {"c": [], "cxx": []})[r.variant].append(r)
    return out


@dataclass
class Pair:
    pair: int
    boot: int
    first: str
    c: LoadgenRun
    cxx: LoadgenRun


def cell_pairs(run: Run) -> dict[tuple[str, str], list[Pair]]:
    """The timing pass's pairs per cell, by pair number (load.py checked that each is one C and one C++)."""
    by: dict[tuple, dict[int, dict[str, LoadgenRun]]] = defaultdict(dict)
    for r in run.runs_of("timing"):
        by[(r.driver, r.workload)].setdefault(r.pair, {})[r.variant] = r
    return {cell: [Pair(k, v["c"].boot, v["c"].first, v["c"], v["cxx"]) for k, v in sorted(ps.items())]
            for cell, ps in sorted(by.items())}


@dataclass
class MetricResult:
    metric: str
    unit: str
    higher_is_better: bool
    res: PairedResult
    c_median: float           # over the pairs used
    cxx_median: float
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

    @property
    def name(self) -> str:
        return f"{self.driver}/{self.workload}"


def run_floor(r: LoadgenRun, pct: float) -> float:
    """A run's latency floor: the pct-th percentile of its own histogram (disturbed-run rule)."""
    return histogram_percentile(r.histogram, pct)


def _cell_result(driver: str, workload: str, pairs: list[Pair], s: Settings, family_size: int) -> CellResult:
    labels = [p.pair for p in pairs]
    boots = [p.boot for p in pairs]
    first = [p.first for p in pairs]
    # One exclusion for the whole cell, decided on throughput and latency floor:
    # a pair is either disturbed or not, whatever metric is looked at.
    excl = disturbed_pairs([p.c.ops_per_s for p in pairs], [p.cxx.ops_per_s for p in pairs], True,
                           s.disturbed_factor, [run_floor(p.c, s.floor_percentile) for p in pairs],
                           [run_floor(p.cxx, s.floor_percentile) for p in pairs], labels)
    gone = {e.pair for e in excl}
    metrics = {}
    for name, (unit, hib, get) in METRICS.items():
        c = [get(p.c) for p in pairs]
        x = [get(p.cxx) for p in pairs]
        fam = name in s.ratio_metrics
        res = paired_compare(c, x, boots, hib, s, first=first, exclude=excl, labels=labels,
                             family_size=family_size if fam else 1)
        kept_c = [v for v, lab in zip(c, labels) if lab not in gone]
        kept_x = [v for v, lab in zip(x, labels) if lab not in gone]
        metrics[name] = MetricResult(name, unit, hib, res, float(np.median(kept_c)) if kept_c else float("nan"),
                                     float(np.median(kept_x)) if kept_x else float("nan"), fam)
    bpo = {v: float(np.median([getattr(p, v).bytes_per_op for p in pairs])) for v in ("c", "cxx")}
    return CellResult(driver, workload, f"{driver}/{workload}" in s.primary_cells, len(pairs),
                      len(set(boots)), excl, bpo, metrics, pairs)


def family_size(run: Run, s: Settings) -> int:
    """Members of the Holm family: every timing-pass cell x every metric of REGRESS_RATIO_METRICS."""
    return len(cell_pairs(run)) * len([m for m in METRICS if m in s.ratio_metrics])


def compare_run(run: Run, settings: Settings) -> list[CellResult]:
    """The summary table: every timing-pass cell, every metric; Holm across the family, then verdicts."""
    s = settings
    m = family_size(run, s)
    out = [_cell_result(d, w, ps, s, m) for (d, w), ps in cell_pairs(run).items()]
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
    """Syscalls (BPF opslat op names) the run issued in its measured phase, with counts.

    kmodlab-load's operations map onto syscalls as loadgen/src/main.cpp issues
    them: counter's read is a pread at offset 0, incr a write of "1",
    lkp_enc's encrypt three ioctls.  None when an operation is not known here
    (the caller then says it cannot check, rather than guess).
    """
    out: dict[str, int] = defaultdict(int)
    if not r.per_op:
        return None
    for op, n in r.per_op.items():
        if op == "read":
            out["pread64" if r.driver == "counter" else "read"] += n
        elif op in ("write", "incr"):
            out["write"] += n
        elif op in ("pread", "pwrite"):
            out[op + "64"] += n
        elif op == "encrypt":
            out["ioctl"] += 3 * n
        elif op.startswith("ioctl:"):
            out["ioctl"] += n
        else:
            return None
    return dict(out)


def kernel_ops(r: LoadgenRun):
    """The run's BPF opslat entries of its workload's syscalls.

    BPF traces the device, not the process: open/close around the measured
    phase, and anything another process does to the same node, would
    otherwise be mixed in.
    """
    if r.bpf is None:
        return []
    want = expected_syscalls(r)
    if want is None:
        return [o for o in r.bpf.opslat if o.op not in SETUP_OPS]
    return [o for o in r.bpf.opslat if o.op in want]


# --- lock contention --------------------------------------------------------------
@dataclass
class LockRow:
    driver: str
    op: str
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


def lock_rows(run: Run) -> list[LockRow]:
    """Lock contention per (driver, op, sync mode, threads, variant) from BPF lockstat.

    Only runs that carry BPF data take part; the sync mode comes from the
    manifest entry's params.sync or the file's module_params.sync ("-" for
    drivers without one, such as scull's semaphore).
    """
    groups: dict[tuple, list[LoadgenRun]] = defaultdict(list)
    for r in run.loadgen:
        if r.bpf is None:
            continue
        groups[(r.driver, r.op or r.workload, r.sync or "-", r.threads, r.variant)].append(r)
    rows = []
    for (driver, op, sync, threads, variant), rs in sorted(groups.items()):
        per_kop, wait, maxw, locks = [], [], 0.0, defaultdict(float)
        for r in rs:
            cnt = sum(lk.count for lk in r.bpf.lockstat)
            tot = sum(lk.total_ns for lk in r.bpf.lockstat)
            per_kop.append(1000.0 * cnt / r.ops if r.ops else float("nan"))
            wait.append(tot / r.ops if r.ops else float("nan"))
            maxw = max([maxw] + [lk.max_ns for lk in r.bpf.lockstat])
            for lk in r.bpf.lockstat:
                locks[lk.lock] += lk.total_ns
        thr = [r.ops_per_s for r in rs]
        top = max(locks, key=locks.get) if locks else "-"
        rows.append(LockRow(driver, op, sync, threads, variant, len(rs), float(np.median(thr)), cv(thr),
                            float(np.median(per_kop)), float(np.median(wait)), maxw, top))
    return rows


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


def _probe_row(driver, workload, variant, off: list[LoadgenRun], on: list[LoadgenRun], source: str,
               s: Settings) -> ProbeRow:
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
                    {k: float(np.median(v)) for k, v in sorted(nspe.items())}, source)


def probe_rows(run: Run, settings: Settings) -> list[ProbeRow]:
    """Throughput with BPF attached against without, per cell and variant.

    The two passes of the same variant (timing: no BPF; bpf: kmodlab-load
    --bpf) ran at different times, so they are not pairs: ratio of medians
    with an unpaired bootstrap.  A manifest "probe_effect" entry (explicit
    off/on file lists) adds its own row.
    """
    rows = []
    timing, bpf = cells(run, "timing"), cells(run, "bpf")
    for (driver, workload) in sorted(set(timing) & set(bpf)):
        for v in ("c", "cxx"):
            off, on = timing[(driver, workload)][v], bpf[(driver, workload)][v]
            if off and on:
                rows.append(_probe_row(driver, workload, v, off, on, "timing vs bpf pass", settings))
    derived = {(r.driver, r.workload, r.variant): r for r in rows}
    for p in run.probe:
        # scripts/bench_matrix.py lists the two passes' files here too: the same data, shown once.
        same = (p.driver, p.workload, p.variant) in derived and {r.file for r in p.off} == {
            r.file for r in timing[(p.driver, p.workload)][p.variant]} and {r.file for r in p.on} == {
            r.file for r in bpf[(p.driver, p.workload)][p.variant]}
        if not same:
            rows.append(_probe_row(p.driver, p.workload, p.variant, p.off, p.on, "manifest probe_effect", settings))
    return rows


def bpf_count_mismatches(run: Run, tolerance: float) -> list[str]:
    """Runs whose BPF-counted workload operations differ from kmodlab-load's count, or that dropped events.

    Both sides count the same syscalls (failed ones included) in nearly the
    same window: kmodlab-load clears the BPF maps when it notices the end of
    its warm-up, polling every 20 ms, so BPF may miss that much of the start.
    REGRESS_BPF_COUNT_TOLERANCE bounds the difference; beyond it events were
    lost or the windows are wrong, and every BPF figure of the run is suspect.
    Any drop (map full, ring buffer overrun) is a failure outright.
    """
    bad = []
    for r in run.loadgen:
        if r.bpf is None:
            continue
        if r.bpf.dropped:
            bad.append(f"{r.file}: BPF dropped {r.bpf.dropped} events")
        want = expected_syscalls(r)
        if want is None:
            bad.append(f"{r.file}: cannot tell which syscalls operations {sorted(r.per_op) or [r.op]} issue")
            continue
        for sc, n in sorted(want.items()):
            got = sum(o.count for o in r.bpf.opslat if o.op == sc)
            if abs(got - n) > tolerance * n:
                bad.append(f"{r.file}: BPF counted {got} {sc} calls, kmodlab-load issued {n} "
                           f"({(got - n) / n if n else float('inf'):+.1%})")
    return bad
