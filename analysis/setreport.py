"""The bench set's report: C++/C per kernel, and each variant across kernels.

`python3 -m analysis report SET` renders every kernel's own report into its
run directory (report.py, unchanged) and then SET/report.md, report.html and
summary.json (schema kmodlab-set-summary/1) with:

1. the kernels (release, machines, boots, link to each kernel's report);
2. C++ against C per kernel: each kernel's paired summary (timing pass),
   Holm within that kernel's run as in its own report; then, for the
   kernels that ran C/Rust pairs (the Rust kernel's counter), Rust against
   C the same way;
3. each variant across kernels (crosskernel.py: unpaired, two-level model,
   Holm across the set's cross-kernel family).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from .benchset import BenchSet
from .compare import CXX, compare_run
from .conf import Settings
from .crosskernel import SIDES, compare_kernels, family_text
from .devnames import label
from .load import load_run
from .report import (SUMMARY, Heading, Para, Table, _ci, _finite, _p, _verdict, other_results, render, to_html,
                     to_markdown)

SET_SUMMARY_SCHEMA = "kmodlab-set-summary/1"


def _kernels_table(bs: BenchSet, runs: dict, results: dict) -> Table:
    rows = []
    for k in bs.kernels:
        run = runs[k.series]
        machines = run.origin.get("machines") or ([run.origin["machine"]] if run.origin.get("machine") else [])
        rows.append([k.series, k.release, k.dir.name + "/report.md",
                     ", ".join(m.get("host", "?") for m in machines) or (run.env.host or "not recorded"),
                     str(len({p.boot for cr in results[k.series] for p in cr.pairs})),
                     str(len(results[k.series]))])
    return Table(["kernel", "release", "report", "machine(s)", "boots (blocks)", "cells"], rows)


def _per_kernel_table(bs: BenchSet, results: dict, s: Settings, rival: str = CXX) -> Table:
    """Each kernel's paired ratios of one comparison (C++/C; rival/C for the kernels that ran it)."""
    series = [k.series for k in bs.kernels if k.series in results]
    by = {k: {cr.name: cr for cr in results[k]} for k in series}
    head = ["cell", "metric"] + [f"{k}: {label(rival)}/C [95% CI], Holm p, verdict" for k in series]
    rows = []
    for name in sorted(set().union(*[set(b) for b in by.values()])):
        for metric in s.ratio_metrics:
            row = [name, metric]
            for k in series:
                cr = by[k].get(name)
                if cr is None:
                    row.append("not measured")
                    continue
                mr = cr.metrics[metric]
                row.append(f"{_ci(mr.res)}, p {_p(mr.p_adj)}, {_verdict(mr, rival)}")
            rows.append(row)
    return Table(head, rows)


def _cross_blocks(rows, notes, s: Settings) -> list:
    b: list = [Heading("Each variant across kernels (timing pass, unpaired)")]
    if not rows and not notes:
        return b + [Para("One kernel in this set: nothing to compare across kernels "
                         "(make bench without KERNEL= runs every configured kernel).")]
    b.append(Para(
        "Method: the two kernels' runs are not pairs (different boots and times), so each side is the mean "
        "log of the metric over that kernel's timing-pass runs of the variant (the cell's disturbed pairs "
        "excluded), with the two-level between-boot SE of the paired analysis (boots, then runs within a "
        "boot: analysis/stats.py two_level_se); the ratio is exp of the difference, the 95% CI and the "
        "two-sided p come from a Welch t with both SEs. The C++/C row compares the two kernels' paired mean "
        "log-ratios the same way (does the C++/C ratio depend on the kernel?). "
        + family_text(rows, s) + ". Verdicts only where the Holm-adjusted p < alpha."))
    b.append(Table(["cell", "metric", "what", "kernels", "ratio [95% CI]", "p", "Holm p", "runs (boots)",
                    "verdict"],
                   [[r.cell, r.metric, SIDES[r.side], f"{r.other}/{r.ref}",
                     "n/a" if not math.isfinite(r.ratio) else f"{r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]",
                     _p(r.p), _p(r.p_holm),
                     f"{r.n_ref} ({r.boots_ref}) / {r.n_other} ({r.boots_other})", r.verdict] for r in rows]))
    if notes:
        b.append(Para("Not compared: " + "; ".join(notes) + "."))
    return b


def _cells_of(results: list) -> dict:
    """Cell -> metric -> the family members' ratio, CI, Holm p and verdict (the set summary's per-kernel cells)."""
    return {cr.name: {m: {"ratio": _finite(mr.res.ratio), "ci_low": _finite(mr.res.ci_low),
                          "ci_high": _finite(mr.res.ci_high), "p_holm": _finite(mr.p_adj), "verdict": mr.verdict}
                      for m, mr in cr.metrics.items() if mr.in_family}
            for cr in results}


def _summary(bs: BenchSet, results: dict, others: dict, rows, notes, s: Settings) -> dict:
    per_kernel = {}
    for k in bs.kernels:
        per_kernel[k.series] = {"release": k.release, "dir": k.dir.name, "summary": f"{k.dir.name}/{SUMMARY}",
                                "cells": _cells_of(results[k.series])}
        if others[k.series]:  # the kernels with C/Rust pairs: {"rust": cells}
            per_kernel[k.series]["other_comparisons"] = {rv: _cells_of(res) for rv, res in others[k.series].items()}
    return {"schema": SET_SUMMARY_SCHEMA, "set": bs.id, "kernels": per_kernel,
            "cross_kernel": {"family": {"size": sum(math.isfinite(r.p) for r in rows), "correction": "Holm",
                                        "alpha": s.alpha, "metrics": list(s.ratio_metrics),
                                        "model": "unpaired, two-level (boot) SE, Welch t"},
                             "rows": [{k: _finite(v) for k, v in vars(r).items()} for r in rows],
                             "not_compared": notes}}


def render_set(bs: BenchSet, s: Settings) -> list[Path]:
    """Every kernel's report, then the set's; returns the paths written (set report first)."""
    runs = {k.series: load_run(k.dir) for k in bs.kernels}
    results = {k: compare_run(r, s) for k, r in runs.items()}
    others = {k: other_results(r, s) for k, r in runs.items()}
    written = []
    for k in bs.kernels:
        md, ht, figs = render(runs[k.series], s, results[k.series])
        written += [ht, md, k.dir / SUMMARY, *figs]
    rows, notes = compare_kernels(runs, s, results)
    o = bs.manifest
    blocks: list = [Heading(f"kmodlab bench set {bs.id}", 1),
                    Para(f"Commit {o.get('commit', 'not recorded')}; "
                         + (f"merged from {len(o['merged_from'])} input(s); " if o.get("merged_from") else "")
                         + (f"shard {o['shard']['index']}/{o['shard']['count']}; "
                            if (o.get("shard") or {}).get("count", 1) > 1 else "")
                         + f"settings from {s.source}. Each kernel's full report is in its folder."),
                    _kernels_table(bs, runs, results),
                    Heading("C++ against C per kernel (timing pass, paired)"),
                    Para("Each kernel's C++/C as in its own report: geometric mean of the pairs' ratios, two-level "
                         "bootstrap CI, exact sign-flip p, Holm within that kernel's run (its cells x "
                         f"{' and '.join(s.ratio_metrics)}), verdict at alpha {s.alpha}."),
                    _per_kernel_table(bs, results, s)]
    for rv in dict.fromkeys(rv for o in others.values() for rv in o):
        x = label(rv)
        blocks += [Heading(f"{x} against C per kernel (timing pass, paired)"),
                   Para(f"The kernels whose run has C/{x} pairs, as in their own reports: the same statistics, "
                        f"Holm within that kernel's C/{x} family (its cells x {' and '.join(s.ratio_metrics)}), "
                        f"apart from the C++/C family."),
                   _per_kernel_table(bs, {k: o[rv] for k, o in others.items() if rv in o}, s, rv)]
    blocks += _cross_blocks(rows, notes, s)
    md, ht = bs.dir / "report.md", bs.dir / "report.html"
    md.write_text(to_markdown(blocks, bs.dir))
    ht.write_text(to_html(blocks, bs.dir, f"kmodlab bench set {bs.id}"))
    (bs.dir / SUMMARY).write_text(json.dumps(_summary(bs, results, others, rows, notes, s), indent=1) + "\n")
    return [ht, md, bs.dir / SUMMARY] + written
