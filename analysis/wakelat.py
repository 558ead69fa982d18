"""Wakeup latency in BPF-pass runs of the blocking cells (scullpipe pipe and pingpong).

kmodlab-load --bpf on a paired run carries bpf.wakeup (load.py BpfWake): per
device and operation of the sleeping call, the wakeups timed from
sched_wakeup to the thread running again, and the sleeps they ended
(bpf/wakelat.bpf.c).  Per cell and operation (the devices of a run merged:
pingpong's two pipes are one round trip's two reads):

- wakeups per operation and the p50/p99 of each run's merged histogram,
  median over runs, C beside C++;
- with C/C++ pairs, the C++/C ratio of the p50s with the paired statistics
  of the timing comparison (stats.paired_compare: geometric mean, 95% CI,
  exact sign-flip p), outside the Holm family like the tracepoint phases:
  the probes are attached in this pass;
- the relations of analysis/wakeups.py (one wakeup per sleep, pingpong's
  blocked reads per round trip), runs that keep them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compare import merge_histograms
from .conf import Settings
from .load import VARIANTS, LoadgenRun, Run
from .stats import PairedResult, histogram_percentile, paired_compare
from .wakeups import relation_problems


def woken(run: Run) -> list[LoadgenRun]:
    """Runs of C/C++ pairs carrying wakeup figures, in a stable order (C against C++, as
    inside.traced: another variant's pairs would share pair numbers with these)."""
    rs = [r for r in run.loadgen if r.bpf is not None and r.bpf.wakeup is not None and r.rival == VARIANTS[1]]
    return sorted(rs, key=lambda r: (r.driver, r.workload, r.variant, r.rep))


def _hist(r: LoadgenRun, op: str) -> list:
    return merge_histograms([w.histogram for w in r.bpf.wakeup if w.op == op])


def wake_pct(r: LoadgenRun, op: str, q: float) -> float:
    h = _hist(r, op)
    return histogram_percentile(h, q) if h else float("nan")


def wakes_per_op(r: LoadgenRun, op: str) -> float:
    n = sum(w.count for w in r.bpf.wakeup if w.op == op)
    return n / r.ops if r.ops else float("nan")


def problems(r: LoadgenRun) -> list[str]:
    reads = {o.device: o.count for o in r.bpf.opslat if o.op == "read"}
    wakes = [{"device": w.device, "op": w.op, "count": w.count, "sleeps": w.sleeps} for w in r.bpf.wakeup]
    return relation_problems(r.op, r.ops, r.threads, reads, wakes)


@dataclass
class WakeRow:
    driver: str
    workload: str
    op: str                        # operation of the sleeping call
    n: dict[str, int]              # runs per variant
    per_op: dict[str, float]       # median wakeups per measured operation
    p50: dict[str, float]          # median over runs of each run's p50, ns
    p99: dict[str, float]
    paired: PairedResult | None    # C++/C of the p50s over the pairs
    kept: int = 0                  # runs whose relations hold
    failures: list[str] = field(default_factory=list)  # "file: problem"


def _median(vals) -> float:
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.median(vals)) if vals else float("nan")


def _paired(rs: list[LoadgenRun], op: str, s: Settings) -> PairedResult | None:
    by: dict[int, dict[str, LoadgenRun]] = {}
    for r in rs:
        if r.pair is not None:
            by.setdefault(r.pair, {})[r.variant] = r
    pairs = [(v["c"], v["cxx"]) for _, v in sorted(by.items()) if "c" in v and "cxx" in v
             and np.isfinite(wake_pct(v["c"], op, 50)) and np.isfinite(wake_pct(v["cxx"], op, 50))]
    if len(pairs) < 2:
        return None
    return paired_compare([wake_pct(c, op, 50) for c, _ in pairs], [wake_pct(x, op, 50) for _, x in pairs],
                          [c.boot for c, _ in pairs], False, s, first=[c.first for c, _ in pairs],
                          labels=[c.pair for c, _ in pairs])


def wake_rows(run: Run, s: Settings) -> list[WakeRow]:
    groups: dict[tuple[str, str, str], list[LoadgenRun]] = {}
    for r in woken(run):
        for op in sorted({w.op for w in r.bpf.wakeup}):
            groups.setdefault((r.driver, r.workload, op), []).append(r)
    rows = []
    for (driver, workload, op), rs in sorted(groups.items()):
        side = {v: [r for r in rs if r.variant == v] for v in ("c", "cxx")}
        row = WakeRow(driver, workload, op, {v: len(x) for v, x in side.items()},
                      {v: _median(wakes_per_op(r, op) for r in x) for v, x in side.items()},
                      {v: _median(wake_pct(r, op, 50) for r in x) for v, x in side.items()},
                      {v: _median(wake_pct(r, op, 99) for r in x) for v, x in side.items()},
                      _paired(rs, op, s))
        for r in rs:
            p = problems(r)
            row.kept += not p
            row.failures += [f"{r.file}: {x}" for x in p]
        rows.append(row)
    return rows
