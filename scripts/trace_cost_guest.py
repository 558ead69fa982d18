#!/usr/bin/python3
"""trace_cost_guest.py - the guest half of scripts/trace-cost-timing.sh.

Disabled tracepoints in paired timing (issue 20): per cell of
TRACE_COST_CELLS and per variant's module (the C one, then the C++ one),
TRACE_COST_PAIRS pairs of the same module built two ways, back to back in
ABBA order within this boot:

  side "off"  the module built with KMODLAB_TRACE=0 (no tracepoint at all)
  side "on"   the normal build: tracepoints compiled in, none enabled

The module is reloaded from the other build when the side changes (at most
once per pair in ABBA order: off on | on off | off on ...).  The runs are
the bench's (scripts/bench_matrix.py Runner: kmodlab-load, no BPF, the
timing pass's settings); the bench's side labels carry the builds, "c" =
off and "cxx" = on, so the manifest says so in "variant_sides".

Usage: trace_cost_guest.py --out DIR --off KMOD_DIR --on KMOD_DIR
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_matrix as bm  # noqa: E402  (the bench's runner, shared)


def settings():
    conf = bm.read_conf()
    try:
        return {"cells": conf.words("TRACE_COST_CELLS"), "pairs": conf.typed("TRACE_COST_PAIRS", int),
                "duration_s": conf.typed("BENCH_DURATION_S", float),
                "bpf_duration_s": conf.typed("BENCH_BPF_DURATION_S", float),
                "warmup_s": conf.typed("BENCH_WARMUP_S", float), "pin_guest_cpu": conf.get("BENCH_PIN_GUEST_CPU"),
                "discard_first": 0, "run_timeout_s": bm.run_timeout_s(conf)}
    except (bm.InputError, ValueError) as e:
        sys.exit(f"trace-cost-timing: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--off", required=True, type=Path, help="module build without tracepoints")
    ap.add_argument("--on", required=True, type=Path, help="module build with tracepoints (disabled)")
    opt = ap.parse_args()
    s = settings()
    if s["pairs"] < 2:
        sys.exit("trace-cost-timing: TRACE_COST_PAIRS must be at least 2")
    (opt.out / "raw").mkdir(parents=True, exist_ok=True)
    log = open(opt.out / "trace-cost.log", "a")
    bm.run([bm.ROOT / "scripts/modules.sh", "load"], log)
    bm.assert_uninstrumented()
    every = {c.name: c for c in bm.build_cells(False, [1], ["mutex"])}
    missing = [c for c in s["cells"] if c not in every]
    if missing:
        sys.exit(f"trace-cost-timing: TRACE_COST_CELLS names unknown cell(s) {missing}; known: {', '.join(every)}")
    runner = bm.Runner(opt.out, log, s, 0)
    cells = [every[c] for c in s["cells"]]
    progress = bm.Progress(len(cells) * len(bm.VARIANTS), 0, 1)
    for cell in cells:
        for variant in bm.VARIANTS:
            module = cell.module(variant)
            sides = {"c": bm.Side(cell.device(variant), module, kmod_dir=opt.off),
                     "cxx": bm.Side(cell.device(variant), module, kmod_dir=opt.on)}
            for i in range(s["pairs"]):
                before = len(runner.entries)
                runner.pair(cell, sides, "timing", i, i, label=f"-{variant}")
                for e in runner.entries[before:]:
                    e.update({"module": module, "driver_variant": variant})
            runner.load_from(module, opt.on)  # the normal build back
            progress.step(f"{cell.name} {module}")
    manifest = {"id": opt.out.name, "started": bm.now_iso(), "env": bm.env_record(), "kind": "trace-cost",
                "settings": s, "off": str(opt.off), "on": str(opt.on),
                "variant_sides": {"c": "the module built without tracepoints (KMODLAB_TRACE=0)",
                                  "cxx": "the same module built with tracepoints, none enabled"},
                "design": {"boots": 1, "pairs_per_cell_module": s["pairs"], "order": "ABBA",
                           "pass_timing": "no BPF attached, bpf_stats off", "pass_bpf": False},
                "runs": runner.entries}
    bm.save_manifest(opt.out, manifest)
    print(f"trace-cost-timing: {len(runner.entries)} runs", file=sys.stderr)


if __name__ == "__main__":
    main()
