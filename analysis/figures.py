"""Figures of a report (matplotlib, Agg backend, PNG).

Every figure carries its environment (kernel, QEMU accel, CPUs, run id) and
the noise of its repetitions (n and coefficient of variation per side) in a
footer, so that a PNG copied out of the report still says what it shows.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the lab renders in CI and over ssh
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .compare import CXX, CellResult, LockRow, ProbeRow, ToolRow, kernel_ops, merge_histograms  # noqa: E402
from .devnames import label  # noqa: E402
from .load import VARIANTS, ModuleInfo, Run  # noqa: E402
from .stats import cv  # noqa: E402

COLORS = {"c": "#1f77b4", "cxx": "#d62728", "rust": "#ff7f0e"}
DPI = 100


def _suffix(rival: str) -> str:
    """File-name suffix of a figure about C against a variant other than C++ ("-rust")."""
    return "" if rival == CXX else f"-{rival}"


def slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts))


def pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


def _finish(fig, run: Run, noise: str, path: Path) -> Path:
    """Footer (environment + noise), save, close."""
    fig.text(0.01, 0.005, f"run {run.id}: {run.env.line()}\nnoise: {noise}", fontsize=7, va="bottom",
             ha="left", color="#444444", wrap=True)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


BINS_PER_DECADE = 20


def rebin(hists: list, lo_exp: float, hi_exp: float) -> tuple[np.ndarray, np.ndarray]:
    """Put [lo, hi, count] buckets on one log grid of BINS_PER_DECADE bins per decade.

    kmodlab-load's buckets are 0.8% wide and BPF's 3%: drawn as they are, the
    fine ones make spikes that hide the shape, and C and C++ would not share
    edges.  Each bucket goes to the grid bin of its geometric midpoint (a
    bucket is far narrower than a bin, 12%).  Returns (edges, share of ops).
    """
    edges = 10.0 ** np.arange(lo_exp, hi_exp + 1e-9, 1.0 / BINS_PER_DECADE)
    counts = np.zeros(len(edges) - 1)
    total = 0
    for lo, hi, n in hists:
        mid = math.sqrt(max(lo, 0.5) * hi)
        i = min(max(int(np.searchsorted(edges, mid, side="right")) - 1, 0), len(counts) - 1)
        counts[i] += n
        total += n
    return edges, counts / total if total else counts


def _hist_panel(ax, per_variant: dict, pcts: dict):
    """C and C++ on one log-log panel: share of operations per bin, p50/p99 marked.

    Log y so that the tail (p99 and beyond, where a driver's locking shows)
    is visible next to the body.
    """
    allb = [b for h in per_variant.values() for b in h if b[2] > 0]
    if not allb:
        return False
    lo_exp = math.floor(math.log10(max(min(b[0] for b in allb), 0.5)))
    hi_exp = math.ceil(math.log10(max(b[1] for b in allb)))
    for v, h in per_variant.items():
        if not any(b[2] for b in h):
            continue
        edges, share = rebin(h, lo_exp, hi_exp)
        total = sum(b[2] for b in h)
        ax.stairs(np.where(share > 0, share, np.nan), edges, color=COLORS[v], linewidth=1.4,
                  label=f"{label(v)} ({total:,} ops)")
        for q, style in (("p50", ":"), ("p99", "--")):
            if v in pcts and pcts[v].get(q):
                ax.axvline(pcts[v][q], color=COLORS[v], linestyle=style, linewidth=0.9)
    ax.set_yscale("log")
    return True


def latency_figure(run: Run, driver: str, workload: str, timing: dict, bpf: dict, out: Path) -> Path:
    """User side (timing pass, kmodlab-load) and kernel side (BPF pass, opslat) histograms, C and C++ overlaid."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    noise = []
    for ax, where in zip(axes, ("user", "kernel")):
        per_variant, pcts = {}, {}
        for v in timing:
            rs = timing[v] if where == "user" else bpf[v]
            if not rs:
                continue
            if where == "user":
                per_variant[v] = merge_histograms(r.histogram for r in rs)
                pcts[v] = {q: float(np.median([r.latency[q] for r in rs])) for q in ("p50", "p99")}
            else:
                per_variant[v] = merge_histograms(o.histogram for r in rs for o in kernel_ops(r))
        drew = _hist_panel(ax, per_variant, pcts)
        ax.set_xscale("log")
        ax.set_xlabel("latency (ns)" + ("; dotted p50, dashed p99 (median of runs)" if where == "user" else ""))
        ax.set_ylabel(f"share of operations per 1/{BINS_PER_DECADE} decade")
        title = "user side, timing pass (no BPF)" if where == "user" else "kernel side, BPF pass (opslat)"
        ax.set_title(f"{driver}/{workload}: {title}", fontsize=10)
        if drew:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no data" if where == "user" else "no BPF-pass data for this cell",
                    ha="center", va="center", transform=ax.transAxes)
    rival = next(v for v in timing if v != VARIANTS[0])
    for v in timing:
        p50 = [r.latency["p50"] for r in timing[v]]
        noise.append(f"{label(v)} timing n={len(p50)} CV(p50)={pct(cv(p50))} "
                     f"CV(ops/s)={pct(cv([r.ops_per_s for r in timing[v]]))}; BPF pass n={len(bpf[v])}")
    return _finish(fig, run, "; ".join(noise), out / f"latency-{slug(driver, workload)}{_suffix(rival)}.png")


def ratio_figure(run: Run, results: list[CellResult], out: Path, rival: str = CXX) -> Path:
    """Forest plot: C++/C (or rival/C) geometric-mean ratio and its CI per cell, one panel per metric."""
    x = label(rival)
    metrics = ["throughput", "p50", "p99"]
    n = len(results)
    fig, axes = plt.subplots(1, 3, figsize=(12, 1.2 + 0.45 * max(n, 1)), sharey=True)
    ys = np.arange(n)[::-1]
    for ax, m in zip(axes, metrics):
        for y, cr in zip(ys, results):
            r = cr.metrics[m].res
            if math.isfinite(r.ci_low):
                ax.errorbar([r.ratio], [y], xerr=[[r.ratio - r.ci_low], [r.ci_high - r.ratio]], fmt="o",
                            color="black", capsize=3)
            elif math.isfinite(r.ratio):
                ax.plot([r.ratio], [y], "x", color="gray")
        ax.axvline(1.0, color="gray", linestyle="--", linewidth=1)
        ax.set_title(f"{m}: {x}/C ({'higher' if m == 'throughput' else 'lower'} is better for {x})", fontsize=9)
        ax.set_xlabel("geometric mean of pairs, 95% CI (x: too few pairs)")
    axes[0].set_yticks(ys)
    axes[0].set_yticklabels([("* " if cr.primary else "") + cr.name for cr in results], fontsize=8)
    sds = [cr.metrics["throughput"].res.sd_log for cr in results]
    sds = [x for x in sds if math.isfinite(x)]
    noise = (f"timing pass; per-pair SD of log({x}/C) throughput over cells: median {pct(float(np.median(sds)))}"
             if sds else "timing pass; n/a") + "; pairs per cell: " + ", ".join(
        sorted({str(cr.metrics["throughput"].res.n_pairs) for cr in results}))
    return _finish(fig, run, noise, out / f"ratios{_suffix(rival)}.png")


def pairs_figure(run: Run, results: list[CellResult], out: Path, rival: str = CXX) -> Path:
    """Every pair's throughput C++/C (or rival/C), per cell, coloured by boot; excluded pairs as red crosses."""
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(results) + 2), 4))
    cmap = plt.get_cmap("tab10")
    for i, cr in enumerate(results):
        gone = {e.pair for e in cr.excluded}
        for j, p in enumerate(cr.pairs):
            x = i + (j / max(len(cr.pairs) - 1, 1) - 0.5) * 0.5
            ratio = p.x.ops_per_s / p.c.ops_per_s if p.c.ops_per_s else float("nan")
            if p.pair in gone:
                ax.plot([x], [ratio], "x", color="red", markersize=8)
            else:
                ax.plot([x], [ratio], "o", color=cmap(p.boot % 10), alpha=0.8, markersize=4)
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"{cr.driver}/\n{cr.workload}" for cr in results], fontsize=7)
    ax.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_ylabel(f"throughput {label(rival)}/C of each pair (log scale)")
    ax.set_title("every pair of the timing pass (colour: boot; red x: excluded as disturbed)", fontsize=10)
    sds = [cr.metrics["throughput"].res.sd_log for cr in results]
    sds = [x for x in sds if math.isfinite(x)]
    noise = f"per-pair SD of log-ratios {pct(min(sds))} .. {pct(max(sds))}" if sds else "n/a"
    return _finish(fig, run, noise, out / f"pairs{_suffix(rival)}.png")


def lock_figure(run: Run, driver: str, rows: list[LockRow], out: Path, rival: str = CXX) -> Path:
    """Scaling curve: throughput and contention wait per op against threads, per sync mode and variant,
    from one comparison's runs (rows of C against rival)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    keys = sorted({(r.workload, r.sync) for r in rows})
    cmap = plt.get_cmap("tab10")
    for k, (op, sync) in enumerate(keys):
        for v, style in ((VARIANTS[0], "-"), (rival, "--")):
            rs = sorted((r for r in rows if (r.workload, r.sync, r.variant) == (op, sync, v)), key=lambda r: r.threads)
            if not rs:
                continue
            t = [r.threads for r in rs]
            lbl = f"{op} sync={sync} {label(v)}"
            axes[0].errorbar(t, [r.ops_per_s for r in rs],
                             yerr=[r.ops_per_s * (r.ops_cv if math.isfinite(r.ops_cv) else 0) for r in rs],
                             linestyle=style, marker="o", color=cmap(k % 10), label=lbl, capsize=3)
            axes[1].plot(t, [r.wait_ns_per_op for r in rs], linestyle=style, marker="o", color=cmap(k % 10),
                         label=lbl)
    axes[0].set_ylabel("ops/s (median; bars: 1 CV)")
    axes[1].set_ylabel("lock contention wait per op (ns, BPF lockstat)")
    threads = sorted({r.threads for r in rows})
    for ax in axes:
        ax.set_xlabel("threads")
        ax.set_xticks(threads)  # thread counts are integers: no 1.2 threads
        ax.legend(fontsize=7)
    axes[0].set_title(f"{driver}: throughput scaling", fontsize=10)
    axes[1].set_title(f"{driver}: contention", fontsize=10)
    cvs = [r.ops_cv for r in rows if math.isfinite(r.ops_cv)]
    noise = (f"reps per point {min(r.n for r in rows)}..{max(r.n for r in rows)}; CV of ops/s "
             f"{pct(min(cvs)) if cvs else 'n/a'} .. {pct(max(cvs)) if cvs else 'n/a'}")
    return _finish(fig, run, noise, out / f"locks-{slug(driver)}{_suffix(rival)}.png")


def tools_figure(run: Run, rows: list[ToolRow], out: Path) -> Path:
    """kmodlab-load next to fio / Google Benchmark for the same cell and variant."""
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows) + 2), 4))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r.loadgen_ops for r in rows], 0.4, label="kmodlab-load", color="#555555")
    ax.bar(x + 0.2, [r.tool_ops for r in rows], 0.4, label="fio / gbench", color="#2ca02c")
    for xi, r in zip(x, rows):
        ax.text(xi + 0.2, r.tool_ops, f"{100 * r.diff:+.1f}%", ha="center", va="bottom", fontsize=7,
                color="black" if r.agree else "red")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{r.tool}\n{r.driver}/{r.workload}\n{label(r.variant)}" for r in rows], fontsize=7)
    ax.set_ylabel("ops/s (median of repetitions)")
    ax.set_title("same workload, three load generators (red: disagree beyond tolerance)", fontsize=10)
    ax.legend(fontsize=8)
    noise = "; ".join(f"{r.tool} {r.driver}/{r.workload}/{label(r.variant)} CV {pct(r.loadgen_cv)} vs {pct(r.tool_cv)}"
                      for r in rows[:6]) + (" ..." if len(rows) > 6 else "")
    return _finish(fig, run, noise, out / "tools.png")


def modules_figure(run: Run, mods: list[ModuleInfo], out: Path) -> Path:
    """Section sizes (stacked) and largest stack frame, C next to C++ (and Rust where built) per driver."""
    drivers = sorted({m.driver for m in mods})
    by = {(m.driver, m.variant): m for m in mods}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(len(drivers))
    secs = ("text", "rodata", "data", "bss")
    hatch = {"c": "", "cxx": "//", "rust": ".."}
    shown = [v for v in COLORS if any(m.variant == v for m in mods)]
    w = 0.8 / len(shown)
    for j, v in enumerate(shown):
        at = x + (j - (len(shown) - 1) / 2) * w
        bottom = np.zeros(len(drivers))
        for k, sec in enumerate(secs):
            vals = np.array([getattr(by[(d, v)], sec) if (d, v) in by else 0 for d in drivers], dtype=float)
            axes[0].bar(at, vals, w, bottom=bottom, color=plt.get_cmap("Pastel1")(k),
                        edgecolor=COLORS[v], hatch=hatch[v], label=f"{sec}" if j == 0 else None)
            bottom += vals
        axes[1].bar(at, [(by[(d, v)].max_stack or 0) if (d, v) in by else 0 for d in drivers], w,
                    color=COLORS[v], label=label(v))
    for ax in axes:
        ax.set_xticks(x)
        ax.set_xticklabels(drivers)
    axes[0].set_ylabel("bytes (left bar C, hatched right bar C++)" if tuple(shown) == VARIANTS else
                       "bytes (bars left to right: " + ", ".join(
                           f"{label(v)}{' hatched ' + hatch[v] if hatch[v] else ''}" for v in shown) + ")")
    axes[0].set_title("module sections", fontsize=10)
    axes[0].legend(fontsize=7)
    axes[1].set_ylabel("bytes")
    axes[1].set_title("largest stack frame", fontsize=10)
    axes[1].legend(fontsize=8)
    return _finish(fig, run, "deterministic (no repetitions): sizes from the built .ko files", out / "modules.png")


def probe_figure(run: Run, rows: list[ProbeRow], out: Path) -> Path:
    """Throughput change with BPF attached, with its bootstrap CI."""
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows) + 2), 4))
    x = np.arange(len(rows))
    vals = np.array([100 * r.change for r in rows])
    err = np.array([[100 * (r.change - r.change_lo) for r in rows], [100 * (r.change_hi - r.change) for r in rows]])
    ax.bar(x, vals, color=[COLORS[r.variant] for r in rows], yerr=err, capsize=4)  # C of C/Rust pairs: C's colour
    ax.axhline(0, color="gray", linewidth=1)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{r.driver}/{r.workload}\n{label(r.variant)}"
                        + ("" if r.rival == CXX or r.variant != VARIANTS[0] else f" (C/{label(r.rival)})")
                        for r in rows], fontsize=7)
    ax.set_ylabel("throughput change with BPF on (%)")
    ax.set_title("probe effect (bars: 95% bootstrap CI)", fontsize=10)
    noise = "; ".join(f"{r.driver}/{r.workload}/{label(r.variant)} off n={r.n_off} CV {pct(r.off_cv)}, "
                      f"on n={r.n_on} CV {pct(r.on_cv)}" for r in rows[:4]) + (" ..." if len(rows) > 4 else "")
    return _finish(fig, run, noise, out / "probe-effect.png")
