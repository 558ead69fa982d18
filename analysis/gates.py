"""The regression gate: a new run against the committed baseline.

Only what is stable across machines may fail the gate:

* within-run C++/C ratios (both variants ran interleaved in the same guest,
  so the machine cancels out): fail when the WHOLE confidence interval of
  the new ratio lies beyond baseline ratio * (1 +- threshold) in the bad
  direction, the rule of criterion and Google Benchmark's compare.py;
  throughput lower is bad, latency higher is bad;
* deterministic figures: module sizes and largest stack frame (against the
  baseline, with a tolerance), exact BPF counts (against kmodlab-load's own
  count, within the run);
* correctness: check.ok, unexpected errno counts, the reliability summary.

Absolute throughput and latency are printed as INFO rows and never gate: a
faster or busier machine moves them without any code change.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .compare import bpf_count_mismatches, cells, compare_run
from .conf import Settings
from .errors import InputError
from .icount_profile import run_class_gates
from .load import Run

PASS, FAIL, SKIP, INFO = "PASS", "FAIL", "SKIP", "INFO"


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


def ratio_gates(base: Run, new: Run, s: Settings) -> list[Gate]:
    """One gate per (driver, workload, metric) present in both runs."""
    bres = {(c.driver, c.workload): c for c in compare_run(base, s)}
    nres = {(c.driver, c.workload): c for c in compare_run(new, s)}
    gates = []
    for key in sorted(set(bres) | set(nres)):
        name = f"{key[0]}/{key[1]}"
        if key not in nres:
            gates.append(Gate(f"ratio {name}", "present", "not in run", "-", SKIP,
                              "cell not measured in this run (a QUICK run measures fewer cells)"))
            continue
        if key not in bres:
            gates.append(Gate(f"ratio {name}", "not in baseline", "present", "-", SKIP,
                              "new cell: no baseline to compare against"))
            continue
        for metric, nc in nres[key].metrics.items():
            bc = bres[key].metrics[metric]
            g = f"ratio {name} {metric} C++/C"
            base_s = _fmt_ratio(bc.ratio)
            now_s = (f"{_fmt_ratio(nc.ratio)} [{_fmt_ratio(nc.ci_lo)}, {_fmt_ratio(nc.ci_hi)}]"
                     if nc.decided else _fmt_ratio(nc.ratio))
            if metric not in s.ratio_metrics:
                gates.append(Gate(g, base_s, now_s, "never gates", INFO,
                                  f"{metric} is not in REGRESS_RATIO_METRICS"))
                continue
            if not nc.decided:
                gates.append(Gate(g, base_s, now_s, "-", SKIP,
                                  f"run: {nc.verdict} (n={nc.n[0]}/{nc.n[1]}, need {s.min_reps} per side)"))
                continue
            if not math.isfinite(bc.ratio):
                gates.append(Gate(g, base_s, now_s, "-", SKIP, f"baseline ratio undefined ({bc.verdict})"))
                continue
            if nc.higher_is_better:
                limit = bc.ratio * (1 - s.ratio_threshold)
                bad = nc.ci_hi < limit
                better = nc.ci_lo > bc.ratio * (1 + s.ratio_threshold)
                thr = f">= {limit:.3f} (-{s.ratio_threshold:.0%})"
            else:
                limit = bc.ratio * (1 + s.ratio_threshold)
                bad = nc.ci_lo > limit
                better = nc.ci_hi < bc.ratio * (1 - s.ratio_threshold)
                thr = f"<= {limit:.3f} (+{s.ratio_threshold:.0%})"
            detail = ""
            if bad:
                detail = "whole CI beyond the threshold in the bad direction"
            elif better:
                detail = "improved beyond the threshold: consider a new baseline"
            if bc.decided is False:
                detail = (detail + "; " if detail else "") + f"baseline: {bc.verdict}"
            gates.append(Gate(g, base_s, now_s, thr, FAIL if bad else PASS, detail))
        # Absolute numbers: shown, never gated.
        for metric in ("throughput", "p99"):
            bc, nc = bres[key].metrics[metric], nres[key].metrics[metric]
            gates.append(Gate(f"absolute {name} {metric} C / C++", _abs(bc.c_median, bc.cxx_median, bc.unit),
                              _abs(nc.c_median, nc.cxx_median, nc.unit), "never gates", INFO))
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
        lim = b.max_stack * (1 + s.stack_tolerance)
        gates.append(Gate(f"module {b.name} max stack frame", f"{b.max_stack} B", f"{n.max_stack} B",
                          f"<= {lim:.0f} B (+{s.stack_tolerance:.0%})", FAIL if n.max_stack > lim else PASS))
    return gates


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
    nrows = {(r.driver, r.workload): r for r in new.icount.rows}
    for b in sorted(base.icount.rows, key=lambda r: (r.driver, r.workload)):
        n = nrows.get((b.driver, b.workload))
        name = f"{b.driver}/{b.workload}"
        if n is None:
            gates.append(Gate(f"icount {name}", "present", "not in run", "-", SKIP, "workload not counted in this run"))
            continue
        for what, bv, nv, tol in (("driver insn/op C++/C", b.driver_ratio, n.driver_ratio, s.icount_driver_tolerance),
                                  ("kernel insn/op C++/C", b.kernel_ratio, n.kernel_ratio, s.icount_kernel_tolerance)):
            if bv is None or nv is None:
                gates.append(Gate(f"icount {name} {what}", "n/a" if bv is None else f"{bv:.4f}",
                                  "n/a" if nv is None else f"{nv:.4f}", "-", SKIP, "ratio undefined (C count 0)"))
                continue
            limit = bv * (1 + tol)
            better = nv < bv * (1 - tol)
            gates.append(Gate(f"icount {name} {what}", f"{bv:.4f}", f"{nv:.4f}", f"<= {limit:.4f} (+{tol:.1%})",
                              FAIL if nv > limit else PASS,
                              "improved beyond the tolerance: consider a new baseline" if better else ""))
        gates.append(Gate(f"absolute icount {name} driver insn/op C / C++", f"{b.driver_c:.0f} / {b.driver_cxx:.0f}",
                          f"{n.driver_c:.0f} / {n.driver_cxx:.0f}", "never gates", INFO))
    # instruction classes and simulated misses: exact at driver scope (analysis/icount_profile.py)
    gates += [Gate(**g) for g in run_class_gates(base.dir, new.dir, s.icount_kernel_tolerance)]
    return gates


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
    gates.append(Gate("correctness: data checks (check.ok)", "all ok", f"{enabled - len(bad)}/{enabled} ok",
                      "all ok", FAIL if bad else (PASS if enabled else SKIP),
                      "; ".join(bad) if bad else ("" if enabled else "no run had checking enabled")))
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
    with_bpf = [r for r in new.loadgen if r.bpf is not None]
    mism = bpf_count_mismatches(new, s.bpf_count_tolerance)
    gates.append(Gate("BPF counts agree (opslat vs kmodlab-load, no drops)", "agree",
                      f"{len(with_bpf) - len({m.split(':')[0] for m in mism})}/{len(with_bpf)} agree",
                      f"|diff| <= {s.bpf_count_tolerance:.0%} of ops",
                      FAIL if mism else (PASS if with_bpf else SKIP),
                      "; ".join(mism) if mism else ("" if with_bpf else "no run carried BPF data")))
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


def evaluate(base: Run, new: Run, s: Settings) -> list[Gate]:
    """All gates; a run with no cell in common with the baseline is unusable, not a pass."""
    if not set(cells(base)) & set(cells(new)):
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
