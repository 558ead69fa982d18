#!/usr/bin/python3
"""calibrate.py - the host half of `make calibrate`: how often the statistics are right.

Reads a calibration run (scripts/calibrate_guest.py: manifest.json with
"condition", "replicate", "pair", "boot" per entry) and treats every
replicate as one bench run: per condition, every cell's pairs go through
analysis.stats.paired_compare (throughput, ops/s), the cells' p-values
through analysis.stats.holm, exactly as the report does.  Then:

  aa_false_positive_rate   fraction of replicates in which the A/A
                           condition calls at least one cell different
                           (Holm-adjusted p < STATS_ALPHA): family-wise, per run
  levels[]                 per planted cost x: planted_ratio = 1/(1+x)
                           (throughput, planted side / clean side, by the
                           sizing), detection_rate (adjusted p < alpha and
                           the ratio below 1), coverage (CI contains
                           planted_ratio), estimated_ratio_median, and the
                           pooled ratio over all replicates (the sizing check)

Writes DIR/calibration.json and DIR/calibration.md, prints the Markdown, and
exports each replicate as a bench-format run under DIR/runs/<condition>-r<k>/
(the gate test uses those: tests/bench/test-gate-planted.sh).

Usage: calibrate.py DIR [--json]    exit 0; 2 on unusable input
"""
import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.conf import load_settings  # noqa: E402
from analysis.stats import holm, paired_compare  # noqa: E402

TARGETS = {"aa_false_positive_rate_max": 0.05, "detection_rate_min_at_10pct": 0.90,
           "coverage_min_at_10pct": 0.90}


def die(msg):
    print(f"calibrate: {msg}", file=sys.stderr)
    sys.exit(2)


def load_pairs(run_dir):
    """{(replicate, condition, cell): {pair: {"c": ops/s, "cxx": ops/s, "boot": b}}}"""
    mf = run_dir / "manifest.json"
    if not mf.exists():
        die(f"{mf} missing: not a calibration run (make calibrate writes one)")
    manifest = json.loads(mf.read_text())
    if manifest.get("kind") != "calibration":
        die(f"{mf}: \"kind\" is {manifest.get('kind')!r}, not \"calibration\"")
    groups = {}
    for i, r in enumerate(manifest["runs"]):
        for key in ("condition", "replicate", "pair", "boot", "variant", "file", "planted_cost"):
            if key not in r:
                die(f"{mf}: runs[{i}] lacks \"{key}\"")
        doc = json.loads((run_dir / r["file"]).read_text())
        g = groups.setdefault((r["replicate"], r["condition"], f"{r['driver']}/{r['workload']}"), {})
        g.setdefault(r["pair"], {"boot": r["boot"], "x": r["planted_cost"]})[r["variant"]] = doc["ops_per_s"]
    return manifest, groups


def compare_group(pairs, settings):
    ids = sorted(p for p, v in pairs.items() if "c" in v and "cxx" in v)
    c = [pairs[i]["c"] for i in ids]
    cxx = [pairs[i]["cxx"] for i in ids]
    boots = [pairs[i]["boot"] for i in ids]
    return paired_compare(c, cxx, boots=boots if len(set(boots)) > 1 else None,
                          higher_is_better=True, settings=settings)


def evaluate(groups, settings):
    """Per (replicate, condition): every cell compared, Holm over the cells."""
    by_rc = {}
    for (rep, cond, cell), pairs in groups.items():
        by_rc.setdefault((rep, cond), {})[cell] = (compare_group(pairs, settings),
                                                    next(iter(pairs.values()))["x"])
    rows = []
    for (rep, cond), cells in sorted(by_rc.items()):
        names = sorted(cells)
        adj = holm([cells[n][0].p for n in names])
        for n, p_adj in zip(names, adj):
            res, x = cells[n]
            rows.append({"replicate": rep, "condition": cond, "cell": n, "planted_cost": x,
                         "ratio": res.ratio, "ci_low": res.ci_low, "ci_high": res.ci_high, "p": res.p,
                         "p_holm": p_adj, "mde": res.mde, "sd_log": res.sd_log, "n_pairs": res.n_pairs,
                         "excluded": len(res.excluded or [])})
    return rows


def summarize(rows, alpha, pooled):
    aa = [r for r in rows if r["condition"] == "aa"]
    reps = sorted({r["replicate"] for r in aa})
    fp_runs = [any(r["p_holm"] < alpha for r in aa if r["replicate"] == k) for k in reps]
    levels = []
    for x in sorted({r["planted_cost"] for r in rows if r["condition"] != "aa"}):
        lv = [r for r in rows if r["condition"] != "aa" and r["planted_cost"] == x]
        truth = 1 / (1 + x)
        levels.append({
            "planted_cost": x, "planted_ratio": truth, "n": len(lv),
            "detection_rate": sum(r["p_holm"] < alpha and r["ratio"] < 1 for r in lv) / len(lv),
            "coverage": sum(r["ci_low"] <= truth <= r["ci_high"] for r in lv) / len(lv),
            "estimated_ratio_median": statistics.median(r["ratio"] for r in lv),
            "mde_median": statistics.median(r["mde"] for r in lv),
            "pooled_ratio": pooled.get(x)})
    return {"aa_false_positive_rate": sum(fp_runs) / len(fp_runs) if fp_runs else None,
            "aa_replicates": len(fp_runs),
            "aa_cell_false_positive_rate": (sum(r["p"] < alpha for r in aa) / len(aa)) if aa else None,
            "aa_sd_log_median": statistics.median(r["sd_log"] for r in aa) if aa else None,
            "aa_mde_median": statistics.median(r["mde"] for r in aa) if aa else None,
            "levels": levels}


def pooled_ratios(groups, settings):
    """All replicates' pairs of a level together: the planted ratio as actually achieved."""
    merged = {}
    for (rep, cond, cell), pairs in groups.items():
        if cond == "aa":
            continue
        x = next(iter(pairs.values()))["x"]
        m = merged.setdefault((x, cell), {})
        for pid, v in pairs.items():
            m[(rep, pid)] = v
    out = {}
    for (x, cell), pairs in merged.items():
        out.setdefault(x, {})[cell] = compare_group(pairs, settings).ratio
    return out


def export_runs(run_dir, manifest):
    """One bench-format run per (condition, replicate), for the gate test."""
    groups = {}
    for r in manifest["runs"]:
        groups.setdefault(f"{r['condition']}-r{r['replicate']}", []).append(r)
    for name, runs in groups.items():
        d = run_dir / "runs" / name
        (d / "raw").mkdir(parents=True, exist_ok=True)
        for r in runs:
            shutil.copy(run_dir / r["file"], d / "raw" / Path(r["file"]).name)
        sub = {k: v for k, v in manifest.items() if k not in ("runs", "kind")}
        sub.update({"id": f"{manifest['id']}-{name}", "finished": manifest.get("finished", ""),
                    "runs": [{**r, "file": f"raw/{Path(r['file']).name}"} for r in runs]})
        (d / "manifest.json").write_text(json.dumps(sub, indent=1) + "\n")


def markdown(doc):
    s = doc["summary"]
    lines = [f"# Calibration {doc['id']}", "",
             f"Cells: {', '.join(doc['cells'])}; {s['aa_replicates']} replicates (simulated bench runs) of "
             f"{doc['pairs_per_replicate']} pairs per cell and condition over {doc['boots']} boot(s); "
             f"throughput (ops/s), paired_compare + Holm over the cells, alpha {doc['alpha']}.", "",
             "| condition | planted ratio | detection rate | CI coverage | median estimate | pooled estimate | median MDE |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines.append(f"| A/A | 1 | family-wise FP {s['aa_false_positive_rate']:.2f} (per cell "
                 f"{s['aa_cell_false_positive_rate']:.2f}) | | | | {s['aa_mde_median']:.3f} |")
    for lv in s["levels"]:
        pooled = ", ".join(f"{c} {r:.3f}" for c, r in sorted((lv["pooled_ratio"] or {}).items()))
        lines.append(f"| +{lv['planted_cost'] * 100:.0f}% cost | {lv['planted_ratio']:.3f} | "
                     f"{lv['detection_rate']:.2f} | {lv['coverage']:.2f} | {lv['estimated_ratio_median']:.3f} | "
                     f"{pooled} | {lv['mde_median']:.3f} |")
    lines += ["", "Targets: " + ", ".join(f"{k} {v}" for k, v in TARGETS.items()) + ": "
              + ("met" if all(doc["meets"].values()) else "missed: " +
                 ", ".join(k for k, ok in doc["meets"].items() if not ok)), ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, help="calibration run directory (results/calibrate-<id>)")
    ap.add_argument("--json", action="store_true", help="print calibration.json instead of the table")
    opt = ap.parse_args()
    settings = load_settings()
    manifest, groups = load_pairs(opt.dir)
    if not groups:
        die(f"{opt.dir}/manifest.json has no calibration pairs")
    rows = evaluate(groups, settings)
    summary = summarize(rows, settings.alpha, pooled_ratios(groups, settings))
    lv10 = [lv for lv in summary["levels"] if abs(lv["planted_cost"] - 0.10) < 1e-9]
    meets = {"aa_false_positive_rate": summary["aa_false_positive_rate"] is not None
             and summary["aa_false_positive_rate"] <= TARGETS["aa_false_positive_rate_max"]}
    if lv10:
        meets["detection_at_10pct"] = lv10[0]["detection_rate"] >= TARGETS["detection_rate_min_at_10pct"]
        meets["coverage_at_10pct"] = lv10[0]["coverage"] >= TARGETS["coverage_min_at_10pct"]
    design = manifest.get("design", {})
    doc = {"tool": "kmodlab-calibrate", "version": 1, "id": manifest["id"], "quick": manifest.get("quick"),
           "env": manifest.get("env"), "cells": sorted({r["cell"] for r in rows}),
           "boots": design.get("boots"),
           "pairs_per_replicate": design.get("boots", 1) * design.get("pairs_per_boot", 0),
           "alpha": settings.alpha, "correction": "Holm over the cells of a replicate",
           "metric": "throughput (ops/s), higher is better",
           "sizing": manifest.get("sizing"), "targets": TARGETS, "meets": meets, "summary": summary,
           "aa_false_positive_rate": summary["aa_false_positive_rate"], "levels": summary["levels"],
           "rows": rows}
    (opt.dir / "calibration.json").write_text(json.dumps(doc, indent=1) + "\n")
    md = markdown(doc)
    (opt.dir / "calibration.md").write_text(md)
    export_runs(opt.dir, manifest)
    print(json.dumps(doc, indent=1) if opt.json else md)


if __name__ == "__main__":
    main()
