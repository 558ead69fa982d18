#!/usr/bin/python3
"""trace_cost_timing.py - the host half of scripts/trace-cost-timing.sh.

Reads a trace-cost run (scripts/trace_cost_guest.py: manifest.json, kind
"trace-cost", side "c" = the module built without tracepoints, "cxx" = with
them, disabled) and compares the sides per cell and module the way the
bench compares C with C++ (scripts/calibrate.py's compare_group: the
disturbed-run rule, analysis.stats.paired_compare: geometric-mean ratio of
the pairs, its 95% CI, the exact sign-flip p, the minimum detectable effect),
every (cell, module, metric) in one Holm family.  Ratio = on / off
(throughput: < 1 is slower with the tracepoints; latency: > 1 is slower).

Writes DIR/trace-cost.json and DIR/trace-cost.md and prints the Markdown.
Usage: trace_cost_timing.py DIR        exit 0; 2 on unusable input
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import METRICS, compare_group, die, pair_runs, run_values  # noqa: E402  (the calibration's comparison)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.conf import load_settings  # noqa: E402
from analysis.stats import holm  # noqa: E402


def load_groups(run_dir, floor_percentile):
    """{(cell, module): {pair: {"boot": 0, "c": {metric: v}, "cxx": {...}}}}"""
    manifest, runs = pair_runs(run_dir, "trace-cost", ("module",), "scripts/trace-cost-timing.sh")
    groups = {}
    for r, doc in runs:
        g = groups.setdefault((f"{r['driver']}/{r['workload']}", r["module"]), {})
        g.setdefault(r["pair"], {"boot": r["boot"]})[r["variant"]] = run_values(doc, floor_percentile)
    return manifest, groups


def evaluate(groups, settings):
    fam = {(cell, mod, m): compare_group(pairs, m, settings) for (cell, mod), pairs in groups.items()
           for m in METRICS}
    keys = sorted(fam)
    adj = holm([fam[k].p for k in keys])
    return [{"cell": cell, "module": mod, "metric": m, "ratio": fam[(cell, mod, m)].ratio,
             "ci_low": fam[(cell, mod, m)].ci_low, "ci_high": fam[(cell, mod, m)].ci_high,
             "p": fam[(cell, mod, m)].p, "p_holm": p, "mde": fam[(cell, mod, m)].mde,
             "n_pairs": fam[(cell, mod, m)].n_pairs, "excluded": len(fam[(cell, mod, m)].excluded or [])}
            for (cell, mod, m), p in zip(keys, adj)]


def markdown(doc, alpha):
    lines = [f"# Disabled tracepoints in paired timing: {doc['id']}", "",
             "Same module built without tracepoints (off) and with them, none enabled (on), back to back in "
             f"ABBA order in one boot, no BPF attached. Ratio on/off, geometric mean over the pairs, 95% CI, "
             f"Holm over all {len(doc['rows'])} comparisons; MDE: the smallest relative effect these pairs "
             "could have detected at the Holm level.", "",
             "| cell | module | metric | on/off [95% CI] | p (Holm) | MDE | pairs |", "|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        lines.append(f"| {r['cell']} | {r['module']} | {r['metric']} | {r['ratio']:.3f} "
                     f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}] | {r['p_holm']:.3g} | {100 * r['mde']:.1f}% | "
                     f"{r['n_pairs']} ({r['excluded']} excluded) |")
    sig = [r for r in doc["rows"] if r["p_holm"] < alpha]
    lines += ["", f"Significant after Holm (alpha {alpha}): {len(sig)} of {len(doc['rows'])}" +
              ("" if not sig else ": " + ", ".join(f"{r['cell']} {r['module']} {r['metric']}" for r in sig))]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path)
    opt = ap.parse_args()
    settings = load_settings()
    manifest, groups = load_groups(opt.dir, settings.floor_percentile)
    if not groups:
        die(f"{opt.dir}/manifest.json has no runs")
    doc = {"tool": "kmodlab-trace-cost-timing", "version": 1, "id": manifest["id"], "env": manifest.get("env"),
           "design": manifest.get("design"), "variant_sides": manifest.get("variant_sides"),
           "alpha": settings.alpha, "rows": evaluate(groups, settings)}
    (opt.dir / "trace-cost.json").write_text(json.dumps(doc, indent=1) + "\n")
    md = markdown(doc, settings.alpha)
    (opt.dir / "trace-cost.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
