"""report.md and report.html for one run directory.

The report is built once as a list of blocks (heading, paragraph, table,
figure) and rendered twice, so that the Markdown and the HTML always say the
same thing.  The HTML links the PNGs in figures/ by relative path: the run
directory stays self-contained and can be copied or served as is.
"""
from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import figures, icount_profile, inside, wakelat
from .compare import (CXX, cells, compare_run, family_size, lock_pairs, lock_rows, probe_rows, rivals, tool_rows,
                      unmatched_tool_cells)
from .conf import Settings
from .devnames import label, partial_variants
from .gates import correctness_gates
from .load import VARIANTS, Run, driver_variants
from .stats import FASTER, NO_DIFF, SLOWER, cv


def side_label(variant: str, rival: str = CXX) -> str:
    """A run's side as tables name it: "C", "C++", "Rust"; C's runs of a C/Rust
    pair "C (C/Rust pairs)": they are other runs than the C/C++ pairs' C."""
    if variant == VARIANTS[0] and rival != CXX:
        return f"{label(variant)} (C/{label(rival)} pairs)"
    return label(variant)


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


def _ci(r) -> str:
    if not math.isfinite(r.ci_low):
        return f"{_num(r.ratio)} (no CI)"
    return f"{r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"


def _mde(r) -> str:
    """The MDE as the ratio interval it could have told from 1."""
    if not math.isfinite(r.mde):
        return "none reachable" if r.n_pairs else "n/a"
    return f"[{r.mde_low:.3f}, {r.mde_high:.3f}]"


def _share(x) -> str:
    return "n/a (1 boot)" if x is None else f"{100 * x:.0f}%"


def _bytes(bpo: dict) -> str:
    c, x = bpo.get(VARIANTS[0]), next((v for k, v in bpo.items() if k != VARIANTS[0]), None)
    if c is None or not math.isfinite(c):
        return "n/a"
    same = x is not None and abs(c - x) <= 0.005 * max(c, 1)
    return f"{c:,.0f}" if same else f"{c:,.0f} / {x:,.0f}"


def _verdict(mr, rival: str = CXX) -> str:
    v = mr.verdict
    if v in (FASTER, SLOWER):
        return f"**{label(rival)} {v}**"
    if v == NO_DIFF:
        return f"{v} (could have detected a ratio outside {_mde(mr.res)})"
    return v


def _header(run: Run, s: Settings) -> list:
    b: list = [Heading(f"kmodlab report: run {run.id}", 1)]
    b.append(Para(f"Environment: {run.env.line()}. Started {run.started or 'not recorded'}, finished "
                  f"{run.finished or 'not recorded'}{' (QUICK matrix)' if run.quick else ''}. "
                  f"Settings from {s.source}."))
    b += _origin(run)
    d = run.design
    topup = (f" (timing pass topped up to at most {d['max_pairs_per_boot']} while the disturbed-run rule left "
             "fewer)") if d.get("max_pairs_per_boot", 0) > d["pairs_per_boot"] else ""
    b.append(Para(f"Design: {d['boots']} guest boot(s) x {d['pairs_per_boot']} pairs per boot per cell{topup}, order "
                  f"{d['order']} (which variant ran first is recorded per pair). Timing pass: {d['pass_timing']}. "
                  f"BPF pass: {'yes' if d['pass_bpf'] else 'no'}."
                  + (" Planted extra_work: " + ", ".join(f"{k}={v}" for k, v in d["extra_work"].items()) + "."
                     if d.get("extra_work") else "")))
    if d.get("other_pairs"):
        op = d["other_pairs"]
        b.append(Para(f"Other pairs: {'; '.join(map(str, op.get('pairs', [])))}, run like the C/C++ pairs (same "
                      f"ABBA order, timing pass and top-up, BPF pass); their BPF pass hooks both sides with "
                      f"{op.get('bpf_attach', '?')} ({op.get('why', 'no reason recorded')})."))
    known = {"boots", "pairs_per_boot", "max_pairs_per_boot", "order", "pass_timing", "pass_bpf", "extra_work",
             "other_pairs"}
    other = {k: v for k, v in d.items() if k not in known}
    if other:
        b.append(Para("Other design settings: " + ", ".join(f"{k} {v}" for k, v in other.items()) + "."))
    if run.variant_sides:
        b.append(Para(f"**Calibration run**: the 'C' side is {run.variant_sides['c']}, the 'C++' side is "
                      f"{run.variant_sides['cxx']}; read C/C++ below as these two."))
    if run.bench_settings:
        b.append(Para("Bench settings: " + ", ".join(f"{k} {v}" for k, v in run.bench_settings.items()) + "."))
    return b


def _origin(run: Run) -> list:
    """Commit, shard and machines (make bench SHARD=, analysis merge): where the numbers come from."""
    o = run.origin
    if not o:
        return []
    parts = [f"commit {o['commit']}"] if o.get("commit") else []
    sh = o.get("shard") or {}
    if o.get("merged_from"):
        parts.append(f"merged from {len(o['merged_from'])} shard(s): " + "; ".join(
            f"{m['shard']} on {(m.get('machine') or {}).get('host', '?')} ({len(m['cells'])} cells)"
            for m in o["merged_from"]) + "; each (shard, boot) is its own block and every cell, so every "
            "ratio, comes from one machine")
    elif sh.get("count", 1) > 1:
        parts.append(f"shard {sh['index']}/{sh['count']} of the matrix (the other cells are in the other shards)")
    if o.get("machine"):
        parts.append(f"machine {o['machine'].get('host', '?')} (id {o['machine'].get('id', '?')})")
    return [Para("Provenance: " + ", ".join(parts) + ".")] if parts else []


def _family_text(run: Run, s: Settings, rival: str) -> str:
    """The Holm family of one comparison, in words."""
    fam = family_size(run, s, rival)
    text = (f"Correction: **Holm** over the family of {fam} comparisons (every cell x "
            f"{' and '.join(s.ratio_metrics)}")
    if rival == CXX:
        return text + ")"
    return (text + f" of C against {label(rival)}: a family of its own, apart from C++/C's; one question per "
            "language, so adding Rust leaves every C++/C verdict as it was (analysis/README.md \"Holm families\"))")


def _summary(run: Run, s: Settings, results: list, fig_dir: Path, rival: str = CXX) -> list:
    fam = family_size(run, s, rival)
    x = label(rival)
    npairs = sum(cr.n_pairs for cr in results)
    nexcl = sum(len(cr.excluded) for cr in results)
    b: list = [Heading(f"Summary: {x} against C (timing pass)")]
    b.append(Para(
        f"Pass: **timing** (kmodlab-load without --bpf; {run.design['pass_timing']}). {npairs} pairs over "
        f"{len(results)} cells, {nexcl} excluded as disturbed (listed below). The unit is the pair (C and {x} back "
        f"to back in one boot). Ratio = geometric mean of the pairs' {x}/C; {s.confidence:.0%} CI from a two-level "
        f"bootstrap (boots, then pairs within boots; {s.resamples} resamples, seed {s.seed}; expanded percentile). "
        f"Raw p: exact two-sided sign-flip permutation test of the mean log-ratio. {_family_text(run, s, rival)}; "
        f"p99 rows are outside the family (raw p "
        f"only, no verdict). Verdict: {x} faster/slower when the Holm p < {s.alpha} and the CI excludes 1.0 "
        f"(latency: lower is faster). MDE: the ratio interval a true effect must leave to be detected with "
        f"{s.power:.0%} power at the family's alpha ({s.alpha}/{fam}), from the measured pair noise. Bytes/op: "
        f"as measured (kmodlab-load bytes / ops, median over the runs; one figure when C and {x} agree). "
        f"Primary cells (BENCH_PRIMARY_CELLS) are marked with *."))
    rows = []
    for cr in results:
        for m, mr in cr.metrics.items():
            r = mr.res
            rows.append([("* " if cr.primary else "") + cr.driver, cr.workload, _bytes(cr.bytes_per_op), m,
                         _num(mr.c_median, mr.unit), _num(mr.x_median, mr.unit), _ci(r), _p(r.p),
                         _p(mr.p_adj) if mr.in_family else "-", _mde(r), str(r.n_pairs), str(len(cr.excluded)),
                         _share(r.between_boot_share), _verdict(mr, rival)])
    b.append(Table(["driver", "workload", "bytes/op", "metric", "C median", f"{x} median", f"{x}/C [95% CI]",
                    "raw p", "Holm p", "MDE", "pairs", "excluded", "between-boot share", "verdict"], rows))
    b.append(Para(_mde_line(results)))
    b.append(Figure(figures.ratio_figure(run, results, fig_dir, rival), f"{x}/C geometric-mean ratios with their "
                    "two-level bootstrap CIs (timing pass)."))
    b.append(Figure(figures.pairs_figure(run, results, fig_dir, rival),
                    f"Every pair's {x}/C (timing pass), by boot; crosses: pairs excluded as disturbed."))
    return b


def _mde_line(results: list) -> str:
    """The throughput MDE of the primary cells and the worst cell: the run's sensitivity in one line."""
    def mde(cr):
        r = cr.metrics["throughput"].res
        return f"{cr.name} {100 * r.mde:.1f}%" if math.isfinite(r.mde) else f"{cr.name} none reachable"
    prim = [mde(cr) for cr in results if cr.primary]
    worst = max(results, key=lambda cr: cr.metrics["throughput"].res.mde, default=None)
    return ("Throughput MDE (e^δ - 1): primary cells " + (", ".join(prim) if prim else "none in this run")
            + ("; largest: " + mde(worst) if worst is not None else "") + ".")


def _side_by_side(run: Run, s: Settings, results: list, others: dict[str, list]) -> list:
    """Per driver with pairs against a variant beyond C++ (counter on the Rust kernel): C, C++ and that
    variant side by side, the timing ratios each from its own pairs, then the exact figures."""
    b: list = []
    for driver in sorted({cr.driver for res in others.values() for cr in res}):
        names = [label(v) for v in (*VARIANTS, *others)]
        b.append(Heading(f"{driver}: {', '.join(names[:-1])} and {names[-1]} side by side"))
        b.append(Para("Timing pass. Each ratio comes from its own pairs and its own Holm family (the summaries "
                      "above): C/C++ pairs and C/" + "/".join(label(v) for v in others) + " pairs ran one after "
                      "the other in each boot, so the two C medians are two samples of the same module, and no "
                      "ratio between the other languages was measured (read it off the two ratios, not as a "
                      "test). Verdicts as in the summaries, Holm p in brackets."))
        rows = []
        by = {rv: {cr.workload: cr for cr in res if cr.driver == driver}
              for rv, res in [(CXX, results), *others.items()]}
        for wl in sorted(set().union(*by.values())):
            for m in s.ratio_metrics:
                row = [wl, m]
                for rv, crs in by.items():
                    cr = crs.get(wl)
                    mr = cr.metrics[m] if cr else None
                    row += ["not measured"] * 4 if mr is None else [
                        _num(mr.c_median, mr.unit), _num(mr.x_median, mr.unit), _ci(mr.res),
                        f"{_verdict(mr, rv)} ({_p(mr.p_adj)})"]
                rows.append(row)
        head = ["workload", "metric"]
        for rv in by:
            x = label(rv)
            head += [f"C median (C/{x} pairs)", f"{x} median", f"{x}/C [95% CI]", f"{x}/C verdict (Holm p)"]
        b.append(Table(head, rows))
        b += _exact_costs(run, driver, [CXX, *others])
    return b


def _delta(c, x, unit: str = "") -> str:
    """x beside its difference from C: "95 (-9)"; "n/a" when either is unknown."""
    if x is None:
        return "n/a"
    return f"{x:,.0f}{unit}" + ("" if c is None else f" ({x - c:+,.0f})")


def _exact_costs(run: Run, driver: str, rivals_: list[str]) -> list:
    """What each language's code costs or saves, exactly: instructions per operation (make icount) and
    module size and stack (kmod-report), C beside each other variant with its difference from C."""
    rows = []
    paths: dict[str, dict] = {}
    for r in (run.icount.rows if run.icount else []):
        if r.driver == driver:
            paths.setdefault(r.workload, {})[r.rival] = r
    for wl, by in paths.items():
        ref = next(iter(by.values()))
        for scope, what in (("driver", "driver's own code"), ("kernel", "whole syscall")):
            c = getattr(ref, f"{scope}_c")
            rows.append([f"{wl}: instructions per op, {what}", f"{c:,.0f}"]
                        + [_delta(c, getattr(by[v], f"{scope}_x") if v in by else None) for v in rivals_])
    mods = {m.variant: m for m in (run.modules or []) if m.driver == driver}
    for field, what in (("total", "module size (text+data+rodata+bss, bytes)"), ("text", "module text (bytes)"),
                        ("max_stack", "largest stack frame (bytes)")):
        if VARIANTS[0] in mods:
            c = getattr(mods[VARIANTS[0]], field)
            rows.append([what, "n/a" if c is None else f"{c:,}"]
                        + [_delta(c, getattr(mods[v], field) if v in mods else None) for v in rivals_])
    if not rows:
        return [Para("No exact figures for this driver in the run (no icount.json or module report).")]
    return [Para("Exact, deterministic figures (make icount: QEMU TCG plugin; scripts/kmod-report.sh): C, then "
                 "each other language with its difference from C. Driver scope counts the module's own "
                 "instructions; what a driver calls outside its module (kernel helpers, and Rust's kernel-crate "
                 "functions that are not inlined across crates) counts in the whole syscall only. 'n/a': not "
                 "measured (no icount window for that variant; no .su stack data for Rust)."),
            Table(["figure", "C"] + [label(v) for v in rivals_], rows)]


def _order(results: list, rival: str = CXX) -> list:
    x = label(rival)
    b: list = [Heading("Order effect (timing pass)" + _of(rival))]
    b.append(Para(f"The bench counterbalances which variant of a pair runs first. If the second run of a pair "
                  f"gains a factor g, C-first pairs show {x}/C x g and {x}-first pairs {x}/C / g. Per cell: the "
                  "geometric-mean throughput ratio of each group, g, and a two-sided permutation test of the "
                  "difference (raw p: a diagnostic, not part of the Holm family; with balanced orders the "
                  "effect cancels in the ratio)."))
    rows = []
    for cr in results:
        r = cr.metrics["throughput"].res
        if r.order_effect_p is None:
            rows.append([cr.driver, cr.workload, str(r.n_c_first), str(r.n_x_first), "n/a", "n/a", "n/a",
                         "n/a (fewer than 2 pairs in an order)"])
            continue
        rows.append([cr.driver, cr.workload, str(r.n_c_first), str(r.n_x_first), f"{r.order_ratio_c_first:.3f}",
                     f"{r.order_ratio_x_first:.3f}", f"{r.second_run_gain:.3f}", _p(r.order_effect_p)])
    b.append(Table(["driver", "workload", "C-first pairs", f"{x}-first pairs", f"{x}/C, C first",
                    f"{x}/C, {x} first", "second-run gain g", "p"], rows))
    return b


def _of(rival: str) -> str:
    """Heading suffix of a section about C against a variant other than C++."""
    return "" if rival == CXX else f": C against {label(rival)} (C/{label(rival)} pairs)"


def _excluded(results: list, s: Settings, rival: str = CXX) -> list:
    x = label(rival)
    b: list = [Heading("Excluded pairs (disturbed runs)" + _of(rival))]
    b.append(Para(f"Rule fixed in advance (kmodlab.conf): a run is disturbed when its throughput is below "
                  f"1/{s.disturbed_factor:g} of its cell-and-variant median, or its latency floor (p"
                  f"{s.floor_percentile:g} of its own histogram) above {s.disturbed_floor_factor:g} x the "
                  + ("fastest" if s.floor_reference == 0 else f"p{s.floor_reference:g}")
                  + " floor of its cell and variant while its partner's is not (a pair with both runs slowed ran "
                  "in one host phase and stays; no floor rule for workloads whose operations wait for another "
                  "thread by design, pipe and pingpong: their latency is the wake-up's); "
                  "the WHOLE pair is then left out of every metric of the cell."))
    rows = []
    for cr in results:
        by = {p.pair: p for p in cr.pairs}
        for e in cr.excluded:
            p = by[e.pair]
            rows.append([cr.driver, cr.workload, str(e.pair), str(p.boot), _num(p.c.ops_per_s),
                         _num(p.x.ops_per_s), _num(p.c.latency["p50"], "ns"), _num(p.x.latency["p50"], "ns"),
                         e.reason])
    if rows:
        b.append(Table(["driver", "workload", "pair", "boot", "C ops/s", f"{x} ops/s", "C p50", f"{x} p50", "reason"],
                       rows))
    else:
        b.append(Para("No pair was excluded."))
    return b


def _latency(run: Run, results: list, fig_dir: Path, rival: str = CXX) -> list:
    b: list = []
    b.append(Heading("Latency distributions" + _of(rival)))
    b.append(Para("User side: kmodlab-load's per-operation histogram from the **timing pass** (no BPF "
                  "attached: the distribution the ratios come from); kernel side: the BPF opslat histogram of the "
                  "same syscalls (entry to exit in the kernel) from the **BPF pass** (kmodlab-load --bpf). Runs "
                  "are merged per variant; pairs excluded as disturbed are left out of the user side."
                  + _hooks(run, rival)))
    bpf_cells = cells(run, "bpf", rival)
    gone = {(cr.driver, cr.workload): {e.pair for e in cr.excluded} for cr in results}
    for (driver, workload), sides in cells(run, "timing", rival).items():
        drop = gone.get((driver, workload), set())
        timing = {v: [r for r in rs if r.pair not in drop] for v, rs in sides.items()}
        kernel = bpf_cells.get((driver, workload), {v: [] for v in sides})
        b.append(Figure(figures.latency_figure(run, driver, workload, timing, kernel, fig_dir),
                        f"{driver}/{workload}: latency histograms, C and {label(rival)} overlaid."))
    return b


def _hooks(run: Run, rival: str) -> str:
    """How the BPF pass of C against rival hooked the calls (the runs' attach_mode), for a variant other
    than C++: its pairs are hooked at the syscall on both sides (scripts/bench_matrix.py pair_sides)."""
    if rival == CXX:
        return ""
    modes = sorted({r.bpf.attach_mode or "not recorded" for r in run.runs_of("bpf") if r.rival == rival and r.bpf})
    return (f" The C/{label(rival)} pairs' BPF pass hooked both sides the same way (attach mode "
            f"{', '.join(modes) or 'none: no BPF pass'}): {label(rival)}'s functions have no BTF for fentry, so "
            "the kernel side is the whole syscall, not the driver's file operation as in the C/C++ pairs.")


def _locks(run: Run, fig_dir: Path) -> list:
    """Lock contention: every BPF-pass group, then per comparison the locks side by side and the scaling."""
    b: list = []
    lrows = lock_rows(run)
    b.append(Heading("Lock contention"))
    if not lrows:
        b.append(Para("No run carried BPF lockstat data."))
    else:
        b.append(Para("Pass: **BPF** (kmodlab-load --bpf; runs carrying BPF data; ops/s here includes the "
                      "probes' cost). BPF lockstat inside the target calls: sleeping locks from "
                      "lock:contention_begin (first begin to end of each acquisition), spinlocks from fentry/fexit on "
                      "queued_spin_lock_slowpath (the pending-bit waiter included), waits in interrupts apart. "
                      "Medians over repetitions, per workload (not per operation), sync= mode and thread count."))
        b.append(Table(["driver", "workload", "sync", "threads", "variant", "n", "ops/s (CV)",
                        "contentions / 1000 ops", "wait ns / op", "max wait", "most-waited lock"],
                       [[r.driver, r.workload, r.sync, str(r.threads), side_label(r.variant, r.rival), str(r.n),
                         f"{_num(r.ops_per_s)} ({_pct(r.ops_cv)})", _num(r.contentions_per_kop),
                         _num(r.wait_ns_per_op), _num(r.max_wait_ns, "ns"), r.top_lock] for r in lrows]))
        for rival in rivals(run):
            b += _lock_sides(run, [r for r in lrows if r.rival == rival], rival, fig_dir)
    return b


def _lock_sides(run: Run, lrows: list, rival: str, fig_dir: Path) -> list:
    """Per lock, C beside rival, and each driver's scaling curve, from one comparison's pairs."""
    b: list = []
    x, c = label(rival), VARIANTS[0]
    pairs = lock_pairs(run, rival)
    if pairs:
        b.append(Para(f"Per lock, C beside {x}" + ("" if rival == CXX else f" (the C/{x} pairs' runs)")
                      + " (a lock's name with the variant as <v>; a repetition without waits on it counts 0):"))
        b.append(Table(["driver", "workload", "sync", "threads", "lock", "kind", f"n C / {x}",
                        "contentions / 1000 ops C", x, "wait ns / op C", x],
                       [[p.driver, p.workload, p.sync, str(p.threads), p.lock, p.kind,
                         f"{p.n.get(c, 0)} / {p.n.get(rival, 0)}",
                         _num(p.per_kop.get(c, float("nan"))), _num(p.per_kop.get(rival, float("nan"))),
                         _num(p.wait_ns_per_op.get(c, float("nan"))),
                         _num(p.wait_ns_per_op.get(rival, float("nan")))] for p in pairs]))
    for driver in sorted({r.driver for r in lrows}):
        drows = [r for r in lrows if r.driver == driver]
        if len({r.threads for r in drows}) > 1 or any(r.wait_ns_per_op > 0 for r in drows):
            b.append(Figure(figures.lock_figure(run, driver, drows, fig_dir, rival),
                            f"{driver}: scaling with threads per sync mode (C solid, {x} dashed)"
                            + ("." if rival == CXX else f", the C/{x} pairs' runs.")))
    return b


def _paired_cell(r) -> str:
    """A row's C++/C with its CI and p (inside.PhaseRow, wakelat.WakeRow)."""
    if r.paired is None or not math.isfinite(r.paired.ratio):
        return "n/a (descriptive only)"
    p = r.paired
    return f"{p.ratio:.3f} [{p.ci_low:.3f}, {p.ci_high:.3f}], p {_p(p.p)}"


def _inside(run: Run, s: Settings) -> list:
    """Inside the driver: the drivers' own tracepoints (analysis/inside.py)."""
    b: list = [Heading("Inside the driver (tracepoints)")]
    if not inside.traced(run):
        b.append(Para("No run carried the drivers' tracepoint data (kmodlab-load --bpf-trace)."))
        return b
    b.append(Para("Pass: **BPF** with the drivers' own tracepoints (kmodlab-load --bpf-trace; bpf/README.md "
                  "\"Driver tracepoints\"): the probes are attached, so these figures describe where the time goes "
                  "inside an operation, not the C-versus-C++ verdict, which comes from the timing pass."))
    prows = inside.phase_rows(run, s)
    if prows:
        b.append(Para("lkp_enc's phases per encryption: seed_to_write = the seed write event (emitted before the "
                      "seed's MMIO write) to the string write event; write_to_read = the string write event (emitted before the string's MMIO "
                      "writes) to the readback event: the whole MMIO exchange (string out, the device's work, "
                      "readback). scullpipe's phases per wait: read_blocked / write_blocked = scullpipe_sleep (the call "
                      "found no data / no room and is about to wait, lock held) to scullpipe_wake on the same thread "
                      "(the lock held again): the time a read or write was blocked in the driver, the other side's "
                      "work and the scheduler's wake-up included. p50 of each run from its BPF histogram (bucket lower edge, at most 3.1% low), "
                      "median over runs. With C/C++ pairs: the C++/C ratio of the p50s with the paired statistics of "
                      "the timing comparison (geometric mean, 95% CI, exact sign-flip p; outside the Holm family, "
                      "not a verdict); without pairs: medians only, descriptive."))
        b.append(Table(["driver", "workload", "phase", "runs C / C++", "p50 C", "p50 C++", "C++/C [95% CI], p",
                        "data"],
                       [[r.driver, r.workload, r.phase, f"{r.n['c']} / {r.n['cxx']}", _num(r.p50["c"], "ns"),
                         _num(r.p50["cxx"], "ns"), _paired_cell(r), r.note] for r in prows]))
    erows = inside.event_rows(run)
    if erows:
        b.append(Para("Events per 1000 measured operations (median over runs). scull: read/write events per "
                      "transfer, qset_alloc per new quantum set (0 when the regions were prefilled in the set-up, "
                      "as under --check: the set-up's allocations are in the next table), alloc_then_write = allocations followed on the same thread by "
                      "the write whose bytes reach that set (a write may cross quantum sets); counter: counter_change per increment; lkp_enc: one of each "
                      "event and one encrypt per cycle; scullpipe: sleeps, wakes and timed waits per operation "
                      "(short_wakes: a wake that found its data or room taken, and waited again)."))
        b.append(Table(["driver", "workload", "event", "runs C / C++", "per 1000 ops C", "C++"],
                       [[r.driver, r.workload, r.event, f"{r.n.get('c', 0)} / {r.n.get('cxx', 0)}",
                         _num(r.per_kop.get("c", float("nan"))), _num(r.per_kop.get("cxx", float("nan")))]
                        for r in erows]))
    srows = inside.setup_rows(run)
    if srows:
        b.append(Para("Set-up of each run, counted apart from the measured phase (BPF attached before it): scull's "
                      "device emptied (trim, open O_WRONLY) and its regions prefilled, so every quantum set the "
                      "prefill stores into is allocated while BPF counts. Expected: kmodlab-load's set-up plan, "
                      "exact (scull_qset_alloc = the quantum sets of the device's quantum x qset bytes that the "
                      "prefilled regions touch, from the geometry the device reports; scull_write = the prefill's "
                      "write calls; scull_qset_free = what the trim dropped, not predicted). Figures zero in every "
                      "run and expected zero are left out. Count over the runs: one value, or the range."))
        b.append(Table(["driver", "workload", "figure", "runs C / C++", "C", "expected C", "C++", "expected C++"],
                       [[r.driver, r.workload, r.figure, f"{r.n['c']} / {r.n['cxx']}", r.counted["c"],
                         r.expected["c"], r.counted["cxx"], r.expected["cxx"]] for r in srows]))
    crows = inside.crosscheck_rows(run)
    b.append(Para("Cross-checks (kmodlab-load --bpf-trace --check, rules in loadgen/src/trace_check.cpp): each "
                  "event count against the operations measured, in [ops, ops + threads] (an operation in flight "
                  "at the clear after the warm-up may add its events); lkp_enc: every encrypt one seed write, "
                  "string write and readback, both phases, nothing out of order; scull: one read/write event per "
                  "transfer, no allocation in prefilled regions, every allocation followed by its write; scullpipe: "
                  "every wake follows its thread's sleep (how many calls wait is the scheduler's, not a count "
                  "the operations fix). "
                  "Set-up: every figure of the set-up plan exact (scull: one trim, one allocation per new quantum "
                  "set, one write event per prefill write; counter, lkp_enc and scullpipe: no event)."))
    b.append(Table(["driver", "variant", "runs", "checked", "passed", "set-up checked", "set-up passed",
                    "not checked because", "first failure"],
                   [[r.driver, label(r.variant), str(r.runs), str(r.checked), str(r.passed),
                     str(r.setup_checked), str(r.setup_passed), "; ".join(r.not_checked) or "-",
                     r.failures[0] if r.failures else "-"] for r in crows]))
    return b


def _wakeups(run: Run, s: Settings) -> list:
    """Wakeup latency of the blocking cells (analysis/wakelat.py); nothing when no run traced wakeups."""
    rows = wakelat.wake_rows(run, s)
    if not rows:
        return []
    b: list = [Heading("Wakeup latency (blocking calls)")]
    b.append(Para("Pass: **BPF** (kmodlab-load --bpf on the paired scullpipe runs; bpf/wakelat.bpf.c): for a thread "
                  "asleep inside a call on the device (a read waiting for data, a write waiting for room), the time "
                  "from the scheduler's wakeup (sched_wakeup, made by the other thread's wake_up) to the thread "
                  "running again (sched_switch to it). Per cell and operation of the sleeping call, pingpong's two "
                  "pipes merged; p50/p99 of each run's histogram (bucket lower edge, at most 3.1% low), median over "
                  "runs. C++/C of the p50s with the paired statistics of the timing comparison (geometric mean, 95% "
                  "CI, exact sign-flip p), outside the Holm family: the probes are attached. \"relations\": runs "
                  "whose figures keep analysis/wakeups.py's rules (one timed wakeup per sleep; pingpong: one sleep "
                  "per blocked read, 0.9-2 blocked reads per round trip)."))
    b.append(Table(["driver", "workload", "sleeping op", "runs C / C++", "wakeups/op C", "C++", "p50 C", "p50 C++",
                    "p99 C", "p99 C++", "p50 C++/C [95% CI], p", "relations", "first problem"],
                   [[r.driver, r.workload, r.op, f"{r.n['c']} / {r.n['cxx']}", _num(r.per_op["c"]),
                     _num(r.per_op["cxx"]), _num(r.p50["c"], "ns"), _num(r.p50["cxx"], "ns"), _num(r.p99["c"], "ns"),
                     _num(r.p99["cxx"], "ns"), _paired_cell(r), f"{r.kept} of {r.n['c'] + r.n['cxx']}",
                     r.failures[0] if r.failures else "-"] for r in rows]))
    return b


def _tools(run: Run, s: Settings, fig_dir: Path) -> list:
    b: list = []
    trows = tool_rows(run, s)
    b.append(Heading("fio and Google Benchmark against kmodlab-load"))
    if not trows:
        b.append(Para("This run has no fio or Google Benchmark results matching a kmodlab-load cell."))
    else:
        b.append(Para(f"kmodlab-load from the **timing pass** (no BPF, like fio and Google Benchmark), same cell "
                      f"and variant, medians of runs. They agree when within {s.agree_tolerance:.0%} of "
                      f"kmodlab-load."))
        b.append(Table(["tool", "driver", "workload", "variant", "kmodlab-load ops/s (CV)", "tool ops/s (CV)",
                        "difference", "agree", "p50 load / tool"],
                       [[r.tool, r.driver, r.workload, label(r.variant), f"{_num(r.loadgen_ops)} ({_pct(r.loadgen_cv)})",
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
    return b


def _modules(run: Run, fig_dir: Path) -> list:
    b: list = []
    b.append(Heading("Module size and stack usage"))
    if run.modules is None:
        b.append(Para("This run has no module size report (manifest 'modules')."))
    else:
        b += _module_sizes(run.modules)
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
    return b


def _module_sizes(mods: list) -> list:
    """Sizes and largest stack frame per driver: C, C++ and, where the run built it, Rust, each beside
    its ratio to C ("-": the driver has no such variant; "n/a": not measured)."""
    by = {(m.driver, m.variant): m for m in mods}
    rivals_ = [CXX] + [v for v in partial_variants() if any(m.variant == v for m in mods)]
    rows = []
    for d in sorted({m.driver for m in mods}):
        c = by.get((d, VARIANTS[0]))
        for field in ("text", "rodata", "data", "bss", "total", "max_stack"):
            cv_ = getattr(c, field) if c else None
            row = [d, field, "n/a" if cv_ is None else str(cv_)]
            for v in rivals_:
                if v not in driver_variants(d):
                    row += ["-", "-"]
                    continue
                xv = getattr(by[(d, v)], field) if (d, v) in by else None
                row += ["n/a" if xv is None else str(xv), f"{xv / cv_:.2f}" if cv_ and xv is not None else "n/a"]
            rows.append(row)
    b: list = [Table(["driver", "figure (bytes)", "C"] + [h for v in rivals_ for h in (label(v), f"{label(v)}/C")],
                     rows)]
    funcs = [[m.name, str(m.max_stack), m.max_stack_function] for m in mods if m.max_stack_function]
    if funcs:
        b.append(Para("Largest stack frame per module, and the function it belongs to:"))
        b.append(Table(["module", "bytes", "function"], funcs))
    unmeasured = [m.name for m in mods if m.max_stack is None]
    if unmeasured:
        b.append(Para(f"No stack figure for {', '.join(unmeasured)}: scripts/kmod-report.sh reads the compiler's "
                      "-fstack-usage (.su) files, and rustc writes none."))
    return b


def _icount(run: Run) -> list:
    b: list = []
    if run.icount is not None:
        b.append(Heading("Instructions per operation (exact, QEMU TCG plugin)"))
        b.append(Para("Guest instructions executed per operation, counted by make icount: in the driver module, "
                      "and in the whole kernel (operations without an interrupt). Deterministic: no repetitions, "
                      "no noise." + ("" if run.icount.ok else " **This count reported problems: "
                                     + "; ".join(run.icount.problems) + "**")))
        b.append(_icount_table(run.icount.rows))
        # classes, simulated misses, per function C beside C++ (analysis/icount_profile.py)
        kinds = {"heading": Heading, "para": Para, "table": Table}
        b += [kinds[item[0]](*item[1:]) for item in icount_profile.report_section(run.dir)]
    return b


def _icount_table(rows: list) -> Table:
    """Per path: C's count, then each other variant's beside its ratio to C, driver scope then whole
    syscall (C++, and Rust where the run counted it: "-" for a path without it)."""
    paths: dict[tuple[str, str], dict] = {}
    for r in rows:
        paths.setdefault((r.driver, r.workload), {})[r.rival] = r
    rivals_ = [v for v in (*VARIANTS[1:], *partial_variants()) if any(v in p for p in paths.values())]
    ratio = (lambda x: "n/a" if x is None else f"{x:.3f}")  # noqa: E731
    out = []
    for (driver, workload), by in paths.items():
        ref = next(iter(by.values()))
        row = [driver, workload]
        for scope in ("driver", "kernel"):
            row.append(f"{getattr(ref, scope + '_c'):.1f}")
            for v in rivals_:
                r = by.get(v)
                row += ["-", "-"] if r is None else [f"{getattr(r, scope + '_x'):.1f}", ratio(getattr(r, scope + '_ratio'))]
        out.append(row)
    head = ["driver", "workload"]
    for scope in ("driver", "kernel"):
        head += [f"{scope} insn/op C"] + [h for v in rivals_ for h in (label(v), f"{label(v)}/C")]
    return Table(head, out)


def _reliability(run: Run) -> list:
    b: list = []
    rel = run.reliability
    if rel is not None:
        b.append(Heading("Reliability"))
        b.append(Para("The newest reliability summary (scripts/reliability.sh, slub_debug=FZPU): seeded fuzzing "
                      "against a model of each device, allocation-failure injection, stress with oracles, "
                      "load/unload cycles."))
        rows = [["checks", f"{rel['passed']} passed, {rel['failed']} failed"]]
        for key, what in (("calls_fuzzed_total", "calls fuzzed"), ("faults_injected", "allocation faults injected"),
                          ("cycles", "load/unload cycles"), ("lost", "anything lost"),
                          ("wall_seconds", "wall time (s)")):
            if key in rel:
                rows.append([what, f"{rel[key]:,}"])
        for variant_driver, n in sorted(rel.get("calls_fuzzed", {}).items()):
            rows.append([f"calls fuzzed, {variant_driver}", f"{n:,}"])
        if rel.get("errors_by_errno"):
            rows.append(["results by errno", ", ".join(f"{k} {v:,}" for k, v in
                                                       sorted(rel["errors_by_errno"].items(), key=lambda kv: -kv[1]))])
        b.append(Table(["what", "figure"], rows))
    return b


def _probe(run: Run, s: Settings, fig_dir: Path) -> list:
    b: list = []
    b.append(Heading("Probe effect"))
    prows = probe_rows(run, s)
    if not prows:
        b.append(Para("This run has no cell measured in both passes (and no manifest 'probe_effect')."))
    else:
        b.append(Para("The two passes of the same variant: BPF off = the timing pass's runs, BPF on = the BPF "
                      "pass's runs (they ran at different times, so not pairs: ratio of medians with an unpaired "
                      f"{s.confidence:.0%} bootstrap CI, seed {s.seed}); change = on/off - 1. ns/event: kernel BPF "
                      "run-time statistics of the BPF pass."))
        b.append(Table(["driver", "workload", "variant", "source", "BPF off ops/s (CV)", "BPF on ops/s (CV)",
                        "change [95% CI]", "ns/event per program"],
                       [[r.driver, r.workload, side_label(r.variant, r.rival), r.source,
                         f"{_num(r.off_ops)} ({_pct(r.off_cv)}, n={r.n_off})",
                         f"{_num(r.on_ops)} ({_pct(r.on_cv)}, n={r.n_on})",
                         f"{100 * r.change:+.1f}% [{100 * r.change_lo:+.1f}%, {100 * r.change_hi:+.1f}%]",
                         ", ".join(f"{k} {v:.0f}" for k, v in r.ns_per_event.items()) or "n/a"] for r in prows]))
        b.append(Figure(figures.probe_figure(run, prows, fig_dir), "Probe effect on throughput."))
    return b


def _correctness(run: Run, s: Settings) -> list:
    b: list = []
    b.append(Heading("Correctness"))
    b.append(Para("Every run of both passes."))
    b.append(Table(["check", "result", "status", "detail"],
                   [[g.gate, g.now, g.status, g.detail or ""] for g in correctness_gates(run, s)]))
    return b


def other_results(run: Run, s: Settings) -> dict[str, list]:
    """compare_run of every comparison but C/C++ the run has (C/Rust on the Rust kernel), by rival."""
    return {rv: compare_run(run, s, rv) for rv in rivals(run) if rv != CXX}


def build(run: Run, s: Settings, fig_dir: Path, results: list | None = None, others: dict | None = None) -> list:
    """All blocks of the report; figures are written to fig_dir as a side effect.  Every section about
    the paired comparison comes once for C/C++ and, where the run has them, once per other rival (Rust)."""
    results = compare_run(run, s) if results is None else results
    others = other_results(run, s) if others is None else others
    b = _header(run, s) + _summary(run, s, results, fig_dir)
    for rv, res in others.items():
        b += _summary(run, s, res, fig_dir, rv)
    b += _side_by_side(run, s, results, others)
    b += _order(results) + [x for rv, res in others.items() for x in _order(res, rv)]
    b += _excluded(results, s) + [x for rv, res in others.items() for x in _excluded(res, s, rv)]
    b += _latency(run, results, fig_dir) + [x for rv, res in others.items() for x in _latency(run, res, fig_dir, rv)]
    b += _locks(run, fig_dir) + _inside(run, s) + _wakeups(run, s)
    b += _tools(run, s, fig_dir)
    b += _modules(run, fig_dir)
    b += _icount(run) + _reliability(run) + _probe(run, s, fig_dir) + _correctness(run, s)
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


def render(run: Run, s: Settings, results: list | None = None) -> tuple[Path, Path, list[Path]]:
    """Write report.md, report.html and figures/*.png into the run directory; return their paths.

    results: compare_run(run, s) when the caller has it already (the bench-set report)."""
    fig_dir = run.dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    for old in fig_dir.glob("*.png"):  # a re-render must not keep figures of cells that are gone
        old.unlink()
    results = compare_run(run, s) if results is None else results
    others = other_results(run, s)
    blocks = build(run, s, fig_dir, results, others)
    md = run.dir / "report.md"
    ht = run.dir / "report.html"
    md.write_text(to_markdown(blocks, run.dir))
    ht.write_text(to_html(blocks, run.dir, f"kmodlab report {run.id}"))
    (run.dir / SUMMARY).write_text(json.dumps(summary_json(run, s, results, others), indent=1, default=_json_num)
                                   + "\n")
    return md, ht, [bl.path for bl in blocks if isinstance(bl, Figure)]


SUMMARY = "summary.json"


def _json_num(x):
    raise TypeError(f"not JSON: {x!r}")


def _finite(x):
    """JSON has no NaN/inf: undefined numbers are null."""
    return x if not isinstance(x, float) or math.isfinite(x) else None


def summary_json(run: Run, s: Settings, results: list, others: dict | None = None) -> dict:
    """The summary table as data (schema kmodlab-summary/1): what the report's first table shows; with
    C/Rust pairs, "other_comparisons": {"rust": {"family", "cells"}} in the same format (absent without)."""
    out = {"schema": "kmodlab-summary/1", "run": run.id, "pass": "timing",
           "family": _family_json(run, s, CXX), "settings": s.source, "design": run.design,
           "cells": _cells_json(results, CXX)}
    others = other_results(run, s) if others is None else others
    if others:
        out["other_comparisons"] = {rv: {"family": _family_json(run, s, rv), "cells": _cells_json(res, rv)}
                                    for rv, res in others.items()}
    return out


def _family_json(run: Run, s: Settings, rival: str) -> dict:
    return {"size": family_size(run, s, rival), "metrics": list(s.ratio_metrics), "correction": "Holm",
            "alpha": s.alpha}


def _cells_json(results: list, rival: str) -> list:
    """Per cell and metric, the paired comparison of C against rival ("<rival>_median": the rival's median)."""
    cells_out = []
    for cr in results:
        metrics = {}
        for m, mr in cr.metrics.items():
            r = mr.res
            metrics[m] = {k: _finite(v) for k, v in {
                "ratio": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high, "p": r.p, "p_holm": mr.p_adj,
                "in_family": mr.in_family, "verdict": mr.verdict, "mde": r.mde, "mde_interval": None,
                "mde_alpha": r.mde_alpha, "sd_log": r.sd_log, "se_log": r.se_log, "n_pairs": r.n_pairs,
                "between_boot_share": r.between_boot_share, "order_effect_p": r.order_effect_p,
                "second_run_gain": r.second_run_gain if r.order_effect_p is not None else None,
                "c_median": mr.c_median, f"{rival}_median": mr.x_median, "unit": mr.unit, "p_method": r.p_method,
            }.items()}
            if math.isfinite(r.mde):
                metrics[m]["mde_interval"] = [r.mde_low, r.mde_high]
        cells_out.append({"driver": cr.driver, "workload": cr.workload, "primary": cr.primary,
                          "pairs": cr.n_pairs, "boots": cr.boots,
                          "bytes_per_op": {k: _finite(v) for k, v in cr.bytes_per_op.items()},
                          "excluded": [{"pair": e.pair, "reason": e.reason, "c": e.c, rival: e.cxx}
                                       for e in cr.excluded],
                          "metrics": metrics})
    return cells_out
