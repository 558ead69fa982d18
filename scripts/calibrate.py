#!/usr/bin/python3
"""calibrate.py - the host half of `make calibrate`: how often the statistics are right.

Reads a calibration run (scripts/calibrate_guest.py: manifest.json with
"condition", "replicate", "pair", "boot" per entry) and treats every
replicate as one bench run: per condition, every cell's pairs and metric
(throughput, p50, p5) go through analysis.stats.paired_compare with the
bench's disturbed-run rule (throughput and latency floor), the family's
p-values (cells x metrics) through analysis.stats.holm, as the report does:

  aa_false_positive_rate   fraction of replicates in which the A/A
                           condition calls at least one comparison different
                           (Holm-adjusted p < STATS_ALPHA): family-wise, per run
  levels[]                 per planted cost x and metric (throughput, p50, p5):
                           planted_ratio (planted side / clean side, by the
                           sizing: every op gains x*p50 ns, so p50 1+x,
                           p5 1 + x*p50/p5 with p5 the sizing's (older
                           sizings: the clean side's median),
                           throughput mean/(mean + x*p50)),
                           detection_rate (Holm p < alpha in the planted
                           direction), coverage (CI contains planted_ratio),
                           estimated_ratio_median, and the pooled ratio over
                           all replicates (the sizing check)

Writes DIR/calibration.json and DIR/calibration.md, prints the Markdown, and
exports each replicate as a bench-format run under DIR/runs/<condition>-r<k>/
(the gate test uses those: tests/bench/test-gate-planted.sh).

Usage: calibrate.py DIR [--json]    exit 0; 2 on unusable input
"""
import argparse
import json
import math
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.conf import load_settings  # noqa: E402
from analysis.compare import P5  # noqa: E402
from analysis.stats import cell_disturbed, histogram_percentile, holm, paired_compare  # noqa: E402

TARGETS = {"aa_false_positive_rate_max": 0.05, "detection_rate_min_at_10pct": 0.90,
           "coverage_min_at_10pct": 0.90}


def die(msg):
    print(f"calibrate: {msg}", file=sys.stderr)
    sys.exit(2)


METRICS = {"throughput": True, "p50": False, "p5": False}  # metric -> higher is better (as the report)


def run_values(doc, floor_percentile):
    """A run's metrics, and its latency floor for the disturbed-run rule."""
    hist = [tuple(b) for b in doc["histogram"]]
    return {"throughput": doc["ops_per_s"], "p50": doc["latency_ns"]["p50"],
            "p5": histogram_percentile(hist, P5), "floor": histogram_percentile(hist, floor_percentile)}


def pair_runs(run_dir, kind, keys, maker):
    """A pairs run's manifest (its "kind" checked) and every entry with its
    kmodlab-load JSON, each entry holding keys: (manifest, [(entry, doc)]).
    maker names what writes such a run, for the error."""
    mf = run_dir / "manifest.json"
    if not mf.exists():
        die(f"{mf} missing: not a {kind} run ({maker} writes one)")
    manifest = json.loads(mf.read_text())
    if manifest.get("kind") != kind:
        die(f"{mf}: \"kind\" is {manifest.get('kind')!r}, not \"{kind}\"")
    out = []
    for i, r in enumerate(manifest["runs"]):
        for key in ("pair", "boot", "variant", "file", "driver", "workload", *keys):
            if key not in r:
                die(f"{mf}: runs[{i}] lacks \"{key}\"")
        out.append((r, json.loads((run_dir / r["file"]).read_text())))
    return manifest, out


def load_pairs(run_dir, floor_percentile):
    """{(replicate, condition, cell): {pair: {"c": {metric: v}, "cxx": {...}, "boot": b, "x": cost}}}"""
    manifest, runs = pair_runs(run_dir, "calibration", ("condition", "replicate", "planted_cost"), "make calibrate")
    groups = {}
    for r, doc in runs:
        g = groups.setdefault((r["replicate"], r["condition"], f"{r['driver']}/{r['workload']}"), {})
        g.setdefault(r["pair"], {"boot": r["boot"], "x": r["planted_cost"]})[r["variant"]] = \
            run_values(doc, floor_percentile)
    return manifest, groups


def compare_group(pairs, metric, settings):
    ids = sorted(p for p, v in pairs.items() if "c" in v and "cxx" in v)
    c = [pairs[i]["c"][metric] for i in ids]
    cxx = [pairs[i]["cxx"][metric] for i in ids]
    boots = [pairs[i]["boot"] for i in ids]
    side = lambda v, m: [pairs[i][v][m] for i in ids]  # noqa: E731
    excl = cell_disturbed(side("c", "throughput"), side("cxx", "throughput"), side("c", "floor"),
                          side("cxx", "floor"), ids, settings)
    return paired_compare(c, cxx, boots=boots if len(set(boots)) > 1 else None,
                          higher_is_better=METRICS[metric], settings=settings, exclude=excl, labels=ids)


def clean_p5(groups, cell):
    """The cell's p5 on the clean side: the median over every replicate and condition."""
    vals = [v["c"]["p5"] for (_, _, c), pairs in groups.items() if c == cell for v in pairs.values() if "c" in v]
    return statistics.median(vals) if vals else None


def truth(sizing, cell, metric, x, p5_clean=None):
    """The planted ratio (cxx side / c side) the sizing predicts: every op
    gains x * p50 ns, so p50 grows by 1+x, p5 by 1 + x*p50/p5 and ops/s
    shrinks by mean/(mean + x*p50)."""
    if metric == "p50":
        return 1 + x
    sz = sizing[cell]
    if metric == "p5":
        # The sizing's own p5 (its lower quartile) when it has one; sizings
        # before 2026-12-02 had none: the clean side's median then.
        p5 = sz.get("p5_ns") or p5_clean
        return 1 + x * sz["p50_ns"] / p5 if p5 else None
    return sz["mean_ns"] / (sz["mean_ns"] + x * sz["p50_ns"])


def evaluate(groups, settings, sizing):
    """Per (replicate, condition): every cell x metric compared, Holm over that family."""
    by_rc = {}
    p5_clean = {cell: clean_p5(groups, cell) for (_, _, cell) in groups}
    for (rep, cond, cell), pairs in groups.items():
        x = next(iter(pairs.values()))["x"]
        for metric in METRICS:
            by_rc.setdefault((rep, cond), {})[(cell, metric)] = (compare_group(pairs, metric, settings), x)
    rows = []
    for (rep, cond), fam in sorted(by_rc.items()):
        keys = sorted(fam)
        adj = holm([fam[k][0].p for k in keys])
        for (cell, metric), p_adj in zip(keys, adj):
            res, x = fam[(cell, metric)]
            rows.append({"replicate": rep, "condition": cond, "cell": cell, "metric": metric,
                         "planted_cost": x, "truth": truth(sizing, cell, metric, x, p5_clean[cell]),
                         "ratio": res.ratio, "ci_low": res.ci_low, "ci_high": res.ci_high, "p": res.p,
                         "p_holm": p_adj, "mde": res.mde, "sd_log": res.sd_log, "n_pairs": res.n_pairs,
                         "excluded": len(res.excluded or [])})
    return rows


def _median(vals):
    vals = [v for v in vals if v is not None and math.isfinite(v)]
    return statistics.median(vals) if vals else None


def detected(r, alpha):
    return r["p_holm"] < alpha and (r["ratio"] > 1) == (r["truth"] > 1)


def level_entry(lv, x, metric, alpha, pooled):
    return {"planted_cost": x, "metric": metric, "planted_ratio": _median(r["truth"] for r in lv),
            "n": len(lv), "detection_rate": sum(detected(r, alpha) for r in lv) / len(lv),
            "coverage": sum(r["ci_low"] <= r["truth"] <= r["ci_high"] for r in lv) / len(lv),
            "estimated_ratio_median": _median(r["ratio"] for r in lv),
            "mde_median": _median(r["mde"] for r in lv),
            "pooled_ratio": pooled.get((x, metric), {})}


def summarize(rows, alpha, pooled):
    aa = [r for r in rows if r["condition"] == "aa"]
    reps = sorted({r["replicate"] for r in aa})
    fp_runs = [any(r["p_holm"] < alpha for r in aa if r["replicate"] == k) for k in reps]
    levels = []
    for x in sorted({r["planted_cost"] for r in rows if r["condition"] != "aa"}):
        for metric in METRICS:
            lv = [r for r in rows if r["condition"] != "aa" and r["planted_cost"] == x and r["metric"] == metric]
            if lv:
                levels.append(level_entry(lv, x, metric, alpha, pooled))
    return {"aa_false_positive_rate": sum(fp_runs) / len(fp_runs) if fp_runs else None,
            "aa_replicates": len(fp_runs),
            "aa_cell_false_positive_rate": (sum(r["p"] < alpha for r in aa) / len(aa)) if aa else None,
            "aa_sd_log_median": {m: _median(r["sd_log"] for r in aa if r["metric"] == m) for m in METRICS},
            "aa_mde_median": {m: _median(r["mde"] for r in aa if r["metric"] == m) for m in METRICS},
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
        for metric in METRICS:
            out.setdefault((x, metric), {})[cell] = compare_group(pairs, metric, settings).ratio
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


def _f(x, fmt="{:.3f}"):
    return "n/a" if x is None else fmt.format(x)


def markdown(doc):
    s = doc["summary"]
    lines = [f"# Calibration {doc['id']}", "",
             f"Cells: {', '.join(doc['cells'])}; {s['aa_replicates']} replicates (simulated bench runs) of "
             f"{doc['pairs_per_replicate']} {'usable ' if doc.get('pairs_recorded') else ''}pairs per cell and "
             f"condition over {doc['boots']} boot(s)"
             + (f" (topped up while the disturbed-run rule left fewer: {doc['pairs_recorded']['min']}-"
                f"{doc['pairs_recorded']['max']} recorded)" if doc.get("pairs_recorded") else "") + "; "
             f"metrics {', '.join(METRICS)} (timing pass, no BPF); paired_compare with the bench's "
             f"disturbed-run rule, Holm over the "
             f"cells x metrics of a replicate, alpha {doc['alpha']}.", "",
             f"A/A: family-wise false-positive rate {_f(s['aa_false_positive_rate'], '{:.2f}')} per run "
             f"(per comparison {_f(s['aa_cell_false_positive_rate'], '{:.2f}')}); median per-pair SD of the "
             f"log ratio: " + ", ".join(f"{m} {_f(v)}" for m, v in s["aa_sd_log_median"].items())
             + "; median MDE: " + ", ".join(f"{m} {_f(v)}" for m, v in s["aa_mde_median"].items()) + ".", "",
             "| planted cost | metric | planted ratio | detection rate | CI coverage | median estimate | pooled estimate | median MDE |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for lv in s["levels"]:
        pooled = ", ".join(f"{c} {r:.3f}" for c, r in sorted(lv["pooled_ratio"].items()))
        lines.append(f"| +{lv['planted_cost'] * 100:.0f}% | {lv['metric']} | {_f(lv['planted_ratio'])} | "
                     f"{lv['detection_rate']:.2f} | {lv['coverage']:.2f} | {_f(lv['estimated_ratio_median'])} | "
                     f"{pooled} | {_f(lv['mde_median'])} |")
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
    manifest, groups = load_pairs(opt.dir, settings.floor_percentile)
    if not groups:
        die(f"{opt.dir}/manifest.json has no calibration pairs")
    rows = evaluate(groups, settings, manifest.get("sizing") or die(f"{opt.dir}/manifest.json lacks \"sizing\""))
    summary = summarize(rows, settings.alpha, pooled_ratios(groups, settings))
    meets = {"aa_false_positive_rate": summary["aa_false_positive_rate"] is not None
             and summary["aa_false_positive_rate"] <= TARGETS["aa_false_positive_rate_max"]}
    for lv in summary["levels"]:
        if abs(lv["planted_cost"] - 0.10) < 1e-9:
            meets[f"detection_at_10pct_{lv['metric']}"] = lv["detection_rate"] >= TARGETS["detection_rate_min_at_10pct"]
            meets[f"coverage_at_10pct_{lv['metric']}"] = lv["coverage"] >= TARGETS["coverage_min_at_10pct"]
    design = manifest.get("design", {})
    doc = {"tool": "kmodlab-calibrate", "version": 1, "id": manifest["id"], "quick": manifest.get("quick"),
           "env": manifest.get("env"), "cells": sorted({r["cell"] for r in rows}),
           "boots": design.get("boots"),
           "pairs_per_replicate": design.get("boots", 1) * design.get("pairs_per_boot", 0),
           **({"pairs_recorded": {"min": min(map(len, groups.values())), "max": max(map(len, groups.values()))}}
              if "top_up" in design else {}),
           "alpha": settings.alpha, "correction": "Holm over the cells of a replicate",
           "metrics": "throughput (ops/s, higher is better), p50 and p5 latency (lower is better)",
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
