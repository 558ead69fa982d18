"""report.md and report.html for one run directory.

The report is built once as a list of blocks (heading, paragraph, table,
figure) and rendered twice, so that the Markdown and the HTML always say the
same thing.  The HTML links the PNGs in figures/ by relative path: the run
directory stays self-contained and can be copied or served as is.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import figures, icount_profile
from .compare import cells, compare_run, lock_rows, probe_rows, tool_rows, unmatched_tool_cells
from .conf import Settings
from .gates import correctness_gates
from .load import Run
from .stats import FASTER, SLOWER, cv

LABELS = {"c": "C", "cxx": "C++"}


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str


@dataclass
class Table:
    head: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    path: Path      # absolute
    caption: str


def _num(x: float, unit: str = "") -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if unit == "ns":
        return f"{x:,.0f} ns"
    if abs(x) >= 1000:
        return f"{x:,.0f}{(' ' + unit) if unit else ''}"
    return f"{x:.3g}{(' ' + unit) if unit else ''}"


def _pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def _p(p: float) -> str:
    return "n/a" if not math.isfinite(p) else (f"{p:.3f}" if p >= 0.001 else f"{p:.1e}")


def _ci(c) -> str:
    if not c.decided:
        return f"{_num(c.ratio)} (no CI)"
    return f"{c.ratio:.3f} [{c.ci_lo:.3f}, {c.ci_hi:.3f}]"


def build(run: Run, s: Settings, fig_dir: Path) -> list:
    """All blocks of the report; figures are written to fig_dir as a side effect."""
    b: list = [Heading(f"kmodlab report: run {run.id}", 1)]
    b.append(Para(f"Environment: {run.env.line()}. Started {run.started or 'not recorded'}, finished "
                  f"{run.finished or 'not recorded'}{' (QUICK matrix)' if run.quick else ''}. "
                  f"Settings from {s.source}."))
    if run.bench_settings:
        b.append(Para("Bench settings: " + ", ".join(f"{k} {v}" for k, v in run.bench_settings.items()) + "."))

    # --- summary ----------------------------------------------------------------------
    results = compare_run(run, s)
    b.append(Heading("Summary: C++ against C"))
    b.append(Para(f"One row per matrix cell and metric. Ratio = C++ median / C median over repetitions, with a "
                  f"{s.confidence:.0%} percentile bootstrap CI ({s.resamples} resamples, seed {s.seed}); p = two-sided "
                  f"Mann-Whitney U. Verdict: C++ is faster/slower only when p < {s.alpha} AND the CI excludes 1.0; "
                  f"fewer than {s.min_reps} repetitions per side gives no verdict. CV = coefficient of variation "
                  "of each side's repetitions (the noise). Latency is faster when lower."))
    rows = []
    for cr in results:
        for m, c in cr.metrics.items():
            v = c.verdict
            if v in (FASTER, SLOWER):
                v = f"**C++ {v}**"
            rows.append([cr.driver, cr.workload, m, f"{_num(c.c_median, c.unit)} ({_pct(c.c_cv)})",
                         f"{_num(c.cxx_median, c.unit)} ({_pct(c.cxx_cv)})", _ci(c), _p(c.p),
                         f"{c.n[0]}/{c.n[1]}", v])
    b.append(Table(["driver", "workload", "metric", "C median (CV)", "C++ median (CV)", "C++/C [95% CI]", "p",
                    "n C/C++", "verdict"], rows))
    b.append(Figure(figures.ratio_figure(run, results, fig_dir), "C++/C ratios with their confidence intervals."))
    b.append(Figure(figures.repetitions_figure(run, fig_dir),
                    "Every repetition's throughput relative to its cell's C median: the spread is the noise."))

    # --- latency histograms ---------------------------------------------------------
    b.append(Heading("Latency distributions"))
    b.append(Para("User side: kmodlab-load's per-operation histogram; kernel side: the BPF opslat histogram "
                  "of the same syscalls (entry to exit in the kernel). Repetitions are merged per variant."))
    for (driver, workload), sides in cells(run).items():
        b.append(Figure(figures.latency_figure(run, driver, workload, sides, fig_dir),
                        f"{driver}/{workload}: latency histograms, C and C++ overlaid."))

    # --- locks -------------------------------------------------------------------------
    lrows = lock_rows(run)
    b.append(Heading("Lock contention"))
    if not lrows:
        b.append(Para("No run carried BPF lockstat data."))
    else:
        b.append(Para("BPF lockstat (lock:contention_begin/end inside the target syscalls), medians over "
                      "repetitions, per sync= mode and thread count."))
        b.append(Table(["driver", "op", "sync", "threads", "variant", "n", "ops/s (CV)", "contentions / 1000 ops",
                        "wait ns / op", "max wait", "most-waited lock"],
                       [[r.driver, r.op, r.sync, str(r.threads), LABELS[r.variant], str(r.n),
                         f"{_num(r.ops_per_s)} ({_pct(r.ops_cv)})", _num(r.contentions_per_kop),
                         _num(r.wait_ns_per_op), _num(r.max_wait_ns, "ns"), r.top_lock] for r in lrows]))
        for driver in sorted({r.driver for r in lrows}):
            drows = [r for r in lrows if r.driver == driver]
            if len({r.threads for r in drows}) > 1 or any(r.wait_ns_per_op > 0 for r in drows):
                b.append(Figure(figures.lock_figure(run, driver, drows, fig_dir),
                                f"{driver}: scaling with threads per sync mode (C solid, C++ dashed)."))

    # --- other tools -----------------------------------------------------------------
    trows = tool_rows(run, s)
    b.append(Heading("fio and Google Benchmark against kmodlab-load"))
    if not trows:
        b.append(Para("This run has no fio or Google Benchmark results matching a kmodlab-load cell."))
    else:
        b.append(Para(f"Same cell and variant, medians of repetitions. They agree when within "
                      f"{s.agree_tolerance:.0%} of kmodlab-load."))
        b.append(Table(["tool", "driver", "workload", "variant", "kmodlab-load ops/s (CV)", "tool ops/s (CV)",
                        "difference", "agree", "p50 load / tool"],
                       [[r.tool, r.driver, r.workload, LABELS[r.variant], f"{_num(r.loadgen_ops)} ({_pct(r.loadgen_cv)})",
                         f"{_num(r.tool_ops)} ({_pct(r.tool_cv)}, n={r.n_tool})", f"{100 * r.diff:+.1f}%",
                         "yes" if r.agree else "**NO**",
                         f"{_num(r.loadgen_p50, 'ns')} / {_num(r.tool_p50, 'ns')}"] for r in trows]))
        b.append(Figure(figures.tools_figure(run, trows, fig_dir), "Throughput of the same workload by three tools."))
    extra = unmatched_tool_cells(run)
    if extra:
        b.append(Para("Not compared (no kmodlab-load counterpart): " + "; ".join(extra) + "."))
    if run.gbench_unmapped:
        b.append(Para("Other Google Benchmark results (not mapped to a matrix cell in the manifest, e.g. the "
                      "/dev/zero and /dev/null baselines): time per iteration, median of repetitions."))
        b.append(Table(["benchmark", "ns / iteration (CV)", "n"],
                       [[name, f"{_num(float(np.median(v)), 'ns')} ({_pct(cv(v))})", str(len(v))]
                        for name, v in sorted(run.gbench_unmapped.items())]))

    # --- modules -----------------------------------------------------------------------
    b.append(Heading("Module size and stack usage"))
    if run.modules is None:
        b.append(Para("This run has no module size report (manifest 'modules')."))
    else:
        by = {(m.driver, m.variant): m for m in run.modules}
        mrows = []
        for d in sorted({m.driver for m in run.modules}):
            c, x = by.get((d, "c")), by.get((d, "cxx"))
            for field in ("text", "rodata", "data", "bss", "total", "max_stack"):
                cv_, xv = (getattr(c, field) if c else None), (getattr(x, field) if x else None)
                ratio = f"{xv / cv_:.2f}" if cv_ and xv is not None else "n/a"
                mrows.append([d, field, "n/a" if cv_ is None else str(cv_), "n/a" if xv is None else str(xv), ratio])
        b.append(Table(["driver", "figure (bytes)", "C", "C++", "C++/C"], mrows))
        funcs = [[m.name, str(m.max_stack), m.max_stack_function] for m in run.modules if m.max_stack_function]
        if funcs:
            b.append(Para("Largest stack frame per module, and the function it belongs to:"))
            b.append(Table(["module", "bytes", "function"], funcs))
        mr = run.module_report
        if mr is not None and mr.dispatch:
            b.append(Para("Dispatch (static, from the .ko files, scripts/kmod-report.sh): per file operation, "
                          "indirect calls and direct call sites on the entry's path, C against C++ (the worst "
                          "table where a driver has several). Dispatch parity: "
                          + ("ok" if mr.parity_ok else "**" + "; ".join(mr.problems or ["failed"]) + "**") + "."))
            b.append(Table(["driver", "op", "indirect C", "indirect C++", "C++ kcxx helper calls", "direct calls C",
                            "direct calls C++", "path insns C", "path insns C++"],
                           [[d["driver"], d["op"], str(d["c_indirect"]), str(d["cxx_indirect"]),
                             str(d["cxx_helper_calls"]), str(d["c_direct_calls"]), str(d["cxx_direct_calls"]),
                             str(d["c_instructions"]), str(d["cxx_instructions"])] for d in mr.dispatch]))
        b.append(Figure(figures.modules_figure(run, run.modules, fig_dir), "Module sections and largest stack frame."))

    # --- instruction counts ----------------------------------------------------------
    if run.icount is not None:
        b.append(Heading("Instructions per operation (exact, QEMU TCG plugin)"))
        b.append(Para("Guest instructions executed per operation, counted by make icount: in the driver module, "
                      "and in the whole kernel (operations without an interrupt). Deterministic: no repetitions, "
                      "no noise." + ("" if run.icount.ok else " **This count reported problems: "
                                     + "; ".join(run.icount.problems) + "**")))
        b.append(Table(["driver", "workload", "driver insn/op C", "C++", "C++/C", "kernel insn/op C", "C++", "C++/C"],
                       [[r.driver, r.workload, f"{r.driver_c:.1f}", f"{r.driver_cxx:.1f}",
                         "n/a" if r.driver_ratio is None else f"{r.driver_ratio:.3f}", f"{r.kernel_c:.1f}",
                         f"{r.kernel_cxx:.1f}", "n/a" if r.kernel_ratio is None else f"{r.kernel_ratio:.3f}"]
                        for r in run.icount.rows]))
        # classes, simulated misses, per function C beside C++ (analysis/icount_profile.py)
        kinds = {"heading": Heading, "para": Para, "table": Table}
        b += [kinds[item[0]](*item[1:]) for item in icount_profile.report_section(run.dir)]

    # --- reliability -------------------------------------------------------------------------
    rel = run.reliability
    if rel is not None:
        b.append(Heading("Reliability"))
        b.append(Para("The newest reliability summary (scripts/reliability.sh, slub_debug=FZPU): seeded fuzzing "
                      "against a model of each device, allocation-failure injection, stress with oracles, "
                      "load/unload cycles."))
        rows = [["checks", f"{rel['passed']} passed, {rel['failed']} failed"]]
        for key, label in (("calls_fuzzed_total", "calls fuzzed"), ("faults_injected", "allocation faults injected"),
                           ("cycles", "load/unload cycles"), ("lost", "anything lost"),
                           ("wall_seconds", "wall time (s)")):
            if key in rel:
                rows.append([label, f"{rel[key]:,}"])
        for variant_driver, n in sorted(rel.get("calls_fuzzed", {}).items()):
            rows.append([f"calls fuzzed, {variant_driver}", f"{n:,}"])
        if rel.get("errors_by_errno"):
            rows.append(["results by errno", ", ".join(f"{k} {v:,}" for k, v in
                                                       sorted(rel["errors_by_errno"].items(), key=lambda kv: -kv[1]))])
        b.append(Table(["what", "figure"], rows))

    # --- probe effect ----------------------------------------------------------------------
    b.append(Heading("Probe effect"))
    prows = probe_rows(run, s)
    if not prows:
        b.append(Para("This run has no probe-effect runs (manifest 'probe_effect')."))
    else:
        b.append(Para("Throughput with the BPF programs attached against without, same cell; change = on/off - 1 "
                      "with a bootstrap CI. ns/event: kernel BPF run-time statistics."))
        b.append(Table(["driver", "workload", "variant", "BPF off ops/s (CV)", "BPF on ops/s (CV)",
                        "change [95% CI]", "ns/event per program"],
                       [[r.driver, r.workload, LABELS[r.variant], f"{_num(r.off_ops)} ({_pct(r.off_cv)}, n={r.n_off})",
                         f"{_num(r.on_ops)} ({_pct(r.on_cv)}, n={r.n_on})",
                         f"{100 * r.change:+.1f}% [{100 * r.change_lo:+.1f}%, {100 * r.change_hi:+.1f}%]",
                         ", ".join(f"{k} {v:.0f}" for k, v in r.ns_per_event.items()) or "n/a"] for r in prows]))
        b.append(Figure(figures.probe_figure(run, prows, fig_dir), "Probe effect on throughput."))

    # --- correctness -------------------------------------------------------------------------
    b.append(Heading("Correctness"))
    b.append(Table(["check", "result", "status", "detail"],
                   [[g.gate, g.now, g.status, g.detail or ""] for g in correctness_gates(run, s)]))
    return b


# --- rendering ---------------------------------------------------------------------------
def _md_cell(t: str) -> str:
    return t.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list, base: Path) -> str:
    out = []
    for bl in blocks:
        if isinstance(bl, Heading):
            out.append("#" * bl.level + " " + bl.text)
        elif isinstance(bl, Para):
            out.append(bl.text)
        elif isinstance(bl, Table):
            out.append("| " + " | ".join(_md_cell(h) for h in bl.head) + " |")
            out.append("|" + "---|" * len(bl.head))
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in bl.rows]
        elif isinstance(bl, Figure):
            out.append(f"![{bl.caption}]({bl.path.relative_to(base).as_posix()})\n\n*{bl.caption}*")
        out.append("")
    return "\n".join(out)


def _html_inline(t: str) -> str:
    """Escape, then turn the **bold** the Markdown uses into <strong>."""
    parts = html.escape(t).split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def to_html(blocks: list, base: Path, title: str) -> str:
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">", f"<title>{html.escape(title)}</title>",
           "<style>body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}"
           "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}"
           "td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}th{background:#eee}"
           "figure{margin:1em 0}img{max-width:100%}figcaption{font-style:italic;font-size:0.9em}</style>",
           "</head><body>"]
    for bl in blocks:
        if isinstance(bl, Heading):
            out.append(f"<h{bl.level}>{html.escape(bl.text)}</h{bl.level}>")
        elif isinstance(bl, Para):
            out.append(f"<p>{_html_inline(bl.text)}</p>")
        elif isinstance(bl, Table):
            out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in bl.head) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in r) + "</tr>" for r in bl.rows]
            out.append("</table>")
        elif isinstance(bl, Figure):
            rel = html.escape(bl.path.relative_to(base).as_posix())
            out.append(f"<figure><img src=\"{rel}\" alt=\"{html.escape(bl.caption)}\">"
                       f"<figcaption>{html.escape(bl.caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(run: Run, s: Settings) -> tuple[Path, Path, list[Path]]:
    """Write report.md, report.html and figures/*.png into the run directory; return their paths."""
    fig_dir = run.dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    for old in fig_dir.glob("*.png"):  # a re-render must not keep figures of cells that are gone
        old.unlink()
    blocks = build(run, s, fig_dir)
    md = run.dir / "report.md"
    ht = run.dir / "report.html"
    md.write_text(to_markdown(blocks, run.dir))
    ht.write_text(to_html(blocks, run.dir, f"kmodlab report {run.id}"))
    return md, ht, [bl.path for bl in blocks if isinstance(bl, Figure)]
