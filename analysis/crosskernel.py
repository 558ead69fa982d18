"""Each variant across kernels: is a cell faster on 6.12 than on 6.1, and does C++/C move?

The runs of two kernels are NOT pairs (different boots, different times,
maybe different kernels' module builds), so the comparison is unpaired and
uses the two-level model the paired analysis uses for its SE
(stats.two_level_se: boots, then runs within a boot):

* per kernel K, cell and variant v: the timing-pass runs of v (the cell's
  disturbed pairs excluded, as in the per-kernel summary), y = log(metric),
  m_K = mean y, se_K = two-level SE over that kernel's boots;
* ratio K2/K1 = exp(m_K2 - m_K1), SE = sqrt(se_K1^2 + se_K2^2), Welch df
  from the run counts, 95% CI exp(diff +- t * SE), two-sided p from the
  same t;
* "C++/C moved": the paired mean log-ratios of the two kernels (the
  per-kernel summary's), their SEs, the same Welch test: the ratio of the
  two kernels' C++/C.

Family: every compared row of the set (cell x {C, C++, C++/C} x
REGRESS_RATIO_METRICS x each kernel against the reference, the lowest
series); Holm across it at STATS_ALPHA.  A row whose two kernels ran the
cell on different machines (a merged set whose kernels were sharded apart)
is not compared: no ratio divides numbers from two machines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .compare import METRICS, CellResult, compare_run
from .conf import Settings
from .load import MANIFEST, Run, read_json
from .shard import machine_key
from .stats import holm, two_level_se, welch_df

SIDES = {"c": "C", "cxx": "C++", "ratio": "C++/C"}
NOT_SAME_MACHINE = "not compared: the kernels ran this cell on different machines"


@dataclass
class CrossRow:
    cell: str
    metric: str
    side: str            # c, cxx, or ratio (C++/C)
    ref: str             # reference series (6.1)
    other: str           # compared series (6.12)
    ratio: float         # other/ref
    ci_low: float
    ci_high: float
    p: float
    n_ref: int
    n_other: int
    boots_ref: int
    boots_other: int
    p_holm: float = float("nan")
    verdict: str = ""


def cell_machines(run: Run) -> dict[str, set[str]]:
    """Cell name -> the machines its runs came from (merged runs tag entries; a plain run has one machine)."""
    man = read_json(run.dir / MANIFEST)
    default = machine_key(man.get("machine")) if man.get("machine") else run.env.host or "unknown"
    out: dict[str, set[str]] = {}
    for e in man.get("runs", []):
        if e.get("kind") == "loadgen":
            out.setdefault(f"{e['driver']}/{e['workload']}", set()).add(str(e.get("machine") or default))
    return out


def _side_values(cr: CellResult, variant: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """log(metric) of one variant's kept runs of a cell, and their boots."""
    gone = {e.pair for e in cr.excluded}
    get = METRICS[metric][2]
    kept = [p for p in cr.pairs if p.pair not in gone]
    return (np.log([get(p.run_of(variant)) for p in kept]), np.array([p.boot for p in kept]))


def _welch(m1, se1, n1, m2, se2, n2, conf) -> tuple[float, float, float, float]:
    """(ratio, lo, hi, p) of exp(m2 - m1) from two independent means with SEs."""
    diff, se = m2 - m1, math.hypot(se1, se2)
    if not (math.isfinite(diff) and math.isfinite(se)) or n1 < 2 or n2 < 2:
        return float("nan"), float("nan"), float("nan"), float("nan")
    if se == 0:
        return math.exp(diff), math.exp(diff), math.exp(diff), (1.0 if diff == 0 else 0.0)
    df = welch_df(se1, n1, se2, n2)
    t = sps.t.ppf(1 - (1 - conf) / 2, df)
    p = float(2 * sps.t.sf(abs(diff) / se, df))
    return math.exp(diff), math.exp(diff - t * se), math.exp(diff + t * se), p


def _variant_row(a: CellResult, b: CellResult, v: str, metric: str, s: Settings, ref: str, other: str) -> CrossRow:
    ya, ba = _side_values(a, v, metric)
    yb, bb = _side_values(b, v, metric)
    if ya.size < 2 or yb.size < 2:
        r = (float("nan"),) * 4
    else:
        sea, _ = two_level_se(ya, ba, s.resamples, s.seed)
        seb, _ = two_level_se(yb, bb, s.resamples, s.seed + 1)
        r = _welch(float(ya.mean()), sea, ya.size, float(yb.mean()), seb, yb.size, s.confidence)
    return CrossRow(a.name, metric, v, ref, other, *r, int(ya.size), int(yb.size),
                    len(set(ba.tolist())), len(set(bb.tolist())))


def _ratio_row(a: CellResult, b: CellResult, metric: str, s: Settings, ref: str, other: str) -> CrossRow:
    ra, rb = a.metrics[metric].res, b.metrics[metric].res
    r = _welch(ra.mean_log, ra.se_log, ra.n_pairs, rb.mean_log, rb.se_log, rb.n_pairs, s.confidence)
    return CrossRow(a.name, metric, "ratio", ref, other, *r, ra.n_pairs, rb.n_pairs, ra.n_boots, rb.n_boots)


def _verdict(row: CrossRow, s: Settings, hib: bool) -> str:
    if not math.isfinite(row.p):
        return "too few runs"
    if not (math.isfinite(row.p_holm) and row.p_holm < s.alpha):
        return "no significant difference"
    up = row.ci_low > 1.0
    if row.side == "ratio":
        better = up == hib
        return f"C++/C {'better' if better else 'worse'} on {row.other}"
    return f"{row.other} {'faster' if up == hib else 'slower'}"


def series_order(series: str) -> tuple:
    """Sort key of kernel series: numbered series in version order (6.1 before 6.12), then the named
    ones (the lab's "rust" kernel) by name, so that the reference stays the lowest Debian series."""
    nums = tuple(int(p) for p in series.split(".") if p.isdigit())
    return (0, nums, "") if nums else (1, (), series)


def compare_kernels(runs: dict[str, Run], s: Settings,
                    results: dict[str, list[CellResult]] | None = None) -> tuple[list[CrossRow], list[str]]:
    """Rows of every kernel against the reference (the lowest series), Holm over all compared rows.

    Returns (rows, notes): notes name the cells not compared and why.
    """
    order = sorted(runs, key=series_order)
    if len(order) < 2:
        return [], []
    results = results or {k: compare_run(r, s) for k, r in runs.items()}
    ref = order[0]
    rows, notes = [], []
    for other in order[1:]:
        ra = {c.name: c for c in results[ref]}
        rb = {c.name: c for c in results[other]}
        ma, mb = cell_machines(runs[ref]), cell_machines(runs[other])
        for name in sorted(set(ra) | set(rb)):
            if name not in ra or name not in rb:
                notes.append(f"{name}: measured on {ref if name in ra else other} only")
                continue
            if ma.get(name) != mb.get(name) or len(ma.get(name, ())) != 1:
                notes.append(f"{name}: {NOT_SAME_MACHINE} ({ref}: {sorted(ma.get(name, ()))}, "
                             f"{other}: {sorted(mb.get(name, ()))})")
                continue
            for metric in s.ratio_metrics:
                for v in ("c", "cxx"):
                    rows.append(_variant_row(ra[name], rb[name], v, metric, s, ref, other))
                rows.append(_ratio_row(ra[name], rb[name], metric, s, ref, other))
    for row, adj in zip(rows, holm([r.p for r in rows])):
        row.p_holm = adj
        row.verdict = _verdict(row, s, METRICS[row.metric][1])
    return rows, notes


def family_text(rows: list[CrossRow], s: Settings) -> str:
    n = sum(math.isfinite(r.p) for r in rows)
    return (f"Holm family: {n} cross-kernel tests (every cell measured on both kernels on one machine x "
            f"{{C, C++, C++/C}} x {' and '.join(s.ratio_metrics)}), family-wise alpha {s.alpha}")
