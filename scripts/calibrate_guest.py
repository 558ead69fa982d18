#!/usr/bin/python3
"""calibrate_guest.py - the guest half of `make calibrate`: pairs with a planted cost.

Both sides of every pair run the same module (the C variant of each
calibration cell), so the true ratio is known: 1 in the A/A condition, and
1/(1+x) (throughput, planted side over clean side) when the "cxx" side
carries extra_work sized for +x of the op's cost (p50 ratio 1+x).  extra_work is written
through /sys/module/<module>/parameters/extra_work before each run, so the
sides change without a reload.

Sizing (boot 0, recorded in sizing.json, reused by later boots): per cell,
SIZING_ROUNDS runs alternate extra_work 0 and N1 (N1 grows until the planted
time is at least half the op's own p5) to measure the op's time t0 (p50) and
the time per iteration (from p5), each the lower quartile over the rounds;
then N(x) = x * t0 / (ns per iteration).

Then per boot, CALIB_REPLICATES(_QUICK) replicates; a replicate is one
simulated bench run: for every condition (A/A and each planted level) and
cell, CALIB_PAIRS_PER_BOOT pairs in ABBA order, conditions rotating.  A
replicate's pairs from all boots form one family for scripts/calibrate.py.

Usage: calibrate_guest.py --out DIR --boot K --boots B [--quick]
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_matrix as bm  # noqa: E402  (the bench's runner, shared)
from analysis.compare import P5  # noqa: E402  (the bench's p5 metric)
from analysis.conf import Settings  # noqa: E402
from analysis.stats import histogram_percentile  # noqa: E402

# The largest N1 the sizing tries (about a millisecond of TCG time per op).
SIZING_N1_MAX = 4_000_000


def settings(quick):
    """CALIB_* settings plus the bench's run length (kmodlab.conf, the environment wins)."""
    conf = bm.read_conf()
    q = "_QUICK" if quick else ""
    try:
        s = {
            "cells": conf.words(f"CALIB_CELLS{q}"),
            "levels": [float(x) for x in conf.words(f"CALIB_LEVELS{q}")],
            "replicates": conf.typed(f"CALIB_REPLICATES{q}", int),
            "pairs_per_boot": conf.typed(f"CALIB_PAIRS_PER_BOOT{q}", int),
            "max_pairs_per_boot": conf.typed(f"CALIB_MAX_PAIRS_PER_BOOT{q}", int),
            "duration_s": conf.typed(f"BENCH_DURATION_S{q}", float),
            "bpf_duration_s": conf.typed("BENCH_BPF_DURATION_S", float),
            "warmup_s": conf.typed(f"BENCH_WARMUP_S{q}", float),
            "pin_guest_cpu": conf.get("BENCH_PIN_GUEST_CPU"),
            "discard_first": 0,
            "run_timeout_s": bm.run_timeout_s(conf),
        }
        stats = Settings.from_conf(conf)
    except (bm.InputError, ValueError) as e:
        sys.exit(f"calibrate: {e}")
    if not all(0 < x < 1 for x in s["levels"]) or s["replicates"] < 1 or s["pairs_per_boot"] < 1:
        sys.exit(f"calibrate: CALIB_LEVELS{q} must lie in (0, 1), CALIB_REPLICATES{q} and "
                 f"CALIB_PAIRS_PER_BOOT{q} must be at least 1")
    if s["max_pairs_per_boot"] < s["pairs_per_boot"]:
        sys.exit(f"calibrate: CALIB_MAX_PAIRS_PER_BOOT{q} ({s['max_pairs_per_boot']}) must be at least "
                 f"CALIB_PAIRS_PER_BOOT{q} ({s['pairs_per_boot']})")
    s["stats"] = stats  # the disturbed-run rule's settings (not written to the manifest)
    return s


# Sizing rounds: each is one run at extra_work 0 and one at N1, alternating.
SIZING_ROUNDS = 5


def op_times(out, rel):
    """(p50 ns, mean ns per op, p5 ns) of one kmodlab-load run."""
    doc = json.loads((out / rel).read_text())
    return doc["latency_ns"]["p50"], 1e9 / doc["ops_per_s"], histogram_percentile(doc["histogram"], P5)


def lower_quartile(values):
    """The sizing's estimator: the host's slow phases only ever slow a run
    down (1.4-2x for a whole run, analysis/stats.py disturbed_pairs), so the
    lower quartile of a few runs is a clean one, where a median of three was
    not (2026-12-01: all three N1 runs slowed, the plant came out +7% for +10%)."""
    return float(statistics.quantiles(sorted(values), n=4, method="inclusive")[0])


def size_cell(runner, cell, module):
    """The op's time at extra_work 0 and the time per extra_work iteration,
    from SIZING_ROUNDS alternating runs at 0 and N1.  The slope comes from the
    runs' p5 (the op's fast end: the least noise, the bench's primary metric;
    a plant adds the same time to every op, so p5 and p50 move alike) and
    the op's time is its p50, both as lower quartiles over the rounds."""
    side = bm.Side(cell.device("c"), module)
    n1 = 2000
    while True:
        runs = {0: [], n1: []}
        for r in range(SIZING_ROUNDS):
            for n in (0, n1):
                side.extra_work = n
                e = runner.one(cell, side, "c", "sizing", f"size-n{n}-r{r}", {"pair": None}, True)
                runs[n].append(op_times(runner.out, e["file"]))
        lq = {n: [lower_quartile(x[k] for x in v) for k in range(3)] for n, v in runs.items()}
        if lq[n1][2] - lq[0][2] >= 0.5 * lq[0][2] or n1 >= SIZING_N1_MAX:
            break
        n1 *= 4
    runner.entries.clear()  # sizing runs are not pairs; their files stay in raw/
    slope = (lq[n1][2] - lq[0][2]) / n1
    if slope <= 0:
        sys.exit(f"calibrate: {cell.name}: extra_work={n1} did not slow the op down "
                 f"(p5 {lq[0][2]:.0f} -> {lq[n1][2]:.0f} ns): is extra_work wired into this driver's file operations?")
    return {"module": module, "p50_ns": lq[0][0], "mean_ns": lq[0][1], "p5_ns": lq[0][2],
            "n1": n1, "p5_n1_ns": lq[n1][2], "ns_per_iter": slope, "estimator": "lower quartile",
            "runs_ns": {str(n): v for n, v in runs.items()}}


def conditions(levels):
    return [("aa", 0.0)] + [(f"plus{round(x * 100)}", x) for x in levels]


def run_replicate(runner, cells, sizing, s, rep, progress):
    """One replicate's share of this boot: every condition x cell, P usable pairs each."""
    conds = conditions(s["levels"])
    k = (rep + runner.boot) % len(conds)  # rotate which condition comes first
    for cond, x in conds[k:] + conds[:k]:
        for cell in cells:
            sz = sizing[cell.name]
            n = round(x * sz["p50_ns"] / sz["ns_per_iter"])
            sides = {"c": bm.Side(cell.device("c"), sz["module"], 0),
                     "cxx": bm.Side(cell.device("c"), sz["module"], n)}
            ran = runner.timing_pairs(cell, sides, s["pairs_per_boot"], s["max_pairs_per_boot"], s["stats"],
                                      label=f"-{cond}-r{rep}")
            for e in ran:
                e.update({"condition": cond, "planted_cost": x, "replicate": rep})
            progress.step(f"replicate {rep} {cond} {cell.name}: {len(ran) // 2} pairs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--boot", type=int, default=0)
    ap.add_argument("--boots", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    opt = ap.parse_args()
    s = settings(opt.quick)
    out = opt.out
    (out / "raw").mkdir(parents=True, exist_ok=True)
    log = open(out / "calibrate.log", "a")
    bm.run([bm.ROOT / "scripts/modules.sh", "load"], log)
    bm.assert_uninstrumented()
    every = {c.name: c for c in bm.build_cells(False, [1, 2, 4], ["mutex", "spinlock", "atomic"])}
    missing = [c for c in s["cells"] if c not in every]
    if missing:
        sys.exit(f"calibrate: CALIB_CELLS names unknown cell(s) {missing}; known: {', '.join(every)}")
    cells = [every[c] for c in s["cells"]]
    if any(c.sync not in (None, "mutex") or c.threads != 1 for c in cells):
        sys.exit("calibrate: CALIB_CELLS must be 1-thread cells at the default sync mode (no reloads)")
    runner = bm.Runner(out, log, s, opt.boot)
    sizing_file = out / "sizing.json"
    if opt.boot == 0:
        sizing = {c.name: size_cell(runner, c, c.module("c")) for c in cells}
        sizing_file.write_text(json.dumps(sizing, indent=1) + "\n")
    sizing = json.loads(sizing_file.read_text())
    steps = s["replicates"] * len(cells) * len(conditions(s["levels"]))
    progress = bm.Progress(steps, opt.boot, opt.boots)
    for rep in range(s["replicates"]):
        run_replicate(runner, cells, sizing, s, rep, progress)
    for c in cells:
        bm.set_extra_work(sizing[c.name]["module"], 0)
    bm.run([bm.ROOT / "scripts/modules.sh", "unload"], log)
    mf = out / "manifest.json"
    manifest = json.loads(mf.read_text()) if opt.boot > 0 else {
        "id": out.name, "started": bm.now_iso(), "quick": opt.quick, "env": bm.env_record(),
        "kind": "calibration", "settings": {k: v for k, v in s.items() if k != "stats"}, "sizing": sizing,
        "variant_sides": {"c": "the C module, extra_work 0",
                          "cxx": "the same C module, extra_work per entry (0 in A/A)"},
        "design": {"boots": opt.boots, "pairs_per_boot": s["pairs_per_boot"], "order": "ABBA",
                   "top_up": "more pairs while fewer than pairs_per_boot survive the disturbed-run rule, "
                             "up to max_pairs_per_boot",
                   "pass_timing": "no BPF attached, bpf_stats off", "pass_bpf": False},
        "runs": []}
    manifest["runs"].extend(runner.entries)
    bm.save_manifest(out, manifest)
    print(f"calibrate: boot {opt.boot + 1}/{opt.boots} done, {len(runner.entries)} runs", file=sys.stderr)


if __name__ == "__main__":
    main()
