"""The regression gate: a new run against the committed baseline.

Only what is stable across machines may fail the gate:

* within-run C++/C ratios of the timing pass (pairs of C and C++ ran back to
  back in the same guest, so the machine cancels out): per cell and gated
  metric, the difference of the two runs' mean log-ratios is tested with
  both runs' standard errors (between-boot component included): FAIL when
  the run is significantly (one-sided Welch t, Holm-adjusted across the
  gated cells, REGRESS_ALPHA) worse than the baseline by more than
  REGRESS_RATIO_THRESHOLD.  Rust/C ratios (C/Rust pairs, the Rust kernel's
  counter) gate the same way, in the same Holm family, where the baseline
  has them.  Power: analysis/power.py and README.md;
* deterministic figures: module sizes and largest stack frame (against the
  baseline, with a tolerance), exact BPF counts (against kmodlab-load's own
  count, within the run);
* correctness: check.ok, unexpected errno counts, the reliability summary.

No gate is dropped silently: a baseline cell missing from a run FAILS,
unless the run is QUICK or selected its cells (make bench CELLS=) and the
cell is not primary (BENCH_PRIMARY_CELLS), which is a visible SKIP; a run's
cell the baseline lacks is a SKIP row "new, not gated".  Absolute throughput and latency are printed as
INFO rows and never gate: a faster or busier machine moves them without any
code change.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy import stats as sps

from .compare import CXX, METRICS, bpf_count_mismatches, cells, compare_run, rivals
from .conf import Settings
from .devnames import label, partial_variants
from .errors import InputError
from .icount_profile import run_class_gates
from .load import VARIANTS, Run
from .stats import PairedResult, holm, welch_df  # noqa: F401  (welch_df: re-exported)

PASS, FAIL, SKIP, INFO = "PASS", "FAIL", "SKIP", "INFO"
# A run's cell that the baseline lacks: shown as SKIP with this reason, never gated, never an error.
NEW_CELL = "new, not gated: the baseline has no such cell (promote a run that has it to gate it)"
# A cell whose pairs against a variant other than C++ (Rust) the baseline lacks.
NEW_RIVAL = "new, not gated: the baseline has no {what} pairs of this cell (promote a run that has them to gate it)"
NEW_MODULE = "new, not gated: the baseline's size report has no such module"


@dataclass
class Gate:
    gate: str          # what is gated, e.g. "ratio scull/read4096 throughput"
    baseline: str
    now: str
    threshold: str
    status: str        # PASS, FAIL, SKIP (cannot decide, says why), INFO (shown, never gates)
    detail: str = ""


def _fmt_ratio(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.3f}"


def _abs(c: float, cxx: float, unit: str) -> str:
    f = (lambda x: "n/a" if not math.isfinite(x) else f"{x:,.0f}")
    return f"{f(c)} / {f(cxx)} {unit}"


def _ci(r: PairedResult) -> str:
    if not math.isfinite(r.ci_low):
        return f"{_fmt_ratio(r.ratio)} (no CI, {r.n_pairs} pairs)"
    return f"{r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] n={r.n_pairs}"


def ratio_regression(base: PairedResult, run: PairedResult, s: Settings, what: str = "C++/C") -> tuple[float, str]:
    """(one-sided p, detail) of "the run's C++/C (what: or Rust/C) is worse than the baseline's by more than
    the margin".

    bad = mean log-ratio lost against the baseline in the bad direction
    (throughput down, latency up); margin tau = -log(1 - T) for throughput,
    log(1 + T) for latency, T = REGRESS_RATIO_THRESHOLD; t = (bad - tau) / SE,
    SE = sqrt(se_base^2 + se_run^2), Welch degrees of freedom, p = P(T_df > t).
    p is NaN when either side has too few usable pairs (the caller FAILS the
    gate: one that cannot decide must not pass); the detail says why.
    """
    for who, r in (("run", run), ("baseline", base)):
        if r.n_pairs < s.min_pairs or not math.isfinite(r.se_log):
            return float("nan"), (f"{who} has {r.n_pairs} usable pairs ({len(r.excluded)} excluded as disturbed), "
                                  f"need {s.min_pairs}: cannot gate; "
                                  + ("regenerate the baseline" if who == "baseline" else "re-run the bench"))
    hib = run.higher_is_better
    bad = (base.mean_log - run.mean_log) if hib else (run.mean_log - base.mean_log)
    tau = -math.log1p(-s.ratio_threshold) if hib else math.log1p(s.ratio_threshold)
    se = math.hypot(base.se_log, run.se_log)
    df = welch_df(base.se_log, base.n_eff, run.se_log, run.n_eff)
    if se == 0:
        p, p_better = (0.0 if bad > tau else 1.0), (0.0 if -bad > tau else 1.0)
    else:
        p, p_better = float(sps.t.sf((bad - tau) / se, df)), float(sps.t.sf((-bad - tau) / se, df))
    change = math.exp(run.mean_log - base.mean_log) - 1
    detail = (f"{what} {change:+.1%} against the baseline; one-sided p = {p:.2g} that it is worse by more than "
              f"{s.ratio_threshold:.0%} (SE {se:.4f}, df {df:.0f})")
    if p_better < s.regress_alpha:
        detail += "; improved beyond the threshold: consider a new baseline"
    return p, detail


def _missing_cell(name: str, new: Run, s: Settings, gate: str = "") -> Gate:
    """A baseline cell absent from the run: FAIL, except a non-primary cell of a QUICK run or of a run that
    selected its cells (make bench CELLS=): SKIP, says why.  gate: the row's name (default "ratio NAME")."""
    gate = gate or f"ratio {name}"
    if new.selected is not None and name not in s.primary_cells:
        return Gate(gate, "present", "not in run", "-", SKIP,
                    f"not selected: the run measured only CELLS={','.join(new.selected)}")
    if new.quick and name not in s.primary_cells:
        return Gate(gate, "present", "not in run", "-", SKIP,
                    "not in the QUICK matrix (a documented subset of the full matrix, analysis/README.md)")
    why = "primary cell (BENCH_PRIMARY_CELLS) " if name in s.primary_cells else ""
    if new.selected is not None:
        why += "not selected by CELLS: "
    return Gate(gate, "present", "not in run", "measured", FAIL,
                f"{why}in the baseline but not measured in this run: a missing cell never passes")


def ratio_gates(base: Run, new: Run, s: Settings) -> list[Gate]:
    """One gate per (timing-pass cell, metric) of the baseline and comparison (C++/C, then Rust/C where
    either run has C/Rust pairs); INFO for metrics outside REGRESS_RATIO_METRICS.

    The gated ratios' one-sided p-values, C++/C and Rust/C together, are
    Holm-adjusted as one family: the gate asks one question (did anything get
    worse?), so an unchanged run fails with probability at most REGRESS_ALPHA
    however many cells and comparisons it has; a cell FAILS when its
    adjusted p < REGRESS_ALPHA.
    """
    gates, tested = [], []
    brv, nrv = rivals(base), rivals(new)
    for rival in brv + [r for r in nrv if r not in brv]:
        gates += _rival_gates(base, new, s, rival, tested)
    for (g, p), adj in zip(tested, holm([p for _, p in tested])):
        if math.isfinite(adj):  # NaN: too few pairs, stays FAIL with its reason
            g.status = FAIL if adj < s.regress_alpha else PASS
            g.detail += f"; Holm p = {adj:.2g} over {sum(math.isfinite(q) for _, q in tested)} gated ratios"
    return gates


def _rival_gates(base: Run, new: Run, s: Settings, rival: str, tested: list) -> list[Gate]:
    """The ratio gates of C against rival; appends (gate, one-sided p) of each gated ratio to tested.
    A C++/C cell the baseline lacks is NEW_CELL; a cell whose Rust/C pairs it lacks, NEW_RIVAL."""
    bres = {(c.driver, c.workload): c for c in compare_run(base, s, rival)}
    nres = {(c.driver, c.workload): c for c in compare_run(new, s, rival)}
    x = label(rival)
    what, suffix = f"{x}/C", "" if rival == CXX else f" {x}/C"
    thr = f"not worse by > {s.ratio_threshold:.0%} (Holm p < {s.regress_alpha})"
    gates = []
    for key in sorted(set(bres) | set(nres)):
        name = f"{key[0]}/{key[1]}"
        if key not in nres:
            gates.append(_missing_cell(name, new, s, f"ratio {name}{suffix}"))
            continue
        if key not in bres:
            gates.append(Gate(f"ratio {name}{suffix}", "not in baseline", "present", "-", SKIP,
                              NEW_CELL if rival == CXX else NEW_RIVAL.format(what=f"C/{x}")))
            continue
        for metric in METRICS:
            bm, nm = bres[key].metrics[metric], nres[key].metrics[metric]
            g = Gate(f"ratio {name} {metric} {what}", _ci(bm.res), _ci(nm.res), thr, FAIL)
            if metric not in s.ratio_metrics:
                g.threshold, g.status, g.detail = "never gates", INFO, f"{metric} is not in REGRESS_RATIO_METRICS"
            else:
                p, g.detail = ratio_regression(bm.res, nm.res, s, what)
                tested.append((g, p))
            gates.append(g)
        # Absolute numbers: shown, never gated.
        for metric in ("throughput", "p99"):
            bm, nm = bres[key].metrics[metric], nres[key].metrics[metric]
            gates.append(Gate(f"absolute {name} {metric} C / {x}", _abs(bm.c_median, bm.x_median, bm.unit),
                              _abs(nm.c_median, nm.x_median, nm.unit), "never gates", INFO))
    return gates


def module_gates(base: Run, new: Run, s: Settings) -> list[Gate]:
    """Module size and stack: deterministic for a given compiler, so a tolerance, not a CI."""
    if base.modules is None:
        return [Gate("module sizes", "no modules file", "-", "-", SKIP, "baseline has no module size report")]
    if new.modules is None:
        raise InputError(f"{new.dir}/manifest.json: no 'modules' file, but the baseline has one: "
                         "cannot gate module sizes (scripts/bench.sh should record scripts/kmod-report.sh --json)")
    nmods = {m.name: m for m in new.modules}
    gates = []
    for b in sorted(base.modules, key=lambda m: m.name):
        n = nmods.get(b.name)
        if n is None:
            gates.append(Gate(f"module {b.name} present", "yes", "missing", "-", FAIL,
                              "module in the baseline is not in the run's size report"))
            continue
        lim = b.total * (1 + s.size_tolerance)
        gates.append(Gate(f"module {b.name} size (text+data+rodata+bss)", f"{b.total} B", f"{n.total} B",
                          f"<= {lim:.0f} B (+{s.size_tolerance:.0%})", FAIL if n.total > lim else PASS))
        gates.append(_stack_gate(b, n, s))
    bnames = {b.name for b in base.modules}
    for n in sorted((m for m in new.modules if m.name not in bnames), key=lambda m: m.name):
        gates.append(Gate(f"module {n.name} size (text+data+rodata+bss)", "not in baseline", f"{n.total} B", "-",
                          SKIP, NEW_MODULE))
    return gates


def _stack_gate(b, n, s: Settings) -> Gate:
    """Largest stack frame against the baseline's.  A figure kmod-report could not measure (no .su
    files: rustc writes none) is a SKIP when the baseline had none either, a FAIL when it had one."""
    name = f"module {b.name} max stack frame"
    if b.max_stack is None or n.max_stack is None:
        lost = b.max_stack is not None
        return Gate(name, "not measured" if b.max_stack is None else f"{b.max_stack} B",
                    "not measured" if n.max_stack is None else f"{n.max_stack} B", "-", FAIL if lost else SKIP,
                    "the run's module report has no stack figure (no .su files)" if lost else
                    "no stack figure to gate (kmod-report reads .su files; this module's compiler writes none)")
    lim = b.max_stack * (1 + s.stack_tolerance)
    return Gate(name, f"{b.max_stack} B", f"{n.max_stack} B", f"<= {lim:.0f} B (+{s.stack_tolerance:.0%})",
                FAIL if n.max_stack > lim else PASS)


def icount_gates(base: Run, new: Run, s: Settings) -> list[Gate]:
    """Exact instruction counts: the C++/C ratio may not rise beyond a policy tolerance.

    The counts are deterministic (vm/plugin's determinism test), so there is
    no CI: the tolerance only decides how small a code change is ignored.
    """
    if base.icount is None:
        return []
    if new.icount is None:
        return [Gate("icount present", "yes", "no icount file", "-", SKIP,
                     "run has no instruction counts (manifest 'icount')")]
    gates = []
    nrows = {_icount_key(r): r for r in new.icount.rows}
    for b in sorted(base.icount.rows, key=_icount_key):
        n = nrows.get(_icount_key(b))
        x = label(b.rival)
        name = f"{b.driver}/{b.workload}"
        if n is None:
            gates.append(Gate(f"icount {name}" + ("" if b.rival == CXX else f" {x}/C"), "present", "not in run", "-",
                              SKIP, "workload not counted in this run"))
            continue
        for what, bv, nv, tol in ((f"driver insn/op {x}/C", b.driver_ratio, n.driver_ratio, s.icount_driver_tolerance),
                                  (f"kernel insn/op {x}/C", b.kernel_ratio, n.kernel_ratio, s.icount_kernel_tolerance)):
            if bv is None or nv is None:
                gates.append(Gate(f"icount {name} {what}", "n/a" if bv is None else f"{bv:.4f}",
                                  "n/a" if nv is None else f"{nv:.4f}", "-", SKIP, "ratio undefined (C count 0)"))
                continue
            limit = bv * (1 + tol)
            better = nv < bv * (1 - tol)
            gates.append(Gate(f"icount {name} {what}", f"{bv:.4f}", f"{nv:.4f}", f"<= {limit:.4f} (+{tol:.1%})",
                              FAIL if nv > limit else PASS,
                              "improved beyond the tolerance: consider a new baseline" if better else ""))
        gates.append(Gate(f"absolute icount {name} driver insn/op C / {x}", f"{b.driver_c:.0f} / {b.driver_x:.0f}",
                          f"{n.driver_c:.0f} / {n.driver_x:.0f}", "never gates", INFO))
    brows = {_icount_key(r) for r in base.icount.rows}
    for key in sorted(set(nrows) - brows):
        n = nrows[key]
        gates.append(Gate(f"icount {key[0]}/{key[1]}" + ("" if n.rival == CXX else f" {label(n.rival)}/C"),
                          "not in baseline", f"{n.driver_c:.0f} / {n.driver_x:.0f}",
                          "-", SKIP, "new workload: no baseline to compare against (promote one to gate it)"))
    # instruction classes and simulated misses: exact at driver scope (analysis/icount_profile.py)
    gates += [Gate(**g) for g in run_class_gates(base.dir, new.dir, s.icount_kernel_tolerance)]
    return gates


def _icount_key(r) -> tuple[str, str, int]:
    """Sort and match key of an icount row: path, C++/C before Rust/C (the header's variant order)."""
    return (r.driver, r.workload, (*VARIANTS, *partial_variants()).index(r.rival))


def dispatch_gates(base: Run, new: Run, s: Settings) -> list[Gate]:
    """kmod-report's dispatch parity (deterministic): every C++ file operation compiled as C++,
    no operation with more indirect calls than its C twin."""
    mr = new.module_report
    if mr is None or mr.parity_ok is None:
        return []
    return [Gate("module dispatch parity (kmod-report)", "ok" if base.module_report is None or
                 base.module_report.parity_ok is not False else "problems",
                 "ok" if mr.parity_ok else f"{len(mr.problems)} problems", "ok",
                 PASS if mr.parity_ok else FAIL, "; ".join(mr.problems))]


def correctness_gates(new: Run, s: Settings) -> list[Gate]:
    """Within the run: every check passed, no unexpected errors, BPF counts exact, reliability clean."""
    gates = []
    bad = [f"{r.file}: {r.check_detail or 'check failed'}" for r in new.loadgen if r.check_enabled and not r.check_ok]
    enabled = sum(r.check_enabled for r in new.loadgen)
    # BPF-pass cells whose op has no data check (bench_matrix.py Cell.checkable): named, never silent.
    unchecked = sorted({f"{r.driver}/{r.workload}" for r in new.loadgen if r.pass_ == "bpf" and not r.check_enabled})
    note = f"BPF pass without a data check (op has none): {', '.join(unchecked)}" if unchecked else ""
    detail = "; ".join(bad) if bad else ("no run had checking enabled" if not enabled else note)
    gates.append(Gate("correctness: data checks (check.ok)", "all ok", f"{enabled - len(bad)}/{enabled} ok",
                      "all ok", FAIL if bad else (PASS if enabled else SKIP), detail))
    errs = []
    for r in new.loadgen:
        unexpected = {k: v for k, v in r.errors.items() if v and k not in r.expect_errors}
        if unexpected:
            errs.append(f"{r.file}: " + ", ".join(f"{k} x{v}" for k, v in sorted(unexpected.items())))
    intr = [r.file for r in new.loadgen if r.interrupted]
    gates.append(Gate("correctness: no interrupted runs", "0", str(len(intr)), "0", FAIL if intr else PASS,
                      "; ".join(intr)))
    gates.append(Gate("correctness: no unexpected errors", "0", str(len(errs)) + " runs", "0",
                      FAIL if errs else PASS, "; ".join(errs)))
    gates.append(bpf_count_gate(new))
    if new.icount is not None:
        gates.append(Gate("icount run usable", "ok", "ok" if new.icount.ok else "problems", "ok",
                          PASS if new.icount.ok else FAIL, "; ".join(new.icount.problems)))
    if new.reliability is not None:
        rel = new.reliability
        gates.append(Gate("reliability suite", "0 failed", f"{rel['failed']} failed / {rel['passed']} passed", "0 failed",
                          FAIL if rel["failed"] else PASS, "; ".join(rel["failures"])))
        if "lost" in rel:
            gates.append(Gate("reliability: nothing lost", "0", str(rel["lost"]), "0",
                              FAIL if rel["lost"] else PASS, ""))
    return gates


def bpf_count_gate(new: Run) -> Gate:
    """BPF opslat counts exact against kmodlab-load's: 0 <= BPF - ops <= in-flight bound, nothing lost."""
    with_bpf = [r for r in new.loadgen if r.bpf is not None]
    mism = bpf_count_mismatches(new)
    return Gate("BPF counts agree (opslat vs kmodlab-load, no drops)", "exact",
                f"{len(with_bpf) - len({m.split(':')[0] for m in mism})}/{len(with_bpf)} exact",
                "0 <= BPF - ops <= threads x calls/op; no drops or recursion misses",
                FAIL if mism else (PASS if with_bpf else SKIP),
                "; ".join(mism) if mism else ("" if with_bpf else "no run carried BPF data"))


def evaluate(base: Run, new: Run, s: Settings) -> list[Gate]:
    """All gates; a run with no cell in common with the baseline is unusable, not a pass, unless the run
    selected its cells (make bench CELLS=): its cells are then new, and the baseline's missing."""
    if not set(cells(base)) & set(cells(new)) and new.selected is None:
        raise InputError(f"{new.dir}: no matrix cell (driver/workload) in common with the baseline {base.dir}: "
                         "nothing to compare (was the baseline made from a different matrix?)")
    env = []
    for what, b, n in (("kernel", base.env.kernel, new.env.kernel), ("accel", base.env.accel, new.env.accel),
                       ("CPUs", str(base.env.cpus), str(new.env.cpus))):
        if b != n:
            env.append(Gate(f"environment: {what}", b, n, "never gates", INFO,
                            "differs from the baseline: ratios are within-run, but read them with that in mind"))
    return (env + ratio_gates(base, new, s) + module_gates(base, new, s) + dispatch_gates(base, new, s)
            + icount_gates(base, new, s)
            + correctness_gates(new, s))


def failed(gates: list[Gate]) -> bool:
    return any(g.status == FAIL for g in gates)


def table(gates: list[Gate]) -> str:
    """Fixed-width text table for the terminal."""
    head = ("gate", "baseline", "now", "threshold", "result")
    rows = [(g.gate, g.baseline, g.now, g.threshold, g.status + (f"  {g.detail}" if g.detail else ""))
            for g in gates]
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head[:4], widths)) + "  " + head[4]]
    lines.append("-" * (sum(widths) + 8 + 6))
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
    return "\n".join(lines)


def verdict_json(base: Run, new: Run, gates: list[Gate], s: Settings) -> dict:
    return {
        "tool": "kmodlab-regress",
        "version": 1,
        "baseline": {"dir": str(base.dir), "id": base.id, "env": asdict(base.env)},
        "run": {"dir": str(new.dir), "id": new.id, "env": asdict(new.env), "quick": new.quick},
        "settings": {k: v for k, v in asdict(s).items()},
        "result": "fail" if failed(gates) else "pass",
        "counts": {st: sum(g.status == st for g in gates) for st in (PASS, FAIL, SKIP, INFO)},
        "gates": [asdict(g) for g in gates],
    }
