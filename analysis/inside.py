"""Inside the driver: the drivers' own tracepoints in BPF-pass runs (issue 20).

Runs made with kmodlab-load --bpf-trace carry bpf.trace_events (load.py
BpfTrace): per module its events' counts, for lkp_enc the latency of the
phases between them, and the event-order figures; with --check also
check.trace_events, kmodlab-load's cross-check of those counts against the
operations (loadgen/src/trace_check.cpp owns the rules; this module only
reports their outcome).

- phase_rows: lkp_enc's phases (seed write -> string write, string write ->
  readback: the whole MMIO exchange) and scullpipe's (sleep -> wake of a
  blocked read or write), p50 per run from the phase histogram
  (the lower edge of the BPF bucket, at most 1/32 = 3.1% below the value),
  C beside C++.  When the runs carry the bench's pairs (a C and a C++ run of
  one pair number) the C++/C ratio comes with the paired statistics of the
  timing comparison (stats.paired_compare: geometric-mean ratio, its CI and
  the exact sign-flip p), outside the Holm family: descriptive of this
  pass, which runs with the probes attached.  Otherwise medians only.
- event_rows: events per 1000 operations, per driver, workload and variant.
- setup_rows: the set-up of each run (BPF attached before it: scull's trim and
  prefill on an emptied device), counted apart from the measured phase: per
  figure the count C beside C++ with what kmodlab-load's set-up plan expected
  (scull_qset_alloc = the quantum sets the prefill stores into, computed from
  the device's geometry).
- crosscheck_rows: how many runs' tracepoint cross-checks ran and passed, the
  measured phase's and the set-up's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .conf import Settings
from .load import VARIANTS, LoadgenRun, Run
from .stats import PairedResult, histogram_percentile, paired_compare


def traced(run: Run) -> list[LoadgenRun]:
    """Runs of C/C++ pairs carrying the drivers' tracepoint data, in a stable order.  The
    section compares C with C++: pairs of C with another variant (Rust) are left out,
    their C runs would otherwise share pair numbers with the C/C++ pairs'."""
    rs = [r for r in run.loadgen if r.bpf is not None and r.bpf.trace_events and r.rival == VARIANTS[1]]
    return sorted(rs, key=lambda r: (r.driver, r.workload, r.variant, r.rep))


def _own(r: LoadgenRun):
    """The trace data of the run's own module (the module of its variant)."""
    for m in r.bpf.trace_events:
        if m.driver == r.driver and m.variant == r.variant:
            return m
    return r.bpf.trace_events[0]


def phase_p50(r: LoadgenRun, phase: str) -> float:
    m = _own(r)
    h = m.phases.get(phase)
    return histogram_percentile(h, 50) if h else float("nan")


@dataclass
class PhaseRow:
    driver: str
    workload: str
    phase: str
    n: dict[str, int]              # runs per variant
    p50: dict[str, float]          # median over runs of each run's phase p50, ns
    paired: PairedResult | None    # C++/C over the pairs, when the runs are paired
    note: str = ""


def _pairs(rs: list[LoadgenRun]) -> list[tuple[LoadgenRun, LoadgenRun]]:
    """(C, C++) runs sharing a pair number; [] when the runs carry none."""
    by: dict[int, dict[str, LoadgenRun]] = {}
    for r in rs:
        if r.pair is not None:
            by.setdefault(r.pair, {})[r.variant] = r
    return [(v["c"], v["cxx"]) for _, v in sorted(by.items()) if "c" in v and "cxx" in v]


def phase_rows(run: Run, s: Settings) -> list[PhaseRow]:
    groups: dict[tuple[str, str, str], list[LoadgenRun]] = {}
    for r in traced(run):
        for phase in _own(r).phases:
            groups.setdefault((r.driver, r.workload, phase), []).append(r)
    rows = []
    for (driver, workload, phase), rs in sorted(groups.items()):
        n, p50 = {}, {}
        for v in ("c", "cxx"):
            vals = [x for x in (phase_p50(r, phase) for r in rs if r.variant == v) if np.isfinite(x)]
            n[v] = len(vals)
            p50[v] = float(np.median(vals)) if vals else float("nan")
        pairs = [(c, x) for c, x in _pairs(rs)
                 if np.isfinite(phase_p50(c, phase)) and np.isfinite(phase_p50(x, phase))]
        if len(pairs) >= 2:
            res = paired_compare([phase_p50(c, phase) for c, _ in pairs], [phase_p50(x, phase) for _, x in pairs],
                                 [c.boot for c, _ in pairs], False, s, first=[c.first for c, _ in pairs],
                                 labels=[c.pair for c, _ in pairs])
            rows.append(PhaseRow(driver, workload, phase, n, p50, res, f"{res.n_pairs} pairs"))
        else:
            rows.append(PhaseRow(driver, workload, phase, n, p50, None,
                                 "not paired (fewer than 2 C/C++ pairs): descriptive only"))
    return rows


@dataclass
class EventRow:
    driver: str
    workload: str
    event: str
    n: dict[str, int]
    per_kop: dict[str, float]      # median over runs of events per 1000 measured operations


def event_rows(run: Run) -> list[EventRow]:
    per: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for r in traced(run):
        if not r.ops:
            continue
        m = _own(r)
        for ev, cnt in {**m.events, **m.sequence}.items():
            per.setdefault((r.driver, r.workload, ev), {"c": [], "cxx": []}).setdefault(r.variant, []).append(
                1000.0 * cnt / r.ops)
    return [EventRow(d, w, ev, {v: len(x) for v, x in sides.items()},
                     {v: float(np.median(x)) if x else float("nan") for v, x in sides.items()})
            for (d, w, ev), sides in sorted(per.items())]


def _span(values: list[int]) -> str:
    """"3" when every run gave 3, "3-5" when they differ, "-" for none."""
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


@dataclass
class SetupRow:
    driver: str
    workload: str
    figure: str
    n: dict[str, int]              # runs per variant with a set-up record
    counted: dict[str, str]        # per variant: the count over its runs ("1", or "1-2" when they differ)
    expected: dict[str, str]       # per variant: what the set-up plan expected ("-": not in the plan)


def setup_rows(run: Run) -> list[SetupRow]:
    """Figures of the set-up that fired or were expected to (all-zero ones are left out: the
    cross-check counts them), per driver and workload, C beside C++."""
    per: dict[tuple[str, str, str], dict[str, tuple[list[int], list[str]]]] = {}
    for r in traced(run):
        if r.setup is None:
            continue
        for fig in sorted(set(r.setup.events) | set(r.setup.expected)):
            count, exp = r.setup.events.get(fig), r.setup.expected.get(fig)
            if not count and not (exp and exp[1]):
                continue
            sides = per.setdefault((r.driver, r.workload, fig), {})
            counts, exps = sides.setdefault(r.variant, ([], []))
            counts.append(count or 0)
            if exp:
                exps.append(f"{exp[0]:,}" if exp[0] == exp[1] else f"{exp[0]:,}-{exp[1]:,}")
    rows = []
    for (d, w, fig), sides in sorted(per.items()):
        rows.append(SetupRow(d, w, fig, {v: len(sides.get(v, ([], []))[0]) for v in ("c", "cxx")},
                             {v: _span(sides[v][0]) if v in sides else "-" for v in ("c", "cxx")},
                             {v: " / ".join(sorted(set(sides[v][1]))) or "-" if v in sides else "-"
                              for v in ("c", "cxx")}))
    return rows


@dataclass
class CrossCheckRow:
    driver: str
    variant: str
    runs: int                      # runs with tracepoint data
    checked: int                   # whose kmodlab-load --check ran the tracepoint cross-check
    passed: int
    not_checked: list[str] = field(default_factory=list)  # why not (distinct reasons)
    failures: list[str] = field(default_factory=list)     # "file: detail"
    setup_checked: int = 0         # whose set-up cross-check ran
    setup_passed: int = 0


def _tally(row: CrossCheckRow, r: LoadgenRun, tc: dict | None, setup: bool) -> None:
    """One run's outcome of one cross-check (measured phase or set-up) into its row."""
    tc = tc or {}
    if not tc.get("checked"):
        if not setup or r.setup_check is not None:
            why = ("set-up: " if setup else "") + (tc.get("detail") or "run without --check")
            if why not in row.not_checked:
                row.not_checked.append(why)
        return
    if setup:
        row.setup_checked += 1
        row.setup_passed += bool(tc.get("ok"))
    else:
        row.checked += 1
        row.passed += bool(tc.get("ok"))
    if not tc.get("ok"):
        row.failures.append(f"{r.file}: {'set-up: ' if setup else ''}{tc.get('detail', '')}")


def crosscheck_rows(run: Run) -> list[CrossCheckRow]:
    rows: dict[tuple[str, str], CrossCheckRow] = {}
    for r in traced(run):
        row = rows.setdefault((r.driver, r.variant), CrossCheckRow(r.driver, r.variant, 0, 0, 0))
        row.runs += 1
        _tally(row, r, r.trace_check, setup=False)
        _tally(row, r, r.setup_check, setup=True)
    return [rows[k] for k in sorted(rows)]
